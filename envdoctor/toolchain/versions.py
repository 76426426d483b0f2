"""Version lines of compilers and build tools, as they print them.

Each parser takes the tool's output (stdout and stderr together) and returns
``{"version": "12.2.0", "major": 12, "line": <the line it read>}`` or None when the
output is not that tool's (a wrapper script, garbage). Real outputs these are tested
with are in tests/data/toolchain/ (SOURCES.md there names each).
"""

from __future__ import annotations

import re
from typing import Any, Optional

_GCC = re.compile(r"^(?:\S*-)?(?:gcc|g\+\+|cc|c\+\+)(?:-\d+)?(?:\.exe)?\s+\(.*\)\s+"
                  r"(\d+)\.(\d+)(?:\.(\d+))?", re.M)
_GCC_PLAIN = re.compile(r"^(?:\S*-)?(?:gcc|g\+\+)(?:-\d+)?(?:\.exe)?\s+(\d+)\.(\d+)(?:\.(\d+))?\b",
                        re.M)
_CLANG = re.compile(r"^(.*?\bclang version\s+)(\d+)\.(\d+)(?:\.(\d+))?", re.M)
_MSVC = re.compile(r"Compiler Version\s+(\d+)\.(\d+)\.(\d+)(?:\.\d+)?\s+for\s+(\S+)")
_CMAKE = re.compile(r"^cmake(?:3)? version\s+(\d+)\.(\d+)(?:\.(\d+))?(\S*)", re.M)
_NINJA = re.compile(r"^\s*(\d+)\.(\d+)(?:\.(\d+))?(\S*)\s*$")
_NVCC = re.compile(r"release\s+(\d+)\.(\d+),\s+V(\d+\.\d+\.\d+)")


def _line(text: str, match: re.Match) -> str:
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.start())
    return text[start:end if end != -1 else None].strip()[:200]


def _version(groups: tuple[Optional[str], ...]) -> str:
    return ".".join(g for g in groups if g is not None)


def gcc(output: str) -> Optional[dict[str, Any]]:
    """``gcc (Debian 12.2.0-14+deb12u1) 12.2.0`` -> 12.2.0 (gcc, g++, cc, c++ alike).

    The version is the number after the parenthesised package note (distributions put
    their own numbers inside it). A ``cc`` that is clang says ``clang version``: that
    is :func:`clang`'s, not this."""
    if _CLANG.search(output) or "Apple" in output[:200]:
        return None
    match = _GCC.search(output) or _GCC_PLAIN.search(output)
    if not match:
        return None
    return {"version": _version(match.groups()), "major": int(match.group(1)),
            "line": _line(output, match)}


def clang(output: str) -> Optional[dict[str, Any]]:
    """``Ubuntu clang version 18.1.3 (1ubuntu1)`` -> 18.1.3 (Apple clang too)."""
    match = _CLANG.search(output)
    if not match:
        return None
    info = {"version": _version(match.groups()[1:]), "major": int(match.group(2)),
            "line": _line(output, match)}
    if "Apple" in match.group(1):
        info["vendor"] = "apple"
    return info


def msvc(output: str) -> Optional[dict[str, Any]]:
    """``cl`` alone prints ``Microsoft (R) C/C++ Optimizing Compiler Version 19.40.33807
    for x64`` on stderr; ``_MSC_VER`` is major * 100 + minor (1940), which is what
    nvcc's host_config.h compares."""
    match = _MSVC.search(output)
    if not match:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    return {"version": _version(match.groups()[:3]), "major": major,
            "msc_ver": major * 100 + minor, "target": match.group(4),
            "line": _line(output, match)}


def cmake(output: str) -> Optional[dict[str, Any]]:
    """``cmake version 3.25.1`` -> 3.25.1 (``-rc1`` suffixes kept)."""
    match = _CMAKE.search(output)
    if not match:
        return None
    return {"version": _version(match.groups()[:3]) + (match.group(4) or ""),
            "major": int(match.group(1)), "line": _line(output, match)}


def ninja(output: str) -> Optional[dict[str, Any]]:
    """``ninja --version`` prints the bare version: ``1.11.1``."""
    first = next((ln for ln in output.splitlines() if ln.strip()), "")
    match = _NINJA.match(first)
    if not match:
        return None
    return {"version": _version(match.groups()[:3]) + (match.group(4) or ""),
            "major": int(match.group(1)), "line": first.strip()[:200]}


def nvcc(output: str) -> Optional[dict[str, Any]]:
    """``Cuda compilation tools, release 13.0, V13.0.88`` -> 13.0 (13.0.88)."""
    match = _NVCC.search(output)
    if not match:
        return None
    return {"version": f"{match.group(1)}.{match.group(2)}", "full_version": match.group(3),
            "major": int(match.group(1)), "line": _line(output, match)}


PARSERS = {"gcc": gcc, "clang": clang, "msvc": msvc, "cmake": cmake, "ninja": ninja,
           "nvcc": nvcc}
