"""Readers of environment dumps people paste into issue trackers.

``envdoctor check --from FILE`` and ``envdoctor triage`` hand any text to
:func:`read_paste`: every reader (one module per format, listed in ``READERS``) looks for
its own format anywhere in the text (a bare dump, a code block, a ``<details>`` fold, a
whole issue body with prose around it) and returns :class:`Dump` objects: where the dump
sits and the facts it states, in the report's own schema. :mod:`.assemble` merges them
into one facts document and records what is known; :mod:`.coverage` decides which checks
the pasted facts can judge. What a paste does not say stays unknown.

Every string taken from a paste is hostile: readers keep values short and printable
(:func:`envdoctor.readers.text.clean`), and renderers escape them again.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Optional

# In order of trust: when two dumps state the same fact, the earlier reader's wins.
READERS = ("envdoctor_report", "collect_env", "nvidia_smi_query", "nvidia_smi_table",
           "nvcc", "jax_env", "tensorflow_env", "transformers_env", "pip_list",
           "conda_list", "torch_oneliner")

MAX_DUMPS_PER_FORMAT = 20

# Files larger than this are refused (exit 2); an envdoctor JSON report of a big
# environment stays far below it.
MAX_PASTE_BYTES = 4 * 1024 * 1024
# Text other than a JSON report is searched for dumps up to this size: GitHub caps an
# issue body at 65,536 characters; a whole `nvidia-smi -q` of 8 GPUs or a pip freeze of
# 500 packages stays far below it. (Searching is linear: about 1 s per MiB of the worst
# text, lines that all look like the start of a dump.)
MAX_TEXT_BYTES = 1024 * 1024


@dataclass
class Dump:
    """One recognised dump: its format, where it sits (1-based lines) and its facts."""

    format: str                      # reader name, e.g. "collect_env"
    title: str                       # what a person calls it, e.g. "torch collect_env"
    start: int
    end: int
    facts: dict[str, Any] = field(default_factory=dict)   # partial facts sections
    known: set[str] = field(default_factory=set)          # fact paths it states
    partial: set[str] = field(default_factory=set)        # lists it gives only part of
    notes: list[str] = field(default_factory=list)
    used: bool = True
    report: Optional[dict[str, Any]] = None   # envdoctor's own report, whole

    def describe(self) -> dict[str, Any]:
        return {"format": self.format, "title": self.title, "lines": [self.start, self.end],
                "used": self.used, "notes": list(self.notes)}


@dataclass
class Paste:
    """What the readers made of one pasted text."""

    dumps: list[Dump]
    facts: dict[str, Any]
    known: set[str]
    partial: set[str]
    report: Optional[dict[str, Any]] = None   # a whole envdoctor report, when that was pasted
    lines: int = 0

    @property
    def formats(self) -> list[dict[str, Any]]:
        return [d.describe() for d in self.dumps]


class PasteError(Exception):
    """A paste that cannot be read at all (too large, not text)."""


def reader_modules() -> list[Any]:
    return [importlib.import_module(f"{__name__}.{name}") for name in READERS]


def find_dumps(text: str) -> list[Dump]:
    """Every dump any reader recognises in ``text`` (already normalised), in the order
    they appear."""
    from envdoctor.readers.text import split_lines

    lines = split_lines(text)
    low = text.lower()
    dumps: list[Dump] = []
    taken: list[tuple[int, int]] = []
    for module in reader_modules():
        if not any(sign in low for sign in getattr(module, "SIGNS", ("",))):
            continue
        try:
            found = module.find(lines)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError,
                RecursionError) as exc:
            # A reader that cannot make sense of a mangled paste reads nothing; the
            # others still do. The report names it.
            found = [Dump(getattr(module, "FORMAT", module.__name__), "unreadable "
                          + getattr(module, "TITLE", module.__name__), 0, 0, used=False,
                          notes=[f"could not be read: {type(exc).__name__}"])]
        if len(found) > MAX_DUMPS_PER_FORMAT:
            # Real issues hold a few dumps; thousands are junk (or an attack on the time
            # this takes): the first ones are read and the report says how many were not.
            found[MAX_DUMPS_PER_FORMAT - 1].notes.append(
                f"and {len(found) - MAX_DUMPS_PER_FORMAT} more of this format not read")
            found = found[:MAX_DUMPS_PER_FORMAT]
        for dump in found:
            # A line belongs to one dump: collect_env quotes pip and conda lines, a JAX
            # printout embeds nvidia-smi; the more specific (earlier) reader keeps them.
            if any(dump.start >= a and dump.end <= b for a, b in taken):
                continue
            dumps.append(dump)
            taken.append((dump.start, dump.end))
    dumps.sort(key=lambda d: (d.start, d.end))
    return dumps


def read_paste(raw: bytes) -> Paste:
    """Read pasted bytes into facts; :class:`PasteError` when they cannot be used."""
    from envdoctor.readers.assemble import assemble
    from envdoctor.readers.text import normalise

    if len(raw) > MAX_TEXT_BYTES:
        raise PasteError(f"the paste is {len(raw):,} bytes; envdoctor searches at most "
                         f"{MAX_TEXT_BYTES:,} (1 MiB) of text for environment dumps (an "
                         "envdoctor JSON report may be up to 4 MiB)")
    text = normalise(raw)
    dumps = find_dumps(text)
    return assemble(dumps, lines=text.count("\n") + 1)
