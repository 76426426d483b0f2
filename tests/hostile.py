"""Hostile values for the attack tests (tests/test_attack_*.py).

A report is pasted by a stranger: every string in it, and some keys, may carry terminal
escapes, forged lines or Markdown. :func:`poison` plants a payload in every string value
of a real report (built by the real checks from realistic facts), plus hostile keys where
the renderers print keys (package names, environment variable names, framework names).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

# OSC 52 (writes the clipboard), clear screen, a carriage return that overwrites the
# line, a newline that forges a check line, a one-byte C1 CSI, a right-to-left override.
TERMINAL = ("\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\rOVERWRITE\n[✓] FORGED-LINE ok"
            "\x9b31m\u202eRTL\x1b[0m")
# A heading, an image, an unclosed fence, a mention, a link, raw HTML, the end of the
# folded JSON, an issue cross-reference and a bare URL (GFM autolink).
MARKDOWN = ("\n# FORGED-HEADING\n<img src=x onerror=alert(1)>\n```\n@octocat "
            "[click](https://evil.example/x) <script>alert(2)</script> </details> "
            "owner/repo#1 www.evil.example ![img](https://evil.example/i.png) |pipe|")

# Characters a terminal obeys: C0 except newline, DEL, C1, line/paragraph separators,
# bidi embeddings/overrides/isolates. Spelled out here, not imported from envdoctor.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def poison(doc: Any, payload: str, *, skip_keys: tuple[str, ...] = ()) -> Any:
    """A copy of ``doc`` with ``payload`` appended to every string value."""
    if isinstance(doc, str):
        return doc + payload
    if isinstance(doc, dict):
        return {k: (v if k in skip_keys else poison(v, payload, skip_keys=skip_keys))
                for k, v in doc.items()}
    if isinstance(doc, list):
        return [poison(v, payload, skip_keys=skip_keys) for v in doc]
    return doc


def hostile_report(payload: str) -> dict[str, Any]:
    """A real report (real checks on realistic facts, with findings) poisoned throughout."""
    import fleet_reports

    facts = fleet_reports.facts(avx=False, packages=fleet_reports.AVX_PACKAGES,
                                env={"CUDA_VISIBLE_DEVICES": "7"})
    facts["packages"]["distributions"]["evil" + payload] = "1.0" + payload
    facts["env"]["variables"]["CUDA_HOME" + payload] = "/usr/local/cuda" + payload
    doc = fleet_reports.report(facts, only=())
    doc["source"]["host"] = "node1"
    # Keep the shape a report needs to load (kinds and statuses are words); everything a
    # person reads carries the payload.
    return poison(doc, payload, skip_keys=("schema_version", "status", "level", "kind",
                                           "exit_code", "fail_on", "counts"))


def write(tmp: Path, name: str, doc: Any) -> Path:
    path = tmp / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def raw_controls(text: str) -> list[str]:
    """Every character in ``text`` a terminal would obey, as repr (for the message)."""
    return sorted({repr(ch) for ch in RAW_CONTROL.findall(text)})
