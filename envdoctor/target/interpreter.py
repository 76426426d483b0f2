"""The Python envdoctor examines, and the one place that starts processes under it.

Every Python-side probe (python, packages, pip, python_env, frameworks, opencv, the
CUDA wheels of cuda) reads the target through a :class:`PythonTarget` on its
:class:`~envdoctor.probes.ProbeContext` (``ctx.python``), never through ``sys``:

- :meth:`PythonTarget.snapshot` is what the interpreter says about itself
  (:mod:`envdoctor.target.probe_script`), gathered once per run and shared by the probes;
- :meth:`PythonTarget.distributions` / :meth:`by_key` index the dist-info folders on
  *its* ``sys.path`` (read from here: reading a file changes nothing);
- :meth:`PythonTarget.command` and :meth:`environ` are how any child that must run
  inside the target (a framework import, ``import cv2``) is started: ``-B`` and
  PYTHONDONTWRITEBYTECODE=1, so no .pyc lands in the patient's folders.

A target that is the interpreter envdoctor runs in is examined in-process, at no cost.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any, Optional

from envdoctor import distributions

# Lines of the target's own stderr kept in an error message.
_STDERR_LINES = 3


class TargetUnavailable(RuntimeError):
    """The target interpreter could not be examined (it hung, crashed, answered
    garbage...). The probes that need it fail with this; the CLI exits 3."""


class PythonTarget:
    """One interpreter to examine, and how it was chosen (``how``: for the report)."""

    def __init__(self, executable: Optional[str], how: str, in_process: bool) -> None:
        self.executable = executable if not in_process else (sys.executable or executable)
        self.how = how
        self.in_process = in_process
        self._lock = threading.Lock()
        self._gather_lock = threading.Lock()
        self._started = threading.Event()
        self._done = threading.Event()
        self._snapshot: Optional[dict[str, Any]] = None
        self._failure: Optional[str] = None
        self._dists: Optional[list[distributions.Dist]] = None
        self._timeout = 10.0

    # -- which process ------------------------------------------------------------------
    def command(self, *args: str) -> list[str]:
        """argv to run ``args`` with the target Python, writing no bytecode."""
        return [self.executable or sys.executable, "-B", *args]

    @staticmethod
    def environ(base: Any) -> dict[str, str]:
        """The environment for a child under the target: the user's own (its
        configuration is respected: PYTHONPATH, user site...) and no bytecode files."""
        env = dict(base)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    # -- what it says about itself ------------------------------------------------------
    def start(self, timeout: float) -> None:
        """Start gathering the snapshot in the background (out of process), so the
        interpreter's start overlaps with envdoctor's own work. Idempotent."""
        with self._lock:
            if self._started.is_set():
                return
            self._started.set()
            self._timeout = timeout
        if not self.in_process:  # in-process, the first probe that asks gathers it
            threading.Thread(target=self._gather, name="target-python", daemon=True).start()

    def snapshot(self) -> dict[str, Any]:
        """The target's facts; raises :class:`TargetUnavailable` when it could not tell."""
        self.start(self._timeout)
        if self.in_process:
            with self._gather_lock:
                if not self._done.is_set():
                    self._gather()
        # The child has its own timeout; this wait is only a safety net above it.
        if not self._done.wait(self._timeout + 5):
            raise TargetUnavailable(f"{self.executable}: no answer within "
                                    f"{self._timeout:g} s")
        if self._snapshot is None:
            raise TargetUnavailable(self._failure or "unknown failure")
        return self._snapshot

    @property
    def failure(self) -> Optional[str]:
        """Why the target could not be examined (after :meth:`snapshot` settled)."""
        return self._failure if self._done.is_set() else None

    def _gather(self) -> None:
        try:
            if self.in_process:
                from envdoctor.target import probe_script

                self._snapshot = _plain(probe_script.collect(startup_entry()))
            else:
                self._snapshot, self._failure = run_probe_script(self, self._timeout)
        except Exception as exc:  # never let the thread die silently
            self._failure = f"{type(exc).__name__}: {exc}"
        finally:
            self._done.set()

    # -- what it has installed ----------------------------------------------------------
    def distributions(self) -> list[distributions.Dist]:
        """Every distribution on the target's ``sys.path``, in path order."""
        snap = self.snapshot()
        with self._lock:
            if self._dists is None:
                self._dists = distributions.scan(snap.get("sys_path") or [])
            return self._dists

    def by_key(self) -> dict[str, distributions.Dist]:
        """The distribution the target would import for each name (first wins)."""
        result: dict[str, distributions.Dist] = {}
        for dist in self.distributions():
            result.setdefault(dist.key, dist)
        return result

    def version_info(self) -> tuple[int, ...]:
        info = self.snapshot().get("version_info") or [0, 0, 0]
        return tuple(int(v) for v in info)

    def describe(self) -> dict[str, Any]:
        """For the report's ``source``: which interpreter and how it was chosen."""
        return {"executable": self.executable, "how": self.how,
                "in_process": self.in_process}


def startup_entry() -> Optional[str]:
    """The sys.path entry Python added to start envdoctor itself (the console script's
    folder, or the current folder for ``python -m envdoctor``): not something the
    environment's programs see, so an in-process snapshot leaves it out, as the probe
    script run by path does with its own folder. None when there is none to drop (a
    test runner, or -P / -I)."""
    flags = sys.flags
    if not sys.path or getattr(flags, "safe_path", False) or flags.isolated:
        return None
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    first = sys.path[0]
    try:
        here = os.path.abspath(first or ".")
        if os.path.basename(argv0).lower().startswith("envdoctor"):
            wanted = {os.path.dirname(os.path.abspath(argv0)),
                      os.path.dirname(os.path.realpath(argv0))}
        elif argv0.replace("\\", "/").endswith("envdoctor/__main__.py"):
            wanted = {os.getcwd()}
        else:
            return None
    except (OSError, ValueError):
        return None
    return first if here in wanted else None


def _plain(value: Any) -> Any:
    """The snapshot as JSON gives it back (what the out-of-process path sees)."""
    import json

    return json.loads(json.dumps(value))


def run_probe_script(target: PythonTarget, timeout: float
                     ) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    """(snapshot, None) or (None, why) from running the probe script in ``target``."""
    import json

    from envdoctor import proc
    from envdoctor.target import probe_script

    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe_script.py")
    res = proc.run(target.command(script), timeout=timeout,
                   env=target.environ(os.environ))
    exe = target.executable
    if res.timed_out:
        return None, (f"{exe} did not finish starting within {timeout:g} s (killed); a "
                      "sitecustomize, usercustomize or .pth file that hangs is the usual "
                      "cause")
    if res.error:
        return None, f"{exe} could not be run: {res.error}"
    if res.signal:
        return None, f"{exe} died by {res.signal} while starting{_last_words(res.stderr)}"
    payload = None
    for line in res.stdout.splitlines():
        at = line.find(probe_script.MARKER)
        if at >= 0:
            try:
                payload = json.loads(line[at + len(probe_script.MARKER):])
            except ValueError:
                payload = None
    if not isinstance(payload, dict) or not isinstance(payload.get("tags"), dict):
        if isinstance(payload, dict) and payload.get("error"):
            return None, f"{exe} could not describe itself: {payload['error']}"
        if res.returncode:
            return None, (f"{exe} exited with status {res.returncode} before answering"
                          f"{_last_words(res.stderr or res.stdout)}")
        return None, (f"{exe} did not answer like a Python interpreter"
                      f"{_last_words(res.stdout or res.stderr)}")
    return payload, None


def _last_words(text: str) -> str:
    """': ' and the last few non-empty lines of a child's output, made printable."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    tail = " | ".join(lines[-_STDERR_LINES:])
    clean = "".join(ch if ch.isprintable() else "?" for ch in tail)
    return ": " + clean[:300]


def this_process(how: str = "the Python envdoctor runs in") -> PythonTarget:
    """The interpreter envdoctor runs in, examined in-process (the default target).
    A new object each time: its snapshot is taken when a probe first asks."""
    return PythonTarget(sys.executable, how, in_process=True)
