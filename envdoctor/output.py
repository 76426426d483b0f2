"""Write a report file atomically: a node that dies mid-write leaves no half report."""

from __future__ import annotations

import os
import tempfile
from typing import Any


def expand_name(template: str, hostname: str | None = None) -> str:
    """``{host}`` in an output file name becomes this machine's host name."""
    if "{host}" in template:
        if hostname is None:
            hostname = os.uname().nodename if hasattr(os, "uname") else \
                os.environ.get("COMPUTERNAME", "unknown-host")
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in hostname)
        template = template.replace("{host}", safe or "unknown-host")
    return template


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, fsync it, then rename."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".envdoctor-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_report(template: str, report: dict[str, Any], fmt: str) -> str:
    """Render ``report`` as ``fmt`` (json when the format is text) into the file."""
    from envdoctor import render

    path = expand_name(template)
    # A report file is for machines or trackers: text output still writes JSON.
    chosen = "json" if fmt == "text" else fmt
    write_atomic(path, render.get(chosen)(report, stream=None))
    return path
