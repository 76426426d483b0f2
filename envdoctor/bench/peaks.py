"""Measurements -> lines: measured, peak, ratio, and a verdict naming the likely limiter.

Pure functions of the workers' results and the facts (no machine access), so the lines
can be rebuilt and tested from saved data."""

from __future__ import annotations

from typing import Any, Optional

from envdoctor.facts import as_dict, dicts, number, strings, text

THROTTLE = {"sw_power_cap": "power cap", "hw_slowdown": "hardware slowdown",
            "hw_thermal_slowdown": "thermal slowdown", "sw_thermal_slowdown": "thermal slowdown",
            "hw_power_brake_slowdown": "power brake"}


def _table() -> dict[str, Any]:
    from envdoctor.data import load

    return load("cpu_peak.json")


def grade(ratio: Optional[float]) -> str:
    """"good" / "below peak" / "far below peak" / "no peak to compare" by the sourced
    verdict_ratio thresholds."""
    if ratio is None:
        return "no peak to compare"
    limits = _table()["verdict_ratio"]
    if ratio >= limits["good"]:
        return "good"
    return "below peak" if ratio >= limits["low"] else "far below peak"


def significant(value: Optional[float], digits: int = 4) -> Optional[float]:
    """``value`` to ``digits`` significant digits (0.000425 TFLOPS stays 0.000425)."""
    return float(f"{value:.{digits}g}") if value is not None else None


def line(line_id: str, kind: str, label: str, unit: str, measured: Optional[float],
         peak: Optional[float], basis: str, limiter: Optional[str] = None,
         **extra: Any) -> dict[str, Any]:
    ratio = measured / peak if measured is not None and peak else None
    verdict = grade(ratio)
    return {"id": line_id, "kind": kind, "label": label, "unit": unit,
            "measured": significant(measured), "peak": round(peak, 3) if peak else None,
            "peak_basis": basis, "ratio": significant(ratio), "verdict": verdict,
            "limiter": limiter if verdict in ("below peak", "far below peak") else None,
            **extra}


def cpu_lines(result: dict[str, Any], machine: dict[str, Any], cpu_facts: dict[str, Any],
              load_avg: Optional[float], omp_threads: Optional[str]) -> list[dict[str, Any]]:
    if not result.get("ok"):
        return [dict(line("cpu.gemm.fp32", "cpu_gemm", "CPU GEMM FP32", "GFLOPS", None,
                          machine.get("peak_gflops"), ""), error=result.get("error"))]
    flags = set(strings(cpu_facts.get("flags")))
    machine_name = str(cpu_facts.get("machine") or "")
    cores = machine.get("cores")
    reasons = []
    if machine_name in ("x86_64", "amd64") and flags and "fma" not in flags:
        reasons.append("a CPU without FMA")
    if load_avg is not None and cores and load_avg > cores * 0.5:
        reasons.append(f"other processes were using the CPU (load average {load_avg:.1f} on "
                       f"{cores} cores)")
    blas = text(result.get("blas"))
    if blas and blas.lower() in ("blas", "reference", "netlib"):
        reasons.append("NumPy uses the slow reference BLAS")
    if omp_threads:
        reasons.append(f"OMP_NUM_THREADS={omp_threads} limits the BLAS threads")
    if machine.get("flops_per_cycle") == 64:
        reasons.append("a CPU with one AVX-512 FMA unit reaches half this peak")
    reasons.append("clocks below the rated maximum (power limits, AVX frequency offset, "
                   "thermal throttling)")
    basis = (f"{cores} cores x {machine.get('ghz') or 0:.2f} GHz ({machine.get('clock_source')})"
             f" x {machine.get('flops_per_cycle')} FLOPs/cycle ({machine.get('isa')})")
    return [line("cpu.gemm.fp32", "cpu_gemm",
                 f"CPU GEMM FP32 (NumPy {result.get('numpy')}, {blas or 'BLAS'})", "GFLOPS",
                 number(result.get("gflops")), machine.get("peak_gflops"), basis,
                 "; or ".join(reasons[:3]), n=result.get("n"))]


def _nvml_gpu(facts: dict[str, Any], name: Optional[str]) -> dict[str, Any]:
    gpus = dicts(as_dict(facts.get("nvidia")).get("gpus"))
    for gpu in gpus:
        if name and text(gpu.get("name")) == name:
            return gpu
    return gpus[0] if len(gpus) == 1 else {}


def gpu_lines(result: dict[str, Any], facts: dict[str, Any], quick: bool
              ) -> list[dict[str, Any]]:
    from envdoctor.hardware.gpus import peak_row

    if not result.get("ok"):
        return [{"id": "gpu", "kind": "gpu_matmul", "label": "GPU", "measured": None,
                 "error": result.get("error"), "verdict": "not measured"}]
    device = text(result.get("device")) or "cuda"
    vendor = text(result.get("vendor")) or "nvidia"
    index = int(number(result.get("index")) or 0)
    name = text(result.get("name"))
    nvml = _nvml_gpu(facts, name) if device == "cuda" and vendor == "nvidia" else {}
    gpu_index = int(number(nvml.get("index")) or 0) if nvml else index
    row = peak_row(vendor, name) if device == "cuda" else None
    reasons = [THROTTLE[r] for r in strings(nvml.get("clock_event_reasons")) if r in THROTTLE]
    lines = []
    order = {"fp32": 0, "tf32": 1, "fp16": 2, "bf16": 3}
    for dtype, measured in sorted(as_dict(result.get("matmul")).items(),
                                  key=lambda item: order.get(item[0], 9)):
        value = number(as_dict(measured).get("tflops"))
        peak = number(row.get(f"{dtype}_tflops")) if row else None
        limiter = ("throttling: " + ", ".join(sorted(set(reasons)))) if reasons else (
            "small matrices in --quick mode" if quick else
            "a power cap or clocks below boost (nvidia-smi -q -d PERFORMANCE,POWER)")
        if as_dict(nvml.get("mig_mode")).get("current"):
            limiter = "a MIG slice has only part of the GPU"
        basis = (f"{row['model']} datasheet ({dtype.upper()})" if row else
                 "no datasheet row for this model" if device == "cuda" else
                 "test mode on the CPU device: no peak")
        entry = line(f"gpu{gpu_index}.matmul.{dtype}", "gpu_matmul",
                     f"{name or 'GPU'} matmul {dtype.upper()}", "TFLOPS", value, peak, basis,
                     limiter, gpu_index=gpu_index, vendor=vendor, dtype=dtype,
                     device=device, library=result.get("library"))
        if row:
            entry["peak_source"] = row.get("source")
        for key in ("error", "skipped"):
            if as_dict(measured).get(key):
                entry[key] = as_dict(measured)[key]
        lines.append(entry)
    transfers = as_dict(result.get("transfers"))
    pcie = as_dict(nvml.get("pcie"))
    lanes = _table()["pcie_lane_gb_s"]
    gen_max = number(pcie.get("gen_max")) or number(pcie.get("gen_current"))
    width_max = number(pcie.get("width_max")) or number(pcie.get("width_current"))
    peak = lanes.get(str(int(gen_max))) * width_max if gen_max and width_max and \
        str(int(gen_max)) in lanes else None
    limiter_parts = []
    width_cur, gen_cur = number(pcie.get("width_current")), number(pcie.get("gen_current"))
    if width_cur and width_max and width_cur < width_max:
        limiter_parts.append(f"the link runs at x{width_cur} of x{width_max}")
    if gen_cur and gen_max and gen_cur < gen_max:
        limiter_parts.append(f"PCIe gen {gen_cur} of {gen_max} (GPUs lower it when idle; if "
                             "it stays there, check the slot and BIOS)")
    limiter = "; ".join(limiter_parts) or "pageable memory, a shared PCIe switch or a far " \
                                          "NUMA node"
    for direction in ("h2d", "d2h"):
        measured = number(as_dict(transfers.get(direction)).get("gb_s"))
        if measured is None and not transfers.get("skipped") and not transfers.get("error"):
            continue
        entry = line(f"gpu{gpu_index}.{direction}", "gpu_transfer",
                     f"pinned {'host to device' if direction == 'h2d' else 'device to host'}",
                     "GB/s", measured, peak,
                     f"PCIe gen {int(gen_max)} x{int(width_max)}" if peak else
                     "PCIe link unknown", limiter, gpu_index=gpu_index, direction=direction)
        for key in ("error", "skipped"):
            if transfers.get(key):
                entry[key] = transfers[key]
        lines.append(entry)
    return lines


STORAGE_LIMITERS = {"hdd": "a rotating hard disk", "network": "the network link or file server",
                    "object_store": "an object-store mount (HTTP per request)",
                    "virtual": "the cloud disk's provisioned throughput",
                    "overlay": "the container's overlay layer"}


def storage_lines(result: dict[str, Any], storage: dict[str, Any]) -> list[dict[str, Any]]:
    from envdoctor.system.units import thresholds

    kind = text(storage.get("kind")) or "unknown"
    device_kind = text(as_dict(storage.get("device")).get("kind"))
    rows = {r["kind"]: r for r in thresholds()["storage_kinds"]["rows"]}
    row = rows.get(kind) or rows.get(device_kind or "")
    if not result.get("ok"):
        return [dict(line("storage.read", "storage_read", "sequential read", "MB/s", None,
                          None, ""), error=result.get("error"))]
    limiter = STORAGE_LIMITERS.get(kind, "a slow or busy device")
    if result.get("cache_bypass") == "none":
        limiter += "; the page cache was not bypassed, so this may be optimistic"
    entry = line("storage.read", "storage_read", f"sequential read in {storage.get('data_path')}",
                 "MB/s", number(result.get("mb_s")),
                 row["expected_mb_s"] if row else None,
                 f"what {row['label']} should deliver" if row else f"no expectation for {kind}",
                 limiter, storage_kind=kind, cache_bypass=result.get("cache_bypass"),
                 bytes=result.get("bytes"))
    if row:
        entry["peak_source"] = row["source"]
    return [entry]
