"""CPU model and instruction-set flags, fast.

Linux: /proc/cpuinfo (well under a millisecond). Windows: IsProcessorFeaturePresent.
macOS: sysctl. py-cpuinfo is never used: it takes over a second (docs/dependencies.md).
"""

from __future__ import annotations

import os
import platform as _platform
from typing import Optional

from envdoctor.probes import Probe, ProbeContext

# x86-64 micro-architecture levels (x86-64 psABI), in /proc/cpuinfo flag spelling.
X86_LEVELS: list[tuple[str, frozenset[str]]] = [
    ("x86-64-v2", frozenset({"cx16", "lahf_lm", "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"})),
    ("x86-64-v3", frozenset({"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe",
                             "xsave"})),
    ("x86-64-v4", frozenset({"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"})),
]


def x86_level(flags: set[str]) -> str:
    level = "x86-64"
    for name, needed in X86_LEVELS:
        if not needed <= flags:
            break
        level = name
    return level


def parse_cpuinfo(text: str) -> dict:
    """Model, vendor, flags and logical CPU count from /proc/cpuinfo text."""
    first: dict[str, str] = {}
    count = 0
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip().lower()] = value.strip()
        if "processor" in fields:
            count += 1
        if not first and fields:
            first = fields
    flags = (first.get("flags") or first.get("features") or "").split()
    return {
        "model": first.get("model name") or first.get("cpu model") or first.get("hardware"),
        "vendor": first.get("vendor_id") or first.get("cpu implementer"),
        "flags": sorted(set(flags)),
        "logical_cpus": count or None,
    }


# IsProcessorFeaturePresent codes, named with /proc/cpuinfo's spelling (SSE3 is "pni").
WINDOWS_FEATURES = {"pni": 13, "ssse3": 36, "sse4_1": 37, "sse4_2": 38, "avx": 39,
                    "avx2": 40, "avx512f": 41}

# macOS sysctl feature names (lower-cased, "." -> "_") in /proc/cpuinfo spelling.
MACOS_ALIASES = {"sse3": "pni", "avx1_0": "avx", "lahf": "lahf_lm", "lzcnt": "abm",
                 "fma": "fma", "sse4_1": "sse4_1", "sse4_2": "sse4_2"}


def _windows_flags() -> list[str]:  # pragma: no cover - exercised on Windows only
    import ctypes

    present = ctypes.windll.kernel32.IsProcessorFeaturePresent
    return sorted(name for name, code in WINDOWS_FEATURES.items() if present(code))


def normalize_macos_flags(words: list[str]) -> list[str]:
    """sysctl machdep.cpu.*features words -> /proc/cpuinfo spelling."""
    flags = set()
    for word in words:
        name = word.lower().replace(".", "_")
        flags.add(MACOS_ALIASES.get(name, name))
    return sorted(flags)


def _macos(ctx: ProbeContext) -> tuple[Optional[str], list[str]]:
    from envdoctor import proc

    result = proc.run(["sysctl", "-n", "machdep.cpu.brand_string", "machdep.cpu.features",
                       "machdep.cpu.leaf7_features", "machdep.cpu.extfeatures"],
                      timeout=ctx.timeout)
    lines = result.stdout.splitlines() if result.ok else []
    model = lines[0].strip() if lines else None
    return model, normalize_macos_flags(" ".join(lines[1:]).split())


def probe_cpu(ctx: ProbeContext) -> dict:
    system = _platform.system()
    machine = (os.uname().machine if hasattr(os, "uname") else _platform.machine()).lower()
    # flags use /proc/cpuinfo's spelling on every OS. flags_known: the flags the source
    # can report at all (None: all of them); Windows reports only a few.
    facts: dict = {"machine": machine, "model": None, "vendor": None, "flags": [],
                   "flags_source": None, "flags_known": None,
                   "logical_cpus": os.cpu_count(), "x86_level": None}
    if system == "Linux":
        text = ctx.read_text("/proc/cpuinfo")
        if text is None:
            facts["flags_source"] = "unavailable: /proc/cpuinfo unreadable"
        else:
            parsed = parse_cpuinfo(text)
            facts.update({k: v for k, v in parsed.items() if v is not None})
            facts["flags_source"] = "/proc/cpuinfo"
    elif system == "Windows":  # pragma: no cover - Windows only
        facts["flags"] = _windows_flags()
        facts["model"] = _platform.processor() or None
        facts["flags_source"] = "IsProcessorFeaturePresent"
        facts["flags_known"] = sorted(WINDOWS_FEATURES)
    elif system == "Darwin":
        facts["model"], facts["flags"] = _macos(ctx)
        facts["flags_source"] = "sysctl" if facts["flags"] else "unavailable: sysctl failed"
    complete = facts["flags_source"] in ("/proc/cpuinfo", "sysctl") and facts["flags"]
    if machine in ("x86_64", "amd64") and complete:
        facts["x86_level"] = x86_level(set(facts["flags"]))
    return facts


PROBES = [Probe("cpu", probe_cpu)]
