"""pip.opencv: the probe on fake OpenCV installs (real error texts) and the check's findings."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import opencv_fakes as fakes
import pytest
from conftest import facts_fixture, run_check, run_envdoctor, validate_report

from envdoctor.probes.opencv import built_for_numpy, classify_import, numpy_requirement

NO_DISPLAY = {"DISPLAY": "", "WAYLAND_DISPLAY": ""}


def check_report(site: Path, *extra: str) -> tuple[dict, dict]:
    proc = run_envdoctor("check", "--only", "pip.opencv", "--json", *extra,
                         env={**fakes.env_for(site), **NO_DISPLAY})
    assert proc.returncode in (0, 1, 3), proc.stderr
    report = json.loads(proc.stdout)
    validate_report(report)
    result = next(c for c in report["checks"] if c["id"] == "pip.opencv")
    return report, result


def codes(result: dict) -> dict[str, dict]:
    return {f["code"]: f for f in result["findings"]}


# -- classification of real error texts -----------------------------------------------

@pytest.mark.parametrize("fact, cause, extra", [
    ({"error": "libGL.so.1: cannot open shared object file: No such file or directory"},
     "missing-library", {"library": "libGL.so.1", "library_kind": "libgl"}),
    ({"error": "libgthread-2.0.so.0: cannot open shared object file: No such file or "
               "directory"}, "missing-library", {"library_kind": "glib"}),
    ({"error": "libSM.so.6: cannot open shared object file: No such file or directory"},
     "missing-library", {"library_kind": "x11"}),
    ({"error": "numpy.core.multiarray failed to import",
      "stderr": "A module that was compiled using NumPy 1.x cannot be run in\nNumPy 2.0.0"},
     "numpy-abi", {}),
    ({"error": "module compiled against ABI version 0x1000009 but this version of numpy is "
               "0x2000000"}, "numpy-abi", {}),
    ({"error": "No module named 'numpy'"}, "numpy-missing", {}),
    ({"error": "DLL load failed while importing cv2: The specified module could not be "
               "found."}, "dll-load-failed", {}),
    ({"error": "DLL load failed while importing cv2: %1 is not a valid Win32 application."},
     "not-win32-app", {}),
    ({"signal": "SIGSEGV"}, "crash", {"signal": "SIGSEGV"}),
    ({"timed_out": True}, "timeout", {}),
    ({"ok": True}, "ok", {}),
    ({"error": "something else entirely"}, "other", {}),
])
def test_classify_import_real_texts(fact, cause, extra):
    got = classify_import(fact)
    assert got["cause"] == cause
    for key, value in extra.items():
        assert got[key] == value


@pytest.mark.parametrize("version, requirement, expected", [
    ("4.9.0.80", "numpy>=1.21.2", 1),       # before 4.10.0.84: compiled for NumPy 1
    ("4.10.0.82", None, 1),                 # "experimental" NumPy 2, still built with 1
    ("4.10.0.84", None, 2),                 # first wheels built for NumPy 2
    ("4.12.0.88", "<2.3.0,>=2", 2),
    ("5.0.0.93", ">=2", 2),
    ("4.8.1.78", "<2", 1),
])
def test_built_for_numpy(version, requirement, expected):
    spec = requirement if requirement and not requirement.startswith("numpy") else None
    assert built_for_numpy(version, "3.11", spec) == expected


def test_numpy_requirement_follows_markers():
    requires = ['numpy<2.0; python_version < "3.9"', 'numpy>=2; python_version >= "3.9"',
                "other>=1"]
    assert numpy_requirement(requires, "3.11") == ">=2"
    assert numpy_requirement(requires, "3.8") == "<2.0"


# -- the probe and the check on fake installs, through the real CLI -------------------

def test_no_opencv_is_a_skip_and_no_child(tmp_path):
    report, result = check_report(tmp_path)
    assert result["status"] == "skip"
    assert report["facts"]["opencv"]["import"] is None


def test_two_variants_and_libgl_missing(tmp_path):
    fakes.add_numpy(tmp_path, "1.26.4")
    fakes.add_variant(tmp_path, "opencv-python", "4.9.0.80", "libgl")
    fakes.add_dist(tmp_path, "opencv-python-headless", "4.9.0.80",
                   ("numpy>=1.21.2",), ["cv2/__init__.py", fakes.BINARY])
    report, result = check_report(tmp_path)
    found = codes(result)
    assert result["status"] == "fail"
    assert set(found) >= {"pip.W301", "pip.E301"}
    for code in ("pip.W301", "pip.E301"):
        assert found[code]["fix"] == "cv2-dll"
        assert "envdoctor fix cv2-dll" in found[code]["hint"]
    assert "libGL.so.1" in found["pip.E301"]["message"]
    assert "opencv-python-headless" in found["pip.W301"]["hint"]
    assert report["facts"]["opencv"]["import"]["cause"] == "missing-library"
    assert report["summary"]["exit_code"] == 1


def test_numpy2_with_opencv_built_for_numpy1(tmp_path):
    fakes.add_numpy(tmp_path, "2.0.2")
    fakes.add_variant(tmp_path, "opencv-python-headless", "4.9.0.80", "numpy1")
    _, result = check_report(tmp_path)
    found = codes(result)
    assert set(found) == {"pip.E302"}
    assert found["pip.E302"]["fix"] == "cv2-dll"
    assert "NumPy 1" in found["pip.E302"]["message"] and "2.0.2" in found["pip.E302"]["message"]


def test_stray_binary_not_in_any_record(tmp_path):
    fakes.add_numpy(tmp_path, "1.26.4")
    fakes.add_variant(tmp_path, "opencv-python-headless", "4.9.0.80", "ok")
    stray = tmp_path / "cv2.cpython-36m-x86_64-linux-gnu.so"
    stray.write_bytes(b"old")
    _, result = check_report(tmp_path)
    found = codes(result)
    assert result["status"] == "warn"
    assert set(found) == {"pip.W302"}
    assert str(stray) in found["pip.W302"]["message"] or "cv2.cpython-36m" in \
        found["pip.W302"]["message"]


def test_healthy_single_variant_passes(tmp_path):
    fakes.add_numpy(tmp_path, "1.26.4")
    fakes.add_variant(tmp_path, "opencv-python-headless", "4.9.0.80", "ok")
    report, result = check_report(tmp_path)
    assert result["status"] == "pass", result
    assert "4.9.0" in result["summary"]
    assert report["facts"]["opencv"]["import"]["ok"] is True


def test_cv2_left_empty_by_uninstalling_the_other_variant_is_not_imports_fine(tmp_path):
    # opencv-python and opencv-python-headless 4.10.0.84 installed, then the headless
    # one uninstalled: pip removed the files both shared; `import cv2` gives an empty
    # namespace package while opencv-python's dist-info remains.
    fakes.add_numpy(tmp_path, "2.0.2")
    fakes.add_variant(tmp_path, "opencv-python", "4.10.0.84", "ok")
    fakes.write_cv2(tmp_path, "empty")
    proc = run_envdoctor("check", "--only", "pip", "--json",
                         env={**fakes.env_for(tmp_path), **NO_DISPLAY})
    report = json.loads(proc.stdout)
    validate_report(report)
    checks = {c["id"]: c for c in report["checks"]}
    opencv = codes(checks["pip.opencv"])
    assert checks["pip.opencv"]["status"] == "fail"
    assert "imports fine" not in checks["pip.opencv"]["summary"]
    assert opencv["pip.E310"]["fix"] == "cv2-dll"
    assert report["facts"]["opencv"]["import"]["cause"] == "empty-module"
    files = codes(checks["pip.installed_files"])
    assert "opencv-python 4.10.0.84" in files["pip.E401"]["message"]
    assert "cv2/__init__.py" in files["pip.E401"]["details"]["missing"]
    assert proc.returncode == 1


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_segfault_in_import_is_a_finding_not_a_crash(tmp_path):
    fakes.add_variant(tmp_path, "opencv-python", "4.9.0.80", "segv")
    _, result = check_report(tmp_path)
    found = codes(result)
    assert found["pip.E308"]["details"]["signal"] == "SIGSEGV"


def test_hanging_import_times_out(tmp_path):
    fakes.add_variant(tmp_path, "opencv-python", "4.9.0.80", "hang")
    _, result = check_report(tmp_path, "--timeout", "1.5")
    assert "pip.W304" in codes(result)


# -- pure check on facts from other machines (Windows) --------------------------------

def windows_facts(error: str, dlls: dict, n_edition: bool = False, bits: int = 64,
                  tags=("cp37-abi3-win_amd64",), vc_installed=None) -> dict:
    variant = {"name": "opencv-python", "version": "4.10.0.84", "site": "C:/py/Lib/site-packages",
               "headless": False, "contrib": False, "binary": "cv2/cv2.pyd", "active": True,
               "numpy_requirement": ">=1.21.2", "built_for_numpy": 2, "wheel_tags": list(tags)}
    imp = {"ok": False, "error_type": "ImportError", "error": error, **classify_import(
        {"error": error})}
    return facts_fixture(
        opencv={"variants": [variant], "installed": True, "stray": [],
                "numpy": {"version": "2.1.0", "major": 2}, "display": True, "import": imp,
                "windows": {"dlls": dlls, "vc_runtime": {"arch": "x64",
                                                         "installed": vc_installed},
                            "winget": True}},
        platform={"system": "Windows", "python_bits": bits, "os_bits": 64,
                  "windows": {"edition": "ProfessionalN" if n_edition else "Professional",
                              "n_edition": n_edition}},
        python={"executable": "C:/py/python.exe", "bits": bits})


DLL_ERROR = "DLL load failed while importing cv2: The specified module could not be found."
ALL_DLLS = {"vcruntime140.dll": True, "vcruntime140_1.dll": True, "msvcp140.dll": True,
            "mfplat.dll": True, "mf.dll": True}


def test_windows_missing_vc_runtime():
    facts = windows_facts(DLL_ERROR, {**ALL_DLLS, "msvcp140.dll": False})
    result = run_check("pip.opencv", facts)
    found = {f.code: f for f in result.findings}
    assert found["pip.E303"].fix == "cv2-dll"
    assert "vc_redist.x64.exe" in found["pip.E303"].hint


def test_windows_n_edition_without_media_pack():
    facts = windows_facts(DLL_ERROR, {**ALL_DLLS, "mfplat.dll": False, "mf.dll": False},
                          n_edition=True)
    found = {f.code: f for f in run_check("pip.opencv", facts).findings}
    assert found["pip.E304"].fix == "cv2-dll"


def test_windows_unknown_dll_failure_has_no_fix():
    found = {f.code: f for f in run_check("pip.opencv", windows_facts(DLL_ERROR, ALL_DLLS))
             .findings}
    assert found["pip.E305"].fix is None


def test_32bit_python_with_64bit_wheel_is_explained_not_fixed():
    facts = windows_facts("DLL load failed while importing cv2: %1 is not a valid Win32 "
                          "application.", ALL_DLLS, bits=32)
    found = {f.code: f for f in run_check("pip.opencv", facts).findings}
    assert set(found) == {"pip.E306"}
    assert found["pip.E306"].fix is None
    assert "64-bit Python" in found["pip.E306"].hint


def test_declared_numpy_range_violated_but_import_works():
    facts = windows_facts("", ALL_DLLS)
    facts["opencv"]["import"] = {"ok": True, "version": "4.12.0", "cause": "ok"}
    facts["opencv"]["variants"][0].update(version="4.12.0.88", numpy_requirement="<2.3.0,>=2")
    facts["opencv"]["numpy"] = {"version": "2.3.1", "major": 2}
    result = run_check("pip.opencv", facts)
    found = {f.code: f for f in result.findings}
    assert result.status.value == "warn"
    assert found["pip.W303"].fix == "cv2-dll"


def test_windows_vc_runtime_link_matches_a_32bit_python():
    facts = windows_facts(DLL_ERROR, {**ALL_DLLS, "msvcp140.dll": False}, bits=32,
                          tags=("cp37-abi3-win32",))
    found = {f.code: f for f in run_check("pip.opencv", facts).findings}
    assert "vc_redist.x86.exe" in found["pip.E303"].hint


@pytest.mark.parametrize("imp, code", [
    ({"ok": False, "cause": "crash", "signal": "SIGSEGV"}, "pip.E308"),
    ({"ok": False, "cause": "timeout", "duration_ms": 9500}, "pip.W304"),
])
def test_commands_in_hints_name_this_interpreter(imp, code):
    facts = windows_facts("", ALL_DLLS)
    facts["opencv"]["import"] = imp
    found = {f.code: f for f in run_check("pip.opencv", facts).findings}
    assert found[code].hint.startswith("run `C:/py/python.exe ")
    assert " python " not in found[code].hint and "`python " not in found[code].hint


# -- the Windows runtime probe, with System32 and the registry faked ---------------------

def _registry(values: dict):
    def query(key, value):
        if (key, value) == ("boom", "boom"):
            raise OSError
        return values.get((key.rsplit("\\", 1)[-1], value))
    return query


@pytest.mark.parametrize("files, values, vc_installed, n_edition", [
    (["msvcp140.dll", "vcruntime140.dll", "mfplat.dll"],
     {("x64", "Installed"): 1, ("x64", "Version"): "v14.40.33810.00",
      ("CurrentVersion", "EditionID"): "Professional"}, True, False),
    (["mfplat.dll"], {("CurrentVersion", "EditionID"): "ProfessionalN"}, False, True),
    ([], {}, False, None),
])
def test_windows_runtime_reads_dlls_and_registry(tmp_path, files, values, vc_installed,
                                                 n_edition):
    from envdoctor.probes.opencv import windows_runtime

    system32 = tmp_path / "System32"
    system32.mkdir()
    for name in files:
        (system32 / name).write_bytes(b"MZ")
    got = windows_runtime(str(system32), str(tmp_path / "py"), _registry(values), 64)
    assert got["dlls"]["msvcp140.dll"] is ("msvcp140.dll" in files)
    assert got["dlls"]["mfplat.dll"] is ("mfplat.dll" in files)
    assert got["vc_runtime"]["installed"] is vc_installed
    assert got["n_edition"] is n_edition


def test_n_edition_from_the_registry_is_the_media_pack_cause():
    facts = windows_facts(DLL_ERROR, ALL_DLLS)   # mfplat.dll present (e.g. a stale copy)
    facts["opencv"]["windows"].update(edition="EnterpriseN", n_edition=True)
    found = {f.code: f for f in run_check("pip.opencv", facts).findings}
    assert set(found) == {"pip.E304"} and found["pip.E304"].fix == "cv2-dll"
