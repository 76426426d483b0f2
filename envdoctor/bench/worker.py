"""The measuring side of ``envdoctor bench``, run as ``python -m envdoctor.bench.worker
PART JSON`` in a child process; prints one JSON object. Never imported by the parent."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from typing import Any

MiB = 1 << 20


def _blas_name(np: Any) -> str | None:
    try:
        config = np.show_config(mode="dicts")  # NumPy >= 1.26
        blas = (config or {}).get("Build Dependencies", {}).get("blas", {})
        name = blas.get("name")
        return str(name) if name else None
    except Exception:
        return None


def cpu(args: dict) -> dict:
    """Best float32 GEMM rate over repeated n x n products within the time budget."""
    try:
        import numpy as np
    except Exception as exc:
        return {"ok": False, "error": f"numpy is not installed ({type(exc).__name__})"}
    n = int(args.get("n", 2048))
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    a @ b  # warm-up: thread pool start, page faults
    best, runs, deadline = 0.0, 0, time.perf_counter() + float(args.get("seconds", 3))
    while True:
        start = time.perf_counter()
        a @ b
        elapsed = time.perf_counter() - start
        runs += 1
        best = max(best, 2 * n ** 3 / elapsed / 1e9)
        if time.perf_counter() > deadline or runs >= 200:
            break
    return {"ok": True, "gflops": best, "n": n, "runs": runs, "blas": _blas_name(np),
            "numpy": np.__version__}


def _drop_cache(fd: int) -> str:
    """Evict the file's pages so the read comes from the device (Linux: fadvise
    DONTNEED after fsync; macOS: F_NOCACHE)."""
    if hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            return "posix_fadvise(DONTNEED)"
        except OSError:
            pass
    try:
        import fcntl

        if hasattr(fcntl, "F_NOCACHE"):
            fcntl.fcntl(fd, fcntl.F_NOCACHE, 1)
            return "F_NOCACHE"
    except (ImportError, OSError):
        pass
    return "none"


def storage(args: dict) -> dict:
    """Write a temporary file in the data folder, drop it from the page cache, read it
    back sequentially in 1 MiB blocks; the file is always removed."""
    folder, size = str(args["folder"]), int(args.get("size_bytes", 256 * MiB))
    deadline = time.perf_counter() + float(args.get("seconds", 5))
    block = os.urandom(MiB)
    try:
        fd, path = tempfile.mkstemp(prefix=".envdoctor-bench-", dir=folder)
    except OSError as exc:
        return {"ok": False, "error": f"cannot write a temporary file there: {exc.strerror}"}
    try:
        written = 0
        with os.fdopen(fd, "wb", buffering=0) as out:
            while written < size and time.perf_counter() < deadline - 1:
                out.write(block)
                written += len(block)
            out.flush()
            os.fsync(out.fileno())
        if written == 0:
            return {"ok": False, "error": "no time left to write the test file"}
        with open(path, "rb", buffering=0) as src:
            bypass = _drop_cache(src.fileno())
            start, read = time.perf_counter(), 0
            while True:
                chunk = src.read(MiB)
                if not chunk:
                    break
                read += len(chunk)
            elapsed = max(time.perf_counter() - start, 1e-9)
        return {"ok": True, "mb_s": read / elapsed / 1e6, "bytes": read,
                "cache_bypass": bypass}
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def _fitting_size(torch: Any, dev: Any, dtype: Any, n_max: int, seconds: float,
                  sync: Any) -> int:
    """The largest n (a multiple of 256, at most n_max) whose product takes about a
    third of the time slice at the rate a 1024 x 1024 product runs: FP16 on a Pascal
    GeForce (1/64 rate) must not spend a minute on one 8192 x 8192 product."""
    small = min(1024, n_max)
    a = torch.randn(small, small, device=dev, dtype=dtype)
    b = torch.randn(small, small, device=dev, dtype=dtype)
    a @ b
    sync()
    start = time.perf_counter()
    a @ b
    sync()
    rate = 2 * small ** 3 / max(time.perf_counter() - start, 1e-9)
    fitting = int((rate * seconds / 3 / 2) ** (1 / 3)) // 256 * 256
    return max(256, min(n_max, fitting))


def _torch_gpu(args: dict, emit: Any) -> dict:
    import torch

    device = args.get("device") or "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        return {"ok": False, "error": "torch cannot use a GPU (torch.cuda.is_available() is "
                                      "False)", "library": f"torch {torch.__version__}"}
    index = int(args.get("index", 0))
    dev = torch.device(device, index) if device == "cuda" else torch.device(device)
    n = int(args.get("n", 4096))
    per = float(args.get("seconds", 2))

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize(dev)

    name = torch.cuda.get_device_name(dev) if device == "cuda" else "CPU (torch test mode)"
    # ROCm builds of torch drive AMD GPUs through the same "cuda" device.
    vendor = "amd" if getattr(torch.version, "hip", None) else "nvidia"
    header = {"ok": True, "library": f"torch {torch.__version__}", "device": device,
              "vendor": vendor if device == "cuda" else None, "index": index, "name": name,
              "n": n}
    results: dict[str, Any] = {}
    formats = [("fp32", torch.float32, False), ("tf32", torch.float32, True),
               ("fp16", torch.float16, False), ("bf16", torch.bfloat16, False)]
    for name, dtype, tf32 in formats:
        if name == "tf32" and device != "cuda":
            continue  # TF32 is a tensor-core mode of NVIDIA GPUs
        if name == "bf16" and device == "cuda" and not torch.cuda.is_bf16_supported():
            results[name] = {"skipped": "no BF16 support on this GPU"}
            continue
        try:
            if device == "cuda":
                torch.backends.cuda.matmul.allow_tf32 = tf32
            size = _fitting_size(torch, dev, dtype, n, per, sync)
            a = torch.randn(size, size, device=dev, dtype=dtype)
            b = torch.randn(size, size, device=dev, dtype=dtype)
            a @ b
            sync()
            best, runs, until = 0.0, 0, time.perf_counter() + per
            while True:
                start = time.perf_counter()
                a @ b
                sync()
                elapsed = time.perf_counter() - start
                runs += 1
                best = max(best, 2 * size ** 3 / elapsed / 1e12)
                if time.perf_counter() > until or runs >= 500:
                    break
            results[name] = {"tflops": best, "runs": runs, "n": size}
            del a, b
        except Exception as exc:
            results[name] = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        emit({**header, "matmul": results, "transfers": {}, "partial": True})
    transfers: dict[str, Any] = {}
    if device == "cuda":
        try:
            size = int(args.get("copy_bytes", 256 * MiB))
            host = torch.empty(size, dtype=torch.uint8).pin_memory()
            gpu = torch.empty(size, dtype=torch.uint8, device=dev)
            for name, copy in (("h2d", lambda: gpu.copy_(host, non_blocking=True)),
                               ("d2h", lambda: host.copy_(gpu, non_blocking=True))):
                copy()
                sync()
                best = 0.0
                for _ in range(5):
                    start = time.perf_counter()
                    copy()
                    sync()
                    best = max(best, size / (time.perf_counter() - start) / 1e9)
                transfers[name] = {"gb_s": best}
        except Exception as exc:
            transfers["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    else:
        transfers["skipped"] = "no accelerator: host<->device copies need a GPU"
    return {**header, "matmul": results, "transfers": transfers}


def _cupy_gpu(args: dict) -> dict:
    import cupy

    index, n, per = int(args.get("index", 0)), int(args.get("n", 4096)), \
        float(args.get("seconds", 2))
    results: dict[str, Any] = {}
    with cupy.cuda.Device(index):
        for name, dtype in (("fp32", cupy.float32), ("fp16", cupy.float16)):
            a = cupy.random.standard_normal((n, n), dtype=cupy.float32).astype(dtype)
            b = cupy.random.standard_normal((n, n), dtype=cupy.float32).astype(dtype)
            a @ b
            cupy.cuda.Device(index).synchronize()
            best, until = 0.0, time.perf_counter() + per
            while time.perf_counter() < until:
                start = time.perf_counter()
                a @ b
                cupy.cuda.Device(index).synchronize()
                best = max(best, 2 * n ** 3 / (time.perf_counter() - start) / 1e12)
            results[name] = {"tflops": best}
    return {"ok": True, "library": f"cupy {cupy.__version__}", "device": "cuda",
            "vendor": "amd" if getattr(cupy.cuda.runtime, "is_hip", False) else "nvidia",
            "index": index, "name": None, "n": n, "matmul": results,
            "transfers": {"skipped": "measured with torch only"}}


def gpu(args: dict, emit: Any = None) -> dict:
    emit = emit or (lambda snapshot: None)
    try:
        import torch  # noqa: F401
    except Exception:
        try:
            import cupy  # noqa: F401
        except Exception:
            return {"ok": False, "error": "neither torch nor CuPy is installed"}
        return _cupy_gpu(args)
    return _torch_gpu(args, emit)


PARTS = {"cpu": cpu, "storage": storage, "gpu": gpu}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in PARTS:
        sys.stderr.write("usage: python -m envdoctor.bench.worker cpu|gpu|storage JSON\n")
        return 2
    def emit(snapshot: dict) -> None:
        """A snapshot of what is measured so far: kept if the part is stopped later."""
        sys.stdout.write(json.dumps(snapshot) + "\n")
        sys.stdout.flush()

    try:
        args = json.loads(argv[1])
        result = gpu(args, emit) if argv[0] == "gpu" else PARTS[argv[0]](args)
    except Exception as exc:  # the parent records it; a traceback helps nobody here
        result = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
