"""Attack class: paths and special files given to -o/--output (check, diff, summarize).

envdoctor runs as root on cluster nodes: `-o /dev/null` must not replace the device node
with a regular file, a FIFO must be written through (or refused when nobody reads it,
never hang), a symlink must not be followed into a rename, and a missing folder is an
error, never created. Each test drives the real CLI in a child process.
"""

from __future__ import annotations

import json
import os
import stat
import threading

import fleet_reports
import pytest
from conftest import run_envdoctor
from hostile import write

pytestmark = pytest.mark.skipif(os.name != "posix", reason="device nodes and FIFOs: POSIX")


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("paths")
    a = write(tmp, "a.json", fleet_reports.report(fleet_reports.facts()))
    b = write(tmp, "b.json", fleet_reports.report(fleet_reports.facts(avx=False)))
    return a, b


def _commands(reports, out: str) -> list[list[str]]:
    a, b = reports
    return [["check", "--from", str(a), "--json", "-o", out],
            ["diff", str(a), str(b), "-o", out],
            ["summarize", str(a), str(b), "-o", out]]


def test_dev_null_is_written_through_not_replaced(reports):
    before = os.stat("/dev/null")
    for args in _commands(reports, "/dev/null"):
        run = run_envdoctor(*args)
        assert run.returncode in (0, 1), (args, run.stderr)
        after = os.stat("/dev/null")
        assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino, args


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_dev_full_is_a_clean_error(reports):
    for args in _commands(reports, "/dev/full"):
        run = run_envdoctor(*args)
        assert run.returncode == 2, (args, run.stderr)
        assert "Traceback" not in run.stderr and "cannot write" in run.stderr
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_fifo_with_a_reader_gets_the_report_and_stays_a_fifo(reports, tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as fh:
            got.append(fh.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    run = run_envdoctor(*_commands(reports, str(fifo))[0], timeout=60)
    reader.join(10)
    assert run.returncode in (0, 1), run.stderr
    assert json.loads(got[0].decode("utf-8"))["schema_version"] == 1
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_fifo_without_a_reader_is_an_error_not_a_hang(reports, tmp_path):
    fifo = tmp_path / "nobody.json"
    os.mkfifo(fifo)
    for args in _commands(reports, str(fifo)):
        run = run_envdoctor(*args, timeout=60)
        assert run.returncode == 2, (args, run.stderr)
        assert "no reader" in run.stderr
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_symlink_to_a_file_replaces_the_target_and_keeps_the_link(reports, tmp_path):
    target = tmp_path / "real" / "report.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    run = run_envdoctor(*_commands(reports, str(link))[0])
    assert run.returncode in (0, 1), run.stderr
    assert os.path.islink(link) and os.readlink(link) == str(target)
    assert json.loads(target.read_text())["schema_version"] == 1
    assert sorted(os.listdir(tmp_path)) == ["link.json", "real"]


def test_symlink_to_a_device_is_written_through(reports, tmp_path):
    link = tmp_path / "out.json"
    link.symlink_to("/dev/null")
    run = run_envdoctor(*_commands(reports, str(link))[1])
    assert run.returncode in (0, 1), run.stderr
    assert os.path.islink(link) and stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("kind", ["missing-folder", "folder", "dangling", "empty"])
def test_unusable_outputs_are_refused_before_any_work(reports, tmp_path, kind):
    if kind == "missing-folder":
        out = str(tmp_path / "nonexistent" / "dir" / "x.json")
    elif kind == "folder":
        out = str(tmp_path)
    elif kind == "dangling":
        out = str(tmp_path / "dangling.json")
        os.symlink(tmp_path / "gone", out)
    else:
        out = ""
    for args in _commands(reports, out):
        run = run_envdoctor(*args)
        assert run.returncode == 2, (kind, args, run.stdout, run.stderr)
        assert "Traceback" not in run.stderr and "cannot write" in run.stderr
        assert run.stdout == "", "refused before printing anything"
    assert not (tmp_path / "nonexistent").exists()
    if kind == "dangling":
        assert not (tmp_path / "gone").exists()


def _run_with_stdout(args: list[str], stdout=None, close_stdout: bool = False):
    import subprocess
    import sys

    from conftest import REPO

    return subprocess.run([sys.executable, "-m", "envdoctor", *args], stdout=stdout,
                          stderr=subprocess.PIPE, text=True, cwd=str(REPO), timeout=120,
                          preexec_fn=(lambda: os.close(1)) if close_stdout else None)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_stdout_that_cannot_be_written_is_exit_2_without_traceback(reports):
    for args in _commands(reports, "/dev/null"):
        args = args[:-2]  # no -o: the output goes to stdout
        with open("/dev/full", "w") as full:
            run = _run_with_stdout(args, full)
        assert run.returncode == 2, (args, run.stderr)
        assert "Traceback" not in run.stderr and "standard output" in run.stderr
        run = _run_with_stdout(args, close_stdout=True)  # envdoctor ... >&-
        assert run.returncode == 2, (args, run.stderr)
        assert "Traceback" not in run.stderr and "standard output is closed" in run.stderr


@pytest.mark.parametrize("value", ["inf", "1e308", "nan", "-inf", "0"])
def test_timeouts_that_are_not_a_number_of_seconds_are_usage_errors(value):
    for args in (["check", "--only", "cpu"], ["diff", "-", "x.json"]):
        run = run_envdoctor(*args, "--timeout", value)
        assert run.returncode == 2, (args, value, run.stderr)
        assert "Traceback" not in run.stderr and "--timeout" in run.stderr
