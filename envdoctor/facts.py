"""The facts document: everything probes learned, as one JSON-serialisable dict.

Top level: ``schema_version``, ``envdoctor_version``, ``probes`` (how each probe went:
status ok/error/timeout, duration, error text) and one key per probe with what it found
(``None`` when the probe failed). Checks read this and nothing else, so the same checks
run on a saved report (``envdoctor check --from report.json``).
"""

from __future__ import annotations

import json
from typing import Any, Optional

SCHEMA_VERSION = 1

Facts = dict[str, Any]


class ReportError(Exception):
    """A file that is not a readable envdoctor report."""


def new_facts() -> Facts:
    from envdoctor import __version__

    return {"schema_version": SCHEMA_VERSION, "envdoctor_version": __version__, "probes": {}}


def probe_failure(facts: Facts, name: str) -> str | None:
    """Why probe ``name`` produced no facts, or None when it did."""
    records = facts.get("probes")
    record = records.get(name) if isinstance(records, dict) else None
    section = facts.get(name)
    if section is not None and not isinstance(section, dict):
        return f"the report's '{name}' facts are not in the expected form ({_kind(section)})"
    if section is not None:
        return None
    if not isinstance(record, dict) or not record:
        return f"probe '{name}' did not run"
    if record.get("status") == "timeout":
        return f"probe '{name}' timed out after {record.get('timeout_s', '?')} s"
    return f"probe '{name}' failed: {record.get('error') or 'no facts'}"


# Readers for checks: saved reports get hand-edited, so a value of the wrong type is
# "unknown" (an empty dict or list, None), never a crash.
def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a dict, else ``{}``."""
    return value if isinstance(value, dict) else {}


def dicts(value: Any) -> list[dict[str, Any]]:
    """The dict entries of a list (other entries and non-lists are ignored)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def strings(value: Any) -> list[str]:
    """The string entries of a list (other entries and non-lists are ignored)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def text(value: Any) -> str | None:
    """``value`` when it is a string, else None."""
    return value if isinstance(value, str) else None


def number(value: Any) -> int | float | None:
    """``value`` when it is an int or a float (not a bool), else None."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _kind(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "a number", float: "a number",
             list: "a list"}
    return names.get(type(value), type(value).__name__) + ", not an object"


_STATUSES = ("ok", "error", "timeout")
_HEADER = ("schema_version", "envdoctor_version", "probes")


_MAX_DEPTH = 32  # real facts nest about 6 deep


def _tame(value: Any, depth: int = 0) -> Any:
    """``value`` with what JSON output cannot carry made unknown (None): NaN and the
    infinities, and containers nested deeper than real facts ever are; lone surrogates
    (``"\\ud800"`` is valid JSON, but not UTF-8) are made valid text
    (:func:`envdoctor.redact.valid_text`)."""
    if isinstance(value, str):
        from envdoctor.redact import valid_text

        return valid_text(value)
    if isinstance(value, float):
        import math

        return value if math.isfinite(value) else None
    if isinstance(value, (dict, list)) and depth >= _MAX_DEPTH:
        return None
    if isinstance(value, dict):
        return {_tame(key): _tame(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_tame(item, depth + 1) for item in value]
    return value


def sanitize(facts: Facts) -> Facts:
    """A copy of a loaded (pasted, perhaps hand-edited) facts document in the shape the
    report schema promises: a section that is not an object becomes ``None`` with a probe
    record saying why (checks that need it report "could not run"), and probe records
    keep only well-formed fields; NaN, infinities and absurdly deep nesting become None.
    Well-formed documents come back unchanged."""
    clean: Facts = {}
    version = facts.get("schema_version")
    clean["schema_version"] = version if isinstance(version, int) and \
        not isinstance(version, bool) and version >= 1 else SCHEMA_VERSION
    if isinstance(facts.get("envdoctor_version"), str):
        clean["envdoctor_version"] = facts["envdoctor_version"]
    raw = facts.get("probes")
    records: dict[str, Any] = {}
    for name, record in (raw.items() if isinstance(raw, dict) else ()):
        if not isinstance(record, dict):
            continue
        good = {key: value for key, value in _tame(record).items()
                if not ((key in ("duration_ms", "timeout_s") and number(value) is None)
                        or (key == "error" and not isinstance(value, str)))}
        if good.get("status") not in _STATUSES:
            good["status"] = "ok" if isinstance(facts.get(name), dict) else "error"
        records[name] = good
    clean["probes"] = records
    for name, section in facts.items():
        if name in _HEADER:
            continue
        if section is None or isinstance(section, dict):
            clean[name] = _tame(section)
            continue
        clean[name] = None
        records[name] = {"status": "error", "error": "the report's "
                         f"'{name}' facts are not in the expected form ({_kind(section)})"}
    return clean


# The largest saved report envdoctor reads (diff, wheel --from, summarize per report):
# a real report is 30 KB to 1 MB. Larger is not a report: it is refused before it is
# read (a 61 MB paste took 50 s and 1.25 GB). ENVDOCTOR_MAX_REPORT_BYTES overrides it
# (summarize also takes --max-report-size).
MAX_REPORT_BYTES = 16 * 1024 * 1024


def max_report_bytes() -> int:
    import os

    raw = os.environ.get("ENVDOCTOR_MAX_REPORT_BYTES", "")
    try:
        value = int(raw)
    except ValueError:
        return MAX_REPORT_BYTES
    return value if value > 0 else MAX_REPORT_BYTES


class NotARegularFile(OSError):
    """A FIFO, device, socket or folder where a report file was expected."""


def open_regular(path: str):  # -> BinaryIO
    """``path`` opened for reading when it is a regular file (after symlinks); otherwise
    :class:`NotARegularFile`. Never blocks: a FIFO is refused, not waited on, and a link
    to /dev/zero is refused before a byte is read."""
    import os
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                 | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device"
                    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a folder"
                    if stat.S_ISDIR(mode) else "not a regular file")
            raise NotARegularFile(0, f"{what}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def file_size(fh) -> int:
    import os

    return os.fstat(fh.fileno()).st_size


class TooLarge(OSError):
    """A report file over the size limit."""


def read_bytes(path: str, limit: Optional[int] = None) -> bytes:
    """The bytes of the regular file ``path``, or of standard input for ``-``, at most
    ``limit`` (:func:`max_report_bytes` when None): :class:`TooLarge` over it (checked on
    the size first, so a huge or sparse file is never read), :class:`NotARegularFile`
    for a FIFO or device, OSError when it cannot be read."""
    limit = max_report_bytes() if limit is None else limit
    if path == "-":
        import sys

        data = sys.stdin.buffer.read(limit + 1)
    else:
        with open_regular(path) as fh:
            size = file_size(fh)
            if size > limit:
                raise TooLarge(0, _too_large(limit))
            # read(n) allocates n bytes up front: ask for what the file holds (+1 to see
            # it grew), not for the limit
            data = fh.read(size + 1)
            if len(data) > size:
                data += fh.read(limit + 1 - len(data))
    if len(data) > limit:
        raise TooLarge(0, _too_large(limit))
    return data


def _too_large(limit: int) -> str:
    return (f"larger than {limit:,} bytes, the most envdoctor reads as one report "
            "(ENVDOCTOR_MAX_REPORT_BYTES, or summarize --max-report-size, raise it)")


def decode_report(raw: bytes, errors: str = "strict") -> str:
    """A saved report's bytes as text: UTF-8, without the BOM Notepad writes, or UTF-16
    when it starts with a UTF-16 BOM (Windows PowerShell's ``>``)."""
    encoding = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    return raw.decode(encoding, errors)


def load_report(path: str, accept_newer: bool = False) -> dict[str, Any]:
    """Read a saved JSON report (or ``-`` for stdin) and return it; :class:`ReportError`
    with a plain message when it cannot be used. ``accept_newer`` lets a caller that
    only compares reports (``diff``) read a newer schema version too."""
    try:
        raw = read_bytes(path)
    except TooLarge as exc:
        raise ReportError(f"{path} is {exc.strerror}") from None
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_report(raw, path, accept_newer)


def looks_like_report(raw: bytes) -> bool:
    """Whether ``raw`` is meant to be a JSON report (a ``{`` or a fenced block first),
    not another kind of paste."""
    head = decode_report(raw[:64], errors="replace").lstrip()
    return head.startswith(("{", "[", "```json")) or (head.startswith("```") and
                                                 decode_report(raw, "replace").strip()
                                                 .split("\n", 1)[-1].lstrip()
                                                 .startswith("{"))


def parse_report(raw: bytes, path: str, accept_newer: bool = False) -> dict[str, Any]:
    """A saved report's bytes (see :func:`load_report`)."""
    text = decode_report(raw, errors="replace").strip()
    # People paste reports from issue trackers: accept a ```json fenced block too.
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ReportError(f"{path} is not valid JSON ({exc})") from None
    except RecursionError:
        raise ReportError(f"{path} is not an envdoctor report (JSON nested too deeply)") \
            from None
    return check_report(data, path, accept_newer)


def check_report(data: Any, name: str = "the report",
                 accept_newer: bool = False) -> dict[str, Any]:
    """``data`` (a parsed JSON document) tamed, when it is an envdoctor report this
    version reads; :class:`ReportError` naming ``name`` otherwise."""
    data = _tame(data)
    if not isinstance(data, dict) or not isinstance(data.get("facts"), dict):
        raise ReportError(f"{name} is not an envdoctor report (no 'facts' object)")
    facts = data["facts"]
    version = facts.get("schema_version", data.get("schema_version"))
    if not isinstance(version, int):
        raise ReportError(f"{name} has no schema_version; is it an envdoctor report?")
    if version > SCHEMA_VERSION and not accept_newer:
        raise ReportError(
            f"{name} uses report schema {version}; this envdoctor reads up to "
            f"{SCHEMA_VERSION}: upgrade envdoctor (pip install -U envdoctor)")
    return data
