"""Which checks a paste can judge.

A live run or a pasted envdoctor report holds every fact a check reads. Other dumps state
a few facts each, and a check run on facts it does not have would pass for want of
evidence. So each check that can judge pasted facts is listed here with the facts it
needs (``needs``: all of them; ``any_of``: at least one), and those whose verdict
depends on a complete list (``complete``) cannot pass on a partial one (collect_env
quotes only "relevant" packages). Every other check, plugins included, is skipped with
the reason "not in the pasted text".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from envdoctor.readers import Paste

GPU_KNOWN = ("nvidia.driver_version", "nvidia.gpus", "nvidia.errors", "nvidia.present")
BUILD_KNOWN = tuple(f"frameworks.installed.{n}.build"
                    for n in ("torch", "tensorflow", "jax", "cupy", "onnxruntime"))


@dataclass(frozen=True)
class Rule:
    what: str                          # what the paste must show, for the skip reason
    needs: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    also_any: tuple[str, ...] = ()     # a second "at least one of" group
    complete: tuple[str, ...] = ()     # a pass needs these lists whole


RULES: dict[str, Rule] = {
    "gpu.driver": Rule("nvidia-smi output or the NVIDIA driver version", any_of=GPU_KNOWN),
    "cuda.driver_compat": Rule("the NVIDIA driver version and a CUDA build or toolkit "
                               "version", needs=("nvidia.driver_version",),
                               any_of=BUILD_KNOWN + ("cuda.runtimes",)),
    "framework.cuda_build": Rule("a framework's build (CUDA or CPU) and the NVIDIA GPUs "
                                 "(nvidia-smi's table or collect_env's GPU lines)",
                                 any_of=BUILD_KNOWN, also_any=("nvidia.gpus",)),
    "framework.gpu_visible": Rule("whether the framework sees the GPU (collect_env's \"Is "
                                  "CUDA available\", torch.cuda.is_available())",
                                  needs=("frameworks.live",), also_any=GPU_KNOWN),
    "cuda.cudnn": Rule("a cuDNN version", needs=("cuda.cudnn",)),
    "cpu.avx": Rule("the CPU flags (lscpu) and the installed packages",
                    needs=("cpu.flags", "packages.distributions"),
                    complete=("packages.distributions",)),
    "python.interpreter": Rule("the Python version", needs=("python.version",)),
    "platform.os": Rule("the operating system", needs=("platform.system",)),
    "build.host_compiler": Rule("the nvcc and gcc versions (collect_env's \"CUDA runtime "
                                "version\" and \"GCC version\")",
                                needs=("toolchain.nvcc", "toolchain.nvcc_host")),
    "pip.opencv": Rule("the full list of installed packages (pip list, pip freeze or conda "
                       "list)", needs=("packages.distributions",),
                       complete=("packages.distributions",)),
}

NOT_PASTED = "not in the pasted text"


def _has(paste: Paste, path: str) -> bool:
    return any(k == path or k.startswith(path + ".") for k in paste.known)


def missing(check_id: str, paste: Paste) -> Optional[str]:
    """Why ``check_id`` cannot judge this paste (a skip reason), or None when it can."""
    if "*" in paste.known:
        return None
    rule = RULES.get(check_id)
    if rule is None:
        return f"{NOT_PASTED} (only `envdoctor check` on the machine gathers its facts)"
    ok = (all(_has(paste, p) for p in rule.needs)
          and (not rule.any_of or any(_has(paste, p) for p in rule.any_of))
          and (not rule.also_any or any(_has(paste, p) for p in rule.also_any)))
    return None if ok else f"{NOT_PASTED} (needs {rule.what})"


def untrusted_pass(check_id: str, paste: Paste) -> Optional[str]:
    """Why a pass of ``check_id`` proves nothing here (a skip reason), or None."""
    rule = RULES.get(check_id)
    if "*" in paste.known or rule is None:
        return None
    short = [p for p in rule.complete if p in paste.partial]
    if short:
        return (f"{NOT_PASTED}: only part of the package list was pasted (collect_env "
                "lists the relevant ones); nothing wrong among those")
    return None
