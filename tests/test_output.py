"""`--output FILE`: atomic writes ({host} expanded), even when the writer is killed."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import REPO, run_envdoctor, validate_report

from envdoctor import fleet
from envdoctor.output import expand_name, write_atomic

# A child process that streams a huge report through write_atomic and is killed mid-way.
WRITER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {repo!r})
    from envdoctor.output import write_atomic

    def chunks():
        yield '{{"schema_version": 1, "facts": {{"padding": "'
        for i in range(10 ** 6):
            if i == 16:
                # 16 MiB written and flushed: tell the parent, then keep going slowly
                sys.stdout.write("WRITING\\n")
                sys.stdout.flush()
                time.sleep(60)
            yield "x" * (1 << 20)
        yield '"}}}}'

    write_atomic(sys.argv[1], chunks())
    print("DONE")
""")


def _kill_writer_midway(target: Path) -> list[str]:
    """Start the writer, wait until it is deep inside the write, SIGKILL it; return the
    names of the temporary files it left (they must not be the target)."""
    child = subprocess.Popen([sys.executable, "-c", WRITER.format(repo=str(REPO)),
                              str(target)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "WRITING"
        temps = [n for n in os.listdir(target.parent) if n.startswith(".")]
        assert temps, "the writer should be writing a temporary file"
        assert os.path.getsize(target.parent / temps[0]) > 0
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return temps


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_killed_writer_leaves_no_file_at_the_target(tmp_path):
    target = tmp_path / "node07.json"
    temps = _kill_writer_midway(target)
    assert not target.exists()
    assert all(name.startswith(".node07.json.") and name.endswith(".tmp") for name in temps)
    # summarize ignores the hidden leftover: no half report is read as a report
    result = fleet.summarize([str(tmp_path)])
    assert result["reports"] == 0 and result["unreadable"] == []


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_killed_writer_keeps_the_previous_report_whole(tmp_path):
    target = tmp_path / "node07.json"
    target.write_text('{"previous": "complete report"}', encoding="utf-8")
    _kill_writer_midway(target)
    assert json.loads(target.read_text(encoding="utf-8")) == {"previous": "complete report"}


def test_failure_mid_write_removes_the_temporary_file(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("old", encoding="utf-8")

    def chunks():
        yield "new start"
        raise RuntimeError("disk vanished")

    with pytest.raises(RuntimeError):
        write_atomic(str(target), chunks())
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["r.json"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_written_file_gets_normal_permissions_not_mkstemps_0600(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(str(tmp_path / "a.prom"), "x 1\n")
    finally:
        os.umask(old)
    # node_exporter runs as another user: it must be able to read the file
    assert stat.S_IMODE(os.stat(tmp_path / "a.prom").st_mode) == 0o644
    (tmp_path / "b.json").write_text("old")
    os.chmod(tmp_path / "b.json", 0o640)
    write_atomic(str(tmp_path / "b.json"), "new")
    assert stat.S_IMODE(os.stat(tmp_path / "b.json").st_mode) == 0o640


def test_host_expansion_and_missing_folders(tmp_path):
    assert expand_name("r/{host}.json", "gpu-07.cluster") == "r/gpu-07.cluster.json"
    assert expand_name("{host}.json", "../../etc/passwd") == "_.._etc_passwd.json"
    assert expand_name("plain.json", "x") == "plain.json"
    # A missing folder is an error, never created (a typo as root must not make one).
    with pytest.raises(OSError, match="does not exist"):
        write_atomic(str(tmp_path / "a" / "b" / "c.json"), "{}")
    assert not (tmp_path / "a").exists()


def test_cli_output_writes_the_printed_report_redacted_by_default(tmp_path):
    out = tmp_path / "reports" / "{host}.json"
    (tmp_path / "reports").mkdir()
    run = run_envdoctor("check", "--json", "--no-frameworks", "--output", str(out))
    assert run.returncode in (0, 1, 3), run.stderr
    files = os.listdir(tmp_path / "reports")
    assert files == [expand_name("{host}.json")]
    doc = json.loads((tmp_path / "reports" / files[0]).read_text(encoding="utf-8"))
    validate_report(doc)
    assert doc == json.loads(run.stdout)
    assert "host" not in doc["source"]


def test_cli_keep_hostname_puts_the_host_in_the_report(tmp_path):
    out = tmp_path / "r.json"
    run = run_envdoctor("check", "--json", "--no-frameworks", "--keep-hostname",
                        "--output", str(out))
    assert run.returncode in (0, 1, 3), run.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    validate_report(doc)
    assert doc["source"]["host"] == socket.gethostname()


def test_cli_text_format_still_writes_json_to_the_file(tmp_path):
    out = tmp_path / "r.json"
    run = run_envdoctor("check", "--no-frameworks", "--output", str(out))
    assert run.returncode in (0, 1, 3), run.stderr
    validate_report(json.loads(out.read_text(encoding="utf-8")))
    assert not run.stdout.lstrip().startswith("{")


def test_cli_unwritable_output_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    run = run_envdoctor("check", "--json", "--no-frameworks", "--output",
                        str(blocker / "sub" / "r.json"))
    assert run.returncode == 2
    assert "cannot write" in run.stderr and "Traceback" not in run.stderr


def test_many_writers_racing_on_one_target_leave_one_whole_report(tmp_path):
    target = tmp_path / "shared.json"
    script = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(REPO)!r})
        from envdoctor.output import write_atomic
        for i in range(30):
            write_atomic({str(target)!r}, json.dumps({{"writer": sys.argv[1],
                                                       "pad": "y" * 200000}}))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(n)]) for n in range(4)]
    deadline = time.monotonic() + 60
    seen = 0
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        if target.exists():
            doc = json.loads(target.read_text(encoding="utf-8"))  # never a torn file
            assert len(doc["pad"]) == 200000
            seen += 1
    assert all(p.wait(timeout=60) == 0 for p in procs)
    assert json.loads(target.read_text(encoding="utf-8"))["writer"] in {"0", "1", "2", "3"}
    assert [n for n in os.listdir(tmp_path) if n.startswith(".")] == []
