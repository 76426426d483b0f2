"""``envdoctor install PACKAGE``: the exact command that installs a build of a GPU
framework that works on this machine, the index it comes from, and why that build and not
the default one; ``--run`` applies it through the fix engine (docs/install.md).

Exit codes: 0 a build fits (and, with --run, it was installed and verified); 1 no build
fits this machine (or, with --run, a step failed or the check afterwards did not pass);
2 usage error; 5 --run declined (or stdin is not a terminal and --yes is absent); 6 --run
--dry-run showed the plan; 130 interrupted.
"""

# No `from __future__ import annotations` here: Typer reads the Annotated option
# declarations at runtime.

import enum
import sys
from typing import Annotated, Any, Optional

import typer


class Package(str, enum.Enum):
    torch = "torch"
    torchvision = "torchvision"
    tensorflow = "tensorflow"
    jax = "jax"
    cupy = "cupy"
    onnxruntime = "onnxruntime"
    vllm = "vllm"


class InstallerChoice(str, enum.Enum):
    auto = "auto"
    pip = "pip"
    uv = "uv"


def _facts(from_file: Optional[str], timeout: float) -> dict[str, Any]:
    if from_file is None:
        from envdoctor.install.run import gather_facts

        return gather_facts(timeout)
    from envdoctor.cli import error
    from envdoctor.facts import ReportError, load_report, sanitize

    try:
        report = load_report(from_file)
    except ReportError as exc:
        raise error(str(exc)) from None
    return sanitize(report["facts"])


def render_text(advice: Any, package: str, verbose: bool = False) -> str:
    from envdoctor.render.escape import terminal

    lines = [f"envdoctor install {package}", "This machine:"]
    lines += [f"  {terminal(line)}" for line in advice.machine]
    lines.append(f"Build: {terminal(advice.build)}")
    if advice.index_url:
        lines.append(f"Index: {advice.index_url}")
    if advice.commands:
        lines.append("Commands:")
        lines += [f"  {terminal(c.line())}" for c in advice.commands]
    if advice.why:
        lines.append("Why:")
        lines += [f"  - {terminal(w)}" for w in advice.why]
    if advice.notes:
        lines.append("Notes:")
        lines += [f"  - {terminal(n)}" for n in advice.notes]
    if verbose and advice.sources:
        lines.append("Sources:")
        lines += [f"  - {terminal(s)}" for s in dict.fromkeys(advice.sources)]
    return "\n".join(lines) + "\n"


def install_command(
    package: Annotated[Package, typer.Argument(
        metavar="PACKAGE", help="torch, torchvision, tensorflow, jax, cupy, onnxruntime or "
                                "vllm.", case_sensitive=False)],
    run: Annotated[bool, typer.Option(
        "--run", help="Apply the commands: show the plan, ask (default No), install, "
                      "check again.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="With --run: show the plan; change nothing.")] = False,
    yes: Annotated[bool, typer.Option(
        "--yes", "-y", help="With --run: apply without asking.")] = False,
    from_file: Annotated[Optional[str], typer.Option(
        "--from", metavar="REPORT.json",
        help="Advise for the machine of a saved JSON report ('-' reads stdin).")] = None,
    installer: Annotated[InstallerChoice, typer.Option(
        "--installer", help="pip (through this Python), uv, or auto (uv for a uv-made "
                            "environment).")] = InstallerChoice.auto,
    release: Annotated[Optional[str], typer.Option(
        "--release", metavar="X.Y",
        help="torch/torchvision/tensorflow: advise for this release instead of the "
             "installed or newest one.")] = None,
    json_flag: Annotated[bool, typer.Option("--json", help="Print the advice as JSON.")
                         ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="Also list the sources of each fact.")] = False,
    timeout: Annotated[float, typer.Option(
        "--timeout", min=0.1, metavar="SECONDS", help="Seconds each probe may take.")] = 10.0,
) -> None:
    """The exact command that installs a build of PACKAGE that works on this machine
    (driver, GPU, Python, OS, pip or uv), the wheel index, and why that build.

    Exit codes: 0 a build fits (with --run: installed and verified); 1 no build fits (with
    --run: a step failed or the check afterwards did not pass); 2 usage error; 5 --run
    declined or not confirmed; 6 --run --dry-run showed the plan."""
    from envdoctor.cli import _write_stdout, error
    from envdoctor.install.advice import advise

    if (dry_run or yes) and not run:
        raise error("--dry-run and --yes go with --run")
    if run and from_file is not None:
        raise error("--run installs on this machine; --from advises for another one")
    if release is not None and package.value not in ("torch", "torchvision", "tensorflow"):
        raise error("--release applies to torch, torchvision and tensorflow")
    advice = advise(package.value, _facts(from_file, timeout), installer.value, release)
    if json_flag:
        import json

        _write_stdout(json.dumps(advice.to_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        _write_stdout(render_text(advice, package.value, verbose))
    if not run:
        if advice.fits and advice.commands and not json_flag:
            _write_stdout(f"Run them with: envdoctor install {package.value} --run\n")
        raise typer.Exit(0 if advice.fits else 1)
    from envdoctor.install.run import run_advice

    sys.stdout.flush()
    raise typer.Exit(run_advice(advice, dry_run=dry_run, yes=yes))


def register(app: typer.Typer) -> None:
    app.command("install")(install_command)
