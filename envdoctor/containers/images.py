"""What a base image reference says about CUDA, from its name and tag alone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

# Official images that carry no CUDA libraries (Docker Official Images and the common
# conda bases). Anything else is "unknown": no verdict rather than a guess.
_NO_CUDA = {"python", "ubuntu", "debian", "alpine", "centos", "rockylinux", "almalinux",
            "fedora", "amazonlinux", "busybox", "buildpack-deps", "continuumio/miniconda3",
            "continuumio/anaconda3", "mambaorg/micromamba", "condaforge/miniforge3",
            "condaforge/mambaforge"}


@dataclass(frozen=True)
class Image:
    """A base image: ``cuda`` is "12.4" for a CUDA image, None when it has none or
    unknown (``has_cuda`` says which); ``torch`` the torch release a pytorch/pytorch tag
    names; ``musl`` for Alpine."""

    ref: str
    name: str
    tag: str
    has_cuda: Optional[bool]
    cuda: Optional[str] = None
    torch: Optional[str] = None
    musl: bool = False


def _split(ref: str) -> tuple[str, str]:
    ref = ref.split("@", 1)[0]
    name, _, tag = ref.rpartition(":")
    if not name or "/" in tag:
        return ref.lower(), "latest"
    return name.lower(), tag.lower()


def parse(ref: str) -> Image:
    name, tag = _split(ref.strip())
    short = re.sub(r"^(docker\.io/)?(library/)?", "", name)
    if short == "nvidia/cuda" or short.endswith("/nvidia/cuda"):
        m = re.match(r"(\d+)\.(\d+)", tag)
        return Image(ref, short, tag, True, f"{m.group(1)}.{m.group(2)}" if m else None)
    if short == "pytorch/pytorch":
        m = re.match(r"(\d+\.\d+)(?:\.\d+)?-cuda(\d+)\.(\d+)", tag)
        if m:
            return Image(ref, short, tag, True, f"{m.group(2)}.{m.group(3)}", torch=m.group(1))
        return Image(ref, short, tag, None)
    if short == "tensorflow/tensorflow":
        if "gpu" not in tag:
            return Image(ref, short, tag, False)
        from envdoctor.checks import _framework as fw

        release = fw.version_tuple(tag)[:2]
        for row in fw.tensorflow_builds()["releases"]:
            if release and fw.version_tuple(row["min"]) <= release <= fw.version_tuple(row["max"]):
                return Image(ref, short, tag, True, row["cuda"])
        return Image(ref, short, tag, True)
    if short in _NO_CUDA:
        return Image(ref, short, tag, False, musl=short == "alpine" or "alpine" in tag)
    return Image(ref, short, tag, None, musl="alpine" in tag)
