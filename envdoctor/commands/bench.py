"""``envdoctor bench``: measured speed next to the hardware's peak (CPU GEMM, GPU matmul
and PCIe copies, the data folder's read speed), stored in a report.

Exit codes: 0 nothing far below peak; 1 a measurement far below its peak or a part that
failed (with --fail-on warn) / nothing at fail level otherwise; 2 usage error.
"""

# No `from __future__ import annotations` here: Typer on Python 3.9 reads the Annotated
# option declarations from live annotations only.

import enum
import os
import sys
from typing import Annotated, Optional

import typer

BENCH_PROBES = ("cpu", "nvidia", "amd", "storage", "env", "platform", "python", "memory")
BENCH_CHECKS = ("bench.peak", "gpu.precision", "storage.data")


class Format(str, enum.Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class Device(str, enum.Enum):
    cuda = "cuda"
    cpu = "cpu"


def _progress(message: str) -> None:
    try:
        sys.stderr.write(f"envdoctor bench {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _table(bench: dict) -> str:
    rows = [("measurement", "measured", "peak", "ratio", "verdict")]
    for entry in bench.get("lines") or []:
        measured = entry.get("measured")
        rows.append((str(entry.get("label") or entry.get("id")),
                     "-" if measured is None else f"{measured:.4g} {entry.get('unit')}",
                     "-" if not entry.get("peak") else f"{entry['peak']:.4g}",
                     "-" if entry.get("ratio") is None else f"{entry['ratio']:.0%}",
                     str(entry.get("verdict") or entry.get("error") or "")))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    out = []
    for row in rows:
        out.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(row[:4])) + "  " + row[4])
    for entry in bench.get("lines") or []:
        if entry.get("limiter"):
            out.append(f"  {entry.get('label')}: likely limiter: {entry['limiter']}")
    return "\n".join(out) + "\n\n"


def bench_command(
    quick: Annotated[bool, typer.Option("--quick", help="Smaller sizes, about 10 s.")] = False,
    data: Annotated[Optional[str], typer.Option(
        "--data", metavar="PATH", help="Measure reads in this folder (a temporary file is "
                                       "written and removed; default: $ENVDOCTOR_DATA).")
    ] = None,
    only: Annotated[Optional[list[str]], typer.Option(
        "--only", metavar="PART", help="cpu, gpu, storage (repeat or comma-separate).")
    ] = None,
    max_seconds: Annotated[float, typer.Option(
        "--max-seconds", min=2.0, max=3600.0, metavar="SECONDS",
        help="The whole bench stays within this (each part is a child process stopped at "
             "its deadline).")] = 30.0,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    json_flag: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    output: Annotated[Optional[str], typer.Option(
        "--output", "-o", metavar="FILE",
        help="Also write the report to FILE (compare machines: envdoctor diff A B; "
             "envdoctor summarize DIR).")] = None,
    device: Annotated[Device, typer.Option(
        "--device", hidden=True, help="Test mode: run the GPU part with torch on the CPU.")
    ] = Device.cuda,
    no_redact: Annotated[bool, typer.Option(
        "--no-redact", help="Keep user name, home path and host name in the report.")] = False,
) -> None:
    """Measure this machine against its peak: CPU GEMM (NumPy's BLAS), GPU matmul in
    FP32/TF32/FP16/BF16 and pinned PCIe copies (torch or CuPy), sequential reads in the
    data folder. Each line: measured, peak, ratio, and the likely limiter.

    Progress goes to stderr; the report (facts.bench) to stdout."""
    from envdoctor import registry, render, runner
    from envdoctor.bench.run import Plan, measure
    from envdoctor.cli import _write_stdout, check_output, error, split_words
    from envdoctor.probes import ProbeContext, all_probes
    from envdoctor.report import build_report

    parts = tuple(split_words(only)) or ("cpu", "storage", "gpu")
    unknown = [p for p in parts if p not in ("cpu", "gpu", "storage")]
    if unknown:
        raise error(f"no bench part named {', '.join(map(repr, unknown))}: "
                    "cpu, gpu, storage")
    check_output(output)
    plan = Plan(quick=quick, max_seconds=max_seconds, parts=parts, gpu_device=device.value,
                data=data)
    available = all_probes()
    ctx = ProbeContext(timeout=5.0, sysroot=os.environ.get("ENVDOCTOR_SYSROOT", ""),
                       options={"data": data, "no_frameworks": True})
    _progress("collecting facts (cpu, GPUs, storage)")
    facts = runner.collect_facts([available[n] for n in BENCH_PROBES if n in available], ctx)
    import time

    start = time.monotonic()
    bench = measure(plan, facts, _progress)
    facts["bench"] = bench
    facts["probes"]["bench"] = {"status": "ok",
                                "duration_ms": round((time.monotonic() - start) * 1000, 1)}
    checks = [c for c in (registry.get(i) for i in BENCH_CHECKS) if c is not None]
    results = runner.run_checks(checks, facts)
    report = build_report(facts, results, fail_on="fail", redact=not no_redact,
                          source={"kind": "probe", "command": "bench"})
    chosen = "json" if json_flag else fmt.value
    text = render.get(chosen)(report, verbose=False, stream=sys.stdout)
    if chosen == "text":
        text = _table(report["facts"]["bench"]) + text
    if output:
        from envdoctor.output import write_report

        try:
            write_report(output, report, chosen)
        except OSError as exc:
            raise error(f"cannot write {output}: {exc.strerror or exc}") from None
    _write_stdout(text)
    raise typer.Exit(report["summary"]["exit_code"])


def register(app: typer.Typer) -> None:
    app.command("bench")(bench_command)
