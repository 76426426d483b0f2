"""NVIDIA GPUs and driver: facts["nvidia"].

Order of work, cheapest first:

1. kernel side (Linux /proc, /sys, /dev, WSL2's /usr/lib/wsl/lib): no subprocess;
2. when there is any sign of an NVIDIA GPU (or nvidia-smi is on PATH, or on Windows):
   NVML through nvidia-ml-py (:mod:`envdoctor.nvml`), in a worker thread so a hung
   driver cannot hold the report;
3. when NVML gave nothing: ``nvidia-smi -q -x`` (:mod:`envdoctor.nvidia_smi`) with what
   is left of the timeout.

On a machine with no sign of NVIDIA hardware nothing is imported or spawned.

Shape (``None`` when unknown)::

    {"present": bool, "source": "nvml" | "nvidia-smi" | None,
     "driver_version": "535.104.05", "cuda_driver_version": "12.2", "nvml_version": ...,
     "gpus": [{"index", "name", "uuid", "pci_bus_id", "compute_capability": "8.6",
               "architecture", "memory_total_mib", "memory_used_mib", "memory_free_mib",
               "memory_reserved_mib", "pcie": {"gen_current", "gen_max", "gen_max_device",
               "width_current", "width_max"}, "persistence_mode", "mig_mode":
               {"current", "pending"}, "mig_devices": [...], "ecc": {"mode_current",
               "mode_pending", "uncorrected_volatile", "uncorrected_aggregate"},
               "retired_pages_pending", "retired_pages_count", "remapped_rows",
               "remapped_rows_failure", "clock_event_reasons": ["hw_slowdown", ...],
               "temperature_c", "inforom_valid", "processes": [{"pid", "name", "type",
               "used_memory_mib"}], "lost"}],
     "errors": [{"source": "nvml" | "nvidia-smi", "code": "LIB_RM_VERSION_MISMATCH",
                 "message", ...}],
     "kernel": {...see _nvidia_kernel.kernel_facts...},
     "nvml": {"ok", "binding"}, "nvidia_smi": {"path", "ran", "run", "dtd", "missing"},
     "signs": ["pci", "proc_driver", ...]}
"""

from __future__ import annotations

import os
import platform as _platform
import shutil
import threading
import time
from typing import Any, Optional

from envdoctor.probes import Probe, ProbeContext

# Share of the timeout NVML may take before we call it hung.
NVML_SHARE = 0.6


def _signs(ctx: ProbeContext, kernel: dict, smi_path: Optional[str], system: str) -> list[str]:
    signs = []
    if kernel.get("pci_devices"):
        signs.append("pci")
    if kernel.get("proc_driver") or kernel.get("module_version"):
        signs.append("proc_driver")
    if kernel.get("dev_nodes"):
        signs.append("dev_nodes")
    wsl = kernel.get("wsl") or {}
    if wsl.get("libnvidia_ml") or wsl.get("nvidia_smi"):
        signs.append("wsl")
    if smi_path:
        signs.append("nvidia-smi")
    if system == "Windows":
        windir = ctx.environ.get("WINDIR", "C:\\Windows")
        if os.path.exists(os.path.join(windir, "System32", "nvml.dll")):
            signs.append("nvml.dll")
    return signs


def _process_name(ctx: ProbeContext):
    def name_of(pid: int) -> Optional[str]:
        comm = ctx.read_text(f"/proc/{pid}/comm")
        return comm.strip() if comm else None
    return name_of


def _nvml_with_deadline(ctx: ProbeContext, budget: float) -> tuple[Optional[dict], list, bool]:
    """NVML facts, its errors, and whether it hung past ``budget`` seconds."""
    from envdoctor import nvml

    session = nvml.Nvml()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["facts"] = nvml.collect(session, _process_name(ctx))
        except Exception as exc:  # the wrapper should catch everything; belt and braces
            box["error"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=work, name="envdoctor-nvml", daemon=True)
    thread.start()
    thread.join(budget)
    if thread.is_alive():
        return None, list(session.errors) + [{
            "source": "nvml", "code": "HUNG", "gpu": None, "call": None, "detail": None,
            "message": f"NVML did not answer within {budget:.1f} s (a GPU that has fallen "
                       "off the bus or a stuck driver does this)"}], True
    errors = list(session.errors)
    if "error" in box:
        errors.append({"source": "nvml", "code": "UNEXPECTED", "message": box["error"],
                       "gpu": None, "call": None, "detail": None})
    return box.get("facts"), errors, False


def probe_nvidia(ctx: ProbeContext) -> dict:
    from envdoctor.probes._nvidia_kernel import kernel_facts

    start = time.monotonic()
    system = _platform.system()
    kernel = kernel_facts(ctx) if system == "Linux" else {}
    smi_path = shutil.which("nvidia-smi", path=ctx.environ.get("PATH"))
    wsl = kernel.get("wsl") or {}
    if not smi_path and wsl.get("nvidia_smi"):
        smi_path = ctx.path("/usr/lib/wsl/lib/nvidia-smi")
    signs = _signs(ctx, kernel, smi_path, system)
    facts: dict[str, Any] = {
        "present": bool(signs), "source": None, "driver_version": None,
        "cuda_driver_version": None, "nvml_version": None, "gpus": [], "errors": [],
        "kernel": kernel, "signs": signs, "nvml": None,
        "nvidia_smi": {"path": smi_path, "ran": False},
    }
    if not signs and system != "Windows":
        return facts  # nothing to find: no import, no subprocess

    nvml_facts, errors, hung = _nvml_with_deadline(ctx, max(0.5, ctx.timeout * NVML_SHARE))
    facts["errors"].extend(errors)
    facts["nvml"] = {"ok": bool(nvml_facts and nvml_facts.get("ok")), "hung": hung,
                     "binding": (nvml_facts or {}).get("binding")}
    if nvml_facts and nvml_facts.get("ok"):
        facts["source"] = "nvml"
        for key in ("driver_version", "cuda_driver_version", "nvml_version"):
            facts[key] = nvml_facts.get(key)
        facts["gpus"] = nvml_facts.get("gpus") or []
    elif smi_path and not hung:
        from envdoctor import nvidia_smi

        left = ctx.timeout - (time.monotonic() - start) - 0.2
        smi = nvidia_smi.query(max(0.5, left), env=dict(ctx.environ), exe=smi_path)
        facts["nvidia_smi"].update({"ran": True, "run": smi.get("run"), "dtd": smi.get("dtd"),
                                    "missing": smi.get("missing") or [],
                                    "attached_gpus": smi.get("attached_gpus")})
        facts["errors"].extend(smi.get("errors") or [])
        if smi.get("ok"):
            facts["source"] = "nvidia-smi"
            facts["driver_version"] = smi.get("driver_version")
            facts["cuda_driver_version"] = smi.get("cuda_driver_version")
            facts["gpus"] = smi.get("gpus") or []
    elif not smi_path and not hung:
        facts["errors"].append({"source": "nvidia-smi", "code": "NOT_FOUND", "detail": None,
                                "message": "nvidia-smi is not installed (not on PATH)"})
    if facts["gpus"]:
        facts["present"] = True
    elif system == "Windows" and not signs and not facts["source"]:
        # Windows without nvml.dll or nvidia-smi: nothing NVIDIA here.
        facts["errors"] = []
    facts["duration_ms"] = round((time.monotonic() - start) * 1000, 1)
    return facts


PROBES = [Probe("nvidia", probe_nvidia)]
