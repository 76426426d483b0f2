"""Environment variables, from a documented allowlist only (docs/privacy.md).

Never the whole environment: reports are pasted in public. Names that look like
secrets are dropped even when a prefix is allowed, and token-like values are masked.
"""

from __future__ import annotations

from envdoctor.probes import Probe, ProbeContext
from envdoctor.redact import SECRET_NAME, redact_tokens

ALLOWED_PREFIXES = ("CUDA_", "NVIDIA_", "CUDNN_", "NCCL_", "TF_", "XLA_", "JAX_", "TORCH_",
                    "HSA_", "RCCL_", "MIOPEN_",
                    "PYTORCH_", "HIP_", "ROCR_", "ROCM_", "CUPY_", "OMP_", "MKL_", "KMP_",
                    "OPENBLAS_", "NVCC_")
ALLOWED_NAMES = frozenset({
    "PATH", "LD_LIBRARY_PATH", "LD_PRELOAD", "DYLD_LIBRARY_PATH", "LIBRARY_PATH",
    "PYTHONPATH", "PYTHONHOME", "PYTHONNOUSERSITE", "VIRTUAL_ENV", "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV", "CONDA_SHLVL", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
    "NSIGHT_CUDA_DEBUGGER", "COMPUTE_PROFILE", "OPENCL_PROFILE", "GPU_DEVICE_ORDINAL",
    "WSL_DISTRO_NAME", "SLURM_JOB_ID", "SLURM_STEP_GPUS", "SLURM_JOB_GPUS",
    "KUBERNETES_SERVICE_HOST", "NO_COLOR", "LANG", "LC_ALL", "PYTHONIOENCODING",
    "PYTHONUTF8", "COLAB_RELEASE_TAG", "KAGGLE_KERNEL_RUN_TYPE", "OPENCV_IO_ENABLE_OPENEXR",
    "ENABLE_PJRT_COMPATIBILITY",
    # Build toolchain (checks/build_*.py): which compilers a source build uses.
    "CC", "CXX", "CUDAHOSTCXX", "CMAKE_CUDA_HOST_COMPILER", "MAX_JOBS",
})


def allowed(name: str) -> bool:
    if SECRET_NAME.search(name):
        return False
    return name in ALLOWED_NAMES or name.startswith(ALLOWED_PREFIXES)


def probe_env(ctx: ProbeContext) -> dict:
    variables = {name: redact_tokens(value) for name, value in sorted(ctx.environ.items())
                 if allowed(name)}
    return {"variables": variables}


PROBES = [Probe("env", probe_env)]
