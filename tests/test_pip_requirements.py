"""pip.requirements: planted requirement conflicts, and agreement with the real `pip check`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import facts_fixture, run_check, run_envdoctor, validate_report
from test_pip_wheel_tags import pip_facts, plant_dist

from envdoctor.distributions import normalize

PIP_MISSING = re.compile(r"^(\S+) (\S+) requires (\S+), which is not installed\.$")
PIP_CONFLICT = re.compile(r"^(\S+) (\S+) has requirement (.+), but you have (\S+) (\S+)\.$")


def plant_conflicts(site: Path) -> None:
    plant_dist(site, "alpha", "1.0", requires=[
        "beta>=2.0",                                   # beta 1.5 installed: conflict
        "gamma-missing",                               # not installed: missing
        "delta[fast]>=1; python_version >= '3'",       # marker true, satisfied
        "epsilon-missing; python_version < '3'",       # marker false: ignored
        "zeta-missing; extra == 'docs'",               # extras are not checked
    ])
    plant_dist(site, "beta", "1.5")
    plant_dist(site, "Delta", "1.2", requires=["beta<3"])
    plant_dist(site, "omega", "0.1", requires=["Beta_Pkg_Missing==1.*", "beta>=1.8"])


def _problems(result) -> set[tuple[str, str, str]]:
    out = set()
    for finding in result.findings:
        kind = {"pip.E201": "missing", "pip.W201": "conflict"}.get(finding.code)
        if kind:
            for req in finding.details["required_by"]:
                out.add((kind, normalize(req["name"]), finding.details["name"]))
    return out


def test_missing_and_conflicting_with_exact_commands(tmp_path):
    site = tmp_path / "site"
    plant_conflicts(site)
    result = run_check("pip.requirements", facts_fixture(pip=pip_facts(site)))
    assert result.status.value == "fail"
    assert _problems(result) == {
        ("conflict", "alpha", "beta"), ("conflict", "omega", "beta"),
        ("missing", "alpha", "gamma-missing"), ("missing", "omega", "beta-pkg-missing")}
    by_name = {f.details["name"]: f for f in result.findings}
    beta = by_name["beta"]
    assert beta.level.label == "warning" and "beta 1.5 is installed" in beta.message
    # One command satisfying every installed package that requires beta.
    assert beta.hint.endswith('-m pip install "beta>=1.8,>=2.0"')
    assert beta.hint.split(" -m pip")[0].strip('"') == sys.executable  # this interpreter
    gamma = by_name["gamma-missing"]
    assert gamma.level.label == "error"
    assert gamma.hint.endswith('-m pip install "gamma-missing"')
    assert by_name["beta-pkg-missing"].hint.endswith('pip install "Beta_Pkg_Missing==1.*"')


def test_markers_use_the_recorded_environment(tmp_path):
    """--from on a Windows report: a win32-only requirement counts there, not here."""
    site = tmp_path / "site"
    plant_dist(site, "app", "1.0", requires=["pywin32-missing; sys_platform == 'win32'",
                                             "uvloop-missing; sys_platform != 'win32'"])
    facts = pip_facts(site)
    facts["marker_environment"].update(sys_platform="win32", os_name="nt",
                                       platform_system="Windows")
    result = run_check("pip.requirements", facts_fixture(pip=facts))
    assert [f.details["name"] for f in result.findings] == ["pywin32-missing"]


def test_unparsable_requirement_is_a_warning_not_a_crash(tmp_path):
    site = tmp_path / "site"
    plant_dist(site, "weird", "1.0", requires=["this is not (a requirement"])
    result = run_check("pip.requirements", facts_fixture(pip=pip_facts(site)))
    assert result.status.value == "warn"
    assert result.findings[0].code == "pip.W202"


def test_all_met_passes(tmp_path):
    site = tmp_path / "site"
    plant_dist(site, "a", "1.0", requires=["b>=1"])
    plant_dist(site, "b", "1.0")
    result = run_check("pip.requirements", facts_fixture(pip=pip_facts(site)))
    assert result.status.value == "pass" and not result.findings


def _pip_check(python: list[str], env: dict) -> set[tuple[str, str, str]]:
    done = subprocess.run([*python, "check"], capture_output=True, text=True, env=env,
                          timeout=120)
    found = set()
    for line in done.stdout.splitlines():
        line = line.strip()
        missing = PIP_MISSING.match(line)
        conflict = PIP_CONFLICT.match(line)
        if missing:
            found.add(("missing", normalize(missing.group(1)), normalize(missing.group(3))))
        elif conflict:
            found.add(("conflict", normalize(conflict.group(1)),
                       normalize(conflict.group(4))))
    return found


def test_agrees_with_pip_check_in_a_real_venv(tmp_path):
    """A real virtual environment with planted conflicts: pip check and envdoctor agree."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = subprocess.run([str(python), "-c", "import sysconfig; "
                           "print(sysconfig.get_paths()['purelib'])"], capture_output=True,
                          text=True, check=True, timeout=60).stdout.strip()
    plant_conflicts(Path(site))
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    try:
        expected = _pip_check([sys.executable, "-m", "pip", "--python", str(python)], env)
    except subprocess.TimeoutExpired:  # pragma: no cover
        pytest.skip("pip --python did not answer")
    assert expected, "pip check found nothing: the planted conflicts did not register"
    result = run_check("pip.requirements", facts_fixture(pip=pip_facts(Path(site))))
    assert _problems(result) == expected


def test_agrees_with_pip_check_through_the_cli(tmp_path):
    """The same planted site on PYTHONPATH: `envdoctor check` and `pip check` agree."""
    site = tmp_path / "site"
    plant_conflicts(site)
    env = {**os.environ, "PYTHONPATH": str(site), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    expected = _pip_check([sys.executable, "-m", "pip"], env)
    assert ("missing", "alpha", "gamma-missing") in expected
    done = run_envdoctor("check", "--json", "--only", "pip.requirements",
                         env={"PYTHONPATH": str(site)})
    report = json.loads(done.stdout)
    validate_report(report)
    found = set()
    for finding in report["checks"][0]["findings"]:
        kind = {"pip.E201": "missing", "pip.W201": "conflict"}.get(finding["code"])
        for req in finding["details"].get("required_by", []) if kind else []:
            found.add((kind, normalize(req["name"]), finding["details"]["name"]))
    assert found == expected
    assert done.returncode == 1


def test_names_are_spelled_as_pip_spells_them(tmp_path):
    """The dist-info folder says opencv_python_headless; pip check and envdoctor say
    opencv-python-headless (the metadata's Name)."""
    site = tmp_path / "site"
    plant_dist(site, "opencv-python-headless", "4.12.0.88",
               requires=['numpy<2.3.0,>=2; python_version >= "3.9"'])
    plant_dist(site, "numpy", "2.3.1")
    result = run_check("pip.requirements", facts_fixture(pip=pip_facts(site)))
    assert result.findings[0].message.startswith(
        "opencv-python-headless 4.12.0.88 requires numpy<2.3.0,>=2, but numpy 2.3.1 is "
        "installed")


def test_a_jaxlib_pin_that_breaks_import_jax_is_the_primary_cause(tmp_path):
    """jax 0.10.2 with jaxlib 0.9.2: the report must start at the pin, not at the failed
    import (framework.E028), which is its symptom."""
    from envdoctor import registry, report, runner

    site = tmp_path / "site"
    plant_dist(site, "jax", "0.10.2", requires=["jaxlib<=0.10.2,>=0.10.2"])
    plant_dist(site, "jaxlib", "0.9.2")
    error = ("RuntimeError: jaxlib version 0.9.2 is installed but jax 0.10.2 requires "
             "jaxlib >= 0.10.2.")
    facts = facts_fixture(
        pip=pip_facts(site),
        frameworks={"installed": {"jax": {"version": "0.10.2", "distribution": "jax",
                                          "jaxlib": "0.9.2", "build": "cpu"}},
                    "live": {"jax": {"status": "error", "error": error, "stage": "import"}}},
        nvidia={"present": False, "gpus": [], "errors": []}, platform={"system": "Linux"},
        env={"variables": {}})
    pin = run_check("pip.requirements", facts)
    assert [f.code for f in pin.findings] == ["pip.E202"]
    assert "`import jax` fails" in pin.findings[0].message
    assert pin.findings[0].hint.endswith('pip install "jaxlib<=0.10.2,>=0.10.2"')
    results = [runner.run_check(registry.get(i), facts)
               for i in ("pip.requirements", "framework.gpu_visible")]
    assert results[1].findings[0].code == "framework.E028"
    primary = report.primary_cause(results)
    assert (primary["check"], primary["code"]) == ("pip.requirements", "pip.E202")
    assert {"check": "framework.gpu_visible", "code": "framework.E028"} in primary["secondary"]


@pytest.mark.heavy
def test_real_jax_with_an_older_jaxlib_starts_at_the_pin(heavy_site):
    """The issue's case with the real wheels: jax 0.10.2 next to jaxlib 0.9.2."""
    site = heavy_site("jax-mismatch", "jax==0.10.2", deps=True, then=("jaxlib==0.9.2",))
    proc = run_envdoctor("check", "--json", "--only", "pip.requirements,framework",
                         env={"PYTHONPATH": str(site), "ENVDOCTOR_FRAMEWORK_TIMEOUT": "60"},
                         timeout=300)
    report = json.loads(proc.stdout)
    validate_report(report)
    live = report["facts"]["frameworks"]["live"]["jax"]
    assert live["status"] == "error" and "jaxlib" in live["error"], live
    primary = report["summary"]["primary_cause"]
    assert (primary["check"], primary["code"]) == ("pip.requirements", "pip.E202"), primary
    assert "jaxlib" in primary["message"]
