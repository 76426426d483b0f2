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

EXIT_OK, EXIT_FINDINGS, EXIT_INCOMPLETE = 0, 1, 3  # 2, a usage error, comes from the CLI

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


# The chain a GPU stack is built in (issue 4): the driver works; CUDA can start; the
# framework build can use a GPU (not CPU-only, imports at all); the driver is new enough
# for the build's CUDA; the build has kernels for the GPU; CUDA_VISIBLE_DEVICES lets the
# GPU through; the libraries load. Each link: (check id, finding codes or None for any).
_CHAIN: list[tuple[str, Optional[tuple[str, ...]]]] = [
    ("gpu.driver", None),
    ("cuda.driver_compat", ("cuda.E002", "cuda.E003", "cuda.E004", "cuda.E005")),
    ("framework.cuda_build", ("framework.E001",)),
    # A version conflict seen breaking a framework's import comes before the import.
    ("pip.requirements", ("pip.E202",)),
    ("framework.gpu_visible", ("framework.E020", "framework.E026", "framework.E027",
                               "framework.E028")),
    ("framework.cuda_build", ("framework.E002",)),
    ("cuda.driver_compat", ("cuda.E001",)),
    ("framework.gpu_visible", ("framework.E021",)),
    ("framework.arch", None),
    ("framework.gpu_visible", ("framework.E022",)),
    ("env.cuda_visible_devices", None),
    ("framework.gpu_visible", ("framework.E023",)),
    ("cuda.cudnn", None),
    ("framework.gpu_visible", None),
]


def primary_cause(results: list[CheckResult]) -> Optional[dict[str, Any]]:
    """The first broken link, in the order a GPU stack is built (see ``_CHAIN``); then any
    other failing check. The other failures are listed as ``secondary``."""
    from envdoctor.result import ERROR

    failing = [r for r in results if r.status is Status.FAIL]
    links: list[tuple[CheckResult, Any]] = []
    for check_id, codes in _CHAIN + [(r.id, None) for r in sorted(failing, key=lambda r: r.id)]:
        for result in failing:
            if result.id != check_id:
                continue
            errors = [f for f in result.findings if f.level >= ERROR
                      and (codes is None or f.code in codes)]
            if codes is None and not errors:
                links.append((result, None))  # failed without an error finding
            links.extend((result, f) for f in errors)
    if not links:
        return None
    ordered: list[tuple[CheckResult, Any]] = []
    for result, found in links:  # first place of each finding wins
        if not any(r is result and f is found for r, f in ordered):
            ordered.append((result, found))
    result, found = ordered[0]
    secondary: list[dict[str, Any]] = []
    for r, f in ordered[1:]:
        item = {"check": r.id, "code": f.code if f is not None else None}
        if item not in secondary and (item["check"], item["code"]) != (
                result.id, found.code if found is not None else None):
            secondary.append(item)
    return {"check": result.id, "code": found.code if found is not None else None,
            "message": found.message if found is not None else result.summary,
            "secondary": secondary}


def _gpu_inventory(facts: Facts) -> list[dict[str, Any]]:
    """Every GPU of every vendor (NVIDIA, AMD, Apple) with its ``vendor``: the one list
    renderers, diff and summarize read."""
    from envdoctor.hardware.gpus import inventory

    return inventory(facts)


def build_report(facts: Facts, results: list[CheckResult], *, fail_on: str = "fail",
                 redact: bool = True, source: Optional[dict[str, Any]] = None,
                 duration_ms: Optional[float] = None,
                 keep_hostname: bool = False, keep_gpu_uuids: bool = False
                 ) -> dict[str, Any]:
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
            "gpus": _gpu_inventory(facts),
        },
    }
    if (keep_hostname or not redact) and report["source"].get("kind") == "probe":
        # Fleet runs: `summarize` tells hosts apart by this (redacted reports: file name).
        report["source"] = dict(report["source"], host=current_identity().hostname)
    if redact:
        identity = current_identity()
        if keep_hostname:
            identity = Identity(identity.user, identity.home, None, identity.others)
        redactor: Redactor = Redactor(identity, keep_gpu_uuids=keep_gpu_uuids)
    else:
        redactor = NullRedactor()
    return redactor.apply(report)
