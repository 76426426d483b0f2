"""envdoctor's own reports: the JSON (``check --json``, ``-o report.json``) and the
Markdown (its compact facts block, or the older full JSON fold)."""

from __future__ import annotations

import json
import re
from typing import Any, Optional

from envdoctor.readers import Dump

FORMAT = "envdoctor"
# Lower-case words one of which any dump of this format contains (a quick test first).
SIGNS = ("{",)
TITLE = "envdoctor report"

_FENCE = re.compile(r"^\s*```\s*json\s*$")


def find(lines: list[str]) -> list[Dump]:
    text = "\n".join(lines).strip()
    if text.startswith("{"):
        doc = _load(text)
        if doc is not None:
            return [_dump(doc, 1, len(lines), "envdoctor JSON report")]
    dumps = []
    i = 0
    while i < len(lines):
        if _FENCE.match(lines[i]):
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith("```"):
                j += 1
            doc = _load("\n".join(lines[i + 1:j]))
            if doc is not None:
                dumps.append(_dump(doc, i + 1, min(j + 1, len(lines)),
                                   "envdoctor Markdown report"))
            i = j + 1
            continue
        i += 1
    return dumps


def _load(text: str) -> Optional[dict[str, Any]]:
    """A report (``{"facts": ...}``) or a bare facts document, else None."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    if isinstance(doc.get("facts"), dict):
        return doc
    if isinstance(doc.get("probes"), dict) and "schema_version" in doc:
        return {"facts": doc}
    return None


def _dump(doc: dict[str, Any], start: int, end: int, title: str) -> Dump:
    dump = Dump(FORMAT, title, start, end)
    dump.facts = doc["facts"]
    dump.known = {"*"}
    dump.report = doc
    return dump
