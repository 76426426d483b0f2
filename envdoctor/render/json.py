"""The report as one JSON document (stdout carries nothing else)."""

from __future__ import annotations

import json
from typing import Any


def render(report: dict[str, Any], **_: Any) -> str:
    return json.dumps(report, indent=2, sort_keys=False, ensure_ascii=False, default=str) + "\n"
