"""GPUs of every vendor as one list, and their rows in the sourced tables.

A GPU is named by its vendor, its reported name and an architecture key:

- ``nvidia``: the CUDA compute capability (``"8.6"``) from ``facts["nvidia"]["gpus"]``;
- other vendors add a :class:`VendorSection` to :data:`VENDOR_SECTIONS` saying where
  their probe keeps its GPU list and which field holds the architecture key (AMD: the
  gfx target such as ``"gfx942"``; Apple: the GPU family), and add rows with their
  ``vendor`` to ``gpu_peaks.json`` and ``gpu_precision.json``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Optional

from envdoctor.facts import as_dict, dicts, number, text


@dataclass(frozen=True)
class VendorSection:
    vendor: str
    section: str        # the facts key of the vendor's probe
    arch_field: str     # the field of each GPU entry that holds the architecture key


VENDOR_SECTIONS: list[VendorSection] = [
    VendorSection("nvidia", "nvidia", "compute_capability"),
    VendorSection("amd", "amd", "gfx_target"),
    VendorSection("apple", "apple", "metal_family"),
]
VENDOR_NAMES = {"nvidia": "NVIDIA", "amd": "AMD", "apple": "Apple"}
# The checks that cover a vendor's GPUs, named when an NVIDIA-only check skips.
VENDOR_CHECKS = {"amd": "the rocm.* checks", "apple": "the apple.* checks"}


@dataclass(frozen=True)
class GpuRef:
    vendor: str
    index: int
    name: Optional[str]
    arch_key: Optional[str]
    memory_total_mib: Optional[float]
    pcie: dict[str, Any]
    # "reported" (the driver gave it) or "model" (taken from the peak table's row for the
    # model name: nvidia-smi before CUDA 11.6-era drivers has no compute capability).
    arch_source: Optional[str] = None

    @property
    def label(self) -> str:
        return f"GPU {self.index} ({self.name or 'unknown model'})"


def gpus(facts: dict[str, Any]) -> list[GpuRef]:
    """Every GPU any vendor probe found, in probe order."""
    found: list[GpuRef] = []
    for vs in VENDOR_SECTIONS:
        for i, gpu in enumerate(dicts(as_dict(facts.get(vs.section)).get("gpus"))):
            index = number(gpu.get("index"))
            name, arch = text(gpu.get("name")), text(gpu.get(vs.arch_field))
            source = "reported" if arch else None
            if not arch:
                row = peak_row(vs.vendor, name)
                arch = row.get("arch_key") if row else None
                source = "model" if arch else None
            found.append(GpuRef(vs.vendor, int(index) if index is not None else i, name, arch,
                                number(gpu.get("memory_total_mib")), as_dict(gpu.get("pcie")),
                                source))
    return found


def inventory(facts: Any) -> list[dict[str, Any]]:
    """Every GPU as the report's ``summary.gpus`` rows: ``{"vendor", "index", "name",
    "arch", "memory_total_mib"}`` (``arch``: compute capability, gfx target or Apple GPU
    family). Never raises on a hand-edited report."""
    return [{"vendor": ref.vendor, "index": ref.index, "name": ref.name,
             "arch": ref.arch_key, "memory_total_mib": ref.memory_total_mib}
            for ref in gpus(as_dict(facts))]


def describe(refs: list[GpuRef]) -> str:
    """ "2 x AMD Instinct MI210, Apple M3 Pro": names with counts, in probe order."""
    counts: dict[str, int] = {}
    for ref in refs:
        label = ref.name or f"{VENDOR_NAMES.get(ref.vendor, ref.vendor)} GPU"
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{n} x {label}" if n > 1 else label for label, n in counts.items())


def no_nvidia(facts: dict[str, Any], suffix: str = "") -> str:
    """The skip reason of an NVIDIA-only check: "no NVIDIA GPU found", naming the GPUs of
    other vendors (and the checks that cover them) when there are any."""
    others = [g for g in gpus(facts) if g.vendor != "nvidia"]
    base = "no NVIDIA GPU found" + suffix
    if not others:
        return base
    vendors = sorted({g.vendor for g in others})
    where = " and ".join(VENDOR_CHECKS.get(v, f"the {v} checks") for v in vendors)
    return f"{base}; this machine's GPU is {describe(others)} (see {where})"


@functools.lru_cache(maxsize=1)
def _precision_rows() -> dict[tuple[str, str], dict[str, Any]]:
    from envdoctor.data import load

    return {(row["vendor"], row["key"]): row for row in load("gpu_precision.json")["rows"]}


@functools.lru_cache(maxsize=1)
def _peak_rows() -> list[tuple[list[re.Pattern[str]], dict[str, Any]]]:
    from envdoctor.data import load

    return [([re.compile(p, re.IGNORECASE) for p in row["match"]], row)
            for row in load("gpu_peaks.json")["rows"]]


def precision_row(vendor: str, arch_key: Optional[str]) -> Optional[dict[str, Any]]:
    """The gpu_precision.json row for this architecture, or None when the table has none."""
    if not arch_key:
        return None
    return _precision_rows().get((vendor, arch_key.strip()))


def normalized_name(name: str) -> str:
    """'NVIDIA A100-SXM4-80GB' -> 'NVIDIA A100 SXM4 80GB' (dashes and underscores split
    words the way datasheets write them)."""
    return " ".join(re.sub(r"[-_/]", " ", name).split())


def peak_row(vendor: str, name: Optional[str]) -> Optional[dict[str, Any]]:
    """The first gpu_peaks.json row of ``vendor`` whose pattern matches ``name``."""
    if not name:
        return None
    wanted = normalized_name(name)
    for patterns, row in _peak_rows():
        if row["vendor"] == vendor and any(p.search(wanted) for p in patterns):
            return row
    return None


def compute_capability(arch_key: Optional[str]) -> Optional[tuple[int, int]]:
    """'8.6' -> (8, 6); anything else -> None."""
    match = re.fullmatch(r"\s*(\d+)\.(\d+)\s*", arch_key or "")
    return (int(match.group(1)), int(match.group(2))) if match else None
