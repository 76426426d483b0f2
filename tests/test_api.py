"""The Python API (docs/api.md): envdoctor.diagnose() and explain_import_failure().

What an embedding library relies on: the names and signatures stay, the report is the
same one `envdoctor check --json` prints, bad arguments raise ValueError/TypeError and
machine problems never raise, and `import envdoctor` stays cheap.
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import json
import os
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO, run_envdoctor, validate_report
from fake_frameworks import fake_torch

import envdoctor
from envdoctor.api import import_failure

PUBLIC = {"diagnose", "Report", "CheckVerdict", "ReportFinding", "explain_import_failure",
          "import_failure_report", "__version__"}


def test_the_public_names_and_signatures_are_stable():
    assert set(envdoctor.__all__) == PUBLIC
    params = inspect.signature(envdoctor.diagnose).parameters
    assert list(params)[:1] == ["only"]
    for name in ("skip", "frameworks", "timeout", "fail_on", "redact", "from_report"):
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, name
    assert params["frameworks"].default is True and params["redact"].default is True
    report_api = {n for n in dir(envdoctor.Report) if not n.startswith("_")} | {
        f.name for f in dataclasses.fields(envdoctor.Report)}
    assert report_api >= {"data", "exit_code", "ok", "checks", "findings", "problems", "facts",
                          "primary_cause", "check", "codes", "render", "to_json"}


def test_import_envdoctor_loads_no_api_and_no_heavy_module():
    code = ("import sys, envdoctor; print(sorted(m for m in sys.modules if m.startswith("
            "('envdoctor.api', 'envdoctor.doctor', 'json', 'packaging', 'typer', 'subprocess'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(REPO / "tests"), check=True).stdout
    assert out.strip() == "[]"


def test_diagnose_returns_the_report_check_json_prints():
    report = envdoctor.diagnose(only="env,cpu", frameworks=False)
    validate_report(report.data)
    cli = json.loads(run_envdoctor("check", "--json", "--only", "env,cpu").stdout)
    assert [c.id for c in report.checks] == [c["id"] for c in cli["checks"]]
    assert [c.status for c in report.checks] == [c["status"] for c in cli["checks"]]
    assert report.exit_code == cli["summary"]["exit_code"]
    assert report.check("cpu.avx") is not None and report.check("gpu.driver") is None
    assert json.loads(report.render("json")) == json.loads(report.to_json()) == report.data
    assert "env.cuda_visible_devices" in report.render("text")
    assert report.render("markdown").lstrip().startswith(("#", "<", "|", "**", "envdoctor"))


def test_diagnose_sees_what_the_cli_sees_for_a_bad_cuda_visible_devices(tmp_path):
    saved = {"schema_version": 1, "facts": json.loads(run_envdoctor(
        "check", "--json", "--no-frameworks").stdout)["facts"]}
    saved["facts"]["env"]["variables"]["CUDA_VISIBLE_DEVICES"] = "-1"
    report = envdoctor.diagnose(only=["env.cuda_visible_devices"], from_report=saved)
    assert report.data["source"]["kind"] == "from"
    assert report.codes() == ["env.I002"] and report.ok
    assert report.findings[0].check == "env.cuda_visible_devices"
    assert report.findings[0].level == "info" and report.problems == ()


@pytest.mark.parametrize("kwargs, error", [
    ({"only": "no_such_area"}, ValueError), ({"only": ["gpu", 3]}, TypeError),
    ({"fail_on": "error"}, ValueError), ({"timeout": 0}, ValueError),
    ({"timeout": "10"}, ValueError), ({"from_report": {"facts": "x"}}, ValueError),
    ({"from_report": {"facts": {"schema_version": 99}}}, ValueError),
])
def test_bad_arguments_raise_a_clear_error(kwargs, error):
    with pytest.raises(error) as info:
        envdoctor.diagnose(**kwargs)
    assert "Traceback" not in str(info.value) and str(info.value)


def test_fail_on_warn_and_redaction_follow_the_cli():
    strict = envdoctor.diagnose(only="env", fail_on="warn")
    assert strict.data["summary"]["fail_on"] == "warn"
    home = os.path.expanduser("~")
    if len(home) > 1:
        assert home not in envdoctor.diagnose(only="python").to_json()


def test_report_views_survive_a_hand_edited_document():
    report = envdoctor.Report({"checks": [{"id": 3, "status": "weird", "findings": [None, {}]},
                                          "x"], "summary": {"exit_code": True}})
    assert report.exit_code == 3 and not report.ok
    assert report.checks[0].status == "error" and report.checks[0].id == "?"
    assert report.findings[0].code == "?" and report.facts == {}
    with pytest.raises(ValueError):
        report.render("html")


# -- explain_import_failure -------------------------------------------------------------------

BROKEN_TORCH = ("libcudart.so.12: cannot open shared object file: No such file or directory")


def _broken_torch_site(tmp_path):
    site = tmp_path / "site"
    fake_torch(site, version="2.6.0+cu126", cuda="12.6", behaviour="raise", error=BROKEN_TORCH)
    return site


def test_a_failed_import_prints_the_verdict_for_that_package_and_reraises(tmp_path):
    """A user's script: `import torch` fails (a fake torch whose import raises, in a site
    dir the probe's child sees too); the verdict names torch's own failure and the
    original exception comes out unchanged."""
    site = _broken_torch_site(tmp_path)
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(site)!r})
        import envdoctor
        with envdoctor.explain_import_failure("torch"):
            import torch
    """)
    env = dict(os.environ, PYTHONPATH=f"{site}{os.pathsep}{REPO}")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=120, cwd=str(tmp_path))
    assert proc.returncode == 1
    err = proc.stderr
    assert "envdoctor: `import torch` failed (ImportError: libcudart.so.12" in err
    assert "framework.E028" in err and "`import torch` fails" in err
    assert "-m envdoctor check --format markdown" in err
    # The original traceback follows, unchanged.
    assert err.rstrip().endswith(f"ImportError: {BROKEN_TORCH}")


def test_findings_about_other_packages_are_left_out():
    report = envdoctor.Report({"checks": [
        {"id": "framework.gpu_visible", "status": "fail", "summary": "s", "findings": [
            {"code": "framework.E028", "level": "error",
             "message": "`import tensorflow` fails: DLL load failed"},
            {"code": "framework.E028", "level": "error",
             "message": "`import torch` fails: libcudart.so.12"}]},
        {"id": "gpu.driver", "status": "fail", "summary": "driver", "findings": [
            {"code": "gpu.E002", "level": "error", "message": "module not loaded"}]},
        {"id": "pip.opencv", "status": "warn", "summary": "cv2", "findings": [
            {"code": "pip.W001", "level": "warning", "message": "opencv-python twice"}]},
        {"id": "cpu.avx", "status": "pass", "summary": "fine", "findings": []}]})
    chosen = {c.id: [f.message for f in fs]
              for c, fs in import_failure.relevant(report, "torch")}
    assert chosen == {"framework.gpu_visible": ["`import torch` fails: libcudart.so.12"],
                      "gpu.driver": ["module not loaded"]}
    assert "pip.opencv" in {c.id for c, _ in import_failure.relevant(report, "cv2")}


def test_other_exceptions_and_clean_imports_pass_through_silently():
    out = io.StringIO()
    with envdoctor.explain_import_failure("json", stream=out):
        import json as _json  # noqa: F401
    with pytest.raises(KeyError), envdoctor.explain_import_failure("torch", stream=out):
        raise KeyError("not an import problem")
    assert out.getvalue() == ""


def test_a_diagnosis_that_breaks_never_masks_the_original_error(monkeypatch):
    def broken(*_a, **_k):
        raise RuntimeError("probe machinery exploded")

    monkeypatch.setattr(import_failure, "import_failure_report", broken)
    out = io.StringIO()
    with pytest.raises(ImportError, match="the real problem"), \
            envdoctor.explain_import_failure("torch", stream=out):
        raise ImportError("the real problem")
    assert "could not diagnose `import torch` (RuntimeError: probe machinery exploded)" \
        in out.getvalue()


def test_hostile_error_text_cannot_drive_the_terminal(monkeypatch):
    report = envdoctor.Report({"checks": []})
    text = import_failure.verdict_text("torch", ImportError("bad\x1b[2J\x1b]52;c;AAAA\x07"),
                                       report)
    assert "\x1b" not in text and "\x07" not in text and "\\x1b" in text


@pytest.mark.torch
def test_diagnose_and_the_import_helper_with_the_real_cpu_torch():
    """The real CPU torch (CI: torch==2.13.0): the report names its build, and the
    import-failure diagnosis runs the framework checks on it."""
    import importlib.metadata

    try:  # never import torch here: other tests check envdoctor keeps it out of sys.modules
        version = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    report = envdoctor.diagnose(only="framework")
    installed = report.facts["frameworks"]["installed"]["torch"]
    assert installed["version"] == version and installed["build"] == "cpu"
    assert report.facts["frameworks"]["live"]["torch"]["status"] == "ok"
    assert report.check("framework.cuda_build") is not None
    behind = envdoctor.import_failure_report("torch", frameworks=False)
    assert {"framework.cuda_build", "gpu.driver", "cpu.avx"} <= {c.id for c in behind.checks}
    text = import_failure.verdict_text("torch", ImportError("boom"), behind)
    assert text.startswith("envdoctor: `import torch` failed (ImportError: boom)")
