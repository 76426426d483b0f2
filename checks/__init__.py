"""Built-in checks, one module per area; installed as ``envdoctor.checks``.

Every module here is imported by the registry; each registers its checks with
:func:`envdoctor.registry.register`. The file name matches the check id
(``cpu_avx.py`` holds ``cpu.avx``) so a check is found by its id in one step.
"""
