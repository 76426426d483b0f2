"""AMD ROCm: the real amd-smi / rocm-smi / rocminfo captures (tests/data/amd/SOURCES.md)
replayed through fake executables on PATH and a fake /sys /dev /opt tree, then the
rocm.* checks on the facts the probe gathered, as a user on those machines would see."""

from __future__ import annotations

import json
import os
import sys

import pytest
from conftest import facts_fixture, run_check, run_envdoctor, validate_report
from fake_frameworks import fake_torch
from fakes_amd import AMD_DATA, fake_tool, sysroot

from envdoctor.amd import gfx, tools
from envdoctor.probes import ProbeContext
from envdoctor.probes.amd import probe_amd

LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ROCm is Linux-only")
MI210, MI50, RX6700XT, MI100 = 90010, 90006, 100301, 90008


def probe(tmp_path, timeout: float = 5.0, **tree) -> dict:
    root = sysroot(tmp_path / "root", **tree)
    return probe_amd(ProbeContext(timeout=timeout, sysroot=str(root),
                                  environ={"PATH": str(tmp_path / "bin")}))


def facts_with(amd: dict, env: dict | None = None, frameworks: dict | None = None,
               nvidia: dict | None = None) -> dict:
    return facts_fixture(
        amd=amd, platform={"system": "Linux", "container": None},
        nvidia=nvidia or {"present": False, "gpus": [], "kernel": {}, "errors": []},
        env={"variables": env or {}},
        frameworks=frameworks or {"installed": {}, "live": {}})


def torch_rocm(hip: str = "6.2.41133", live: dict | None = None) -> dict:
    return {"installed": {"torch": {"version": f"2.5.1+rocm{hip[:3]}", "hip": hip,
                                    "cuda": None, "build": f"rocm{hip[:3]}"}},
            "live": {"torch": live or {"status": "skipped"}}}


def codes(result) -> list[str]:
    return [f.code for f in result.findings]


# ------------------------------------------------------------------ parsers on captures


def test_gfx_names_from_every_spelling():
    assert gfx.from_kfd(90010) == "gfx90a" and gfx.from_kfd("110001") == "gfx1101"
    assert gfx.from_kfd(0) is None and gfx.from_kfd("garbage") is None
    assert gfx.from_override("10.3.0") == "gfx1030" and gfx.from_override("9.0.10") == "gfx90a"
    assert gfx.from_override("10.3") is None and gfx.from_override("gfx1030") is None
    assert gfx.normalize("amdgcn-amd-amdhsa--gfx90a:sramecc+:xnack-") == "gfx90a"
    assert gfx.normalize("gfx9010") == "gfx90a"  # rocm-smi's decimal stepping
    assert gfx.family("gfx1031") == gfx.family("gfx1030") != gfx.family("gfx1010")


def test_amd_smi_static_both_json_shapes():
    halo = tools.parse_amd_smi_static((AMD_DATA / "amd-smi-static-strix-halo-rocm631.json")
                                      .read_text())
    assert halo["ok"] and halo["driver_version"] == "6.17.1-300.fc43.x86_64"
    (gpu,) = halo["gpus"]
    assert (gpu["gfx_target"], gpu["pci_bus_id"], gpu["compute_units"],
            gpu["memory_total_mib"]) == ("gfx1151", "0000:c4:00.0", 40, 32768)
    # ROCm 6.4+ wraps the list in gpu_data and a newer Python prints warnings first.
    rx = tools.parse_amd_smi_static((AMD_DATA / "amd-smi-static-rx7800xt-asic.txt").read_text())
    assert rx["ok"] and rx["gpus"][0]["name"] == "AMD Radeon RX 7800 XT"
    assert rx["gpus"][0]["gfx_target"] == "gfx1101"


def test_rocm_smi_and_rocminfo_captures():
    rx = tools.parse_rocm_smi_json((AMD_DATA / "rocm-smi-rx6700xt-rocm612.json").read_text())
    assert rx["driver_version"] == "6.3.6"
    assert rx["gpus"][0]["gfx_target"] == "gfx1031" and rx["gpus"][0]["memory_total_mib"] == 12272
    mi100 = tools.parse_rocm_smi_json((AMD_DATA / "rocm-smi-mi100-rocm602.json").read_text())
    assert [g["pci_bus_id"] for g in mi100["gpus"]] == ["0000:83:00.0", "0000:A3:00.0",
                                                         "0000:C3:00.0", "0000:E3:00.0"]
    assert all(g["gfx_target"] is None for g in mi100["gpus"])  # this rocm-smi omits it
    info = tools.parse_rocminfo((AMD_DATA / "rocminfo-mi210-mi50-rocm533.txt").read_text())
    assert [(g["name"], g["gfx_target"], g["compute_units"]) for g in info["gpus"]] == [
        ("AMD Instinct MI210", "gfx90a", 104), ("AMD Instinct MI50/MI60", "gfx906", 60)]
    assert info["gpus"][0]["pci_bus_id"] == "0000:63:00.0"  # BDFID 25344


@pytest.mark.parametrize("text", ["", "garbage", "\x1b[31m{", "[1, 2]", "{\"card0\": 5}",
                                  "{" * 5000, "\udcff\udcfe"])
def test_parsers_never_raise_on_garbage(text):
    for parse in (tools.parse_amd_smi_static, tools.parse_rocm_smi_json, tools.parse_rocminfo):
        result = parse(text)
        assert result["ok"] is False and result["gpus"] == [] and result["error"]


# ------------------------------------------------------------------ probe + checks


@LINUX
def test_no_amd_hardware_spawns_nothing(tmp_path):
    fake_tool(tmp_path / "elsewhere", "amd-smi", text="should not run")
    facts = probe(tmp_path, module=False, kfd=False, render=())
    assert facts["present"] is False and facts["runs"] == {} and facts["signs"] == []
    result = run_check("rocm.driver", facts_with(facts))
    assert result.status.value == "skip" and "no AMD GPU" in result.summary


@LINUX
def test_rocminfo_only_machine_mi210_mi50(tmp_path):
    fake_tool(tmp_path / "bin", "rocminfo", "rocminfo-mi210-mi50-rocm533.txt")
    facts = probe(tmp_path, pci=[("0000:63:00.0", "0x038000", "amdgpu"),
                                 ("0000:e3:00.0", "0x038000", "amdgpu")],
                  kfd_targets=(MI210, MI50), rocm_version="5.3.3")
    assert facts["source"] == "rocminfo" and facts["rocm_version"] == "5.3.3"
    assert [g["gfx_target"] for g in facts["gpus"]] == ["gfx90a", "gfx906"]
    json.dumps(facts)
    result = run_check("rocm.driver", facts_with(facts))
    assert result.status.value == "pass" or codes(result) == ["rocm.I001"], result.findings
    assert "AMD Instinct MI210 (gfx90a)" in result.summary and "ROCm 5.3.3" in result.summary


@LINUX
def test_old_rocm_smi_gets_gfx_targets_from_kfd_topology(tmp_path):
    fake_tool(tmp_path / "bin", "rocm-smi", "rocm-smi-mi100-rocm602.json")
    facts = probe(tmp_path, pci=[(f"0000:{b}:00.0", "0x038000", "amdgpu")
                                 for b in ("83", "a3", "c3", "e3")],
                  kfd_targets=(MI100,) * 4, rocm_version="6.0.2")
    assert facts["source"] == "rocm-smi" and facts["driver_version"] == "6.3.6"
    assert [g["gfx_target"] for g in facts["gpus"]] == ["gfx908"] * 4
    assert "rocminfo" not in facts["runs"]  # nothing left to learn


@LINUX
def test_hanging_and_failing_tools_become_facts(tmp_path):
    fake_tool(tmp_path / "bin", "amd-smi", text="", sleep=30)
    fake_tool(tmp_path / "bin", "rocminfo", text="hsa api call failure\n", exit_code=1,
              stderr="Unable to open /dev/kfd read-write: Permission denied")
    facts = probe(tmp_path, timeout=2.0, pci=[("0000:03:00.0", "0x030000", "amdgpu")],
                  kfd_targets=(110001,))
    by_source = {e["source"]: e for e in facts["errors"]}
    assert by_source["amd-smi"]["code"] == "TIMED_OUT"
    assert by_source["rocminfo"]["code"] == "FAILED"
    assert "Permission denied" in by_source["rocminfo"]["message"]
    # The GPU is still known, from the kernel.
    assert facts["source"] == "sysfs" and facts["gpus"][0]["gfx_target"] == "gfx1101"
    result = run_check("rocm.driver", facts_with(facts))
    assert "rocm.W001" in codes(result)


@LINUX
@pytest.mark.skipif(os.name == "posix" and os.geteuid() == 0,
                    reason="root may open any device node")
def test_kfd_permission_denied_names_the_usermod_fix(tmp_path):
    fake_tool(tmp_path / "bin", "rocm-smi", "rocm-smi-rx7900xt-productname.json")
    facts = probe(tmp_path, pci=[("0000:0b:00.0", "0x030000", "amdgpu")], kfd_mode=0o600,
                  kfd_targets=(110000,))
    result = run_check("rocm.driver", facts_with(facts))
    (finding,) = [f for f in result.findings if f.code == "rocm.E002"]
    assert "/dev/kfd" in finding.message
    assert "sudo usermod -aG render,video $USER" in finding.hint


def test_kfd_permission_denied_from_facts():
    amd = {"present": True, "source": "rocm-smi", "rocm_path": "/opt/rocm",
           "gpus": [{"index": 0, "name": "Radeon RX 7900 XT", "gfx_target": "gfx1100"}],
           "tools": {"rocm-smi": "/usr/bin/rocm-smi"}, "errors": [],
           "kernel": {"module": {"loaded": True}, "user_groups": [],
                      "pci_devices": [{"address": "0000:0b:00.0", "driver": "amdgpu"}],
                      "nodes": {"kfd": {"path": "/dev/kfd", "exists": True,
                                        "accessible": False, "group": "render"},
                                "render": [{"path": "/dev/dri/renderD128", "exists": True,
                                            "accessible": False, "group": "render"}]}}}
    result = run_check("rocm.driver", facts_with(amd))
    assert result.status.value == "fail"
    (finding,) = [f for f in result.findings if f.code == "rocm.E002"]
    assert "group render" in finding.message and "usermod -aG render,video" in finding.hint


def test_igpu_beside_nvidia_is_only_a_note():
    amd = {"present": True, "source": "sysfs", "rocm_path": None, "tools": {}, "errors": [],
           "gpus": [{"index": 0, "name": None, "gfx_target": "gfx1036"}],
           "kernel": {"module": {"loaded": True}, "pci_devices": [
               {"address": "0000:10:00.0", "driver": "amdgpu"}],
               "nodes": {"kfd": {"path": "/dev/kfd", "exists": True, "accessible": False,
                                 "group": "render"}, "render": []}}}
    nvidia = {"present": True, "gpus": [{"index": 0, "name": "NVIDIA GeForce RTX 4090"}],
              "kernel": {}, "errors": []}
    result = run_check("rocm.driver", facts_with(amd, nvidia=nvidia))
    assert result.status.value != "fail"
    assert result.findings and {f.level.name for f in result.findings} == {"INFO"}


@LINUX
def test_rx6700xt_gfx1031_torch_has_no_code_and_the_override_fixes_it(tmp_path):
    fake_tool(tmp_path / "bin", "rocm-smi", "rocm-smi-rx6700xt-rocm612.json")
    amd = probe(tmp_path, pci=[("0000:07:00.0", "0x030000", "amdgpu")],
                kfd_targets=(RX6700XT,), rocm_version="6.1.2")
    live = {"status": "ok", "cuda_available": True, "arch_list": [
        "gfx900", "gfx906", "gfx908", "gfx90a", "gfx942", "gfx1030", "gfx1100"],
        "devices": [{"index": 0, "gcn_arch": "gfx1031",
                     "kernel_test": "RuntimeError: HIP error: invalid device function"}]}
    result = run_check("rocm.gfx_target", facts_with(amd, frameworks=torch_rocm(live=live)))
    assert result.status.value == "fail"
    assert set(codes(result)) == {"rocm.E020", "rocm.W021"}
    e020 = next(f for f in result.findings if f.code == "rocm.E020")
    assert "HSA_OVERRIDE_GFX_VERSION=10.3.0" in e020.hint and "invalid device function" in \
        e020.message
    fixed = run_check("rocm.gfx_target", facts_with(
        amd, env={"HSA_OVERRIDE_GFX_VERSION": "10.3.0"},
        frameworks=torch_rocm(live={**live, "devices": [{"index": 0, "gcn_arch": "gfx1030",
                                                           "kernel_test": "ok"}]})))
    assert codes(fixed) == ["rocm.I020"], fixed.findings


def test_override_across_isa_families_warns_of_crashes():
    info = tools.parse_rocminfo((AMD_DATA / "rocminfo-mi210-mi50-rocm533.txt").read_text())
    amd = {"present": True, "gpus": info["gpus"][1:], "source": "rocminfo"}  # the MI50
    result = run_check("rocm.gfx_target", facts_with(amd, env={
        "HSA_OVERRIDE_GFX_VERSION": "10.3.0"}))
    assert "rocm.W022" in codes(result)
    bad = run_check("rocm.gfx_target", facts_with(amd, env={"HSA_OVERRIDE_GFX_VERSION": "10.3"}))
    assert "rocm.W023" in codes(bad)


def test_cuda_build_of_torch_on_an_amd_only_machine_is_named_as_the_cause():
    info = tools.parse_rocminfo((AMD_DATA / "rocminfo-mi210-mi50-rocm533.txt").read_text())
    amd = {"present": True, "gpus": info["gpus"], "source": "rocminfo", "rocm_version": "6.2.4"}
    frameworks = {"installed": {"torch": {"version": "2.6.0+cu124", "cuda": "12.4",
                                          "hip": None, "build": "cu124"}}, "live": {}}
    result = run_check("rocm.framework_build", facts_with(amd, frameworks=frameworks))
    (finding,) = result.findings
    assert finding.code == "rocm.E010" and "cause" in finding.message
    assert "download.pytorch.org/whl/rocm6.2" in finding.hint
    # With an NVIDIA GPU too, a CUDA torch is the normal choice: nothing to say.
    nvidia = {"present": True, "gpus": [{"index": 0}], "kernel": {}, "errors": []}
    assert run_check("rocm.framework_build", facts_with(amd, frameworks=frameworks,
                                                        nvidia=nvidia)).findings == []


def test_rocm_build_older_than_the_system_rocm():
    amd = {"present": True, "gpus": [{"index": 0, "gfx_target": "gfx942"}],
           "rocm_version": "6.2.4"}
    result = run_check("rocm.framework_build", facts_with(amd, frameworks=torch_rocm(
        "5.7.31921")))
    assert codes(result) == ["rocm.W011"]
    assert "rocm6.2" in result.findings[0].hint


@pytest.mark.parametrize("env, expected", [
    ({}, []),
    ({"HIP_VISIBLE_DEVICES": ""}, ["rocm.W030"]),
    ({"ROCR_VISIBLE_DEVICES": "-1"}, ["rocm.W030"]),
    ({"HIP_VISIBLE_DEVICES": "0,3"}, ["rocm.W031"]),
    ({"CUDA_VISIBLE_DEVICES": "1"}, ["rocm.I031"]),
    ({"HIP_VISIBLE_DEVICES": "0", "CUDA_VISIBLE_DEVICES": "1"}, ["rocm.W032"]),
    ({"ROCR_VISIBLE_DEVICES": "1", "HIP_VISIBLE_DEVICES": "1"}, ["rocm.W030", "rocm.I030"]),
    ({"ROCR_VISIBLE_DEVICES": "GPU-21e4cb94e63377ab"}, []),
])
def test_visibility_variables_on_rocm(env, expected):
    info = tools.parse_rocminfo((AMD_DATA / "rocminfo-mi210-mi50-rocm533.txt").read_text())
    amd = {"present": True, "gpus": info["gpus"]}
    result = run_check("rocm.visible_devices", facts_with(amd, env=env))
    assert codes(result) == expected, result.findings


# ------------------------------------------------------------------ the whole CLI


@LINUX
def test_cli_on_an_amd_machine_with_a_rocm_torch(tmp_path):
    """The real CLI on a fake RX 6700 XT machine whose torch is the rocm6.2 wheel: the
    report names the gfx target problem and carries the AMD GPU with its vendor."""
    fake_tool(tmp_path / "bin", "rocm-smi", "rocm-smi-rx6700xt-rocm612.json")
    root = sysroot(tmp_path / "root", pci=[("0000:07:00.0", "0x030000", "amdgpu")],
                   kfd_targets=(RX6700XT,), rocm_version="6.2.4")
    fake_torch(tmp_path / "site", version="2.5.1+rocm6.2", cuda=None, hip="6.2.41133",
               arch_list=["gfx900", "gfx906", "gfx908", "gfx90a", "gfx942", "gfx1030",
                          "gfx1100"],
               devices=[{"name": "AMD Radeon RX 6700 XT", "cc": [10, 3],
                         "gcn_arch": "gfx1031",
                         "kernel_error": "HIP error: invalid device function"}])
    proc = run_envdoctor("check", "--json", "--only", "rocm,gpu.driver", env={
        "ENVDOCTOR_SYSROOT": str(root), "PATH": f"{tmp_path / 'bin'}{os.pathsep}"
        + os.environ.get("PATH", ""), "PYTHONPATH": str(tmp_path / "site"),
        "ENVDOCTOR_FRAMEWORK_TIMEOUT": "20"})
    assert proc.returncode != 0, proc.stderr
    report = json.loads(proc.stdout)
    validate_report(report)
    by_id = {c["id"]: c for c in report["checks"]}
    assert by_id["rocm.driver"]["status"] == "pass" or by_id["rocm.driver"]["status"] == "warn"
    # The NVIDIA check skips, and says where this machine's GPU is covered.
    assert by_id["gpu.driver"]["status"] == "skip"
    assert "Navi 22 [Radeon RX 6700/6700 XT / 6800M]" in by_id["gpu.driver"]["summary"]
    assert "rocm" in by_id["gpu.driver"]["summary"]
    gfx_codes = [f["code"] for f in by_id["rocm.gfx_target"]["findings"]]
    assert "rocm.E020" in gfx_codes and "rocm.W021" in gfx_codes
    torch_live = report["facts"]["frameworks"]["live"]["torch"]
    assert torch_live["hip_version"] == "6.2.41133"
    assert torch_live["devices"][0]["gcn_arch"] == "gfx1031"
    assert "invalid device function" in torch_live["devices"][0]["kernel_test"]
