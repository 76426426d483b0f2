"""Fakes at the machine's edge for the NVIDIA tests.

* :func:`install_fake_nvml` writes a fake ``pynvml`` module into a directory; it follows a
  JSON scenario named by ``ENVDOCTOR_FAKE_NVML`` (read at ``nvmlInit``), raising NVML
  errors with the real nvidia-ml-py numbers.
* :func:`fake_smi` writes a fake ``nvidia-smi`` executable: replay an XML file, hang,
  print garbage or non-UTF-8 bytes, or fail like the real one.
* :func:`sysroot` builds a fake /proc, /sys, /dev, /usr tree for ENVDOCTOR_SYSROOT.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any, Optional

FAKE_PYNVML = r'''
"""Fake nvidia-ml-py for envdoctor's tests (scenario from $ENVDOCTOR_FAKE_NVML)."""
import json, os, time

NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_NOT_FOUND = 6
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_FUNCTION_NOT_FOUND = 13
NVML_ERROR_CORRUPTED_INFOROM = 14
NVML_ERROR_GPU_IS_LOST = 15
NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18
NVML_ERROR_UNKNOWN = 999
NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1
NVML_VOLATILE_ECC = 0
NVML_AGGREGATE_ECC = 1
nvmlMemory_v2 = 0x02000028


class NVMLError(Exception):
    def __init__(self, value):
        self.value = value
    def __str__(self):
        return "NVML error %d" % self.value


class _Obj:
    def __init__(self, **kw):
        self.__dict__.update(kw)


_S = None


def _scenario():
    if _S is None:
        raise NVMLError(NVML_ERROR_UNINITIALIZED)
    return _S


def nvmlInit():
    global _S
    with open(os.environ["ENVDOCTOR_FAKE_NVML"]) as fh:
        s = json.load(fh)
    if s.get("hang") == "nvmlInit":
        time.sleep(3600)
    if s.get("init_error"):
        raise NVMLError(s["init_error"])
    _S = s


def nvmlShutdown():
    pass


def _sys(key, call):
    s = _scenario()
    err = (s.get("errors") or {}).get(call)
    if err:
        raise NVMLError(err)
    if s.get(key) is None:
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
    return s[key]


def nvmlSystemGetDriverVersion():
    return _sys("driver", "nvmlSystemGetDriverVersion")


def nvmlSystemGetNVMLVersion():
    return _sys("nvml", "nvmlSystemGetNVMLVersion")


def nvmlSystemGetCudaDriverVersion_v2():
    return _sys("cuda", "nvmlSystemGetCudaDriverVersion_v2")


def nvmlSystemGetProcessName(pid):
    names = _scenario().get("process_names") or {}
    if str(pid) not in names:
        raise NVMLError(NVML_ERROR_NOT_FOUND)
    return names[str(pid)]


def nvmlDeviceGetCount():
    return len(_scenario()["gpus"])


def nvmlDeviceGetHandleByIndex(i):
    gpu = _scenario()["gpus"][i]
    if gpu.get("handle_error"):
        raise NVMLError(gpu["handle_error"])
    return {"gpu": gpu}


def _get(h, key, call):
    gpu = h["gpu"]
    err = (gpu.get("errors") or {}).get(call)
    if err:
        raise NVMLError(err)
    if gpu.get(key) is None:
        raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
    return gpu[key]


def nvmlDeviceGetName(h): return _get(h, "name", "nvmlDeviceGetName")
def nvmlDeviceGetUUID(h): return _get(h, "uuid", "nvmlDeviceGetUUID")
def nvmlDeviceGetPciInfo(h): return _Obj(busId=_get(h, "bus_id", "nvmlDeviceGetPciInfo").encode())
def nvmlDeviceGetCudaComputeCapability(h):
    return tuple(_get(h, "cc", "nvmlDeviceGetCudaComputeCapability"))
def nvmlDeviceGetArchitecture(h): return _get(h, "arch", "nvmlDeviceGetArchitecture")
def nvmlDeviceGetMemoryInfo(h, version=None):
    t, u, f = _get(h, "mem", "nvmlDeviceGetMemoryInfo")
    return _Obj(total=t, used=u, free=f, reserved=(t - u - f if version else None))
def nvmlDeviceGetCurrPcieLinkGeneration(h): return _get(h, "pcie", "pcie")[0]
def nvmlDeviceGetMaxPcieLinkGeneration(h): return _get(h, "pcie", "pcie")[1]
def nvmlDeviceGetCurrPcieLinkWidth(h): return _get(h, "pcie", "pcie")[2]
def nvmlDeviceGetMaxPcieLinkWidth(h): return _get(h, "pcie", "pcie")[3]
def nvmlDeviceGetPersistenceMode(h): return _get(h, "persistence", "nvmlDeviceGetPersistenceMode")
def nvmlDeviceGetMigMode(h): return list(_get(h, "mig", "nvmlDeviceGetMigMode"))
def nvmlDeviceGetMaxMigDeviceCount(h): return len(_get(h, "mig_devices", "mig_devices"))
def nvmlDeviceGetMigDeviceHandleByIndex(h, i):
    dev = _get(h, "mig_devices", "mig_devices")[i]
    if dev is None:
        raise NVMLError(NVML_ERROR_NOT_FOUND)
    return {"gpu": dev}
def nvmlDeviceGetGpuInstanceId(h): return _get(h, "gi", "gi")
def nvmlDeviceGetComputeInstanceId(h): return _get(h, "ci", "ci")
def nvmlDeviceGetEccMode(h): return list(_get(h, "ecc", "nvmlDeviceGetEccMode"))
def nvmlDeviceGetTotalEccErrors(h, kind, counter):
    return _get(h, "ecc_errors", "nvmlDeviceGetTotalEccErrors")[counter]
def nvmlDeviceGetRetiredPagesPendingStatus(h):
    return _get(h, "retired_pending", "nvmlDeviceGetRetiredPagesPendingStatus")
def nvmlDeviceGetRetiredPages(h, cause):
    return _get(h, "retired_pages", "nvmlDeviceGetRetiredPages")[cause]
def nvmlDeviceGetRemappedRows(h): return tuple(_get(h, "remapped", "nvmlDeviceGetRemappedRows"))
def nvmlDeviceGetCurrentClocksEventReasons(h):
    return _get(h, "clocks", "nvmlDeviceGetCurrentClocksEventReasons")
def nvmlDeviceGetTemperature(h, sensor): return _get(h, "temp", "nvmlDeviceGetTemperature")
def nvmlDeviceValidateInforom(h):
    if h["gpu"].get("inforom_bad"):
        raise NVMLError(NVML_ERROR_CORRUPTED_INFOROM)
def nvmlDeviceGetComputeRunningProcesses(h):
    return [_Obj(pid=p, usedGpuMemory=m) for p, m in _get(h, "procs", "procs")]
def nvmlDeviceGetGraphicsRunningProcesses(h):
    return [_Obj(pid=p, usedGpuMemory=m) for p, m in (h["gpu"].get("gprocs") or [])]
'''

GIB = 1024 ** 3
MIB = 1024 ** 2


def h100_gpu(**overrides: Any) -> dict:
    """An H100 80GB HBM3 as the corpus captures show it (590.48.01, idle)."""
    gpu = {"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-11111111-2222-3333-4444-555555555555",
           "bus_id": "00000000:19:00.0", "cc": [9, 0], "arch": 9,
           "mem": [81559 * MIB, 0, 81079 * MIB], "pcie": [5, 5, 16, 16], "persistence": 1,
           "mig": [0, 0], "mig_devices": [], "ecc": [1, 1], "ecc_errors": [0, 0],
           "retired_pending": 0, "retired_pages": [[], []], "remapped": [0, 0, 0, 0],
           "clocks": 0x1, "temp": 31, "procs": []}
    gpu.update(overrides)
    return gpu


def scenario(**overrides: Any) -> dict:
    s = {"driver": "590.48.01", "nvml": "13.590.48.01", "cuda": 13010, "gpus": [h100_gpu()]}
    s.update(overrides)
    return s


def install_fake_nvml(directory: Path, scenario_data: Optional[dict] = None) -> dict:
    """Write pynvml.py (and scenario.json) into ``directory``; return env additions."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pynvml.py").write_text(FAKE_PYNVML, encoding="utf-8")
    path = directory / "scenario.json"
    path.write_text(json.dumps(scenario_data if scenario_data is not None else scenario()),
                    encoding="utf-8")
    return {"ENVDOCTOR_FAKE_NVML": str(path), "PYTHONPATH": str(directory)}


def _write_exe(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def fake_smi(bindir: Path, mode: str, xml: Optional[Path] = None,
             compute_caps: Optional[list[str]] = None, message: str = "",
             code: int = 0) -> Path:
    """A fake nvidia-smi: mode is replay | hang | garbage | binary | fail."""
    caps = compute_caps or []
    body = f"""import sys, time
args = sys.argv[1:]
mode = {mode!r}
if mode == "hang":
    time.sleep(3600)
if mode == "fail":
    sys.stdout.write({message!r} + "\\n")
    sys.exit({code})
if mode == "garbage":
    sys.stdout.write("this is not XML at all\\n<<<>>>\\n")
    sys.exit(0)
if mode == "binary":
    sys.stdout.buffer.write(b"\\xff\\xfe\\x00<nvidia_smi_log>\\xc3\\x28 broken")
    sys.exit(0)
if args and args[0].startswith("--query-gpu"):
    for i, cap in enumerate({caps!r}):
        print(f"{{i}}, {{cap}}")
    sys.exit(0)
with open({str(xml) if xml else ''!r}, "rb") as fh:
    sys.stdout.buffer.write(fh.read())
"""
    return _write_exe(bindir / "nvidia-smi", body)


def write(root: Path, rel: str, text: str = "") -> Path:
    path = root / rel.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def sysroot(root: Path, *, pci: Optional[list[tuple[str, str, str]]] = None,
            module_version: Optional[str] = None, modules: tuple[str, ...] = (),
            dev_nodes: tuple[str, ...] = (), denied: tuple[str, ...] = (),
            libs: tuple[str, ...] = ()) -> Path:
    """A fake tree. ``pci``: (address, class, bound driver or ""); ``libs``: versioned
    library file names in /usr/lib/x86_64-linux-gnu."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "sys/bus/pci/devices").mkdir(parents=True, exist_ok=True)
    (root / "dev").mkdir(parents=True, exist_ok=True)
    write(root, "/proc/modules", "".join(f"{m} 1 0 - Live 0x0\n" for m in modules))
    for address, klass, driver in pci or []:
        dev = f"/sys/bus/pci/devices/{address}"
        write(root, f"{dev}/vendor", "0x10de\n")
        write(root, f"{dev}/device", "0x2330\n")
        write(root, f"{dev}/class", f"{klass}\n")
        if driver:
            target = root / "sys/bus/pci/drivers" / driver
            target.mkdir(parents=True, exist_ok=True)
            os.symlink(target, root / dev.lstrip("/") / "driver")
    if module_version:
        write(root, "/proc/driver/nvidia/version",
              f"NVRM version: NVIDIA UNIX x86_64 Kernel Module  {module_version}  "
              "Sat Aug 19 01:15:15 UTC 2023\nGCC version:  gcc version 12.2.0\n")
    for node in dev_nodes:
        path = write(root, f"/dev/{node}")
        path.chmod(0o000 if node in denied else 0o666)
    for lib in libs:
        write(root, f"/usr/lib/x86_64-linux-gnu/{lib}")
    return root
