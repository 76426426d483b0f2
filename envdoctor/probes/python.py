"""The examined interpreter: version, build, environment kind and location."""

from __future__ import annotations

from envdoctor.probes import Probe, ProbeContext


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
        "conda_prefix": ctx.environ.get("CONDA_PREFIX") or None,
        "compiler": snap.get("compiler"),
    }


PROBES = [Probe("python", probe_python)]
