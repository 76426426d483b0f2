"""Operating system, distribution, libc, architecture, WSL and container facts.

Reads /etc/os-release and /proc directly (the ``distro`` package costs ~50 ms to import
and adds nothing on a system with os-release; see docs/dependencies.md).
"""

from __future__ import annotations

import os
import platform as _platform
import struct
import sys
from typing import Optional

from envdoctor.probes import Probe, ProbeContext

_64BIT_MACHINES = {"x86_64", "amd64", "aarch64", "arm64", "ppc64le", "s390x", "riscv64"}


def parse_os_release(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _libc(ctx: ProbeContext) -> dict[str, Optional[str]]:
    try:
        gnu = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36"
    except (ValueError, OSError, AttributeError):
        gnu = None
    if gnu and gnu.startswith("glibc"):
        return {"name": "glibc", "version": gnu.split()[-1]}
    for folder in ("/lib", "/usr/lib"):
        try:
            names = os.listdir(ctx.path(folder))
        except OSError:
            continue
        if any(n.startswith("ld-musl-") for n in names):
            return {"name": "musl", "version": None}
    return {"name": None, "version": None}


def _container(ctx: ProbeContext) -> Optional[str]:
    env = ctx.environ
    if env.get("KUBERNETES_SERVICE_HOST"):
        return "kubernetes"
    if os.path.exists(ctx.path("/.dockerenv")):
        return "docker"
    if os.path.exists(ctx.path("/run/.containerenv")):
        return "podman"
    if env.get("container"):
        return env["container"]
    cgroup = ctx.read_text("/proc/1/cgroup") or ""
    for marker, kind in (("kubepods", "kubernetes"), ("docker", "docker"),
                         ("containerd", "containerd"), ("lxc", "lxc"), ("libpod", "podman")):
        if marker in cgroup:
            return kind
    if os.path.exists(ctx.path("/singularity")) or env.get("SINGULARITY_CONTAINER") \
            or env.get("APPTAINER_CONTAINER"):
        return "apptainer"
    return None


def wsl_facts(osrelease: str, ctx: ProbeContext) -> Optional[dict]:
    """WSL version from the kernel release: WSL 1 reports a fake "4.4.0-<build>-Microsoft"
    kernel; WSL 2 runs a real kernel named "...-microsoft-standard[-WSL2]"."""
    lower = osrelease.lower()
    if "microsoft" not in lower and not ctx.environ.get("WSL_DISTRO_NAME"):
        return None
    wsl2 = ("wsl2" in lower or "microsoft-standard" in lower
            or os.path.isdir(ctx.path("/usr/lib/wsl/lib")))
    return {"version": 2 if wsl2 else 1, "distro_name": ctx.environ.get("WSL_DISTRO_NAME"),
            "kernel": osrelease}


def _notebook_host(env) -> Optional[str]:
    if env.get("COLAB_RELEASE_TAG") or env.get("COLAB_GPU") is not None:
        return "colab"
    if env.get("KAGGLE_KERNEL_RUN_TYPE"):
        return "kaggle"
    if env.get("SM_CURRENT_HOST") or env.get("SAGEMAKER_INTERNAL_IMAGE_URI"):
        return "sagemaker"
    return None


def probe_platform(ctx: ProbeContext) -> dict:
    system = _platform.system()
    uname = os.uname() if hasattr(os, "uname") else None
    machine = (uname.machine if uname else _platform.machine()) or ""
    python_bits = struct.calcsize("P") * 8
    facts: dict = {
        "system": system,
        "release": uname.release if uname else _platform.release(),
        "machine": machine,
        "python_bits": python_bits,
        "os_bits": None,
        "distribution": None,
        "libc": None,
        "wsl": None,
        "container": None,
        "notebook_host": _notebook_host(ctx.environ),
        "windows": None,
        "macos": None,
        "kernel": None,
    }
    if system == "Linux":
        release = parse_os_release(ctx.read_text("/etc/os-release")
                                   or ctx.read_text("/usr/lib/os-release") or "")
        facts["distribution"] = {
            "id": release.get("ID"), "version_id": release.get("VERSION_ID"),
            "id_like": release.get("ID_LIKE"), "name": release.get("PRETTY_NAME")
            or release.get("NAME"), "codename": release.get("VERSION_CODENAME"),
        } if release else None
        facts["libc"] = _libc(ctx)
        osrelease = (ctx.read_text("/proc/sys/kernel/osrelease") or facts["release"]).strip()
        facts["kernel"] = osrelease
        facts["wsl"] = wsl_facts(osrelease, ctx)
        facts["container"] = _container(ctx)
        # A 32-bit userland on a 64-bit kernel reports the kernel's machine in uname;
        # the interpreter's pointer size tells the userland.
        facts["os_bits"] = 64 if machine in _64BIT_MACHINES else 32
    elif system == "Windows":
        arch = ctx.environ.get("PROCESSOR_ARCHITEW6432") or ctx.environ.get(
            "PROCESSOR_ARCHITECTURE", "")
        facts["os_bits"] = 64 if arch.upper() in ("AMD64", "ARM64", "IA64") else 32
        version = _platform.win32_ver()
        edition = _platform.win32_edition() if hasattr(_platform, "win32_edition") else None
        facts["windows"] = {"release": version[0], "version": version[1],
                            "edition": edition,
                            "n_edition": bool(edition and edition.rstrip().endswith(("N", "KN"))
                                              and edition.lower() not in ("server",))}
    elif system == "Darwin":
        mac_version = _platform.mac_ver()[0]
        translated = None
        if machine == "x86_64":
            from envdoctor import proc

            result = proc.run(["sysctl", "-n", "sysctl.proc_translated"], timeout=ctx.timeout)
            translated = result.ok and result.stdout.strip() == "1"
        facts["macos"] = {"version": mac_version, "rosetta": translated}
        facts["os_bits"] = 64
    facts["is_64bit_python_on_32bit_os"] = False
    facts["is_32bit_python_on_64bit_os"] = python_bits == 32 and facts["os_bits"] == 64
    facts["sys_platform"] = sys.platform
    return facts


PROBES = [Probe("platform", probe_platform)]
