"""Every row of every shipped compatibility table names its source (its own or the
enclosing entry's), so a reader can confirm it."""

from __future__ import annotations

import json

import pytest
from conftest import REPO

DATA = sorted((REPO / "envdoctor" / "data").glob("*.json"))


def _has_source(entry: dict) -> bool:
    return any(key.startswith("source") and entry[key] for key in entry)


def _children(entry: dict) -> list:
    kids = []
    for value in entry.values():
        if isinstance(value, dict):
            kids.extend(value.values() if all(isinstance(v, dict) for v in value.values())
                        else [value])
        elif isinstance(value, list):
            kids.extend(v for v in value if isinstance(v, dict))
    return [k for k in kids if isinstance(k, dict)]


def _fully_sourced(entry: dict) -> bool:
    """A source of its own, or a grouping whose every record has one."""
    if _has_source(entry) or "same_as" in entry:  # same_as: the row it names is checked
        return True
    kids = _children(entry)
    return bool(kids) and all(_fully_sourced(k) for k in kids)


def _unsourced(node, sourced: bool, path: str):
    if isinstance(node, dict):
        here = sourced or _has_source(node)
        for key, value in node.items():
            yield from _unsourced(value, here, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, dict) and not (sourced or _fully_sourced(item)):
                yield f"{path}[{i}]"
            yield from _unsourced(item, sourced, f"{path}[{i}]")


@pytest.mark.parametrize("path", DATA, ids=[p.name for p in DATA])
def test_every_row_has_a_source(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    missing = list(_unsourced(data, _has_source(data) if isinstance(data, dict) else False, ""))
    assert not missing, f"{path.name}: rows without a source: {missing[:5]}"


def test_there_are_data_files():
    assert {p.name for p in DATA} >= {"cuda_drivers.json", "torch_builds.json"}
