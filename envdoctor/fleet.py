"""The fleet view: many reports in, one summary out, streaming.

Reports are read one at a time (JSON files, or JSON lines: one report per line) and
folded into a :class:`Summary`; nothing of a report is kept but its host name, one
status letter per check and the problems it shares with other hosts. Memory grows with
the summary (hosts, checks, distinct problems), not with the size of the input.

A file that cannot be used (not JSON, truncated, not an envdoctor report) is recorded
with the reason and the run goes on: one bad node never hides the others.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import Any, Optional

from envdoctor.facts import as_dict, decode_report, dicts, read_bytes

STATUSES = ("pass", "warn", "fail", "skip", "error")
LETTER = {"pass": "P", "warn": "W", "fail": "F", "skip": "S", "error": "E"}
STATUS_OF = {v: k for k, v in LETTER.items()}
ABSENT = "."
FAIL_ON = {"fail": ("fail",), "warn": ("fail", "warn")}
LEVEL_RANK = {"error": 0, "warning": 1, "info": 2}
REPORT_SUFFIXES = (".json", ".jsonl", ".ndjson")
LINE_SUFFIXES = (".jsonl", ".ndjson")

EXIT_OK, EXIT_FAILING, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


class NotAReport(ValueError):
    """A JSON document that is not an envdoctor report."""


def report_files(paths: Iterable[str], errors: list[tuple[str, str]]) -> Iterator[str]:
    """Files named, and report files (*.json, *.jsonl, *.ndjson; not hidden) found under
    folders named, in a stable order. Paths that do not exist go to ``errors``."""
    for path in paths:
        if path == "-":
            yield path  # standard input: `kubectl logs ... | envdoctor summarize -`
        elif os.path.isdir(path):
            yield from _walk(path, errors)
        elif os.path.exists(path):
            yield path
        else:
            errors.append((path, "no such file or directory"))


def _walk(folder: str, errors: list[tuple[str, str]]) -> Iterator[str]:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        errors.append((folder, f"cannot list: {exc.strerror or exc}"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue  # hidden: includes the temporary files of an atomic write in progress
        try:
            is_dir = entry.is_dir(follow_symlinks=False)  # no loops through links
        except OSError:
            is_dir = False
        if is_dir:
            yield from _walk(entry.path, errors)
        elif entry.name.lower().endswith(REPORT_SUFFIXES):
            yield entry.path


_TOO_DEEP = "not an envdoctor report (JSON nested too deeply)"


def _json_error(exc: ValueError, size: int) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text (binary or corrupted file)"
    pos = getattr(exc, "pos", None)
    msg = getattr(exc, "msg", None) or str(exc)
    # "Unterminated string" is reported at the string's start, but it only happens when
    # the text ends inside the string: a cut file too.
    if pos is not None and ((pos >= size - 2 and msg.startswith(("Expecting", "Unterminated")))
                            or msg.startswith("Unterminated string")):
        return f"truncated: the JSON ends early ({size} bytes)"
    if pos is not None:
        return f"not valid JSON ({msg} at byte {pos})"
    return f"not valid JSON ({msg})"


def check_report(data: Any) -> dict[str, Any]:
    """``data`` if it looks like an envdoctor report; :class:`NotAReport` saying why not."""
    if not isinstance(data, dict):
        raise NotAReport(f"not an envdoctor report (a JSON {type(data).__name__}, "
                         "not an object)")
    facts = data.get("facts")
    if not isinstance(facts, dict) or not isinstance(data.get("checks"), list):
        raise NotAReport("not an envdoctor report (no 'facts' object and 'checks' list)")
    version = facts.get("schema_version", data.get("schema_version"))
    if not isinstance(version, int) or isinstance(version, bool):
        raise NotAReport("not an envdoctor report (no schema_version)")
    for check in data["checks"]:
        if not isinstance(check, dict) or check.get("status") not in LETTER \
                or not isinstance(check.get("id"), str):
            raise NotAReport("damaged envdoctor report (a check without id or valid status)")
    return data


def read_reports(path: str, max_bytes: Optional[int] = None
                 ) -> Iterator[tuple[Optional[int], Any]]:
    """(line number or None, report dict or error text) for each report in a file.
    Regular files only (a FIFO or a link to /dev/zero is an error, not a hang); each
    report at most ``max_bytes`` (facts.max_report_bytes() by default)."""
    from envdoctor.facts import TooLarge, max_report_bytes

    limit = max_report_bytes() if max_bytes is None else max_bytes
    try:
        if path.lower().endswith(LINE_SUFFIXES):
            yield from _read_lines(path, limit)
            return
        raw = read_bytes(path, limit)
    except TooLarge as exc:  # (JSON lines: held to the limit line by line, above)
        yield None, exc.strerror
        return
    except OSError as exc:
        yield None, f"cannot read: {exc.strerror or exc}"
        return
    if not raw.strip():
        yield None, "empty file"
        return
    try:
        data = json.loads(decode_report(raw))
    except ValueError as exc:
        if getattr(exc, "msg", "") == "Extra data":
            # Several documents in a .json file (or stdin): JSON lines under another name.
            if path == "-":
                yield from _parse_lines(raw.splitlines(keepends=True))
                return
            del raw
            yield from _read_lines(path, limit)
            return
        yield None, _json_error(exc, len(raw))
        return
    except RecursionError:
        yield None, _TOO_DEEP
        return
    del raw
    try:
        yield None, check_report(data)
    except NotAReport as exc:
        yield None, str(exc)


def _read_lines(path: str, limit: int) -> Iterator[tuple[Optional[int], Any]]:
    from envdoctor.facts import open_regular

    try:
        fh = open_regular(path)
    except OSError as exc:
        yield None, f"cannot read: {exc.strerror or exc}"
        return
    with fh:
        yield from _parse_lines(_bounded_lines(fh, limit), limit)


_OVERSIZED = object()


def _bounded_lines(fh: Any, limit: int) -> Iterator[Any]:
    """The file's lines, each read with a bound: a line over ``limit`` bytes is skipped
    (without holding it) and stands as a marker the parser reports."""
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while True:  # skip the rest of the overlong line
                rest = fh.readline(1 << 20)
                if not rest or rest.endswith(b"\n"):
                    break
            yield _OVERSIZED
            continue
        yield line


def _parse_lines(lines: Iterable[Any], limit: Optional[int] = None
                 ) -> Iterator[tuple[Optional[int], Any]]:
    from envdoctor.facts import _too_large, max_report_bytes

    for number, line in enumerate(lines, 1):
        if line is _OVERSIZED:
            yield number, _too_large(limit or max_report_bytes())
            continue
        if not line.strip():
            continue
        try:
            data = json.loads(decode_report(line))
        except ValueError as exc:
            yield number, _json_error(exc, len(line.rstrip()))
            continue
        except RecursionError:
            yield number, _TOO_DEEP
            continue
        try:
            yield number, check_report(data)
        except NotAReport as exc:
            yield number, str(exc)


def label_for(path: str, line: Optional[int]) -> str:
    """The host name of a report that carries none (redacted): from its file name."""
    name = "stdin" if path == "-" else os.path.basename(path)
    for suffix in REPORT_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    if name.lower().endswith(".report"):
        name = name[: -len(".report")]
    return f"{name}:{line}" if line is not None else (name or path)


class Summary:
    """Hosts x checks, grouped problems, unreadable inputs: built one report at a time."""

    def __init__(self, fail_on: str = "fail") -> None:
        self.fail_on = fail_on
        self.columns: dict[str, int] = {}
        self.titles: dict[str, str] = {}
        # host -> [file, status letters (one per column), exit code, incomplete]
        self.hosts: dict[str, list[Any]] = {}
        self.problems: dict[tuple, dict[str, Any]] = {}
        self.unreadable: list[dict[str, Any]] = []
        self.duplicates: list[dict[str, str]] = []
        self.schema_versions: dict[int, int] = {}
        self.reports = 0

    def _column(self, check_id: str, title: str) -> int:
        col = self.columns.get(check_id)
        if col is None:
            col = self.columns[check_id] = len(self.columns)
            self.titles[check_id] = title
        return col

    def add_error(self, path: str, line: Optional[int], message: str) -> None:
        self.unreadable.append({"file": path, "line": line, "host": label_for(path, line),
                                "error": message})

    def add(self, report: dict[str, Any], path: str, line: Optional[int]) -> str:
        host = as_dict(report.get("source")).get("host")
        host = host if isinstance(host, str) else None
        label = host or label_for(path, line)
        if label in self.hosts:
            where = f"{path}:{line}" if line is not None else path
            self.duplicates.append({"host": label, "file": where,
                                    "first": self.hosts[label][0]})
            label = f"{label} ({where})"
        self.reports += 1
        version = (report.get("facts") or {}).get("schema_version")
        self.schema_versions[version] = self.schema_versions.get(version, 0) + 1
        letters: dict[int, str] = {}
        for check in report["checks"]:
            check_id = check["id"]
            status = check["status"]
            letters[self._column(check_id, str(check.get("title") or check_id))] = LETTER[status]
            if status in ("pass", "skip"):
                continue
            self._problems(check, status, label)
        row = "".join(letters.get(i, ABSENT) for i in range(max(letters, default=-1) + 1))
        summary = as_dict(report.get("summary"))
        self.hosts[label] = [path if line is None else f"{path}:{line}", row,
                             summary.get("exit_code"), bool(summary.get("incomplete")),
                             _host_gpus(report)]
        return label

    def _problems(self, check: dict[str, Any], status: str, host: str) -> None:
        findings = [f for f in dicts(check.get("findings"))
                    if f.get("level") in ("error", "warning")]
        if status == "error" or not findings:
            level = "error" if status in ("fail", "error") else "warning"
            keys = [(check["id"], None, level, str(check.get("summary") or status), "",
                     status == "error")]
        else:
            keys = [(check["id"], f["code"] if isinstance(f.get("code"), str) else None,
                     f["level"], str(f.get("message")), str(f.get("hint") or ""), False)
                    for f in findings]
        for key in keys:
            group = self.problems.get(key[:4])
            if group is None:
                group = self.problems[key[:4]] = {
                    "check": key[0], "code": key[1], "level": key[2], "message": key[3],
                    "hint": key[4], "check_error": key[5], "hosts": []}
            if not group["hosts"] or group["hosts"][-1] != host:
                group["hosts"].append(host)

    def failing(self, host: str) -> bool:
        letters = {LETTER[s] for s in FAIL_ON[self.fail_on]}
        return any(ch in letters for ch in self.hosts[host][1])

    def result(self, expected: Optional[list[str]] = None) -> dict[str, Any]:
        """The summary as one JSON-serialisable document."""
        ids = list(self.columns)
        counts = {check_id: {s: 0 for s in STATUSES} for check_id in ids}
        failing, incomplete = [], []
        hosts: dict[str, Any] = {}
        vendors: dict[str, int] = {}
        for host, (where, row, code, partial, gpus) in self.hosts.items():
            for vendor in sorted({str(g.get("vendor")) for g in gpus}):
                vendors[vendor] = vendors.get(vendor, 0) + 1
            statuses = {ids[i]: STATUS_OF[ch] for i, ch in enumerate(row) if ch != ABSENT}
            for check_id, status in statuses.items():
                counts[check_id][status] += 1
            if self.failing(host):
                failing.append(host)
            elif partial or code == EXIT_INCOMPLETE:
                incomplete.append(host)
            hosts[host] = {"file": where, "exit_code": code, "statuses": statuses,
                           "gpus": gpus}
        reported = set(self.hosts) | {u["host"] for u in self.unreadable}
        reported |= {name.split(".", 1)[0] for name in reported}
        missing = sorted({name for name in expected or []
                          if name not in reported and name.split(".", 1)[0] not in reported})
        problems = sorted(self.problems.values(),
                          key=lambda p: (LEVEL_RANK.get(p["level"], 3), -len(p["hosts"]),
                                         p["check"], str(p["code"]), p["message"]))
        problems = [dict(p, count=len(p["hosts"])) for p in problems]
        if failing:
            code = EXIT_FAILING
        elif self.unreadable or missing or incomplete:
            code = EXIT_INCOMPLETE
        else:
            code = EXIT_OK
        return {
            "reports": self.reports,
            "hosts_count": len(self.hosts),
            "fail_on": self.fail_on,
            "exit_code": code,
            "checks": [{"id": c, "title": self.titles[c], "counts": counts[c]} for c in ids],
            "problems": problems,
            "failing_hosts": failing,
            "incomplete_hosts": incomplete,
            "unreadable": self.unreadable,
            "missing_hosts": missing,
            "duplicates": self.duplicates,
            "schema_versions": {str(k): v for k, v in sorted(self.schema_versions.items(),
                                                             key=lambda kv: str(kv[0]))},
            "hosts": hosts,
            "gpu_vendors": vendors,
        }


def _host_gpus(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's GPUs, every vendor: ``[{"vendor", "name", "arch"}]``."""
    from envdoctor.render import gpu_rows

    try:
        rows = gpu_rows(report)
    except Exception:  # a hand-edited report: no GPUs rather than a traceback
        return []
    return [{"vendor": str(r.get("vendor")), "name": r.get("name"), "arch": r.get("arch")}
            for r in rows]


def summarize(paths: Iterable[str], fail_on: str = "fail",
              expected: Optional[list[str]] = None,
              max_bytes: Optional[int] = None) -> dict[str, Any]:
    """Read every report under ``paths`` (streaming, each at most ``max_bytes``) and
    return the fleet summary."""
    summary = Summary(fail_on)
    errors: list[tuple[str, str]] = []
    for path in report_files(paths, errors):
        for line, item in read_reports(path, max_bytes):
            if isinstance(item, dict):
                summary.add(item, path, line)
            else:
                summary.add_error(path, line, item)
        while errors:
            bad, message = errors.pop(0)
            summary.add_error(bad, None, message)
    for bad, message in errors:
        summary.add_error(bad, None, message)
    return summary.result(expected)


# ---------------------------------------------------------------------------- rendering

def _hosts_text(hosts: list[str], limit: int = 8) -> str:
    shown = ", ".join(hosts[:limit])
    return shown + (f", ... (+{len(hosts) - limit} more)" if len(hosts) > limit else "")


def render_text(result: dict[str, Any], show_all: bool = False, matrix_limit: int = 40) -> str:
    n = result["hosts_count"]
    bad = len(result["unreadable"]) + len(result["missing_hosts"])
    lines = [f"envdoctor summarize: {result['reports']} report(s) from {n} host(s)"
             + (f"; {bad} failed to report" if bad else "")]
    vendors = result.get("gpu_vendors") or {}
    if vendors:
        names = {"nvidia": "NVIDIA", "amd": "AMD", "apple": "Apple"}
        lines.append("GPUs: " + ", ".join(
            f"{names.get(v, v)} on {k} host{'s' if k != 1 else ''}"
            for v, k in sorted(vendors.items())))
    lines.append("")
    checks = result["checks"]
    if checks:
        width = max(len(c["id"]) for c in checks) + 2
        lines.append(f"  {'check':<{width}}" + "".join(f"{s:>7}" for s in STATUSES))
        for c in checks:
            lines.append(f"  {c['id']:<{width}}"
                         + "".join(f"{c['counts'][s]:>7}" for s in STATUSES))
        lines.append("")

    problems = result["problems"]
    if problems:
        lines.append(f"Problems, grouped ({len(problems)}):")
        for p in problems if show_all else problems[:30]:
            what = f"{p['code']}: " if p["code"] else f"{p['check']}: "
            lines.append(f"  [{p['level']}] {p['count']} host{'s' if p['count'] != 1 else ''}: "
                         f"{what}{p['message']}")
            hint = str(p["hint"]).split("\n") if p["hint"] else []
            if hint:  # every line: "Ways out:" alone says nothing
                lines.append(f"      -> {hint[0]}")
                lines += [f"         {line}" for line in hint[1:]]
            lines.append(f"      hosts: {_hosts_text(p['hosts'], 1000000 if show_all else 8)}")
        if not show_all and len(problems) > 30:
            lines.append(f"  ... and {len(problems) - 30} more (--all or --json)")
        lines.append("")

    hosts = result["hosts"]
    if hosts and (show_all or n <= matrix_limit):
        legend = "P pass, W warn, F fail, S skip, E error, . not run"
        lines.append(f"Hosts x checks ({legend}):")
        hwidth = max(len(h) for h in hosts) + 2
        lines.append(f"  {'':<{hwidth}}" + " ".join(f"{i + 1:>2}" for i in range(len(checks))))
        for host, info in hosts.items():
            marks = [LETTER.get(info["statuses"].get(c["id"], ""), ABSENT) for c in checks]
            lines.append(f"  {host:<{hwidth}}" + " ".join(f"{m:>2}" for m in marks))
        lines.append("  " + "  ".join(f"{i + 1}={c['id']}" for i, c in enumerate(checks)))
        lines.append("")
    elif result["failing_hosts"]:
        failing = result["failing_hosts"]
        lines.append(f"Hosts failing at the '{result['fail_on']}' level ({len(failing)}):")
        for host in failing[:matrix_limit]:
            statuses = hosts[host]["statuses"]
            bad_checks = [f"{c}={s}" for c, s in statuses.items() if s in ("fail", "warn",
                                                                        "error")]
            lines.append(f"  {host}: {', '.join(bad_checks)}")
        if len(failing) > matrix_limit:
            lines.append(f"  ... and {len(failing) - matrix_limit} more (--all or --json)")
        lines.append("")

    if result["unreadable"] or result["missing_hosts"]:
        lines.append(f"Hosts that failed to report ({bad}):")
        for item in result["unreadable"]:
            where = item["file"] + (f":{item['line']}" if item["line"] is not None else "")
            lines.append(f"  {where}: {item['error']}")
        for host in result["missing_hosts"]:
            lines.append(f"  {host}: no report")
        lines.append("")
    if result["incomplete_hosts"]:
        lines.append(f"Incomplete reports (a probe timed out or a check errored): "
                     f"{_hosts_text(result['incomplete_hosts'])}")
    for dup in result["duplicates"]:
        lines.append(f"notice: host {dup['host']} reported twice ({dup['first']} and "
                     f"{dup['file']}); both kept")
    failing = len(result["failing_hosts"])
    lines.append(f"{n - failing} of {n} host(s) healthy at the '{result['fail_on']}' level; "
                 f"{failing} failing.")
    from envdoctor.render.escape import terminal

    # Host names, messages, hints and file names come from the reports: each line is
    # escaped for the terminal, so a control character or newline is shown, not obeyed.
    return "\n".join(terminal(line) for line in lines) + "\n"
