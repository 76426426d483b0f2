"""cuda probe (toolkits, wheels, LD_LIBRARY_PATH) and the cuda.driver_compat / cuda.cudnn
checks."""

from __future__ import annotations

import json
import os

import pytest
from conftest import facts_fixture, run_check, run_envdoctor, validate_report
from fakes_nvidia import write

from envdoctor.probes import ProbeContext
from envdoctor.probes import cuda as cuda_probe

LINUX = {"system": "Linux", "wsl": None, "container": None}


def nvidia(driver="535.104.05", level="12.2"):
    return {"present": True, "driver_version": driver, "cuda_driver_version": level,
            "gpus": [{"index": 0, "name": "NVIDIA A10G", "compute_capability": "8.6"}],
            "errors": []}


def compat(cuda=None, nv=None, frameworks=None, **plat):
    sections = {"nvidia": nv or nvidia(), "cuda": cuda or {"runtimes": []},
                "platform": {**LINUX, **plat}}
    if frameworks is not None:
        sections["frameworks"] = {"installed": frameworks}
    return run_check("cuda.driver_compat", facts_fixture(**sections))


def codes(result):
    return [f.code for f in result.findings]


def test_framework_build_too_new_for_the_driver_fails_with_the_users_words():
    result = compat(nv=nvidia("520.61.05", "11.8"),
                    frameworks={"torch": {"version": "2.5.1+cu124", "build": "cu124",
                                          "cuda": "12.4"}})
    assert result.status.value == "fail" and codes(result) == ["cuda.E001"]
    finding = result.findings[0]
    assert "CUDA driver version is insufficient for CUDA runtime version" in finding.message
    assert "525.60.13" in finding.message
    assert "550.54.14" in finding.hint  # update the driver...
    assert "whl/cu118" in finding.hint  # ...or a build this driver runs
    old = compat(nv=nvidia("470.82.01", "11.4"), frameworks={"torch": {
        "version": "2.5.1+cu124", "build": "cu124", "cuda": "12.4"}})
    assert "CUDA 11.4 or older" in old.findings[0].hint and "whl/" not in old.findings[0].hint


def test_minor_version_compat_is_a_warning():
    result = compat(cuda={"runtimes": [{"version": "12.4", "kind": "pip",
                                        "where": "nvidia-cuda-runtime-cu12",
                                        "package_version": "12.4.127"}]})
    assert result.status.value == "warn" and codes(result) == ["cuda.W001"]
    assert "PTX" in result.findings[0].message and "550.54.14" in result.findings[0].hint


def test_new_enough_driver_passes_every_runtime():
    rts = [{"version": "12.2", "kind": "toolkit", "where": "/usr/local/cuda-12.2"},
           {"version": "11.8", "kind": "toolkit", "where": "/usr/local/cuda-11.8"}]
    result = compat(cuda={"runtimes": rts, "toolkits": [dict(r, exists=True) for r in rts]})
    assert result.status.value == "pass"
    assert codes(result) == ["cuda.I001"]  # two toolkits is worth showing
    assert "CUDA 11.8" in result.summary and "CUDA 12.2" in result.summary


def test_wsl_uses_the_windows_driver_numbers():
    rt = {"runtimes": [{"version": "12.2", "kind": "pip", "where": "x"}]}
    assert compat(cuda=rt, nv=nvidia("536.40", "12.2"), wsl={"version": 2}).findings == []


def test_forward_compat_on_unsupported_gpu_is_error_804():
    cuda = {"runtimes": [], "libcuda": {
        "loaded": True, "path": "/usr/local/cuda-12.4/compat/libcuda.so.550.54.15",
        "init_error": "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE"}}
    result = compat(cuda=cuda)
    assert codes(result) == ["cuda.E002"]
    assert "804" in result.findings[0].message and "compat" in result.findings[0].hint


def test_no_gpu_skips_even_with_a_toolkit():
    rt = {"runtimes": [{"version": "13.0", "kind": "toolkit", "where": "/usr/local/cuda"}]}
    result = compat(cuda=rt, nv={"present": False, "gpus": [], "driver_version": None})
    assert result.status.value == "skip"


# -- probe ----------------------------------------------------------------------------------
def test_toolkits_nvcc_and_ld_library_path(tmp_path):
    root = tmp_path / "root"
    write(root, "/usr/local/cuda-12.4/version.json", json.dumps({"cuda": {"version": "12.4.1"}}))
    write(root, "/usr/local/cuda-12.4/lib64/libcudart.so.12.4.127")
    write(root, "/usr/local/cuda-12.4/include/cudnn_version.h",
          "#define CUDNN_MAJOR 8\n#define CUDNN_MINOR 9\n#define CUDNN_PATCHLEVEL 7\n")
    write(root, "/usr/local/cuda-11.8/version.txt", "CUDA Version 11.8.89\n")
    os.symlink(root / "usr/local/cuda-12.4", root / "usr/local/cuda")
    ldlib = tmp_path / "old_cudnn"
    write(ldlib, "libcudnn.so.8.2.4")
    facts = cuda_probe.probe_cuda(ProbeContext(timeout=5, sysroot=str(root), environ={
        "PATH": "", "LD_LIBRARY_PATH": f"{ldlib}{os.pathsep}/nonexistent"}))
    tk = {t["where"]: t for t in facts["toolkits"]}
    assert tk["/usr/local/cuda-12.4"]["version"] == "12.4"
    assert tk["/usr/local/cuda-12.4"]["aliases"] == ["/usr/local/cuda"]
    assert tk["/usr/local/cuda-11.8"]["version"] == "11.8"
    cudnn = {c["kind"]: c for c in facts["cudnn"]}
    assert cudnn["toolkit"]["version"] == "8.9.7" and cudnn["toolkit"]["cuda_major"] == 12
    assert cudnn["ld_library_path"]["version"] == "8.2.4"
    entries = {e["path"]: e for e in facts["ld_library_path"]}
    assert entries["/nonexistent"]["exists"] is False
    assert facts["libcuda"] is None  # no sign of an NVIDIA GPU: libcuda is not loaded
    json.dumps(facts)


def test_parsers():
    assert cuda_probe.parse_nvcc("Cuda compilation tools, release 12.4, V12.4.131") == "12.4"
    assert cuda_probe.parse_nvcc("garbage \udcff") is None
    lines = ("\tlibcudnn.so.9 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn.so.9\n"
             "\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/wsl/lib/libcuda.so.1\n\tlibm.so.6 x\n")
    assert [e["lib"] for e in cuda_probe.parse_ldconfig(lines)] == ["cudnn", "cuda"]


@pytest.mark.skipif(os.name != "posix", reason="LD_LIBRARY_PATH is Linux")
def test_cli_ld_library_path_shadows_the_wheels_cudnn(tmp_path):
    site = tmp_path / "site"
    write(site, "nvidia_cudnn_cu12-9.1.0.70.dist-info/METADATA",
          "Metadata-Version: 2.1\nName: nvidia-cudnn-cu12\nVersion: 9.1.0.70\n")
    write(site, "nvidia/cudnn/lib/libcudnn.so.9")
    old = tmp_path / "opt_cudnn"
    write(old, "libcudnn.so.9.0.0")
    proc = run_envdoctor("check", "--json", "--only", "cuda.cudnn",
                         env={"PYTHONPATH": str(site), "LD_LIBRARY_PATH": str(old),
                              "ENVDOCTOR_SYSROOT": str(tmp_path / "empty_root")})
    report = json.loads(proc.stdout)
    validate_report(report)
    result = report["checks"][0]
    assert result["status"] == "fail"
    finding = next(f for f in result["findings"] if f["code"] == "cuda.E102")
    assert str(old) in finding["message"] and "9.1.0" in finding["message"]
    assert "LD_LIBRARY_PATH" in finding["hint"]
    pip = [c for c in report["facts"]["cuda"]["cudnn"] if c["kind"] == "pip"]
    assert pip[0]["cuda_major"] == 12 and pip[0]["version"] == "9.1.0"


# -- cuda.cudnn from facts -------------------------------------------------------------------
def cudnn(entries, frameworks=None, runtimes=()):
    sections = {"cuda": {"cudnn": entries, "runtimes": list(runtimes)}}
    if frameworks is not None:
        sections["frameworks"] = {"installed": frameworks}
    return run_check("cuda.cudnn", facts_fixture(**sections))


def test_framework_built_for_another_cudnn_major_fails():
    result = cudnn([{"version": "9.3.0", "cuda_major": 12, "kind": "pip",
                     "where": "nvidia-cudnn-cu12"}],
                   frameworks={"tensorflow": {"version": "2.15.0", "cuda": "12.2",
                                              "cudnn": "8"}})
    assert codes(result) == ["cuda.E101"]
    assert "cuDNN 8" in result.findings[0].message


def test_wheel_for_the_wrong_cuda_major_warns():
    result = cudnn([{"version": "8.9.2", "cuda_major": 11, "kind": "pip",
                     "where": "nvidia-cudnn-cu11"}],
                   runtimes=[{"version": "12.1", "kind": "pip"}])
    assert codes(result) == ["cuda.W101"]


def test_matching_cudnn_passes_and_skip_without_any():
    ok = cudnn([{"version": "9.1.0", "cuda_major": 12, "kind": "pip",
                 "where": "nvidia-cudnn-cu12"}],
               frameworks={"torch": {"version": "2.4.0", "cuda": "12.1", "cudnn": "9.1.0.70"}})
    assert ok.status.value == "pass" and "9.1.0" in ok.summary
    assert cudnn([]).status.value == "skip"
