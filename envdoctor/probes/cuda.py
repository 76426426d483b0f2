"""CUDA user space: facts["cuda"].

What it finds, and where:

* ``libcuda``: whether libcuda.so.1 (nvcuda.dll) loads, the file that loaded, its
  cuDriverGetVersion and cuInit result (ctypes, in a worker thread with a deadline);
* ``runtimes``: every CUDA runtime found: pip wheels (nvidia-cuda-runtime-cu11/12/13,
  read from their dist-info), system toolkits (/usr/local/cuda*, /opt/cuda, CUDA_HOME,
  CUDA_PATH, their version.json / version.txt / cuda.h), nvcc on PATH (``nvcc --version``
  with a timeout), libcudart in LD_LIBRARY_PATH entries;
* ``cudnn``: pip wheels (nvidia-cudnn-cuXX), cudnn_version.h / cudnn.h next to a
  toolkit or in /usr/include, libcudnn.so.<version> files;
* ``ld_library_path``: each entry with the CUDA libraries it holds;
* ``ldconfig``: the loader cache's CUDA libraries (``ldconfig -p``, Linux, only when
  there is something CUDA-like on the machine).

Several toolkits at once is a fact worth showing, so nothing is deduplicated away
except the same directory reached through a symlink (/usr/local/cuda -> cuda-12.4).
"""

from __future__ import annotations

import os
import platform as _platform
import re
import shutil
import threading
from typing import Any, Optional

from envdoctor.probes import Probe, ProbeContext

_PIP_RUNTIME = re.compile(r"^nvidia-cuda-runtime(?:-cu(\d+))?$")
_PIP_CUDNN = re.compile(r"^nvidia-cudnn(?:-cu(\d+))?$")
_PIP_OTHER = re.compile(r"^nvidia-([a-z0-9-]+?)(?:-cu(\d+))?$")
_LIB_VERSIONED = re.compile(r"^lib(cudart|cudnn|cuda|nvidia-ml)\.so\.(\d+(?:\.\d+)*)$")
_WIN_DLL = re.compile(r"^(cudart|cudnn)64_(\d+)\.dll$", re.I)
TOOLKIT_GLOBS = ("/usr/local", "/opt")

# CUresult values worth a name (cuda.h).
CU_RESULTS = {0: "CUDA_SUCCESS", 1: "CUDA_ERROR_INVALID_VALUE", 2: "CUDA_ERROR_OUT_OF_MEMORY",
              3: "CUDA_ERROR_NOT_INITIALIZED", 34: "CUDA_ERROR_STUB_LIBRARY",
              46: "CUDA_ERROR_DEVICE_UNAVAILABLE", 100: "CUDA_ERROR_NO_DEVICE",
              101: "CUDA_ERROR_INVALID_DEVICE", 304: "CUDA_ERROR_OPERATING_SYSTEM",
              800: "CUDA_ERROR_NOT_PERMITTED", 801: "CUDA_ERROR_NOT_SUPPORTED",
              802: "CUDA_ERROR_SYSTEM_NOT_READY", 803: "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
              804: "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE", 999: "CUDA_ERROR_UNKNOWN"}


def major_minor(version: Optional[str]) -> Optional[str]:
    if not version:
        return None
    parts = re.findall(r"\d+", str(version))
    return f"{parts[0]}.{parts[1]}" if len(parts) >= 2 else None


def cudnn_version(version: Optional[str]) -> Optional[str]:
    """ "9.1.0.70" -> "9.1.0"; "8" stays "8"."""
    if not version:
        return None
    parts = re.findall(r"\d+", str(version))
    return ".".join(parts[:3]) if parts else None


# -- pip wheels -----------------------------------------------------------------------
def pip_facts(by_key: dict) -> tuple[list[dict], list[dict], list[dict]]:
    """(runtimes, cudnn, other nvidia-* CUDA library wheels) from the dist-info folders
    of the examined Python (``ctx.python.by_key()``)."""
    runtimes, cudnn, others = [], [], []
    for key, dist in sorted(by_key.items()):
        if not key.startswith("nvidia-"):
            continue
        lib_root = os.path.join(dist.site, "nvidia")
        m = _PIP_RUNTIME.match(key)
        if m:
            major = int(m.group(1)) if m.group(1) else None
            runtimes.append({"version": major_minor(dist.version), "kind": "pip", "where": key,
                             "package_version": dist.version, "cuda_major": major
                             or _major(dist.version), "site": dist.site,
                             "lib_dir": _first_dir(lib_root, ("cuda_runtime/lib", "cu13/lib"))})
            continue
        m = _PIP_CUDNN.match(key)
        if m:
            cudnn.append({"version": cudnn_version(dist.version), "kind": "pip", "where": key,
                          "package_version": dist.version,
                          "cuda_major": int(m.group(1)) if m.group(1) else None,
                          "site": dist.site, "lib_dir": _first_dir(lib_root, ("cudnn/lib",))})
            continue
        m = _PIP_OTHER.match(key)
        if m and m.group(2):
            others.append({"name": key, "version": dist.version, "cuda_major": int(m.group(2))})
    return runtimes, cudnn, others


def _major(version: Optional[str]) -> Optional[int]:
    parts = re.findall(r"\d+", str(version or ""))
    return int(parts[0]) if parts else None


def _first_dir(root: str, subdirs: tuple[str, ...]) -> Optional[str]:
    for sub in subdirs:
        path = os.path.join(root, sub)
        if os.path.isdir(path):
            return path
    return None


# -- toolkits ---------------------------------------------------------------------------
def toolkit_version(root: str) -> tuple[Optional[str], Optional[str]]:
    """(full version, file it came from) for a toolkit directory."""
    path = os.path.join(root, "version.json")
    try:
        import json

        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        version = (data.get("cuda") or data.get("cuda_cudart") or {}).get("version")
        if version:
            return str(version), "version.json"
    except (OSError, ValueError, AttributeError):
        pass
    text = _read(os.path.join(root, "version.txt"))
    if text:
        m = re.search(r"CUDA Version\s+(\d+\.\d+(?:\.\d+)?)", text)
        if m:
            return m.group(1), "version.txt"
    text = _read(os.path.join(root, "include", "cuda.h"), 400_000)
    if text:
        m = re.search(r"#define\s+CUDA_VERSION\s+(\d+)", text)
        if m:
            v = int(m.group(1))
            return f"{v // 1000}.{(v % 1000) // 10}", "include/cuda.h"
    return None, None


def _read(path: str, limit: int = 100_000) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(limit)
    except OSError:
        return None


def header_cudnn_version(include_dir: str) -> Optional[tuple[str, str]]:
    """cuDNN's version from cudnn_version.h (cuDNN 8+) or cudnn.h (7 and older)."""
    try:
        names = sorted(os.listdir(include_dir))
    except OSError:
        return None
    candidates = [n for n in names if re.fullmatch(r"cudnn_version(_v\d+)?\.h", n)]
    candidates += [n for n in names if re.fullmatch(r"cudnn(_v\d+)?\.h", n)]
    for name in candidates:
        text = _read(os.path.join(include_dir, name), 400_000) or ""
        values = dict(re.findall(r"#define\s+CUDNN_(MAJOR|MINOR|PATCHLEVEL)\s+(\d+)", text))
        if "MAJOR" in values:
            version = ".".join(values.get(k, "0") for k in ("MAJOR", "MINOR", "PATCHLEVEL"))
            return version, os.path.join(include_dir, name)
    return None


def _libs_in(directory: str) -> list[dict]:
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    libs = []
    for name in names:
        m = _LIB_VERSIONED.match(name)
        if m:
            libs.append({"lib": m.group(1), "file": name, "version": m.group(2)})
            continue
        m = _WIN_DLL.match(name)
        if m:
            libs.append({"lib": m.group(1).lower(), "file": name, "version": m.group(2)})
    return libs


def _best(libs: list[dict], lib: str) -> Optional[str]:
    """The most precise version among a directory's files for ``lib``."""
    versions = [entry["version"] for entry in libs if entry["lib"] == lib]
    return max(versions, key=lambda v: (v.count("."), [int(x) for x in v.split(".")]),
               default=None)


def toolkit_dirs(ctx: ProbeContext) -> list[tuple[str, str]]:
    """(path as shown, how found) for every candidate toolkit directory."""
    found: list[tuple[str, str]] = []
    for base in TOOLKIT_GLOBS:
        try:
            names = sorted(os.listdir(ctx.path(base)))
        except OSError:
            continue
        for name in names:
            if name == "cuda" or name.startswith("cuda-") or re.fullmatch(r"cuda\d+(\.\d+)?", name):
                found.append((f"{base}/{name}", base))
    for var in ("CUDA_HOME", "CUDA_PATH", "CUDA_ROOT", "CUDA_TOOLKIT_ROOT_DIR"):
        value = ctx.environ.get(var)
        if value:
            found.append((value, var))
    for var, value in sorted(ctx.environ.items()):
        if var.startswith("CUDA_PATH_V") and value:
            found.append((value, var))
    return found


def toolkits(ctx: ProbeContext) -> tuple[list[dict], list[dict]]:
    """System toolkits (one entry per real directory) and cuDNN found inside them."""
    by_real: dict[str, dict] = {}
    cudnn: list[dict] = []
    for shown, how in toolkit_dirs(ctx):
        real_path = ctx.path(shown) if how in TOOLKIT_GLOBS else shown
        if not os.path.isdir(real_path):
            if how not in TOOLKIT_GLOBS:
                by_real.setdefault(f"missing:{shown}", {
                    "version": None, "kind": "toolkit", "where": shown, "found_by": [how],
                    "exists": False})
            continue
        real = os.path.realpath(real_path)
        entry = by_real.get(real)
        if entry is not None:
            if how not in entry["found_by"]:
                entry["found_by"].append(how)
            if shown != entry["where"] and shown not in entry["aliases"]:
                entry["aliases"].append(shown)
            continue
        version, source = toolkit_version(real_path)
        lib_dir = next((d for d in ("lib64", "lib", "targets/x86_64-linux/lib", "bin")
                        if os.path.isdir(os.path.join(real_path, d))), None)
        libs = _libs_in(os.path.join(real_path, lib_dir)) if lib_dir else []
        if version is None:
            cudart = _best(libs, "cudart")
            version = major_minor(cudart) if cudart and "." in cudart else None
            source = "libcudart file name" if version else None
        has_nvcc = any(os.path.exists(os.path.join(real_path, "bin", n))
                       for n in ("nvcc", "nvcc.exe"))
        shown_real = _shown(ctx, real) if how in TOOLKIT_GLOBS else real
        entry = {"version": major_minor(version) if version else None,
                 "full_version": version, "kind": "toolkit", "where": shown_real,
                 "aliases": [shown] if shown != shown_real else [], "found_by": [how],
                 "version_source": source, "nvcc": has_nvcc, "exists": True,
                 "lib_dir": f"{shown_real}/{lib_dir}" if lib_dir else None}
        by_real[real] = entry
        header = header_cudnn_version(os.path.join(real_path, "include"))
        lib_cudnn = _best(libs, "cudnn")
        if header or lib_cudnn:
            cudnn.append({"version": header[0] if header else cudnn_version(lib_cudnn),
                          "cuda_major": _major(version), "kind": "toolkit",
                          "where": entry["lib_dir"] or shown_real,
                          "header": _shown(ctx, header[1]) if header else None})
    return list(by_real.values()), cudnn


def _shown(ctx: ProbeContext, real: str) -> str:
    """A path under the sysroot shown as the absolute path it stands for."""
    if ctx.sysroot:
        root = os.path.realpath(ctx.sysroot)
        if real.startswith(root + os.sep):
            return "/" + os.path.relpath(real, root).replace(os.sep, "/")
    return real


def system_cudnn_headers(ctx: ProbeContext) -> list[dict]:
    found = []
    for inc in ("/usr/include", "/usr/include/x86_64-linux-gnu", "/usr/include/aarch64-linux-gnu",
                "/usr/local/include"):
        header = header_cudnn_version(ctx.path(inc))
        if header:
            found.append({"version": header[0], "cuda_major": None, "kind": "system",
                          "where": _shown(ctx, header[1]), "header": _shown(ctx, header[1])})
    return found


# -- nvcc, ldconfig, LD_LIBRARY_PATH --------------------------------------------------------
def parse_nvcc(text: str) -> Optional[str]:
    m = re.search(r"release (\d+\.\d+)", text or "")
    if m:
        return m.group(1)
    m = re.search(r"\bV(\d+\.\d+)(?:\.\d+)?", text or "")
    return m.group(1) if m else None


_EXEC_TARGET = re.compile(r"^\s*exec\s+[\"']?(/[^\s\"']+/bin/nvcc)[\"']?\s", re.M)


def _unwrap_script(path: str) -> str:
    """The nvcc a tiny wrapper script on PATH execs (``exec /usr/local/cuda-X/bin/nvcc
    "$@"``, as some images and module systems install), else ``path`` itself."""
    try:
        if os.path.getsize(path) > 4096:
            return path
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return path
    if not head.startswith(b"#!"):
        return path
    m = _EXEC_TARGET.search(head.decode("utf-8", errors="replace") + "\n")
    return m.group(1) if m and os.path.isfile(m.group(1)) else path


def nvcc_facts(ctx: ProbeContext, known: Optional[list[dict]] = None) -> Optional[dict]:
    """nvcc on PATH and its version. When it lives inside a toolkit whose version is
    already read from its files, that version is used and nvcc is not run (a process
    start costs more than the rest of the probe)."""
    path = shutil.which("nvcc", path=ctx.environ.get("PATH"))
    if not path:
        return None
    root = os.path.dirname(os.path.dirname(os.path.realpath(_unwrap_script(path))))
    for toolkit in known or []:
        if toolkit.get("exists") and toolkit.get("version") and os.path.realpath(
                ctx.path(toolkit["where"])) == root:
            return {"path": path, "version": toolkit["version"],
                    "full_version": toolkit.get("full_version"), "error": None,
                    "run": None, "version_from": toolkit.get("version_source")}
    from envdoctor import proc

    result = proc.run([path, "--version"], timeout=ctx.timeout, env=dict(ctx.environ))
    full = None
    m = re.search(r"\bV(\d+\.\d+\.\d+)", result.stdout)
    if m:
        full = m.group(1)
    return {"path": path, "version": parse_nvcc(result.stdout) if result.ok else None,
            "full_version": full, "error": None if result.ok else result.describe(),
            "run": result.to_fact()}


def parse_ldconfig(text: str) -> list[dict]:
    entries = []
    for line in text.splitlines():
        m = re.match(r"\s*(lib(cudart|cudnn|cuda|nvidia-ml)\.so[.\d]*)\s+\(([^)]*)\)\s+=>\s+(\S+)",
                     line)
        if m:
            entries.append({"name": m.group(1), "lib": m.group(2), "arch": m.group(3),
                            "path": m.group(4)})
    return entries


_LD_CACHE_PATH = re.compile(rb"(/[^\x00]*/(lib(cudart|cudnn|cuda|nvidia-ml)\.so[.\d]*))\x00")


def parse_ld_cache(data: bytes) -> list[dict]:
    """CUDA libraries in the loader cache file (/etc/ld.so.cache), read directly.

    The cache's string table holds every cached library's full path, NUL-terminated,
    in both the old (``ld.so-1.7.0``) and new (``glibc-ld.so.cache1.1``) formats; that is
    all this needs, and reading it costs far less than starting ``ldconfig -p``.
    """
    entries: list[dict] = []
    seen: set[str] = set()
    for m in _LD_CACHE_PATH.finditer(data):
        path = m.group(1).decode("utf-8", errors="replace")
        if path in seen:
            continue
        seen.add(path)
        entries.append({"name": m.group(2).decode(), "lib": m.group(3).decode(),
                        "arch": None, "path": path})
    return entries


def ldconfig_facts(ctx: ProbeContext) -> Optional[dict]:
    try:
        with open(ctx.path("/etc/ld.so.cache"), "rb") as fh:
            data = fh.read(64 * 1024 * 1024)
        if data.startswith((b"ld.so-1.7.0", b"glibc-ld.so.cache")):
            return {"entries": parse_ld_cache(data), "error": None, "source": "/etc/ld.so.cache"}
    except OSError:
        pass
    if ctx.sysroot:  # a fake tree without a cache: do not ask the real machine's ldconfig
        return None
    exe = None
    for candidate in ("/sbin/ldconfig", "/usr/sbin/ldconfig"):
        if os.path.exists(candidate):
            exe = candidate
            break
    exe = exe or shutil.which("ldconfig", path=ctx.environ.get("PATH"))
    if not exe:
        return None
    from envdoctor import proc

    result = proc.run([exe, "-p"], timeout=ctx.timeout)
    if not result.ok:
        return {"entries": [], "error": result.describe(), "source": "ldconfig -p"}
    return {"entries": parse_ldconfig(result.stdout), "error": None, "source": "ldconfig -p"}


def ld_library_path(ctx: ProbeContext) -> list[dict]:
    value = ctx.environ.get("LD_LIBRARY_PATH") or ""
    entries = []
    for position, directory in enumerate(p for p in value.split(os.pathsep)):
        if not directory:
            continue
        libs = _libs_in(directory)
        entries.append({"path": directory, "position": position,
                        "exists": os.path.isdir(directory),
                        "cudart": _best(libs, "cudart"), "cudnn": _best(libs, "cudnn"),
                        "libcuda": _best(libs, "cuda"),
                        "libs": [entry["file"] for entry in libs]})
    return entries


# -- libcuda -------------------------------------------------------------------------------
def _loaded_path(fragment: str) -> Optional[str]:
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                path = line.split(None, 5)[-1].strip() if line.count(" ") >= 5 else ""
                if fragment in os.path.basename(path):
                    return path
    except OSError:
        pass
    return None


def libcuda_facts(timeout: float, system: str) -> dict:
    """Load libcuda in a worker thread; version and cuInit result, or why it failed."""
    box: dict[str, Any] = {"loaded": False, "path": None, "driver_version": None,
                           "init_result": None, "init_error": None, "error": None,
                           "hung": False}

    def work() -> None:
        import ctypes

        name = "nvcuda.dll" if system == "Windows" else "libcuda.so.1"
        try:
            lib = ctypes.WinDLL(name) if system == "Windows" else ctypes.CDLL(name)
        except OSError as exc:
            box["error"] = f"{name} could not be loaded: {exc}"
            return
        box["loaded"] = True
        box["path"] = _loaded_path("libcuda.so") if system == "Linux" else name
        version = ctypes.c_int(0)
        try:
            rc = lib.cuDriverGetVersion(ctypes.byref(version))
            if rc == 0 and version.value:
                box["driver_version"] = f"{version.value // 1000}.{(version.value % 1000) // 10}"
            rc = int(lib.cuInit(0))
            box["init_result"] = rc
            box["init_error"] = CU_RESULTS.get(rc, f"CUresult {rc}") if rc else None
        except (AttributeError, OSError) as exc:
            box["error"] = f"{name} is not a usable CUDA driver library: {exc}"

    thread = threading.Thread(target=work, name="envdoctor-libcuda", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        box = dict(box)
        box["hung"] = True
        box["error"] = f"cuInit did not return within {timeout:.1f} s"
    return dict(box)


def _nvidia_sign(ctx: ProbeContext, system: str) -> bool:
    if system == "Windows":
        windir = ctx.environ.get("WINDIR", "C:\\Windows")
        return os.path.exists(os.path.join(windir, "System32", "nvcuda.dll"))
    if system != "Linux":
        return False
    from envdoctor.probes._nvidia_kernel import any_sign, dev_nodes, pci_devices, wsl_facts

    return any_sign({"pci_devices": pci_devices(ctx),
                     "proc_driver": os.path.isdir(ctx.path("/proc/driver/nvidia")),
                     "dev_nodes": dev_nodes(ctx), "wsl": wsl_facts(ctx)})


def probe_cuda(ctx: ProbeContext) -> dict:
    system = _platform.system()
    from envdoctor.target.interpreter import TargetUnavailable

    try:  # the machine's CUDA facts stand even when the examined Python cannot answer
        wheels = ctx.python.by_key()
    except TargetUnavailable:
        wheels = {}
    pip_runtimes, pip_cudnn, pip_others = pip_facts(wheels)
    tk, tk_cudnn = toolkits(ctx)
    lpath = ld_library_path(ctx)
    nvcc = nvcc_facts(ctx, tk)
    sign = _nvidia_sign(ctx, system)
    facts: dict[str, Any] = {"runtimes": [], "cudnn": [], "libcuda": None,
                             "ld_library_path": lpath, "nvcc": nvcc, "ldconfig": None,
                             "toolkits": tk, "pip_libraries": pip_others,
                             "nvidia_sign": sign}
    facts["runtimes"].extend(pip_runtimes)
    facts["runtimes"].extend(t for t in tk if t.get("exists"))
    toolkit_libs = {os.path.realpath(t["lib_dir"]) for t in tk if t.get("lib_dir")}
    for entry in lpath:
        if entry["cudart"] and os.path.realpath(entry["path"]) not in toolkit_libs:
            facts["runtimes"].append({"version": major_minor(entry["cudart"]),
                                      "kind": "ld_library_path", "where": entry["path"],
                                      "full_version": entry["cudart"]})
    if nvcc and nvcc.get("version"):
        nvcc_root = os.path.dirname(os.path.dirname(os.path.realpath(nvcc["path"])))
        same = [t for t in tk if t.get("exists") and (
            os.path.realpath(ctx.path(t["where"])) == nvcc_root
            or (t.get("nvcc") and t.get("version") == nvcc["version"]))]
        for t in same:
            t["nvcc_on_path"] = nvcc["path"]
        if not same:
            facts["runtimes"].append({"version": nvcc["version"], "kind": "nvcc",
                                      "where": nvcc["path"], "full_version": nvcc["full_version"]})
    facts["cudnn"].extend(pip_cudnn)
    facts["cudnn"].extend(tk_cudnn)
    facts["cudnn"].extend(system_cudnn_headers(ctx))
    for entry in lpath:
        if entry["cudnn"]:
            facts["cudnn"].append({"version": cudnn_version(entry["cudnn"]), "cuda_major": None,
                                   "kind": "ld_library_path", "where": entry["path"],
                                   "position": entry["position"]})
    anything = bool(sign or facts["runtimes"] or facts["cudnn"] or pip_others)
    if system == "Linux" and anything:
        facts["ldconfig"] = ldconfig_facts(ctx)
        for item in (facts["ldconfig"] or {}).get("entries", []):
            if item["lib"] == "cudnn":
                m = re.search(r"libcudnn\.so\.(\d+(?:\.\d+)*)$", os.path.realpath(item["path"]))
                if m and not any(c.get("where") == os.path.dirname(item["path"])
                                 for c in facts["cudnn"]):
                    facts["cudnn"].append({"version": cudnn_version(m.group(1)),
                                           "cuda_major": None, "kind": "ldconfig",
                                           "where": os.path.dirname(item["path"])})
    if sign:
        facts["libcuda"] = libcuda_facts(max(0.5, ctx.timeout * 0.5), system)
    return facts


PROBES = [Probe("cuda", probe_cuda)]
