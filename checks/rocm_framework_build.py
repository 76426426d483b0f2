"""rocm.framework_build: on an AMD GPU machine, are the frameworks ROCm builds, and do
they match the ROCm that is installed?"""

from __future__ import annotations

from typing import Any

from envdoctor.facts import dicts, text
from envdoctor.registry import register
from envdoctor.result import ERROR, WARNING, Finding, Outcome, outcome, passed, skipped

from . import _rocm as rocm

CODES = {
    "rocm.E010": "A CUDA build of a framework on a machine whose GPUs are AMD: it cannot use "
                 "them (it looks for NVIDIA's driver).",
    "rocm.E011": "A ROCm build of a framework sees no AMD GPU.",
    "rocm.W010": "A CPU-only build of torch or TensorFlow on a machine with an AMD GPU.",
    "rocm.W011": "A framework was built for a different ROCm major version than the one "
                 "installed under /opt/rocm.",
}

NAMES = {"torch": "PyTorch", "tensorflow": "TensorFlow", "jax": "JAX", "cupy": "CuPy"}


def torch_rocm_command(rocm_version: Any) -> str:
    """pip's command for torch's ROCm wheels (their index is named after ROCm major.minor)."""
    level = rocm.major_minor(rocm_version) or "6.2"
    return ("pip install --force-reinstall torch --index-url "
            f"https://download.pytorch.org/whl/rocm{level}")


INSTALL = {
    "tensorflow": "pip uninstall tensorflow && pip install tensorflow-rocm (or use the "
                  "rocm/tensorflow container)",
    "jax": "pip uninstall jax-cuda12-plugin jax-cuda12-pjrt && pip install "
           "'jax[rocm]' (see https://github.com/ROCm/jax)",
    "cupy": "pip uninstall cupy-cuda12x && pip install cupy-rocm-5-0 (or build CuPy for "
            "ROCm: https://docs.cupy.dev/en/stable/install.html#using-cupy-on-amd-gpu)",
}


def _cuda_builds(frameworks: dict[str, dict]) -> dict[str, str]:
    found = {}
    torch = frameworks.get("torch", {})
    if text(torch.get("cuda")):
        found["torch"] = f"{torch.get('version')} (CUDA {torch['cuda']})"
    tf = frameworks.get("tensorflow", {})
    if tf.get("is_cuda_build"):
        found["tensorflow"] = f"{tf.get('version')} (CUDA {tf.get('cuda') or '?'})"
    jax = frameworks.get("jax", {})
    if str(jax.get("build") or "").startswith("cuda"):
        found["jax"] = f"{jax.get('version')} ({jax['build']} plugin)"
    cupy = frameworks.get("cupy", {})
    if str(cupy.get("build") or "").startswith("cuda"):
        found["cupy"] = f"{cupy.get('distribution')} {cupy.get('version')}"
    return found


@register("rocm.framework_build", title="Framework builds for ROCm",
          tags=("gpu", "amd", "rocm", "framework"), needs=("amd", "frameworks"), uses=("nvidia",),
          codes=CODES)
def check_framework_build(facts: dict[str, Any]) -> Outcome:
    """Are the installed frameworks built for ROCm on this AMD GPU machine?

    A CUDA build (torch `+cu126`, TensorFlow from `pip install tensorflow`, JAX's
    jax-cuda12 plugin, cupy-cuda12x) cannot use an AMD GPU: it looks for NVIDIA's
    driver and reports "no GPU". This is the cause whenever the machine's only GPUs are
    AMD ones. The fixes: torch from https://download.pytorch.org/whl/rocmX.Y (the
    index is named after the ROCm version), tensorflow-rocm (AMD's fork; its fourth
    version component is the ROCm release: 2.14.0.600 is for ROCm 6.0), JAX's ROCm
    plugin (jax-rocm60-plugin), cupy-rocm.

    torch's ROCm wheels carry their own ROCm user-space libraries; a different ROCm
    under /opt/rocm is then only a warning (extensions built against /opt/rocm and
    the amdgpu driver's support window follow the system's ROCm).
    """
    if not rocm.amd_present(facts):
        return skipped("no AMD GPU found")
    frameworks = rocm.installed(facts)
    if not frameworks:
        return skipped("no deep-learning framework installed")
    info = rocm.amd(facts)
    nvidia = rocm.nvidia_present(facts)
    builds = rocm.rocm_builds(facts)
    findings: list[Finding] = []
    label = rocm.gpu_names(rocm.amd_gpus(facts)) or "an AMD GPU"

    if not nvidia:
        for name, build in _cuda_builds(frameworks).items():
            if name in builds:
                continue
            hint = (torch_rocm_command(info.get("rocm_version")) if name == "torch"
                    else INSTALL.get(name, ""))
            findings.append(Finding(
                "rocm.E010", ERROR,
                f"{NAMES.get(name, name)} {build} is a CUDA build, and this machine's GPU is "
                f"{label}: it cannot use an AMD GPU and reports no GPU. This is the cause "
                "of 'CUDA not available' / 'no GPU' here",
                hint=hint, details={"framework": name, "build": build}))
        for name in ("torch", "tensorflow"):
            entry = frameworks.get(name)
            if entry and entry.get("build") == "cpu" and name not in builds:
                hint = (torch_rocm_command(info.get("rocm_version")) if name == "torch"
                        else INSTALL["tensorflow"])
                findings.append(Finding(
                    "rocm.W010", WARNING,
                    f"{NAMES[name]} {entry.get('version')} is a CPU-only build: it will not use "
                    f"the AMD GPU ({label})", hint=hint, details={"framework": name}))

    system = rocm.major_minor(info.get("rocm_version"))
    for name, built_for in builds.items():
        if system and built_for and built_for.split(".")[0] != system.split(".")[0]:
            findings.append(Finding(
                "rocm.W011", WARNING,
                f"{NAMES.get(name, name)} was built for ROCm {built_for} and /opt/rocm is ROCm "
                f"{system}: libraries of two ROCm releases meet in one process (extensions "
                "built against /opt/rocm, and an amdgpu driver older than the framework's "
                "ROCm, fail at load or run time)",
                hint=(torch_rocm_command(system) if name == "torch" else
                      f"install the {NAMES.get(name, name)} build for ROCm {system}, or upgrade "
                      f"ROCm to {built_for} ({rocm.ROCM_INSTALL_URL})"),
                details={"framework": name, "built_for": built_for, "system": system}))
        result = rocm.live(facts, name)
        if result.get("status") == "ok" and result.get("cuda_available") is False:
            why = text(result.get("error")) or text(result.get("gpu_error"))
            findings.append(Finding(
                "rocm.E011", ERROR,
                f"{NAMES.get(name, name)} is a ROCm build but sees no AMD GPU"
                + (f": {why}" if why else ""),
                hint="see rocm.driver (driver, /dev/kfd permissions) and rocm.gfx_target (a "
                     "GPU the build has no code for: hipErrorNoBinaryForGpu)",
                details={"framework": name, "error": why}))

    devices = [d for d in dicts(rocm.live(facts, "torch").get("devices"))]
    summary = ", ".join(f"{NAMES.get(n, n)} for ROCm {v or '?'}" for n, v in builds.items())
    summary = summary or "no ROCm build of a framework installed"
    if devices and "torch" in builds:
        summary += f"; torch sees {len(devices)} GPU(s)"
    details = {"rocm_builds": builds, "rocm_version": info.get("rocm_version")}
    if not findings:
        return passed(summary, details)
    return outcome(summary, findings, details)
