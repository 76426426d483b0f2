"""Write a report file atomically: a node that dies mid-write leaves no half report.

The text goes to a hidden temporary file in the target's folder (``.NAME.XXXX.tmp``: not
``*.json`` nor ``*.prom``, so neither ``envdoctor summarize`` nor node_exporter's textfile
collector ever reads it), is flushed and fsync'ed, gets the permissions a plainly
created file would have, and is renamed over the target in one step. Readers see the
old file or the new one, never a mix. The folder is fsync'ed too, so the rename itself
survives a power cut.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, Optional, Union

Text = Union[str, Iterable[str]]


def host_name() -> str:
    """This machine's host name as the OS reports it (``unknown-host`` when it cannot)."""
    try:
        name = os.uname().nodename if hasattr(os, "uname") else \
            os.environ.get("COMPUTERNAME", "")
    except OSError:
        name = ""
    return name or "unknown-host"


def safe_name(name: str) -> str:
    """A host name made safe for a file name (no separators, no leading dot)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).lstrip(".")
    return safe or "unknown-host"


def expand_name(template: str, hostname: Optional[str] = None) -> str:
    """``{host}`` in an output file name becomes this machine's host name."""
    if "{host}" in template:
        template = template.replace("{host}", safe_name(hostname or host_name()))
    return template


def _umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def _file_mode(path: str) -> int:
    """Keep the mode of the file we replace; otherwise what open() would have given.

    mkstemp creates 0600 files; a textfile collector running as another user could not
    read those."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _fsync_dir(folder: str) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: str, text: Text) -> None:
    """Write ``text`` (a string, or an iterable of string chunks) to a temporary file
    beside ``path``, fsync it, then rename it over ``path``. Missing parent folders are
    created. On any failure the temporary file is removed and ``path`` is untouched."""
    import tempfile  # only here: it pulls in random and hashing

    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            if isinstance(text, str):
                fh.write(text)
            else:
                for chunk in text:
                    fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        if hasattr(os, "chmod"):
            os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)


def write_report(template: str, report: dict[str, Any], fmt: str) -> str:
    """Render ``report`` as ``fmt`` (json when the format is text) into the file named by
    ``template`` (``{host}`` expanded); returns the path written."""
    from envdoctor import render

    path = expand_name(template)
    # A report file is for machines or trackers: text output still writes JSON.
    chosen = "json" if fmt == "text" else fmt
    write_atomic(path, render.get(chosen)(report, stream=None))
    return path
