"""framework.cupy: CuPy's CUDA libraries, a test kernel, and the cupy-cudaXXx rule."""

from __future__ import annotations

from typing import Any, Optional

from envdoctor.facts import as_dict, dicts
from envdoctor.registry import register
from envdoctor.result import ERROR, Finding, outcome, passed, skipped

from . import _framework as fw

# pip wheels with each library, per CUDA major (NVIDIA's PyPI packages).
_WHEELS = {"nvrtc": "nvidia-cuda-nvrtc-cu{m}", "curand": "nvidia-curand-cu{m}",
           "nvjitlink": "nvidia-nvjitlink-cu{m}"}
_NAMES = {"nvrtc": "NVRTC", "curand": "cuRAND", "nvjitlink": "nvJitLink"}


def cupy_major(info: dict) -> Optional[int]:
    """cupy-cuda12x -> 12; cupy-cuda102 -> 10; the source package -> None."""
    parts = fw.version_tuple(info.get("cuda"))
    return parts[0] if parts else None


def toolkit_majors(facts: dict) -> list[int]:
    majors = set()
    for rt in dicts(as_dict(facts.get("cuda")).get("runtimes")):
        parts = fw.version_tuple(rt.get("version"))
        if parts:
            majors.add(parts[0])
    return sorted(majors)


@register(
    "framework.cupy",
    title="CuPy loads its CUDA libraries and runs a kernel",
    tags=("framework", "cupy", "cuda"),
    needs=("frameworks", "nvidia"),
    uses=("cuda", "pip", "python", "python_env", "platform"),
    codes={
        "framework.E060": "CuPy cannot load a CUDA library it needs (NVRTC, cuRAND, "
                          "nvJitLink): cupy-cudaXXx needs that CUDA major's libraries.",
        "framework.E061": "CuPy's test kernel failed on a GPU.",
        "framework.E062": "The NVIDIA driver is too old for the CUDA major of the installed "
                          "cupy-cudaXXx package.",
    },
)
def check_cupy(facts: dict[str, Any]):
    """Can CuPy load the CUDA libraries it compiles and runs kernels with, and run one?

    A CuPy wheel is built for one CUDA major: cupy-cuda12x needs a driver that supports
    CUDA 12 (525.60.13 or newer on Linux) and the CUDA 12 libraries (libnvrtc.so.12,
    libcurand.so.10, libnvJitLink.so.12) from pip wheels (nvidia-cuda-nvrtc-cu12 ...) or a
    CUDA 12 toolkit; a CUDA 13 toolkit does not provide them, and cupy.show_config says
    they are unavailable. The CuPy child asks each library's version and runs one
    elementwise kernel (compiled by NVRTC) on every GPU. With no NVIDIA GPU it skips.

    Fix: install the libraries for CuPy's CUDA major (the hint names the wheels), or the
    cupy-cudaXXx that matches your toolkit and driver.
    """
    info = fw.installed(facts).get("cupy")
    if not info:
        return skipped("CuPy is not installed")
    if not fw.gpu_present(facts):
        return skipped("no NVIDIA GPU found")
    from envdoctor.hints import pip_command

    lv = fw.live(facts, "cupy")
    major = cupy_major(info)
    pip = pip_command(facts)
    dist = info.get("distribution") or "cupy"
    findings: list[Finding] = []
    if major is not None:
        verdict = fw.driver_verdict(f"{major}.0", facts)
        if verdict and verdict.get("verdict") == "insufficient":
            findings.append(Finding(
                "framework.E062", ERROR,
                f"{dist} is built for CUDA {major} and NVIDIA driver {fw.driver(facts)} is "
                f"older than CUDA {major}.x's minimum "
                f"({verdict.get('family_minimum') or verdict.get('required')}).",
                hint=f"upgrade the driver, or install the CuPy for the CUDA this driver "
                     f"supports (`{pip} uninstall -y {dist}` then the matching cupy-cudaXXx)",
                details={"cupy": dist, "verdict": verdict}))
    libs = as_dict(lv.get("libraries"))
    broken = {k: as_dict(v) for k, v in libs.items() if as_dict(v).get("status") == "error"}
    if broken:
        have = toolkit_majors(facts)
        names = ", ".join(_NAMES.get(k, k) for k in broken)
        first = next(iter(broken.values())).get("error")
        m = major or 12
        why = (f"{dist} needs the CUDA {major} libraries; the CUDA found here is "
               f"{', '.join(str(x) for x in have)}.x" if major and have and major not in have
               else f"{dist} needs the CUDA {major or '?'} libraries")
        wheels = " ".join(_WHEELS[k].format(m=m) for k in broken if k in _WHEELS)
        findings.append(Finding(
            "framework.E060", ERROR,
            f"CuPy cannot load {names}: {str(first)[:300]}. {why}.",
            hint=f"{pip} install {wheels} (or install a CUDA {m} toolkit, or the "
                 "cupy-cudaXXx for the toolkit you have)",
            details={"libraries": broken, "cupy_cuda": major, "toolkit_majors": have}))
    for dev in dicts(lv.get("devices")):
        test = dev.get("kernel_test")
        if test and test != "ok":
            findings.append(Finding(
                "framework.E061", ERROR,
                f"CuPy's test kernel failed on GPU {dev.get('index')} "
                f"({dev.get('name') or '?'}): {str(test)[:300]}",
                hint="run `python -c \"import cupy; cupy.show_config()\"`; a missing NVRTC "
                     "or a driver older than CuPy's CUDA are the usual causes",
                details={"device": dev.get("index"), "error": test}))
            break
    if not findings:
        ran = [str(d.get("name")) for d in dicts(lv.get("devices")) if d.get("kernel_test") == "ok"]
        loaded = ", ".join(f"{_NAMES.get(k, k)} {as_dict(v).get('version')}"
                           for k, v in libs.items() if as_dict(v).get("status") == "ok")
        return passed(f"{dist}: " + (f"{loaded}; " if loaded else "")
                      + (f"kernel ran on {', '.join(ran)}" if ran else "no kernel run"))
    return outcome(findings[0].message, findings)
