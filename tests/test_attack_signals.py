"""Attack class: signals and failures in the middle of a run.

envdoctor runs under `timeout`, Slurm and Kubernetes (SIGTERM), in terminals that close
(SIGHUP), and people press Ctrl-C (SIGINT). A fix interrupted or failing after it began
removing OpenCV must never leave the environment without cv2; an unreachable package
index must stop the fix before anything is removed; a check's children (a hanging
framework import) must not outlive envdoctor. Each test drives the real CLI in a child
process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import opencv_fakes as fakes
import pytest
from conftest import REPO, run_envdoctor
from fake_frameworks import fake_torch

POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
NO_DISPLAY = {"DISPLAY": "", "WAYLAND_DISPLAY": ""}


def two_variants(site: Path, fake_pip: bool = True) -> None:
    fakes.add_numpy(site, "1.26.4")
    fakes.add_variant(site, "opencv-python-headless", "4.9.0.80", "ok")
    fakes.add_variant(site, "opencv-python", "4.9.0.80", "libgl")
    if fake_pip:
        fakes.add_fake_pip(site)


def variants_left(site: Path) -> list[str]:
    return sorted(p.name for p in site.glob("opencv*.dist-info"))


def test_unreachable_index_stops_the_fix_before_anything_is_removed(tmp_path):
    """Real pip, pointed at an index nobody listens on."""
    site = tmp_path / "site"
    two_variants(site, fake_pip=False)
    env = {**fakes.env_for(site), **NO_DISPLAY, "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
           "PIP_RETRIES": "0", "PIP_TIMEOUT": "2", "PIP_CONFIG_FILE": os.devnull,
           "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    run = run_envdoctor("fix", "cv2-dll", "--yes", env=env, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Step 1 failed" in run.stdout and "Nothing had been removed yet" in run.stdout
    assert variants_left(site) == ["opencv_python-4.9.0.80.dist-info",
                                   "opencv_python_headless-4.9.0.80.dist-info"]
    assert (site / "cv2" / "__init__.py").exists()


def test_script_with_unreachable_index_removes_nothing(tmp_path):
    site = tmp_path / "site"
    two_variants(site)
    log = tmp_path / "pip.log"
    env = {**os.environ, **fakes.env_for(site, log), **NO_DISPLAY, "ENVDOCTOR_YES": "1",
           "FAKE_PIP_FAIL": "download"}
    run = subprocess.run(["sh", str(REPO / "fixes" / "cv2_dll" / "linux.sh"), sys.executable],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert [c[0] for c in fakes.read_log(log)] == ["download"]
    assert len(variants_left(site)) == 2


def _default_signals() -> None:
    """In the child before exec: the signals under test back to their default action.
    A run started under nohup, or as a background job of a non-interactive shell (CI),
    inherits SIGHUP/SIGINT ignored, and envdoctor rightly keeps an inherited 'ignore'."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def _start_fix(site: Path, log: Path, **extra: str) -> subprocess.Popen:
    env = {**os.environ, **fakes.env_for(site, log), **NO_DISPLAY, **extra}
    env.pop("NO_COLOR", None)
    return subprocess.Popen([sys.executable, "-m", "envdoctor", "fix", "cv2-dll", "--yes"],
                            env=env, cwd=str(REPO), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, preexec_fn=_default_signals)


def _wait_for(proc: subprocess.Popen, word: str, seen: list[str], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if word in line:
            return
    raise AssertionError(f"never saw {word!r}: {''.join(seen)}")


@POSIX
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_interrupt_after_the_uninstall_restores_cv2(tmp_path, sig):
    site, log = tmp_path / "site", tmp_path / "pip.log"
    two_variants(site)
    # The install after the uninstall hangs: the signal lands with no OpenCV installed.
    proc = _start_fix(site, log, FAKE_PIP_HANG="install")
    seen: list[str] = []
    _wait_for(proc, "working", seen)
    assert variants_left(site) == []
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    text = "".join(seen) + out
    assert proc.returncode != 0, text
    assert "Interrupted during step 3" in text and "Restored" in text, text
    assert variants_left(site) == ["opencv_python_headless-4.9.0.80.dist-info"]
    assert (site / "cv2" / "__init__.py").exists()
    # (the fake pip's own traceback, shown indented as step output, is not envdoctor's)
    assert not [x for x in text.splitlines() if "Traceback" in x and not x.startswith("    |")]


@POSIX
def test_interrupt_and_a_failing_restore_print_the_exact_commands(tmp_path):
    site, log = tmp_path / "site", tmp_path / "pip.log"
    two_variants(site)
    proc = _start_fix(site, log, FAKE_PIP_HANG="install", FAKE_PIP_FAIL="install")
    seen: list[str] = []
    _wait_for(proc, "working", seen)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    text = "".join(seen) + out
    assert "To restore by hand, run:" in text, text
    assert f"{sys.executable} -m pip install opencv-python==4.9.0.80 " \
           "opencv-python-headless==4.9.0.80" in text
    by_hand = [line.strip() for line in text.splitlines() if "--find-links" in line][-1]
    folder = by_hand.split("--find-links ", 1)[1].split(" ", 1)[0]
    assert os.path.isdir(folder), "the downloaded wheel is kept for the restore command"
    import shutil

    shutil.rmtree(folder)


@POSIX
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_check_killed_by_signal_leaves_no_framework_child(tmp_path, sig):
    fake_torch(tmp_path, behaviour="hang")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "ENVDOCTOR_FRAMEWORK_TIMEOUT": "60"}
    proc = subprocess.Popen([sys.executable, "-m", "envdoctor", "check", "--only",
                             "framework"], env=env, cwd=str(REPO), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=_default_signals)

    def children() -> list[int]:
        found = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == proc.pid:
                continue
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes()
            except OSError:
                continue
            if f"PYTHONPATH={tmp_path}".encode() in environ:
                found.append(int(pid))
        return found

    deadline = time.monotonic() + 60
    while not children() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert children(), "the framework child never started"
    time.sleep(0.5)
    proc.send_signal(sig)
    proc.communicate(timeout=30)
    for _ in range(50):
        if not children():
            break
        time.sleep(0.1)
    left = children()
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"children outlived envdoctor after {sig.name}"
