"""Prometheus text exposition format, for node_exporter's textfile collector.

Write it with ``envdoctor check --format prometheus --output DIR/envdoctor.prom``: the
file is replaced atomically, so the collector never reads half of it. Every check gets
one series per possible status (1 for its status, 0 for the others), so an alert on
``envdoctor_check_status{status="fail"} == 1`` never loses its series when a check
recovers.
"""

from __future__ import annotations

import calendar
import time
from typing import Any

STATUSES = ("pass", "warn", "fail", "skip", "error")
LEVELS = ("error", "warning", "info")
PROBE_STATUSES = ("ok", "error", "timeout")


def escape_label(value: Any) -> str:
    """A label value as the exposition format wants it: \\ " and newline escaped, and
    any other control character (a hostile GPU name in a pasted report) shown, not
    sent raw."""
    from envdoctor.render.escape import terminal

    # First, line by line (a newline stays a newline, escaped below); the \\xNN forms it
    # writes are then escaped like any backslash.
    text = "\n".join(terminal(line) for line in str(value).split("\n"))
    return text.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def _labels(**labels: Any) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{escape_label(value)}"'
                          for key, value in labels.items()) + "}"


def _timestamp(text: Any) -> float | None:
    try:
        return float(calendar.timegm(time.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ")))
    except (ValueError, OverflowError):
        return None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class _Metrics:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, help_text: str, kind: str = "gauge") -> None:
        help_text = help_text.replace("\\", "\\\\").replace("\n", "\\n")
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, value: float, **labels: Any) -> None:
        self.lines.append(f"{name}{_labels(**labels)} {_number(value)}")


def render(report: dict[str, Any], **_: Any) -> str:
    out = _Metrics()
    checks = [c for c in report.get("checks") or [] if isinstance(c, dict)]
    summary = report.get("summary") or {}

    out.family("envdoctor_check_status",
               "Status of each envdoctor check: 1 for its current status, 0 for the others.")
    for check in checks:
        for status in STATUSES:
            out.sample("envdoctor_check_status", 1 if check.get("status") == status else 0,
                       check=check.get("id", "?"), status=status)

    out.family("envdoctor_check_findings",
               "Number of findings of each level reported by each check.")
    for check in checks:
        levels = [f.get("level") for f in check.get("findings") or [] if isinstance(f, dict)]
        for level in LEVELS:
            out.sample("envdoctor_check_findings", levels.count(level),
                       check=check.get("id", "?"), level=level)

    probes = (report.get("facts") or {}).get("probes") or {}
    if isinstance(probes, dict) and probes:
        out.family("envdoctor_probe_status",
                   "How each probe went: 1 for its status (ok, error, timeout), 0 otherwise.")
        for name in sorted(probes):
            record = probes[name] if isinstance(probes[name], dict) else {}
            for status in PROBE_STATUSES:
                out.sample("envdoctor_probe_status", 1 if record.get("status") == status else 0,
                           probe=name, status=status)

    out.family("envdoctor_checks", "Number of checks in each status.")
    for status in STATUSES:
        out.sample("envdoctor_checks",
                   sum(1 for c in checks if c.get("status") == status), status=status)

    out.family("envdoctor_exit_code",
               "Exit code of the run: 0 healthy, 1 findings at or above the fail level, "
               "3 incomplete.")
    out.sample("envdoctor_exit_code", int(summary.get("exit_code") or 0))

    stamp = _timestamp(report.get("generated_at"))
    if stamp is not None:
        out.family("envdoctor_report_timestamp_seconds",
                   "When the report was generated, in seconds since the Unix epoch.")
        out.sample("envdoctor_report_timestamp_seconds", stamp)

    if summary.get("duration_ms") is not None:
        out.family("envdoctor_run_duration_seconds", "How long the diagnosis took.")
        out.sample("envdoctor_run_duration_seconds",
                   round(float(summary["duration_ms"]) / 1000.0, 4))

    from envdoctor.render import gpu_rows

    gpus = gpu_rows(report)
    if gpus:
        out.family("envdoctor_gpu_info",
                   "Each GPU envdoctor found, of every vendor (nvidia, amd, apple): always 1.")
        for gpu in gpus:
            out.sample("envdoctor_gpu_info", 1, vendor=gpu.get("vendor", "?"),
                       index=gpu.get("index", "?"), model=gpu.get("name") or "?",
                       arch=gpu.get("arch") or "")
        sized = [g for g in gpus if isinstance(g.get("memory_total_mib"), (int, float))
                 and not isinstance(g.get("memory_total_mib"), bool)]
        if sized:
            out.family("envdoctor_gpu_memory_bytes",
                       "Memory of each GPU in bytes (Apple Silicon: the unified memory).")
            for gpu in sized:
                out.sample("envdoctor_gpu_memory_bytes",
                           int(gpu["memory_total_mib"] * 1024 * 1024),
                           vendor=gpu.get("vendor", "?"), index=gpu.get("index", "?"))

    out.family("envdoctor_info", "envdoctor version and report schema version.")
    out.sample("envdoctor_info", 1, version=report.get("envdoctor_version", "?"),
               schema_version=report.get("schema_version", "?"))
    return "\n".join(out.lines) + "\n"
