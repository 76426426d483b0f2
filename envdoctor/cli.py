"""The command line: ``envdoctor check`` (the default), ``list``, ``explain`` and the
commands contributed by modules in :mod:`envdoctor.commands`.

Exit codes: 0 healthy, 1 findings at or above --fail-on, 2 usage error, 3 incomplete.
"""

import enum
import importlib
import pkgutil
import sys
from typing import Annotated, Optional

import typer

from envdoctor import __version__

app = typer.Typer(
    name="envdoctor",
    help="The doctor for deep-learning environments: GPU, driver, CUDA, cuDNN, CPU, "
         "wheels and frameworks. Without a command, runs `envdoctor check`.",
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(str, enum.Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    prometheus = "prometheus"


class FailOn(str, enum.Enum):
    warn = "warn"
    fail = "fail"


def error(message: str, code: int = 2) -> "typer.Exit":
    """Print a one-line error to stderr and return the Exit to raise. The message may
    hold a file name or a value from a report: it is escaped for the terminal."""
    from envdoctor.render.escape import terminal

    sys.stderr.write(f"envdoctor: error: {terminal(message)}\n")
    return typer.Exit(code)


MAX_TIMEOUT_S = 86400.0


def valid_timeout(value: Optional[float]) -> Optional[float]:
    """``--timeout``: a finite number of seconds (``inf``, ``1e308`` and ``nan`` would
    overflow a deadline or compare false with every clock)."""
    import math

    if value is None:
        return None
    if not math.isfinite(value) or not 0.1 <= value <= MAX_TIMEOUT_S:
        raise typer.BadParameter(f"{value!r} is not a number of seconds from 0.1 to "
                                 f"{MAX_TIMEOUT_S:g}")
    return value


def split_words(values: Optional[list[str]]) -> list[str]:
    words: list[str] = []
    for value in values or []:
        words.extend(w.strip() for w in value.split(",") if w.strip())
    return words


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"envdoctor {__version__}\n")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Run `envdoctor check` when no command is given."""
    if ctx.invoked_subcommand is None:
        check()


@app.command()
def check(
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    json_flag: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    only: Annotated[Optional[list[str]], typer.Option(
        "--only", metavar="ID|AREA|TAG",
        help="Run only these checks (id, area or tag; repeat or comma-separate).")
    ] = None,
    skip: Annotated[Optional[list[str]], typer.Option(
        "--skip", metavar="ID|AREA|TAG",
        help="Skip these checks (id, area or tag; repeat or comma-separate).")] = None,
    fail_on: Annotated[FailOn, typer.Option(
        "--fail-on", help="Lowest status that makes the exit code 1.")] = FailOn.fail,
    timeout: Annotated[Optional[float], typer.Option(
        "--timeout", metavar="SECONDS", callback=valid_timeout,
        help="Seconds each probe may take, framework imports included [default: 10; "
             "framework imports get 30 when --timeout is not given].")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v",
                                          help="Show durations and details.")] = False,
    from_file: Annotated[Optional[str], typer.Option(
        "--from", metavar="FILE",
        help="Diagnose pasted text instead of this machine: an envdoctor JSON or Markdown "
             "report, torch collect_env, nvidia-smi, nvcc --version, pip list/freeze, "
             "conda list, JAX/TensorFlow/transformers env printouts, or a whole issue "
             "body; '-' reads stdin.")] = None,
    no_redact: Annotated[bool, typer.Option(
        "--no-redact", help="Keep user name, home path and host name in the report.")] = False,
    no_frameworks: Annotated[bool, typer.Option(
        "--no-frameworks", help="Do not import frameworks in child processes (faster; "
                                "the builds are still judged from their files).")] = False,
    output: Annotated[Optional[str], typer.Option(
        "--output", "-o", metavar="FILE",
        help="Also write the report to FILE, atomically ({host} expands "
             "to the host name).")] = None,
    keep_hostname: Annotated[bool, typer.Option(
        "--keep-hostname", help="Keep the host name in the report (fleet runs).")] = False,
    keep_gpu_uuids: Annotated[bool, typer.Option(
        "--keep-gpu-uuids", help="Keep GPU and MIG UUIDs (persistent hardware ids; by "
                                 "default each becomes GPU-redacted-0001...).")] = False,
    python: Annotated[Optional[str], typer.Option(
        "--python", metavar="PYTHON|ENV_DIR",
        help="Examine this Python (an interpreter, or a venv/conda folder) from outside; "
             "nothing is installed or written there.")] = None,
    kernel: Annotated[Optional[str], typer.Option(
        "--kernel", metavar="NAME", help="Examine the Python of this Jupyter kernel.")
    ] = None,
    data: Annotated[Optional[str], typer.Option(
        "--data", metavar="PATH",
        help="The folder your training data lives in: storage.data judges its disk "
             "(default: $ENVDOCTOR_DATA).")] = None,
) -> None:
    """Diagnose this machine (or a saved report) and print the verdict.

    Exit codes: 0 nothing at or above --fail-on; 1 a check at or above it; 2 usage error;
    3 incomplete (a check errored or a probe timed out, and nothing failed)."""
    from envdoctor import doctor, render
    from envdoctor.facts import ReportError
    from envdoctor.target.choose import TargetError

    check_output(output)
    opts = doctor.Options(only=split_words(only), skip=split_words(skip),
                          timeout=doctor.DEFAULT_TIMEOUT_S if timeout is None else timeout,
                          timeout_explicit=timeout is not None, fail_on=fail_on.value,
                          redact=not no_redact, no_frameworks=no_frameworks,
                          python=python, kernel=kernel, data=data,
                          keep_gpu_uuids=keep_gpu_uuids)
    unknown = doctor.unknown_selectors(opts)
    if unknown:
        raise error(f"no check, area or tag named {', '.join(map(repr, unknown))}; "
                    "see `envdoctor list`")
    if (only or skip) and not doctor.selected_checks(opts):
        # A CI gate must not pass with nothing checked.
        raise error("--only/--skip leave no check to run; see `envdoctor list`")
    if from_file is not None and (python or kernel):
        raise error("--from re-checks a saved report; --python/--kernel examine a live "
                    "Python: give one or the other")
    if from_file is not None:
        from envdoctor.readers.load import load_source

        try:
            opts.from_report, opts.from_paste = load_source(from_file)
        except ReportError as exc:
            raise error(str(exc)) from None
        opts.from_file = from_file
    try:
        report = doctor.diagnose(opts, keep_hostname=keep_hostname)
    except TargetError as exc:
        raise error(str(exc), exc.exit_code) from None
    chosen = Format.json if json_flag else fmt
    text = render.get(chosen.value)(report, verbose=verbose, stream=sys.stdout)
    if output:
        from envdoctor.output import write_report

        try:
            write_report(output, report, chosen.value)
        except OSError as exc:
            raise error(f"cannot write {output}: {exc.strerror or exc}") from None
    _write_stdout(text)
    raise typer.Exit(report["summary"]["exit_code"])


def _write_stdout(text: str) -> None:
    """Print ``text``. A closed stdout (``>&-``) or one that cannot take it (``>
    /dev/full``) is a usage error (exit 2) with one line on stderr, not a traceback; a
    reader that went away (``| head``) is not an error."""
    if sys.stdout is None:
        raise error("standard output is closed; use --output FILE or redirect it")
    try:
        try:
            sys.stdout.write(text)
        except UnicodeEncodeError:
            sys.stdout.flush()
            enc = getattr(sys.stdout, "encoding", None) or "ascii"
            sys.stdout.buffer.write(text.encode(enc, errors="replace"))
        sys.stdout.flush()
    except BrokenPipeError:  # `envdoctor check | head`
        _stdout_to_devnull()
    except (OSError, ValueError) as exc:
        _stdout_to_devnull()
        raise error(f"cannot write to standard output: "
                    f"{getattr(exc, 'strerror', None) or exc}") from None


def _stdout_to_devnull() -> None:
    """Point stdout at the null device, so the interpreter's last flush at exit does not
    fail a second time with a traceback."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def check_output(output: Optional[str]) -> None:
    """Refuse an ``--output`` that cannot take a report before any work is done: an empty
    name, a folder, a missing folder, a block device... (envdoctor.output.target_kind)."""
    if output is None:
        return
    from envdoctor.output import OutputError, expand_name, target_kind

    try:
        target_kind(expand_name(output))
    except OutputError as exc:
        raise error(f"cannot write {output!r}: {exc.strerror}") from None


def save_and_print(text: str, output: Optional[str]) -> None:
    """Write ``text`` to the ``--output`` file (atomically, ``{host}`` expanded) when one
    is named, then to stdout. A file that cannot be written is a usage error."""
    if output:
        from envdoctor.output import expand_name, write_atomic

        try:
            write_atomic(expand_name(output), text)
        except OSError as exc:
            raise error(f"cannot write {output}: {exc.strerror or exc}") from None
    _write_stdout(text)


@app.command("list")
def list_checks() -> None:
    """Every check with its id, tags and a one-line description."""
    from envdoctor import registry

    checks = registry.all_checks()
    width = max((len(c.id) for c in checks), default=10) + 2
    for c in checks:
        tags = ",".join(c.tags)
        origin = "" if c.origin == "envdoctor" else f"  (plugin: {c.origin})"
        _write_stdout(f"{c.id:<{width}}{c.title}  [{tags}]{origin}\n")
    for failure in registry.plugin_errors():
        sys.stderr.write(f"envdoctor: plugin {failure['name']} failed to load: "
                         f"{failure['error']}\n")


@app.command()
def explain(
    name: Annotated[str, typer.Argument(
        metavar="CHECK_OR_CODE", help="A check id (cpu.avx) or finding code (cpu.E001); "
                                      "`envdoctor list` shows the ids.")],
) -> None:
    """What a check or a finding code means, its common causes and how to fix it."""
    from envdoctor import registry

    check_obj = registry.get(name)
    code_text = None
    if check_obj is None:
        found = registry.find_code(name)
        if found is None:
            raise error(f"no check or finding code named {name!r}; see `envdoctor list`")
        check_obj, code_text = found
    lines = []
    if code_text is not None:
        lines += [f"{name}: {code_text}", f"Raised by check {check_obj.id} ({check_obj.title}).",
                  ""]
    else:
        lines += [f"{check_obj.id}: {check_obj.title}", f"tags: {', '.join(check_obj.tags)}", ""]
    lines.append(check_obj.doc or "(no description)")
    if code_text is None and check_obj.codes:
        lines += ["", "Finding codes:"]
        lines += [f"  {code}  {text}" for code, text in sorted(check_obj.codes.items())]
    _write_stdout("\n".join(lines) + "\n")


def _register_commands() -> None:
    import envdoctor.commands as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            module.register(app)


_register_commands()


_GROUP_OPTIONS = ("--version", "--help", "-h")


def default_to_check(args: list[str]) -> list[str]:
    """``envdoctor --json`` means ``envdoctor check --json``: ``check`` is the default
    command, so options that only it knows may come without it."""
    if args and args[0].startswith("-") and args[0] not in _GROUP_OPTIONS:
        return ["check", *args]
    return args


def handle_termination() -> None:
    """SIGTERM (``timeout``, Slurm's time limit, Kubernetes) and SIGHUP (a closed terminal)
    take the Ctrl-C path: a KeyboardInterrupt, so a fix restores what it removed and the
    exit handler kills every child still running (a hung nvidia-smi, a hanging framework
    import), instead of dying with them left behind."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            if signal.getsignal(sig) is signal.SIG_DFL:  # not ignored by nohup
                signal.signal(sig, interrupt)
        except (OSError, ValueError):  # not the main thread
            pass


def _run_quick(kwargs: dict) -> None:
    """Run ``check(**kwargs)`` and exit as typer's standalone mode would."""
    try:
        check(**kwargs)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    except Exception as exc:
        if not (hasattr(exc, "show") and hasattr(exc, "exit_code")):
            raise
        exc.show()  # a click/typer usage exception: its own message and status
        sys.exit(exc.exit_code)
    sys.exit(0)


def main() -> None:
    handle_termination()
    args = default_to_check(sys.argv[1:])
    if not args or args[0] == "check":
        # The common command without typer's per-option validation layer (~90 ms with
        # typer 0.28+, which imports pydantic): see envdoctor/quick_args.py.
        from envdoctor.quick_args import parse

        kwargs = parse(check, args[1:])
        if kwargs is not None:
            _run_quick(kwargs)
    app(args=args, prog_name="envdoctor")


if __name__ == "__main__":
    main()
