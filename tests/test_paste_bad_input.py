"""Pastes as they arrive: Windows line ends, tabs, e-mail quoting and wrapping,
tracebacks in the middle, hand edits, cut anywhere, UTF-16, binary junk. Each still gives
the facts the clean paste gives (or fewer), and never a traceback."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from envdoctor import doctor
from envdoctor.readers import read_paste

PASTES = Path(__file__).parent / "data" / "pastes"
WSL2 = (PASTES / "41-vllm-pr9293-wsl2.txt").read_text(encoding="utf-8")
WIN = (PASTES / "02-pytorch-51858-win11-cu117.txt").read_text(encoding="utf-8")
CONDA = (PASTES / "26-conda-13413-windows-conda-list.txt").read_text(encoding="utf-8")
KEY_FACTS = {
    "torch": ("frameworks", "installed", "torch", "build"),
    "driver": ("nvidia", "driver_version"),
    "gpu": ("nvidia", "gpus", 0, "name"),
    "python": ("python", "version"),
}


def key_facts(text: str | bytes) -> dict:
    raw = text if isinstance(text, bytes) else text.encode("utf-8")
    facts = read_paste(raw).facts
    out = {}
    for name, path in KEY_FACTS.items():
        node = facts
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                node = None
                break
        out[name] = node
    return out


CLEAN = key_facts(WSL2)


def test_the_clean_paste_has_the_facts():
    assert CLEAN == {"torch": "cu121", "driver": "551.88",
                     "gpu": "NVIDIA GeForce RTX 4070 Laptop GPU", "python": "3.12.3"}


def test_windows_line_ends_and_utf16():
    assert key_facts(WSL2.replace("\n", "\r\n")) == CLEAN
    assert key_facts(WSL2.replace("\n", "\r")) == CLEAN
    assert key_facts(WSL2.encode("utf-16")) == CLEAN
    assert key_facts(b"\xef\xbb\xbf" + WSL2.encode()) == CLEAN


def test_tabs_instead_of_spaces():
    tabbed = WSL2.replace("    ", "\t")
    assert key_facts(tabbed) == CLEAN
    conda = read_paste(CONDA.replace("    ", "\t").encode()).facts
    assert conda["packages"]["conda"]["cuda-cudart"]["version"] == "12.1.105"


def test_email_quoted_and_wrapped_lines():
    wrapped = "\n".join("> " + piece for line in WSL2.splitlines()
                        for piece in (textwrap.wrap(line, 60, break_long_words=False,
                                                    break_on_hyphens=False) or [""]))
    got = key_facts(wrapped)
    assert got["torch"] == "cu121" and got["driver"] == "551.88"
    assert got["gpu"] == "NVIDIA GeForce RTX 4070 Laptop GPU"  # rejoined


def test_a_traceback_in_the_middle():
    lines = WSL2.splitlines()
    cut = lines.index("Is CUDA available: True")
    noisy = lines[:cut] + [
        "Traceback (most recent call last):",
        '  File "collect_env.py", line 437, in get_env_info',
        "IndexError: list index out of range"] + lines[cut:]
    got = key_facts("\n".join(noisy))
    assert got["torch"] == "cu121" and got["python"] == "3.12.3"


def test_hand_edits_are_read_loosely():
    edited = (WSL2.replace("Is CUDA available: True", "Is CUDA available: yes (I think)")
              .replace("Nvidia driver version: 551.88",
                       "Nvidia driver version: 551.88 (updated yesterday)"))
    facts = read_paste(edited.encode()).facts
    assert facts["frameworks"]["live"]["torch"]["cuda_available"] is True
    assert facts["nvidia"]["driver_version"] == "551.88"


def test_terminal_escapes_never_reach_the_facts():
    hostile = WSL2.replace("NVIDIA GeForce RTX 4070", "NVIDIA\x1b]52;c;cm0gLXJm\x07 GeForce"
                           "\u202e RTX 4070")
    text = json.dumps(read_paste(hostile.encode()).facts)
    assert "\\u001b" not in text and "\\u0007" not in text and "\\u202e" not in text


@pytest.mark.parametrize("name", ["41-vllm-pr9293-wsl2.txt", "19-jax-21295-a10g-8gpu.txt",
                                  "36-sysmon-12-nvidia-smi-q.txt",
                                  "24-pytorch-32369-conda-list.txt"])
def test_cut_anywhere_is_never_a_traceback(name):
    text = (PASTES / name).read_text(encoding="utf-8")
    for end in range(0, len(text), 37):
        paste = read_paste(text[:end].encode())
        if any(d.used for d in paste.dumps):
            doctor.diagnose(doctor.Options(from_paste=paste, from_file=name))


def test_binary_junk_is_a_clean_usage_error(tmp_path):
    rng = random.Random(13)
    path = tmp_path / "junk.bin"
    path.write_bytes(bytes(rng.randrange(256) for _ in range(100_000)))
    proc = subprocess.run([sys.executable, "-m", "envdoctor", "check", "--from", str(path)],
                          capture_output=True, timeout=120)
    assert proc.returncode == 2
    assert b"holds no environment dump" in proc.stderr
    assert b"Traceback" not in proc.stderr


def test_text_over_a_mebibyte_is_refused_but_a_json_report_is_not(tmp_path):
    big = tmp_path / "big.md"
    big.write_text(WSL2 + "\n" + "x" * (1024 * 1024), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "envdoctor", "check", "--from", str(big)],
                          capture_output=True, timeout=120)
    assert proc.returncode == 2 and b"at most 1,048,576" in proc.stderr
    assert b"Traceback" not in proc.stderr


def test_a_body_that_starts_like_json_is_still_read(tmp_path):
    path = tmp_path / "issue.md"
    path.write_text('{"note": "my env"}} see below\n\n' + WSL2, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "envdoctor", "check", "--from", str(path),
                           "--json"], capture_output=True, timeout=120)
    report = json.loads(proc.stdout)
    assert [f["format"] for f in report["source"]["formats"]] == ["collect_env"]
    # Broken JSON with nothing else in it keeps its JSON error.
    path.write_text('{"facts": {"probes": ', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "envdoctor", "check", "--from", str(path)],
                          capture_output=True, timeout=120)
    assert proc.returncode == 2 and b"is not valid JSON" in proc.stderr
