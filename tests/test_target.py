"""`envdoctor check --python` / `--kernel`: another Python examined from outside.

Real interpreters only: pyenv's 2.7, 3.6, 3.7, 3.8 (skipped with the reason where this
machine lacks one), real virtual environments made here, real sitecustomize files that
hang, crash or print garbage. Fakes only where a fake is the point (a shell script that
is not a Python).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, run_envdoctor, validate_report

from envdoctor.target import probe_script, tags
from envdoctor.target.choose import TargetError, choose, resolve_python
from envdoctor.wheeltags import expand_tags


def pyenv_python(version: str) -> str:
    """A pyenv interpreter of this major.minor, or skip saying why."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    try:
        found = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=10)
        if found.returncode == 0 and found.stdout.strip():
            root = found.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    versions = Path(root) / "versions"
    matches = sorted(versions.glob(f"{version}.*")) if versions.is_dir() else []
    for folder in reversed(matches):
        exe = folder / "bin" / f"python{version}"
        if exe.is_file():
            return str(exe)
    pytest.skip(f"no Python {version} in {versions} (pyenv install {version})")


def snapshot_of(python: str) -> dict:
    script = REPO / "envdoctor" / "target" / "probe_script.py"
    out = subprocess.run([python, "-B", str(script)], capture_output=True, timeout=60,
                         env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1")).stdout
    line = [x for x in out.decode("ascii").splitlines() if probe_script.MARKER in x][-1]
    return json.loads(line.split(probe_script.MARKER, 1)[1])


def make_venv(where: Path, python: str = sys.executable) -> Path:
    subprocess.run([python, "-m", "venv", "--without-pip", str(where)], check=True,
                   timeout=120)
    return where


def site_packages(venv: Path) -> Path:
    return next(venv.glob("lib/python*/site-packages"))


def check_json(*args: str, timeout: float = 120,
               env=None) -> tuple[dict, subprocess.CompletedProcess]:
    proc = run_envdoctor("check", "--json", *args, timeout=timeout, env=env)
    assert proc.stdout.strip(), proc.stderr
    report = json.loads(proc.stdout)
    validate_report(report)
    return report, proc


# ------------------------------------------------------------------ the probe script


@pytest.mark.parametrize("version", ["2.7", "3.6", "3.7", "3.8"])
def test_probe_script_runs_on_old_pythons_and_tells_their_abi(version):
    python = pyenv_python(version)
    snap = snapshot_of(python)
    assert snap["version"].startswith(version + ".")
    assert snap["executable"] == python
    described = tags.describe(snap)
    first = expand_tags(described["tags"])[0]
    nodot = version.replace(".", "")
    # The ABI packaging names for these builds: cp27mu (UCS-4, pymalloc), cp36m, cp37m, cp38.
    expected = {"2.7": "cp27mu", "3.6": "cp36m", "3.7": "cp37m", "3.8": "cp38"}[version]
    assert first.startswith(f"cp{nodot}-{expected}-")
    assert f"py{version[0]}-none-any" in expand_tags(described["tags"])
    if sys.platform.startswith("linux"):
        assert any(t.endswith("manylinux_2_17_x86_64") or t.endswith("manylinux2014_x86_64")
                   for t in expand_tags(described["tags"])) or os.uname().machine != "x86_64"


def test_tags_computed_here_equal_packaging_sys_tags_in_this_interpreter():
    from packaging.tags import sys_tags

    snap = probe_script.collect()
    assert expand_tags(tags.describe(snap)["tags"]) == [str(t) for t in sys_tags()]


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_tags_computed_here_equal_packaging_sys_tags_run_inside_the_target(version, tmp_path):
    """The same packaging (this one, copied beside the target) run by the target itself."""
    import packaging

    python = pyenv_python(version)
    shutil.copytree(os.path.dirname(packaging.__file__), tmp_path / "packaging")
    inside = subprocess.run(
        [python, "-B", "-c", "import json; from packaging.tags import sys_tags; "
                             "print(json.dumps([str(t) for t in sys_tags()]))"],
        capture_output=True, text=True, timeout=60,
        env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    if inside.returncode != 0:
        pytest.skip(f"this packaging does not run on {version}: {inside.stderr[-200:]}")
    assert expand_tags(tags.describe(snapshot_of(python))["tags"]) == json.loads(inside.stdout)


def test_marker_environment_of_a_target_equals_packaging_inside_it(tmp_path):
    import packaging

    python = pyenv_python("3.12")
    shutil.copytree(os.path.dirname(packaging.__file__), tmp_path / "packaging")
    inside = subprocess.run(
        [python, "-B", "-c", "import json; from packaging.markers import default_environment;"
                             " print(json.dumps(default_environment()))"],
        capture_output=True, text=True, timeout=60,
        env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    if inside.returncode != 0:
        pytest.skip(f"this packaging does not run on 3.12: {inside.stderr[-200:]}")
    assert snapshot_of(python)["marker_environment"] == json.loads(inside.stdout)


# ------------------------------------------------------------------ check --python


@pytest.mark.parametrize("version", ["2.7", "3.6"])
def test_check_python_examines_an_old_interpreter_envdoctor_cannot_run_on(version):
    python = pyenv_python(version)
    report, proc = check_json("--python", python, "--no-redact")
    facts = report["facts"]
    assert proc.returncode in (0, 1), proc.stderr
    assert facts["python"]["version"].startswith(version + ".")
    assert report["source"]["python"] == {"executable": python, "how": "--python",
                                          "in_process": False}
    interp = facts["pip"]["interpreter"]
    assert interp["python_version"] == [int(v) for v in version.split(".")]
    by_id = {c["id"]: c for c in report["checks"]}
    assert by_id["python.interpreter"]["status"] in ("pass", "warn", "fail")
    assert by_id["pip.wheel_tags"]["status"] != "error"


def test_check_python_accepts_an_environment_folder_and_names_it_in_the_header(tmp_path):
    venv = make_venv(tmp_path / "proj")
    proc = run_envdoctor("check", "--python", str(venv), "--only", "python")
    assert proc.returncode in (0, 1), proc.stderr
    assert "Examined:" in proc.stdout and "--python, from outside" in proc.stdout
    report, _ = check_json("--python", str(venv), "--only", "python")
    assert report["facts"]["python"]["prefix"] == str(venv)
    assert report["facts"]["python"]["environment"] == "virtualenv"


def test_the_target_sees_its_own_packages_not_envdoctors(tmp_path):
    venv = make_venv(tmp_path / "proj")
    site = site_packages(venv)
    dist = site / "onlyhere-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: onlyhere\nVersion: 1.2.3\n\n")
    report, _ = check_json("--python", str(venv / "bin" / "python"))
    assert report["facts"]["packages"]["distributions"] == {"onlyhere": "1.2.3"}
    assert "typer" not in report["facts"]["packages"]["distributions"]


@pytest.mark.parametrize("value, words", [
    ("missing", "no such file or folder"),
    ("folder", "a folder with no Python interpreter"),
    ("text", "not a program"),
])
def test_bad_python_paths_are_usage_errors(tmp_path, value, words):
    (tmp_path / "folder").mkdir()
    (tmp_path / "text").write_text("hello\n")
    (tmp_path / "text").chmod(0o755)
    proc = run_envdoctor("check", "--python", str(tmp_path / value))
    assert proc.returncode == 2
    assert words in proc.stderr and "Traceback" not in proc.stderr
    with pytest.raises(TargetError):
        resolve_python(str(tmp_path / value))


def _sitecustomize(tmp_path: Path, code: str) -> Path:
    venv = make_venv(tmp_path / "patient")
    (site_packages(venv) / "sitecustomize.py").write_text(code)
    return venv / "bin" / "python"


@pytest.mark.parametrize("code, words", [
    ("import time\ntime.sleep(60)\n", "did not finish starting within 2 s"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n", "died by SIGSEGV"),
    ("import os, sys\nsys.stdout.write('\\x1b[2J\\xff garbage')\nsys.stdout.flush()\n"
     "os._exit(0)\n",
     "did not answer like a Python interpreter"),
])
def test_a_target_that_hangs_crashes_or_answers_garbage_is_exit_3(tmp_path, code, words):
    python = _sitecustomize(tmp_path, code)
    start = time.monotonic()
    proc = run_envdoctor("check", "--python", str(python), "--timeout", "2", timeout=60)
    assert time.monotonic() - start < 30
    assert proc.returncode == 3, proc.stderr
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert "\x1b" not in proc.stderr  # the target's output is made printable


def test_garbage_before_the_answer_does_not_hide_it(tmp_path):
    python = _sitecustomize(tmp_path, "print('\\x1b[31mhello from sitecustomize')\n")
    report, proc = check_json("--python", str(python), "--only", "python")
    assert report["facts"]["python"]["executable"] == str(python)


def test_a_python_without_its_standard_library_is_exit_3(tmp_path):
    real = pyenv_python("3.8")
    broken = tmp_path / "nostdlib"
    (broken / "bin").mkdir(parents=True)
    shutil.copy2(real, broken / "bin" / "python")
    # Python finds its prefix by the landmark lib/python3.8/os.py next to the binary;
    # with nothing else there, `encodings` is missing and it cannot start.
    (broken / "lib" / "python3.8").mkdir(parents=True)
    (broken / "lib" / "python3.8" / "os.py").write_text("")
    proc = run_envdoctor("check", "--python", str(broken / "bin" / "python"), timeout=60)
    assert proc.returncode == 3
    assert "exited with status 1 before answering" in proc.stderr
    assert "encodings" in proc.stderr and "Traceback" not in proc.stderr


def test_a_shell_script_that_is_not_a_python_is_exit_3(tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'not python'\n")
    fake.chmod(0o755)
    proc = run_envdoctor("check", "--python", str(fake))
    assert proc.returncode == 3
    assert "did not answer like a Python interpreter: not python" in proc.stderr


def test_from_and_python_together_are_a_usage_error(tmp_path):
    proc = run_envdoctor("check", "--python", sys.executable, "--from", "x.json")
    assert proc.returncode == 2 and "give one or the other" in proc.stderr


def test_python_naming_envdoctors_own_interpreter_is_examined_in_process():
    target = choose(sys.executable, None)
    assert target.in_process and "the Python envdoctor runs in" in target.how


# ------------------------------------------------------------------ the patient untouched


def _tree(root: Path) -> dict[str, float]:
    return {str(p.relative_to(root)): p.stat().st_mtime for p in root.rglob("*")}


def test_nothing_is_written_into_the_examined_environment(tmp_path):
    venv = make_venv(tmp_path / "patient")
    site = site_packages(venv)
    # Code that runs at every start: a sitecustomize and a .pth that imports a module.
    (site / "sitecustomize.py").write_text("import helper_mod\n")
    (site / "helper_mod.py").write_text("VALUE = 1\n")
    (site / "zz_hook.pth").write_text("import helper_mod\n")
    before = _tree(venv)
    # Even when the user's own environment allows bytecode.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
        report, proc = check_json("--python", str(venv / "bin" / "python"))
    assert report["facts"]["probes"]["python"]["status"] == "ok", proc.stderr
    assert _tree(venv) == before
    # The same interpreter started plainly does write bytecode there: the test can fail.
    subprocess.run([str(venv / "bin" / "python"), "-c", "pass"], check=True, timeout=60,
                   env=env)
    assert any(p.name == "__pycache__" for p in site.iterdir())


def test_the_targets_user_site_and_pythonpath_are_respected(tmp_path):
    extra = tmp_path / "extra"
    dist = extra / "frompath-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: frompath\nVersion: 0.1\n\n")
    venv = make_venv(tmp_path / "proj")
    report, _ = check_json("--python", str(venv), env={"PYTHONPATH": str(extra)})
    assert report["facts"]["packages"]["distributions"].get("frompath") == "0.1"


# ------------------------------------------------------------------ --kernel


def _kernel(jupyter: Path, name: str, argv0: str, language: str = "python") -> None:
    folder = jupyter / "kernels" / name
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps({
        "argv": [argv0, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": name, "language": language}))


def test_kernel_examines_that_kernels_python(tmp_path):
    python = pyenv_python("3.8")
    jupyter = tmp_path / "jupyter"
    _kernel(jupyter, "old-lab", python)
    _kernel(jupyter, "ir", "/usr/bin/R", language="R")
    env = {"JUPYTER_PATH": str(jupyter)}
    report, proc = check_json("--kernel", "old-lab", "--only", "python", env=env)
    assert report["facts"]["python"]["version"].startswith("3.8."), proc.stderr
    assert report["source"]["python"]["how"] == "--kernel old-lab"
    missing = run_envdoctor("check", "--kernel", "nope", env=env)
    assert missing.returncode == 2 and "kernels found: ir, old-lab" in missing.stderr
    other = run_envdoctor("check", "--kernel", "ir", env=env)
    assert other.returncode == 2 and "a R kernel" in other.stderr


# ------------------------------------------------------------------ the default choice


def test_a_venv_of_envdoctor_and_its_requirements_is_a_tool_environment(tmp_path, monkeypatch):
    from envdoctor import distributions
    from envdoctor.target import choose as chooser

    real = {d.key: d for d in distributions.installed() if d.path.endswith(".dist-info")}
    site = tmp_path / "lib" / "python3" / "site-packages"
    site.mkdir(parents=True)
    # The real metadata of envdoctor, what it requires (as installed here: computed with
    # importlib.metadata and packaging, not with the code under test) and pip.
    import importlib.metadata

    from packaging.requirements import Requirement

    wanted, todo = {"pip"}, ["envdoctor"]
    while todo:
        key = distributions.normalize(todo.pop())
        if key in wanted:
            continue
        wanted.add(key)
        try:
            requires = importlib.metadata.requires(key) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for line in requires:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    for key in sorted(wanted):
        if key in real:
            shutil.copytree(real[key].path, site / os.path.basename(real[key].path))
    monkeypatch.setattr(distributions, "installed", lambda: distributions.scan([str(site)]))
    assert chooser._holds_only_envdoctor(str(tmp_path)) is True
    other = site / "requests-2.32.0.dist-info"
    other.mkdir()
    (other / "METADATA").write_text("Metadata-Version: 2.1\nName: requests\nVersion: 2.32.0\n\n")
    assert chooser._holds_only_envdoctor(str(tmp_path)) is False


def test_from_a_tool_environment_the_default_is_the_active_env_then_python3_on_path(
        tmp_path, monkeypatch):
    from envdoctor.target import choose as chooser

    monkeypatch.setattr(chooser, "tool_environment", lambda: "pipx")
    project = make_venv(tmp_path / "project")
    target = chooser.default_target({"VIRTUAL_ENV": str(project), "PATH": ""})
    assert (target.in_process, target.how) == (False, "the active virtual environment "
                                                      "($VIRTUAL_ENV)")
    assert target.executable.startswith(str(project))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(pyenv_python("3.8"))
    # envdoctor's own folder first on PATH (an activated tool venv) is passed over.
    own = os.path.dirname(sys.executable)
    target = chooser.default_target({"PATH": os.pathsep.join([own, str(bin_dir)])})
    assert (target.in_process, target.how) == (False, "`python3` on PATH")
    assert target.snapshot()["version"].startswith("3.8.")
    alone = chooser.default_target({"PATH": str(tmp_path / "empty")})
    assert alone.in_process and "no other Python found" in alone.how


def test_the_targets_user_site_is_seen_as_its_python_sees_it(tmp_path):
    """No -s, no -I: a base interpreter's user site (PYTHONUSERBASE here) counts."""
    python = pyenv_python("3.8")
    userbase = tmp_path / "userbase"
    dist = userbase / "lib" / "python3.8" / "site-packages" / "usery-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: usery\nVersion: 1.0\n\n")
    report, proc = check_json("--python", python, "--only", "python,pip",
                              env={"PYTHONUSERBASE": str(userbase)})
    assert report["facts"]["packages"]["distributions"].get("usery") == "1.0", proc.stderr
    sites = report["facts"]["pip"]["sites"]
    assert str(dist.parent) in sites


def test_this_interpreter_in_process_and_from_outside_gives_the_same_facts(tmp_path):
    """The quick form of tests/test_target_real.py: a Python (not pytest, whose own
    folders are on its sys.path) examined in-process and by running the probe script."""
    code = """if True:
    import json, os, sys
    from envdoctor.probes import ProbeContext
    from envdoctor.probes.packages import probe_packages
    from envdoctor.probes.python import probe_python
    from envdoctor.probes.wheels import probe_pip, probe_python_env
    from envdoctor.target.interpreter import PythonTarget, this_process

    inside, outside = this_process(), PythonTarget(sys.executable, "t", in_process=False)
    env = dict(os.environ)
    out = {"snapshots": [inside.snapshot(), outside.snapshot()]}
    for probe in (probe_python, probe_pip, probe_python_env, probe_packages):
        out[probe.__name__] = [probe(ProbeContext(environ=env, python=t))
                               for t in (inside, outside)]
    print(json.dumps(out))
    """
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    a, b = result.pop("snapshots")
    # `python -c` puts the current folder first; the probe script leaves its own out.
    assert a["sys_path"][1:] == b["sys_path"]
    assert {k: v for k, v in a.items() if k != "sys_path"} == \
        {k: v for k, v in b.items() if k != "sys_path"}
    for name, (inside, outside) in result.items():
        assert inside == outside, name
