"""/proc/self/mountinfo: which mount a path lives on and what kind of storage it is."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Mount:
    major_minor: str     # "259:2"; "0:53" for file systems without a block device
    root: str            # the folder of the file system mounted here (bind mounts)
    mount_point: str
    fs_type: str         # "ext4", "nfs4", "fuse.s3fs", "overlay", "tmpfs"...
    source: str          # "/dev/nvme0n1p2", "server:/export", "shm"
    super_options: str   # "rw,size=65536k"

    def option(self, name: str) -> Optional[str]:
        for item in self.super_options.split(","):
            key, _, value = item.partition("=")
            if key == name:
                return value
        return None


_ESCAPE = re.compile(r"\\([0-7]{3})")


def unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes (\\040)."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """The mounts of /proc/self/mountinfo (proc(5)); malformed lines are skipped."""
    mounts: list[Mount] = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or len(tail) < 2:
            continue
        mounts.append(Mount(fields[2], unescape(fields[3]), unescape(fields[4]), tail[0],
                            unescape(tail[1]), tail[2] if len(tail) > 2 else ""))
    return mounts


def mount_for(path: str, mounts: list[Mount]) -> Optional[Mount]:
    """The mount that holds ``path`` (an absolute, resolved path): the longest mount
    point that is a prefix of it; the last one mounted wins among equals."""
    path = os.path.normpath(path)
    best: Optional[Mount] = None
    for mount in mounts:
        point = mount.mount_point.rstrip("/") or "/"
        inside = path == point or path.startswith(point + "/") or point == "/"
        if inside and (best is None or len(point) >= len(best.mount_point.rstrip("/") or "/")):
            best = mount
    return best


def size_bytes(value: Optional[str]) -> Optional[int]:
    """A tmpfs ``size=`` option ("65536k", "64000k", "1g", "8388608") in bytes; None for
    percentages and garbage."""
    match = re.fullmatch(r"(\d+)([kKmMgGtT]?)", value or "")
    if not match:
        return None
    scale = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4}
    return int(match.group(1)) * scale[match.group(2).lower()]


NETWORK_TYPES = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "lustre", "gpfs", "beegfs",
                 "ceph", "glusterfs", "9p", "afs", "wekafs", "panfs", "virtiofs"}
FUSE_NETWORK = ("s3fs", "gcsfuse", "goofys", "rclone", "blobfuse", "blobfuse2",
                "mountpoint-s3", "sshfs", "juicefs", "geesefs", "ceph-fuse", "glusterfs",
                "alluxio-fuse")


def fs_kind(fs_type: str, source: str = "") -> Optional[str]:
    """What kind of storage a file system type is, before looking at the device:
    "network", "object_store" (FUSE mounts of S3/GCS/Azure buckets), "fuse", "overlay",
    "tmpfs", or None for a local block-device file system (ext4, xfs, btrfs...)."""
    base = fs_type.split(".", 1)
    if fs_type in NETWORK_TYPES:
        return "network"
    if base[0] in ("fuse", "fuseblk"):
        sub = base[1] if len(base) > 1 else source
        if any(name in sub or name in source for name in FUSE_NETWORK):
            return "object_store" if any(n in sub or n in source for n in (
                "s3", "gcs", "blob", "goofys", "rclone", "geese", "juicefs")) \
                else "network"
        return None if fs_type == "fuseblk" else "fuse"
    if fs_type in ("overlay", "overlayfs", "aufs"):
        return "overlay"
    if fs_type in ("tmpfs", "ramfs"):
        return "tmpfs"
    return None
