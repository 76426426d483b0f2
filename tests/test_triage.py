"""envdoctor triage on saved GitHub event payloads (tests/data/events) and issue files:
the dumps it recognises, the diagnosis, and a reply that is short, useful and inert."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
EVENTS = DATA / "events"
REPO = Path(__file__).parent.parent


def triage(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "envdoctor", "triage", *args],
                          capture_output=True, input=stdin, timeout=120)


def workflow_command() -> list[str]:
    """The triage command of the workflow recipe in docs/triage.md."""
    text = (REPO / "docs" / "triage.md").read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if "run: envdoctor triage" in ln)
    return line.split("run: envdoctor triage", 1)[1].split()


def run_workflow(event: Path, tmp_path: Path) -> str:
    args = [a.replace('"$GITHUB_EVENT_PATH"', str(event)) for a in workflow_command()]
    args = [a if a != "reply.md" else str(tmp_path / "reply.md") for a in args]
    proc = triage(*args)
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr
    return (tmp_path / "reply.md").read_text(encoding="utf-8")


def test_the_workflow_answers_a_new_issue_with_collect_env(tmp_path):
    reply = run_workflow(EVENTS / "issues-opened-collect-env.json", tmp_path)
    assert "envdoctor read `PyTorch collect_env` (lines 6-48)" in reply
    assert "Nothing wrong in what was pasted." in reply
    # What the paste lacks, and the one command that gets it.
    assert "Not in the pasted text" in reply
    assert "pip install envdoctor && envdoctor check --format markdown" in reply
    assert len(reply) < 4000


def test_a_new_comment_is_read_not_the_issue_body(tmp_path):
    reply = run_workflow(EVENTS / "issue-comment-nvidia-smi.json", tmp_path)
    assert "`nvidia-smi error`" in reply and "`nvcc --version`" in reply
    assert "`gpu.driver`" in reply and "`gpu.E002`" in reply
    assert "sudo modprobe nvidia" in reply


def test_windows_line_ends_and_a_truncated_dump(tmp_path):
    reply = run_workflow(EVENTS / "issues-opened-cpu-wheel.json", tmp_path)
    assert "`PyTorch collect_env`" in reply
    # The CPU-only wheel is known, the GPU is only in prose: not judged, but asked for.
    assert "NVIDIA GPUs" in reply


def test_an_empty_issue_gets_the_command_to_run(tmp_path):
    reply = run_workflow(EVENTS / "issues-opened-empty-body.json", tmp_path)
    assert reply.startswith("envdoctor found no environment dump in this issue")
    assert "envdoctor check --format markdown" in reply


def test_a_hostile_issue_stays_inert(tmp_path):
    from markdown_it import MarkdownIt

    proc = triage(str(EVENTS / "issues-opened-hostile.json"))
    assert proc.returncode == 0
    assert b"\x1b" not in proc.stdout and b"\x07" not in proc.stdout
    reply = run_workflow(EVENTS / "issues-opened-hostile.json", tmp_path)
    html = MarkdownIt("commonmark").enable("table").render(reply)
    assert "<script" not in html and "<img" not in html and "</details>" not in html
    assert not re.search(r"(?<![`\w])@maintainers", reply.replace("`", " ` "))
    assert "`framework.cuda_build`" in reply  # the diagnosis still happens


def test_json_view_and_plain_files(tmp_path):
    issue = DATA / "pastes" / "41-vllm-pr9293-wsl2.txt"
    proc = triage(str(issue), "--json")
    doc = json.loads(proc.stdout)
    assert [f["format"] for f in doc["formats"]] == ["collect_env"]
    assert doc["report"]["source"]["formats"][0]["lines"] == [3, 37]
    assert doc["reply"].startswith("envdoctor read")
    stdin = triage("-", stdin=issue.read_bytes())
    assert b"Reply (Markdown, ready to post):" in stdin.stdout


def test_two_dumps_say_which_is_used(tmp_path):
    one = (DATA / "pastes" / "05-pytorch-46973-colab-t4.txt").read_text()
    two = (DATA / "pastes" / "41-vllm-pr9293-wsl2.txt").read_text()
    path = tmp_path / "issue.md"
    path.write_text(f"Before:\n\n{one}\nAfter upgrading:\n\n{two}", encoding="utf-8")
    doc = json.loads(triage(str(path), "--json").stdout)
    used = [f for f in doc["formats"] if f["used"]]
    unused = [f for f in doc["formats"] if not f["used"]]
    assert len(used) == 1 and len(unused) == 1
    assert unused[0]["notes"] == ["not used: a second PyTorch collect_env; the one at lines "
                                  "3-18 is used"]
    assert "Not used: `PyTorch collect_env`" in doc["reply"]


@pytest.mark.parametrize("size", [50 * 1024 * 1024])
def test_a_huge_issue_is_refused_cleanly(tmp_path, size):
    path = tmp_path / "huge.md"
    with open(path, "wb") as fh:
        fh.write(b"PyTorch version: 2.1.0\n" * (size // 23 + 1))
    for command in (["triage", str(path)], ["check", "--from", str(path)]):
        proc = subprocess.run([sys.executable, "-m", "envdoctor", *command],
                              capture_output=True, timeout=120)
        assert proc.returncode == 2
        assert b"larger than 4,194,304 bytes" in proc.stderr
        assert b"Traceback" not in proc.stderr


def test_a_missing_issue_file_is_a_usage_error(tmp_path):
    proc = triage(str(tmp_path / "nope.md"))
    assert proc.returncode == 2 and b"cannot read" in proc.stderr
    assert b"Traceback" not in proc.stderr
