"""What block device a major:minor number is: HDD, SATA SSD, NVMe, virtual disk..."""

from __future__ import annotations

from typing import Callable, Optional

Reader = Callable[[str], Optional[str]]
Lister = Callable[[str], list[str]]


def find_disk(major_minor: str, read: Reader, listdir: Lister) -> Optional[tuple[str, str]]:
    """(disk name, partition or disk name) under /sys/block for ``major_minor``."""
    for disk in sorted(listdir("/sys/block")):
        if (read(f"/sys/block/{disk}/dev") or "").strip() == major_minor:
            return disk, disk
        for part in sorted(listdir(f"/sys/block/{disk}")):
            if part.startswith(disk) and \
                    (read(f"/sys/block/{disk}/{part}/dev") or "").strip() == major_minor:
                return disk, part
    return None


def disk_kind(disk: str, read: Reader, listdir: Lister, depth: int = 0) -> dict:
    """{"disk", "kind": hdd|ssd|nvme|virtual|ram|loop|unknown, "rotational", "model"}.

    Device-mapper and md devices (LVM, RAID, LUKS) take the kind of the disks under
    them (/sys/block/dm-0/slaves/*)."""
    rotational = (read(f"/sys/block/{disk}/queue/rotational") or "").strip()
    model = (read(f"/sys/block/{disk}/device/model") or "").strip() or None
    facts = {"disk": disk, "kind": "unknown",
             "rotational": {"1": True, "0": False}.get(rotational), "model": model}
    slaves = listdir(f"/sys/block/{disk}/slaves") if depth < 4 else []
    if slaves and (disk.startswith(("dm-", "md"))):
        kinds = [disk_kind(_parent(s, read, listdir), read, listdir, depth + 1)
                 for s in slaves]
        worst = next((k for k in kinds if k["kind"] == "hdd"), kinds[0])
        return dict(worst, disk=disk, via=[k["disk"] for k in kinds])
    if disk.startswith("nvme"):
        facts["kind"] = "nvme"
    elif disk.startswith(("vd", "xvd")):
        facts["kind"] = "virtual"
    elif disk.startswith(("zram", "ram", "pmem")):
        facts["kind"] = "ram"
    elif disk.startswith("loop"):
        facts["kind"] = "loop"
    elif facts["rotational"] is True:
        facts["kind"] = "hdd"
    elif facts["rotational"] is False:
        facts["kind"] = "ssd"
    return facts


def _parent(part: str, read: Reader, listdir: Lister) -> str:
    """The disk a partition name belongs to (sda1 -> sda, nvme0n1p2 -> nvme0n1); a
    whole disk's own name otherwise."""
    disks = listdir("/sys/block")
    if part in disks:
        return part
    owners = [d for d in disks if part.startswith(d)]
    return max(owners, key=len) if owners else part
