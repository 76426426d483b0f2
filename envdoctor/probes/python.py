"""The examined interpreter: version, build, environment kind and location."""

from __future__ import annotations

import os
from typing import Optional

from envdoctor.probes import Probe, ProbeContext


def venv_creator(prefix: str) -> Optional[str]:
    """Which tool made the virtual environment at ``prefix``: "uv", "virtualenv" or
    "venv" (its pyvenv.cfg says: uv writes ``uv = 0.x``, virtualenv ``virtualenv = 20.x``);
    None when there is no pyvenv.cfg. A uv environment has no pip: install with
    ``uv pip install --python ...``."""
    try:
        with open(os.path.join(prefix, "pyvenv.cfg"), encoding="utf-8",
                  errors="replace") as fh:
            keys = {line.split("=", 1)[0].strip().lower() for line in fh if "=" in line}
    except (OSError, TypeError, ValueError):
        return None
    for tool in ("uv", "virtualenv"):
        if tool in keys:
            return tool
    return "venv"


def probe_python(ctx: ProbeContext) -> dict:
    snap = ctx.python.snapshot()
    prefix, base = snap["prefix"], snap["base_prefix"]
    conda_meta = bool(snap.get("conda_meta"))
    if prefix != base:
        kind = "virtualenv"
    elif conda_meta or ctx.environ.get("CONDA_PREFIX") == prefix:
        kind = "conda"
    else:
        kind = "system"
    abiflags = snap.get("abiflags") or ""
    return {
        "version": snap["version"],
        "version_info": list(snap["version_info"][:3]),
        "implementation": snap["implementation"],
        "executable": snap.get("executable"),
        "prefix": prefix,
        "base_prefix": base,
        "bits": snap["bits"],
        "environment": kind,
        "conda": conda_meta or bool(ctx.environ.get("CONDA_PREFIX")),
        "abiflags": abiflags,
        "debug_build": bool(snap.get("debug_build")),
        # Free-threaded builds carry "t" in their ABI flags (PEP 703).
        "free_threaded": "t" in abiflags,
        # PEP 668: a distribution's Python marked EXTERNALLY-MANAGED refuses `pip install`
        # ("error: externally-managed-environment") outside a virtual environment.
        "externally_managed": prefix == base and bool(snap.get("externally_managed")),
        "virtual_env": ctx.environ.get("VIRTUAL_ENV") or None,
        "venv_creator": venv_creator(prefix) if prefix != base else None,
        "conda_prefix": ctx.environ.get("CONDA_PREFIX") or None,
        "compiler": snap.get("compiler"),
    }


PROBES = [Probe("python", probe_python)]
