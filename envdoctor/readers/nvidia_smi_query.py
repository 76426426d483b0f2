"""``nvidia-smi -q``: the "NVSMI LOG" with one indented block per GPU."""

from __future__ import annotations

import re

from envdoctor.readers import Dump
from envdoctor.readers.facts_builder import put
from envdoctor.readers.text import clean

FORMAT = "nvidia-smi-q"
# Lower-case words one of which any dump of this format contains (a quick test first).
SIGNS = ("nvsmi log",)
TITLE = "nvidia-smi -q"

_FIELD = re.compile(r"^(\s*)([A-Za-z][A-Za-z0-9 ./()\-]*?)\s*:\s*(.*?)\s*$")
_GPU = re.compile(r"^GPU\s+([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.\d)\s*$")


def find(lines: list[str]) -> list[Dump]:
    dumps = []
    for i, line in enumerate(lines):
        if "NVSMI LOG" in line:
            dumps.append(_read(lines, i))
    return dumps


def _read(lines: list[str], start: int) -> Dump:
    top: dict[str, str] = {}
    gpus: list[dict] = []
    section: list[str] = []
    end = start
    for i in range(start + 1, len(lines)):
        line = lines[i].rstrip()
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(("```", "~~~", "</details")) or "NVSMI LOG" in stripped:
            break
        gpu = _GPU.match(stripped)
        if gpu:
            gpus.append({"index": len(gpus), "pci_bus_id": gpu.group(1).upper()})
            section = []
            end = i
            continue
        field = _FIELD.match(line)
        if not field:
            if line.startswith(" ") and gpus:
                depth = (len(line) - len(line.lstrip())) // 4
                section = section[:max(depth - 1, 0)] + [stripped.lower()]
                end = i
                continue
            break
        end = i
        indent, key, value = field.groups()
        key = key.lower()
        if not gpus:
            top[key] = value
            continue
        gpu = gpus[-1]
        depth = len(indent) // 4
        section = section[:max(depth - 1, 0)]
        where = " / ".join(section)
        if key == "product name" and not section:
            gpu["name"] = clean(value, 120)
        elif key == "product architecture" and not section:
            gpu["architecture"] = clean(value, 40)
        elif key == "persistence mode" and not section:
            gpu["persistence_mode"] = value.lower() == "enabled"
        elif where.startswith("fb memory usage") and key in ("total", "used"):
            number = re.match(r"(\d+)", value)
            if number:
                gpu[f"memory_{key}_mib"] = int(number.group(1))
        elif where.startswith("temperature") and key == "gpu current temp":
            number = re.match(r"(\d+)", value)
            if number:
                gpu["temperature_c"] = int(number.group(1))
    dump = Dump(FORMAT, TITLE, start + 1, end + 1)
    put(dump, "nvidia.present", True)
    put(dump, "nvidia.source", TITLE)
    put(dump, "nvidia.driver_version", clean(top.get("driver version"), 40))
    cuda = clean(top.get("cuda version"), 20)
    put(dump, "nvidia.cuda_driver_version", cuda if cuda and cuda[0].isdigit() else None)
    put(dump, "nvidia.gpus", gpus)
    return dump
