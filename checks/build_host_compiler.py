"""build.host_compiler: is the host compiler nvcc will call one the installed nvcc accepts?"""

from __future__ import annotations

from typing import Any, Optional

from envdoctor.facts import as_dict, number, text
from envdoctor.registry import register
from envdoctor.result import ERROR, INFO, WARNING, Finding, Outcome, outcome, passed, skipped

CODES = {
    "build.E001": "The GCC that nvcc will use is newer than the installed nvcc accepts: every "
                  "CUDA compilation stops with 'unsupported GNU version! gcc versions later "
                  "than N are not supported!'.",
    "build.E002": "The Microsoft Visual C++ (MSVC) that nvcc will use is outside the range the "
                  "installed nvcc accepts ('unsupported Microsoft Visual Studio version!').",
    "build.E003": "The clang that nvcc will use is newer than the installed nvcc accepts "
                  "('unsupported clang version!').",
    "build.W001": "nvcc is installed but the host compiler it calls is not on PATH.",
    "build.W002": "The host compiler may be too new for nvcc: envdoctor could not read nvcc's "
                  "limit for this CUDA release.",
    "build.I001": "No C/C++ compiler on PATH: packages that compile from source cannot build.",
}


def _gcc_allowed(major: int, minor: int, limits: dict) -> Optional[bool]:
    """Whether GCC major.minor passes host_config.h (None: the limits do not say)."""
    top = number(limits.get("gcc_max"))
    if top is not None:
        if major != top:
            return major < top
        top_minor = number(limits.get("gcc_max_minor"))
        return top_minor is None or minor <= top_minor
    at_most = number(limits.get("gcc_max_at_most"))
    at_least = number(limits.get("gcc_max_at_least"))
    if at_most is not None and major > at_most:
        return False
    if at_least is not None and major <= at_least:
        return True
    return None


def _newer_cuda_for_gcc(major: int) -> Optional[str]:
    """The oldest CUDA release in the table that accepts GCC ``major``."""
    from envdoctor.data import load

    rows = [r for r in load("nvcc_host_compilers.json").get("gcc", [])
            if isinstance(r.get("gcc_max"), int) and r["gcc_max"] >= major]
    return str(rows[0]["cuda"]) if rows else None


def _gcc_hint(top: Any, major: int, host_from: str, windows: bool) -> str:
    if windows or not isinstance(top, int):
        older = "an older GCC"
        install = "install an older GCC"
    else:
        older = f"GCC {top}"
        install = f"sudo apt install gcc-{top} g++-{top}   (Fedora: a gcc{top} compat package)"
    pick = (f"then point nvcc at it: export NVCC_CCBIN=/usr/bin/g++-{top}; CMake builds: "
            f"export CUDAHOSTCXX=/usr/bin/g++-{top}; torch.utils.cpp_extension (flash-attn, "
            f"apex...): export CC=gcc-{top} CXX=g++-{top}") if isinstance(top, int) else \
        "then point nvcc at it (NVCC_CCBIN, CUDAHOSTCXX for CMake, CC/CXX for torch extensions)"
    newer = _newer_cuda_for_gcc(major)
    also = f"; or install CUDA {newer} or newer, which accepts GCC {major}" if newer else ""
    if host_from != "default":
        pick = f"({host_from} chose this compiler: change it) " + pick
    return f"use {older}: {install}; {pick}{also}"


def _host(toolchain: dict) -> dict:
    return as_dict(toolchain.get("nvcc_host"))


def _kind(host: dict) -> str:
    line = (text(host.get("line")) or "").lower()
    if host.get("msc_ver") is not None or "microsoft" in line:
        return "msvc"
    if "clang" in line:
        return "clang"
    return "gcc"


@register("build.host_compiler", title="Host compiler for nvcc", tags=("build", "cuda"),
          needs=("toolchain",), uses=("platform",), codes=CODES)
def check_host_compiler(facts: dict[str, Any]) -> Outcome:
    """Is the C++ compiler nvcc will call (its "host compiler") one that the installed
    nvcc accepts?

    nvcc includes its own crt/host_config.h in every compilation, and that header stops
    the build for a compiler newer than the release supports: "#error -- unsupported GNU
    version! gcc versions later than 12 are not supported!" (CUDA 12.1 with GCC 13), and
    the same for clang and for Microsoft Visual Studio. envdoctor reads the limits from
    the installed toolkit's own header (a sourced table,
    envdoctor/data/nvcc_host_compilers.json, when the header is not there), and the host
    compiler from NVCC_CCBIN, else CC (torch.utils.cpp_extension passes it as -ccbin),
    else g++ (cl on Windows).

    Fix: install an older compiler next to the new one and point nvcc at it
    (`export NVCC_CCBIN=/usr/bin/g++-12`; CMake: `CUDAHOSTCXX`; torch extensions:
    `CC`/`CXX`), or install a CUDA toolkit new enough for the compiler. The nvcc flag
    `-allow-unsupported-compiler` skips the check but may miscompile.
    """
    from envdoctor.toolchain.host_config import table_limits

    toolchain = as_dict(facts.get("toolchain"))
    windows = as_dict(facts.get("platform")).get("system") == "Windows"
    nvcc = as_dict(toolchain.get("nvcc"))
    compilers = as_dict(toolchain.get("compilers"))
    found = [f"{name} {as_dict(info).get('version')}" for name, info in compilers.items()
             if as_dict(info).get("version")]
    if not text(nvcc.get("path")):
        if found:
            return skipped("no nvcc on PATH: nothing compiles CUDA code here ("
                           + ", ".join(found) + ")")
        return outcome("no C/C++ compiler on PATH", [Finding(
            "build.I001", INFO,
            "No C/C++ compiler on PATH (gcc, g++, clang" + (", cl" if windows else "")
            + "): a package that has no wheel for this platform and compiles from source "
              "fails to install.",
            hint=("install the Visual Studio Build Tools with the 'Desktop development with "
                  "C++' workload, and build from the 'x64 Native Tools Command Prompt'"
                  if windows else "sudo apt install build-essential   (Fedora: sudo dnf "
                  "install gcc gcc-c++; macOS: xcode-select --install)"))])

    host = _host(toolchain)
    limits = as_dict(toolchain.get("nvcc_host_limits")) or table_limits(nvcc.get("version"))
    cuda = text(limits.get("cuda")) or text(nvcc.get("version")) or "?"
    name = text(host.get("compiler")) or "g++"
    via = text(host.get("from")) or "default"
    details = {"nvcc": nvcc.get("version"), "host_compiler": name, "chosen_by": via,
               "host_version": host.get("version"), "limits": {
                   k: v for k, v in limits.items() if k != "messages"},
               "limits_from": text(limits.get("header")) or
               ("table" if limits else None)}
    if not text(host.get("path")) or not text(host.get("version")):
        why = text(host.get("error")) or "not found"
        return outcome(f"nvcc {cuda}: its host compiler {name} is missing", [Finding(
            "build.W001", WARNING,
            f"nvcc {cuda} is installed but its host compiler {name} "
            + ("(chosen by " + via + ") " if via != "default" else "")
            + f"cannot be used ({why}): nvcc compiles nothing without one.",
            hint=("run the build from the 'x64 Native Tools Command Prompt for VS' (or run "
                  "vcvars64.bat first) so that cl.exe is on PATH" if _kind(host) == "msvc"
                  or (windows and via == "default")
                  else "sudo apt install g++   (or fix " + via + ")" if via != "default"
                  else "sudo apt install g++   (Fedora: sudo dnf install gcc-c++)"),
            details=details)], details)

    kind = _kind(host)
    version = str(host.get("version"))
    major = number(host.get("major"))
    parts = [int(p) for p in version.split(".")[:2] if p.isdigit()]
    minor = parts[1] if len(parts) > 1 else 0
    said = f"{name} {version}"
    messages = limits.get("messages") if isinstance(limits.get("messages"), list) else []
    start = {"gcc": "unsupported gnu", "clang": "unsupported clang",
             "msvc": "unsupported microsoft"}[kind]
    header_msg = next((m for m in messages if isinstance(m, str)
                       and m.lower().startswith(start)), None)
    findings: list[Finding] = []
    if kind == "gcc" and major is not None:
        allowed = _gcc_allowed(int(major), minor, limits)
        top = limits.get("gcc_max") if isinstance(limits.get("gcc_max"), int) else \
            limits.get("gcc_max_at_most")
        if allowed is False:
            shown = header_msg or f"unsupported GNU version! gcc versions later than {top} " \
                                  "are not supported!"
            findings.append(Finding(
                "build.E001", ERROR,
                f"nvcc {cuda} accepts GCC up to {top}, and the host compiler it will use is "
                f"{said}: every CUDA compilation (pip installs that build flash-attn, apex, "
                f"DeepSpeed ops, torch extensions) stops with \"#error -- {shown}\"",
                hint=_gcc_hint(top, int(major), via, windows), details=details))
        elif allowed is None:
            findings.append(Finding(
                "build.W002", WARNING,
                f"envdoctor could not read which GCC nvcc {cuda} accepts (no host_config.h, "
                f"and its table has no row for this release); the host compiler is {said}",
                hint="compile a one-line .cu file (`echo '__global__ void k(){}' > t.cu && "
                     "nvcc -c t.cu`): an 'unsupported GNU version' error names the newest "
                     "GCC it accepts", details=details))
    elif kind == "clang" and major is not None and number(limits.get("clang_max")) is not None:
        if major > limits["clang_max"]:
            findings.append(Finding(
                "build.E003", ERROR,
                f"nvcc {cuda} accepts clang up to {limits['clang_max']}, and the host compiler "
                f"it will use is {said}: CUDA compilations stop with \"#error -- "
                f"{header_msg or 'unsupported clang version!'}\"",
                hint=f"install clang {limits['clang_max']} or GCC and point nvcc at it: "
                     "export NVCC_CCBIN=/usr/bin/clang++-"
                     f"{limits['clang_max']}   (or a newer CUDA toolkit)", details=details))
    elif kind == "msvc":
        msc = number(host.get("msc_ver"))
        low, high = number(limits.get("msc_ver_min")), number(limits.get("msc_ver_max"))
        if msc is not None and low is not None and high is not None and not low <= msc <= high:
            findings.append(Finding(
                "build.E002", ERROR,
                f"nvcc {cuda} accepts MSVC with _MSC_VER {low} to {high}, and cl.exe here is "
                f"{version} (_MSC_VER {msc}): CUDA compilations stop with \"fatal error C1189: "
                f"#error: -- {header_msg or 'unsupported Microsoft Visual Studio version!'}\"",
                hint="install the Visual Studio Build Tools version nvcc names (Visual Studio "
                     "Installer: add the matching 'MSVC v14x build tools' component) and "
                     "build from its Native Tools prompt; or a CUDA toolkit that supports "
                     "this Visual Studio", details=details))

    summary = f"nvcc {cuda} with host compiler {said}"
    if not findings:
        return passed(summary + " (accepted)", details)
    return outcome(summary, findings, details)
