"""The same environment examined from inside and from outside gives the same facts.

A real Python 3.11 virtual environment with real packages from the index (numpy,
opencv-python-headless, the CPU build of torch 2.13.0) and envdoctor installed in it;
the envdoctor of this test run, installed elsewhere, examines it with --python. Slow:
it installs a few hundred MB once per module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_envdoctor, validate_report

# heavy: runs in .ci/run's heavy suite (ENVDOCTOR_HEAVY=1), not in the quick one.
pytestmark = [pytest.mark.slow, pytest.mark.heavy]

PYTHON_SIDE = ("python", "packages", "pip", "python_env", "frameworks", "opencv", "cuda")
VOLATILE = ("duration_ms", "import_ms", "duration_s")


def _python311() -> str:
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    from test_target import pyenv_python

    return pyenv_python("3.11")


@pytest.fixture(scope="module")
def patient(tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("patient") / "venv"
    subprocess.run([_python311(), "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
           "--disable-pip-version-check"]
    got = subprocess.run([*pip, "numpy", "opencv-python-headless", "torch==2.13.0"],
                         capture_output=True, text=True, timeout=1800)
    if got.returncode != 0:
        pytest.skip(f"cannot install numpy/opencv/torch here: {got.stderr[-300:]}")
    subprocess.run([*pip, str(REPO)], check=True, timeout=900, capture_output=True)
    return venv


def _stable(value):
    """Facts without the timings that differ between any two runs."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def _differences(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            out += _differences(a.get(key), b.get(key), f"{path}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b))
                for d in _differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: inside {a!r:.120} / outside {b!r:.120}"]


def test_facts_inside_and_outside_are_the_same_key_by_key(patient, tmp_path):
    console = patient / "bin" / "envdoctor"
    # The interpreter the installed console script runs: the exact path both must report.
    python = console.read_text(encoding="utf-8").splitlines()[0][2:].strip()
    env = dict(os.environ, ENVDOCTOR_CACHE_DIR=str(tmp_path / "cache"))
    inside = subprocess.run([str(console), "check", "--json", "--no-redact"],
                            capture_output=True, text=True, timeout=600, env=env,
                            cwd=str(tmp_path))
    outside = run_envdoctor("check", "--json", "--no-redact", "--python", python,
                            timeout=600, cwd=str(tmp_path))
    a, b = json.loads(inside.stdout), json.loads(outside.stdout)
    validate_report(a)
    validate_report(b)
    assert a["source"]["python"]["in_process"] is True
    assert a["source"]["python"]["how"] == "envdoctor is installed in this Python"
    assert b["source"]["python"] == {"executable": python, "how": "--python",
                                     "in_process": False}
    differences = []
    for key in PYTHON_SIDE:
        differences += _differences(_stable(a["facts"][key]), _stable(b["facts"][key]), key)
    assert differences == []
    # And those facts are about the patient, not about the envdoctor that examined it.
    facts = b["facts"]
    assert facts["packages"]["distributions"]["torch"].startswith("2.13.0")
    assert "pytest" not in facts["packages"]["distributions"]
    live = facts["frameworks"]["live"]["torch"]
    assert live["status"] == "ok" and live["cuda_available"] is False
    assert facts["opencv"]["import"]["ok"] is True
    assert facts["opencv"]["import"]["numpy"] == facts["packages"]["distributions"]["numpy"]
    assert facts["python"]["prefix"] == str(patient)


def test_a_venv_of_envdoctor_alone_examines_the_active_environment(patient, tmp_path):
    """The README's install: a venv that holds only envdoctor (and its requirements) is
    a tool environment; it examines $VIRTUAL_ENV from outside, not itself."""
    tool = tmp_path / "tool"
    subprocess.run([_python311(), "-m", "venv", str(tool)], check=True, timeout=300)
    subprocess.run([str(tool / "bin" / "python"), "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", str(REPO)], check=True, timeout=900,
                   capture_output=True)
    env = dict(os.environ, VIRTUAL_ENV=str(patient))
    env.pop("CONDA_PREFIX", None)
    proc = subprocess.run([str(tool / "bin" / "envdoctor"), "check", "--json",
                           "--no-redact", "--only", "python"],
                          capture_output=True, text=True, timeout=600, env=env)
    report = json.loads(proc.stdout)
    assert report["source"]["python"]["how"] == "the active virtual environment ($VIRTUAL_ENV)"
    assert report["source"]["python"]["in_process"] is False
    assert report["facts"]["python"]["prefix"] == str(patient)
    # Without an active environment: the python3 on PATH, never envdoctor's own venv.
    env.pop("VIRTUAL_ENV")
    proc = subprocess.run([str(tool / "bin" / "envdoctor"), "check", "--json",
                           "--no-redact", "--only", "python"],
                          capture_output=True, text=True, timeout=600, env=env)
    report = json.loads(proc.stdout)
    assert report["source"]["python"]["how"] in ("`python3` on PATH", "`python` on PATH")
    assert report["facts"]["python"]["prefix"] != str(tool)
