"""The short Markdown reply ``envdoctor triage`` drafts for a maintainer to post: what was
read, the problems with their fixes, what is missing and the one command that gets it.

Every value from the issue is inert (:func:`envdoctor.render.escape.markdown_code`)."""

from __future__ import annotations

from typing import Any

MAX_PROBLEMS = 5
MAX_CHARS = 4_000
ASK = "pip install envdoctor && envdoctor check --format markdown"
STATUS = {"fail": "❌", "warn": "⚠️", "error": "❓"}


def render(report: dict[str, Any], formats: list[dict[str, Any]]) -> str:
    from envdoctor.readers.coverage import NOT_PASTED, RULES
    from envdoctor.render.escape import markdown_code
    from envdoctor.render.markdown import short

    def code(value: Any, limit: int = 300) -> str:
        return markdown_code(short(value, limit))

    used = [f for f in formats if f.get("used")]
    out: list[str] = []
    if not used:
        out += ["envdoctor found no environment dump in this issue, so it cannot tell yet "
                "what is wrong with the environment.", ""]
    else:
        read = ", ".join(f"{code(f.get('title'))} (lines {f['lines'][0]}-{f['lines'][1]})"
                         for f in used)
        out += [f"envdoctor read {read} in this issue."]
        for item in formats:
            if not item.get("used") and item.get("notes"):
                out.append(f"Not used: {code(item.get('title'))}: {code(item['notes'][0])}.")
        out.append("")
    checks = [c for c in report.get("checks") or [] if isinstance(c, dict)]
    problems = [c for c in checks if c.get("status") in ("fail", "warn")]
    if problems:
        out += ["**Problems**", ""]
        for check in problems[:MAX_PROBLEMS]:
            out.append(f"- {STATUS.get(check['status'], '')} {code(check.get('id'))}: "
                       f"{code(check.get('summary'), 500)}")
            for finding in (check.get("findings") or [])[:2]:
                if not isinstance(finding, dict) or finding.get("level") == "info":
                    continue
                hint = str(finding.get("hint") or "").strip().split("\n")[0]
                if hint:
                    out.append(f"  - Fix ({code(finding.get('code'))}): {code(hint, 500)}")
        if len(problems) > MAX_PROBLEMS:
            out.append(f"- … and {len(problems) - MAX_PROBLEMS} more")
        out.append("")
    elif used:
        out += ["Nothing wrong in what was pasted.", ""]
    missing = sorted({RULES[c["id"]].what for c in checks
                      if str(c.get("skip_reason") or "").startswith(NOT_PASTED + " (needs")
                      and c.get("id") in RULES})
    if missing or not used:
        if missing and used:
            out += ["**Not in the pasted text**, so not checked: "
                    + "; ".join(short(m, 150) for m in missing[:6]) + ".", ""]
        out += ["To check everything, please run this in the environment that fails and "
                "paste its output here:", "", "```sh", ASK, "```", ""]
    text = "\n".join(out)
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS - 1] + "…\n"
