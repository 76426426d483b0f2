"""gpu.precision and the GPU tables, fed with GPUs parsed from real nvidia-smi captures
(tests/data/corpus/nvidia-smi-xml, see SOURCES.md there)."""

from __future__ import annotations

import pytest
from conftest import facts_fixture

from envdoctor import nvidia_smi
from envdoctor.hardware import gpus as hw
from envdoctor.registry import get
from envdoctor.runner import run_check


def corpus_gpus(corpus, name: str) -> list[dict]:
    raw = (corpus / "nvidia-smi-xml" / name).read_text(encoding="utf-8", errors="replace")
    return nvidia_smi.parse_xml(raw)["gpus"]


def precision(gpu_list, variables=None, bench=None):
    sections = {"nvidia": {"present": True, "gpus": gpu_list},
                "env": {"variables": variables or {}}}
    if bench is not None:
        sections["bench"] = bench
    return run_check(get("gpu.precision"), facts_fixture(**sections))


def codes(result) -> list[str]:
    return [f.code for f in result.findings]


def test_gtx_1070_ti_is_told_that_fp16_is_slower(corpus):
    result = precision(corpus_gpus(corpus, "gtx-1070-ti.xml"))
    assert result.status.value == "pass"
    assert "gpu.I302" in codes(result)
    slow = next(f for f in result.findings if f.code == "gpu.I302")
    assert "1/64" in slow.message and "slower" in slow.message


def test_a100_gets_bf16_and_tf32_advice_and_no_fp16_warning(corpus):
    result = precision(corpus_gpus(corpus, "a100-sxm4-v12.xml"))
    assert codes(result) == ["gpu.I301"]
    info = result.findings[0]
    assert "bfloat16" in info.hint and "set_float32_matmul_precision" in info.hint
    assert "FP64 1/2" in info.message


def test_t4_is_fp16_with_loss_scaling(corpus):
    result = precision(corpus_gpus(corpus, "tesla-t4.xml"))
    info = result.findings[0]
    assert "GradScaler" in info.hint and "bfloat16" not in info.hint
    assert "1/32" in info.message  # FP64 on Turing


def test_rtx_3090_gets_a_geforce_fp64_note(corpus):
    result = precision(corpus_gpus(corpus, "rtx-3090-v12.xml"))
    assert "FP64 1/64" in result.findings[0].message
    assert "A100 or H100" in result.findings[0].hint


def test_tf32_override_is_a_warning_only_where_tf32_exists(corpus):
    ampere = precision(corpus_gpus(corpus, "rtx-3080-v12.xml"),
                       variables={"NVIDIA_TF32_OVERRIDE": "0"})
    assert ampere.status.value == "warn" and "gpu.W301" in codes(ampere)
    turing = precision(corpus_gpus(corpus, "tesla-t4.xml"),
                       variables={"NVIDIA_TF32_OVERRIDE": "0"})
    assert "gpu.W301" not in codes(turing)


def test_a_bench_that_measured_fp16_slower_than_fp32_warns(corpus):
    gpus = corpus_gpus(corpus, "gtx-1070-ti.xml")
    index = gpus[0]["index"]
    bench = {"lines": [
        {"kind": "gpu_matmul", "gpu_index": index, "dtype": "fp32", "measured": 7.1},
        {"kind": "gpu_matmul", "gpu_index": index, "dtype": "fp16", "measured": 0.12}]}
    result = precision(gpus, bench=bench)
    assert result.status.value == "warn" and "gpu.W302" in codes(result)
    fast = {"lines": [
        {"kind": "gpu_matmul", "gpu_index": index, "dtype": "fp32", "measured": 7.1},
        {"kind": "gpu_matmul", "gpu_index": index, "dtype": "fp16", "measured": 14.0}]}
    assert "gpu.W302" not in codes(precision(gpus, bench=fast))


def test_unknown_architecture_is_said_plainly():
    result = precision([{"index": 0, "name": "Future GPU", "compute_capability": "99.0"}])
    assert codes(result) == ["gpu.I303"] and result.status.value == "pass"


def test_no_gpu_is_a_skip():
    assert precision([]).status.value == "skip"


@pytest.mark.parametrize("name,model", [
    ("NVIDIA A100-SXM4-80GB", "A100"), ("NVIDIA A100 80GB PCIe", "A100"),
    ("NVIDIA H100 80GB HBM3", "H100 SXM"), ("NVIDIA H100 PCIe", "H100 PCIe"),
    ("NVIDIA H100 NVL", "H100 NVL"), ("NVIDIA H200", "H200 SXM"),
    ("NVIDIA A10", "A10"), ("Tesla V100-PCIE-32GB", "V100 PCIe"),
    ("Tesla V100-SXM2-16GB", "V100 SXM2"), ("Tesla T4", "T4"), ("NVIDIA L4", "L4"),
    ("NVIDIA L40S", "L40S"), ("GeForce GTX 1070 Ti", "GeForce GTX 1070 Ti"),
    ("NVIDIA GeForce GTX 1070", "GeForce GTX 1070"),
    ("NVIDIA GeForce RTX 3090", "GeForce RTX 3090"),
])
def test_peak_rows_match_the_names_drivers_report(name, model):
    assert hw.peak_row("nvidia", name)["model"] == model


@pytest.mark.parametrize("name", ["NVIDIA A10G", "NVIDIA GeForce RTX 3090 Ti",
                                  "NVIDIA RTX 4000 SFF Ada Generation", "Graphics Device"])
def test_models_without_a_row_get_none_not_a_neighbour(name):
    assert hw.peak_row("nvidia", name) is None


def test_peak_rows_are_consistent_with_their_architecture():
    from envdoctor.data import load

    for row in load("gpu_peaks.json")["rows"]:
        arch = hw.precision_row(row["vendor"], row["arch_key"])
        assert arch is not None, row["model"]
        if not arch["tf32"]:
            assert row["tf32_tflops"] is None, row["model"]
        if not arch["bf16"]:
            assert row["bf16_tflops"] is None, row["model"]
        if row["fp64_tflops"] and arch["fp64_ratio"]:
            assert row["fp64_tflops"] / row["fp32_tflops"] == pytest.approx(
                arch["fp64_ratio"], rel=0.1), row["model"]
