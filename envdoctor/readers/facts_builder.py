"""Putting values into a dump's partial facts, and framework builds from package lists."""

from __future__ import annotations

import re
from typing import Any

from envdoctor.readers import Dump


def put(dump: Dump, path: str, value: Any) -> None:
    """Put ``value`` at ``path`` (``"nvidia.driver_version"``) unless it is None, and
    record the path as known."""
    if value is None:
        return
    section, *rest = path.split(".")
    node = dump.facts.setdefault(section, {})
    for part in rest[:-1]:
        node = node.setdefault(part, {})
    node[rest[-1]] = value
    dump.known.add(path)


class _Listed:
    """A distribution named in a package list (what the framework probe's static readers
    take from a dist-info folder)."""

    def __init__(self, key: str, version: str) -> None:
        self.key, self.version = key, version


def frameworks(dump: Dump, dists: dict[str, str], system: Any = None) -> None:
    """The builds a package list reveals: torch's local version (+cu121, +cpu, +rocm6.0),
    tensorflow-cpu, the JAX CUDA plugins, cupy-cudaNNx, onnxruntime-gpu."""
    from envdoctor.probes import frameworks as probe

    by_key = {k: _Listed(k, v) for k, v in dists.items()}
    installed: dict[str, dict] = {}
    if "torch" in dists:
        version = dists["torch"]
        info: dict[str, Any] = {"version": version, "distribution": "torch",
                                "source": "package list"}
        local = probe.local_version(version)
        if local and local.startswith("cu") and local[2:].isdigit():
            info.update(build=local, cuda=f"{local[2:-1]}.{local[-1]}")
        elif local and local.startswith("rocm"):
            info.update(build=local, hip=local[4:])
        elif local == "cpu":
            info["build"] = "cpu"
        for key in ("nvidia-cudnn-cu13", "nvidia-cudnn-cu12", "nvidia-cudnn-cu11"):
            if key in dists:
                info.update(cudnn=dists[key], cudnn_source=key)
                break
        installed["torch"] = info
    tf = [k for k in probe.TENSORFLOW_DISTS if k in dists]
    if tf:
        info = {"version": dists[tf[0]], "distribution": tf[0], "source": "package list"}
        if tf[0] in ("tensorflow-cpu", "tf-nightly-cpu", "tensorflow-intel") and \
                len(tf) == 1 and tf[0] != "tensorflow-intel":
            info["build"] = "cpu"
        info["cuda_wheels"] = sorted(k for k in dists if k.startswith(
            ("nvidia-cudnn-cu", "nvidia-cuda-runtime-cu")))
        installed["tensorflow"] = info
    if "jax" in dists:
        installed["jax"] = probe.jax_static(by_key["jax"], by_key)
    cupy = [by_key[k] for k in sorted(dists)
            if k == "cupy" or re.match(r"^cupy-(cuda\d+x?|rocm-[\d-]+)$", k)]
    if cupy:
        installed["cupy"] = probe.cupy_static(cupy)
    ort = [by_key[k] for k in probe.ONNXRUNTIME_DISTS if k in dists]
    if ort:
        installed["onnxruntime"] = probe.onnxruntime_static(ort)
    for name, info in installed.items():
        put(dump, f"frameworks.installed.{name}", info)
        if info.get("build"):
            dump.known.add(f"frameworks.installed.{name}.build")
