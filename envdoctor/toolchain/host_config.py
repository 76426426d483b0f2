"""Which host compilers an installed nvcc accepts.

nvcc includes ``crt/host_config.h`` in every compilation; for an unsupported host
compiler it stops with ``#error -- unsupported GNU version! gcc versions later than 15
are not supported!`` (or the clang / Microsoft Visual Studio variants). The probe reads
that header from the toolkit nvcc belongs to, so the limits are exactly the installed
release's; :func:`table_limits` answers from a sourced table
(envdoctor/data/nvcc_host_compilers.json) when the header was not read.
"""

from __future__ import annotations

import re
from typing import Any, Optional

_GCC_MAX = re.compile(r"#if\s+__GNUC__\s*>\s*(\d+)(?:\s*\|\|\s*\(\s*__GNUC__\s*==\s*(\d+)"
                      r"\s*&&\s*__GNUC_MINOR__\s*>\s*(\d+)\s*\))?")
_CLANG_MAX = re.compile(r"#if\s+\(?\s*__clang_major__\s*>=\s*(\d+)\s*\)?\s*\|\|")
_MSVC_RANGE = re.compile(r"#if\s+_MSC_VER\s*<\s*(\d+)\s*\|\|\s*_MSC_VER\s*(>=|>)\s*(\d+)")
_ERROR = re.compile(r"#error\s+--\s*(unsupported[^\n]*?version![^\n]*?)(?:\s+The nvcc flag|$)",
                    re.M)


def _before(text: str, marker: str) -> Optional[str]:
    """The ``#if`` line that guards the first ``#error`` line containing ``marker``."""
    at = text.find(marker)
    if at < 0:
        return None
    start = text.rfind("#if", 0, at)
    return text[start:at] if start >= 0 else None


def parse(text: str) -> dict[str, Any]:
    """Limits from host_config.h's text: ``gcc_max`` (the newest GCC major accepted, and
    ``gcc_max_minor`` when the header names one), ``clang_max`` (newest clang major),
    ``msc_ver_min`` / ``msc_ver_max`` (the ``_MSC_VER`` range, inclusive), and the
    ``messages`` nvcc prints. Keys are absent when the header does not say."""
    limits: dict[str, Any] = {}
    guard = _before(text, "unsupported GNU version!")
    match = _GCC_MAX.search(guard or "")
    if match:
        limits["gcc_max"] = int(match.group(1))
        if match.group(3) and int(match.group(2)) == limits["gcc_max"]:
            limits["gcc_max_minor"] = int(match.group(3))
    guard = _before(text, "unsupported clang version!")
    match = _CLANG_MAX.search(guard or "")
    if match:
        limits["clang_max"] = int(match.group(1)) - 1
    guard = _before(text, "unsupported Microsoft Visual Studio version!")
    match = _MSVC_RANGE.search(guard or "")
    if match:
        limits["msc_ver_min"] = int(match.group(1))
        upper = int(match.group(3))
        limits["msc_ver_max"] = upper - 1 if match.group(2) == ">=" else upper
    messages = [m.group(1).strip() for m in _ERROR.finditer(text)
                if m.group(1).startswith(("unsupported GNU", "unsupported clang",
                                          "unsupported Microsoft"))]
    if messages:
        limits["messages"] = messages[:3]
    return limits


def table_limits(cuda: Any) -> dict[str, Any]:
    """What the sourced table says about CUDA ``cuda`` ("12.4"): ``gcc_max`` when a row
    names this release; otherwise the bounds the neighbouring rows give (a release
    accepts at least what an older one did, and at most what a newer one does):
    ``gcc_max_at_least`` / ``gcc_max_at_most``. Empty when the table cannot say."""
    from envdoctor.cudacompat import cuda_major_minor
    from envdoctor.data import load

    want = cuda_major_minor(cuda)
    if not want:
        return {}
    rows = []
    for row in load("nvcc_host_compilers.json").get("gcc", []):
        mm = cuda_major_minor(row.get("cuda"))
        if mm and isinstance(row.get("gcc_max"), int):
            rows.append((mm, row))
    rows.sort(key=lambda r: r[0])
    exact = [row for mm, row in rows if mm == want]
    if exact:
        return {"gcc_max": exact[0]["gcc_max"], "source": exact[0].get("source")}
    older = [row for mm, row in rows if mm < want]
    newer = [row for mm, row in rows if mm > want]
    found: dict[str, Any] = {}
    if older:
        found["gcc_max_at_least"] = older[-1]["gcc_max"]
    if newer:
        found["gcc_max_at_most"] = newer[0]["gcc_max"]
    return found
