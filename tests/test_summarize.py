"""`envdoctor summarize REPORTS...`: the fleet view, with damaged inputs among the reports."""

from __future__ import annotations

import json
import tracemalloc

import fleet_reports as fr
import pytest
from conftest import run_envdoctor, validate_report

from envdoctor import fleet
from envdoctor.render.json import render as render_json


def write(path, doc) -> None:
    validate_report(doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_json(doc), encoding="utf-8")


@pytest.fixture(scope="module")
def docs():
    return {
        "healthy": fr.report(fr.facts()),
        "no_avx": fr.report(fr.facts(avx=False, packages=fr.AVX_PACKAGES)),
        "env_warn": fr.report(fr.facts(env={"CUDA_VISIBLE_DEVICES": ""})),
        "timeout": fr.report(fr.facts(timed_out=("cpu",))),
    }


@pytest.fixture
def fleet_dir(tmp_path, docs):
    """12 nodes: 6 healthy, 3 without AVX (same problem), 1 warning, 1 truncated file,
    1 foreign JSON; plus non-UTF-8 garbage, an empty file, leftovers to ignore and a
    JSON-lines file with two more hosts and one broken line."""
    root = tmp_path / "reports"
    for i in range(1, 7):
        write(root / f"node{i:02d}.json", docs["healthy"])
    for i in (7, 8, 9):
        write(root / "rack2" / f"node{i:02d}.json", docs["no_avx"])
    write(root / "node10.json", docs["env_warn"])
    text = render_json(docs["healthy"])
    (root / "node11.json").write_text(text[: len(text) // 3], encoding="utf-8")
    (root / "node12.json").write_text('{"apiVersion": "v1", "kind": "Pod"}', encoding="utf-8")
    (root / "garbage.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xd8binary")
    (root / "empty.json").write_text("", encoding="utf-8")
    (root / ".node13.json.k2j4.tmp").write_text(text[:100])      # an atomic write in progress
    (root / "envdoctor.prom").write_text("envdoctor_exit_code 0\n")  # not a report
    (root / "notes.txt").write_text("hello")
    lines = [json.dumps(dict(docs["healthy"], source={"kind": "probe", "host": "gpu-a1"})),
             "{not json",
             json.dumps(dict(docs["no_avx"], source={"kind": "probe", "host": "gpu-a2"}))]
    (root / "k8s.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_fleet_view_groups_problems_and_reports_every_bad_file(fleet_dir, docs):
    run = run_envdoctor("summarize", str(fleet_dir), "--json", "--expect",
                        "node01,node09,node14,gpu-a1")
    assert run.returncode == 1, run.stderr      # a host fails at the fail level
    result = json.loads(run.stdout)
    hosts = result["hosts"]
    assert set(hosts) == {f"node{i:02d}" for i in range(1, 11)} | {"gpu-a1", "gpu-a2"}
    assert result["hosts_count"] == 12 and result["reports"] == 12
    assert hosts["node07"]["statuses"]["cpu.avx"] == "fail"
    assert hosts["node01"]["statuses"]["cpu.avx"] == "pass"
    assert hosts["gpu-a1"]["file"].endswith("k8s.jsonl:1")

    avx = [p for p in result["problems"] if p["code"] == "cpu.E001"]
    assert len(avx) == 1 and avx[0]["count"] == 4
    assert sorted(avx[0]["hosts"]) == ["gpu-a2", "node07", "node08", "node09"]
    assert avx[0]["hint"]
    assert result["problems"][0]["code"] == "cpu.E001"     # errors before warnings
    assert sorted(result["failing_hosts"]) == ["gpu-a2", "node07", "node08", "node09"]

    bad = {(u["file"].rsplit("/", 1)[-1], u["line"]): u["error"] for u in result["unreadable"]}
    assert set(bad) == {("node11.json", None), ("node12.json", None), ("garbage.json", None),
                        ("empty.json", None), ("k8s.jsonl", 2)}
    assert "truncated" in bad[("node11.json", None)]
    assert "not an envdoctor report" in bad[("node12.json", None)]
    assert "not UTF-8" in bad[("garbage.json", None)]
    assert "empty" in bad[("empty.json", None)]
    assert "not valid JSON" in bad[("k8s.jsonl", 2)]
    assert result["missing_hosts"] == ["node14"]     # listed in --expect, no file at all

    counts = {c["id"]: c["counts"] for c in result["checks"]}
    assert counts["cpu.avx"]["fail"] == 4 and counts["cpu.avx"]["pass"] == 8


def test_text_view(fleet_dir):
    run = run_envdoctor("summarize", str(fleet_dir))
    assert run.returncode == 1, run.stderr
    out = run.stdout
    assert "4 hosts: cpu.E001" in out
    assert "1 host: env.W001" in out
    assert "Hosts x checks" in out and "node07" in out
    assert "Hosts that failed to report (5)" in out
    assert "node11.json: truncated" in out
    assert "Traceback" not in run.stderr


def test_exit_codes_follow_the_fail_level(tmp_path, docs):
    write(tmp_path / "a" / "n1.json", docs["healthy"])
    write(tmp_path / "a" / "n2.json", docs["env_warn"])
    assert run_envdoctor("summarize", str(tmp_path / "a")).returncode == 0
    warn = run_envdoctor("summarize", str(tmp_path / "a"), "--fail-on", "warn", "--json")
    assert warn.returncode == 1
    assert json.loads(warn.stdout)["failing_hosts"] == ["n2"]
    # nothing fails, but a node did not report: incomplete (3), not healthy
    (tmp_path / "a" / "n3.json").write_text('{"facts": ', encoding="utf-8")
    assert run_envdoctor("summarize", str(tmp_path / "a")).returncode == 3
    write(tmp_path / "b" / "n4.json", docs["timeout"])
    timed = run_envdoctor("summarize", str(tmp_path / "b"), "--json")
    assert timed.returncode == 3
    assert json.loads(timed.stdout)["incomplete_hosts"] == ["n4"]
    (tmp_path / "empty").mkdir()
    nothing = run_envdoctor("summarize", str(tmp_path / "empty"))
    assert nothing.returncode == 2 and "no report files" in nothing.stderr


def test_host_identity_and_duplicates(tmp_path, docs):
    named = dict(docs["healthy"], source={"kind": "probe", "host": "gpu-07.cluster"})
    write(tmp_path / "first.json", named)
    write(tmp_path / "second.json", named)
    write(tmp_path / "redacted-node.json", docs["healthy"])
    result = fleet.summarize([str(tmp_path)], expected=["gpu-07", "redacted-node"])
    assert "gpu-07.cluster" in result["hosts"] and "redacted-node" in result["hosts"]
    assert len(result["duplicates"]) == 1 and result["hosts_count"] == 3
    assert result["missing_hosts"] == []       # short names match FQDNs
    assert "reported twice" in fleet.render_text(result)


def test_files_named_explicitly_and_json_lines_in_a_json_file(tmp_path, docs):
    one = tmp_path / "x.json"
    write(one, docs["healthy"])
    many = tmp_path / "all.json"    # `jq -c . *.json > all.json`: JSON lines named .json
    many.write_text("\n".join(json.dumps(dict(docs["healthy"],
                                             source={"kind": "probe", "host": f"h{i}"}))
                              for i in range(3)) + "\n", encoding="utf-8")
    result = fleet.summarize([str(one), str(many), str(tmp_path / "missing.json")])
    assert set(result["hosts"]) == {"x", "h0", "h1", "h2"}
    assert [u["error"] for u in result["unreadable"]] == ["no such file or directory"]


def test_expect_accepts_a_file(tmp_path, docs):
    write(tmp_path / "r" / "n1.json", docs["healthy"])
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("# from scontrol show hostnames\nn1\nn2\n", encoding="utf-8")
    run = run_envdoctor("summarize", str(tmp_path / "r"), "--json", "--expect", str(hosts))
    assert run.returncode == 3
    assert json.loads(run.stdout)["missing_hosts"] == ["n2"]


def test_memory_is_bounded_by_the_summary_not_the_input(tmp_path, docs):
    """Peak heap grows with the number of hosts by far less than a report's size: the
    reports are streamed, not held."""
    text = render_json(dict(docs["no_avx"], facts=dict(
        docs["no_avx"]["facts"], padding={"blob": "z" * 200_000})))   # 200 kB reports

    def peak(count: int) -> int:
        folder = tmp_path / f"f{count}"
        folder.mkdir()
        for i in range(count):
            (folder / f"n{i:04d}.json").write_text(text, encoding="utf-8")
        tracemalloc.start()
        result = fleet.summarize([str(folder)])
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert result["hosts_count"] == count
        return top

    small, large = peak(20), peak(220)
    per_host = (large - small) / 200
    assert per_host < 3_000, f"{per_host:.0f} bytes per extra host"
    assert large < 220 * len(text) / 10


def test_powershell_utf16_report_is_read(tmp_path, docs):
    # Windows PowerShell 5: `envdoctor check --json > report.json` writes UTF-16 with a BOM
    (tmp_path / "win.json").write_bytes(render_json(docs["healthy"]).encode("utf-16"))
    (tmp_path / "bom.json").write_bytes(b"\xef\xbb\xbf" + render_json(docs["healthy"]).encode())
    result = fleet.summarize([str(tmp_path)])
    assert set(result["hosts"]) == {"win", "bom"} and result["unreadable"] == []


def test_reports_from_stdin_as_json_lines(docs):
    lines = [json.dumps(dict(docs["healthy"], source={"kind": "probe", "host": "k1"})),
             json.dumps(dict(docs["no_avx"], source={"kind": "probe", "host": "k2"})),
             "2024-06-01T00:00:00Z pip install finished"]
    run = run_envdoctor("summarize", "-", "--json", input="\n".join(lines) + "\n")
    assert run.returncode == 1, run.stderr
    result = json.loads(run.stdout)
    assert set(result["hosts"]) == {"k1", "k2"}
    assert [(u["host"], u["line"]) for u in result["unreadable"]] == [("stdin:3", 3)]


def test_odd_findings_inside_a_valid_report_do_not_crash(tmp_path, docs):
    odd = json.loads(json.dumps(docs["no_avx"]))
    avx = next(c for c in odd["checks"] if c["id"] == "cpu.avx")
    avx["findings"] += ["text", {"code": {"x": 1}, "level": "error", "message": ["m"]}]
    (tmp_path / "odd.json").write_text(json.dumps(odd), encoding="utf-8")
    run = run_envdoctor("summarize", str(tmp_path))
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert "cpu.E001" in run.stdout


def test_hand_edited_sections_and_deep_json_do_not_crash(tmp_path, docs):
    """A report whose source, summary or findings are not what envdoctor writes still
    counts, under its file name; JSON nested too deeply to parse is unreadable."""
    odd = json.loads(json.dumps(docs["no_avx"]))
    odd["source"], odd["summary"] = "node-x", "fine"
    next(c for c in odd["checks"] if c["id"] == "cpu.avx")["findings"] = 5
    (tmp_path / "odd.json").write_text(json.dumps(odd), encoding="utf-8")
    (tmp_path / "deep.json").write_text("[" * 100000 + "]" * 100000, encoding="utf-8")
    (tmp_path / "deep.jsonl").write_text("[" * 100000 + "]" * 100000 + "\n",
                                         encoding="utf-8")
    result = fleet.summarize([str(tmp_path)])
    assert result["hosts"]["odd"]["statuses"]["cpu.avx"] == "fail"
    assert result["failing_hosts"] == ["odd"]
    assert [(u["host"], u["error"]) for u in result["unreadable"]] == [
        ("deep", "not an envdoctor report (JSON nested too deeply)"),
        ("deep:1", "not an envdoctor report (JSON nested too deeply)")]


def test_text_shows_every_line_of_a_multi_line_hint(tmp_path, docs):
    """cpu.E001's hint is "Ways out:" and one numbered line per option: all of them show."""
    write(tmp_path / "n1.json", docs["no_avx"])
    text = fleet.render_text(fleet.summarize([str(tmp_path)]))
    finding = next(f for c in docs["no_avx"]["checks"] for f in c["findings"]
                   if f["code"] == "cpu.E001")
    hint = finding["hint"].splitlines()
    assert len(hint) > 2
    assert f"-> {hint[0]}" in text
    assert all(line in text for line in hint[1:])
