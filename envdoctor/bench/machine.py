"""What the CPU could do: usable cores, clock and the FLOPs/cycle of its instruction set.

Reads /proc/cpuinfo, /sys/devices/system/cpu/*/cpufreq and the cgroup CPU quota through
a ``read(path)`` function (ProbeContext.read_text: tests use a fake tree)."""

from __future__ import annotations

import os
import re
from typing import Any, Callable, Optional

Reader = Callable[[str], Optional[str]]


def physical_cores(cpuinfo: str) -> Optional[int]:
    """Distinct (physical id, core id) pairs of /proc/cpuinfo; None when not listed."""
    cores, physical = set(), "0"
    for block in cpuinfo.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
        if "core id" in fields:
            physical = fields.get("physical id", physical)
            cores.add((physical, fields["core id"]))
    return len(cores) or None


def cgroup_cpu_quota(read: Reader) -> Optional[float]:
    """CPUs a container may use by its quota (cgroup v2 cpu.max, v1 cfs_quota_us)."""
    text = (read("/sys/fs/cgroup/cpu.max") or "").split()
    if len(text) == 2 and text[0].isdigit() and text[1].isdigit() and int(text[1]):
        return int(text[0]) / int(text[1])
    quota = (read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") or "").strip()
    period = (read("/sys/fs/cgroup/cpu/cpu.cfs_period_us") or "").strip()
    if quota.isdigit() and period.isdigit() and int(period):
        return int(quota) / int(period)
    return None


def clock_ghz(read: Reader, cpuinfo: str, model: Optional[str]) -> tuple[Optional[float], str]:
    """(GHz, where it came from): the rated maximum from cpufreq, else the model name's
    '@ 3.60GHz', else /proc/cpuinfo's current 'cpu MHz'."""
    khz = (read("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq") or "").strip()
    if khz.isdigit() and int(khz) > 0:
        return int(khz) / 1e6, "cpufreq cpuinfo_max_freq"
    match = re.search(r"@\s*([\d.]+)\s*GHz", model or "")
    if match:
        return float(match.group(1)), "model name"
    mhz = re.search(r"^cpu MHz\s*:\s*([\d.]+)", cpuinfo, re.M)
    if mhz:
        return float(mhz.group(1)) / 1000, "cpu MHz (current clock)"
    return None, "unknown"


def isa_row(flags: set[str], machine: str) -> Optional[dict[str, Any]]:
    from envdoctor.data import load

    arm = machine.startswith(("aarch64", "arm"))
    for row in load("cpu_peak.json")["rows"]:
        if row["machine"] == "arm" and arm:
            return row
        if row["machine"] == "x86" and not arm and set(row["flags"]) <= flags:
            return row
    return None


def cpu_peak(read: Reader, cpu_facts: dict[str, Any]) -> dict[str, Any]:
    """Peak FP32 GFLOPS and how it was computed (every input named)."""
    cpuinfo = read("/proc/cpuinfo") or ""
    logical = cpu_facts.get("logical_cpus") or os.cpu_count() or 1
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = logical
    quota = cgroup_cpu_quota(read)
    physical = physical_cores(cpuinfo)
    cores = min(v for v in (physical or logical, usable, quota) if v)
    ghz, clock_source = clock_ghz(read, cpuinfo, cpu_facts.get("model"))
    row = isa_row(set(cpu_facts.get("flags") or []), str(cpu_facts.get("machine") or ""))
    peak = cores * ghz * row["fp32_flops_per_cycle"] if ghz and row else None
    return {"cores": cores, "physical_cores": physical, "logical_cpus": logical,
            "affinity_cpus": usable, "quota_cpus": quota, "ghz": ghz,
            "clock_source": clock_source, "isa": row["isa"] if row else None,
            "flops_per_cycle": row["fp32_flops_per_cycle"] if row else None,
            "peak_gflops": peak, "source": row["source"] if row else None}
