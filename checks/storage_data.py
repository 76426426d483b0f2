"""storage.data: what the data folder lives on (HDD, SSD, NVMe, a network or object-store
mount, a container's overlay, RAM) and whether it has room."""

from __future__ import annotations

from envdoctor.facts import as_dict, number, text
from envdoctor.registry import register
from envdoctor.result import ERROR, INFO, WARNING, Finding, outcome, passed, skipped

CODES = {
    "storage.E001": "The data folder given with --data / ENVDOCTOR_DATA does not exist.",
    "storage.W001": "The data folder is on a rotating hard disk.",
    "storage.W002": "The data folder is on a network file system or an object-store (FUSE) "
                    "mount.",
    "storage.W003": "The data folder is in a container's writable overlay layer.",
    "storage.W004": "The data folder's file system is nearly out of space or inodes.",
    "storage.I001": "What the data folder lives on, its free space and a sample of its file "
                    "sizes.",
    "storage.I002": "The data folder is in RAM (tmpfs): it counts against the memory limit.",
}

KIND_WORDS = {"hdd": "a rotating hard disk (HDD)", "ssd": "a SATA/SAS SSD", "nvme": "an NVMe SSD",
              "virtual": "a virtual (cloud) disk", "network": "a network file system",
              "object_store": "an object-store FUSE mount", "fuse": "a FUSE file system",
              "overlay": "the container's overlay layer", "tmpfs": "RAM (tmpfs)",
              "ram": "a RAM disk", "loop": "a loop device (a file mounted as a disk)",
              "unknown": "an unidentified device"}

SHARDS = ("pack small files into large shards (WebDataset tar shards, TFRecord, LMDB, "
          "Parquet) or copy the data set to a local SSD/NVMe disk before training")


@register("storage.data", title="Storage under the data folder",
          tags=("storage", "performance"), needs=("storage",), codes=CODES)
def check_data(facts):
    """For the folder given with `envdoctor check --data PATH` (or ENVDOCTOR_DATA): the
    mount it lives on (/proc/self/mountinfo), the device under it (/sys/block:
    queue/rotational, nvme*, virtio vd*; LVM/RAID through their slaves), or the network
    or FUSE file system (NFS, CIFS, Lustre, GPFS, BeeGFS, s3fs, gcsfuse, Mountpoint for
    S3...), free space and inodes, and the median size of a sample of its files.

    A HDD or a network mount with many small files is bound by per-file latency, not
    bandwidth: GPUs wait for data. A container's overlay layer is slow and vanishes with
    the container: mount a volume. `envdoctor bench --data PATH` measures the read speed."""
    from envdoctor.system.units import size, thresholds

    st = as_dict(facts.get("storage"))
    path = text(st.get("data_path"))
    if not path:
        return skipped("no data folder given (envdoctor check --data PATH, or ENVDOCTOR_DATA)")
    if st.get("exists") is False:
        return outcome("the data folder does not exist", [Finding(
            "storage.E001", ERROR, f"{path} is not a folder on this machine",
            hint="pass the folder your training data is in: envdoctor check --data PATH")])
    t = thresholds()["storage"]
    kind = text(st.get("kind")) or "unknown"
    sample = as_dict(st.get("sample"))
    median = number(sample.get("median_bytes"))
    small = median is not None and median < t["small_file_bytes"]
    files = number(sample.get("files"))
    sample_words = (f"; {files}{'+' if sample.get('complete') is False else ''} files "
                    f"sampled, median {size(median)}" if files else "")
    free, total = number(st.get("free_bytes")), number(st.get("total_bytes"))
    fs = text(st.get("fs_type"))
    where = KIND_WORDS.get(kind, kind) + (f" ({fs})" if fs else "")
    findings = [Finding("storage.I001", INFO,
                        f"{path} is on {where}, {size(free)} free of {size(total)}{sample_words}",
                        details={"kind": kind, "mount_point": st.get("mount_point")})]
    if kind == "hdd":
        findings.append(Finding(
            "storage.W001", WARNING,
            f"{path} is on a rotating hard disk" + (" and holds many small files: random "
                                                    "reads will starve the GPU" if small else ""),
            hint=SHARDS))
    elif kind in ("network", "object_store"):
        findings.append(Finding(
            "storage.W002", WARNING,
            f"{path} is on {where}" + (" with many small files: every file costs a network "
                                       "round trip" if small else ""),
            hint=SHARDS + "; raise DataLoader num_workers to hide latency"))
    elif kind == "overlay":
        findings.append(Finding(
            "storage.W003", WARNING,
            f"{path} is inside the container's writable layer (overlay): slower than a "
            "volume and lost with the container",
            hint="mount the data as a volume: docker run -v /host/data:/data (Kubernetes: a "
                 "persistentVolumeClaim or hostPath)"))
    elif kind == "tmpfs":
        findings.append(Finding("storage.I002", INFO,
                                f"{path} is in RAM (tmpfs): fast, but it counts against memory "
                                "and is gone after a reboot"))
    inodes_free, inodes_total = number(st.get("inodes_free")), number(st.get("inodes_total"))
    low_space = free is not None and total and free < min(t["low_free_bytes"],
                                                          total * t["low_free_ratio"])
    low_inodes = inodes_free is not None and inodes_total and \
        inodes_free < inodes_total * t["low_inodes_ratio"]
    if low_space or low_inodes:
        what = (f"{size(free)} free" if low_space else "") + \
            (" and " if low_space and low_inodes else "") + \
            (f"{inodes_free} of {inodes_total} inodes free" if low_inodes else "")
        findings.append(Finding("storage.W004", WARNING,
                                f"the file system under {path} is nearly full: {what}",
                                hint="free space (`du -sh *`, `df -i` for inodes) or move "
                                     "checkpoints and caches elsewhere"))
    details = {"kind": kind, "free_bytes": free, "median_file_bytes": median}
    if any(f.level >= WARNING for f in findings):
        return outcome(f"data on {KIND_WORDS.get(kind, kind)}", findings, details)
    return passed(f"data on {KIND_WORDS.get(kind, kind)}", details, findings)
