"""`envdoctor diff A.json B.json` on reports with known differences."""

from __future__ import annotations

import json

import fleet_reports as fr
import pytest
from conftest import run_envdoctor, validate_report

from envdoctor import diffing


def save(tmp_path, name: str, doc: dict) -> str:
    validate_report(doc)
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return str(path)


@pytest.fixture
def works_and_broken(tmp_path):
    """A: the laptop where it works. B: the cluster node where it does not (older CPU
    without AVX, newer driver, CUDA_VISIBLE_DEVICES emptied by a job script)."""
    a = fr.report(fr.facts(packages=fr.AVX_PACKAGES))
    b_facts = fr.facts(avx=False, packages=dict(fr.AVX_PACKAGES, numpy="2.0.1"),
                       driver="550.54.14", cuda="12.4", python="3.11.4",
                       env={"CUDA_VISIBLE_DEVICES": ""})
    for gpu in b_facts["nvidia"]["gpus"]:   # noise only: memory in use, temperature, UUID
        gpu["memory_used_mib"] += 5000
        gpu["temperature_c"] += 20
        gpu["uuid"] = gpu["uuid"].replace("1111", "9999")
    b = fr.report(b_facts)
    return save(tmp_path, "laptop.json", a), save(tmp_path, "node.json", b), a, b


def test_json_lists_facts_by_diagnostic_weight_then_checks(works_and_broken):
    a_path, b_path, a, b = works_and_broken
    run = run_envdoctor("diff", a_path, b_path, "--json")
    assert run.returncode == 1, run.stderr
    result = json.loads(run.stdout)
    paths = [e["path"] for e in result["facts"]]
    order = [paths.index(p) for p in ("nvidia.driver_version", "nvidia.cuda_driver_version",
                                      "cpu.flags", "python.version",
                                      "packages.distributions.numpy",
                                      "env.variables.CUDA_VISIBLE_DEVICES")]
    assert order == sorted(order)
    driver = result["facts"][0]
    assert (driver["path"], driver["a"], driver["b"]) == ("nvidia.driver_version",
                                                         "535.54.03", "550.54.14")
    flags = next(e for e in result["facts"] if e["path"] == "cpu.flags")
    assert {"avx", "avx2", "fma"} <= set(flags["only_in_a"]) and flags["only_in_b"] == []
    env = next(e for e in result["facts"] if e["path"] == "env.variables.CUDA_VISIBLE_DEVICES")
    assert env["change"] == "added" and env["b"] == ""
    # noise that differs between any two machines is left out
    assert not [p for p in paths if any(w in p for w in ("memory_used", "temperature", "uuid",
                                                         "duration_ms", "generated_at"))]

    checks = {c["id"]: c for c in result["checks"]}
    expected = {c["id"]: (c["status"], next(x["status"] for x in b["checks"]
                                            if x["id"] == c["id"])) for c in a["checks"]}
    changed = {k for k, (sa, sb) in expected.items() if sa != sb}
    assert {"cpu.avx", "env.cuda_visible_devices"} <= changed <= set(checks)
    avx = checks["cpu.avx"]
    assert (avx["a"], avx["b"]) == ("pass", "fail")
    assert [f["code"] for f in avx["findings_only_in_b"]] == ["cpu.E001"]
    assert avx["findings_only_in_b"][0]["hint"]
    assert [c["id"] for c in result["checks"]][0] == "cpu.avx"   # failures first


def test_text_output_groups_facts_and_explains_checks(works_and_broken):
    a_path, b_path, _, _ = works_and_broken
    run = run_envdoctor("diff", a_path, b_path)
    assert run.returncode == 1, run.stderr
    out = run.stdout
    positions = [out.index(h) for h in ("NVIDIA driver", "CUDA", "CPU", "Python", "Packages",
                                        "Environment variables", "Checks whose result differs")]
    assert positions == sorted(positions)
    assert "550.54.14" in out and "pass -> fail" in out and "cpu.E001" in out
    assert "laptop.json" in out and "node.json" in out


def test_markdown_output_is_a_table(works_and_broken):
    a_path, b_path, _, _ = works_and_broken
    run = run_envdoctor("diff", a_path, b_path, "--format", "markdown")
    assert run.returncode == 1, run.stderr
    rows = [line for line in run.stdout.splitlines() if line.startswith("|")]
    assert any("`nvidia.driver_version`" in r and "535.54.03" in r and "550.54.14" in r
               for r in rows)
    assert any(r.startswith("| `cpu.avx` | pass | fail |") for r in rows)
    # every table row has the same number of unescaped cell separators as its header
    for row in rows:
        assert row.replace("\\|", "").count("|") in (4, 5)


def test_identical_reports_exit_0(tmp_path):
    doc = fr.report(fr.facts())
    again = fr.report(fr.facts(), generated_at="2030-01-01T00:00:00Z")
    a, b = save(tmp_path, "a.json", doc), save(tmp_path, "b.json", again)
    run = run_envdoctor("diff", a, b)
    assert run.returncode == 0, run.stderr
    assert "No differences" in run.stdout


def test_gpu_model_and_timed_out_probe():
    a = fr.report(fr.facts())
    b = fr.report(fr.facts(gpu_name="NVIDIA GeForce RTX 4090", gpus=1))
    result = diffing.diff_reports(a, b)
    names = {e["path"]: e for e in result["facts"] if e["category"] == "gpu"}
    assert names["nvidia.gpus[0].name"]["b"] == "NVIDIA GeForce RTX 4090"
    assert names["nvidia.gpus[1].name"]["change"] == "removed"

    c = fr.report(fr.facts(timed_out=("nvidia",)))
    result = diffing.diff_reports(a, c)
    section = next(e for e in result["facts"] if e["path"] == "nvidia")
    assert section["change"] == "section" and "timed out" in section["reason_b"]
    assert len([e for e in result["facts"] if e["path"].startswith("nvidia.")]) == 0
    assert "timed out" in diffing.render_text(result)


def test_different_schema_versions_compare_what_they_share(tmp_path):
    old = fr.report(fr.facts(driver="535.54.03"))
    newer = fr.report(fr.facts(driver="550.54.14"))
    newer["schema_version"] = newer["facts"]["schema_version"] = 2
    newer["facts"]["gpu_topology"] = {"nvlink": True}
    newer["checks"].append({"id": "gpu.topology", "title": "GPU topology", "status": "warn",
                            "summary": "x", "findings": []})
    a, b = save(tmp_path, "v1.json", old), tmp_path / "v2.json"
    b.write_text(json.dumps(newer), encoding="utf-8")
    run = run_envdoctor("diff", a, str(b), "--json")
    assert run.returncode == 1, run.stderr
    result = json.loads(run.stdout)
    notices = " ".join(result["notices"])
    assert "different schema versions" in notices
    assert "gpu_topology" in notices and "gpu.topology" in notices
    assert [e["path"] for e in result["facts"]] == ["nvidia.driver_version",
                                                   "nvidia.nvml_version"]
    assert result["checks"] == []
    text = run_envdoctor("diff", a, str(b)).stdout
    assert "notice:" in text


def test_this_machine_now(tmp_path):
    doc = fr.report(fr.facts(driver="470.57.02", cuda="11.4"))
    saved = save(tmp_path, "cluster.json", doc)
    run = run_envdoctor("diff", saved, "-", "--json", "--no-frameworks")
    assert run.returncode == 1, run.stderr
    result = json.loads(run.stdout)
    assert result["b"]["label"] == "this machine now"
    assert result["a"]["label"] == saved
    assert any(e["path"] == "cpu.model" for e in result["facts"]) or \
        any(e["path"] == "cpu" for e in result["facts"])


@pytest.mark.parametrize("content, message", [
    ('{"name": "my-app", "version": "1.0"}', "not an envdoctor report"),
    ("[1, 2, 3]", "not an envdoctor report"),
    ("Traceback (most recent call last):", "not valid JSON"),
    ('{"facts": {"probes": {}}, "checks": []}', "no schema_version"),
])
def test_foreign_or_broken_file_is_a_clear_error(tmp_path, content, message):
    good = save(tmp_path, "good.json", fr.report(fr.facts()))
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    for args in ((good, str(bad)), (str(bad), good)):
        run = run_envdoctor("diff", *args)
        assert run.returncode == 2
        assert message in run.stderr and "bad.json" in run.stderr
        assert "Traceback" not in run.stderr


def test_missing_file_and_two_dashes_are_usage_errors(tmp_path):
    run = run_envdoctor("diff", str(tmp_path / "nope.json"), "-")
    assert run.returncode == 2 and "cannot read" in run.stderr
    run = run_envdoctor("diff", "-", "-")
    assert run.returncode == 2 and "only one side" in run.stderr


def test_recheck_reruns_current_checks_on_both(tmp_path):
    # A was saved by a run that only had cpu.avx; --recheck compares like with like.
    a = fr.report(fr.facts(), only=("cpu.avx",))
    b = fr.report(fr.facts(env={"CUDA_VISIBLE_DEVICES": "-1"}))
    pa, pb = save(tmp_path, "a.json", a), save(tmp_path, "b.json", b)
    plain = json.loads(run_envdoctor("diff", pa, pb, "--json").stdout)
    assert any(c["a"] is None for c in plain["checks"])   # check absent from A
    rechecked = json.loads(run_envdoctor("diff", pa, pb, "--json", "--recheck").stdout)
    assert all(c["a"] is not None and c["b"] is not None for c in rechecked["checks"])
    assert "env.cuda_visible_devices" in {c["id"] for c in rechecked["checks"]}


def test_output_file_is_written(tmp_path):
    a = save(tmp_path, "a.json", fr.report(fr.facts()))
    b = save(tmp_path, "b.json", fr.report(fr.facts(driver="550.54.14")))
    out = tmp_path / "diff.md"
    run = run_envdoctor("diff", a, b, "--format", "markdown", "--output", str(out))
    assert run.returncode == 1
    assert out.read_text(encoding="utf-8") == run.stdout


def test_flatten_matches_gpus_by_index_not_position():
    a = {"nvidia": {"gpus": [fr.gpu(0), fr.gpu(1, "NVIDIA H100 80GB HBM3", "9.0")]}}
    b = {"nvidia": {"gpus": [fr.gpu(1, "NVIDIA H100 80GB HBM3", "9.0"), fr.gpu(0)]}}
    entries, _ = diffing.diff_facts(a, b, shared_only=False)
    assert entries == []


@pytest.mark.parametrize("path, expected", [
    ("nvidia.driver_version", "driver"),
    ("nvidia.kernel.module_version", "driver"),
    ("nvidia.errors[0].code", "driver"),
    ("nvidia.cuda_driver_version", "cuda"),
    ("cuda.toolkits[0].version", "cuda"),
    ("cuda.cudnn.version", "cudnn"),
    ("packages.distributions.nvidia-cudnn-cu12", "cudnn"),
    ("frameworks.installed.torch.cuda", "framework"),
    ("frameworks.live.torch.arch_list", "framework"),
    ("nvidia.gpus[0].name", "gpu"),
    ("cpu.flags", "cpu"),
    ("python.version", "python"),
    ("packages.distributions.numpy", "packages"),
    ("env.variables.CUDA_VISIBLE_DEVICES", "env"),
    ("platform.libc.version", "platform"),
])
def test_categories(path, expected):
    assert diffing.category(path) == expected


def test_damaged_parts_of_a_report_do_not_crash(tmp_path):
    good = fr.report(fr.facts())
    odd = fr.report(fr.facts(driver="550.54.14"))
    odd["checks"] += ["not a check", {"id": ["x"], "status": {"weird": 1}, "findings": [3]}]
    odd["facts"]["nvidia"]["gpus"].append("a string among GPUs")
    odd["facts"]["cpu"]["flags"] = "avx avx2"
    a, b = save(tmp_path, "a.json", good), tmp_path / "b.json"
    b.write_text(json.dumps(odd), encoding="utf-8")
    for fmt in ("text", "json", "markdown"):
        run = run_envdoctor("diff", a, str(b), "--format", fmt)
        assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr


def test_checks_or_findings_that_are_not_lists_do_not_crash():
    """Hand-edited: `"checks": 5` holds no check; `"findings": 5` holds no finding."""
    good = fr.report(fr.facts())
    no_checks = dict(good, checks=5)
    odd = json.loads(json.dumps(good))
    odd["checks"][0]["findings"], odd["checks"][0]["status"] = 5, "error"
    result = diffing.diff_reports(good, no_checks)
    assert {c["b"] for c in result["checks"]} == {None}
    assert len(result["checks"]) == len(good["checks"])
    changed = diffing.diff_reports(good, odd)["checks"]
    assert [(c["id"], c["b"], c["findings_only_in_b"]) for c in changed] == [
        (good["checks"][0]["id"], "error", [])]


def test_null_empty_and_absent_are_not_differences():
    from envdoctor.diffing import diff_facts

    a = {"probes": {}, "nvidia": {"gpus": [], "kernel": {"modules": None}, "x": 1}}
    b = {"probes": {}, "nvidia": {"x": 1, "errors": []}}
    entries, _ = diff_facts(a, b, shared_only=False)
    assert entries == []
    # ...but an empty string is a value (CUDA_VISIBLE_DEVICES="" hides every GPU).
    entries, _ = diff_facts({"probes": {}, "env": {"variables": {"CUDA_VISIBLE_DEVICES": ""}}},
                            {"probes": {}, "env": {"variables": {}}}, shared_only=False)
    assert [e["path"] for e in entries] == ["env.variables.CUDA_VISIBLE_DEVICES"]


def test_text_shows_every_line_of_a_multi_line_hint(works_and_broken):
    """cpu.E001's hint is "Ways out:" and one numbered line per option: all of them show."""
    _, _, a, b = works_and_broken
    text = diffing.render_text(diffing.diff_reports(a, b, "laptop.json", "node.json"), 25)
    finding = next(f for c in b["checks"] for f in c["findings"] if f["code"] == "cpu.E001")
    hint = finding["hint"].splitlines()
    assert len(hint) > 2
    assert f"-> {hint[0]}" in text
    assert all(line in text for line in hint[1:])
