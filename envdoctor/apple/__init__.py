"""Apple Silicon: readers for what macOS says about the GPU.

- :mod:`envdoctor.apple.profiler`: ``system_profiler SPDisplaysDataType -json`` and
  ``sysctl`` output (pure functions of text; never raise);
- the probe that runs them is :mod:`envdoctor.probes.apple` (facts["apple"]); the checks
  are ``checks/apple_*.py``.
"""
