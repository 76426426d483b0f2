"""Merge the dumps found in one paste into one facts document.

An envdoctor report, when one was pasted, is used whole. Otherwise each fact comes from
the most trustworthy dump that states it (``PRIORITY``): nvidia-smi for the driver and
GPUs, nvcc for the toolkit, collect_env for torch, full package lists over the partial
one collect_env quotes. A second dump of the same format is not used (the report says
so), and two dumps that disagree on a fact are noted.
"""

from __future__ import annotations

from typing import Any

from envdoctor.readers import Dump, Paste

PRIORITY = ("envdoctor", "nvidia-smi-q", "nvidia-smi", "nvcc", "collect_env", "conda", "pip",
            "hf-env", "jax", "tensorflow", "torch-oneliner")


def assemble(dumps: list[Dump], lines: int = 0) -> Paste:
    from envdoctor.facts import new_facts

    reports = [d for d in dumps if d.report is not None]
    if reports:
        for dump in dumps:
            if dump is not reports[0]:
                dump.used = False
                dump.notes.append("not used: the envdoctor report at lines "
                                  f"{reports[0].start}-{reports[0].end} is")
        return Paste(dumps, reports[0].facts, {"*"}, set(), report=reports[0].report,
                     lines=lines)
    first: dict[tuple[str, str], Dump] = {}
    for dump in dumps:
        key = (dump.format, dump.title)
        if key in first:
            dump.used = False
            dump.notes.append(f"not used: a second {dump.title}; the one at lines "
                              f"{first[key].start}-{first[key].end} is used")
        else:
            first[key] = dump
    used = sorted((d for d in dumps if d.used),
                  key=lambda d: (PRIORITY.index(d.format) if d.format in PRIORITY
                                 else len(PRIORITY), d.start))
    facts = new_facts()
    known: set[str] = set()
    partial_by: dict[str, bool] = {}
    origin: dict[str, Dump] = {}
    for dump in used:
        for path in dump.known:
            known.add(path)
        for path in dump.partial:
            partial_by.setdefault(path, True)
        for path in dump.known - dump.partial:
            partial_by[path] = False
        _merge(facts, dump.facts, dump, origin, "")
    # Checks read the platform (Windows hints) and the environment variables beside
    # what they judge; a paste that does not give them leaves them empty (unknown).
    facts.setdefault("platform", {})
    facts.setdefault("env", {"variables": {}})
    facts.setdefault("cuda", {})
    for name, value in facts.items():
        if isinstance(value, dict) and name not in ("probes",):
            facts["probes"][name] = {"status": "ok"}
    partial = {path for path, is_partial in partial_by.items() if is_partial}
    return Paste(dumps, facts, known, partial, lines=lines)


def _merge(into: dict[str, Any], new: dict[str, Any], dump: Dump, origin: dict[str, Dump],
           prefix: str) -> None:
    """Fill what ``into`` lacks from ``new``; a differing value is noted, not replaced."""
    for key, value in new.items():
        path = f"{prefix}{key}"
        if key not in into or into[key] is None:
            into[key] = _copy(value)
            origin[path] = dump
        elif isinstance(into[key], dict) and isinstance(value, dict):
            _merge(into[key], value, dump, origin, path + ".")
        elif into[key] != value and not isinstance(value, (list, dict)):
            kept = origin.get(path)
            where = f"{kept.title} (lines {kept.start}-{kept.end})" if kept else "another dump"
            dump.notes.append(f"{path} is {value!s:.60} here but {into[key]!s:.60} in "
                              f"{where}, which is used")


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
