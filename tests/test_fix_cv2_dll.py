"""cv2-dll: every branch of the plan, the scripts against the plan (no drift), shell
lint, and a real end-to-end repair in a temporary virtual environment."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import opencv_fakes as fakes
import pytest
from conftest import REPO, facts_fixture, run_check
from envdoctor.fixes import cv2_dll

from envdoctor import distributions, doctor
from envdoctor.fixer import PlanEnv
from envdoctor.probes.opencv import classify_import

SCRIPTS = Path(cv2_dll.__file__).parent
PY = "/opt/py/bin/python3"
LINUX_KEYS = {"pip-download-variant", "pip-uninstall-variants", "pip-install-downloaded",
              "pip-upgrade-opencv",
              "pip-force-reinstall-variant",
              "pip-install-numpy", "apt-update", "apt-install", "dnf-install", "yum-install",
              "zypper-install", "apk-add"}
WINDOWS_KEYS = {"pip-download-variant", "pip-uninstall-variants", "pip-install-downloaded",
                "pip-upgrade-opencv",
                "pip-force-reinstall-variant",
                "pip-install-numpy", "winget-vcredist", "dism-media-pack"}


def variant(name: str, version: str = "4.9.0.80", built: int = 1, spec: str = ">=1.21.2",
            tags=("cp37-abi3-manylinux_2_17_x86_64",)) -> dict:
    return {"name": name, "version": version, "site": "/s", "headless": name.endswith(
        "-headless"), "contrib": "-contrib-" in name, "binary": "cv2/cv2.abi3.so",
        "active": True, "numpy_requirement": spec, "built_for_numpy": built,
        "wheel_tags": list(tags)}


def make_facts(variants, error=None, numpy="1.26.4", system="Linux", distribution=None,
               container=None, display=False, windows=None, bits=64, n_edition=False):
    imp = {"ok": error is None, "cause": "ok"} if error is None else \
        {"ok": False, "error": error, **classify_import({"error": error})}
    return facts_fixture(
        opencv={"variants": variants, "installed": True, "stray": [], "display": display,
                "numpy": {"version": numpy, "major": int(numpy.split(".")[0])},
                "import": imp, "windows": windows},
        platform={"system": system, "python_bits": bits, "container": container,
                  "distribution": distribution,
                  "windows": {"n_edition": n_edition} if system == "Windows" else None},
        python={"executable": PY, "bits": bits})


WHEELS = "/tmp/envdoctor-cv2-dll-x"


def plan_for(facts, admin=False):
    report = {"facts": facts, "checks": [run_check("pip.opencv", facts).to_dict()]}
    return cv2_dll.plan(report, PlanEnv(python=PY, admin=admin,
                                        system=facts["platform"]["system"], workdir=WHEELS))


def switch(spec: str, *installed: str) -> list:
    """A switch: fetch the replacement first, uninstall, install it with no network."""
    return [[PY, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--dest",
             WHEELS, spec],
            [PY, "-m", "pip", "uninstall", "-y", *installed],
            [PY, "-m", "pip", "install", "--no-index", "--find-links", WHEELS, "--no-deps",
             spec]]


def argvs(plan) -> list:
    return [s.argv for s in plan.steps]


LIBGL = "libGL.so.1: cannot open shared object file: No such file or directory"
GTHREAD = "libgthread-2.0.so.0: cannot open shared object file: No such file or directory"
DLL = "DLL load failed while importing cv2: The specified module could not be found."


# -- the plan, branch by branch ---------------------------------------------------------

def test_several_variants_in_a_container_keep_one_headless():
    facts = make_facts([variant("opencv-python"), variant("opencv-python-headless")],
                       container="docker", display=True)
    plan = plan_for(facts)
    assert argvs(plan) == switch("opencv-python-headless==4.9.0.80", "opencv-python",
                                 "opencv-python-headless")
    assert [s.destructive for s in plan.steps] == [False, True, False]
    assert not any(s.needs_admin for s in plan.steps)
    # Interrupted or failed after the uninstall: the downloaded wheel goes back in, and
    # the commands to do it by hand are exact.
    assert [s.argv for s in plan.restore] == [argvs(plan)[2]]
    assert plan.restore_by_hand[0] == " ".join(argvs(plan)[2])
    assert plan.restore_by_hand[1].startswith(
        f"{PY} -m pip install opencv-python==4.9.0.80 opencv-python-headless==4.9.0.80")


def test_several_variants_on_a_desktop_keep_contrib_with_gui():
    facts = make_facts([variant("opencv-python", "4.8.1.78"),
                        variant("opencv-contrib-python-headless", "4.9.0.80")], display=True)
    assert argvs(plan_for(facts))[2][-1] == "opencv-contrib-python==4.9.0.80"


def test_empty_cv2_reinstalls_the_remaining_variant_without_touching_numpy():
    facts = make_facts([variant("opencv-python", "4.10.0.84", built=2, spec=">=2")],
                       numpy="2.1.0")
    facts["opencv"]["import"] = {"ok": False, "empty": True, "error_type": "AttributeError",
                                 "error": "module 'cv2' has no attribute 'imread'",
                                 "cause": "empty-module"}
    plan = plan_for(facts)
    assert argvs(plan) == [[PY, "-m", "pip", "install", "--force-reinstall", "--no-deps",
                            "opencv-python==4.10.0.84"]]
    assert not plan.steps[0].destructive


def test_numpy2_with_opencv_for_numpy1_upgrades_opencv_and_says_why():
    facts = make_facts([variant("opencv-python-headless")], numpy="2.1.0",
                       error="numpy.core.multiarray failed to import")
    plan = plan_for(facts)
    # one variant: pip upgrades it in place, nothing to uninstall first
    assert argvs(plan) == [[PY, "-m", "pip", "install", "--upgrade",
                            "opencv-python-headless>=4.10.0.84,<5"]]
    assert "numpy<2" in plan.steps[0].why and "NumPy 1" in plan.steps[0].why
    assert not any(s.destructive for s in plan.steps)


def test_numpy2_with_two_old_variants_uninstalls_both_then_upgrades_the_kept_one():
    facts = make_facts([variant("opencv-python"), variant("opencv-python-headless")],
                       numpy="2.1.0", error="numpy.core.multiarray failed to import")
    plan = plan_for(facts)
    assert argvs(plan) == switch("opencv-python-headless>=4.10.0.84,<5", "opencv-python",
                                 "opencv-python-headless")
    assert "no display" in plan.steps[2].why and "NumPy 1" in plan.steps[2].why


def test_opencv_that_requires_numpy2_gets_a_numpy_it_supports():
    facts = make_facts([variant("opencv-python-headless", "4.13.0.90", built=2, spec=">=2")],
                       numpy="1.26.4", error="module compiled against API version 0x12 but "
                                             "this version of numpy is 0x11")
    plan = plan_for(facts)
    assert argvs(plan) == [[PY, "-m", "pip", "install", "numpy>=2"]]
    assert "declares numpy>=2" in plan.steps[0].why


def test_libgl_missing_switches_to_headless_without_root():
    facts = make_facts([variant("opencv-contrib-python")], error=LIBGL, display=True,
                       distribution={"id": "ubuntu", "version_id": "22.04"})
    plan = plan_for(facts)
    assert argvs(plan) == switch("opencv-contrib-python-headless==4.9.0.80",
                                 "opencv-contrib-python")
    assert not any(s.needs_admin for s in plan.steps)


@pytest.mark.parametrize("distribution, expected", [
    ({"id": "ubuntu", "version_id": "22.04", "id_like": "debian"},
     [["apt-get", "update"], ["apt-get", "install", "-y", "libglib2.0-0"]]),
    ({"id": "ubuntu", "version_id": "24.04", "id_like": "debian"},
     [["apt-get", "update"], ["apt-get", "install", "-y", "libglib2.0-0t64"]]),
    ({"id": "debian", "version_id": "13"},
     [["apt-get", "update"], ["apt-get", "install", "-y", "libglib2.0-0t64"]]),
    ({"id": "debian", "version_id": "12"},
     [["apt-get", "update"], ["apt-get", "install", "-y", "libglib2.0-0"]]),
    ({"id": "fedora", "version_id": "40"}, [["dnf", "install", "-y", "glib2"]]),
    ({"id": "rocky", "version_id": "9.3", "id_like": "rhel centos fedora"},
     [["dnf", "install", "-y", "glib2"]]),
    ({"id": "centos", "version_id": "7", "id_like": "rhel fedora"},
     [["yum", "install", "-y", "glib2"]]),
    ({"id": "amzn", "version_id": "2"}, [["yum", "install", "-y", "glib2"]]),
    ({"id": "opensuse-leap", "version_id": "15.5", "id_like": "suse opensuse"},
     [["zypper", "--non-interactive", "install", "libgthread-2_0-0"]]),
    ({"id": "alpine", "version_id": "3.20.0"}, [["apk", "add", "glib"]]),
])
def test_headless_still_missing_glib_installs_system_packages_as_root(distribution, expected):
    facts = make_facts([variant("opencv-python-headless")], error=GTHREAD,
                       distribution=distribution)
    plan = plan_for(facts)
    assert argvs(plan) == expected
    assert all(s.needs_admin and s.system_wide for s in plan.steps)


def test_libgl_on_headless_uses_libgl1_not_the_transitional_package():
    facts = make_facts([variant("opencv-python-headless")], error=LIBGL,
                       distribution={"id": "debian", "version_id": "12"})
    assert argvs(plan_for(facts))[-1] == ["apt-get", "install", "-y", "libgl1"]


def test_unknown_distribution_gets_a_note_not_a_guess():
    facts = make_facts([variant("opencv-python-headless")], error=GTHREAD,
                       distribution={"id": "gentoo", "version_id": "2.15"})
    plan = plan_for(facts)
    assert plan.steps == []
    assert any("libgthread-2.0.so.0" in n for n in plan.notes)


def windows_state(msvcp=True, mfplat=True, winget=True):
    return {"dlls": {"msvcp140.dll": msvcp, "vcruntime140.dll": True, "mfplat.dll": mfplat},
            "vc_runtime": {"arch": "x64", "installed": None}, "winget": winget}


@pytest.mark.parametrize("bits, arch", [(64, "x64"), (32, "x86")])
def test_windows_vc_runtime_with_winget(bits, arch):
    facts = make_facts([variant("opencv-python", "4.10.0.84", 2,
                                tags=("cp37-abi3-win_amd64" if bits == 64 else
                                      "cp37-abi3-win32",))], error=DLL, system="Windows",
                       windows=windows_state(msvcp=False), bits=bits)
    plan = plan_for(facts)
    assert argvs(plan) == [["winget", "install", "--exact", "--id",
                            f"Microsoft.VCRedist.2015+.{arch}"]]


def test_windows_vc_runtime_without_winget_gives_the_official_link():
    facts = make_facts([variant("opencv-python", "4.10.0.84", 2, tags=("cp37-abi3-win_amd64",))],
                       error=DLL, system="Windows",
                       windows=windows_state(msvcp=False, winget=False))
    plan = plan_for(facts)
    assert plan.steps[0].argv is None
    assert "https://aka.ms/vs/17/release/vc_redist.x64.exe" in plan.steps[0].title


def test_windows_n_edition_media_feature_pack_needs_administrator():
    facts = make_facts([variant("opencv-python", "4.10.0.84", 2, tags=("cp37-abi3-win_amd64",))],
                       error=DLL, system="Windows", windows=windows_state(mfplat=False),
                       n_edition=True)
    plan = plan_for(facts)
    assert argvs(plan) == [["DISM", "/Online", "/Add-Capability",
                            "/CapabilityName:Media.MediaFeaturePack~~~~0.0.1.0"]]
    assert plan.steps[0].needs_admin
    assert any("opencv-python-headless" in n for n in plan.notes)
    spaced = r"C:\Program Files\Python312\python.exe"
    report = {"facts": facts, "checks": [run_check("pip.opencv", facts).to_dict()]}
    plan = cv2_dll.plan(report, PlanEnv(python=spaced, admin=False, system="Windows"))
    assert plan.steps[0].argv[0] == "DISM"
    # PowerShell: quoted, and run with the call operator
    assert any(f'& "{spaced}" -m pip install opencv-python-headless' in n for n in plan.notes)


def test_32bit_python_with_64bit_wheel_is_explained_with_no_step():
    facts = make_facts([variant("opencv-python", "4.10.0.84", 2, tags=("cp37-abi3-win_amd64",))],
                       error="DLL load failed while importing cv2: %1 is not a valid Win32 "
                             "application.", system="Windows", windows=windows_state(),
                       bits=32)
    plan = plan_for(facts)
    assert plan.steps == []
    assert any("32-bit vs 64-bit" in n for n in plan.notes)


# -- the scripts carry the plan's commands ----------------------------------------------

def script_steps(path: Path) -> dict[str, list[str]]:
    """KEY -> argv template, from the line after each `# envdoctor-step: KEY`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    steps: dict[str, list[str]] = {}
    for i, line in enumerate(lines):
        m = re.match(r"\s*# envdoctor-step: (\S+)\s*$", line)
        if not m:
            continue
        tokens = shlex.split(lines[i + 1].strip(), posix=True)
        assert tokens[0] in ("step", "Step"), lines[i + 1]
        tokens = tokens[2:]   # drop "step user|root|admin"
        steps[m.group(1)] = [re.sub(r"\$\{?(\w+)\}?", r"{\1}", t) for t in tokens]
    return steps


@pytest.mark.parametrize("script, keys", [("linux.sh", LINUX_KEYS),
                                          ("windows.ps1", WINDOWS_KEYS)])
def test_scripts_carry_the_same_commands_as_the_step_table(script, keys):
    steps = script_steps(SCRIPTS / script)
    assert set(steps) == keys
    for key, template in steps.items():
        assert template == cv2_dll.COMMANDS[key], key


def test_every_step_table_entry_is_in_a_script():
    both = set(script_steps(SCRIPTS / "linux.sh")) | set(script_steps(SCRIPTS / "windows.ps1"))
    assert set(cv2_dll.COMMANDS) == both


def test_emit_script_prints_the_file():
    from conftest import run_envdoctor

    for os_name, name in (("linux", "linux.sh"), ("windows", "windows.ps1")):
        proc = run_envdoctor("fix", "cv2-dll", "--emit-script", "--os", os_name)
        assert proc.returncode == 0
        assert proc.stdout == (SCRIPTS / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_linux_script_parses(shell):
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} not installed")
    proc = subprocess.run([shell, "-n", str(SCRIPTS / "linux.sh")], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr


def test_linux_script_passes_shellcheck():
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck not installed (apt-get install shellcheck)")
    proc = subprocess.run(["shellcheck", "-s", "sh", str(SCRIPTS / "linux.sh")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


# -- linux.sh and the Python plan do the same thing on the same machine -----------------

# scenario -> NumPy version, [(variant, version, cv2 behaviour, numpy requirement)]
SCENARIOS = {
    "two-variants": ("1.26.4", [("opencv-python-headless", "4.9.0.80", "ok", "numpy>=1.21.2"),
                                ("opencv-python", "4.9.0.80", "ok", "numpy>=1.21.2")]),
    # the same on a desktop (DISPLAY set, no container): keep the GUI variant
    "two-variants-with-display": ("1.26.4", [
        ("opencv-python-headless", "4.9.0.80", "ok", "numpy>=1.21.2"),
        ("opencv-python", "4.9.0.80", "ok", "numpy>=1.21.2")]),
    "libgl-gui": ("1.26.4", [("opencv-python", "4.9.0.80", "libgl", "numpy>=1.21.2")]),
    "glib-headless": ("1.26.4", [("opencv-python-headless", "4.9.0.80", "libgthread",
                                  "numpy>=1.21.2")]),
    # OpenCV compiled for NumPy 1 under NumPy 2: upgrade OpenCV, keep NumPy.
    "numpy1-build-numpy2": ("2.0.2", [("opencv-python-headless", "4.9.0.80", "numpy1",
                                       "numpy>=1.21.2")]),
    "numpy1-build-two-variants": ("2.0.2", [
        ("opencv-python-headless", "4.9.0.80", "numpy1", "numpy>=1.21.2"),
        ("opencv-python", "4.9.0.80", "numpy1", "numpy>=1.21.2")]),
    # import works, but NumPy is outside the declared range (pip.W303): install a NumPy
    # in range; the Requires-Dist order differs from packaging's canonical one.
    "numpy-out-of-range": ("2.3.1", [("opencv-python-headless", "4.12.0.88", "ok",
                                      "numpy>=2,<2.3.0")]),
    # opencv-python and -headless installed, then -headless uninstalled: cv2 is empty.
    "empty-after-uninstall": ("1.26.4", [("opencv-python", "4.10.0.84", "empty",
                                          "numpy>=1.21.2")]),
    # a build for NumPy 1 that imports fine under NumPy 2: nothing to do in either.
    "old-build-imports": ("2.0.2", [("opencv-python-headless", "4.9.0.80", "ok",
                                     "numpy>=1.21.2")]),
}


@pytest.mark.skipif(sys.platform != "linux" or shutil.which("sh") is None,
                    reason="runs linux.sh")
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_linux_script_runs_what_the_plan_says(scenario, tmp_path, monkeypatch):
    site, bindir, sysroot = tmp_path / "site", tmp_path / "bin", tmp_path / "root"
    (sysroot / "etc").mkdir(parents=True)
    (sysroot / "etc" / "os-release").write_text('ID=ubuntu\nID_LIKE=debian\n'
                                                'VERSION_ID="24.04"\n', encoding="utf-8")
    numpy, variants = SCENARIOS[scenario]
    fakes.add_numpy(site, numpy)
    for name, version, behaviour, requirement in variants:
        fakes.add_variant(site, name, version, behaviour, requires=(requirement,))
    fakes.add_fake_pip(site)
    log, sys_log = tmp_path / "pip.log", tmp_path / "sys.log"
    fakes.fake_exe(bindir, "apt-get", sys_log)
    fakes.fake_exe(bindir, "id", tmp_path / "id.log", stdout="0\n")
    display = ":0" if scenario.endswith("-with-display") else ""
    env = {**fakes.env_for(site, log), "DISPLAY": display, "WAYLAND_DISPLAY": "",
           "ENVDOCTOR_SYSROOT": str(sysroot), "FAKE_PIP_CV2": variants[-1][2]}
    for name in ("KUBERNETES_SERVICE_HOST", "container", "SINGULARITY_CONTAINER",
                 "APPTAINER_CONTAINER"):
        monkeypatch.delenv(name, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.syspath_prepend(str(site))
    distributions.refresh()
    try:
        report = doctor.diagnose(doctor.Options(only=["pip.opencv"], redact=False))
    finally:
        distributions.refresh()
    plan = cv2_dll.plan(report, PlanEnv(python=sys.executable, admin=True, system="Linux"))
    expected = [s.argv[3:] if s.argv[:3] == [sys.executable, "-m", "pip"] else s.argv
                for s in plan.steps]
    assert bool(expected) == (scenario != "old-build-imports")
    if display:
        assert expected[-1][-1] == "opencv-python==4.9.0.80"

    proc = subprocess.run(["sh", str(SCRIPTS / "linux.sh"), sys.executable],
                          env={**os.environ, "ENVDOCTOR_YES": "1",
                               "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"},
                          capture_output=True, text=True, timeout=120)
    ran = fakes.read_log(log) + fakes.read_log(sys_log)
    # pip steps first, then the system steps: the order both use. Each picks its own
    # fresh download folder.
    assert _folders_blank(ran) == _folders_blank(expected), proc.stdout + proc.stderr
    if not expected:
        assert proc.returncode == 0 and "nothing to repair" in proc.stdout, proc.stdout


def _folders_blank(argvs: list) -> list:
    return [[("<dir>" if i and argv[i - 1] in ("--dest", "--find-links") else a)
             for i, a in enumerate(argv)] for argv in argvs]


# -- the real thing: two OpenCV wheels from the package index in a fresh venv -----------

@pytest.mark.skipif(sys.platform != "linux", reason="uses the Linux wheels and venv layout")
def test_end_to_end_two_real_variants_become_one(tmp_path):
    """Slow-ish (~1 min, two ~60 MB wheels): kept in the default run on purpose."""
    home = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(home)
    py = home / "bin" / "python"

    def pip(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([str(py), "-m", "pip", "install", "-q", *args],
                              capture_output=True, text=True, timeout=timeout)

    got = pip("opencv-python", "opencv-python-headless")
    if got.returncode != 0:
        text = got.stdout + got.stderr
        if re.search(r"(?i)could not find a version|connection|network|resolve|"
                     r"no matching distribution|temporary failure", text):
            pytest.skip(f"package index unreachable: {text.strip().splitlines()[-1]}")
        pytest.fail(text)
    deps = pip("typer", "packaging")
    assert deps.returncode == 0, deps.stderr
    own = pip("--no-deps", str(REPO))
    assert own.returncode == 0, own.stderr

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DISPLAY",
                                                           "WAYLAND_DISPLAY")}
    run = subprocess.run([str(home / "bin" / "envdoctor"), "fix", "cv2-dll", "--yes"],
                         capture_output=True, text=True, env=env, timeout=900,
                         stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "repaired and verified" in run.stdout
    site = next((home / "lib").glob("python3*/site-packages"))
    left = [p.name for p in site.glob("opencv*.dist-info")]
    assert len(left) == 1, left
    assert left[0].startswith("opencv_python_headless-")   # no display here
    check = subprocess.run([str(py), "-c", "import cv2; print(cv2.__version__)"],
                           capture_output=True, text=True, env=env, timeout=120)
    assert check.returncode == 0, check.stderr


# -- every finding the fix repairs names it, and every such finding gets a plan ---------

def _all_scenarios():
    v49, v410 = variant("opencv-python"), variant("opencv-python", "4.10.0.84", 2,
                                                  tags=("cp37-abi3-win_amd64",))
    ubuntu = {"id": "ubuntu", "version_id": "22.04"}
    yield make_facts([v49, variant("opencv-python-headless")], display=True)
    yield make_facts([variant("opencv-contrib-python")], error=LIBGL, display=True,
                     distribution=ubuntu)
    yield make_facts([variant("opencv-python-headless")], error=GTHREAD, distribution=ubuntu)
    yield make_facts([variant("opencv-python-headless")], error=GTHREAD,
                     distribution={"id": "gentoo"})
    yield make_facts([variant("opencv-python-headless")], numpy="2.1.0",
                     error="numpy.core.multiarray failed to import")
    # a NumPy ABI error the versions do not explain (OpenCV built for NumPy 2)
    yield make_facts([variant("opencv-python-headless", "4.10.0.84", 2, spec=">=1.21.2")],
                     numpy="2.1.0", error="numpy.dtype size changed, may indicate binary "
                                          "incompatibility")
    yield make_facts([variant("opencv-python-headless", "4.13.0.90", built=2, spec=">=2")],
                     numpy="1.26.4")
    yield make_facts([v410], error=DLL, system="Windows", windows=windows_state(msvcp=False))
    yield make_facts([v410], error=DLL, system="Windows", windows=windows_state(mfplat=False),
                     n_edition=True)
    yield make_facts([v410], error=DLL, system="Windows", windows=windows_state())
    yield make_facts([v410], error="DLL load failed while importing cv2: %1 is not a valid "
                                   "Win32 application.", system="Windows",
                     windows=windows_state(), bits=32)


@pytest.mark.parametrize("facts", list(_all_scenarios()))
def test_findings_name_their_fix_and_the_plan_always_says_what_to_do(facts):
    from envdoctor import fixer

    result = run_check("pip.opencv", facts)
    fixed = [f for f in result.findings if f.fix]
    for finding in result.findings:
        if finding.fix:
            assert fixer.get_fix(finding.fix) is not None, finding.fix
            assert finding.hint.startswith(f"envdoctor fix {finding.fix}"), finding.hint
        else:
            assert "envdoctor fix" not in (finding.hint or ""), finding.hint
    if fixed:
        plan = plan_for(facts)
        assert plan.steps or plan.notes, [f.code for f in fixed]
        for step in plan.steps:
            # pip runs as this interpreter's module, never a bare `pip`
            assert step.argv is None or step.argv[0] != "pip"
            if step.argv and "pip" in step.argv:
                assert step.argv[:3] == [PY, "-m", "pip"]


def test_numpy_abi_error_the_versions_do_not_explain_gets_an_exact_command():
    facts = make_facts([variant("opencv-python-headless", "4.10.0.84", 2, spec=">=1.21.2")],
                       numpy="2.1.0", error="numpy.dtype size changed, may indicate binary "
                                            "incompatibility")
    plan = plan_for(facts)
    assert plan.steps == []
    assert any(f"{PY} -m pip install --upgrade opencv-python-headless numpy" in n
               for n in plan.notes)


@pytest.mark.parametrize("kwargs, installed, words", [
    ({"container": "docker", "display": True}, ["opencv-python", "opencv-python-headless"],
     ["docker container", "GUI functions are left out"]),
    ({"display": False}, ["opencv-python", "opencv-python-headless"], ["no display"]),
    ({"display": True}, ["opencv-python-headless", "opencv-contrib-python-headless"],
     ["only headless variants", "contrib includes"]),
    ({"display": True}, ["opencv-python", "opencv-python-headless"], ["GUI support"]),
])
def test_the_plan_says_why_it_keeps_that_variant(kwargs, installed, words):
    plan = plan_for(make_facts([variant(n) for n in installed], **kwargs))
    why = plan.steps[-1].why
    for word in words:
        assert word in why, why
