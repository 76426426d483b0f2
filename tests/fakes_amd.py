"""AMD edge fakes: a fake /sys, /proc, /dev, /opt tree (ENVDOCTOR_SYSROOT) and fake
amd-smi / rocm-smi / rocminfo executables on PATH that replay the real captures in
tests/data/amd/ (SOURCES.md there names each one)."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import Optional

AMD_DATA = Path(__file__).resolve().parent / "data" / "amd"


def sysroot(root: Path, pci: tuple = (), module: bool = True, kfd: bool = True,
            kfd_mode: int = 0o666, render: tuple = ("renderD128",),
            kfd_targets: tuple = (), rocm_version: Optional[str] = None) -> Path:
    """pci: (address, class, driver or None); kfd_targets: KFD gfx_target_version
    numbers, one GPU node each (node 0 is the CPU, as on real machines)."""
    root.mkdir(parents=True, exist_ok=True)
    for address, klass, driver in pci:
        dev = root / "sys" / "bus" / "pci" / "devices" / address
        dev.mkdir(parents=True)
        (dev / "vendor").write_text("0x1002\n")
        (dev / "device").write_text("0x740f\n")
        (dev / "class").write_text(f"{klass}\n")
        if driver:
            target = root / "sys" / "bus" / "pci" / "drivers" / driver
            target.mkdir(parents=True, exist_ok=True)
            os.symlink(target, dev / "driver")
    (root / "proc").mkdir(exist_ok=True)
    (root / "proc" / "modules").write_text(
        ("amdgpu 9805824 0 - Live 0x0000000000000000\n" if module else "")
        + "drm 700416 5 amdgpu, Live 0x0000000000000000\n")
    (root / "dev" / "dri").mkdir(parents=True, exist_ok=True)
    if kfd:
        (root / "dev" / "kfd").write_text("")
        (root / "dev" / "kfd").chmod(kfd_mode)
    for name in render:
        (root / "dev" / "dri" / name).write_text("")
        (root / "dev" / "dri" / name).chmod(kfd_mode)
    nodes = root / "sys" / "class" / "kfd" / "kfd" / "topology" / "nodes"
    for i, value in enumerate((0, *kfd_targets)):
        (nodes / str(i)).mkdir(parents=True)
        (nodes / str(i) / "properties").write_text(
            f"cpu_cores_count {0 if value else 16}\nsimd_count {416 if value else 0}\n"
            f"gfx_target_version {value}\nsimd_per_cu 4\n")
    if rocm_version:
        info = root / "opt" / f"rocm-{rocm_version}" / ".info"
        info.mkdir(parents=True)
        (info / "version").write_text(f"{rocm_version}-120\n")
        os.symlink(root / "opt" / f"rocm-{rocm_version}", root / "opt" / "rocm")
    return root


def fake_tool(bin_dir: Path, name: str, capture: Optional[str] = None, text: str = "",
              exit_code: int = 0, stderr: str = "", sleep: float = 0) -> Path:
    """An executable ``name`` that prints a capture (or ``text``) and exits."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    body = (AMD_DATA / capture).read_text(encoding="utf-8") if capture else text
    data = bin_dir / f".{name}.out"
    data.write_text(body, encoding="utf-8")
    script = bin_dir / name
    # Absolute paths: the probe runs tools with the PATH under test, which may hold
    # only the fakes.
    cat, pause = shutil.which("cat") or "/bin/cat", shutil.which("sleep") or "/bin/sleep"
    script.write_text("#!/bin/sh\n"
                      + (f"{pause} {sleep}\n" if sleep else "")
                      + (f"echo '{stderr}' >&2\n" if stderr else "")
                      + f"{cat} '{data}'\nexit {exit_code}\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script
