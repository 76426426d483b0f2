"""Why a wheel cannot install on an interpreter, in plain words.

pip only says "is not a supported wheel on this platform". This module compares a wheel
file name (parsed by :func:`packaging.utils.parse_wheel_filename`) with the tags an
interpreter accepts (:func:`packaging.tags.sys_tags`, or tags generated for a described
:class:`Target`) and explains every reason it does not fit, one dimension at a time:
the Python tag, the ABI, and the platform (operating system, architecture, libc and
macOS version). Then it says which file name would fit.

A :class:`Target` describes an interpreter without being on it (a cp27mu Python, a
32-bit Python on 64-bit Windows, a Raspberry Pi with a 32-bit userland on a 64-bit
kernel...), so tests and ``envdoctor wheel --from report.json`` can explain wheels for
another machine. :func:`describe_interpreter` builds the description of this one; the
``pip`` probe stores it in the facts.

packaging is imported inside the functions (it costs ~13 ms to import).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Optional

# ---------------------------------------------------------------------------------------
# Architecture and platform vocabulary
# ---------------------------------------------------------------------------------------

# Canonical architecture names: what Linux wheel tags call them.
_ARCH_ALIASES = {
    "x86_64": "x86_64", "amd64": "x86_64", "x64": "x86_64", "em64t": "x86_64",
    "aarch64": "aarch64", "arm64": "aarch64", "armv8": "aarch64", "armv8b": "aarch64",
    "i386": "i686", "i486": "i686", "i586": "i686", "i686": "i686", "x86": "i686",
    "win32": "i686",
    "armv7l": "armv7l", "armv7": "armv7l", "armhf": "armv7l", "armv8l": "armv8l",
    "armv6l": "armv6l", "armv6": "armv6l",
    "ppc64le": "ppc64le", "ppc64": "ppc64", "ppc": "ppc", "s390x": "s390x",
    "riscv64": "riscv64", "loongarch64": "loongarch64", "ia64": "ia64",
}
_ARCH_WORDS = {
    "x86_64": "64-bit Intel/AMD (x86_64, also called amd64)",
    "i686": "32-bit Intel/AMD (x86, i686)",
    "aarch64": "64-bit ARM (aarch64, also called arm64)",
    "armv7l": "32-bit ARM (armv7l)",
    "armv8l": "32-bit ARM (armv8l)",
    "armv6l": "32-bit ARMv6 (armv6l, e.g. Raspberry Pi Zero/1)",
    "ppc64le": "64-bit POWER little-endian (ppc64le)",
    "s390x": "IBM Z (s390x)",
    "riscv64": "64-bit RISC-V (riscv64)",
}
# The 64-bit architecture a 32-bit userland runs on.
_WIDER = {"i686": "x86_64", "armv7l": "aarch64", "armv8l": "aarch64", "armv6l": "aarch64",
          "ppc": "ppc64"}
_32BIT_ARCHS = frozenset({"i686", "armv7l", "armv8l", "armv6l", "ppc"})

# macOS binary formats and the architectures each contains (packaging's _mac_binary_formats).
_MAC_FORMATS = {
    "x86_64": {"x86_64"}, "arm64": {"aarch64"}, "universal2": {"x86_64", "aarch64"},
    "intel": {"x86_64", "i686"}, "fat64": {"x86_64", "ppc64"},
    "fat3": {"x86_64", "i686", "ppc"}, "fat": {"i686", "ppc"},
    "universal": {"x86_64", "i686", "ppc64", "ppc"}, "i386": {"i686"}, "ppc": {"ppc"},
    "ppc64": {"ppc64"},
}
_WINDOWS_PLATFORMS = {"win32": "i686", "win_amd64": "x86_64", "win_arm64": "aarch64",
                      "win_ia64": "ia64"}
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12),
                     "manylinux2014": (2, 17)}
_MANYLINUX2014_ARCHS = {"x86_64", "i686", "aarch64", "armv7l", "ppc64", "ppc64le", "s390x"}
_SYSTEM_WORDS = {"linux": "Linux", "windows": "Windows", "macos": "macOS",
                 "android": "Android", "ios": "iOS", "emscripten": "WebAssembly (Emscripten)",
                 "any": "any platform"}
_IMPLEMENTATIONS = {"cp": "CPython", "pp": "PyPy", "ip": "IronPython", "jy": "Jython",
                    "graalpy": "GraalPy", "py": "any Python"}

_VERSIONED = re.compile(r"^(manylinux|musllinux)_(\d+)_(\d+)_(.+)$")
_MACOS = re.compile(r"^macosx_(\d+)_(\d+)_(.+)$")
_ANDROID = re.compile(r"^android_(\d+)_(.+)$")
_IOS = re.compile(r"^ios_(\d+)_(\d+)_(.+?)(?:_(iphoneos|iphonesimulator))?$")
_INTERP = re.compile(r"^([a-z]+?)(\d*)$")
_CP_ABI = re.compile(r"^cp(\d+)([a-z]*)$")


def canonical_arch(name: str) -> str:
    low = (name or "").lower().replace("-", "_")
    return _ARCH_ALIASES.get(low, low)


def arch_words(arch: str) -> str:
    return _ARCH_WORDS.get(arch, arch)


def _version_text(version: Iterable[int]) -> str:
    return ".".join(str(v) for v in version)


def parse_platform(tag: str) -> dict[str, Any]:
    """A platform tag as ``{"os", "archs", "libc", "min_version"}``.

    ``archs`` is a set of canonical architectures; ``min_version`` the oldest glibc, musl,
    macOS or Android API level the wheel needs (a tuple), or None.
    """
    info: dict[str, Any] = {"tag": tag, "os": "other", "archs": set(), "libc": None,
                            "min_version": None, "raw_arch": None}
    if tag == "any":
        info["os"] = "any"
        return info
    if tag in _WINDOWS_PLATFORMS:
        info.update(os="windows", archs={_WINDOWS_PLATFORMS[tag]},
                    raw_arch=tag.rpartition("_")[2] if tag != "win32" else "win32")
        return info
    if tag.startswith("win_"):
        info.update(os="windows", archs={canonical_arch(tag[4:])}, raw_arch=tag[4:])
        return info
    match = _VERSIONED.match(tag)
    if match:
        kind, major, minor, arch = match.groups()
        info.update(os="linux", archs={canonical_arch(arch)}, raw_arch=arch,
                    libc="glibc" if kind == "manylinux" else "musl",
                    min_version=(int(major), int(minor)))
        return info
    for legacy, glibc in _LEGACY_MANYLINUX.items():
        if tag.startswith(legacy + "_"):
            arch = tag[len(legacy) + 1:]
            info.update(os="linux", archs={canonical_arch(arch)}, raw_arch=arch,
                        libc="glibc", min_version=glibc)
            return info
    if tag.startswith("linux_"):
        arch = tag[len("linux_"):]
        info.update(os="linux", archs={canonical_arch(arch)}, raw_arch=arch)
        return info
    match = _MACOS.match(tag)
    if match:
        major, minor, fmt = match.groups()
        archs = _MAC_FORMATS.get(fmt, {canonical_arch(fmt)})
        info.update(os="macos", archs=set(archs), raw_arch=fmt,
                    min_version=(int(major), int(minor)))
        return info
    match = _ANDROID.match(tag)
    if match:
        level, abi = match.groups()
        arch = {"arm64_v8a": "aarch64", "armeabi_v7a": "armv7l", "x86": "i686"}.get(abi, abi)
        info.update(os="android", archs={canonical_arch(arch)}, raw_arch=abi,
                    min_version=(int(level),))
        return info
    match = _IOS.match(tag)
    if match:
        info.update(os="ios", archs={canonical_arch(match.group(3))}, raw_arch=match.group(3),
                    min_version=(int(match.group(1)), int(match.group(2))))
        return info
    if "emscripten" in tag or tag.endswith("wasm32"):
        info.update(os="emscripten", archs={"wasm32"})
        return info
    return info


# ---------------------------------------------------------------------------------------
# Target: the interpreter a wheel is judged against
# ---------------------------------------------------------------------------------------

@dataclass
class Target:
    """An interpreter, described: enough to list the tags it accepts and explain misses.

    ``machine`` is the architecture of the *Python* (its userland), in Linux tag spelling
    (x86_64, i686, aarch64, armv7l...); ``os_machine`` the machine the operating system
    kernel reports (``uname -m``, or 64-bit Windows under a 32-bit Python). ``abis`` are
    the version-specific ABIs (``["cp27mu"]``); when empty they follow from ``abiflags``.
    ``platforms`` and ``tag_table`` (the compact tag list of :func:`compact_tags`) are
    taken as they are when given, so a real interpreter's tags are never guessed.
    """

    python_version: tuple[int, ...] = (3, 12)
    implementation: str = "cp"
    abiflags: str = ""
    system: str = "linux"
    machine: str = "x86_64"
    bits: int = 64
    os_machine: Optional[str] = None
    libc: Optional[str] = "glibc"
    libc_version: Optional[tuple[int, ...]] = (2, 35)
    macos_version: Optional[tuple[int, ...]] = None
    abis: list[str] = field(default_factory=list)
    platforms: Optional[list[str]] = None
    tag_table: Optional[dict[str, Any]] = None
    python_full: Optional[str] = None
    executable: Optional[str] = None

    # -- derived ------------------------------------------------------------------------
    @property
    def nodot(self) -> str:
        return "".join(str(v) for v in self.python_version[:2])

    @property
    def interpreter(self) -> str:
        return f"{self.implementation}{self.nodot}"

    @property
    def arch(self) -> str:
        return canonical_arch(self.machine)

    @property
    def kernel_arch(self) -> str:
        return canonical_arch(self.os_machine or self.machine)

    def version_abis(self) -> list[str]:
        if self.abis:
            return list(self.abis)
        if self.implementation != "cp":
            return []
        flags = self.abiflags or ""
        abis = [f"cp{self.nodot}{flags}"]
        if tuple(self.python_version[:2]) >= (3, 8) and "d" in flags:
            abis.append(f"cp{self.nodot}{flags.replace('d', '')}")
        return abis

    @property
    def free_threaded(self) -> bool:
        first = (self.version_abis() or [""])[0]
        match = _CP_ABI.match(first)
        return bool(match and "t" in match.group(2))

    def platform_list(self) -> list[str]:
        if self.platforms is not None:
            return list(self.platforms)
        if self.tag_table is not None:
            return list(self.tag_table.get("platforms") or [])
        return generate_platforms(self)

    def supported(self) -> list[str]:
        """Every tag this interpreter accepts, best first, as strings."""
        if self.tag_table is not None:
            return expand_tags(self.tag_table)
        from packaging import tags as ptags

        platforms = self.platform_list()
        version = tuple(self.python_version[:2])
        found: list[Any] = []
        if self.implementation == "cp":
            found += ptags.cpython_tags(version, self.version_abis(), platforms)
            found += ptags.compatible_tags(version, self.interpreter, platforms)
        else:
            found += ptags.generic_tags(self.interpreter, self.version_abis(), platforms)
            short = "pp3" if self.implementation == "pp" else None
            found += ptags.compatible_tags(version, short, platforms)
        return [str(t) for t in found]

    def describe(self) -> str:
        impl = _IMPLEMENTATIONS.get(self.implementation, self.implementation)
        version = self.python_full or _version_text(self.python_version[:2])
        abi = (self.version_abis() or [self.interpreter])[0]
        parts = [f"{impl} {version} ({abi}, {self.bits}-bit)"]
        system = _SYSTEM_WORDS.get(self.system, self.system)
        where = f"{system} {self.arch}"
        if self.os_machine and self.kernel_arch != self.arch:
            where += f" userland on a 64-bit {self.kernel_arch} kernel" if self.system == "linux" \
                else f" Python on {self.kernel_arch} {system}"
        parts.append(where)
        if self.system == "linux" and self.libc:
            libc = self.libc + (f" {_version_text(self.libc_version)}" if self.libc_version
                                else "")
            parts.append(libc)
        if self.system == "macos" and self.macos_version:
            parts.append(f"macOS {_version_text(self.macos_version)}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "implementation": self.implementation,
            "python_version": list(self.python_version),
            "python_full": self.python_full,
            "abiflags": self.abiflags,
            "abis": self.version_abis(),
            "system": self.system,
            "machine": self.machine,
            "bits": self.bits,
            "os_machine": self.os_machine,
            "libc": self.libc,
            "libc_version": list(self.libc_version) if self.libc_version else None,
            "macos_version": list(self.macos_version) if self.macos_version else None,
            "executable": self.executable,
            "tags": self.tag_table,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Target:
        """The inverse of :meth:`to_dict` (the ``pip`` probe's ``interpreter`` facts).

        Tolerates missing or odd values: a saved report may come from an older envdoctor.
        """

        def version(value: Any) -> Optional[tuple[int, ...]]:
            try:
                return tuple(int(v) for v in value) if value else None
            except (TypeError, ValueError, OverflowError):
                return None

        try:
            bits = int(data.get("bits") or 64)
        except (TypeError, ValueError, OverflowError):
            bits = 64
        table = data.get("tags") if isinstance(data.get("tags"), dict) else None
        if table is not None:  # only lists of tag parts (a pasted report may be edited)
            table = {key: [str(v) for v in value] for key, value in table.items()
                     if isinstance(value, list)}
        return cls(
            python_version=version(data.get("python_version")) or (3, 12),
            implementation=str(data.get("implementation") or "cp"),
            abiflags=str(data.get("abiflags") or ""),
            system=str(data.get("system") or "linux"),
            machine=str(data.get("machine") or "x86_64"),
            bits=bits,
            os_machine=str(data["os_machine"]) if data.get("os_machine") else None,
            libc=str(data["libc"]) if data.get("libc") else None,
            libc_version=version(data.get("libc_version")),
            macos_version=version(data.get("macos_version")),
            abis=[str(a) for a in data["abis"]] if isinstance(data.get("abis"), list) else [],
            tag_table=table,
            python_full=str(data["python_full"]) if data.get("python_full") else None,
            executable=str(data["executable"]) if data.get("executable") else None,
        )


def generate_platforms(target: Target) -> list[str]:
    """The platform tags a described interpreter accepts (packaging's rules)."""
    arch = target.arch
    if target.system == "windows":
        names = {v: k for k, v in _WINDOWS_PLATFORMS.items()}
        return [names.get(arch, f"win_{arch}")]
    if target.system == "macos":
        from packaging.tags import mac_platforms

        mac_arch = {"aarch64": "arm64", "i686": "i386"}.get(arch, arch)
        version = tuple((target.macos_version or (11, 0))[:2])
        return list(mac_platforms(version, mac_arch))  # type: ignore[arg-type]
    if target.system != "linux":
        return [f"{target.system}_{arch}"]
    archs = ["armv8l", "armv7l"] if arch == "armv8l" else [arch]
    platforms = [f"linux_{a}" for a in archs]
    if target.libc == "glibc" and target.libc_version and len(target.libc_version) >= 2:
        major, minor = target.libc_version[0], target.libc_version[1]
        oldest = 5 if set(archs) & {"x86_64", "i686"} else 17
        if major == 2:
            for a in archs:
                for m in range(minor, oldest - 1, -1):
                    platforms.append(f"manylinux_2_{m}_{a}")
                    if (2, m) == (2, 17) and a in _MANYLINUX2014_ARCHS:
                        platforms.append(f"manylinux2014_{a}")
                    elif (2, m) == (2, 12) and a in ("x86_64", "i686"):
                        platforms.append(f"manylinux2010_{a}")
                    elif (2, m) == (2, 5) and a in ("x86_64", "i686"):
                        platforms.append(f"manylinux1_{a}")
    if target.libc == "musl" and target.libc_version and len(target.libc_version) >= 2:
        major, minor = target.libc_version[0], target.libc_version[1]
        for a in archs:
            platforms += [f"musllinux_{major}_{m}_{a}" for m in range(minor, -1, -1)]
    return platforms


def compact_tags(tags: Iterable[str]) -> dict[str, Any]:
    """A lossless, small form of a tag list: pairs that go with every platform + the rest.

    ``sys_tags`` is ~1000 tags (every interpreter/ABI pair times ~40 platforms); this is
    ~25 pairs and ~40 platforms, which a report can carry.
    """
    platforms: list[str] = []
    by_pair: dict[str, list[str]] = {}
    for text in tags:
        interp, abi, plat = text.split("-", 2)
        if plat != "any" and plat not in platforms:
            platforms.append(plat)
        by_pair.setdefault(f"{interp}-{abi}", []).append(plat)
    every = set(platforms)
    pairs, extra = [], []
    for pair, plats in by_pair.items():
        if every and set(plats) >= every:
            pairs.append(pair)
            extra += [f"{pair}-{p}" for p in plats if p not in every]
        else:
            extra += [f"{pair}-{p}" for p in plats]
    return {"platforms": platforms, "pairs": pairs, "extra": extra}


def expand_tags(table: dict[str, Any]) -> list[str]:
    platforms = [str(p) for p in table.get("platforms") or []]
    out = [f"{pair}-{p}" for pair in table.get("pairs") or [] for p in platforms]
    out += [str(t) for t in table.get("extra") or []]
    return out


def describe_interpreter() -> dict[str, Any]:
    """This interpreter as :meth:`Target.to_dict` data, with its real ``sys_tags``."""
    import platform as _platform
    import struct
    import sysconfig

    from packaging import tags as ptags

    all_tags = [str(t) for t in ptags.sys_tags()]
    table = compact_tags(all_tags)
    bits = struct.calcsize("P") * 8
    system = {"Linux": "linux", "Windows": "windows", "Darwin": "macos"}.get(
        _platform.system(), _platform.system().lower() or sys.platform)
    uname_machine = (os.uname().machine if hasattr(os, "uname") else _platform.machine())
    os_machine = canonical_arch(uname_machine)
    plat = sysconfig.get_platform()  # linux-x86_64, win-amd64, win32, macosx-11.0-arm64
    if system == "windows":
        machine = canonical_arch("win32" if plat == "win32" else plat.rpartition("-")[2])
        arch = os.environ.get("PROCESSOR_ARCHITEW6432") or os.environ.get(
            "PROCESSOR_ARCHITECTURE") or uname_machine
        os_machine = canonical_arch(arch)
    elif system == "linux":
        first = next((p for p in table["platforms"] if p.startswith("linux_")), "")
        machine = first[len("linux_"):] or canonical_arch(plat.rpartition("-")[2])
    else:
        machine = canonical_arch(_platform.machine())
        if bits == 32:
            machine = {"x86_64": "i686", "aarch64": "armv7l"}.get(machine, machine)
    libc, libc_version = None, None
    if system == "linux":
        try:
            gnu = os.confstr("CS_GNU_LIBC_VERSION") or ""
        except (ValueError, OSError, AttributeError):
            gnu = ""
        if gnu.startswith("glibc"):
            libc, libc_version = "glibc", _int_tuple(gnu.split()[-1])
        else:
            musl = next((p for p in table["platforms"] if p.startswith("musllinux_")), None)
            if musl:
                parts = musl.split("_")
                libc, libc_version = "musl", (int(parts[1]), int(parts[2]))
    macos_version = None
    if system == "macos":
        macos_version = _int_tuple(_platform.mac_ver()[0]) or None
    abis = []
    for pair in table["pairs"]:
        interp, abi = pair.split("-")
        if abi not in ("none", "abi3", "abi3t") and abi not in abis and \
                not interp.startswith("py"):
            abis.append(abi)
    target = Target(
        python_version=tuple(sys.version_info[:2]), implementation=ptags.interpreter_name(),
        abiflags=getattr(sys, "abiflags", "") or "", system=system, machine=machine,
        bits=bits, os_machine=os_machine, libc=libc, libc_version=libc_version,
        macos_version=macos_version, abis=abis, tag_table=table,
        python_full=_platform.python_version(), executable=sys.executable or None)
    return target.to_dict()


def _int_tuple(text: str) -> Optional[tuple[int, ...]]:
    parts = []
    for piece in (text or "").split("."):
        digits = re.match(r"\d+", piece)
        if not digits:
            break
        parts.append(int(digits.group()))
    return tuple(parts) if parts else None


# ---------------------------------------------------------------------------------------
# Explanation
# ---------------------------------------------------------------------------------------

class InvalidWheelName(ValueError):
    """Not a wheel file name; the message says why in plain words."""


@dataclass
class Reason:
    kind: str       # "python" | "abi" | "platform" | "tags"
    code: str       # short stable word: "python-version", "glibc-too-old"...
    message: str
    hint: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "code": self.code, "message": self.message,
                "hint": self.hint}


@dataclass
class Verdict:
    filename: str
    name: str
    version: str
    tags: list[str]
    compatible: bool
    matching_tag: Optional[str]
    reasons: list[Reason]
    suggestion: Optional[str]        # the tag triple that would fit
    suggested_filename: Optional[str]
    suggestion_note: str
    target: Target
    lookup: str = ""                 # how to confirm the suggested file exists

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.filename,
            "name": self.name,
            "version": self.version,
            "tags": self.tags,
            "installable": self.compatible,
            "matching_tag": self.matching_tag,
            "reasons": [r.to_dict() for r in self.reasons],
            "suggestion": {"tag": self.suggestion, "filename": self.suggested_filename,
                           "note": self.suggestion_note, "filename_is_guess": True,
                           "check": self.lookup} if self.suggestion else None,
            "target": {"description": self.target.describe(),
                       "interpreter": self.target.interpreter,
                       "abis": self.target.version_abis(), "system": self.target.system,
                       "machine": self.target.machine, "bits": self.target.bits},
        }


def parse_wheel_name(filename: str) -> tuple[str, str, list[str]]:
    """(project name as spelled in the file, version, tags) or :class:`InvalidWheelName`."""
    from packaging.utils import parse_wheel_filename

    base = os.path.basename(str(filename).replace("\\", "/"))
    if not base.endswith(".whl"):
        raise InvalidWheelName(f"{base!r} is not a wheel file name: it must end in .whl "
                               "(name-version-pythontag-abitag-platformtag.whl)")
    try:
        _name, version, _build, tags = parse_wheel_filename(base)
    except Exception as exc:  # InvalidWheelFilename, InvalidVersion (packaging < 23.2)...
        text = str(exc) or type(exc).__name__
        raise InvalidWheelName(
            f"{base!r} is not a valid wheel file name ({text}); a wheel is named "
            "name-version[-build]-pythontag-abitag-platformtag.whl, e.g. "
            "numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl") from None
    spelled = base[:-4].split("-")[0]
    ordered = sorted(str(t) for t in tags)
    return spelled, str(version), ordered


def explain(filename: str, target: Target,
            supported: Optional[list[str]] = None) -> Verdict:
    """Whether ``target`` can install the wheel ``filename``, and every reason it cannot."""
    name, version, wheel_tags = parse_wheel_name(filename)
    supported = supported if supported is not None else target.supported()
    rank = {t: i for i, t in enumerate(reversed(supported))}
    matching = [t for t in wheel_tags if t in rank]
    base = os.path.basename(str(filename).replace("\\", "/"))
    if matching:
        best = max(matching, key=lambda t: rank[t])
        return Verdict(base, name, version, wheel_tags, True, best, [], None, None, "", target)
    reasons, fits = _reasons(wheel_tags, target, supported)
    tag, note = _suggest(wheel_tags, target, supported, fits)
    suggested = f"{name}-{version}-{tag}.whl" if tag else None
    other_python = any(r.code in ("python-version", "python-too-old", "implementation")
                       for r in reasons)
    lookup = lookup_note(name, version, other_python) if tag else ""
    return Verdict(base, name, version, wheel_tags, False, None, reasons, tag, suggested,
                   note, target, lookup)


def explain_tags(wheel_tags: list[str], target: Target,
                 supported: Optional[list[str]] = None) -> list[Reason]:
    """Every reason ``target`` rejects a wheel with these tags ([] when one fits)."""
    supported = supported if supported is not None else target.supported()
    if set(wheel_tags) & set(supported):
        return []
    return _reasons(list(wheel_tags), target, supported)[0]


def _split(tags: Iterable[str]) -> list[tuple[str, str, str]]:
    """interpreter-abi-platform triples; text that is not a tag is left out."""
    return [tuple(t.split("-", 2)) for t in tags  # type: ignore[misc]
            if isinstance(t, str) and t.count("-") >= 2]


def _interp_parts(interp: str) -> tuple[str, Optional[tuple[int, ...]]]:
    match = _INTERP.match(interp)
    if not match:
        return interp, None
    impl, digits = match.groups()
    if not digits:
        return impl, None
    if len(digits) == 1:
        return impl, (int(digits),)
    return impl, (int(digits[0]), int(digits[1:]))


def _python_words(interp: str) -> str:
    impl, version = _interp_parts(interp)
    name = _IMPLEMENTATIONS.get(impl, impl)
    if impl == "py":
        return f"Python {_version_text(version)}" if version else "any Python"
    return f"{name} {_version_text(version)}" if version else name


def _reasons(wheel_tags: list[str], target: Target, supported: list[str]
             ) -> tuple[list[Reason], dict[str, bool]]:
    triples = _split(wheel_tags)
    sup = _split(supported)
    ok_interps = {i for i, _, _ in sup}
    ok_abis = {a for _, a, _ in sup}
    ok_pairs = {(i, a) for i, a, _ in sup}
    ok_platforms = {p for _, _, p in sup}
    reasons: list[Reason] = []

    # cp311 is a fine interpreter tag on 3.12 for abi3 wheels only: judge each wheel tag's
    # interpreter with ABIs of its kind (stable/none, or version-specific).
    generic = ("none", "abi3", "abi3t")
    specific_interps = {i for i, a in ok_pairs if a not in generic}

    def interp_fits(interp: str, abi: str) -> bool:
        if abi in generic:
            return interp in ok_interps
        return interp in specific_interps

    interp_ok = any(interp_fits(i, a) for i, a, _ in triples)
    if not interp_ok:
        reasons += _python_reasons(triples, target)
    considered = [t for t in triples if interp_fits(t[0], t[1])] or triples
    abi_ok = any(a in ok_abis for _, a, _ in considered)
    pair_ok = any((i, a) in ok_pairs for i, a, _ in triples)
    if not abi_ok or (interp_ok and not pair_ok):
        reasons += _abi_reasons(considered, target, version_matters=interp_ok)
    platform_ok = any(p in ok_platforms for _, _, p in triples)
    if not platform_ok:
        reasons += _platform_reasons(sorted({p for _, _, p in triples}), target)
    if not reasons:
        reasons.append(Reason(
            "tags", "tag-combination",
            f"each part of the wheel's tags fits on its own, but no combination "
            f"({', '.join(wheel_tags)}) is one {target.interpreter} accepts"))
    return _dedupe(reasons), {"interpreter": interp_ok and pair_ok, "platform": platform_ok}


def _dedupe(reasons: list[Reason]) -> list[Reason]:
    seen, out = set(), []
    for reason in reasons:
        if reason.message not in seen:
            seen.add(reason.message)
            out.append(reason)
    return out


def _python_reasons(triples: list[tuple[str, str, str]], target: Target) -> list[Reason]:
    reasons = []
    here_impl = target.implementation
    here = f"{_IMPLEMENTATIONS.get(here_impl, here_impl)} " \
           f"{_version_text(target.python_version[:2])}"
    for interp in sorted({i for i, _, _ in triples}):
        impl, version = _interp_parts(interp)
        abis = {a for i, a, _ in triples if i == interp}
        if impl not in ("py", here_impl):
            reasons.append(Reason(
                "python", "implementation",
                f"Python tag {interp}: built for {_python_words(interp)}; this is {here}",
                f"use a {_IMPLEMENTATIONS.get(impl, impl)} interpreter, or look for a "
                f"{target.interpreter} wheel"))
            continue
        if version is None:
            continue
        mine = tuple(target.python_version[:len(version)])
        if impl == "py":
            if version[0] != target.python_version[0]:
                words = f"a pure-Python wheel for Python {version[0]} only"
            elif len(version) > 1 and version > mine:
                words = f"a pure-Python wheel that needs Python {_version_text(version)} " \
                        "or newer"
            else:
                words = f"built for {_python_words(interp)}"
            reasons.append(Reason("python", "python-version",
                                  f"Python tag {interp}: {words}; this is {here}",
                                  "look for a py3 wheel (usually a newer release of the "
                                  "package)" if version[0] != target.python_version[0]
                                  else "use a newer Python, or an older release of the "
                                  "package"))
            continue
        stable = abis & {"abi3", "abi3t"}
        if stable and version[0] == target.python_version[0] and version > mine:
            reasons.append(Reason(
                "python", "python-too-old",
                f"Python tag {interp} with the stable ABI ({'/'.join(sorted(stable))}): "
                f"needs Python {_version_text(version)} or newer; this is {here}",
                f"use Python {_version_text(version)} or newer, or an older release of the "
                "package"))
            continue
        reasons.append(Reason(
            "python", "python-version",
            f"Python tag {interp}: built for Python {_version_text(version)} only; this is "
            f"{here}. A {interp} wheel with compiled code installs only on Python "
            f"{_version_text(version)}",
            f"look for a {target.interpreter} wheel (this release has one only if it "
            f"supports {here.split(' (')[0]}), or use Python {_version_text(version)}"))
    return reasons


_FLAG_WORDS = {
    "d": "a debug build of Python",
    "t": "the free-threaded build of Python (no GIL, e.g. python3.13t)",
    "m": "a Python built with pymalloc (pre-3.8 'm' ABI)",
    "u": "a wide-unicode (UCS-4) Python 2 build",
}


def _abi_reasons(triples: list[tuple[str, str, str]], target: Target,
                 version_matters: bool) -> list[Reason]:
    reasons = []
    mine = (target.version_abis() or [""])[0]
    mine_match = _CP_ABI.match(mine)
    my_flags = set(mine_match.group(2)) if mine_match else set()
    for abi in sorted({a for _, a, _ in triples}):
        if abi == "none":
            continue
        if abi in ("abi3", "abi3t"):
            if target.implementation != "cp":
                reasons.append(Reason(
                    "abi", "stable-abi", f"ABI {abi}: CPython's stable ABI; this is "
                    f"{_IMPLEMENTATIONS.get(target.implementation, target.implementation)}, "
                    "which cannot load it", f"look for a {target.interpreter} wheel"))
            elif abi == "abi3" and target.free_threaded:
                reasons.append(Reason(
                    "abi", "stable-abi-free-threaded",
                    f"ABI abi3: the stable ABI does not load on the free-threaded build; "
                    f"this Python is free-threaded ({mine})",
                    f"look for a {target.interpreter}-{mine} wheel, or use the default "
                    f"(GIL) build of Python {_version_text(target.python_version[:2])}"))
            elif abi == "abi3t" and not target.free_threaded:
                reasons.append(Reason(
                    "abi", "stable-abi-free-threaded",
                    "ABI abi3t: the free-threaded stable ABI; this Python has the GIL"))
            continue
        match = _CP_ABI.match(abi)
        if not match:
            if version_matters:
                reasons.append(Reason("abi", "abi-other",
                                      f"ABI {abi}: not an ABI this Python accepts "
                                      f"({', '.join(target.version_abis()) or 'none'})"))
            continue
        wheel_flags = set(match.group(2))
        same_version = mine_match is not None and match.group(1) == mine_match.group(1)
        relevant = {"d", "t"} if not same_version else {"d", "t", "m", "u"}
        if target.implementation != "cp":
            continue  # the Python tag reason already says CPython vs this implementation
        for flag in sorted((wheel_flags ^ my_flags) & relevant):
            if flag == "m" and not same_version:
                continue
            reasons.append(_flag_reason(abi, mine, flag, flag in wheel_flags))
        if version_matters and not (wheel_flags ^ my_flags) and not same_version:
            reasons.append(Reason(
                "abi", "abi-version",
                f"ABI {abi}: compiled for Python {match.group(1)[0]}.{match.group(1)[1:]}; "
                f"this Python's ABI is {mine}"))
    return reasons


def _flag_reason(abi: str, mine: str, flag: str, wheel_has: bool) -> Reason:
    if flag == "u":
        if wheel_has:
            text = (f"ABI {abi}: built for a wide-unicode (UCS-4) Python 2 build; this "
                    f"Python is a narrow-unicode (UCS-2) build ({mine})")
        else:
            text = (f"ABI {abi}: built for a narrow-unicode (UCS-2) Python 2 build; this "
                    f"Python is a wide-unicode (UCS-4) build ({mine}), as Linux "
                    "distributions build Python 2")
        return Reason("abi", "unicode-width", text, f"look for the {mine} wheel")
    if flag == "t":
        if wheel_has:
            text = (f"ABI {abi}: built for the free-threaded build of Python (no GIL); "
                    f"this Python has the GIL ({mine})")
            hint = f"look for the {mine} wheel, or run it with the free-threaded python " \
                   "(python3.13t)"
        else:
            text = (f"ABI {abi}: built for the default build of Python (with the GIL); "
                    f"this Python is free-threaded ({mine}) and cannot load it")
            hint = f"look for a {mine} wheel, or use the default (GIL) Python"
        return Reason("abi", "free-threading", text, hint)
    if flag == "d":
        if wheel_has:
            return Reason("abi", "debug-build",
                          f"ABI {abi}: built for a debug build of Python (the 'd' flag); "
                          f"this is a release build ({mine})",
                          f"look for the {mine} wheel (release build)")
        return Reason("abi", "debug-build",
                      f"ABI {abi}: built for a release build; this Python is a debug build "
                      f"({mine}), which before 3.8 cannot load release extensions",
                      "use a release build of Python")
    words = _FLAG_WORDS.get(flag, f"the '{flag}' ABI flag")
    have = "built for" if wheel_has else "not built for"
    return Reason("abi", "abi-flags", f"ABI {abi}: {have} {words}; this Python's ABI is {mine}",
                  f"look for the {mine} wheel")


def _platform_reasons(platforms: list[str], target: Target) -> list[Reason]:
    parsed = [parse_platform(p) for p in platforms]
    system = target.system
    same_os = [p for p in parsed if p["os"] == system]
    if not same_os:
        found = [(p["tag"], _os_reason(p, target)) for p in parsed]
    else:
        my_archs = _target_archs(target)
        same_arch = [p for p in same_os if p["archs"] & my_archs]
        if not same_arch:
            found = [(p["tag"], _arch_reason(p, target)) for p in same_os]
        else:
            found = [(p["tag"], _version_reason(p, target)) for p in same_arch]
    # One reason per cause: manylinux_2_17_x86_64.manylinux2014_x86_64 is one platform.
    merged: dict[tuple[str, str], tuple[list[str], Reason]] = {}
    for tag, reason in found:
        prefix = f"platform {tag}: "
        body = reason.message[len(prefix):] if reason.message.startswith(prefix) \
            else reason.message
        key = (reason.code, body)
        if key in merged:
            merged[key][0].append(tag)
        else:
            merged[key] = ([tag], Reason(reason.kind, reason.code, body, reason.hint))
    return [Reason(r.kind, r.code, f"platform {' / '.join(tags)}: {r.message}", r.hint)
            for tags, r in merged.values()]


def _target_archs(target: Target) -> set[str]:
    arch = target.arch
    if arch == "armv8l":
        return {"armv8l", "armv7l"}
    return {arch}


def _os_reason(p: dict[str, Any], target: Target) -> Reason:
    theirs = _SYSTEM_WORDS.get(p["os"])
    here = _SYSTEM_WORDS.get(target.system, target.system)
    if theirs is None:
        return Reason("platform", "platform-other",
                      f"platform {p['tag']}: not a platform this Python accepts "
                      f"(this is {here} {target.arch})")
    arch = next(iter(p["archs"]), None)
    what = f"{theirs}" + (f" on {arch_words(arch)}" if arch else "")
    return Reason("platform", "operating-system",
                  f"platform {p['tag']}: built for {what}; this is {here}",
                  f"a {theirs} wheel never installs on {here}: look for a {here} wheel or "
                  "the source distribution")


def _arch_reason(p: dict[str, Any], target: Target) -> Reason:
    tag = p["tag"]
    wheel_arch = next(iter(sorted(p["archs"])), "?")
    here = target.arch
    system = _SYSTEM_WORDS.get(target.system, target.system)
    kernel = target.kernel_arch
    naming = _naming_reason(p, target)
    if naming is not None:
        return naming
    if here in _32BIT_ARCHS and _WIDER.get(here) == wheel_arch:
        if kernel == wheel_arch:
            if target.system == "windows":
                return Reason(
                    "platform", "32bit-python-64bit-os",
                    f"platform {tag}: a 64-bit wheel; this Python is a 32-bit build (win32) "
                    "running on 64-bit Windows. A 64-bit wheel needs a 64-bit Python",
                    "install the 64-bit Python (python.org: 'Windows installer (64-bit)') "
                    "and use it, or look for a win32 wheel")
            if target.system == "linux":
                return Reason(
                    "platform", "32bit-userland-64bit-kernel",
                    f"platform {tag}: built for {arch_words(wheel_arch)}; the kernel is "
                    f"64-bit (uname -m says {kernel}) but the operating system's userland "
                    f"and this Python are 32-bit ARM ({here}), as on Raspberry Pi OS 32-bit "
                    "with a 64-bit kernel",
                    f"install a 64-bit OS (e.g. Raspberry Pi OS 64-bit) to use {wheel_arch} "
                    f"wheels, or look for an armv7l wheel (piwheels.org builds them "
                    "for Raspberry Pi)" if here.startswith("arm") else
                    f"install a 64-bit OS and Python, or look for a {here} wheel")
            return Reason("platform", "32bit-python-64bit-os",
                          f"platform {tag}: a 64-bit wheel; this Python is a 32-bit build "
                          f"({here}) on a 64-bit system",
                          "install a 64-bit Python and use it")
        return Reason("platform", "architecture",
                      f"platform {tag}: built for {arch_words(wheel_arch)}; this system is "
                      f"32-bit ({arch_words(here)})")
    if target.system == "macos":
        if wheel_arch == "x86_64" and here == "aarch64":
            return Reason("platform", "architecture",
                          f"platform {tag}: an Intel-only (x86_64) macOS wheel; this Python "
                          "runs natively on Apple silicon (arm64)",
                          "look for an arm64 or universal2 wheel, or install an x86_64 "
                          "Python and run it under Rosetta 2")
        if wheel_arch == "aarch64" and here == "x86_64":
            extra = " (on Apple silicon this is an Intel Python running under Rosetta 2)" \
                if kernel == "aarch64" else ""
            return Reason("platform", "architecture",
                          f"platform {tag}: an Apple silicon (arm64) wheel; this Python is "
                          f"an Intel (x86_64) build{extra}",
                          "use a native arm64 Python (python.org universal2 installer, "
                          "Homebrew in /opt/homebrew), or look for an x86_64 or universal2 "
                          "wheel")
    return Reason("platform", "architecture",
                  f"platform {tag}: built for {arch_words(wheel_arch)}; this Python runs on "
                  f"{arch_words(here)} {system}",
                  f"look for a wheel for {here}" + (" or build from the source distribution"
                                                    if target.system == "linux" else ""))


def _naming_reason(p: dict[str, Any], target: Target) -> Optional[Reason]:
    """Naming traps: Linux says aarch64/x86_64, macOS arm64, Windows amd64/arm64."""
    tag, raw = p["tag"], (p["raw_arch"] or "")
    if target.system == "linux" and raw == "arm64":
        return Reason("platform", "arch-naming",
                      f"platform {tag}: Linux wheels call 64-bit ARM 'aarch64', never "
                      "'arm64'; pip never matches this tag on Linux (a mislabelled wheel)",
                      "look for a manylinux_*_aarch64 wheel, or ask the publisher to fix the "
                      "tag")
    if target.system == "macos" and raw == "aarch64":
        return Reason("platform", "arch-naming",
                      f"platform {tag}: macOS wheels call Apple silicon 'arm64', never "
                      "'aarch64'; pip never matches this tag (a mislabelled wheel)",
                      "look for a macosx_*_arm64 or universal2 wheel")
    if target.system == "linux" and raw in ("amd64", "x64"):
        return Reason("platform", "arch-naming",
                      f"platform {tag}: Linux wheels call 64-bit Intel/AMD 'x86_64', never "
                      f"'{raw}'; pip never matches this tag (a mislabelled wheel)",
                      "look for a manylinux_*_x86_64 wheel")
    return None


def _version_reason(p: dict[str, Any], target: Target) -> Reason:
    naming = _naming_reason(p, target)
    if naming is not None:
        return naming
    tag, need = p["tag"], p["min_version"]
    if target.system == "linux":
        if p["libc"] == "musl" and target.libc != "musl":
            return Reason("platform", "musl-vs-glibc",
                          f"platform {tag}: built for musl libc (Alpine Linux and similar); "
                          f"this system uses {target.libc or 'another C library'}",
                          "look for a manylinux wheel (built for glibc)")
        if p["libc"] == "glibc" and target.libc == "musl":
            return Reason("platform", "glibc-vs-musl",
                          f"platform {tag}: built for glibc (manylinux); this system uses "
                          "musl libc (e.g. Alpine Linux)",
                          "look for a musllinux wheel, build from source (apk add build-base), "
                          "or use a glibc-based image such as python:3.x-slim")
        if p["libc"] and need and target.libc_version and \
                tuple(need) > tuple(target.libc_version[:2]):
            have = _version_text(target.libc_version[:2])
            if p["libc"] == "glibc":
                return Reason("platform", "glibc-too-old",
                              f"platform {tag}: needs glibc {_version_text(need)} or newer; "
                              f"this system has glibc {have}",
                              f"look for an older manylinux wheel (manylinux_2_N with N at "
                              f"most {target.libc_version[1]}, e.g. manylinux2014 = 2.17), "
                              "or upgrade the OS")
            return Reason("platform", "musl-too-old",
                          f"platform {tag}: needs musl {_version_text(need)} or newer; this "
                          f"system has musl {have}", "look for an older musllinux wheel or "
                          "upgrade the OS")
        if p["libc"] and target.libc is None:
            return Reason("platform", "libc-unknown",
                          f"platform {tag}: needs {p['libc']}, and this Python does not "
                          "accept manylinux/musllinux wheels (no usable C library version "
                          "was found, or a _manylinux module turns them off)")
        if p["libc"] == "glibc" and need and need in _LEGACY_MANYLINUX.values() and \
                target.arch not in _MANYLINUX2014_ARCHS:
            return Reason("platform", "legacy-manylinux",
                          f"platform {tag}: a legacy manylinux tag that does not exist for "
                          f"{target.arch}")
    if target.system == "macos" and need and target.macos_version and \
            tuple(need) > tuple(target.macos_version[:2]):
        return Reason("platform", "macos-too-old",
                      f"platform {tag}: needs macOS {_version_text(need)} or newer; this is "
                      f"macOS {_version_text(target.macos_version)}",
                      "look for a wheel with an older macosx_ version, or upgrade macOS")
    if target.system == "android" and need:
        return Reason("platform", "android-too-old",
                      f"platform {tag}: needs Android API level {need[0]} or newer")
    return Reason("platform", "platform-other",
                  f"platform {tag}: not a platform tag this Python accepts")


def _suggest(wheel_tags: list[str], target: Target, supported: list[str],
             fits: dict[str, bool]) -> tuple[Optional[str], str]:
    triples = _split(wheel_tags)
    sup = _split(supported)
    sup_pairs = [(i, a) for i, a, _ in sup]
    pure = all(a == "none" and p == "any" for _, a, p in triples)
    if pure:
        return f"py{target.python_version[0]}-none-any", ""
    stable = any(a == "abi3" for _, a, _ in triples) and \
        any(a == "abi3" for _, a in sup_pairs) and target.interpreter.startswith("cp")
    if fits["interpreter"]:
        pair = next((i, a) for i, a, _ in triples if (i, a) in set(sup_pairs))
    elif stable:
        # A stable-ABI (abi3) release is built once for its oldest Python: keep that
        # form (cryptography-...-cp311-abi3 on 3.9 -> a cp39-abi3 or older file).
        pair = (target.interpreter, "abi3")
    else:
        abis = target.version_abis()
        if abis:
            pair = (target.interpreter, abis[0])
        else:
            pair = next(((i, a) for i, a in sup_pairs if a != "none"), (target.interpreter,
                                                                        "none"))
    abi3_note = (f"any cpXY-abi3 wheel with XY at most {target.interpreter[2:]} fits"
                 if pair[1] == "abi3" and not fits["interpreter"] else "")
    if any(p == "any" for _, _, p in triples):
        return f"{pair[0]}-{pair[1]}-any", abi3_note
    if fits["platform"]:
        plat = next(p for _, _, p in triples if p in {x for _, _, x in sup})
        return f"{pair[0]}-{pair[1]}-{plat}", abi3_note
    plat, note = _preferred_platform(target, [p for _, _, p in triples])
    if not plat:
        return None, ""
    return f"{pair[0]}-{pair[1]}-{plat}", "; ".join(n for n in (abi3_note, note) if n)


def lookup_note(verdict_name: str, version: str, other_python: bool) -> str:
    """What the user must check before trusting a suggested file name: it is built from
    tags, never looked up, and a release has a wheel for a Python only if its
    Requires-Python allows that Python (numpy 2.5.5 has no cp311 file if it requires
    Python >= 3.12)."""
    look = (f"pip download {verdict_name}=={version} --no-deps --only-binary=:all: -d . "
            f"(or https://pypi.org/project/{verdict_name}/{version}/#files)")
    if other_python:
        return ("the name is built from the tags, not looked up: the release has it only "
                f"if its Requires-Python allows this Python; check with {look}, else use "
                "an older release that supports this Python")
    return f"the name is built from the tags, not looked up; check with {look}"


def _preferred_platform(target: Target, wheel_platforms: Iterable[str] = ()
                        ) -> tuple[Optional[str], str]:
    arch = target.arch
    platforms = target.platform_list()
    if target.system == "linux":
        if arch == "armv8l":  # 32-bit ARM on a 64-bit kernel: armv7l wheels are the ones built
            platforms = [p for p in platforms if p.endswith("armv7l")] or platforms
        manys = [p for p in platforms if p.startswith("manylinux_")]
        if manys:
            newest = manys[0]
            parts = newest.split("_")
            suffix = "_".join(parts[3:])
            # A name that exists on package indexes: the wheel's own manylinux level when
            # this glibc takes it, else manylinux2014 (2.17, the most widely built), else
            # the newest this glibc accepts.
            levels = [info["min_version"] for info in map(parse_platform, wheel_platforms)
                      if info["libc"] == "glibc" and info["min_version"]]
            wanted = [f"manylinux_{v[0]}_{v[1]}_{suffix}" for v in sorted(levels)]
            wanted.append(f"manylinux_2_17_{suffix}")
            many = next((p for p in wanted if p in manys), newest)
            return many, (f"any manylinux_2_N_{suffix} wheel with N at most {parts[2]} "
                          "fits; manylinux2014 means 2.17")
        musl = next((p for p in platforms if p.startswith("musllinux_")), None)
        if musl:
            return musl, "an older musllinux_1_N wheel fits too"
        return (platforms[0] if platforms else f"linux_{arch}"), ""
    if target.system == "macos":
        mac_arch = {"aarch64": "arm64", "i686": "i386"}.get(arch, arch)
        native = next((p for p in platforms if p.endswith("_" + mac_arch)), None)
        return native, "a wheel for an older macOS version, or universal2, fits too"
    if target.system == "windows":
        return (platforms[0] if platforms else None), ""
    return (platforms[0] if platforms else None), ""


# ---------------------------------------------------------------------------------------
# Installed distributions: does a WHEEL file's tag set fit?
# ---------------------------------------------------------------------------------------

def parse_wheel_file(text: Optional[str]) -> tuple[Optional[list[str]], Optional[str]]:
    """The Tag lines of a dist-info WHEEL file: (tags, None) or (None, why unknown)."""
    if text is None:
        return None, "no WHEEL file"
    tags: list[str] = []
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == "tag":
            value = value.strip()
            pieces = value.split("-")
            if len(pieces) != 3 or not all(pieces):
                return None, f"malformed Tag line {value[:80]!r}"
            # Compressed tag sets (py2.py3-none-any) expand like packaging's parse_tag.
            for interp in pieces[0].split("."):
                for abi in pieces[1].split("."):
                    for plat in pieces[2].split("."):
                        tags.append(f"{interp}-{abi}-{plat}".lower())
    if not tags:
        return None, "WHEEL file has no Tag line"
    return tags, None
