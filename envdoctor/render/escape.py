"""Make hostile strings harmless where they are shown: a terminal, a Markdown page.

Every value in a report may come from a stranger (a pasted report, a target
environment's metadata, a wheel name on the command line). Printed raw, a value could
write the clipboard (OSC 52), clear the screen (``ESC[2J``), overwrite a line with a
carriage return, forge whole lines with newlines, or, in Markdown, become a heading, an
image, an @mention, a link, or close the ``<details>`` that folds the JSON report.

Every renderer and command that prints a value calls one of these:

- :func:`terminal` for one value on one line: each control character (C0, DEL, C1, the
  Unicode line/paragraph separators and bidirectional overrides) is shown visibly as a
  Python-style escape (``\\x1b``, ``\\n``, ``\\u202e``); nothing else changes.
- :func:`terminal_lines` for a value whose newlines are meant (a multi-line hint): split
  on ``\\n`` only, each line then escaped like :func:`terminal`.
- :func:`markdown_code` for any value in Markdown: a code span (nothing in a code span is
  a link, mention, emphasis, HTML or heading), its delimiter longer than any backtick run
  inside, control characters escaped as for the terminal, so it cannot leave its line.
  ``cell=True`` also escapes ``|`` for a table cell.
- :func:`markdown_fence` for a fenced block (the folded JSON): a fence longer than any
  backtick run in the text, so the text cannot close it.
"""

from __future__ import annotations

import re
from typing import Any

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

# C0 controls, DEL, C1 controls (0x9b is a one-byte CSI on some terminals), the line and
# paragraph separators, the bidirectional embeddings, overrides and isolates (they can
# make a line read differently from what it holds), and the BOM / zero-width no-break.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


# What json.dumps(ensure_ascii=False) leaves raw of the above (it escapes C0 itself; the
# newlines of its indentation must stay).
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def _visible(match: re.Match[str]) -> str:
    ch = match.group(0)
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(value: Any) -> str:
    """``value`` as text that is safe on a terminal and stays on one line."""
    text = value if isinstance(value, str) else str(value)
    return _CONTROL.sub(_visible, text)


def terminal_lines(value: Any) -> list[str]:
    """``value`` split on its newlines, each line safe for a terminal (a lone ``\\r`` or
    any other control character is shown, not obeyed). Empty text gives no lines."""
    text = value if isinstance(value, str) else str(value)
    return [terminal(line) for line in text.split("\n")] if text else []


def has_control(value: str) -> bool:
    """Whether ``value`` holds a character :func:`terminal` would escape."""
    return bool(_CONTROL.search(value))


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(re.escape(char) + "+", text)
    return max((len(run) for run in runs), default=0)


def markdown_code(value: Any, *, cell: bool = False) -> str:
    """``value`` as an inert Markdown code span on one line (``cell``: inside a table)."""
    text = terminal(value)
    if cell:
        # GFM splits table cells on | even inside code spans; \| is the cell escape there.
        text = text.replace("|", "\\|")
    if not text:
        return ""
    ticks = "`" * (_longest_run(text, "`") + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or text.startswith(" ") \
        else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def markdown_fence(text: str, info: str = "") -> tuple[str, str]:
    """Opening and closing fence lines for ``text``: longer than any backtick run in it."""
    ticks = "`" * max(3, _longest_run(text, "`") + 1)
    return ticks + info, ticks


def json_text(text: str) -> str:
    """JSON text with every character :func:`terminal` escapes written as ``\\uXXXX``.

    ``json.dumps(..., ensure_ascii=False)`` already escapes C0 controls but keeps C1
    controls (U+009B acts as CSI on some terminals) and bidirectional overrides raw; this
    makes the document equally safe to print and to paste, and still the same JSON."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .+-]*\Z")


def markdown_word(value: Any, *, cell: bool = False) -> str:
    """A label or version as itself when it is letters, digits, spaces, ``.``, ``+`` and
    ``-`` only (nothing Markdown reads); anything else as :func:`markdown_code`."""
    text = value if isinstance(value, str) else str(value)
    return text if _PLAIN.match(text) else markdown_code(text, cell=cell)
