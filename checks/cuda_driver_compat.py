"""cuda.driver_compat: is the NVIDIA driver new enough for every CUDA runtime found?"""

from __future__ import annotations

from typing import Any, Optional

from envdoctor.facts import as_dict, dicts
from envdoctor.hardware.gpus import no_nvidia
from envdoctor.registry import register
from envdoctor.result import ERROR, INFO, WARNING, Finding, Outcome, outcome, skipped

CODES = {
    "cuda.E001": "The driver is older than the CUDA family minimum of a CUDA runtime: it "
                 "fails with 'CUDA driver version is insufficient for CUDA runtime version'.",
    "cuda.E002": "Forward-compatibility libraries (cuda-compat) on a GPU that does not "
                 "support them: error 804.",
    "cuda.E003": "libcuda and the kernel driver do not match (error 803).",
    "cuda.E004": "An NVIDIA GPU is present but libcuda.so.1 cannot be loaded.",
    "cuda.E005": "cuInit failed: CUDA cannot start on this machine.",
    "cuda.W001": "The driver is older than a CUDA runtime's own minimum but inside its "
                 "family minimum (minor-version compatibility): PTX JIT and newer features "
                 "may fail.",
    "cuda.I001": "Several CUDA toolkits are installed.",
}

DRIVER_DOWNLOAD = "https://www.nvidia.com/Download/index.aspx"
# PyTorch wheel indexes (compat-facts.md section 3), newest first.
TORCH_CUDA_TAGS = ("cu132", "cu130", "cu129", "cu128", "cu126", "cu124", "cu121", "cu118",
                   "cu117")


def runtimes(facts: dict[str, Any]) -> list[dict]:
    """Every CUDA runtime found: framework builds, pip wheels, toolkits, nvcc..."""
    found: list[dict] = []
    frameworks = as_dict(as_dict(facts.get("frameworks")).get("installed"))
    for name, info in sorted(frameworks.items()):
        if isinstance(info, dict) and info.get("cuda"):
            found.append({"version": str(info["cuda"]), "kind": "framework",
                          "where": f"{name} {info.get('version') or ''}".strip()
                          + (f" ({info['build']})" if info.get("build") else "")})
    for rt in dicts(as_dict(facts.get("cuda")).get("runtimes")):
        if rt.get("version"):
            found.append(rt)
    return found


def label(rt: dict) -> str:
    kind = rt.get("kind")
    where = rt.get("where") or "?"
    if kind == "pip":
        return f"pip package {where} ({rt.get('package_version') or rt.get('version')})"
    if kind == "toolkit":
        return f"CUDA toolkit {rt.get('version')} in {where}"
    if kind == "framework":
        return f"{where}, built for CUDA {rt.get('version')}"
    if kind == "nvcc":
        return f"nvcc {rt.get('version')} at {where}"
    if kind == "ld_library_path":
        return f"libcudart {rt.get('full_version') or rt.get('version')} in LD_LIBRARY_PATH " \
               f"entry {where}"
    return f"CUDA {rt.get('version')} ({kind}: {where})"


def _older_build_hint(newest: Optional[str], rt: dict) -> str:
    if not newest:
        return "install a build for an older CUDA"
    if rt.get("kind") == "framework" and str(rt.get("where") or "").startswith("torch"):
        from envdoctor.cudacompat import cuda_major_minor

        limit = cuda_major_minor(newest) or (0, 0)
        tags = [t for t in TORCH_CUDA_TAGS if (cuda_major_minor(t) or (99, 0)) <= limit]
        if tags:
            return (f"install a build for CUDA {newest} or older, e.g. `pip install torch "
                    f"--index-url https://download.pytorch.org/whl/{tags[0]}`")
    return f"install a build for CUDA {newest} or older"


def _forward_compat_hint(gpus: list, cuda: Any, driver: str, system: str) -> str:
    """The cuda-compat way out of cuda.E001, where NVIDIA supports it (the cuda.E002
    rules: Linux, data-center GPUs), or ""."""
    from envdoctor import cudacompat

    names = [str(g.get("name")) for g in gpus if isinstance(g, dict) and g.get("name")]
    compat = cudacompat.forward_compat(names, cuda, system)
    if not compat:
        return ""
    which = ("on this data-center GPU" if compat["certain"]
             else "if this is a data-center GPU (on other GPUs it fails with error 804)")
    return (f"; or, {which}, keep driver {driver} and add NVIDIA's forward-compatibility "
            f"libraries: `sudo apt-get install {compat['package']}` (NVIDIA's CUDA "
            f"repository; dnf/yum the same name), then `export LD_LIBRARY_PATH="
            f"{compat['library_dir']}:$LD_LIBRARY_PATH` (only some driver branches are "
            "supported: https://docs.nvidia.com/deploy/cuda-compatibility/"
            "forward-compatibility.html)")


@register("cuda.driver_compat", title="CUDA runtimes vs NVIDIA driver",
          tags=("cuda", "gpu", "nvidia", "driver"), needs=("nvidia", "cuda", "platform"),
          uses=("frameworks", "amd", "apple"), codes=CODES)
def check_driver_compat(facts: dict[str, Any]) -> Outcome:
    """For every CUDA runtime envdoctor found, is the NVIDIA driver new enough?

    Runtimes come from framework builds (torch built for CUDA 12.4...), pip wheels
    (nvidia-cuda-runtime-cu12), system toolkits (/usr/local/cuda-*, CUDA_HOME), nvcc and
    libcudart in LD_LIBRARY_PATH. Each is compared with envdoctor/data/cuda_drivers.json
    (NVIDIA's table of toolkit -> minimum driver, Linux and Windows; WSL2 uses the
    Windows numbers).

    Below the toolkit's own minimum but at or above its family minimum (CUDA 11.x:
    450.80.02, 12.x: 525.60.13, 13.x: 580) is a warning: minor-version compatibility
    lets it run, but PTX JIT and features newer than the driver can fail. Below the
    family minimum fails: programs stop with "CUDA driver version is insufficient for
    CUDA runtime version". Fix: update the driver to the version shown, or install a
    build for an older CUDA, or (Linux, data-center GPUs only) NVIDIA's forward-
    compatibility package cuda-compat-<major>-<minor>. It also reports libcuda.so.1
    that cannot load, cuInit errors, and forward-compatibility libraries (cuda-compat)
    on a GPU that does not support them (error 804: remove the compat libraries from
    the library path).
    """
    from envdoctor import cudacompat

    nvidia = facts.get("nvidia") or {}
    cuda = facts.get("cuda") or {}
    found = runtimes(facts)
    driver = nvidia.get("driver_version")
    gpus = nvidia.get("gpus") or []
    libcuda = as_dict(cuda.get("libcuda"))
    findings: list[Finding] = []
    system = cudacompat.driver_system(facts)
    details: dict[str, Any] = {"driver_version": driver, "driver_table": system,
                               "cuda_driver_version": nvidia.get("cuda_driver_version"),
                               "runtimes": []}

    if not nvidia.get("present") and not gpus:
        return skipped(no_nvidia(facts), {"runtimes": [label(rt) for rt in found]})

    # libcuda itself.
    init_error = libcuda.get("init_error")
    path = libcuda.get("path") or ""
    if init_error == "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE":
        findings.append(Finding(
            "cuda.E002", ERROR,
            "CUDA fails with error 804 \"forward compatibility was attempted on non supported "
            f"HW\": the loaded libcuda ({path or 'a cuda-compat libcuda'}) is a "
            "forward-compatibility library, which only data-center GPUs support",
            hint="remove the cuda-compat directory (e.g. /usr/local/cuda/compat) from "
                 "LD_LIBRARY_PATH and /etc/ld.so.conf.d (then `sudo ldconfig`), or uninstall "
                 f"the cuda-compat package; update the driver instead ({DRIVER_DOWNLOAD})",
            details={"libcuda": path}))
    elif init_error == "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH":
        findings.append(Finding(
            "cuda.E003", ERROR,
            "CUDA fails with error 803 (system has unsupported display driver / cuda driver "
            f"combination): the loaded libcuda ({path or '?'}) does not match the kernel "
            f"driver {driver or ''}".rstrip(),
            hint="make sure libcuda.so.1 comes from the installed driver: remove cuda-compat "
                 "or stray libcuda copies from LD_LIBRARY_PATH, or reboot after a driver "
                 "update", details={"libcuda": path}))
    elif init_error and gpus and init_error != "CUDA_ERROR_NO_DEVICE":
        findings.append(Finding(
            "cuda.E005", ERROR, f"cuInit failed with {init_error}: CUDA cannot start",
            hint="run `nvidia-smi` and `sudo dmesg | grep -i -E 'NVRM|Xid'`; reboot after "
                 "driver updates", details={"libcuda": path}))
    if gpus and libcuda and libcuda.get("loaded") is False:
        findings.append(Finding(
            "cuda.E004", ERROR,
            f"an NVIDIA GPU is present but the CUDA driver library cannot be loaded: "
            f"{libcuda.get('error') or 'libcuda.so.1 not found'}",
            hint="reinstall the NVIDIA driver (libcuda.so.1 is part of it, e.g. "
                 "libnvidia-compute-<version> on Ubuntu); in a container, start it with "
                 "`--gpus all`", details={"error": libcuda.get("error")}))

    if not driver:
        if not findings:
            return skipped("the NVIDIA driver version is unknown (see gpu.driver)",
                           {"runtimes": [label(rt) for rt in found]})
        return outcome("CUDA cannot start", findings, details)

    newest = cudacompat.newest_cuda_for_driver(driver, system)
    for rt in found:
        verdict = cudacompat.driver_verdict(rt["version"], driver, system)
        entry = {"runtime": label(rt), "cuda": verdict.get("cuda"),
                 "verdict": verdict["verdict"], "required": verdict.get("required"),
                 "family_minimum": verdict.get("family_minimum")}
        details["runtimes"].append(entry)
        if verdict["verdict"] == "insufficient":
            need = verdict.get("family_minimum") or verdict.get("required")
            findings.append(Finding(
                "cuda.E001", ERROR,
                f"{label(rt)} needs NVIDIA driver {need} or newer, this machine has {driver}: "
                f"it fails with \"{cudacompat.INSUFFICIENT_TEXT}\"",
                hint=f"update the NVIDIA driver to {verdict.get('required') or need} or newer "
                     f"({DRIVER_DOWNLOAD}); or {_older_build_hint(newest, rt)}"
                     + _forward_compat_hint(gpus, verdict.get("cuda") or rt["version"],
                                            driver, system),
                details={**entry, "source": verdict.get("source"),
                         "newest_cuda_for_driver": newest}))
        elif verdict["verdict"] == "minor_compat":
            findings.append(Finding(
                "cuda.W001", WARNING,
                f"{label(rt)}: driver {driver} is older than CUDA {verdict['cuda']}'s own "
                f"minimum {verdict.get('required')}; it runs through minor-version "
                "compatibility, but PTX JIT compilation and features newer than the driver "
                "may fail (cudaErrorUnsupportedPtxVersion)",
                hint=f"update the NVIDIA driver to {verdict.get('required')} or newer "
                     f"({DRIVER_DOWNLOAD}); or {_older_build_hint(newest, rt)}",
                details={**entry, "source": verdict.get("source"),
                         "newest_cuda_for_driver": newest}))

    toolkits = [t for t in dicts(cuda.get("toolkits")) if t.get("exists") and t.get("version")]
    versions = sorted({str(t["version"]) for t in toolkits})
    if len(toolkits) > 1:
        findings.append(Finding(
            "cuda.I001", INFO,
            "several CUDA toolkits are installed: " + ", ".join(
                f"{t['version']} in {t.get('where')}" for t in toolkits)
            + (f" ({len(versions)} different versions)" if len(versions) > 1 else ""),
            hint="make sure PATH, LD_LIBRARY_PATH and CUDA_HOME point at the one you build "
                 "with", details={"toolkits": [t.get("where") for t in toolkits]}))

    level = nvidia.get("cuda_driver_version")
    summary = f"driver {driver}" + (f" (CUDA {level})" if level else "")
    if not found:
        summary += "; no CUDA runtime found to compare"
    elif not any(f.level >= WARNING for f in findings):
        summary += " runs " + ", ".join(sorted({f"CUDA {e['cuda']}" for e in details["runtimes"]
                                                if e.get("cuda")}))
    return outcome(summary, findings, details)
