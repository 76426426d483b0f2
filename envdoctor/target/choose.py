"""Which Python to examine: ``--python PATH``, ``--kernel NAME``, or the default.

The default (neither option):

- envdoctor installed in the environment it runs in (``pip install envdoctor`` in a
  project's venv, a conda env, a system Python): that environment, in-process;
- envdoctor running from a tool environment of its own (pipx, ``uv tool``, uvx, or a
  virtual environment that holds envdoctor, its dependencies and pip and nothing else):
  the active environment (``$VIRTUAL_ENV``, then ``$CONDA_PREFIX``), else the
  ``python3`` (then ``python``) on PATH. Only when none of them exists does envdoctor
  examine its own environment, and ``python.I102`` says so.

Whatever the choice, a target that is the interpreter envdoctor runs in is examined
in-process. Problems with the choice itself are usage errors (exit 2); a target that
then fails to answer is exit 3 (:class:`~envdoctor.target.interpreter.TargetUnavailable`).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from typing import Optional

from envdoctor.target.interpreter import PythonTarget, this_process

EXIT_USAGE = 2
EXIT_UNEXAMINED = 3

# Where an environment folder keeps its interpreter (venv/conda on POSIX and Windows).
INTERPRETER_PLACES = ("bin/python3", "bin/python", "python.exe", "Scripts/python.exe",
                      "python3", "python")
# What a tool environment may hold besides envdoctor and its requirements.
_TOOLING = frozenset({"pip", "setuptools", "wheel", "distribute", "uv"})
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_PROGRAM_MAGIC = (b"#!", b"\x7fELF", b"MZ", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe",
                  b"\xca\xfe\xba\xbe")


class TargetError(Exception):
    """The Python to examine could not be chosen or examined; ``exit_code`` says which
    (2: usage, 3: the interpreter did not answer)."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def interpreter_in(folder: str) -> Optional[str]:
    """The Python of an environment folder (a venv or a conda env), or None."""
    for place in INTERPRETER_PLACES:
        candidate = os.path.join(folder, *place.split("/"))
        if os.path.isfile(candidate):
            return candidate
    return None


def resolve_python(value: str) -> str:
    """The interpreter ``--python VALUE`` names (a file, or an environment folder)."""
    path = os.path.abspath(os.path.expanduser(value))
    if os.path.isdir(path):
        found = interpreter_in(path)
        if found is None:
            looked = ", ".join(INTERPRETER_PLACES[:4])
            raise TargetError(f"--python {value}: a folder with no Python interpreter in it "
                              f"(looked for {looked})")
        return found
    if not os.path.exists(path):
        raise TargetError(f"--python {value}: no such file or folder")
    if not os.path.isfile(path):
        raise TargetError(f"--python {value}: not a file or a folder")
    if os.name == "posix" and not os.access(path, os.X_OK):
        raise TargetError(f"--python {value}: not executable (a Python interpreter is)")
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise TargetError(f"--python {value}: cannot read it: {exc.strerror or exc}") from None
    if not head.startswith(_PROGRAM_MAGIC):
        raise TargetError(f"--python {value}: not a program (neither a binary nor a script "
                          "with a #! line), so not a Python interpreter")
    return path


def kernel_python(name: str, environ: Mapping[str, str]) -> str:
    """The interpreter of the Jupyter kernel ``name`` (its kernel.json's argv[0])."""
    import json
    import shutil

    from envdoctor.probes import ProbeContext
    from envdoctor.probes.wheels import _jupyter_dirs

    ctx = ProbeContext(environ=dict(environ), sysroot=environ.get("ENVDOCTOR_SYSROOT", ""))
    prefixes = [p for p in (environ.get("VIRTUAL_ENV"), environ.get("CONDA_PREFIX"),
                            sys.prefix) if p]
    folders: list[str] = []
    for prefix in prefixes:
        folders += [d for d in _jupyter_dirs(ctx, prefix) if d not in folders]
    found: dict[str, str] = {}
    for folder in folders:
        try:
            names = sorted(os.listdir(os.path.join(folder, "kernels")))
        except OSError:
            continue
        for entry in names:
            spec = os.path.join(folder, "kernels", entry, "kernel.json")
            if os.path.isfile(spec):
                found.setdefault(entry.lower(), spec)  # the first folder wins, as in Jupyter
    spec_file = found.get(name.lower())
    if spec_file is None:
        known = ", ".join(sorted(found)) or "none"
        raise TargetError(f"--kernel {name}: no Jupyter kernel of that name (kernels found: "
                          f"{known}; `jupyter kernelspec list` shows them)")
    try:
        with open(spec_file, encoding="utf-8", errors="replace") as fh:
            spec = json.load(fh)
        argv = spec.get("argv") if isinstance(spec, dict) else None
        if not isinstance(argv, list) or not argv or not isinstance(argv[0], str):
            raise ValueError("no argv list")
    except (OSError, ValueError) as exc:
        raise TargetError(f"--kernel {name}: unreadable kernel.json ({spec_file}): "
                          f"{exc}") from None
    language = str(spec.get("language") or "")
    if language.lower() != "python":
        raise TargetError(f"--kernel {name}: a {language or 'non-Python'} kernel; envdoctor "
                          "examines Python kernels")
    exe = argv[0]
    if not os.path.isabs(exe):
        exe = shutil.which(exe, path=environ.get("PATH")) or exe
    if not os.path.isfile(exe):
        raise TargetError(f"--kernel {name}: its kernel.json ({spec_file}) runs {argv[0]}, "
                          "which does not exist")
    return exe


def _same_as_this(exe: str) -> bool:
    from envdoctor.probes.wheels import same_python

    return bool(same_python(exe, sys.executable))


def tool_environment() -> Optional[str]:
    """"pipx", "uv" or "venv" when envdoctor runs from an environment of its own,
    None when it is installed in an environment people use for other things."""
    from envdoctor.probes.wheels import _tool_environment

    kind = _tool_environment(sys.prefix)
    if kind:
        return kind
    if sys.prefix == getattr(sys, "base_prefix", sys.prefix):
        return None  # a system or conda Python: envdoctor is one package among many
    return "venv" if _holds_only_envdoctor(sys.prefix) else None


def _holds_only_envdoctor(prefix: str) -> bool:
    from envdoctor import distributions

    root = os.path.normcase(os.path.abspath(prefix))
    local = {d.key: d for d in distributions.installed()
             if os.path.normcase(os.path.abspath(d.site)).startswith(root)}
    if "envdoctor" not in local:
        return False
    from envdoctor.probes.wheels import requires_from_egg, requires_from_headers

    needed, todo = set(), ["envdoctor"]
    while todo:
        key = todo.pop()
        if key in needed:
            continue
        needed.add(key)
        dist = local.get(key)
        if dist is None:
            continue
        headers = (dist.read_text("METADATA") or dist.read_text("PKG-INFO") or "")
        requires = requires_from_headers(headers.split("\n\n", 1)[0])
        requires += requires_from_egg(dist.read_text("requires.txt") or "")
        for value in requires:
            if "extra" in value.partition(";")[2]:
                continue
            match = _REQ_NAME.match(value)
            if match:
                todo.append(distributions.normalize(match.group(1)))
    return set(local) - _TOOLING <= needed


def default_target(environ: Mapping[str, str]) -> PythonTarget:
    """The Python to examine when neither --python nor --kernel is given."""
    import shutil

    tool = tool_environment()
    if tool is None:
        return this_process("envdoctor is installed in this Python")
    candidates: list[tuple[Optional[str], str]] = []
    if environ.get("VIRTUAL_ENV"):
        candidates.append((interpreter_in(environ["VIRTUAL_ENV"]),
                           "the active virtual environment ($VIRTUAL_ENV)"))
    if environ.get("CONDA_PREFIX"):
        candidates.append((interpreter_in(environ["CONDA_PREFIX"]),
                           "the active conda environment ($CONDA_PREFIX)"))
    for name in ("python3", "python"):
        # Every one on PATH in order: the first may be envdoctor's own (an activated
        # tool venv), which is skipped below.
        for folder in (environ.get("PATH") or "").split(os.pathsep):
            found = shutil.which(name, path=folder) if folder else None
            if found:
                candidates.append((found, f"`{name}` on PATH"))
    for exe, how in candidates:
        if exe and os.path.isfile(exe) and not _same_as_this(exe):
            return PythonTarget(os.path.abspath(exe), how, in_process=False)
    return this_process(f"envdoctor's own {tool} environment: no other Python found "
                        "(no $VIRTUAL_ENV or $CONDA_PREFIX, no python3 on PATH)")


def choose(python: Optional[str], kernel: Optional[str],
           environ: Optional[Mapping[str, str]] = None) -> PythonTarget:
    """The target for ``--python`` / ``--kernel`` / neither. Raises :class:`TargetError`
    (exit 2) when the choice names no usable interpreter."""
    env = environ if environ is not None else os.environ
    if python and kernel:
        raise TargetError("--python and --kernel name two interpreters; give one")
    if python:
        exe, how = resolve_python(python), "--python"
    elif kernel:
        exe, how = kernel_python(kernel, env), f"--kernel {kernel}"
    else:
        return default_target(env)
    if _same_as_this(exe):
        return this_process(f"{how} (the Python envdoctor runs in)")
    return PythonTarget(exe, how, in_process=False)
