"""`envdoctor fix`: list the fixes, or plan, confirm, apply and verify one (docs/fixes.md).

No ``from __future__ import annotations`` here: Typer reads the ``Annotated`` option
declarations at runtime, and older Typer releases cannot resolve string annotations of
a function defined inside ``register``.
"""

import sys
from typing import Annotated, Optional

import typer

SYSTEM_NAMES = {"linux": "Linux", "windows": "Windows", "macos": "Darwin", "darwin": "Darwin"}


def _list() -> int:
    from envdoctor import fixer

    for fix in fixer.all_fixes():
        origin = "" if fix.origin == "envdoctor" else f"  (plugin: {fix.origin})"
        sys.stdout.write(f"{fix.name}  {fix.title}{origin}\n"
                         f"    repairs: {fix.repairs}\n"
                         f"    on: {', '.join(fix.systems)}\n"
                         f"    answers: {', '.join(fix.checks)}\n")
    for failure in fixer.load_errors():
        sys.stderr.write(f"envdoctor: fix plugin {failure['name']} failed to load: "
                         f"{failure['error']}\n")
    return 0


def _emit(name: str, system: Optional[str]) -> int:
    import platform

    from envdoctor import fixer

    fix = fixer.get_fix(name)
    if fix is None:
        sys.stderr.write(f"envdoctor: error: no fix named {name!r}; see `envdoctor fix "
                         "--list`\n")
        return fixer.EXIT_USAGE
    if system and system.lower() not in SYSTEM_NAMES:
        from envdoctor.render.escape import terminal

        sys.stderr.write(f"envdoctor: error: unknown --os {terminal(system)!r} (linux, "
                         "windows or macos)\n")
        return fixer.EXIT_USAGE
    wanted = SYSTEM_NAMES[system.lower()] if system else platform.system()
    text = fix.script_text(wanted)
    if text is None:
        sys.stderr.write(f"envdoctor: {name} has no script for {wanted} (scripts: "
                         f"{', '.join(sorted(fix.scripts)) or 'none'})\n")
        return fixer.EXIT_NOT_APPLICABLE
    sys.stdout.write(text)
    if wanted == platform.system():
        # How to run it, on stderr so that `> file` keeps only the script. The script's
        # default interpreter is python3/python: name this one, the one envdoctor checked.
        from envdoctor.hints import POSIX, POWERSHELL, shell_quote

        exe = sys.executable or "python3"
        file = f"{name}.ps1" if wanted == "Windows" else f"{name}.sh"
        run = (f"powershell -ExecutionPolicy Bypass -File {file} -Python "
               f"{shell_quote(exe, POWERSHELL)}" if wanted == "Windows"
               else f"sh {file} {shell_quote(exe, POSIX)}")
        sys.stderr.write(f"envdoctor: save it with `envdoctor fix {name} --emit-script > "
                         f"{file}`, read it, then run `{run}`\n")
    return 0


def register(app: typer.Typer) -> None:
    @app.command("fix")
    def fix_command(
        name: Annotated[Optional[str], typer.Argument(
            metavar="NAME", help="The fix to run, e.g. cv2-dll (see --list).")] = None,
        list_: Annotated[bool, typer.Option("--list", help="Every fix, what it repairs, on "
                                            "which OS, which checks it answers.")] = False,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan; change "
                                              "nothing.")] = False,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking "
                                          "(needed when stdin is not a terminal).")] = False,
        emit_script: Annotated[bool, typer.Option(
            "--emit-script", help="Print the fix's script for this OS (or --os) to read and "
                                  "run by hand.")] = False,
        os_name: Annotated[Optional[str], typer.Option(
            "--os", metavar="linux|windows",
            help="With --emit-script: the OS whose script to print.")] = None,
    ) -> None:
        """Repair a problem a check found: plan, confirm (default No), apply, re-check.

        Exit codes: 0 repaired and verified, or nothing to repair; 1 a step failed or the
        problem remains (after restoring what a failed step had removed); 2 usage error;
        4 the fix does not apply on this OS; 5 declined (or not confirmed: stdin is not a
        terminal and --yes is absent); 6 a dry run that found something to repair;
        130 interrupted (Ctrl-C, SIGTERM, SIGHUP) during a step, after restoring."""
        if list_:
            raise typer.Exit(_list())
        if not name:
            sys.stderr.write("envdoctor: error: name a fix (envdoctor fix cv2-dll) or use "
                             "--list\n")
            raise typer.Exit(2)
        if emit_script:
            raise typer.Exit(_emit(name, os_name))
        if os_name:
            sys.stderr.write("envdoctor: error: --os works only with --emit-script (a fix "
                             "runs on this machine's OS)\n")
            raise typer.Exit(2)
        from envdoctor import fixer

        raise typer.Exit(fixer.run_fix(name, dry_run=dry_run, yes=yes))
