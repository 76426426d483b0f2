"""cpu.avx: does this processor have the instruction sets the installed packages were
built for (AVX for TensorFlow and jaxlib, x86-64-v2 for NumPy 2.4+)?"""

from __future__ import annotations

import functools
import re
from typing import Any, Optional

from envdoctor.facts import as_dict, strings
from envdoctor.registry import register
from envdoctor.result import ERROR, INFO, WARNING, Finding, Outcome, outcome, passed, skipped

X86_MACHINES = ("x86_64", "amd64", "i386", "i486", "i586", "i686", "x86")

# /proc/cpuinfo flag -> the name people know it by.
FLAG_NAMES = {"avx": "AVX", "avx2": "AVX2", "fma": "FMA", "avx512f": "AVX-512", "pni": "SSE3",
              "ssse3": "SSSE3", "sse4_1": "SSE4.1", "sse4_2": "SSE4.2", "popcnt": "POPCNT",
              "cx16": "CMPXCHG16B", "lahf_lm": "LAHF/SAHF", "abm": "LZCNT", "bmi1": "BMI1",
              "bmi2": "BMI2", "f16c": "F16C", "movbe": "MOVBE", "xsave": "XSAVE"}

CODES = {
    "cpu.E001": "An installed package was built for instructions this processor lacks (such "
                "as AVX): importing it crashes.",
    "cpu.W001": "An installed package may have been built for instructions this processor "
                "lacks: importing it may crash.",
    "cpu.I001": "Popular packages whose official builds cannot run on this processor.",
}


@functools.lru_cache(maxsize=1)
def requirements() -> list[dict[str, Any]]:
    """Rows of envdoctor/data/cpu_requirements.json (each with its source)."""
    from envdoctor.data import load

    return list(load("cpu_requirements.json")["rows"])


def level_flags(level: str) -> frozenset[str]:
    """Every /proc/cpuinfo flag an x86-64 micro-architecture level requires."""
    from envdoctor.probes.cpu import X86_LEVELS

    needed: set[str] = set()
    for name, flags in X86_LEVELS:
        needed |= flags
        if name == level:
            return frozenset(needed)
    return frozenset(needed)


def friendly_model(model: Any) -> Optional[str]:
    """'Intel(R) Pentium(R) CPU G4600 @ 3.60GHz' -> 'Intel Pentium G4600'."""
    if not isinstance(model, str) or not model.strip():
        return None
    text = re.sub(r"\((R|TM|tm|r)\)", "", model)
    text = re.sub(r"@\s*[\d.]+\s*[GM]Hz", "", text)
    text = re.sub(r"\bCPU\b", "", text)
    return " ".join(text.split()) or None


def _names(flags: list[str]) -> str:
    names = [FLAG_NAMES.get(f, f.upper()) for f in flags]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _missing(row: dict[str, Any], flags: set[str], known: Optional[set[str]]
             ) -> tuple[list[str], bool, str]:
    """(missing flags, fully verified, what is lacking in words) for one row."""
    needs = row.get("needs") or {}
    if "x86_level" in needs:
        level = str(needs["x86_level"])
        wanted = set(level_flags(level))
        what = level
    else:
        wanted = {str(f) for f in needs.get("flags") or ()}
        what = ""
    checkable = wanted if known is None else wanted & known
    missing = sorted(checkable - flags)
    if not what:
        what = _names(missing)
    elif missing:
        what = f"{what} (it has no {_names(missing)})"
    return missing, checkable == wanted, what


def _version_matches(spec: str, version: str) -> bool:
    if not spec:
        return True
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        return SpecifierSet(spec).contains(Version(version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion, TypeError):
        return True  # an odd local build: assume it is as recent as it looks


def _options(row: dict[str, Any], installed: list[str], facts: dict[str, Any]) -> str:
    from envdoctor.hints import pip_command

    pip = pip_command(facts)
    ways = [str(w).replace("{installed}", " ".join(installed)).replace("{pip}", pip)
            for w in row.get("ways_out", ())]
    # No full stop after a way out: it often ends in a command a user copies.
    return "Ways out:\n" + "\n".join(f"({n}) {w}" for n, w in enumerate(ways, 1))


@register("cpu.avx", title="CPU instruction sets (AVX, x86-64 level)",
          tags=("cpu", "install"), needs=("cpu", "packages"),
          uses=("pip", "python", "python_env"), codes=CODES)
def check_avx(facts: dict[str, Any]) -> Outcome:
    """Compares the processor's instruction sets with what installed packages need.

    Official TensorFlow builds since 1.6 and jaxlib since 0.1.62 use AVX instructions;
    NumPy 2.4 and newer need an x86-64-v2 processor (SSE4.2, POPCNT, CMPXCHG16B,
    LAHF). On a processor without them, `import tensorflow` dies with "Illegal
    instruction (core dumped)" and `import numpy` raises "NumPy was built with baseline
    optimizations: (X86_V2) but your machine doesn't support: (X86_V2)". pip installs
    these packages anyway: it does not look at the processor.

    Common causes: budget or old processors (Intel Pentium G4xxx/G5xxx, Celeron, Atom,
    Core 2, AMD Athlon II/Phenom), and virtual machines whose CPU model hides AVX.

    How to fix: use a computer (or cloud notebook) whose processor has AVX; build the
    package from source on this computer; install an older release built without it
    (`pip install "numpy<2.4"`); or, in a virtual machine, give the guest the host's CPU
    model (e.g. `host` CPU type in Proxmox/QEMU). Non-x86 processors (ARM) are not
    checked: these requirements do not apply to them.
    """
    cpu = facts.get("cpu") or {}
    dists = as_dict(as_dict(facts.get("packages")).get("distributions"))
    machine = str(cpu.get("machine") or "").lower()
    model = friendly_model(cpu.get("model"))
    who = f"Your processor ({model})" if model else "Your processor"
    details: dict[str, Any] = {"model": cpu.get("model"), "machine": machine or None,
                               "x86_level": cpu.get("x86_level")}
    if machine and machine not in X86_MACHINES:
        return passed(f"{machine} processor: AVX and x86-64 levels are x86 features and do "
                      "not apply", details)
    flags = {f.lower() for f in strings(cpu.get("flags"))}
    if not flags:
        source = cpu.get("flags_source") or "no source"
        return skipped(f"the processor's instruction sets are unknown ({source})", details)
    known_list = cpu.get("flags_known")
    known = {str(f) for f in known_list} if isinstance(known_list, list) else None
    details.update({name: (name in flags) if known is None or name in known else None
                    for name in ("avx", "avx2", "fma", "avx512f")})

    findings: list[Finding] = []
    cannot_run: list[str] = []
    unverified: list[str] = []
    checked: list[str] = []
    for row in requirements():
        installed = [(name, str(dists[name])) for name in row.get("packages", ())
                     if name in dists and _version_matches(row.get("versions", ""),
                                                           str(dists[name]))]
        missing, verified, what = _missing(row, flags, known)
        if not verified and not missing:
            unverified.append(row.get("display", row.get("id", "?")))
        if installed:
            checked.extend(f"{n} {v}" for n, v in installed)
        if not missing:
            continue
        if not installed:
            if row.get("level") == "error":
                cannot_run.append(str(row.get("requirement") or row.get("display")))
            continue
        level = ERROR if row.get("level") == "error" else WARNING
        names = [n for n, _ in installed]
        shown = ", ".join(f"{n} {v}" for n, v in installed)
        verb = row.get("verb") or "require"
        findings.append(Finding(
            "cpu.E001" if level is ERROR else "cpu.W001", level,
            f"{who} lacks {what}, which {row.get('requirement')} {verb} (installed: "
            f"{shown}); {row.get('symptom')}.",
            hint=_options(row, names, facts),
            details={"packages": dict(installed), "missing": missing, "row": row.get("id"),
                     "source": row.get("source")}))

    details["packages_checked"] = checked
    details["cannot_run"] = cannot_run
    if unverified:
        details["not_verifiable"] = unverified
    level_text = cpu.get("x86_level") or "x86"
    if findings:
        summary = "; ".join(f.message.split(";")[0] for f in findings[:1])
        return outcome(summary, findings, details)
    notes: list[Finding] = []
    if cannot_run:
        missing_all = sorted({f for row in requirements()
                              for f in _missing(row, flags, known)[0]})
        notes.append(Finding(
            "cpu.I001", INFO,
            f"{who} lacks {_names(missing_all)}: official builds of "
            f"{', '.join(cannot_run)} will not run on it (pip installs them anyway).",
            hint="Before installing one of them, pick a build made for older processors "
                 "(see `envdoctor explain cpu.E001`) or use a computer whose processor has "
                 "AVX",
            details={"cannot_run": cannot_run}))
    if checked:
        summary = f"{level_text}: meets the needs of {', '.join(checked)}"
    else:
        summary = f"{level_text}: no installed package with known processor requirements"
    return passed(summary, details, findings=notes)
