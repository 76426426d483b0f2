#!/usr/bin/env python3
"""Speed of `envdoctor check --json` as a ratio against the CLI framework alone.

Both commands run alternately in the same environment (this interpreter), N times each;
the script prints both medians and their ratio. The target (issue 2): the ratio stays
at or below 2.0 on a machine where nothing slow (no GPU driver, no framework) is
installed. Other benchmarks live beside this file (frameworks, pip, fleet).

    python bench/bench.py [--runs 21] [-- extra envdoctor check args]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def time_command(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                   check=False)
    return time.perf_counter() - start


def compare(reference: list[str], subject: list[str], runs: int,
            env: dict[str, str]) -> tuple[float, float]:
    ref_times: list[float] = []
    sub_times: list[float] = []
    time_command(reference, env)  # warm the page cache for both
    time_command(subject, env)
    for _ in range(runs):
        ref_times.append(time_command(reference, env))
        sub_times.append(time_command(subject, env))
    return statistics.median(ref_times), statistics.median(sub_times)


def compile_bytecode() -> None:
    """Write envdoctor's .pyc files, as `pip install` does for an installed package.

    An editable install under PYTHONDONTWRITEBYTECODE=1 would otherwise recompile every
    module on every run (about 45 ms here), which no installed copy ever pays; typer, the
    reference, is compiled in site-packages.
    """
    import compileall

    import envdoctor.checks
    import envdoctor.fixes

    import envdoctor

    for package in (envdoctor, envdoctor.checks, envdoctor.fixes):
        for folder in package.__path__:
            compileall.compile_dir(folder, quiet=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("extra", nargs="*", help="extra arguments for envdoctor check")
    args = parser.parse_args()
    compile_bytecode()
    env = dict(os.environ)
    reference = [sys.executable, "-c", "import typer"]
    subject = [sys.executable, "-m", "envdoctor", "check", "--json", *args.extra]
    ref, sub = compare(reference, subject, args.runs, env)
    print(f"python -c 'import typer'        median {ref * 1000:7.1f} ms")
    print(f"envdoctor check --json {' '.join(args.extra):<8} median {sub * 1000:7.1f} ms")
    print(f"ratio {sub / ref:.2f} (target <= 2.00)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
