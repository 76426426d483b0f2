"""Markdown for an issue tracker: what matters first, and always under the size limit.

Order: the environment table, the formats a pasted text held, the primary cause, the
problems with their fixes, the checks table, the summary; then the facts, folded and
compacted, so ``envdoctor check --from`` can re-run every check on the pasted Markdown.
The whole stays at or under ``LIMIT`` characters (GitHub refuses an issue body over
65,536): long values are cut, and facts sections that do not fit are left out, largest
first, with a statement of what was left out and the command that writes the full JSON
report to a file to attach.

Every value from the report is rendered inert (:mod:`envdoctor.render.escape`): a code
span on one line, so nothing in a report becomes a heading, image, link, @mention or
HTML, or closes the ``<details>`` that folds the facts (whose fence is longer than any
backtick run in it).
"""

from __future__ import annotations

import json
from typing import Any

STATUS_WORD = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail", "skip": "➖ skip",
               "error": "❓ error"}

LIMIT = 60_000              # characters; GitHub's issue body limit is 65,536
MAX_VALUE = 300             # characters of one value in a table cell or a line
MAX_FINDING = 800           # characters of a finding's message or hint
PROBLEMS_SHARE = 25_000     # the problems section may use this much, the facts the rest
FULL_REPORT = "envdoctor check --json -o envdoctor-report.json"
FACTS_SUMMARY = "Facts (compact JSON; `envdoctor check --from` re-runs the checks on it)"


def short(value: Any, limit: int = MAX_VALUE) -> str:
    """``value`` as text of at most ``limit`` characters (cut with an ellipsis)."""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _cell(text: Any) -> str:
    from envdoctor.render.escape import markdown_code

    return markdown_code(short(text), cell=True)


def _code(text: Any, limit: int = MAX_VALUE) -> str:
    from envdoctor.render.escape import markdown_code

    return markdown_code(short(text, limit))


def _status(status: Any) -> str:
    return STATUS_WORD.get(status) or _code(status)


def render(report: dict[str, Any], **_: Any) -> str:
    from envdoctor.render import environment_rows
    from envdoctor.render.escape import markdown_word
    from envdoctor.render.text import formats_line, summary_line

    version = markdown_word(short(report.get("envdoctor_version", ""), 40))
    out: list[str] = [f"### envdoctor {version} report", ""]
    out += ["| | |", "|---|---|"]
    out += [f"| {markdown_word(short(label, 40), cell=True)} | {_cell(value)} |"
            for label, value in environment_rows(report)]
    out.append("")
    source = report.get("source") if isinstance(report.get("source"), dict) else {}
    read = formats_line(source)
    if read:
        out += [f"Read from the pasted text: {_code(read, 1000)}", ""]
    checks = [c for c in report.get("checks") or [] if isinstance(c, dict)]
    primary = (report.get("summary") or {}).get("primary_cause")
    if isinstance(primary, dict) and primary.get("check"):
        code = f" ({_code(primary['code'])})" if primary.get("code") else ""
        out += [f"**Primary cause:** {_code(primary['check'])}{code}: "
                f"{_code(primary.get('message') or '', MAX_FINDING)}", ""]
    out += _problems(checks)
    out += ["#### Checks", "", "| check | status | summary |", "|---|---|---|"]
    out += [f"| {_cell(c.get('id'))} | {_status(c.get('status'))} | "
            f"{_cell(c.get('summary') or c.get('skip_reason') or '')} |" for c in checks]
    out.append("")
    out.append(summary_line(report).replace("\n", " "))
    out.append("")
    head = "\n".join(out) + "\n"
    return head + _facts_block(report, LIMIT - len(head))


def _problems(checks: list[dict[str, Any]]) -> list[str]:
    from envdoctor.render import finding_text

    problems = [c for c in checks if c.get("status") in ("fail", "warn", "error")]
    if not problems:
        return []
    out = ["#### Problems", ""]
    used = 0
    left = 0
    for check in problems:
        lines = [f"- {_code(check.get('id'))} ({_status(check.get('status'))}): "
                 f"{_code(check.get('summary') or '', MAX_FINDING)}"]
        for finding in check.get("findings") or []:
            if not isinstance(finding, dict) or finding.get("level") == "info":
                continue
            text = finding_text(check, finding)
            lines.append(f"  - {_code(finding.get('code'))} {_code(text, MAX_FINDING)}"
                         .rstrip())
            if finding.get("hint"):
                hint = "<br>".join(_code(line, MAX_FINDING) for line in
                                   str(finding["hint"]).strip().split("\n")[:8])
                lines.append(f"    - Fix: {hint}")
        size = sum(len(line) + 1 for line in lines)
        if used + size > PROBLEMS_SHARE:
            left += 1
            continue
        used += size
        out += lines
    if left:
        out.append(f"- … {left} more problem check(s) left out to fit; the full JSON report "
                   f"has them: `{FULL_REPORT}`")
    out.append("")
    return out


def _facts_block(report: dict[str, Any], budget: int) -> str:
    """The folded facts, compacted to fit ``budget`` characters, and a statement of
    what was left out (with the command for the full report)."""
    from envdoctor.render.escape import json_text, markdown_fence

    facts = report.get("facts") if isinstance(report.get("facts"), dict) else {}
    doc: dict[str, Any] = {"schema_version": report.get("schema_version"),
                           "envdoctor_version": report.get("envdoctor_version"),
                           "generated_at": report.get("generated_at"),
                           "facts": dict(facts)}
    sizes = {name: len(_compact(value)) for name, value in facts.items()
             if name not in ("schema_version", "envdoctor_version", "probes")}
    left_out: list[str] = []
    overhead = 900  # the fold, the fences, the left-out statement
    body = json_text(_compact(doc))
    for name in sorted(sizes, key=lambda n: -sizes[n]):
        if len(body) + overhead <= budget:
            break
        doc["facts"].pop(name, None)
        doc["facts"]["probes"] = {k: v for k, v in (doc["facts"].get("probes") or {}).items()
                                  if k != name}
        left_out.append(f"{name} ({_count(facts.get(name))}{sizes[name]:,} characters)")
        doc["left_out"] = sorted(left_out)
        body = json_text(_compact(doc))
    out: list[str] = []
    if len(body) + overhead <= budget:
        opening, closing = markdown_fence(body, "json")
        out += [f"<details><summary>{FACTS_SUMMARY}</summary>", "", opening, body, closing,
                "", "</details>", ""]
    else:
        left_out = ["all facts"]
    if left_out:
        out.append(f"Left out to stay under {LIMIT:,} characters: "
                   + "; ".join(_code(item) for item in left_out)
                   + f". Attach the full report instead: run `{FULL_REPORT}` and drag "
                     "`envdoctor-report.json` into the issue.")
        out.append("")
    return "\n".join(out)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _count(section: Any) -> str:
    """ "146 distributions, " for the bulky per-package sections; "" otherwise."""
    if not isinstance(section, dict):
        return ""
    for key in ("distributions", "gpus", "variants"):
        items = section.get(key)
        if isinstance(items, (list, dict)) and items:
            return f"{len(items)} {key}, "
    return ""
