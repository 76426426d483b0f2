"""envdoctor bench: the CPU and storage parts run for real; the GPU part runs with the
real CPU torch on the CPU device (test mode, marked torch); peaks and verdicts are
judged against real captures (lscpu, nvidia-smi XML in tests/data/corpus)."""

from __future__ import annotations

import importlib.util
import json
import time

import pytest
from conftest import facts_fixture, run_envdoctor, validate_report

from envdoctor import nvidia_smi
from envdoctor.bench import peaks
from envdoctor.bench.machine import clock_ghz, isa_row, physical_cores
from envdoctor.registry import get
from envdoctor.runner import run_check


def lscpu(corpus, name: str) -> dict:
    fields = {}
    for line in (corpus / "cpu" / name).read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return {"model": fields.get("Model name"), "flags": fields.get("Flags", "").split(),
            "machine": "x86_64"}


def corpus_gpus(corpus, name: str) -> list[dict]:
    raw = (corpus / "nvidia-smi-xml" / name).read_text(encoding="utf-8", errors="replace")
    return nvidia_smi.parse_xml(raw)["gpus"]


# --- peaks from real captures ---------------------------------------------------------------

def test_atom_without_avx_gets_the_sse2_peak_and_the_fma_limiter(corpus):
    cpu = lscpu(corpus, "lscpu-atom-x5-z8350.txt")
    row = isa_row(set(cpu["flags"]), "x86_64")
    assert row["isa"] == "SSE2" and row["fp32_flops_per_cycle"] == 8
    ghz, source = clock_ghz(lambda p: None, "", cpu["model"])
    assert (ghz, source) == (1.44, "model name")
    machine = {"cores": 4, "ghz": ghz, "clock_source": source, "isa": row["isa"],
               "flops_per_cycle": 8, "peak_gflops": 4 * 1.44 * 8}
    [line] = peaks.cpu_lines({"ok": True, "gflops": 5.0, "blas": "openblas", "numpy": "2.0",
                              "n": 1024}, machine, cpu, load_avg=0.1, omp_threads=None)
    assert line["peak"] == pytest.approx(46.08) and line["ratio"] == pytest.approx(0.109, 0.01)
    assert line["verdict"] == "far below peak"
    assert line["limiter"].startswith("a CPU without FMA")


def test_i7_with_avx2_fma_peak(corpus):
    cpu = lscpu(corpus, "lscpu-core-i7-7700k.txt")
    assert isa_row(set(cpu["flags"]), "x86_64")["fp32_flops_per_cycle"] == 32


def test_physical_cores_from_cpuinfo():
    text = "\n\n".join(f"processor\t: {i}\nphysical id\t: 0\ncore id\t\t: {i % 4}"
                       for i in range(8))
    assert physical_cores(text) == 4


def test_a100_matmul_against_its_datasheet(corpus):
    gpus = corpus_gpus(corpus, "a100-sxm4-v12.xml")
    result = {"ok": True, "device": "cuda", "index": 0, "name": "NVIDIA A100-SXM4-80GB",
              "library": "torch 2.13.0", "matmul": {"fp32": {"tflops": 18.9},
                                                     "tf32": {"tflops": 40.0},
                                                     "bf16": {"tflops": 260.0}},
              "transfers": {"h2d": {"gb_s": 24.0}, "d2h": {"gb_s": 25.0}}}
    lines = {ln["id"]: ln for ln in peaks.gpu_lines(result, {"nvidia": {"gpus": gpus}}, False)}
    assert lines["gpu0.matmul.fp32"]["verdict"] == "good"
    tf32 = lines["gpu0.matmul.tf32"]
    assert tf32["peak"] == 156 and tf32["verdict"] == "far below peak" and tf32["limiter"]
    assert lines["gpu0.matmul.bf16"]["ratio"] == pytest.approx(260 / 312, 0.01)
    h2d = lines["gpu0.h2d"]
    assert h2d["peak"] == pytest.approx(1.969 * 16) and h2d["verdict"] == "good"


def test_t4_at_x8_names_the_link_width(corpus):
    gpus = corpus_gpus(corpus, "tesla-t4.xml")  # this capture's link runs at x8 of x16
    result = {"ok": True, "device": "cuda", "index": 0, "name": "Tesla T4",
              "matmul": {"fp16": {"tflops": 30.0}}, "transfers": {"h2d": {"gb_s": 6.0}}}
    lines = {ln["id"]: ln for ln in peaks.gpu_lines(result, {"nvidia": {"gpus": gpus}}, False)}
    assert lines["gpu0.h2d"]["verdict"] == "below peak"  # 6 of 15.8 GB/s (gen 3 x16)
    assert "x8 of x16" in lines["gpu0.h2d"]["limiter"]
    assert lines["gpu0.matmul.fp16"]["peak"] == 65


def test_throttling_is_named_as_the_limiter():
    gpu = {"index": 0, "name": "NVIDIA H100 80GB HBM3", "clock_event_reasons":
           ["sw_power_cap", "hw_thermal_slowdown"], "pcie": {}}
    result = {"ok": True, "device": "cuda", "index": 0, "name": gpu["name"],
              "matmul": {"bf16": {"tflops": 200.0}}, "transfers": {}}
    [line] = peaks.gpu_lines(result, {"nvidia": {"gpus": [gpu]}}, False)
    assert line["limiter"] == "throttling: power cap, thermal slowdown"


def test_storage_on_a_hdd_names_the_disk():
    [line] = peaks.storage_lines({"ok": True, "mb_s": 40.0, "cache_bypass": "none"},
                                 {"kind": "hdd", "data_path": "/data"})
    assert line["peak"] == 150 and line["verdict"] == "far below peak"
    assert "rotating hard disk" in line["limiter"] and "optimistic" in line["limiter"]


def test_bench_check_turns_lines_into_findings():
    bench = {"version": 1, "parts": {"cpu": {"status": "ok"}, "gpu": {"status": "timeout",
                                                                      "error": "stopped"},
                                     "storage": {"status": "skipped", "reason": "no folder"}},
             "lines": [peaks.line("cpu.gemm.fp32", "cpu_gemm", "CPU", "GFLOPS", 10.0, 100.0,
                                  "b", "a CPU without FMA")]}
    result = run_check(get("bench.peak"), facts_fixture(bench=bench))
    codes = sorted(f.code for f in result.findings)
    assert codes == ["bench.I003", "bench.W001", "bench.W002"]
    assert result.status.value == "warn"
    assert run_check(get("bench.peak"), facts_fixture(cpu={})).status.value == "skip"


# --- real runs ---------------------------------------------------------------------------------

def bench_json(*args: str, env=None, timeout: float = 240) -> tuple[dict, object]:
    proc = run_envdoctor("bench", "--json", *args, env=env, timeout=timeout)
    report = json.loads(proc.stdout)
    validate_report(report)
    return report, proc


def test_cpu_and_storage_run_for_real(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    report, proc = bench_json("--quick", "--only", "cpu,storage", "--data", str(data),
                              "--max-seconds", "120")
    bench = report["facts"]["bench"]
    lines = {ln["id"]: ln for ln in bench["lines"]}
    storage = lines["storage.read"]
    assert storage["measured"] > 0 and storage["unit"] == "MB/s"
    assert storage["cache_bypass"] != "none"  # Linux: fadvise
    assert list(data.iterdir()) == []  # the temporary file is gone
    cpu = lines["cpu.gemm.fp32"]
    if importlib.util.find_spec("numpy"):
        assert cpu["measured"] > 0 and cpu["peak"] > 0 and cpu["ratio"] > 0
        assert bench["cpu"]["cores"] >= 1 and bench["cpu"]["isa"]
    else:
        assert "numpy" in cpu["error"]
    assert "gpu" not in bench["parts"]
    assert "envdoctor bench [1/2] cpu" in proc.stderr  # progress on stderr
    assert any(c["id"] == "bench.peak" for c in report["checks"])


def test_no_gpu_no_data_folder_are_skips_not_failures(tmp_path):
    report, proc = bench_json("--quick", "--only", "gpu,storage",
                              env={"ENVDOCTOR_DATA": ""})
    parts = report["facts"]["bench"]["parts"]
    assert parts["gpu"] == {"status": "skipped", "reason": "no GPU found"}
    assert parts["storage"]["status"] == "skipped"
    assert proc.returncode == 0


def test_a_stuck_gpu_library_is_stopped_at_the_deadline(tmp_path):
    """A torch whose import never returns (a fake in a temp site dir) stands for a GPU
    stuck in the driver: the part is stopped, the command finishes within its budget."""
    site = tmp_path / "site"
    (site / "torch").mkdir(parents=True)
    (site / "torch" / "__init__.py").write_text("import time\nwhile True:\n    time.sleep(1)\n")
    start = time.monotonic()
    report, proc = bench_json("--only", "gpu", "--device", "cpu", "--max-seconds", "6",
                              env={"PYTHONPATH": str(site)}, timeout=60)
    assert time.monotonic() - start < 40
    part = report["facts"]["bench"]["parts"]["gpu"]
    assert part["status"] == "timeout" and "stopped" in part["error"]
    codes = [f["code"] for c in report["checks"] for f in c["findings"]]
    assert "bench.W002" in codes


def test_unknown_part_is_a_usage_error():
    proc = run_envdoctor("bench", "--only", "disk")
    assert proc.returncode == 2 and "no bench part named 'disk'" in proc.stderr


def test_two_bench_reports_diff_by_their_measurements(tmp_path):
    from envdoctor.diffing import diff_reports

    data = tmp_path / "d"
    data.mkdir()
    report, _ = bench_json("--quick", "--only", "storage", "--data", str(data))
    slower = json.loads(json.dumps(report))
    slower["facts"]["bench"]["lines"][0]["measured"] = 1.0
    result = diff_reports(report, slower)
    assert {"path": "bench.lines[storage.read].measured", "category": "bench"}.items() <= \
        result["facts"][0].items()


@pytest.mark.torch
def test_gpu_part_in_test_mode_with_the_real_cpu_torch(tmp_path):
    report, proc = bench_json("--quick", "--only", "gpu", "--device", "cpu",
                              "--max-seconds", "180", timeout=300)
    assert report["facts"]["bench"]["parts"]["gpu"]["status"] == "ok", proc.stderr
    lines = {ln["id"]: ln for ln in report["facts"]["bench"]["lines"]}
    for dtype in ("fp32", "fp16", "bf16"):
        line = lines[f"gpu0.matmul.{dtype}"]
        assert line["measured"] > 0 and line["library"].startswith("torch 2.")
        assert line["verdict"] == "no peak to compare"
    assert "gpu0.matmul.tf32" not in lines  # a tensor-core mode: not on the CPU device
    assert "need a GPU" in lines["gpu0.h2d"]["skipped"]


def test_rocm_torch_results_are_judged_against_the_amd_rows():
    result = {"ok": True, "device": "cuda", "vendor": "amd", "index": 0,
              "name": "AMD Instinct MI300X", "matmul": {"bf16": {"tflops": 700.0}},
              "transfers": {}}
    [line] = peaks.gpu_lines(result, {}, False)
    assert line["vendor"] == "amd" and line["peak"] == 1307.4
    assert line["verdict"] == "below peak"


def test_small_rates_keep_their_digits():
    entry = peaks.line("x", "gpu_matmul", "x", "TFLOPS", 0.000425318, None, "")
    assert entry["measured"] == 0.0004253
