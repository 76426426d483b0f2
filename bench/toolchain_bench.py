#!/usr/bin/env python3
"""What the build-toolchain and conda probes cost, against the whole diagnosis.

In one process, alternately: the toolchain probe alone (gcc, g++, clang, cmake, ninja and
nvcc ``--version`` in parallel threads, host_config.h, PATH), the conda probe alone, and
a full ``diagnose(--no-frameworks)`` in which they run beside every other probe. Prints
the medians and each probe's share of the full run. The probes run concurrently, so a
share well under 1.0 means the toolchain probe is not what the run waits for.

    python bench/toolchain_bench.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    from envdoctor.doctor import Options, diagnose
    from envdoctor.probes import ProbeContext
    from envdoctor.probes.conda import probe_conda
    from envdoctor.probes.toolchain import probe_toolchain

    def timed(func) -> float:
        start = time.perf_counter()
        func()
        return time.perf_counter() - start

    full, tool, conda = [], [], []
    timed(lambda: diagnose(Options(no_frameworks=True)))  # warm imports and caches
    for _ in range(args.runs):
        full.append(timed(lambda: diagnose(Options(no_frameworks=True))))
        tool.append(timed(lambda: probe_toolchain(ProbeContext())))
        conda.append(timed(lambda: probe_conda(ProbeContext())))
    m_full, m_tool, m_conda = (statistics.median(x) for x in (full, tool, conda))
    print(f"diagnose(--no-frameworks)  median {m_full * 1000:7.1f} ms")
    print(f"toolchain probe alone      median {m_tool * 1000:7.1f} ms  "
          f"share {m_tool / m_full:.2f}")
    print(f"conda probe alone          median {m_conda * 1000:7.1f} ms  "
          f"share {m_conda / m_full:.2f}")


if __name__ == "__main__":
    main()
