"""Shared test helpers. Fakes live only at the machine's edge (see docs/testing.md)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

import pytest

REPO = Path(__file__).resolve().parents[1]

# Tests never read or write the user's envdoctor cache: one fresh folder per session
# (child processes inherit it).
os.environ["ENVDOCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="envdoctor-test-cache-")
# Real captures (copied from ../shared/corpus with their sources and licences).
CORPUS = REPO / "tests" / "data" / "corpus"
SCHEMA = REPO / "envdoctor" / "schema" / "report.schema.json"


# Tests marked `heavy` use real large packages from the index (tensorflow, jax, cupy,
# opencv, torchvision...). .ci/run runs them once, in one shared venv, with
# ENVDOCTOR_HEAVY=1; anywhere else they skip, so the quick suite stays quick.
HEAVY = os.environ.get("ENVDOCTOR_HEAVY") == "1"


def pytest_collection_modifyitems(config: Any, items: list) -> None:
    """Skip `heavy` tests outside the heavy suite, and `torch` tests where the real CPU
    torch is not installed (CI installs it on Python 3.11 only), each with the reason."""
    import importlib.util

    skip_heavy = pytest.mark.skip(reason="heavy: real large packages from the index; run "
                                         "by .ci/run's heavy suite (ENVDOCTOR_HEAVY=1)")
    skip_torch = pytest.mark.skip(reason="torch is not installed (CI installs torch==2.13.0 "
                                         "CPU on Python 3.11 only)")
    has_torch = importlib.util.find_spec("torch") is not None
    for item in items:
        if item.get_closest_marker("heavy") and not HEAVY:
            item.add_marker(skip_heavy)
        if item.get_closest_marker("torch") and not has_torch:
            item.add_marker(skip_torch)


@pytest.fixture
def heavy_python() -> str:
    """The interpreter of the heavy venv (the one running the tests): heavy tests may
    pip install into it, and must undo what they install."""
    return sys.executable


@pytest.fixture(scope="session")
def heavy_site(tmp_path_factory: Any):
    """``heavy_site("name", "pkg==1.0", ...)``: a folder with exactly those real packages
    from the index (``pip install --target --no-deps``), made once per run (kept under
    ENVDOCTOR_HEAVY_DIR when set). Put it on PYTHONPATH to add them to the heavy venv."""
    base = Path(os.environ.get("ENVDOCTOR_HEAVY_DIR") or tmp_path_factory.mktemp("heavy"))

    def make(name: str, *requirements: str, python: Optional[str] = None,
             deps: bool = False, then: tuple = ()) -> Path:
        """``deps``: with their dependencies; ``then``: requirements installed over
        them afterwards without dependencies (a mismatched pair: jax, then an older
        jaxlib)."""
        target = base / name
        if not (target / ".done").exists():
            shutil.rmtree(target, ignore_errors=True)
            steps = [(requirements, deps)] + ([(tuple(then), False)] if then else [])
            for reqs, with_deps in steps:
                if reqs is not requirements:  # `then`: drop the metadata it replaces
                    for req in reqs:
                        stem = re.split(r"[=<>!~ \[;]", req, maxsplit=1)[0].replace("-", "_")
                        for old in target.glob(f"{stem}-*.dist-info"):
                            shutil.rmtree(old, ignore_errors=True)
                proc = subprocess.run(
                    [python or sys.executable, "-m", "pip", "install", "-q", "--upgrade",
                     *([] if with_deps else ["--no-deps"]), "--only-binary=:all:",
                     "--target", str(target), *reqs],
                    capture_output=True, text=True, timeout=1200)
                if proc.returncode != 0:
                    pytest.fail(f"pip could not install {reqs}: {proc.stderr[-2000:]}")
            (target / ".done").write_text("ok", encoding="utf-8")
        return target

    return make


@pytest.fixture
def corpus() -> Path:
    """tests/data/corpus: the real captures (SOURCES.md there names each source)."""
    if not CORPUS.is_dir():
        pytest.skip(f"real-capture corpus not found at {CORPUS}")
    return CORPUS


def validate_report(report: dict[str, Any]) -> None:
    """Every report a test produces must match the published JSON Schema."""
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(report)


def run_envdoctor(*args: str, env: Optional[dict[str, str]] = None, timeout: float = 120,
                  input: Optional[str] = None, cwd: Optional[str] = None
                  ) -> subprocess.CompletedProcess:
    """Run the real CLI in a child process (``python -m envdoctor``)."""
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "envdoctor", *args], capture_output=True,
                          text=True, encoding="utf-8", errors="replace", env=full_env,
                          timeout=timeout, input=input, cwd=cwd or str(REPO))


def facts_fixture(**sections: Any) -> dict[str, Any]:
    """A minimal facts document with the given sections (probe name -> facts)."""
    facts: dict[str, Any] = {"schema_version": 1, "envdoctor_version": "test", "probes": {}}
    for name, value in sections.items():
        facts[name] = value
        facts["probes"][name] = {"status": "ok", "duration_ms": 0.1}
    return facts


def report_with_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """A saved-report shape around ``facts``, for ``envdoctor check --from``."""
    return {"schema_version": 1, "envdoctor_version": "test",
            "generated_at": "2026-01-01T00:00:00Z", "source": {"kind": "probe"},
            "redacted": True, "facts": facts, "checks": [],
            "summary": {"counts": {"pass": 0, "warn": 0, "fail": 0, "skip": 0, "error": 0},
                        "exit_code": 0, "fail_on": "fail", "incomplete": False,
                        "primary_cause": None}}


def run_check(check_id: str, facts: dict[str, Any]):
    """Run one registered check on a facts document through the real runner."""
    from envdoctor import registry, runner

    check = registry.get(check_id)
    assert check is not None, f"check {check_id} is not registered"
    return runner.run_check(check, facts)
