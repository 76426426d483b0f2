"""framework.cuda_build / framework.arch / framework.gpu_visible on facts fixtures."""

from __future__ import annotations

import re
from typing import Any, Optional

import pytest
from conftest import facts_fixture, report_with_facts, run_check, validate_report

from envdoctor import registry, report, runner

KERNEL = "no kernel image is available for execution on the device"

RTX_5090 = {"index": 0, "name": "NVIDIA GeForce RTX 5090", "uuid": "GPU-5090",
            "compute_capability": "12.0"}
GTX_1080_TI = {"index": 0, "name": "NVIDIA GeForce GTX 1080 Ti", "uuid": "GPU-1080",
               "compute_capability": "6.1"}
RTX_4090 = {"index": 0, "name": "NVIDIA GeForce RTX 4090", "uuid": "GPU-4090",
            "compute_capability": "8.9"}
TESLA_T4 = {"index": 0, "name": "Tesla T4", "uuid": "GPU-t4", "compute_capability": "7.5"}


def torch_info(version: str, cuda: Optional[str]) -> dict:
    build = "cpu" if cuda is None else "cu" + cuda.replace(".", "")
    return {"version": version, "distribution": "torch", "build": build, "cuda": cuda,
            "hip": None, "cudnn": None, "source": "torch/version.py"}


def make_facts(*, gpus: Optional[list] = None, driver: str = "570.124.06",
               installed: Optional[dict] = None, live: Optional[dict] = None,
               system: str = "Linux", machine: str = "x86_64", env: Optional[dict] = None,
               rosetta: Any = None, live_skipped: Optional[str] = None,
               packages: Optional[dict] = None) -> dict:
    gpus = [] if gpus is None else gpus
    installed = installed or {}
    if live is None:
        live = {n: {"status": "skipped", "signal": None} for n in installed}
        live_skipped = live_skipped or "--no-frameworks"
    nvidia = {"present": bool(gpus), "driver_version": driver if gpus else None,
              "cuda_driver_version": None, "gpus": gpus}
    return facts_fixture(
        nvidia=nvidia,
        platform={"system": system, "machine": machine,
                  "macos": {"version": "14.5", "rosetta": rosetta}
                  if system == "Darwin" else None, "wsl": None},
        env={"variables": env or {}},
        packages={"distributions": packages or {}},
        frameworks={"installed": installed, "live": live, "live_skipped": live_skipped,
                    "child_timeout_s": 30.0})


def codes(result) -> list[str]:
    return [f.code for f in result.findings]


def finding(result, code: str):
    return next(f for f in result.findings if f.code == code)


def torch_live(**kw) -> dict:
    base = {"status": "ok", "signal": None, "cuda_available": False, "device_count": 0,
            "devices": [], "arch_list": [], "warnings": [], "stderr_tail": []}
    base.update(kw)
    return base


# ------------------------------------------------------------------ framework.arch


def test_rtx_5090_with_torch_2_6_cu126_has_no_kernel_image():
    facts = make_facts(gpus=[RTX_5090], installed={"torch": torch_info("2.6.0+cu126", "12.6")},
                       packages={"torch": "2.6.0+cu126", "torchvision": "0.21.0+cu126"})
    result = run_check("framework.arch", facts)
    assert result.status.value == "fail"
    f = finding(result, "framework.E010")
    assert KERNEL in f.message and "sm_120" in f.message
    # torch 2.6 has no variant for sm_120: the hint moves to a release with cu128+.
    rec = f.details["recommended"]
    assert rec["variant"] in ("cu128", "cu129") and not rec["same_release"]
    assert f"https://download.pytorch.org/whl/{rec['variant']}" in f.hint
    assert "torchvision" in f.hint and "pip uninstall -y torch torchvision" in f.hint


def test_gtx_1080_ti_with_torch_2_7_cu128_gets_cu126_of_the_same_release():
    facts = make_facts(gpus=[GTX_1080_TI],
                       installed={"torch": torch_info("2.7.1+cu128", "12.8")})
    result = run_check("framework.arch", facts)
    f = finding(result, "framework.E010")
    assert KERNEL in f.message and "sm_61" in f.message
    assert "torch==2.7.1 " in f.hint
    assert "--index-url https://download.pytorch.org/whl/cu126" in f.hint


def test_sm86_build_runs_on_sm89_gpu():
    facts = make_facts(gpus=[RTX_4090], installed={"torch": torch_info("2.6.0+cu126", "12.6")})
    result = run_check("framework.arch", facts)
    assert result.status.value == "pass", result.summary
    assert result.details["torch"]["gpus"][0]["covered_by"] == "sm_86"


def test_live_arch_list_wins_over_the_table():
    # A custom build of 2.6 that does carry sm_120 (the table says it does not).
    live = {"torch": torch_live(cuda_available=True, device_count=1,
                                arch_list=["sm_90", "sm_120"])}
    facts = make_facts(gpus=[RTX_5090], installed={"torch": torch_info("2.6.0", "12.8")},
                       live=live)
    result = run_check("framework.arch", facts)
    assert result.status.value == "pass"
    assert result.details["torch"]["arch_source"] == "torch.cuda.get_arch_list()"


def test_ptx_only_coverage_passes_with_a_note():
    live = {"torch": torch_live(cuda_available=True, device_count=1,
                                arch_list=["sm_80", "sm_90", "compute_90"])}
    facts = make_facts(gpus=[RTX_5090], installed={"torch": torch_info("2.8.0", "12.8")},
                       live=live)
    result = run_check("framework.arch", facts)
    assert result.status.value == "pass" and codes(result) == ["framework.I011"]


def test_live_kernel_failure_is_quoted():
    err = f"CUDA error: {KERNEL}"
    live = {"torch": torch_live(cuda_available=True, device_count=1, arch_list=[],
                                devices=[{"index": 0, "name": "NVIDIA GeForce RTX 5090",
                                          "compute_capability": "12.0",
                                          "kernel_test": "RuntimeError: " + err}])}
    facts = make_facts(gpus=[RTX_5090], installed={"torch": torch_info("9.9.0", "12.8")},
                       live=live)
    f = finding(run_check("framework.arch", facts), "framework.E010")
    assert "Observed: RuntimeError: " + err in f.message


def test_arch_skips_without_gpu_and_for_cpu_builds():
    no_gpu = make_facts(installed={"torch": torch_info("2.6.0+cu126", "12.6")})
    assert run_check("framework.arch", no_gpu).status.value == "skip"
    cpu = make_facts(gpus=[RTX_5090], installed={"torch": torch_info("2.6.0+cpu", None)})
    assert run_check("framework.arch", cpu).status.value == "skip"


# ------------------------------------------------------------------ framework.cuda_build


def test_cpu_torch_with_gpu_gives_the_exact_install_command():
    facts = make_facts(gpus=[TESLA_T4], driver="570.124.06",
                       installed={"torch": torch_info("2.7.1+cpu", None)})
    result = run_check("framework.cuda_build", facts)
    assert result.status.value == "fail"
    f = finding(result, "framework.E001")
    assert "CPU-only" in f.message
    # Same release, newest CUDA this 570 driver runs fully: cu128 (covers sm_75).
    # pip through this interpreter, never a bare `pip` that may serve another Python
    assert re.search(r"(\S+) -m pip uninstall -y torch && \1 -m pip install torch==2\.7\.1 "
                     r"--index-url https://download\.pytorch\.org/whl/cu128$", f.hint), f.hint


def test_cpu_torch_on_old_driver_gets_a_variant_that_driver_runs():
    facts = make_facts(gpus=[TESLA_T4], driver="535.54.03",
                       installed={"torch": torch_info("2.7.1+cpu", None)})
    f = finding(run_check("framework.cuda_build", facts), "framework.E001")
    # 535 supports no 12.6/12.8 toolkit fully; cu118 is the variant it runs fully.
    assert "whl/cu118" in f.hint


def test_driver_inside_family_minimum_is_only_a_warning():
    facts = make_facts(gpus=[RTX_4090], driver="535.54.03",
                       installed={"torch": torch_info("2.6.0+cu126", "12.6")})
    result = run_check("framework.cuda_build", facts)
    assert result.status.value == "warn"
    assert codes(result) == ["framework.W001"]


def test_driver_below_family_minimum_fails_with_a_fitting_build():
    facts = make_facts(gpus=[TESLA_T4], driver="470.82.01",
                       installed={"torch": torch_info("2.5.1+cu124", "12.4")})
    result = run_check("framework.cuda_build", facts)
    f = finding(result, "framework.E002")
    assert "insufficient" in f.message
    assert "torch==2.5.1 --index-url https://download.pytorch.org/whl/cu118" in f.hint
    assert "550.54.14" in f.hint  # CUDA 12.4's own minimum driver


def test_matching_build_passes():
    facts = make_facts(gpus=[RTX_4090], driver="570.124.06",
                       installed={"torch": torch_info("2.7.1+cu128", "12.8")})
    assert run_check("framework.cuda_build", facts).status.value == "pass"


def test_tensorflow_on_native_windows_after_2_10_points_to_wsl2():
    tf = {"version": "2.15.0", "distribution": "tensorflow", "build": "cpu", "cuda": None,
          "is_cuda_build": False}
    facts = make_facts(gpus=[RTX_4090], system="Windows", driver="572.61",
                       installed={"tensorflow": tf})
    result = run_check("framework.cuda_build", facts)
    f = finding(result, "framework.W002")
    assert "WSL2" in f.hint
    old = dict(tf, version="2.10.1", build="cu112", cuda="11.2", is_cuda_build=True)
    facts = make_facts(gpus=[RTX_4090], system="Windows", driver="572.61",
                       installed={"tensorflow": old})
    assert "framework.W002" not in codes(run_check("framework.cuda_build", facts))


def test_cpu_only_jax_and_onnxruntime_are_not_errors():
    installed = {"jax": {"version": "0.4.30", "build": "cpu", "cuda": None},
                 "onnxruntime": {"version": "1.20.0", "build": "cpu"},
                 "torch": torch_info("2.7.1+cu128", "12.8")}
    result = run_check("framework.cuda_build", make_facts(gpus=[RTX_4090],
                                                          installed=installed))
    assert result.status.value == "warn"
    assert sorted(codes(result)) == ["framework.I001", "framework.W003"]


def test_cuda_build_skips_without_gpu():
    facts = make_facts(installed={"torch": torch_info("2.7.1+cpu", None)})
    assert run_check("framework.cuda_build", facts).status.value == "skip"


# ------------------------------------------------------------------ framework.gpu_visible


def test_framework_seeing_the_gpu_passes():
    live = {"torch": torch_live(cuda_available=True, device_count=1,
                                arch_list=["sm_86"])}
    facts = make_facts(gpus=[RTX_4090], installed={"torch": torch_info("2.6.0", "12.6")},
                       live=live)
    result = run_check("framework.gpu_visible", facts)
    assert result.status.value == "pass" and "PyTorch (1 GPU)" in result.summary


def test_cpu_only_build_is_the_root_cause_before_anything_else():
    live = {"torch": torch_live(error="AssertionError: Torch not compiled with CUDA enabled")}
    facts = make_facts(gpus=[RTX_4090], installed={"torch": torch_info("2.7.1+cpu", None)},
                       live=live, env={"CUDA_VISIBLE_DEVICES": ""})
    result = run_check("framework.gpu_visible", facts)
    assert codes(result) == ["framework.E020"]
    # The other broken link (the variable) stays visible as secondary.
    assert any("CUDA_VISIBLE_DEVICES" in c
               for c in result.findings[0].details["other_causes"])


def test_cuda_visible_devices_hiding_every_gpu():
    facts = make_facts(gpus=[RTX_4090], installed={"torch": torch_info("2.6.0", "12.6")},
                       live={"torch": torch_live(arch_list=["sm_86"])},
                       env={"CUDA_VISIBLE_DEVICES": "-1"})
    result = run_check("framework.gpu_visible", facts)
    # "-1" hides the GPUs on purpose: env.cuda_visible_devices grades it (env.W002, a
    # warning); this check must not call the same setting an error.
    assert codes(result) == ["framework.I023"]
    assert result.status.value == "pass"
    assert "unset CUDA_VISIBLE_DEVICES" in result.findings[0].hint
    env = run_check("env.cuda_visible_devices", facts)
    assert [f.code for f in env.findings] == ["env.W002"]


def test_cuda_visible_devices_naming_no_real_gpu_is_an_error_in_both_checks():
    facts = make_facts(gpus=[RTX_4090], installed={"torch": torch_info("2.6.0", "12.6")},
                       live={"torch": torch_live(arch_list=["sm_86"])},
                       env={"CUDA_VISIBLE_DEVICES": "5"})
    assert codes(run_check("framework.gpu_visible", facts)) == ["framework.E023"]
    assert "env.E001" in [f.code for f in run_check("env.cuda_visible_devices", facts).findings]


def test_frameworks_own_error_is_quoted():
    text = ("RuntimeError: Unexpected error from cudaGetDeviceCount(). Did you run some cuda "
            "functions before calling NumCudaDevices() that might have already set an error? "
            "Error 803: system has unsupported display driver / cuda driver combination")
    facts = make_facts(gpus=[RTX_4090], installed={"torch": torch_info("2.6.0", "12.6")},
                       live={"torch": torch_live(arch_list=["sm_86"], error=text)})
    result = run_check("framework.gpu_visible", facts)
    f = finding(result, "framework.E024")
    assert "Error 803" in f.message


@pytest.mark.parametrize("signal", ["SIGILL", "SIGSEGV"])
def test_crash_is_reported_even_without_a_gpu(signal):
    lv = {"status": "crashed", "signal": signal, "stage": "import",
          "error": f"torch child died by {signal}", "stderr_tail": ["last words"]}
    facts = make_facts(installed={"torch": torch_info("2.7.1+cpu", None)},
                       live={"torch": lv})
    result = run_check("framework.gpu_visible", facts)
    f = finding(result, "framework.E026")
    if signal == "SIGILL":
        assert "cpu.avx" in f.hint
    else:
        assert "last words" in f.hint


def test_no_gpu_and_healthy_frameworks_skip():
    facts = make_facts(installed={"torch": torch_info("2.7.1+cpu", None)},
                       live={"torch": torch_live()})
    assert run_check("framework.gpu_visible", facts).status.value == "skip"


def test_rosetta_and_mps():
    rosetta = make_facts(installed={"torch": torch_info("2.2.2", None)}, system="Darwin",
                         machine="x86_64", rosetta=True, live={"torch": torch_live()})
    assert codes(run_check("framework.gpu_visible", rosetta)) == ["framework.E025"]
    mps = make_facts(installed={"torch": torch_info("2.7.1", None)}, system="Darwin",
                     machine="arm64", live={"torch": torch_live(mps_built=True,
                                                                mps_available=True)})
    result = run_check("framework.gpu_visible", mps)
    assert result.status.value == "pass" and "MPS" in result.summary
    no_mps = make_facts(installed={"torch": torch_info("2.7.1", None)}, system="Darwin",
                        machine="arm64", live={"torch": torch_live(mps_built=True)})
    assert codes(run_check("framework.gpu_visible", no_mps)) == ["framework.W026"]


def test_no_frameworks_reports_only_static_causes():
    facts = make_facts(gpus=[RTX_4090], installed={"torch": torch_info("2.6.0", "12.6")})
    result = run_check("framework.gpu_visible", facts)
    assert result.status.value == "pass" and codes(result) == ["framework.I021"]


# ------------------------------------------------------------------ the report


def test_primary_cause_is_the_first_broken_link_and_report_validates():
    live = {"torch": torch_live(error="AssertionError: Torch not compiled with CUDA enabled")}
    facts = make_facts(gpus=[RTX_4090], installed={"torch": torch_info("2.7.1+cpu", None)},
                       live=live)
    checks = [c for c in registry.all_checks() if c.area == "framework"]
    results = runner.run_checks(checks, facts)
    doc = report.build_report(facts, results, redact=False)
    validate_report(doc)
    assert doc["summary"]["primary_cause"]["check"] == "framework.cuda_build"
    assert doc["summary"]["primary_cause"]["code"] == "framework.E001"
    validate_report(report_with_facts(facts))


def test_checks_are_documented_for_explain():
    for check_id in ("framework.arch", "framework.cuda_build", "framework.gpu_visible"):
        check = registry.get(check_id)
        assert check is not None and "Fix:" in check.doc
        assert check.codes


# ------------------------------------------------------------------ fewer GPUs than NVML

A100_0 = {"index": 0, "name": "NVIDIA A100-SXM4-40GB", "uuid": "GPU-a0",
          "compute_capability": "8.0"}
A100_1 = dict(A100_0, index=1, uuid="GPU-a1")
RTX_3090 = {"index": 1, "name": "NVIDIA GeForce RTX 3090", "uuid": "GPU-3090",
            "compute_capability": "8.6"}


def seeing(count, names=()):
    devices = [{"index": i, "name": n, "compute_capability": "8.0"} for i, n in enumerate(names)]
    return {"torch": torch_live(cuda_available=True, device_count=count, devices=devices,
                                arch_list=["sm_80", "sm_86", "sm_90"])}


def test_fewer_gpus_than_nvml_without_cuda_visible_devices_warns_and_names_the_missing_one():
    facts = make_facts(gpus=[A100_0, RTX_3090], installed={"torch": torch_info("2.6.0", "12.6")},
                       live=seeing(1, ["NVIDIA A100-SXM4-40GB"]))
    result = run_check("framework.gpu_visible", facts)
    assert result.status.value == "warn" and codes(result) == ["framework.W027"]
    message = result.findings[0].message
    assert "sees 1 of the 2 GPUs" in message and "not set" in message
    assert "not seen: NVIDIA GeForce RTX 3090 (sm_86)" in message


def test_fewer_gpus_explained_by_cuda_visible_devices_is_only_a_note():
    facts = make_facts(gpus=[A100_0, A100_1], installed={"torch": torch_info("2.6.0", "12.6")},
                       live=seeing(1), env={"CUDA_VISIBLE_DEVICES": "1"})
    result = run_check("framework.gpu_visible", facts)
    assert result.status.value == "pass" and codes(result) == ["framework.I022"]
    assert "CUDA_VISIBLE_DEVICES='1'" in result.findings[0].message
    assert "env.cuda_visible_devices" in result.findings[0].message


def test_fewer_gpus_than_cuda_visible_devices_selects_warns():
    facts = make_facts(gpus=[A100_0, A100_1], installed={"torch": torch_info("2.6.0", "12.6")},
                       live=seeing(1), env={"CUDA_VISIBLE_DEVICES": "0,1"})
    result = run_check("framework.gpu_visible", facts)
    assert codes(result) == ["framework.W027"] and "selects 2" in result.findings[0].message


def test_all_gpus_seen_or_mig_gives_no_count_finding():
    both = make_facts(gpus=[A100_0, A100_1], installed={"torch": torch_info("2.6.0", "12.6")},
                      live=seeing(2))
    assert run_check("framework.gpu_visible", both).findings == []
    # MIG: CUDA enumerates MIG instances, not whole GPUs; the counts do not compare.
    mig = [dict(A100_0, mig_mode={"current": True, "pending": True}), A100_1]
    facts = make_facts(gpus=mig, installed={"torch": torch_info("2.6.0", "12.6")},
                       live=seeing(1))
    assert run_check("framework.gpu_visible", facts).findings == []


# ------------------------------------------------------------------ wording


def test_static_causes_say_will_not_and_live_ones_say_does_not():
    cpu = {"torch": torch_info("2.7.1+cpu", None)}
    static = run_check("framework.gpu_visible", make_facts(gpus=[RTX_4090], installed=cpu))
    message = finding(static, "framework.E020").message
    assert "will not see the GPU" in message and "does not see" not in message
    live = run_check("framework.gpu_visible", make_facts(
        gpus=[RTX_4090], installed=cpu, live={"torch": torch_live()}))
    assert "PyTorch does not see the GPU" in finding(live, "framework.E020").message


def primary_of(facts):
    checks = [c for c in registry.all_checks() if c.area in ("framework", "env", "cuda", "gpu")]
    doc = report.build_report(facts, runner.run_checks(checks, facts), redact=False)
    validate_report(doc)
    return doc["summary"]["primary_cause"]


def test_primary_cause_follows_the_chain_not_the_check_order():
    # A CPU-only torch and a CUDA_VISIBLE_DEVICES naming a GPU that does not exist: the
    # build is the first broken link; the variable stays as a secondary cause.
    live = {"torch": torch_live(error="AssertionError: Torch not compiled with CUDA enabled")}
    facts = make_facts(gpus=[RTX_4090], installed={"torch": torch_info("2.7.1+cpu", None)},
                       live=live, env={"CUDA_VISIBLE_DEVICES": "7"})
    primary = primary_of(facts)
    assert (primary["check"], primary["code"]) == ("framework.cuda_build", "framework.E001")
    assert {"check": "env.cuda_visible_devices", "code": "env.E001"} in primary["secondary"]


def test_primary_cause_for_a_build_too_new_for_the_driver():
    facts = make_facts(gpus=[RTX_4090], driver="470.82.01",
                       installed={"torch": torch_info("2.7.1", "12.8")},
                       live={"torch": torch_live(arch_list=["sm_89"])})
    facts["cuda"] = {"runtimes": [], "cudnn": [], "toolkits": []}
    facts["probes"]["cuda"] = {"status": "ok", "duration_ms": 0.1}
    primary = primary_of(facts)
    assert (primary["check"], primary["code"]) == ("framework.cuda_build", "framework.E002")
    assert "insufficient" in primary["message"]
    secondary = {(s["check"], s["code"]) for s in primary["secondary"]}
    assert ("cuda.driver_compat", "cuda.E001") in secondary


def test_a_broken_driver_comes_before_every_framework_cause():
    facts = make_facts(gpus=[RTX_4090], installed={"torch": torch_info("2.7.1+cpu", None)},
                       live={"torch": torch_live()})
    facts["nvidia"]["errors"] = [{"source": "nvml", "code": "LIB_RM_VERSION_MISMATCH",
                                  "message": "Driver/library version mismatch"}]
    facts["nvidia"]["kernel"] = {"module_version": "550.54.14"}
    facts["nvidia"]["driver_version"] = "550.54.15"
    primary = primary_of(facts)
    assert (primary["check"], primary["code"]) == ("gpu.driver", "gpu.E004")
    assert primary["secondary"][0]["code"] == "framework.E001"


def test_a_broken_import_hint_reinstalls_the_installed_distribution():
    facts = make_facts(gpus=[TESLA_T4], driver="570.124.06",
                       installed={"tensorflow": {"version": "2.16.1", "build": "cpu",
                                                 "distribution": "tensorflow-cpu"}})
    facts["frameworks"]["live"] = {"tensorflow": {
        "status": "error", "error": "ImportError: cannot import name 'x' from 'tensorflow'"}}
    result = run_check("framework.gpu_visible", facts)
    hints = [f.hint for f in result.findings]
    assert any(h.endswith("-m pip install --force-reinstall tensorflow-cpu") for h in hints), hints


def test_torch_before_1_6_has_no_arch_list_and_its_test_kernel_is_read_instead():
    # torch 1.5 has no torch.cuda.get_arch_list(): the child records the AttributeError.
    facts = make_facts(gpus=[TESLA_T4], driver="440.33",
                       installed={"torch": torch_info("1.5.1", "10.2")},
                       live={"torch": torch_live(
                           cuda_available=True, device_count=1,
                           arch_list_error="AttributeError: module 'torch.cuda' has no "
                                           "attribute 'get_arch_list'",
                           devices=[{"index": 0, "name": "Tesla T4",
                                     "compute_capability": "7.5", "kernel_test": "ok"}])})
    result = run_check("framework.arch", facts)
    finding = result.findings[0]
    assert finding.code == "framework.I010"
    assert "did not import" not in finding.message
    assert "before torch 1.6" in finding.message and "test kernel ran on 7.5" in finding.message
    assert result.status.value == "pass"


def test_an_old_driver_gets_a_tensorflow_1_x_gpu_build_not_an_and_cuda_extra():
    # Driver 410.79 supports CUDA 10.0 (TF 2.0), nothing newer; 390.46 only CUDA 9.x
    # (TF 1.5-1.12, the tensorflow-gpu distribution).
    tf = {"version": "2.15.0", "distribution": "tensorflow", "build": "cu122",
          "cuda": "12.2", "cudnn": "8", "is_cuda_build": True}
    for driver, want in (("410.79", '"tensorflow==2.0.*" with CUDA 10.0 and cuDNN 7.4'),
                         ("390.46", '"tensorflow-gpu==1.12.*" with CUDA 9.0 and cuDNN 7 ')):
        facts = make_facts(gpus=[TESLA_T4], driver=driver, installed={"tensorflow": tf})
        hint = finding(run_check("framework.cuda_build", facts), "framework.E002").hint
        assert want in hint, hint
        assert "[and-cuda]==" not in hint


def test_torch_1_12_cu102_from_the_table_has_no_kernels_for_an_rtx_4090():
    # torch 1.12's default pip wheel is cu102: sm_37 sm_50 sm_60 sm_70 (its own warning).
    facts = make_facts(gpus=[RTX_4090], installed={"torch": torch_info("1.12.1", "10.2")})
    result = run_check("framework.arch", facts)
    e010 = finding(result, "framework.E010")
    assert "sm_37 sm_50 sm_60 sm_70" in e010.message
    assert "torch_builds.json" in e010.details["arch_source"]
