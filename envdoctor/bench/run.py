"""Run the bench parts in child processes within one time budget and build
``facts["bench"]``."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

MiB = 1 << 20
# Child start and library imports (torch takes seconds) on top of the measuring time.
START_ALLOWANCE_S = 12.0


@dataclass
class Plan:
    quick: bool = False
    max_seconds: float = 30.0
    data: Optional[str] = None
    parts: tuple[str, ...] = ("cpu", "storage", "gpu")
    gpu_device: str = "cuda"          # "cpu": torch on the CPU device (test mode)
    sizes: dict[str, Any] = field(default_factory=dict)

    def args(self, part: str) -> dict[str, Any]:
        quick = self.quick
        if part == "cpu":
            return {"n": 1024 if quick else 2048, "seconds": 1.0 if quick else 3.0}
        if part == "storage":
            return {"size_bytes": (64 if quick else 256) * MiB, "seconds": 4.0 if quick else 8.0}
        cpu_mode = self.gpu_device == "cpu"
        return {"device": self.gpu_device,
                "n": 256 if cpu_mode else (4096 if quick else 8192),
                "seconds": 0.3 if cpu_mode or quick else 1.5,
                "copy_bytes": (64 if quick else 256) * MiB}


Progress = Callable[[str], None]


def _run_part(part: str, args: dict[str, Any], timeout: float) -> dict[str, Any]:
    from envdoctor import proc

    result = proc.run([sys.executable, "-m", "envdoctor.bench.worker", part, json.dumps(args)],
                      timeout=max(1.0, timeout))
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
    if result.timed_out:
        stopped = {"ok": False, "status": "timeout",
                   "error": f"did not finish within {timeout:.0f} s (a stuck GPU, a hung mount "
                            "or a slow library import); it was stopped"}
        try:  # keep what a worker measured before it was stopped
            partial = json.loads(lines[-1]) if lines else {}
        except ValueError:
            partial = {}
        return {**partial, **stopped, "ok": bool(partial.get("ok"))} if partial else stopped
    if not result.ok or not lines:
        return {"ok": False, "status": "error",
                "error": result.describe() if not result.ok else "no result from the child"}
    try:
        found = json.loads(lines[-1])
    except ValueError:
        return {"ok": False, "status": "error", "error": "unreadable result from the child"}
    found.setdefault("status", "ok" if found.get("ok") else "error")
    return found


def measure(plan: Plan, facts: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Run each part, build the lines; the whole stays within plan.max_seconds."""
    from envdoctor.bench import peaks
    from envdoctor.bench.machine import cpu_peak
    from envdoctor.facts import as_dict
    from envdoctor.probes import ProbeContext

    start = time.monotonic()
    bench: dict[str, Any] = {"version": 1, "quick": plan.quick, "max_seconds": plan.max_seconds,
                             "parts": {}, "lines": [], "cpu": None}
    cpu_facts = as_dict(facts.get("cpu"))
    storage = as_dict(facts.get("storage"))
    from envdoctor.hardware.gpus import gpus

    gpu_present = bool(gpus(facts))
    todo = [p for p in plan.parts]
    for number_done, part in enumerate(todo, 1):
        left = plan.max_seconds - (time.monotonic() - start)
        skip = None
        if part == "storage" and not storage.get("exists"):
            skip = ("no data folder given (--data PATH or ENVDOCTOR_DATA)"
                    if not storage.get("data_path") else "the data folder does not exist")
        if part == "gpu" and plan.gpu_device == "cuda" and not gpu_present:
            skip = "no GPU found"
        if skip is None and left < 1.5:
            skip = "no time left in the budget (--max-seconds)"
        if skip:
            bench["parts"][part] = {"status": "skipped", "reason": skip}
            progress(f"[{number_done}/{len(todo)}] {part}: skipped ({skip})")
            continue
        args = plan.args(part)
        if part == "storage":
            args["folder"] = os.path.realpath(str(storage.get("data_path")))
        progress(f"[{number_done}/{len(todo)}] {part}: measuring "
                 f"(at most {left:.0f} s left of the budget)")
        part_start = time.monotonic()
        result = _run_part(part, args, left)
        record = {"status": result.get("status"), "seconds": round(time.monotonic()
                                                                    - part_start, 2)}
        if result.get("error"):
            record["error"] = result["error"]
        bench["parts"][part] = record
        if part == "cpu":
            machine = cpu_peak(ProbeContext().read_text, cpu_facts)
            bench["cpu"] = machine
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
            lines = peaks.cpu_lines(result, machine, cpu_facts, load,
                                    os.environ.get("OMP_NUM_THREADS"))
        elif part == "storage":
            lines = peaks.storage_lines(result, storage)
        else:
            lines = peaks.gpu_lines(result, facts, plan.quick)
        bench["lines"].extend(lines)
        for entry in lines:
            if entry.get("measured") is not None:
                ratio = f", {entry['ratio']:.0%} of {entry['peak']:.4g}" if entry.get("ratio") \
                    is not None else ""
                progress(f"      {entry['label']}: {entry['measured']:.4g} {entry['unit']}{ratio}")
    bench["duration_s"] = round(time.monotonic() - start, 2)
    return bench
