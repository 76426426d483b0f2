"""Which third-party check plugins loaded, and which failed to."""

from __future__ import annotations

from envdoctor.probes import Probe, ProbeContext


def probe_plugins(ctx: ProbeContext) -> dict:
    from envdoctor import registry

    loaded = sorted({c.origin for c in registry.all_checks() if c.origin != "envdoctor"})
    return {"loaded": loaded, "failed": registry.plugin_errors()}


PROBES = [Probe("plugins", probe_plugins)]
