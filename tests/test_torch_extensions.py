"""framework.extensions: extensions compiled against another torch, on fake packages that
fail with the real texts (rusty1s/pytorch_scatter#476; xformers' own warning)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import run_envdoctor, validate_report
from fake_frameworks import fake_torch

# rusty1s/pytorch_scatter#476 (torch 2.5.1, a torch-scatter built for another torch)
SCATTER_ERROR = ("{site}/torch_scatter/_version_cuda.so: undefined symbol: "
                 "_ZN3c1017RegisterOperatorsD1Ev")


def fake_extension(site: Path, dist: str, module: str, version: str, body: str,
                   requires: str = "") -> None:
    pkg = site / module
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("import torch\n" + body, encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    meta = f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
    if requires:
        meta += f"Requires-Dist: {requires}\n"
    (info / "METADATA").write_text(meta + "\n", encoding="utf-8")


def extensions(site: Path) -> tuple[dict, dict]:
    proc = run_envdoctor("check", "--json", "--only", "framework.extensions",
                         env={"PYTHONPATH": str(site), "ENVDOCTOR_FRAMEWORK_TIMEOUT": "30"})
    report = json.loads(proc.stdout)
    validate_report(report)
    return report, {c["id"]: c for c in report["checks"]}["framework.extensions"]


def test_undefined_c10_symbol_reads_as_built_for_another_torch(tmp_path):
    fake_torch(tmp_path, version="2.5.1+cu124", cuda="12.4")
    error = SCATTER_ERROR.format(site=tmp_path)
    fake_extension(tmp_path, "torch-scatter", "torch_scatter", "2.1.2+pt24cu121",
                   f"raise OSError({error!r})\n")
    report, result = extensions(tmp_path)
    finding = result["findings"][0]
    assert finding["code"] == "framework.E050"
    assert "_ZN3c1017RegisterOperatorsD1Ev is a symbol of torch's C++ libraries" in \
        finding["message"]
    assert "built for another torch" in finding["message"]
    assert "wheel for torch 2.4 and cu121" in finding["message"]
    assert finding["hint"].endswith("install --force-reinstall torch-scatter -f "
                                    "https://data.pyg.org/whl/torch-2.5.1+cu124.html")
    assert report["facts"]["frameworks"]["installed"]["torch"]["extensions"][
        "torch-scatter"]["build"] == "pt24cu121"


def test_a_pyg_wheel_for_another_torch_fails_before_any_import_error(tmp_path):
    fake_torch(tmp_path, version="2.5.1+cu124", cuda="12.4")
    fake_extension(tmp_path, "torch-sparse", "torch_sparse", "0.6.18+pt25cu124",
                   "__version__ = '0.6.18'\n")
    assert extensions(tmp_path)[1]["status"] == "pass"
    fake_torch(tmp_path / "b", version="2.6.0+cu126", cuda="12.6")
    fake_extension(tmp_path / "b", "torch-sparse", "torch_sparse", "0.6.18+pt25cu124",
                   "__version__ = '0.6.18'\n")
    result = extensions(tmp_path / "b")[1]
    assert [f["code"] for f in result["findings"]] == ["framework.E051"]


def test_xformers_built_for_another_torch_warns_with_its_own_words(tmp_path):
    fake_torch(tmp_path, version="2.13.0+cpu", cuda=None)
    # xformers logs this to stderr and imports without its C++/CUDA extensions.
    body = ("import sys\nsys.stderr.write(\"WARNING[XFORMERS]: xFormers can't load C++/CUDA "
            "extensions. xFormers was built for:\\n    PyTorch 2.5.1+cu124 with CUDA 1204 "
            "(you have 2.13.0+cpu)\\n\")\n__version__ = '0.0.29'\n")
    fake_extension(tmp_path, "xformers", "xformers", "0.0.29", body, "torch==2.5.1")
    result = extensions(tmp_path)[1]
    codes = [f["code"] for f in result["findings"]]
    assert codes == ["framework.W050"]
    assert "built for PyTorch 2.5.1+cu124 with CUDA 1204 (you have 2.13.0+cpu)" in \
        result["findings"][0]["message"]
    assert "download.pytorch.org/whl/cpu" in result["findings"][0]["hint"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_an_extension_that_crashes_the_child_keeps_torchs_answer(tmp_path):
    # A broken flash-attn build can kill the process on import (SIGSEGV): torch's own
    # facts, gathered before, survive, and the extension is named.
    fake_torch(tmp_path, version="2.13.0+cpu", cuda=None)
    fake_extension(tmp_path, "flash-attn", "flash_attn", "2.8.3",
                   "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    report, result = extensions(tmp_path)
    live = report["facts"]["frameworks"]["live"]["torch"]
    assert live["status"] == "ok" and live["version"] == "2.13.0+cpu"
    assert live["extra_failed"]["signal"] == "SIGSEGV"
    finding = result["findings"][0]
    assert finding["code"] == "framework.E050"
    assert "importing flash_attn killed by SIGSEGV" in finding["message"]
    assert "--no-build-isolation flash-attn" in finding["hint"]
