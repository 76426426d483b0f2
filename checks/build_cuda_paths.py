"""build.cuda_paths: do PATH, CUDA_HOME / CUDA_PATH and LD_LIBRARY_PATH agree on one CUDA?"""

from __future__ import annotations

import re
from typing import Any

from envdoctor.facts import as_dict, dicts, strings, text
from envdoctor.registry import register
from envdoctor.result import INFO, WARNING, Finding, Outcome, outcome, passed

CODES = {
    "build.W010": "CUDA_HOME or CUDA_PATH points to a folder that does not exist or has no "
                  "bin/nvcc: builds that read it (torch.utils.cpp_extension, CMake) fail.",
    "build.W011": "The toolkit CUDA_HOME / CUDA_PATH names is not the nvcc on PATH: a build "
                  "compiles with one CUDA and links against the other.",
    "build.W012": "Several CUDA bin folders are on PATH and an older one comes first: `nvcc` "
                  "is the older toolkit.",
    "build.W013": "LD_LIBRARY_PATH holds CUDA libraries of different major versions: a "
                  "program can load a mix of them.",
    "build.I010": "PATH entries that do not exist.",
    "build.I011": "PATH entries listed more than once.",
}

_LIB_MAJOR = re.compile(r"^lib(cudart|cublas|cudnn|cufft|cusparse|nvrtc)\.so\.(\d+)")


def _version_key(version: Any) -> tuple[int, ...]:
    from envdoctor.cudacompat import version_tuple

    return version_tuple(version)


def _export(var: str, value: str, windows: bool) -> str:
    return f'setx {var} "{value}"' if windows else f"export {var}={value}"


@register("build.cuda_paths", title="CUDA on PATH, CUDA_HOME and LD_LIBRARY_PATH",
          tags=("build", "cuda", "env"), needs=("toolchain",), uses=("cuda", "platform"),
          codes=CODES)
def check_cuda_paths(facts: dict[str, Any]) -> Outcome:
    """Do PATH, CUDA_HOME / CUDA_PATH and LD_LIBRARY_PATH point at one CUDA toolkit?

    A source build takes nvcc from PATH (CMake, plain Makefiles) or from CUDA_HOME /
    CUDA_PATH (torch.utils.cpp_extension, which flash-attn, apex and DeepSpeed use), and
    the loader takes libraries from LD_LIBRARY_PATH first. When they disagree a build
    mixes toolkits: headers of one, libraries of another. Reported: CUDA_HOME/CUDA_PATH
    naming a missing folder or one without bin/nvcc; CUDA_HOME's toolkit differing from
    the nvcc on PATH; several CUDA bin folders on PATH with an older one first;
    LD_LIBRARY_PATH folders holding CUDA libraries of different major versions; PATH
    entries that do not exist or repeat (harmless alone, but a sign of a shell profile
    that appends on every start).

    Fix: set CUDA_HOME to the toolkit you build with and put its bin folder first on
    PATH (`export CUDA_HOME=/usr/local/cuda-12.4; export PATH=$CUDA_HOME/bin:$PATH`);
    remove other toolkits' lib folders from LD_LIBRARY_PATH.
    """
    toolchain = as_dict(facts.get("toolchain"))
    windows = as_dict(facts.get("platform")).get("system") == "Windows"
    nvcc = as_dict(toolchain.get("nvcc"))
    homes = as_dict(toolchain.get("cuda_home"))
    entries = dicts(toolchain.get("path_entries"))
    findings: list[Finding] = []
    details: dict[str, Any] = {"nvcc_on_path": nvcc.get("path"),
                               "nvcc_version": nvcc.get("version")}

    for var in ("CUDA_HOME", "CUDA_PATH"):
        home = as_dict(homes.get(var))
        value = text(home.get("value"))
        if value is None:
            continue
        details[var] = {"value": value, "cuda_version": home.get("cuda_version")}
        if not home.get("exists") or not home.get("nvcc"):
            what = "does not exist" if not home.get("exists") else "has no bin/nvcc in it"
            findings.append(Finding(
                "build.W010", WARNING,
                f"{var}={value!r} {what}: torch.utils.cpp_extension (flash-attn, apex, "
                "DeepSpeed ops) and CMake's FindCUDAToolkit look for nvcc there, and CUDA "
                "builds fail (\"nvcc not found\")",
                hint=(f"point {var} at a CUDA toolkit folder (the one holding bin/nvcc), e.g. "
                      + _export(var, "/usr/local/cuda" if not windows else
                                r"C:\Program Files\NVIDIA GPU Computing Toolkit\CUDA\v12.4",
                                windows)
                      + f"; or unset {var}"),
                details={"variable": var, "value": value}))
        elif (home.get("cuda_version") and nvcc.get("version")
              and str(home["cuda_version"]) != str(nvcc["version"])):
            findings.append(Finding(
                "build.W011", WARNING,
                f"{var} names CUDA {home['cuda_version']} ({value}) but the nvcc on PATH is "
                f"CUDA {nvcc['version']} ({nvcc.get('path')}): torch extensions build with "
                f"the first, CMake and Makefiles with the second",
                hint="choose one toolkit: " + _export(var, "<toolkit>", windows)
                     + " and put <toolkit>/bin first on PATH",
                details={"variable": var, "home": home.get("cuda_version"),
                         "nvcc": nvcc.get("version")}))

    cuda_bins = [e for e in entries if e.get("nvcc") and e.get("repeat_of") is None]
    details["cuda_bin_dirs"] = [{"dir": e.get("dir"), "cuda_version": e.get("cuda_version")}
                                for e in cuda_bins]
    versions = [e for e in cuda_bins if text(e.get("cuda_version"))]
    if len(versions) > 1:
        first, newest = versions[0], max(versions, key=lambda e: _version_key(e["cuda_version"]))
        if _version_key(first["cuda_version"]) < _version_key(newest["cuda_version"]):
            findings.append(Finding(
                "build.W012", WARNING,
                f"{len(cuda_bins)} CUDA bin folders are on PATH and the first, "
                f"{first.get('dir')} (CUDA {first['cuda_version']}), is older than "
                f"{newest.get('dir')} (CUDA {newest['cuda_version']}): `nvcc` runs the older",
                hint=("put the toolkit you build with first: export PATH="
                      f"{newest.get('dir')}:$PATH   (and remove the other from ~/.bashrc)"
                      if not windows else "move the newer toolkit's bin folder above the "
                      "older one in System Properties > Environment Variables > Path"),
                details={"order": [e.get("dir") for e in cuda_bins]}))

    by_major: dict[str, dict[str, list[str]]] = {}
    for entry in dicts(as_dict(facts.get("cuda")).get("ld_library_path")):
        for lib in strings(entry.get("libraries")):
            match = _LIB_MAJOR.match(lib)
            if match:
                by_major.setdefault(match.group(1), {}).setdefault(match.group(2), []).append(
                    str(entry.get("path")))
    mixed = {lib: majors for lib, majors in by_major.items() if len(majors) > 1}
    if mixed:
        said = "; ".join(f"lib{lib} " + ", ".join(f"{major} in {', '.join(sorted(set(dirs)))}"
                                                  for major, dirs in sorted(majors.items()))
                         for lib, majors in sorted(mixed.items()))
        findings.append(Finding(
            "build.W013", WARNING,
            f"LD_LIBRARY_PATH holds CUDA libraries of different major versions ({said}): "
            "programs and builds can load one toolkit's library with another's",
            hint="keep one toolkit's lib64 in LD_LIBRARY_PATH: export LD_LIBRARY_PATH="
                 "/usr/local/cuda-<version>/lib64   (pip-installed frameworks need none)",
            details={"libraries": mixed}))

    missing = [str(e.get("dir")) for e in entries if not e.get("exists") and e.get("dir")]
    repeated = sorted({str(e.get("dir")) for e in entries if e.get("repeat_of") is not None
                       and e.get("dir")})
    if missing:
        findings.append(Finding(
            "build.I010", INFO,
            f"{len(missing)} PATH entr{'y does' if len(missing) == 1 else 'ies do'} not "
            "exist: " + ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else ""),
            hint="remove them from the shell profile that adds them (~/.bashrc, ~/.profile)"
                 if not windows else "remove them in System Properties > Environment "
                 "Variables > Path", details={"missing": missing}))
    if repeated:
        findings.append(Finding(
            "build.I011", INFO,
            "PATH lists these more than once: " + ", ".join(repeated[:8])
            + (" ..." if len(repeated) > 8 else "")
            + " (a profile that appends to PATH on every start does this)",
            hint="remove the repeated `export PATH=...` lines from ~/.bashrc / ~/.profile "
                 "(or the conda/pyenv init that runs twice)" if not windows else
                 "remove the duplicates in System Properties > Environment Variables > Path",
            details={"repeated": repeated}))

    summary = (f"nvcc on PATH: CUDA {nvcc.get('version')}" if nvcc.get("version")
               else "no nvcc on PATH")
    if not findings:
        return passed(summary + "; PATH, CUDA_HOME and LD_LIBRARY_PATH agree", details)
    return outcome(summary, findings, details)
