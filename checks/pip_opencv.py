"""pip.opencv: several OpenCV variants, stray cv2 binaries, NumPy ABI, `import cv2` failures."""

from __future__ import annotations

from typing import Any, Optional

from envdoctor.facts import as_dict, dicts, number, strings
from envdoctor.registry import register
from envdoctor.result import ERROR, INFO, WARNING, Finding, Outcome, outcome, passed, skipped

FIX = "cv2-dll"
FIX_HINT = "envdoctor fix cv2-dll"

CODES = {
    "pip.E301": "import cv2 fails on Linux: a system library (libGL.so.1, libgthread-2.0.so.0...)"
                " is missing.",
    "pip.E302": "import cv2 fails: OpenCV was compiled for another NumPy major version than "
                "the one installed.",
    "pip.E303": "import cv2 fails on Windows: the Visual C++ 2015-2022 runtime is missing.",
    "pip.E304": "import cv2 fails on a Windows N/KN edition without the Media Feature Pack.",
    "pip.E305": "import cv2 fails on Windows with 'DLL load failed' for another reason.",
    "pip.E306": "OpenCV was built for another architecture (32-bit vs 64-bit) than this Python.",
    "pip.E307": "import cv2 fails because NumPy is not installed.",
    "pip.E308": "import cv2 crashed the interpreter (killed by a signal).",
    "pip.E309": "import cv2 fails for another reason.",
    "pip.E310": "import cv2 gives an empty module (no cv2.imread): its files were removed, "
                "typically by uninstalling one of two OpenCV variants.",
    "pip.W301": "Several OpenCV variants are installed at once; they overwrite each other's cv2.",
    "pip.W302": "A cv2 binary in site-packages belongs to none of the installed OpenCV "
                "packages.",
    "pip.W303": "The installed NumPy is outside the range the installed OpenCV declares.",
    "pip.W304": "import cv2 did not finish within the timeout.",
    "pip.I301": "cv2 comes from outside pip (a system package, conda or a source build).",
}

SYSTEM_PACKAGE_HINT = {
    "libgl": "libGL (apt: libgl1, dnf: mesa-libGL, zypper: Mesa-libGL1, apk: mesa-gl)",
    "glib": "GLib (apt: libglib2.0-0, dnf: glib2, zypper: libgthread-2_0-0, apk: glib)",
    "x11": "the X11 client libraries (apt: libsm6 libxext6 libxrender1)",
}


def _variants(facts: dict[str, Any]) -> list[dict[str, Any]]:
    """The variant records that have a name (a pasted report may hold anything)."""
    return [v for v in dicts(as_dict(facts.get("opencv")).get("variants"))
            if isinstance(v.get("name"), str)]


def prefers_headless(facts: dict[str, Any]) -> bool:
    """Servers, containers and sessions without a display get the -headless variant."""
    op = as_dict(facts.get("opencv"))
    plat = as_dict(facts.get("platform"))
    if plat.get("system") not in (None, "Linux"):
        return False
    return bool(plat.get("container")) or op.get("display") is False


def choose_variant(facts: dict[str, Any]) -> Optional[dict[str, str]]:
    """The single variant to keep: the installed one when there is one and it loads its
    system libraries; else contrib when any contrib was installed (it is a superset),
    headless on servers/containers/no display, when only headless variants were
    installed, or when a system library (libGL...) is missing; its version is the
    installed one of that name, else the newest installed variant's."""
    from envdoctor.probes.opencv import variant_name

    variants = _variants(facts)
    if not variants:
        return None
    imp = as_dict(as_dict(facts.get("opencv")).get("import"))
    missing_lib = imp.get("cause") == "missing-library" and \
        imp.get("library_kind") in ("libgl", "glib", "x11")
    if len(variants) == 1 and not missing_lib:
        return {"name": variants[0]["name"], "version": variants[0].get("version") or ""}
    contrib = any(v.get("contrib") for v in variants)
    headless = prefers_headless(facts) or all(v.get("headless") for v in variants) \
        or missing_lib
    name = variant_name(contrib, headless)
    same = [v for v in variants if v.get("name") == name]
    chosen = same[0] if same else max(variants, key=lambda v: _vkey(v.get("version") or ""))
    return {"name": name, "version": chosen.get("version") or ""}


def _vkey(version: str):
    from packaging.version import InvalidVersion, Version

    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def numpy_ok(spec: Optional[str], version: Optional[str]) -> Optional[bool]:
    if not isinstance(spec, str) or not isinstance(version, str) or not spec or not version:
        return None
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(spec).contains(version, prereleases=True)
    except InvalidSpecifier:
        return None


def numpy_mismatch(facts: dict[str, Any]) -> Optional[dict[str, Any]]:
    """An OpenCV compiled for NumPy 1 with NumPy 2 installed (or a build whose
    Requires-Dist excludes the installed NumPy): which variant, which NumPy."""
    numpy = as_dict(as_dict(facts.get("opencv")).get("numpy"))
    for v in _variants(facts):
        built = v.get("built_for_numpy")
        if built == 1 and (number(numpy.get("major")) or 0) >= 2:
            return {"variant": v["name"], "opencv": v.get("version"), "built_for": 1,
                    "numpy": numpy.get("version"), "kind": "abi"}
        if numpy_ok(v.get("numpy_requirement"), numpy.get("version")) is False:
            return {"variant": v["name"], "opencv": v.get("version"), "built_for": built,
                    "numpy": numpy.get("version"), "kind": "requirement",
                    "requirement": v.get("numpy_requirement")}
    return None


def _windows_cause(facts: dict[str, Any]) -> str:
    win = as_dict(as_dict(facts.get("opencv")).get("windows"))
    dlls = as_dict(win.get("dlls"))
    vc = as_dict(win.get("vc_runtime"))
    if dlls.get("msvcp140.dll") is False or dlls.get("vcruntime140.dll") is False \
            or vc.get("installed") is False:
        return "vc-runtime"
    plat_win = as_dict(as_dict(facts.get("platform")).get("windows"))
    if plat_win.get("n_edition") or win.get("n_edition") or dlls.get("mfplat.dll") is False:
        return "media-pack"
    return "unknown"


def arch_mismatch(facts: dict[str, Any]) -> Optional[dict[str, Any]]:
    bits = as_dict(facts.get("platform")).get("python_bits") or \
        as_dict(facts.get("python")).get("bits")
    for v in _variants(facts):
        tags = " ".join(strings(v.get("wheel_tags")))
        if bits == 32 and ("win_amd64" in tags or "x86_64" in tags):
            return {"variant": v["name"], "tags": v.get("wheel_tags"), "python_bits": 32}
        if bits == 64 and ("win32" in tags or tags.endswith("_i686") or "_i686 " in tags):
            return {"variant": v["name"], "tags": v.get("wheel_tags"), "python_bits": 64}
    imp = as_dict(as_dict(facts.get("opencv")).get("import"))
    if imp.get("cause") == "not-win32-app":
        return {"variant": None, "tags": None, "python_bits": bits}
    return None


def _first_line(imp: dict[str, Any]) -> str:
    text = str(imp.get("error") or imp.get("stderr") or "").strip()
    if imp.get("error_type") and imp.get("error"):
        text = f"{imp['error_type']}: {imp['error']}"
    return text.splitlines()[0][:300] if text else "no error text"


def _pip(facts: dict[str, Any]) -> str:
    from envdoctor.hints import pip_command

    return pip_command(facts)


def _python(facts: dict[str, Any]) -> str:
    from envdoctor.hints import python_command

    return python_command(facts)


def _import_findings(facts: dict[str, Any], imp: dict[str, Any],
                     keep: Optional[dict[str, str]]) -> list[Finding]:
    cause = imp.get("cause")
    error_line = _first_line(imp)
    base = {"cause": cause, "error": error_line}
    system = (facts.get("platform") or {}).get("system")
    if cause == "missing-library":
        kind = str(imp.get("library_kind") or "other")
        lib = imp.get("library")
        fixes = kind in ("libgl", "glib", "x11")
        how = SYSTEM_PACKAGE_HINT.get(kind, f"the package that provides {lib}")
        hint = (f"{FIX_HINT} (switches to {keep['name']} when that avoids the library, "
                f"no root needed; otherwise it installs {how} as root)"
                if fixes and keep else f"install {how} with your package manager")
        return [Finding("pip.E301", ERROR, f"import cv2 fails: the system library {lib} is "
                        f"missing ({error_line}).", hint=hint, fix=FIX if fixes else None,
                        details={**base, "library": lib, "library_kind": kind})]
    if cause == "empty-module":
        name = keep["name"] if keep else "opencv-python"
        return [Finding("pip.E310", ERROR, "import cv2 gives an empty module: cv2.imread "
                        "does not exist because cv2's files are gone (uninstalling one of "
                        "two OpenCV variants removes the files they share).",
                        hint=f"{FIX_HINT} (reinstalls {name} with --force-reinstall)",
                        fix=FIX, details=base)]
    if cause == "numpy-abi":
        mismatch = numpy_mismatch(facts) or {}
        numpy = as_dict(as_dict(facts.get("opencv")).get("numpy")).get("version")
        msg = (f"import cv2 fails: OpenCV {mismatch.get('opencv')} was compiled for NumPy "
               f"{mismatch.get('built_for')}.x but NumPy {numpy} is installed"
               if mismatch.get("built_for") else
               f"import cv2 fails with a NumPy ABI error (NumPy {numpy} installed)")
        return [Finding("pip.E302", ERROR, f"{msg} ({error_line}).",
                        hint=f"{FIX_HINT} (installs an OpenCV built for your NumPy, or a "
                             "NumPy your OpenCV supports)", fix=FIX,
                        details={**base, **mismatch})]
    if cause == "numpy-missing":
        return [Finding("pip.E307", ERROR, f"import cv2 fails: NumPy is not installed "
                        f"({error_line}).", hint=f"{_pip(facts)} install numpy",
                        details=base)]
    if cause in ("not-win32-app",):
        return []  # reported as pip.E306 by the architecture test
    if cause == "dll-load-failed" and system == "Windows":
        why = _windows_cause(facts)
        if why == "vc-runtime":
            bits = as_dict(facts.get("platform")).get("python_bits") or \
                as_dict(facts.get("python")).get("bits")
            arch = "x86" if bits == 32 else "x64"
            return [Finding("pip.E303", ERROR, "import cv2 fails with 'DLL load failed': the "
                            f"Visual C++ 2015-2022 runtime is missing ({error_line}).",
                            hint=f"{FIX_HINT} (installs it with winget, or get "
                                 f"https://aka.ms/vs/17/release/vc_redist.{arch}.exe)",
                            fix=FIX, details=base)]
        if why == "media-pack":
            return [Finding("pip.E304", ERROR, "import cv2 fails with 'DLL load failed' on a "
                            "Windows N/KN edition without the Media Feature Pack "
                            f"({error_line}).",
                            hint=f"{FIX_HINT} (adds the Media Feature Pack with DISM as "
                                 "administrator, or switches to the headless variant)",
                            fix=FIX, details=base)]
        return [Finding("pip.E305", ERROR, f"import cv2 fails: {error_line}.",
                        hint="a DLL that cv2 needs is missing; reinstall one variant with "
                             f"{_pip(facts)} install --force-reinstall "
                             f"{keep['name'] if keep else 'opencv-python'}",
                        details=base)]
    if cause == "crash":
        sig = imp.get("signal")
        hint = ("your CPU may lack an instruction set this OpenCV build needs; run "
                "`envdoctor check --only cpu`" if sig == "SIGILL" else
                f"run `{_python(facts)} -X faulthandler -c \"import cv2\"` to see where it "
                "crashes; if it is inside cv2, reinstall it: "
                f"{_pip(facts)} install --force-reinstall "
                f"{keep['name'] if keep else 'opencv-python'}")
        return [Finding("pip.E308", ERROR, f"import cv2 crashed the interpreter ({sig}).",
                        hint=hint, details={**base, "signal": sig})]
    if cause == "timeout":
        return [Finding("pip.W304", WARNING, "import cv2 did not finish within the timeout "
                        f"({imp.get('duration_ms')} ms).",
                        hint=f"run `{_python(facts)} -c \"import cv2\"` to see whether it "
                             "hangs; on a slow disk rerun `envdoctor check --timeout 60`",
                        details=base)]
    return [Finding("pip.E309", ERROR, f"import cv2 fails: {error_line}.",
                    hint=f"reinstall one variant: {_pip(facts)} install --force-reinstall "
                         f"{keep['name'] if keep else 'opencv-python'}", details=base)]


@register("pip.opencv", title="OpenCV installs and imports", tags=("pip", "opencv", "wheels"),
          needs=("opencv", "platform"),
          uses=("pip", "python", "python_env"), codes=CODES)
def check_opencv(facts: dict[str, Any]) -> Outcome:
    """Checks the OpenCV install: that only one of the four PyPI variants
    (opencv-python, opencv-contrib-python, opencv-python-headless,
    opencv-contrib-python-headless) is installed, since they share one cv2 folder and
    overwrite each other; that no stray old cv2.so/cv2.pyd sits in site-packages; that
    the OpenCV build matches the installed NumPy (wheels before 4.10.0.84 were compiled
    for NumPy 1 and fail under NumPy 2); and that `import cv2` works, tried in a child
    process with a timeout.

    Common causes: installing a package that depends on opencv-python-headless next to
    opencv-python; a server or container without libGL.so.1 (install the -headless
    variant); NumPy 2 with an old OpenCV; on Windows, a missing Visual C++ runtime, a
    Windows N edition without the Media Feature Pack, or a 32-bit Python with 64-bit
    wheels.

    Fix: `envdoctor fix cv2-dll` plans the repair, shows it and asks before changing
    anything (`--dry-run` to only see the plan)."""
    op = facts.get("opencv") or {}
    if not op.get("installed"):
        return skipped("OpenCV is not installed")
    variants = _variants(facts)
    keep = choose_variant(facts)
    findings: list[Finding] = []
    details: dict[str, Any] = {"variants": [f"{v['name']}=={v.get('version')}"
                                            for v in variants],
                               "numpy": as_dict(op.get("numpy")).get("version")}
    if len(variants) > 1:
        names = ", ".join(details["variants"])
        findings.append(Finding(
            "pip.W301", WARNING,
            f"{len(variants)} OpenCV variants are installed at once ({names}); they share "
            "one cv2 folder, overwrite each other, and uninstalling one breaks the others.",
            hint=f"{FIX_HINT} (keeps only {keep['name']}=={keep['version']})" if keep
            else FIX_HINT, fix=FIX, details={"variants": details["variants"],
                                             "keep": keep}))
    strays = [s for s in dicts(op.get("stray")) if s.get("path")]
    for stray in strays:
        if variants:
            findings.append(Finding(
                "pip.W302", WARNING,
                f"{stray['path']} belongs to none of the installed OpenCV packages; an old "
                "cv2 binary can shadow the one pip installed.",
                hint=f"delete it if nothing else owns it (a system package or conda would "
                     f"list it): {stray['path']}", details={"path": stray["path"]}))
    if not variants:
        findings.append(Finding(
            "pip.I301", INFO, "cv2 is installed without any opencv-python package (a system "
            "package, conda or a source build).",
            details={"paths": [s["path"] for s in strays]}))
    imp = as_dict(op.get("import"))
    arch = arch_mismatch(facts)
    if arch:
        findings.append(Finding(
            "pip.E306", ERROR,
            f"OpenCV ({arch.get('variant') or 'cv2'}) was built for another architecture "
            f"than this {arch.get('python_bits')}-bit Python; it cannot load.",
            hint="install a Python whose bitness matches your OS (64-bit Python from "
                 "python.org) and reinstall OpenCV in it; envdoctor does not change this "
                 "automatically", details=arch))
    if imp and not imp.get("ok"):
        findings += _import_findings(facts, imp, keep)
    mismatch = numpy_mismatch(facts)
    if mismatch and not any(f.code == "pip.E302" for f in findings):
        if mismatch["kind"] == "abi" and not imp.get("ok"):
            findings.append(Finding(
                "pip.E302", ERROR,
                f"OpenCV {mismatch['opencv']} ({mismatch['variant']}) was compiled for NumPy "
                f"1.x but NumPy {mismatch['numpy']} is installed.",
                hint=f"{FIX_HINT} (installs an OpenCV 4 built for NumPy 2: 4.10.0.84 or newer)",
                fix=FIX, details=mismatch))
        elif mismatch["kind"] == "requirement" or not imp.get("ok"):
            findings.append(Finding(
                "pip.W303", WARNING,
                f"{mismatch['variant']} {mismatch['opencv']} declares numpy"
                f"{mismatch.get('requirement') or '<2'} but NumPy {mismatch['numpy']} is "
                "installed.", hint=f"{FIX_HINT} (installs a NumPy that OpenCV supports)",
                fix=FIX, details=mismatch))
    if imp.get("ok"):
        details["imported"] = {"version": imp.get("version"), "file": imp.get("file")}
    if not findings or all(f.level == INFO for f in findings):
        version = imp.get("version") or (variants[0].get("version") if variants else "?")
        which = variants[0]["name"] if variants else "cv2"
        numpy = details["numpy"]
        summary = f"OpenCV {version} ({which}) imports fine" + \
            (f" with NumPy {numpy}" if numpy else "")
        if not imp:
            summary = f"OpenCV ({which}) is installed; import not tried"
        return passed(summary, details, findings)
    worst = max(findings, key=lambda f: f.level)
    return outcome(worst.message, findings, details)
