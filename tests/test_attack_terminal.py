"""Attack class: terminal escapes in values that reach a terminal.

A pasted report (check --from, diff, summarize, wheel --from) or a command-line argument
(wheel) carries OSC 52 (clipboard write), ESC[2J, carriage returns, C1 CSI, bidi overrides
and newlines that forge whole lines. Every command's text output shows them escaped,
never obeyed. Each test drives the real CLI in a child process.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from conftest import run_envdoctor
from hostile import TERMINAL, hostile_report, raw_controls, write


def _assert_inert(text: str, where: str) -> None:
    assert not raw_controls(text), f"{where}: raw control characters {raw_controls(text)}"
    for line in text.splitlines():
        # A forged line would start (at most indented like a finding) with the fake mark.
        assert not line.lstrip().startswith("[✓] FORGED-LINE") or line.startswith(" " * 6), \
            f"{where}: a value forged a line: {line!r}"
        assert not line.startswith("OVERWRITE"), f"{where}: {line!r}"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("terminal")
    doc = hostile_report(TERMINAL)
    return write(tmp, "hostile.json", doc), tmp


@pytest.mark.parametrize("args", [[], ["-v"], ["--format", "json"],
                                  ["--format", "prometheus"], ["--format", "markdown"]])
def test_check_from_hostile_report_prints_no_control_characters(hostile, args):
    path, _ = hostile
    run = run_envdoctor("check", "--from", str(path), *args)
    assert run.returncode in (0, 1, 3), run.stderr
    assert "Traceback" not in run.stderr
    _assert_inert(run.stdout, f"check --from {' '.join(args)}")
    _assert_inert(run.stderr, "stderr")
    if not args:
        # The value is still there for a person to read, escaped visibly.
        assert "\\x1b]52;c;" in run.stdout


def test_json_output_is_still_the_same_json(hostile):
    path, _ = hostile
    run = run_envdoctor("check", "--from", str(path), "--json")
    doc = json.loads(run.stdout)
    names = doc["facts"]["packages"]["distributions"]
    assert any(name.startswith("evil") and name.endswith("[0m") and "\x9b" in name
               for name in names)


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_diff_of_a_hostile_report_prints_no_control_characters(hostile, fmt):
    path, tmp = hostile
    import fleet_reports

    clean = write(tmp, "clean.json", fleet_reports.report(fleet_reports.facts()))
    run = run_envdoctor("diff", str(clean), str(path), "--format", fmt, "--all")
    assert run.returncode == 1, run.stderr
    assert "FORGED-LINE" in run.stdout
    _assert_inert(run.stdout, f"diff --format {fmt}")


@pytest.mark.parametrize("args", [[], ["--all"], ["--json"]])
def test_summarize_of_hostile_reports_prints_no_control_characters(hostile, args):
    path, tmp = hostile
    folder = tmp / "fleet"
    folder.mkdir(exist_ok=True)
    doc = json.loads(path.read_text(encoding="utf-8"))
    for n in range(3):
        write(folder, f"node{n}.json", dict(doc, source=dict(doc["source"],
                                                              host=f"n{n}{TERMINAL}")))
    (folder / f"broken{TERMINAL.replace('/', '_')}.json").write_text("{not json")
    run = run_envdoctor("summarize", str(folder), *args)
    assert run.returncode in (1, 3), run.stderr
    assert "FORGED-LINE" in run.stdout
    _assert_inert(run.stdout, f"summarize {' '.join(args)}")


def test_wheel_argument_and_target_from_a_report_are_escaped(hostile):
    path, _ = hostile
    name = f"torch-2.3.0{TERMINAL}-cp311-cp311-linux_x86_64.whl"
    run = run_envdoctor("wheel", name, "torch-2.3.0-cp311-cp311-linux_x86_64.whl",
                        "--from", str(path))
    assert "Traceback" not in run.stderr
    _assert_inert(run.stdout, "wheel stdout")
    _assert_inert(run.stderr, "wheel stderr")
    run = run_envdoctor("wheel", name, "--json")
    _assert_inert(run.stdout, "wheel --json")


def test_error_messages_escape_the_file_name(tmp_path):
    missing = tmp_path / "no\x1b[2Jsuch\rfile.json"
    run = run_envdoctor("check", "--from", str(missing))
    assert run.returncode == 2
    assert "\\x1b[2J" in run.stderr
    _assert_inert(run.stderr, "check --from error")


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs sh")
def test_hints_with_a_hostile_interpreter_path_are_safe_to_paste(tmp_path):
    import fleet_reports

    exe = "/opt/x $(touch PWNED)/it's `touch PWNED2`/bin/python"
    facts = fleet_reports.facts(avx=False, packages=fleet_reports.AVX_PACKAGES)
    facts["python"]["executable"] = exe
    path = write(tmp_path, "r.json", fleet_reports.report(facts, only=()))
    run = run_envdoctor("check", "--from", str(path))
    commands = [line.split(": ", 1)[-1] for line in run.stdout.splitlines()
                if "-m pip" in line and "PWNED" in line]
    assert commands, run.stdout
    for command in commands:
        # Paste it into a real shell, with printf in place of nothing else: the path must
        # arrive as one argument, unchanged, and nothing in it may run.
        start = command.index(" -m pip")
        shown = command[:start]
        got = subprocess.run(["sh", "-c", f"printf '%s\\n' {shown}"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=30)
        assert got.stdout == exe + "\n", (command, got.stdout, got.stderr)
    assert not list(tmp_path.glob("PWNED*"))
