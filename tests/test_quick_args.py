"""`envdoctor check` parsed without typer's per-option validation layer: the same
arguments typer would pass, or None (typer then parses, with its own messages)."""

from __future__ import annotations

import functools
import subprocess
import sys

import pytest
from conftest import REPO

from envdoctor import cli
from envdoctor.quick_args import parse


def typer_kwargs(args: list[str], monkeypatch) -> dict:
    """What typer itself calls `check` with for ``args`` (its real parsing, conversion
    and callbacks; the command body replaced by a recorder)."""
    from typer.testing import CliRunner

    seen: dict = {}
    info = next(c for c in cli.app.registered_commands if c.callback is cli.check)

    @functools.wraps(cli.check)
    def record(**kwargs):
        seen.update(kwargs)

    monkeypatch.setattr(info, "callback", record)
    result = CliRunner().invoke(cli.app, ["check", *args])
    assert result.exit_code == 0, result.output
    return seen


@pytest.mark.parametrize("args", [
    [],
    ["--json"],
    ["-f", "markdown", "-v"],
    ["--format=prometheus", "--fail-on", "warn"],
    ["--only", "gpu,cpu", "--only", "python", "--skip=gpu.health"],
    ["--timeout", "2.5", "--no-frameworks", "--no-redact", "--keep-hostname"],
    ["--python", "/usr/bin/python3", "--output", "r.json"],
    ["--kernel", "py38", "--from", "report.json"],
    ["--timeout=7", "--timeout", "3"],  # the last one wins, as in click
])
def test_quick_parse_gives_exactly_what_typer_gives(args, monkeypatch):
    assert parse(cli.check, args) == typer_kwargs(args, monkeypatch)


@pytest.mark.parametrize("args", [
    ["--help"], ["-h"], ["--bogus"], ["stray"], ["--format", "yaml"], ["--timeout", "0"],
    ["--timeout", "soon"], ["--json=yes"], ["--output"], ["--", "--json"],
])
def test_anything_unusual_is_left_to_typer(args):
    assert parse(cli.check, args) is None


def test_check_json_does_not_import_pydantic():
    """typer 0.28+ validates options with pydantic TypeAdapters (~90 ms a run), built in
    typer._adapters when a command runs through typer."""
    code = ("import sys\nsys.argv = ['envdoctor', 'check', '--json', '--only', 'python']\n"
            "from envdoctor.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('MODULES ' + str(sorted(m for m in sys.modules "
            "if m.split('.')[0] == 'pydantic' or m == 'typer._adapters')))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=str(REPO))
    assert "MODULES []" in proc.stderr, proc.stderr[-500:]
    assert proc.stdout.lstrip().startswith("{")
