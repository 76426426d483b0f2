"""Docker Compose services: GPU requests, /dev/shm, and the images they run."""

from __future__ import annotations

import os
from typing import Any, Optional

from envdoctor.containers import dockerfile, images, rules
from envdoctor.containers.issues import Issue
from envdoctor.containers.yamlfile import Mapping

_GPU_WORDS = ("cuda", "pytorch", "tensorflow", "vllm", "triton", "gpu", "nvcr.io/nvidia")


def _gpu_request(service: Mapping) -> bool:
    if str(service.get("runtime", "")).lower() == "nvidia" or service.get("gpus"):
        return True
    deploy = service.get("deploy")
    devices = (((deploy or {}).get("resources") or {}).get("reservations") or {}).get(
        "devices") if isinstance(deploy, dict) else None
    for device in devices if isinstance(devices, list) else []:
        caps = device.get("capabilities") if isinstance(device, dict) else None
        if isinstance(caps, list) and "gpu" in [str(c).lower() for c in caps]:
            return True
    env = service.get("environment")
    return isinstance(env, dict) and "NVIDIA_VISIBLE_DEVICES" in env


def _shm_ok(service: Mapping) -> bool:
    return bool(service.get("shm_size")) or str(service.get("ipc", "")).lower() == "host"


def judge(document: Any, path: str, host: Optional[dict] = None
          ) -> list[tuple[str, Issue]]:
    """(file, issue) pairs for a Compose file and the Dockerfiles its services build."""
    found: list[tuple[str, Issue]] = []
    services = document.get("services") if isinstance(document, dict) else None
    if not isinstance(services, Mapping):
        return found
    folder = os.path.dirname(os.path.abspath(path))
    for name, service in services.items():
        if not isinstance(service, Mapping):
            continue
        line = services.line_of(name)
        build = None
        image = service.get("image")
        spec = service.get("build")
        if spec is not None:
            context = spec if isinstance(spec, str) else str(spec.get("context", "."))
            file = "Dockerfile" if isinstance(spec, str) else str(spec.get("dockerfile",
                                                                          "Dockerfile"))
            docker_path = os.path.join(folder, context, file)
            try:
                with open(docker_path, encoding="utf-8", errors="replace") as fh:
                    build = dockerfile.final(fh.read())
            except OSError:
                build = None
            if build is not None:
                shown = os.path.relpath(docker_path)
                found.extend((shown, i) for i in rules.judge(build, host))
        if build is None and isinstance(image, str):
            build = rules.Build(images.parse(image), base_line=service.line_of("image"))
            found.extend((path, i) for i in rules.judge(build, host))
        gpu = (build is not None and build.uses_gpu()) or (
            isinstance(image, str) and any(w in image.lower() for w in _GPU_WORDS))
        if not gpu:
            continue
        if not _gpu_request(service):
            found.append((path, Issue(
                "container.W003", line,
                f"Service {name!r} runs a GPU image but requests no GPU: it starts without one "
                "(torch.cuda.is_available() is False).",
                "Add deploy.resources.reservations.devices: [{driver: nvidia, count: all, "
                "capabilities: [gpu]}] (https://docs.docker.com/compose/how-tos/gpu-support/).")))
        if not _shm_ok(service) and rules.runs_framework(build, image if isinstance(image, str)
                                                          else ""):
            found.append((path, Issue(
                "container.W004", line,
                f"Service {name!r} runs a GPU framework with Docker's default 64 MB /dev/shm: "
                "DataLoader workers and NCCL fail (\"bus error\", \"No space left on device\").",
                "Add shm_size: 8gb (or ipc: host).")))
    return found
