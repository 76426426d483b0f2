"""nvidia-smi -q -x: every real capture parses; fake executables that misbehave."""

from __future__ import annotations

import json
import os
import time

import pytest
from conftest import run_envdoctor, validate_report
from fakes_nvidia import fake_smi, sysroot

from envdoctor import nvidia_smi
from envdoctor.probes import ProbeContext
from envdoctor.probes.nvidia import probe_nvidia

POSIX = pytest.mark.skipif(os.name != "posix", reason="fake executables are POSIX scripts")


def xml_files(corpus):
    files = sorted((corpus / "nvidia-smi-xml").glob("*.xml"))
    assert files, "corpus has no nvidia-smi XML"
    return files


def read(path):
    return path.read_bytes().decode("utf-8", errors="replace")


def test_every_corpus_file_parses_or_says_what_is_missing(corpus):
    for path in xml_files(corpus):
        facts = nvidia_smi.parse_xml(read(path))
        assert facts["ok"], path.name
        assert facts["gpus"], path.name
        for gpu in facts["gpus"]:
            assert gpu["name"], path.name
            assert isinstance(gpu["memory_total_mib"], int), path.name
            assert gpu["pcie"]["width_current"] in (1, 2, 4, 8, 16), path.name
        if facts["driver_version"] is None:
            assert "driver_version" in facts["missing"], path.name
        json.dumps(facts)


@pytest.mark.parametrize("name, driver, cuda, gpu_name, total", [
    ("a100-sxm4-v12.xml", "535.54.03", "12.2", "NVIDIA A100-SXM4-80GB", 81920),
    ("rtx-3080-v12.xml", "536.40", "12.2", "NVIDIA GeForce RTX 3080", 10240),
    ("rtx-4000-sff-ada-v13.xml", "595.84", "13.2", "NVIDIA RTX 4000 SFF Ada Generation", 20475),
    ("gtx-1660-ti.xml", "418.43", "10.1", "Graphics Device", 5912),
    ("tesla-t4.xml", "515.105.01", "11.7", "Tesla T4", 15360),
])
def test_corpus_values(corpus, name, driver, cuda, gpu_name, total):
    facts = nvidia_smi.parse_xml(read(corpus / "nvidia-smi-xml" / name))
    assert (facts["driver_version"], facts["cuda_driver_version"]) == (driver, cuda)
    assert facts["gpus"][0]["name"] == gpu_name
    assert facts["gpus"][0]["memory_total_mib"] == total


def test_corpus_details_match_what_nvml_would_give(corpus):
    a100 = nvidia_smi.parse_xml(read(corpus / "nvidia-smi-xml" / "a100-sxm4-v12.xml"))
    g = a100["gpus"][0]
    assert g["mig_mode"] == {"current": True, "pending": True}
    assert len(g["mig_devices"]) == 4 and g["mig_devices"][0]["memory_total_mib"] == 19968
    assert g["ecc"] == {"mode_current": True, "mode_pending": True,
                        "uncorrected_volatile": 0, "uncorrected_aggregate": 0}
    assert g["architecture"] == "Ampere" and g["persistence_mode"] is False
    # The file says 4 GPUs are attached but holds one: say so.
    assert "3 of 4 attached GPUs" in a100["missing"]

    ada = nvidia_smi.parse_xml(read(corpus / "nvidia-smi-xml" / "rtx-4000-sff-ada-v13.xml"))
    g = ada["gpus"][0]
    assert g["clock_event_reasons"] == ["gpu_idle"]
    assert g["remapped_rows"] == {"correctable": 0, "uncorrectable": 0, "pending": False,
                                  "failure": False}
    assert {p["name"] for p in g["processes"]} >= {"python", "cosmic-comp"}
    assert g["pcie"] == {"gen_current": 1, "gen_max": 4, "gen_max_device": 4,
                         "width_current": 16, "width_max": 16}

    a10g = nvidia_smi.parse_xml(read(corpus / "nvidia-smi-xml" / "a10g.xml"))
    assert a10g["gpus"][0]["clock_event_reasons"] == ["gpu_idle"]  # old <clocks_throttle_*>
    assert a10g["gpus"][0]["virtualization_mode"] == "Pass-Through"


def test_the_truncated_gtx_1070_ti_file_says_what_it_lacks(corpus):
    facts = nvidia_smi.parse_xml(read(corpus / "nvidia-smi-xml" / "gtx-1070-ti.xml"))
    assert facts["gpus"][0]["name"] == "GeForce GTX 1070 Ti"
    assert {"driver_version", "cuda_driver_version"} <= set(facts["missing"])
    assert facts["dtd"] == "v10"


def test_a_file_cut_mid_element_keeps_the_complete_gpus(corpus):
    raw = read(corpus / "nvidia-smi-xml" / "rtx-3060-v12.xml")
    cut = raw[: raw.index("</gpu>") + 200]  # one complete <gpu>, then garbage
    two = cut.replace("</gpu>", "</gpu>\n<gpu id=\"x\"><product_name>Second", 1)
    facts = nvidia_smi.parse_xml(two)
    assert facts["parse_error"] and "lost after the last complete GPU" in facts["parse_error"]
    assert [g["name"] for g in facts["gpus"]] == ["NVIDIA GeForce RTX 3060"]
    nothing = nvidia_smi.parse_xml(raw[:300])
    assert nothing["ok"] is False or not nothing["gpus"]


def test_garbage_never_raises():
    for raw in ("", "garbage", "<nvidia_smi_log><gpu>", "<other/>", "\ufffd\x00<"):
        facts = nvidia_smi.parse_xml(raw)
        assert facts["ok"] is False


def test_entities_in_a_hostile_file_are_not_expanded():
    raw = ('<?xml version="1.0"?><!DOCTYPE nvidia_smi_log [<!ENTITY a "aaaaaaaa">]>'
           "<nvidia_smi_log><driver_version>1.2</driver_version></nvidia_smi_log>")
    assert nvidia_smi.parse_xml(raw)["driver_version"] == "1.2"


def test_deprecated_version_fields_of_driver_610_and_later():
    # nvidia-smi 610 (the Windows RTX 2080 SUPER capture in the corpus) prints "Driver
    # Version : 610.62 [Deprecated; will be removed in CUDA 14.0. Use KMD Version instead]"
    # and the same note on the CUDA version, with new KMD / CUDA UMD versions beside them.
    note = " [Deprecated; will be removed in CUDA 14.0. Use {} instead]"
    old_style = ("<nvidia_smi_log><driver_version>610.62" + note.format("KMD Version")
                 + "</driver_version><cuda_version>13.3" + note.format("CUDA UMD Version")
                 + "</cuda_version><attached_gpus>0</attached_gpus></nvidia_smi_log>")
    facts = nvidia_smi.parse_xml(old_style)
    assert (facts["driver_version"], facts["cuda_driver_version"]) == ("610.62", "13.3")
    new_style = ("<nvidia_smi_log><driver_version>Deprecated</driver_version>"
                 "<kmd_version>610.62</kmd_version><cuda_version>Deprecated</cuda_version>"
                 "<cuda_umd_version>13.3</cuda_umd_version></nvidia_smi_log>")
    facts = nvidia_smi.parse_xml(new_style)
    assert (facts["driver_version"], facts["cuda_driver_version"]) == ("610.62", "13.3")


# -- fake executables ----------------------------------------------------------------------
def probe_with(tmp_path, timeout=5.0, **smi):
    bindir = tmp_path / "bin"
    fake_smi(bindir, **smi)
    root = sysroot(tmp_path / "root", pci=[("0000:01:00.0", "0x030000", "nvidia")],
                   module_version="535.54.03", dev_nodes=("nvidiactl", "nvidia0"))
    env = {"PATH": str(bindir), "PYTHONPATH": str(tmp_path / "no_nvml_here")}
    return probe_nvidia(ProbeContext(timeout=timeout, sysroot=str(root), environ=env))


@POSIX
def test_replay_every_corpus_file_through_a_fake_nvidia_smi(tmp_path, corpus, monkeypatch):
    monkeypatch.setattr("envdoctor.nvml.Nvml.init", lambda self: False)  # NVML unusable
    for i, path in enumerate(xml_files(corpus)):
        facts = probe_with(tmp_path / str(i), mode="replay", xml=path, compute_caps=["8.6"])
        assert facts["source"] == "nvidia-smi", path.name
        assert facts["gpus"][0]["name"] == nvidia_smi.parse_xml(read(path))["gpus"][0]["name"]
        assert facts["gpus"][0]["compute_capability"] == "8.6"


@POSIX
def test_hanging_nvidia_smi_costs_at_most_the_timeout(tmp_path, monkeypatch):
    monkeypatch.setattr("envdoctor.nvml.Nvml.init", lambda self: False)
    start = time.monotonic()
    facts = probe_with(tmp_path, timeout=1.5, mode="hang")
    assert time.monotonic() - start < 2.0
    error = facts["errors"][-1]
    assert error["code"] == "HUNG" and "did not answer" in error["message"]
    assert facts["nvidia_smi"]["run"]["timed_out"] is True


@POSIX
@pytest.mark.parametrize("smi, code", [
    ({"mode": "garbage"}, "GARBAGE"),
    ({"mode": "binary"}, "GARBAGE"),
    ({"mode": "fail", "code": 18,
      "message": "Failed to initialize NVML: Driver/library version mismatch"},
     "LIB_RM_VERSION_MISMATCH"),
    ({"mode": "fail", "code": 9, "message": "NVIDIA-SMI has failed because it couldn't "
      "communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is "
      "installed and running."}, "DRIVER_NOT_LOADED"),
    ({"mode": "fail", "code": 6, "message": "No devices were found"}, "NO_DEVICES"),
    ({"mode": "fail", "code": 15, "message": "Unable to determine the device handle for "
      "GPU0000:01:00.0: GPU is lost.  Reboot the system to recover this GPU"}, "GPU_IS_LOST"),
])
def test_misbehaving_nvidia_smi(tmp_path, monkeypatch, smi, code):
    monkeypatch.setattr("envdoctor.nvml.Nvml.init", lambda self: False)
    facts = probe_with(tmp_path, **smi)
    assert facts["source"] is None and facts["gpus"] == []
    assert facts["errors"][-1]["code"] == code
    json.dumps(facts)


@POSIX
def test_cli_reports_a_hung_nvidia_smi_within_the_timeout(tmp_path):
    bindir = tmp_path / "bin"
    fake_smi(bindir, mode="hang")
    root = sysroot(tmp_path / "root", pci=[("0000:01:00.0", "0x030000", "nvidia")],
                   module_version="535.54.03", dev_nodes=("nvidiactl", "nvidia0"))
    empty = tmp_path / "site"
    (empty / "pynvml").mkdir(parents=True)
    (empty / "pynvml" / "__init__.py").write_text("raise ImportError('no binding here')\n")
    start = time.monotonic()
    proc = run_envdoctor("check", "--json", "--only", "gpu.driver", "--timeout", "2",
                         env={"PATH": f"{bindir}{os.pathsep}/usr/bin{os.pathsep}/bin",
                              "ENVDOCTOR_SYSROOT": str(root), "PYTHONPATH": str(empty)})
    assert time.monotonic() - start < 8
    report = json.loads(proc.stdout)
    validate_report(report)
    result = next(c for c in report["checks"] if c["id"] == "gpu.driver")
    assert result["status"] == "fail"
    assert [f["code"] for f in result["findings"]] == ["gpu.E008"]
    assert "did not answer" in result["findings"][0]["message"]
    assert proc.returncode != 0
