"""Installed Python distributions: names and versions from the dist-info folders, and
the ones whose installed files are gone (a sample of each RECORD is stat'ed)."""

from __future__ import annotations

from envdoctor import distributions
from envdoctor.probes import Probe, ProbeContext


def incomplete(dists: list) -> list[dict]:
    """Distributions whose RECORD names files that no longer exist."""
    found = []
    for dist in dists:
        missing, sampled = distributions.missing_files(dist)
        if missing:
            found.append({"name": dist.key, "version": dist.version, "site": dist.site,
                          "missing": missing[:4], "missing_count": len(missing),
                          "sampled": sampled})
    return found


def probe_packages(ctx: ProbeContext) -> dict:
    versions: dict[str, str] = {}
    shadowed: list[dict[str, str]] = []
    first = []
    for dist in ctx.python.distributions():
        if dist.key in versions:
            if versions[dist.key] != dist.version:
                shadowed.append({"name": dist.key, "version": dist.version,
                                 "shadowed_by": versions[dist.key], "site": dist.site})
            continue
        versions[dist.key] = dist.version
        first.append(dist)
    return {"distributions": versions, "count": len(versions), "shadowed": shadowed,
            "incomplete": incomplete(first)}


PROBES = [Probe("packages", probe_packages)]
