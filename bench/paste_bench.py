#!/usr/bin/env python3
"""Speed of reading a pasted issue, as a ratio against re-checking a saved JSON report.

The subject: `envdoctor check --from issue.md --json` on a 64 kB issue body: prose, a
truncated traceback, and the real dumps of tests/data/pastes (collect_env of several eras,
nvidia-smi tables and -q logs, pip and conda lists, JAX and transformers printouts)
repeated until the body is 64 kB, in code blocks and <details> folds: the worst case for
the readers (every one of them finds work). The reference: `envdoctor check --from
machine.json --json` on this machine's own JSON report (written once by
`envdoctor check --json`). Both run alternately, N times each, in this interpreter; the
script prints both medians and their ratio. The target (issue 13): ratio <= 1.5.

    python bench/paste_bench.py [--runs 21] [--size 65536]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench import compare, compile_bytecode  # noqa: E402

PASTES = Path(__file__).parent.parent / "tests" / "data" / "pastes"
PROSE = ("I installed the CUDA build as the docs say, but training still runs on the CPU. "
         "Here is everything I could collect; thanks for looking.\n\n")
TRACEBACK = ("Traceback (most recent call last):\n  File \"train.py\", line 12, in <module>\n"
             "    model.cuda()\nRuntimeError: Found no NVIDIA driver on your system.\n\n")


def issue_body(size: int) -> str:
    dumps = [p.read_text(encoding="utf-8") for p in sorted(PASTES.glob("*.txt"))]
    parts: list[str] = [PROSE, TRACEBACK]
    n = 0
    while sum(map(len, parts)) < size:
        dump = dumps[n % len(dumps)]
        wrap = ("<details><summary>output</summary>\n\n```\n{}\n```\n</details>\n\n"
                if n % 2 else "```\n{}\n```\n\n")
        parts += [PROSE, wrap.format(dump)]
        n += 1
    return "".join(parts)[:size]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--size", type=int, default=64 * 1024)
    args = parser.parse_args()
    compile_bytecode()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "machine.json")
        subprocess.run([sys.executable, "-m", "envdoctor", "check", "--json", "-o", report],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                       check=False)
        issue = os.path.join(tmp, "issue.md")
        Path(issue).write_text(issue_body(args.size), encoding="utf-8")
        reference = [sys.executable, "-m", "envdoctor", "check", "--from", report, "--json"]
        subject = [sys.executable, "-m", "envdoctor", "check", "--from", issue, "--json"]
        ref, sub = compare(reference, subject, args.runs, env)
    print(f"check --from machine.json (this machine's report)  median {ref * 1000:7.1f} ms")
    print(f"check --from issue.md ({args.size // 1024} kB issue body)  median {sub * 1000:7.1f} ms")
    print(f"ratio {sub / ref:.2f} (target <= 1.50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
