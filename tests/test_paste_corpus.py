"""Real pastes from public issues (tests/data/pastes, links and verdicts in expected.json):
each is read into the facts a careful reader would extract, the formats are named, and
the checks reach the verdict the maintainers reached (or skip what the paste cannot
show; never a pass for want of facts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import validate_report

from envdoctor import doctor
from envdoctor.readers import read_paste

PASTES = Path(__file__).parent / "data" / "pastes"
EXPECTED = json.loads((PASTES / "expected.json").read_text(encoding="utf-8"))
MISSING = object()


def lookup(facts: Any, path: str) -> Any:
    node = facts
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return MISSING
    return node


def test_at_least_forty_real_pastes_each_with_its_link():
    assert len(EXPECTED) >= 40
    for name, entry in EXPECTED.items():
        assert (PASTES / name).is_file(), name
        assert entry["url"].startswith("https://github.com/"), name
        assert entry["verdict"], name
    assert {e["lang"] for e in EXPECTED.values()} >= {"en", "zh"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_paste_gives_the_facts_a_careful_reader_sees(name):
    entry = EXPECTED[name]
    paste = read_paste((PASTES / name).read_bytes())
    used = sorted({d.format for d in paste.dumps if d.used})
    assert used == sorted(set(entry["formats"])), [d.describe() for d in paste.dumps]
    for path, want in entry["facts"].items():
        got = lookup(paste.facts, path)
        if want is None:
            assert got in (MISSING, None), f"{path} should be unknown, got {got!r}"
        else:
            assert got == want, f"{path}: {got!r} != {want!r}"


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e["checks"]))
def test_paste_reaches_the_maintainers_verdict(name):
    entry = EXPECTED[name]
    paste = read_paste((PASTES / name).read_bytes())
    opts = doctor.Options(from_paste=paste, from_file=name)
    report = doctor.diagnose(opts)
    validate_report(report)  # source.formats and the pasted facts match the schema
    statuses = {c["id"]: c for c in report["checks"]}
    for check_id, want in entry["checks"].items():
        got = statuses[check_id]
        assert got["status"] == want, (check_id, got["summary"])
        if want == "skip":
            assert got["skip_reason"], check_id


def test_no_check_passes_on_a_paste_without_its_facts():
    """Whatever the paste, a check passes only with the facts its rule needs."""
    from envdoctor.readers import coverage

    for name in EXPECTED:
        paste = read_paste((PASTES / name).read_bytes())
        if not any(d.used for d in paste.dumps):
            continue
        report = doctor.diagnose(doctor.Options(from_paste=paste, from_file=name))
        for check in report["checks"]:
            if check["status"] == "pass":
                assert coverage.missing(check["id"], paste) is None, (name, check["id"])
            if check["status"] == "skip" and check["id"] not in coverage.RULES:
                assert check["skip_reason"].startswith(coverage.NOT_PASTED)
