"""framework.cupy: the CuPy child's library versions and test kernel (a fake cupy at the
machine's edge: no GPU here), and the cupy-cudaXXx vs driver/toolkit rule."""

from __future__ import annotations

import os

import pytest
from conftest import facts_fixture, run_check
from fake_frameworks import fake_cupy

from envdoctor.probes import ProbeContext
from envdoctor.probes import frameworks as fp

# CuPy's loader message when libnvrtc.so.12 is missing (cupy.show_config prints it too).
NVRTC_MISSING = ("CuPy failed to load libnvrtc.so.12: OSError: libnvrtc.so.12: cannot open "
                 "shared object file: No such file or directory")
L4 = {"index": 0, "name": "NVIDIA L4", "uuid": "GPU-l4", "compute_capability": "8.9"}


def child(site, **scenario) -> dict:
    fake_cupy(site, devices=[{"name": "NVIDIA L4", "cc": [8, 9]}], **scenario)
    env = dict(os.environ, PYTHONPATH=str(site), ENVDOCTOR_FRAMEWORK_TIMEOUT="20")
    return fp.run_children(["cupy"], ProbeContext(timeout=5.0, environ=env))["cupy"]


def facts_for(lv: dict, driver: str = "580.95.05", toolkits=("13.0",)) -> dict:
    return facts_fixture(
        nvidia={"present": True, "driver_version": driver, "gpus": [L4]},
        cuda={"runtimes": [{"version": v, "kind": "toolkit"} for v in toolkits],
              "cudnn": []},
        platform={"system": "Linux"},
        frameworks={"installed": {"cupy": {"version": "13.6.0", "distribution":
                                           "cupy-cuda12x", "build": "cuda12x", "cuda": "12"}},
                    "live": {"cupy": lv}},
        python={"executable": "/opt/py/bin/python3"})


def test_cupy_for_cuda12_next_to_a_cuda13_toolkit_cannot_load_nvrtc(tmp_path):
    lv = child(tmp_path, libraries={"nvrtc": NVRTC_MISSING}, kernel_error=NVRTC_MISSING)
    assert lv["libraries"]["nvrtc"]["status"] == "error"
    assert lv["libraries"]["curand"] == {"status": "ok", "version": "10307"}
    assert lv["devices"][0]["kernel_test"] == "RuntimeError: " + NVRTC_MISSING
    result = run_check("framework.cupy", facts_for(lv))
    assert [f.code for f in result.findings] == ["framework.E060", "framework.E061"]
    e060 = result.findings[0]
    assert "NVRTC" in e060.message and "the CUDA found here is 13.x" in e060.message
    assert e060.hint.startswith("/opt/py/bin/python3 -m pip install nvidia-cuda-nvrtc-cu12")


def test_a_working_cupy_runs_its_kernel_and_passes(tmp_path):
    lv = child(tmp_path)
    result = run_check("framework.cupy", facts_for(lv, toolkits=("12.6",)))
    assert result.status.value == "pass", result.findings
    assert "kernel ran on NVIDIA L4" in result.summary and "NVRTC 12.6" in result.summary


def test_a_driver_older_than_cupys_cuda_major_fails_and_no_gpu_skips(tmp_path):
    lv = {"status": "ok", "devices": [], "libraries": {}}
    old = run_check("framework.cupy", facts_for(lv, driver="470.82.01"))
    assert [f.code for f in old.findings] == ["framework.E062"]
    none = facts_for(lv)
    none["nvidia"] = {"present": False, "gpus": []}
    assert run_check("framework.cupy", none).status.value == "skip"


@pytest.mark.heavy
def test_real_cupy_cuda12x_without_the_cuda12_libraries_records_what_it_cannot_load(
        heavy_site):
    """The real cupy-cuda12x on this machine, which has no CUDA libraries at all: the child
    records CuPy's own loader errors for NVRTC, cuRAND and nvJitLink. The GPU (absent
    here) is the only fake: added to the facts, the check names all three and the wheels
    that bring them."""
    site = heavy_site("cupy", "cupy-cuda12x==14.2.0", deps=True)
    env = dict(os.environ, PYTHONPATH=str(site), ENVDOCTOR_FRAMEWORK_TIMEOUT="60")
    lv = fp.run_children(["cupy"], ProbeContext(timeout=5.0, environ=env))["cupy"]
    assert lv["status"] == "ok", lv
    libs = lv["libraries"]
    assert {k: v["status"] for k, v in libs.items()} == {
        "nvrtc": "error", "curand": "error", "nvjitlink": "error"}, libs
    assert "libnvrtc.so.12" in libs["nvrtc"]["error"]
    result = run_check("framework.cupy", facts_for(lv))
    e060 = result.findings[0]
    assert e060.code == "framework.E060"
    assert "NVRTC, cuRAND, nvJitLink" in e060.message
    assert "nvidia-cuda-nvrtc-cu12 nvidia-curand-cu12 nvidia-nvjitlink-cu12" in e060.hint
