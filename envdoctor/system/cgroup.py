"""The memory limit a process really has: cgroup v1 (memory.limit_in_bytes) or v2
(memory.max), found the way the kernel documents it: the process's cgroup path from
/proc/self/cgroup, joined to where that hierarchy is mounted (/proc/self/mountinfo)."""

from __future__ import annotations

import posixpath
from typing import Callable, Optional

from envdoctor.system.mounts import Mount

Reader = Callable[[str], Optional[str]]

# cgroup v1 writes "no limit" as the largest page-aligned int64 (9223372036854771712).
UNLIMITED_V1 = 1 << 62


def cgroup_paths(text: str) -> dict[str, str]:
    """/proc/self/cgroup -> {"memory": "/docker/abc", "": "/..." (v2 unified)}."""
    paths: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for controller in parts[1].split(","):
            paths[controller] = parts[2]
    return paths


def _folder(mount: Mount, path: str) -> str:
    """Where the files of cgroup ``path`` are under ``mount`` (a cgroup namespace or a
    bind mount shows only a sub-tree: mount.root is that sub-tree)."""
    root = mount.root.rstrip("/") or "/"
    rel = posixpath.relpath(path, root) if path.startswith(root) else path.lstrip("/")
    return posixpath.normpath(posixpath.join(mount.mount_point, "" if rel == "." else rel))


def _number(text: Optional[str]) -> Optional[int]:
    value = (text or "").strip()
    if value == "max":
        return None
    try:
        return int(value)
    except ValueError:
        return None


def memory_limit(read: Reader, mounts: list[Mount], cgroup_text: str) -> dict:
    """{"version": 1|2|None, "path", "limit_bytes" (None: no limit), "usage_bytes"}."""
    paths = cgroup_paths(cgroup_text)
    found: dict = {"version": None, "path": None, "limit_bytes": None, "usage_bytes": None}
    v1 = next((m for m in mounts if m.fs_type == "cgroup"
               and "memory" in m.super_options.split(",")), None)
    if v1 is not None and "memory" in paths:
        folder = _folder(v1, paths["memory"])
        found.update(version=1, path=folder)
        limits = []
        for name in (f"{folder}/memory.limit_in_bytes", f"{v1.mount_point}/memory.limit_in_bytes"):
            value = _number(read(name))
            if value is not None:
                limits.append(value)
                break
        for line in (read(f"{folder}/memory.stat") or "").splitlines():
            key, _, value = line.partition(" ")
            if key == "hierarchical_memory_limit" and _number(value) is not None:
                limits.append(int(value))
        real = [v for v in limits if v < UNLIMITED_V1]
        found["limit_bytes"] = min(real) if real else None
        found["usage_bytes"] = _number(read(f"{folder}/memory.usage_in_bytes"))
        return found
    v2 = next((m for m in mounts if m.fs_type == "cgroup2"), None)
    if v2 is not None and "" in paths:
        folder = _folder(v2, paths[""])
        found.update(version=2, path=folder)
        # The effective limit is the smallest memory.max on the way up to the mount.
        limits, here = [], folder
        while True:
            value = _number(read(f"{here}/memory.max"))
            if value is not None:
                limits.append(value)
            if here.rstrip("/") == v2.mount_point.rstrip("/") or here in ("/", ""):
                break
            here = posixpath.dirname(here)
        found["limit_bytes"] = min(limits) if limits else None
        found["usage_bytes"] = _number(read(f"{folder}/memory.current"))
    return found
