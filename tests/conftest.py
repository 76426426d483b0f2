"""Shared test helpers. Fakes live only at the machine's edge (see docs/testing.md)."""

from __future__ import annotations

import json
import os
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
