#!/usr/bin/env python3
"""What the pip and python.environment checks add to `envdoctor check --json` with 200
installed distributions (issue 5: well under 100 ms).

Builds a temporary site directory with 200 realistic dist-info folders (METADATA with a
long description and Requires-Dist lines with markers and extras, WHEEL, RECORD,
INSTALLER), puts it on PYTHONPATH, and times `envdoctor check --json` with and without
these checks (`--skip pip --skip python.environment`), alternately, N runs each; prints
both medians and the difference. Also prints the in-process cost of the probes and checks.

    python bench/pip_bench.py [--runs 21] [--dists 200]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

DESCRIPTION = ("A realistic long description. " * 40 + "\n") * 8   # ~10 kB like numpy's


def plant_site(site: str, count: int) -> None:
    from packaging.tags import sys_tags

    binary_tag = str(next(iter(sys_tags())))
    rng = random.Random(5)
    names = [f"pkg{i:03d}-{rng.choice(['core', 'utils', 'io', 'ml'])}" for i in range(count)]
    for i, name in enumerate(names):
        version = f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
        folder = os.path.join(site, f"{name.replace('-', '_')}-{version}.dist-info")
        os.makedirs(folder)
        requires = []
        for dep in rng.sample(names[:i], min(i, rng.randint(0, 6))):
            requires.append(f"{dep}>=0")
        requires += [f"extra-{i}-{k}>=1.0; extra == 'dev'" for k in range(rng.randint(0, 4))]
        requires.append("typing-extensions>=4; python_version < '3.8'")
        meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
                "Summary: benchmark package", "License: MIT",
                "Classifier: Programming Language :: Python :: 3"]
        meta += [f"Requires-Dist: {r}" for r in requires]
        with open(os.path.join(folder, "METADATA"), "w", encoding="utf-8") as fh:
            fh.write("\n".join(meta) + "\n\n" + DESCRIPTION)
        tag = binary_tag if i % 4 == 0 else "py3-none-any"
        with open(os.path.join(folder, "WHEEL"), "w", encoding="utf-8") as fh:
            fh.write(f"Wheel-Version: 1.0\nGenerator: bdist_wheel (0.43.0)\n"
                     f"Root-Is-Purelib: {'false' if i % 4 == 0 else 'true'}\nTag: {tag}\n")
        with open(os.path.join(folder, "INSTALLER"), "w", encoding="utf-8") as fh:
            fh.write("pip\n")
        with open(os.path.join(folder, "RECORD"), "w", encoding="utf-8") as fh:
            fh.write("".join(f"{name}/mod{k}.py,sha256=x,100\n" for k in range(20)))


def time_command(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                   check=False)
    return time.perf_counter() - start


def in_process(site: str) -> dict[str, float]:
    """Milliseconds of each piece, in this process (imports included the first time)."""
    sys.path.insert(0, site)
    from envdoctor import distributions, registry, runner
    from envdoctor.probes import ProbeContext, wheels

    distributions._cache = None
    ctx = ProbeContext()
    out: dict[str, float] = {}
    start = time.perf_counter()
    pip = wheels.probe_pip(ctx)
    out["pip probe (first, with imports)"] = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    wheels.probe_pip(ctx)
    out["pip probe (again)"] = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    env = wheels.probe_python_env(ctx)
    out["python_env probe"] = (time.perf_counter() - start) * 1000
    facts = {"probes": {"pip": {"status": "ok"}, "python_env": {"status": "ok"}},
             "pip": pip, "python_env": env}
    for check_id in ("pip.wheel_tags", "pip.requirements", "python.environment"):
        check = registry.get(check_id)
        start = time.perf_counter()
        result = runner.run_check(check, facts)
        out[f"{check_id} check ({result.status.value})"] = (time.perf_counter() - start) * 1000
    out["distributions seen"] = float(len(pip["distributions"]))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--dists", type=int, default=200)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="envdoctor-pip-bench-")
    try:
        site = os.path.join(tmp, "site-packages")
        plant_site(site, args.dists)
        env = dict(os.environ)
        # Installed packages run from cached bytecode; a source checkout with
        # PYTHONDONTWRITEBYTECODE recompiles every module each run. Cache it outside the tree.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
        env["PYTHONPATH"] = site + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH")
                                    else "")
        # --no-frameworks: the frameworks probe imports torch & co. in child processes
        # (a second or more) and would drown the difference being measured.
        base = [sys.executable, "-m", "envdoctor", "check", "--json", "--no-frameworks"]
        without = [*base, "--skip", "pip", "--skip", "python.environment"]
        time_command(base, env)
        time_command(without, env)
        with_times, without_times = [], []
        for _ in range(args.runs):
            with_times.append(time_command(base, env))
            without_times.append(time_command(without, env))
        w, wo = statistics.median(with_times), statistics.median(without_times)
        print(f"{args.dists} planted distributions on PYTHONPATH, {args.runs} runs each")
        print(f"envdoctor check --json --no-frameworks         median {w * 1000:7.1f} ms")
        print(f"  --skip pip --skip python.environment         median {wo * 1000:7.1f} ms")
        print(f"added by pip.* and python.environment          {(w - wo) * 1000:7.1f} ms "
              "(target: well under 100 ms)")
        print("in-process breakdown:")
        for label, value in in_process(site).items():
            print(f"  {label:<40} {value:7.1f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
