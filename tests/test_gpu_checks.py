"""gpu.driver and gpu.health: each broken case gives the right status, code and hint."""

from __future__ import annotations

import json
import os
import sys

import pytest
from conftest import facts_fixture, run_check, run_envdoctor, validate_report
from fakes_nvidia import MIB, h100_gpu, install_fake_nvml, scenario, sysroot

from envdoctor.probes import ProbeContext
from envdoctor.probes.nvidia import probe_nvidia


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """Run the real nvidia probe against a fake tree and a fake NVML scenario."""
    def run(nvml_scenario=None, **tree):
        directory = tmp_path / "nvml"
        env = install_fake_nvml(directory, nvml_scenario or scenario())
        monkeypatch.syspath_prepend(str(directory))
        monkeypatch.delitem(sys.modules, "pynvml", raising=False)
        monkeypatch.setenv("ENVDOCTOR_FAKE_NVML", env["ENVDOCTOR_FAKE_NVML"])
        root = sysroot(tmp_path / "root", **tree)
        return probe_nvidia(ProbeContext(timeout=5, sysroot=str(root), environ={"PATH": ""}))
    yield run
    sys.modules.pop("pynvml", None)


LINUX = {"system": "Linux", "wsl": None, "container": None}
PCI = [("0000:01:00.0", "0x030000", "nvidia")]


def driver(nvidia, **plat):
    return run_check("gpu.driver", facts_fixture(nvidia=nvidia, platform={**LINUX, **plat}))


def codes(result):
    return [f.code for f in result.findings]


def test_no_gpu_is_a_skip_not_a_failure(tmp_path):
    root = sysroot(tmp_path / "root")
    facts = probe_nvidia(ProbeContext(timeout=5, sysroot=str(root), environ={"PATH": ""}))
    assert facts["present"] is False and facts["errors"] == []
    result = driver(facts)
    assert result.status.value == "skip"


def test_no_gpu_probe_imports_nothing_and_spawns_nothing(tmp_path):
    code = ("import sys, time; from envdoctor.probes import ProbeContext;"
            "from envdoctor.probes.nvidia import probe_nvidia;"
            f"f = probe_nvidia(ProbeContext(sysroot={str(tmp_path)!r}, environ={{'PATH': ''}}));"
            "print(sorted(m for m in ('pynvml', 'xml.etree.ElementTree', 'ctypes', 'subprocess')"
            " if m in sys.modules), f['present'])")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")[0]
    assert "pynvml" not in out and "xml.etree" not in out and out.endswith("False")


def test_working_driver_passes_and_names_the_gpu(probe):
    result = driver(probe(pci=PCI, module_version="590.48.01", modules=("nvidia",),
                          dev_nodes=("nvidiactl", "nvidia0")))
    assert result.status.value == "pass"
    assert "NVIDIA H100 80GB HBM3" in result.summary and "590.48.01" in result.summary
    assert "CUDA 13.1" in result.summary


def test_version_mismatch_shows_both_versions(probe):
    facts = probe(scenario(init_error=18), pci=PCI, module_version="535.54.03",
                  modules=("nvidia",), dev_nodes=("nvidiactl", "nvidia0"),
                  libs=("libnvidia-ml.so.535.104.05", "libcuda.so.535.104.05"))
    result = driver(facts)
    assert result.status.value == "fail"
    finding = next(f for f in result.findings if f.code == "gpu.E004")
    assert "535.54.03" in finding.message and "535.104.05" in finding.message
    assert "Driver/library version mismatch" in finding.message
    assert "reboot" in finding.hint


def test_driver_not_loaded(probe):
    facts = probe(scenario(init_error=9), pci=PCI, libs=("libnvidia-ml.so.550.54.14",))
    result = driver(facts)
    assert codes(result) == ["gpu.E002"]
    assert "modprobe nvidia" in result.findings[0].hint


def test_driver_not_installed(probe):
    facts = probe(scenario(init_error=12), pci=PCI)
    result = driver(facts)
    assert codes(result) == ["gpu.E001"]
    assert "0000:01:00.0" in result.findings[0].message


def test_nouveau_bound_instead(probe):
    facts = probe(scenario(init_error=12), pci=[("0000:01:00.0", "0x030000", "nouveau")],
                  modules=("nouveau",))
    result = driver(facts)
    assert "gpu.E003" in codes(result)
    assert "blacklist nouveau" in next(f for f in result.findings if f.code == "gpu.E003").hint


def test_no_permission(probe):
    facts = probe(scenario(init_error=4), pci=PCI, module_version="550.54.14",
                  dev_nodes=("nvidiactl", "nvidia0"))
    result = driver(facts)
    assert codes(result) == ["gpu.E005"]
    assert "usermod" in result.findings[0].hint


def test_denied_device_node_from_facts():
    nvidia = {"present": True, "gpus": [], "errors": [], "kernel": {
        "dev_nodes": [{"name": "nvidia0", "accessible": False},
                      {"name": "nvidiactl", "accessible": True}], "pci_devices": []}}
    result = driver(nvidia)
    assert codes(result) == ["gpu.E005"] and "/dev/nvidia0" in result.findings[0].message


def test_gpu_lost(probe):
    facts = probe(scenario(gpus=[h100_gpu(handle_error=15)]), pci=PCI,
                  module_version="590.48.01", dev_nodes=("nvidiactl", "nvidia0"))
    result = driver(facts)
    assert "gpu.E006" in codes(result)
    assert "Xid" in next(f for f in result.findings if f.code == "gpu.E006").hint


def test_container_without_gpu_access(probe):
    facts = probe(scenario(init_error=12), pci=PCI, module_version="550.54.14")
    result = driver(facts, container="docker")
    assert codes(result) == ["gpu.E007"]
    assert "--gpus all" in result.findings[0].hint


def test_wsl_shadowing(probe, tmp_path):
    root = tmp_path / "root"
    (root / "usr/lib/wsl/lib").mkdir(parents=True)
    for name in ("libcuda.so.1", "libnvidia-ml.so.1", "nvidia-smi"):
        (root / "usr/lib/wsl/lib" / name).write_text("")
    facts = probe(libs=("libcuda.so.1", "libcuda.so.535.104.05"))
    assert facts["kernel"]["wsl"]["shadowing"]
    result = driver(facts, wsl={"version": 2})
    assert "gpu.E009" in codes(result)
    finding = next(f for f in result.findings if f.code == "gpu.E009")
    assert "/usr/lib/x86_64-linux-gnu/libcuda.so.1" in finding.message


def test_graphics_device_name_warns_about_an_old_driver():
    nvidia = {"present": True, "source": "nvidia-smi", "driver_version": "418.43",
              "cuda_driver_version": "10.1", "errors": [], "kernel": {},
              "nvidia_smi": {"missing": []},
              "gpus": [{"index": 0, "name": "Graphics Device", "pci_bus_id": "0:43:0"}]}
    result = driver(nvidia)
    assert result.status.value == "warn"
    assert "gpu.W001" in codes(result) and "gpu.I001" in codes(result)


def test_cli_end_to_end_with_fake_nvml_and_sysroot(tmp_path):
    env = install_fake_nvml(tmp_path / "nvml", scenario(init_error=18))
    root = sysroot(tmp_path / "root", pci=PCI, module_version="535.54.03",
                   dev_nodes=("nvidiactl", "nvidia0"), libs=("libnvidia-ml.so.535.104.05",))
    env.update({"ENVDOCTOR_SYSROOT": str(root), "PATH": f"/usr/bin{os.pathsep}/bin"})
    proc = run_envdoctor("check", "--json", "--only", "gpu", env=env)
    report = json.loads(proc.stdout)
    validate_report(report)
    result = next(c for c in report["checks"] if c["id"] == "gpu.driver")
    assert result["status"] == "fail"
    assert "gpu.E004" in [f["code"] for f in result["findings"]]
    assert report["facts"]["nvidia"]["errors"][0]["code"] == "LIB_RM_VERSION_MISMATCH"


# -- gpu.health ----------------------------------------------------------------------------
def health(gpus, **plat):
    return run_check("gpu.health", facts_fixture(nvidia={"present": True, "gpus": gpus},
                                                 platform={**LINUX, **plat}))


def gpu_facts(tmp_path, monkeypatch, **overrides):
    directory = tmp_path / "nvml"
    env = install_fake_nvml(directory, scenario(gpus=[h100_gpu(**overrides)]))
    monkeypatch.syspath_prepend(str(directory))
    monkeypatch.delitem(sys.modules, "pynvml", raising=False)
    monkeypatch.setenv("ENVDOCTOR_FAKE_NVML", env["ENVDOCTOR_FAKE_NVML"])
    root = sysroot(tmp_path / "root", pci=PCI, module_version="590.48.01",
                   dev_nodes=("nvidia0",))
    try:
        return probe_nvidia(ProbeContext(timeout=5, sysroot=str(root),
                                         environ={"PATH": ""}))["gpus"]
    finally:
        sys.modules.pop("pynvml", None)


def test_healthy_gpu_passes(tmp_path, monkeypatch):
    assert health(gpu_facts(tmp_path, monkeypatch)).status.value == "pass"


@pytest.mark.parametrize("overrides, code", [
    ({"ecc_errors": [2, 2]}, "gpu.E101"),
    ({"retired_pending": 1}, "gpu.E102"),
    ({"remapped": [0, 1, 0, 1]}, "gpu.E103"),
    ({"retired_pages": [list(range(40)), list(range(30))]}, "gpu.E104"),
    ({"inforom_bad": True}, "gpu.E105"),
    ({"clocks": 0x40 | 0x1}, "gpu.W101"),
    ({"clocks": 0x80}, "gpu.W101"),
    ({"pcie": [4, 5, 8, 16]}, "gpu.W102"),
    ({"persistence": 0}, "gpu.I101"),
])
def test_health_findings(tmp_path, monkeypatch, overrides, code):
    result = health(gpu_facts(tmp_path, monkeypatch, **overrides))
    assert codes(result) == [code]
    expected = {"E": "fail", "W": "warn", "I": "pass"}[code.split(".")[1][0]]
    assert result.status.value == expected


def test_lower_pcie_generation_at_idle_is_not_a_fault(tmp_path, monkeypatch):
    assert health(gpu_facts(tmp_path, monkeypatch, pcie=[1, 5, 16, 16])).findings == []


def test_other_processes_holding_memory_are_named(tmp_path, monkeypatch):
    gpus = gpu_facts(tmp_path, monkeypatch, mem=[81559 * MIB, 77000 * MIB, 4000 * MIB],
                     procs=[[1111, 70000 * MIB], [2222, 7000 * MIB]])
    result = health(gpus)
    assert codes(result) == ["gpu.W103"]
    assert "pid 1111" in result.findings[0].message and "70000 MiB" in result.findings[0].message


def test_persistence_is_not_mentioned_on_wsl_or_windows(tmp_path, monkeypatch):
    gpus = gpu_facts(tmp_path, monkeypatch, persistence=0)
    assert health(gpus, wsl={"version": 2}).findings == []
    assert health(gpus, system="Windows").findings == []


def test_health_skips_without_gpus():
    assert health([]).status.value == "skip"


def test_corpus_gpus_through_health(corpus):
    from envdoctor import nvidia_smi

    t4 = nvidia_smi.parse_xml((corpus / "nvidia-smi-xml" / "tesla-t4.xml").read_text(
        encoding="utf-8", errors="replace"))
    result = health(t4["gpus"])
    assert "gpu.W102" in codes(result)  # the T4 capture runs at x8 of x16
