"""The wheel tags a target interpreter accepts, computed on envdoctor's side.

The target reports raw facts (configuration variables, ``sysconfig.get_platform()``,
the C library; see :func:`envdoctor.target.probe_script.tag_facts`); this module
replays packaging's ``sys_tags()`` rules on them with packaging's public tag
generators (``cpython_tags``, ``generic_tags``, ``compatible_tags``,
``mac_platforms``). The target needs neither packaging nor a modern Python, and a
test keeps the answer equal to ``packaging.tags.sys_tags()`` run inside real
interpreters.

Not replayed: a ``_manylinux`` override module in the target, and macOS 10.16's
compatibility version (packaging re-runs the interpreter to read the real one).
"""

from __future__ import annotations

import os
from typing import Any, Optional

INTERPRETER_SHORT_NAMES = {"python": "py", "cpython": "cp", "pypy": "pp",
                           "ironpython": "ip", "jython": "jy"}


def _normalize(text: str) -> str:
    return text.replace(".", "_").replace("-", "_").replace(" ", "_")


def _nodot(version: tuple[int, ...]) -> str:
    return "".join(str(v) for v in version)


def cpython_abis(raw: dict[str, Any]) -> list[str]:
    """packaging's ``_cpython_abis`` on the target's configuration variables."""
    config = raw.get("config") or {}
    version = tuple(raw["version_info"][:2])
    threading = debug = pymalloc = ucs4 = ""
    with_debug = config.get("Py_DEBUG")
    has_ext = "_d.pyd" in (raw.get("extension_suffixes") or [])
    if with_debug or (with_debug is None and (raw.get("has_refcount") or has_ext)):
        debug = "d"
    if version >= (3, 13) and config.get("Py_GIL_DISABLED"):
        threading = "t"
    if version < (3, 8):
        with_pymalloc = config.get("WITH_PYMALLOC")
        if with_pymalloc or with_pymalloc is None:
            pymalloc = "m"
        if version < (3, 3):
            unicode_size = config.get("Py_UNICODE_SIZE")
            if unicode_size == 4 or (unicode_size is None and raw.get("maxunicode") == 0x10FFFF):
                ucs4 = "u"
    abis = [f"cp{_nodot(version)}{threading}{debug}{pymalloc}{ucs4}"]
    if version >= (3, 8) and debug:
        abis.append(f"cp{_nodot(version)}{threading}")
    return abis


def generic_abis(raw: dict[str, Any]) -> list[str]:
    """packaging's ``_generic_abi`` (PyPy, GraalPy...) from EXT_SUFFIX."""
    suffix = (raw.get("config") or {}).get("EXT_SUFFIX")
    if not isinstance(suffix, str) or not suffix.startswith("."):
        return []
    parts = suffix.split(".")
    if len(parts) < 3:
        return cpython_abis(raw)
    soabi = parts[1]
    if soabi.startswith("cpython"):
        pieces = soabi.split("-")
        return ["cp" + pieces[1]] if len(pieces) > 1 and pieces[1] else []
    if soabi.startswith("cp"):
        abi = soabi.split("-")[0]
    elif soabi.startswith("pypy"):
        abi = "-".join(soabi.split("-")[:2])
    elif soabi.startswith("graalpy"):
        abi = "-".join(soabi.split("-")[:3])
    else:
        abi = soabi
    return [_normalize(abi)] if abi else []


def _glibc_version(raw: dict[str, Any]) -> Optional[tuple[int, int]]:
    text = str(raw.get("glibc") or "")
    if not text.startswith("glibc"):
        return None
    import re

    match = re.match(r"(\d+)\.(\d+)", text.split()[-1])
    return (int(match.group(1)), int(match.group(2))) if match else None


def _musl_version(executable: Optional[str]) -> Optional[tuple[int, int]]:
    """The musl version the target is linked against (packaging asks its loader)."""
    if not executable:
        return None
    try:
        from packaging import _musllinux  # private, but the only reader of musl's loader

        version = _musllinux._get_musl_version(executable)
    except Exception:
        return None
    return (version.major, version.minor) if version else None


def linux_platforms(raw: dict[str, Any], executable: Optional[str]) -> list[str]:
    """packaging's ``_linux_platforms``: linux_*, then manylinux_*, then musllinux_*."""
    linux = _normalize(str(raw.get("sysconfig_platform") or ""))
    if not linux.startswith("linux_"):
        return [linux]
    if raw.get("bits") == 32:
        linux = {"linux_x86_64": "linux_i686", "linux_aarch64": "linux_armv8l"}.get(linux, linux)
    arch = linux.split("_", 1)[1]
    archs = {"armv8l": ["armv8l", "armv7l"]}.get(arch, [arch])
    platforms = [f"linux_{a}" for a in archs]
    glibc = _glibc_version(raw)
    if glibc is not None:
        too_old = (2, 4) if set(archs) & {"x86_64", "i686"} else (2, 16)
        maxima = [glibc] + [(major, 50) for major in range(glibc[0] - 1, 1, -1)]
        legacy = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
        for a in archs:
            for major, top in maxima:
                low = too_old[1] if major == too_old[0] else -1
                for minor in range(top, low, -1):
                    platforms.append(f"manylinux_{major}_{minor}_{a}")
                    if (major, minor) in legacy:  # packaging's aliases, for every arch
                        platforms.append(f"{legacy[(major, minor)]}_{a}")
    else:
        musl = _musl_version(executable)
        if musl is not None:
            platforms += [f"musllinux_{musl[0]}_{m}_{a}" for a in archs
                          for m in range(musl[1], -1, -1)]
    return platforms


def platforms(raw: dict[str, Any], executable: Optional[str]) -> list[str]:
    """packaging's ``platform_tags()`` for the target."""
    system = raw.get("system")
    if system == "Linux":
        return linux_platforms(raw, executable)
    if system == "Darwin":
        from packaging.tags import mac_platforms

        parts = [int(p) for p in str(raw.get("mac_ver") or "0.0").split(".")[:2] if p.isdigit()]
        version = (parts + [0, 0])[:2]
        arch = str(raw.get("machine") or "x86_64")
        if raw.get("bits") == 32:
            arch = "ppc" if arch.startswith("ppc") else "i386"
        return list(mac_platforms((version[0], version[1]), arch))
    return [_normalize(str(raw.get("sysconfig_platform") or ""))]


def describe(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The target as :meth:`envdoctor.wheeltags.Target.to_dict` data, tags included,
    from a snapshot (:func:`envdoctor.target.probe_script.collect`)."""
    from envdoctor.wheeltags import Target, canonical_arch, compact_tags

    raw = snapshot["tags"]
    executable = snapshot.get("executable")

    version = tuple(int(v) for v in raw["version_info"][:2])
    name = str(raw.get("implementation") or "cpython")
    short = INTERPRETER_SHORT_NAMES.get(name) or name
    plats = platforms(raw, executable)
    abis = cpython_abis(raw) if short == "cp" else generic_abis(raw)
    system = {"Linux": "linux", "Windows": "windows", "Darwin": "macos"}.get(
        str(raw.get("system")), str(raw.get("system") or "").lower() or "unknown")
    bits = int(raw.get("bits") or 64)
    os_machine = canonical_arch(str(raw.get("uname_machine") or raw.get("machine") or ""))
    plat = str(raw.get("sysconfig_platform") or "")
    if system == "windows":
        machine = canonical_arch("win32" if plat == "win32" else plat.rpartition("-")[2])
        arch = [a for a in raw.get("windows_arch") or [] if a]
        os_machine = canonical_arch(arch[0]) if arch else os_machine
    elif system == "linux":
        first = next((p for p in plats if p.startswith("linux_")), "")
        machine = first[len("linux_"):] or canonical_arch(plat.rpartition("-")[2])
    else:
        machine = canonical_arch(str(raw.get("machine") or ""))
        if bits == 32:
            machine = {"x86_64": "i686", "aarch64": "armv7l"}.get(machine, machine)
    libc, libc_version = None, None
    if system == "linux":
        glibc = _glibc_version(raw)
        musl = next((p for p in plats if p.startswith("musllinux_")), None)
        if glibc:
            libc, libc_version = "glibc", glibc
        elif musl:
            parts = musl.split("_")
            libc, libc_version = "musl", (int(parts[1]), int(parts[2]))
    macos = None
    if system == "macos":
        digits = [int(p) for p in str(raw.get("mac_ver") or "").split(".") if p.isdigit()]
        macos = tuple(digits) or None
    target = Target(python_version=version, implementation=short,
                    abiflags=str(raw.get("abiflags") or ""), system=system,
                    machine=machine, bits=bits, os_machine=os_machine, libc=libc,
                    libc_version=libc_version, macos_version=macos, abis=abis,
                    platforms=plats, python_full=snapshot.get("version"),
                    executable=executable)
    table = compact_tags(target.supported())
    target.platforms = None
    target.tag_table = table
    return target.to_dict()


def describe_cached(snapshot: dict[str, Any]) -> dict[str, Any]:
    """:func:`describe`, memoized on disk (in envdoctor's cache, never the target's):
    importing packaging.tags and listing ~1000 tags costs ~10 ms, and the answer
    changes only with the target's facts or packaging."""
    from envdoctor import distributions
    from envdoctor.cache import memoize

    packaging_dist = distributions.by_key().get("packaging")
    key = {"raw": snapshot.get("tags"), "executable": snapshot.get("executable"),
           "version": snapshot.get("version"), "os": os.name,
           "packaging": [packaging_dist.version, packaging_dist.path] if packaging_dist
            else None}
    return memoize("target-tags", key, lambda: describe(snapshot), valid=_valid_description)


def _valid_description(value: Any) -> bool:
    """The shape :meth:`Target.to_dict` writes, and a tag table of strings: anything else
    in the cache file is recomputed, never believed."""
    if not isinstance(value, dict) or not isinstance(value.get("tags"), (dict, list)):
        return False
    for name in ("implementation", "system", "machine"):
        if not isinstance(value.get(name), str):
            return False
    return isinstance(value.get("python_version"), list) and all(
        isinstance(part, int) for part in value["python_version"])
