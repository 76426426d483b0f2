"""The script each framework child process runs: import ONE framework, report what it sees.

Run by path (``python -B /path/to/framework_child.py torch``) so that the child imports
nothing of envdoctor: only the standard library and the framework. It prints JSON lines
on its original stdout: ``{"stage": "import"}`` before each step (so the parent knows
where a child that died by a signal or hung was) and a final ``{"result": {...}}``.
Anything the framework itself prints on stdout is sent to stderr, so it cannot corrupt
the JSON. Every step is guarded: an exception becomes an ``error`` text in the result.

The parent (:mod:`envdoctor.probes.frameworks`) never imports a framework itself. The
child runs under the examined Python (``ctx.python``), which may be as old as 3.6: no
``from __future__ import annotations``, no syntax newer than 3.6.
"""

import json
import os
import sys
import time
import traceback
import warnings

# Running by path puts this file's folder (envdoctor/) first on sys.path; its modules
# (report, output, proc...) must not shadow anything the framework imports.
_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
    del sys.path[0]

try:
    import faulthandler

    faulthandler.enable()  # a SIGSEGV/SIGILL leaves a Python traceback in stderr
except Exception:  # pragma: no cover - faulthandler is always there on CPython
    pass

_OUT = None


def _emit(doc: dict) -> None:
    data = (json.dumps(doc, default=str, ensure_ascii=True) + "\n").encode("ascii")
    if _OUT is None:
        sys.stdout.write(data.decode("ascii"))
        sys.stdout.flush()
    else:
        os.write(_OUT, data)


def stage(name: str) -> None:
    _emit({"stage": name})


def _err(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text[:2000]


def _warning_texts(caught: list) -> list:
    texts = []
    for w in caught:
        msg = " ".join(str(w.message).split())
        if msg and msg not in texts:
            texts.append(msg[:600])
    return texts[:10]


def _loaded_libraries() -> list:
    """CUDA/cuDNN/ROCm libraries this process actually mapped (Linux: /proc/self/maps)."""
    keys = ("libcudart", "libcudnn", "libcublas", "libcuda.so", "libnvrtc", "libnccl",
            "libamdhip64", "libMIOpen", "libcupti", "libcufft", "libcusparse", "libnvJitLink")
    found = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                parts = line.split(None, 5)
                if len(parts) < 6:
                    continue
                path = parts[5].strip()
                base = os.path.basename(path)
                if any(base.startswith(k) for k in keys) and path not in found:
                    found.append(path)
    except OSError:
        return []
    return found[:40]


def _plain(value):
    """A build-info value as JSON keeps it: scalars as they are, lists as lists of text
    (TensorFlow's cuda_compute_capabilities is a list), anything else as its text."""
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value][:64]
    return str(value)


def _cap(major, minor) -> str:
    return f"{int(major)}.{int(minor)}"


def _cuda_level(v: int) -> str:
    """A CUDA version as the runtime API gives it: 12040 -> "12.4"."""
    return f"{v // 1000}.{(v % 1000) // 10}"


def _record_gpus(res: dict, devices: list) -> None:
    """The GPUs a framework lists: each one it sees is usable."""
    res["devices"] = devices
    res["device_count"] = len(devices)
    res["cuda_available"] = bool(devices)
    res["loaded_libraries"] = _loaded_libraries()


# ---------------------------------------------------------------- frameworks


def probe_torch(res: dict, torch) -> None:
    res["version"] = str(torch.__version__)
    version = getattr(torch, "version", None)
    res["build_cuda"] = getattr(version, "cuda", None)
    res["build_hip"] = getattr(version, "hip", None)
    res["file"] = getattr(torch, "__file__", None)
    stage("cuda_init")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res["cuda_available"] = bool(torch.cuda.is_available())
        except Exception as exc:
            res["cuda_available"] = False
            res["error"] = _err(exc)
        try:
            res["device_count"] = int(torch.cuda.device_count())
        except Exception as exc:
            res["device_count"] = 0
            res.setdefault("error", _err(exc))
        if not res["cuda_available"] and "error" not in res:
            # is_available() swallows the reason; init() raises it with torch's own text.
            try:
                torch.cuda.init()
            except Exception as exc:
                res["error"] = _err(exc)
    try:
        res["arch_list"] = list(torch.cuda.get_arch_list())
    except Exception as exc:
        res["arch_list"] = []
        res["arch_list_error"] = _err(exc)
    stage("cudnn")
    try:
        res["cudnn"] = torch.backends.cudnn.version()
        res["cudnn_available"] = bool(torch.backends.cudnn.is_available())
    except Exception as exc:
        res["cudnn"] = None
        res["cudnn_error"] = _err(exc)
    devices = []
    if res.get("cuda_available"):
        stage("devices")
        for i in range(res.get("device_count") or 0):
            dev = {"index": i}
            try:
                props = torch.cuda.get_device_properties(i)
                dev["name"] = props.name
                dev["compute_capability"] = _cap(props.major, props.minor)
                dev["total_memory_mb"] = int(props.total_memory // (1024 * 1024))
            except Exception as exc:
                dev["error"] = _err(exc)
            devices.append(dev)
        # One tiny kernel per distinct capability: the only sure test that the build
        # has code for this GPU ("no kernel image is available for execution").
        stage("kernel")
        tested = set()
        for dev in devices:
            cap = dev.get("compute_capability")
            if cap is None or cap in tested:
                continue
            tested.add(cap)
            with warnings.catch_warnings(record=True) as kcaught:
                warnings.simplefilter("always")
                try:
                    x = torch.ones(4, device=f"cuda:{dev['index']}")
                    float((x * 2).sum().item())
                    torch.cuda.synchronize(dev["index"])
                    dev["kernel_test"] = "ok"
                except Exception as exc:
                    dev["kernel_test"] = _err(exc)
            caught.extend(kcaught)
        try:
            import ctypes

            rt = ctypes.c_int()
            cudart = torch.cuda.cudart()
            if hasattr(cudart, "cudaRuntimeGetVersion"):
                cudart.cudaRuntimeGetVersion(ctypes.byref(rt))
                res["cuda_runtime"] = _cuda_level(rt.value)
        except Exception:
            pass
    res["devices"] = devices
    if res.get("build_hip"):
        probe_torch_rocm(res, torch, caught)
    stage("mps")
    try:
        mps = torch.backends.mps
        res["mps_built"] = bool(mps.is_built())
        res["mps_available"] = bool(mps.is_available())
    except Exception:
        res["mps_built"] = res["mps_available"] = False
    if res.get("mps_available"):
        probe_torch_mps(res, torch, caught)
    _torch_collect_env_extras(res, torch)
    res["warnings"] = _warning_texts(caught)
    res["loaded_libraries"] = _loaded_libraries()


def _torch_collect_env_extras(res: dict, torch) -> None:
    """What `python -m torch.utils.collect_env` prints beyond the above: XNNPACK, Intel
    XPU, and CUDA_MODULE_LOADING as torch leaves it after initialising CUDA (torch sets
    LAZY when it is unset)."""
    try:
        import torch.backends.xnnpack as xnnpack

        res["xnnpack_available"] = bool(xnnpack.enabled)
    except Exception:
        res["xnnpack_available"] = None
    try:
        xpu = getattr(torch, "xpu", None)
        res["xpu_available"] = bool(xpu.is_available()) if xpu is not None else False
    except Exception:
        res["xpu_available"] = None
    if res.get("cuda_available"):
        res["cuda_module_loading"] = os.environ.get("CUDA_MODULE_LOADING", "")


def probe_torch_rocm(res: dict, torch, caught: list) -> None:
    """ROCm builds: the HIP version, MIOpen (torch.backends.cudnn answers for MIOpen on
    ROCm; kept as torch's number), each GPU's gfx target (gcnArchName), and the test
    kernel on every gfx target not tested yet (the CUDA path tests one GPU per
    "capability", and two gfx targets can share one: gfx1030 and gfx1031 are both 10.3)."""
    stage("rocm")
    res["hip_version"] = str(torch.version.hip)
    if res.get("cudnn") is not None:
        res["miopen"] = res["cudnn"]
    devices = res.get("devices") or []
    for dev in devices:
        try:
            dev["gcn_arch"] = str(torch.cuda.get_device_properties(dev["index"]).gcnArchName)
        except Exception as exc:
            dev["gcn_arch_error"] = _err(exc)
    tested = {d["gcn_arch"].split(":")[0] for d in devices
              if "kernel_test" in d and d.get("gcn_arch")}
    for dev in devices:
        target = (dev.get("gcn_arch") or "").split(":")[0]
        if not target or "kernel_test" in dev or target in tested:
            continue
        tested.add(target)
        with warnings.catch_warnings(record=True) as kcaught:
            warnings.simplefilter("always")
            try:
                x = torch.ones(4, device=f"cuda:{dev['index']}")
                float((x * 2).sum().item())
                torch.cuda.synchronize(dev["index"])
                dev["kernel_test"] = "ok"
            except Exception as exc:
                dev["kernel_test"] = _err(exc)
        caught.extend(kcaught)


def probe_torch_mps(res: dict, torch, caught: list) -> None:
    """Apple's GPU through MPS: one tiny op, the only sure test that MPS works (an
    available backend can still fail on first use, e.g. in a VM)."""
    stage("mps_kernel")
    with warnings.catch_warnings(record=True) as kcaught:
        warnings.simplefilter("always")
        try:
            x = torch.ones(4, device="mps")
            float((x * 2).sum().item())
            sync = getattr(getattr(torch, "mps", None), "synchronize", None)
            if sync is not None:
                sync()
            res["mps_test"] = "ok"
        except Exception as exc:
            res["mps_test"] = _err(exc)
    caught.extend(kcaught)


def probe_tensorflow(res: dict, tf) -> None:
    res["version"] = str(getattr(tf, "__version__", "?"))
    try:
        info = dict(tf.sysconfig.get_build_info())
        res["build_info"] = {str(k): _plain(v) for k, v in info.items()}
    except Exception as exc:
        res["build_info_error"] = _err(exc)
    stage("cuda_init")
    try:
        res["built_with_cuda"] = bool(tf.test.is_built_with_cuda())
    except Exception:
        pass
    devices = []
    try:
        gpus = tf.config.list_physical_devices("GPU")
        for i, dev in enumerate(gpus):
            entry = {"index": i, "name": dev.name}
            try:
                details = tf.config.experimental.get_device_details(dev)
                entry["device_name"] = details.get("device_name")
                cc = details.get("compute_capability")
                if cc:
                    entry["compute_capability"] = _cap(cc[0], cc[1])
            except Exception:
                pass
            devices.append(entry)
    except Exception as exc:
        res["error"] = _err(exc)
    _record_gpus(res, devices)


def probe_jax(res: dict, jax) -> None:
    res["version"] = str(getattr(jax, "__version__", "?"))
    try:
        import jaxlib

        res["jaxlib_version"] = str(getattr(jaxlib, "__version__", None))
    except Exception:
        pass
    stage("cuda_init")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res["backend"] = str(jax.default_backend())
            res["devices"] = [{"index": i, "platform": str(getattr(d, "platform", "?")),
                               "name": str(getattr(d, "device_kind", d)),
                               "compute_capability": getattr(d, "compute_capability", None)}
                              for i, d in enumerate(jax.devices())]
        except Exception as exc:
            res["backend"] = None
            res["devices"] = []
            res["error"] = _err(exc)
        gpu = [d for d in res["devices"] if d["platform"] in ("gpu", "cuda", "rocm")]
        if not gpu and "error" not in res:
            try:
                jax.devices("gpu")
            except Exception as exc:
                res["gpu_error"] = _err(exc)
    res["device_count"] = len(gpu)
    res["cuda_available"] = bool(gpu)
    res["warnings"] = _warning_texts(caught)
    res["loaded_libraries"] = _loaded_libraries()


def probe_cupy(res: dict, cupy) -> None:
    res["version"] = str(getattr(cupy, "__version__", "?"))
    stage("cuda_init")
    runtime = cupy.cuda.runtime
    try:
        res["cuda_runtime"] = _cuda_level(runtime.runtimeGetVersion())
    except Exception as exc:
        res["runtime_error"] = _err(exc)
    try:
        res["cuda_driver"] = _cuda_level(runtime.driverGetVersion())
    except Exception as exc:
        res["driver_error"] = _err(exc)
    devices = []
    try:
        count = int(runtime.getDeviceCount())
        for i in range(count):
            entry = {"index": i}
            try:
                props = runtime.getDeviceProperties(i)
                name = props.get("name")
                entry["name"] = name.decode() if isinstance(name, bytes) else str(name)
                entry["compute_capability"] = _cap(props.get("major"), props.get("minor"))
            except Exception as exc:
                entry["error"] = _err(exc)
            devices.append(entry)
    except Exception as exc:
        res["error"] = _err(exc)
    _record_gpus(res, devices)


def probe_onnxruntime(res: dict, ort) -> None:
    res["version"] = str(getattr(ort, "__version__", "?"))
    stage("providers")
    try:
        res["providers"] = [str(p) for p in ort.get_available_providers()]
    except Exception as exc:
        res["providers"] = []
        res["error"] = _err(exc)
    try:
        res["device"] = str(ort.get_device())
    except Exception:
        pass
    gpu = [p for p in res["providers"] if p in ("CUDAExecutionProvider",
                                                  "TensorrtExecutionProvider",
                                                  "ROCMExecutionProvider")]
    res["gpu_providers"] = gpu
    res["cuda_available"] = bool(gpu)


# ---------------------------------------------------------------- torch's neighbours
# Run after probe_torch, each guarded: what else in this environment depends on torch's
# binary interface (issue 11). Each costs nothing when the packages are not installed.

# torch's companion libraries, released in lockstep with it (envdoctor/data/
# torch_companions.json): their compiled ops must match torch's version and build.
TORCH_COMPANIONS = ("torchvision", "torchaudio", "torchtext")
# Extensions compiled against one torch (and CUDA) release: import name per
# distribution. Imported only when installed.
TORCH_EXTENSIONS = {"xformers": "xformers", "flash-attn": "flash_attn",
                    "bitsandbytes": "bitsandbytes", "torch-scatter": "torch_scatter",
                    "torch-sparse": "torch_sparse", "torch-cluster": "torch_cluster",
                    "pyg-lib": "pyg_lib", "mmcv": "mmcv", "detectron2": "detectron2",
                    "apex": "apex", "vllm": "vllm", "deepspeed": "deepspeed"}


def _installed(module: str) -> bool:
    """Is a top-level module importable, without importing it?"""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _try_import(module: str) -> dict:
    """Import one module; its version, or its error, and what it printed as warnings."""
    entry: dict = {}
    t0 = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            mod = __import__(module)
            entry["status"] = "ok"
            entry["version"] = str(getattr(mod, "__version__", "") or "") or None
            if not hasattr(mod, "__file__") or getattr(mod, "__file__", None) is None:
                entry["status"] = "error"
                entry["error"] = (f"ImportError: {module} is an empty namespace package: its "
                                  "files are gone")
        except BaseException as exc:  # OSError from a .so, RuntimeError from torch ops...
            entry["status"] = "error"
            entry["error"] = _err(exc)
    entry["import_ms"] = round((time.monotonic() - t0) * 1000, 1)
    texts = _warning_texts(caught)
    if texts:
        entry["warnings"] = texts[:3]
    return entry


def probe_torch_companions(res: dict, torch) -> None:
    """Import torchvision / torchaudio / torchtext when installed: a companion built for
    another torch fails here ("operator torchvision::nms does not exist")."""
    found = {}
    for name in TORCH_COMPANIONS:
        if _installed(name):
            stage(f"import {name}")
            found[name] = _try_import(name)
    res["companions"] = found


def probe_torch_extensions(res: dict, torch) -> None:
    """Import the extensions compiled against torch that are installed: one built for
    another torch fails with "undefined symbol: _ZN3c10..." or its own version check."""
    found = {}
    for dist, module in TORCH_EXTENSIONS.items():
        if _installed(module):
            stage(f"import {module}")
            entry = _try_import(module)
            entry["module"] = module
            found[dist] = entry
    res["extensions"] = found


def probe_torch_numpy(res: dict, torch) -> None:
    """Convert a small NumPy array: a torch compiled against NumPy 1 under NumPy 2 says
    "Numpy is not available" (or warns "compiled using NumPy 1.x") here."""
    if not _installed("numpy"):
        res["numpy"] = {"installed": False}
        return
    stage("numpy")
    entry: dict = {"installed": True}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            import numpy

            entry["version"] = str(numpy.__version__)
            tensor = torch.from_numpy(numpy.arange(3, dtype="float32"))
            entry["from_numpy"] = "ok" if float(tensor.sum()) == 3.0 else "wrong values"
        except BaseException as exc:
            entry["from_numpy"] = _err(exc)
    texts = _warning_texts(caught)
    if texts:
        entry["warnings"] = texts[:3]
    res["numpy"] = entry


# The CUDA libraries CuPy loads on demand (cupy.show_config lists them): NVRTC compiles
# every elementwise kernel, cuRAND backs cupy.random, nvJitLink links CUDA 12+ code.
# Candidates in order: CuPy 14 loads them through cupy_backends.cuda.libs (an ImportError
# "Failure finding libcurand.so..." when the library is missing) and NVIDIA's
# cuda.pathfinder; older CuPy through cupy.cuda.<lib>.
CUPY_LIBRARIES = {
    "nvrtc": (("cupy_backends.cuda.libs.nvrtc", "getVersion", None),
              ("cupy.cuda.nvrtc", "getVersion", None)),
    "curand": (("cupy_backends.cuda.libs.curand", "getVersion", None),
               ("cupy.cuda.curand", "getVersion", None)),
    "nvjitlink": (("cuda.pathfinder", "load_nvidia_dynamic_lib", "nvJitLink"),),
}


def _library_answer(value) -> dict:
    if isinstance(value, (tuple, list)):
        return {"status": "ok", "version": ".".join(str(v) for v in value)}
    path = getattr(value, "abs_path", None)
    if path:
        return {"status": "ok", "path": str(path)}
    return {"status": "ok", "version": str(value)}


def probe_cupy_libraries(res: dict, cupy) -> None:
    """Which of the CUDA libraries CuPy needs it can load, and their versions; a CuPy
    for CUDA 12 next to only a CUDA 13 toolkit cannot load libnvrtc.so.12."""
    import importlib

    found = {}
    for name, candidates in CUPY_LIBRARIES.items():
        stage(f"cupy {name}")
        entry = {"status": "unknown", "error": "this CuPy has no binding for it"}
        for module, func, arg in candidates:
            try:
                mod = importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name and module.startswith(exc.name):
                    continue  # not in this CuPy: try the next spelling
                entry = {"status": "error", "error": _err(exc)}
                break
            except BaseException as exc:  # CuPy 14: the library itself was not found
                entry = {"status": "error", "error": _err(exc)}
                break
            try:
                fn = getattr(mod, func)
                entry = _library_answer(fn(arg) if arg else fn())
            except BaseException as exc:
                entry = {"status": "error", "error": _err(exc)}
            break
        found[name] = entry
    res["libraries"] = found


def probe_cupy_kernel(res: dict, cupy) -> None:
    """One tiny elementwise kernel (NVRTC-compiled) on each GPU CuPy lists."""
    for dev in res.get("devices") or []:
        if dev.get("error") is not None:
            continue
        stage("kernel")
        try:
            with cupy.cuda.Device(dev["index"]):
                x = cupy.arange(4, dtype="float32")
                value = float((x * 2).sum())
                cupy.cuda.Stream.null.synchronize()
            dev["kernel_test"] = "ok" if value == 12.0 else f"wrong result {value}"
        except BaseException as exc:
            dev["kernel_test"] = _err(exc)


# Run after the framework's probe, in this order; each one is guarded by main().
EXTRA_PROBES = {"torch": (probe_torch_numpy, probe_torch_companions, probe_torch_extensions),
                "cupy": (probe_cupy_libraries, probe_cupy_kernel)}

# Each probe gets the result dict and the framework's top-level module, which main()
# has imported (and timed) already.
PROBES = {"torch": probe_torch, "tensorflow": probe_tensorflow, "jax": probe_jax,
          "cupy": probe_cupy, "onnxruntime": probe_onnxruntime}


def main(argv: list) -> int:
    global _OUT
    if len(argv) != 1 or argv[0] not in PROBES:
        sys.stderr.write(f"usage: framework_child.py {{{'|'.join(sorted(PROBES))}}}\n")
        return 2
    # Keep the real stdout for our JSON; the framework's own prints go to stderr.
    try:
        _OUT = os.dup(1)
        os.dup2(2, 1)
    except OSError:
        _OUT = None
    res: dict = {"framework": argv[0], "python": sys.version.split()[0]}
    start = time.monotonic()
    try:
        stage("import")
        t0 = time.monotonic()
        # __import__, a builtin, adds no importlib frames to the traceback_tail.
        framework = __import__(argv[0])
        res["import_ms"] = round((time.monotonic() - t0) * 1000, 1)
        PROBES[argv[0]](res, framework)
        res["status"] = "ok"
        extras = EXTRA_PROBES.get(argv[0], ())
        if extras:
            # The framework's own answer, before the extras: an extension that hangs or
            # crashes the process (a bad flash-attn build) must not erase it.
            _emit({"partial": res})
        for extra in extras:
            try:
                extra(res, framework)
            except BaseException as exc:  # never lose the framework's own answer
                res.setdefault("extra_errors", []).append(f"{extra.__name__}: {_err(exc)}")
    except BaseException as exc:  # ImportError, OSError from a missing .so, SystemExit...
        res["status"] = "error"
        res["error"] = _err(exc)
        tb = traceback.format_exc(limit=6).strip().splitlines()
        res["traceback_tail"] = [line[:300] for line in tb[-8:]]
    res["duration_ms"] = round((time.monotonic() - start) * 1000, 1)
    _emit({"result": res})
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: some frameworks hang or crash in their atexit handlers,
    # and our answer is already written.
    os._exit(code)
