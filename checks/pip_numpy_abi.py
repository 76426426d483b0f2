"""pip.numpy_abi: packages compiled for NumPy 1 next to NumPy 2 (any package, not only cv2)."""

from __future__ import annotations

import re
from typing import Any, Optional

from envdoctor.facts import as_dict, strings
from envdoctor.registry import register
from envdoctor.result import ERROR, WARNING, Finding, outcome, passed, skipped

# What people see when a NumPy 1 build meets NumPy 2 (NumPy's own banner and errors,
# torch's "Numpy is not available"; numpy/numpy#26191).
NUMPY_ABI_TEXTS = re.compile(
    r"(compiled using NumPy 1\.x cannot be run in|_ARRAY_API not found|"
    r"numpy\.core\.multiarray failed to import|numpy\._core\.multiarray failed to import|"
    r"Numpy is not available|module compiled against (ABI|API) version|"
    r"numpy\.dtype size changed)", re.I)
# OpenCV has its own check with a repair (pip.opencv, pip.E302, envdoctor fix cv2-dll).
_OWN_CHECK = ("opencv-python", "opencv-contrib-python", "opencv-python-headless",
              "opencv-contrib-python-headless")


def numpy2_table() -> list[dict]:
    from envdoctor.data import load

    return load("numpy2_builds.json")["packages"]


def _older(version: str, first: str) -> Optional[bool]:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version.split("+", 1)[0]) < Version(first)
    except InvalidVersion:
        return None


def observed(facts: dict) -> dict[str, list[str]]:
    """Framework -> the NumPy-ABI texts its live child saw (errors, warnings, stderr,
    the torch child's torch.from_numpy test)."""
    seen: dict[str, list[str]] = {}
    live = as_dict(as_dict(facts.get("frameworks")).get("live"))
    for name, lv in sorted(live.items()):
        lv = as_dict(lv)
        texts = [str(lv.get(k)) for k in ("error", "gpu_error") if lv.get(k)]
        texts += strings(lv.get("warnings")) + strings(lv.get("stderr_findings"))
        texts += strings(lv.get("stderr_tail"))
        numpy = as_dict(lv.get("numpy"))
        if numpy.get("from_numpy") not in (None, "ok"):
            texts.append(f"torch.from_numpy: {numpy['from_numpy']}")
        texts += strings(numpy.get("warnings"))
        for extra in ("companions", "extensions"):
            for sub, entry in sorted(as_dict(lv.get(extra)).items()):
                err = as_dict(entry).get("error")
                if err:
                    texts.append(f"import {sub}: {err}")
        hits = [t[:300] for t in dict.fromkeys(texts) if NUMPY_ABI_TEXTS.search(t)]
        if hits:
            seen[name] = hits
    return seen


@register(
    "pip.numpy_abi",
    title="Packages built for the installed NumPy",
    tags=("pip", "numpy"),
    needs=("packages", "frameworks"),
    uses=("pip", "python", "python_env"),
    codes={
        "pip.E501": "A package compiled for NumPy 1 fails under the installed NumPy 2 (the "
                    "failure was seen: \"compiled using NumPy 1.x\", \"_ARRAY_API not "
                    "found\", torch's \"Numpy is not available\").",
        "pip.W501": "A package release older than its first build for NumPy 2 is installed "
                    "next to NumPy 2.",
    },
)
def check_numpy_abi(facts: dict[str, Any]):
    """Are the installed packages with C extensions built for the installed NumPy?

    NumPy 2 changed the C ABI: a module compiled against NumPy 1 cannot run under NumPy 2
    ("A module that was compiled using NumPy 1.x cannot be run in NumPy 2.x", "_ARRAY_API
    not found", "numpy.core.multiarray failed to import"; torch 1.13 says "Numpy is not
    available" from torch.from_numpy). pip check does not see it when the old release did
    not pin numpy<2. envdoctor compares each installed package with the first release
    built for NumPy 2 (envdoctor/data/numpy2_builds.json: torch 2.3.0, scipy 1.13.0,
    pandas 2.2.2, scikit-learn 1.4.2, matplotlib 3.8.4, tensorflow 2.18.0, numba 0.60.0,
    ...) and reads the framework children's texts: the torch child converts a small
    array. OpenCV is checked by pip.opencv, which has a repair.

    Fix: upgrade the package to its first NumPy 2 build or newer, or install "numpy<2".
    """
    from envdoctor.hints import pip_command

    dists = as_dict(as_dict(facts.get("packages")).get("distributions"))
    numpy = str(dists.get("numpy") or "")
    seen = observed(facts)
    if not numpy:
        return skipped("NumPy is not installed")
    major = numpy.split(".", 1)[0]
    if not (major.isdigit() and int(major) >= 2) and not seen:
        return passed(f"NumPy {numpy} (1.x): packages built for NumPy 1 or 2 both run")
    pip = pip_command(facts)
    findings: list[Finding] = []
    old = []
    for row in numpy2_table():
        name = row["package"]
        version = dists.get(name)
        if not version or name in _OWN_CHECK or not _older(str(version), row["first_numpy2"]):
            continue
        old.append(name)
        texts = seen.get(name) or (seen.get("tensorflow") if name.startswith("tensorflow")
                                   else None)
        hint = (f'{pip} install --upgrade "{name}>={row["first_numpy2"]}" (its first build '
                f'for NumPy 2), or keep {name} {version} with {pip} install "numpy<2"')
        details = {"package": name, "version": version, "numpy": numpy,
                   "first_numpy2": row["first_numpy2"], "source": row["source"],
                   "verified": bool(row.get("verified")), "observed": texts or []}
        if texts:
            findings.append(Finding(
                "pip.E501", ERROR,
                f"{name} {version} was compiled for NumPy 1 and fails under NumPy {numpy}: "
                f"{texts[0]}", hint=hint, details=details))
        else:
            findings.append(Finding(
                "pip.W501", WARNING,
                f"{name} {version} predates its first build for NumPy 2 ({row['first_numpy2']}"
                f") and NumPy {numpy} is installed: its compiled parts may fail to import "
                "(\"compiled using NumPy 1.x cannot be run in NumPy 2\")"
                + ("" if row.get("verified") else " (row not confirmed by envdoctor)"),
                hint=hint, details=details))
    for name, texts in sorted(seen.items()):
        if name in old or (name == "tensorflow" and any(o.startswith("tensorflow")
                                                        for o in old)):
            continue
        findings.append(Finding(
            "pip.E501", ERROR,
            f"{name} fails with a NumPy ABI error under NumPy {numpy}: {texts[0]}",
            hint=f"upgrade the package named in the error to a release built for NumPy 2, "
                 f'or {pip} install "numpy<2"',
            details={"package": name, "numpy": numpy, "observed": texts}))
    if not findings:
        checked = [r["package"] for r in numpy2_table() if dists.get(r["package"])]
        return passed(f"NumPy {numpy}: " + (f"{', '.join(checked)} are built for NumPy 2"
                                            if checked else "no known NumPy 1 build installed"))
    return outcome(findings[0].message, findings)
