"""The real nvidia-smi captures (H100, H100 in MIG mode, RTX 4080 SUPER, Windows RTX 2080
SUPER; idle and under load) through a fake NVML built from them: envdoctor's facts must
agree with what nvidia-smi printed on those machines, and the checks must not report a
problem on these healthy machines."""

from __future__ import annotations

import json
import sys

import pytest
from conftest import facts_fixture, run_check
from fakes_nvidia import install_fake_nvml, sysroot
from fakes_nvidia.captures import na, number, nvml_scenario

from envdoctor.probes import ProbeContext
from envdoctor.probes.nvidia import probe_nvidia

CAPTURES = ["linux-x86_64__nvidia-h100-80gb-hbm3__590.48.01.txt",
            "linux-x86_64__nvidia-h100-mig__590.48.01.txt",
            "linux-x86_64__nvidia-geforce-rtx-4080-super__595.71.05.txt",
            "windows-x86_64__nvidia-geforce-rtx-2080-super__610.62.txt"]


@pytest.fixture
def probe_capture(tmp_path, monkeypatch, corpus):
    """Run the nvidia probe against a fake NVML that replays one capture."""
    def run(name: str, phase: str) -> tuple[dict, dict]:
        path = corpus / "nvidia-smi-captures" / name
        if not path.exists():
            pytest.skip(f"{name} not in the corpus")
        data, printed = nvml_scenario(path, phase)
        directory = tmp_path / f"nvml-{phase}"
        install_fake_nvml(directory, data)
        monkeypatch.syspath_prepend(str(directory))
        monkeypatch.setenv("ENVDOCTOR_FAKE_NVML", str(directory / "scenario.json"))
        sys.modules.pop("pynvml", None)
        root = sysroot(tmp_path / f"root-{phase}", pci=[("0000:00:09.0", "0x030200", "nvidia")],
                       module_version=data["driver"], modules=("nvidia",),
                       dev_nodes=("nvidiactl", "nvidia0"))
        facts = probe_nvidia(ProbeContext(timeout=5.0, sysroot=str(root), environ={"PATH": ""}))
        sys.modules.pop("pynvml", None)
        return facts, printed
    return run


def _flag(value):
    return None if na(value) else value.lower() in ("enabled", "yes", "active")


@pytest.mark.parametrize("phase", ["idle", "load"])
@pytest.mark.parametrize("name", CAPTURES)
def test_facts_agree_with_what_nvidia_smi_printed(probe_capture, name, phase):
    facts, printed = probe_capture(name, phase)
    assert facts["source"] == "nvml" and facts["errors"] == []
    row = printed["rows"][0]
    assert facts["driver_version"] == row["driver_version"]
    level = printed["cuda"]
    assert facts["cuda_driver_version"] == f"{level // 1000}.{(level % 1000) // 10}"
    g = facts["gpus"][0]
    assert (g["name"], g["uuid"], g["pci_bus_id"]) == (row["name"], row["uuid"],
                                                        row["pci.bus_id"])
    assert g["compute_capability"] == row["compute_cap"]
    assert g["memory_total_mib"] == number(row["memory.total"])
    assert g["memory_used_mib"] == number(row["memory.used"])
    assert g["memory_free_mib"] == number(row["memory.free"])
    assert g["pcie"]["gen_current"] == number(row["pcie.link.gen.current"])
    assert g["pcie"]["width_max"] == number(row["pcie.link.width.max"])
    assert g["persistence_mode"] is _flag(row["persistence_mode"])
    assert g["ecc"]["mode_current"] is _flag(row["ecc.mode.current"])
    assert (g["mig_mode"] or {}).get("current") is _flag(row["mig.mode.current"])
    assert g["temperature_c"] == number(row["temperature.gpu"])
    idle = int(row["clocks_event_reasons.active"], 16) & 0x1
    assert g["clock_event_reasons"] == (["gpu_idle"] if idle else [])
    # Processes: the names nvidia-smi printed; no memory figure where Windows (WDDM) has none.
    expected = {int(p["pid"]): (p["process_name"], number(p["used_gpu_memory"]))
                for p in printed["processes"]}
    assert {p["pid"]: (p["name"], p["used_memory_mib"]) for p in g["processes"]} == expected
    json.dumps(facts)


@pytest.mark.parametrize("phase", ["idle", "load"])
@pytest.mark.parametrize("name", CAPTURES)
def test_healthy_captured_machines_get_no_warning(probe_capture, name, phase):
    facts, printed = probe_capture(name, phase)
    windows = name.startswith("windows")
    plat = {"system": "Windows" if windows else "Linux", "wsl": None, "container": None}
    doc = facts_fixture(nvidia=facts, platform=plat)
    driver = run_check("gpu.driver", doc)
    assert driver.status.value == "pass" and printed["rows"][0]["name"] in driver.summary
    health = run_check("gpu.health", doc)
    assert health.status.value == "pass", [f.message for f in health.findings]
    # Persistence mode off is a note on a Linux machine only (the RTX 4080 box).
    assert [f.code for f in health.findings] == (
        ["gpu.I101"] if printed["rows"][0]["persistence_mode"] == "Disabled" else [])


@pytest.mark.parametrize("phase", ["idle", "load"])
def test_mig_instances_of_the_h100(probe_capture, phase):
    facts, printed = probe_capture(CAPTURES[1], phase)
    g = facts["gpus"][0]
    assert g["mig_mode"]["current"] is True
    devices = g["mig_devices"]
    assert [d["uuid"] for d in devices] == [m["uuid"] for m in printed["mig_devices"]]
    assert [d["gpu_instance_id"] for d in devices] == [2, 3, 9, 10]
    assert [d["memory_total_mib"] for d in devices] == [40448, 20096, 9984, 9984]
    assert [d["memory_used_mib"] for d in devices] == [m["used_mib"]
                                                       for m in printed["mig_devices"]]
    assert devices[0]["name"].endswith("MIG 3g.40gb")
    # A framework on a MIG GPU enumerates one MIG instance, not the GPU: one CUDA device
    # for one NVML GPU is normal there, never a "fewer GPUs" finding.
    live = {"torch": {"status": "ok", "cuda_available": True, "device_count": 1,
                      "devices": [{"index": 0, "name": devices[0]["name"],
                                   "compute_capability": "9.0"}],
                      "arch_list": ["sm_80", "sm_90"]}}
    doc = facts_fixture(
        nvidia=facts, platform={"system": "Linux", "wsl": None, "container": None},
        env={"variables": {}},
        frameworks={"installed": {"torch": {"version": "2.7.1", "build": "cu128",
                                            "cuda": "12.8", "hip": None}},
                    "live": live, "live_skipped": None})
    result = run_check("framework.gpu_visible", doc)
    assert result.status.value == "pass" and result.findings == []
