"""`envdoctor wheel` through the real CLI."""

from __future__ import annotations

import json
import sys

from conftest import facts_fixture, report_with_facts, run_envdoctor

from envdoctor.wheeltags import Target


def _foreign_os_wheel() -> str:
    # A wheel for an operating system this machine is not.
    if sys.platform.startswith("win"):
        return "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl"
    return "numpy-1.26.4-cp311-cp311-win_amd64.whl"


def test_text_says_why_and_what_fits(tmp_path):
    wheel = tmp_path / _foreign_os_wheel()
    wheel.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # a real (empty) file works too
    done = run_envdoctor("wheel", str(wheel))
    assert done.returncode == 1, done.stderr
    assert "cannot install on this Python" in done.stdout
    assert "platform" in done.stdout and "look for a cp" in done.stdout
    assert "Traceback" not in done.stderr


def test_json_for_a_fitting_and_an_invalid_name():
    done = run_envdoctor("wheel", "--json", "six-1.16.0-py2.py3-none-any.whl")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["installable"] is True and data["matching_tag"].endswith("-none-any")
    bad = run_envdoctor("wheel", "--json", "six-1.16.0.whl")
    assert bad.returncode == 2
    assert "not a valid wheel file name" in json.loads(bad.stdout)["error"]
    plain = run_envdoctor("wheel", "not-a-wheel.zip")
    assert plain.returncode == 2
    assert plain.stderr.startswith("envdoctor: error:") and "Traceback" not in plain.stderr


def test_from_report_judges_for_the_other_machine(tmp_path):
    """A saved report from a 32-bit Python on 64-bit Windows explains win_amd64 there."""
    windows32 = Target((3, 11), system="windows", machine="win32", bits=32,
                       os_machine="AMD64", libc=None, libc_version=None)
    report = report_with_facts(facts_fixture(pip={
        "interpreter": windows32.to_dict(), "marker_environment": {}, "sites": [],
        "distributions": []}))
    saved = tmp_path / "report.json"
    saved.write_text(json.dumps(report), encoding="utf-8")
    done = run_envdoctor("wheel", "--json", "--from", str(saved),
                         "numpy-1.26.4-cp311-cp311-win_amd64.whl")
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert [r["code"] for r in data["reasons"]] == ["32bit-python-64bit-os"]
    assert data["suggestion"]["tag"] == "cp311-cp311-win32"
    empty = tmp_path / "old.json"
    empty.write_text(json.dumps(report_with_facts(facts_fixture())), encoding="utf-8")
    old = run_envdoctor("wheel", "--from", str(empty), "x-1.0-py3-none-any.whl")
    assert old.returncode == 2 and "no 'pip' facts" in old.stderr
    edited = report_with_facts(facts_fixture())
    edited["facts"]["pip"] = "removed by hand"
    empty.write_text(json.dumps(edited), encoding="utf-8")
    odd = run_envdoctor("wheel", "--from", str(empty), "x-1.0-py3-none-any.whl")
    assert odd.returncode == 2 and "no 'pip' facts" in odd.stderr, odd.stderr


def test_odd_arguments_never_traceback():
    done = run_envdoctor("wheel", "--json", "", "ünïcødé-1.0-py3-none-any.whl",
                         "C:\\Users\\me\\Downloads\\torch-2.3.0-cp311-cp311-win_amd64.whl",
                         "a-b-c-d-e-f-g.whl")
    assert "Traceback" not in done.stderr
    assert done.returncode == 2  # at least one is not a wheel name
    results = json.loads(done.stdout)
    assert len(results) == 4
    assert results[0]["error"] and results[3]["error"]
    assert results[2]["name"] == "torch"  # a Windows path works on any system
