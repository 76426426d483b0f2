"""conda packages of the active environment: facts["conda"], read from its conda-meta
folder without running conda (``conda list`` takes seconds and is often not on PATH).

conda writes one ``<name>-<version>-<build>.json`` per installed package into
``<prefix>/conda-meta``; name, version and build come from the file name (a package
name may hold dashes, its version and build never do), so no file is opened. The
prefix is CONDA_PREFIX, else the examined interpreter's prefix (``--python``) when it
has a conda-meta folder.
"""

from __future__ import annotations

import os
from typing import Any

from envdoctor.probes import Probe, ProbeContext

# A broken or enormous folder must not make a report enormous.
MAX_PACKAGES = 5000


def parse_meta_name(filename: str) -> dict[str, str] | None:
    """``pytorch-2.5.1-py3.11_cuda12.4_cudnn9.1.0_0.json`` -> name, version, build."""
    if not filename.endswith(".json"):
        return None
    parts = filename[:-5].rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        return None
    return {"name": parts[0], "version": parts[1], "build": parts[2]}


def probe_conda(ctx: ProbeContext) -> dict[str, Any]:
    prefix, source = ctx.environ.get("CONDA_PREFIX"), "CONDA_PREFIX"
    if not prefix or not os.path.isdir(os.path.join(prefix, "conda-meta")):
        from envdoctor.target.interpreter import TargetUnavailable

        try:
            prefix = ctx.python.snapshot().get("prefix")
        except TargetUnavailable:
            prefix = None
        source = "python prefix"
        if not isinstance(prefix, str) or not prefix:
            return {"prefix": None, "source": None, "packages": [], "count": 0}
    meta = os.path.join(prefix, "conda-meta")
    try:
        names = sorted(os.listdir(meta))
    except OSError:
        return {"prefix": None, "source": None, "packages": [], "count": 0}
    packages = [p for p in map(parse_meta_name, names) if p]
    return {"prefix": prefix, "source": source, "packages": packages[:MAX_PACKAGES],
            "count": len(packages)}


PROBES = [Probe("conda", probe_conda)]
