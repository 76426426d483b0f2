"""Bytes a model needs per precision, and the GPU memory a process here can get."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from envdoctor.models.size import ModelInfo

MIB = 1024 * 1024
GIB = 1024 * MIB


def rules() -> dict[str, Any]:
    from envdoctor.data import load

    return load("model_memory.json")


@dataclass
class Device:
    """One place a process can allocate: a whole GPU, or one MIG instance (a process
    sees one MIG instance, never the whole GPU)."""

    name: str
    total_mib: int
    used_mib: int
    mig: bool = False

    @property
    def free_mib(self) -> int:
        return max(0, self.total_mib - self.used_mib)


def devices(facts: dict[str, Any]) -> list[Device]:
    """The GPUs CUDA programs will see (CUDA_VISIBLE_DEVICES applied); a GPU in MIG mode
    counts as its instances. ``used`` is memory already held (other processes)."""
    from envdoctor.checks import _framework as fw
    from envdoctor.facts import dicts, number

    found = []
    for gpu in fw.visible_gpus(facts):
        name = str(gpu.get("name") or "NVIDIA GPU")
        migs = dicts(gpu.get("mig_devices"))
        if (gpu.get("mig_mode") or {}).get("current") and migs:
            for i, mig in enumerate(migs):
                total = number(mig.get("memory_total_mib"))
                if not total:
                    continue
                label = mig.get("name") or f"{name} MIG instance {mig.get('gpu_instance_id', i)}"
                found.append(Device(str(label), int(total),
                                    int(number(mig.get("memory_used_mib")) or 0), True))
            continue
        total = number(gpu.get("memory_total_mib"))
        if total:
            found.append(Device(name, int(total), int(number(gpu.get("memory_used_mib")) or 0)))
    return found


@dataclass
class Need:
    precision: str
    weights: float
    inference: float
    training: float
    training_how: str
    sources: list[str] = field(default_factory=list)


def kv_cache_bytes(model: ModelInfo, context: int, batch: int) -> Optional[float]:
    if not (model.layers and model.kv_heads and model.head_dim):
        return None
    per_value = rules()["kv_cache"]["bytes_per_value"]
    return 2.0 * model.layers * model.kv_heads * model.head_dim * context * batch * per_value


def needs(model: ModelInfo, context: int, batch: int) -> list[Need]:
    """Bytes per precision: inference = weights + KV cache + margin; training = the
    training state (Adam, or adapters on frozen quantized weights) + margin.
    Activations are not counted."""
    data = rules()
    margin = data["margin"]
    fixed = margin["cuda_context_mib"] * MIB
    kv = kv_cache_bytes(model, context, batch) or 0.0
    train = {row["precision"]: row for row in data["training"]}
    out = []
    for row in data["weights"]:
        weights = model.params * row["bytes"]
        inference = (weights + kv) * (1 + margin["fraction"]) + fixed
        t = train[row["precision"]]
        per_param = t["bytes"] + t.get("adapter_fraction", 0) * t.get("adapter_bytes", 0)
        training = model.params * per_param * (1 + margin["fraction"]) + fixed
        out.append(Need(row["precision"], weights, inference, training, t["how"],
                        [row["source"], t["source"]]))
    return out


def gib(value: float) -> str:
    return f"{value / GIB:.1f} GiB"
