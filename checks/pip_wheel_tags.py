"""pip.wheel_tags: installed distributions built for another Python or machine."""

from __future__ import annotations

from typing import Any

from envdoctor.facts import dicts, strings
from envdoctor.registry import Facts, register
from envdoctor.result import ERROR, INFO, WARNING, Finding, Outcome, outcome, passed, skipped


@register(
    "pip.wheel_tags",
    title="Installed wheels built for this Python",
    tags=("pip", "wheels", "python"),
    needs=("pip",),
    uses=("python", "python_env"),
    codes={
        "pip.E101": "An installed distribution was built for another Python version, ABI, "
                    "operating system or architecture.",
        "pip.W101": "An installed pure-Python distribution was built for another Python "
                    "version.",
        "pip.I101": "An installed distribution's WHEEL file is malformed; whether it fits "
                    "this Python is unknown.",
    },
)
def check_wheel_tags(facts: Facts) -> Outcome:
    """Compare the WHEEL `Tag:` lines of every installed distribution with the tags this
    interpreter accepts (packaging's sys_tags, recorded by the `pip` probe).

    A distribution whose tags match none of them was built for another Python version,
    ABI (debug, free-threaded, cp27m/cp27mu), operating system or architecture. Common
    causes: a site-packages (or a whole virtual environment) copied from another machine
    or Python version; PYTHONPATH or a user site pointing at another Python's packages;
    `pip install --target` or `--platform` used to prepare a folder for another system.
    Such a package usually fails at import with "invalid ELF header", "undefined symbol",
    "DLL load failed" or "No module named ...".

    Fix: reinstall the package with this interpreter, e.g.
    `python -m pip install --force-reinstall "numpy==1.26.4"`, or remove the foreign folder
    from PYTHONPATH. A missing or malformed WHEEL file (pip#12884) is reported as unknown,
    never as a failure.
    """
    from envdoctor.hints import pip_command
    from envdoctor.wheeltags import Target, explain_tags

    pip = facts.get("pip") or {}
    interp = pip.get("interpreter")
    dists = dicts(pip.get("distributions"))
    if not isinstance(interp, dict) or not dists:
        return skipped("no installed distributions were found")
    target = Target.from_dict(interp)
    supported = target.supported()
    accepted = set(supported)
    sites = pip.get("sites") if isinstance(pip.get("sites"), list) else []
    install = f"{pip_command(facts)} install --force-reinstall --no-deps"
    findings: list[Finding] = []
    unknown: list[dict[str, Any]] = []
    foreign: list[dict[str, Any]] = []
    checked = 0
    for dist in dists:
        tags = strings(dist.get("wheel_tags"))
        if not tags:
            if dist.get("format") == "dist-info":
                unknown.append({"name": dist.get("name"),
                                "why": dist.get("wheel_problem") or "no WHEEL tags"})
            continue
        checked += 1
        if accepted.intersection(tags):
            continue
        name, version = dist.get("name") or "?", dist.get("version") or ""
        site = _site(sites, dist.get("site"))
        reasons = explain_tags(list(tags), target, supported)
        pure = all(t.split("-")[1:] == ["none", "any"] for t in tags)
        text = "; ".join(r.message for r in reasons) or "no tag matches"
        where = f" (in {site})" if site else ""
        spec = f"{name}=={version}" if version else name
        findings.append(Finding(
            "pip.W101" if pure else "pip.E101", WARNING if pure else ERROR,
            f"{name} {version}{where} was installed from a wheel for "
            f"{', '.join(tags[:3])}{' ...' if len(tags) > 3 else ''}, which this Python "
            f"cannot use: {text}",
            hint=f'{install} "{spec}"',
            details={"name": name, "version": version, "tags": tags, "site": site,
                     "reasons": [r.to_dict() for r in reasons]}))
        foreign.append({"name": name, "version": version, "tags": tags})
    for item in unknown:
        if str(item["why"]).startswith("malformed"):
            findings.append(Finding(
                "pip.I101", INFO,
                f"{item['name']}: the WHEEL file has a {item['why']}; whether it was built "
                "for this Python is unknown",
                hint=f'{install} "{item["name"]}"'))
    details = {"python": target.describe(), "checked": checked, "foreign": foreign,
               "unknown": unknown}
    if not checked and not findings:
        return skipped("no installed distribution has WHEEL tags to compare", details)
    bad = [f for f in findings if f.level >= WARNING]
    if not bad:
        return passed(f"all {checked} wheel-installed distributions fit {target.interpreter}"
                      + (f" ({len(unknown)} unknown)" if unknown else ""), details, findings)
    return outcome(f"{len(bad)} installed distribution(s) built for another Python or "
                   "machine", findings, details)


def _site(sites: list, index: Any) -> str:
    if isinstance(index, int) and 0 <= index < len(sites):
        return str(sites[index])
    return ""
