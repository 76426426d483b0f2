"""Kernel-side AMD GPU facts (Linux): the amdgpu module, PCI devices, /dev/kfd and
/dev/dri/renderD* (and whether this user may open them), KFD's topology (the gfx target
of each GPU without running anything) and the ROCm install under /opt/rocm*.

Everything goes through the probe context (``ctx.path`` / ``ctx.read_text``), so tests
point ENVDOCTOR_SYSROOT at a fake /sys, /proc, /dev, /opt tree. No subprocess here.
"""

from __future__ import annotations

import glob
import os
import re
from typing import Any, Optional

from envdoctor.amd import gfx
from envdoctor.probes import ProbeContext

AMD_VENDOR = "0x1002"
ROCM_DIRS = ("/opt/rocm", "/opt/rocm-*")


def _read(ctx: ProbeContext, path: str) -> Optional[str]:
    value = ctx.read_text(path)
    return value.strip() if value is not None else None


def pci_devices(ctx: ProbeContext) -> list[dict]:
    """AMD display-class devices (VGA 0x0300, 3D 0x0302, display 0x0380) and the driver
    each is bound to (``amdgpu``, ``radeon``, ``vfio-pci`` or None)."""
    base = ctx.path("/sys/bus/pci/devices")
    try:
        entries = sorted(os.listdir(base))
    except OSError:
        return []
    found = []
    for entry in entries:
        sys_dir = f"/sys/bus/pci/devices/{entry}"
        if (_read(ctx, f"{sys_dir}/vendor") or "").lower() != AMD_VENDOR:
            continue
        klass = (_read(ctx, f"{sys_dir}/class") or "").lower()
        if not klass.startswith("0x03"):
            continue  # the card's audio function, or an AMD chipset device
        try:
            driver = os.path.basename(os.readlink(ctx.path(f"{sys_dir}/driver")))
        except OSError:
            driver = None
        found.append({"address": entry, "device_id": _read(ctx, f"{sys_dir}/device"),
                      "class": klass, "driver": driver})
    return found


def module_facts(ctx: ProbeContext) -> dict[str, Any]:
    """Is amdgpu loaded (/proc/modules, or /sys/module/amdgpu for a built-in driver),
    and its version (/sys/module/amdgpu/version: set by AMD's DKMS driver only)."""
    modules = ctx.read_text("/proc/modules")
    loaded: Optional[bool] = None
    if modules is not None:
        loaded = any(line.split()[:1] == ["amdgpu"] for line in modules.splitlines())
    if not loaded and os.path.isdir(ctx.path("/sys/module/amdgpu")):
        loaded = True
    return {"loaded": loaded, "version": _read(ctx, "/sys/module/amdgpu/version") or None}


def _group_name(gid: int) -> str:
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (ImportError, KeyError, OverflowError):
        return str(gid)


def _node(ctx: ProbeContext, absolute: str) -> dict[str, Any]:
    path = ctx.path(absolute)
    try:
        info = os.stat(path)
    except OSError:
        return {"path": absolute, "exists": False, "accessible": False, "group": None}
    return {"path": absolute, "exists": True,
            "accessible": os.access(path, os.R_OK | os.W_OK),
            "group": _group_name(info.st_gid)}


def device_nodes(ctx: ProbeContext) -> dict[str, Any]:
    """/dev/kfd (the compute interface ROCm needs) and the /dev/dri/renderD* nodes."""
    try:
        names = sorted(n for n in os.listdir(ctx.path("/dev/dri")) if n.startswith("renderD"))
    except OSError:
        names = []
    return {"kfd": _node(ctx, "/dev/kfd"),
            "render": [_node(ctx, f"/dev/dri/{name}") for name in names]}


def user_groups(relevant: set[str]) -> list[str]:
    """Which of ``relevant`` (render, video, the device nodes' groups) this process runs
    with; a group added with usermod shows here only after a new login. Other groups
    are left out: a personal group carries the user's name."""
    try:
        mine = {_group_name(g) for g in os.getgroups()} | {_group_name(os.getegid())}
    except OSError:
        return []
    return sorted(mine & relevant)


def kfd_nodes(ctx: ProbeContext) -> list[dict]:
    """GPU nodes in KFD's topology: /sys/class/kfd/kfd/topology/nodes/N/properties
    (``gfx_target_version 90010``; CPU nodes have 0)."""
    base = "/sys/class/kfd/kfd/topology/nodes"
    try:
        entries = sorted(os.listdir(ctx.path(base)), key=lambda n: (len(n), n))
    except OSError:
        return []
    nodes = []
    for entry in entries:
        text = ctx.read_text(f"{base}/{entry}/properties") or ""
        props = {}
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2:
                props[parts[0]] = parts[1]
        target = gfx.from_kfd(props.get("gfx_target_version"))
        if target:
            nodes.append({"node": entry, "gfx_target": target,
                          "compute_units": _simd_cus(props),
                          "location_id": props.get("location_id")})
    return nodes


def _simd_cus(props: dict) -> Optional[int]:
    try:
        return int(props["simd_count"]) // max(1, int(props.get("simd_per_cu", 1)))
    except (KeyError, ValueError):
        return None


def rocm_install(ctx: ProbeContext) -> dict[str, Any]:
    """The ROCm version under /opt/rocm* (``.info/version``: "6.2.4-120"), newest first;
    /opt/rocm is usually a link to one of the versioned folders."""
    found = []
    seen = set()
    for pattern in ROCM_DIRS:
        for path in sorted(glob.glob(ctx.path(pattern)), reverse=True):
            real = os.path.realpath(path)
            if real in seen or not os.path.isdir(path):
                continue
            seen.add(real)
            absolute = "/" + os.path.relpath(path, ctx.path("/")).replace(os.sep, "/")
            version = None
            for info in (".info/version", ".info/version-dev", ".info/version-utils"):
                text = _read(ctx, f"{absolute}/{info}")
                if text:
                    version = text.splitlines()[0].strip()[:40]
                    break
            if version is None:
                match = re.search(r"rocm-(\d+\.\d+(?:\.\d+)?)", absolute)
                version = match.group(1) if match else None
            found.append({"path": absolute, "version": version})
    default = next((r for r in found if r["path"] == "/opt/rocm"), None)
    chosen = default or (found[0] if found else None)
    return {"installs": found, "path": chosen["path"] if chosen else None,
            "version": short_version(chosen["version"]) if chosen else None}


def short_version(text: Optional[str]) -> Optional[str]:
    """ "6.2.4-120" -> "6.2.4"."""
    match = re.match(r"(\d+\.\d+(?:\.\d+)?)", str(text or ""))
    return match.group(1) if match else None


def kernel_facts(ctx: ProbeContext) -> dict[str, Any]:
    nodes = device_nodes(ctx)
    groups = {"render", "video"} | {n["group"] for n in [nodes["kfd"], *nodes["render"]]
                                    if n.get("group")}
    return {"pci_devices": pci_devices(ctx), "module": module_facts(ctx),
            "nodes": nodes, "user_groups": user_groups(groups),
            "kfd_nodes": kfd_nodes(ctx), "rocm": rocm_install(ctx)}
