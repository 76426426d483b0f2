"""Text for people, in the style of ``flutter doctor``.

One line per check with a mark, indented findings and hints, one summary line. Colour
only on a terminal without NO_COLOR; plain ASCII marks where the output encoding cannot
represent the symbols (a Windows cp1252 console).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Optional, TextIO

from envdoctor.render import environment_rows, finding_text
from envdoctor.render.escape import terminal, terminal_lines

UNICODE_MARKS = {"pass": "[✓]", "warn": "[!]", "fail": "[✗]", "skip": "[-]", "error": "[?]"}
ASCII_MARKS = {"pass": "[OK]", "warn": "[!!]", "fail": "[XX]", "skip": "[--]", "error": "[??]"}
LEVEL_MARKS = {"error": ("✗", "x"), "warning": ("!", "!"), "info": ("•", "*")}
ARROW = ("→", "->")
COLOURS = {"pass": "32", "warn": "33", "fail": "31", "skip": "2", "error": "35"}


def can_encode(stream: Optional[TextIO], sample: str = "✓✗→•") -> bool:
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        sample.encode(encoding)
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def use_colour(stream: Optional[TextIO]) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def text_width(stream: Optional[TextIO]) -> int:
    """Wrap width: the terminal's, at most 100 columns; 100 when not a terminal."""
    try:
        if stream is not None and stream.isatty():
            return max(40, min(100, os.get_terminal_size(stream.fileno()).columns))
    except (OSError, ValueError, AttributeError):
        pass
    return 100


def wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    """``text`` wrapped to ``width`` with ``first``/``rest`` indents (long words are
    not broken). Used for messages; hints, which hold commands, are never wrapped."""
    if len(first) + len(text) <= width:
        return [first + text]
    import textwrap

    return textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False) or [first]


def render(report: dict[str, Any], *, verbose: bool = False,
           stream: Optional[TextIO] = None, unicode: Optional[bool] = None,
           colour: Optional[bool] = None) -> str:
    stream = stream if stream is not None else sys.stdout
    uni = can_encode(stream) if unicode is None else unicode
    col = use_colour(stream) if colour is None else colour
    wrap_width = text_width(stream)
    marks = UNICODE_MARKS if uni else ASCII_MARKS
    arrow = ARROW[0] if uni else ARROW[1]

    def paint(status: str, text: str) -> str:
        return f"\033[{COLOURS[status]}m{text}\033[0m" if col else text

    lines: list[str] = []
    source = report.get("source") or {}
    title = f"envdoctor {report.get('envdoctor_version', '?')}"
    if source.get("kind") == "from":
        title += f" (checks re-run on the facts in {source.get('file')})"
    # Every value below may come from a pasted report: each is escaped for the terminal
    # (control characters shown, never obeyed) before it joins a line.
    lines.append(terminal(title))
    read = formats_line(source)
    if read:
        lines.extend(wrap(terminal(f"read: {read}"), wrap_width, "  ", "        "))
    for label, value in environment_rows(report):
        lines.extend(wrap(terminal(f"{label + ':':<15}{clip(value, verbose)}"), wrap_width,
                          "  ", " " * 17))
    lines.append("")

    checks = report.get("checks") or []
    width = max((len(terminal(c["id"])) for c in checks), default=10) + 2
    for check in checks:
        status = check["status"]
        mark = marks.get(status, marks["error"])
        head = terminal(f"{terminal(check['id']):<{width}}{clip(check['summary'], verbose)}")
        if verbose:
            head += f"  ({check.get('duration_ms', 0):.1f} ms)"
        # The summary wraps under itself; the mark is painted after wrapping (its colour
        # codes would count as width).
        indent = " " * (len(mark) + 1)
        wrapped = wrap(head, wrap_width - len(indent), "", " " * width)
        lines.append(f"{paint(status, mark) if status in COLOURS else mark} {wrapped[0]}")
        lines.extend(indent + line for line in wrapped[1:])
        findings = check.get("findings") or []
        shown = findings if verbose else findings[:MAX_FINDINGS]
        for finding in shown:
            mark = LEVEL_MARKS.get(finding["level"], ("•", "*"))[0 if uni else 1]
            text = clip(finding_text(check, finding), verbose)
            lines.extend(wrap(terminal(f"{mark} {finding['code']}"
                                       + (f": {text}" if text else "")),
                              wrap_width, "    ", "      "))
            if finding.get("hint"):
                # Hints are not wrapped: a command broken over two lines would run half of
                # itself when pasted into a shell. The terminal folds long lines instead.
                hint = terminal_lines(finding["hint"]) or [""]
                if not verbose and len(hint) > MAX_HINT_LINES:
                    hint = hint[:MAX_HINT_LINES] + [f"... {len(hint) - MAX_HINT_LINES} more "
                                                    "line(s): envdoctor check -v"]
                for n, hint_line in enumerate(hint):
                    lines.append((f"      {arrow} " if n == 0 else "        ") + hint_line)
        if len(shown) < len(findings):
            lines.append(f"    ... {len(findings) - len(shown)} more finding(s): "
                         f"envdoctor check -v --only {terminal(check['id'])}")
        if status == "error" and check.get("error") and verbose:
            lines.extend(f"      {line}" for line in terminal_lines(check["error"]))
        if verbose and check.get("details"):
            detail = json.dumps(check["details"], indent=2, default=str, ensure_ascii=not uni)
            lines.extend(f"      {terminal(line)}" for line in detail.splitlines())

    if verbose:
        lines.append("")
        lines.append("Probes:")
        for name, record in sorted(((report.get("facts") or {}).get("probes") or {}).items()):
            record = record if isinstance(record, dict) else {}
            took = record.get("duration_ms")
            extra = f" {record['error']}" if record.get("error") else ""
            lines.append(terminal(f"  {name:<14}{record.get('status')}"
                                  + (f" {took} ms" if took is not None else "") + extra))

    lines.append("")
    lines.extend(terminal_lines(summary_line(report)))
    return "\n".join(lines) + "\n"


# Without -v a terminal gets at most this much of one check: long lists and values are
# cut with a pointer to -v (a pasted report can hold anything).
MAX_FINDINGS = 8
MAX_HINT_LINES = 12
MAX_VALUE = 600


def clip(value: Any, verbose: bool = False) -> str:
    """``value`` as text, cut to ``MAX_VALUE`` characters unless ``verbose``."""
    text = value if isinstance(value, str) else str(value)
    if verbose or len(text) <= MAX_VALUE:
        return text
    return text[:MAX_VALUE] + f"... ({len(text) - MAX_VALUE} more characters: -v)"


def formats_line(source: dict[str, Any]) -> str:
    """The dumps a pasted text held: "PyTorch collect_env (lines 7-38), nvidia-smi
    table (lines 40-58; not used: ...)"; empty for a live run or a JSON report."""
    from envdoctor.facts import dicts

    parts = []
    for item in dicts(source.get("formats")):
        lines = item.get("lines") if isinstance(item.get("lines"), list) else []
        where = f"lines {lines[0]}-{lines[1]}" if len(lines) == 2 else ""
        notes = [n for n in item.get("notes") or [] if isinstance(n, str)]
        extra = "; ".join([where] + notes[:2])
        parts.append(f"{item.get('title')}" + (f" ({extra})" if extra else ""))
    return ", ".join(parts)


def summary_line(report: dict[str, Any]) -> str:
    summary = report.get("summary") or {}
    counts = summary.get("counts") or {}
    code = summary.get("exit_code", 0)
    parts = [f"{counts.get(k, 0)} {label}" for k, label in (
        ("fail", "failed"), ("warn", "with warnings"), ("error", "errored"),
        ("pass", "passed"), ("skip", "skipped")) if counts.get(k)]
    text = ", ".join(parts) or "no checks ran"
    primary = summary.get("primary_cause")
    if code == 1:
        head = "envdoctor found problems"
    elif code == 3:
        head = "envdoctor could not finish every check"
    elif counts.get("warn"):
        head = "No failures; see the warnings above"
    else:
        head = "No issues found"
    line = f"{head}: {text} (exit code {code})."
    if primary and code == 1:
        line += (f"\nStart with {terminal(primary['check'])} ({terminal(primary.get('code'))}): "
                 "it comes first in the chain.")
        others = [terminal(f"{s['check']} ({s['code']})" if s.get("code") else s["check"])
                  for s in primary.get("secondary") or []]
        if others:
            line += f" Then: {', '.join(others)}."
    return line
