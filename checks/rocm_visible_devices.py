"""rocm.visible_devices: which AMD GPUs ROCm programs will see, from ROCR_VISIBLE_DEVICES,
HIP_VISIBLE_DEVICES, CUDA_VISIBLE_DEVICES and GPU_DEVICE_ORDINAL. Reads facts only."""

from __future__ import annotations

from typing import Any, Optional

from envdoctor.facts import as_dict
from envdoctor.registry import register
from envdoctor.result import INFO, WARNING, Finding, Outcome, outcome, passed, skipped

from . import _rocm as rocm

CODES = {
    "rocm.W030": "A GPU visibility variable hides every AMD GPU (empty, -1, or only indices "
                 "that do not exist).",
    "rocm.W031": "A GPU visibility variable names an AMD GPU index that does not exist.",
    "rocm.W032": "HIP_VISIBLE_DEVICES and CUDA_VISIBLE_DEVICES are both set and differ.",
    "rocm.I030": "ROCR_VISIBLE_DEVICES and HIP_VISIBLE_DEVICES are both set: HIP's indices "
                 "count only the GPUs ROCR_VISIBLE_DEVICES left.",
    "rocm.I031": "CUDA_VISIBLE_DEVICES is set on an AMD machine: HIP reads it like "
                 "HIP_VISIBLE_DEVICES.",
}

SOURCE = ("https://rocm.docs.amd.com/projects/HIP/en/latest/reference/env_variables.html "
          "(GPU isolation variables)")
ORDER = ("ROCR_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL", "HIP_VISIBLE_DEVICES",
         "CUDA_VISIBLE_DEVICES")


def _entries(value: str) -> list[str]:
    return [e.strip() for e in value.split(",")]


def _indices(value: str) -> Optional[list[int]]:
    """The integer entries, or None when any entry is a UUID (GPU-...) we cannot count."""
    out = []
    for entry in _entries(value):
        if entry.upper().startswith("GPU-"):
            return None
        try:
            out.append(int(entry))
        except ValueError:
            out.append(-1)
    return out


@register("rocm.visible_devices", title="AMD GPU visibility variables",
          tags=("gpu", "amd", "rocm", "env"), needs=("amd", "env"), codes=CODES)
def check_visible_devices(facts: dict[str, Any]) -> Outcome:
    """ROCm has four layers of GPU selection, applied in order:

    - ROCR_VISIBLE_DEVICES (indices or GPU-<uuid>): the ROCm runtime itself; every
      ROCm program. AMD recommends it on Linux.
    - GPU_DEVICE_ORDINAL: HIP and OpenCL (ROCclr).
    - HIP_VISIBLE_DEVICES, or CUDA_VISIBLE_DEVICES (HIP reads both, for portability):
      HIP programs, torch included. Its indices count the GPUs left by the layers above:
      ROCR_VISIBLE_DEVICES=2,3 with HIP_VISIBLE_DEVICES=0 selects physical GPU 2.

    An empty value or -1 hides every GPU, which reads as "no GPU found". Source: the HIP
    environment variables reference, and torch's _parse_visible_devices (ROCm/pytorch
    PR 1895), which applies ROCR first.
    """
    gpus = rocm.amd_gpus(facts)
    if not gpus:
        return skipped("no AMD GPU found")
    variables = as_dict(as_dict(facts.get("env")).get("variables"))
    values = {name: str(variables[name]) for name in ORDER if variables.get(name) is not None}
    if not values:
        return passed(f"no visibility variable set: ROCm programs see all {len(gpus)} "
                      "AMD GPU(s)", {"count": len(gpus)})
    findings: list[Finding] = []
    count = len(gpus)
    for name in ORDER:
        if name not in values:
            continue
        value = values[name]
        if name in ("HIP_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES") and \
                "ROCR_VISIBLE_DEVICES" in values:
            rocr = _entries(values["ROCR_VISIBLE_DEVICES"])
            available = len([e for e in rocr if e])
        else:
            available = count
        indices = _indices(value)
        if value.strip() == "" or (indices is not None and indices
                                   and all(i < 0 or i >= available for i in indices)):
            findings.append(Finding(
                "rocm.W030", WARNING,
                f"{name}={value!r} hides every AMD GPU ({available} available at that "
                "layer): ROCm programs report no GPU",
                hint=f"`unset {name}`, or list existing indices (0..{available - 1}); "
                     f"source: {SOURCE}", details={"variable": name, "value": value}))
        elif indices is not None and any(i < 0 or i >= available for i in indices):
            bad = [i for i in indices if i < 0 or i >= available]
            findings.append(Finding(
                "rocm.W031", WARNING,
                f"{name}={value!r} names GPU index {', '.join(map(str, bad))}, but only "
                f"{available} GPU(s) exist at that layer (indices 0..{available - 1})",
                hint=f"fix {name}; `amd-smi list` shows the GPUs; source: {SOURCE}",
                details={"variable": name, "value": value, "bad": bad}))
    hip, cuda = values.get("HIP_VISIBLE_DEVICES"), values.get("CUDA_VISIBLE_DEVICES")
    if hip is not None and cuda is not None and hip.replace(" ", "") != cuda.replace(" ", ""):
        findings.append(Finding(
            "rocm.W032", WARNING,
            f"HIP_VISIBLE_DEVICES={hip!r} and CUDA_VISIBLE_DEVICES={cuda!r} differ: HIP reads "
            "both, and which one wins has changed between ROCm releases",
            hint=f"set only one of them (on Linux AMD recommends ROCR_VISIBLE_DEVICES); "
                 f"source: {SOURCE}"))
    elif cuda is not None and hip is None:
        findings.append(Finding(
            "rocm.I031", INFO,
            f"CUDA_VISIBLE_DEVICES={cuda!r} also selects AMD GPUs: HIP reads it like "
            "HIP_VISIBLE_DEVICES", hint=f"source: {SOURCE}"))
    if "ROCR_VISIBLE_DEVICES" in values and (hip is not None or cuda is not None):
        findings.append(Finding(
            "rocm.I030", INFO,
            f"ROCR_VISIBLE_DEVICES={values['ROCR_VISIBLE_DEVICES']!r} applies first; "
            f"HIP_VISIBLE_DEVICES/CUDA_VISIBLE_DEVICES={hip if hip is not None else cuda!r} "
            "then counts only the GPUs it left (index 0 is the first GPU ROCR kept)",
            hint=f"set only ROCR_VISIBLE_DEVICES to select by physical index; source: {SOURCE}"))
    summary = "; ".join(f"{k}={v!r}" for k, v in values.items())
    details = {"variables": values, "count": count}
    if not findings:
        return passed(summary, details)
    return outcome(summary, findings, details)
