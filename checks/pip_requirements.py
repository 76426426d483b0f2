"""pip.requirements: missing and conflicting requirements, like `pip check`, from metadata."""

from __future__ import annotations

import re
from typing import Any

from envdoctor.distributions import normalize as _norm
from envdoctor.facts import as_dict, dicts, strings
from envdoctor.registry import Facts, register
from envdoctor.result import ERROR, WARNING, Finding, Outcome, outcome, passed, skipped

# `name...; extra == "x"` alone never applies without extras (pip check passes extra="").
_ONLY_EXTRA = re.compile(r""";\s*extra\s*==\s*(['"])[^'"]*\1\s*$""")


def find_problems(facts: Facts) -> tuple[dict, dict, list]:
    """(missing, conflicts, unparsable) computed the way `pip check` does.

    missing: required name -> [(requirer, version, requirement string)]
    conflicts: required name -> [(requirer, version, requirement string)]
    unparsable: [(requirer, requirement string, error)]
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import InvalidVersion, Version

    pip = facts.get("pip") or {}
    env = {str(k): str(v) for k, v in as_dict(pip.get("marker_environment")).items()}
    env["extra"] = ""
    dists = dicts(pip.get("distributions"))
    installed: dict[str, str] = {}
    for dist in dists:
        installed.setdefault(_norm(str(dist.get("name") or "")), str(dist.get("version") or ""))
    missing: dict[str, list] = {}
    conflicts: dict[str, list] = {}
    unparsable: list = []
    parsed: dict[str, Any] = {}
    versions: dict[str, Any] = {}
    for dist in dists:
        requirer = str(dist.get("name") or "?")
        for text in strings(dist.get("requires")):
            if _ONLY_EXTRA.search(text):
                continue
            req = parsed.get(text)
            if req is None:
                try:
                    req = parsed[text] = Requirement(text)
                except InvalidRequirement as exc:
                    unparsable.append((requirer, text,
                                       (str(exc).splitlines() or ["invalid"])[0]))
                    continue
            if req.marker is not None:
                try:
                    if not req.marker.evaluate(env):
                        continue
                except Exception:  # an unknown marker variable in odd metadata
                    continue
            key = _norm(req.name)
            if key not in installed:
                missing.setdefault(key, []).append((requirer, dist.get("version"), text, req))
                continue
            have = installed[key]
            if have not in versions:
                try:
                    versions[have] = Version(have)
                except InvalidVersion:
                    versions[have] = None
            if versions[have] is None:
                continue  # pip cannot compare it either
            if not req.specifier.contains(versions[have], prereleases=True):
                conflicts.setdefault(key, []).append((requirer, dist.get("version"), text, req))
    return missing, conflicts, unparsable


def _problems_memoized(facts: Facts) -> tuple[dict, dict, list] | None:
    """``find_problems``' answer when it has to be computed; ``({}, {}, [])`` when an
    earlier run already found these exact inputs clean.

    Parsing requirements imports packaging's parser (~10 ms). The memo key holds every
    input of the answer (each distribution's name, version and requirement strings, the
    marker environment, the packaging release), so any change is a fresh computation.
    """
    from envdoctor import distributions
    from envdoctor.cache import memoize

    pip = facts.get("pip") or {}
    packaging_dist = distributions.by_key().get("packaging")
    inputs = {
        "env": pip.get("marker_environment"),
        "dists": [[d.get("name"), d.get("version"), d.get("requires")]
                  for d in dicts(pip.get("distributions"))],
        "packaging": packaging_dist.version if packaging_dist else None,
    }
    computed: list = []

    def compute() -> bool:
        computed.append(find_problems(facts))
        return not any(computed[0])

    clean = memoize("requirements-clean", inputs, compute,
                    valid=lambda value: isinstance(value, bool))
    if computed:
        return computed[0]
    return ({}, {}, []) if clean else None


def _install_spec(name: str, reqs: list) -> str:
    from packaging.specifiers import SpecifierSet

    extras: set[str] = set()
    spec = SpecifierSet()
    for req in reqs:
        extras |= set(req.extras)
        spec &= req.specifier
    display = reqs[0].name if reqs else name
    extra_text = f"[{','.join(sorted(extras))}]" if extras else ""
    return f"{display}{extra_text}{spec}"


# A framework's own helper distributions: a conflict on these breaks its import.
_FRAMEWORK_PARTS = {"jax": ("jax", "jaxlib"), "torch": ("torch",),
                    "tensorflow": ("tensorflow", "tensorflow-cpu", "tf-keras", "keras"),
                    "cupy": ("cupy",), "onnxruntime": ("onnxruntime", "onnxruntime-gpu")}


def _failed_imports(facts: Facts) -> dict[str, tuple[str, str]]:
    """Distribution -> (framework, its import error) for the frameworks whose live import
    failed, when the frameworks probe ran (read only when present: this check does not
    need it)."""
    fw = as_dict(facts.get("frameworks"))
    out: dict[str, tuple[str, str]] = {}
    for name, lv in as_dict(fw.get("live")).items():
        lv = as_dict(lv)
        if lv.get("status") != "error" or not lv.get("error"):
            continue
        dist = as_dict(as_dict(fw.get("installed")).get(name)).get("distribution")
        for part in {*_FRAMEWORK_PARTS.get(name, (name,)), *([str(dist)] if dist else [])}:
            out[_norm(part)] = (name, str(lv["error"]))
    return out


@register(
    "pip.requirements",
    title="Requirements of installed packages",
    tags=("pip", "python"),
    needs=("pip",),
    uses=("python", "python_env", "frameworks"),
    codes={
        "pip.E201": "A package an installed distribution requires is not installed.",
        "pip.W201": "An installed distribution requires a version of another package that "
                    "is not the installed one (a version conflict).",
        "pip.W202": "An installed distribution's requirement metadata cannot be parsed.",
        "pip.E202": "A version conflict that breaks a framework's import (jax with a jaxlib "
                    "it does not accept): the root cause of the failed import.",
    },
)
def check_requirements(facts: Facts) -> Outcome:
    """Check every installed distribution's requirements (Requires-Dist, markers evaluated
    for this interpreter, no extras) against what is installed, like `pip check`, but from
    the metadata alone: no pip subprocess.

    A missing requirement usually means an interrupted install, `pip install --no-deps`,
    or a package removed by hand; it fails at import ("No module named ..."). A version
    conflict usually comes from installing packages one at a time with incompatible pins
    (e.g. a package built against NumPy 1 with NumPy 2 installed).

    Fix: run the command in each finding's hint with this interpreter
    (`python -m pip install "name>=x"`); it installs a version that satisfies every
    installed package that requires it. pip check treats conflicts as errors; envdoctor
    reports them as warnings because a conflicting version often still works, while a
    missing package never does, except where the conflict is seen breaking a
    framework's import (jax 0.10.2 with jaxlib 0.9.2: `import jax` raises): that one is
    pip.E202, an error, and the report's primary cause comes before the failed import.
    """
    from envdoctor.hints import pip_command

    pip = facts.get("pip") or {}
    dists = dicts(pip.get("distributions"))
    if not dists:
        return skipped("no installed distributions were found")
    problems = _problems_memoized(facts)
    missing, conflicts, unparsable = problems if problems is not None else find_problems(facts)
    pip_cmd = pip_command(facts)
    installed = {_norm(str(d.get("name") or "")): d for d in dists}
    findings: list[Finding] = []
    for key in sorted(missing):
        items = missing[key]
        who = ", ".join(f"{r} {v or ''} requires {t.split(';')[0].strip()}".replace("  ", " ")
                        for r, v, t, _ in items)
        spec = _install_spec(key, [i[3] for i in items])
        findings.append(Finding(
            "pip.E201", ERROR, f"{who}, which is not installed",
            hint=f'{pip_cmd} install "{spec}"',
            details={"name": key, "required_by": [
                {"name": r, "version": v, "requirement": t} for r, v, t, _ in items]}))
    broken = _failed_imports(facts)
    for key in sorted(conflicts):
        items = conflicts[key]
        have = installed[key]
        who = "; ".join(f"{r} {v or ''} requires {t.split(';')[0].strip()}".replace("  ", " ")
                        for r, v, t, _ in items)
        spec = _install_spec(key, [i[3] for i in items])
        fails = next((broken[n] for n in [key, *(_norm(r) for r, _, _, _ in items)]
                      if n in broken), None)
        if fails is not None:
            name, error = fails
            findings.append(Finding(
                "pip.E202", ERROR,
                f"{who}, but {have.get('name')} {have.get('version')} is installed, and "
                f"`import {name}` fails: {error[:300]}",
                hint=f'{pip_cmd} install "{spec}"',
                details={"name": key, "installed": have.get("version"), "import": name,
                         "import_error": error, "required_by": [
                             {"name": r, "version": v, "requirement": t}
                             for r, v, t, _ in items]}))
            continue
        findings.append(Finding(
            "pip.W201", WARNING,
            f"{who}, but {have.get('name')} {have.get('version')} is installed",
            hint=f'{pip_cmd} install "{spec}"',
            details={"name": key, "installed": have.get("version"), "required_by": [
                {"name": r, "version": v, "requirement": t} for r, v, t, _ in items]}))
    for requirer, text, error in unparsable:
        findings.append(Finding(
            "pip.W202", WARNING,
            f"{requirer}: cannot parse the requirement {text!r} ({error})",
            hint=f'{pip_cmd} install --upgrade "{requirer}"',
            details={"name": requirer, "requirement": text}))
    details = {"distributions": len(dists), "missing": sorted(missing),
               "conflicts": sorted(conflicts)}
    if not findings:
        return passed(f"the requirements of all {len(dists)} installed distributions are met",
                      details)
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing")
    if conflicts:
        parts.append(f"{len(conflicts)} in conflict")
    if unparsable:
        parts.append(f"{len(unparsable)} unparsable")
    return outcome("requirements: " + ", ".join(parts), findings, details)
