"""Benchmark `envdoctor summarize` on a generated fleet.

Writes N realistic reports (default 10,000; 8-GPU nodes, ~150 packages, the real checks
run on each variant's facts) into a temporary folder, with a few corrupted, truncated
and foreign files among them, then measures:

  * the in-process time of envdoctor.fleet.summarize (best of --repeat runs),
  * its peak Python heap with tracemalloc (a separate run: tracemalloc slows it down),
  * the whole CLI (`python -m envdoctor summarize DIR --json`): wall time and peak RSS.

    python bench/fleet_bench.py [--hosts 10000] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

import fleet_reports as fr  # noqa: E402

from envdoctor import fleet  # noqa: E402
from envdoctor.render.json import render as render_json  # noqa: E402


def variants() -> list[dict]:
    """A handful of distinct node states, each a real report (real checks)."""
    extra = {f"py-lib-{i:03d}": f"1.{i % 17}.{i % 5}" for i in range(120)}
    packages = dict(fr.PACKAGES, **extra)
    avx_packages = dict(fr.AVX_PACKAGES, **extra)
    docs = [
        fr.report(fr.facts(packages=packages, gpus=8)),                         # healthy
        fr.report(fr.facts(packages=packages, gpus=8, driver="550.54.15", cuda="12.4")),
        fr.report(fr.facts(packages=avx_packages, gpus=8, avx=False)),          # cpu.avx fail
        fr.report(fr.facts(packages=packages, gpus=8,
                           env={"CUDA_VISIBLE_DEVICES": ""})),                  # env warn
        fr.report(fr.facts(packages=packages, gpus=8, timed_out=("nvidia",))),  # incomplete
    ]
    return docs


def generate(folder: Path, hosts: int, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    docs = variants()
    weights = [0.93, 0.04, 0.012, 0.015, 0.003]
    texts = [render_json(d) for d in docs]
    sizes = {"reports": 0, "bytes": 0, "corrupt": 0}
    for i in range(hosts):
        name = f"gpu-node-{i:05d}.json"
        k = rng.choices(range(len(docs)), weights)[0]
        text = texts[k]
        if i % 2500 == 17:
            text = text[: len(text) // 2]                # truncated (node died mid-copy)
            sizes["corrupt"] += 1
        elif i % 2500 == 42:
            text = '{"status": "ok", "items": []}\n'    # foreign JSON
            sizes["corrupt"] += 1
        elif i % 2500 == 99:
            text = text.replace('"checks": [', '"checks": [\x00garbage', 1)
            sizes["corrupt"] += 1
        (folder / name).write_text(text, encoding="utf-8")
        sizes["reports"] += 1
        sizes["bytes"] += len(text)
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", help="write the reports here and keep them")
    args = parser.parse_args()

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="envdoctor-fleet-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        sizes = generate(folder, args.hosts)
        gen_s = time.perf_counter() - start
        print(f"generated {sizes['reports']} reports ({sizes['bytes'] / 1e6:.0f} MB, "
              f"{sizes['bytes'] / max(1, sizes['reports']) / 1e3:.1f} kB each, "
              f"{sizes['corrupt']} damaged) in {gen_s:.1f} s")

        times = []
        result = None
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = fleet.summarize([str(folder)])
            times.append(time.perf_counter() - start)
        assert result is not None
        print(f"summarize (in process): best {min(times):.2f} s, "
              f"median {sorted(times)[len(times) // 2]:.2f} s over {args.repeat} runs; "
              f"{result['hosts_count']} hosts, {len(result['unreadable'])} unreadable, "
              f"{len(result['problems'])} distinct problems")

        tracemalloc.start()
        fleet.summarize([str(folder)])
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak Python heap during summarize (tracemalloc): {peak / 1e6:.1f} MB "
              f"(input: {sizes['bytes'] / 1e6:.0f} MB)")

        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "envdoctor", "summarize", str(folder),
                               "--json"], capture_output=True, cwd=str(REPO))
        wall = time.perf_counter() - start
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        rss_mb = rss / 1e6 if sys.platform == "darwin" else rss / 1e3
        doc = json.loads(proc.stdout)
        print(f"CLI `envdoctor summarize DIR --json`: {wall:.2f} s wall, peak RSS "
              f"{rss_mb:.0f} MB, exit code {proc.returncode}, "
              f"{len(proc.stdout) / 1e6:.1f} MB of JSON out, {doc['hosts_count']} hosts")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
