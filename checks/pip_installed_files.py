"""pip.installed_files: distributions whose installed files are gone (half-uninstalled)."""

from __future__ import annotations

from envdoctor.facts import as_dict, dicts, strings
from envdoctor.registry import Facts, register
from envdoctor.result import ERROR, Finding, Outcome, outcome, passed, skipped

# The four OpenCV wheels share one cv2 folder: `envdoctor fix cv2-dll` repairs them
# (it reinstalls the one to keep).
OPENCV = ("opencv-python", "opencv-contrib-python", "opencv-python-headless",
          "opencv-contrib-python-headless")


@register(
    "pip.installed_files",
    title="Installed packages have their files",
    tags=("pip", "python"),
    needs=("packages",),
    uses=("pip", "python", "python_env"),
    codes={
        "pip.E401": "An installed distribution's files are gone (its RECORD lists files "
                    "that do not exist): an interrupted uninstall, or another package's "
                    "uninstall removed the files they shared.",
    },
)
def check_installed_files(facts: Facts) -> Outcome:
    """Does every installed distribution still have the files its RECORD lists?

    pip writes a RECORD of every file it installs. The packages probe stats a few of
    them, spread over the RECORD, for every distribution (microseconds each). Files
    that are gone mean a half-uninstalled package: an uninstall that was interrupted,
    files deleted by hand, or two distributions sharing one folder where uninstalling
    one removed the other's files. opencv-python and opencv-python-headless both install
    `cv2`: install both, uninstall one, and `cv2` is left an empty namespace package
    (`import cv2` works, `cv2.imread` raises AttributeError). pip check and pip list
    still show the package as installed.

    Fix: reinstall the distribution with this interpreter (`python -m pip install
    --force-reinstall --no-deps "name==version"`); for OpenCV, `envdoctor fix cv2-dll`.
    """
    from envdoctor.hints import pip_command

    packages = as_dict(facts.get("packages"))
    if "incomplete" not in packages:
        return skipped("this report has no file checks (an older envdoctor made it)")
    broken = [d for d in dicts(packages.get("incomplete")) if d.get("name")]
    count = packages.get("count")
    if not broken:
        return passed(f"every installed distribution has its files ({count} checked)"
                      if isinstance(count, int) else "every installed distribution has "
                      "its files")
    pip = pip_command(facts)
    findings = []
    for dist in broken:
        name, version = str(dist["name"]), str(dist.get("version") or "")
        missing = strings(dist.get("missing"))
        pin = f"{name}=={version}" if version else name
        hint = f'{pip} install --force-reinstall --no-deps "{pin}"'
        if name in OPENCV:
            hint = f"envdoctor fix cv2-dll (or: {hint})"
        findings.append(Finding(
            "pip.E401", ERROR,
            f"{name} {version} is installed but its files are gone: "
            f"{dist.get('missing_count', len(missing))} of {dist.get('sampled', '?')} files "
            f"its RECORD lists do not exist (e.g. {', '.join(missing[:2]) or '?'}); "
            "importing it fails or gives an empty module.",
            hint=hint,
            details={"name": name, "version": version, "missing": missing,
                     "site": dist.get("site")}))
    names = ", ".join(str(d["name"]) for d in broken[:4])
    return outcome(f"{len(broken)} distribution(s) half-uninstalled: {names}", findings)
