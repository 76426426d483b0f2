"""The wheel a user installs: layout, data files, console script, a clean-venv run."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                           "-w", str(out), str(REPO)], capture_output=True, text=True,
                          timeout=300)
    if proc.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{proc.stdout}\n{proc.stderr}")
    (path,) = out.glob("envdoctor-*.whl")
    return path


def test_wheel_has_no_top_level_checks_or_fixes(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops <= {"envdoctor", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}"
                    ".dist-info"}, tops
    assert "checks" not in tops and "fixes" not in tops
    # The repository's checks/ and fixes/ live under the envdoctor namespace.
    for source in sorted((REPO / "checks").glob("*.py")):
        assert f"envdoctor/checks/{source.name}" in names
    for source in sorted((REPO / "fixes").rglob("*")):
        if source.is_file() and source.suffix in (".py", ".sh", ".ps1"):
            rel = source.relative_to(REPO / "fixes").as_posix()
            assert f"envdoctor/fixes/{rel}" in names, rel
    # Every module of the package ships (a folder left out of pyproject's explicit
    # `packages` list works in an editable install and fails in a real one).
    for source in sorted((REPO / "envdoctor").rglob("*.py")):
        rel = source.relative_to(REPO).as_posix()
        assert rel in names, f"{rel} is not in the wheel: add its folder to pyproject.toml"
    assert "envdoctor/schema/report.schema.json" in names
    for data in sorted((REPO / "envdoctor" / "data").glob("*.json")):
        assert f"envdoctor/data/{data.name}" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "envdoctor = envdoctor.cli:main" in text


@pytest.mark.slow
def test_clean_venv_install_runs_check(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bindir = env_dir / ("Scripts" if sys.platform == "win32" else "bin")
    py = bindir / "python"
    install = subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)],
                             capture_output=True, text=True, timeout=600)
    if install.returncode != 0:
        pytest.skip(f"dependencies not installable here: {install.stderr[-300:]}")
    # Run from a folder outside the repository, as a user would.
    proc = subprocess.run([str(bindir / "envdoctor"), "check", "--json"], capture_output=True,
                          text=True, cwd=str(tmp_path), timeout=120)
    report = json.loads(proc.stdout)
    assert proc.returncode == report["summary"]["exit_code"]
    assert {c["id"] for c in report["checks"]} >= {"envdoctor.plugins"}
    mod = subprocess.run([str(py), "-m", "envdoctor", "--version"], capture_output=True,
                         text=True, cwd=str(tmp_path), timeout=60)
    assert mod.returncode == 0 and mod.stdout.startswith("envdoctor ")
    top = subprocess.run([str(py), "-c", "import checks"], capture_output=True, text=True,
                         cwd=str(tmp_path), timeout=60)
    assert top.returncode != 0, "a top-level `checks` package must not be installed"


def test_no_requirement_caps_a_version(wheel):
    """Installing envdoctor into an environment must not downgrade what is there (typer,
    packaging, nvidia-ml-py): no `<`, `<=`, `==` or `~=` on any runtime requirement."""
    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        text = zf.read(meta).decode("utf-8")
    runtime = [Requirement(line.split(":", 1)[1].strip()) for line in text.splitlines()
               if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert {r.name for r in runtime} >= {"typer", "packaging", "nvidia-ml-py"}
    capped = [str(r) for r in runtime
              if any(s.operator in ("<", "<=", "==", "~=", "===") for s in r.specifier)]
    assert capped == []
