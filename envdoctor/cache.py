"""A small on-disk memo for pure, slow-to-import computations.

Some answers depend only on inputs that rarely change but cost a library import to
compute: this interpreter's wheel tags (``packaging.tags`` pulls in sysconfig and
logging) or the evaluation of every installed distribution's requirements
(``packaging``'s parser). :func:`memoize` stores such an answer in a JSON file named by
a hash of *all* its inputs, so a changed input is a different file, never a stale
answer. Any problem with the cache (unwritable folder, corrupt file) falls back to
computing the answer; the cache can never make a result wrong or a run fail.

What it reads back is not trusted (envdoctor runs as root; a cache folder may be shared
or tampered with). An entry is used only when all of these hold, otherwise the answer
is computed again:

- it is a regular file (never a FIFO, device or symlink: opened with ``O_NOFOLLOW`` and
  ``O_NONBLOCK``, then checked with ``fstat``), owned by this user and writable by no
  one else (POSIX), and at most :data:`MAX_ENTRY_BYTES` long (read with a bound);
- it parses as JSON (nesting too deep is a parse failure, not a crash) into
  ``{"namespace": ..., "key": ..., "value": ...}`` with this namespace and this key;
- the caller's ``valid(value)`` accepts the value's shape.

Entries are written 0600 through a temporary file and a rename.

Location: ``$ENVDOCTOR_CACHE_DIR``, else ``$XDG_CACHE_HOME/envdoctor``, else
``~/.cache/envdoctor`` (``%LOCALAPPDATA%\\envdoctor\\cache`` on Windows).
``ENVDOCTOR_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import json
import os
import stat
from typing import Any, Callable, Optional, TypeVar

T = TypeVar("T")

# The largest entry read back: a wheel tag table is ~40 KB; anything far larger is not
# an entry envdoctor wrote.
MAX_ENTRY_BYTES = 1 << 20
# Deepest nesting an entry may have (a tag table is 4 levels deep).
MAX_DEPTH = 16


def cache_dir() -> Optional[str]:
    env = os.environ
    if env.get("ENVDOCTOR_NO_CACHE"):
        return None
    if env.get("ENVDOCTOR_CACHE_DIR"):
        return env["ENVDOCTOR_CACHE_DIR"]
    if os.name == "nt" and env.get("LOCALAPPDATA"):
        return os.path.join(env["LOCALAPPDATA"], "envdoctor", "cache")
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "envdoctor")


def key_of(namespace: str, inputs: Any) -> str:
    from envdoctor import __version__

    try:  # the C module behind hashlib.blake2b, without hashlib's OpenSSL import (~2 ms)
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - other Python builds
        from hashlib import blake2b

    blob = json.dumps([namespace, __version__, inputs], sort_keys=True, default=str)
    return blake2b(blob.encode("utf-8", errors="replace"), digest_size=16).hexdigest()


def shallow(value: Any, max_depth: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests at most ``max_depth`` levels (checked without recursion,
    so a 100,000-deep list cannot overflow the stack here or in a check later)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def _trusted_bytes(path: str) -> Optional[bytes]:
    """The file's bytes when it is a regular file this user owns and only this user may
    write, and not larger than the limit; None otherwise (never blocks on a FIFO)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) \
        | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_ENTRY_BYTES:
            return None
        if os.name == "posix" and (st.st_uid != os.geteuid() or st.st_mode & 0o022):
            return None
        chunks, left = [], MAX_ENTRY_BYTES + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        return data if len(data) <= MAX_ENTRY_BYTES else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _read(path: str, namespace: str, key: str,
          valid: Optional[Callable[[Any], bool]]) -> tuple[bool, Any]:
    data = _trusted_bytes(path)
    if data is None:
        return False, None
    try:
        stored = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError, UnicodeDecodeError):
        return False, None
    if not isinstance(stored, dict) or stored.get("namespace") != namespace \
            or stored.get("key") != key or "value" not in stored:
        return False, None
    value = stored["value"]
    if not shallow(value):
        return False, None
    try:
        if valid is not None and not valid(value):
            return False, None
    except Exception:  # a validator that chokes on odd data means "not valid"
        return False, None
    return True, value


def _write(folder: str, path: str, text: str) -> None:
    import tempfile

    os.makedirs(folder, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".entry.", suffix=".tmp", dir=folder)  # 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def memoize(namespace: str, inputs: Any, compute: Callable[[], T],
            valid: Optional[Callable[[Any], bool]] = None) -> T:
    """``compute()``'s JSON-serialisable answer for ``inputs``, from the cache when an
    earlier run stored it and it passes every check in the module docstring (``valid``:
    the shape the caller expects). ``inputs`` must name everything the answer depends
    on."""
    folder = cache_dir()
    if folder is None:
        return compute()
    key = key_of(namespace, inputs)
    path = os.path.join(folder, f"{namespace}-{key}.json")
    found, value = _read(path, namespace, key, valid)
    if found:
        return value
    # What a later run reads back is JSON: give this run the same (tuples become lists).
    value = json.loads(json.dumps(compute()))
    try:
        _write(folder, path, json.dumps({"namespace": namespace, "key": key,
                                         "value": value}))
    except (OSError, TypeError, ValueError):
        pass  # an unwritable cache only costs speed
    return value
