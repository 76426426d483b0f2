"""``envdoctor summarize REPORTS...``: the fleet view of many reports.

Exit codes: 0 every host healthy at the fail level; 1 at least one host fails at the fail
level; 2 usage error (nothing to read); 3 nothing fails but some hosts did not report
(unreadable file, missing from --expect) or reported incomplete results.
"""

# No `from __future__ import annotations` here: Typer on Python 3.9 reads the Annotated
# option declarations from live annotations only (inspect.signature without eval_str).

import enum
import os
from typing import Annotated, Optional

import typer


class FailOn(str, enum.Enum):
    warn = "warn"
    fail = "fail"


def expected_hosts(value: Optional[str]) -> list[str]:
    """``--expect``: a file with one host name per line, or names separated by commas or
    spaces (e.g. ``$(scontrol show hostnames)``)."""
    if not value:
        return []
    text = value
    if os.path.isfile(value):
        with open(value, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    names: list[str] = []
    for line in text.splitlines():
        names.extend(line.split("#", 1)[0].replace(",", " ").split())
    return names


def summarize_command(
    reports: Annotated[list[str], typer.Argument(
        metavar="REPORTS...", help="Report files (JSON or JSON lines) or folders holding "
                                   "them (*.json, *.jsonl, *.ndjson); '-' reads stdin.")],
    json_flag: Annotated[bool, typer.Option("--json", help="The summary as JSON.")] = False,
    fail_on: Annotated[FailOn, typer.Option(
        "--fail-on", help="Lowest check status that makes a host failing (exit code 1).")
    ] = FailOn.fail,
    expect: Annotated[Optional[str], typer.Option(
        "--expect", metavar="HOSTS",
        help="Hosts that should have reported: a file (one name per line) or "
                         "names separated by commas or spaces. Missing ones are listed.")
    ] = None,
    show_all: Annotated[bool, typer.Option(
        "--all", help="Text: every problem, every host (default: capped).")] = False,
    output: Annotated[Optional[str], typer.Option(
        "--output", "-o", metavar="FILE",
        help="Also write the summary to FILE, atomically.")] = None,
    max_report_size: Annotated[Optional[int], typer.Option(
        "--max-report-size", metavar="BYTES", min=1,
        help="Largest report read (a file, or one line of JSON lines); larger ones are "
             "listed as failed to report [default: 16 MiB, or "
             "$ENVDOCTOR_MAX_REPORT_BYTES].")] = None,
) -> None:
    """The fleet view: hosts x checks, identical problems grouped, hosts that failed to
    report.

    Exit codes: 0 every host healthy; 1 a host fails at the fail level; 2 no report file
    found; 3 nothing fails, but a host did not report (missing, unreadable) or its report
    is incomplete."""
    from envdoctor import fleet
    from envdoctor.cli import check_output, error, save_and_print

    check_output(output)
    try:
        names = expected_hosts(expect)
    except OSError as exc:
        raise error(f"cannot read {expect}: {exc.strerror or exc}") from None
    result = fleet.summarize(reports, fail_on=fail_on.value, expected=names,
                             max_bytes=max_report_size)
    if not result["reports"] and not result["unreadable"]:
        raise error("no report files found (looked for *.json, *.jsonl, *.ndjson in "
                    + ", ".join(reports) + ")")
    if json_flag:
        from envdoctor.render.json import render as to_json

        text = to_json(result)
    else:
        text = fleet.render_text(result, show_all=show_all)
    save_and_print(text, output)
    raise typer.Exit(result["exit_code"])


def register(app: typer.Typer) -> None:
    app.command("summarize")(summarize_command)
