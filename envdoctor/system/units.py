"""Sizes in words people read: 67108864 -> '64 MiB'."""

from __future__ import annotations

from typing import Optional, Union

Number = Union[int, float]


def size(value: Optional[Number]) -> str:
    """Binary units, at most three significant digits; 'unknown' for None."""
    if value is None:
        return "unknown"
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(amount) < 1024 or unit == "TiB":
            return f"{amount:.3g} {unit}" if unit != "B" else f"{int(amount)} B"
        amount /= 1024
    return f"{amount:.3g} TiB"  # pragma: no cover - the loop always returns


def thresholds() -> dict:
    """envdoctor/data/system_thresholds.json (sourced)."""
    from envdoctor.data import load

    return load("system_thresholds.json")
