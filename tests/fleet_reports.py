"""Report fixtures for diff and summarize tests: realistic facts documents, run through
the real checks and the real report builder (never hand-written whole reports).

The facts are modelled on real machines: a Core i7-7700K-class CPU (AVX2) and a
Pentium G4600-class one (no AVX), an A100 node on driver 535.54.03 / CUDA 12.2.
"""

from __future__ import annotations

import copy
from typing import Any, Optional

_FLAGS_TEXT = ("fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 "
              "clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm "
              "constant_tsc art arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc "
              "cpuid aperfmperf pni pclmulqdq dtes64 monitor ds_cpl vmx est tm2 ssse3 sdbg "
              "cx16 xtpr pdcm pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes "
              "xsave rdrand lahf_lm 3dnowprefetch cpuid_fault pti ssbd ibrs ibpb stibp "
              "tpr_shadow vnmi flexpriority ept vpid ept_ad fsgsbase tsc_adjust smep erms "
              "mpx rdseed smap clflushopt intel_pt xsaveopt xsavec xgetbv1 xsaves dtherm ida "
              "arat pln pts md_clear")
BASE_FLAGS = _FLAGS_TEXT.split()
AVX_FLAGS = ["avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "abm", "adx", "invpcid"]

PACKAGES = {
    "pip": "24.0", "setuptools": "69.5.1", "wheel": "0.43.0", "numpy": "1.26.4",
    "packaging": "24.0", "typing-extensions": "4.11.0", "filelock": "3.14.0",
    "jinja2": "3.1.4", "markupsafe": "2.1.5", "sympy": "1.12", "mpmath": "1.3.0",
    "networkx": "3.3", "fsspec": "2024.3.1", "requests": "2.31.0", "urllib3": "2.2.1",
    "idna": "3.7", "certifi": "2024.2.2", "charset-normalizer": "3.3.2", "pillow": "10.3.0",
    "protobuf": "4.25.3", "six": "1.16.0", "tqdm": "4.66.4", "pyyaml": "6.0.1",
    "torch": "2.3.0+cu121", "nvidia-cuda-runtime-cu12": "12.1.105",
    "nvidia-cudnn-cu12": "8.9.2.26", "nvidia-cublas-cu12": "12.1.3.1",
    "nvidia-nccl-cu12": "2.20.5", "triton": "2.3.0",
}


def gpu(index: int, name: str = "NVIDIA A100-SXM4-80GB", cc: str = "8.0") -> dict[str, Any]:
    return {"index": index, "name": name, "uuid": f"GPU-{index:08x}-1111-2222-3333-4444",
            "pci_bus_id": f"00000000:{0x07 + index:02X}:00.0", "compute_capability": cc,
            "architecture": "Ampere", "memory_total_mib": 81920,
            "memory_used_mib": 1 + 37 * index, "memory_free_mib": 81919 - 37 * index,
            "persistence_mode": True, "temperature_c": 30 + index,
            "processes": [{"pid": 1000 + index, "name": "python", "type": "C",
                           "used_memory_mib": 512}]}


def facts(*, avx: bool = True, packages: Optional[dict[str, str]] = None,
          driver: str = "535.54.03", cuda: str = "12.2", gpus: int = 2,
          gpu_name: str = "NVIDIA A100-SXM4-80GB", python: str = "3.11.9",
          env: Optional[dict[str, str]] = None, drop: tuple[str, ...] = (),
          timed_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """A facts document as the probes would write it on a Linux GPU node."""
    flags = sorted(BASE_FLAGS + (AVX_FLAGS if avx else []))
    dists = dict(PACKAGES if packages is None else packages)
    sections: dict[str, Any] = {
        "platform": {"system": "Linux", "release": "5.15.0-105-generic", "machine": "x86_64",
                     "python_bits": 64, "os_bits": 64,
                     "distribution": {"id": "ubuntu", "version_id": "22.04",
                                      "id_like": "debian", "name": "Ubuntu 22.04.4 LTS",
                                      "codename": "jammy"},
                     "libc": {"name": "glibc", "version": "2.35"}, "wsl": None,
                     "container": None, "notebook_host": None, "windows": None,
                     "macos": None, "is_64bit_python_on_32bit_os": False,
                     "is_32bit_python_on_64bit_os": False, "sys_platform": "linux"},
        "python": {"version": python, "version_info": [int(p) for p in python.split(".")],
                   "implementation": "cpython", "executable": "/opt/venv/bin/python",
                   "prefix": "/opt/venv", "base_prefix": "/usr", "bits": 64,
                   "environment": "virtualenv", "conda": False, "abiflags": "",
                   "debug_build": False, "free_threaded": False, "compiler": "GCC 11.4.0"},
        "cpu": {"machine": "x86_64",
                "model": ("Intel(R) Core(TM) i7-7700K CPU @ 4.20GHz" if avx
                          else "Intel(R) Pentium(R) CPU G4600 @ 3.60GHz"),
                "vendor": "GenuineIntel", "flags": flags, "flags_source": "/proc/cpuinfo",
                "logical_cpus": 8 if avx else 4,
                "x86_level": "x86-64-v3" if avx else "x86-64-v2"},
        "packages": {"distributions": dists, "count": len(dists), "shadowed": []},
        "env": {"variables": dict({"PATH": "/opt/venv/bin:/usr/local/bin:/usr/bin:/bin",
                                   "LANG": "C.UTF-8"}, **(env or {}))},
        "nvidia": {"present": True, "source": "nvml", "driver_version": driver,
                   "cuda_driver_version": cuda, "nvml_version": "12." + driver,
                   "gpus": [gpu(i, gpu_name) for i in range(gpus)], "errors": [],
                   "signs": ["pci", "proc_driver"]},
    }
    doc: dict[str, Any] = {"schema_version": 1, "envdoctor_version": "0.1.0", "probes": {}}
    for name, value in sections.items():
        if name in drop:
            continue
        if name in timed_out:
            doc[name] = None
            doc["probes"][name] = {"status": "timeout", "timeout_s": 10.0,
                                   "error": "no answer within 10 s"}
            continue
        doc[name] = value
        doc["probes"][name] = {"status": "ok", "duration_ms": 0.5}
    return doc


def report(facts_doc: dict[str, Any], host: Optional[str] = None,
           only: tuple[str, ...] = ("cpu.avx", "env.cuda_visible_devices"),
           generated_at: Optional[str] = None) -> dict[str, Any]:
    """Run the real checks on ``facts_doc`` and build the real report around it.

    ``host`` stands for a report written with --keep-hostname on that host."""
    from envdoctor import registry, runner
    from envdoctor.report import build_report

    chosen = registry.select(registry.all_checks(), list(only), [])
    results = runner.run_checks(chosen, copy.deepcopy(facts_doc))
    doc = build_report(copy.deepcopy(facts_doc), results, source={"kind": "probe"})
    if host is not None:
        doc["source"]["host"] = host
    if generated_at is not None:
        doc["generated_at"] = generated_at
    return doc


# The two real packages whose official builds need AVX (envdoctor/data/cpu_requirements.json).
AVX_PACKAGES = dict(PACKAGES, **{"tensorflow": "2.16.1", "tensorboard": "2.16.2"})
