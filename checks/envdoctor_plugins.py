"""envdoctor.plugins: third-party check plugins that failed to load."""

from __future__ import annotations

from envdoctor.facts import dicts
from envdoctor.registry import register
from envdoctor.result import WARNING, Finding, Outcome, outcome, passed


@register("envdoctor.plugins", title="Check plugins", tags=("envdoctor",), needs=("plugins",),
          codes={"envdoctor.W001": "A check plugin (entry point envdoctor.checks) failed "
                                   "to load; its checks did not run."})
def check_plugins(facts: dict) -> Outcome:
    """Third-party packages add checks through the ``envdoctor.checks`` entry-point group.

    A plugin that raises while loading is reported here instead of crashing envdoctor;
    the checks it would have added are missing from the report. Common causes: the plugin
    package is broken or built for another envdoctor version. Fix: upgrade or uninstall
    the package named in the finding.
    """
    plugins = facts["plugins"]
    failed = dicts(plugins.get("failed"))
    loaded = plugins.get("loaded") if isinstance(plugins.get("loaded"), list) else []
    if not failed:
        summary = f"{len(loaded)} plugin(s) loaded" if loaded else "no third-party plugins"
        return passed(summary, {"loaded": loaded})
    findings = [
        Finding("envdoctor.W001", WARNING,
                f"Check plugin '{f.get('name')}' ({f.get('value')}) failed to load: "
                f"{f.get('error')}",
                hint="Upgrade or uninstall the package that provides it "
                     f"(entry point '{f.get('name')}' in group envdoctor.checks).",
                details=dict(f))
        for f in failed
    ]
    return outcome(f"{len(failed)} plugin(s) failed to load", findings, {"loaded": loaded})
