"""The report as one JSON document (stdout carries nothing else)."""

from __future__ import annotations

import json
from typing import Any


def render(report: dict[str, Any], **_: Any) -> str:
    from envdoctor.render.escape import json_text

    # C1 controls and bidi overrides as \u escapes: the same JSON, safe on a terminal.
    return json_text(json.dumps(report, indent=2, sort_keys=False, ensure_ascii=False,
                                default=str)) + "\n"
