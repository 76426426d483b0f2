"""The Markdown report always fits an issue tracker (at most 60,000 characters, GitHub
refuses bodies over 65,536): problems and the checks table first, facts compacted, bulky
sections left out with a statement and the command for the full JSON report."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from envdoctor.render import markdown

LIMIT = 60_000


@pytest.fixture(scope="module")
def live_report() -> dict:
    out = subprocess.run([sys.executable, "-m", "envdoctor", "check", "--json"],
                         capture_output=True, text=True, timeout=120)
    return json.loads(out.stdout)


def big_environment(report: dict, packages: int = 2000) -> dict:
    """The live report with a venv of ``packages`` distributions: each real entry of
    this machine's pip and packages facts repeated under new names."""
    big = copy.deepcopy(report)
    dists = big["facts"]["pip"]["distributions"]
    names = big["facts"]["packages"]["distributions"]
    for i in range(packages):
        entry = dict(dists[i % len(dists)], name=f"pkg-{i}")
        dists.append(entry)
        names[f"pkg-{i}"] = "1.0"
    return big


def test_a_small_environment_keeps_every_fact(live_report):
    md = markdown.render(live_report)
    assert len(md) <= LIMIT
    assert "Left out" not in md
    block = md.split("```json\n", 1)[1].split("\n```", 1)[0]
    assert set(json.loads(block)["facts"]) == set(live_report["facts"])


def test_a_huge_environment_fits_and_says_what_was_left_out(live_report):
    big = big_environment(live_report)
    assert len(json.dumps(big)) > 3 * LIMIT
    md = markdown.render(big)
    assert len(md) <= LIMIT
    # What matters comes first, whole.
    assert md.index("#### Checks") < md.index("<details>")
    for check in big["checks"]:
        assert f"`{check['id']}`" in md
    # The bulky section is left out with its count and the command for the full JSON.
    assert "Left out to stay under 60,000 characters" in md
    assert "`pip (" in md and " distributions, " in md
    assert markdown.FULL_REPORT in md
    block = md.split("```json\n", 1)[1].split("\n```", 1)[0]
    kept = json.loads(block)
    assert "pip" not in kept["facts"] and "pip" in kept["left_out"][0]
    assert "cpu" in kept["facts"]  # small decisive sections stay


def test_huge_values_are_cut_not_passed_through(live_report):
    hostile = copy.deepcopy(live_report)
    for check in hostile["checks"]:
        check["summary"] = "x" * 200_000
        check["status"] = "fail"
        check["findings"] = [{"code": "cpu.E001", "level": "error", "message": "y" * 100_000,
                              "hint": "z\n" * 50_000, "fix": None, "details": {}}] * 20
    md = markdown.render(hostile)
    assert len(md) <= LIMIT
    assert "more problem check(s) left out to fit" in md


def test_the_compacted_markdown_reads_back(tmp_path, live_report):
    md = markdown.render(big_environment(live_report))
    path = tmp_path / "issue.md"
    path.write_text(md, encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "envdoctor", "check", "--from", str(path),
                          "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode in (0, 1, 3), out.stderr
    report = json.loads(out.stdout)
    by_id = {c["id"]: c for c in report["checks"]}
    # pip facts were left out: the checks that need them skip, they do not pass.
    assert by_id["pip.wheel_tags"]["status"] == "skip"
    assert "left out of the Markdown report to fit" in by_id["pip.wheel_tags"]["skip_reason"]
    live = {c["id"]: c["status"] for c in live_report["checks"]}
    assert by_id["platform.os"]["status"] == live["platform.os"]


def test_text_output_stays_readable_on_a_terminal(live_report):
    """Without -v a check shows at most 8 findings and 12 hint lines, values are cut at
    600 characters, and prose wraps at the terminal's width (100 off a terminal)."""
    from envdoctor.render import text

    hostile = copy.deepcopy(live_report)
    check = hostile["checks"][0]
    check.update(status="fail", summary="word " * 5000)
    check["findings"] = [{"code": "cpu.E001", "level": "error", "message": "m " * 3000,
                          "hint": "\n".join(f"step {i}" for i in range(100)), "fix": None,
                          "details": {}}] * 50
    out = text.render(hostile, stream=None, unicode=False, colour=False)
    lines = out.splitlines()
    assert "42 more finding(s): envdoctor check -v --only" in out
    assert out.count("88 more line(s): envdoctor check -v") == 8
    prose = [ln for ln in lines if not ln.startswith(("      ->", "        "))]
    assert max(len(ln) for ln in prose) <= 100
    assert len(lines) < 400
    verbose = text.render(hostile, stream=None, unicode=False, colour=False, verbose=True)
    assert len(verbose.splitlines()) > 5000  # -v shows everything
