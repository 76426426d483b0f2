"""Deep-learning frameworks: what is installed (static) and what each one sees (live).

Static facts cost milliseconds and import nothing heavy: versions come from the
dist-info index (:mod:`envdoctor.distributions`); torch's build from ``torch/version.py``
and TensorFlow's from ``tensorflow/python/platform/build_info.py``, both parsed with
``ast`` (never imported); the JAX CUDA plugins, the CuPy wheel variant and the
onnxruntime flavour from the distribution names.

Live facts come from one child process per installed framework, all started at once,
each running ``envdoctor/framework_child.py`` by path with its own timeout: the parent
never imports a framework. A child killed by a signal (SIGILL on a CPU without AVX,
SIGSEGV in a driver) or one that hangs is recorded, never raised. ``--no-frameworks``
skips the children; the static facts remain.
"""

from __future__ import annotations

import os
import re
import threading
from typing import Any, Optional

from envdoctor.probes import Probe, ProbeContext

# Importing a framework (and initialising CUDA) is slower than any other probe: a cold
# TensorFlow import with CUDA init takes 5-15 s. The child timeout is at least this,
# or --timeout when larger, or ENVDOCTOR_FRAMEWORK_TIMEOUT when set (seconds). An
# explicit --timeout is a bound: the child gets at most that.
MIN_CHILD_TIMEOUT_S = 30.0
# The probe's own deadline: the runner gives up on the probe only after this. The
# probe bounds itself by the child timeout, so this is a safety net above it.
PROBE_DEADLINE_S = 120.0
STDERR_TAIL_LINES = 12

TENSORFLOW_DISTS = ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel",
                    "tensorflow-macos", "tensorflow-rocm", "tf-nightly", "tf-nightly-cpu",
                    "tf-nightly-gpu", "intel-tensorflow")
ONNXRUNTIME_DISTS = ("onnxruntime", "onnxruntime-gpu", "onnxruntime-directml",
                     "onnxruntime-openvino", "onnxruntime-silicon", "onnxruntime-qnn",
                     "ort-nightly", "ort-nightly-gpu")

# stderr lines that name the real reason a GPU is not used (TF's loader, JAX's fallback,
# CUDA driver errors). Kept in facts even when they scroll out of the tail.
_STDERR_KEYS = re.compile(
    r"(Could not load dynamic library|Cannot dlopen|cuInit|CUDA_ERROR|cudaError|"
    r"no kernel image|not compatible with the current|CUDA driver version|"
    r"a CUDA-enabled jaxlib is not installed|Unable to initialize backend|"
    r"Could not find cuda drivers|libcudnn|libcudart|libcublas|Illegal instruction|"
    r"Segmentation fault|Fatal Python error|version mismatch|insufficient|"
    # NumPy 2 meeting a module compiled for NumPy 1 (pip.numpy_abi reads these)
    r"compiled using NumPy 1\.x|_ARRAY_API not found|multiarray failed to import|"
    r"Numpy is not available|"
    # an extension compiled for another torch (framework.extensions reads these)
    r"xFormers was built for|undefined symbol: _Z)", re.I)

_SIGNAL_MEANING = {
    "SIGILL": "this CPU lacks instructions the framework's binary uses (AVX/AVX2?); "
              "see the cpu.avx check",
    "SIGSEGV": "the framework crashed (segmentation fault) while loading; often a "
               "library mismatch (two CUDA/cuDNN copies, or a system library shadowing a "
               "wheel's)",
    "SIGABRT": "the framework aborted while loading (a failed internal assertion or a "
               "C++ exception; the last stderr lines say which)",
    "SIGBUS": "the framework crashed (bus error) while loading; a truncated or corrupt "
              "library file is a common cause",
    "SIGKILL": "the child was killed (out of memory?)",
}


# ------------------------------------------------------------------ static parsing


def parse_assignments(text: str) -> dict[str, Any]:
    """Literal module-level assignments of a plain Python file (``x = 'a'``,
    ``x: Optional[str] = None``, ``d = {...}``); anything not literal is left out."""
    import ast

    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return {}
    values: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        # TensorFlow writes `build_info = collections.OrderedDict([("cuda_version", ...)])`
        # (tensorflow/tools/build_info/gen_build_info.py): read the pairs as a dict.
        wrap = None
        if isinstance(value, ast.Call) and len(value.args) == 1 and not value.keywords:
            func = value.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if fname in ("OrderedDict", "dict"):
                wrap, value = dict, value.args[0]
        try:
            literal = ast.literal_eval(value)
            if wrap is not None:
                literal = wrap(literal)
        except (ValueError, TypeError, SyntaxError, RecursionError):
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                values[target.id] = literal
    return values


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(200_000)
    except OSError:
        return None


def local_version(version: str) -> Optional[str]:
    """ "2.7.1+cu126" -> "cu126"; None without a local part."""
    return version.split("+", 1)[1] if "+" in version else None


def _cuda_tag(cuda: Optional[str]) -> Optional[str]:
    if not cuda:
        return None
    parts = str(cuda).split(".")
    if len(parts) < 2 or not parts[0].isdigit():
        return None
    return f"cu{parts[0]}{parts[1]}"


def torch_static(dist, by_key: dict) -> dict:
    """torch's version and build from its dist-info and ``torch/version.py``."""
    info: dict[str, Any] = {"version": dist.version, "distribution": dist.key,
                            "build": None, "cuda": None, "hip": None, "cudnn": None,
                            "source": None}
    values = {}
    text = _read(os.path.join(dist.site, "torch", "version.py"))
    if text is not None:
        values = parse_assignments(text)
        info["source"] = "torch/version.py"
    version = str(values.get("__version__") or dist.version)
    info["version"] = version
    cuda = values.get("cuda")
    hip = values.get("hip")
    info["cuda"] = str(cuda) if cuda else None
    info["hip"] = str(hip) if hip else None
    if values.get("xpu"):
        info["xpu"] = str(values["xpu"])
    if values.get("debug"):
        info["debug"] = True  # a debug build (collect_env's "Is debug build")
    local = local_version(version)
    if text is None:
        # No version.py: only the wheel's local version can tell the build.
        info["source"] = "dist-info version"
        info["build"] = local
        if local and local.startswith("cu") and local[2:].isdigit():
            digits = local[2:]
            info["cuda"] = f"{digits[:-1]}.{digits[-1]}"
        elif local and local.startswith("rocm"):
            info["hip"] = local[4:]
    elif info["cuda"]:
        info["build"] = _cuda_tag(info["cuda"]) or local
    elif info["hip"]:
        info["build"] = local if local and local.startswith("rocm") else "rocm" + ".".join(
            info["hip"].split(".")[:2])
    elif info.get("xpu"):
        info["build"] = local or "xpu"
    else:
        info["build"] = "cpu"
    # torch 1.x wheels carry cuDNN in torch/lib (libcudnn.so.8 ...); 2.x pulls it from
    # the nvidia-cudnn-cuXX wheel. The live probe reports the one actually loaded.
    try:
        lib = os.path.join(dist.site, "torch", "lib")
        bundled = sorted(f for f in os.listdir(lib) if f.startswith("libcudnn"))
    except OSError:
        bundled = []
    if bundled:
        info["bundled_cudnn"] = bundled[:12]
    for key in ("nvidia-cudnn-cu13", "nvidia-cudnn-cu12", "nvidia-cudnn-cu11"):
        if key in by_key:
            info["cudnn"] = by_key[key].version
            info["cudnn_source"] = key
            break
    for key in ("nvidia-cuda-runtime-cu13", "nvidia-cuda-runtime-cu12",
                "nvidia-cuda-runtime-cu11", "nvidia-cuda-runtime"):
        if key in by_key:
            info["cuda_runtime_wheel"] = by_key[key].version
            break
    return info


# Released in lockstep with torch (envdoctor/data/torch_companions.json).
TORCH_COMPANIONS = ("torchvision", "torchaudio", "torchtext")
# Extensions compiled against one torch release (framework_child.TORCH_EXTENSIONS).
TORCH_EXTENSIONS = ("xformers", "flash-attn", "bitsandbytes", "torch-scatter", "torch-sparse",
                    "torch-cluster", "pyg-lib", "mmcv", "detectron2", "apex", "vllm",
                    "deepspeed")


def torch_requirement(dist) -> Optional[str]:
    """The torch specifier a distribution declares (``==2.13.0``, ``>=2.1``), or None."""
    meta = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    for line in meta.split("\n\n", 1)[0].splitlines():
        if not line.lower().startswith("requires-dist:"):
            continue
        req = line.split(":", 1)[1].strip()
        match = re.match(r"^torch\s*(\(?\s*[<>=!~][^;)]*)?\)?\s*(;.*)?$", req, re.I)
        if match and "extra" not in (match.group(2) or ""):
            return (match.group(1) or "").strip(" (") or ""
    return None


def torch_neighbours_static(by_key: dict) -> dict:
    """torch's companions and extensions as installed: each one's version, the build its
    own version.py names (torchvision 0.28.0+cu130 from PyPI) and the torch it pins."""
    companions: dict[str, dict] = {}
    for name in TORCH_COMPANIONS:
        dist = by_key.get(name)
        if dist is None:
            continue
        values = parse_assignments(_read(os.path.join(dist.site, name, "version.py")) or "")
        built = str(values.get("__version__") or dist.version)
        companions[name] = {"version": dist.version, "build_version": built,
                            "build": local_version(built),
                            "requires_torch": torch_requirement(dist)}
    extensions: dict[str, dict] = {}
    for name in TORCH_EXTENSIONS:
        dist = by_key.get(name)
        if dist is not None:
            extensions[name] = {"version": dist.version, "build": local_version(dist.version),
                                "requires_torch": torch_requirement(dist)}
    return {"companions": companions, "extensions": extensions}


def tensorflow_static(dists: list, by_key: dict) -> dict:
    dist = dists[0]
    info: dict[str, Any] = {"version": dist.version, "distribution": dist.key,
                            "build": None, "cuda": None, "cudnn": None, "source": None,
                            "is_cuda_build": None, "is_rocm_build": None}
    if len(dists) > 1:
        info["distributions"] = [{"name": d.key, "version": d.version} for d in dists]
    text = _read(os.path.join(dist.site, "tensorflow", "python", "platform",
                              "build_info.py"))
    if text is not None:
        values = parse_assignments(text)
        build = values.get("build_info") if isinstance(values.get("build_info"), dict) else {}
        # Older releases (< 2.3) used plain names: cuda_version_number, is_cuda_build...
        cuda = build.get("cuda_version") or values.get("cuda_version_number")
        cudnn = build.get("cudnn_version") or values.get("cudnn_version_number")
        is_cuda = build.get("is_cuda_build", values.get("is_cuda_build"))
        is_rocm = build.get("is_rocm_build", values.get("is_rocm_build"))
        info.update({"cuda": str(cuda) if cuda else None, "cudnn": str(cudnn) if cudnn
                     else None, "is_cuda_build": bool(is_cuda) if is_cuda is not None
                     else None, "is_rocm_build": bool(is_rocm) if is_rocm is not None
                     else None, "source": "tensorflow/python/platform/build_info.py"})
        if build.get("msvcp_dll_names") or build.get("cudart_dll_name"):
            info["windows_dlls"] = {k: str(v) for k, v in build.items() if "dll" in k}
    if info["is_cuda_build"]:
        info["build"] = _cuda_tag(info["cuda"]) or "cuda"
    elif info["is_rocm_build"]:
        info["build"] = "rocm"
    elif info["is_cuda_build"] is False or dist.key in ("tensorflow-cpu", "tf-nightly-cpu"):
        info["build"] = "cpu"
    # `pip install tensorflow[and-cuda]` brings the CUDA libraries as wheels.
    info["cuda_wheels"] = sorted(k for k in by_key if k.startswith(("nvidia-cudnn-cu",
                                                                   "nvidia-cuda-runtime-cu")))
    return info


def jax_static(dist, by_key: dict) -> dict:
    info: dict[str, Any] = {"version": dist.version, "distribution": dist.key, "build": "cpu",
                            "cuda": None, "plugins": [], "source": "dist-info"}
    jaxlib = by_key.get("jaxlib")
    if jaxlib:
        info["jaxlib"] = jaxlib.version
    for key, dist_ in sorted(by_key.items()):
        match = re.match(r"^jax-(cuda|rocm)(\d+)-(plugin|pjrt)$", key)
        if match:
            info["plugins"].append({"name": key, "version": dist_.version})
            info["build"] = f"{match.group(1)}{match.group(2)}"
            if match.group(1) == "cuda":
                info["cuda"] = match.group(2)
    if "libtpu" in by_key or "libtpu-nightly" in by_key:
        info["build"] = "tpu" if info["build"] == "cpu" else info["build"]
    # Old jaxlib wheels carried the CUDA build in the local version: 0.4.13+cuda12.cudnn89.
    local = local_version(jaxlib.version) if jaxlib else None
    if local and local.startswith("cuda"):
        match = re.match(r"cuda(\d+)", local)
        info["build"] = f"cuda{match.group(1)}" if match else "cuda"
        info["cuda"] = match.group(1) if match else None
    return info


def cupy_static(dists: list) -> dict:
    dist = dists[0]
    info: dict[str, Any] = {"version": dist.version, "distribution": dist.key,
                            "build": "source", "cuda": None, "source": "dist-info"}
    if len(dists) > 1:
        info["distributions"] = [{"name": d.key, "version": d.version} for d in dists]
    match = re.match(r"^cupy-cuda(\d+)(x?)$", dist.key)
    if match:
        digits, wildcard = match.groups()
        info["build"] = f"cuda{digits}{wildcard}"
        # cupy-cuda12x -> CUDA 12.x; cupy-cuda102 -> 10.2; cupy-cuda110 -> 11.0
        info["cuda"] = digits if wildcard else f"{digits[:-1]}.{digits[-1]}"
    elif dist.key.startswith("cupy-rocm"):
        info["build"] = dist.key[len("cupy-"):]
    return info


def onnxruntime_static(dists: list) -> dict:
    dist = dists[0]
    flavour = {"onnxruntime-gpu": "gpu", "ort-nightly-gpu": "gpu",
               "onnxruntime-directml": "directml", "onnxruntime-openvino": "openvino",
               "onnxruntime-silicon": "coreml", "onnxruntime-qnn": "qnn"}
    info: dict[str, Any] = {"version": dist.version, "distribution": dist.key,
                            "build": flavour.get(dist.key, "cpu"), "source": "dist-info"}
    if len(dists) > 1:
        # onnxruntime and onnxruntime-gpu both install the `onnxruntime` package: the
        # one installed last wins, often the CPU one (a dependency pulled it in).
        info["distributions"] = [{"name": d.key, "version": d.version} for d in dists]
    return info


def static_facts(by_key: dict) -> dict[str, dict]:
    installed: dict[str, dict] = {}
    if "torch" in by_key:
        installed["torch"] = torch_static(by_key["torch"], by_key)
        installed["torch"].update(torch_neighbours_static(by_key))
    tf = [by_key[k] for k in TENSORFLOW_DISTS if k in by_key]
    if tf:
        installed["tensorflow"] = tensorflow_static(tf, by_key)
    if "jax" in by_key:
        installed["jax"] = jax_static(by_key["jax"], by_key)
    cupy = [d for k, d in sorted(by_key.items())
            if k == "cupy" or re.match(r"^cupy-(cuda\d+x?|rocm-[\d-]+)$", k)]
    if cupy:
        installed["cupy"] = cupy_static(cupy)
    ort = [by_key[k] for k in ONNXRUNTIME_DISTS if k in by_key]
    if ort:
        installed["onnxruntime"] = onnxruntime_static(ort)
    return installed


# ------------------------------------------------------------------ live children


def child_timeout(ctx: ProbeContext) -> float:
    ceiling = PROBE_DEADLINE_S - 5
    if ctx.timeout_explicit:
        # The runner gives this probe only --timeout (plus a grace to record it).
        ceiling = min(ceiling, ctx.timeout)
    raw = ctx.environ.get("ENVDOCTOR_FRAMEWORK_TIMEOUT")
    if raw:
        try:
            value = float(raw)
            if 0 < value < float("inf"):
                return min(value, ceiling)
        except ValueError:
            pass
    if ctx.timeout_explicit:
        return ceiling
    return min(max(ctx.timeout, MIN_CHILD_TIMEOUT_S), ceiling)


def child_script() -> str:
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "framework_child.py")


def _stderr_tail(text: str) -> tuple[list[str], list[str], list[str]]:
    """The last stderr lines (the framework's last words), the lines naming a known
    cause, and the innermost Python frames of a faulthandler dump (a crash)."""
    lines = [line.rstrip()[:400] for line in text.splitlines() if line.strip()]
    frames: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith("Fatal Python error"):
            # faulthandler's dump (most recent call first) would push the framework's
            # own last words out of the tail: keep its headline and top frames apart.
            frames = [x.strip() for x in lines[i + 1:] if x.strip().startswith("File ")][:5]
            lines = lines[:i + 1]
            break
    keys: list[str] = []
    for line in lines:
        if _STDERR_KEYS.search(line) and line not in keys:
            keys.append(line)
    return lines[-STDERR_TAIL_LINES:], keys[:12], frames


def interpret(name: str, result, timeout: float) -> dict:
    """Turn a child's CommandResult into the live facts of one framework."""
    import json

    live: dict[str, Any] = {"status": "error", "signal": None, "timeout_s": timeout,
                            "duration_ms": round(result.duration_s * 1000, 1)}
    last_stage = None
    payload = None
    partial = None  # the framework's answer before the extra probes (framework_child)
    for line in result.stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict):
            if "stage" in doc:
                last_stage = str(doc["stage"])
            if isinstance(doc.get("result"), dict):
                payload = doc["result"]
            if isinstance(doc.get("partial"), dict):
                partial = doc["partial"]
    tail, keys, frames = _stderr_tail(result.stderr)
    live["stderr_tail"] = tail
    if frames:
        live["crash_frames"] = frames
    if keys:
        live["stderr_findings"] = keys
    if payload is None and partial is not None and (result.timed_out or result.signal):
        # The framework answered; an extra probe after it (importing torchvision, an
        # extension, a CuPy kernel) hung or killed the process: keep the answer and say
        # which step failed.
        from envdoctor.proc import seconds

        partial = dict(partial)
        partial.pop("framework", None)
        partial.pop("duration_ms", None)
        live.update(partial)
        live["status"] = "ok"
        live["extra_failed"] = {
            "stage": last_stage, "signal": result.signal,
            "error": (f"killed by {result.signal}" if result.signal else
                      f"did not finish within {seconds(timeout)} s") +
                     f" in stage '{last_stage or '?'}'"}
        return live
    if result.timed_out:
        from envdoctor.proc import seconds

        live.update(status="timeout", stage=last_stage,
                    error=f"importing {name} did not finish within {seconds(timeout)} s "
                          f"(killed while in stage '{last_stage or 'start'}')")
        return live
    if result.signal:
        meaning = _SIGNAL_MEANING.get(result.signal, "the framework crashed while loading")
        live.update(status="crashed", signal=result.signal, stage=last_stage,
                    error=f"{name} child died by {result.signal} in stage "
                          f"'{last_stage or 'start'}': {meaning}")
        return live
    if result.error:  # the interpreter itself could not be started
        live["error"] = f"could not run the {name} child: {result.error}"
        return live
    if payload is None:
        live.update(stage=last_stage, returncode=result.returncode,
                    error=f"{name} child exited with status {result.returncode} and no "
                          f"answer (stage '{last_stage or 'start'}')")
        return live
    payload.pop("framework", None)
    payload.pop("duration_ms", None)
    status = payload.pop("status", "error")
    live.update(payload)
    live["status"] = "ok" if status == "ok" else "error"
    if status != "ok":
        live["stage"] = last_stage
    return live


def run_children(names: list[str], ctx: ProbeContext) -> dict[str, dict]:
    from envdoctor import proc

    timeout = child_timeout(ctx)
    script = child_script()
    env = ctx.python.environ(ctx.environ)  # the examined Python; no .pyc written
    env["PYTHONIOENCODING"] = "utf-8"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")  # keep TF's loader messages on stderr
    results: dict[str, dict] = {}

    def work(name: str) -> None:
        try:
            res = proc.run(ctx.python.command(script, name), timeout=timeout, env=env)
            results[name] = interpret(name, res, timeout)
        except Exception as exc:  # never let a thread die silently
            results[name] = {"status": "error", "signal": None,
                             "error": f"{type(exc).__name__}: {exc}"}

    threads = [threading.Thread(target=work, args=(n,), name=f"framework-{n}", daemon=True)
               for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 10)
    for name in names:
        results.setdefault(name, {"status": "timeout", "signal": None,
                                  "error": f"no answer from the {name} child"})
    return {name: results[name] for name in names}


# framework_child.py's own syntax needs this (f-strings).
CHILD_MIN_PYTHON = (3, 6)


def probe_frameworks(ctx: ProbeContext) -> dict:
    installed = static_facts(ctx.python.by_key())
    facts: dict[str, Any] = {"installed": installed, "live": {},
                             "live_skipped": None, "child_timeout_s": None}
    if not installed:
        return facts
    if ctx.options.get("no_frameworks"):
        facts["live_skipped"] = "--no-frameworks"
        facts["live"] = {name: {"status": "skipped", "signal": None} for name in installed}
        return facts
    version = ctx.python.version_info()
    if version[:2] < CHILD_MIN_PYTHON:
        facts["live_skipped"] = (f"the examined Python is {version[0]}.{version[1]}; the "
                                 "import child needs 3.6 or newer")
        facts["live"] = {name: {"status": "skipped", "signal": None} for name in installed}
        return facts
    facts["child_timeout_s"] = child_timeout(ctx)
    facts["live"] = run_children(list(installed), ctx)
    return facts


PROBES = [Probe("frameworks", probe_frameworks, deadline=PROBE_DEADLINE_S)]
