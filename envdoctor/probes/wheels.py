"""Installed distributions' wheel tags and requirements; pip, Jupyter and conda around
this interpreter.

Two probes:

Both read the examined Python (``ctx.python``: ``--python``, ``--kernel`` or the one
envdoctor runs in), never ``sys``.

``pip``
    the examined interpreter's accepted wheel tags (compact, see :func:`wheeltags.compact_tags`),
    the marker environment, and for each installed distribution (first on ``sys.path``
    wins, as for pip and imports) the WHEEL ``Tag:`` lines and the ``Requires-Dist``
    strings. Checks ``pip.wheel_tags`` and ``pip.requirements`` re-run on these facts.
``python_env``
    whether pip is importable and whole, which interpreter the ``pip``/``pip3`` on PATH
    install into (read from the script's shebang, no subprocess), Jupyter kernels and
    the Python each runs, and packages installed by both conda and pip.

Only metadata files are read; nothing is imported and nothing is run.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from typing import Any, Optional

from envdoctor import distributions
from envdoctor.probes import Probe, ProbeContext

_HEADER_CHUNK = 8192


# Headers past this are not metadata anyone wrote by hand (a real header block is a
# few KB; old packages that fold the long description into a header reach ~100 KB).
MAX_HEADER_CHARS = 4 * 1024 * 1024


def read_headers(path: str) -> Optional[str]:
    """The header block of a METADATA/PKG-INFO file (up to the first blank line), in
    linear time: each chunk is searched once (with one character of overlap), never the
    whole text again, and at most :data:`MAX_HEADER_CHARS` are read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            chunks: list[str] = []
            total = 0
            previous = ""
            while total < MAX_HEADER_CHARS:
                chunk = fh.read(_HEADER_CHUNK)
                if not chunk:
                    break
                end = (previous + chunk).find("\n\n")
                if end >= 0:
                    # the blank line starts at offset end - len(previous) in this chunk
                    chunks.append(chunk[:max(0, end - len(previous))])
                    text = "".join(chunks)
                    return text[:-1] if end < len(previous) else text
                chunks.append(chunk)
                total += len(chunk)
                previous = chunk[-1:]
            return "".join(chunks)
    except OSError:
        return None


def requires_from_headers(text: str) -> list[str]:
    """``Requires-Dist`` values, with folded continuation lines joined."""
    values: list[list[str]] = []
    in_requires = False
    for line in text.splitlines():
        if line[:1] in (" ", "\t"):
            if in_requires:
                values[-1].append(line.strip())
            continue
        key, sep, value = line.partition(":")
        in_requires = bool(sep) and key.strip().lower() == "requires-dist"
        if in_requires:
            values.append([value.strip()])
    return [" ".join(v).strip() for v in values if " ".join(v).strip()]


_NAME = re.compile(r"^Name:[ \t]*(\S+)[ \t]*$", re.MULTILINE | re.IGNORECASE)


def name_from_headers(text: str) -> Optional[str]:
    """The project name as its metadata spells it (``opencv-python-headless``), which
    is what pip prints; the dist-info folder has the escaped form."""
    match = _NAME.search(text)
    return match.group(1) if match else None


_SECTION = re.compile(r"^\[(.*)\]$")
_ONLY_EXTRA = re.compile(r""";\s*extra\s*==\s*(['"])[^'"]*\1\s*$""")


def requires_from_egg(text: str) -> list[str]:
    """An egg-info ``requires.txt`` in Requires-Dist spelling (``[extra:marker]`` sections
    become markers), as importlib.metadata converts it."""
    out: list[str] = []
    extra, marker = "", ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _SECTION.match(line)
        if match:
            extra, _, marker = match.group(1).partition(":")
            extra, marker = extra.strip(), marker.strip()
            continue
        conditions = []
        if marker:
            conditions.append(f"({marker})")
        if extra:
            conditions.append(f'extra == "{extra}"')
        out.append(line + ("; " + " and ".join(conditions) if conditions else ""))
    return out


def distribution_facts(dists: Iterable[distributions.Dist]) -> tuple[list[str], list[dict]]:
    """(sites, per-distribution facts) for the first distribution of each name."""
    from envdoctor.wheeltags import parse_wheel_file

    sites: list[str] = []
    site_index: dict[str, int] = {}
    seen: set[str] = set()
    out: list[dict] = []
    for dist in dists:
        if dist.key in seen:
            continue
        seen.add(dist.key)
        if dist.site not in site_index:
            site_index[dist.site] = len(sites)
            sites.append(dist.site)
        entry: dict[str, Any] = {"name": dist.name, "version": dist.version,
                                 "site": site_index[dist.site]}
        if dist.path.endswith(".dist-info"):
            entry["format"] = "dist-info"
            tags, problem = parse_wheel_file(dist.read_text("WHEEL"))
            entry["wheel_tags"] = tags
            if problem:
                entry["wheel_problem"] = problem
            headers = read_headers(os.path.join(dist.path, "METADATA"))
            if headers is None:
                entry["metadata_problem"] = "no METADATA file"
                requires: list[str] = []
            else:
                requires = requires_from_headers(headers)
                spelled = name_from_headers(headers)
                if spelled and distributions.normalize(spelled) == dist.key:
                    entry["name"] = spelled
        else:
            entry["format"] = "egg-info"
            entry["wheel_tags"] = None
            entry["wheel_problem"] = "not installed from a wheel (egg-info)"
            if os.path.isdir(dist.path):
                requires = requires_from_egg(dist.read_text("requires.txt") or "")
            else:  # a single PKG-INFO style .egg-info file
                requires = []
        # Requirements that apply only with an extra never count (pip check passes no
        # extras): leave them out of the report.
        requires = [r for r in requires if not _ONLY_EXTRA.search(r)]
        if requires:
            entry["requires"] = requires
        out.append(entry)
    return sites, out


def marker_environment() -> dict[str, str]:
    """PEP 508 marker variables of the running interpreter, computed by the probe
    script's code (which the examined Python runs); a test keeps them equal to
    packaging's ``default_environment()``."""
    from envdoctor.target.probe_script import marker_environment as of_running

    return of_running()


def probe_pip(ctx: ProbeContext) -> dict:
    from envdoctor.target.tags import describe_cached

    snap = ctx.python.snapshot()
    sites, dists = distribution_facts(ctx.python.distributions())
    return {
        "interpreter": describe_cached(snap),
        "marker_environment": dict(snap["marker_environment"]),
        "sites": sites,
        "distributions": dists,
    }


# ---------------------------------------------------------------------------------------
# python_env: pip module, pip on PATH, Jupyter kernels, conda + pip
# ---------------------------------------------------------------------------------------

def _venv_root(path: str) -> Optional[str]:
    folder = os.path.dirname(os.path.abspath(path))
    for candidate in (folder, os.path.dirname(folder)):
        if os.path.isfile(os.path.join(candidate, "pyvenv.cfg")):
            return os.path.normcase(candidate)
    return None


def same_python(a: Optional[str], b: Optional[str]) -> Optional[bool]:
    """Whether two interpreter paths install into the same environment.

    Symlinks are followed (python3 -> python3.11) but a virtual environment's python,
    a link to the base interpreter, is a different environment from that base.
    """
    if not a or not b:
        return None
    if os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b)):
        return True
    try:
        real_a, real_b = os.path.realpath(a), os.path.realpath(b)
    except (OSError, ValueError):
        return None
    if os.path.normcase(real_a) != os.path.normcase(real_b):
        return False
    return _venv_root(a) == _venv_root(b)


_EXE_SHEBANG = re.compile(rb'#!"?([^\r\n"]*?pythonw?[\d.]*\.exe)"?\r?\n', re.IGNORECASE)


def script_interpreter(path: str, environ: dict) -> dict[str, Any]:
    """The interpreter a console script (pip, jupyter...) runs, from its shebang."""
    info: dict[str, Any] = {"path": path, "interpreter": None, "how": None}
    try:
        with open(path, "rb") as fh:
            data = fh.read(1 << 20)
    except OSError as exc:
        info["how"] = f"unreadable: {exc.strerror or exc}"
        return info
    if path.lower().endswith(".exe") or data[:2] == b"MZ":
        found = _EXE_SHEBANG.findall(data)
        if found:
            info.update(interpreter=found[-1].decode("utf-8", "replace"), how="launcher")
        else:
            info["how"] = "no shebang in the launcher"
        return info
    lines = data[:4096].decode("utf-8", "replace").splitlines()
    if not lines or not lines[0].startswith("#!"):
        info["how"] = "no shebang"
        return info
    words = lines[0][2:].strip().split()
    if not words:
        info["how"] = "empty shebang"
        return info
    if os.path.basename(words[0]) == "sh" and len(lines) > 1 and \
            lines[1].startswith("'''exec'"):
        # pip's form for long paths or paths with spaces:  '''exec' "/p/python" "$0" "$@"
        match = re.match(r"'''exec' +(\"([^\"]+)\"|(\S+))", lines[1])
        if match:
            info.update(interpreter=match.group(2) or match.group(3), how="sh-exec")
            return info
    if os.path.basename(words[0]) == "env":
        rest = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        if rest:
            import shutil

            info.update(interpreter=shutil.which(rest[0], path=environ.get("PATH")),
                        how=f"env {rest[0]}")
            return info
    info.update(interpreter=words[0], how="shebang")
    return info


def pyenv_shim_target(path: str, name: str, environ: dict, cwd: str) -> Optional[str]:
    """The real script a pyenv shim (``$PYENV_ROOT/shims/NAME``) runs, decided the way
    pyenv does, from files only (no ``pyenv which`` subprocess): PYENV_VERSION, else the
    nearest ``.python-version`` from the current folder up, else
    ``$PYENV_ROOT/version``, else "system" (the next NAME on PATH after the shims).
    None when it cannot tell."""
    shims = os.path.dirname(os.path.abspath(path))
    if os.path.basename(shims) != "shims":
        return None
    root = os.path.dirname(shims)
    if not os.path.isdir(os.path.join(root, "versions")) and not environ.get("PYENV_ROOT"):
        return None

    def read_versions(file: str) -> Optional[list[str]]:
        try:
            with open(file, encoding="utf-8", errors="replace") as fh:
                words = [w for line in fh.read(4096).splitlines()
                         if not line.lstrip().startswith("#") for w in line.split()]
        except OSError:
            return None
        return words or None

    versions: Optional[list[str]] = None
    if environ.get("PYENV_VERSION"):
        versions = [v for v in environ["PYENV_VERSION"].split(":") if v]
    folder = os.path.abspath(cwd) if cwd else ""
    while versions is None and folder:
        versions = read_versions(os.path.join(folder, ".python-version"))
        parent = os.path.dirname(folder)
        folder = "" if parent == folder else parent
    if versions is None:
        versions = read_versions(os.path.join(root, "version")) or ["system"]
    for version in versions:
        if version == "system":
            import shutil

            rest = os.pathsep.join(
                d for d in (environ.get("PATH") or "").split(os.pathsep)
                if d and os.path.normcase(os.path.abspath(d)) != os.path.normcase(shims))
            found = shutil.which(name, path=rest)
            if found:
                return found
            continue
        candidate = os.path.join(root, "versions", version, "bin", name)
        if os.path.isfile(candidate):
            return candidate
    return None


def _pip_module(origin: Any, by_key: dict[str, distributions.Dist]) -> dict[str, Any]:
    """pip's state from where the target would import it (``origin``: the probe script's
    ``pip_module``, a file path, None, or {"error": ...}) and its dist-info."""
    facts: dict[str, Any] = {"module": None, "module_version": None, "dist_version": None,
                             "internal": None, "problem": None}
    dist = by_key.get("pip")
    facts["dist_version"] = dist.version if dist else None
    if isinstance(origin, dict):
        facts["problem"] = f"finding pip failed: {origin.get('error')}"
        return facts
    if not origin or not isinstance(origin, str):
        if dist is not None:
            facts["problem"] = (f"pip's metadata ({dist.name}-{dist.version}) is installed "
                                "but the pip package itself is gone")
        return facts
    folder = os.path.dirname(origin)
    facts["module"] = folder
    facts["internal"] = os.path.isfile(os.path.join(folder, "_internal", "__init__.py"))
    try:
        with open(origin, encoding="utf-8", errors="replace") as fh:
            match = re.search(r"""__version__\s*=\s*["']([^"']+)["']""", fh.read(4096))
        facts["module_version"] = match.group(1) if match else None
    except OSError:
        pass
    if not facts["internal"]:
        facts["problem"] = "pip's package is incomplete (pip/_internal is missing)"
    elif dist is not None and facts["module_version"] and \
            facts["module_version"] != dist.version:
        facts["problem"] = (f"pip's files say version {facts['module_version']} but its "
                            f"metadata says {dist.version} (a half-finished upgrade)")
    return facts


def _jupyter_dirs(ctx: ProbeContext, prefix: str) -> list[str]:
    env = ctx.environ
    dirs: list[str] = []
    for entry in (env.get("JUPYTER_PATH") or "").split(os.pathsep):
        if entry:
            dirs.append(entry)
    home = env.get("HOME") or env.get("USERPROFILE") or os.path.expanduser("~")
    if env.get("JUPYTER_DATA_DIR"):
        dirs.append(env["JUPYTER_DATA_DIR"])
    elif sys.platform == "darwin":
        dirs.append(os.path.join(home, "Library", "Jupyter"))
    elif os.name == "nt":
        if env.get("APPDATA"):
            dirs.append(os.path.join(env["APPDATA"], "jupyter"))
    else:
        xdg = env.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
        dirs.append(os.path.join(xdg, "jupyter"))
    dirs.append(os.path.join(prefix, "share", "jupyter"))
    if os.name == "nt":
        if env.get("PROGRAMDATA"):
            dirs.append(os.path.join(env["PROGRAMDATA"], "jupyter"))
    else:
        dirs += [ctx.path("/usr/local/share/jupyter"), ctx.path("/usr/share/jupyter")]
    unique: list[str] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def _kernels(ctx: ProbeContext, prefix: str, this: Optional[str]) -> list[dict[str, Any]]:
    """Kernel specs in the Jupyter data folders as seen from the examined Python
    (``prefix``, executable ``this``)."""
    import json
    import shutil

    kernels: list[dict[str, Any]] = []
    seen: set[str] = set()
    for data_dir in _jupyter_dirs(ctx, prefix):
        folder = os.path.join(data_dir, "kernels")
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            spec_file = os.path.join(folder, name, "kernel.json")
            if name.lower() in seen or not os.path.isfile(spec_file):
                continue
            seen.add(name.lower())  # the first data dir wins, as in jupyter_client
            entry: dict[str, Any] = {"name": name, "spec": spec_file}
            try:
                with open(spec_file, encoding="utf-8", errors="replace") as fh:
                    spec = json.load(fh)
                argv = spec.get("argv") if isinstance(spec, dict) else None
                if not isinstance(argv, list) or not argv or not isinstance(argv[0], str):
                    raise ValueError("no argv list")
            except (OSError, ValueError) as exc:
                entry["problem"] = f"unreadable kernel.json: {exc}"
                kernels.append(entry)
                continue
            language = str(spec.get("language") or "")
            entry.update(language=language, display_name=str(spec.get("display_name") or ""),
                         argv0=argv[0])
            if language.lower() != "python":
                kernels.append(entry)
                continue
            exe = argv[0]
            if not os.path.isabs(exe):
                entry["relative"] = True
                exe = shutil.which(exe, path=ctx.environ.get("PATH")) or ""
            entry["python"] = exe or None
            entry["exists"] = bool(exe) and os.path.exists(exe)
            entry["same_as_this"] = same_python(exe, this) if entry["exists"] \
                else False
            kernels.append(entry)
    return kernels


def conda_pip_duplicates(prefix: str, dists: Optional[list[distributions.Dist]] = None
                         ) -> Optional[dict[str, Any]]:
    """Packages of the conda environment at ``prefix`` whose files pip (or uv) replaced:
    a conda-meta record plus a dist-info whose INSTALLER is not conda."""
    meta = os.path.join(prefix, "conda-meta")
    try:
        records = os.listdir(meta)
    except OSError:
        return None
    conda: dict[str, str] = {}
    for record in records:
        if not record.endswith(".json"):
            continue
        parts = record[:-5].rsplit("-", 2)  # name-version-build.json
        if len(parts) == 3:
            conda[distributions.normalize(parts[0])] = parts[1]
    both: list[dict[str, str]] = []
    prefix_norm = os.path.normcase(os.path.abspath(prefix))
    for dist in dists if dists is not None else distributions.installed():
        if dist.key not in conda or not dist.path.endswith(".dist-info"):
            continue
        if not os.path.normcase(os.path.abspath(dist.site)).startswith(prefix_norm):
            continue
        installer = (dist.read_text("INSTALLER") or "").strip().lower()
        if installer and installer != "conda":
            both.append({"name": dist.key, "conda_version": conda[dist.key],
                         "installed_version": dist.version, "installer": installer})
    return {"prefix": prefix, "packages": len(conda), "pip_and_conda": both}


def _tool_environment(prefix: str) -> Optional[str]:
    """pipx (``pipx install``: PIPX_HOME/venvs/NAME; ``pipx run``: PIPX_HOME/.cache/HASH)
    or uv (``uv tool``: .../uv/tools/NAME; ``uvx``: the uv cache) by the prefix's path."""
    norm = prefix.replace("\\", "/").lower()
    if "/pipx/venvs/" in norm or "/pipx/.cache/" in norm:
        return "pipx"
    if "/uv/tools/" in norm or "/uv/archive-" in norm or "/.cache/uv/" in norm:
        return "uv"
    return None


def _looks_like_python(path: str) -> bool:
    base = os.path.basename(path).lower()
    return base.startswith(("python", "pypy", "graalpy")) or base in ("py.exe", "pyw.exe")


def probe_python_env(ctx: ProbeContext) -> dict:
    import shutil

    snap = ctx.python.snapshot()
    this = snap.get("executable") or None
    prefix = snap["prefix"]
    path = ctx.environ.get("PATH")
    commands = []
    for name in ("pip", "pip3"):
        found = shutil.which(name, path=path)
        if not found:
            continue
        info = script_interpreter(found, dict(ctx.environ))
        exe = info["interpreter"]
        info["command"] = name
        info["interpreter_exists"] = bool(exe) and os.path.exists(exe)
        info["same_as_this"] = None
        if exe and not _looks_like_python(exe):
            # A shell wrapper (pyenv/asdf shims...): which Python it picks is decided at
            # run time. pyenv's choice can be read from its files; others: say so rather
            # than guess.
            try:
                cwd = os.getcwd()
            except OSError:
                cwd = ""
            real = pyenv_shim_target(found, name, dict(ctx.environ), cwd)
            resolved = script_interpreter(real, dict(ctx.environ)) if real else None
            if resolved and resolved["interpreter"] and \
                    _looks_like_python(resolved["interpreter"]):
                exe = resolved["interpreter"]
                info.update(interpreter=exe, how=f"pyenv shim -> {real}", via="pyenv",
                            interpreter_exists=os.path.exists(exe))
            else:
                info["wrapper"] = os.path.basename(exe)
        if not info.get("wrapper") and info["interpreter_exists"]:
            info["same_as_this"] = same_python(exe, this)
        commands.append(info)
    dists = ctx.python.distributions()
    by_key: dict[str, distributions.Dist] = {}
    for dist in dists:
        by_key.setdefault(dist.key, dist)
    return {
        "executable": this,
        "prefix": prefix,
        "virtual_env": prefix != snap["base_prefix"],
        "tool_environment": _tool_environment(prefix),
        "pip_module": _pip_module(snap.get("pip_module"), by_key),
        "ensurepip": bool(snap.get("ensurepip")),
        "externally_managed": bool(snap.get("externally_managed")),
        "pip_commands": commands,
        "jupyter_kernels": _kernels(ctx, prefix, this),
        "conda": conda_pip_duplicates(prefix, dists),
    }


PROBES = [
    Probe("pip", probe_pip),  # wheel tags and requirements; this interpreter's tags
    Probe("python_env", probe_python_env),  # pip, pip on PATH, Jupyter kernels, conda
]
