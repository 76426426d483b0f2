"""python.interpreter: the running Python (version, 32/64-bit, environment kind) and
whether the installed frameworks support it."""

from __future__ import annotations

import functools
import re
from typing import Any, Optional

from envdoctor.facts import as_dict, text
from envdoctor.registry import register
from envdoctor.result import INFO, WARNING, Finding, Outcome, outcome

CODES = {
    "python.W001": "32-bit Python on a 64-bit system: no PyTorch, TensorFlow or JAX wheels "
                   "exist for it (and no CUDA).",
    "python.W002": "32-bit operating system: PyTorch, TensorFlow and JAX publish no wheels "
                   "for it.",
    "python.W003": "An installed framework release does not support this Python version.",
    "python.I001": "An installed framework supports this Python version only experimentally.",
    "python.I002": "This system Python refuses `pip install` (PEP 668, externally managed).",
}


@functools.lru_cache(maxsize=1)
def support_table() -> list[dict[str, Any]]:
    """Frameworks of envdoctor/data/python_support.json (each with its source)."""
    from envdoctor.data import load

    return list(load("python_support.json")["frameworks"])


def _minor(text: str) -> Optional[tuple[int, int]]:
    parts = str(text).split(".")
    try:
        return int(parts[0]), int(parts[1].rstrip("t"))
    except (IndexError, ValueError):
        return None


# "2.6.0" or "2.6.0+cu126", as wheels spell their versions: a valid PEP 440 version whose
# major.minor needs no parser, which spares importing packaging on most runs.
_PLAIN_VERSION = r"([0-9]+)(?:\.([0-9]+))?(?:\.[0-9]+)*(?:\+[a-zA-Z0-9]+(?:[-_.][a-zA-Z0-9]+)*)?"


def _release(version: str) -> Optional[str]:
    plain = re.fullmatch(_PLAIN_VERSION, version)
    if plain:
        return f"{int(plain.group(1))}.{int(plain.group(2) or 0)}"
    from packaging.version import InvalidVersion, Version

    try:
        release = Version(version).release
    except (InvalidVersion, TypeError):
        return None
    return f"{release[0]}.{release[1] if len(release) > 1 else 0}"


def framework_support(dists: dict[str, Any], py: tuple[int, int], free_threaded: bool
                      ) -> list[dict[str, Any]]:
    """One verdict per installed framework found in the table: supported, experimental,
    unsupported or unknown (release not in the table)."""
    verdicts = []
    py_text = f"{py[0]}.{py[1]}" + ("t" if free_threaded else "")
    for fw in support_table():
        for name in fw.get("packages", ()):
            if name not in dists:
                continue
            version = str(dists[name])
            release = _release(version)
            row = next((r for r in fw.get("rows", ()) if r.get("release") == release), None)
            verdict: dict[str, Any] = {"framework": fw.get("display"), "package": name,
                                       "version": version, "release": release,
                                       "source": fw.get("source")}
            if row is None:
                verdict["status"] = "unknown"
            else:
                low, high = (_minor(v) for v in row["python"])
                verdict["python"] = f"{row['python'][0]}-{row['python'][1]}"
                experimental = row.get("experimental") or []
                if py_text in experimental or (not free_threaded and
                                               f"{py[0]}.{py[1]}" in experimental):
                    verdict["status"] = "experimental"
                elif low and high and low <= py <= high:
                    verdict["status"] = ("free-threaded not listed" if free_threaded
                                         else "supported")
                else:
                    verdict["status"] = "unsupported"
                verdict["experimental"] = experimental
            verdicts.append(verdict)
            break  # one package per framework is enough
    return verdicts


@register("python.interpreter", title="Python interpreter", tags=("python", "install"),
          needs=("python", "platform", "packages"), codes=CODES)
def check_interpreter(facts: dict[str, Any]) -> Outcome:
    """Describes the running Python and checks that deep-learning frameworks can use it.

    Reports the version, whether it is a 32- or 64-bit build, and whether it runs in a
    virtual environment, a conda environment or the system installation, with its path.

    Problems it finds: a 32-bit Python (PyTorch, TensorFlow and JAX publish 64-bit wheels
    only, so `pip install torch` says "No matching distribution found"); an installed
    PyTorch or TensorFlow release that does not support this Python version (from the
    projects' own support tables, shipped in envdoctor/data/python_support.json with
    their sources); a system Python that refuses `pip install` ("externally managed").

    How to fix: install a 64-bit Python (python.org, or Miniforge), create a virtual
    environment with a Python version your framework supports
    (`python3.12 -m venv ~/venvs/dl`), or upgrade the framework (`pip install -U torch`).
    """
    py = facts.get("python") or {}
    plat = facts.get("platform") or {}
    dists = as_dict(as_dict(facts.get("packages")).get("distributions"))
    info = py.get("version_info") if isinstance(py.get("version_info"), list) else []
    version = py.get("version") or ".".join(str(v) for v in info) or "?"
    try:
        minor: Optional[tuple[int, int]] = (int(info[0]), int(info[1]))
    except (IndexError, TypeError, ValueError, OverflowError):
        minor = _minor(version)
    bits = py.get("bits")
    env_kind = text(py.get("environment")) or "unknown"
    free_threaded = bool(py.get("free_threaded"))
    details: dict[str, Any] = {
        "version": version, "implementation": py.get("implementation"), "bits": bits,
        "environment": env_kind, "executable": py.get("executable"),
        "prefix": py.get("prefix"), "free_threaded": free_threaded,
    }
    findings: list[Finding] = []
    windows = plat.get("system") == "Windows"
    if bits == 32 and plat.get("os_bits") == 64:
        findings.append(Finding(
            "python.W001", WARNING,
            f"This is a 32-bit Python ({version}) on a 64-bit system. PyTorch, TensorFlow "
            "and JAX publish 64-bit wheels only (and CUDA needs 64-bit), so pip reports "
            "'No matching distribution found' for them.",
            hint=("Uninstall it and install the 64-bit Python from "
                  "https://www.python.org/downloads/windows/ ('Windows installer (64-bit)'), "
                  "then recreate your environment" if windows else
                  "Install a 64-bit Python (your distribution's python3 package for "
                  f"{plat.get('machine') or 'x86_64'}, or Miniforge) and recreate your "
                  "environment")))
    elif bits == 32:
        findings.append(Finding(
            "python.W002", WARNING,
            "This is a 32-bit system: PyTorch, TensorFlow and JAX publish no wheels for "
            "32-bit systems, and CUDA needs a 64-bit one.",
            hint="Use a 64-bit operating system (and a 64-bit Python) for deep learning"))

    if minor is not None:
        verdicts = framework_support(dists, minor, free_threaded)
        details["framework_support"] = verdicts
        for v in verdicts:
            label = f"{v['framework']} {v['version']}"
            if v["status"] == "unsupported":
                findings.append(Finding(
                    "python.W003", WARNING,
                    f"{label} supports Python {v['python']}, but this is Python "
                    f"{minor[0]}.{minor[1]}: its compiled parts may fail to import or "
                    "behave wrongly.",
                    hint=f"Install a {v['framework']} release that supports Python "
                         f"{minor[0]}.{minor[1]} (`pip install -U {v['package']}`), or "
                         f"create an environment with Python {v['python'].split('-')[-1]} "
                         f"(e.g. `python{v['python'].split('-')[-1]} -m venv ~/venvs/dl`)",
                    details=v))
            elif v["status"] in ("experimental", "free-threaded not listed"):
                what = (f"free-threaded Python {minor[0]}.{minor[1]}t" if free_threaded
                        else f"Python {minor[0]}.{minor[1]}")
                findings.append(Finding(
                    "python.I001", INFO,
                    f"{label} supports {what} only experimentally or not officially "
                    f"(its release matrix: Python {v['python']}"
                    + (f", experimental {', '.join(v['experimental'])}"
                       if v.get("experimental") else "") + ").",
                    hint=f"If {v['framework']} misbehaves, use a Python it fully supports "
                         f"({v['python']})",
                    details=v))
    if py.get("externally_managed") and env_kind == "system":
        findings.append(Finding(
            "python.I002", INFO,
            "This is the operating system's own Python, marked 'externally managed': "
            "`pip install` refuses to install into it (error: externally-managed-"
            "environment).",
            hint="Create a virtual environment and install there: python3 -m venv "
                 "~/venvs/dl && . ~/venvs/dl/bin/activate && pip install torch"))

    where = {"virtualenv": "virtual environment", "conda": "conda environment",
             "system": "system installation"}.get(env_kind, env_kind)
    impl = py.get("implementation") or "python"
    summary = f"{'CPython' if impl == 'cpython' else impl} {version}, " \
              f"{bits or '?'}-bit, {where}"
    if py.get("executable"):
        summary += f" ({py['executable']})"
    return outcome(summary, findings, details)
