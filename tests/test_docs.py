"""A newcomer finds any check by its id in one step: file, docs and codes line up."""

from __future__ import annotations

from conftest import REPO

from envdoctor import registry


def test_every_check_lives_in_the_file_named_by_its_id():
    for check in registry.all_checks():
        if check.origin != "envdoctor":
            continue
        module = check.func.__module__.rsplit(".", 1)[-1]
        assert module == check.id.replace(".", "_"), f"{check.id} is defined in {module}.py"
        assert (REPO / "checks" / f"{module}.py").is_file()


def test_every_check_and_finding_code_is_documented():
    docs = {p.stem: p.read_text(encoding="utf-8") for p in (REPO / "docs" / "checks").glob("*.md")}
    everything = "\n".join(docs.values())
    missing = []
    for check in registry.all_checks():
        if check.origin != "envdoctor":
            continue
        if f"`{check.id}`" not in everything and check.id not in everything:
            missing.append(check.id)
        missing += [code for code in check.codes if code not in everything]
    assert not missing, f"not in docs/checks/*.md: {missing}"


def test_finding_codes_are_unique_across_checks():
    seen: dict[str, str] = {}
    for check in registry.all_checks():
        for code in check.codes:
            assert code not in seen, f"{code} is declared by {seen.get(code)} and {check.id}"
            seen[code] = check.id
