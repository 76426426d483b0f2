"""envdoctor.nvml against the real nvidia-ml-py and a fake NVML module on sys.path."""

from __future__ import annotations

import json
import sys
import time

import pytest
from fakes_nvidia import GIB, MIB, h100_gpu, install_fake_nvml, scenario, sysroot

from envdoctor import nvml
from envdoctor.probes import ProbeContext
from envdoctor.probes.nvidia import probe_nvidia


@pytest.fixture
def fake_nvml(tmp_path, monkeypatch):
    """Put a fake pynvml first on sys.path; returns a function that sets the scenario."""
    directory = tmp_path / "fake_nvml"
    env = install_fake_nvml(directory)
    monkeypatch.syspath_prepend(str(directory))
    monkeypatch.delitem(sys.modules, "pynvml", raising=False)
    monkeypatch.setenv("ENVDOCTOR_FAKE_NVML", env["ENVDOCTOR_FAKE_NVML"])
    yield lambda data: (directory / "scenario.json").write_text(json.dumps(data))
    sys.modules.pop("pynvml", None)


def nvidia_sysroot(tmp_path, **kw):
    kw.setdefault("pci", [("0000:19:00.0", "0x030200", "nvidia")])
    kw.setdefault("module_version", "590.48.01")
    kw.setdefault("modules", ("nvidia", "nvidia_uvm"))
    kw.setdefault("dev_nodes", ("nvidiactl", "nvidia0", "nvidia-uvm"))
    return sysroot(tmp_path / "root", **kw)


def ctx(root, timeout=5.0, path=""):
    return ProbeContext(timeout=timeout, sysroot=str(root), environ={"PATH": path})


def test_error_names_match_real_nvidia_ml_py():
    real = pytest.importorskip("pynvml")
    constants = {name[len("NVML_ERROR_"):]: getattr(real, name) for name in dir(real)
                 if name.startswith("NVML_ERROR_")}
    assert len(constants) > 25
    for name, value in constants.items():
        assert nvml.ERROR_NAMES[value] == name


def test_real_binding_without_driver_is_library_not_found(monkeypatch):
    real = pytest.importorskip("pynvml")
    session = nvml.Nvml(loader=lambda: real)
    facts = nvml.collect(session)
    if facts["ok"]:
        pytest.skip("this machine has a working NVIDIA driver")
    assert session.init_error["code"] in ("LIBRARY_NOT_FOUND", "DRIVER_NOT_LOADED")
    assert "NVML" in session.init_error["message"] or "driver" in session.init_error["message"]


def test_missing_binding_is_a_fact_not_a_crash():
    def loader():
        raise ImportError("No module named 'pynvml'")

    session = nvml.Nvml(loader=loader)
    assert nvml.collect(session)["ok"] is False
    assert session.init_error["code"] == "BINDING_NOT_INSTALLED"


def test_h100_facts_through_the_probe(fake_nvml, tmp_path):
    gpu = h100_gpu(procs=[[4242, 1024 * MIB]], gprocs=[[4242, 0]])
    fake_nvml(scenario(gpus=[gpu], process_names={"4242": "python3"}))
    facts = probe_nvidia(ctx(nvidia_sysroot(tmp_path)))
    assert facts["source"] == "nvml" and facts["present"] is True
    assert facts["driver_version"] == "590.48.01"
    assert facts["cuda_driver_version"] == "13.1"
    assert facts["nvml_version"] == "13.590.48.01"
    g = facts["gpus"][0]
    assert g["name"] == "NVIDIA H100 80GB HBM3"
    assert g["pci_bus_id"] == "00000000:19:00.0"
    assert g["compute_capability"] == "9.0" and g["architecture"] == "Hopper"
    assert (g["memory_total_mib"], g["memory_free_mib"]) == (81559, 81079)
    assert g["pcie"]["width_current"] == 16 and g["pcie"]["gen_max"] == 5
    assert g["persistence_mode"] is True
    assert g["mig_mode"] == {"current": False, "pending": False}
    assert g["ecc"]["mode_current"] is True and g["ecc"]["uncorrected_volatile"] == 0
    assert g["retired_pages_pending"] is False and g["remapped_rows_failure"] is False
    assert g["clock_event_reasons"] == ["gpu_idle"]
    assert g["processes"] == [{"pid": 4242, "name": "python3", "type": "C+G",
                               "used_memory_mib": 1024}]
    assert facts["errors"] == []
    assert facts["kernel"]["module_version"] == "590.48.01"
    json.dumps(facts)


def test_geforce_not_supported_is_not_an_error(fake_nvml, tmp_path):
    gpu = h100_gpu(name="NVIDIA GeForce RTX 4080 SUPER", cc=[8, 9], arch=8, ecc=None,
                   ecc_errors=None, retired_pending=None, retired_pages=None, remapped=None,
                   mig=None, persistence=None)
    fake_nvml(scenario(gpus=[gpu], driver="595.71.05", cuda=13020))
    facts = probe_nvidia(ctx(nvidia_sysroot(tmp_path)))
    g = facts["gpus"][0]
    assert facts["errors"] == []
    assert g["ecc"]["mode_current"] is None and g["retired_pages_pending"] is None
    assert g["mig_mode"] is None and g["remapped_rows"] is None
    assert g["architecture"] == "Ada Lovelace" and g["compute_capability"] == "8.9"


def test_mig_devices(fake_nvml, tmp_path):
    mig_dev = {"uuid": "MIG-aaaa", "name": "NVIDIA H100 80GB HBM3 MIG 1g.10gb", "gi": 7,
               "ci": 0, "mem": [9984 * MIB, 13 * MIB, 9971 * MIB]}
    gpu = h100_gpu(mig=[1, 1], mig_devices=[mig_dev, None, dict(mig_dev, uuid="MIG-bbbb", gi=8)])
    fake_nvml(scenario(gpus=[gpu]))
    g = probe_nvidia(ctx(nvidia_sysroot(tmp_path)))["gpus"][0]
    assert g["mig_mode"] == {"current": True, "pending": True}
    assert [d["uuid"] for d in g["mig_devices"]] == ["MIG-aaaa", "MIG-bbbb"]
    assert g["mig_devices"][0]["memory_total_mib"] == 9984


@pytest.mark.parametrize("code, name", [(18, "LIB_RM_VERSION_MISMATCH"),
                                        (9, "DRIVER_NOT_LOADED"), (4, "NO_PERMISSION"),
                                        (12, "LIBRARY_NOT_FOUND"), (999, "UNKNOWN")])
def test_init_errors_become_facts(fake_nvml, tmp_path, code, name):
    fake_nvml(scenario(init_error=code))
    facts = probe_nvidia(ctx(nvidia_sysroot(tmp_path)))
    assert facts["source"] is None and facts["gpus"] == []
    assert facts["errors"][0]["code"] == name and facts["errors"][0]["source"] == "nvml"
    assert facts["errors"][0]["message"]
    assert facts["present"] is True  # the PCI device and /proc/driver/nvidia say so


def test_lost_gpu_and_per_call_errors(fake_nvml, tmp_path):
    lost = h100_gpu(handle_error=15)
    sick = h100_gpu(errors={"nvmlDeviceGetMemoryInfo": 15}, inforom_bad=True,
                    ecc_errors=[3, 7])
    fake_nvml(scenario(gpus=[lost, sick]))
    facts = probe_nvidia(ctx(nvidia_sysroot(tmp_path)))
    g0, g1 = facts["gpus"]
    assert g0["lost"] is True and g0["name"] is None
    assert g1["lost"] is True and g1["memory_total_mib"] is None
    assert g1["inforom_valid"] is False
    assert g1["ecc"]["uncorrected_volatile"] == 3
    codes = [(e["code"], e["gpu"]) for e in facts["errors"]]
    assert ("GPU_IS_LOST", 0) in codes and ("GPU_IS_LOST", 1) in codes
    assert ("CORRUPTED_INFOROM", 1) in codes
    assert len(codes) == len(set(codes))  # one entry per error and GPU, not per call


def test_hung_nvml_costs_at_most_its_share_of_the_timeout(fake_nvml, tmp_path):
    fake_nvml(scenario(hang="nvmlInit"))
    start = time.monotonic()
    facts = probe_nvidia(ctx(nvidia_sysroot(tmp_path), timeout=1.5))
    elapsed = time.monotonic() - start
    assert elapsed < 1.5
    assert facts["errors"][-1]["code"] == "HUNG"
    assert "did not answer" in facts["errors"][-1]["message"]
    assert facts["nvml"]["hung"] is True


def test_nvml_versions_in_bytes_are_decoded(fake_nvml, tmp_path):
    fake_nvml(scenario())
    session = nvml.Nvml()
    assert session.init()
    assert nvml._text(b"535.104.05\x00") == "535.104.05"
    assert nvml.clock_event_names(0x8 | 0x40) == ["hw_slowdown", "hw_thermal_slowdown"]
    assert nvml._mib(nvml.NOT_AVAILABLE_ULL) is None and nvml._mib(2 * GIB) == 2048
    session.shutdown()
