"""The facts document: everything probes learned, as one JSON-serialisable dict.

Top level: ``schema_version``, ``envdoctor_version``, ``probes`` (how each probe went:
status ok/error/timeout, duration, error text) and one key per probe with what it found
(``None`` when the probe failed). Checks read this and nothing else, so the same checks
run on a saved report (``envdoctor check --from report.json``).
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA_VERSION = 1

Facts = dict[str, Any]


class ReportError(Exception):
    """A file that is not a readable envdoctor report."""


def new_facts() -> Facts:
    from envdoctor import __version__

    return {"schema_version": SCHEMA_VERSION, "envdoctor_version": __version__, "probes": {}}


def probe_failure(facts: Facts, name: str) -> str | None:
    """Why probe ``name`` produced no facts, or None when it did."""
    record = (facts.get("probes") or {}).get(name)
    if facts.get(name) is not None:
        return None
    if not record:
        return f"probe '{name}' did not run"
    if record.get("status") == "timeout":
        return f"probe '{name}' timed out after {record.get('timeout_s', '?')} s"
    return f"probe '{name}' failed: {record.get('error') or 'no facts'}"


def load_report(path: str, accept_newer: bool = False) -> dict[str, Any]:
    """Read a saved JSON report (or ``-`` for stdin) and return it; :class:`ReportError`
    with a plain message when it cannot be used. ``accept_newer`` lets a caller that
    only compares reports (``diff``) read a newer schema version too."""
    import sys

    try:
        if path == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as fh:
                raw = fh.read()
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc.strerror or exc}") from None
    text = raw.decode("utf-8", errors="replace").strip()
    # People paste reports from issue trackers: accept a ```json fenced block too.
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ReportError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("facts"), dict):
        raise ReportError(f"{path} is not an envdoctor report (no 'facts' object)")
    facts = data["facts"]
    version = facts.get("schema_version", data.get("schema_version"))
    if not isinstance(version, int):
        raise ReportError(f"{path} has no schema_version; is it an envdoctor report?")
    if version > SCHEMA_VERSION and not accept_newer:
        raise ReportError(
            f"{path} uses report schema {version}; this envdoctor reads up to "
            f"{SCHEMA_VERSION}: upgrade envdoctor (pip install -U envdoctor)")
    return data
