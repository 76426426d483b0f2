"""The one NVML wrapper: NVIDIA's official binding (nvidia-ml-py, import name ``pynvml``).

In the spirit of nvitop's ``nvmlQuery``: NVML is initialised lazily, every call goes
through :meth:`Nvml.query`, and every NVML error becomes a plain fact
(``{"source": "nvml", "code": "LIB_RM_VERSION_MISMATCH", "message": ..., "call": ...}``).
``NOT_SUPPORTED`` (normal on GeForce boards for ECC, retired pages, MIG...) and a
function missing from an old driver or binding mean "not available" (``None``), never
an error. Callers never see a raw ctypes or NVML exception.

Nothing here is imported at envdoctor's start: the nvidia probe imports this module,
and this module imports ``pynvml``, only when the machine shows a sign of an NVIDIA GPU.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

# NVML return codes (nvml.h; the same numbers as nvidia-ml-py's NVML_ERROR_* constants).
ERROR_NAMES: dict[int, str] = {
    1: "UNINITIALIZED", 2: "INVALID_ARGUMENT", 3: "NOT_SUPPORTED", 4: "NO_PERMISSION",
    5: "ALREADY_INITIALIZED", 6: "NOT_FOUND", 7: "INSUFFICIENT_SIZE",
    8: "INSUFFICIENT_POWER", 9: "DRIVER_NOT_LOADED", 10: "TIMEOUT", 11: "IRQ_ISSUE",
    12: "LIBRARY_NOT_FOUND", 13: "FUNCTION_NOT_FOUND", 14: "CORRUPTED_INFOROM",
    15: "GPU_IS_LOST", 16: "RESET_REQUIRED", 17: "OPERATING_SYSTEM",
    18: "LIB_RM_VERSION_MISMATCH", 19: "IN_USE", 20: "MEMORY", 21: "NO_DATA",
    22: "VGPU_ECC_NOT_SUPPORTED", 23: "INSUFFICIENT_RESOURCES", 24: "FREQ_NOT_SUPPORTED",
    25: "ARGUMENT_VERSION_MISMATCH", 26: "DEPRECATED", 27: "NOT_READY", 28: "GPU_NOT_FOUND",
    29: "INVALID_STATE", 30: "RESET_TYPE_NOT_SUPPORTED", 999: "UNKNOWN",
}

# What a user should read for the errors that have a known cause.
ERROR_MEANINGS: dict[str, str] = {
    "LIB_RM_VERSION_MISMATCH": "Driver/library version mismatch: the NVIDIA user-space "
                               "library is newer than the loaded kernel module",
    "DRIVER_NOT_LOADED": "the NVIDIA kernel driver is not loaded",
    "LIBRARY_NOT_FOUND": "the NVML library (libnvidia-ml.so.1 / nvml.dll) was not found: "
                         "the NVIDIA driver's user-space part is not installed",
    "NO_PERMISSION": "no permission to open the GPU device nodes (/dev/nvidia*)",
    "GPU_IS_LOST": "the GPU is lost: it has fallen off the bus or stopped responding",
    "RESET_REQUIRED": "the GPU needs a reset",
    "CORRUPTED_INFOROM": "the GPU's InfoROM is corrupted",
    "INSUFFICIENT_POWER": "the GPU's external power cables are not connected properly",
    "IRQ_ISSUE": "the NVIDIA kernel driver detected an interrupt problem with the GPU",
    "OPERATING_SYSTEM": "the operating system blocked the request",
    "TIMEOUT": "NVML timed out",
    "UNKNOWN": "NVML failed with an unknown error",
    "BINDING_NOT_INSTALLED": "nvidia-ml-py (the official NVML binding) is not installed",
    "HUNG": "NVML did not answer in time (a GPU that has fallen off the bus does this)",
}

# Errors that mean "this value is not available here", not "something is wrong".
QUIET = frozenset({"NOT_SUPPORTED", "FUNCTION_NOT_FOUND", "NO_DATA", "NOT_FOUND",
                   "DEPRECATED", "INVALID_ARGUMENT", "ARGUMENT_VERSION_MISMATCH",
                   "INSUFFICIENT_SIZE"})

ARCHITECTURES = {2: "Kepler", 3: "Maxwell", 4: "Pascal", 5: "Volta", 6: "Turing",
                 7: "Ampere", 8: "Ada Lovelace", 9: "Hopper", 10: "Blackwell", 13: "Rubin"}

# nvmlClocksEventReason* bits, named like nvidia-smi -q -x's <clocks_event_reason_*> tags.
CLOCK_EVENT_BITS = [
    (0x1, "gpu_idle"), (0x2, "applications_clocks_setting"), (0x4, "sw_power_cap"),
    (0x8, "hw_slowdown"), (0x10, "sync_boost"), (0x20, "sw_thermal_slowdown"),
    (0x40, "hw_thermal_slowdown"), (0x80, "hw_power_brake_slowdown"),
    (0x100, "display_clocks_setting"),
]

NOT_AVAILABLE_ULL = 0xFFFFFFFFFFFFFFFF
MIB = 1024 * 1024


def error_code(exc: BaseException) -> str:
    """The NVML error name of an exception from the binding (``UNEXPECTED`` otherwise)."""
    value = getattr(exc, "value", None)
    if isinstance(value, int):
        return ERROR_NAMES.get(value, f"NVML_ERROR_{value}")
    return "UNEXPECTED"


def _text(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value).strip().strip("\x00")
    return text or None


class Nvml:
    """A lazily initialised NVML session that records errors instead of raising them."""

    def __init__(self, loader: Optional[Callable[[], Any]] = None) -> None:
        self._loader = loader
        self.lib: Any = None
        self.errors: list[dict] = []
        self.init_error: Optional[dict] = None
        self.binding: Optional[str] = None
        self._seen: set[tuple] = set()

    # -- session -------------------------------------------------------------------
    def init(self) -> bool:
        """Import the binding and call nvmlInit; False (with ``init_error``) on failure."""
        if self.lib is not None:
            return True
        if self.init_error is not None:
            return False
        try:
            if self._loader is not None:
                lib = self._loader()
            else:
                import pynvml as lib  # nvidia-ml-py
        except ImportError:
            self.init_error = self._record("BINDING_NOT_INSTALLED", None, "import pynvml")
            return False
        except Exception as exc:  # a broken binding is a fact, not a crash
            self.init_error = self._record("UNEXPECTED", None, "import pynvml", exc)
            return False
        self.binding = getattr(lib, "__file__", None)
        try:
            lib.nvmlInit()
        except Exception as exc:
            self.init_error = self._record(error_code(exc), None, "nvmlInit", exc)
            return False
        self.lib = lib
        return True

    def shutdown(self) -> None:
        if self.lib is not None:
            try:
                self.lib.nvmlShutdown()
            except Exception:
                pass
            self.lib = None

    # -- queries -------------------------------------------------------------------
    def query(self, name: str, *args: Any, default: Any = None, gpu: Optional[int] = None,
              **kwargs: Any) -> Any:
        """``pynvml.<name>(*args)``, or ``default`` when not available or failing."""
        if self.lib is None and not self.init():
            return default
        func = getattr(self.lib, name, None)
        if func is None:
            return default  # an older binding: the value is not available
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            code = error_code(exc)
            if code not in QUIET:
                self._record(code, gpu, name, exc)
            return default

    def _record(self, code: str, gpu: Optional[int], call: str,
                exc: Optional[BaseException] = None) -> dict:
        detail = ""
        if exc is not None:
            detail = _text(str(exc)) or type(exc).__name__
        meaning = ERROR_MEANINGS.get(code)
        message = meaning or f"NVML error {code}"
        if detail and code == "UNEXPECTED":
            message = f"{call} failed: {type(exc).__name__}: {detail}"
        error = {"source": "nvml", "code": code, "message": message, "call": call,
                 "gpu": gpu, "detail": detail or None}
        key = (code, gpu)
        if key not in self._seen:
            self._seen.add(key)
            self.errors.append(error)
        return error


# -- collection ----------------------------------------------------------------------
def _mib(value: Any) -> Optional[int]:
    if value is None or not isinstance(value, int) or value == NOT_AVAILABLE_ULL:
        return None
    return int(round(value / MIB))


def _enabled(value: Any) -> Optional[bool]:
    if value is None:
        return None
    try:
        return bool(int(value))
    except (TypeError, ValueError):
        return None


def clock_event_names(mask: Optional[int]) -> Optional[list[str]]:
    if mask is None:
        return None
    return [name for bit, name in CLOCK_EVENT_BITS if int(mask) & bit]


def _pcie(nv: Nvml, h: Any, i: int) -> dict:
    return {
        "gen_current": nv.query("nvmlDeviceGetCurrPcieLinkGeneration", h, gpu=i),
        "gen_max": nv.query("nvmlDeviceGetMaxPcieLinkGeneration", h, gpu=i),
        "gen_max_device": nv.query("nvmlDeviceGetGpuMaxPcieLinkGeneration", h, gpu=i),
        "width_current": nv.query("nvmlDeviceGetCurrPcieLinkWidth", h, gpu=i),
        "width_max": nv.query("nvmlDeviceGetMaxPcieLinkWidth", h, gpu=i),
    }


def _memory(nv: Nvml, h: Any, i: int) -> dict:
    version = getattr(nv.lib, "nvmlMemory_v2", None)
    info = None
    if version is not None:
        info = nv.query("nvmlDeviceGetMemoryInfo", h, gpu=i, version=version)
    if info is None:
        info = nv.query("nvmlDeviceGetMemoryInfo", h, gpu=i)
    if info is None:
        return {"memory_total_mib": None, "memory_used_mib": None, "memory_free_mib": None,
                "memory_reserved_mib": None}
    return {"memory_total_mib": _mib(getattr(info, "total", None)),
            "memory_used_mib": _mib(getattr(info, "used", None)),
            "memory_free_mib": _mib(getattr(info, "free", None)),
            "memory_reserved_mib": _mib(getattr(info, "reserved", None))}


def _ecc(nv: Nvml, h: Any, i: int) -> dict:
    mode = nv.query("nvmlDeviceGetEccMode", h, gpu=i)
    current = pending = None
    if isinstance(mode, (tuple, list)) and len(mode) == 2:
        current, pending = _enabled(mode[0]), _enabled(mode[1])
    ecc = {"mode_current": current, "mode_pending": pending,
           "uncorrected_volatile": None, "uncorrected_aggregate": None}
    if current:
        unc = getattr(nv.lib, "NVML_MEMORY_ERROR_TYPE_UNCORRECTED", 1)
        ecc["uncorrected_volatile"] = nv.query(
            "nvmlDeviceGetTotalEccErrors", h, unc, getattr(nv.lib, "NVML_VOLATILE_ECC", 0), gpu=i)
        ecc["uncorrected_aggregate"] = nv.query(
            "nvmlDeviceGetTotalEccErrors", h, unc, getattr(nv.lib, "NVML_AGGREGATE_ECC", 1),
            gpu=i)
    return ecc


def _mig(nv: Nvml, h: Any, i: int) -> tuple[Optional[dict], list[dict]]:
    mode = nv.query("nvmlDeviceGetMigMode", h, gpu=i)
    if not (isinstance(mode, (tuple, list)) and len(mode) == 2):
        return None, []
    mig = {"current": _enabled(mode[0]), "pending": _enabled(mode[1])}
    devices: list[dict] = []
    if mig["current"]:
        count = nv.query("nvmlDeviceGetMaxMigDeviceCount", h, gpu=i, default=0) or 0
        for slot in range(int(count)):
            mh = nv.query("nvmlDeviceGetMigDeviceHandleByIndex", h, slot, gpu=i)
            if mh is None:
                continue
            mem = nv.query("nvmlDeviceGetMemoryInfo", mh, gpu=i)
            devices.append({
                "index": slot,
                "uuid": _text(nv.query("nvmlDeviceGetUUID", mh, gpu=i)),
                "name": _text(nv.query("nvmlDeviceGetName", mh, gpu=i)),
                "gpu_instance_id": nv.query("nvmlDeviceGetGpuInstanceId", mh, gpu=i),
                "compute_instance_id": nv.query("nvmlDeviceGetComputeInstanceId", mh, gpu=i),
                "memory_total_mib": _mib(getattr(mem, "total", None)),
                "memory_used_mib": _mib(getattr(mem, "used", None)),
            })
    return mig, devices


def _processes(nv: Nvml, h: Any, i: int, name_of: Callable[[int], Optional[str]]) -> list:
    merged: dict[int, dict] = {}
    for call, kind in (("nvmlDeviceGetComputeRunningProcesses", "C"),
                       ("nvmlDeviceGetGraphicsRunningProcesses", "G")):
        for proc in nv.query(call, h, gpu=i, default=[]) or []:
            pid = getattr(proc, "pid", None)
            if pid is None:
                continue
            used = getattr(proc, "usedGpuMemory", None)
            entry = merged.get(pid)
            if entry is None:
                merged[pid] = {"pid": pid, "name": None, "type": kind,
                               "used_memory_mib": _mib(used)}
            elif kind not in entry["type"]:
                entry["type"] = entry["type"] + "+" + kind
    for entry in merged.values():
        name = _text(nv.query("nvmlSystemGetProcessName", entry["pid"], gpu=i))
        entry["name"] = name or name_of(entry["pid"])
    return sorted(merged.values(), key=lambda p: p["pid"])


def collect_gpu(nv: Nvml, i: int, name_of: Callable[[int], Optional[str]]) -> dict:
    """Every fact about GPU ``i`` that this NVML can give."""
    before = len(nv.errors)
    h = nv.query("nvmlDeviceGetHandleByIndex", i, gpu=i)
    if h is None:
        new = nv.errors[before:]
        return {"index": i, "name": None, "uuid": None, "pci_bus_id": None,
                "lost": any(e["code"] == "GPU_IS_LOST" for e in new),
                "error": new[0]["code"] if new else "UNKNOWN"}
    pci = nv.query("nvmlDeviceGetPciInfo", h, gpu=i)
    bus_id = _text(getattr(pci, "busId", None)) or _text(getattr(pci, "busIdLegacy", None))
    cc = nv.query("nvmlDeviceGetCudaComputeCapability", h, gpu=i)
    arch = nv.query("nvmlDeviceGetArchitecture", h, gpu=i)
    gpu: dict[str, Any] = {
        "index": i,
        "name": _text(nv.query("nvmlDeviceGetName", h, gpu=i)),
        "uuid": _text(nv.query("nvmlDeviceGetUUID", h, gpu=i)),
        "pci_bus_id": bus_id,
        "compute_capability": (f"{cc[0]}.{cc[1]}" if isinstance(cc, (tuple, list))
                               and len(cc) == 2 else None),
        "architecture": ARCHITECTURES.get(arch) if isinstance(arch, int) else None,
    }
    gpu.update(_memory(nv, h, i))
    gpu["pcie"] = _pcie(nv, h, i)
    gpu["persistence_mode"] = _enabled(nv.query("nvmlDeviceGetPersistenceMode", h, gpu=i))
    gpu["mig_mode"], gpu["mig_devices"] = _mig(nv, h, i)
    gpu["ecc"] = _ecc(nv, h, i)
    pending = nv.query("nvmlDeviceGetRetiredPagesPendingStatus", h, gpu=i)
    gpu["retired_pages_pending"] = _enabled(pending)
    retired = None
    for cause in (0, 1):  # multiple single-bit, double-bit
        pages = nv.query("nvmlDeviceGetRetiredPages", h, cause, gpu=i)
        if pages is not None:
            retired = (retired or 0) + len(pages)
    gpu["retired_pages_count"] = retired
    rows = nv.query("nvmlDeviceGetRemappedRows", h, gpu=i)
    if isinstance(rows, (tuple, list)) and len(rows) == 4:
        gpu["remapped_rows"] = {"correctable": rows[0], "uncorrectable": rows[1],
                                "pending": bool(rows[2]), "failure": bool(rows[3])}
        gpu["remapped_rows_failure"] = bool(rows[3])
    else:
        gpu["remapped_rows"] = None
        gpu["remapped_rows_failure"] = None
    mask = nv.query("nvmlDeviceGetCurrentClocksEventReasons", h, gpu=i)
    if mask is None:
        mask = nv.query("nvmlDeviceGetCurrentClocksThrottleReasons", h, gpu=i)
    gpu["clock_event_reasons"] = clock_event_names(mask)
    temp = nv.query("nvmlDeviceGetTemperature", h, 0, gpu=i)
    gpu["temperature_c"] = temp if isinstance(temp, int) else None
    inforom = nv.lib is not None and getattr(nv.lib, "nvmlDeviceValidateInforom", None)
    if inforom:
        before_inforom = len(nv.errors)
        nv.query("nvmlDeviceValidateInforom", h, gpu=i, default=None)
        bad = [e for e in nv.errors[before_inforom:] if e["code"] == "CORRUPTED_INFOROM"]
        gpu["inforom_valid"] = not bad
    else:
        gpu["inforom_valid"] = None
    gpu["processes"] = _processes(nv, h, i, name_of)
    gpu["lost"] = any(e["code"] == "GPU_IS_LOST" and e["gpu"] == i for e in nv.errors)
    return gpu


def collect(nv: Nvml, name_of: Callable[[int], Optional[str]] = lambda pid: None) -> dict:
    """Driver-level facts and every GPU, or just the init error when NVML cannot start."""
    start = time.monotonic()
    facts: dict[str, Any] = {"ok": False, "driver_version": None, "cuda_driver_version": None,
                             "nvml_version": None, "gpus": [], "binding": None}
    if not nv.init():
        return facts
    facts["ok"] = True
    facts["binding"] = nv.binding
    facts["driver_version"] = _text(nv.query("nvmlSystemGetDriverVersion"))
    facts["nvml_version"] = _text(nv.query("nvmlSystemGetNVMLVersion"))
    level = nv.query("nvmlSystemGetCudaDriverVersion_v2")
    if level is None:
        level = nv.query("nvmlSystemGetCudaDriverVersion")
    if isinstance(level, int) and level > 0:
        from envdoctor.cudacompat import cuda_level_from_nvml

        facts["cuda_driver_version"] = cuda_level_from_nvml(level)
    count = nv.query("nvmlDeviceGetCount")
    facts["device_count"] = count
    for i in range(int(count or 0)):
        facts["gpus"].append(collect_gpu(nv, i, name_of))
    nv.shutdown()
    facts["duration_ms"] = round((time.monotonic() - start) * 1000, 1)
    return facts
