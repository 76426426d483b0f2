"""platform.os: a one-line summary of the operating system, and the few platform facts
that block deep learning outright (WSL 1, musl libc, Rosetta)."""

from __future__ import annotations

from typing import Any

from envdoctor.facts import as_dict
from envdoctor.registry import register
from envdoctor.result import WARNING, Finding, Outcome, outcome

CODES = {
    "platform.W001": "WSL 1 has no GPU support: CUDA works only under WSL 2.",
    "platform.W002": "musl libc (e.g. Alpine Linux): PyTorch, TensorFlow and JAX publish no "
                     "wheels for it.",
    "platform.W003": "This Python runs under Rosetta 2 translation on an Apple Silicon Mac.",
}


def describe(plat: dict[str, Any]) -> str:
    """'Ubuntu 22.04.4 LTS, kernel 5.15.0-105-generic, glibc 2.35, x86_64, WSL 2, docker'."""
    parts: list[str] = []
    system = plat.get("system") or "unknown OS"
    dist = as_dict(plat.get("distribution"))
    if system == "Linux":
        parts.append(dist.get("name") or " ".join(
            str(v) for v in (dist.get("id"), dist.get("version_id")) if v) or "Linux")
        kernel = plat.get("kernel") or plat.get("release")
        if kernel:
            parts.append(f"kernel {kernel}")
        libc = as_dict(plat.get("libc"))
        if libc.get("name"):
            parts.append(" ".join(str(v) for v in (libc.get("name"), libc.get("version"))
                                  if v))
    elif system == "Windows":
        win = as_dict(plat.get("windows"))
        parts.append(" ".join(str(v) for v in ("Windows", win.get("release"),
                                                 win.get("edition")) if v))
        if win.get("version"):
            parts.append(f"build {win['version']}")
    elif system == "Darwin":
        mac = as_dict(plat.get("macos"))
        parts.append(" ".join(str(v) for v in ("macOS", mac.get("version")) if v))
    else:
        parts.append(f"{system} {plat.get('release') or ''}".strip())
    if plat.get("machine"):
        parts.append(str(plat["machine"]))
    wsl = plat.get("wsl")
    if isinstance(wsl, dict):
        parts.append(f"WSL {wsl.get('version') or '?'}")
    if plat.get("container"):
        parts.append(f"{plat['container']} container")
    if plat.get("notebook_host"):
        parts.append(str(plat["notebook_host"]))
    return ", ".join(str(p) for p in parts if p)


@register("platform.os", title="Operating system", tags=("platform",), needs=("platform",),
          codes=CODES)
def check_os(facts: dict[str, Any]) -> Outcome:
    """Summarises the operating system: distribution, kernel, C library (glibc or musl),
    architecture, WSL and container.

    It warns about platforms where GPU deep learning cannot work as installed:
    WSL 1 (no GPU access at all: only WSL 2 passes the GPU through), musl-based
    distributions such as Alpine (pip finds no PyTorch/TensorFlow/JAX wheels), and an
    Intel (x86_64) Python running under Rosetta 2 on an Apple Silicon Mac.

    How to fix: convert the WSL distribution (`wsl --set-version <distro> 2` in Windows
    PowerShell), use a glibc-based image (e.g. python:3.12-slim instead of an Alpine one),
    or install a native arm64 Python on Apple Silicon.
    """
    plat = facts.get("platform") or {}
    findings: list[Finding] = []
    wsl = plat.get("wsl")
    if isinstance(wsl, dict) and wsl.get("version") == 1:
        name = wsl.get("distro_name") or "<distro>"
        findings.append(Finding(
            "platform.W001", WARNING,
            "This is WSL 1, which has no GPU support: CUDA, PyTorch and TensorFlow can use "
            "an NVIDIA GPU only under WSL 2.",
            hint=f"In Windows PowerShell: wsl --set-version {name} 2   (see "
                 "https://learn.microsoft.com/windows/wsl/install)"))
    libc = as_dict(plat.get("libc"))
    if libc.get("name") == "musl":
        findings.append(Finding(
            "platform.W002", WARNING,
            "This system uses the musl C library (Alpine Linux or similar): PyTorch, "
            "TensorFlow and JAX publish no wheels for it, so pip cannot install them.",
            hint="Use a glibc-based distribution or image, e.g. FROM python:3.12-slim or "
                 "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04"))
    mac = as_dict(plat.get("macos"))
    if mac.get("rosetta"):
        findings.append(Finding(
            "platform.W003", WARNING,
            "This Python is an Intel (x86_64) build running under Rosetta 2 on an Apple "
            "Silicon Mac: packages install their Intel builds, run translated, and cannot "
            "use the Apple GPU (PyTorch's MPS backend needs a native arm64 Python).",
            hint="Install a native arm64 Python (python.org 'universal2' installer, "
                 "Homebrew under /opt/homebrew, or Miniforge arm64) and recreate your "
                 "environment"))
    details = {k: plat.get(k) for k in ("system", "distribution", "kernel", "release",
                                        "libc", "machine", "os_bits", "wsl", "container",
                                        "notebook_host")}
    return outcome(describe(plat), findings, details)
