"""Markdown for a GitHub issue: environment table, problems with hints, full JSON folded.

Every value from the report is rendered inert (:mod:`envdoctor.render.escape`): a code
span on one line, so nothing in a report becomes a heading, image, link, @mention or
HTML, or closes the ``<details>`` that folds the JSON (whose fence is longer than any
backtick run in it).
"""

from __future__ import annotations

import json
from typing import Any

STATUS_WORD = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail", "skip": "➖ skip",
               "error": "❓ error"}


def _cell(text: Any) -> str:
    from envdoctor.render.escape import markdown_code

    return markdown_code(text, cell=True)


def _status(status: Any) -> str:
    from envdoctor.render.escape import markdown_code

    return STATUS_WORD.get(status) or markdown_code(status)


def render(report: dict[str, Any], **_: Any) -> str:
    from envdoctor.render import environment_rows, finding_text
    from envdoctor.render.escape import json_text, markdown_code, markdown_fence, markdown_word
    from envdoctor.render.text import summary_line

    version = markdown_word(report.get("envdoctor_version", ""))
    out: list[str] = [f"### envdoctor {version} report", ""]
    out += ["| | |", "|---|---|"]
    out += [f"| {markdown_word(label, cell=True)} | {_cell(value)} |"
            for label, value in environment_rows(report)]
    out.append("")
    checks = report.get("checks") or []
    problems = [c for c in checks if c["status"] in ("fail", "warn", "error")]
    if problems:
        out.append("#### Problems")
        out.append("")
        for check in problems:
            out.append(f"- {markdown_code(check['id'])} ({_status(check['status'])}): "
                       f"{markdown_code(check['summary'])}")
            for finding in check.get("findings") or []:
                if finding["level"] == "info":
                    continue
                text = finding_text(check, finding)
                out.append(f"  - {markdown_code(finding['code'])} {markdown_code(text)}"
                           .rstrip())
                if finding.get("hint"):
                    hint = "<br>".join(markdown_code(line)
                                       for line in str(finding["hint"]).strip().split("\n"))
                    out.append(f"    - Fix: {hint}")
        out.append("")
    out.append("#### Checks")
    out.append("")
    out += ["| check | status | summary |", "|---|---|---|"]
    out += [f"| {_cell(c['id'])} | {_status(c['status'])} | {_cell(c['summary'])} |"
            for c in checks]
    out.append("")
    out.append(summary_line(report).replace("\n", " "))
    out.append("")
    body = json_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    opening, closing = markdown_fence(body, "json")
    out.append("<details><summary>Full JSON report</summary>")
    out.append("")
    out.append(opening)
    out.append(body)
    out.append(closing)
    out.append("")
    out.append("</details>")
    return "\n".join(out) + "\n"
