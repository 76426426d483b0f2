"""The running interpreter: version, build, environment kind and location."""

from __future__ import annotations

import os
import platform as _platform
import struct
import sys

from envdoctor.probes import Probe, ProbeContext


def probe_python(ctx: ProbeContext) -> dict:
    prefix, base = sys.prefix, getattr(sys, "base_prefix", sys.prefix)
    conda_meta = os.path.isdir(os.path.join(prefix, "conda-meta"))
    if prefix != base:
        kind = "virtualenv"
    elif conda_meta or ctx.environ.get("CONDA_PREFIX") == prefix:
        kind = "conda"
    else:
        kind = "system"
    import sysconfig

    gil_disabled = False
    if sys.version_info >= (3, 13):
        gil_disabled = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    # PEP 668: a distribution's Python marked EXTERNALLY-MANAGED refuses `pip install`
    # ("error: externally-managed-environment") outside a virtual environment.
    try:
        stdlib = sysconfig.get_path("stdlib")
        externally_managed = bool(stdlib) and prefix == base and os.path.isfile(
            os.path.join(stdlib, "EXTERNALLY-MANAGED"))
    except (KeyError, OSError, ValueError):
        externally_managed = False
    return {
        "version": _platform.python_version(),
        "version_info": list(sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "prefix": prefix,
        "base_prefix": base,
        "bits": struct.calcsize("P") * 8,
        "environment": kind,
        "conda": conda_meta or bool(ctx.environ.get("CONDA_PREFIX")),
        "abiflags": getattr(sys, "abiflags", ""),
        "debug_build": hasattr(sys, "gettotalrefcount"),
        "free_threaded": gil_disabled,
        "externally_managed": externally_managed,
        "virtual_env": ctx.environ.get("VIRTUAL_ENV") or None,
        "conda_prefix": ctx.environ.get("CONDA_PREFIX") or None,
        "compiler": _platform.python_compiler(),
    }


PROBES = [Probe("python", probe_python, description="the running interpreter")]
