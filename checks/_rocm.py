"""Shared logic of the rocm.* checks (pure functions of facts and data files)."""

from __future__ import annotations

import re
from typing import Any, Optional

from envdoctor.facts import as_dict, dicts, text

ROCM_INSTALL_URL = "https://rocm.docs.amd.com/projects/install-on-linux/en/latest/"
TORCH_ROCM_URL = "https://pytorch.org/get-started/locally/"
GROUP_FIX = "sudo usermod -aG render,video $USER"


def support() -> dict:
    from envdoctor.data import load

    return load("rocm_support.json")


def amd(facts: dict) -> dict:
    return as_dict(facts.get("amd"))


def amd_gpus(facts: dict) -> list[dict]:
    return dicts(amd(facts).get("gpus"))


def amd_present(facts: dict) -> bool:
    return bool(amd(facts).get("present") or amd_gpus(facts))


def nvidia_present(facts: dict) -> bool:
    nvidia = as_dict(facts.get("nvidia"))
    return bool(nvidia.get("gpus") or as_dict(nvidia.get("kernel")).get("pci_devices"))


def kernel(facts: dict) -> dict:
    return as_dict(amd(facts).get("kernel"))


def installed(facts: dict) -> dict[str, dict]:
    frameworks = as_dict(facts.get("frameworks"))
    return {k: as_dict(v) for k, v in as_dict(frameworks.get("installed")).items()}


def live(facts: dict, name: str) -> dict:
    return as_dict(as_dict(as_dict(facts.get("frameworks")).get("live")).get(name))


def rocm_builds(facts: dict) -> dict[str, Optional[str]]:
    """Frameworks installed as ROCm builds -> the ROCm version each was built for
    ("6.2"), or None when the build does not say."""
    found: dict[str, Optional[str]] = {}
    frameworks = installed(facts)
    torch = frameworks.get("torch", {})
    if text(torch.get("hip")):
        found["torch"] = major_minor(torch["hip"])
    tf = frameworks.get("tensorflow", {})
    if tf.get("is_rocm_build") or tf.get("distribution") == "tensorflow-rocm":
        found["tensorflow"] = tensorflow_rocm_version(tf.get("version"))
    jax = frameworks.get("jax", {})
    if str(jax.get("build") or "").startswith("rocm"):
        digits = str(jax["build"])[4:]
        found["jax"] = f"{digits[0]}.{digits[1:]}" if len(digits) >= 2 else None
    return found


def major_minor(version: Any) -> Optional[str]:
    match = re.match(r"(\d+)\.(\d+)", str(version or ""))
    return f"{match.group(1)}.{match.group(2)}" if match else None


def tensorflow_rocm_version(version: Any) -> Optional[str]:
    """tensorflow-rocm writes the ROCm release in its fourth component: 2.14.0.600 is
    TensorFlow 2.14.0 for ROCm 6.0.0, 2.13.0.570 for ROCm 5.7.0."""
    match = re.match(r"\d+\.\d+\.\d+\.(\d)(\d)\d", str(version or ""))
    return f"{match.group(1)}.{match.group(2)}" if match else None


def uses_rocm(facts: dict) -> bool:
    """Any sign that this machine is meant to compute on its AMD GPU: ROCm installed, a
    ROCm build of a framework, ROCm's tools, or no NVIDIA GPU to use instead. An AMD
    integrated GPU beside an NVIDIA card that only drives the display is not."""
    info = amd(facts)
    tools = as_dict(info.get("tools"))
    return bool(info.get("rocm_path") or rocm_builds(facts) or any(tools.values())
                or not nvidia_present(facts))


def gpu_label(gpu: dict) -> str:
    name = text(gpu.get("name")) or "AMD GPU"
    target = text(gpu.get("gfx_target"))
    return f"GPU {gpu.get('index')} ({name}{', ' + target if target else ''})"


def gpu_names(gpus: list[dict]) -> str:
    counts: dict[str, int] = {}
    for gpu in gpus:
        name = text(gpu.get("name")) or "AMD GPU"
        target = text(gpu.get("gfx_target"))
        label = f"{name} ({target})" if target else name
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{n} x {label}" if n > 1 else label for label, n in counts.items())
