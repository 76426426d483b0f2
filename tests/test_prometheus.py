"""`--format prometheus`: node_exporter textfile-collector output, checked with the
prometheus_client text parser."""

from __future__ import annotations

import calendar
import time

import fleet_reports as fr
import pytest
from conftest import run_envdoctor, validate_report

from envdoctor.render.prometheus import render

parser = pytest.importorskip("prometheus_client.parser")


def families(text: str) -> dict:
    return {f.name: f for f in parser.text_string_to_metric_families(text)}


def failing_report() -> dict:
    doc = fr.report(fr.facts(avx=False, packages=fr.AVX_PACKAGES,
                             env={"CUDA_VISIBLE_DEVICES": ""}))
    validate_report(doc)
    return doc


def test_one_gauge_per_check_status_with_exactly_one_set():
    doc = failing_report()
    parsed = families(render(doc))
    status = parsed["envdoctor_check_status"]
    assert status.type == "gauge" and status.documentation
    by_check: dict[str, dict[str, float]] = {}
    for sample in status.samples:
        by_check.setdefault(sample.labels["check"], {})[sample.labels["status"]] = sample.value
    assert set(by_check) == {c["id"] for c in doc["checks"]}
    for check in doc["checks"]:
        values = by_check[check["id"]]
        assert set(values) == {"pass", "warn", "fail", "skip", "error"}
        assert values[check["status"]] == 1 and sum(values.values()) == 1
    assert by_check["cpu.avx"]["fail"] == 1


def test_exit_code_timestamp_and_counts_match_the_report():
    doc = failing_report()
    parsed = families(render(doc))
    assert parsed["envdoctor_exit_code"].samples[0].value == doc["summary"]["exit_code"] == 1
    stamp = calendar.timegm(time.strptime(doc["generated_at"], "%Y-%m-%dT%H:%M:%SZ"))
    assert parsed["envdoctor_report_timestamp_seconds"].samples[0].value == stamp
    counts = {s.labels["status"]: s.value for s in parsed["envdoctor_checks"].samples}
    assert counts == {k: float(v) for k, v in doc["summary"]["counts"].items()}
    findings = {(s.labels["check"], s.labels["level"]): s.value
                for s in parsed["envdoctor_check_findings"].samples}
    assert findings[("cpu.avx", "error")] == 1
    for family in parsed.values():
        assert family.type == "gauge"


def test_probe_timeouts_are_visible():
    doc = fr.report(fr.facts(timed_out=("nvidia",)))
    validate_report(doc)
    samples = families(render(doc))["envdoctor_probe_status"].samples
    nvidia = {s.labels["status"]: s.value for s in samples if s.labels["probe"] == "nvidia"}
    assert nvidia == {"ok": 0, "error": 0, "timeout": 1}


def test_label_values_are_escaped():
    doc = failing_report()
    odd = 'dev "quoted" back\\slash\nnewline'
    doc["envdoctor_version"] = odd
    text = render(doc)
    info = families(text)["envdoctor_info"].samples[0]
    assert info.labels["version"] == odd
    assert all(line.startswith(("#", "envdoctor_")) for line in text.splitlines())


def test_cli_prometheus_output_file_matches_stdout_and_parses(tmp_path):
    out = tmp_path / "textfile" / "envdoctor.prom"
    out.parent.mkdir()  # envdoctor never creates folders
    run = run_envdoctor("check", "--format", "prometheus", "--no-frameworks",
                        "--output", str(out))
    assert run.returncode in (0, 1, 3), run.stderr
    text = out.read_text(encoding="utf-8")
    assert text == run.stdout
    parsed = families(text)
    assert parsed["envdoctor_exit_code"].samples[0].value == run.returncode
    assert [n for n in out.parent.iterdir() if n.name.startswith(".")] == []
