"""The fallback when NVML cannot be used: ``nvidia-smi -q -x`` parsed as XML.

:func:`parse_xml` turns the XML (DTD v10 to v13, Linux or Windows drivers) into the
same facts :mod:`envdoctor.nvml` gives, and lists in ``missing`` what the file did not
say (an old or truncated file lacks the driver version, the CUDA level, the UUID...).
A file cut in the middle is read up to its last complete ``<gpu>`` element.
:func:`query` runs nvidia-smi with a timeout: a hang (a GPU fallen off the bus does
this) is killed and recorded, never waited for.

``xml.etree`` is imported inside the functions that parse, not at module import.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from envdoctor.nvml import CLOCK_EVENT_BITS

_UNAVAILABLE = {"n/a", "[n/a]", "not supported", "[not supported]", "none",
                "requested functionality has been deprecated", "unknown error",
                "[unknown error]", "insufficient permissions", "[insufficient permissions]",
                "not available", ""}
_REASON_NAMES = {name for _, name in CLOCK_EVENT_BITS}
_DTD = re.compile(r"nvsmi_device_(v\d+)\.dtd")


def _find(node: Any, path: str) -> Any:
    return node.find(path) if node is not None else None


def text(node: Any, path: str) -> Optional[str]:
    """The stripped text at ``path`` or None when absent or N/A-like."""
    found = _find(node, path)
    if found is None or found.text is None:
        return None
    value = found.text.strip()
    return None if value.lower() in _UNAVAILABLE else value


def number(node: Any, path: str) -> Optional[int]:
    """ "20475 MiB" -> 20475, "16x" -> 16, "38 C" -> 38; None when not a number."""
    value = text(node, path)
    if value is None:
        return None
    match = re.match(r"-?\d+", value)
    return int(match.group(0)) if match else None


def flag(node: Any, path: str) -> Optional[bool]:
    value = text(node, path)
    if value is None:
        return None
    low = value.lower()
    if low in ("enabled", "yes", "active", "true", "1"):
        return True
    if low in ("disabled", "no", "not active", "false", "0"):
        return False
    return None


def _clock_reasons(gpu: Any) -> Optional[list[str]]:
    block = _find(gpu, "clocks_event_reasons")
    if block is None:
        block = _find(gpu, "clocks_throttle_reasons")
    if block is None:
        return None
    active: list[str] = []
    seen_any = False
    for child in block:
        name = re.sub(r"^clocks_(?:event|throttle)_reason_", "", child.tag)
        state = (child.text or "").strip().lower()
        if state in ("active", "not active"):
            seen_any = True
        if name in _REASON_NAMES and state == "active":
            active.append(name)
    order = [n for _, n in CLOCK_EVENT_BITS]
    return sorted(active, key=order.index) if seen_any else None


def _uncorrected(block: Any) -> Optional[int]:
    if block is None:
        return None
    values: list[Optional[int]] = []
    if _find(block, "double_bit") is not None:  # DTD v10/v11 (Pascal era)
        values.append(number(block, "double_bit/total"))
    else:
        values.append(number(block, "dram_uncorrectable"))
        if _find(block, "sram_uncorrectable") is not None:
            values.append(number(block, "sram_uncorrectable"))
        else:  # DTD v13 splits SRAM errors
            values.append(number(block, "sram_uncorrectable_parity"))
            values.append(number(block, "sram_uncorrectable_secded"))
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _processes(gpu: Any) -> Optional[list[dict]]:
    block = _find(gpu, "processes")
    if block is None:
        return None
    procs = []
    for info in block.findall("process_info"):
        procs.append({"pid": number(info, "pid"), "name": text(info, "process_name"),
                      "type": text(info, "type"), "used_memory_mib": number(info, "used_memory")})
    return procs


def _mig_devices(gpu: Any) -> list[dict]:
    devices = []
    for dev in gpu.findall("mig_devices/mig_device"):
        devices.append({
            "index": number(dev, "index"), "uuid": None, "name": None,
            "gpu_instance_id": number(dev, "gpu_instance_id"),
            "compute_instance_id": number(dev, "compute_instance_id"),
            "memory_total_mib": number(dev, "fb_memory_usage/total"),
            "memory_used_mib": number(dev, "fb_memory_usage/used"),
        })
    return devices


GPU_FIELDS = ("name", "uuid", "pci_bus_id", "memory_total_mib")


def parse_gpu(gpu: Any, index: int) -> dict:
    link = "pci/pci_gpu_link_info"
    mig_block = _find(gpu, "mig_mode")
    mig = None
    if mig_block is not None:
        current, pending = flag(mig_block, "current_mig"), flag(mig_block, "pending_mig")
        if current is not None or pending is not None:
            mig = {"current": current, "pending": pending}
    retired = _find(gpu, "retired_pages")
    retired_count = None
    if retired is not None:
        counts = [number(retired, p) for p in ("multiple_single_bit_retirement/retired_count",
                                               "double_bit_retirement/retired_count")]
        known = [c for c in counts if c is not None]
        retired_count = sum(known) if known else None
    rows_block = _find(gpu, "remapped_rows")
    rows = None
    if rows_block is not None and text(rows_block, "remapped_row_failure") is not None:
        rows = {"correctable": number(rows_block, "remapped_row_corr"),
                "uncorrectable": number(rows_block, "remapped_row_unc"),
                "pending": flag(rows_block, "remapped_row_pending"),
                "failure": flag(rows_block, "remapped_row_failure")}
    return {
        "index": index,
        "name": text(gpu, "product_name"),
        "uuid": text(gpu, "uuid"),
        "pci_bus_id": text(gpu, "pci/pci_bus_id") or (gpu.get("id") or None),
        "compute_capability": None,  # not in -q -x; the probe asks --query-gpu=compute_cap
        "architecture": text(gpu, "product_architecture"),
        "memory_total_mib": number(gpu, "fb_memory_usage/total"),
        "memory_used_mib": number(gpu, "fb_memory_usage/used"),
        "memory_free_mib": number(gpu, "fb_memory_usage/free"),
        "memory_reserved_mib": number(gpu, "fb_memory_usage/reserved"),
        "pcie": {
            "gen_current": number(gpu, f"{link}/pcie_gen/current_link_gen"),
            "gen_max": number(gpu, f"{link}/pcie_gen/max_link_gen"),
            "gen_max_device": number(gpu, f"{link}/pcie_gen/max_device_link_gen"),
            "width_current": number(gpu, f"{link}/link_widths/current_link_width"),
            "width_max": number(gpu, f"{link}/link_widths/max_link_width"),
        },
        "persistence_mode": flag(gpu, "persistence_mode"),
        "mig_mode": mig,
        "mig_devices": _mig_devices(gpu),
        "ecc": {
            "mode_current": flag(gpu, "ecc_mode/current_ecc"),
            "mode_pending": flag(gpu, "ecc_mode/pending_ecc"),
            "uncorrected_volatile": _uncorrected(_find(gpu, "ecc_errors/volatile")),
            "uncorrected_aggregate": _uncorrected(_find(gpu, "ecc_errors/aggregate")),
        },
        "retired_pages_pending": flag(gpu, "retired_pages/pending_retirement"),
        "retired_pages_count": retired_count,
        "remapped_rows": rows,
        "remapped_rows_failure": rows["failure"] if rows else None,
        "clock_event_reasons": _clock_reasons(gpu),
        "temperature_c": number(gpu, "temperature/gpu_temp"),
        "inforom_valid": None,
        "virtualization_mode": text(gpu, "gpu_virtualization_mode/virtualization_mode"),
        "processes": _processes(gpu),
        "lost": False,
    }


def _version(root: Any, tags: tuple[str, ...]) -> Optional[str]:
    """The first of ``tags`` holding a version number, without a "[Deprecated; ...]" note."""
    for tag in tags:
        value = text(root, tag)
        if value:
            value = re.sub(r"\s*\[[^\]]*\]\s*$", "", value).strip()
            if re.match(r"\d", value):
                return value
    return None


def _salvage(raw: str) -> tuple[Optional[str], Optional[str]]:
    """A cut XML document closed after its last complete <gpu>, and what was cut."""
    end = raw.rfind("</gpu>")
    if end >= 0:
        return raw[: end + len("</gpu>")] + "\n</nvidia_smi_log>\n", "after the last complete GPU"
    head = raw.find("<gpu")
    if head >= 0 and "<nvidia_smi_log" in raw:
        return raw[:head] + "</nvidia_smi_log>\n", "every GPU"
    return None, None


def parse_xml(raw: str) -> dict:
    """Facts from ``nvidia-smi -q -x`` output (never raises)."""
    import xml.etree.ElementTree as ET

    facts: dict[str, Any] = {"ok": False, "driver_version": None, "cuda_driver_version": None,
                             "nvml_version": None, "gpus": [], "attached_gpus": None,
                             "dtd": None, "missing": [], "parse_error": None}
    match = _DTD.search(raw[:500])
    facts["dtd"] = match.group(1) if match else None
    # The DOCTYPE names an external DTD: drop it so nothing is ever fetched or expanded.
    body = re.sub(r"<!DOCTYPE[^>\[]*(\[[^\]]*\])?\s*>", "", raw, count=1)
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        fixed, lost = _salvage(body)
        facts["parse_error"] = f"not well-formed XML ({exc})"
        root = None
        if fixed is not None:
            try:
                root = ET.fromstring(fixed)
                facts["parse_error"] += f"; read what came before the cut, lost {lost}"
            except ET.ParseError:
                root = None
    if root is None or root.tag != "nvidia_smi_log":
        if root is not None:
            facts["parse_error"] = f"unexpected root element <{root.tag}>"
        return facts
    # Driver 610 and later mark <driver_version>/<cuda_version> "[Deprecated; ...]" and add
    # KMD / CUDA UMD versions (nvidia-smi -q: "KMD Version", "CUDA UMD Version").
    facts["driver_version"] = _version(root, ("kmd_version", "driver_version"))
    facts["cuda_driver_version"] = _version(root, ("cuda_umd_version", "cuda_version"))
    facts["attached_gpus"] = number(root, "attached_gpus")
    for i, gpu in enumerate(root.findall("gpu")):
        facts["gpus"].append(parse_gpu(gpu, i))
    missing = [f for f in ("driver_version", "cuda_driver_version") if facts[f] is None]
    for gpu in facts["gpus"]:
        missing += [f"gpus[{gpu['index']}].{f}" for f in GPU_FIELDS if gpu.get(f) is None]
    if facts["attached_gpus"] is not None and facts["attached_gpus"] != len(facts["gpus"]):
        missing.append(f"{facts['attached_gpus'] - len(facts['gpus'])} of "
                       f"{facts['attached_gpus']} attached GPUs")
    facts["missing"] = missing
    facts["ok"] = bool(facts["gpus"]) or facts["driver_version"] is not None
    return facts


def describe_failure(result: Any) -> dict:
    """An ``errors`` entry for a nvidia-smi run that gave no usable XML."""
    out = (result.stdout or "") + "\n" + (result.stderr or "")
    low = out.lower()
    code = "FAILED"
    message = result.describe()
    if result.timed_out:
        code = "HUNG"
        message = (f"nvidia-smi did not answer: {result.error}; a GPU that has fallen off "
                   "the bus or a stuck driver does this")
    elif result.error == "not found":
        code = "NOT_FOUND"
        message = "nvidia-smi is not installed (not on PATH)"
    elif result.error:
        code = "COULD_NOT_RUN"
    elif "driver/library version mismatch" in low:
        code = "LIB_RM_VERSION_MISMATCH"
        message = "nvidia-smi: Failed to initialize NVML: Driver/library version mismatch"
    elif "couldn't communicate with the nvidia driver" in low or "driver not loaded" in low:
        code = "DRIVER_NOT_LOADED"
        message = ("nvidia-smi has failed because it couldn't communicate with the NVIDIA "
                   "driver")
    elif "no devices were found" in low:
        code = "NO_DEVICES"
        message = "nvidia-smi: No devices were found"
    elif "insufficient permissions" in low or "permission" in low:
        code = "NO_PERMISSION"
        message = "nvidia-smi: insufficient permissions to open the GPU"
    elif "gpu is lost" in low or "unable to determine the device handle" in low:
        code = "GPU_IS_LOST"
        message = "nvidia-smi: the GPU is lost (Unable to determine the device handle)"
    elif result.ok:
        code = "GARBAGE"
        message = "nvidia-smi -q -x printed something that is not its XML report"
    first = next((ln.strip() for ln in out.splitlines() if ln.strip()), "")
    return {"source": "nvidia-smi", "code": code, "message": message,
            "detail": first[:300] or None}


def query(timeout: float, env: Optional[dict] = None, exe: str = "nvidia-smi") -> dict:
    """Run ``nvidia-smi -q -x`` (and ``--query-gpu=compute_cap``) within ``timeout``."""
    import time

    from envdoctor import proc

    start = time.monotonic()
    result = proc.run([exe, "-q", "-x"], timeout=timeout, env=env)
    facts: dict[str, Any]
    if result.ok and "<nvidia_smi_log" in result.stdout:
        facts = parse_xml(result.stdout)
    else:
        facts = {"ok": False, "gpus": []}
    facts["run"] = result.to_fact()
    facts["errors"] = []
    if not facts["ok"]:
        error = describe_failure(result)
        if facts.get("parse_error"):
            error.update(code="GARBAGE", message=f"nvidia-smi -q -x: {facts['parse_error']}")
        facts["errors"].append(error)
        return facts
    if facts.get("parse_error"):
        facts["errors"].append({"source": "nvidia-smi", "code": "TRUNCATED",
                                "message": f"nvidia-smi -q -x: {facts['parse_error']}",
                                "detail": None})
    left = timeout - (time.monotonic() - start)
    if facts["gpus"] and left > 0.2:
        caps = proc.run([exe, "--query-gpu=index,compute_cap", "--format=csv,noheader"],
                        timeout=left, env=env)
        if caps.ok:
            for line in caps.stdout.splitlines():
                parts = [p.strip() for p in line.split(",")]
                if len(parts) == 2 and parts[0].isdigit() and re.fullmatch(r"\d+\.\d+", parts[1]):
                    idx = int(parts[0])
                    if idx < len(facts["gpus"]):
                        facts["gpus"][idx]["compute_capability"] = parts[1]
    return facts
