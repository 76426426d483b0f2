"""``nvidia-smi``'s default table (every driver era, Linux and Windows), and the one-line
failures people paste instead of a table ("couldn't communicate with the NVIDIA driver",
"Driver/library version mismatch", "No devices were found")."""

from __future__ import annotations

import re

from envdoctor.readers import Dump
from envdoctor.readers.facts_builder import put
from envdoctor.readers.text import clean

FORMAT = "nvidia-smi"
# Lower-case words one of which any dump of this format contains (a quick test first).
SIGNS = ("nvidia-smi", "driver/library version mismatch", "no devices were found", "gpu is lost",
         "unable to determine the device handle", "insufficient permissions")
TITLE = "nvidia-smi table"

_HEADER = re.compile(r"NVIDIA-SMI\s+(\S+)\s+Driver Version:\s*(\S+)(?:\s+CUDA Version:\s*(\S+))?",
                     re.IGNORECASE)
_GPU_ROW = re.compile(r"^\|\s+(\d+)\s+(.+?)\s{1,}(On|Off|WDDM|TCC|MCDM)\s*\|\s*"
                      r"([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.\d)")
_MEMORY = re.compile(r"(\d+)\s*MiB\s*/\s*(\d+)\s*MiB")
_TEMP = re.compile(r"^\|\s*(?:\d+%|N/A)\s+(\d+)C\s")

# (what the paste says, lower case) -> the error code the nvidia probe records
FAILURES = [
    ("couldn't communicate with the nvidia driver", "DRIVER_NOT_LOADED",
     "nvidia-smi has failed because it couldn't communicate with the NVIDIA driver"),
    ("driver/library version mismatch", "LIB_RM_VERSION_MISMATCH",
     "nvidia-smi: Failed to initialize NVML: Driver/library version mismatch"),
    ("no devices were found", "NO_DEVICES", "nvidia-smi: No devices were found"),
    ("gpu is lost", "GPU_IS_LOST", "nvidia-smi: the GPU is lost"),
    ("unable to determine the device handle", "GPU_IS_LOST",
     "nvidia-smi: Unable to determine the device handle (the GPU is lost)"),
    ("insufficient permissions", "NO_PERMISSION",
     "nvidia-smi: insufficient permissions to open the GPU"),
]


def find(lines: list[str]) -> list[Dump]:
    dumps: list[Dump] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        header = _HEADER.search(line)
        if header:
            dump, i = _table(lines, i, header)
            dumps.append(dump)
            continue
        low = line.lower()
        for needle, code, message in FAILURES:
            if needle in low:
                dump = Dump(FORMAT, "nvidia-smi error", i + 1, i + 1)
                put(dump, "nvidia.errors", [{"source": "nvidia-smi", "code": code,
                                             "message": message,
                                             "detail": clean(line, 300)}])
                if code != "NO_DEVICES":
                    put(dump, "nvidia.present", True)
                else:
                    put(dump, "nvidia.gpus", [])
                put(dump, "nvidia.source", TITLE)
                dumps.append(dump)
                break
        i += 1
    return dumps


def _table(lines: list[str], start: int, header: re.Match) -> tuple[Dump, int]:
    gpus: list[dict] = []
    end = start
    i = start + 1
    while i < len(lines):
        line = lines[i].rstrip()
        if not line.strip().startswith(("|", "+")):
            if line.strip() and not line.strip().startswith(("`", "~")):
                break
            if i - end > 2:
                break
            i += 1
            continue
        end = i
        row = _GPU_ROW.match(line.strip())
        if row:
            name = clean(row.group(2), 120) or "?"
            gpu = {"index": int(row.group(1)), "name": name,
                   "pci_bus_id": row.group(4).upper()}
            if name.endswith("..."):
                gpu["name_truncated"] = True
            gpus.append(gpu)
        elif gpus and "memory_total_mib" not in gpus[-1]:
            memory = _MEMORY.search(line)
            if memory:
                gpus[-1]["memory_used_mib"] = int(memory.group(1))
                gpus[-1]["memory_total_mib"] = int(memory.group(2))
                temp = _TEMP.match(line.strip())
                if temp:
                    gpus[-1]["temperature_c"] = int(temp.group(1))
        i += 1
    dump = Dump(FORMAT, TITLE, start + 1, end + 1)
    put(dump, "nvidia.present", True)
    put(dump, "nvidia.source", TITLE)
    put(dump, "nvidia.driver_version", clean(header.group(2), 40))
    put(dump, "nvidia.cuda_driver_version", clean(header.group(3), 20))
    if gpus or end > start:  # a header alone (copied by hand) does not list the GPUs
        put(dump, "nvidia.gpus", gpus)
    return dump, end + 1
