"""Shared logic of the framework.* checks (pure functions of facts and data files).

Binary compatibility (CUDA C Programming Guide, "Binary Compatibility" / "PTX
Compatibility"; compat-facts.md section 3): a cubin ``sm_XY`` runs on a GPU of the same
major X with minor >= Y; PTX ``compute_XY`` is JIT-compiled on any GPU of capability
>= X.Y; architecture-specific targets (``sm_90a``) run only on exactly X.Y.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from envdoctor.facts import as_dict, dicts, number, strings

_ARCH = re.compile(r"^(sm|compute)_(\d+?)(\d)([af]?)$")

KERNEL_IMAGE = "no kernel image is available for execution on the device"
CPU_HINT_URL = "https://pytorch.org/get-started/locally/"

# How loudly a CPU-only build is reported when an NVIDIA GPU is present. torch and
# TensorFlow are installed to train on the GPU; a CPU jax or onnxruntime is very often
# a dependency of something else (mediapipe, rembg...), so it is only noted.
CPU_BUILD_LEVEL = {"torch": "error", "tensorflow": "error", "cupy": "error",
                   "jax": "warning", "onnxruntime": "info"}
NAMES = {"torch": "PyTorch", "tensorflow": "TensorFlow", "jax": "JAX", "cupy": "CuPy",
         "onnxruntime": "ONNX Runtime"}


# ------------------------------------------------------------------ data


def _load(name: str) -> dict:
    from envdoctor.data import load

    return load(name)


def torch_builds() -> dict:
    return _load("torch_builds.json")


def tensorflow_builds() -> dict:
    return _load("tensorflow_builds.json")


def version_tuple(text: Any) -> tuple[int, ...]:
    parts = []
    for piece in re.split(r"[.+\-]", str(text or "")):
        if not (piece.isdigit() and piece.isascii()):
            break
        parts.append(int(piece))
    return tuple(parts)


def torch_releases() -> list[tuple[tuple[int, ...], str, dict]]:
    """[(version tuple, "2.7", variants)] oldest first, ``same_as`` rows resolved."""
    rows = torch_builds()["releases"]
    direct = {r["torch"]: r["variants"] for r in rows if "variants" in r}
    out = []
    for row in rows:
        variants = row.get("variants") or direct.get(row.get("same_as", ""), {})
        out.append((version_tuple(row["torch"]), row["torch"], variants))
    return sorted(out)


def torch_release(version: Any) -> Optional[tuple[str, dict]]:
    """The table row (major.minor, variants) of a torch version, or None."""
    key = version_tuple(version)[:2]
    for vt, name, variants in torch_releases():
        if vt == key:
            return name, variants
    return None


def torch_variant(version: Any, build: Any) -> Optional[dict]:
    row = torch_release(version)
    if row is None or not build:
        return None
    return row[1].get(str(build))


def index_url(variant: str) -> str:
    return torch_builds()["index_url"].format(variant=variant)


# ------------------------------------------------------------------ architectures


def parse_cc(value: Any) -> Optional[tuple[int, int]]:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        try:
            return int(value[0]), int(value[1])
        except (TypeError, ValueError, OverflowError):
            return None
    match = re.match(r"^\s*(\d+)\.(\d+)\s*$", str(value or ""))
    return (int(match.group(1)), int(match.group(2))) if match else None


def parse_arch(entry: Any) -> Optional[tuple[str, int, int, bool]]:
    """ "sm_86" -> ("sm", 8, 6, False); "compute_120" -> ("compute", 12, 0, False);
    "sm_90a" -> ("sm", 9, 0, True) (architecture-specific)."""
    match = _ARCH.match(str(entry or "").strip().lower())
    if not match:
        return None
    kind, major, minor, suffix = match.groups()
    return kind, int(major), int(minor), bool(suffix)


def covering_entry(arch_list: list, cc: tuple[int, int]) -> Optional[str]:
    """The arch-list entry whose code runs on a GPU of capability ``cc`` (a cubin
    preferred over PTX), or None when nothing in the list runs there."""
    best: Optional[tuple[int, str]] = None
    ptx: Optional[tuple[tuple[int, int], str]] = None
    for entry in arch_list if isinstance(arch_list, (list, tuple)) else ():
        parsed = parse_arch(entry)
        if parsed is None:
            continue
        kind, major, minor, specific = parsed
        if specific:
            if (major, minor) == cc and kind == "sm":
                return str(entry)
            continue
        # The driver picks the closest cubin: sm_86 rather than sm_80 on an sm_89 GPU.
        if kind == "sm" and major == cc[0] and minor <= cc[1] \
                and (best is None or minor > best[0]):
            best = (minor, str(entry))
        if kind == "compute" and (major, minor) <= cc and (ptx is None or (major, minor) > ptx[0]):
            ptx = ((major, minor), str(entry))
    if best is not None:
        return best[1]
    return ptx[1] if ptx else None


def sm_name(cc: tuple[int, int]) -> str:
    return f"sm_{cc[0]}{cc[1]}"


# ------------------------------------------------------------------ facts helpers


def nvidia_gpus(facts: dict) -> list[dict]:
    return dicts(as_dict(facts.get("nvidia")).get("gpus"))


def gpu_present(facts: dict) -> bool:
    return bool(nvidia_gpus(facts))


def driver(facts: dict) -> Optional[str]:
    return as_dict(facts.get("nvidia")).get("driver_version")


def driver_verdict(cuda: Any, facts: dict) -> Optional[dict]:
    """cudacompat's verdict for a build's CUDA against this driver; None when unknown."""
    drv = driver(facts)
    if not cuda or not drv:
        return None
    try:
        from envdoctor import cudacompat

        return cudacompat.driver_verdict(str(cuda), str(drv), cudacompat.driver_system(facts))
    except Exception:
        return None


def visibility(facts: dict):
    """cuda_visible.resolve() of CUDA_VISIBLE_DEVICES against the NVML GPUs, or None."""
    env = as_dict(as_dict(facts.get("env")).get("variables"))
    raw = env.get("CUDA_VISIBLE_DEVICES")
    try:
        from envdoctor import cuda_visible

        return cuda_visible.resolve(raw, nvidia_gpus(facts) or None)
    except Exception:
        return None


def visible_gpus(facts: dict) -> list[dict]:
    """The NVML GPUs CUDA programs will see (all of them when the variable is unset)."""
    gpus = nvidia_gpus(facts)
    res = visibility(facts)
    if res is None or res.visible is None or res.mode == "unset":
        return gpus
    by_index = {g.get("index") if isinstance(g.get("index"), int) else i: g
                for i, g in enumerate(gpus)}
    return [by_index[i] for i in res.visible if i in by_index]


def installed(facts: dict) -> dict[str, dict]:
    fw = as_dict(facts.get("frameworks"))
    return {k: v for k, v in as_dict(fw.get("installed")).items() if isinstance(v, dict)}


def live(facts: dict, name: str) -> dict:
    return as_dict(as_dict(as_dict(facts.get("frameworks")).get("live")).get(name))


def is_cpu_only(name: str, info: dict) -> bool:
    """Is this installed framework a build without NVIDIA GPU support?"""
    build = str(info.get("build") or "")
    if name == "torch":
        return build == "cpu" or (not info.get("cuda") and not info.get("hip")
                                  and not build.startswith(("cu", "rocm", "xpu")))
    if name == "tensorflow":
        if info.get("is_cuda_build") is False and not info.get("is_rocm_build"):
            return True
        return build == "cpu"
    if name == "jax":
        return build in ("cpu", "tpu")
    if name == "onnxruntime":
        return build not in ("gpu",)
    return False  # cupy has no CPU build


def sees_gpu(name: str, facts: dict) -> Optional[bool]:
    """Did the live child see at least one GPU? None when not known (skipped/failed)."""
    lv = live(facts, name)
    if lv.get("status") != "ok":
        return None
    if name == "torch" and lv.get("mps_available") and not lv.get("cuda_available"):
        return None
    return bool(lv.get("cuda_available")) and (number(lv.get("device_count")) or 0) > 0 \
        if name != "onnxruntime" else bool(lv.get("cuda_available"))


def tf_windows_unsupported(info: dict, facts: dict) -> bool:
    system = as_dict(facts.get("platform")).get("system")
    last = version_tuple(tensorflow_builds()["windows_last_gpu"])
    return system == "Windows" and version_tuple(info.get("version"))[:2] > last


def live_error_text(name: str, facts: dict) -> Optional[str]:
    """The framework's own words about why the GPU is not usable, if it said any."""
    lv = live(facts, name)
    texts = []
    for key in ("error", "gpu_error", "runtime_error", "driver_error"):
        if lv.get(key):
            texts.append(str(lv[key]))
    for w in strings(lv.get("warnings")):
        if re.search(r"CUDA|driver|GPU|cudnn|kernel", w, re.I):
            texts.append(w)
    texts.extend(strings(lv.get("stderr_findings")))
    for dev in dicts(lv.get("devices")):
        test = dev.get("kernel_test")
        if test and test != "ok":
            texts.append(str(test))
    return "; ".join(dict.fromkeys(texts))[:900] if texts else None


# ------------------------------------------------------------------ recommendations


def variant_fits(variant: dict, ccs: list[tuple[int, int]], facts: dict) -> Optional[str]:
    """"ok" / "minor_compat" when this variant runs on every GPU with this driver,
    None when it does not."""
    if not all(covering_entry(variant.get("arch") or [], cc) for cc in ccs):
        return None
    verdict = driver_verdict(variant.get("cuda"), facts)
    if verdict is None:
        return "unknown" if not driver(facts) else None
    if verdict.get("verdict") in ("ok", "minor_compat"):
        return verdict["verdict"]
    if verdict.get("verdict") == "unknown":
        return "unknown"
    return None


def recommend_torch(facts: dict, ccs: list[tuple[int, int]],
                    version: Optional[str]) -> Optional[dict]:
    """A torch build that runs on every GPU (capabilities ``ccs``) with this driver.

    Prefers the installed torch release (so other pins keep working), then the newest
    release in the table. Within a release: a variant whose CUDA this driver supports
    fully, newest CUDA first; one that needs minor-version compatibility only after."""
    releases = torch_releases()
    current = torch_release(version) if version else None
    order = []
    if current:
        order.append((current[0], current[1], True))
    for _, name, variants in reversed(releases):
        if not current or name != current[0]:
            order.append((name, variants, False))
    rank = {"ok": 0, "unknown": 1, "minor_compat": 2}
    for name, variants, same in order:
        best = None
        for variant_name, variant in variants.items():
            fit = variant_fits(variant, ccs, facts)
            if fit is None:
                continue
            key = (rank.get(fit, 3), tuple(-x for x in version_tuple(variant.get("cuda"))))
            if best is None or key < best[0]:
                best = (key, variant_name, variant, fit)
        if best is not None:
            _, variant_name, variant, fit = best
            pin = version.split("+", 1)[0] if same and version else None
            return {"torch": name, "variant": variant_name, "cuda": variant.get("cuda"),
                    "same_release": same, "driver_fit": fit, "pin": pin,
                    "index_url": index_url(variant_name),
                    "source": variant.get("source")}
    return None


def torch_install_command(rec: dict, facts: dict) -> str:
    dists = as_dict(as_dict(facts.get("packages")).get("distributions"))
    companions = [n for n in ("torchvision", "torchaudio") if n in dists]
    spec = f"torch=={rec['pin']}" if rec.get("pin") else f"torch=={rec['torch']}.*"
    # A CPU wheel 2.7.1+cpu already satisfies torch==2.7.1: uninstall first, or pip
    # answers "Requirement already satisfied" and changes nothing.
    from envdoctor.hints import pip_command

    pip = pip_command(facts)
    return (f"{pip} uninstall -y torch " + " ".join(companions)).strip() + f" && {pip} install " \
        + " ".join([spec, *companions]) + f" --index-url {rec['index_url']}"


def gpu_label(gpu: dict) -> str:
    name = gpu.get("name") or "GPU"
    cc = parse_cc(gpu.get("compute_capability"))
    return f"{name} ({sm_name(cc)})" if cc else str(name)
