"""``envdoctor triage ISSUE``: a maintainer's view of an issue. Reads the issue's text (a
file, ``-``, or a GitHub event payload such as ``$GITHUB_EVENT_PATH``), lists the
environment dumps it holds, diagnoses them like ``check --from``, and drafts a short
Markdown reply: the problems with their fixes, what is missing and the one command that
gets it (docs/triage.md has a GitHub Actions workflow that posts it with ``gh``).

Exit codes: 0 a reply was drafted (whatever the diagnosis); 2 usage error (the issue
cannot be read, or is over the size limit).
"""

# No `from __future__ import annotations` here: Typer on Python 3.9 reads the Annotated
# option declarations from live annotations only (inspect.signature without eval_str).

from typing import Annotated, Any, Optional

import typer


def triage_command(
    issue: Annotated[str, typer.Argument(
        metavar="ISSUE", help="The issue: a text or Markdown file, '-' for stdin, or a GitHub "
                              "event JSON ($GITHUB_EVENT_PATH of an issues or issue_comment "
                              "event).")],
    reply_only: Annotated[bool, typer.Option(
        "--reply", help="Print only the Markdown reply (to post with `gh issue comment "
                        "--body-file`).")] = False,
    json_flag: Annotated[bool, typer.Option(
        "--json", help="Everything as JSON: issue, formats, report, reply.")] = False,
    output: Annotated[Optional[str], typer.Option(
        "--output", "-o", metavar="FILE", help="Also write the output to FILE.")] = None,
) -> None:
    """Read an issue: the dumps it holds, the diagnosis, and a reply to post."""
    from envdoctor import doctor
    from envdoctor.cli import check_output, error, save_and_print
    from envdoctor.readers import PasteError, read_paste
    from envdoctor.readers.issue import IssueError, read_issue
    from envdoctor.render import reply

    check_output(output)
    try:
        found = read_issue(issue)
        paste = read_paste(found.text)
    except (IssueError, PasteError) as exc:
        raise error(str(exc)) from None
    opts = doctor.Options(from_paste=paste, from_file=issue)
    if paste.report is not None:
        import json

        from envdoctor.facts import ReportError, parse_report

        try:
            opts.from_report = parse_report(json.dumps(paste.report).encode(), issue)
        except ReportError as exc:
            raise error(str(exc)) from None
    report = doctor.diagnose(opts)
    answer = reply.render(report, paste.formats)
    if json_flag:
        from envdoctor.render.json import render as to_json

        text = to_json({"issue": {"number": found.number, "title": found.title,
                                  "event": found.event, "url": found.url},
                        "formats": paste.formats, "report": report, "reply": answer})
    elif reply_only:
        text = answer
    else:
        text = _view(found, report, answer)
    save_and_print(text, output)
    raise typer.Exit(0)


def _view(found: Any, report: dict, answer: str) -> str:
    from envdoctor.render import text as text_renderer
    from envdoctor.render.escape import terminal, terminal_lines

    head = "Issue" + (f" #{found.number}" if found.number is not None else "") + \
        (f": {terminal(found.title)}" if found.title else "")
    lines = [head, ""]
    if not any(f.get("used") for f in (report.get("source") or {}).get("formats") or []):
        lines += ["No environment dump recognised.", ""]
    lines.append(text_renderer.render(report).rstrip("\n"))
    lines += ["", "Reply (Markdown, ready to post):", "-" * 40]
    lines += terminal_lines(answer.rstrip("\n"))
    return "\n".join(lines) + "\n"


def register(app: typer.Typer) -> None:
    app.command("triage")(triage_command)
