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
    # Free-threaded builds carry "t" in their ABI flags (PEP 703); no sysconfig import.
    gil_disabled = "t" in getattr(sys, "abiflags", "")
    # PEP 668: a distribution's Python marked EXTERNALLY-MANAGED refuses `pip install`
    # ("error: externally-managed-environment") outside a virtual environment. The marker
    # sits in the standard library folder, the one os.py lives in.
    externally_managed = prefix == base and os.path.isfile(
        os.path.join(os.path.dirname(os.__file__), "EXTERNALLY-MANAGED"))
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


PROBES = [Probe("python", probe_python)]
