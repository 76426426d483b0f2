"""Write a report file atomically: a node that dies mid-write leaves no half report.

The text goes to a hidden temporary file in the target's folder (``.NAME.XXXX.tmp``: not
``*.json`` nor ``*.prom``, so neither ``envdoctor summarize`` nor node_exporter's textfile
collector ever reads it), is flushed and fsync'ed, gets the permissions a plainly
created file would have, and is renamed over the target in one step. Readers see the
old file or the new one, never a mix. The folder is fsync'ed too, so the rename itself
survives a power cut.

What is at the path decides how (``-o`` runs as root on cluster nodes):

- a regular file, or nothing in an existing folder: the atomic replace above;
- a character device or a FIFO (``/dev/null``, ``/dev/stdout``'s pipe, a named pipe):
  written through, never replaced (renaming over ``/dev/null`` as root would destroy
  the device node). A FIFO with no reader is an error, not a hang;
- a symbolic link: judged by what it points to, and a regular target is replaced at its
  own path (the rename never lands on the link, so the link stays a link);
- a folder, a block device, a socket, a dangling link, or a missing parent folder: an
  error (:class:`OutputError`). Parent folders are never created: a typo as root must
  not create ``/nonexistent``.
"""

from __future__ import annotations

import errno
import os
import stat
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


class OutputError(OSError):
    """The path cannot take a report (a folder, a block device, a missing folder...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.strerror = message


def _chunks(text: Text) -> Iterable[str]:
    return [text] if isinstance(text, str) else text


def _write_through(path: str, text: Text, fifo: bool) -> None:
    """Write into an existing character device or FIFO without replacing it."""
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0)
    if fifo:
        flags |= getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if fifo and exc.errno == errno.ENXIO:
            raise OutputError(f"{path} is a named pipe with no reader") from None
        raise
    if fifo and hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        for chunk in _chunks(text):
            fh.write(chunk)
        fh.flush()


def target_kind(path: str) -> tuple[str, str]:
    """How ``path`` will be written: ``("replace", real_path)`` or ``("through", path)``.
    Raises :class:`OutputError` for what cannot take a report."""
    if not path:
        raise OutputError("the output file name is empty")
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        st = None
    except OSError as exc:
        raise OutputError(f"{path}: {exc.strerror or exc}") from None
    real = path
    if st is not None and stat.S_ISLNK(st.st_mode):
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            raise OutputError(f"{path} is a symbolic link to a missing file") from None
        except OSError as exc:
            raise OutputError(f"{path}: {exc.strerror or exc}") from None
        if stat.S_ISREG(st.st_mode):
            real = os.path.realpath(path)
    if st is None:
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise OutputError(f"folder {folder} does not exist or is not a folder "
                              "(envdoctor does not create folders; mkdir -p it first)")
        return "replace", path
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return "replace", real
    if stat.S_ISCHR(mode):
        return "through", path
    if stat.S_ISFIFO(mode):
        return "fifo", path
    what = ("a folder" if stat.S_ISDIR(mode) else "a block device" if stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    raise OutputError(f"{path} is {what}")


def write_atomic(path: str, text: Text) -> None:
    """Write ``text`` (a string, or an iterable of string chunks) to ``path``.

    A regular file (or a new one in an existing folder) is replaced atomically: a
    temporary file beside it, fsync, rename. On any failure the temporary file is removed
    and ``path`` is untouched. Devices and FIFOs are written through; see the module
    docstring for the rest."""
    how, real = target_kind(path)
    if how != "replace":
        _write_through(real, text, fifo=how == "fifo")
        return
    _replace(real, text)


def _replace(path: str, text: Text) -> None:
    import tempfile  # only here: it pulls in random and hashing

    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            for chunk in _chunks(text):
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
