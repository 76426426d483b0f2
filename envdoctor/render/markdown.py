"""Markdown for a GitHub issue: environment table, problems with hints, full JSON folded."""

from __future__ import annotations

import json
from typing import Any

STATUS_WORD = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail", "skip": "➖ skip",
               "error": "❓ error"}


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(report: dict[str, Any], **_: Any) -> str:
    from envdoctor.render import environment_rows, finding_text
    from envdoctor.render.text import summary_line

    out: list[str] = [f"### envdoctor {report.get('envdoctor_version', '')} report", ""]
    out += ["| | |", "|---|---|"]
    out += [f"| {_cell(label)} | {_cell(value)} |" for label, value in environment_rows(report)]
    out.append("")
    checks = report.get("checks") or []
    problems = [c for c in checks if c["status"] in ("fail", "warn", "error")]
    if problems:
        out.append("#### Problems")
        out.append("")
        for check in problems:
            out.append(f"- **{check['id']}** ({STATUS_WORD[check['status']]}): "
                       f"{_cell(check['summary'])}")
            for finding in check.get("findings") or []:
                if finding["level"] == "info":
                    continue
                text = finding_text(check, finding)
                out.append(f"  - `{finding['code']}` {text}".rstrip())
                if finding.get("hint"):
                    hint = finding["hint"].strip().replace("\n", "<br>")
                    out.append(f"    - Fix: {hint}")
        out.append("")
    out.append("#### Checks")
    out.append("")
    out += ["| check | status | summary |", "|---|---|---|"]
    out += [f"| `{c['id']}` | {STATUS_WORD[c['status']]} | {_cell(c['summary'])} |"
            for c in checks]
    out.append("")
    out.append(summary_line(report).replace("\n", " "))
    out.append("")
    out.append("<details><summary>Full JSON report</summary>")
    out.append("")
    out.append("```json")
    out.append(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    out.append("```")
    out.append("")
    out.append("</details>")
    return "\n".join(out) + "\n"
