"""system.memory, system.shm, system.limits and storage.data on fake /proc, /sys and
cgroup trees copied from real captures (tests/data/system, SOURCES.md there)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import REPO, facts_fixture, run_envdoctor, validate_report

from envdoctor.probes import ProbeContext
from envdoctor.probes.storage import probe_storage
from envdoctor.probes.system import parse_limits, probe_limits, probe_memory, probe_shm
from envdoctor.registry import get
from envdoctor.runner import run_check

CASES = REPO / "tests" / "data" / "system"
OWN = CASES / "this-container"


def sysroot(tmp_path: Path, case: str) -> Path:
    """A copy of a captured case; meminfo and limits from this container where the
    source captured none; the empty folders git cannot hold."""
    root = tmp_path / case
    shutil.copytree(CASES / case, root)
    for name in ("proc/meminfo", "proc/self/limits"):
        if not (root / name).exists():
            shutil.copy(OWN / name, root / name)
    (root / "dev" / "shm").mkdir(parents=True, exist_ok=True)
    return root


def ctx(root: Path, **options) -> ProbeContext:
    return ProbeContext(sysroot=str(root), environ={}, options=options)


def check(check_id: str, **sections):
    return run_check(get(check_id), facts_fixture(**sections))


def codes(result) -> list[str]:
    return [f.code for f in result.findings]


TORCH = {"distributions": {"torch": "2.13.0"}}
NO_TORCH = {"distributions": {"numpy": "2.1.0"}}


# --- memory ------------------------------------------------------------------------------

def test_this_container_cgroup_v1_without_a_limit(tmp_path):
    facts = probe_memory(ctx(sysroot(tmp_path, "this-container")))
    assert facts["total_bytes"] == 24683568 * 1024
    assert facts["cgroup"]["version"] == 1 and facts["cgroup"]["limit_bytes"] is None
    assert facts["cgroup"]["usage_bytes"] > 0
    result = check("system.memory", memory=facts)
    assert result.status.value == "pass" and codes(result) == ["system.I001"]


def test_kubernetes_pod_limit_is_the_number_a_job_can_use(tmp_path):
    facts = probe_memory(ctx(sysroot(tmp_path, "k8s-cgroup-v1-nfs")))
    assert facts["cgroup"]["limit_bytes"] == 2936016896
    assert facts["limit_bytes"] == 2936016896
    result = check("system.memory", memory=facts)
    assert "system.I002" in codes(result)
    assert "2.73 GiB" in next(f.message for f in result.findings if f.code == "system.I002")


def test_podman_cgroup_v2_memory_max(tmp_path):
    facts = probe_memory(ctx(sysroot(tmp_path, "podman-cgroup-v2")))
    assert facts["cgroup"]["version"] == 2 and facts["cgroup"]["limit_bytes"] == 1 << 30


def test_a_limit_smaller_than_the_gpus_memory_warns(tmp_path, corpus):
    from envdoctor import nvidia_smi

    memory = probe_memory(ctx(sysroot(tmp_path, "podman-cgroup-v2")))
    a100 = nvidia_smi.parse_xml((corpus / "nvidia-smi-xml" / "a100-sxm4-v12.xml").read_text(
        encoding="utf-8", errors="replace"))["gpus"]
    result = check("system.memory", memory=memory, nvidia={"gpus": a100})
    assert result.status.value == "warn" and "system.W001" in codes(result)


def test_a_gpu_held_by_another_process_warns():
    """The Colab case: 566 MB free of 11,439 MB."""
    memory = {"total_bytes": 13 << 30, "available_bytes": 11 << 30, "cgroup": None}
    gpu = {"index": 0, "name": "Tesla K80", "memory_total_mib": 11439,
           "memory_free_mib": 566}
    result = check("system.memory", memory=memory, nvidia={"gpus": [gpu]})
    assert "system.W003" in codes(result)


def test_cgroup_near_its_limit_warns():
    memory = {"total_bytes": 64 << 30, "available_bytes": 60 << 30,
              "cgroup": {"version": 2, "limit_bytes": 4 << 30, "usage_bytes": 3_900_000_000}}
    assert "system.W002" in codes(check("system.memory", memory=memory))


# --- shm ---------------------------------------------------------------------------------

@pytest.mark.parametrize("case,size", [("k8s-cgroup-v1-nfs", 65536 * 1024),
                                       ("docker-desktop-cgroup-v2", 65536 * 1024),
                                       ("podman-cgroup-v2", 64000 * 1024)])
def test_container_default_shm_fails_with_pytorch(tmp_path, case, size):
    shm = probe_shm(ctx(sysroot(tmp_path, case)))
    assert shm["size_bytes"] == size and shm["size_source"] == "mount option size="
    assert shm["used_bytes"] is None  # statvfs of the fake folder is not this tmpfs
    result = check("system.shm", shm=shm, packages=TORCH)
    assert result.status.value == "fail" and codes(result) == ["system.E101"]
    assert "--ipc=host" in result.findings[0].hint and "medium: Memory" in result.findings[0].hint
    quiet = check("system.shm", shm=shm, packages=NO_TORCH)
    assert quiet.status.value == "pass" and codes(quiet) == ["system.I101"]


def test_this_container_shm_is_big_enough(tmp_path):
    shm = probe_shm(ctx(sysroot(tmp_path, "this-container")))
    assert shm["size_bytes"] == 24683568 * 1024
    assert check("system.shm", shm=shm, packages=TORCH).status.value == "pass"


def test_half_a_gig_warns_and_a_full_shm_warns():
    small = {"path": "/dev/shm", "present": True, "size_bytes": 512 << 20, "used_bytes": 0}
    assert codes(check("system.shm", shm=small, packages=TORCH)) == ["system.W101"]
    full = {"path": "/dev/shm", "present": True, "size_bytes": 8 << 30,
            "used_bytes": (8 << 30) - (100 << 20), "free_bytes": 100 << 20}
    assert codes(check("system.shm", shm=full, packages=TORCH)) == ["system.W102"]


def test_shm_from_the_cli_on_a_captured_pod(tmp_path):
    root = sysroot(tmp_path, "k8s-cgroup-v1-nfs")
    proc = run_envdoctor("check", "--only", "system.shm", "--json",
                         env={"ENVDOCTOR_SYSROOT": str(root)})
    report = json.loads(proc.stdout)
    validate_report(report)
    assert report["facts"]["shm"]["size_bytes"] == 64 << 20
    torch = "torch" in report["facts"]["packages"]["distributions"]
    found = [f["code"] for c in report["checks"] for f in c["findings"]]
    assert found == (["system.E101"] if torch else ["system.I101"])
    assert proc.returncode == (1 if torch else 0)


# --- limits ------------------------------------------------------------------------------

def test_limits_from_this_container(tmp_path):
    facts = probe_limits(ctx(sysroot(tmp_path, "this-container")))
    assert facts["nofile"] == {"soft": 20000, "hard": 20000}
    assert facts["memlock"] == {"soft": 8388608, "hard": 8388608}
    assert check("system.limits", limits=facts, packages=TORCH).status.value == "pass"


def test_low_open_files_limit_warns_with_pytorch():
    text = (OWN / "proc" / "self" / "limits").read_text().replace(
        "Max open files            20000                20000",
        "Max open files            1024                 1048576")
    limits = parse_limits(text)
    assert limits["nofile"] == {"soft": 1024, "hard": 1048576}
    result = check("system.limits", limits={**limits, "rdma_devices": []}, packages=TORCH)
    assert codes(result) == ["system.I201", "system.W201"]
    assert "ulimit -n 1048576" in result.findings[1].hint
    assert "system.W201" not in codes(check("system.limits", limits=limits,
                                            packages=NO_TORCH))


def test_rdma_with_limited_memlock_warns(tmp_path):
    root = sysroot(tmp_path, "this-container")
    (root / "sys" / "class" / "infiniband" / "mlx5_0").mkdir(parents=True)
    facts = probe_limits(ctx(root))
    assert facts["rdma_devices"] == ["mlx5_0"]
    assert "system.W202" in codes(check("system.limits", limits=facts, packages=TORCH))


# --- storage -----------------------------------------------------------------------------

def test_nfs_volume_in_a_pod_is_a_network_mount(tmp_path):
    root = sysroot(tmp_path, "k8s-cgroup-v1-nfs")
    data = root / "kaiwudb" / "certs"
    data.mkdir(parents=True)
    for i in range(30):
        (data / f"img{i}.jpg").write_bytes(b"x" * 2000)
    facts = probe_storage(ctx(root, data="/kaiwudb/certs"))
    assert facts["kind"] == "network" and facts["fs_type"] == "nfs4"
    assert facts["sample"] == {"files": 30, "complete": True, "median_bytes": 2000}
    result = check("storage.data", storage=facts)
    assert result.status.value == "warn" and "storage.W002" in codes(result)
    assert "small files" in next(f.message for f in result.findings if f.code == "storage.W002")


def test_data_in_the_container_layer_is_overlay(tmp_path):
    root = sysroot(tmp_path, "docker-desktop-cgroup-v2")
    (root / "data").mkdir()
    facts = probe_storage(ctx(root, data="/data"))
    assert facts["kind"] == "overlay"
    assert "storage.W003" in codes(check("storage.data", storage=facts))


def test_this_container_root_is_a_virtio_disk(tmp_path):
    root = sysroot(tmp_path, "this-container")
    (root / "srv" / "data").mkdir(parents=True)
    facts = probe_storage(ctx(root, data="/srv/data"))
    assert facts["source"] == "/dev/vda" and facts["device"]["disk"] == "vda"
    assert facts["kind"] == "virtual"
    assert check("storage.data", storage=facts).status.value == "pass"


def test_rotating_disk_behind_lvm_is_a_hdd(tmp_path):
    """The kernel's sysfs layout (Documentation/ABI/stable/sysfs-block): dm-0 over sda2."""
    root = tmp_path / "root"
    for name, dev, rot in (("sda", "8:0", "1"), ("dm-0", "253:0", "1")):
        (root / "sys" / "block" / name / "queue").mkdir(parents=True)
        (root / "sys" / "block" / name / "dev").write_text(dev + "\n")
        (root / "sys" / "block" / name / "queue" / "rotational").write_text(rot + "\n")
    (root / "sys" / "block" / "sda" / "sda2").mkdir()
    (root / "sys" / "block" / "sda" / "sda2" / "dev").write_text("8:2\n")
    (root / "sys" / "block" / "dm-0" / "slaves" / "sda2").mkdir(parents=True)
    (root / "proc" / "self").mkdir(parents=True)
    (root / "proc" / "self" / "mountinfo").write_text(
        "27 1 253:0 / / rw,relatime - ext4 /dev/mapper/vg-root rw\n")
    (root / "data").mkdir()
    facts = probe_storage(ctx(root, data="/data"))
    assert facts["kind"] == "hdd" and facts["device"]["via"] == ["sda"]
    assert "storage.W001" in codes(check("storage.data", storage=facts))


def test_missing_data_folder_and_no_folder(tmp_path):
    facts = probe_storage(ctx(sysroot(tmp_path, "this-container"), data="/nowhere"))
    assert facts["exists"] is False
    assert check("storage.data", storage=facts).status.value == "fail"
    none = probe_storage(ctx(tmp_path))
    assert check("storage.data", storage=none).status.value == "skip"


def test_nearly_full_file_system_warns():
    facts = {"data_path": "/data", "exists": True, "kind": "nvme", "free_bytes": 1 << 30,
             "total_bytes": 1 << 40, "inodes_free": 10, "inodes_total": 1000}
    result = check("storage.data", storage=facts)
    assert "storage.W004" in codes(result) and "inodes" in result.findings[-1].message


def test_data_option_reaches_the_probe_through_the_cli(tmp_path):
    proc = run_envdoctor("check", "--only", "storage.data", "--data", str(tmp_path), "--json")
    report = json.loads(proc.stdout)
    validate_report(report)
    assert report["facts"]["storage"]["exists"] is True
    assert report["checks"][0]["status"] in ("pass", "warn")
