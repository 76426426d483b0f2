"""RAM, swap and the cgroup memory limit (facts["memory"]), /dev/shm (facts["shm"]),
and the open-files and locked-memory limits (facts["limits"]).

Linux reads /proc and /sys directly (well under a millisecond; the parsers live in
:mod:`envdoctor.system`). Windows asks GlobalMemoryStatusEx through ctypes, macOS
``sysctl hw.memsize``; psutil, when it happens to be installed, fills in what those
leave out (docs/dependencies.md: psutil is not a dependency).
"""

from __future__ import annotations

import os
import platform as _platform
from typing import Any, Optional

from envdoctor.probes import Probe, ProbeContext


def _mounts(ctx: ProbeContext) -> list:
    from envdoctor.system.mounts import parse_mountinfo

    return parse_mountinfo(ctx.read_text("/proc/self/mountinfo") or "")


def _psutil_memory() -> Optional[dict[str, Any]]:
    try:
        import psutil  # optional: only when the user has it installed
    except Exception:
        return None
    try:
        vm, sw = psutil.virtual_memory(), psutil.swap_memory()
    except Exception:
        return None
    return {"total_bytes": int(vm.total), "available_bytes": int(vm.available),
            "swap_total_bytes": int(sw.total), "swap_free_bytes": int(sw.free)}


def _windows_memory() -> Optional[dict[str, Any]]:  # pragma: no cover - Windows only
    import ctypes

    class MemoryStatusEx(ctypes.Structure):
        _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                    ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
                    ("ullTotalPageFile", ctypes.c_ulonglong),
                    ("ullAvailPageFile", ctypes.c_ulonglong),
                    ("ullTotalVirtual", ctypes.c_ulonglong),
                    ("ullAvailVirtual", ctypes.c_ulonglong),
                    ("ullAvailExtendedVirtual", ctypes.c_ulonglong)]

    status = MemoryStatusEx()
    status.dwLength = ctypes.sizeof(MemoryStatusEx)
    if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
        return None
    return {"total_bytes": status.ullTotalPhys, "available_bytes": status.ullAvailPhys,
            "swap_total_bytes": max(0, status.ullTotalPageFile - status.ullTotalPhys),
            "swap_free_bytes": None}


def probe_memory(ctx: ProbeContext) -> dict:
    system = _platform.system()
    facts: dict[str, Any] = {"source": None, "total_bytes": None, "available_bytes": None,
                             "swap_total_bytes": None, "swap_free_bytes": None,
                             "cgroup": None, "limit_bytes": None,
                             "slurm_job": bool(ctx.environ.get("SLURM_JOB_ID"))}
    if system == "Linux":
        from envdoctor.system.cgroup import memory_limit
        from envdoctor.system.meminfo import memory_facts

        text = ctx.read_text("/proc/meminfo")
        if text is not None:
            facts.update(memory_facts(text), source="/proc/meminfo")
        facts["cgroup"] = memory_limit(ctx.read_text, _mounts(ctx),
                                       ctx.read_text("/proc/self/cgroup") or "")
    elif system == "Windows":  # pragma: no cover - Windows only
        found = _windows_memory()
        if found:
            facts.update(found, source="GlobalMemoryStatusEx")
    elif system == "Darwin":
        from envdoctor import proc

        result = proc.run(["sysctl", "-n", "hw.memsize"], timeout=ctx.timeout)
        if result.ok and result.stdout.strip().isdigit():
            facts.update(total_bytes=int(result.stdout.strip()), source="sysctl")
    if facts["available_bytes"] is None:
        found = _psutil_memory()
        if found:
            facts.update({k: v for k, v in found.items() if facts.get(k) is None},
                         source=facts["source"] or "psutil")
    limit = (facts["cgroup"] or {}).get("limit_bytes")
    totals = [v for v in (facts["total_bytes"], limit) if isinstance(v, int)]
    facts["limit_bytes"] = min(totals) if totals else None
    return facts


def _statvfs(path: str) -> Optional[dict[str, int]]:
    try:
        st = os.statvfs(path)
    except (OSError, AttributeError):
        return None
    return {"total": st.f_blocks * st.f_frsize, "free": st.f_bavail * st.f_frsize,
            "used": (st.f_blocks - st.f_bfree) * st.f_frsize}


def probe_shm(ctx: ProbeContext) -> dict:
    """/dev/shm: its size (the tmpfs size= option, else statvfs) and use."""
    facts: dict[str, Any] = {"path": "/dev/shm", "present": False, "mount_point": None,
                             "fs_type": None, "size_bytes": None, "size_source": None,
                             "used_bytes": None, "free_bytes": None}
    if _platform.system() != "Linux":
        facts["path"] = None  # no /dev/shm: Windows and macOS share memory differently
        return facts
    from envdoctor.system.mounts import mount_for, size_bytes

    local = ctx.path("/dev/shm")
    facts["present"] = os.path.isdir(local)
    mount = mount_for("/dev/shm", _mounts(ctx))
    if mount is not None:
        facts.update(mount_point=mount.mount_point, fs_type=mount.fs_type)
    option = size_bytes(mount.option("size")) if mount is not None else None
    stats = _statvfs(local) if facts["present"] else None
    if option is not None:
        facts.update(size_bytes=option, size_source="mount option size=")
    elif stats is not None:
        facts.update(size_bytes=stats["total"], size_source="statvfs")
    # statvfs describes this /dev/shm only when it agrees with the mount's size.
    if stats is not None and (option is None or abs(stats["total"] - option) <= 4096 * 16):
        facts.update(used_bytes=stats["used"], free_bytes=stats["free"])
    return facts


_LIMIT_ROWS = {"Max open files": "nofile", "Max locked memory": "memlock"}


def parse_limits(text: str) -> dict[str, dict[str, Optional[int]]]:
    """/proc/self/limits -> {"nofile": {"soft", "hard"}, "memlock": {...}}; None means
    unlimited."""
    found: dict[str, dict[str, Optional[int]]] = {}
    for line in text.splitlines():
        for label, key in _LIMIT_ROWS.items():
            if line.startswith(label):
                words = line[len(label):].split()
                if len(words) >= 2:
                    values = [None if w == "unlimited" else int(w) if w.isdigit() else -1
                              for w in words[:2]]
                    if -1 not in values:
                        found[key] = {"soft": values[0], "hard": values[1]}
    return found


def _getrlimit() -> dict[str, dict[str, Optional[int]]]:
    try:
        import resource
    except ImportError:  # Windows
        return {}
    found = {}
    for key, name in (("nofile", "RLIMIT_NOFILE"), ("memlock", "RLIMIT_MEMLOCK")):
        if hasattr(resource, name):
            soft, hard = resource.getrlimit(getattr(resource, name))
            found[key] = {"soft": None if soft == resource.RLIM_INFINITY else soft,
                          "hard": None if hard == resource.RLIM_INFINITY else hard}
    return found


def probe_limits(ctx: ProbeContext) -> dict:
    facts: dict[str, Any] = {"source": None, "nofile": None, "memlock": None,
                             "rdma_devices": []}
    text = ctx.read_text("/proc/self/limits") if _platform.system() == "Linux" else None
    found = parse_limits(text) if text else {}
    if found:
        facts["source"] = "/proc/self/limits"
    else:
        found = _getrlimit()
        facts["source"] = "getrlimit" if found else None
    facts.update(found)
    try:
        facts["rdma_devices"] = sorted(os.listdir(ctx.path("/sys/class/infiniband")))
    except OSError:
        pass
    return facts


PROBES = [Probe("memory", probe_memory), Probe("shm", probe_shm),
          Probe("limits", probe_limits)]
