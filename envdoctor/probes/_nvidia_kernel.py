"""Kernel-side NVIDIA facts (Linux): module version, nouveau, PCI devices, /dev nodes, WSL2.

Everything is read through the probe context (``ctx.path`` / ``ctx.read_text``) so
tests point ``ENVDOCTOR_SYSROOT`` at a fake /proc, /sys, /dev, /usr tree. No
subprocess, no library loading: this part is cheap and runs first, and its answer to
"is there any sign of an NVIDIA GPU?" decides whether NVML is even imported.
"""

from __future__ import annotations

import os
import re
from typing import Any, Optional

from envdoctor.probes import ProbeContext

NVIDIA_VENDOR = "0x10de"
_MODULE_VERSION = re.compile(r"Kernel Module(?:\s+for\s+\S+)?\s+(\d+\.\d+(?:\.\d+)*)")
LIB_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
            "/lib/x86_64-linux-gnu", "/lib64")
WSL_LIB = "/usr/lib/wsl/lib"
NVIDIA_MODULES = ("nvidia", "nvidia_uvm", "nvidia_drm", "nvidia_modeset", "nouveau")


def parse_module_version(text: Optional[str]) -> dict:
    """/proc/driver/nvidia/version -> {"version": "535.104.05", "flavor": "open"|...}."""
    if not text:
        return {"version": None, "flavor": None, "line": None}
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    match = _MODULE_VERSION.search(first)
    flavor = "open" if "Open Kernel Module" in first else ("proprietary" if match else None)
    return {"version": match.group(1) if match else None, "flavor": flavor,
            "line": first[:200] or None}


def _read(ctx: ProbeContext, path: str) -> Optional[str]:
    value = ctx.read_text(path)
    return value.strip() if value is not None else None


def pci_devices(ctx: ProbeContext) -> list[dict]:
    """NVIDIA display-class devices (VGA 0x0300, 3D 0x0302) under /sys/bus/pci/devices."""
    base = ctx.path("/sys/bus/pci/devices")
    try:
        entries = sorted(os.listdir(base))
    except OSError:
        return []
    found = []
    for entry in entries:
        sys_dir = f"/sys/bus/pci/devices/{entry}"
        if (_read(ctx, f"{sys_dir}/vendor") or "").lower() != NVIDIA_VENDOR:
            continue
        klass = (_read(ctx, f"{sys_dir}/class") or "").lower()
        if not klass.startswith("0x03"):
            continue  # the GPU's audio or USB function
        driver = None
        try:
            driver = os.path.basename(os.readlink(ctx.path(f"{sys_dir}/driver")))
        except OSError:
            driver = None
        found.append({"address": entry, "device_id": _read(ctx, f"{sys_dir}/device"),
                      "class": klass, "driver": driver})
    return found


def loaded_modules(ctx: ProbeContext) -> Optional[list[str]]:
    text = ctx.read_text("/proc/modules")
    if text is None:
        return None
    names = {line.split()[0] for line in text.splitlines() if line.strip()}
    return sorted(n for n in names if n in NVIDIA_MODULES)


def dev_nodes(ctx: ProbeContext) -> list[dict]:
    base = ctx.path("/dev")
    try:
        names = sorted(n for n in os.listdir(base) if n.startswith("nvidia"))
    except OSError:
        return []
    nodes = []
    for name in names:
        path = os.path.join(base, name)
        if os.path.isdir(path):
            continue  # /dev/nvidia-caps
        nodes.append({"name": name, "accessible": os.access(path, os.R_OK | os.W_OK)})
    return nodes


def userspace_versions(ctx: ProbeContext, dirs: tuple[str, ...] = LIB_DIRS) -> dict:
    """The driver version in libnvidia-ml.so.<version> / libcuda.so.<version> file names."""
    versions: dict[str, list[dict]] = {"libnvidia-ml": [], "libcuda": []}
    seen: set[str] = set()
    for d in dirs:
        try:
            names = os.listdir(ctx.path(d))
        except OSError:
            continue
        for name in names:
            for lib in versions:
                match = re.fullmatch(re.escape(lib) + r"\.so\.(\d+\.\d+(?:\.\d+)*)", name)
                if match:
                    real = os.path.realpath(os.path.join(ctx.path(d), name))
                    if real in seen:
                        continue
                    seen.add(real)
                    versions[lib].append({"version": match.group(1), "path": f"{d}/{name}"})
    return versions


def wsl_facts(ctx: ProbeContext) -> Optional[dict]:
    """WSL2's GPU path: the Windows driver's libraries in /usr/lib/wsl/lib, and any Linux
    NVIDIA driver or toolkit libcuda inside the distribution that would shadow them."""
    wsl_dir = ctx.path(WSL_LIB)
    if not os.path.isdir(wsl_dir):
        return None
    try:
        names = sorted(os.listdir(wsl_dir))
    except OSError:
        names = []
    shadowing = []
    for d in LIB_DIRS:
        try:
            entries = sorted(os.listdir(ctx.path(d)))
        except OSError:
            continue
        for name in entries:
            if not re.match(r"lib(cuda|nvidia-ml)\.so(\.|$)", name):
                continue
            full = os.path.join(ctx.path(d), name)
            target = os.path.realpath(full)
            if os.path.realpath(wsl_dir) in target:
                continue
            shadowing.append(f"{d}/{name}")
    return {
        "lib_dir": WSL_LIB,
        "libcuda": any(n.startswith("libcuda.so") for n in names),
        "libnvidia_ml": any(n.startswith("libnvidia-ml.so") for n in names),
        "nvidia_smi": "nvidia-smi" in names,
        "dxg": os.path.exists(ctx.path("/dev/dxg")),
        "shadowing": shadowing,
    }


def kernel_facts(ctx: ProbeContext) -> dict[str, Any]:
    version_text = ctx.read_text("/proc/driver/nvidia/version")
    module = parse_module_version(version_text)
    modules = loaded_modules(ctx)
    facts: dict[str, Any] = {
        "proc_driver": os.path.isdir(ctx.path("/proc/driver/nvidia")),
        "module_version": module["version"],
        "module_flavor": module["flavor"],
        "module_version_line": module["line"],
        "modules_loaded": modules,
        "nouveau_loaded": (("nouveau" in modules) if modules is not None else None)
        or os.path.isdir(ctx.path("/sys/module/nouveau")),
        "pci_devices": pci_devices(ctx),
        "dev_nodes": dev_nodes(ctx),
        "wsl": wsl_facts(ctx),
        "userspace": None,
    }
    if any_sign(facts):  # listing the library directories costs; only when worth it
        facts["userspace"] = userspace_versions(ctx)
    if facts["module_version"] is None:
        sys_version = _read(ctx, "/sys/module/nvidia/version")
        if sys_version:
            facts["module_version"] = sys_version
    return facts


def any_sign(kernel: dict) -> bool:
    """Any trace of NVIDIA hardware or driver in the kernel facts."""
    wsl = kernel.get("wsl") or {}
    return bool(kernel.get("pci_devices") or kernel.get("proc_driver")
                or kernel.get("dev_nodes") or kernel.get("module_version")
                or (kernel.get("modules_loaded") and "nvidia" in kernel["modules_loaded"])
                or wsl.get("libnvidia_ml") or wsl.get("nvidia_smi"))
