"""bench.peak: what `envdoctor bench` measured next to the hardware's peak, with the
likely limiter when it falls short."""

from __future__ import annotations

from envdoctor.facts import as_dict, dicts, number, text
from envdoctor.registry import register
from envdoctor.result import INFO, WARNING, Finding, outcome, passed, skipped

CODES = {
    "bench.I001": "A measurement at a good share of its peak, or one without a peak to "
                  "compare (test mode, a model not in the table).",
    "bench.I002": "A measurement below its peak (30-60%), with the likely limiter.",
    "bench.I003": "A bench part that did not run here (no GPU, no data folder).",
    "bench.W001": "A measurement far below its peak (under 30%), with the likely limiter.",
    "bench.W002": "A bench part failed or was stopped at its deadline (a stuck GPU, a hung "
                  "mount).",
}


def _describe(entry: dict) -> str:
    measured, peak, ratio = (number(entry.get(k)) for k in ("measured", "peak", "ratio"))
    unit = text(entry.get("unit")) or ""
    shown = f"{text(entry.get('label')) or entry.get('id')}: {measured:.4g} {unit}"
    if peak and ratio is not None:
        what = "expected" if entry.get("kind") == "storage_read" else "peak"
        shown += f" of {peak:.4g} {what} ({ratio:.0%}, {entry.get('verdict')})"
    return shown


@register("bench.peak", title="Measured speed vs the hardware's peak (envdoctor bench)",
          tags=("bench", "performance"), needs=("bench",), codes=CODES)
def check_peak(facts):
    """Judges the lines `envdoctor bench` stored in the report: CPU GEMM GFLOPS against
    cores x clock x FLOPs/cycle, GPU matmul TFLOPS against the datasheet (FP32, TF32,
    FP16, BF16), pinned host<->device copies against the PCIe link, sequential reads of
    the data folder against what its kind of device should deliver. Under 60% of peak
    is noted with the likely limiter, under 30% is a warning (thresholds and sources:
    envdoctor/data/cpu_peak.json). Re-run on a saved report with `check --from`; compare
    machines with `envdoctor diff` and `envdoctor summarize`."""
    bench = as_dict(facts.get("bench"))
    lines = dicts(bench.get("lines"))
    parts = as_dict(bench.get("parts"))
    if not lines and not parts:
        return skipped("no bench results (run `envdoctor bench`)")
    findings: list[Finding] = []
    for name, record in sorted((k, as_dict(v)) for k, v in parts.items()):
        status = text(record.get("status"))
        if status == "skipped":
            findings.append(Finding("bench.I003", INFO,
                                    f"{name}: not measured ({record.get('reason')})"))
        elif status in ("error", "timeout"):
            findings.append(Finding("bench.W002", WARNING,
                                    f"{name}: {record.get('error') or status}",
                                    hint="run it again alone (envdoctor bench --only "
                                         f"{name}); for a GPU, nvidia-smi and dmesg (Xid)"))
    for entry in lines:
        if number(entry.get("measured")) is None:
            reason = entry.get("error") or entry.get("skipped")
            if reason:
                findings.append(Finding("bench.I003", INFO,
                                        f"{entry.get('label') or entry.get('id')}: {reason}"))
            continue
        verdict, limiter = text(entry.get("verdict")), text(entry.get("limiter"))
        details = {"id": entry.get("id"), "ratio": entry.get("ratio")}
        if verdict == "far below peak":
            findings.append(Finding("bench.W001", WARNING, _describe(entry),
                                    hint=f"likely limiter: {limiter}" if limiter else "",
                                    details=details))
        elif verdict == "below peak":
            findings.append(Finding("bench.I002", INFO, _describe(entry),
                                    hint=f"likely limiter: {limiter}" if limiter else "",
                                    details=details))
        else:
            findings.append(Finding("bench.I001", INFO, _describe(entry), details=details))
    measured = sum(1 for e in lines if number(e.get("measured")) is not None)
    summary = f"{measured} measurement(s)"
    if any(f.level >= WARNING for f in findings):
        return outcome(summary + "; something holds this machine back", findings)
    return passed(summary, findings=findings)
