"""Attack class: a cache folder that lies.

envdoctor memoizes pure answers on disk (envdoctor/cache.py). What it reads back is not
trusted: a forged "clean" verdict, a file others may write, a 100,000-deep list, a FIFO
or a symlink where an entry should be, or a huge file must each make envdoctor compute
the answer again, never change the verdict, crash or hang. Each test drives the real CLI.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import opencv_fakes as fakes
import pytest
from conftest import run_envdoctor

POSIX = pytest.mark.skipif(os.name != "posix", reason="POSIX ownership and FIFOs")


@pytest.fixture
def broken(tmp_path):
    """A site with an unmet requirement (pip.requirements fails), and an empty cache."""
    site = tmp_path / "site"
    fakes.add_dist(site, "demo-app", "1.0", requires=("missing-dependency>=1",))
    cache = tmp_path / "cache"
    env = {"PYTHONPATH": str(site), "ENVDOCTOR_CACHE_DIR": str(cache)}
    first = run_envdoctor("check", "--only", "pip.requirements", "--json", env=env)
    assert first.returncode == 1, first.stdout + first.stderr
    (entry,) = cache.glob("requirements-clean-*.json")
    return env, entry


def _verdict(env) -> tuple[int, str]:
    run = run_envdoctor("check", "--only", "pip.requirements", "--json", env=env, timeout=60)
    assert "Traceback" not in run.stderr, run.stderr
    doc = json.loads(run.stdout)
    (check,) = doc["checks"]
    return run.returncode, check["status"]


def _forge(entry: Path, value, mode: int = 0o600) -> None:
    stored = json.loads(entry.read_text())
    entry.write_text(json.dumps({**stored, "value": value}))
    os.chmod(entry, mode)


def test_the_genuine_entry_is_used_and_gives_the_same_verdict(broken):
    env, entry = broken
    assert _verdict(env) == (1, "fail")
    # The control for every test below: an entry that passes every check IS believed
    # (this user could change anything anyway), so each rejection below is the defence
    # under test, not a cache that is never read.
    _forge(entry, True)
    assert _verdict(env) == (0, "pass")


@pytest.mark.parametrize("content", [
    '{"value": true}',                                  # no namespace, no key
    '{"namespace": "requirements-clean", "value": true}',  # no key
    '{"namespace": "other", "key": "x", "value": true}',
    "[" * 100000 + "]" * 100000,                        # RecursionError bait
    '{"namespace": "requirements-clean", "key": "K", "value": ' + "[" * 100000 + "]" * 100000
    + "}",
    "\x00\xff not json",
], ids=["no-namespace", "no-key", "other-namespace", "deep-list", "deep-value", "binary"])
def test_a_forged_or_corrupt_entry_is_recomputed(broken, content):
    env, entry = broken
    key = json.loads(entry.read_text())["key"]
    entry.write_text(content.replace('"K"', json.dumps(key)), encoding="utf-8",
                     errors="surrogateescape")
    assert _verdict(env) == (1, "fail")


def test_an_entry_of_the_wrong_shape_is_recomputed(broken):
    env, entry = broken
    _forge(entry, {"clean": True})
    assert _verdict(env) == (1, "fail")


@POSIX
def test_an_entry_others_could_write_is_not_believed(broken):
    env, entry = broken
    _forge(entry, True, mode=0o666)  # well formed, but group/world-writable
    assert _verdict(env) == (1, "fail")


@POSIX
def test_an_entry_owned_by_someone_else_is_not_believed(broken):
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    env, entry = broken
    _forge(entry, True)
    os.chown(entry, 65534, 65534)  # nobody
    assert _verdict(env) == (1, "fail")


@POSIX
def test_a_symlink_in_place_of_an_entry_is_not_followed(broken, tmp_path):
    env, entry = broken
    elsewhere = tmp_path / "planted.json"
    stored = json.loads(entry.read_text())
    elsewhere.write_text(json.dumps({**stored, "value": True}))
    os.chmod(elsewhere, 0o600)
    entry.unlink()
    entry.symlink_to(elsewhere)
    assert _verdict(env) == (1, "fail")


@POSIX
def test_a_fifo_in_place_of_an_entry_does_not_hang_the_run(broken):
    env, entry = broken
    entry.unlink()
    os.mkfifo(entry)
    start = time.monotonic()
    assert _verdict(env) == (1, "fail")
    assert time.monotonic() - start < 30


def test_a_huge_entry_is_not_read(broken):
    env, entry = broken
    stored = json.loads(entry.read_text())
    entry.write_text(json.dumps({**stored, "value": True, "pad": "x" * (2 << 20)}))
    os.chmod(entry, 0o600)
    assert _verdict(env) == (1, "fail")
