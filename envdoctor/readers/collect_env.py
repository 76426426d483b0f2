"""``python -m torch.utils.collect_env`` (and the old ``collect_env.py`` download), every
era: PyTorch 1.x's short form, 2.x's CPU section and ``[pip3]`` lines, ROCm's HIP/MIOpen
lines, "Could not collect", Windows and macOS.

The output is "Key: value" lines, some with values on the following lines (GPU models,
cuDNN candidates, the CPU section, the library versions). A line an e-mail client wrapped
continues the value above it.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from envdoctor.readers import Dump
from envdoctor.readers.facts_builder import put
from envdoctor.readers.text import clean, major_minor, normalise_name, os_system, version_in, yes_no

FORMAT = "collect_env"
# Lower-case words one of which any dump of this format contains (a quick test first).
SIGNS = ("pytorch version", "cuda used to build", "is debug build", "os:")
TITLE = "PyTorch collect_env"

KEYS = {
    "pytorch version": "torch", "is debug build": "debug",
    "cuda used to build pytorch": "torch_cuda", "rocm used to build pytorch": "torch_rocm",
    "os": "os", "gcc version": "gcc", "clang version": "clang", "cmake version": "cmake",
    "libc version": "libc", "python version": "python", "python platform": "python_platform",
    "is cuda available": "cuda_available", "cuda runtime version": "cuda_runtime",
    "cuda_module_loading set to": "cuda_module_loading",
    "gpu models and configuration": "gpus", "nvidia driver version": "driver",
    "cudnn version": "cudnn", "hip runtime version": "hip_runtime",
    "miopen runtime version": "miopen", "is xnnpack available": "xnnpack",
    "is xpu available": "xpu_available", "cpu": "cpu",
    "versions of relevant libraries": "libs",
}
MULTILINE = {"gpus", "cudnn", "cpu", "libs"}
_KEY = re.compile(r"^\s*([A-Za-z][A-Za-z _]*?[A-Za-z])\s*:\s*(.*?)\s*$")
_LIB = re.compile(r"^\s*\[(pip3?|conda)\]\s+(.*?)\s*$")
_TORCH_VERSION = re.compile(r"^\d+(\.\d+)*(\.?(a|b|rc|dev|post)\d+)*(\+[A-Za-z0-9.]+)?")
_PREAMBLE = re.compile(r"^\s*Collecting\W*environment information\.*\s*", re.IGNORECASE)
_FENCE = re.compile(r"^\s*(```|~~~|</?details|</?summary)")
_GPU = re.compile(r"^\s*GPU\s+(\d+)\s*:\s*(.+?)\s*$")
_CUDNN_FILE = re.compile(r"libcudnn(?:_[a-z_]+)?\.so\.(\d+(?:\.\d+)*)|cudnn\w*?(\d+)\.dll",
                         re.IGNORECASE)


def _key(line: str) -> Optional[tuple[str, str]]:
    match = _KEY.match(_PREAMBLE.sub("", line))
    if not match:
        return None
    name = KEYS.get(match.group(1).strip().lower())
    return (name, match.group(2)) if name else None


def find(lines: list[str]) -> list[Dump]:
    dumps: list[Dump] = []
    i = 0
    while i < len(lines):
        found = _key(lines[i])
        if found and found[0] in ("torch", "debug", "torch_cuda", "os"):
            dump, i = _read(lines, i)
            if dump is not None:
                dumps.append(dump)
            continue
        i += 1
    return dumps


def _read(lines: list[str], start: int) -> tuple[Optional[Dump], int]:
    values: dict[str, str] = {}
    blocks: dict[str, list[str]] = {k: [] for k in MULTILINE}
    current: Optional[str] = None   # the key whose value lines follow
    last: Optional[str] = None      # the last single-line key (for wrapped lines)
    stray = 0
    end = start
    i = start
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if _FENCE.match(line) or stripped.startswith("#"):
            break
        found = _key(line)
        if found and found[0] not in values and not (current == "cpu" and found[0] == "os"):
            key, value = found
            values[key] = value
            current = key if key in MULTILINE else None
            last = None if current else key
            if current and value.strip():
                blocks[current].append(value)
            stray, end = 0, i
        elif not stripped:
            if current in ("gpus", "cudnn"):
                current = None
            last = None
        elif current is not None and not (current == "libs" and not _LIB.match(line)):
            blocks[current].append(stripped)
            stray, end = 0, i
        elif _LIB.match(line):
            blocks["libs"].append(stripped)
            current, stray, end = "libs", 0, i
        elif last is not None and stray == 0 and not _KEY.match(line):
            values[last] = f"{values[last]} {stripped}"   # a wrapped line
            end = i
            last = None
        else:
            stray += 1
            if stray > 2:
                break
        i += 1
    if len(values) < 3 and not ("torch" in values and len(values) == 2):
        return None, start + 1
    first = start - 1 if start > 0 and _PREAMBLE.match(lines[start - 1]) and \
        not _PREAMBLE.sub("", lines[start - 1]).strip() else start
    dump = Dump(FORMAT, TITLE, first + 1, end + 1)
    _facts(dump, values, blocks)
    return dump, end + 1


def _facts(dump: Dump, values: dict[str, str], blocks: dict[str, list[str]]) -> None:
    torch_version = clean(values.get("torch"))
    if torch_version:
        # "1.8.0 (torchvision: 0.9.0)" -> "1.8.0"; a hand-edited tail is not a version.
        match = _TORCH_VERSION.match(torch_version)
        torch_version = match.group(0) if match else torch_version
    cuda_build = values.get("torch_cuda")
    rocm_build = values.get("torch_rocm")
    if torch_version:
        info: dict[str, Any] = {"version": torch_version, "distribution": "torch",
                                "source": "collect_env"}
        cuda = major_minor(version_in(cuda_build))
        hip = version_in(rocm_build)
        if cuda:
            info.update(cuda=cuda, build="cu" + cuda.replace(".", ""))
        elif hip:
            info.update(hip=hip, build="rocm" + (major_minor(hip) or hip))
        elif (cuda_build or "").strip().lower() in ("none", "n/a") and \
                clean(rocm_build) is None:
            # "CUDA used to build PyTorch: None" (or N/A in 1.x): a CPU-only build;
            # "Could not collect" says nothing.
            info.update(build="cpu", cuda=None)
        if "+cpu" in torch_version:
            info["build"] = "cpu"
        if yes_no(values.get("debug")):
            info["debug"] = True
        put(dump, "frameworks.installed.torch", info)
        if "build" in info:
            dump.known.add("frameworks.installed.torch.build")
        available = yes_no(values.get("cuda_available"))
        if available is not None:
            live: dict[str, Any] = {"status": "ok", "version": torch_version,
                                    "cuda_available": available,
                                    "build_cuda": info.get("cuda"), "build_hip": info.get("hip")}
            gpus = [g for g in (_GPU.match(b) for b in blocks["gpus"]) if g]
            if available:
                live["device_count"] = len(gpus) if gpus else None
            else:
                live["device_count"] = 0
            put(dump, "frameworks.live.torch", live)
    _platform(dump, values)
    _python(dump, values)
    _nvidia(dump, values, blocks["gpus"], rocm=bool(version_in(rocm_build)))
    _cuda(dump, values, blocks["cudnn"])
    _cpu(dump, blocks["cpu"])
    _libraries(dump, blocks["libs"])
    _toolchain(dump, values)
    loading = clean(values.get("cuda_module_loading"), 40)
    if loading and "frameworks.live.torch" in dump.known:
        dump.facts["frameworks"]["live"]["torch"]["cuda_module_loading"] = loading
    # collect_env lines no probe has a field for (HIP and MIOpen as torch reports them).
    extra = {k: clean(values.get(k), 80) for k in ("hip_runtime", "miopen", "xnnpack",
                                                    "xpu_available")}
    for key, value in extra.items():
        put(dump, f"collect_env.{key}", value)


def _toolchain(dump: Dump, values: dict[str, str]) -> None:
    """GCC, clang, CMake and nvcc in the live probe's shape (docs/report-schema.md,
    "toolchain"), read with the same parsers as the live probe. collect_env runs
    ``gcc --version`` and ``nvcc --version`` from PATH: nvcc's host compiler is taken to
    be that gcc (g++ of the same release) on Linux, so build.host_compiler can judge the
    pair."""
    from envdoctor.toolchain import versions

    said = {k: clean(values.get(k)) for k in ("gcc", "clang", "cmake", "cuda_runtime")}
    said = {k: v for k, v in said.items() if v and v.lower() not in ("could not collect",
                                                                      "n/a", "none")}
    gcc = versions.gcc(f"gcc {said['gcc']}") if "gcc" in said else None
    clang = versions.clang(f"clang version {said['clang']}") if "clang" in said else None
    cmake = versions.cmake(f"cmake {said['cmake']}") if "cmake" in said else None
    runtime = version_in(said.get("cuda_runtime"))
    where = "(collect_env)"
    if gcc:
        put(dump, "toolchain.compilers.gcc", dict(gcc, path=f"gcc {where}", error=None))
    if clang:
        put(dump, "toolchain.compilers.clang", dict(clang, path=f"clang {where}", error=None))
    if cmake:
        put(dump, "toolchain.cmake", dict(cmake, path=f"cmake {where}", error=None))
    if runtime and major_minor(runtime):
        put(dump, "toolchain.nvcc", {"path": f"nvcc {where}", "version": major_minor(runtime),
                                     "full_version": runtime, "error": None,
                                     "major": int(runtime.split(".")[0])})
        # On Windows nvcc calls MSVC's cl.exe, which collect_env does not report.
        if gcc and os_system(clean(values.get("os"))) == "Linux":
            put(dump, "toolchain.nvcc_host", {**gcc, "compiler": "gcc", "from": "default",
                                              "path": f"gcc {where}", "error": None})


def _platform(dump: Dump, values: dict[str, str]) -> None:
    os_text = clean(values.get("os"))
    if not os_text:
        return
    machine = None
    match = re.search(r"\((x86_64|amd64|aarch64|arm64|ppc64le|s390x|i[3-6]86|x86)\)\s*$",
                      os_text, re.IGNORECASE)
    if match:
        machine = match.group(1)
        os_text = os_text[:match.start()].strip()
    system = os_system(os_text) or os_system(values.get("python_platform"))
    put(dump, "platform.system", system)
    put(dump, "platform.machine", machine)
    if system == "Linux":
        put(dump, "platform.distribution", {"name": os_text})
    elif system == "Windows":
        put(dump, "platform.windows", {"release": os_text.replace("Microsoft Windows", "")
                                        .strip() or None, "edition": None})
    elif system == "Darwin":
        put(dump, "platform.macos", {"version": version_in(os_text)})
    libc = clean(values.get("libc"))
    match = re.match(r"^(glibc|musl)-?(\S+)", libc or "")
    if match:
        put(dump, "platform.libc", {"name": match.group(1), "version": match.group(2)})
    plat = clean(values.get("python_platform"))
    match = re.match(r"^(?:Linux|Windows|macOS)-([^-]+(?:-[^-]+)*?)-(x86_64|aarch64|AMD64|"
                     r"arm64)", plat or "")
    if match and system == "Linux":
        put(dump, "platform.release", match.group(1))
        put(dump, "platform.kernel", match.group(1))
        if "microsoft" in match.group(1).lower():
            put(dump, "platform.wsl", {"version": 2 if "WSL2" in match.group(1) or
                                        "microsoft-standard" in match.group(1) else 1})


def _python(dump: Dump, values: dict[str, str]) -> None:
    text = clean(values.get("python"))
    version = version_in(text) if text else None
    if not version and text:
        match = re.match(r"^(\d+)\s*$", text)
        version = match.group(1) if match else None
    if not version:
        return
    version = version.split("+")[0].split("-")[0]
    parts = [int(p) for p in re.findall(r"\d+", version)[:3]]
    put(dump, "python.version", ".".join(map(str, parts)))
    put(dump, "python.version_info", parts)
    put(dump, "python.implementation", "cpython")
    match = re.search(r"\((\d\d)-bit runtime\)", text or "")
    if match:
        put(dump, "python.bits", int(match.group(1)))
    if text and ("conda" in text.lower() or "anaconda" in text.lower()):
        put(dump, "python.conda", True)


def _nvidia(dump: Dump, values: dict[str, str], gpu_lines: list[str], rocm: bool) -> None:
    driver = version_in(values.get("driver"))
    gpus = []
    amd = []
    joined: list[str] = []
    for line in gpu_lines:
        if joined and _GPU.match(joined[-1]) and not _GPU.match(line):
            joined[-1] += " " + line.strip()   # "GPU 0: NVIDIA GeForce" / "RTX 3090"
        else:
            joined.append(line)
    for line in joined:
        match = _GPU.match(line)
        name = clean(match.group(2) if match else line)
        if not name:
            continue
        index = int(match.group(1)) if match else len(gpus) + len(amd)
        if rocm or (re.search(r"\b(AMD|Radeon|Instinct|gfx\d+)\b", name)
                    and "NVIDIA" not in name):
            amd.append({"index": index, "name": name})
        else:
            gpus.append({"index": index, "name": re.sub(r"\s*\(UUID:[^)]*\)", "", name)})
    if gpus:
        put(dump, "nvidia.gpus", gpus)
    if amd:
        put(dump, "amd.gpus", amd)
    if driver:
        put(dump, "nvidia.driver_version", driver)
    if gpus or driver:
        put(dump, "nvidia.present", True)
        put(dump, "nvidia.source", TITLE)


def _cuda(dump: Dump, values: dict[str, str], cudnn_lines: list[str]) -> None:
    runtime = version_in(values.get("cuda_runtime"))
    if runtime:
        put(dump, "cuda.runtimes", [{"version": major_minor(runtime), "full_version": runtime,
                                      "kind": "toolkit", "where": "nvcc (collect_env)",
                                      "exists": True, "nvcc": True}])
    found = []
    for line in cudnn_lines:
        text = clean(line) or ""
        if text.lower().startswith("probably one of"):
            continue
        match = _CUDNN_FILE.search(text)
        version = None
        if match and match.group(1):
            version = match.group(1)
        elif match:
            version = match.group(2)
        elif re.match(r"^\d+(\.\d+)*$", text):
            version = text
        if version and re.fullmatch(r"\d{4,5}", version):  # 8902 -> 8.9.2
            number = int(version)
            version = f"{number // 1000}.{number % 1000 // 100}.{number % 100}" \
                if number < 90000 else f"{number // 10000}.{number % 10000 // 100}." \
                                       f"{number % 100}"
        if version and all(e["version"] != version for e in found):
            found.append({"version": version, "kind": "system",
                          "where": text if "/" in text or "\\" in text else "collect_env"})
    if found:
        put(dump, "cuda.cudnn", found[:1])


def _cpu(dump: Dump, lines: list[str]) -> None:
    if not lines:
        return
    fields: dict[str, str] = {}
    for line in lines:
        match = re.match(r"^\s*([A-Za-z][A-Za-z0-9 ()_\-]*?)\s*[:=]\s*(.*)$", line)
        if match:
            fields.setdefault(match.group(1).strip().lower(), match.group(2).strip())
    model = clean(fields.get("model name") or fields.get("name"))
    if not model and len(lines) == 1:
        model = clean(lines[0])  # macOS: "Apple M1 Pro"
    put(dump, "cpu.model", model)
    arch = clean(fields.get("architecture"))
    if arch and not arch.isdigit():
        put(dump, "cpu.machine", arch)
    vendor = clean(fields.get("vendor id") or fields.get("manufacturer"))
    put(dump, "cpu.vendor", vendor)
    flags = fields.get("flags")
    if flags:
        words = sorted({w.lower() for w in flags.split() if re.fullmatch(r"[a-z0-9_.]+", w,
                                                                           re.IGNORECASE)})
        put(dump, "cpu.flags", words[:400])
        put(dump, "cpu.flags_source", "lscpu (collect_env)")
        put(dump, "cpu.flags_known", True)


def _libraries(dump: Dump, lines: list[str]) -> None:
    pip: dict[str, str] = {}
    conda: dict[str, dict[str, str]] = {}
    for line in lines:
        match = _LIB.match(line)
        if not match:
            continue
        kind, rest = match.groups()
        if kind.startswith("pip"):
            pin = re.match(r"^([A-Za-z0-9][A-Za-z0-9._\-]*)\s*(?:==|\s)\s*(\S+)", rest)
            if pin:
                pip[normalise_name(pin.group(1))] = clean(pin.group(2), 80) or "?"
        else:
            parts = rest.split()
            if len(parts) >= 2 and re.match(r"^\d", parts[1]):
                conda[parts[0].lower()] = {
                    "version": clean(parts[1], 80) or "?",
                    "build": clean(parts[2], 80) if len(parts) > 2 else None,
                    "channel": clean(parts[3], 80) if len(parts) > 3 else None}
    if pip:
        put(dump, "packages.distributions", pip)
        dump.partial.add("packages.distributions")
        dump.notes.append(f"{len(pip)} pip package(s) listed (collect_env lists only the "
                          "relevant ones)")
    if conda:
        put(dump, "packages.conda", conda)
        if not pip:
            # torch from conda: the conda line carries its CUDA build.
            torch = conda.get("pytorch") or conda.get("torch")
            if torch and "frameworks.installed.torch" in dump.known:
                info = dump.facts["frameworks"]["installed"]["torch"]
                build = torch.get("build") or ""
                if "build" not in info:
                    match = re.search(r"cuda(\d+)\.(\d+)", build)
                    if match:
                        info.update(build=f"cu{match.group(1)}{match.group(2)}",
                                    cuda=f"{match.group(1)}.{match.group(2)}")
                    elif "cpu" in build:
                        info["build"] = "cpu"
