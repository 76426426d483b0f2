"""The platform probe on fake /etc and /proc trees, and the platform.os check."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import pytest
from conftest import facts_fixture, report_with_facts, run_check, run_envdoctor, validate_report

from envdoctor.probes import ProbeContext
from envdoctor.probes.platform import parse_os_release, probe_platform
from envdoctor.result import Status

linux_only = pytest.mark.skipif(platform.system() != "Linux",
                                reason="the platform probe reads /etc and /proc on Linux")

UBUNTU = """PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
"""


def tree(root: Path, files: dict[str, str]) -> str:
    for rel, text in files.items():
        path = root / rel.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return str(root)


@linux_only
def test_distribution_kernel_and_container_from_a_fake_tree(tmp_path):
    root = tree(tmp_path, {"/etc/os-release": UBUNTU,
                           "/proc/sys/kernel/osrelease": "5.15.0-105-generic\n",
                           "/.dockerenv": ""})
    facts = probe_platform(ProbeContext(sysroot=root, environ={}))
    assert facts["distribution"]["name"] == "Ubuntu 22.04.4 LTS"
    assert facts["distribution"]["id"] == "ubuntu"
    assert facts["kernel"] == "5.15.0-105-generic"
    assert facts["container"] == "docker"
    assert facts["wsl"] is None
    result = run_check("platform.os", facts_fixture(platform=facts))
    assert result.status is Status.PASS
    assert "Ubuntu 22.04.4 LTS" in result.summary and "docker container" in result.summary
    assert "kernel 5.15.0-105-generic" in result.summary


@linux_only
@pytest.mark.parametrize("osrelease, version", [
    ("4.4.0-19041-Microsoft", 1),
    ("5.15.153.1-microsoft-standard-WSL2", 2),
    ("4.19.104-microsoft-standard", 2),
])
def test_wsl_version_from_the_kernel_release(tmp_path, osrelease, version):
    root = tree(tmp_path, {"/etc/os-release": UBUNTU,
                           "/proc/sys/kernel/osrelease": osrelease})
    facts = probe_platform(ProbeContext(sysroot=root, environ={"WSL_DISTRO_NAME": "Ubuntu"}))
    assert facts["wsl"]["version"] == version
    result = run_check("platform.os", facts_fixture(platform=facts))
    if version == 1:
        assert result.status is Status.WARN
        [finding] = result.findings
        assert finding.code == "platform.W001" and "no GPU support" in finding.message
        assert finding.hint.startswith("In Windows PowerShell: wsl --set-version Ubuntu 2")
    else:
        assert result.status is Status.PASS and "WSL 2" in result.summary


@linux_only
def test_container_markers_in_cgroup_and_environment(tmp_path):
    root = tree(tmp_path, {"/etc/os-release": UBUNTU,
                           "/proc/1/cgroup": "0::/kubepods/besteffort/pod1234/abcd\n"})
    assert probe_platform(ProbeContext(sysroot=root, environ={}))["container"] == "kubernetes"
    plain = tree(tmp_path / "plain", {"/etc/os-release": UBUNTU})
    assert probe_platform(ProbeContext(sysroot=plain, environ={}))["container"] is None
    assert probe_platform(ProbeContext(sysroot=plain,
                                       environ={"container": "podman"}))["container"] == "podman"


@linux_only
def test_missing_or_garbage_files_never_raise(tmp_path):
    root = tree(tmp_path, {"/etc/os-release": "\x00\x01garbage\n=\n==\nID\n",
                           "/proc/sys/kernel/osrelease": ""})
    facts = probe_platform(ProbeContext(sysroot=root, environ={}))
    json.dumps(facts)
    empty = probe_platform(ProbeContext(sysroot=str(tmp_path / "nothing"), environ={}))
    assert empty["distribution"] is None
    assert run_check("platform.os", facts_fixture(platform=empty)).status is Status.PASS


def test_parse_os_release_handles_quotes_and_comments():
    parsed = parse_os_release('# c\nNAME="Alpine Linux"\nID=alpine\nVERSION_ID=\'3.19\'\nbad')
    assert parsed == {"NAME": "Alpine Linux", "ID": "alpine", "VERSION_ID": "3.19"}


def test_musl_and_rosetta_warnings():
    musl = {"system": "Linux", "machine": "x86_64", "libc": {"name": "musl", "version": None},
            "distribution": {"name": "Alpine Linux v3.19"}}
    result = run_check("platform.os", facts_fixture(platform=musl))
    assert [f.code for f in result.findings] == ["platform.W002"]
    assert "musl" in result.summary
    mac = {"system": "Darwin", "machine": "x86_64", "macos": {"version": "14.4",
                                                              "rosetta": True}}
    result = run_check("platform.os", facts_fixture(platform=mac))
    assert [f.code for f in result.findings] == ["platform.W003"]
    assert result.summary.startswith("macOS 14.4")


def test_real_platform_passes_or_warns_without_crashing():
    facts = probe_platform(ProbeContext())
    result = run_check("platform.os", facts_fixture(platform=facts))
    assert result.status in (Status.PASS, Status.WARN)
    assert result.summary


def test_platform_os_from_a_saved_report(tmp_path):
    facts = facts_fixture(platform={"system": "Linux", "machine": "x86_64",
                                    "kernel": "4.4.0-19041-Microsoft",
                                    "wsl": {"version": 1, "distro_name": "Ubuntu-20.04"},
                                    "distribution": {"name": "Ubuntu 20.04.6 LTS"}})
    saved = tmp_path / "r.json"
    saved.write_text(json.dumps(report_with_facts(facts)), encoding="utf-8")
    proc = run_envdoctor("check", "--from", str(saved), "--only", "platform.os", "--json")
    report = json.loads(proc.stdout)
    validate_report(report)
    [check] = report["checks"]
    assert check["status"] == "warn" and check["findings"][0]["code"] == "platform.W001"
