"""``pip list`` (the two-column table) and ``pip freeze`` (``name==version`` lines)."""

from __future__ import annotations

import re

from envdoctor.readers import Dump
from envdoctor.readers.facts_builder import frameworks, put
from envdoctor.readers.text import clean, normalise_name

FORMAT = "pip"
# Lower-case words one of which any dump of this format contains (a quick test first).
SIGNS = ("==", " @ ", "package ")
TITLE = "pip list / pip freeze"

_NAME = r"[A-Za-z0-9][A-Za-z0-9._\-]*"
_FREEZE = re.compile(rf"^\s*({_NAME})(?:\[[^\]]*\])?\s*(?:===?\s*(\S+)|\s@\s+(\S+))\s*$")
_EDITABLE = re.compile(r"^\s*-e\s+\S+")
_LIST_ROW = re.compile(rf"^\s*({_NAME})\s+(\d[^\s]*)(?:\s+(\S.*))?$")
_LIST_HEADER = re.compile(r"^\s*Package\s+Version(\s+.*)?$")
_RULE = re.compile(r"^\s*-{3,}\s+-{3,}")
MIN_FREEZE = 3   # fewer pinned lines is a requirement in prose, not a freeze


def find(lines: list[str]) -> list[Dump]:
    dumps: list[Dump] = []
    i = 0
    while i < len(lines):
        if _LIST_HEADER.match(lines[i]) and i + 1 < len(lines) and _RULE.match(lines[i + 1]):
            dump, i = _table(lines, i)
            dumps.append(dump)
            continue
        if _FREEZE.match(lines[i]):
            dump, i = _freeze(lines, i)
            if dump is not None:
                dumps.append(dump)
            continue
        i += 1
    return dumps


def _table(lines: list[str], start: int) -> tuple[Dump, int]:
    dists: dict[str, str] = {}
    end = start + 1
    i = start + 2
    while i < len(lines):
        row = _LIST_ROW.match(lines[i])
        if not row:
            break
        dists[normalise_name(row.group(1))] = clean(row.group(2), 80) or "?"
        end = i
        i += 1
    return _dump(start, end, dists), end + 1


def _freeze(lines: list[str], start: int) -> tuple[Dump | None, int]:
    dists: dict[str, str] = {}
    end = i = start
    while i < len(lines):
        line = lines[i]
        match = _FREEZE.match(line)
        if match:
            version = match.group(2) or _url_version(match.group(3) or "")
            dists[normalise_name(match.group(1))] = clean(version, 80) or "?"
            end = i
        elif not (_EDITABLE.match(line) or line.strip().startswith("#")):
            break
        i += 1
    if len(dists) < MIN_FREEZE:
        return None, end + 1
    return _dump(start, end, dists), end + 1


def _url_version(url: str) -> str:
    """``torch @ https://.../torch-2.1.0%2Bcu121-cp310-...whl`` -> "2.1.0+cu121"."""
    match = re.search(r"/[A-Za-z0-9_.]+-(\d[^-/]*?)(?:-[^/]*)?\.(?:whl|tar\.gz|zip)",
                      url.replace("%2B", "+").replace("%2b", "+"))
    return match.group(1) if match else "?"


def _dump(start: int, end: int, dists: dict[str, str]) -> Dump:
    dump = Dump(FORMAT, TITLE, start + 1, end + 1)
    put(dump, "packages.distributions", dists)
    put(dump, "packages.count", len(dists))
    frameworks(dump, dists)
    dump.notes.append(f"{len(dists)} package(s)")
    return dump
