"""/proc/meminfo: RAM and swap in bytes."""

from __future__ import annotations

from typing import Optional

_UNITS = {"kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3, "b": 1, "": 1}


def parse_meminfo(text: str) -> dict[str, int]:
    """Every ``Name: value kB`` line of /proc/meminfo as bytes (``MemTotal`` ->
    ``{"MemTotal": 25275973632}``); lines that do not parse are skipped."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        name, sep, rest = line.partition(":")
        words = rest.split()
        if not sep or not words:
            continue
        unit = _UNITS.get(words[1].lower() if len(words) > 1 else "")
        try:
            number = int(words[0])
        except ValueError:
            continue
        if unit is not None:
            values[name.strip()] = number * unit
    return values


def memory_facts(text: Optional[str]) -> dict[str, Optional[int]]:
    """total/available/swap in bytes from /proc/meminfo text (None when unknown)."""
    info = parse_meminfo(text or "")
    available = info.get("MemAvailable")
    if available is None and "MemFree" in info:  # kernels before 3.14
        available = info["MemFree"] + info.get("Cached", 0) + info.get("Buffers", 0)
    return {"total_bytes": info.get("MemTotal"), "available_bytes": available,
            "swap_total_bytes": info.get("SwapTotal"), "swap_free_bytes": info.get("SwapFree")}
