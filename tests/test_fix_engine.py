"""The fix engine and `envdoctor fix`: list, dry run, refusal without a terminal, declining,
a failing step, a fix that does not apply, root steps never run without root, re-check.

OpenCV installs are fakes in a temporary site dir; `python -m pip` there is a fake pip
that records its argv and edits the fake dist-infos, so the re-check sees the change.
"""

from __future__ import annotations

import io
import os
import platform
import sys
from pathlib import Path

import opencv_fakes as fakes
import pytest
from conftest import run_envdoctor

from envdoctor import distributions, fixer

NO_DISPLAY = {"DISPLAY": "", "WAYLAND_DISPLAY": ""}


def two_variants(site: Path, behaviour: str = "libgl") -> None:
    fakes.add_numpy(site, "1.26.4")
    fakes.add_variant(site, "opencv-python-headless", "4.9.0.80", "ok")
    fakes.add_variant(site, "opencv-python", "4.9.0.80", behaviour)
    fakes.add_fake_pip(site)


def fix_cli(site: Path, *args: str, **extra: str):
    log = site.parent / "pip.log"
    env = {**fakes.env_for(site, log), **NO_DISPLAY, **extra}
    return run_envdoctor("fix", *args, env=env), fakes.read_log(log)


def variants_left(site: Path) -> list[str]:
    return sorted(p.name for p in site.glob("opencv*.dist-info"))


@pytest.fixture
def inproc(tmp_path, monkeypatch):
    """The fake site on this process's sys.path and in the children's PYTHONPATH."""
    site = tmp_path / "site"
    site.mkdir()
    log = tmp_path / "pip.log"
    monkeypatch.syspath_prepend(str(site))
    for key, value in {**fakes.env_for(site, log), **NO_DISPLAY}.items():
        monkeypatch.setenv(key, value)
    distributions.refresh()
    yield site, log
    distributions.refresh()


def test_list_names_the_fix_its_systems_and_checks():
    proc = run_envdoctor("fix", "--list")
    assert proc.returncode == 0, proc.stderr
    assert "cv2-dll" in proc.stdout
    assert "Linux, Windows" in proc.stdout and "pip.opencv" in proc.stdout


def test_unknown_fix_is_a_usage_error():
    proc = run_envdoctor("fix", "no-such-fix")
    assert proc.returncode == 2
    assert "no fix named 'no-such-fix'" in proc.stderr


def test_third_party_fix_from_entry_point(tmp_path):
    (tmp_path / "demo_fix.py").write_text(
        "from envdoctor.fixer import Fix, Plan\n"
        "FIX = Fix('demo-fix', 'demo repair', 'nothing real', ('Linux',), ('pip.opencv',),\n"
        "          lambda report, env: Plan())\n", encoding="utf-8")
    fakes.add_dist(tmp_path, "envdoctor-demo", "1.0",
                   entry_points="[envdoctor.fixes]\ndemo = demo_fix:FIX\n")
    (tmp_path / "broken_fix.py").write_text("raise RuntimeError('boom')\n", encoding="utf-8")
    fakes.add_dist(tmp_path, "envdoctor-broken", "1.0",
                   entry_points="[envdoctor.fixes]\nbroken = broken_fix:FIX\n")
    proc = run_envdoctor("fix", "--list", env=fakes.env_for(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "demo-fix" in proc.stdout and "(plugin: envdoctor_demo)" in proc.stdout
    assert "broken" in proc.stderr and "boom" in proc.stderr


def test_dry_run_shows_exact_commands_and_changes_nothing(tmp_path):
    site = tmp_path / "site"
    two_variants(site)
    proc, calls = fix_cli(site, "cv2-dll", "--dry-run")
    # 6, not 0: a dry run that found something to repair (0 is "nothing to repair")
    assert proc.returncode == 6, proc.stdout + proc.stderr
    assert f"{sys.executable} -m pip uninstall -y opencv-python-headless opencv-python" \
        in proc.stdout or f"{sys.executable} -m pip uninstall -y opencv-python " \
        "opencv-python-headless" in proc.stdout
    assert "-m pip download --no-deps --only-binary=:all: --dest " in proc.stdout
    assert "--no-deps opencv-python-headless==4.9.0.80" in proc.stdout
    assert "[destructive]" in proc.stdout
    assert "envdoctor restores it" in proc.stdout
    assert "Dry run: nothing was changed" in proc.stdout
    assert calls == []
    assert len(variants_left(site)) == 2


def test_no_terminal_and_no_yes_refuses(tmp_path):
    site = tmp_path / "site"
    two_variants(site)
    proc, calls = fix_cli(site, "cv2-dll")
    assert proc.returncode == 5
    assert "--yes" in proc.stdout
    assert calls == []


def test_yes_repairs_and_verifies(tmp_path):
    site = tmp_path / "site"
    two_variants(site)
    proc, calls = fix_cli(site, "cv2-dll", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert calls[0][0] == "download" and calls[0][-1] == "opencv-python-headless==4.9.0.80"
    assert calls[1][:2] == ["uninstall", "-y"]
    assert sorted(calls[1][2:]) == ["opencv-python", "opencv-python-headless"]
    assert calls[2][:2] == ["install", "--no-index"]
    assert calls[2][-1] == "opencv-python-headless==4.9.0.80"
    assert len(calls) == 3
    assert not list(Path("/tmp").glob(calls[0][4].rsplit("/", 1)[-1]))  # folder removed
    assert variants_left(site) == ["opencv_python_headless-4.9.0.80.dist-info"]
    assert "repaired and verified" in proc.stdout


def test_failing_step_stops_with_its_output(tmp_path):
    site = tmp_path / "site"
    two_variants(site)
    proc, calls = fix_cli(site, "cv2-dll", "--yes", FAKE_PIP_FAIL="uninstall")
    assert proc.returncode == 1
    assert "No space left on device" in proc.stdout
    assert "Step 2 failed" in proc.stdout
    # step 3 never ran; the uninstall began, so the downloaded wheel goes back in
    assert [c[0] for c in calls] == ["download", "uninstall", "install"]
    assert calls[2][:2] == ["install", "--no-index"] and "Restored" in proc.stdout


def test_nothing_to_repair_changes_nothing(tmp_path):
    site = tmp_path / "site"
    fakes.add_variant(site, "opencv-python-headless", "4.9.0.80", "ok")
    fakes.add_numpy(site, "1.26.4")
    fakes.add_fake_pip(site)
    proc, calls = fix_cli(site, "cv2-dll", "--yes")
    assert proc.returncode == 0, proc.stdout
    assert "nothing to repair" in proc.stdout
    assert calls == []


@pytest.mark.parametrize("answer", ["n\n", "\n", ""])
def test_declining_at_the_prompt_changes_nothing(inproc, answer):
    site, log = inproc
    two_variants(site)
    distributions.refresh()
    out = io.StringIO()
    code = fixer.run_fix("cv2-dll", interactive=True, stdin=io.StringIO(answer), out=out)
    assert code == 5
    assert "[y/N]" in out.getvalue()
    assert fakes.read_log(log) == []
    assert len(variants_left(site)) == 2


def test_yes_at_the_prompt_runs_the_plan(inproc):
    site, log = inproc
    two_variants(site)
    distributions.refresh()
    out = io.StringIO()
    code = fixer.run_fix("cv2-dll", interactive=True, stdin=io.StringIO("y\n"), out=out)
    assert code == 0, out.getvalue()
    assert len(fakes.read_log(log)) == 3


def test_fix_does_not_apply_on_macos(inproc, monkeypatch):
    site, log = inproc
    two_variants(site)
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    distributions.refresh()
    out = io.StringIO()
    code = fixer.run_fix("cv2-dll", yes=True, out=out)
    assert code == 4
    assert "not on Darwin" in out.getvalue()
    assert fakes.read_log(log) == []


def _debian_headless_glib(tmp_path: Path, site: Path, monkeypatch, version: str) -> Path:
    sysroot = tmp_path / "root"
    (sysroot / "etc").mkdir(parents=True)
    (sysroot / "etc" / "os-release").write_text(
        f'ID=debian\nVERSION_ID="{version}"\nPRETTY_NAME="Debian"\n', encoding="utf-8")
    monkeypatch.setenv("ENVDOCTOR_SYSROOT", str(sysroot))
    for name in ("KUBERNETES_SERVICE_HOST", "container"):
        monkeypatch.delenv(name, raising=False)
    fakes.add_numpy(site, "1.26.4")
    fakes.add_variant(site, "opencv-python-headless", "4.9.0.80", "libgthread")
    fakes.add_fake_pip(site)
    bindir = tmp_path / "bin"
    apt_log = tmp_path / "apt.log"
    fakes.fake_exe(bindir, "apt-get", apt_log)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    distributions.refresh()
    return apt_log


@pytest.mark.skipif(sys.platform != "linux", reason="Linux system packages")
def test_root_steps_are_not_run_without_root(inproc, tmp_path, monkeypatch):
    site, log = inproc
    apt_log = _debian_headless_glib(tmp_path, site, monkeypatch, "12")
    out = io.StringIO()
    code = fixer.run_fix("cv2-dll", yes=True, out=out, admin=False)
    text = out.getvalue()
    assert code == 1
    assert "apt-get install -y libglib2.0-0" in text
    assert "needs root/administrator: run it yourself" in text
    assert fakes.read_log(apt_log) == []
    assert fakes.read_log(log) == []


@pytest.mark.skipif(sys.platform != "linux", reason="Linux system packages")
def test_root_steps_run_as_root_and_the_recheck_reports_what_remains(inproc, tmp_path,
                                                                     monkeypatch):
    site, log = inproc
    apt_log = _debian_headless_glib(tmp_path, site, monkeypatch, "13")
    out = io.StringIO()
    code = fixer.run_fix("cv2-dll", yes=True, out=out, admin=True)
    assert fakes.read_log(apt_log) == [["apt-get", "update"],
                                       ["apt-get", "install", "-y", "libglib2.0-0t64"]]
    # The fake cv2 still cannot find libgthread: the re-check must say so.
    assert code == 1
    assert "The problem remains" in out.getvalue()


class _InterruptedStdin(io.StringIO):
    def readline(self, *args):  # what Ctrl-C at the prompt does
        raise KeyboardInterrupt


def test_ctrl_c_at_the_prompt_is_declining_not_a_traceback(inproc):
    site, log = inproc
    two_variants(site)
    distributions.refresh()
    out = io.StringIO()
    code = fixer.run_fix("cv2-dll", interactive=True, stdin=_InterruptedStdin(), out=out)
    assert code == 5
    assert "Declined: nothing was changed." in out.getvalue()
    assert fakes.read_log(log) == []


def test_os_without_emit_script_is_a_usage_error():
    proc = run_envdoctor("fix", "cv2-dll", "--os", "windows")
    assert proc.returncode == 2
    assert "--os works only with --emit-script" in proc.stderr


@pytest.mark.skipif(platform.system() not in ("Linux", "Windows"), reason="script per OS")
def test_emit_script_for_this_os_says_how_to_run_it_with_this_python():
    proc = run_envdoctor("fix", "cv2-dll", "--emit-script")
    assert proc.returncode == 0
    assert proc.stdout.startswith("#!/bin/sh") or proc.stdout.startswith("# cv2-dll")
    assert sys.executable in proc.stderr and "--emit-script >" in proc.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_problem_the_fix_does_not_repair_is_named_with_its_next_step(tmp_path):
    site = tmp_path / "site"
    fakes.add_numpy(site, "1.26.4")
    fakes.add_variant(site, "opencv-python-headless", "4.9.0.80", "segv")
    fakes.add_fake_pip(site)
    proc, calls = fix_cli(site, "cv2-dll", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "nothing this fix can repair" in proc.stdout
    assert "pip.E308 is not something cv2-dll repairs; next step: run `" in proc.stdout
    assert "faulthandler" in proc.stdout
    assert calls == []


def test_a_check_that_could_not_run_is_not_nothing_to_repair(monkeypatch):
    report = {"facts": {"platform": {"system": "Linux"}}, "checks": [
        {"id": "pip.opencv", "status": "error", "summary": "could not run",
         "error": "could not run: probe 'opencv' timed out", "findings": []}]}
    monkeypatch.setattr(fixer, "_diagnose", lambda fix: report)
    out = io.StringIO()
    code = fixer.run_fix("cv2-dll", yes=True, out=out)
    assert code == 1
    assert "could not diagnose" in out.getvalue() and "timed out" in out.getvalue()


def test_nothing_to_repair_lists_each_check_with_its_status_said_once(inproc):
    """`envdoctor fix cv2-dll --dry-run` without OpenCV: 'pip.opencv: skipped: ...', not
    'pip.opencv: skip: skipped: ...'."""
    out = io.StringIO()
    assert fixer.run_fix("cv2-dll", dry_run=True, out=out) == 0
    text = out.getvalue()
    line = next(x.strip() for x in text.splitlines() if x.strip().startswith("pip.opencv:"))
    if "skip" in line:  # OpenCV is not installed here (the usual case)
        assert line.startswith("pip.opencv: skipped: "), line
    assert "skip: skipped" not in text


def test_emit_script_for_an_unknown_os_is_a_usage_error():
    proc = run_envdoctor("fix", "cv2-dll", "--emit-script", "--os", "bogus")
    assert proc.returncode == 2 and "unknown --os 'bogus'" in proc.stderr
    assert proc.stdout == ""
    proc = run_envdoctor("fix", "cv2-dll", "--emit-script", "--os", "macos")
    assert proc.returncode == 4  # a known OS this fix has no script for


# -- dependents: a package that requires a variant keeps it (issue 12, item 11) ---------

def test_a_package_that_requires_a_variant_keeps_that_variant(tmp_path):
    site = tmp_path / "site"
    two_variants(site)  # libGL missing for opencv-python: headless would be chosen
    fakes.add_dist(site, "vision-app", "2.0", requires=("opencv-python>=4",))
    proc, calls = fix_cli(site, "cv2-dll", "--dry-run")
    assert proc.returncode == 6, proc.stdout
    assert "keeping opencv-python: vision-app 2.0 (requires opencv-python>=4)" \
        in proc.stdout
    assert "--no-deps opencv-python==4.9.0.80" in proc.stdout
    assert "opencv-python-headless==4.9.0.80" not in proc.stdout.split("Plan:")[1]


def test_packages_that_need_different_variants_get_an_explanation_not_a_guess(tmp_path):
    site = tmp_path / "site"
    two_variants(site)
    fakes.add_dist(site, "vision-app", "2.0", requires=("opencv-python>=4",))
    fakes.add_dist(site, "server-app", "1.0", requires=("opencv-python-headless",))
    proc, calls = fix_cli(site, "cv2-dll", "--yes")
    assert proc.returncode == 1, proc.stdout
    assert "cannot keep a single OpenCV variant" in proc.stdout
    assert "vision-app" in proc.stdout and "server-app" in proc.stdout
    assert calls == [] and len(variants_left(site)) == 2


def test_a_repair_that_breaks_a_dependent_is_not_called_verified(tmp_path):
    """The re-check covers pip.requirements: a requirement the repair left unmet fails."""
    site = tmp_path / "site"
    two_variants(site)
    # only a versioned requirement no installed variant meets after the switch
    fakes.add_dist(site, "pinned-app", "1.0", requires=("opencv-python-headless<4",))
    proc, calls = fix_cli(site, "cv2-dll", "--yes")
    # it was already unmet before (4.9 installed): not a new problem, not blamed on the fix
    assert "The repair left new problems" not in proc.stdout, proc.stdout
