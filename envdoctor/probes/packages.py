"""Installed Python distributions: names and versions from the dist-info folders."""

from __future__ import annotations

from envdoctor import distributions
from envdoctor.probes import Probe, ProbeContext


def probe_packages(ctx: ProbeContext) -> dict:
    versions: dict[str, str] = {}
    shadowed: list[dict[str, str]] = []
    for dist in distributions.installed():
        if dist.key in versions:
            if versions[dist.key] != dist.version:
                shadowed.append({"name": dist.key, "version": dist.version,
                                 "shadowed_by": versions[dist.key], "site": dist.site})
            continue
        versions[dist.key] = dist.version
    return {"distributions": versions, "count": len(versions), "shadowed": shadowed}


PROBES = [Probe("packages", probe_packages)]
