"""Parsers for the ROCm tools' output: ``amd-smi static --json`` (ROCm 6+),
``rocm-smi --json`` (older, deprecated) and ``rocminfo`` (text).

Each parser is a pure function of the text the tool printed and never raises: it
returns ``{"ok": bool, "gpus": [...], "error": str|None, ...}``. One GPU is::

    {"index": 0, "name": "AMD Instinct MI210", "gfx_target": "gfx90a",
     "pci_bus_id": "0000:63:00.0", "device_id": "0x740f", "compute_units": 104,
     "memory_total_mib": 65520}

(``None`` for what the tool did not say). Field names differ between tool versions
("Card series" / "Card Series", a bare list / ``{"gpu_data": [...]}``); the parsers
accept every spelling seen in the captures under tests/data/amd/.
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

from envdoctor.amd import gfx

_MIB = 1024 * 1024
_UNITS = {"B": 1 / _MIB, "KB": 1 / 1024, "KIB": 1 / 1024, "MB": 1, "MIB": 1,
          "GB": 1024, "GIB": 1024}


def _json_in(text: str) -> Any:
    """The JSON document in a tool's output, skipping warning lines printed before it
    (amd-smi under a newer Python prints SyntaxWarnings first)."""
    lines = (text or "").splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("{", "[")):
            try:
                return json.loads("\n".join(lines[i:]))
            except (ValueError, RecursionError):
                return None
    return None


def _text(value: Any) -> Optional[str]:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return None if not text or text.upper() in ("N/A", "NONE", "UNKNOWN") else text[:200]


def _int(value: Any) -> Optional[int]:
    text = _text(value)
    if text is None:
        return None
    try:
        return int(float(text))
    except ValueError:
        return None


def _mib(value: Any, unit: str = "MB") -> Optional[int]:
    """A size as amd-smi writes it ({"value": 32768, "unit": "MB"} or a bare number)."""
    if isinstance(value, dict):
        unit = str(value.get("unit") or unit)
        value = value.get("value")
    number = _int(value)
    factor = _UNITS.get(unit.strip().upper())
    if number is None or factor is None or number <= 0:
        return None
    return int(number * factor)


def _get(obj: Any, *keys: str) -> Any:
    """The first of ``keys`` present in the dict ``obj`` (case-insensitive)."""
    if not isinstance(obj, dict):
        return None
    lowered = {str(k).lower(): v for k, v in obj.items()}
    for key in keys:
        if key.lower() in lowered:
            return lowered[key.lower()]
    return None


def _failure(error: str) -> dict:
    return {"ok": False, "gpus": [], "error": error}


# ------------------------------------------------------------------ amd-smi


def parse_amd_smi_static(text: str) -> dict:
    """``amd-smi static --json``: a list of GPUs (ROCm 6.0-6.3) or ``{"gpu_data": [...]}``
    (ROCm 6.4 and later)."""
    doc = _json_in(text)
    if isinstance(doc, dict):
        doc = doc.get("gpu_data")
    if not isinstance(doc, list):
        return _failure("amd-smi printed no JSON list of GPUs")
    gpus, drivers = [], []
    for position, entry in enumerate(doc):
        if not isinstance(entry, dict):
            continue
        asic = _get(entry, "asic")
        bus = _get(entry, "bus")
        driver = _get(entry, "driver")
        vram = _get(entry, "vram")
        board = _get(entry, "board")
        index = _int(_get(entry, "gpu"))
        name = _text(_get(asic, "market_name")) or _text(_get(board, "product_name"))
        size = _get(vram, "size", "vram_size")
        gpus.append({
            "index": position if index is None else index,
            "name": name,
            "gfx_target": gfx.normalize(_get(asic, "target_graphics_version")),
            "pci_bus_id": _text(_get(bus, "bdf")),
            "device_id": _text(_get(asic, "device_id")),
            "compute_units": _int(_get(asic, "num_compute_units")),
            "memory_total_mib": _mib(size) if size is not None
            else _mib(_get(vram, "vram_size_mb")),
        })
        version = _text(_get(driver, "version", "driver_version"))
        if version and version not in drivers:
            drivers.append(version)
    if not gpus:
        return _failure("amd-smi listed no GPU")
    return {"ok": True, "gpus": gpus, "error": None,
            "driver_version": drivers[0] if drivers else None}


# ------------------------------------------------------------------ rocm-smi


def parse_rocm_smi_json(text: str) -> dict:
    """``rocm-smi --showproductname --showbus --showmeminfo vram --showdriverversion
    --json``: ``{"card0": {...}, "system": {"Driver version": ...}}``."""
    doc = _json_in(text)
    if not isinstance(doc, dict):
        return _failure("rocm-smi printed no JSON object")
    gpus = []
    for key, card in doc.items():
        match = re.fullmatch(r"card(\d+)", str(key))
        if not match or not isinstance(card, dict):
            continue
        series = _text(_get(card, "Card Series", "Card series"))
        name = _text(_get(card, "Device Name")) or series
        if name and re.fullmatch(r"0x[0-9a-f]+", name, re.I):
            name = None  # rocm-smi 4.x printed the vendor id as the series
        memory = _int(_get(card, "VRAM Total Memory (B)"))
        gpus.append({
            "index": int(match.group(1)),
            "name": name,
            "gfx_target": gfx.normalize(_get(card, "GFX Version")),
            "pci_bus_id": _text(_get(card, "PCI Bus")),
            "device_id": _text(_get(card, "Device ID", "Card Model", "Card model")),
            "compute_units": None,
            "memory_total_mib": memory // _MIB if memory else None,
        })
    if not gpus:
        return _failure("rocm-smi listed no GPU")
    gpus.sort(key=lambda g: g["index"])
    system = _get(doc, "system")
    return {"ok": True, "gpus": gpus, "error": None,
            "driver_version": _text(_get(system, "Driver version"))}


# ------------------------------------------------------------------ rocminfo

_AGENT = re.compile(r"^\*{3,}\s*\n\s*Agent\s+(\d+)\s*\n\*{3,}\s*$", re.M)
_FIELD = re.compile(r"^  ([A-Za-z][^:\n]*?):\s*(.*?)\s*$")


def _agent_fields(block: str) -> dict[str, str]:
    """The agent's own top-level fields (two-space indent), first value of each."""
    fields: dict[str, str] = {}
    for line in block.splitlines():
        match = _FIELD.match(line)
        if match and match.group(1) not in fields:
            fields[match.group(1)] = match.group(2)
    return fields


def _pool_kib(block: str) -> Optional[int]:
    """The size of the agent's first GLOBAL pool (its VRAM), in KiB."""
    match = re.search(r"Segment:\s*GLOBAL[^\n]*\n\s*Size:\s*(\d+)", block)
    return int(match.group(1)) if match else None


def parse_rocminfo(text: str) -> dict:
    """``rocminfo``: the GPU agents (Device Type: GPU) and the HSA runtime version."""
    text = text or ""
    runtime = re.search(r"^Runtime Version:\s*(\S+)", text, re.M)
    marks = list(_AGENT.finditer(text))
    gpus = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        block = text[mark.end():end]
        fields = _agent_fields(block)
        if fields.get("Device Type", "").upper() != "GPU":
            continue
        chip = re.match(r"\d+\(0x([0-9a-f]+)\)", fields.get("Chip ID", ""), re.I)
        bdf = _int(fields.get("BDFID"))
        pool = _pool_kib(block)
        gpus.append({
            "index": len(gpus),
            "name": _text(fields.get("Marketing Name")),
            "gfx_target": gfx.normalize(fields.get("Name")),
            # BDFID packs bus << 8 | device << 3 | function.
            "pci_bus_id": (f"0000:{bdf >> 8:02x}:{(bdf >> 3) & 0x1f:02x}.{bdf & 7}"
                           if bdf else None),
            "device_id": f"0x{chip.group(1)}" if chip else None,
            "compute_units": _int(fields.get("Compute Unit")),
            "memory_total_mib": pool // 1024 if pool else None,
        })
    if not gpus:
        why = ("rocminfo listed no GPU agent" if marks
               else "rocminfo printed no HSA agents")
        result = _failure(why)
        result["runtime_version"] = runtime.group(1) if runtime else None
        return result
    return {"ok": True, "gpus": gpus, "error": None,
            "runtime_version": runtime.group(1) if runtime else None}
