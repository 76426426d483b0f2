"""What a check says: findings, outcomes and results.

A check function returns an :class:`Outcome` (use :func:`passed`, :func:`skipped` or
:func:`outcome`). The runner turns it into a :class:`CheckResult` with a status and a
duration. Levels are integers, so "at or above the fail level" is one comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Any, Optional


class Level(IntEnum):
    INFO = 20
    WARNING = 30
    ERROR = 40

    @property
    def label(self) -> str:
        return self.name.lower()


class Status(str, Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"


INFO, WARNING, ERROR = Level.INFO, Level.WARNING, Level.ERROR


@dataclass
class Finding:
    """One problem (or notable fact) with a stable code, e.g. ``cpu.E001``.

    ``hint`` is the exact next step: a command, a link or ``envdoctor fix NAME``.
    ``fix`` names the envdoctor fix that repairs it, when one exists.
    """

    code: str
    level: Level
    message: str
    hint: str = ""
    fix: Optional[str] = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "level": self.level.label,
            "message": self.message,
            "hint": self.hint,
            "fix": self.fix,
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            code=data["code"],
            level=Level[data["level"].upper()],
            message=data["message"],
            hint=data.get("hint", ""),
            fix=data.get("fix"),
            details=data.get("details") or {},
        )


@dataclass
class Outcome:
    """What a check function returns."""

    summary: str
    findings: list[Finding] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    skip_reason: Optional[str] = None

    @property
    def status(self) -> Status:
        if self.skip_reason is not None:
            return Status.SKIP
        top = max((f.level for f in self.findings), default=Level.INFO)
        if top >= Level.ERROR:
            return Status.FAIL
        if top >= Level.WARNING:
            return Status.WARN
        return Status.PASS


def passed(summary: str, details: Optional[dict[str, Any]] = None,
           findings: Optional[list[Finding]] = None) -> Outcome:
    """A healthy result; ``findings`` may carry INFO-level notes."""
    return Outcome(summary, list(findings or []), dict(details or {}))


def skipped(reason: str, details: Optional[dict[str, Any]] = None) -> Outcome:
    """Nothing to check here (no GPU, no framework installed...): never a failure."""
    return Outcome(f"skipped: {reason}", [], dict(details or {}), skip_reason=reason)


def outcome(summary: str, findings: list[Finding],
            details: Optional[dict[str, Any]] = None) -> Outcome:
    """A result whose status follows from the highest finding level."""
    return Outcome(summary, list(findings), dict(details or {}))


@dataclass
class CheckResult:
    id: str
    title: str
    status: Status
    summary: str
    findings: list[Finding] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    duration_ms: float = 0.0
    skip_reason: Optional[str] = None
    error: Optional[str] = None
    tags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "summary": self.summary,
            "tags": list(self.tags),
            "duration_ms": round(self.duration_ms, 3),
            "skip_reason": self.skip_reason,
            "error": self.error,
            "findings": [f.to_dict() for f in self.findings],
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        return cls(
            id=data["id"],
            title=data.get("title", data["id"]),
            status=Status(data["status"]),
            summary=data.get("summary", ""),
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            details=data.get("details") or {},
            duration_ms=float(data.get("duration_ms") or 0.0),
            skip_reason=data.get("skip_reason"),
            error=data.get("error"),
            tags=tuple(data.get("tags") or ()),
        )
