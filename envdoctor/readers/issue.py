"""An issue to triage: a file or stdin holding the issue's text, or a GitHub Actions event
payload (``$GITHUB_EVENT_PATH`` of an ``issues`` or ``issue_comment`` event)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional

from envdoctor.readers import MAX_PASTE_BYTES


class IssueError(Exception):
    """An issue that cannot be read (missing, too large, an event without a body)."""


@dataclass
class Issue:
    text: bytes
    number: Optional[int] = None
    title: Optional[str] = None
    event: Optional[str] = None     # "issues" / "issue_comment" when read from an event
    url: Optional[str] = None


def read_issue(path: str) -> Issue:
    from envdoctor.readers.load import read_limited

    try:
        raw = read_limited(path)
    except OSError as exc:
        raise IssueError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_PASTE_BYTES:
        raise IssueError(f"{path} is larger than {MAX_PASTE_BYTES:,} bytes (4 MiB), the most "
                         "envdoctor reads from an issue")
    event = _event(raw)
    if event is None:
        return Issue(raw)
    issue = event.get("issue") if isinstance(event.get("issue"), dict) else {}
    comment = event.get("comment") if isinstance(event.get("comment"), dict) else None
    # A new comment is what the reporter just pasted; a new or edited issue, its body.
    body = comment.get("body") if comment is not None else issue.get("body")
    number = issue.get("number")
    title = issue.get("title")
    return Issue((body if isinstance(body, str) else "").encode("utf-8", "replace"),
                 number=number if isinstance(number, int) and not isinstance(number, bool)
                 else None,
                 title=title if isinstance(title, str) else None,
                 event="issue_comment" if comment is not None else "issues",
                 url=_text((comment or issue).get("html_url")))


def _event(raw: bytes) -> Optional[dict[str, Any]]:
    """The event payload when ``raw`` is one (a JSON object with an ``issue``)."""
    head = raw[:200].lstrip()
    if not head.startswith(b"{"):
        return None
    try:
        doc = json.loads(raw.decode("utf-8-sig", "replace"))
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("issue"), dict) else None


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None
