"""OpenCV: installed variants, stray cv2 binaries, NumPy ABI and an ``import cv2`` in a child.

The four PyPI variants (opencv-python, opencv-contrib-python, opencv-python-headless,
opencv-contrib-python-headless) all install the same ``cv2`` package and overwrite each
other. This probe reads their dist-info folders (names, versions, RECORD, WHEEL,
Requires-Dist), looks for cv2 binaries that none of them owns, and, only when a cv2 is
installed, imports it in a child process with a timeout and classifies the failure.
Nothing is imported in this process.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, Callable, Optional

from envdoctor.probes import Probe, ProbeContext

VARIANTS = ("opencv-python", "opencv-contrib-python", "opencv-python-headless",
            "opencv-contrib-python-headless")

# The native module: cv2.so, cv2.abi3.so, cv2.cpython-311-x86_64-linux-gnu.so, cv2.pyd,
# cv2.cp311-win_amd64.pyd ...
_BINARY = re.compile(r"^cv2(\.[A-Za-z0-9_-]+)*\.(so|pyd)$")
_MARK = "@@envdoctor-cv2@@"

# Printed by the child as one JSON line after the marker; stderr is kept for the texts
# that NumPy prints before raising (the "compiled using NumPy 1.x" banner).
CHILD_SCRIPT = (
    "import json, sys\n"
    "out = {'ok': False}\n"
    "try:\n"
    "    import cv2\n"
    "    out['ok'] = True\n"
    "    out['version'] = str(getattr(cv2, '__version__', '') or '')\n"
    "    out['file'] = str(getattr(cv2, '__file__', '') or '')\n"
    # Its files gone (a variant uninstalled next to another): cv2 is an empty namespace.
    "    if not hasattr(cv2, 'imread'):\n"
    "        out['ok'] = False\n"
    "        out['empty'] = True\n"
    "        out['error_type'] = 'AttributeError'\n"
    "        out['error'] = (\"module 'cv2' has no attribute 'imread': cv2 is an empty \"\n"
    "                        \"namespace package, its files are gone\")\n"
    "except BaseException as exc:\n"
    "    out['error_type'] = type(exc).__name__\n"
    "    out['error'] = str(exc)[:2000]\n"
    "np = sys.modules.get('numpy')\n"
    "out['numpy'] = getattr(np, '__version__', None) if np else None\n"
    f"sys.stdout.write('\\n{_MARK}' + json.dumps(out) + '\\n')\n"
)

# Shared libraries a Linux OpenCV wheel loads from the system, by cause.
LINUX_LIBRARIES = {
    "libGL.so.1": "libgl",
    "libgthread-2.0.so.0": "glib",
    "libglib-2.0.so.0": "glib",
    "libSM.so.6": "x11",
    "libICE.so.6": "x11",
    "libXext.so.6": "x11",
    "libXrender.so.1": "x11",
}

_WINDOWS_DLLS = ("vcruntime140.dll", "vcruntime140_1.dll", "msvcp140.dll", "mfplat.dll",
                 "mf.dll")


def variant_traits(name: str) -> dict[str, bool]:
    return {"headless": name.endswith("-headless"), "contrib": "-contrib-" in name}


def variant_name(contrib: bool, headless: bool) -> str:
    return "opencv-" + ("contrib-" if contrib else "") + "python" + \
        ("-headless" if headless else "")


def _version_key(version: str):
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version)
    except InvalidVersion:
        return None


def numpy_requirement(requires: list[str], python_version: str) -> Optional[str]:
    """The numpy specifier that applies to this Python among Requires-Dist lines."""
    from packaging.requirements import InvalidRequirement, Requirement

    specs = []
    for line in requires:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.name.lower() != "numpy":
            continue
        if req.marker is not None:
            try:
                if not req.marker.evaluate({"python_version": python_version,
                                            "python_full_version": python_version + ".0"}):
                    continue
            except Exception:
                continue
        if str(req.specifier):
            specs.append(str(req.specifier))
    if not specs:
        return None
    # One canonical spelling (packaging's order), the one fixes/cv2_dll's scripts print.
    from packaging.specifiers import SpecifierSet

    return str(SpecifierSet(",".join(specs)))


def built_for_numpy(opencv_version: str, python_version: str,
                    requirement: Optional[str] = None) -> Optional[int]:
    """The NumPy major an opencv-python wheel was compiled for (data/opencv_numpy.json);
    a Requires-Dist that excludes one major settles it first."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    if requirement:
        try:
            spec = SpecifierSet(requirement)
            takes1 = any(spec.contains(v, prereleases=True) for v in ("1.19.0", "1.26.4"))
            takes2 = any(spec.contains(v, prereleases=True) for v in ("2.0.0", "2.2.0"))
            if takes1 != takes2:
                return 1 if takes1 else 2
        except InvalidSpecifier:
            pass
    return _table_major(opencv_version, python_version)


def _table_major(opencv_version: str, python_version: str) -> Optional[int]:

    from packaging.specifiers import SpecifierSet

    from envdoctor.data import load

    try:
        rows = load("opencv_numpy.json")["rows"]
    except (OSError, ValueError, KeyError):
        return None
    version = _version_key(opencv_version)
    if version is None:
        return None
    for row in rows:
        if SpecifierSet(row["python"]).contains(python_version, prereleases=True) and \
                SpecifierSet(row["opencv"]).contains(version, prereleases=True):
            return int(row["built_for_numpy"])
    return None


def _record_paths(text: Optional[str]) -> list[tuple[str, Optional[int]]]:
    rows = []
    for line in (text or "").splitlines():
        parts = line.rsplit(",", 2)
        if len(parts) != 3 or not parts[0]:
            continue
        size: Optional[int]
        try:
            size = int(parts[2]) if parts[2] else None
        except ValueError:
            size = None
        rows.append((parts[0].strip('"'), size))
    return rows


def _cv2_files(site: str) -> list[str]:
    """cv2 binaries in a site dir: top level, in cv2/ and in cv2/python-3.X/ (relative)."""
    found: list[str] = []
    try:
        top = os.listdir(site)
    except OSError:
        return found
    for entry in top:
        if entry.startswith("cv2") and _BINARY.match(entry) and \
                os.path.isfile(os.path.join(site, entry)):
            found.append(entry)
    package = os.path.join(site, "cv2")
    if os.path.isdir(package):
        try:
            inner = os.listdir(package)
        except OSError:
            inner = []
        for entry in inner:
            full = os.path.join(package, entry)
            if _BINARY.match(entry) and os.path.isfile(full):
                found.append(f"cv2/{entry}")
            elif entry.startswith("python-") and os.path.isdir(full):
                try:
                    deeper = os.listdir(full)
                except OSError:
                    deeper = []
                found += [f"cv2/{entry}/{e}" for e in deeper if _BINARY.match(e)]
    return sorted(found)


def classify_import(result: dict[str, Any]) -> dict[str, Any]:
    """Turn the child's outcome into a cause: ok, empty-module, missing-library, numpy-abi,
    numpy-missing, dll-load-failed, not-win32-app, crash, timeout, not-found, other."""
    if result.get("timed_out"):
        return {"cause": "timeout"}
    if result.get("signal"):
        return {"cause": "crash", "signal": result["signal"]}
    if result.get("ok"):
        return {"cause": "ok"}
    if result.get("empty"):
        return {"cause": "empty-module"}
    text = "\n".join(str(result.get(k) or "") for k in ("error", "stderr"))
    lowered = text.lower()
    missing = re.search(r"([A-Za-z0-9_.+-]+\.so(?:\.[0-9]+)*): cannot open shared object file",
                        text)
    if missing:
        lib = missing.group(1)
        return {"cause": "missing-library", "library": lib,
                "library_kind": LINUX_LIBRARIES.get(lib, "other")}
    if ("compiled using numpy 1.x cannot be run in" in lowered
            or "numpy.core.multiarray failed to import" in lowered
            or "_array_api not found" in lowered
            or "module compiled against abi version" in lowered
            or "module compiled against api version" in lowered
            or "numpy.dtype size changed" in lowered
            or "numpy._core.multiarray failed to import" in lowered):
        return {"cause": "numpy-abi"}
    if "no module named 'numpy'" in lowered:
        return {"cause": "numpy-missing"}
    if "not a valid win32 application" in lowered or "%1 is not a valid" in lowered:
        return {"cause": "not-win32-app"}
    if "dll load failed" in lowered:
        return {"cause": "dll-load-failed"}
    if "no module named 'cv2'" in lowered:
        return {"cause": "not-found"}
    return {"cause": "other"}


def windows_runtime(system32: str, python_dir: str,
                    reg_query: Optional[Callable[[str, str], Any]] = None,
                    bits: int = 64) -> dict[str, Any]:
    """Which runtime DLLs exist (System32 or next to python.exe) and what the VC++
    2015-2022 runtime's registry key says. ``reg_query(key, value)`` reads HKLM."""
    dlls = {}
    for name in _WINDOWS_DLLS:
        dlls[name] = any(os.path.isfile(os.path.join(folder, name))
                         for folder in (system32, python_dir) if folder)
    arch = "x64" if bits == 64 else "x86"
    vc: dict[str, Any] = {"arch": arch, "installed": None, "version": None}
    if reg_query is not None:
        key = rf"SOFTWARE\Microsoft\VisualStudio\14.0\VC\Runtimes\{arch}"
        try:
            installed = reg_query(key, "Installed")
            vc["installed"] = bool(installed) if installed is not None else False
            vc["version"] = reg_query(key, "Version")
        except Exception:
            vc["installed"] = None
    edition = None
    if reg_query is not None:
        try:
            edition = reg_query(r"SOFTWARE\Microsoft\Windows NT\CurrentVersion", "EditionID")
        except Exception:
            edition = None
    edition = str(edition) if edition else None
    # N and KN editions (ProfessionalN, CoreN, EnterpriseN, ProfessionalKN...) ship
    # without Media Foundation unless the Media Feature Pack is added.
    return {"dlls": dlls, "vc_runtime": vc, "edition": edition,
            "n_edition": edition.upper().endswith("N") if edition else None}


def _winreg_query(key: str, value: str) -> Any:  # pragma: no cover - Windows only
    import winreg

    for view in (winreg.KEY_WOW64_64KEY, winreg.KEY_WOW64_32KEY):
        try:
            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key, 0,
                                winreg.KEY_READ | view) as handle:
                return winreg.QueryValueEx(handle, value)[0]
        except OSError:
            continue
    return None


def _child_import(ctx: ProbeContext) -> dict[str, Any]:
    import json

    from envdoctor import proc

    timeout = max(1.0, ctx.timeout - 0.5)
    res = proc.run(ctx.python.command("-c", CHILD_SCRIPT), timeout=timeout,
                   env=ctx.python.environ(ctx.environ))
    fact: dict[str, Any] = {"ok": False, "returncode": res.returncode,
                            "timed_out": res.timed_out, "signal": res.signal,
                            "duration_ms": round(res.duration_s * 1000, 1)}
    if res.error and not res.timed_out:
        fact["error"] = f"could not run {ctx.python.executable}: {res.error}"
    payload = None
    for line in res.stdout.splitlines():
        if line.startswith(_MARK):
            try:
                payload = json.loads(line[len(_MARK):])
            except ValueError:
                payload = None
    if isinstance(payload, dict):
        fact["ok"] = bool(payload.get("ok"))
        for key in ("version", "file", "error_type", "error", "numpy", "empty"):
            if payload.get(key) is not None:
                fact[key] = payload[key]
    stderr = res.stderr.strip()
    if stderr and not fact["ok"]:
        fact["stderr"] = stderr[-3000:]
    fact.update(classify_import(fact))
    return fact


def probe_opencv(ctx: ProbeContext) -> dict:
    snap = ctx.python.snapshot()
    python_version = "{}.{}".format(*snap["version_info"][:2])
    by_key = ctx.python.by_key()
    facts: dict[str, Any] = {
        "variants": [], "installed": False, "stray": [], "numpy": None,
        "display": None, "import": None, "windows": None,
    }
    numpy = by_key.get("numpy")
    if numpy is not None:
        major = numpy.version.split(".", 1)[0]
        facts["numpy"] = {"version": numpy.version,
                          "major": int(major) if major.isdigit() else None}

    owned: dict[str, set[str]] = {}
    for name in VARIANTS:
        dist = by_key.get(name)
        if dist is None:
            continue
        record = _record_paths(dist.read_text("RECORD"))
        binaries = [(p, s) for p, s in record if _BINARY.match(p.rsplit("/", 1)[-1])
                    and p.startswith("cv2")]
        owned.setdefault(dist.site, set()).update(os.path.normpath(p) for p, _ in record)
        active = None
        if binaries:
            path, size = binaries[0]
            try:
                active = size is not None and os.path.getsize(
                    os.path.join(dist.site, path)) == size
            except OSError:
                active = False
        meta = dist.read_text("METADATA") or ""
        requires = [line.split(":", 1)[1].strip() for line in meta.split("\n\n", 1)[0]
                    .splitlines() if line.lower().startswith("requires-dist:")]
        wheel = dist.read_text("WHEEL") or ""
        tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines()
                if line.lower().startswith("tag:")]
        spec = numpy_requirement(requires, python_version)
        facts["variants"].append({
            "name": name, "version": dist.version, "site": dist.site,
            **variant_traits(name),
            "binary": binaries[0][0] if binaries else None,
            "active": active,
            "numpy_requirement": spec,
            "built_for_numpy": built_for_numpy(dist.version, python_version, spec),
            "wheel_tags": tags[:8],
        })

    sites = []
    for entry in snap.get("sys_path") or []:
        site = os.path.abspath(entry or ".")
        if site not in sites and os.path.isdir(site):
            sites.append(site)
    cv2_found = bool(facts["variants"])
    for site in sites:
        if site.endswith(".zip"):
            continue
        for rel in _cv2_files(site):
            cv2_found = True
            if os.path.normpath(rel) not in owned.get(site, set()):
                facts["stray"].append({"path": os.path.join(site, rel), "site": site})
        cv2_found = cv2_found or os.path.isdir(os.path.join(site, "cv2"))
    facts["installed"] = cv2_found

    if sys.platform.startswith("linux"):
        facts["display"] = bool(ctx.environ.get("DISPLAY") or ctx.environ.get("WAYLAND_DISPLAY"))
    elif os.name == "nt":  # pragma: no cover - Windows only
        import shutil

        root = ctx.environ.get("SystemRoot") or ctx.environ.get("SYSTEMROOT") or r"C:\Windows"
        facts["display"] = True
        facts["windows"] = windows_runtime(os.path.join(root, "System32"),
                                           os.path.dirname(ctx.python.executable or ""),
                                           _winreg_query, int(snap.get("bits") or 64))
        facts["windows"]["winget"] = shutil.which("winget") is not None
    else:
        facts["display"] = True

    if cv2_found:
        facts["import"] = _child_import(ctx)
    return facts


PROBES = [Probe("opencv", probe_opencv)]
