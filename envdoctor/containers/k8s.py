"""Kubernetes manifests: every pod template's containers, their GPU limits and /dev/shm."""

from __future__ import annotations

from typing import Any, Optional

from envdoctor.containers import images, rules
from envdoctor.containers.issues import Issue
from envdoctor.containers.yamlfile import Mapping

_GPU_WORDS = ("cuda", "pytorch", "tensorflow", "vllm", "triton", "gpu", "nvcr.io/nvidia")
_GPU_RESOURCES = ("nvidia.com/gpu",)


def pod_specs(document: Any) -> list[Mapping]:
    """The pod spec(s) of one manifest (Pod, workloads, CronJob, a List of them)."""
    if not isinstance(document, Mapping):
        return []
    kind = str(document.get("kind", ""))
    spec = document.get("spec")
    if kind == "List":
        return [p for item in document.get("items") or [] for p in pod_specs(item)]
    if not isinstance(spec, Mapping):
        return []
    if kind == "Pod":
        return [spec]
    if kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template = spec.get("template") if isinstance(spec, dict) else None
    pod = template.get("spec") if isinstance(template, dict) else None
    return [pod] if isinstance(pod, Mapping) else []


def _requests_gpu(container: Mapping) -> bool:
    resources = container.get("resources") or {}
    for section in ("limits", "requests"):
        values = resources.get(section) if isinstance(resources, dict) else None
        if isinstance(values, dict) and any(k in values for k in _GPU_RESOURCES):
            return True
    return False


def _shm_mounted(pod: Mapping, container: Mapping) -> bool:
    memory_volumes = {str(v.get("name")) for v in pod.get("volumes") or []
                      if isinstance(v, dict) and isinstance(v.get("emptyDir"), dict)
                      and str(v["emptyDir"].get("medium", "")) == "Memory"}
    return any(isinstance(m, dict) and str(m.get("mountPath", "")).rstrip("/") == "/dev/shm"
               and str(m.get("name")) in memory_volumes
               for m in container.get("volumeMounts") or [])


def judge(documents: list[Any], host: Optional[dict] = None) -> list[Issue]:
    issues: list[Issue] = []
    for document in documents:
        for pod in pod_specs(document):
            for container in [*(pod.get("initContainers") or []),
                              *(pod.get("containers") or [])]:
                if not isinstance(container, Mapping):
                    continue
                image = str(container.get("image", ""))
                name = str(container.get("name", image))
                line = container.line
                build = rules.Build(images.parse(image), base_line=container.line_of("image"))
                issues.extend(rules.judge(build, None))
                if not (build.uses_gpu() or any(w in image.lower() for w in _GPU_WORDS)):
                    continue
                if not _requests_gpu(container):
                    issues.append(Issue(
                        "container.W003", line,
                        f"Container {name!r} runs the GPU image {image} but has no "
                        "nvidia.com/gpu limit: it is scheduled without a GPU.",
                        "Add resources: {limits: {nvidia.com/gpu: 1}}."))
                if not _shm_mounted(pod, container) and rules.runs_framework(build, image):
                    issues.append(Issue(
                        "container.W004", line,
                        f"Container {name!r} runs a GPU framework with the runtime's default "
                        "64 MB /dev/shm: DataLoader workers and NCCL fail.",
                        "Mount an emptyDir with medium: Memory at /dev/shm (volumes: [{name: "
                        "dshm, emptyDir: {medium: Memory, sizeLimit: 8Gi}}], volumeMounts: "
                        "[{name: dshm, mountPath: /dev/shm}])."))
    return issues
