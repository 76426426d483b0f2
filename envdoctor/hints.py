"""Spelling of commands in hints.

pip commands in hints name this interpreter (``/path/to/python -m pip``), never a bare
``pip``: the ``pip`` on PATH often installs into another Python, which is one of the
problems envdoctor diagnoses.
"""

from __future__ import annotations

from typing import Any


def python_command(facts: dict[str, Any]) -> str:
    """This interpreter, spelled for a shell command (quoted when it has spaces)."""
    from envdoctor.facts import as_dict, text

    exe = text(as_dict(as_dict(facts.get("pip")).get("interpreter")).get("executable")) \
        or text(as_dict(facts.get("python")).get("executable")) \
        or text(as_dict(facts.get("python_env")).get("executable")) or "python"
    return f'"{exe}"' if " " in exe else exe


def pip_command(facts: dict[str, Any]) -> str:
    """``<this python> -m pip``."""
    return f"{python_command(facts)} -m pip"
