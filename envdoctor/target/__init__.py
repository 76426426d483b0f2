"""The Python environment envdoctor examines, which need not be the one it runs in.

- :mod:`~envdoctor.target.probe_script`: the stdlib-only script the target runs
  (Python 2.7 and 3.6+), printing what the interpreter is and what it sees;
- :mod:`~envdoctor.target.interpreter`: :class:`PythonTarget`, the snapshot shared by
  the Python-side probes and the one place that starts children under the target;
- :mod:`~envdoctor.target.choose`: ``--python``, ``--kernel`` and the default choice;
- :mod:`~envdoctor.target.tags`: the target's wheel tags, computed here with packaging.

Keep every module in this folder named unlike a standard-library module: the probe
script runs with this folder's path removed, but only after Python started it.
"""
