"""envdoctor fit: real model configs (tests/data/models, SOURCES.md) against the GPU memory
of real machines: the A100 80GB split into four MIG instances (nvidia-smi XML) and the
H100 in MIG mode idle and under load (an nvidia-smi capture replayed by a fake NVML)."""

from __future__ import annotations

import json
import struct
import sys

import pytest
from conftest import REPO, facts_fixture, report_with_facts, run_envdoctor
from fakes_nvidia import install_fake_nvml, sysroot
from fakes_nvidia.captures import nvml_scenario

from envdoctor import nvidia_smi
from envdoctor.models.size import load
from envdoctor.probes import ProbeContext
from envdoctor.probes.nvidia import probe_nvidia

MODELS = REPO / "tests" / "data" / "models"
MISTRAL = str(MODELS / "mistral-7b-v0.1")


def _report(tmp_path, nvidia: dict, name: str = "host.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(report_with_facts(facts_fixture(nvidia=nvidia))),
                    encoding="utf-8")
    return str(path)


def _a100(corpus) -> dict:
    raw = (corpus / "nvidia-smi-xml" / "a100-sxm4-v12.xml").read_text(encoding="utf-8",
                                                                      errors="replace")
    facts = nvidia_smi.parse_xml(raw)
    facts["gpus"][0]["compute_capability"] = "8.0"
    return facts


def _fit(*args: str) -> tuple[int, dict]:
    done = run_envdoctor("fit", *args, "--json")
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def _row(doc: dict, precision: str) -> dict:
    return next(r for r in doc["precisions"] if r["precision"] == precision)


def test_published_configs_give_the_published_parameter_counts():
    assert load(MISTRAL).params == 7_241_732_096
    assert load(str(MODELS / "tinyllama-1.1b" / "config.json")).params == 1_100_048_384


def test_a100_split_into_four_mig_instances_is_judged_per_instance(tmp_path, corpus):
    nvidia = _a100(corpus)
    code, doc = _fit(MISTRAL, "--from", _report(tmp_path, nvidia))
    assert [d["total_mib"] for d in doc["devices"]] == [19968] * 4    # not one 80 GB GPU
    assert doc["largest_free_mib"] == 19968 - 12
    assert code == 0 and _row(doc, "BF16/FP16")["inference"] == "fits"
    assert _row(doc, "FP32")["inference"] == "no"
    assert _row(doc, "BF16/FP16")["training"] == "no"
    assert _row(doc, "INT4")["training"] == "fits"                    # QLoRA
    # the same GPU without MIG: the whole 80 GB, and FP32 inference fits
    nvidia["gpus"][0]["mig_mode"] = {"current": False, "pending": False}
    _, whole = _fit(MISTRAL, "--from", _report(tmp_path, nvidia, "whole.json"))
    assert whole["largest_free_mib"] == 81920 - 50
    assert _row(whole, "FP32")["inference"] == "fits"


@pytest.fixture
def h100_mig(tmp_path, monkeypatch, corpus):
    def probe(phase: str) -> dict:
        path = corpus / "nvidia-smi-captures" / "linux-x86_64__nvidia-h100-mig__590.48.01.txt"
        data, _ = nvml_scenario(path, phase)
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
        return facts
    return probe


def test_memory_other_processes_hold_counts(tmp_path, h100_mig):
    idle = _report(tmp_path, h100_mig("idle"), "idle.json")
    load_ = _report(tmp_path, h100_mig("load"), "load.json")
    _, quiet = _fit(MISTRAL, "--from", idle)
    _, busy = _fit(MISTRAL, "--from", load_)
    assert quiet["devices"][0]["name"] == "NVIDIA H100 80GB HBM3 MIG 3g.40gb"
    assert quiet["largest_free_mib"] == 40448 - 26
    assert busy["largest_free_mib"] == 40448 - 11091       # a process holds 11 GB there
    assert _row(quiet, "FP32")["inference"] == "fits"
    assert _row(busy, "FP32")["inference"] == "no"
    text = run_envdoctor("fit", MISTRAL, "--from", load_).stdout
    assert "held by other processes" in text and "MIG is on" in text


def _safetensors(path, tensors: dict) -> None:
    """The safetensors format: 8-byte little-endian header length, JSON header, data."""
    header, offset = {}, 0
    for name, (dtype, shape) in tensors.items():
        size = 2
        for dim in shape:
            size *= dim
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0" * offset)


def test_safetensors_headers_are_counted_exactly_and_an_index_total_is_divided(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    _safetensors(model / "model.safetensors", {"a": ("BF16", [64, 32]), "b": ("BF16", [7])})
    info = load(str(model))
    assert (info.params, info.exact, info.dtype) == (64 * 32 + 7, True, "BF16")
    index = tmp_path / "mistral"
    index.mkdir()
    (index / "config.json").write_text((MODELS / "mistral-7b-v0.1" / "config.json")
                                       .read_text(encoding="utf-8"), encoding="utf-8")
    (index / "model.safetensors.index.json").write_text(json.dumps({
        "metadata": {"total_size": 14483464192},
        "weight_map": {"lm_head.weight": "model-00002-of-00002.safetensors"}}),
        encoding="utf-8")
    assert load(str(index)).params == 7_241_732_096


def test_a_bare_count_no_gpu_and_bad_files(tmp_path):
    code, doc = _fit("7B", "--from", _report(tmp_path, {"gpus": []}))
    assert code == 1 and doc["devices"] == [] and doc["kv_cache_bytes"] is None
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "model.safetensors").write_bytes(struct.pack("<Q", 2**40) + b"{}")
    for target in (str(bad), str(tmp_path / "missing"), str(MODELS / "SOURCES.md")):
        done = run_envdoctor("fit", target)
        assert done.returncode == 2 and "Traceback" not in done.stderr, target
