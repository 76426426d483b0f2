"""``envdoctor install PACKAGE``: the exact command that installs a GPU framework build
that works on this machine (or on the machine of a saved report), and why that build.

* :mod:`.machine` reads what an install depends on from a facts document (OS, CPU
  architecture, Python, environment kind, NVIDIA driver and GPUs) and picks the installer
  (pip, or uv for a uv-made environment);
* :mod:`.advice` turns that into an :class:`~.advice.Advice` per package, from the same
  tables the checks use (``data/torch_builds.json``, ``tensorflow_builds.json``,
  ``cuda_drivers.json`` through :mod:`envdoctor.cudacompat`, ``python_support.json``,
  ``install_channels.json``);
* :mod:`.run` applies an advice through the fix engine (plan, confirm, run, re-check).

Everything here except :mod:`.run` is a pure function of facts, so ``--from REPORT``
advises for another machine.
"""
