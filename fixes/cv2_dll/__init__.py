"""cv2-dll: repair `import cv2` failures found by the pip.opencv check.

One step table (:data:`COMMANDS`) feeds the Python plan; ``linux.sh`` and ``windows.ps1``
carry the same command lines, each after a ``# envdoctor-step: KEY`` comment, and
tests/test_fix_cv2_dll.py compares them, so the plan and the scripts cannot drift apart.

Causes and what the plan does (docs/fixes.md):
- cv2 left an empty module (its files removed by uninstalling another variant):
  reinstall the remaining variant with --force-reinstall --no-deps;
- several OpenCV variants installed: uninstall them all, reinstall exactly one (contrib
  when a contrib variant was installed; -headless on servers, in containers, without a
  display, or when only headless variants were installed);
- OpenCV compiled for NumPy 1 with NumPy 2 installed: upgrade that OpenCV variant to
  4.10.0.84 or a newer 4.x (built for NumPy 2) and keep NumPy; an OpenCV whose Requires-Dist
  excludes the installed NumPy: install the NumPy it declares;
- Linux, libGL.so.1 / libgthread-2.0.so.0 missing: switch to the matching -headless
  variant (no root); when it is headless already: the system packages for this
  distribution (root);
- Windows: VC++ 2015-2022 runtime (winget, else the official link), Windows N/KN without
  the Media Feature Pack (DISM, administrator), 32/64-bit mismatch (explained only).
"""

from __future__ import annotations

import os
from typing import Any, Optional

from envdoctor.fixer import Fix, Plan, PlanEnv, Step

HERE = os.path.dirname(os.path.abspath(__file__))

# key -> argv template; "{name}" placeholders, "{variants}" and "{packages}" expand to
# several arguments. The scripts name their variables after the placeholders.
COMMANDS: dict[str, list[str]] = {
    "pip-uninstall-variants": ["{python}", "-m", "pip", "uninstall", "-y", "{variants}"],
    # A switch fetches the replacement first, so an unreachable index stops the fix before
    # anything is removed; the install after the uninstall needs no network.
    "pip-download-variant": ["{python}", "-m", "pip", "download", "--no-deps",
                             "--only-binary=:all:", "--dest", "{wheels}", "{spec}"],
    "pip-install-downloaded": ["{python}", "-m", "pip", "install", "--no-index",
                               "--find-links", "{wheels}", "--no-deps", "{spec}"],
    "pip-force-reinstall-variant": ["{python}", "-m", "pip", "install", "--force-reinstall",
                                    "--no-deps", "{variant}=={version}"],
    "pip-upgrade-opencv": ["{python}", "-m", "pip", "install", "--upgrade",
                           "{variant}>=4.10.0.84,<5"],
    "pip-install-numpy": ["{python}", "-m", "pip", "install", "numpy{numpy_spec}"],
    "apt-update": ["apt-get", "update"],
    "apt-install": ["apt-get", "install", "-y", "{packages}"],
    "dnf-install": ["dnf", "install", "-y", "{packages}"],
    "yum-install": ["yum", "install", "-y", "{packages}"],
    "zypper-install": ["zypper", "--non-interactive", "install", "{packages}"],
    "apk-add": ["apk", "add", "{packages}"],
    "winget-vcredist": ["winget", "install", "--exact", "--id",
                        "Microsoft.VCRedist.2015+.{arch}"],
    "dism-media-pack": ["DISM", "/Online", "/Add-Capability",
                        "/CapabilityName:Media.MediaFeaturePack~~~~0.0.1.0"],
}

VC_REDIST_URL = "https://aka.ms/vs/17/release/vc_redist.{arch}.exe"

# System packages per package manager for each kind of missing library.
SYSTEM_PACKAGES: dict[str, dict[str, list[str]]] = {
    "apt": {"libgl": ["libgl1"], "glib": ["libglib2.0-0"],
            "x11": ["libsm6", "libxext6", "libxrender1"]},
    "dnf": {"libgl": ["mesa-libGL"], "glib": ["glib2"], "x11": ["libSM", "libXext",
                                                                 "libXrender"]},
    "zypper": {"libgl": ["Mesa-libGL1"], "glib": ["libgthread-2_0-0"],
               "x11": ["libSM6", "libXext6", "libXrender1"]},
    "apk": {"libgl": ["mesa-gl"], "glib": ["glib"], "x11": ["libsm", "libxext", "libxrender"]},
}
SYSTEM_PACKAGES["yum"] = SYSTEM_PACKAGES["dnf"]


def command_text(argv: list[str], system: str = "") -> str:
    """``argv`` as one line to paste into the shell of ``system`` (PowerShell on Windows,
    a POSIX shell elsewhere), quoted by its rules."""
    from envdoctor.hints import POSIX, POWERSHELL, shell_join

    return shell_join(argv, POWERSHELL if system == "Windows" else POSIX)


def render(key: str, **values: Any) -> list[str]:
    """The argv of step ``key`` with its placeholders filled in."""
    argv: list[str] = []
    for token in COMMANDS[key]:
        if token in ("{variants}", "{packages}"):
            argv.extend(values[token[1:-1]])
        else:
            argv.append(token.format(**values))
    return argv


def _version_tuple(text: Optional[str]) -> tuple[int, ...]:
    parts = []
    for piece in (text or "").split("."):
        digits = "".join(c for c in piece if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def package_manager(distribution: Optional[dict[str, Any]]) -> Optional[str]:
    """apt, dnf, yum, zypper or apk from /etc/os-release facts (ID, ID_LIKE, VERSION_ID)."""
    if not distribution:
        return None
    ids = [str(distribution.get("id") or "").lower()] + \
        str(distribution.get("id_like") or "").lower().split()
    version = _version_tuple(distribution.get("version_id"))
    if any(i in ("debian", "ubuntu", "linuxmint", "pop", "raspbian") for i in ids):
        return "apt"
    if any(i.startswith(("opensuse", "sles", "suse")) for i in ids):
        return "zypper"
    if "alpine" in ids:
        return "apk"
    if ids[0] == "amzn":
        return "dnf" if version and version[0] >= 2022 else "yum"
    if any(i in ("fedora", "rhel", "centos", "rocky", "almalinux", "ol") for i in ids):
        if ids[0] != "fedora" and version and version[0] < 8:
            return "yum"
        return "dnf"
    return None


def system_packages(manager: str, kinds: list[str],
                    distribution: Optional[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for kind in kinds:
        for name in SYSTEM_PACKAGES[manager].get(kind, []):
            if manager == "apt" and name == "libglib2.0-0" and _t64(distribution):
                name = "libglib2.0-0t64"
            if name not in names:
                names.append(name)
    return names


def _t64(distribution: Optional[dict[str, Any]]) -> bool:
    """Ubuntu 24.04+ and Debian 13+ renamed libglib2.0-0 to libglib2.0-0t64 (64-bit time_t)."""
    dist_id = str((distribution or {}).get("id") or "").lower()
    version = _version_tuple((distribution or {}).get("version_id"))
    if dist_id == "ubuntu":
        return version >= (24, 4)
    if dist_id == "debian":
        return bool(version) and version[0] >= 13
    return False


VARIANT_NAMES = ("opencv-python", "opencv-contrib-python", "opencv-python-headless",
                 "opencv-contrib-python-headless")


def dependents(facts: dict[str, Any]) -> dict[str, list[str]]:
    """OpenCV variant -> the other installed distributions that require it by that name
    (``Requires-Dist: opencv-python>=4``), from the pip facts; markers evaluated for this
    Python, extras-only requirements left out."""
    from packaging.requirements import InvalidRequirement, Requirement

    from envdoctor.distributions import normalize
    from envdoctor.facts import as_dict, dicts, strings

    pip = as_dict(facts.get("pip"))
    env = {str(k): str(v) for k, v in as_dict(pip.get("marker_environment")).items()}
    env["extra"] = ""
    found: dict[str, list[str]] = {}
    for dist in dicts(pip.get("distributions")):
        name = str(dist.get("name") or "")
        if normalize(name) in VARIANT_NAMES:
            continue
        for text in strings(dist.get("requires")):
            try:
                req = Requirement(text)
                wanted = normalize(req.name)
                if wanted not in VARIANT_NAMES or (req.marker is not None
                                                   and not req.marker.evaluate(env)):
                    continue
            except (InvalidRequirement, Exception):  # an odd marker: not a dependent
                continue
            found.setdefault(wanted, []).append(f"{name} {dist.get('version') or ''}"
                                                f" (requires {text})".replace("  ", " "))
    return found


def _findings(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for check in report.get("checks") or []:
        if check.get("id") == "pip.opencv":
            for finding in check.get("findings") or []:
                found.setdefault(finding["code"], finding)
    return found


def _keep_reason(keep: str, installed: list[str], facts: dict[str, Any]) -> str:
    """Why this variant, in the user's terms (the rule is choose_variant's)."""
    op = facts.get("opencv") or {}
    imp = op.get("import") or {}
    container = (facts.get("platform") or {}).get("container")
    why: list[str] = []
    if keep.endswith("-headless"):
        if imp.get("cause") == "missing-library" and imp.get("library"):
            why.append(f"{imp['library']} is missing and the headless variant does not "
                       "need it")
        elif container:
            why.append(f"this runs in a {container} container" if isinstance(container, str)
                       else "this runs in a container")
        elif op.get("display") is False:
            why.append("there is no display (DISPLAY and WAYLAND_DISPLAY are not set)")
        elif all(n.endswith("-headless") for n in installed):
            why.append("only headless variants were installed")
        if why and any(not n.endswith("-headless") for n in installed):
            why.append("cv2.imshow and other GUI functions are left out")
    elif len(installed) > 1:
        why.append("the variant with GUI support (cv2.imshow), as you have a display")
    if "-contrib-" in keep and len(installed) > 1:
        why.append("contrib includes every module of the main package")
    return "; ".join(why) or "the variant you had"


def plan(report: dict[str, Any], env: PlanEnv) -> Plan:
    from envdoctor.checks.pip_opencv import choose_variant, numpy_mismatch

    facts = report.get("facts") or {}
    op = facts.get("opencv") or {}
    plat = facts.get("platform") or {}
    system = env.system or plat.get("system") or ""
    codes = _findings(report)
    result = Plan(problems=[f"{c}: {f['message']}" for c, f in sorted(codes.items())])
    variants = op.get("variants") or []
    installed = [v["name"] for v in variants]
    keep = choose_variant(facts)
    needed = dependents(facts)
    wanted = sorted(n for n in needed if n in installed)
    if keep and len(installed) > 1 and len(wanted) > 1:
        # Other packages need different variants: one cv2 folder cannot serve both.
        result.notes.append(
            "cannot keep a single OpenCV variant without breaking a package that needs "
            "another: " + "; ".join(f"{n}: needed by {', '.join(needed[n])}" for n in wanted)
            + ". Remove or replace one of those packages, then run envdoctor fix cv2-dll "
              "again.")
        return result
    if keep and wanted and keep["name"] not in wanted:
        # Keep the variant other packages require (uninstalling it would break them, and
        # installing it back later recreates the two-variant problem).
        name = wanted[0]
        version = next((v.get("version") for v in variants if v["name"] == name), "")
        keep = {"name": name, "version": version or keep["version"]}
        result.notes.append(f"keeping {name}: {', '.join(needed[name])} requires it")
    imp = op.get("import") or {}
    mismatch = numpy_mismatch(facts) if ("pip.E302" in codes or "pip.W303" in codes) else None
    python = env.python
    # Notes are copied into a shell by hand: quoted by that shell's rules
    # (C:\Program Files\... in PowerShell, $(...) in a path anywhere).
    shown = command_text([python], system)

    switch = keep is not None and (len(installed) > 1 or installed != [keep["name"]])
    upgrade = bool(mismatch and mismatch.get("kind") == "abi" and keep)
    upgrade_why = ""
    if upgrade and keep:
        upgrade_why = (f"OpenCV {mismatch['opencv']} was compiled for NumPy 1 and NumPy "
                       f"{mismatch['numpy']} is installed; a newer OpenCV keeps your NumPy, "
                       "which other packages may need; <5 keeps the OpenCV 4 API your code "
                       "was written for (to keep this OpenCV instead: "
                       f'{shown} -m pip install "numpy<2")')
    if keep and switch:
        several = len(installed) > 1
        spec = (f"{keep['name']}>=4.10.0.84,<5" if upgrade
                else f"{keep['name']}=={keep['version']}")
        wheels = env.workdir or "<a new temporary folder>"
        result.steps.append(Step(
            f"download {spec} first (nothing is removed until it is on disk)",
            render("pip-download-variant", python=python, wheels=wheels, spec=spec),
            key="pip-download-variant",
            why="if the package index cannot be reached, the fix stops here with every "
                "variant still installed"))
        result.steps.append(Step(
            f"uninstall every OpenCV variant ({', '.join(installed)})" if several else
            f"uninstall {installed[0]} (to switch to {keep['name']})",
            render("pip-uninstall-variants", python=python, variants=installed),
            destructive=True, key="pip-uninstall-variants",
            why="the variants share one cv2 folder; removing them all first leaves no "
                "half-overwritten files behind" if several else
                "two variants would share one cv2 folder"))
        why = upgrade_why + "; " if upgrade else ""
        why += f"{keep['name']}: {_keep_reason(keep['name'], installed, facts)}"
        install = Step(
            f"install {spec} from the downloaded wheel"
            + (" (built for NumPy 2)" if upgrade else ""),
            render("pip-install-downloaded", python=python, wheels=wheels, spec=spec),
            key="pip-install-downloaded", why=why)
        result.steps.append(install)
        # Interrupted or failed after the uninstall: the downloaded wheel goes back in;
        # when even that cannot run, the exact commands to run by hand.
        result.restore = [Step(f"install {spec} from the downloaded wheel", install.argv,
                               key="pip-install-downloaded")]
        result.restore_by_hand = [
            command_text([python, *install.argv[1:]], system),
            command_text([python, "-m", "pip", "install",
                          *[f"{v['name']}=={v['version']}" for v in variants]], system)
            + "   (what was installed before; needs the package index)"]
    elif keep and upgrade:
        # Without a switch, pip upgrades the one variant in place (installing the new
        # one before removing the old, and rolling back itself on failure).
        result.steps.append(Step(
            f"install {keep['name']} 4.10.0.84 or a newer 4.x (built for NumPy 2)",
            render("pip-upgrade-opencv", python=python, variant=keep["name"]),
            key="pip-upgrade-opencv", why=upgrade_why))
    elif keep and "pip.E310" in codes:
        result.steps.append(Step(
            f"reinstall {keep['name']}=={keep['version']} (--force-reinstall --no-deps)",
            render("pip-force-reinstall-variant", python=python, variant=keep["name"],
                   version=keep["version"]),
            key="pip-force-reinstall-variant",
            why="cv2's files are gone (uninstalling another OpenCV variant removed the files "
                "they shared) while pip still lists this one as installed; --no-deps keeps "
                "your NumPy"))
    if mismatch and mismatch.get("kind") == "requirement":
        spec = mismatch.get("requirement") or ""
        result.steps.append(Step(
            f"install a NumPy that {mismatch['variant']} {mismatch['opencv']} supports "
            f"(numpy{spec})",
            render("pip-install-numpy", python=python, numpy_spec=spec),
            key="pip-install-numpy",
            why=f"{mismatch['variant']} {mismatch['opencv']} declares numpy{spec} and NumPy "
                f"{mismatch['numpy']} is installed"))

    if system == "Linux" and "pip.E301" in codes and not switch:
        kind = imp.get("library_kind")
        manager = package_manager(plat.get("distribution"))
        if kind in ("libgl", "glib", "x11") and manager:
            names = system_packages(manager, [kind], plat.get("distribution"))
            if manager == "apt":
                result.steps.append(Step("refresh the package lists (root)",
                                         render("apt-update"), needs_admin=True,
                                         system_wide=True, key="apt-update"))
            result.steps.append(Step(
                f"install {' '.join(names)} with {manager} (root): provides "
                f"{imp.get('library')}", render(f"{manager}-install" if manager != "apk"
                                                else "apk-add", packages=names),
                needs_admin=True, system_wide=True, timeout=1800.0,
                key=f"{manager}-install" if manager != "apk" else "apk-add",
                why=f"{keep['name'] if keep else 'OpenCV'} is headless already and still "
                    f"needs {imp.get('library')}"))
        else:
            result.notes.append(f"{imp.get('library')} is missing and envdoctor does not know "
                                "this distribution's package for it; install the package "
                                "that provides it with your package manager.")

    if system == "Windows":
        arch = "x86" if (plat.get("python_bits") == 32) else "x64"
        win = op.get("windows") or {}
        if "pip.E303" in codes:
            if win.get("winget"):
                result.steps.append(Step(
                    "install the Visual C++ 2015-2022 runtime with winget",
                    render("winget-vcredist", arch=arch), system_wide=True,
                    key="winget-vcredist", timeout=1800.0,
                    why="cv2 needs msvcp140.dll/vcruntime140.dll; the installer asks for "
                        "administrator rights itself"))
            else:
                result.steps.append(Step(
                    "download and run the Visual C++ 2015-2022 runtime installer: "
                    + VC_REDIST_URL.format(arch=arch), None, system_wide=True,
                    key="vcredist-download"))
        if "pip.E304" in codes:
            result.steps.append(Step(
                "add the Media Feature Pack (Windows N/KN editions)",
                render("dism-media-pack"), needs_admin=True, system_wide=True,
                key="dism-media-pack", timeout=3600.0,
                why="OpenCV needs Media Foundation DLLs (mfplat.dll) that N editions lack"))
            result.notes.append(
                "without administrator rights, the headless variant is the alternative: "
                f"{shown} -m pip uninstall -y {' '.join(installed) or 'opencv-python'} and "
                f"{shown} -m pip install opencv-python-headless")
    if "pip.E302" in codes and not mismatch:
        name = keep["name"] if keep else "opencv-python"
        result.notes.append(
            "import cv2 fails with a NumPy ABI error, but the installed versions do not say "
            "which side is wrong; upgrade both to releases built for each other: "
            f"{shown} -m pip install --upgrade {name} numpy")
    if "pip.E306" in codes:
        result.notes.append(
            "this Python and the OpenCV wheel are built for different architectures "
            "(32-bit vs 64-bit); envdoctor makes no automatic change: install a 64-bit Python "
            "(python.org, 'Windows installer (64-bit)') and install OpenCV in it.")
    return result


FIX = Fix(
    name="cv2-dll",
    title="repair `import cv2` (OpenCV variants, NumPy ABI, missing libGL / DLLs)",
    repairs="several OpenCV variants installed; cv2 left empty by uninstalling one; "
            "OpenCV built for another NumPy; missing "
            "libGL.so.1/libgthread (Linux); missing VC++ runtime or Media Feature Pack "
            "(Windows)",
    systems=("Linux", "Windows"),
    # pip.requirements too: the plan reads who requires which variant, and the re-check
    # fails a repair that leaves a dependent without its OpenCV.
    checks=("pip.opencv", "pip.requirements"),
    plan=plan,
    scripts={"Linux": os.path.join(HERE, "linux.sh"),
             "Windows": os.path.join(HERE, "windows.ps1")},
)
