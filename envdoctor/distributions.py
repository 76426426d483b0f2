"""A fast index of installed distributions, read straight from ``*.dist-info`` folders.

``importlib.metadata`` parses every METADATA file to answer "what is installed"; a
report needs names, versions and a few files of a few distributions, so this module
lists the folders on ``sys.path`` once and reads a file only when asked. It costs about
a millisecond for a hundred distributions.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

_SEP = re.compile(r"[-_.]+")


def normalize(name: str) -> str:
    """PEP 503 normalised project name."""
    return _SEP.sub("-", name).lower()


@dataclass(frozen=True)
class Dist:
    name: str          # as spelled in the metadata folder name
    version: str
    path: str          # the .dist-info / .egg-info folder
    site: str          # the sys.path entry it was found in

    @property
    def key(self) -> str:
        return normalize(self.name)

    def read_text(self, filename: str) -> Optional[str]:
        """A metadata file's text, or None when missing or unreadable."""
        try:
            with open(os.path.join(self.path, filename), encoding="utf-8",
                      errors="replace") as fh:
                return fh.read()
        except OSError:
            return None

    def metadata_field(self, field: str) -> Optional[str]:
        text = self.read_text("METADATA") or self.read_text("PKG-INFO") or ""
        prefix = f"{field.lower()}:"
        for line in text.splitlines():
            if not line.strip():
                break  # headers end at the first blank line
            if line.lower().startswith(prefix):
                return line.split(":", 1)[1].strip()
        return None


def _from_folder(site: str, entry: str) -> Optional[Dist]:
    if entry.endswith(".dist-info"):
        stem = entry[: -len(".dist-info")]
    elif entry.endswith(".egg-info"):
        stem = entry[: -len(".egg-info")]
    else:
        return None
    path = os.path.join(site, entry)
    name, _, rest = stem.partition("-")
    version = rest.split("-")[0] if rest else ""
    dist = Dist(name, version, path, site)
    if not version or not name:
        meta_name = dist.metadata_field("Name") or name
        meta_version = dist.metadata_field("Version") or ""
        dist = Dist(meta_name, meta_version, path, site)
    return dist


def scan(paths: Optional[Iterable[str]] = None) -> list[Dist]:
    """Every distribution on ``paths`` (default ``sys.path``), in path order."""
    found: list[Dist] = []
    seen_sites: set[str] = set()
    for site in paths if paths is not None else sys.path:
        site = os.path.abspath(site or ".")
        if site in seen_sites or not os.path.isdir(site):
            continue
        seen_sites.add(site)
        try:
            entries = sorted(os.listdir(site))
        except OSError:
            continue
        for entry in entries:
            dist = _from_folder(site, entry)
            if dist is not None:
                found.append(dist)
    return found


_lock = threading.Lock()
_cache: Optional[list[Dist]] = None


def installed() -> list[Dist]:
    """``scan()`` of ``sys.path``, computed once per process (probes share it)."""
    global _cache
    with _lock:
        if _cache is None:
            _cache = scan()
        return _cache


def refresh() -> None:
    """Forget the cached index (after pip changed the environment, e.g. a fix)."""
    global _cache
    with _lock:
        _cache = None


def by_key() -> dict[str, Dist]:
    """The distribution Python would import for each name (first on sys.path wins)."""
    result: dict[str, Dist] = {}
    for dist in installed():
        result.setdefault(dist.key, dist)
    return result


@dataclass(frozen=True)
class EntryPoint:
    name: str
    value: str
    group: str
    dist: str

    def load(self) -> object:
        module_name, _, attr = self.value.partition(":")
        obj: object = importlib.import_module(module_name.strip())
        for part in filter(None, attr.strip().split(".")):
            obj = getattr(obj, part)
        return obj


def entry_points(group: str, dists: Optional[list[Dist]] = None) -> list[EntryPoint]:
    """Entry points of ``group`` from every distribution's entry_points.txt."""
    points: list[EntryPoint] = []
    seen: set[str] = set()
    for dist in dists if dists is not None else installed():
        if dist.key in seen:
            continue
        seen.add(dist.key)
        text = dist.read_text("entry_points.txt")
        if not text or f"[{group}]" not in text:
            continue
        current = None
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("[") and line.endswith("]"):
                current = line[1:-1].strip()
            elif current == group and "=" in line:
                name, value = (s.strip() for s in line.split("=", 1))
                value = value.split("[", 1)[0].strip()  # drop extras
                points.append(EntryPoint(name, value, group, dist.name))
    return points


# A RECORD lists every file a wheel installed. Stat'ing a handful of them, spread over
# the list, finds a distribution whose files were removed (an uninstall that stopped
# half-way, or another distribution's uninstall that deleted the files they shared, as
# opencv-python and opencv-python-headless do) at a cost of microseconds per package:
# the RECORD is not read whole (torch's is megabytes), only small windows of it.
RECORD_SAMPLE = 6
_WINDOW = 2048


def _installed_path(line: str, meta: str) -> Optional[str]:
    """The file a RECORD line names, or None for lines not worth a stat: the dist's own
    metadata, scripts outside the site dir, byte code, .pth files, garbage."""
    if line.count(",") < 2:
        return None
    path = line.rsplit(",", 2)[0].strip().strip('"')
    if not path or path.startswith((meta, "../", "/")) or "__pycache__" in path \
            or path.endswith((".pyc", ".pth")) or ":" in path or "\x00" in path \
            or "\ufffd" in path or path.startswith(","):
        return None
    return path


def record_sample(dist: Dist, sample: int = RECORD_SAMPLE) -> list[str]:
    """Up to ``sample`` installed files of a distribution's RECORD, from windows spread
    evenly over the file (the first line always included)."""
    meta = os.path.basename(dist.path) + "/"
    picked: list[str] = []
    try:
        with open(os.path.join(dist.path, "RECORD"), "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            offsets = sorted({size * i // sample for i in range(sample)})
            for offset in offsets:
                fh.seek(offset)
                chunk = fh.read(_WINDOW).decode("utf-8", errors="replace").split("\n")
                lines = chunk[:-1] if offset == 0 else chunk[1:-1]  # whole lines only
                for line in lines:
                    path = _installed_path(line, meta)
                    if path is not None:
                        if path not in picked:
                            picked.append(path)
                        break
    except OSError:
        return []
    return picked[:sample]


def missing_files(dist: Dist, sample: int = RECORD_SAMPLE) -> tuple[list[str], int]:
    """(files of the RECORD sample that are gone, how many were looked at)."""
    picked = record_sample(dist, sample)
    missing = [p for p in picked if not os.path.exists(os.path.join(dist.site, p))]
    return missing, len(picked)
