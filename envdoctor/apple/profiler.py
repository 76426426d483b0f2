"""Parsers for macOS's own descriptions of the machine: ``system_profiler
SPDisplaysDataType -json`` (GPU name, core count, Metal support), ``sysctl`` (unified
memory size, Apple Silicon or not, chip name) and SystemVersion.plist (macOS version).

Key names vary between macOS releases (macOS 11 wrote ``_name: kHW_AppleM1Item`` and
``spdisplays_metalfamily``; later releases ``sppci_model`` and
``spdisplays_mtlgpufamilysupport``); every spelling in tests/data/apple/ is accepted.
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

_VENDOR = re.compile(r"sppci_vendor_(\w+)", re.I)


def _text(value: Any) -> Optional[str]:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text[:200] or None


def gpu_name(entry: dict) -> Optional[str]:
    """ "Apple M3 Pro" from sppci_model or _name; "kHW_AppleM1Item" -> "Apple M1"."""
    name = _text(entry.get("sppci_model")) or _text(entry.get("_name"))
    if not name:
        return None
    match = re.fullmatch(r"kHW_(.+?)Item", name)
    if match:
        raw = match.group(1)  # AppleM1, AppleM1Pro, IntelIris6100
        name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Za-z])(?=M\d)", " ", raw).strip()
    return name


def metal_family(entry: dict) -> Optional[str]:
    """ "spdisplays_metal3" -> "Metal 3"; "spdisplays_mtlgpufamilyapple7" -> "Apple 7"."""
    raw = (_text(entry.get("spdisplays_mtlgpufamilysupport"))
           or _text(entry.get("spdisplays_metalfamily")) or _text(entry.get("spdisplays_metal")))
    if not raw:
        return None
    match = re.search(r"metal(\d+)$", raw, re.I)
    if match:
        return f"Metal {match.group(1)}"
    match = re.search(r"mtlgpufamily(apple|mac)(\d+)$", raw, re.I)
    if match:
        return f"{match.group(1).capitalize()} {match.group(2)}"
    return raw.replace("spdisplays_", "")[:60]


def parse_displays(text: str) -> dict:
    """``system_profiler SPDisplaysDataType -json`` -> {"ok", "gpus", "error"}; one GPU
    is {"index", "name", "vendor", "cores", "metal_family", "apple"}."""
    try:
        doc = json.loads(text or "")
    except (ValueError, RecursionError):
        return {"ok": False, "gpus": [], "error": "system_profiler printed no JSON"}
    entries = doc.get("SPDisplaysDataType") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        return {"ok": False, "gpus": [], "error": "no SPDisplaysDataType list in the JSON"}
    gpus = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        name = gpu_name(entry)
        vendor_match = _VENDOR.search(_text(entry.get("spdisplays_vendor")) or "")
        vendor = vendor_match.group(1) if vendor_match else (
            "Apple" if (name or "").startswith("Apple ") else _text(entry.get("spdisplays_vendor")))
        try:
            cores = int(str(entry.get("sppci_cores")))
        except ValueError:
            cores = None
        gpus.append({"index": len(gpus), "name": name, "vendor": vendor, "cores": cores,
                     "metal_family": metal_family(entry),
                     "apple": (vendor or "").lower() == "apple"})
    if not gpus:
        return {"ok": False, "gpus": [], "error": "system_profiler listed no GPU"}
    return {"ok": True, "gpus": gpus, "error": None}


def parse_sysctl(text: str) -> dict[str, str]:
    """``sysctl hw.memsize hw.optional.arm64 ...`` ("name: value" lines) -> dict."""
    values = {}
    for line in (text or "").splitlines():
        name, sep, value = line.partition(":")
        if sep and re.fullmatch(r"[a-z0-9_.]+", name.strip()):
            values[name.strip()] = value.strip()[:200]
    return values


def macos_version(plist_text: Optional[str]) -> Optional[str]:
    """ProductVersion from /System/Library/CoreServices/SystemVersion.plist."""
    if not plist_text:
        return None
    import plistlib

    try:
        data = plistlib.loads(plist_text.encode("utf-8"))
    except Exception:  # plistlib raises several types on garbage
        return None
    version = data.get("ProductVersion") if isinstance(data, dict) else None
    return str(version)[:20] if version else None
