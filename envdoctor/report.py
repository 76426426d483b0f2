"""Build the report document from facts and check results, and decide the exit code.

Exit codes (the same for every output format):
  0  nothing at or above the fail level
  1  at least one finding at or above the fail level (``--fail-on warn|fail``)
  2  usage error (bad option, unreadable ``--from`` file)
  3  incomplete: a check errored or a probe timed out, and nothing failed
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Optional

from envdoctor.facts import SCHEMA_VERSION, Facts
from envdoctor.redact import Identity, NullRedactor, Redactor, current_identity
from envdoctor.result import CheckResult, Status

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3

FAIL_ON = {"fail": (Status.FAIL,), "warn": (Status.FAIL, Status.WARN)}


def exit_code(results: list[CheckResult], facts: Facts, fail_on: str = "fail") -> int:
    failing = FAIL_ON[fail_on]
    if any(r.status in failing for r in results):
        return EXIT_FINDINGS
    timed_out = any((rec or {}).get("status") == "timeout"
                    for rec in (facts.get("probes") or {}).values())
    if timed_out or any(r.status is Status.ERROR for r in results):
        return EXIT_INCOMPLETE
    return EXIT_OK


def counts(results: list[CheckResult]) -> dict[str, int]:
    table = {s.value: 0 for s in Status}
    for r in results:
        table[r.status.value] += 1
    return table


def primary_cause(results: list[CheckResult]) -> Optional[dict[str, Any]]:
    """The first broken link, in the order a GPU stack is built: driver, CUDA, libraries,
    framework. Other failures stay in the report as secondary findings."""
    order = ["gpu.driver", "env.cuda_visible_devices", "cuda.driver_compat", "cuda.cudnn",
             "framework.cuda_build", "framework.arch", "framework.gpu_visible"]
    by_id = {r.id: r for r in results}
    for check_id in order + sorted(by_id):
        result = by_id.get(check_id)
        if result and result.status is Status.FAIL:
            worst = max(result.findings, key=lambda f: f.level, default=None)
            return {"check": result.id, "code": worst.code if worst else None,
                    "message": worst.message if worst else result.summary}
    return None


def build_report(facts: Facts, results: list[CheckResult], *, fail_on: str = "fail",
                 redact: bool = True, source: Optional[dict[str, Any]] = None,
                 duration_ms: Optional[float] = None,
                 keep_hostname: bool = False) -> dict[str, Any]:
    from envdoctor import __version__

    code = exit_code(results, facts, fail_on)
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "envdoctor_version": __version__,
        "generated_at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": source or {"kind": "probe"},
        "redacted": redact,
        "facts": facts,
        "checks": [r.to_dict() for r in results],
        "summary": {
            "counts": counts(results),
            "exit_code": code,
            "fail_on": fail_on,
            "incomplete": code == EXIT_INCOMPLETE,
            "primary_cause": primary_cause(results),
            "duration_ms": round(duration_ms, 1) if duration_ms is not None else None,
        },
    }
    if (keep_hostname or not redact) and report["source"].get("kind") == "probe":
        # Fleet runs: `summarize` tells hosts apart by this (redacted reports: file name).
        report["source"] = dict(report["source"], host=current_identity().hostname)
    if redact:
        identity = current_identity()
        if keep_hostname:
            identity = Identity(identity.user, identity.home, None)
        redactor: Redactor = Redactor(identity)
    else:
        redactor = NullRedactor()
    return redactor.apply(report)
