#!/usr/bin/env python3
"""Cost of examining a Python from outside: `check --python OTHER` vs `check` inside it.

The bench makes a virtual environment OTHER whose site-packages point (a .pth file) at
this interpreter's, so both runs see the same packages, envdoctor included. Then, in the
same run, alternately N times each:

- inside:  OTHER/bin/python -m envdoctor check --json          (envdoctor in-process)
- outside: this python -m envdoctor check --json --python OTHER (one interpreter start more)

and prints both medians and their ratio. The goal (issue 10): at most 1.3.

    python bench/target_bench.py [--runs 15] [-- extra envdoctor check args]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import venv

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import compile_bytecode  # noqa: E402


def make_other(folder: str) -> str:
    """A venv that sees this interpreter's packages through a .pth file."""
    venv.create(folder, with_pip=False, symlinks=os.name != "nt")
    purelib = sysconfig.get_paths()["purelib"]
    rel = os.path.relpath(purelib, sys.prefix)
    site = os.path.join(folder, rel)
    with open(os.path.join(site, "bench-shares-packages.pth"), "w", encoding="utf-8") as fh:
        fh.write(purelib + "\n")
    exe = os.path.join(folder, "Scripts" if os.name == "nt" else "bin",
                       "python.exe" if os.name == "nt" else "python")
    return exe


def _cpu() -> float:
    try:
        import resource
    except ImportError:  # Windows: wall time only
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run; CPU counts the run's children too (the examined
    interpreter, framework imports), and is the steadier figure on a busy machine."""
    start, cpu = time.perf_counter(), _cpu()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                   check=False)
    return time.perf_counter() - start, _cpu() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("extra", nargs="*", help="extra arguments for envdoctor check")
    args = parser.parse_args()
    compile_bytecode()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="envdoctor-target-bench-") as tmp:
        other = make_other(os.path.join(tmp, "other"))
        inside = [other, "-m", "envdoctor", "check", "--json", *args.extra]
        outside = [sys.executable, "-m", "envdoctor", "check", "--json", "--python", other,
                   *args.extra]
        check = subprocess.run(outside, capture_output=True, text=True, env=env)
        if '"in_process": false' not in check.stdout:
            print("the outside run did not examine OTHER from outside:", check.stderr[-300:])
            return 1
        timed(inside, env)
        timed(outside, env)
        ins: list[tuple[float, float]] = []
        outs: list[tuple[float, float]] = []
        for _ in range(args.runs):
            ins.append(timed(inside, env))
            outs.append(timed(outside, env))
    for n, label in ((0, "wall"), (1, "CPU ")):
        a = statistics.median(t[n] for t in ins)
        b = statistics.median(t[n] for t in outs)
        print(f"{label}: inside OTHER (in-process) median {a * 1000:7.1f} ms, "
              f"--python OTHER (outside) median {b * 1000:7.1f} ms, "
              f"ratio {b / a if a else float('nan'):.2f} (goal <= 1.30)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
