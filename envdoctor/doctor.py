"""One diagnosis: choose checks, gather (or load) facts, run checks, build the report.

The CLI, fixes (which re-check after repairing) and ``diff -`` all call :func:`diagnose`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Optional

from envdoctor import registry, runner
from envdoctor.probes import ProbeContext, all_probes
from envdoctor.report import build_report
from envdoctor.target.interpreter import PythonTarget

DEFAULT_TIMEOUT_S = 10.0


@dataclass
class Options:
    only: list[str] = field(default_factory=list)
    skip: list[str] = field(default_factory=list)
    timeout: float = DEFAULT_TIMEOUT_S
    # --timeout given: it bounds every probe, framework import children included (which
    # otherwise get frameworks.MIN_CHILD_TIMEOUT_S).
    timeout_explicit: bool = False
    fail_on: str = "fail"
    redact: bool = True
    keep_gpu_uuids: bool = False  # GPU/MIG UUIDs are persistent hardware ids
    no_frameworks: bool = False
    data: Optional[str] = None                     # --data: the folder storage.data judges
    from_report: Optional[dict[str, Any]] = None   # a loaded report for --from
    from_file: Optional[str] = None
    python: Optional[str] = None    # --python: an interpreter or environment folder
    kernel: Optional[str] = None    # --kernel: a Jupyter kernel's name
    from_paste: Optional[Any] = None   # a readers.Paste: dumps read from any pasted text


def selected_checks(opts: Options) -> list[registry.Check]:
    return registry.select(registry.all_checks(), opts.only, opts.skip)


def unknown_selectors(opts: Options) -> list[str]:
    """--only/--skip words that match no check id, area or tag (a usage error)."""
    if not opts.only and not opts.skip:
        return []
    known: set[str] = set()
    for check in registry.all_checks():
        known.update({check.id, check.area, *check.tags})
    return [key for key in [*opts.only, *opts.skip] if key not in known]


def _context(opts: Options, python: PythonTarget) -> ProbeContext:
    return ProbeContext(timeout=opts.timeout, sysroot=os.environ.get("ENVDOCTOR_SYSROOT", ""),
                        options={"no_frameworks": opts.no_frameworks, "data": opts.data},
                        timeout_explicit=opts.timeout_explicit, python=python)


def diagnose(opts: Options, keep_hostname: bool = False) -> dict[str, Any]:
    """The report for ``opts``. Raises :class:`envdoctor.target.choose.TargetError` when
    the Python to examine cannot be chosen (``exit_code`` 2) or does not answer (3)."""
    start = time.monotonic()
    pending = None
    python: Optional[PythonTarget] = None
    if opts.from_report is None and opts.from_paste is None:
        from envdoctor.target.choose import choose

        python = choose(opts.python, opts.kernel)
        # Out of process, the interpreter starts now, beside envdoctor's own work.
        python.start(opts.timeout)
    if opts.from_report is None and opts.from_paste is None and not opts.only and not opts.skip:
        # A full run records every probe's facts, so a saved report can be re-checked
        # later (--from) by any check. Start them before loading the checks, so process
        # starts and file reads overlap with importing the check modules.
        available = all_probes()
        pending = runner.start_probes([available[n] for n in sorted(available)],
                                      _context(opts, python))
    checks = selected_checks(opts)
    if opts.from_report is not None:
        from envdoctor.facts import sanitize

        facts = sanitize(opts.from_report["facts"])  # pasted reports get hand-edited
        given = {key: opts.from_report.get(key) for key in ("generated_at",
                                                            "envdoctor_version")}
        source = {"kind": "from", "file": opts.from_file,
                  **{k: v if isinstance(v, str) else None for k, v in given.items()}}
        if opts.from_paste is not None:
            source["formats"] = opts.from_paste.formats
    elif opts.from_paste is not None:
        from envdoctor.facts import sanitize

        facts = opts.from_paste.facts = sanitize(opts.from_paste.facts)
        source = {"kind": "from", "file": opts.from_file, "generated_at": None,
                  "envdoctor_version": None, "formats": opts.from_paste.formats}
    else:
        if pending is None:  # --only/--skip: probe only what the chosen checks need
            pending = runner.start_probes(runner.needed_probes(checks, all_probes()),
                                          _context(opts, python))
        facts = pending.wait()
        if python is not None and python.failure:
            from envdoctor.target.choose import EXIT_UNEXAMINED, TargetError

            raise TargetError(f"could not examine the Python chosen by {python.how}: "
                              f"{python.failure}", EXIT_UNEXAMINED)
        source = {"kind": "probe", "python": python.describe() if python else None}
    if opts.from_paste is not None and opts.from_report is None:
        results = run_pasted(checks, opts.from_paste)
    else:
        results = runner.run_checks(checks, facts)
    if opts.from_report is not None and opts.from_report.get("left_out"):
        results = [left_out_skip(r, checks, facts) for r in results]
    return build_report(facts, results, fail_on=opts.fail_on, redact=opts.redact,
                        source=source, duration_ms=(time.monotonic() - start) * 1000,
                        keep_hostname=keep_hostname, keep_gpu_uuids=opts.keep_gpu_uuids)


def left_out_skip(result: Any, checks: list[registry.Check], facts: dict[str, Any]) -> Any:
    """A Markdown report leaves bulky facts sections out to fit an issue: a check that
    needs one skips with that reason, not "that probe did not run"."""
    from envdoctor.result import Status

    if result.status is not Status.SKIP:
        return result
    check = next((c for c in checks if c.id == result.id), None)
    gone = [n for n in (check.needs if check else ()) if facts.get(n) is None]
    if gone:
        reason = (", ".join(gone) + " facts were left out of the Markdown report to fit an "
                  "issue; re-run on the full JSON report (envdoctor check --json -o FILE)")
        result.skip_reason = reason
        result.summary = f"skipped: {reason}"
    return result


def run_pasted(checks: list[registry.Check], paste: Any) -> list[Any]:
    """Run the checks a paste can judge; skip the others with the reason (what the paste
    would have to show), and make a pass on a partial list a skip (:mod:`readers.coverage`)."""
    from envdoctor.readers import coverage
    from envdoctor.result import CheckResult, Status

    results = []
    for check in checks:
        reason = coverage.missing(check.id, paste)
        absent = [n for n in check.needs if not isinstance(paste.facts.get(n), dict)]
        if reason is None and absent:
            reason = (f"{coverage.NOT_PASTED} (no " + ", ".join(absent) + " facts)")
        if reason is None:
            result = runner.run_check(check, paste.facts)
            untrusted = coverage.untrusted_pass(check.id, paste) \
                if result.status is Status.PASS else None
            if untrusted is None:
                results.append(result)
                continue
            reason = untrusted
        results.append(CheckResult(check.id, check.title, Status.SKIP, f"skipped: {reason}",
                                   tags=check.tags, skip_reason=reason))
    return results
