"""AMD GPUs and ROCm: facts["amd"].

Order of work, cheapest first:

1. kernel side (Linux /sys, /proc, /dev, /opt/rocm*; :mod:`envdoctor.amd.kernel`): no
   subprocess. PCI devices of vendor 0x1002, the amdgpu module, /dev/kfd and
   /dev/dri/renderD* with this user's access, KFD's topology (gfx target per GPU),
   the ROCm version under /opt/rocm*;
2. when there is any sign of an AMD GPU or ROCm: ``amd-smi static --json`` (ROCm 6+),
   else ``rocm-smi --json``, and ``rocminfo`` when neither named the gfx targets; each
   with what is left of the timeout (:func:`envdoctor.proc.run`).

On a machine with no sign of AMD hardware or ROCm nothing is spawned.

Shape (``None`` when unknown)::

    {"present": bool, "source": "amd-smi" | "rocm-smi" | "rocminfo" | "sysfs" | None,
     "driver_version": "6.3.6", "rocm_version": "6.2.4", "rocm_path": "/opt/rocm",
     "gpus": [{"index", "name", "gfx_target", "pci_bus_id", "device_id",
               "compute_units", "memory_total_mib"}],
     "errors": [{"source": "amd-smi" | ..., "code": "NOT_FOUND" | "FAILED" | "NO_JSON" |
                 "TIMED_OUT", "message"}],
     "kernel": {"pci_devices", "module": {"loaded", "version"}, "nodes": {"kfd":
                {"path", "exists", "accessible", "group"}, "render": [...]},
                "user_groups", "kfd_nodes": [{"node", "gfx_target"}], "rocm"},
     "tools": {"amd-smi": path | None, "rocm-smi": ..., "rocminfo": ...},
     "runs": {"amd-smi": {argv, returncode, error, ...}, ...}, "signs": [...]}
"""

from __future__ import annotations

import os
import platform as _platform
import shutil
import time
from typing import Any, Callable, Optional

from envdoctor.probes import Probe, ProbeContext

TOOLS = ("amd-smi", "rocm-smi", "rocminfo")
AMD_SMI_ARGS = ["static", "--asic", "--bus", "--driver", "--vram", "--json"]
ROCM_SMI_ARGS = ["--showproductname", "--showbus", "--showmeminfo", "vram",
                 "--showdriverversion", "--json"]


def _find_tools(ctx: ProbeContext, rocm_path: Optional[str]) -> dict[str, Optional[str]]:
    """Each tool on PATH, else in the ROCm install's bin/ (not always on PATH)."""
    found: dict[str, Optional[str]] = {}
    for tool in TOOLS:
        path = shutil.which(tool, path=ctx.environ.get("PATH"))
        if not path and rocm_path:
            candidate = ctx.path(f"{rocm_path}/bin/{tool}")
            path = candidate if os.access(candidate, os.X_OK) else None
        found[tool] = path
    return found


def _signs(kernel: dict, tools: dict) -> list[str]:
    signs = []
    if kernel["pci_devices"]:
        signs.append("pci")
    if kernel["module"].get("loaded"):
        signs.append("amdgpu_module")
    if kernel["nodes"]["kfd"]["exists"]:
        signs.append("kfd")
    if kernel["kfd_nodes"]:
        signs.append("kfd_topology")
    if kernel["rocm"]["path"]:
        signs.append("rocm_install")
    signs.extend(name for name, path in tools.items() if path)
    return signs


def _error(source: str, result) -> dict:
    if result.error == "not found":
        code = "NOT_FOUND"
    elif result.timed_out:
        code = "TIMED_OUT"
    else:
        code = "FAILED"
    tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-2:]
    message = result.describe()
    if result.returncode and tail:
        message = f"{os.path.basename(result.argv[0])}: exit status {result.returncode}: " \
                  + " / ".join(line.strip()[:200] for line in tail)
    return {"source": source, "code": code, "message": message}


def _run_tool(ctx: ProbeContext, name: str, exe: str, args: list[str], budget: float,
              parse: Callable[[str], dict], facts: dict) -> Optional[dict]:
    from envdoctor import proc

    result = proc.run([exe, *args], timeout=max(0.5, budget), env=dict(ctx.environ))
    facts["runs"][name] = result.to_fact()
    parsed = parse(result.stdout) if result.stdout else None
    if parsed and parsed.get("ok"):
        return parsed
    if result.ok:
        facts["errors"].append({"source": name, "code": "NO_JSON" if name != "rocminfo"
                                else "NO_GPU", "message": (parsed or {}).get("error")
                                or f"{name} printed nothing usable"})
    else:
        facts["errors"].append(_error(name, result))
    return None


def _fill_gfx(gpus: list[dict], kfd_nodes: list[dict]) -> None:
    """gfx targets the tool did not print (old rocm-smi) from KFD's topology, in order,
    when both list the same number of GPUs."""
    if len(gpus) != len(kfd_nodes):
        return
    for gpu, node in zip(gpus, kfd_nodes):
        if not gpu.get("gfx_target"):
            gpu["gfx_target"] = node["gfx_target"]


def _from_sysfs(kernel: dict) -> list[dict]:
    nodes = kernel["kfd_nodes"]
    pci = [d for d in kernel["pci_devices"] if d.get("driver") in ("amdgpu", None)]
    count = max(len(nodes), len(pci))
    return [{"index": i, "name": None,
             "gfx_target": nodes[i]["gfx_target"] if i < len(nodes) else None,
             "pci_bus_id": pci[i]["address"] if i < len(pci) else None,
             "device_id": pci[i]["device_id"] if i < len(pci) else None,
             "compute_units": nodes[i].get("compute_units") if i < len(nodes) else None,
             "memory_total_mib": None} for i in range(count)]


def probe_amd(ctx: ProbeContext) -> dict:
    from envdoctor.amd import kernel as amd_kernel
    from envdoctor.amd import tools as parsers

    start = time.monotonic()
    facts: dict[str, Any] = {"present": False, "source": None, "driver_version": None,
                             "rocm_version": None, "rocm_path": None, "gpus": [],
                             "errors": [], "kernel": None, "tools": {}, "runs": {},
                             "signs": []}
    if _platform.system() != "Linux":
        return facts  # ROCm's compute stack is Linux-only (Windows has the HIP SDK only)
    kernel = amd_kernel.kernel_facts(ctx)
    rocm = kernel["rocm"]
    tools = _find_tools(ctx, rocm["path"])
    signs = _signs(kernel, tools)
    facts.update({"kernel": kernel, "tools": tools, "signs": signs,
                  "rocm_path": rocm["path"], "rocm_version": rocm["version"],
                  "driver_version": kernel["module"].get("version"),
                  "present": bool(kernel["pci_devices"] or kernel["kfd_nodes"])})
    if not signs:
        return facts  # nothing AMD here: no subprocess

    def left() -> float:
        return ctx.timeout - (time.monotonic() - start) - 0.2

    parsed = None
    if tools["amd-smi"]:
        parsed = _run_tool(ctx, "amd-smi", tools["amd-smi"], AMD_SMI_ARGS, left() * 0.6,
                           parsers.parse_amd_smi_static, facts)
        if parsed:
            facts["source"] = "amd-smi"
    if parsed is None and tools["rocm-smi"]:
        parsed = _run_tool(ctx, "rocm-smi", tools["rocm-smi"], ROCM_SMI_ARGS, left() * 0.6,
                           parsers.parse_rocm_smi_json, facts)
        if parsed:
            facts["source"] = "rocm-smi"
    gpus = list(parsed["gpus"]) if parsed else []
    if parsed and parsed.get("driver_version") and not facts["driver_version"]:
        facts["driver_version"] = parsed["driver_version"]
    _fill_gfx(gpus, kernel["kfd_nodes"])
    needs_targets = not gpus or any(not g.get("gfx_target") for g in gpus)
    if needs_targets and tools["rocminfo"] and left() > 0.5:
        info = _run_tool(ctx, "rocminfo", tools["rocminfo"], [], left(),
                         parsers.parse_rocminfo, facts)
        if info and not gpus:
            gpus, facts["source"] = list(info["gpus"]), "rocminfo"
        elif info:
            _fill_gfx(gpus, info["gpus"])
    if not gpus and (kernel["pci_devices"] or kernel["kfd_nodes"]):
        gpus, facts["source"] = _from_sysfs(kernel), "sysfs"
    for name, path in tools.items():
        if not path and name == "amd-smi" and not tools["rocm-smi"]:
            facts["errors"].append({"source": name, "code": "NOT_FOUND",
                                    "message": "neither amd-smi nor rocm-smi is installed "
                                               "(not on PATH or in /opt/rocm/bin)"})
    facts["gpus"] = gpus
    facts["present"] = bool(gpus) or facts["present"]
    facts["duration_ms"] = round((time.monotonic() - start) * 1000, 1)
    return facts


PROBES = [Probe("amd", probe_amd)]
