"""``pip install`` commands found in shell text (a RUN instruction, a compose command)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Optional

_SPLIT = re.compile(r"&&|\|\||;|\|")
_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.S)
_SHELL_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?")


@dataclass
class PipInstall:
    """One ``pip install``: requirement strings, ``-r`` files and the index options."""

    requirements: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    index_url: Optional[str] = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)

    def names(self) -> dict[str, str]:
        """normalised project name -> the requirement as written."""
        found = {}
        for req in self.requirements:
            match = _NAME.match(req)
            if match:
                found[match.group(1).lower().replace("_", "-")] = req
        return found

    def indexes(self) -> list[str]:
        return [u for u in [self.index_url, *self.extra_index_urls, *self.find_links] if u]


def _commands(shell: str) -> list[list[str]]:
    """Words of each simple command: split at ``;``, ``&&``, ``||``, ``|`` and newlines
    outside quotes (a quoted ``;`` stays in its word)."""
    lexer = shlex.shlex(shell.replace("\\\n", " "), posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = ""
    commands: list[list[str]] = [[]]
    try:
        for token in lexer:
            if token and set(token) <= set(";&|"):
                commands.append([])
            else:
                commands[-1].append(token)
    except ValueError:  # unbalanced quotes: fall back to plain words
        return [command.split() for command in _SPLIT.split(shell)]
    return [c for c in commands if c]


def find(shell: str) -> list[PipInstall]:
    """Every ``pip install`` (``pip``, ``pip3``, ``python -m pip``, ``uv pip``) in
    ``shell``, in order."""
    found = []
    variables: dict[str, str] = {}
    for words in _commands(shell):
        assignments = [_ASSIGN.match(w) for w in words]
        if words and all(assignments):
            # `VERSION='torch=='$PYTORCH'.*'` before `pip install $VERSION`; of the two
            # branches of `test && A=x || A=y` the first is taken (the usual default).
            for match in assignments:
                variables.setdefault(match.group(1), match.group(2))
            continue
        words = [_SHELL_VAR.sub(lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), w)
                 for w in words]
        for i, word in enumerate(words):
            base = word.rsplit("/", 1)[-1]
            if base.startswith("pip") and i + 1 < len(words) and words[i + 1] == "install":
                found.append(_parse(words[i + 2:]))
                break
            if base == "-m" and words[i + 1:i + 3] == ["pip", "install"]:
                found.append(_parse(words[i + 3:]))
                break
    return found


_VALUE_OPTIONS = {"-c", "--constraint", "-t", "--target", "--prefix", "--root",
                  "--platform", "--python-version", "--implementation", "--abi", "-e",
                  "--editable", "--src", "--upgrade-strategy", "--cache-dir", "--python",
                  "--trusted-host", "--progress-bar", "--log", "--timeout", "--retries"}


def _parse(args: list[str]) -> PipInstall:
    pip = PipInstall()
    it = iter(range(len(args)))
    skip = False
    for i in it:
        if skip:
            skip = False
            continue
        arg = args[i]
        value = args[i + 1] if i + 1 < len(args) else ""
        key, eq, inline = arg.partition("=")
        if arg.startswith("--") and eq:
            arg, value = key, inline
        else:
            skip = arg in ("-r", "--requirement", "-i", "--index-url", "--extra-index-url",
                           "-f", "--find-links") or arg in _VALUE_OPTIONS
        if arg in ("-r", "--requirement"):
            pip.files.append(value)
        elif arg in ("-i", "--index-url"):
            pip.index_url = value
        elif arg == "--extra-index-url":
            pip.extra_index_urls.append(value)
        elif arg in ("-f", "--find-links"):
            pip.find_links.append(value)
        elif arg.startswith("-") or "$" in arg or "/" in arg or arg in (".",):
            continue
        else:
            pip.requirements.append(arg)
    return pip
