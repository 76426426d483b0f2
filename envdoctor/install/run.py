"""Gather the facts an install depends on, and apply an advice through the fix engine:
show the plan, confirm (default No), run step by step, then look again."""

from __future__ import annotations

import os
import sys
from typing import Any, Optional, TextIO

from envdoctor.install.advice import Advice

# What install advice reads: OS, interpreter and wheel tags, environment kind, installed
# distributions and framework builds (from their files; no framework import), the
# NVIDIA driver and GPUs, CUDA_VISIBLE_DEVICES.
PROBES = ("platform", "python", "pip", "python_env", "packages", "frameworks", "nvidia",
          "env")


def gather_facts(timeout: float = 10.0) -> dict[str, Any]:
    """This machine's facts for install advice (frameworks judged from their files)."""
    from envdoctor import distributions, runner
    from envdoctor.probes import ProbeContext, all_probes

    distributions.refresh()  # a previous step may have changed the environment
    available = all_probes()
    ctx = ProbeContext(timeout=timeout, sysroot=os.environ.get("ENVDOCTOR_SYSROOT", ""),
                       options={"no_frameworks": True})
    return runner.start_probes([available[n] for n in PROBES if n in available], ctx).wait()


def plan_of(advice: Advice):
    """The advice's commands as a fix-engine plan."""
    from envdoctor.fixer import Plan, Step

    steps = [Step(c.title, list(c.argv), destructive=c.destructive, timeout=1800.0,
                  key=f"install-{advice.package}-{i}") for i, c in enumerate(advice.commands, 1)]
    restore = [Step(c.title, list(c.argv), timeout=1800.0, key=f"restore-{advice.package}")
               for c in advice.restore]
    return Plan(steps=steps, notes=list(advice.notes), restore=restore,
                restore_by_hand=[c.line() for c in advice.restore])


def verify(advice: Advice, facts: dict[str, Any]) -> tuple[bool, str]:
    """Did the install give what the advice expected? (ok, what was found). A framework
    is judged by its build in ``facts``; any other package by its installed
    distribution."""
    expect = advice.expect
    if "framework" in expect:
        from envdoctor.checks import _framework as fw

        info = fw.installed(facts).get(expect["framework"])
        if not info:
            return False, f"{expect['framework']} is not installed"
        build = str(info.get("build") or "")
        found = f"{info.get('distribution') or expect['framework']} {info.get('version')} " \
                f"(build {build or 'unknown'})"
        want = expect["build"]
        if want == "cuda":
            return bool(info.get("is_cuda_build")) or build.startswith("cu"), found
        return build == want, found
    from envdoctor import distributions

    distributions.refresh()
    dist = distributions.by_key().get(distributions.normalize(expect.get("distribution", "")))
    if dist is None:
        return False, f"{expect.get('distribution')} is not installed"
    return True, f"{dist.name} {dist.version}"


def recheck(advice: Advice, say) -> bool:
    """Run the framework checks again (frameworks imported for real) and verify the
    build; True when the advice's package is installed as expected and no framework
    check reports an error about it."""
    from envdoctor import distributions, doctor
    from envdoctor.fixer import check_line

    distributions.refresh()
    report = doctor.diagnose(doctor.Options(only=["framework"], redact=False))
    ok, found = verify(advice, report.get("facts") or {})
    say(f"  {advice.package}: {found}")
    target = advice.expect.get("framework")
    for check in report.get("checks") or []:
        say(f"  {check_line(check)}")
        for finding in check.get("findings") or []:
            about = (finding.get("details") or {}).get("framework")
            if finding.get("level") == "error" and target and about == target:
                ok = False
                say(f"    {finding.get('code')}: {finding.get('message')}")
    return ok


def run_advice(advice: Advice, *, dry_run: bool, yes: bool, out: Optional[TextIO] = None,
               stdin: Optional[TextIO] = None, interactive: Optional[bool] = None) -> int:
    """``envdoctor install PACKAGE --run``; returns the exit code (the fix engine's: 0
    installed and verified, 1 failed, 5 declined, 6 a dry run showed a plan, 130
    interrupted)."""
    from envdoctor import fixer

    out = out or sys.stdout
    stdin = stdin or sys.stdin
    if interactive is None:
        try:
            interactive = stdin.isatty()
        except (AttributeError, ValueError):
            interactive = False

    def say(text: str = "") -> None:
        from envdoctor.render.escape import terminal_lines

        out.write("\n".join(terminal_lines(text)) + "\n")
        out.flush()

    if not advice.fits:
        say("Nothing to run: no build fits this machine (see above).")
        return fixer.EXIT_FAILED
    if not advice.commands:
        say("Nothing to run: " + (advice.notes[-1] if advice.notes else "already installed."))
        return fixer.EXIT_OK
    outcome = fixer.confirm_and_run(plan_of(advice), say=say, out=out, stdin=stdin,
                                    interactive=interactive, admin=fixer.is_admin(),
                                    dry_run=dry_run, yes=yes, kept=[])
    if outcome.exit_code is not None:
        return outcome.exit_code
    say("Checking again...")
    if not recheck(advice, say):
        say(f"The install did not give {advice.build}; run `envdoctor check` to see why.")
        return fixer.EXIT_FAILED
    say(f"{advice.package}: installed and verified ({advice.build}). Run `envdoctor check` "
        "for the full verdict, with the framework imported.")
    return fixer.EXIT_OK
