"""framework.companions (torchvision & co. built for the installed torch) and pip.numpy_abi
(NumPy 1 builds under NumPy 2), from the live torch child on fake and real packages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import facts_fixture, run_check, run_envdoctor, validate_report
from fake_frameworks import fake_torch

# The real failure: torch 2.13.0+cpu with the torchvision PyPI serves (0.28.0+cu130).
NMS = "operator torchvision::nms does not exist"


def fake_torchvision(site: Path, version: str = "0.28.0", build: str = "cu130",
                     error: str = NMS) -> None:
    pkg = site / "torchvision"
    pkg.mkdir(parents=True, exist_ok=True)
    # version.py as the real wheel writes it (torchvision 0.28.0 from PyPI)
    (pkg / "version.py").write_text(f"__version__ = '{version}+{build}'\n"
                                    "git_version = '8fb87713'\n", encoding="utf-8")
    body = f"raise RuntimeError({error!r})\n" if error else f"__version__ = '{version}'\n"
    (pkg / "__init__.py").write_text("import torch\n" + body, encoding="utf-8")
    info = site / f"torchvision-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: torchvision\nVersion: "
                                   f"{version}\nRequires-Dist: torch (==2.13.0)\n\n",
                                   encoding="utf-8")


def check(site: Path, only: str) -> tuple[dict, dict]:
    proc = run_envdoctor("check", "--json", "--only", only,
                         env={"PYTHONPATH": str(site), "ENVDOCTOR_FRAMEWORK_TIMEOUT": "30"})
    report = json.loads(proc.stdout)
    validate_report(report)
    return report, {c["id"]: c for c in report["checks"]}[only]


def test_cuda_torchvision_next_to_a_cpu_torch_is_named_with_the_matching_install(tmp_path):
    fake_torch(tmp_path, version="2.13.0+cpu", cuda=None)
    fake_torchvision(tmp_path)
    report, result = check(tmp_path, "framework.companions")
    assert result["status"] == "fail"
    finding = result["findings"][0]
    assert finding["code"] == "framework.E042"
    assert NMS in finding["message"]
    assert "CUDA 13.0 build" in finding["message"] and "CPU build" in finding["message"]
    assert finding["hint"].endswith("install torch==2.13.0 torchvision==0.28.* "
                                    "--index-url https://download.pytorch.org/whl/cpu")
    live = report["facts"]["frameworks"]["live"]["torch"]["companions"]["torchvision"]
    assert live["status"] == "error" and NMS in live["error"]
    assert report["summary"]["exit_code"] == 1


def test_a_matching_companion_passes_and_a_release_for_another_torch_fails(tmp_path):
    fake_torch(tmp_path / "a", version="2.13.0+cpu", cuda=None)
    fake_torchvision(tmp_path / "a", build="cpu", error="")
    assert check(tmp_path / "a", "framework.companions")[1]["status"] == "pass"
    fake_torch(tmp_path / "b", version="2.13.0+cpu", cuda=None)
    fake_torchvision(tmp_path / "b", version="0.27.0", build="cpu", error="")
    result = check(tmp_path / "b", "framework.companions")[1]
    assert [f["code"] for f in result["findings"]] == ["framework.E041"]
    assert "torch 2.13 goes with torchvision 0.28" in result["findings"][0]["message"]


def test_every_companion_row_names_its_source():
    from envdoctor.data import load

    rows = load("torch_companions.json")["releases"]
    assert {r["torch"] for r in rows} >= {"1.0", "1.13", "2.0", "2.13"}
    assert all(r.get("source") for r in rows)
    assert next(r for r in rows if r["torch"] == "2.13")["torchvision"] == "0.28"


# -- NumPy 2 -------------------------------------------------------------------------------

def numpy_facts(numpy: str, torch: str, from_numpy=None, stderr=()) -> dict:
    live = {"status": "ok", "stderr_findings": list(stderr)}
    if from_numpy is not None:
        live["numpy"] = {"installed": True, "version": numpy, "from_numpy": from_numpy}
    return facts_fixture(
        packages={"distributions": {"numpy": numpy, "torch": torch, "scipy": "1.15.0"},
                  "count": 3, "shadowed": [], "incomplete": []},
        frameworks={"installed": {"torch": {"version": torch}}, "live": {"torch": live}},
        python={"executable": "/opt/py/bin/python3"})


def test_old_torch_under_numpy2_fails_with_what_the_child_saw():
    facts = numpy_facts("2.2.6", "1.13.1", "RuntimeError: Numpy is not available", stderr=[
        "A module that was compiled using NumPy 1.x cannot be run in"])
    result = run_check("pip.numpy_abi", facts)
    assert result.status.value == "fail"
    finding = result.findings[0]
    assert finding.code == "pip.E501" and "torch 1.13.1" in finding.message
    assert '"torch>=2.3.0"' in finding.hint and '"numpy<2"' in finding.hint


def test_old_build_not_seen_failing_only_warns_and_numpy1_passes():
    warn = run_check("pip.numpy_abi", numpy_facts("2.2.6", "2.1.0", "ok"))
    assert [f.code for f in warn.findings] == ["pip.W501"]
    assert run_check("pip.numpy_abi", numpy_facts("1.26.4", "1.13.1", "ok")).status.value \
        == "pass"


def test_the_real_cpu_torch_converts_an_array_in_its_child():
    from envdoctor import distributions
    from envdoctor.probes import ProbeContext
    from envdoctor.probes import frameworks as fp

    pytest.importorskip("numpy")
    if not any(d.key == "torch" for d in distributions.scan()):
        pytest.skip("torch is not installed")
    lv = fp.run_children(["torch"], ProbeContext(timeout=60.0, environ=dict(os.environ)))
    assert lv["torch"]["numpy"]["from_numpy"] == "ok"


@pytest.mark.heavy
def test_real_torchvision_from_pypi_next_to_the_cpu_torch(heavy_site):
    site = heavy_site("torchvision-pypi", "torchvision==0.28.0")
    _, result = check(site, "framework.companions")
    finding = result["findings"][0]
    assert finding["code"] == "framework.E042"
    assert NMS in finding["message"], finding
    assert "--index-url https://download.pytorch.org/whl/cpu" in finding["hint"]
