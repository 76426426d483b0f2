"""Dockerfile instructions with their line numbers, and the image each stage builds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from envdoctor.containers import images, pip
from envdoctor.containers.rules import Build

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+][^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class Instruction:
    line: int          # 1-based line where it starts
    keyword: str       # upper case: FROM, RUN, ARG ...
    text: str          # the arguments, continuation lines joined


def instructions(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile: comments dropped, backslash continuations
    joined (a ``# escape=`` directive is honoured), heredoc bodies kept with their RUN."""
    escape = "\\"
    directive = re.match(r"\s*#\s*escape\s*=\s*(\S)", text)
    if directive:
        escape = directive.group(1)
    found: list[Instruction] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        start = i + 1
        i += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = [stripped]
        while parts[-1].endswith(escape) and i < len(lines):
            parts[-1] = parts[-1][:-1]
            nxt = lines[i].strip()
            i += 1
            if nxt.startswith("#"):
                parts.append(escape)   # a comment inside a continuation is skipped
                continue
            parts.append(nxt)
        joined = " ".join(p for p in parts if p != escape)
        heredoc = re.search(r"<<-?\s*[\"']?([A-Za-z_]+)[\"']?", joined)
        if heredoc:
            end = heredoc.group(1)
            body = []
            while i < len(lines) and lines[i].strip() != end:
                body.append(lines[i])
                i += 1
            i += 1
            joined += "\n" + "\n".join(body)
        keyword, _, rest = joined.partition(" ")
        found.append(Instruction(start, keyword.upper(), rest.strip()))
    return found


def _expand(text: str, args: dict[str, str]) -> str:
    return _VAR.sub(lambda m: args.get(m.group(1) or m.group(2), m.group(0)), text)


def _arg(text: str, args: dict[str, str]) -> None:
    for item in text.split():
        name, eq, value = item.partition("=")
        if eq:
            args[name] = _expand(value.strip("\"'"), args)
        else:
            args.setdefault(name, "")


def builds(text: str, build_args: Optional[dict[str, str]] = None) -> list[Build]:
    """One :class:`Build` per stage, in order; a stage built FROM an earlier stage
    inherits its base image and its pip installs."""
    global_args: dict[str, str] = {}
    stages: list[Build] = []
    names: dict[str, Build] = {}
    args: dict[str, str] = global_args
    current: Optional[Build] = None
    for ins in instructions(text):
        if ins.keyword == "ARG":
            _arg(ins.text, args)
            if build_args:
                args.update({k: v for k, v in build_args.items() if k in args})
        elif ins.keyword == "FROM":
            words = [w for w in ins.text.split() if not w.startswith("--")]
            ref = _expand(words[0], global_args) if words else ""
            parent = names.get(ref.lower())
            current = Build(parent.base if parent else images.parse(ref),
                            list(parent.pips) if parent else [],
                            list(parent.shell) if parent else [],
                            base_line=parent.base_line if parent else ins.line)
            current.shell.append((ins.line, ""))
            stages.append(current)
            if len(words) >= 3 and words[1].lower() == "as":
                names[words[2].lower()] = current
            args = dict(global_args)
        elif ins.keyword == "RUN" and current is not None:
            shell = _expand(ins.text, args)
            current.shell.append((ins.line, shell))
            current.pips.extend((ins.line, p) for p in pip.find(shell))
    return stages


def final(text: str) -> Optional[Build]:
    """The image ``docker build`` produces: the last stage."""
    stages = builds(text)
    return stages[-1] if stages else None
