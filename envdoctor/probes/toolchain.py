"""Build toolchain: facts["toolchain"] (docs/report-schema.md, "toolchain").

What a ``pip install`` that compiles meets: the C/C++ compilers on PATH (gcc, g++,
clang, MSVC's cl on Windows), cmake and ninja, the nvcc on PATH and the host compilers
its ``crt/host_config.h`` accepts, the host compiler nvcc would use (``NVCC_CCBIN``, else
``CC`` as torch.utils.cpp_extension passes it, else g++), every PATH entry (missing,
repeated, CUDA bin folders and their versions), CUDA_HOME / CUDA_PATH, and the Python
headers JIT-compiled extensions need (of the examined interpreter, ``ctx.python``).

Each tool found on PATH runs once (``--version``) in its own thread, with the probe's
timeout: they cost one process start each and run side by side. Nothing runs for a tool
that is not on PATH, and a compiled tool whose file has not changed since an earlier
run is answered from envdoctor's cache (keyed by its real path, size, mtime and inode;
scripts are always run). bench/toolchain_bench.py measures it.
"""

from __future__ import annotations

import os
import platform as _platform
import shutil
import threading
from typing import Any, Optional

from envdoctor.probes import Probe, ProbeContext

# name -> (argv, parser in envdoctor.toolchain.versions)
TOOLS: dict[str, tuple[tuple[str, ...], str]] = {
    "gcc": (("gcc", "--version"), "gcc"),
    "g++": (("g++", "--version"), "gcc"),
    "clang": (("clang", "--version"), "clang"),
    "cmake": (("cmake", "--version"), "cmake"),
    "ninja": (("ninja", "--version"), "ninja"),
    "nvcc": (("nvcc", "--version"), "nvcc"),
}
WINDOWS_TOOLS: dict[str, tuple[tuple[str, ...], str]] = {"cl": (("cl",), "msvc")}
# Enough of any tool's output to find its version line (and no more to scan).
OUTPUT_CHARS = 4096
TOOL_TIMEOUT_S = 5.0


def _binary_identity(exe: str) -> Optional[list[Any]]:
    """What a compiled tool's ``--version`` answer depends on: the file itself (real
    path, size, modification time, inode). None for a script (``#!``: a wrapper such as
    a pyenv shim or /usr/local/bin/nvcc that execs another file, whose answer can change
    while the script does not) or a file that cannot be read."""
    real = os.path.realpath(exe)
    try:
        with open(real, "rb") as fh:
            if fh.read(2) == b"#!":
                return None
        st = os.stat(real)
    except OSError:
        return None
    return [real, st.st_size, st.st_mtime_ns, st.st_ino]


def _run_tool(exe: str, argv: tuple[str, ...], parser: str, timeout: float,
              env: dict[str, str]) -> dict[str, Any]:
    """``argv`` run from ``exe``, its version line read. A compiled binary's parsed
    answer is kept in envdoctor's cache keyed by the binary's identity, so a later run
    starts no process for an unchanged gcc or cmake (``ENVDOCTOR_NO_CACHE=1``: always run)."""
    identity = _binary_identity(exe)
    if identity is None:
        return _ask_tool(exe, argv, parser, timeout, env)
    from envdoctor import cache

    answers: dict[str, Any] = {}

    def compute() -> Optional[dict[str, Any]]:
        answers["live"] = _ask_tool(exe, argv, parser, timeout, env)
        # Only a clean answer is worth keeping; a timeout or garbage is asked again.
        return answers["live"] if answers["live"].get("version") else None

    stored = cache.memoize("toolchain-version", [identity, list(argv[1:]), parser], compute)
    if "live" in answers:
        return answers["live"]
    if isinstance(stored, dict) and stored.get("version"):
        return dict(stored, path=exe)
    return _ask_tool(exe, argv, parser, timeout, env)


def _ask_tool(exe: str, argv: tuple[str, ...], parser: str, timeout: float,
              env: dict[str, str]) -> dict[str, Any]:
    from envdoctor import proc
    from envdoctor.toolchain import versions

    result = proc.run([exe, *argv[1:]], timeout=timeout, env=env)
    out = (result.stdout + "\n" + result.stderr)[:OUTPUT_CHARS]
    info: dict[str, Any] = {"path": exe, "version": None, "error": result.error}
    parsed = versions.PARSERS[parser](out)
    if parsed:
        info.update(parsed)
    elif not result.error:
        first = next((ln.strip() for ln in out.splitlines() if ln.strip()), "")
        info["error"] = ("printed no version it could read" + (f": {first[:120]!r}"
                                                                if first else ""))
    return info


def _cuda_version_of(root: str) -> Optional[str]:
    """The CUDA version of a toolkit folder (version.json, else include/cuda.h)."""
    import json
    import re

    try:
        with open(os.path.join(root, "version.json"), encoding="utf-8") as fh:
            doc = json.load(fh)
        version = doc.get("cuda", {}).get("version") if isinstance(doc, dict) else None
        if isinstance(version, str):
            return ".".join(version.split(".")[:2])
    except (OSError, ValueError, AttributeError):
        pass
    try:
        with open(os.path.join(root, "include", "cuda.h"), encoding="utf-8",
                  errors="replace") as fh:
            match = re.search(r"#define\s+CUDA_VERSION\s+(\d+)", fh.read(200_000))
        if match:
            value = int(match.group(1))
            return f"{value // 1000}.{(value % 1000) // 10}"
    except OSError:
        pass
    return None


def _toolkit_root(nvcc: str) -> str:
    """<root> for <root>/bin/nvcc (symlinks followed)."""
    return os.path.dirname(os.path.dirname(os.path.realpath(nvcc)))


def _host_config(roots: list[str]) -> Optional[dict[str, Any]]:
    """host_config.h limits from the first toolkit root that has the header."""
    import glob

    from envdoctor.toolchain import host_config

    for root in roots:
        candidates = [os.path.join(root, "include", "crt", "host_config.h"),
                      *sorted(glob.glob(os.path.join(root, "targets", "*", "include", "crt",
                                                     "host_config.h")))]
        for header in candidates:
            try:
                with open(header, encoding="utf-8", errors="replace") as fh:
                    text = fh.read(400_000)
            except OSError:
                continue
            return {"header": header, "cuda": _cuda_version_of(root),
                    **host_config.parse(text)}
    return None


def _path_entries(path: str, windows: bool) -> list[dict[str, Any]]:
    seen: dict[str, int] = {}
    entries = []
    nvcc_name = "nvcc.exe" if windows else "nvcc"
    for raw in path.split(os.pathsep):
        key = os.path.normcase(os.path.normpath(raw)) if raw else ""
        entry: dict[str, Any] = {"dir": raw, "exists": bool(raw) and os.path.isdir(raw),
                                 "repeat_of": seen.get(key)}
        seen.setdefault(key, len(entries))
        if entry["exists"] and os.path.isfile(os.path.join(raw, nvcc_name)):
            root = _toolkit_root(os.path.join(raw, nvcc_name))
            entry["nvcc"] = True
            entry["cuda_version"] = _cuda_version_of(root)
        entries.append(entry)
    return entries


def _cuda_home(env: dict[str, str], nvcc_path: Optional[str]) -> dict[str, Any]:
    """CUDA_HOME / CUDA_PATH as set, and the folder torch.utils.cpp_extension would use
    (CUDA_HOME, else CUDA_PATH, else the nvcc on PATH's toolkit, else /usr/local/cuda)."""
    found: dict[str, Any] = {}
    for var in ("CUDA_HOME", "CUDA_PATH"):
        value = env.get(var)
        if value is None:
            continue
        nvcc = os.path.join(value, "bin", "nvcc.exe" if os.name == "nt" else "nvcc")
        found[var] = {"value": value, "exists": os.path.isdir(value),
                      "nvcc": os.path.isfile(nvcc), "cuda_version": _cuda_version_of(value)}
    if env.get("CUDA_HOME"):
        resolved = (env["CUDA_HOME"], "CUDA_HOME")
    elif env.get("CUDA_PATH"):
        resolved = (env["CUDA_PATH"], "CUDA_PATH")
    elif nvcc_path:
        resolved = (_toolkit_root(nvcc_path), "nvcc on PATH")
    elif os.path.isdir("/usr/local/cuda") and os.name != "nt":
        resolved = ("/usr/local/cuda", "/usr/local/cuda")
    else:
        resolved = (None, None)
    found["torch_extensions"] = {"path": resolved[0], "from": resolved[1],
                                 "cuda_version": _cuda_version_of(resolved[0])
                                 if resolved[0] else None}
    return found


def _python_headers(ctx: ProbeContext) -> dict[str, Any]:
    """The examined interpreter's include folder (--python / --kernel aware)."""
    from envdoctor.target.interpreter import TargetUnavailable

    try:
        include = ctx.python.snapshot().get("include_dir")
    except TargetUnavailable:
        include = None
    if not isinstance(include, str) or not include:
        return {"include_dir": None, "python_h": None}
    return {"include_dir": include,
            "python_h": bool(include) and os.path.isfile(os.path.join(include, "Python.h"))}


def _nvcc_host(env: dict[str, str], windows: bool) -> dict[str, Any]:
    """Which host compiler nvcc will call: NVCC_CCBIN, else CC (torch.utils.cpp_extension
    passes it as -ccbin), else cl on Windows and g++ elsewhere."""
    for var in ("NVCC_CCBIN", "CC"):
        if env.get(var):
            return {"compiler": env[var], "from": var}
    return {"compiler": "cl" if windows else "g++", "from": "default"}


def probe_toolchain(ctx: ProbeContext) -> dict[str, Any]:
    env = dict(ctx.environ)
    path = env.get("PATH", "")
    windows = _platform.system() == "Windows"
    tools = dict(TOOLS, **(WINDOWS_TOOLS if windows else {}))
    host = _nvcc_host(env, windows)
    host_name = os.path.basename(host["compiler"])
    timeout = min(ctx.timeout, TOOL_TIMEOUT_S)
    jobs: dict[str, tuple[str, tuple[str, ...], str]] = {}
    for name, (argv, parser) in tools.items():
        exe = shutil.which(argv[0], path=path)
        if exe:
            jobs[name] = (exe, argv, parser)
    if host["from"] != "default":
        exe = host["compiler"] if os.path.sep in host["compiler"] else \
            shutil.which(host["compiler"], path=path)
        if exe:
            parser = "msvc" if host_name.lower().startswith("cl") else \
                "clang" if "clang" in host_name else "gcc"
            jobs["nvcc_host"] = (exe, (exe, "--version") if parser != "msvc" else (exe,),
                                 parser)

    results: dict[str, dict[str, Any]] = {}

    def work(name: str, exe: str, argv: tuple[str, ...], parser: str) -> None:
        results[name] = _run_tool(exe, argv, parser, timeout, env)

    threads = [threading.Thread(target=work, args=(name, *job), daemon=True,
                                name=f"toolchain-{name}") for name, job in jobs.items()]
    for thread in threads:
        thread.start()
    # Cheap file reads while the tools run.
    nvcc_path = jobs["nvcc"][0] if "nvcc" in jobs else None
    entries = _path_entries(path, windows)
    cuda_home = _cuda_home(env, nvcc_path)
    roots = [r for r in (_toolkit_root(nvcc_path) if nvcc_path else None,
                         env.get("CUDA_HOME"), env.get("CUDA_PATH"), "/usr/local/cuda") if r]
    limits = _host_config(roots) if nvcc_path else None
    headers = _python_headers(ctx)
    for thread in threads:
        thread.join(timeout + 1.0)

    ran = results.get("nvcc", {})
    for entry in entries:  # a wrapper script's folder has no version file: ask nvcc
        if (entry.get("nvcc") and not entry.get("cuda_version") and nvcc_path
                and ran.get("version") and os.path.dirname(nvcc_path) == entry["dir"]):
            entry["cuda_version"] = ran["version"]
    compilers = {name: results.get(name, {"path": None, "version": None,
                                          "error": "not found on PATH"})
                 for name in tools if name not in ("cmake", "ninja", "nvcc")}
    if host["from"] == "default":
        host.update(compilers.get(host_name, {"path": None, "version": None}))
    else:
        host.update(results.get("nvcc_host", {"path": None, "version": None,
                                               "error": "not found"}))
    missing = {"path": None, "version": None, "error": "not found on PATH"}
    return {
        "compilers": compilers,
        "cmake": results.get("cmake", missing),
        "ninja": results.get("ninja", missing),
        "nvcc": results.get("nvcc", missing),
        "nvcc_host": host,
        "nvcc_host_limits": limits,
        "path_entries": entries,
        "cuda_home": cuda_home,
        "python_headers": headers,
    }


PROBES = [Probe("toolchain", probe_toolchain)]
