"""framework.companions: torchvision / torchaudio / torchtext built for the installed torch."""

from __future__ import annotations

import re
from typing import Any, Optional

from envdoctor.facts import as_dict
from envdoctor.facts import text as as_text
from envdoctor.registry import register
from envdoctor.result import ERROR, Finding, outcome, passed, skipped

from . import _framework as fw

# The texts a companion built for another torch fails with (reproduced in the heavy test
# with torch 2.13.0+cpu and PyPI's torchvision 0.28.0+cu130).
_OPS_MISSING = ("does not exist", "undefined symbol", "libc10_cuda", "libtorch_cuda",
                "Couldn't load custom C++ ops", "_C.so")


def companion_table() -> dict:
    from envdoctor.data import load

    return load("torch_companions.json")


def expected_release(torch_version: Any, name: str) -> Optional[tuple[str, str]]:
    """(the companion's major.minor for this torch release, the row's source)."""
    key = fw.version_tuple(torch_version)[:2]
    for row in companion_table()["releases"]:
        if fw.version_tuple(row["torch"]) == key:
            return (row[name], row["source"]) if row.get(name) else None
    return None


def _base(version: Any) -> str:
    return str(version or "").split("+", 1)[0]


def _build_name(build: Optional[str]) -> str:
    if not build:
        return "an unsuffixed (PyPI) build"
    if build == "cpu":
        return "a CPU build"
    if build.startswith("cu") and build[2:].isdigit():
        digits = build[2:]
        return f"a CUDA {digits[:-1]}.{digits[-1]} build"
    if build.startswith("rocm"):
        return f"a ROCm {build[4:]} build"
    return f"a {build} build"


def _pin_ok(spec: Optional[str], torch_version: str) -> Optional[bool]:
    if not spec:
        return None
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
        from packaging.version import InvalidVersion, Version

        return SpecifierSet(spec).contains(Version(_base(torch_version)), prereleases=True)
    except (InvalidSpecifier, InvalidVersion, ValueError):
        return None


def install_command(facts: dict, torch: dict, names: list[str]) -> str:
    """Reinstall the companions for the installed torch, from the index of torch's build."""
    from envdoctor.hints import pip_command

    pip = pip_command(facts)
    specs = []
    for name in names:
        row = expected_release(torch.get("version"), name)
        specs.append(f"{name}=={row[0]}.*" if row else name)
    build = str(torch.get("build") or "")
    index = ""
    if re.match(r"^(cpu|cu\d{3,}|rocm\d+\.\d+)$", build):
        index = " --index-url " + companion_table()["index_url"].format(variant=build)
    return (f"{pip} uninstall -y {' '.join(names)} && {pip} install "
            f"torch=={_base(torch.get('version'))} {' '.join(specs)}{index}")


@register(
    "framework.companions",
    title="torchvision / torchaudio / torchtext match torch",
    tags=("framework", "torch"),
    needs=("frameworks",),
    uses=("pip", "python", "python_env"),
    codes={
        "framework.E040": "A torch companion (torchvision, torchaudio, torchtext) is a "
                          "different build than torch (+cpu next to +cu130, or another CUDA): "
                          "its compiled ops cannot load.",
        "framework.E041": "A torch companion is the release for another torch version.",
        "framework.E042": "Importing a torch companion fails (its error is quoted and "
                          "explained).",
    },
)
def check_companions(facts: dict):
    """Are torchvision, torchaudio and torchtext built for the installed torch?

    They are released in lockstep with torch (torch 2.x goes with torchvision 0.(15+x);
    envdoctor/data/torch_companions.json, with its sources) and carry compiled ops (their
    _C extension) linked against one torch build. A torchvision for CUDA next to a CPU
    torch (PyPI serves torchvision 0.28.0+cu130; the CPU torch comes from the CPU index)
    imports with "RuntimeError: operator torchvision::nms does not exist": its _C needs
    libc10_cuda.so, which a CPU torch does not have. `pip check` is clean, as the
    versions match. The live probe imports each companion in the torch child; the build
    suffixes (+cpu, +cuXXX, +rocmX.Y in each package's version.py) and the release table
    explain why.

    Fix: the hint reinstalls the companions from the index of torch's own build, pinning
    torch so pip leaves it alone.
    """
    torch = fw.installed(facts).get("torch")
    if not torch:
        return skipped("torch is not installed")
    companions = {k: v for k, v in as_dict(torch.get("companions")).items()
                  if isinstance(v, dict)}
    if not companions:
        return skipped("no torchvision, torchaudio or torchtext installed")
    live = as_dict(fw.live(facts, "torch").get("companions"))
    torch_version = as_text(torch.get("version")) or "?"
    torch_build = as_text(torch.get("build"))
    findings: list[Finding] = []
    ok: list[str] = []
    for name, info in sorted(companions.items()):
        shown = as_text(info.get("build_version")) or as_text(info.get("version")) or "?"
        reasons: list[str] = []
        code = None
        build = as_text(info.get("build"))
        if build and torch_build and build != torch_build:
            reasons.append(f"{name} {shown} is {_build_name(build)} and torch {torch_version} "
                           f"is {_build_name(torch_build)}")
            code = "framework.E040"
        row = expected_release(torch_version, name)
        mine = ".".join(str(p) for p in fw.version_tuple(info.get("version"))[:2])
        if row and mine and mine != row[0]:
            reasons.append(f"{name} {mine} is the release for another torch; torch "
                           f"{'.'.join(torch_version.split('.')[:2])} goes with {name} {row[0]}")
            code = code or "framework.E041"
        elif _pin_ok(as_text(info.get("requires_torch")), torch_version) is False:
            reasons.append(f"{name} {shown} requires torch{info.get('requires_torch')}")
            code = code or "framework.E041"
        lv = as_dict(live.get(name))
        failed = as_dict(fw.live(facts, "torch").get("extra_failed"))
        if not lv and failed.get("stage") == f"import {name}":
            lv = {"status": "error", "error": f"importing {name} {failed.get('error')}"}
        error = as_text(lv.get("error")) if lv.get("status") == "error" else None
        if not reasons and not error:
            ok.append(f"{name} {shown}")
            continue
        details = {"companion": name, "version": shown, "build": build,
                   "torch": torch_version, "torch_build": torch_build,
                   "requires_torch": info.get("requires_torch"),
                   "table_source": row[1] if row else None, "import_error": error}
        because = "; ".join(reasons)
        hint = install_command(facts, torch, [name])
        will_fail = f"{because}: `import {name}` will fail (\"operator {name}::... does " \
                    "not exist\" or an undefined symbol)."
        if error:
            why = because or ("its compiled ops do not match this torch (built for another "
                              "torch version or build)" if any(k in error for k in _OPS_MISSING)
                              else "see the error")
            findings.append(Finding("framework.E042", ERROR,
                                    f"`import {name}` fails: {error[:300]}. Why: {why}.",
                                    hint=hint, details=details))
        elif code == "framework.E040":
            findings.append(Finding("framework.E040", ERROR, will_fail, hint=hint,
                                    details=details))
        else:
            findings.append(Finding("framework.E041", ERROR, will_fail, hint=hint,
                                    details=details))
    if not findings:
        return passed(f"{', '.join(ok)} match torch {torch_version}")
    return outcome(findings[0].message, findings)
