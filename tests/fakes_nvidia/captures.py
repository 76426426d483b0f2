"""Read the real nvidia-smi command captures of ../shared/corpus/nvidia-smi-captures at
test time and turn them into what the machine's edge would give envdoctor: a fake NVML
scenario (values in NVML's own units: bytes, masks, 0/1 flags; ``[N/A]`` becomes
NOT_SUPPORTED) and the values nvidia-smi printed, to compare envdoctor's facts with.

Nothing from the captures is copied into the repository: tests read them through the
``corpus`` fixture and skip when the corpus is absent.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any, Optional

MIB = 1024 * 1024
NOT_AVAILABLE = 0xFFFFFFFFFFFFFFFF
# NVML architecture numbers (nvml.h nvmlDeviceArchitecture_t) by compute capability major.
_ARCH_BY_CC = {"7.5": 6, "8.0": 7, "8.6": 7, "8.9": 8, "9.0": 9, "10.0": 10, "12.0": 10}
_SECTION = re.compile(r"^#{20,}\n# (.+?)\n# \$ (.*?)\n#{20,}\n", re.M)


def sections(path: Path) -> dict[str, str]:
    """label ("idle :: query-gpu (csv, ...)") -> the command's output."""
    text = path.read_text(encoding="utf-8", errors="replace")
    parts = _SECTION.split(text)
    return {parts[i].strip(): parts[i + 2] for i in range(1, len(parts) - 2, 3)}


def _csv(text: str) -> list[dict[str, str]]:
    rows = [r for r in csv.reader(io.StringIO(text.strip()), skipinitialspace=True) if r]
    if not rows:
        return []
    header = [re.sub(r"\s*\[.*\]$", "", h.strip()) for h in rows[0]]
    return [dict(zip(header, (v.strip() for v in row))) for row in rows[1:]]


def na(value: Optional[str]) -> bool:
    return value is None or value.startswith("[") or value in ("", "N/A")


def number(value: Optional[str]) -> Optional[int]:
    if na(value):
        return None
    match = re.match(r"-?\d+", value or "")
    return int(match.group(0)) if match else None


def flag(value: Optional[str]) -> Optional[int]:
    if na(value):
        return None
    return 1 if (value or "").lower() in ("enabled", "yes", "active") else 0


def gpu_rows(secs: dict[str, str], phase: str) -> list[dict[str, str]]:
    return _csv(secs[f"{phase} :: query-gpu (csv, what the exporter parses)"])


def processes(secs: dict[str, str], phase: str) -> list[dict[str, str]]:
    return _csv(secs[f"{phase} :: query-compute-apps (per-process)"])


def cuda_level(secs: dict[str, str]) -> Optional[int]:
    """The driver's CUDA level from ``nvidia-smi --version`` (driver 610 and later print
    "CUDA version : Deprecated" and the level as "CUDA UMD version")."""
    text = secs.get("capabilities :: version", "")
    match = (re.search(r"CUDA UMD version\s*:\s*(\d+)\.(\d+)", text, re.I)
             or re.search(r"CUDA version\s*:\s*(\d+)\.(\d+)", text, re.I))
    return int(match.group(1)) * 1000 + int(match.group(2)) * 10 if match else None


def mig_devices(secs: dict[str, str], phase: str) -> list[dict[str, Any]]:
    """MIG instances: names and UUIDs from ``nvidia-smi -L``; GPU/compute instance ids and
    memory from the default table's "MIG devices" block."""
    listed = re.findall(r"^\s+MIG (\S+)\s+Device\s+(\d+): \(UUID: (MIG-[^)]+)\)",
                        secs.get("capabilities :: list (-L)", ""), re.M)
    table = re.findall(r"^\|\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\|\s+(\d+)MiB /\s+(\d+)MiB",
                       secs.get(f"{phase} :: nvidia-smi (default table)", ""), re.M)
    by_dev = {int(dev): (int(gi), int(ci), int(used), int(total))
              for _gpu, gi, ci, dev, used, total in table}
    devices = []
    for profile, dev, uuid in listed:
        gi, ci, used, total = by_dev[int(dev)]
        devices.append({"profile": profile, "index": int(dev), "uuid": uuid, "gi": gi,
                        "ci": ci, "used_mib": used, "total_mib": total})
    return devices


def nvml_scenario(path: Path, phase: str) -> tuple[dict, dict]:
    """(fake NVML scenario, the values nvidia-smi printed) for one capture and phase."""
    secs = sections(path)
    rows = gpu_rows(secs, phase)
    procs = processes(secs, phase)
    migs = mig_devices(secs, phase)
    gpus = []
    for row in rows:
        mine = [p for p in procs if p.get("gpu_bus_id") == row["pci.bus_id"]]
        mig_on = flag(row.get("mig.mode.current"))
        gpu: dict[str, Any] = {
            "name": row["name"], "uuid": row["uuid"], "bus_id": row["pci.bus_id"],
            "cc": [int(x) for x in row["compute_cap"].split(".")],
            "arch": _ARCH_BY_CC.get(row["compute_cap"]),
            "mem": [number(row["memory.total"]) * MIB, number(row["memory.used"]) * MIB,
                    number(row["memory.free"]) * MIB],
            "pcie": [number(row["pcie.link.gen.current"]), number(row["pcie.link.gen.max"]),
                     number(row["pcie.link.width.current"]),
                     number(row["pcie.link.width.max"])],
            "persistence": flag(row.get("persistence_mode")),
            "mig": None if mig_on is None else [mig_on, flag(row.get("mig.mode.pending"))],
            "ecc": None if na(row.get("ecc.mode.current")) else [
                flag(row["ecc.mode.current"]), flag(row.get("ecc.mode.pending"))],
            "ecc_errors": None if na(row.get("ecc.errors.uncorrected.volatile.total")) else [
                number(row["ecc.errors.uncorrected.volatile.total"]),
                number(row["ecc.errors.uncorrected.aggregate.total"])],
            "retired_pending": flag(row.get("retired_pages.pending")),
            "remapped": None if na(row.get("remapped_rows.failure")) else [
                number(row["remapped_rows.correctable"]),
                number(row["remapped_rows.uncorrectable"]),
                flag(row["remapped_rows.pending"]), flag(row["remapped_rows.failure"])],
            "clocks": int(row["clocks_event_reasons.active"], 16),
            "temp": number(row["temperature.gpu"]),
            "procs": [[int(p["pid"]), NOT_AVAILABLE if na(p.get("used_gpu_memory"))
                       else number(p["used_gpu_memory"]) * MIB] for p in mine],
            "mig_devices": [{"name": f"{row['name']} MIG {m['profile']}", "uuid": m["uuid"],
                             "gi": m["gi"], "ci": m["ci"],
                             "mem": [m["total_mib"] * MIB, m["used_mib"] * MIB,
                                     (m["total_mib"] - m["used_mib"]) * MIB]}
                            for m in migs] if mig_on else [],
        }
        gpus.append(gpu)
    scenario = {"driver": rows[0]["driver_version"], "nvml": None, "cuda": cuda_level(secs),
                "gpus": gpus,
                "process_names": {p["pid"]: p["process_name"] for p in procs}}
    printed = {"rows": rows, "processes": procs, "mig_devices": migs,
               "cuda": cuda_level(secs)}
    return scenario, printed
