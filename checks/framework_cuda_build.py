"""framework.cuda_build: is the installed build of each framework one that can use this
GPU with this driver?"""

from __future__ import annotations

from envdoctor.facts import dicts
from envdoctor.hardware.gpus import no_nvidia
from envdoctor.hints import pip_command
from envdoctor.registry import register
from envdoctor.result import ERROR, INFO, WARNING, Finding, outcome, passed, skipped

from . import _framework as fw

_LEVEL = {"error": ERROR, "warning": WARNING, "info": INFO}
_CPU_CODE = {"error": "framework.E001", "warning": "framework.W003", "info": "framework.I001"}


def _ccs(facts: dict) -> list:
    ccs = []
    for gpu in fw.visible_gpus(facts) or fw.nvidia_gpus(facts):
        cc = fw.parse_cc(gpu.get("compute_capability"))
        if cc and cc not in ccs:
            ccs.append(cc)
    return ccs


def _build_cuda(name: str, info: dict):
    """The CUDA version a framework build needs at run time (None when unknown)."""
    if name == "torch":
        return info.get("cuda")
    if name == "tensorflow":
        return info.get("cuda") if info.get("is_cuda_build") else None
    if name in ("jax", "cupy"):
        major = str(info.get("cuda") or "")
        if major.isdigit():
            return f"{major}.0"  # the CUDA major family: its own minimum driver
        return major or None
    return None


def _torch_hint(facts: dict, info: dict, why: str) -> tuple[str, dict]:
    rec = fw.recommend_torch(facts, _ccs(facts), info.get("version"))
    if rec is None:
        return (f"{why} See {fw.CPU_HINT_URL} for the build that matches your GPU and "
                "driver.", {})
    cmd = fw.torch_install_command(rec, facts)
    if rec["same_release"]:
        where = ""
    else:
        release = ".".join(str(info.get("version") or "").split("+")[0].split(".")[:2])
        known = {str(r.get("torch")) for r in fw.torch_builds()["releases"]
                 if isinstance(r, dict)}
        if release in known:
            where = f" (torch {rec['torch']}: no torch {release} build fits this GPU and driver)"
        else:
            where = (f" (torch {rec['torch']}, the newest release in envdoctor's table; torch "
                     f"{release} may have a CUDA build too: {fw.CPU_HINT_URL})")
    return f"{why} Install the {rec['variant']} build{where}: {cmd}", {"recommended": rec}


def _tf_cuda_hint(facts: dict) -> str:
    """The newest TensorFlow whose tested CUDA this driver fully supports."""
    data = fw.tensorflow_builds()
    since = fw.version_tuple(data.get("and_cuda_since") or "2.14")
    for row in data["releases"]:
        verdict = fw.driver_verdict(row["cuda"], facts)
        if verdict and verdict.get("verdict") == "ok":
            if fw.version_tuple(row["max"]) >= since:
                return (f"{pip_command(facts)} install \"tensorflow[and-cuda]=={row['max']}.*\""
                        f" (built for CUDA {row['cuda']}, cuDNN {row['cudnn']})")
            # Before 2.14 there is no [and-cuda] extra: CUDA and cuDNN come separately; the
            # 1.x GPU build is its own distribution (tensorflow-gpu).
            dist = row.get("distribution") or "tensorflow"
            return (f"{pip_command(facts)} install \"{dist}=={row['max']}.*\" with CUDA "
                    f"{row['cuda']} and cuDNN {row['cudnn']} installed separately (this "
                    "release has no [and-cuda] extra)")
    return "upgrade the NVIDIA driver"


def _cpu_only(name: str, info: dict, facts: dict, gpu_builds: list) -> Finding:
    level = fw.CPU_BUILD_LEVEL.get(name, "warning")
    label = fw.NAMES.get(name, name)
    what = f"{info.get('distribution') or name} {info.get('version')}"
    message = (f"{label} ({what}) is a CPU-only build, but this machine has an NVIDIA GPU: "
               f"{label} will not use it.")
    details = {"framework": name, "version": info.get("version"), "build": info.get("build")}
    if name == "torch":
        hint, extra = _torch_hint(facts, info, "Replace it with a CUDA build.")
        details.update(extra)
    elif name == "tensorflow":
        system = (facts.get("platform") or {}).get("system")
        if system == "Windows":
            hint = ("TensorFlow has no GPU build for native Windows after 2.10; use WSL2: "
                    + fw.tensorflow_builds()["wsl2_url"])
        else:
            pip = pip_command(facts)
            hint = (f"{pip} uninstall -y " + str(info.get("distribution") or "tensorflow")
                    + f" && {pip} install \"tensorflow[and-cuda]\"")
    elif name == "jax":
        hint = (f"{pip_command(facts)} install -U \"jax[cuda12]\" "
                "(https://docs.jax.dev/en/latest/installation.html)")
    elif name == "onnxruntime":
        pip = pip_command(facts)
        hint = f"{pip} uninstall -y onnxruntime && {pip} install onnxruntime-gpu (only if " \
               "you want ONNX Runtime on the GPU)"
    else:
        hint = ""
    if gpu_builds and level == "error":
        message += f" ({', '.join(fw.NAMES.get(n, n) for n in gpu_builds)} can.)"
    return Finding(_CPU_CODE[level], _LEVEL[level], message, hint=hint, details=details)


@register(
    "framework.cuda_build",
    title="Framework build matches GPU and driver",
    tags=("framework", "gpu", "cuda"),
    needs=("frameworks", "nvidia", "platform"),
    uses=("env", "packages", "pip", "python", "python_env", "amd", "apple"),
    codes={
        "framework.E001": "An NVIDIA GPU is present but a CPU-only build of PyTorch, "
                          "TensorFlow or CuPy is installed.",
        "framework.E002": "The framework was built for a CUDA version this NVIDIA driver is "
                          "too old to run (below the CUDA family's minimum driver).",
        "framework.W001": "The driver is older than the build's CUDA toolkit but inside the "
                          "CUDA family's minimum: it runs (minor-version compatibility), "
                          "but newer PTX cannot be JIT-compiled.",
        "framework.W002": "TensorFlow newer than 2.10 on native Windows has no GPU support.",
        "framework.W003": "An NVIDIA GPU is present but JAX is a CPU-only install.",
        "framework.W004": "Both onnxruntime and onnxruntime-gpu are installed; they share one "
                          "package folder and the CPU one may win.",
        "framework.I001": "An NVIDIA GPU is present but onnxruntime (CPU) is installed.",
    },
)
def check_cuda_build(facts: dict):
    """Is the installed build of each framework able to use this GPU with this driver?

    Reads the static build facts (torch/version.py, TensorFlow's build_info.py, the JAX
    CUDA plugin and CuPy wheel names) and the NVIDIA driver version.

    Common causes: `pip install torch` on Windows or from a mirror gives the CPU wheel;
    `tensorflow-cpu` pulled in by another package; a torch built for CUDA 12.8 on a
    driver for CUDA 12.2 or older 11.x; TensorFlow 2.11+ on native Windows.

    Fix: install the build the hint names (for PyTorch, the exact index URL for the CUDA
    variant that runs on your GPU and driver, e.g. https://download.pytorch.org/whl/cu126),
    or upgrade the NVIDIA driver. A driver inside the CUDA family's minimum but below the
    toolkit's own is only a warning: it works.
    """
    installed = fw.installed(facts)
    if not installed:
        return skipped("no deep-learning framework installed")
    if not fw.gpu_present(facts):
        return skipped(no_nvidia(facts))
    findings = []
    details: dict = {"frameworks": {}}
    gpu_builds = [n for n, info in installed.items() if not fw.is_cpu_only(n, info)]
    for name, info in sorted(installed.items()):
        entry = {"build": info.get("build"), "version": info.get("version")}
        details["frameworks"][name] = entry
        label = fw.NAMES.get(name, name)
        if name == "tensorflow" and fw.tf_windows_unsupported(info, facts):
            entry["verdict"] = "windows_no_gpu"
            findings.append(Finding(
                "framework.W002", WARNING,
                f"TensorFlow {info.get('version')} on native Windows cannot use the GPU: "
                "GPU support on native Windows ended with TensorFlow 2.10.",
                hint="Run TensorFlow in WSL2 with `pip install \"tensorflow[and-cuda]\"`: "
                     + fw.tensorflow_builds()["wsl2_url"]
                     + " (or pin tensorflow<2.11 with CUDA 11.2 / cuDNN 8.1)",
                details={"framework": name, "version": info.get("version"),
                         "source": fw.tensorflow_builds()["windows_source"]}))
            continue
        if name == "onnxruntime" and len(dicts(info.get("distributions"))) > 1:
            names = [d.get("name") for d in dicts(info["distributions"])]
            if any("gpu" in str(n) for n in names):
                findings.append(Finding(
                    "framework.W004", WARNING,
                    f"Both {' and '.join(map(str, names))} are installed; they install the "
                    "same `onnxruntime` package and whichever was installed last wins.",
                    hint=f"{pip_command(facts)} uninstall -y " + " ".join(map(str, names))
                         + f" && {pip_command(facts)} install onnxruntime-gpu",
                    details={"distributions": names}))
        if fw.is_cpu_only(name, info):
            entry["verdict"] = "cpu_only"
            findings.append(_cpu_only(name, info, facts, [n for n in gpu_builds if n != name]))
            continue
        cuda = _build_cuda(name, info)
        entry["cuda"] = cuda
        verdict = fw.driver_verdict(cuda, facts) if cuda else None
        if verdict is None:
            entry["verdict"] = "unknown" if cuda else "no_cuda_requirement"
            continue
        entry["verdict"] = verdict.get("verdict")
        drv = fw.driver(facts)
        if verdict.get("verdict") == "insufficient":
            why = (f"upgrade the NVIDIA driver to {verdict.get('required')} or newer "
                   f"(CUDA {cuda}'s own minimum)")
            if name == "torch":
                hint, extra = _torch_hint(facts, info, "")
                hint = f"{hint.strip()}; or {why}."
            elif name == "tensorflow":
                hint, extra = f"{_tf_cuda_hint(facts)}; or {why}.", {}
            else:
                hint, extra = why[0].upper() + why[1:] + ".", {}
            findings.append(Finding(
                "framework.E002", ERROR,
                f"{label} {info.get('version')} is built for CUDA {cuda}, which needs NVIDIA "
                f"driver {verdict.get('family_minimum') or verdict.get('required')} or newer; "
                f"this driver is {drv}. CUDA will fail with \"CUDA driver version is "
                "insufficient for CUDA runtime version\".",
                hint=hint, details={"framework": name, "cuda": cuda, "driver": drv,
                                    "verdict": verdict, **extra}))
        elif verdict.get("verdict") == "minor_compat":
            findings.append(Finding(
                "framework.W001", WARNING,
                f"{label} {info.get('version')} is built for CUDA {cuda} (driver "
                f"{verdict.get('required')}); driver {drv} is older but inside CUDA "
                f"{str(cuda).split('.')[0]}.x's minimum ({verdict.get('family_minimum')}), so "
                "it runs through minor-version compatibility. Kernels shipped only as newer "
                "PTX cannot be JIT-compiled by this driver.",
                hint=f"Nothing is broken. To remove the warning, upgrade the NVIDIA driver to "
                     f"{verdict.get('required')} or newer.",
                details={"framework": name, "cuda": cuda, "driver": drv,
                         "verdict": verdict}))
    if not findings:
        names = ", ".join(f"{fw.NAMES.get(n, n)} {details['frameworks'][n]['build']}"
                          for n in sorted(details["frameworks"]))
        return passed(f"builds fit this GPU and driver: {names}", details)
    worst = max(findings, key=lambda f: f.level)
    return outcome(worst.message, findings, details)
