"""AMD and Apple GPUs travel through the report, the text header, diff, summarize and
Prometheus like NVIDIA ones, each with its vendor. The GPUs come from the real captures
(tests/data/amd, tests/data/apple) through the real parsers."""

from __future__ import annotations

import copy
import json

import fleet_reports as fr
from conftest import validate_report
from fakes_amd import AMD_DATA
from prometheus_client.parser import text_string_to_metric_families

from envdoctor import diffing, fleet
from envdoctor.amd import tools
from envdoctor.apple import profiler
from envdoctor.render import environment_rows
from envdoctor.render.prometheus import render as prometheus

APPLE = AMD_DATA.parent / "apple"


def amd_facts() -> dict:
    """An MI210 + MI50 node (rocminfo capture), no NVIDIA GPU."""
    doc = fr.facts(gpus=0)
    doc["nvidia"] = {"present": False, "gpus": [], "kernel": {}, "errors": []}
    info = tools.parse_rocminfo((AMD_DATA / "rocminfo-mi210-mi50-rocm533.txt").read_text())
    doc["amd"] = {"present": True, "source": "rocminfo", "gpus": info["gpus"],
                  "driver_version": "6.3.6", "rocm_version": "5.3.3"}
    doc["probes"]["amd"] = {"status": "ok", "duration_ms": 1.0}
    return doc


def apple_facts() -> dict:
    """An M3 Pro (system_profiler capture) with 36 GiB of unified memory."""
    doc = fr.facts(gpus=0)
    doc["nvidia"] = {"present": False, "gpus": [], "kernel": {}, "errors": []}
    gpus = profiler.parse_displays((APPLE / "system-profiler-m3-pro.json").read_text())["gpus"]
    for gpu in gpus:
        gpu["memory_total_mib"] = 36864
    doc["apple"] = {"present": True, "apple_silicon": True, "chip": "Apple M3 Pro",
                    "macos_version": "14.4.1", "unified_memory_mib": 36864, "gpus": gpus}
    doc["probes"]["apple"] = {"status": "ok", "duration_ms": 1.0}
    return doc


def test_the_report_lists_every_gpu_with_its_vendor():
    nvidia = fr.report(fr.facts(gpus=2))
    amd = fr.report(amd_facts())
    apple = fr.report(apple_facts())
    for doc in (nvidia, amd, apple):
        validate_report(doc)
    assert [(g["vendor"], g["arch"]) for g in nvidia["summary"]["gpus"]] == [
        ("nvidia", "8.0"), ("nvidia", "8.0")]
    assert [(g["vendor"], g["name"], g["arch"]) for g in amd["summary"]["gpus"]] == [
        ("amd", "AMD Instinct MI210", "gfx90a"), ("amd", "AMD Instinct MI50/MI60", "gfx906")]
    assert amd["summary"]["gpus"][0]["memory_total_mib"] == 65520
    (m3,) = apple["summary"]["gpus"]
    assert (m3["vendor"], m3["name"], m3["arch"], m3["memory_total_mib"]) == (
        "apple", "Apple M3 Pro", "Metal 3", 36864)


def test_text_header_names_amd_and_apple_gpus():
    rows = dict(environment_rows(fr.report(amd_facts())))
    assert rows["GPU"] == "AMD Instinct MI210 (gfx90a), AMD Instinct MI50/MI60 (gfx906)"
    assert rows["AMD driver"] == "amdgpu 6.3.6; ROCm 5.3.3"
    rows = dict(environment_rows(fr.report(apple_facts())))
    assert rows["GPU"] == "Apple M3 Pro (Metal 3)"
    assert rows["Apple"].endswith("36 GiB unified memory")


def test_an_older_report_without_summary_gpus_still_shows_them():
    doc = fr.report(amd_facts())
    del doc["summary"]["gpus"]
    assert dict(environment_rows(doc))["GPU"].startswith("AMD Instinct MI210")


def test_prometheus_carries_every_vendor():
    text = prometheus(fr.report(amd_facts())) + prometheus(fr.report(apple_facts()))
    samples = [s for fam in text_string_to_metric_families(text) for s in fam.samples
               if s.name in ("envdoctor_gpu_info", "envdoctor_gpu_memory_bytes")]
    info = {(s.labels["vendor"], s.labels["model"], s.labels["arch"]) for s in samples
            if s.name == "envdoctor_gpu_info"}
    assert ("amd", "AMD Instinct MI210", "gfx90a") in info
    assert ("apple", "Apple M3 Pro", "Metal 3") in info
    memory = {(s.labels["vendor"], s.labels["index"]): s.value for s in samples
              if s.name == "envdoctor_gpu_memory_bytes"}
    assert memory[("apple", "0")] == 36864 * 1024 * 1024


def test_summarize_counts_hosts_per_gpu_vendor(tmp_path):
    for name, doc in (("a100.json", fr.report(fr.facts())), ("mi210.json",
                      fr.report(amd_facts())), ("m3.json", fr.report(apple_facts()))):
        (tmp_path / name).write_text(json.dumps(doc), encoding="utf-8")
    result = fleet.summarize([str(tmp_path)])
    assert result["gpu_vendors"] == {"amd": 1, "apple": 1, "nvidia": 1}
    assert [g["arch"] for g in result["hosts"]["mi210"]["gpus"]] == ["gfx90a", "gfx906"]
    assert "GPUs: AMD on 1 host, Apple on 1 host, NVIDIA on 1 host" in fleet.render_text(result)


def test_diff_shows_an_amd_gpu_change_in_the_gpu_area():
    a = fr.report(amd_facts())
    changed = amd_facts()
    changed["amd"]["gpus"] = copy.deepcopy(changed["amd"]["gpus"][:1])
    b = fr.report(changed)
    result = diffing.diff_reports(a, b)
    paths = {e["path"]: e for e in result["facts"] if e["category"] == "gpu"}
    assert paths["amd.gpus[1].gfx_target"]["change"] == "removed"
