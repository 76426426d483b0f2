"""``envdoctor.diagnose()``: the same diagnosis as ``envdoctor check``, as a :class:`Report`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional, Union

from envdoctor.api.report import Report

Selectors = Union[str, Iterable[str], None]
FAIL_ON = ("warn", "fail")


def _words(value: Selectors, name: str) -> list[str]:
    """``"gpu,cuda"``, ``["gpu", "cuda"]`` or None -> ``["gpu", "cuda"]``."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    words: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"{name} takes check ids, areas or tags as strings, "
                            f"not {type(item).__name__}")
        words.extend(w.strip() for w in item.split(",") if w.strip())
    return words


def diagnose(only: Selectors = None, *, skip: Selectors = None, frameworks: bool = True,
             timeout: float = 10.0, fail_on: str = "fail", redact: bool = True,
             from_report: Optional[dict[str, Any]] = None) -> Report:
    """Diagnose this machine, as ``envdoctor check`` does, and return the report.

    ``only`` / ``skip``: check ids (``"env.cuda_visible_devices"``), areas (``"gpu"``) or
    tags, as one comma-separated string or a list; only the probes those checks read are
    run. ``frameworks=False`` does not import frameworks in child processes (faster; the
    installed builds are still judged from their files). ``timeout``: seconds each probe
    may take. ``fail_on``: ``"fail"`` or ``"warn"``, the lowest status that makes
    :attr:`Report.exit_code` 1. ``redact=False`` keeps user, home and host names.
    ``from_report``: a saved report document (``json.load`` of ``envdoctor check
    --json`` output) whose facts are re-checked instead of probing this machine.

    Problems of the machine never raise: they are in the report. Arguments that make no
    sense raise ``ValueError`` (an unknown check id names the unknown words) or
    ``TypeError``. Safe to call from several threads.
    """
    from envdoctor import doctor

    if fail_on not in FAIL_ON:
        raise ValueError(f"fail_on must be 'fail' or 'warn', not {fail_on!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    opts = doctor.Options(only=_words(only, "only"), skip=_words(skip, "skip"),
                          timeout=float(timeout), fail_on=fail_on, redact=bool(redact),
                          no_frameworks=not frameworks)
    unknown = doctor.unknown_selectors(opts)
    if unknown:
        raise ValueError(f"no check, area or tag named {', '.join(map(repr, unknown))} "
                         "(see `envdoctor list`)")
    if from_report is not None:
        from envdoctor.facts import ReportError, check_report

        try:
            opts.from_report = check_report(from_report)
        except ReportError as exc:
            raise ValueError(str(exc)) from None
        opts.from_file = "<from_report>"
    return Report(doctor.diagnose(opts))
