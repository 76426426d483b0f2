"""Run an external program with a timeout and never raise.

Every subprocess envdoctor starts goes through :func:`run`: a missing binary, a hang,
a non-zero exit, garbage or non-UTF-8 output all come back as a :class:`CommandResult`
that a probe can record as a fact.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Optional


def seconds(value: float) -> str:
    """A duration for people: ``9.74964`` -> ``"9.7"``, ``10.0`` -> ``"10"``."""
    return f"{round(value, 1):g}"


@dataclass
class CommandResult:
    argv: list[str]
    returncode: Optional[int]      # None when it did not run or was killed at the timeout
    stdout: str
    stderr: str
    duration_s: float
    error: Optional[str] = None   # "not found", "timed out after 5.0 s", "permission denied"...
    timed_out: bool = False
    signal: Optional[str] = None  # "SIGILL" when the child died by a signal

    @property
    def ok(self) -> bool:
        return self.error is None and self.returncode == 0

    def describe(self) -> str:
        """One line for a report: what happened when this command ran."""
        cmd = os.path.basename(self.argv[0]) if self.argv else "?"
        if self.error:
            return f"{cmd}: {self.error}"
        if self.signal:
            return f"{cmd}: killed by {self.signal}"
        if self.returncode:
            last = (self.stderr.strip() or self.stdout.strip()).splitlines()[-1:] or [""]
            return f"{cmd}: exit status {self.returncode}: {last[0][:200]}"
        return f"{cmd}: ok"

    def to_fact(self) -> dict:
        return {
            "argv": self.argv,
            "returncode": self.returncode,
            "error": self.error,
            "timed_out": self.timed_out,
            "signal": self.signal,
            "duration_ms": round(self.duration_s * 1000, 1),
        }


def _decode(data: Optional[bytes]) -> str:
    return (data or b"").decode("utf-8", errors="replace")


def run(argv: Sequence[str], timeout: float, env: Optional[Mapping[str, str]] = None,
        cwd: Optional[str] = None, input_bytes: Optional[bytes] = None) -> CommandResult:
    """Run ``argv`` (no shell) for at most ``timeout`` seconds."""
    argv = [str(a) for a in argv]
    start = time.monotonic()
    exe = argv[0] if os.path.sep in argv[0] else shutil.which(argv[0],
                                                               path=(env or os.environ).get("PATH"))
    if exe is None or not os.path.exists(exe):
        return CommandResult(argv, None, "", "", time.monotonic() - start, error="not found")
    try:
        proc = subprocess.Popen(
            [exe, *argv[1:]], stdin=subprocess.PIPE if input_bytes else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None, cwd=cwd,
            start_new_session=os.name == "posix",
        )
    except PermissionError:
        return CommandResult(argv, None, "", "", time.monotonic() - start,
                             error="permission denied")
    except OSError as exc:
        return CommandResult(argv, None, "", "", time.monotonic() - start,
                             error=f"could not start: {exc.strerror or exc}")
    _running.add(proc)
    try:
        out, err = proc.communicate(input=input_bytes, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        try:
            out, err = proc.communicate(timeout=2)
        except (subprocess.TimeoutExpired, OSError, ValueError):
            out, err = b"", b""
        return CommandResult(argv, None, _decode(out), _decode(err), time.monotonic() - start,
                             error=f"timed out after {seconds(timeout)} s (killed)", timed_out=True)
    finally:
        _running.discard(proc)
    rc = proc.returncode
    sig = None
    if rc is not None and rc < 0:
        try:
            sig = signal.Signals(-rc).name
        except ValueError:
            sig = f"signal {-rc}"
    return CommandResult(argv, rc, _decode(out), _decode(err), time.monotonic() - start,
                         signal=sig)


# Children still running. Each runs in its own session (so a terminal's Ctrl-C does not
# reach a framework import half-way), which also means nothing else would stop them when
# envdoctor exits early (Ctrl-C, a deadline passed): the exit handler does.
_running: set[subprocess.Popen] = set()


@atexit.register
def _kill_leftovers() -> None:
    for proc in list(_running):
        if proc.poll() is None:
            _kill(proc)


def _kill(proc: subprocess.Popen) -> None:
    """Kill the child and everything it started (its own process group on POSIX)."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()
    except (ProcessLookupError, PermissionError, OSError):
        try:
            proc.kill()
        except OSError:
            pass
