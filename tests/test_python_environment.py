"""python.environment: pip on PATH, Jupyter kernels, conda + pip, pip itself."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest
from conftest import facts_fixture, run_check, run_envdoctor, validate_report
from test_pip_wheel_tags import plant_dist

from envdoctor import distributions
from envdoctor.probes import ProbeContext
from envdoctor.probes.wheels import (
    conda_pip_duplicates,
    probe_python_env,
    same_python,
    script_interpreter,
)

posix_only = pytest.mark.skipif(os.name == "nt", reason="shebang scripts are POSIX")


def _exe(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def _other_python(tmp_path: Path) -> Path:
    # A real file standing in for another environment's interpreter.
    return _exe(tmp_path / "otherenv" / "bin" / "python3.99", "#!/bin/sh\nexit 0\n")


def _kernel(root: Path, name: str, python: str) -> None:
    folder = root / "kernels" / name
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps({
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": name, "language": "python"}), encoding="utf-8")


def _ctx(tmp_path: Path, path_dirs: list[Path], jupyter: Path) -> ProbeContext:
    environ = {"PATH": os.pathsep.join(str(p) for p in path_dirs),
               "HOME": str(tmp_path / "home"), "JUPYTER_PATH": str(jupyter),
               "JUPYTER_DATA_DIR": str(tmp_path / "home" / "jupyter-data")}
    return ProbeContext(sysroot=str(tmp_path / "root"), environ=environ)


def _codes(result) -> list[str]:
    return [f.code for f in result.findings]


@posix_only
def test_pip_on_path_for_another_python_and_a_stale_one(tmp_path):
    other = _other_python(tmp_path)
    first = _exe(tmp_path / "bin1" / "pip", f"#!{other}\nimport sys\n")
    _exe(tmp_path / "bin1" / "pip3", "#!/nonexistent/python3.7\n")
    ctx = _ctx(tmp_path, [tmp_path / "bin1"], tmp_path / "nojupyter")
    facts = probe_python_env(ctx)
    commands = {c["command"]: c for c in facts["pip_commands"]}
    assert commands["pip"]["path"] == str(first)
    assert commands["pip"]["interpreter"] == str(other)
    assert commands["pip"]["same_as_this"] is False
    assert commands["pip3"]["interpreter_exists"] is False
    result = run_check("python.environment", facts_fixture(python_env=facts))
    assert result.status.value == "warn"
    assert _codes(result) == ["python.W102", "python.W103"]
    assert str(other) in result.findings[0].message
    assert result.findings[0].hint.startswith("use `") and "-m pip install" in \
        result.findings[0].hint
    assert "no longer exists" in result.findings[1].message


@posix_only
def test_pip_for_this_python_in_the_long_path_form_is_fine(tmp_path):
    # pip writes this form when the interpreter path is long or has spaces.
    _exe(tmp_path / "bin" / "pip",
         f"#!/bin/sh\n'''exec' \"{sys.executable}\" \"$0\" \"$@\"\n' '''\nimport sys\n")
    facts = probe_python_env(_ctx(tmp_path, [tmp_path / "bin"], tmp_path / "nojupyter"))
    (cmd,) = facts["pip_commands"]
    assert cmd["how"] == "sh-exec" and cmd["same_as_this"] is True
    result = run_check("python.environment", facts_fixture(python_env=facts))
    assert "python.W102" not in _codes(result)


@posix_only
def test_shell_wrappers_are_not_guessed(tmp_path):
    _exe(tmp_path / "shims" / "pip", '#!/usr/bin/env bash\nexec pyenv exec "$0" "$@"\n')
    _exe(tmp_path / "bin" / "bash", "#!/bin/sh\n")
    facts = probe_python_env(_ctx(tmp_path, [tmp_path / "shims", tmp_path / "bin"],
                                  tmp_path / "nojupyter"))
    (cmd,) = facts["pip_commands"]
    assert cmd["wrapper"] == "bash" and cmd["same_as_this"] is None
    result = run_check("python.environment", facts_fixture(python_env=facts))
    assert not {"python.W102", "python.W103"} & set(_codes(result))


def test_windows_launcher_shebang(tmp_path):
    launcher = tmp_path / "pip.exe"
    launcher.write_bytes(b"MZ\x90\x00" + b"\x00" * 200 + b'#!"C:\\Program Files\\Python311'
                         b'\\python.exe"\r\nPK\x03\x04zipdata')
    info = script_interpreter(str(launcher), {})
    assert info["interpreter"] == "C:\\Program Files\\Python311\\python.exe"


def test_same_python_follows_links_but_not_into_a_venv(tmp_path):
    assert same_python(sys.executable, sys.executable) is True
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    try:
        (venv / "bin" / "python").symlink_to(os.path.realpath(sys.executable))
    except (OSError, NotImplementedError):
        pytest.skip("no symlinks here")
    # Same binary, but the venv's python installs into the venv: a different environment.
    assert same_python(str(venv / "bin" / "python"), os.path.realpath(sys.executable)) is False


def test_jupyter_kernels_missing_python_and_none_for_this_one(tmp_path):
    jupyter = tmp_path / "jupyter"
    other = _other_python(tmp_path)
    _kernel(jupyter, "old-env", str(tmp_path / "deleted" / "bin" / "python"))
    _kernel(jupyter, "base", str(other))
    facts = probe_python_env(_ctx(tmp_path, [], jupyter))
    names = {k["name"]: k for k in facts["jupyter_kernels"]}
    assert names["old-env"]["exists"] is False and names["base"]["exists"] is True
    result = run_check("python.environment", facts_fixture(python_env=facts))
    assert _codes(result) == ["python.W104", "python.I101"]
    assert result.summary.startswith("1 problem(s)"), result.summary  # the note is no problem
    assert "jupyter kernelspec remove old-env" in result.findings[0].hint
    assert "ipykernel install --user" in result.findings[1].hint

    _kernel(jupyter, "this-env", sys.executable)
    facts = probe_python_env(_ctx(tmp_path, [], jupyter))
    result = run_check("python.environment", facts_fixture(python_env=facts))
    assert _codes(result) == ["python.W104"]


def test_system_kernel_dirs_and_broken_kernel_json(tmp_path):
    system = tmp_path / "root" / "usr" / "share" / "jupyter"
    _kernel(system, "sys", sys.executable)
    broken = system / "kernels" / "broken"
    broken.mkdir(parents=True)
    (broken / "kernel.json").write_text("{not json", encoding="utf-8")
    facts = probe_python_env(_ctx(tmp_path, [], tmp_path / "nojupyter"))
    if os.name == "nt":
        pytest.skip("/usr/share/jupyter is a POSIX location")
    kernels = {k["name"]: k for k in facts["jupyter_kernels"]}
    assert kernels["sys"]["same_as_this"] is True
    assert "unreadable kernel.json" in kernels["broken"]["problem"]


def test_conda_and_pip_both_installed(tmp_path):
    prefix = tmp_path / "conda-env"
    meta = prefix / "conda-meta"
    meta.mkdir(parents=True)
    for record in ("numpy-1.26.4-py311h64a7726_0.json", "scipy-1.13.1-py311h517d4fd_0.json",
                   "python-3.11.9-hb806964_0.json", "history"):
        (meta / record).write_text("{}", encoding="utf-8")
    site = prefix / "lib" / "python3.11" / "site-packages"
    plant_dist(site, "numpy", "2.0.1", installer="pip")      # pip replaced conda's numpy
    plant_dist(site, "scipy", "1.13.1", installer="conda")   # conda's own: fine
    plant_dist(site, "requests", "2.32.0", installer="pip")  # pip only: fine
    dup = conda_pip_duplicates(str(prefix), distributions.scan([str(site)]))
    assert dup["pip_and_conda"] == [{"name": "numpy", "conda_version": "1.26.4",
                                     "installed_version": "2.0.1", "installer": "pip"}]
    env = _base_facts()
    env["conda"] = dup
    result = run_check("python.environment", facts_fixture(python_env=env))
    assert _codes(result) == ["python.W105"]
    assert "numpy is installed by both conda (1.26.4) and pip (2.0.1)" in \
        result.findings[0].message
    assert conda_pip_duplicates(str(tmp_path / "not-conda")) is None


def _base_facts() -> dict:
    """This machine's python_env facts with nothing around it (no PATH, no kernels)."""
    return {"executable": sys.executable, "prefix": sys.prefix, "tool_environment": None,
            "pip_module": {"module": "/x/site-packages/pip", "module_version": "24.0",
                           "dist_version": "24.0", "internal": True, "problem": None},
            "ensurepip": True, "externally_managed": False, "pip_commands": [],
            "jupyter_kernels": [], "conda": None}


def test_pip_missing_or_broken():
    env = _base_facts()
    env["pip_module"] = {"module": None, "module_version": None, "dist_version": None,
                         "internal": None, "problem": None}
    result = run_check("python.environment", facts_fixture(python_env=env))
    assert _codes(result) == ["python.W101"]
    assert result.findings[0].hint.endswith("-m ensurepip --upgrade")
    env["conda"] = {"prefix": "/opt/conda", "packages": 10, "pip_and_conda": []}
    result = run_check("python.environment", facts_fixture(python_env=env))
    assert result.findings[0].hint == "conda install pip"

    env = _base_facts()
    env["pip_module"]["problem"] = ("pip's files say version 24.0 but its metadata says 23.1 "
                                    "(a half-finished upgrade)")
    result = run_check("python.environment", facts_fixture(python_env=env))
    assert result.status.value == "fail" and _codes(result) == ["python.E101"]


def test_pipx_environment_is_named_instead_of_blamed():
    env = _base_facts()
    env["tool_environment"] = "pipx"
    env["pip_commands"] = [{"command": "pip", "path": "/usr/bin/pip", "how": "shebang",
                            "interpreter": "/usr/bin/python3", "interpreter_exists": True,
                            "same_as_this": False}]
    result = run_check("python.environment", facts_fixture(python_env=env))
    assert _codes(result) == ["python.I102"] and result.status.value == "pass"
    # The way out is to name the Python to examine, not to install envdoctor into it.
    assert "envdoctor check --python" in result.findings[0].hint
    assert "pip install" not in result.findings[0].hint


def test_this_machine_probe_never_raises_and_cli_report_is_valid(tmp_path):
    facts = probe_python_env(ProbeContext())
    assert facts["executable"] == sys.executable
    if facts["pip_module"]["module"]:
        assert facts["pip_module"]["problem"] is None  # this dev environment's pip is whole
    jupyter = tmp_path / "jupyter"
    _kernel(jupyter, "gone", str(tmp_path / "gone" / "python"))
    done = run_envdoctor("check", "--json", "--only", "python.environment",
                         env={"JUPYTER_PATH": str(jupyter)})
    report = json.loads(done.stdout)
    validate_report(report)
    (check,) = report["checks"]
    assert "python.W104" in [f["code"] for f in check["findings"]]


def _pyenv(tmp_path: Path) -> tuple[Path, Path]:
    """A pyenv tree: bash-wrapper shims for pip/pip3 and one installed version 3.9.1."""
    root = tmp_path / "pyenv"
    for name in ("pip", "pip3"):
        _exe(root / "shims" / name, '#!/usr/bin/env bash\nset -e\nexec "$PYENV_ROOT/libexec/'
             f'pyenv" exec "{name}" "$@"\n')
    python = _exe(root / "versions" / "3.9.1" / "bin" / "python3.9", "#!/bin/sh\nexit 0\n")
    for name in ("pip", "pip3"):
        _exe(root / "versions" / "3.9.1" / "bin" / name, f"#!{python}\nimport sys\n")
    _exe(tmp_path / "sysbin" / "bash", "#!/bin/sh\nexit 0\n")
    return root, python


@posix_only
@pytest.mark.parametrize("chooser", ["global", "local", "env"])
def test_pyenv_shims_resolve_to_the_python_they_run(tmp_path, monkeypatch, chooser):
    root, python = _pyenv(tmp_path)
    project = tmp_path / "project" / "src"
    project.mkdir(parents=True)
    monkeypatch.chdir(project)
    ctx = _ctx(tmp_path, [root / "shims", tmp_path / "sysbin"], tmp_path / "nojupyter")
    if chooser == "global":
        (root / "version").write_text("3.9.1\n", encoding="utf-8")
    elif chooser == "local":  # .python-version in a parent folder; the global one loses
        (root / "version").write_text("system\n", encoding="utf-8")
        (tmp_path / "project" / ".python-version").write_text("# pinned\n3.9.1\n",
                                                              encoding="utf-8")
    else:
        (root / "version").write_text("system\n", encoding="utf-8")
        ctx.environ["PYENV_VERSION"] = "3.8.0:3.9.1"  # the first that has pip wins
    facts = probe_python_env(ctx)
    commands = {c["command"]: c for c in facts["pip_commands"]}
    assert commands["pip"]["interpreter"] == str(python)
    assert commands["pip"]["via"] == "pyenv" and commands["pip"]["same_as_this"] is False
    result = run_check("python.environment", facts_fixture(python_env=facts))
    w102 = [f for f in result.findings if f.code == "python.W102"]
    assert len(w102) == 1   # pip and pip3 to the same Python: one finding
    assert "`pip` and `pip3`" in w102[0].message and "pyenv" in w102[0].message
    assert str(python) in w102[0].message


@posix_only
def test_pyenv_system_version_is_the_next_pip_on_path(tmp_path):
    root, _ = _pyenv(tmp_path)
    _exe(tmp_path / "sysbin" / "pip", f"#!{sys.executable}\nimport sys\n")
    ctx = _ctx(tmp_path, [root / "shims", tmp_path / "sysbin"], tmp_path / "nojupyter")
    ctx.environ["PYENV_VERSION"] = "system"
    commands = {c["command"]: c for c in probe_python_env(ctx)["pip_commands"]}
    assert commands["pip"]["same_as_this"] is True
    assert commands["pip3"].get("wrapper") == "bash"   # no system pip3: cannot tell


def test_pip_elsewhere_in_a_venv_says_how_to_activate_it():
    env = {"executable": "/home/u/proj/.venv/bin/python", "prefix": "/home/u/proj/.venv",
           "virtual_env": True, "pip_module": {"module": "/x/pip", "module_version": "24.0"},
           "pip_commands": [{"command": "pip", "path": "/usr/bin/pip",
                             "interpreter": "/usr/bin/python3", "interpreter_exists": True,
                             "same_as_this": False}]}
    result = run_check("python.environment", facts_fixture(python_env=env))
    assert result.findings[0].hint == ("use `/home/u/proj/.venv/bin/python -m pip install "
                                       "...`, or activate this environment first: source "
                                       "/home/u/proj/.venv/bin/activate")
    system = dict(env, executable="/usr/bin/python3.12", prefix="/usr", virtual_env=False)
    system["pip_commands"] = [dict(env["pip_commands"][0], interpreter="/opt/py/bin/python3")]
    result = run_check("python.environment", facts_fixture(python_env=system))
    assert result.findings[0].hint == "use `/usr/bin/python3.12 -m pip install ...`"
