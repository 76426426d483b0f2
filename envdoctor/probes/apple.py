"""Apple Silicon and the Mac's GPU: facts["apple"] (macOS only).

One ``sysctl`` call (unified memory size, Apple Silicon even under Rosetta, chip name)
and one ``system_profiler SPDisplaysDataType -json`` call (GPU name, core count, Metal
support), each with a timeout; the macOS version from SystemVersion.plist. Parsers in
:mod:`envdoctor.apple.profiler`. On any other system nothing runs.

Shape (``None`` when unknown)::

    {"present": bool, "apple_silicon": bool, "chip": "Apple M3 Pro",
     "macos_version": "14.4.1", "unified_memory_mib": 36864,
     "gpus": [{"index", "name", "vendor", "cores", "metal_family", "apple"}],
     "errors": [{"source", "code", "message"}], "runs": {...}}
"""

from __future__ import annotations

import platform as _platform
import time
from typing import Any

from envdoctor.probes import Probe, ProbeContext

SYSCTL_NAMES = ["hw.memsize", "hw.optional.arm64", "machdep.cpu.brand_string"]
PLIST = "/System/Library/CoreServices/SystemVersion.plist"


def _error(source: str, result) -> dict:
    code = ("NOT_FOUND" if result.error == "not found" else
            "TIMED_OUT" if result.timed_out else "FAILED")
    return {"source": source, "code": code, "message": result.describe()}


def collect(ctx: ProbeContext, system: str) -> dict:
    """The facts on ``system`` ("Darwin" runs the tools; anything else returns empty)."""
    from envdoctor import proc
    from envdoctor.apple import profiler

    start = time.monotonic()
    facts: dict[str, Any] = {"present": False, "apple_silicon": None, "chip": None,
                             "macos_version": None, "unified_memory_mib": None,
                             "gpus": [], "errors": [], "runs": {}}
    if system != "Darwin":
        return facts
    facts["macos_version"] = profiler.macos_version(ctx.read_text(PLIST))
    env = dict(ctx.environ)
    # Without -n: a name this macOS does not know drops out instead of shifting lines.
    sysctl = proc.run(["sysctl", *SYSCTL_NAMES], timeout=max(0.5, ctx.timeout * 0.3), env=env)
    facts["runs"]["sysctl"] = sysctl.to_fact()
    values = profiler.parse_sysctl(sysctl.stdout)
    if not values:
        facts["errors"].append(_error("sysctl", sysctl))
    try:
        facts["unified_memory_mib"] = int(values["hw.memsize"]) // (1024 * 1024)
    except (KeyError, ValueError):
        pass
    if "hw.optional.arm64" in values:
        facts["apple_silicon"] = values["hw.optional.arm64"] == "1"
    brand = values.get("machdep.cpu.brand_string")
    if brand and brand.startswith("Apple "):
        facts["chip"] = brand  # under Rosetta this reads "VirtualApple ...": not a chip

    left = ctx.timeout - (time.monotonic() - start) - 0.2
    displays = proc.run(["system_profiler", "SPDisplaysDataType", "-json"],
                        timeout=max(0.5, left), env=env)
    facts["runs"]["system_profiler"] = displays.to_fact()
    parsed = profiler.parse_displays(displays.stdout)
    if parsed["ok"]:
        facts["gpus"] = parsed["gpus"]
    elif displays.ok:
        facts["errors"].append({"source": "system_profiler", "code": "NO_JSON",
                                "message": parsed["error"]})
    else:
        facts["errors"].append(_error("system_profiler", displays))
    for gpu in facts["gpus"]:
        if gpu.get("apple") and facts["unified_memory_mib"]:
            gpu["memory_total_mib"] = facts["unified_memory_mib"]  # unified memory
    if not facts["chip"] and facts["apple_silicon"]:
        facts["chip"] = next((g["name"] for g in facts["gpus"] if g.get("apple")), None)
    facts["present"] = bool(facts["apple_silicon"] or facts["gpus"])
    facts["duration_ms"] = round((time.monotonic() - start) * 1000, 1)
    return facts


def probe_apple(ctx: ProbeContext) -> dict:
    return collect(ctx, _platform.system())


PROBES = [Probe("apple", probe_apple)]
