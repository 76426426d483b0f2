"""The frameworks probe: static build facts and one child process per framework.

Fakes are real packages in a temporary site directory (tests/fake_frameworks); the
child sees them through PYTHONPATH exactly as it would see an installed framework.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from conftest import run_envdoctor, validate_report
from fake_frameworks import fake_cupy, fake_jax, fake_tensorflow, fake_torch

from envdoctor import distributions
from envdoctor.probes import ProbeContext
from envdoctor.probes import frameworks as fp

REAL_TORCH = any(d.key == "torch" for d in distributions.scan())
needs_real_torch = pytest.mark.skipif(
    not REAL_TORCH, reason="torch is not installed (CI installs torch==2.13.0 CPU on "
                           "Python 3.11 only; no wheel for this Python)")
POSIX = pytest.mark.skipif(os.name != "posix", reason="signals and process groups: POSIX")


def static(site: Path) -> dict:
    return fp.static_facts({d.key: d for d in distributions.scan([str(site)])})


def ctx_for(site: Path, timeout: str = "20", **options) -> ProbeContext:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(site)
    env["ENVDOCTOR_FRAMEWORK_TIMEOUT"] = timeout
    return ProbeContext(timeout=5.0, environ=env, options=options)


def live(site: Path, names: list, timeout: str = "20") -> dict:
    return fp.run_children(names, ctx_for(site, timeout))


# ------------------------------------------------------------------ static facts


def test_torch_builds_read_from_version_py(tmp_path):
    fake_torch(tmp_path / "a", version="2.13.0+cpu", cuda=None)
    fake_torch(tmp_path / "b", version="2.7.1+cu128", cuda="12.8")
    fake_torch(tmp_path / "c", version="2.5.1+rocm6.2", cuda=None, hip="6.2.41133")
    fake_torch(tmp_path / "d", version="2.6.0", cuda="12.4")  # PyPI wheel: no +suffix
    a, b = static(tmp_path / "a")["torch"], static(tmp_path / "b")["torch"]
    c, d = static(tmp_path / "c")["torch"], static(tmp_path / "d")["torch"]
    assert (a["build"], a["cuda"], a["source"]) == ("cpu", None, "torch/version.py")
    assert (b["build"], b["cuda"], b["version"]) == ("cu128", "12.8", "2.7.1+cu128")
    assert (c["build"], c["hip"]) == ("rocm6.2", "6.2.41133")
    assert (d["build"], d["cuda"]) == ("cu124", "12.4")


def test_torch_without_version_py_falls_back_to_local_version(tmp_path):
    fake_torch(tmp_path, version="2.4.0+cu118")
    (tmp_path / "torch" / "version.py").unlink()
    info = static(tmp_path)["torch"]
    assert (info["build"], info["cuda"], info["source"]) == ("cu118", "11.8",
                                                             "dist-info version")


def test_garbage_version_py_does_not_raise(tmp_path):
    fake_torch(tmp_path, version="2.4.0")
    (tmp_path / "torch" / "version.py").write_bytes(b"\xff\xfe cuda = = (\n")
    info = static(tmp_path)["torch"]
    assert info["version"] == "2.4.0" and info["cuda"] is None


def test_tensorflow_build_info_is_parsed_without_import(tmp_path):
    fake_tensorflow(tmp_path / "gpu", version="2.15.0", cuda="12.2", cudnn="8")
    fake_tensorflow(tmp_path / "cpu", version="2.16.1", cuda=None, dist="tensorflow-cpu")
    gpu, cpu = static(tmp_path / "gpu")["tensorflow"], static(tmp_path / "cpu")["tensorflow"]
    assert (gpu["build"], gpu["cuda"], gpu["cudnn"], gpu["is_cuda_build"]) == \
        ("cu122", "12.2", "8", True)
    assert (cpu["build"], cpu["distribution"], cpu["is_cuda_build"]) == \
        ("cpu", "tensorflow-cpu", False)
    assert "tensorflow" not in sys.modules


def test_jax_cupy_onnxruntime_variants(tmp_path):
    fake_jax(tmp_path, plugin="jax-cuda12-plugin")
    fake_cupy(tmp_path, dist="cupy-cuda11x")
    for name in ("onnxruntime", "onnxruntime_gpu"):
        folder = tmp_path / f"{name}-1.20.0.dist-info"
        folder.mkdir()
        (folder / "METADATA").write_text(f"Name: {name}\nVersion: 1.20.0\n\n")
    facts = static(tmp_path)
    assert (facts["jax"]["build"], facts["jax"]["cuda"]) == ("cuda12", "12")
    assert (facts["cupy"]["build"], facts["cupy"]["cuda"]) == ("cuda11x", "11")
    assert facts["onnxruntime"]["build"] == "cpu"
    assert len(facts["onnxruntime"]["distributions"]) == 2


def test_jax_without_plugin_is_cpu(tmp_path):
    fake_jax(tmp_path, plugin=None)
    assert static(tmp_path)["jax"]["build"] == "cpu"


# ------------------------------------------------------------------ live children


def test_live_gpu_scenario_reports_devices_arch_and_stdout_noise_is_ignored(tmp_path):
    fake_torch(tmp_path, arch_list=["sm_80", "sm_86", "sm_90"], cudnn=90100,
               devices=[{"name": "NVIDIA GeForce RTX 4090", "cc": [8, 9]}])
    lv = live(tmp_path, ["torch"])["torch"]
    assert lv["status"] == "ok", lv
    assert lv["cuda_available"] is True and lv["device_count"] == 1
    assert lv["devices"][0]["compute_capability"] == "8.9"
    assert lv["devices"][0]["kernel_test"] == "ok"
    assert lv["arch_list"] == ["sm_80", "sm_86", "sm_90"]
    assert lv["cudnn"] == 90100


def test_live_records_the_exact_cuda_init_error(tmp_path):
    text = ("The NVIDIA driver on your system is too old (found version 11040). Please "
            "update your GPU driver by downloading and installing a new version from the "
            "URL: http://www.nvidia.com/Download/index.aspx")
    fake_torch(tmp_path, init_error=text, init_warning="CUDA initialization: " + text,
               devices=[{"name": "Tesla T4", "cc": [7, 5]}])
    lv = live(tmp_path, ["torch"])["torch"]
    assert lv["status"] == "ok" and lv["cuda_available"] is False
    assert lv["error"] == "RuntimeError: " + text
    assert any("too old (found version 11040)" in w for w in lv["warnings"])


def test_live_kernel_failure_is_recorded(tmp_path):
    err = "CUDA error: no kernel image is available for execution on the device"
    fake_torch(tmp_path, arch_list=["sm_50", "sm_90"],
               devices=[{"name": "NVIDIA GeForce RTX 5090", "cc": [12, 0],
                         "kernel_error": err}])
    lv = live(tmp_path, ["torch"])["torch"]
    assert lv["devices"][0]["kernel_test"] == "RuntimeError: " + err


@POSIX
@pytest.mark.parametrize("behaviour,signal", [("sigill", "SIGILL"), ("sigsegv", "SIGSEGV"),
                                              ("sigabrt", "SIGABRT")])
def test_child_killed_by_signal_is_a_fact(tmp_path, behaviour, signal):
    fake_torch(tmp_path, behaviour=behaviour,
               stderr=["loading libtorch_cpu.so", "last words before the crash"])
    lv = live(tmp_path, ["torch"])["torch"]
    assert lv["status"] == "crashed" and lv["signal"] == signal
    assert lv["stage"] == "import"
    assert "last words before the crash" in lv["stderr_tail"]
    if signal == "SIGILL":
        assert "cpu.avx" in lv["error"]


@POSIX
def test_hung_children_are_killed_in_parallel(tmp_path):
    fake_torch(tmp_path, behaviour="hang")
    fake_tensorflow(tmp_path, behaviour="hang")
    start = time.monotonic()
    result = live(tmp_path, ["torch", "tensorflow"], timeout="1.5")
    elapsed = time.monotonic() - start
    assert {r["status"] for r in result.values()} == {"timeout"}
    assert "within 1.5 s" in result["torch"]["error"]
    assert elapsed < 2 * 1.5 + 1.5, f"children ran one after another ({elapsed:.1f} s)"


def test_import_error_is_quoted(tmp_path):
    text = "libcudnn.so.9: cannot open shared object file: No such file or directory"
    fake_torch(tmp_path, behaviour="raise", error=text)
    lv = live(tmp_path, ["torch"])["torch"]
    assert lv["status"] == "error" and lv["error"] == "ImportError: " + text
    assert lv["stage"] == "import"


def test_tensorflow_jax_cupy_children(tmp_path):
    fake_tensorflow(tmp_path, gpus=[{"name": "NVIDIA A100-SXM4-40GB", "cc": [8, 0]}])
    fake_jax(tmp_path, devices=[{"platform": "cpu", "name": "cpu"}])
    fake_cupy(tmp_path, devices=[{"name": "Tesla T4", "cc": [7, 5]}])
    result = live(tmp_path, ["tensorflow", "jax", "cupy"])
    tf, jx, cp = result["tensorflow"], result["jax"], result["cupy"]
    assert tf["status"] == "ok" and tf["devices"][0]["compute_capability"] == "8.0"
    assert tf["build_info"]["cuda_version"] == "12.2"
    # a list stays a list (it was once stored as the text "['sm_60', ...]")
    assert tf["build_info"]["cuda_compute_capabilities"] == ["sm_60", "sm_70", "sm_80",
                                                             "compute_90"]
    assert jx["status"] == "ok" and jx["cuda_available"] is False
    assert "no platforms that are instances of gpu" in jx["gpu_error"]
    assert (cp["cuda_runtime"], cp["cuda_driver"], cp["device_count"]) == ("12.6", "12.8", 1)


def test_no_frameworks_skips_children_but_keeps_static_facts(tmp_path, monkeypatch):
    fake_torch(tmp_path, behaviour="hang")
    monkeypatch.syspath_prepend(str(tmp_path))  # the examined (in-process) Python sees it
    facts = fp.probe_frameworks(ctx_for(tmp_path, no_frameworks=True))
    assert facts["installed"]["torch"]["build"] == "cu126"
    assert facts["live"]["torch"]["status"] == "skipped"
    assert facts["live_skipped"] == "--no-frameworks"


def test_child_timeout_defaults_and_probe_deadline_exceeds_it():
    assert fp.child_timeout(ProbeContext(timeout=10.0, environ={})) == fp.MIN_CHILD_TIMEOUT_S
    assert fp.child_timeout(ProbeContext(timeout=60.0, environ={})) == 60.0
    assert fp.child_timeout(ProbeContext(timeout=10.0, environ={
        "ENVDOCTOR_FRAMEWORK_TIMEOUT": "nonsense"})) == fp.MIN_CHILD_TIMEOUT_S
    probe = fp.PROBES[0]
    assert probe.deadline > fp.child_timeout(ProbeContext(timeout=1e6, environ={}))
    # An explicit --timeout is a bound, even below the 30 s and below the variable.
    assert fp.child_timeout(ProbeContext(timeout=3.0, environ={},
                                         timeout_explicit=True)) == 3.0
    assert fp.child_timeout(ProbeContext(timeout=3.0, timeout_explicit=True, environ={
        "ENVDOCTOR_FRAMEWORK_TIMEOUT": "60"})) == 3.0


@POSIX
def test_explicit_timeout_bounds_a_hanging_framework_import(tmp_path):
    fake_torch(tmp_path, behaviour="hang")
    start = time.monotonic()
    proc = run_envdoctor("check", "--json", "--only", "framework", "--timeout", "2",
                         env={"PYTHONPATH": str(tmp_path)})
    elapsed = time.monotonic() - start
    report = json.loads(proc.stdout)
    live = report["facts"]["frameworks"]["live"]["torch"]
    assert live["status"] == "timeout" and "within 2 s" in live["error"], live
    assert report["facts"]["frameworks"]["child_timeout_s"] == 2.0
    # 2 s for the child, 1 s of grace, the rest is interpreter start-up on a busy machine
    assert elapsed < 2 + 1 + 6, f"--timeout 2 took {elapsed:.1f} s"


def test_cli_reports_a_crashing_framework_without_traceback(tmp_path):
    fake_torch(tmp_path, behaviour="sigill" if os.name == "posix" else "raise",
               error="DLL load failed")
    proc = run_envdoctor("check", "--json", "--only", "framework",
                         env={"PYTHONPATH": str(tmp_path), "ENVDOCTOR_FRAMEWORK_TIMEOUT": "20"})
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    validate_report(report)
    result = {c["id"]: c for c in report["checks"]}["framework.gpu_visible"]
    assert result["status"] == "fail"
    codes = [f["code"] for f in result["findings"]]
    assert codes[0] == ("framework.E026" if os.name == "posix" else "framework.E028")


# ------------------------------------------------------------------ the real CPU torch


@needs_real_torch
def test_real_cpu_torch_static():
    info = fp.static_facts(distributions.by_key())["torch"]
    assert info["build"] == "cpu" and info["cuda"] is None
    assert info["source"] == "torch/version.py"
    assert "torch" not in sys.modules, "the parent must never import torch"


@needs_real_torch
def test_real_cpu_torch_live():
    lv = fp.run_children(["torch"], ProbeContext(timeout=60.0))["torch"]
    assert lv["status"] == "ok", lv
    assert lv["build_cuda"] is None and lv["cuda_available"] is False
    assert lv["arch_list"] == []
    assert "not compiled with CUDA" in lv["error"]
    assert "torch" not in sys.modules
