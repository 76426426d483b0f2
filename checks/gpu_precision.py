"""gpu.precision: which number formats each GPU runs fast (FP16, BF16, TF32, FP8, FP64),
from its architecture, with the advice that follows; a warning only where the facts show
a mistake (a measured bench result, a configured variable)."""

from __future__ import annotations

from typing import Any, Optional

from envdoctor.facts import as_dict, dicts, number, text
from envdoctor.registry import register
from envdoctor.result import INFO, WARNING, Finding, outcome, passed, skipped

CODES = {
    "gpu.I301": "What this GPU's architecture does with FP16, BF16, TF32, FP8 and FP64, and "
                "the mixed-precision advice that follows.",
    "gpu.I302": "FP16 arithmetic runs at 1/64 of FP32 on this GPU (sm_61, such as the GTX "
                "1070): autocast / half precision makes training slower, not faster.",
    "gpu.I303": "This GPU's architecture is not in envdoctor's precision table; nothing is "
                "said about its number formats.",
    "gpu.W301": "NVIDIA_TF32_OVERRIDE=0 is set: TF32 tensor cores are switched off for every "
                "library on a GPU that has them.",
    "gpu.W302": "A bench run measured half-precision matrix multiplication slower than FP32 "
                "on this GPU: mixed precision costs speed here.",
}

PYTORCH_TF32 = ("PyTorch runs FP32 matmuls without TF32 by default since 1.12: "
                "torch.set_float32_matmul_precision('high') turns it on (cuDNN convolutions "
                "use TF32 by default); TensorFlow 2.4+ uses TF32 by default")


def _fraction(ratio: Optional[float]) -> Optional[str]:
    if ratio is None:
        return None
    if ratio >= 1:
        return f"{ratio:g}x"
    return f"1/{round(1 / ratio)}"


def describe(row: dict[str, Any]) -> tuple[str, str]:
    """(what the formats are, the advice) for one gpu_precision.json row."""
    tensor = row.get("tensor_cores")
    parts = [f"{row.get('family')}"]
    parts.append("tensor cores (" + ", ".join(tensor) + ")" if tensor else "no tensor cores")
    fp16 = _fraction(number(row.get("fp16_ratio")))
    if fp16:
        parts.append(f"FP16 math {fp16} of FP32")
    fp64 = _fraction(number(row.get("fp64_ratio")))
    if fp64:
        parts.append(f"FP64 {fp64} of FP32")
    what = "; ".join(parts)
    advice: list[str] = []
    if row.get("fp8"):
        advice.append("FP8 training and inference through NVIDIA Transformer Engine or "
                      "torchao")
    if row.get("bf16"):
        advice.append("mixed precision in BF16 (torch.autocast(dtype=torch.bfloat16), no "
                      "loss scaling needed)")
    elif tensor:
        advice.append("mixed precision in FP16 with loss scaling (torch.autocast + "
                      "torch.amp.GradScaler); BF16 is emulated and slow here")
    elif (number(row.get("fp16_ratio")) or 0) >= 1:
        advice.append("FP16 halves memory but gains little speed without tensor cores")
    if row.get("tf32"):
        advice.append(PYTORCH_TF32)
    ratio64 = number(row.get("fp64_ratio"))
    if ratio64 is not None and ratio64 < 0.1:
        advice.append("double-precision (FP64) code runs at a small fraction of FP32 here; "
                      "data-centre GPUs such as the A100 or H100 run it at 1/2")
    return what, "; ".join(advice)


def _measured(facts: dict[str, Any], vendor: str, index: int) -> dict[str, float]:
    """dtype -> TFLOPS that `envdoctor bench` measured on this GPU (empty without a bench)."""
    found: dict[str, float] = {}
    for line in dicts(as_dict(facts.get("bench")).get("lines")):
        if text(line.get("kind")) != "gpu_matmul" or number(line.get("gpu_index")) != index:
            continue
        if (text(line.get("vendor")) or "nvidia") != vendor:
            continue
        dtype, value = text(line.get("dtype")), number(line.get("measured"))
        if dtype and value is not None and value > 0:
            found[dtype] = float(value)
    return found


@register("gpu.precision", title="GPU number formats (FP16, BF16, TF32, FP8, FP64)",
          tags=("gpu", "performance"), needs=("nvidia", "env"), uses=("amd", "apple", "bench"),
          codes=CODES)
def check_precision(facts):
    """Which number formats each GPU runs fast, from its architecture (the CUDA compute
    capability on NVIDIA; the table is vendor-neutral).

    Common surprises: a Pascal GeForce card (sm_61: GTX 1060/1070/1080, Tesla P40) does
    FP16 math at 1/64 of its FP32 rate, so `torch.autocast` makes it slower; tensor cores
    start at Volta (sm_70); BF16 and TF32 at Ampere (sm_80); FP8 at Ada (sm_89) and Hopper
    (sm_90). GeForce cards run FP64 at 1/32 or 1/64 of FP32, the A100/H100 at 1/2.
    PyTorch leaves TF32 off for FP32 matmuls since 1.12; NVIDIA_TF32_OVERRIDE=0 turns it
    off for every library. With a bench report (`envdoctor bench`), a half-precision
    matmul measured slower than FP32 is a warning.
    Table: envdoctor/data/gpu_precision.json (sourced rows, keyed by vendor and
    architecture)."""
    from envdoctor.hardware.gpus import gpus, precision_row

    found = gpus(facts)
    if not found:
        return skipped("no GPU found")
    variables = as_dict(as_dict(facts.get("env")).get("variables"))
    override = text(variables.get("NVIDIA_TF32_OVERRIDE"))
    findings: list[Finding] = []
    per_gpu: list[dict[str, Any]] = []
    for gpu in found:
        row = precision_row(gpu.vendor, gpu.arch_key)
        per_gpu.append({"index": gpu.index, "vendor": gpu.vendor, "name": gpu.name,
                        "arch_key": gpu.arch_key,
                        **({k: row.get(k) for k in ("family", "fp16_ratio", "fp64_ratio",
                                                     "tensor_cores", "bf16", "tf32", "fp8")}
                           if row else {})})
        if row is None:
            findings.append(Finding(
                "gpu.I303", INFO,
                f"{gpu.label}: architecture {gpu.arch_key or 'unknown'} is not in the "
                "precision table", hint="its datasheet lists the formats it accelerates"))
            continue
        what, advice = describe(row)
        findings.append(Finding("gpu.I301", INFO, f"{gpu.label}: {what}", hint=advice,
                                details={"gpu": gpu.index, "arch_key": gpu.arch_key}))
        fp16_ratio = number(row.get("fp16_ratio"))
        if fp16_ratio is not None and fp16_ratio < 0.1:
            findings.append(Finding(
                "gpu.I302", INFO,
                f"{gpu.label}: FP16 arithmetic runs at {_fraction(fp16_ratio)} of FP32 on "
                f"compute capability {gpu.arch_key}; autocast / .half() makes it slower",
                hint="train in FP32; use FP16 only to store weights when memory is short",
                details={"gpu": gpu.index}))
        if override is not None and override.strip() == "0" and row.get("tf32"):
            findings.append(Finding(
                "gpu.W301", WARNING,
                f"{gpu.label} has TF32 tensor cores but NVIDIA_TF32_OVERRIDE=0 switches "
                "them off for cuBLAS and cuDNN in every framework",
                hint="unset NVIDIA_TF32_OVERRIDE unless you need bit-exact FP32 results",
                details={"gpu": gpu.index}))
        measured = _measured(facts, gpu.vendor, gpu.index)
        fp32 = measured.get("fp32")
        slower = {d: v for d, v in measured.items() if d in ("fp16", "bf16") and fp32
                  and v < fp32}
        if slower:
            shown = ", ".join(f"{d.upper()} {v:.3g}" for d, v in sorted(slower.items()))
            findings.append(Finding(
                "gpu.W302", WARNING,
                f"{gpu.label}: the bench measured {shown} TFLOPS against FP32 {fp32:.3g} "
                "TFLOPS: half precision is slower here",
                hint="do not enable autocast/half precision for speed on this GPU; keep FP32",
                details={"gpu": gpu.index, "measured_tflops": measured}))
    details = {"gpus": per_gpu}
    if any(f.level >= WARNING for f in findings):
        return outcome("a setting or a measurement works against this GPU's number formats",
                       findings, details)
    names = ", ".join(sorted({p.get("family") or str(p.get("arch_key")) for p in per_gpu}))
    return passed(f"{len(found)} GPU(s): {names}", details, findings)
