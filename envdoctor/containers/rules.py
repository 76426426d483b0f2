"""Rules shared by every format: what the pip installs of an image and its base image
mean for the GPU, and (given the host's facts) for this host's NVIDIA driver."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from envdoctor.containers.images import Image
from envdoctor.containers.issues import Issue
from envdoctor.containers.pip import PipInstall

_TORCH_INDEX = re.compile(r"download\.pytorch\.org/whl/(?:[a-z]+/)?(cu\d{2,3}|cpu|rocm[\d.]+)")
GPU_FRAMEWORKS = ("torch", "tensorflow", "jax", "cupy", "onnxruntime-gpu", "vllm")
# Need CUDA and cuDNN libraries from the system (no bundled runtime in the default pip form).
_NEEDS_SYSTEM_CUDA = {"tensorflow": "TensorFlow (without the [and-cuda] extra)",
                      "onnxruntime-gpu": "onnxruntime-gpu"}
_LIBGL = re.compile(r"\b(libgl1|libgl1-mesa-glx|libgl1-mesa-dri|python3-opencv|mesa-libGL)\b")


@dataclass
class Build:
    """What an image holds: its base image, and each pip install with its line."""

    base: Optional[Image]
    pips: list[tuple[int, PipInstall]] = field(default_factory=list)
    shell: list[tuple[int, str]] = field(default_factory=list)
    where: str = ""
    base_line: Optional[int] = None

    def frameworks(self) -> dict[str, tuple[int, str]]:
        """GPU frameworks installed: name -> (line, requirement as written)."""
        found: dict[str, tuple[int, str]] = {}
        for line, pip in self.pips:
            for name, req in pip.names().items():
                key = "cupy" if name.startswith("cupy") else name
                if key in GPU_FRAMEWORKS or key in ("tensorflow-cpu", "jax"):
                    found.setdefault(key, (line, req))
        return found

    def uses_gpu(self) -> bool:
        """Does this image want a GPU? A CUDA base image or a GPU framework build."""
        if self.base is not None and self.base.has_cuda:
            return True
        for _line, pip in self.pips:
            variant = torch_variant(pip)
            names = pip.names()
            if "torch" in names and variant != "cpu":
                return True
            if any(n in names for n in ("onnxruntime-gpu", "vllm")) or \
                    any(n.startswith("cupy-cuda") for n in names):
                return True
            if any("[cuda" in r or "[and-cuda]" in r for r in names.values()):
                return True
        return False


_FRAMEWORK_IMAGES = ("pytorch", "tensorflow", "vllm", "jax", "huggingface", "nemo",
                     "tritonserver")


def runs_framework(build: Optional[Build], image: str = "") -> bool:
    """Does the image run a deep-learning framework (DataLoader workers, NCCL: the /dev/shm
    users)? From its pip installs or, for a prebuilt image, its name."""
    if build is not None and any(n in build.frameworks() for n in
                                 ("torch", "tensorflow", "jax", "vllm")):
        return True
    name = (image or (build.base.ref if build is not None and build.base else "")).lower()
    return any(word in name for word in _FRAMEWORK_IMAGES)


def torch_variant(pip: PipInstall) -> Optional[str]:
    """The PyTorch index variant (cu126, cpu ...) this pip install names, if any."""
    for url in pip.indexes():
        match = _TORCH_INDEX.search(url)
        if match:
            return match.group(1)
    for req in pip.requirements:
        local = re.search(r"\+(cu\d{2,3}|cpu)\b", req)
        if local and req.lower().startswith("torch"):
            return local.group(1)
    return None


def _pinned_release(requirement: str) -> Optional[str]:
    match = re.search(r"==\s*(\d+)\.(\d+)", requirement)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def _host_cuda(host: Optional[dict]) -> Optional[str]:
    from envdoctor.facts import as_dict

    nvidia = as_dict((host or {}).get("nvidia"))
    if not nvidia.get("gpus"):
        return None
    return nvidia.get("cuda_driver_version")


def judge(build: Build, host: Optional[dict] = None) -> list[Issue]:
    """Every issue of one image build (``host``: the facts of the machine it runs on)."""
    from envdoctor import cudacompat

    issues: list[Issue] = []
    base = build.base
    found = build.frameworks()
    from_line = build.shell[0][0] if build.shell else None
    base_line = build.base_line or from_line
    host_cuda = _host_cuda(host)
    if base is not None and base.musl:
        heavy = [n for n in ("torch", "tensorflow", "jax") if n in found]
        if heavy:
            issues.append(Issue("container.E004", found[heavy[0]][0],
                                f"{', '.join(heavy)} on the musl base image {base.ref}: PyPI has "
                                "no musl wheels for them, so pip fails or builds from source.",
                                "Use a glibc base image: python:3.12-slim, or an nvidia/cuda "
                                "image for the GPU."))
    if base is not None and base.has_cuda and base.cuda and host_cuda and \
            cudacompat.compare(host_cuda, base.cuda) < 0:
        issues.append(Issue("container.E002", base_line,
                            f"{base.ref} carries CUDA {base.cuda}; this host's driver runs CUDA "
                            f"up to {host_cuda}. The container refuses to start: "
                            f"\"nvidia-container-cli: requirement error: unsatisfied condition: "
                            f"cuda>={base.cuda}, please update your driver\".",
                            f"Use a base image with CUDA {host_cuda} or older (e.g. "
                            f"nvidia/cuda:{host_cuda}.0-runtime-ubuntu22.04), or upgrade the "
                            "NVIDIA driver.", {"image_cuda": base.cuda, "host_cuda": host_cuda}))
    for line, pip in build.pips:
        names = pip.names()
        if "torch" in names:
            issues.extend(_torch(line, pip, names["torch"], base, host, host_cuda))
        for name, label in _NEEDS_SYSTEM_CUDA.items():
            req = names.get(name, "")
            if req and base is not None and base.has_cuda is False and "[and-cuda]" not in req:
                issues.append(Issue("container.E001", line,
                                    f"{label} on {base.ref}, which has no CUDA libraries: it "
                                    "cannot load CUDA and runs on the CPU (or fails to start "
                                    "its CUDA provider).",
                                    'pip install "tensorflow[and-cuda]"' if name == "tensorflow"
                                    else "Use an nvidia/cuda:12.x-cudnn-runtime base image "
                                         "(CUDA 12 and cuDNN 9)."))
        tf = names.get("tensorflow", "")
        if tf and "[and-cuda]" not in tf and base is not None and base.has_cuda and base.cuda:
            issue = _tensorflow_on_cuda_image(line, tf, base)
            if issue:
                issues.append(issue)
        cpu_only = [r for n, r in names.items() if n == "tensorflow-cpu"]
        if torch_variant(pip) == "cpu" and "torch" in names:
            cpu_only.append(names["torch"] + " (from the CPU index)")
        if cpu_only and base is not None and base.has_cuda:
            issues.append(Issue("container.E001", line,
                                f"{', '.join(cpu_only)} on the CUDA image {base.ref}: a "
                                "CPU-only build never uses the GPU.",
                                "Install the CUDA build (envdoctor install torch --from "
                                "REPORT gives the index for a machine), or use a smaller "
                                "image without CUDA."))
        gui = [r for n, r in names.items() if n in ("opencv-python", "opencv-contrib-python")]
        if gui and not any(_LIBGL.search(text) for _, text in build.shell):
            issues.append(Issue("container.W005", line,
                                f"{gui[0]} is OpenCV's GUI build: it needs libGL, which slim "
                                "and CUDA images lack (\"ImportError: libGL.so.1: cannot open "
                                "shared object file\").",
                                f"Install {_headless(gui[0])} instead (same cv2 module, no "
                                "GUI)."))
    return issues


def _tensorflow_on_cuda_image(line: int, requirement: str, base: Image) -> Optional[Issue]:
    """TensorFlow without [and-cuda] loads the CUDA libraries of the image: they must be
    the CUDA major its release was built for."""
    from envdoctor.checks import _framework as fw

    rows = fw.tensorflow_builds()["releases"]
    release = _pinned_release(requirement)
    row = next((r for r in rows if release and fw.version_tuple(r["min"]) <=
                fw.version_tuple(release) <= fw.version_tuple(r["max"])), None)
    row = row or (rows[0] if not release else None)
    if row is None or row["cuda"].split(".")[0] == str(base.cuda).split(".")[0]:
        return None
    which = f"TensorFlow {release}" if release else f"The newest TensorFlow ({row['max']})"
    return Issue("container.E001", line,
                 f"{which} is built for CUDA {row['cuda']} and cuDNN {row['cudnn']}; "
                 f"{base.ref} has CUDA {base.cuda}: TensorFlow cannot load its CUDA libraries "
                 "(\"Could not load dynamic library 'libcudart.so...'\") and runs on the CPU.",
                 f"Pin a TensorFlow built for CUDA {base.cuda.split('.')[0]} (see "
                 "envdoctor/data/tensorflow_builds.json), or install \"tensorflow[and-cuda]\", "
                 "which brings its own CUDA libraries.",
                 {"tensorflow_cuda": row["cuda"], "image_cuda": base.cuda})


def _headless(requirement: str) -> str:
    name = _NAME_OF.match(requirement)
    return (name.group(0) + "-headless" + requirement[name.end():]) if name else requirement


_NAME_OF = re.compile(r"opencv(-contrib)?-python")


def _torch(line: int, pip: PipInstall, requirement: str, base: Optional[Image],
           host: Optional[dict], host_cuda: Optional[str]) -> list[Issue]:
    from envdoctor.checks import _framework as fw

    issues: list[Issue] = []
    variant = torch_variant(pip)
    release = _pinned_release(requirement)
    if variant is None:
        fix = "Name the PyTorch index for your CUDA: --index-url https://download.pytorch.org/" \
              "whl/cu126 (`envdoctor install torch` prints the one for a machine)."
        default, default_cuda = None, None
        rel = release or fw.torch_releases()[-1][1]
        for row in fw.torch_builds()["releases"]:
            if row["torch"] == rel:
                default = row.get("pypi_default")
        if default:
            info = (fw.torch_release(rel) or ("", {}))[1].get(default) or {}
            default_cuda = info.get("cuda")
        if host is not None and host_cuda and default_cuda:
            verdict = fw.driver_verdict(default_cuda, host)
            if verdict and verdict.get("verdict") == "insufficient":
                from envdoctor.install.advice import advise

                # The image's Python and packages are not the host's: advise from the
                # host's GPU and driver only.
                gpu_only = {k: v for k, v in host.items() if k in ("nvidia", "platform", "env")}
                advice = advise("torch", gpu_only, release=rel if release else None)
                better = f" --index-url {advice.index_url}" if advice.index_url else ""
                issues.append(Issue(
                    "container.E003", line,
                    f"`{requirement}` from PyPI is the {default} build of torch {rel} (CUDA "
                    f"{default_cuda}); this host's driver runs CUDA up to {host_cuda}: "
                    "\"CUDA driver version is insufficient for CUDA runtime version\".",
                    f"Install {advice.build}:{better}" if advice.fits else
                    "Upgrade the NVIDIA driver.", {"pypi_default": default}))
                return issues
        issues.append(Issue("container.W001", line,
                            f"`{requirement}` comes from PyPI without a PyTorch index: the "
                            f"image gets PyPI's default CUDA build"
                            + (f" (torch {rel}: {default}, CUDA {default_cuda})" if default_cuda
                               else "") + ", whatever that is on the day it is built.", fix))
        return issues
    if variant == "cpu" or not variant.startswith("cu"):
        return issues
    cuda = f"{variant[2:-1]}.{variant[-1]}"
    if release:
        row = fw.torch_release(release)
        if row is not None and variant not in row[1]:
            where = "--extra-index-url" if pip.extra_index_urls and not pip.index_url else \
                "--index-url"
            outcome = ("pip silently takes PyPI's default build instead" if where ==
                       "--extra-index-url" else "pip fails: no matching distribution")
            issues.append(Issue("container.W006", line,
                                f"The {variant} index has no torch {release} (its variants: "
                                f"{', '.join(sorted(row[1]))}): {outcome}.",
                                f"Use one of {', '.join(sorted(row[1]))} for torch {release}, "
                                "with --index-url so nothing else can win."))
    if base is not None and base.has_cuda and base.cuda and \
            base.cuda.split(".")[0] != cuda.split(".")[0]:
        issues.append(Issue("container.W002", line,
                            f"torch from the {variant} index is built for CUDA {cuda}, the base "
                            f"image {base.ref} carries CUDA {base.cuda}: extensions compiled "
                            "in this image fail (\"The detected CUDA version ... mismatches "
                            "the version that was used to compile PyTorch\").",
                            f"Use a CUDA {cuda.split('.')[0]}.x base image or the matching "
                            "torch index."))
    if host is not None and host_cuda:
        verdict = fw.driver_verdict(cuda, host)
        if verdict and verdict.get("verdict") == "insufficient":
            issues.append(Issue("container.E003", line,
                                f"torch from the {variant} index needs driver "
                                f"{verdict.get('family_minimum') or verdict.get('required')} or "
                                f"newer; this host's driver runs CUDA up to {host_cuda}.",
                                "Use an older CUDA index (`envdoctor install torch` names one) "
                                "or upgrade the NVIDIA driver."))
    return issues
