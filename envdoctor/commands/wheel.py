"""``envdoctor wheel FILE_OR_NAME.whl``: can this Python install that wheel, and if not, why.

Exit codes: 0 it fits, 1 it does not, 2 not a wheel file name (or an unreadable --from).
"""

# No `from __future__ import annotations` here: Typer on Python 3.9 reads the Annotated
# option declarations from live annotations only (inspect.signature without eval_str).

import sys
from typing import Annotated, Any, Optional

import typer


def _target(from_file: Optional[str]) -> Any:
    from envdoctor.wheeltags import Target, describe_interpreter

    if from_file is None:
        return Target.from_dict(describe_interpreter())
    from envdoctor.cli import error
    from envdoctor.facts import ReportError, as_dict, load_report

    try:
        report = load_report(from_file)
    except ReportError as exc:
        raise error(str(exc)) from None
    interp = as_dict(as_dict(report.get("facts")).get("pip")).get("interpreter")
    if not isinstance(interp, dict):
        raise error(f"{from_file} has no 'pip' facts (this Python's wheel tags); it was "
                     "saved without the pip checks or by an older envdoctor")
    return Target.from_dict(interp)


def render_text(verdict: Any) -> str:
    lines = [verdict.filename]
    where = verdict.target.describe()
    if verdict.compatible:
        lines.append(f"  installs on this Python: {where}")
        lines.append(f"  matching tag: {verdict.matching_tag}")
        return _terminal_text(lines)
    count = len(verdict.reasons)
    lines.append(f"  cannot install on this Python: {where}")
    lines.append(f"  {count} reason{'s' if count != 1 else ''}:")
    for reason in verdict.reasons:
        lines.append(f"  - {reason.message}")
        if reason.hint:
            lines.append(f"      -> {reason.hint}")
    if verdict.suggestion:
        lines.append(f"  look for a {verdict.suggestion} wheel; if the release has one, it is "
                     f"named like {verdict.suggested_filename}")
        if verdict.suggestion_note:
            lines.append(f"    ({verdict.suggestion_note})")
        if verdict.lookup:
            lines.append(f"    ({verdict.lookup})")
    return _terminal_text(lines)


def _terminal_text(lines: list[str]) -> str:
    """The file name is the user's argument and the target may come from a pasted report:
    each line is escaped for the terminal (control characters shown, never obeyed)."""
    from envdoctor.render.escape import terminal

    return "\n".join(terminal(line) for line in lines) + "\n"


def wheel_command(
    wheels: Annotated[list[str], typer.Argument(
        metavar="FILE_OR_NAME.whl",
        help="Wheel files or just their file names (several allowed).")],
    json_flag: Annotated[bool, typer.Option(
        "--json", help="Print JSON: one object per wheel (a list for several).")] = False,
    from_file: Annotated[Optional[str], typer.Option(
        "--from", metavar="REPORT.json",
        help="Judge for the Python in a saved JSON report instead of this one.")
    ] = None,
) -> None:
    """Say whether this Python can install a wheel and, if not, every reason why and which
    file name would fit.

    Exit codes: 0 it installs; 1 it does not; 2 not a wheel file name (or an unusable
    --from report)."""
    from envdoctor.cli import _write_stdout
    from envdoctor.wheeltags import InvalidWheelName, explain

    target = _target(from_file)
    supported = target.supported()
    results: list[dict[str, Any]] = []
    texts: list[str] = []
    worst = 0
    for name in wheels:
        try:
            verdict = explain(name, target, supported)
        except InvalidWheelName as exc:
            worst = 2
            results.append({"file": name, "error": str(exc)})
            if not json_flag:
                from envdoctor.render.escape import terminal

                sys.stderr.write(f"envdoctor: error: {terminal(exc)}\n")
            continue
        if not verdict.compatible:
            worst = max(worst, 1)
        results.append(verdict.to_dict())
        texts.append(render_text(verdict))
    if json_flag:
        import json

        document: Any = results[0] if len(results) == 1 else results
        from envdoctor.render.escape import json_text

        out = json_text(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"
    else:
        out = "\n".join(texts)
    _write_stdout(out)
    raise typer.Exit(worst)


def register(app: typer.Typer) -> None:
    app.command("wheel")(wheel_command)
