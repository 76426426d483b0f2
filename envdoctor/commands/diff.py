"""``envdoctor diff A.json B.json``: what differs between two environments.

Exit codes: 0 no differences, 1 differences, 2 a report could not be read (usage).
"""

# No `from __future__ import annotations` here: Typer on Python 3.9 reads the Annotated
# option declarations from live annotations only (inspect.signature without eval_str).

import enum
from typing import Annotated, Any, Optional

import typer


class DiffFormat(str, enum.Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


THIS_MACHINE = "this machine now"


def _load(path: str, timeout: Optional[float], no_frameworks: bool
          ) -> tuple[dict[str, Any], str]:
    from envdoctor import doctor
    from envdoctor.facts import load_report

    if path == "-":
        opts = doctor.Options(timeout=doctor.DEFAULT_TIMEOUT_S if timeout is None
                              else timeout, timeout_explicit=timeout is not None,
                              no_frameworks=no_frameworks)
        return doctor.diagnose(opts), THIS_MACHINE
    return load_report(path, accept_newer=True), path


def _recheck(report: dict[str, Any], label: str) -> dict[str, Any]:
    """This envdoctor's checks on the report's facts (the `--from` path)."""
    from envdoctor import doctor
    from envdoctor.facts import SCHEMA_VERSION

    facts = report.get("facts") or {}
    if int(facts.get("schema_version") or 0) > SCHEMA_VERSION:
        return report  # checks cannot read a newer facts layout: compare as saved
    return doctor.diagnose(doctor.Options(from_report=report, from_file=label))


def _valid_timeout(value: Optional[float]) -> Optional[float]:
    from envdoctor.cli import valid_timeout

    return valid_timeout(value)


def diff_command(
    report_a: Annotated[str, typer.Argument(
        metavar="A", help="A saved JSON report, or '-' for this machine now.")],
    report_b: Annotated[str, typer.Argument(
        metavar="B", help="A saved JSON report, or '-' for this machine now.")],
    fmt: Annotated[DiffFormat, typer.Option("--format", "-f", help="Output format.")
                   ] = DiffFormat.text,
    json_flag: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    show_all: Annotated[bool, typer.Option(
        "--all", help="Text: list every differing fact (default: 25 per group).")] = False,
    recheck: Annotated[bool, typer.Option(
        "--recheck", help="Re-run this envdoctor's checks on both reports' facts before "
                          "comparing (reports saved by different versions).")] = False,
    timeout: Annotated[Optional[float], typer.Option(
        "--timeout", metavar="SECONDS", callback=_valid_timeout,
        help="Seconds each probe may take, framework imports included (for '-') "
             "[default: 10; framework imports get 30 when not given].")] = None,
    no_frameworks: Annotated[bool, typer.Option(
        "--no-frameworks", help="For '-': do not import frameworks in child processes.")
    ] = False,
    output: Annotated[Optional[str], typer.Option(
        "--output", "-o", metavar="FILE",
        help="Also write the comparison to FILE, atomically.")] = None,
) -> None:
    """What differs between two reports: facts by diagnostic weight, then checks.

    Exit code 0 when nothing differs, 1 when something does, 2 when a report cannot be
    read.
    """
    from envdoctor import diffing
    from envdoctor.cli import check_output, error, save_and_print
    from envdoctor.facts import ReportError

    check_output(output)
    if report_a == "-" and report_b == "-":
        raise error("only one side of a diff can be '-' (this machine now)")
    sides = []
    for path in (report_a, report_b):
        try:
            sides.append(_load(path, timeout, no_frameworks))
        except ReportError as exc:
            raise error(str(exc)) from None
    (a, label_a), (b, label_b) = sides
    if recheck:
        a, b = _recheck(a, label_a), _recheck(b, label_b)
    result = diffing.diff_reports(a, b, label_a, label_b)
    chosen = DiffFormat.json if json_flag else fmt
    if chosen is DiffFormat.json:
        from envdoctor.render.json import render as to_json

        text = to_json(result)
    elif chosen is DiffFormat.markdown:
        text = diffing.render_markdown(result)
    else:
        text = diffing.render_text(result, None if show_all else 25)
    save_and_print(text, output)
    raise typer.Exit(0 if result["identical"] else 1)


def register(app: typer.Typer) -> None:
    app.command("diff")(diff_command)
