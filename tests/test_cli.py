"""The command line as a user meets it: formats, exit codes, list/explain, --from."""

from __future__ import annotations

import json
import re
import sys

import pytest
from conftest import REPO, facts_fixture, report_with_facts, run_envdoctor, validate_report

from envdoctor import __version__


def test_version_matches_the_package_metadata():
    proc = run_envdoctor("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"envdoctor {__version__}"
    pyproject = (REPO / "pyproject.toml").read_text()
    assert re.search(rf'^version = "{re.escape(__version__)}"$', pyproject, re.M)


def test_json_output_is_only_json_and_matches_the_schema():
    proc = run_envdoctor("check", "--json")
    report = json.loads(proc.stdout)  # nothing else on stdout
    validate_report(report)
    assert proc.returncode == report["summary"]["exit_code"]
    # envdoctor is installed in the test venv (with pytest and more): it examines that
    # Python, in-process.
    assert report["source"]["kind"] == "probe"
    assert report["source"]["python"]["in_process"] is True
    assert report["facts"]["python"]["version"].startswith(f"{sys.version_info[0]}.")
    # A full run probes everything, so --from can re-run any check later.
    for name in ("platform", "python", "cpu", "env", "packages"):
        assert report["facts"]["probes"][name]["status"] == "ok"


def test_default_command_is_check():
    proc = run_envdoctor(env={"NO_COLOR": "1"})
    assert "envdoctor" in proc.stdout and "exit code" in proc.stdout
    assert proc.returncode in (0, 1, 3)


def test_text_output_marks_and_summary_without_colour_when_piped():
    proc = run_envdoctor("check", "-v")
    assert "\x1b[" not in proc.stdout, "no colour when stdout is not a terminal"
    assert re.search(r"^\[(✓|!|✗|-|\?)\] envdoctor\.plugins ", proc.stdout, re.M)
    assert "Probes:" in proc.stdout and " ms" in proc.stdout  # -v adds durations
    assert re.search(r"exit code \d\)\.$", proc.stdout.strip().splitlines()[-1])


def test_plain_ascii_marks_on_a_cp1252_console():
    proc = run_envdoctor("check", env={"PYTHONIOENCODING": "cp1252"})
    assert "[OK] envdoctor.plugins" in proc.stdout
    assert "✓" not in proc.stdout


def test_colour_only_on_a_terminal_without_no_color(monkeypatch):
    from envdoctor.render import text

    class Tty:
        encoding = "utf-8"

        def isatty(self):
            return True

    report = {"envdoctor_version": "x", "facts": {}, "checks": [
        {"id": "a.b", "status": "fail", "summary": "bad", "findings": []}],
        "summary": {"counts": {"fail": 1}, "exit_code": 1}}
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert "\x1b[31m" in text.render(report, stream=Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in text.render(report, stream=Tty())


def test_markdown_is_paste_ready_with_the_facts_folded(tmp_path):
    proc = run_envdoctor("check", "--format", "markdown")
    md = proc.stdout
    assert md.startswith("### envdoctor")
    assert "| Python |" in md
    assert "<details><summary>Facts (compact JSON" in md
    block = md.split("```json\n", 1)[1].split("\n```", 1)[0]
    assert json.loads(block)["facts"]["schema_version"] == 1
    # The Markdown is a report envdoctor reads back: the same checks reach the same verdicts.
    (tmp_path / "issue.md").write_text(md, encoding="utf-8")
    again = run_envdoctor("check", "--from", str(tmp_path / "issue.md"), "--json")
    report = json.loads(again.stdout)
    validate_report(report)
    live = json.loads(run_envdoctor("check", "--json").stdout)
    assert {c["id"]: c["status"] for c in report["checks"]} == \
        {c["id"]: c["status"] for c in live["checks"]}


def test_unknown_only_selector_is_a_usage_error():
    proc = run_envdoctor("check", "--only", "gpu.nonexistent_check")
    assert proc.returncode == 2
    assert "no check, area or tag named 'gpu.nonexistent_check'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_option_value_is_a_usage_error():
    proc = run_envdoctor("check", "--format", "yaml")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("content,message", [
    (b"{not json", "is not valid JSON"),
    # --from reads any pasted text now: garbage is a paste with nothing recognisable.
    (b"\xff\xfe\x00garbage\x81", "holds no environment dump"),
    (b"[1, 2, 3]", "is not an envdoctor report"),
    (b'{"facts": {"probes": {}}}', "has no schema_version"),
    (b'{"facts": {"schema_version": 99, "probes": {}}}', "upgrade envdoctor"),
])
def test_corrupt_from_file_gets_a_clear_message(tmp_path, content, message):
    path = tmp_path / "report.json"
    path.write_bytes(content)
    proc = run_envdoctor("check", "--from", str(path))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_from_file(tmp_path):
    proc = run_envdoctor("check", "--from", str(tmp_path / "nope.json"))
    assert proc.returncode == 2
    assert "cannot read" in proc.stderr


def test_from_reruns_checks_on_the_saved_facts_only(tmp_path):
    facts = facts_fixture(plugins={"loaded": [], "failed": [
        {"name": "acme", "value": "acme_checks", "error": "ImportError: boom"}]})
    path = tmp_path / "pasted.json"
    # Reports pasted into issues often arrive inside a ```json fence.
    path.write_text("```json\n" + json.dumps(report_with_facts(facts)) + "\n```\n")
    proc = run_envdoctor("check", "--json", "--from", str(path), "--fail-on", "warn")
    report = json.loads(proc.stdout)
    validate_report(report)
    assert report["source"]["kind"] == "from"
    plugins = next(c for c in report["checks"] if c["id"] == "envdoctor.plugins")
    assert plugins["status"] == "warn"
    assert plugins["findings"][0]["code"] == "envdoctor.W001"
    assert proc.returncode == 1
    # Facts of this machine were not probed: the saved document is used as it is.
    assert "platform" not in report["facts"]


def test_list_and_explain():
    listing = run_envdoctor("list")
    assert listing.returncode == 0
    assert re.search(r"^envdoctor\.plugins\s+Check plugins", listing.stdout, re.M)
    by_id = run_envdoctor("explain", "envdoctor.plugins")
    assert by_id.returncode == 0
    assert "envdoctor.W001" in by_id.stdout and "entry-point group" in by_id.stdout
    by_code = run_envdoctor("explain", "envdoctor.W001")
    assert by_code.returncode == 0
    assert by_code.stdout.startswith("envdoctor.W001:")
    unknown = run_envdoctor("explain", "nope.E999")
    assert unknown.returncode == 2 and "no check or finding code" in unknown.stderr


def _plant_plugins(site):
    (site / "acme_good_checks.py").write_text(
        "from envdoctor.registry import register\n"
        "from envdoctor.result import passed\n"
        "@register('acme.quota', title='ACME quota', tags=('acme',))\n"
        "def check_quota(facts):\n"
        "    '''A third-party check added through the envdoctor.checks entry point group.'''\n"
        "    return passed('quota fine')\n")
    (site / "acme_bad_checks.py").write_text("raise RuntimeError('plugin exploded')\n")
    info = site / "acme_checks-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-checks\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[envdoctor.checks]\nacme = acme_good_checks\nbroken = acme_bad_checks\n")


def test_entry_point_plugins_load_and_a_broken_one_is_a_finding(tmp_path):
    _plant_plugins(tmp_path)
    env = {"PYTHONPATH": str(tmp_path)}
    listing = run_envdoctor("list", env=env)
    assert re.search(r"^acme\.quota\s+ACME quota.*plugin: acme_good_checks", listing.stdout,
                     re.M)
    assert "plugin broken failed to load: RuntimeError: plugin exploded" in listing.stderr
    proc = run_envdoctor("check", "--json", env=env)
    report = json.loads(proc.stdout)
    validate_report(report)
    by_id = {c["id"]: c for c in report["checks"]}
    assert by_id["acme.quota"]["status"] == "pass"
    assert by_id["envdoctor.plugins"]["status"] == "warn"
    assert "plugin exploded" in by_id["envdoctor.plugins"]["findings"][0]["message"]


def test_from_stdin_dash(tmp_path):
    facts = facts_fixture(plugins={"loaded": [], "failed": []})
    proc = run_envdoctor("check", "--json", "--from", "-",
                         input=json.dumps(report_with_facts(facts)))
    report = json.loads(proc.stdout)
    validate_report(report)
    assert report["source"]["kind"] == "from" and proc.returncode == 0


def test_long_hint_commands_stay_on_one_line():
    from envdoctor.render import text

    command = "python3 -m pip install " + " ".join(f"package{i}==1.0" for i in range(20))
    report = {"envdoctor_version": "x", "facts": {}, "summary": {"counts": {}, "exit_code": 1},
              "checks": [{"id": "a.b", "status": "fail", "summary": "broken", "findings": [
                  {"code": "a.E001", "level": "error", "message": "m " * 80, "hint": command}]}]}
    out = text.render(report, stream=None, unicode=False, colour=False)
    assert any(line.strip() == f"-> {command}" for line in out.splitlines())
    assert max(len(line) for line in out.splitlines() if "m m" in line) <= 100


def test_check_options_work_without_the_word_check():
    proc = run_envdoctor("--json", "--only", "envdoctor.plugins")
    report = json.loads(proc.stdout)
    validate_report(report)
    assert [c["id"] for c in report["checks"]] == ["envdoctor.plugins"]
    assert run_envdoctor("--version").stdout.startswith("envdoctor ")
    assert "Usage" in run_envdoctor("--help").stdout
    assert run_envdoctor("-h").stdout == run_envdoctor("--help").stdout
    bad = run_envdoctor("--no-such-option")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_nothing_selected_is_a_usage_error_not_a_pass():
    # A CI gate must not pass with nothing checked.
    run = run_envdoctor("check", "--only", "gpu", "--skip", "gpu")
    assert run.returncode == 2 and "no check to run" in run.stderr
    assert run.stdout == ""
