"""What a container definition can get wrong, as codes a user can look up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

CODES = {
    "container.E001": "A GPU framework that needs CUDA libraries from the system is installed "
                      "on a base image without CUDA, or a CPU-only build is installed where "
                      "the GPU is requested: it will run on the CPU (or fail to load CUDA).",
    "container.E002": "The base image's CUDA is newer than this host's NVIDIA driver runs: the "
                      "container refuses to start (nvidia-container-cli: requirement error: "
                      "unsatisfied condition: cuda>=X.Y).",
    "container.E003": "pip installs torch from PyPI's default build, whose CUDA this host's "
                      "NVIDIA driver cannot run.",
    "container.E004": "A musl (Alpine) base image with torch, TensorFlow or JAX: there are no "
                      "wheels for musl, so pip fails or builds from source.",
    "container.W001": "pip installs torch without a PyTorch index: the CUDA build is whatever "
                      "PyPI's default is on the day the image is built.",
    "container.W002": "The base image's CUDA major differs from the torch build's: CUDA "
                      "extensions compiled in the image fail (\"The detected CUDA version "
                      "mismatches the version that was used to compile PyTorch\").",
    "container.W003": "A service or pod runs a GPU image but requests no GPU: it starts "
                      "without one.",
    "container.W004": "A GPU framework with Docker's default 64 MB /dev/shm: PyTorch DataLoader "
                      "workers and NCCL fail with bus errors or 'No space left on device'.",
    "container.W005": "The OpenCV GUI build (opencv-python) in an image: it needs libGL and "
                      "fails with 'libGL.so.1: cannot open shared object file'.",
    "container.W006": "A PyTorch index that has no wheel for the requested torch release: pip "
                      "silently takes PyPI's build instead.",
}

LEVELS = {"E": "error", "W": "warning", "I": "info"}


@dataclass
class Issue:
    code: str
    line: Optional[int]
    message: str
    fix: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def level(self) -> str:
        return LEVELS[self.code.split(".", 1)[1][0]]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "level": self.level, "line": self.line,
                "message": self.message, "fix": self.fix, "details": self.details}


def exit_code(issues: list[Issue], fail_on: str = "fail") -> int:
    """Like ``check``: 1 when an issue is at or above the fail level, else 0."""
    levels = {"error"} if fail_on == "fail" else {"error", "warning"}
    return 1 if any(i.level in levels for i in issues) else 0
