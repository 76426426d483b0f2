"""The fix engine: diagnose -> plan -> show -> confirm -> run step by step -> re-check.

A fix is a :class:`Fix` registered by a module in :mod:`envdoctor.fixes` (a module level
``FIX``) or by a third party through the entry-point group ``envdoctor.fixes`` (the entry
point names a :class:`Fix`, a module with ``FIX``, or a callable returning one). Its
``plan(report, env)`` reads the diagnosis (facts and check results) and returns a
:class:`Plan` of :class:`Step` objects: exact argv lists, run without a shell, one by one,
stopping at the first failure. Steps that need root/administrator rights are never run
by a process that lacks them (no sudo behind the user's back): they are shown as manual
steps. Nothing runs without confirmation (a prompt that defaults to No, or ``--yes``).

Exit codes (``envdoctor fix``): 0 repaired and verified, or nothing to repair; 1 a step
failed or the problem remains; 2 usage error; 4 the fix does not apply on this OS;
5 the user declined (or no terminal to ask and no ``--yes``).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, TextIO

ENTRY_POINT_GROUP = "envdoctor.fixes"

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_APPLICABLE, EXIT_DECLINED = 0, 1, 2, 4, 5
# A dry run that found something to repair (scripts tell it from "nothing to repair", 0).
EXIT_DRY_RUN_PLAN = 6
EXIT_INTERRUPTED = 130  # Ctrl-C, SIGTERM or SIGHUP during a step (after restoring)


@dataclass
class Step:
    """One command. ``argv`` None means a manual step (a download link, an explanation)."""

    title: str
    argv: Optional[list[str]] = None
    needs_admin: bool = False
    destructive: bool = False
    system_wide: bool = False
    timeout: float = 900.0
    key: str = ""          # the step table entry it comes from (scripts carry the same)
    why: str = ""

    def command_line(self) -> str:
        if not self.argv:
            return ""
        from envdoctor.hints import shell_join

        return shell_join(self.argv)


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # What puts things back when a step fails or the run is interrupted after a
    # destructive step began (e.g. install the wheel downloaded before anything was
    # removed). Run by the engine, shown by --dry-run.
    restore: list[Step] = field(default_factory=list)
    # The exact commands a person runs when the restore steps cannot (shown then).
    restore_by_hand: list[str] = field(default_factory=list)


@dataclass
class PlanEnv:
    """What a plan may know about the process that will run it."""

    python: str = sys.executable
    admin: bool = False
    system: str = ""
    # A private folder for this run (mkdtemp, 0700) where steps may download what they
    # install later, so that nothing is removed before its replacement is on disk.
    workdir: str = ""


@dataclass(frozen=True)
class Fix:
    name: str
    title: str
    repairs: str
    systems: tuple[str, ...]               # platform.system() values: "Linux", "Windows"
    checks: tuple[str, ...]                # the check ids it answers (re-run to verify)
    plan: Callable[[dict[str, Any], PlanEnv], Plan]
    scripts: dict[str, str] = field(default_factory=dict)   # system -> script path
    origin: str = "envdoctor"

    def script_text(self, system: str) -> Optional[str]:
        path = self.scripts.get(system)
        if not path:
            return None
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read()
        except OSError:
            return None


_FIXES: dict[str, Fix] = {}
_ERRORS: list[dict[str, str]] = []
_loaded = False


def register_fix(fix: Fix) -> Fix:
    if fix.name in _FIXES and _FIXES[fix.name] is not fix:
        raise ValueError(f"fix {fix.name!r} is registered twice")
    _FIXES[fix.name] = fix
    return fix


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import envdoctor.fixes as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if isinstance(getattr(module, "FIX", None), Fix):
            register_fix(module.FIX)
    from envdoctor.distributions import entry_points

    for ep in sorted(entry_points(ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            target: Any = ep.load()
            if not isinstance(target, Fix):
                target = getattr(target, "FIX", None) or (target() if callable(target)
                                                          else None)
            if not isinstance(target, Fix):
                raise TypeError("the entry point gives no envdoctor.fixer.Fix")
            if target.origin == "envdoctor":
                target = Fix(**{**target.__dict__, "origin": ep.dist})
            register_fix(target)
        except Exception as exc:  # a broken plugin must not break envdoctor
            _ERRORS.append({"name": ep.name, "value": ep.value,
                            "error": f"{type(exc).__name__}: {exc}"})


def all_fixes() -> list[Fix]:
    _load()
    return sorted(_FIXES.values(), key=lambda f: f.name)


def get_fix(name: str) -> Optional[Fix]:
    _load()
    return _FIXES.get(name)


def load_errors() -> list[dict[str, str]]:
    _load()
    return list(_ERRORS)


def is_admin() -> bool:
    """Root on POSIX, an elevated token on Windows."""
    if os.name == "nt":  # pragma: no cover - Windows only
        try:
            import ctypes

            return bool(ctypes.windll.shell32.IsUserAnAdmin())
        except Exception:
            return False
    return hasattr(os, "geteuid") and os.geteuid() == 0


# -- running a step ---------------------------------------------------------------------

@dataclass
class StepResult:
    returncode: Optional[int]
    output_tail: list[str]
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.returncode == 0


def run_step(argv: list[str], timeout: float, out: TextIO) -> StepResult:
    """Run one step without a shell, streaming its output (indented) to ``out``."""
    import shutil
    import subprocess

    from envdoctor.render.escape import terminal

    exe = argv[0] if os.path.sep in argv[0] else shutil.which(argv[0])
    if exe is None or not os.path.exists(exe):
        return StepResult(None, [], error=f"{argv[0]}: command not found")
    tail: deque[str] = deque(maxlen=40)
    try:
        child = subprocess.Popen([exe, *argv[1:]], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as exc:
        return StepResult(None, [], error=f"could not start {argv[0]}: {exc.strerror or exc}")

    def pump() -> None:
        assert child.stdout is not None
        for raw in iter(child.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip()
            tail.append(line)
            try:
                out.write(f"    | {terminal(line)}\n")
                out.flush()
            except (OSError, ValueError, UnicodeEncodeError):
                pass

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        rc = child.wait(timeout=timeout)
    except KeyboardInterrupt:
        # Ctrl-C, SIGTERM or SIGHUP (envdoctor.signals): stop the step, let pip run its
        # own rollback (SIGINT first), then let the caller restore.
        _stop(child)
        reader.join(2)
        raise
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        reader.join(2)
        from envdoctor.proc import seconds

        return StepResult(None, list(tail), error=f"timed out after {seconds(timeout)} s (killed)")
    reader.join(5)
    return StepResult(rc, list(tail))


def _stop(child: Any) -> None:
    """SIGINT (pip rolls back a half-done uninstall on it), then SIGTERM, then kill."""
    import signal
    import subprocess

    for sig, wait_s in ((getattr(signal, "SIGINT", None), 10.0),
                        (getattr(signal, "SIGTERM", None), 5.0), (None, 5.0)):
        if child.poll() is not None:
            return
        try:
            child.kill() if sig is None else child.send_signal(sig)
        except OSError:
            return
        try:
            child.wait(timeout=wait_s)
            return
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            continue


def restore(plan: Plan, admin: bool, out: TextIO, say: Callable[[str], None]) -> bool:
    """Run the plan's restore steps (a second Ctrl-C is ignored meanwhile); True when
    they all worked. Otherwise the commands to run by hand are printed."""
    import signal

    ok = bool(plan.restore)
    old = {}
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            try:
                old[sig] = signal.signal(sig, signal.SIG_IGN)
            except (OSError, ValueError):
                pass
    try:
        for step in plan.restore:
            if not _runnable(step, admin):
                ok = False
                break
            say(f"[restore] {step.title}")
            say(f"    $ {step.command_line()}")
            if not run_step(step.argv or [], step.timeout, out).ok:
                ok = False
                break
    finally:
        for sig, handler in old.items():
            try:
                signal.signal(sig, handler)
            except (OSError, ValueError):
                pass
    if ok:
        say("Restored: what was removed is installed again.")
    elif plan.restore_by_hand:
        say("Could not restore automatically. To restore by hand, run:")
        for command in plan.restore_by_hand:
            say(f"    {command}")
    return ok


# -- the whole flow ---------------------------------------------------------------------

def _diagnose(fix: Fix) -> dict[str, Any]:
    from envdoctor import distributions, doctor

    distributions.refresh()  # pip may have changed the environment since the last look
    return doctor.diagnose(doctor.Options(only=list(fix.checks), redact=False))


def problems(report: dict[str, Any], fix: Fix) -> list[dict[str, Any]]:
    """The findings in ``report`` that ``fix`` repairs."""
    found = []
    for check in report.get("checks") or []:
        for finding in check.get("findings") or []:
            if finding.get("fix") == fix.name:
                found.append({**finding, "check": check["id"]})
    return found


def describe_plan(plan: Plan, admin: bool) -> list[str]:
    lines: list[str] = []
    for number, step in enumerate(plan.steps, 1):
        marks = []
        if step.needs_admin:
            marks.append("needs root/administrator" + ("" if admin else
                                                       ": run it yourself, envdoctor will not"))
        if step.destructive:
            marks.append("destructive")
        if step.system_wide:
            marks.append("system-wide")
        if step.argv is None:
            marks.append("manual")
        suffix = f"  [{'; '.join(marks)}]" if marks else ""
        lines.append(f"  {number}. {step.title}{suffix}")
        if step.argv:
            lines.append(f"       $ {step.command_line()}")
        if step.why:
            lines.append(f"       why: {step.why}")
    for note in plan.notes:
        lines.append(f"  note: {note}")
    if plan.restore:
        lines.append("  if a step fails or is interrupted after something was removed, "
                     "envdoctor restores it:")
        lines += [f"       $ {step.command_line()}" for step in plan.restore]
    return lines


def _runnable(step: Step, admin: bool) -> bool:
    return step.argv is not None and (admin or not step.needs_admin)


def check_line(check: dict[str, Any]) -> str:
    """``id: status: summary``; a skipped check's summary already says "skipped: ..."."""
    status, summary = str(check.get("status")), str(check.get("summary"))
    if summary.startswith(("skipped:", f"{status}:")):
        return f"{check.get('id')}: {summary}"
    return f"{check.get('id')}: {status}: {summary}"


def run_fix(name: str, *, dry_run: bool = False, yes: bool = False,
            interactive: Optional[bool] = None, stdin: Optional[TextIO] = None,
            out: Optional[TextIO] = None, admin: Optional[bool] = None) -> int:
    """The ``envdoctor fix NAME`` flow; returns the exit code."""
    out = out or sys.stdout
    stdin = stdin or sys.stdin
    if interactive is None:
        try:
            interactive = stdin.isatty()
        except (AttributeError, ValueError):
            interactive = False
    admin = is_admin() if admin is None else admin

    def say(text: str = "") -> None:
        # Messages, hints and step output hold values from the target environment:
        # escaped for the terminal, line by line.
        from envdoctor.render.escape import terminal_lines

        out.write("\n".join(terminal_lines(text)) + "\n")
        out.flush()

    fix = get_fix(name)
    if fix is None:
        known = ", ".join(f.name for f in all_fixes()) or "none"
        sys.stderr.write(f"envdoctor: error: no fix named {name!r} (known: {known}); "
                         "see `envdoctor fix --list`\n")
        return EXIT_USAGE
    report = _diagnose(fix)
    system = ((report.get("facts") or {}).get("platform") or {}).get("system") or ""
    if system not in fix.systems:
        say(f"{fix.name}: this fix applies on {' and '.join(fix.systems)}, not on "
            f"{system or 'this OS'}; nothing was changed.")
        for check in report.get("checks") or []:
            say(f"  {check['id']}: {check['summary']}")
        return EXIT_NOT_APPLICABLE
    found = problems(report, fix)
    failed = [c for c in report.get("checks") or [] if c.get("status") == "error"]
    if not found and failed:
        say(f"{fix.name}: could not diagnose, so nothing was changed:")
        for check in failed:
            say(f"  {check['id']}: {check.get('error') or check.get('summary')}")
        say("Run `envdoctor check` to see why.")
        return EXIT_FAILED
    if not found:
        other = any(f.get("level") in ("error", "warning")
                    for c in report.get("checks") or [] for f in c.get("findings") or [])
        say(f"{fix.name}: nothing {'this fix can' if other else 'to'} repair; nothing was "
            "changed.")
        for check in report.get("checks") or []:
            say(f"  {check_line(check)}")
            for finding in check.get("findings") or []:
                if finding.get("level") in ("error", "warning") and finding.get("hint"):
                    say(f"    {finding['code']} is not something {fix.name} repairs; "
                        f"next step: {finding['hint']}")
        return EXIT_OK
    import shutil
    import tempfile

    # A private folder (0700, a fresh name: safe as root) for what the steps download.
    workdir = tempfile.mkdtemp(prefix=f"envdoctor-{fix.name}-")
    env = PlanEnv(python=sys.executable, admin=admin, system=system, workdir=workdir)
    kept: list[bool] = []
    try:
        return _plan_and_run(fix, fix.plan(report, env), found, before=_errors(report),
                             admin=admin,
                             dry_run=dry_run, yes=yes, interactive=bool(interactive),
                             stdin=stdin, out=out, say=say, kept=kept)
    finally:
        if not kept:
            shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class RunOutcome:
    """How :func:`confirm_and_run` ended: ``exit_code`` None means every runnable step
    succeeded (re-check next); ``skipped`` are the steps left to the user."""

    exit_code: Optional[int]
    skipped: list[int] = field(default_factory=list)


def confirm_and_run(plan: Plan, *, say: Callable[[str], None], out: TextIO, stdin: TextIO,
                    interactive: bool, admin: bool, dry_run: bool, yes: bool,
                    kept: list[bool]) -> RunOutcome:
    """Show ``plan``, ask (default No) unless ``yes``, run its steps one by one, stopping
    at the first failure (and restoring what a destructive step removed). Shared by
    ``envdoctor fix`` and ``envdoctor install --run``; the caller re-checks when
    ``exit_code`` is None. ``kept`` gets an item when a restore by hand is needed."""
    say("Plan:")
    for line in describe_plan(plan, admin):
        say(line)
    if dry_run:
        say(f"Dry run: nothing was changed (exit code {EXIT_DRY_RUN_PLAN}: there is something "
            "to repair).")
        return RunOutcome(EXIT_DRY_RUN_PLAN)
    runnable = [s for s in plan.steps if _runnable(s, admin)]
    if not runnable:
        say("Every step needs rights or actions envdoctor will not take for you; run the "
            "steps above yourself, then `envdoctor check`.")
        return RunOutcome(EXIT_FAILED)
    if not yes:
        if not interactive:
            say("Not run: confirmation is needed and stdin is not a terminal; rerun with "
                "--yes to apply, or --dry-run to only see the plan.")
            return RunOutcome(EXIT_DECLINED)
        out.write(f"Run {len(runnable)} step(s) now? [y/N] ")
        out.flush()
        try:
            answer = (stdin.readline() or "").strip().lower()
        except (KeyboardInterrupt, EOFError, OSError, ValueError):
            answer = ""
            say("")
        if answer not in ("y", "yes"):
            say("Declined: nothing was changed.")
            return RunOutcome(EXIT_DECLINED)
    skipped: list[int] = []
    removing = False  # a destructive step has begun: a failure from here on restores
    for number, step in enumerate(plan.steps, 1):
        if not _runnable(step, admin):
            skipped.append(number)
            say(f"[{number}/{len(plan.steps)}] skipped (do it yourself): {step.title}")
            continue
        say(f"[{number}/{len(plan.steps)}] {step.title}")
        say(f"    $ {step.command_line()}")
        removing = removing or step.destructive
        try:
            result = run_step(step.argv or [], step.timeout, out)
        except KeyboardInterrupt:
            say(f"Interrupted during step {number}; later steps were not run.")
            if removing and not restore(plan, admin, out, say):
                kept.append(True)
            elif not removing:
                say("Nothing had been removed yet.")
            return RunOutcome(EXIT_INTERRUPTED)
        if not result.ok:
            reason = result.error or f"exit status {result.returncode}"
            say(f"Step {number} failed ({reason}); stopped here, later steps were not run.")
            if result.output_tail:
                say("Its last output:")
                for line in result.output_tail[-15:]:
                    say(f"    {line}")
            if removing and not restore(plan, admin, out, say):
                kept.append(True)
            elif not removing and any(s.destructive for s in plan.steps[number:]):
                say("Nothing had been removed yet.")
            return RunOutcome(EXIT_FAILED)
    return RunOutcome(None, skipped)


def _errors(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(str(f.get("code")), str(f.get("message")))
            for c in report.get("checks") or [] for f in c.get("findings") or []
            if f.get("level") == "error"}


def _plan_and_run(fix: Fix, plan: Plan, found: list[dict[str, Any]], *, admin: bool,
                  dry_run: bool, yes: bool, interactive: bool, stdin: TextIO, out: TextIO,
                  say: Callable[[str], None], kept: list[bool],
                  before: set[tuple[str, str]]) -> int:
    """Show ``plan``, confirm, run it (restoring on failure), re-check. ``kept`` gets an
    item when the work folder must outlive the run (a restore by hand needs it);
    ``before`` holds the error findings before the repair."""
    before_errors = before
    say(f"{fix.name}: {fix.title}")
    say("Problems found:")
    for finding in found:
        say(f"  - {finding['code']}: {finding['message']}")
    if not plan.steps:
        say("No automatic repair for this; what to do by hand:")
        for note in plan.notes:
            say(f"  - {note}")
        if not plan.notes:
            hints = [f["hint"] for f in found if f.get("hint")
                     and not f["hint"].startswith(f"envdoctor fix {fix.name}")]
            for hint in hints or ["run `envdoctor check` and follow the hints there"]:
                say(f"  - {hint}")
        return EXIT_FAILED
    outcome = confirm_and_run(plan, say=say, out=out, stdin=stdin, interactive=interactive,
                              admin=admin, dry_run=dry_run, yes=yes, kept=kept)
    if outcome.exit_code is not None:
        return outcome.exit_code
    skipped = outcome.skipped
    say("Checking again...")
    after = _diagnose(fix)
    remaining = problems(after, fix)
    for check in after.get("checks") or []:
        say(f"  {check_line(check)}")
    # A repair must not break something else the checks it answers can see (a package
    # that required the OpenCV variant just removed): new errors fail the repair.
    broken = sorted(_errors(after) - before_errors)
    if broken:
        say("The repair left new problems:")
        for code, message in broken:
            say(f"  - {code}: {message}")
        return EXIT_FAILED
    if remaining:
        say("The problem remains:")
        for finding in remaining:
            say(f"  - {finding['code']}: {finding['message']}")
        if skipped:
            say(f"Steps {', '.join(map(str, skipped))} were not run by envdoctor: run them "
                "yourself (as root/administrator where marked).")
        return EXIT_FAILED
    say(f"{fix.name}: repaired and verified.")
    return EXIT_OK
