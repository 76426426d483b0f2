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
    missing = str(tmp_path / "nonexistent")  # under tmp_path: / may hold anything
    facts = cuda_probe.probe_cuda(ProbeContext(timeout=5, sysroot=str(root), environ={
        "PATH": "", "LD_LIBRARY_PATH": f"{ldlib}{os.pathsep}{missing}"}))
    tk = {t["where"]: t for t in facts["toolkits"]}
    assert tk["/usr/local/cuda-12.4"]["version"] == "12.4"
    assert tk["/usr/local/cuda-12.4"]["aliases"] == ["/usr/local/cuda"]
    assert tk["/usr/local/cuda-11.8"]["version"] == "11.8"
    cudnn = {c["kind"]: c for c in facts["cudnn"]}
    assert cudnn["toolkit"]["version"] == "8.9.7" and cudnn["toolkit"]["cuda_major"] == 12
    assert cudnn["ld_library_path"]["version"] == "8.2.4"
    entries = {e["path"]: e for e in facts["ld_library_path"]}
    assert entries[missing]["exists"] is False
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
    # The nvidia probe always runs beside the cuda probe; here it found no GPU.
    sections = {"cuda": {"cudnn": entries, "runtimes": list(runtimes)},
                "nvidia": {"present": False, "gpus": [], "errors": []}}
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


def test_cuda_build_on_a_cpu_only_machine_is_a_skip_not_a_missing_cudnn_warning():
    # The plain `tensorflow` wheel is a CUDA build; on a CPU runner it never loads cuDNN.
    tf = {"tensorflow": {"version": "2.20.0", "distribution": "tensorflow", "cuda": "12.5.1",
                         "cudnn": "9", "is_cuda_build": True}}
    result = cudnn([], frameworks=tf)
    assert result.status.value == "skip" and not result.findings


def test_missing_cudnn_with_a_gpu_names_tensorflows_and_cuda_extra():
    tf = {"tensorflow": {"version": "2.20.0", "distribution": "tensorflow", "cuda": "12.5.1",
                         "cudnn": "9", "is_cuda_build": True}}
    result = cudnn_on(gpu("NVIDIA L4", "8.9"), [], frameworks=tf)
    assert codes(result) == ["cuda.W102"]
    assert result.findings[0].hint == 'pip install "tensorflow[and-cuda]==2.20.0"'


def test_explain_cuda_cudnn_lists_and_describes_w102():
    proc = run_envdoctor("explain", "cuda.cudnn")
    assert proc.returncode == 0
    assert "cuda.W102" in proc.stdout and "tensorflow[and-cuda]" in proc.stdout


# -- cuda.cudnn: the cuDNN support matrix ---------------------------------------------------
def gpu(name, cc):
    return {"present": True, "driver_version": "580.95.05", "cuda_driver_version": "13.0",
            "gpus": [{"index": 0, "name": name, "compute_capability": cc}], "errors": []}


def cudnn_on(nv, entries, frameworks=None, live=None):
    sections = {"cuda": {"cudnn": entries, "runtimes": []}, "nvidia": nv}
    if frameworks is not None or live is not None:
        sections["frameworks"] = {"installed": frameworks or {}, "live": live or {}}
    return run_check("cuda.cudnn", facts_fixture(**sections))


def wheel(version, major=12):
    return {"version": version, "cuda_major": major, "kind": "pip",
            "where": f"nvidia-cudnn-cu{major}", "package_version": version}


def test_cudnn_data_rows_carry_sources_and_unconfirmed_rows_are_marked():
    from envdoctor import cudacompat

    rows = cudacompat.cudnn_data()["rows"]
    assert rows and all(r.get("source") for r in rows)
    assert all(isinstance(r.get("verified"), bool) for r in rows)
    # What this table cannot confirm in NVIDIA's own matrix is marked, never trusted.
    assert cudacompat.cudnn_row("9.17.0")["verified"] is False
    assert cudacompat.cudnn_row("9.5.1")["verified"] is True


@pytest.mark.parametrize("value, mm", [("9.17.0.29", (9, 17)), (91700, (9, 17)),
                                       (90100, (9, 1)), (8907, (8, 9)), ("8.9", (8, 9)),
                                       ("8", None), (None, None), ("garbage", None)])
def test_cudnn_version_spellings(value, mm):
    from envdoctor.cudacompat import cudnn_major_minor

    assert cudnn_major_minor(value) == mm


def test_gtx_1080_with_cudnn_9_17_is_flagged_but_not_failed_on_an_unconfirmed_row():
    result = cudnn_on(gpu("NVIDIA GeForce GTX 1080", "6.1"), [wheel("9.17.0")])
    assert codes(result) == ["cuda.W103"] and result.status.value == "warn"
    finding = result.findings[0]
    assert "GTX 1080 (sm_61)" in finding.message and "7.5" in finding.message
    assert "not confirmed" in finding.message
    assert "nvidia-cudnn-cu12==9.5.*" in finding.hint  # the newest confirmed release for sm_61


def test_confirmed_row_fails_for_a_gpu_below_its_minimum():
    # cuDNN 9.5 (NVIDIA's matrix: compute capability 5.0-9.0) on a Kepler GPU.
    result = cudnn_on(gpu("Tesla K80", "3.7"), [wheel("9.5.1")])
    assert codes(result) == ["cuda.E103"] and result.status.value == "fail"
    assert "Tesla K80 (sm_37)" in result.findings[0].message
    assert "will fail" in result.findings[0].message


def test_supported_gpus_pass_and_cudnn_9_is_forward_compatible():
    assert cudnn_on(gpu("NVIDIA GeForce RTX 3080", "8.6"), [wheel("9.17.0")]).findings == []
    assert cudnn_on(gpu("NVIDIA GeForce GTX 1080", "6.1"), [wheel("9.5.1")]).findings == []
    # sm_120 with cuDNN 9.5 (lists up to 9.0): cuDNN 9 runs forward-compatible: no finding.
    assert cudnn_on(gpu("NVIDIA GeForce RTX 5090", "12.0"), [wheel("9.5.1")]).findings == []
    # A release the table does not cover is not judged.
    assert cudnn_on(gpu("NVIDIA GeForce GTX 1080", "6.1"), [wheel("9.13.0")]).findings == []


def test_cudnn_8_older_than_the_gpu_warns():
    result = cudnn_on(gpu("NVIDIA H100", "9.0"), [{"version": "7.6.5", "cuda_major": 10,
                                                    "kind": "toolkit",
                                                    "where": "/usr/local/cuda-10.2/lib64"}])
    assert codes(result) == ["cuda.W103"] and "predates" in result.findings[0].message


def test_the_cudnn_torch_loaded_is_judged_too():
    result = cudnn_on(gpu("NVIDIA GeForce GTX 1080", "6.1"), [],
                      frameworks={"torch": {"version": "2.9.0", "cuda": "12.8",
                                            "cudnn": None}},
                      live={"torch": {"status": "ok", "cudnn": 91700}})
    assert codes(result) == ["cuda.W103"]
    assert "torch.backends.cudnn.version()" in result.findings[0].message


def test_cudnn_for_a_cuda_major_nvidia_does_not_build_warns():
    result = cudnn_on(gpu("NVIDIA A10G", "8.6"), [wheel("9.17.0", major=11)])
    assert "cuda.W104" in codes(result)
    assert "CUDA 12, 13" in next(f for f in result.findings if f.code == "cuda.W104").message


def test_torch_loading_an_older_cudnn_names_the_ld_library_path_entry():
    # pytorch/pytorch#80637: torch 1.12.0+cu113 bundles cuDNN 8.3.2 in torch/lib; an
    # LD_LIBRARY_PATH entry with cuDNN 8.0.3 is found first.
    error = ("RuntimeError: cuDNN version incompatibility: PyTorch was compiled  against "
             "(8, 3, 2) but linked against (8, 0, 3)")
    facts = facts_fixture(
        cuda={"cudnn": [{"version": "8.0.3", "kind": "ld_library_path",
                         "where": "/opt/cudnn-8.0.3/lib64", "cuda_major": 11}],
              "runtimes": []},
        nvidia=gpu("NVIDIA A100-SXM4-40GB", "8.0"),
        env={"variables": {"LD_LIBRARY_PATH": "/usr/local/lib:/opt/cudnn-8.0.3/lib64"}},
        frameworks={"installed": {"torch": {"version": "1.12.0+cu113", "cuda": "11.3",
                                            "build": "cu113",
                                            "bundled_cudnn": ["libcudnn.so.8"]}},
                    "live": {"torch": {"status": "ok", "cudnn": None, "cudnn_error": error,
                                       "loaded_libraries": [
                                           "/opt/cudnn-8.0.3/lib64/libcudnn.so.8.0.3"]}}})
    result = run_check("cuda.cudnn", facts)
    finding = next(f for f in result.findings if f.code == "cuda.E104")
    assert result.status.value == "fail"
    assert "built with cuDNN 8.3.2 (bundled in torch/lib)" in finding.message
    assert "loaded cuDNN 8.0.3 from /opt/cudnn-8.0.3/lib64/libcudnn.so.8.0.3" in finding.message
    assert finding.hint.startswith("remove /opt/cudnn-8.0.3/lib64 from LD_LIBRARY_PATH")


@pytest.mark.heavy
def test_real_tensorflow_cuda_build_on_a_cpu_only_runner_passes_fail_on_warn(heavy_site):
    """The plain `tensorflow` wheel is a CUDA build: on a CPU-only runner it must not get a
    missing-cuDNN warning, and its build info keeps cuda_compute_capabilities a list."""
    site = heavy_site("tensorflow", "tensorflow==2.21.0", deps=True)
    proc = run_envdoctor("check", "--json", "--fail-on", "warn", "--only",
                         "cuda.cudnn,framework.gpu_visible,framework.cuda_build",
                         env={"PYTHONPATH": str(site), "ENVDOCTOR_FRAMEWORK_TIMEOUT": "120"},
                         timeout=600)
    report = json.loads(proc.stdout)
    validate_report(report)
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["cuda.cudnn"]["status"] == "skip", checks["cuda.cudnn"]
    live = report["facts"]["frameworks"]["live"]["tensorflow"]
    assert live["status"] == "ok", live
    caps = live["build_info"]["cuda_compute_capabilities"]
    assert isinstance(caps, list) and caps and all(isinstance(c, str) for c in caps)
    assert report["facts"]["frameworks"]["installed"]["tensorflow"]["is_cuda_build"] is True
    assert proc.returncode == 0, [(c["id"], c["status"]) for c in report["checks"]]
