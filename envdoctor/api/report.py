"""Typed, read-only views of a report document (the JSON ``envdoctor check --json`` prints).

The document itself stays available as :attr:`Report.data` (its schema is
envdoctor/schema/report.schema.json, documented in docs/report-schema.md); these classes
give the parts an embedding library needs attribute names and types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional, TextIO

from envdoctor.facts import as_dict, dicts, text

STATUSES = ("pass", "warn", "fail", "skip", "error")
LEVELS = ("info", "warning", "error")


@dataclass(frozen=True)
class ReportFinding:
    """One finding: a stable ``code`` (``cuda.E001``), its ``level`` (``"info"``,
    ``"warning"`` or ``"error"``), what is wrong, and the exact next step (``hint``)."""

    check: str
    code: str
    level: str
    message: str
    hint: str = ""
    fix: Optional[str] = None

    @classmethod
    def from_dict(cls, check: str, data: dict[str, Any]) -> ReportFinding:
        level = text(data.get("level"))
        return cls(check=check, code=text(data.get("code")) or "?",
                   level=level if level in LEVELS else "info",
                   message=text(data.get("message")) or "", hint=text(data.get("hint")) or "",
                   fix=text(data.get("fix")))


@dataclass(frozen=True)
class CheckVerdict:
    """One check's result: ``status`` is ``"pass"``, ``"warn"``, ``"fail"``, ``"skip"``
    or ``"error"`` (the check could not run; ``error`` says why)."""

    id: str
    title: str
    status: str
    summary: str
    findings: tuple[ReportFinding, ...] = ()
    skip_reason: Optional[str] = None
    error: Optional[str] = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckVerdict:
        check_id = text(data.get("id")) or "?"
        status = text(data.get("status"))
        return cls(id=check_id, title=text(data.get("title")) or check_id,
                   status=status if status in STATUSES else "error",
                   summary=text(data.get("summary")) or "",
                   findings=tuple(ReportFinding.from_dict(check_id, f)
                                  for f in dicts(data.get("findings"))),
                   skip_reason=text(data.get("skip_reason")), error=text(data.get("error")))

    @property
    def ok(self) -> bool:
        """True when the check passed or had nothing to check."""
        return self.status in ("pass", "skip")


@dataclass(frozen=True)
class Report:
    """A diagnosis. ``data`` is the whole (redacted, unless asked otherwise) report
    document; the properties read it."""

    data: dict[str, Any]

    @property
    def exit_code(self) -> int:
        """What ``envdoctor check`` would exit with: 0 fine, 1 problems at or above
        ``fail_on``, 3 incomplete (a probe timed out or a check could not run)."""
        code = as_dict(self.data.get("summary")).get("exit_code")
        return code if isinstance(code, int) and not isinstance(code, bool) else 3

    @property
    def ok(self) -> bool:
        """True when nothing failed (``exit_code == 0``)."""
        return self.exit_code == 0

    @property
    def checks(self) -> tuple[CheckVerdict, ...]:
        return tuple(CheckVerdict.from_dict(c) for c in dicts(self.data.get("checks")))

    @property
    def findings(self) -> tuple[ReportFinding, ...]:
        """Every finding of every check, in report order."""
        return tuple(f for c in self.checks for f in c.findings)

    @property
    def problems(self) -> tuple[ReportFinding, ...]:
        """The findings at warning or error level (not the informational notes)."""
        return tuple(f for f in self.findings if f.level in ("warning", "error"))

    @property
    def facts(self) -> dict[str, Any]:
        """What the probes found, one key per probe (docs/report-schema.md)."""
        return as_dict(self.data.get("facts"))

    @property
    def primary_cause(self) -> Optional[dict[str, Any]]:
        """The first broken link of the GPU chain (``{"check", "code", ...}``) or None."""
        cause = as_dict(self.data.get("summary")).get("primary_cause")
        return cause if isinstance(cause, dict) else None

    def check(self, check_id: str) -> Optional[CheckVerdict]:
        """The verdict of check ``check_id`` (``"gpu.driver"``), or None if it did not run."""
        return next((c for c in self.checks if c.id == check_id), None)

    def codes(self) -> list[str]:
        """The finding codes, in report order (``["env.E001", ...]``)."""
        return [f.code for f in self.findings]

    def render(self, format: str = "text", *, verbose: bool = False,
               stream: Optional[TextIO] = None) -> str:
        """The report as ``envdoctor check`` prints it: ``"text"``, ``"json"``,
        ``"markdown"`` or ``"prometheus"``. Text is plain (no colour); ``stream`` decides
        whether it may use Unicode marks (default: whether stdout can encode them)."""
        from envdoctor import render

        try:
            renderer = render.get(format)
        except KeyError:
            raise ValueError(f"unknown format {format!r}: use text, json, markdown or "
                             "prometheus") from None
        return renderer(self.data, verbose=verbose, stream=stream, colour=False)

    def to_json(self) -> str:
        """The report document as JSON text (what ``envdoctor check --json`` prints)."""
        return json.dumps(self.data, indent=2, ensure_ascii=False, default=str)

    def __str__(self) -> str:
        return self.render()
