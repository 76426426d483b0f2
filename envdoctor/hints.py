"""Spelling of commands in hints.

pip commands in hints name this interpreter (``/path/to/python -m pip``), never a bare
``pip``: the ``pip`` on PATH often installs into another Python, which is one of the
problems envdoctor diagnoses.

Hints are pasted into a shell, and paths may come from a pasted report: every argument
is quoted by the rules of the shell that will run it (:func:`shell_quote`), so
``$(touch x)`` in a path stays text. POSIX shells get single quotes; PowerShell (Windows)
gets double quotes with backtick escapes and the call operator ``&`` before a quoted
program. Redaction later turns a quoted home path into one that still expands
(``'/home/alice/my env/python'`` -> ``~/'my env/python'``; ``"C:\\Users\\alice\\x y"`` ->
``"$HOME\\x y"``; see :mod:`envdoctor.redact`).
"""

from __future__ import annotations

import re
from typing import Any, Optional

POSIX, POWERSHELL = "posix", "powershell"

_SAFE = re.compile(r"[A-Za-z0-9_@%+=:,./~-]+\Z")
_SAFE_PS = re.compile(r"[A-Za-z0-9_%+=:,./\\-]+\Z")


def shell_of_path(path: str) -> str:
    """PowerShell for a Windows path (``C:\\...``, ``\\\\server\\...``, ``*.exe``), a
    POSIX shell otherwise: hints need no other fact to know how to quote."""
    if re.match(r"[A-Za-z]:[\\/]|\\\\", path) or path.lower().endswith(".exe"):
        return POWERSHELL
    return POSIX


def shell_quote(arg: str, shell: str = POSIX) -> str:
    """``arg`` as one word for ``shell``: unchanged when nothing in it is special."""
    if shell == POWERSHELL:
        if _SAFE_PS.match(arg):
            return arg
        return '"' + re.sub(r'([`"$])', r"`\1", arg) + '"'
    if _SAFE.match(arg) and (not arg.startswith("~") or arg.startswith("~/")):
        return arg
    if arg.startswith("~/"):  # a redacted home: ~ must stay outside the quotes
        return "~/" + shell_quote(arg[2:], shell) if arg[2:] else "~/"
    return "'" + arg.replace("'", "'\\''") + "'"


def shell_join(argv: list[str], shell: Optional[str] = None) -> str:
    """A command line for ``shell`` (this machine's when None)."""
    if shell is None:
        import sys

        shell = POWERSHELL if sys.platform == "win32" else POSIX
    words = [shell_quote(a, shell) for a in argv]
    if shell == POWERSHELL and words and words[0].startswith('"'):
        words[0] = "& " + words[0]  # PowerShell runs a quoted program only with &
    return " ".join(words)


def python_executable(facts: dict[str, Any]) -> str:
    """The path of this interpreter as the facts record it ("python" when they do not)."""
    from envdoctor.facts import as_dict, text

    return text(as_dict(as_dict(facts.get("pip")).get("interpreter")).get("executable")) \
        or text(as_dict(facts.get("python")).get("executable")) \
        or text(as_dict(facts.get("python_env")).get("executable")) or "python"


def python_command(facts: dict[str, Any]) -> str:
    """This interpreter, spelled for the shell of the machine the facts describe."""
    exe = python_executable(facts)
    return shell_join([exe], shell_of_path(exe))


def pip_command(facts: dict[str, Any]) -> str:
    """``<this python> -m pip``."""
    return f"{python_command(facts)} -m pip"
