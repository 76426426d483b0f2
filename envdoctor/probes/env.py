"""Environment variables, from a documented allowlist only (docs/privacy.md).

Never the whole environment: reports are pasted in public. Only exact names are allowed
(docs/privacy.md lists them); names that look like secrets are dropped even so; values
are scanned for secrets (PEM blocks, sig=/token= parameters, Bearer tokens, known token
formats, credentials in URLs) and masked; addresses in the variables that name other
machines are redacted.
"""

from __future__ import annotations

import re

from envdoctor.probes import Probe, ProbeContext
from envdoctor.redact import SECRET_NAME, redact_addresses, redact_tokens

# Exact names only: a prefix such as TF_ would let Terraform's TF_VAR_db_password and
# TF_CLI_CONFIG_FILE through. What each family means for a diagnosis:
ALLOWED_NAMES = frozenset({
    # NVIDIA / CUDA: which GPUs, which toolkit, how the runtime loads
    "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "CUDA_LAUNCH_BLOCKING",
    "CUDA_MODULE_LOADING", "CUDA_HOME", "CUDA_PATH", "CUDA_ROOT", "CUDA_TOOLKIT_ROOT_DIR",
    "CUDA_VERSION", "CUDA_CACHE_PATH", "CUDA_CACHE_DISABLE", "CUDA_CACHE_MAXSIZE",
    "CUDA_FORCE_PTX_JIT", "CUDA_DISABLE_PTX_JIT", "CUDA_AUTO_BOOST",
    "CUDA_DEVICE_MAX_CONNECTIONS", "CUDA_MPS_PIPE_DIRECTORY", "CUDA_MPS_LOG_DIRECTORY",
    "CUDA_INJECTION32_PATH", "CUDA_INJECTION64_PATH", "CUDA_ENABLE_COREDUMP_ON_EXCEPTION",
    "CUDA_COREDUMP_FILE", "CUDA_DEVICE_WAITS_ON_EXCEPTION", "CUDA_PROFILE",
    "NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES", "NVIDIA_REQUIRE_CUDA",
    "NVIDIA_DISABLE_REQUIRE", "NVIDIA_TF32_OVERRIDE", "NVIDIA_MIG_CONFIG_DEVICES",
    "NVIDIA_PRODUCT_NAME", "NV_CUDA_LIB_VERSION", "NVCC_APPEND_FLAGS", "NVCC_PREPEND_FLAGS",
    "NVCC_CCBIN", "CUDNN_PATH", "CUDNN_VERSION", "CUDNN_HOME", "CUDNN_ROOT_DIR",
    "NCCL_DEBUG", "NCCL_DEBUG_SUBSYS", "NCCL_SOCKET_IFNAME", "NCCL_IB_DISABLE",
    "NCCL_IB_HCA", "NCCL_P2P_DISABLE", "NCCL_P2P_LEVEL", "NCCL_SHM_DISABLE",
    "NCCL_NET_GDR_LEVEL", "NCCL_ALGO", "NCCL_PROTO", "NCCL_COMM_ID", "NCCL_NVLS_ENABLE",
    "NCCL_CUMEM_ENABLE", "NCCL_ASYNC_ERROR_HANDLING", "NCCL_BLOCKING_WAIT",
    # TensorFlow (never TF_VAR_*, TF_CLI_*, TF_TOKEN_*: those are Terraform's)
    "TF_CPP_MIN_LOG_LEVEL", "TF_CPP_MAX_VLOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS",
    "TF_FORCE_GPU_ALLOW_GROWTH", "TF_GPU_ALLOCATOR", "TF_GPU_THREAD_MODE", "TF_XLA_FLAGS",
    "TF_CONFIG", "TF_USE_LEGACY_KERAS", "TF_CUDA_PATHS", "TF_NEED_CUDA",
    "TF_CUDA_COMPUTE_CAPABILITIES", "TF_CUDA_VERSION", "TF_CUDNN_VERSION",
    "TF_DETERMINISTIC_OPS", "TF_CUDNN_DETERMINISTIC", "TF_ENABLE_AUTO_MIXED_PRECISION",
    # XLA / JAX
    "XLA_FLAGS", "XLA_PYTHON_CLIENT_PREALLOCATE", "XLA_PYTHON_CLIENT_MEM_FRACTION",
    "XLA_PYTHON_CLIENT_ALLOCATOR", "JAX_PLATFORMS", "JAX_PLATFORM_NAME", "JAX_ENABLE_X64",
    "JAX_COORDINATOR_ADDRESS", "JAX_TRACEBACK_FILTERING", "JAX_CUDA_VISIBLE_DEVICES",
    # PyTorch
    "TORCH_CUDA_ARCH_LIST", "TORCH_HOME", "TORCH_EXTENSIONS_DIR", "TORCH_SHOW_CPP_STACKTRACES",
    "TORCH_USE_CUDA_DSA", "TORCH_NCCL_ASYNC_ERROR_HANDLING", "TORCH_NCCL_BLOCKING_WAIT",
    "TORCH_DISTRIBUTED_DEBUG", "TORCH_CPP_LOG_LEVEL", "TORCH_LOGS", "TORCH_COMPILE_DEBUG",
    "TORCH_CUDNN_V8_API_ENABLED", "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE", "TORCHINDUCTOR_CACHE_DIR",
    "PYTORCH_CUDA_ALLOC_CONF", "PYTORCH_HIP_ALLOC_CONF", "PYTORCH_NVML_BASED_CUDA_CHECK",
    "PYTORCH_NO_CUDA_MEMORY_CACHING", "PYTORCH_ENABLE_MPS_FALLBACK", "PYTORCH_JIT",
    "PYTORCH_ROCM_ARCH", "TRITON_CACHE_DIR", "TRITON_PTXAS_PATH",
    # AMD ROCm
    "HIP_VISIBLE_DEVICES", "HIP_PATH", "HIP_PLATFORM", "HIP_LAUNCH_BLOCKING",
    "ROCR_VISIBLE_DEVICES", "ROCM_PATH", "ROCM_HOME", "ROCM_VERSION",
    "HSA_OVERRIDE_GFX_VERSION", "HSA_ENABLE_SDMA", "HSA_XNACK", "HSA_FORCE_FINE_GRAIN_PCIE",
    "GPU_DEVICE_ORDINAL", "MIOPEN_USER_DB_PATH", "MIOPEN_CUSTOM_CACHE_DIR",
    "MIOPEN_FIND_MODE", "MIOPEN_LOG_LEVEL", "MIOPEN_DISABLE_CACHE", "MIOPEN_DEBUG_DISABLE_FIND_DB",
    "RCCL_MSCCL_ENABLE", "RCCL_DEBUG",
    # CuPy
    "CUPY_CACHE_DIR", "CUPY_ACCELERATORS", "CUPY_CUDA_PATH", "CUPY_NVCC_GENERATE_CODE",
    "CUPY_COMPILE_WITH_PTX",
    # Threads and BLAS
    "OMP_NUM_THREADS", "OMP_PROC_BIND", "OMP_PLACES", "OMP_DYNAMIC", "MKL_NUM_THREADS",
    "MKL_THREADING_LAYER", "MKL_SERVICE_FORCE_INTEL", "MKL_DEBUG_CPU_TYPE",
    "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR", "KMP_AFFINITY", "KMP_BLOCKTIME",
    "KMP_DUPLICATE_LIB_OK", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_VERBOSE",
    "OPENBLAS_L2_SIZE",
    # Paths, Python and environments
    "PATH", "LD_LIBRARY_PATH", "LD_PRELOAD", "DYLD_LIBRARY_PATH", "LIBRARY_PATH",
    "PYTHONPATH", "PYTHONHOME", "PYTHONNOUSERSITE", "VIRTUAL_ENV", "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV", "CONDA_SHLVL", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
    "NSIGHT_CUDA_DEBUGGER", "COMPUTE_PROFILE", "OPENCL_PROFILE",
    "WSL_DISTRO_NAME", "SLURM_JOB_ID", "SLURM_STEP_GPUS", "SLURM_JOB_GPUS",
    "KUBERNETES_SERVICE_HOST", "NO_COLOR", "LANG", "LC_ALL", "PYTHONIOENCODING",
    "PYTHONUTF8", "COLAB_RELEASE_TAG", "KAGGLE_KERNEL_RUN_TYPE", "OPENCV_IO_ENABLE_OPENEXR",
    "ENABLE_PJRT_COMPATIBILITY",
    # Build toolchain (checks/build_*.py): which compilers a source build uses.
    "CC", "CXX", "CUDAHOSTCXX", "CMAKE_CUDA_HOST_COMPILER", "MAX_JOBS",
})
# No prefixes: a family whose every member is a path is matched exactly by its shape
# (CUDA_PATH_V12_4, set by the Windows CUDA installer).
ALLOWED_PREFIXES: tuple[str, ...] = ()
ALLOWED_PATTERN = re.compile(r"CUDA_PATH_V\d+_\d+\Z")

# Variables that name other machines (coordinators, peers, the API server): their
# addresses are redacted, the port and structure kept.
ADDRESS_NAMES = frozenset({"KUBERNETES_SERVICE_HOST", "NCCL_COMM_ID", "JAX_COORDINATOR_ADDRESS",
                           "TF_CONFIG"})


def allowed(name: str) -> bool:
    if SECRET_NAME.search(name):
        return False
    return name in ALLOWED_NAMES or bool(ALLOWED_PATTERN.match(name))


def probe_env(ctx: ProbeContext) -> dict:
    variables = {}
    for name, value in sorted(ctx.environ.items()):
        if not allowed(name):
            continue
        # An allowed name can still hold a secret (a SAS URL, a PEM key pasted into a
        # variable): values are scanned, and addresses of other machines redacted.
        value = redact_tokens(value)
        if name in ADDRESS_NAMES:
            value = redact_addresses(value)
        variables[name] = value
    return {"variables": variables}


PROBES = [Probe("env", probe_env)]
