"""The on-disk memo: reused for equal inputs, never stale, never fatal."""

from __future__ import annotations

import json
import os

import pytest
from conftest import facts_fixture, run_check

from envdoctor import cache


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ENVDOCTOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ENVDOCTOR_NO_CACHE", raising=False)
    return tmp_path / "cache"


def test_equal_inputs_reuse_the_stored_answer(cache_dir):
    calls = []
    compute = lambda: calls.append(1) or {"tags": ("cp311", "abi3")}  # noqa: E731
    first = cache.memoize("t", {"a": 1}, compute)
    second = cache.memoize("t", {"a": 1}, compute)
    assert first == second == {"tags": ["cp311", "abi3"]}  # the same JSON shape both times
    assert len(calls) == 1
    cache.memoize("t", {"a": 2}, compute)  # a changed input is a different entry
    assert len(calls) == 2


def test_a_corrupt_entry_is_recomputed(cache_dir):
    cache.memoize("t", [1], lambda: 41)
    (entry,) = cache_dir.glob("t-*.json")
    entry.write_bytes(b"\xff{garbage")
    assert cache.memoize("t", [1], lambda: 42) == 42
    assert json.loads(entry.read_text())["value"] == 42


def test_an_unwritable_cache_only_costs_speed(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ENVDOCTOR_CACHE_DIR", str(blocker / "cache"))
    assert cache.memoize("t", [1], lambda: "answer") == "answer"


def test_no_cache_switch(cache_dir, monkeypatch):
    monkeypatch.setenv("ENVDOCTOR_NO_CACHE", "1")
    cache.memoize("t", [1], lambda: 1)
    assert not cache_dir.exists()


def _pip_facts(requires):
    return facts_fixture(pip={
        "marker_environment": {"python_version": "3.11", "sys_platform": "linux"},
        "interpreter": {},
        "distributions": [
            {"name": "alpha", "version": "1.0", "requires": requires},
            {"name": "beta", "version": "1.5", "requires": []},
        ]})


def test_requirements_verdict_is_never_stale(cache_dir):
    clean = _pip_facts(["beta>=1.0"])
    assert run_check("pip.requirements", clean).status.value == "pass"
    assert run_check("pip.requirements", clean).status.value == "pass"  # from the memo
    assert any(cache_dir.glob("requirements-clean-*.json"))
    # The same environment with a conflict planted afterwards is judged afresh.
    broken = _pip_facts(["beta>=2.0"])
    result = run_check("pip.requirements", broken)
    assert result.status.value == "warn"
    assert result.findings[0].code == "pip.W201"
    assert "beta>=2.0" in result.findings[0].hint
    # And a second run of the broken one still reports it in full.
    again = run_check("pip.requirements", broken)
    assert [f.code for f in again.findings] == ["pip.W201"]
    assert os.listdir(cache_dir)
