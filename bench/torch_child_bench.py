#!/usr/bin/env python3
"""The torch child (envdoctor/framework_child.py torch) against `python -c 'import torch'`.

The child imports torch and then runs its probes: CUDA, cuDNN, MPS, and the issue-11
neighbours (a NumPy array through torch.from_numpy, the installed torchvision /
torchaudio / torchtext and torch extensions). Both commands run alternately, N times
each, in this interpreter's environment (torch must be installed: the CPU wheel is
enough); the script prints both medians and their ratio. Target: ratio <= 1.15.

    python bench/torch_child_bench.py [--runs 9] [--pythonpath DIR]

``--pythonpath`` adds a folder (e.g. one holding torchvision) to both commands, to
measure the cost of a companion import too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

CHILD = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "envdoctor", "framework_child.py")


def timed(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{argv} failed: {proc.stderr.decode(errors='replace')[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--pythonpath", default=None)
    args = parser.parse_args()
    env = dict(os.environ)
    if args.pythonpath:
        env["PYTHONPATH"] = args.pythonpath
    plain = [sys.executable, "-c", "import torch"]
    child = [sys.executable, "-B", CHILD, "torch"]
    timed(plain, env)  # warm the page cache
    times: dict[str, list[float]] = {"import torch": [], "torch child": []}
    for _ in range(args.runs):
        times["import torch"].append(timed(plain, env))
        times["torch child"].append(timed(child, env))
    base = statistics.median(times["import torch"])
    mine = statistics.median(times["torch child"])
    print(f"python -c 'import torch': median {base * 1000:.0f} ms ({args.runs} runs)")
    print(f"torch child:              median {mine * 1000:.0f} ms")
    print(f"ratio: {mine / base:.3f} (target <= 1.15)")


if __name__ == "__main__":
    main()
