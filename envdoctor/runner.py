"""Run probes concurrently with deadlines, then run checks on the facts.

Probes run in daemon threads: a probe stuck in a system call cannot hold up the report
or the exit of the process. Subprocesses inside probes carry their own timeouts
(:mod:`envdoctor.proc`), so a hung nvidia-smi is killed, not abandoned.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Iterable

from envdoctor.facts import Facts, new_facts, probe_failure
from envdoctor.probes import Probe, ProbeContext
from envdoctor.proc import seconds
from envdoctor.registry import Check
from envdoctor.result import CheckResult, Status

# Time a probe gets beyond the per-command timeout to notice and record it.
PROBE_GRACE_S = 1.0


class PendingFacts:
    """Probes started in the background; :meth:`wait` gathers what they found."""

    def __init__(self, probes: Iterable[Probe], ctx: ProbeContext) -> None:
        self.ctx = ctx
        self.slots: dict[str, dict] = {}
        # (probe, thread, the moment to give up on it, its deadline in seconds)
        self.threads: list[tuple[Probe, threading.Thread, float, float]] = []
        for probe in probes:
            slot: dict = {}
            self.slots[probe.name] = slot
            thread = threading.Thread(target=self._work, args=(probe, slot),
                                      name=f"probe-{probe.name}", daemon=True)
            # A probe with its own deadline gets exactly that; the others get the
            # per-command timeout plus a grace to notice and record their own timeouts.
            # An explicit --timeout bounds those too.
            if probe.deadline is not None and not ctx.timeout_explicit:
                deadline = wait_s = probe.deadline
            else:
                deadline, wait_s = ctx.timeout, ctx.timeout + PROBE_GRACE_S
            thread.start()
            self.threads.append((probe, thread, time.monotonic() + wait_s, deadline))

    def _work(self, probe: Probe, slot: dict) -> None:
        start = time.monotonic()
        try:
            slot["value"] = probe.func(self.ctx)
            slot["status"] = "ok"
        except Exception as exc:
            slot["status"] = "error"
            slot["error"] = f"{type(exc).__name__}: {exc}"
        slot["duration_ms"] = round((time.monotonic() - start) * 1000, 2)

    def wait(self) -> Facts:
        facts = new_facts()
        records: dict[str, dict] = facts["probes"]
        for probe, thread, until, deadline in self.threads:
            thread.join(max(0.0, until - time.monotonic()))
            slot = self.slots[probe.name]
            if thread.is_alive() or "status" not in slot:
                records[probe.name] = {"status": "timeout", "timeout_s": round(deadline, 2),
                                       "error": f"no answer within {seconds(deadline)} s"}
                facts[probe.name] = None
                continue
            record = {"status": slot["status"], "duration_ms": slot["duration_ms"]}
            if slot["status"] == "error":
                record["error"] = slot["error"]
            records[probe.name] = record
            facts[probe.name] = slot.get("value")
        return facts


def start_probes(probes: Iterable[Probe], ctx: ProbeContext) -> PendingFacts:
    """Start every probe in its own daemon thread and return at once."""
    return PendingFacts(probes, ctx)


def collect_facts(probes: Iterable[Probe], ctx: ProbeContext) -> Facts:
    """Run probes concurrently, each within its deadline, and return the facts."""
    return start_probes(probes, ctx).wait()


def run_check(check: Check, facts: Facts) -> CheckResult:
    start = time.monotonic()
    records = facts.get("probes")
    records = records if isinstance(records, dict) else {}
    # Facts a probe never gathered (a report from an older envdoctor, or one made with
    # --only) leave nothing to judge: a skip. A probe that ran and failed is an error.
    absent = [name for name in check.needs if facts.get(name) is None and name not in records]
    if absent:
        reason = ("the facts have no " + ", ".join(f"'{n}'" for n in absent)
                  + " section (that probe did not run)")
        return CheckResult(check.id, check.title, Status.SKIP, f"skipped: {reason}",
                           tags=check.tags, skip_reason=reason,
                           duration_ms=(time.monotonic() - start) * 1000)
    missing = [reason for name in check.needs if (reason := probe_failure(facts, name))]
    if missing:
        return CheckResult(check.id, check.title, Status.ERROR,
                           "could not run: " + "; ".join(missing), tags=check.tags,
                           error="; ".join(missing),
                           duration_ms=(time.monotonic() - start) * 1000)
    try:
        out = check.func(facts)
        return CheckResult(check.id, check.title, out.status, out.summary, out.findings,
                           out.details, (time.monotonic() - start) * 1000, out.skip_reason,
                           tags=check.tags)
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        return CheckResult(check.id, check.title, Status.ERROR,
                           f"the check itself crashed: {text}", tags=check.tags,
                           error=text + "\n" + traceback.format_exc(limit=3),
                           duration_ms=(time.monotonic() - start) * 1000)


def run_checks(checks: Iterable[Check], facts: Facts) -> list[CheckResult]:
    return [run_check(check, facts) for check in checks]


def needed_probes(checks: Iterable[Check], available: dict[str, Probe]) -> list[Probe]:
    names: set[str] = set()
    for check in checks:
        names.update(check.inputs)
    # platform and python facts are cheap and every report's header uses them.
    names.update({"platform", "python"})
    return [available[n] for n in sorted(names) if n in available]
