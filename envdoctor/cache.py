"""A small on-disk memo for pure, slow-to-import computations.

Some answers depend only on inputs that rarely change but cost a library import to
compute: this interpreter's wheel tags (``packaging.tags`` pulls in sysconfig and
logging) or the evaluation of every installed distribution's requirements
(``packaging``'s parser). :func:`memoize` stores such an answer in a JSON file named by
a hash of *all* its inputs, so a changed input is a different file, never a stale
answer. Any problem with the cache (unwritable folder, corrupt file) falls back to
computing the answer; the cache can never make a result wrong or a run fail.

Location: ``$ENVDOCTOR_CACHE_DIR``, else ``$XDG_CACHE_HOME/envdoctor``, else
``~/.cache/envdoctor`` (``%LOCALAPPDATA%\\envdoctor\\cache`` on Windows).
``ENVDOCTOR_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Optional, TypeVar

T = TypeVar("T")


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


def memoize(namespace: str, inputs: Any, compute: Callable[[], T]) -> T:
    """``compute()``'s JSON-serialisable answer for ``inputs``, from the cache when an
    earlier run stored it. ``inputs`` must name everything the answer depends on."""
    folder = cache_dir()
    if folder is None:
        return compute()
    path = os.path.join(folder, f"{namespace}-{key_of(namespace, inputs)}.json")
    try:
        with open(path, encoding="utf-8") as fh:
            stored = json.load(fh)
        if isinstance(stored, dict) and "value" in stored:
            return stored["value"]
    except (OSError, ValueError):
        pass
    # What a later run reads back is JSON: give this run the same (tuples become lists).
    value = json.loads(json.dumps(compute()))
    try:
        from envdoctor.output import write_atomic

        os.makedirs(folder, exist_ok=True)
        write_atomic(path, json.dumps({"namespace": namespace, "value": value}))
    except (OSError, TypeError, ValueError):
        pass  # an unwritable cache only costs speed
    return value
