"""python.environment: pip, the pip on PATH, Jupyter kernels, conda + pip."""

from __future__ import annotations

from typing import Any

from envdoctor.facts import as_dict, dicts, text
from envdoctor.registry import Facts, register
from envdoctor.result import ERROR, INFO, WARNING, Finding, Outcome, outcome, passed


def _quote(path: str) -> str:
    return f'"{path}"' if " " in path else path


def _activate_hint(env: dict[str, Any], conda: Any) -> str:
    """How to make `pip` and `python` mean this environment, when it is one."""
    exe = str(env.get("executable") or "")
    prefix = str(env.get("prefix") or "")
    if conda and prefix:
        return f", or activate this environment first: conda activate {_quote(prefix)}"
    if not env.get("virtual_env") or not prefix or not exe.startswith(prefix):
        return ""
    rest = exe[len(prefix):].replace("\\", "/").lstrip("/")
    if rest.startswith("bin/"):
        script = prefix.rstrip("/") + "/bin/activate"
        return f", or activate this environment first: source {_quote(script)}"
    if rest.lower().startswith("scripts/"):
        script = prefix.rstrip("\\") + "\\Scripts\\activate"
        return f", or activate this environment first: {_quote(script)}"
    return ""


@register(
    "python.environment",
    title="pip, PATH and Jupyter agree on this Python",
    tags=("python", "pip", "jupyter"),
    needs=("python_env",),
    codes={
        "python.E101": "pip is installed for this interpreter but broken (files missing or a "
                       "half-finished upgrade).",
        "python.W101": "pip is not installed for this interpreter.",
        "python.W102": "The `pip` command on PATH installs into another Python than this one.",
        "python.W103": "The `pip` command on PATH runs a Python that no longer exists.",
        "python.W104": "A Jupyter kernel runs a Python that no longer exists.",
        "python.W105": "Packages installed by both conda and pip in this conda environment.",
        "python.I101": "Jupyter kernels exist but none runs this Python: what pip installs "
                       "here is not importable in those notebooks.",
        "python.I102": "The examined Python is envdoctor's own tool environment (pipx/uv): "
                       "no other Python was found to examine.",
    },
)
def check_environment(facts: Facts) -> Outcome:
    """Check that "pip install" and "import" happen in the same Python.

    - pip missing for this interpreter (install it with `python -m ensurepip --upgrade`,
      `conda install pip`, or `sudo apt install python3-pip`) or broken (pip/_internal
      missing, or its files and metadata disagree after an interrupted upgrade).
    - the `pip`/`pip3` command first on PATH installs into another interpreter than the
      one that runs your code (read from the script's shebang): packages "install fine"
      and then "No module named ...". Always use `python -m pip`.
    - the pip on PATH points to a Python that was removed ("bad interpreter: No such file
      or directory").
    - Jupyter kernels (kernel.json in the Jupyter data folders) whose Python no longer
      exists, or none of which is this Python: what `pip install` puts here cannot be
      imported in those notebooks. Register this Python as a kernel with
      `python -m ipykernel install --user --name NAME`.
    - packages installed by both conda and pip in a conda environment: conda's record and
      the files on disk disagree, and the next `conda install` can break them.
    - the examined Python is a pipx/uv tool environment (envdoctor's own, when no other
      Python was found): `envdoctor check --python PATH` or `--kernel NAME` examines
      another one from outside, installing nothing there.
    """
    env = facts.get("python_env") or {}
    exe = text(env.get("executable")) or "python"
    python = _quote(exe)
    findings: list[Finding] = []
    conda = env.get("conda") if isinstance(env.get("conda"), dict) else None

    tool = env.get("tool_environment")
    if tool:
        findings.append(Finding(
            "python.I102", INFO,
            f"the examined Python is a {tool} tool environment ({env.get('prefix')}), "
            "not a project's: envdoctor examines the active environment ($VIRTUAL_ENV, "
            "$CONDA_PREFIX) or the python3 on PATH, and found none other",
            hint="name the Python to examine: envdoctor check --python /path/to/python "
                 "(or a venv/conda folder), or --kernel NAME for a Jupyter kernel; "
                 "nothing is installed there"))

    pip_mod = as_dict(env.get("pip_module"))
    if pip_mod.get("problem"):
        findings.append(Finding(
            "python.E101", ERROR, f"pip is broken for {exe}: {pip_mod['problem']}",
            hint=f"{python} -m ensurepip --upgrade" if env.get("ensurepip")
            else f"download https://bootstrap.pypa.io/get-pip.py and run {python} get-pip.py",
            details=dict(pip_mod)))
    elif not pip_mod.get("module"):
        if conda:
            hint = "conda install pip"
        elif env.get("ensurepip"):
            hint = f"{python} -m ensurepip --upgrade"
        elif env.get("externally_managed") or exe.startswith("/usr/bin/"):
            hint = "sudo apt install python3-pip python3-venv  (Debian/Ubuntu), or create a " \
                   f"virtual environment: {python} -m venv .venv"
        else:
            hint = f"download https://bootstrap.pypa.io/get-pip.py and run {python} get-pip.py"
        findings.append(Finding("python.W101", WARNING,
                                f"pip is not installed for {exe}", hint=hint))

    elsewhere: dict[str, list[dict[str, Any]]] = {}
    slot: dict[str, int] = {}
    for cmd in dicts(env.get("pip_commands")):
        name, path, target = cmd.get("command"), cmd.get("path"), cmd.get("interpreter")
        if cmd.get("wrapper") or not target:
            continue
        if not cmd.get("interpreter_exists"):
            findings.append(Finding(
                "python.W103", WARNING,
                f"`{name}` on PATH ({path}) runs {target}, which no longer exists: running "
                f"it fails with 'bad interpreter'",
                hint=f"use `{python} -m pip` instead, and delete the stale {path}",
                details=dict(cmd)))
        elif cmd.get("same_as_this") is False and not tool:
            if str(target) not in elsewhere:
                slot[str(target)] = len(findings)
                findings.append(Finding("python.W102", WARNING, ""))  # filled in below
            elsewhere.setdefault(str(target), []).append(cmd)
    for target, cmds in elsewhere.items():
        # pip and pip3 going to the same other Python: one finding, where the first was.
        names = " and ".join(f"`{c.get('command')}`" for c in cmds)
        paths = ", ".join(str(c.get("path")) for c in cmds)
        if any(c.get("via") == "pyenv" for c in cmds):
            paths = f"pyenv shim{'s' if len(cmds) > 1 else ''} {paths}"
        findings[slot[target]] = Finding(
            "python.W102", WARNING,
            f"{names} on PATH ({paths}) install{'s' if len(cmds) == 1 else ''} into "
            f"{target}, not into this Python ({exe}): packages installed that way are not "
            "importable here",
            hint=f"use `{python} -m pip install ...`" + _activate_hint(env, conda),
            details=dict(cmds[0], commands=[c.get("command") for c in cmds]))

    kernels = [k for k in dicts(env.get("jupyter_kernels"))
               if str(k.get("language") or "").lower() == "python"]
    for kernel in kernels:
        if not kernel.get("exists") and not kernel.get("relative"):
            findings.append(Finding(
                "python.W104", WARNING,
                f"Jupyter kernel '{kernel.get('name')}' runs {kernel.get('argv0')}, which no "
                "longer exists: the kernel cannot start",
                hint=f"jupyter kernelspec remove {kernel.get('name')}  (then "
                     f"`{python} -m ipykernel install --user --name {kernel.get('name')}` to "
                     "point it at this Python)",
                details={"name": kernel.get("name"), "spec": kernel.get("spec"),
                         "python": kernel.get("argv0")}))
    absolute = [k for k in kernels if not k.get("relative") and k.get("exists")]
    if absolute and not any(k.get("same_as_this") for k in kernels) and not tool:
        names = ", ".join(f"'{k.get('name')}' ({k.get('python')})" for k in absolute)
        findings.append(Finding(
            "python.I101", INFO,
            f"no Jupyter kernel runs this Python ({exe}); kernels {names} run other "
            "Pythons, so packages installed here are not importable in those notebooks",
            hint=f"{python} -m pip install ipykernel && {python} -m ipykernel install "
                 "--user --name my-env --display-name \"Python (my-env)\"",
            details={"kernels": [k.get("name") for k in absolute]}))

    if conda:
        for item in dicts(conda.get("pip_and_conda")):
            name = item.get("name")
            findings.append(Finding(
                "python.W105", WARNING,
                f"{name} is installed by both conda ({item.get('conda_version')}) and "
                f"{item.get('installer')} ({item.get('installed_version')}) in "
                f"{conda.get('prefix')}: conda's record no longer matches the files",
                hint=f"{python} -m pip uninstall -y {name} && conda install "
                     f"--force-reinstall {name}  (or remove it from conda: "
                     f"conda remove --force {name})",
                details=dict(item)))

    details: dict[str, Any] = {
        "executable": exe,
        "pip": pip_mod.get("module_version") or pip_mod.get("dist_version"),
        "pip_commands": [{k: c.get(k) for k in ("command", "path", "interpreter",
                                                 "same_as_this", "wrapper")}
                         for c in dicts(env.get("pip_commands"))],
        "jupyter_kernels": [{k: c.get(k) for k in ("name", "language", "argv0", "exists",
                                                    "same_as_this")}
                            for c in dicts(env.get("jupyter_kernels"))],
    }
    problems = [f for f in findings if f.level >= WARNING]
    if not problems:
        return passed(f"pip {details['pip'] or '?'} installs into this Python", details,
                      findings)
    return outcome(f"{len(problems)} problem(s) between pip, PATH, Jupyter and this Python",
                   findings, details)
