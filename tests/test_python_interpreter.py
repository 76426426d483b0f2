"""python.interpreter: version, bitness, environment kind and framework Python support."""

from __future__ import annotations

import json
import struct
import sys

import pytest
from conftest import facts_fixture, report_with_facts, run_check, run_envdoctor, validate_report

from envdoctor.probes import ProbeContext
from envdoctor.probes.python import probe_python
from envdoctor.result import Status


def py_facts(version="3.11.7", bits=64, environment="virtualenv", **extra) -> dict:
    info = [int(v) for v in version.split(".")]
    facts = {"version": version, "version_info": info, "implementation": "cpython",
             "executable": "/home/u/venv/bin/python", "prefix": "/home/u/venv",
             "bits": bits, "environment": environment, "free_threaded": False,
             "externally_managed": False}
    facts.update(extra)
    return facts


def run(py: dict, dists=None, os_bits=64, system="Linux"):
    facts = facts_fixture(python=py,
                          platform={"system": system, "os_bits": os_bits, "machine": "x86_64"},
                          packages={"distributions": dists or {}})
    return run_check("python.interpreter", facts)


def test_real_interpreter_passes_and_reports_itself():
    facts = probe_python(ProbeContext())
    assert facts["version_info"] == list(sys.version_info[:3])
    assert facts["bits"] == struct.calcsize("P") * 8
    result = run(facts)
    assert result.status in (Status.PASS, Status.WARN)
    assert facts["version"] in result.summary
    assert result.details["environment"] == facts["environment"]


def test_probe_tells_virtualenv_from_system():
    facts = probe_python(ProbeContext(environ={}))
    expected = "virtualenv" if sys.prefix != sys.base_prefix else facts["environment"]
    assert facts["environment"] == expected
    assert facts["executable"] == sys.executable


def test_32_bit_python_on_64_bit_windows_warns_with_the_installer_to_get():
    result = run(py_facts(bits=32), os_bits=64, system="Windows")
    assert result.status is Status.WARN
    [finding] = result.findings
    assert finding.code == "python.W001"
    assert "32-bit Python" in finding.message and "No matching distribution" in finding.message
    assert "64-bit" in finding.hint and "python.org" in finding.hint


def test_32_bit_system_warns_separately():
    result = run(py_facts(bits=32), os_bits=32)
    assert [f.code for f in result.findings] == ["python.W002"]


@pytest.mark.parametrize("python, dists, code", [
    ("3.13.1", {"torch": "2.4.1"}, "python.W003"),        # torch 2.4: 3.8-3.12
    ("3.8.18", {"torch": "2.6.0"}, "python.W003"),        # torch 2.6: 3.9-3.13
    ("3.12.3", {"tensorflow": "2.15.1"}, "python.W003"),  # TF 2.15: 3.9-3.11
    ("3.12.3", {"torch": "2.2.2"}, "python.I001"),        # 3.12 experimental in 2.2
    ("3.11.9", {"torch": "2.4.1", "tensorflow": "2.15.0"}, None),
    ("3.12.3", {"tensorflow-cpu": "2.16.1"}, None),
    ("3.14.0", {"torch": "2.99.0"}, None),                 # release not in the table
])
def test_framework_python_support_from_the_sourced_table(python, dists, code):
    result = run(py_facts(version=python), dists)
    found = [f.code for f in result.findings]
    if code is None:
        assert found == [], result.findings
        assert result.status is Status.PASS
    else:
        assert found == [code]
    verdicts = result.details["framework_support"]
    assert {v["package"] for v in verdicts} <= set(dists)
    assert all(v["source"] for v in verdicts)


@pytest.mark.parametrize("version, release", [
    ("2.4.1", "2.4"), ("2.4.1+cu121", "2.4"), ("2.4.1+CU121.x_1", "2.4"), ("02.04", "2.4"),
    ("2.4.1rc1", "2.4"), ("v2.4.1", "2.4"), ("2.4.1.post1+cpu", "2.4"), ("1!2.4.1", "2.4"),
    ("2.4.1+", None), ("2.4.1-garbage", None), ("\u0662.\u0664", None),
])
def test_every_spelling_of_a_release_finds_the_same_row(version, release):
    result = run(py_facts(version="3.13.1"), {"torch": version})
    [verdict] = result.details["framework_support"]
    assert verdict["release"] == release
    assert verdict["status"] == ("unsupported" if release else "unknown")


def test_unsupported_message_names_both_versions_and_a_way_out():
    result = run(py_facts(version="3.13.1"), {"torch": "2.4.1"})
    [finding] = result.findings
    assert "PyTorch 2.4.1 supports Python 3.8-3.12" in finding.message
    assert "Python 3.13" in finding.message
    assert "pip install -U torch" in finding.hint and "python3.12 -m venv" in finding.hint


def test_free_threaded_python_with_a_release_listing_it_is_experimental():
    ft = py_facts(version="3.13.1", free_threaded=True)
    assert [f.code for f in run(ft, {"torch": "2.6.0"}).findings] == ["python.I001"]
    assert [f.code for f in run(ft, {"torch": "2.5.1"}).findings] == ["python.W003"]


def test_externally_managed_system_python_gets_the_venv_commands():
    result = run(py_facts(environment="system", externally_managed=True))
    [finding] = result.findings
    assert finding.code == "python.I002" and result.status is Status.PASS
    assert "python3 -m venv" in finding.hint
    assert run(py_facts(environment="virtualenv", externally_managed=True)).findings == []


def test_every_support_row_has_a_valid_range_and_the_framework_a_source():
    from envdoctor.checks.python_interpreter import support_table

    for fw in support_table():
        assert fw["source"].strip() and fw["packages"]
        for row in fw["rows"]:
            low, high = (tuple(int(x) for x in v.split(".")) for v in row["python"])
            assert low <= high, row


def test_check_from_saved_report(tmp_path):
    facts = facts_fixture(python=py_facts(bits=32),
                          platform={"system": "Windows", "os_bits": 64},
                          packages={"distributions": {}})
    saved = tmp_path / "r.json"
    saved.write_text(json.dumps(report_with_facts(facts)), encoding="utf-8")
    proc = run_envdoctor("check", "--from", str(saved), "--only", "python.interpreter",
                         "--json")
    report = json.loads(proc.stdout)
    validate_report(report)
    [check] = report["checks"]
    assert check["status"] == "warn" and check["findings"][0]["code"] == "python.W001"
    assert proc.returncode == 0
    assert run_envdoctor("check", "--from", str(saved), "--only", "python.interpreter",
                         "--fail-on", "warn").returncode == 1
