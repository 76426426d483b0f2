"""Attack class: sizes and special files where reports are read.

A shared report folder or a paste may hold a FIFO named *.json (which would hang a
reader), a symlink to /dev/zero (endless), a sparse 1 GB file, a 100 MB string field, or
a METADATA file with megabytes of headers. envdoctor reads regular files only, refuses
a report over its documented size limit before reading it (exit 2 for --from and diff;
listed as failed to report by summarize), streams JSON lines with a per-line bound, and
reads metadata headers in linear time. Each test drives the real CLI in a subprocess.
"""

from __future__ import annotations

import json
import os
import time

import fleet_reports
import pytest
from conftest import run_envdoctor
from hostile import write

POSIX = pytest.mark.skipif(os.name != "posix", reason="FIFOs, /dev/zero")


@pytest.fixture
def folder(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    write(reports, "good.json", fleet_reports.report(fleet_reports.facts(), host="good"))
    return reports


def _unreadable(run) -> dict:
    doc = json.loads(run.stdout)
    return {os.path.basename(u["file"]): u["error"] for u in doc["unreadable"]}


@POSIX
def test_summarize_skips_a_fifo_a_link_to_dev_zero_and_a_sparse_giant(folder):
    os.mkfifo(folder / "fifo.json")
    os.symlink("/dev/zero", folder / "zero.json")
    with open(folder / "sparse.json", "wb") as fh:
        fh.truncate(1 << 30)  # 1 GB, no blocks
    start = time.monotonic()
    run = run_envdoctor("summarize", str(folder), "--json", timeout=120)
    assert run.returncode == 3, run.stderr
    assert time.monotonic() - start < 60
    bad = _unreadable(run)
    assert "named pipe" in bad["fifo.json"]
    assert "device" in bad["zero.json"]
    assert "larger than 16,777,216 bytes" in bad["sparse.json"]
    assert json.loads(run.stdout)["hosts_count"] == 1


def test_summarize_limit_is_per_report_and_overridable(folder):
    big = fleet_reports.report(fleet_reports.facts(), host="big")
    big["facts"]["padding"] = "x" * 300_000
    write(folder, "big.json", big)
    lines = folder / "fleet.jsonl"
    with open(lines, "w", encoding="utf-8") as fh:
        for n in range(3):
            doc = fleet_reports.report(fleet_reports.facts(), host=f"n{n}")
            if n == 1:
                doc["facts"]["padding"] = "y" * 300_000
            fh.write(json.dumps(doc) + "\n")
    run = run_envdoctor("summarize", str(folder), "--json", "--max-report-size", "200000")
    bad = _unreadable(run)
    assert "larger than 200,000 bytes" in bad["big.json"]
    assert "larger than 200,000 bytes" in bad["fleet.jsonl"]  # line 2 only
    hosts = set(json.loads(run.stdout)["hosts"])
    assert {"good", "n0", "n2"} <= hosts and "n1" not in hosts and "big" not in hosts
    run = run_envdoctor("summarize", str(folder), "--json")  # default 16 MiB: all read
    assert _unreadable(run) == {}


def test_from_and_diff_refuse_a_report_over_the_limit_with_exit_2(tmp_path):
    doc = fleet_reports.report(fleet_reports.facts())
    doc["facts"]["padding"] = "z" * 200_000
    path = write(tmp_path, "big.json", doc)
    env = {"ENVDOCTOR_MAX_REPORT_BYTES": "100000"}
    for args in (["diff", str(path), str(path)],
                 ["wheel", "x-1.0-py3-none-any.whl", "--from", str(path)]):
        run = run_envdoctor(*args, env=env)
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        assert "larger than 100,000 bytes" in run.stderr and "Traceback" not in run.stderr


@POSIX
def test_from_and_diff_refuse_special_files(tmp_path):
    os.mkfifo(tmp_path / "fifo.json")
    for args in (["check", "--from", str(tmp_path / "fifo.json")],
                 ["diff", "/dev/zero", "/dev/zero"]):
        run = run_envdoctor(*args, timeout=60)
        assert run.returncode == 2, (args, run.stderr)
        assert "not a regular file" in run.stderr


def test_a_pasted_report_over_the_paste_limit_is_exit_2(tmp_path):
    doc = fleet_reports.report(fleet_reports.facts())
    doc["facts"]["python"]["executable"] = "p" * (5 * 1024 * 1024)  # a 5 MB string
    path = write(tmp_path, "huge.json", doc)
    run = run_envdoctor("check", "--from", str(path))
    assert run.returncode == 2 and "larger than" in run.stderr, run.stderr
    assert len(run.stdout) < 1000


def test_metadata_headers_are_read_in_linear_time(tmp_path):
    """Correctness at chunk boundaries; the speed is bench/metadata_bench.py's ratio."""
    from envdoctor.probes.wheels import _HEADER_CHUNK, read_headers

    for cut in (_HEADER_CHUNK - 1, _HEADER_CHUNK, _HEADER_CHUNK + 1, 3 * _HEADER_CHUNK):
        head = "Name: demo\nRequires-Dist: numpy\n" + "X-Pad: " + "a" * cut
        path = tmp_path / f"M{cut}"
        path.write_text(head + "\n\nbody\n\nmore\n", encoding="utf-8")
        assert read_headers(str(path)) == head
    path.write_text("Name: demo\n" + "X: y\n" * 10, encoding="utf-8")
    assert read_headers(str(path)) == "Name: demo\n" + "X: y\n" * 10
