#!/usr/bin/env python3
"""`envdoctor check --json` against `python -m torch.utils.collect_env`, same run.

Both commands run alternately in this interpreter's environment (torch must be
installed: the CPU wheel is enough), N times each; the script prints both medians,
their ratio (target: envdoctor faster, ratio < 1) and peak memory:

- envdoctor's own process (RUSAGE_SELF of an in-process run of the CLI) and its largest
  framework child (RUSAGE_CHILDREN of that run: the child that imports torch);
- collect_env's process tree (wait4's ru_maxrss: collect_env imports torch itself).

    python bench/frameworks_bench.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

# Runs the CLI in-process, then reports this process's own peak RSS and its largest
# child's (the framework children), in KiB (Linux ru_maxrss units).
_MEASURE = r"""
import resource, runpy, sys
sys.argv = ["envdoctor", "check", "--json"]
try:
    runpy.run_module("envdoctor", run_name="__main__")
except SystemExit:
    pass
sys.stderr.write("\nPEAK %d %d\n" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                     resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
"""


def timed(argv: list[str]) -> tuple[float, int]:
    """Wall time and the process tree's peak RSS (KiB; 0 where wait4 is missing)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if hasattr(os, "wait4"):
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0
        peak = usage.ru_maxrss
    else:  # pragma: no cover - Windows
        proc.wait()
        peak = 0
    return time.perf_counter() - start, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    envdoctor = [sys.executable, "-m", "envdoctor", "check", "--json"]
    collect_env = [sys.executable, "-m", "torch.utils.collect_env"]
    check = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True)
    if check.returncode != 0:
        print("torch is not installed here: pip install torch (the CPU wheel is enough)")
        return 2
    timed(envdoctor)
    timed(collect_env)  # warm the page cache for both
    ed, ce, ce_peak = [], [], []
    for _ in range(args.runs):
        t, _peak = timed(envdoctor)
        ed.append(t)
        t, peak = timed(collect_env)
        ce.append(t)
        ce_peak.append(peak)
    measure = subprocess.run([sys.executable, "-c", _MEASURE], capture_output=True,
                             text=True)
    own = child = 0
    for line in measure.stderr.splitlines():
        if line.startswith("PEAK "):
            own, child = (int(x) for x in line.split()[1:3])
    report = json.loads(measure.stdout or "{}")
    live = ((report.get("facts") or {}).get("frameworks") or {}).get("live") or {}
    med_ed, med_ce = statistics.median(ed), statistics.median(ce)
    print(f"runs: {args.runs} each, alternating; python {sys.version.split()[0]}")
    print(f"envdoctor check --json          median {med_ed * 1000:7.0f} ms")
    print(f"python -m torch.utils.collect_env median {med_ce * 1000:7.0f} ms")
    print(f"ratio envdoctor / collect_env   {med_ed / med_ce:.2f} (target < 1.00)")
    print(f"peak RSS envdoctor process      {own / 1024:7.1f} MiB")
    print(f"peak RSS largest framework child {child / 1024:6.1f} MiB "
          f"(torch import: {(live.get('torch') or {}).get('import_ms')} ms)")
    print(f"peak RSS collect_env            {max(ce_peak) / 1024:7.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
