"""The data folder's storage (facts["storage"]): the device or file system under it,
free space and inodes, and a bounded sample of its file sizes.

The folder comes from ``envdoctor check --data PATH`` or ENVDOCTOR_DATA; without one the
probe records nothing. On Linux the mount comes from /proc/self/mountinfo and the device
kind from /sys/block (:mod:`envdoctor.system`); elsewhere only space is known.
"""

from __future__ import annotations

import os
import platform as _platform
import shutil
import time
from typing import Any, Optional

from envdoctor.probes import Probe, ProbeContext

SAMPLE_FILES = 2000
SAMPLE_SECONDS = 0.5


def data_path(ctx: ProbeContext) -> Optional[str]:
    path = ctx.options.get("data") or ctx.environ.get("ENVDOCTOR_DATA")
    return str(path) if path else None


def _unprefixed(ctx: ProbeContext, local: str) -> str:
    """The machine path of a resolved local path (the sysroot taken off)."""
    if not ctx.sysroot:
        return local
    root = os.path.realpath(ctx.sysroot)
    rel = os.path.relpath(local, root)
    return "/" + ("" if rel == "." else rel.replace(os.sep, "/"))


def sample_files(folder: str, limit: int = SAMPLE_FILES,
                 seconds: float = SAMPLE_SECONDS) -> dict[str, Any]:
    """Sizes of up to ``limit`` files under ``folder`` (breadth first, within ``seconds``):
    enough to tell a folder of many small images from a few big shards."""
    sizes: list[int] = []
    queue = [folder]
    deadline = time.monotonic() + seconds
    complete = True
    while queue:
        if len(sizes) >= limit or time.monotonic() > deadline:
            complete = False
            break
        try:
            with os.scandir(queue.pop(0)) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            queue.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            sizes.append(entry.stat(follow_symlinks=False).st_size)
                    except OSError:
                        continue
        except OSError:
            continue
    sizes.sort()
    return {"files": len(sizes), "complete": complete,
            "median_bytes": sizes[len(sizes) // 2] if sizes else None}


def probe_storage(ctx: ProbeContext) -> dict:
    given = data_path(ctx)
    facts: dict[str, Any] = {"data_path": given, "exists": None, "kind": None,
                             "mount_point": None, "fs_type": None, "source": None,
                             "device": None, "free_bytes": None, "total_bytes": None,
                             "inodes_free": None, "inodes_total": None, "sample": None}
    if not given:
        return facts
    absolute = os.path.abspath(os.path.expanduser(given)) if not ctx.sysroot else given
    local = os.path.realpath(ctx.path(absolute))
    facts["exists"] = os.path.isdir(local)
    if not facts["exists"]:
        return facts
    try:
        st = os.statvfs(local)
        facts.update(free_bytes=st.f_bavail * st.f_frsize, total_bytes=st.f_blocks * st.f_frsize,
                     inodes_free=st.f_favail, inodes_total=st.f_files)
    except (OSError, AttributeError):
        try:
            usage = shutil.disk_usage(local)
            facts.update(free_bytes=usage.free, total_bytes=usage.total)
        except OSError:
            pass
    if _platform.system() == "Linux":
        facts.update(_linux_device(ctx, _unprefixed(ctx, local)))
    facts["sample"] = sample_files(local)
    return facts


def _linux_device(ctx: ProbeContext, path: str) -> dict[str, Any]:
    from envdoctor.system.blockdev import disk_kind, find_disk
    from envdoctor.system.mounts import fs_kind, mount_for, parse_mountinfo

    mount = mount_for(path, parse_mountinfo(ctx.read_text("/proc/self/mountinfo") or ""))
    if mount is None:
        return {}
    found: dict[str, Any] = {"mount_point": mount.mount_point, "fs_type": mount.fs_type,
                             "source": mount.source, "kind": fs_kind(mount.fs_type, mount.source)}
    if found["kind"] is None:
        def listdir(folder: str) -> list[str]:
            try:
                return os.listdir(ctx.path(folder))
            except OSError:
                return []

        disk = find_disk(mount.major_minor, ctx.read_text, listdir)
        if disk is not None:
            found["device"] = disk_kind(disk[0], ctx.read_text, listdir)
            found["device"]["partition"] = disk[1]
            found["kind"] = found["device"]["kind"]
        else:
            found["kind"] = "unknown"
    return found


PROBES = [Probe("storage", probe_storage)]
