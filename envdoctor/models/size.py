"""A model's parameter count from local files (never the network)."""

from __future__ import annotations

import json
import math
import os
import re
import struct
from dataclasses import dataclass
from typing import Any, Optional

# safetensors dtype -> bytes per element (https://github.com/huggingface/safetensors,
# "Format": the header maps each tensor to dtype, shape and data_offsets).
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2,
               "I8": 1, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1, "U16": 2, "U32": 4,
               "U64": 8, "F8_E8M0": 1, "F4": 0.5}
TORCH_DTYPE_BYTES = {"float32": 4, "float": 4, "float16": 2, "half": 2, "bfloat16": 2,
                     "float64": 8, "int8": 1}
_HEADER_LIMIT = 100 * 1024 * 1024  # the format's own limit on the JSON header
_COUNT = re.compile(r"^\s*([0-9][0-9_,]*(?:\.[0-9]+)?(?:e[0-9]+)?)\s*([kmbt]?)\s*$", re.I)
_SCALE = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}


class ModelError(Exception):
    """A model that cannot be read: the message says why, for the user."""


@dataclass
class ModelInfo:
    """``params`` and how it was found (``exact``: counted from tensor shapes). The KV
    cache dimensions are None when no config.json was there."""

    name: str
    params: int
    exact: bool
    source: str
    layers: Optional[int] = None
    kv_heads: Optional[int] = None
    head_dim: Optional[int] = None
    max_context: Optional[int] = None
    dtype: Optional[str] = None


def parse_count(text: str) -> Optional[int]:
    """ "7B", "7.24e9", "350M", "1,100,048,384" -> parameters; None when not a count."""
    match = _COUNT.match(text)
    if not match:
        return None
    try:
        value = float(match.group(1).replace(",", "").replace("_", ""))
    except ValueError:
        return None
    count = value * _SCALE[match.group(2).lower()]
    return int(count) if math.isfinite(count) and 0 < count < 1e15 else None


def _read_json(path: str, limit: int = 64 * 1024 * 1024) -> Any:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise ModelError(f"{path} is too large for a config or index file")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from None


def safetensors_params(path: str) -> tuple[int, dict[str, int]]:
    """(parameters, bytes per dtype) counted from one .safetensors file's header."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) != 8:
                raise ModelError(f"{path} is not a safetensors file (shorter than 8 bytes)")
            (size,) = struct.unpack("<Q", head)
            if size > _HEADER_LIMIT:
                raise ModelError(f"{path}: the safetensors header claims {size} bytes")
            raw = fh.read(size)
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ModelError(f"{path} is not a safetensors file (unreadable header)") from None
    if not isinstance(header, dict):
        raise ModelError(f"{path} is not a safetensors file (header is not an object)")
    params = 0
    by_dtype: dict[str, int] = {}
    for name, tensor in header.items():
        if name == "__metadata__" or not isinstance(tensor, dict):
            continue
        shape = tensor.get("shape")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0
                                                  for d in shape):
            raise ModelError(f"{path}: tensor {name!r} has no valid shape")
        count = math.prod(shape)
        params += count
        dtype = str(tensor.get("dtype"))
        by_dtype[dtype] = by_dtype.get(dtype, 0) + count
    return params, by_dtype


def _text_config(config: dict) -> dict:
    """The language model's part of a config (multimodal configs nest it)."""
    for key in ("text_config", "llm_config", "language_config"):
        if isinstance(config.get(key), dict):
            return {**config, **config[key]}
    return config


def _int(config: dict, *keys: str) -> Optional[int]:
    for key in keys:
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


_GATED = ("llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen2_moe", "qwen3_moe", "gemma",
          "gemma2", "gemma3", "phi3", "olmo", "olmo2", "deepseek_v2", "deepseek_v3",
          "granite", "cohere", "internlm2", "yi", "baichuan", "stablelm", "exaone")


def config_estimate(config: dict) -> int:
    """Parameters of a decoder-only transformer from its config.json dimensions:
    embeddings (twice when untied), per layer attention (q, k, v, o with grouped
    key/value heads) + MLP (three matrices when gated: SwiGLU/GeGLU, times the experts of
    a mixture of experts) + two norms, and the final norm. Biases are left out (under
    0.1% of a large model)."""
    c = _text_config(config)
    hidden = _int(c, "hidden_size", "n_embd", "d_model")
    layers = _int(c, "num_hidden_layers", "n_layer", "num_layers")
    heads = _int(c, "num_attention_heads", "n_head")
    vocab = _int(c, "vocab_size")
    if not (hidden and layers and heads and vocab):
        raise ModelError("config.json lacks hidden_size, num_hidden_layers, "
                         "num_attention_heads or vocab_size: give the parameter count "
                         "instead (envdoctor fit 7B)")
    kv_heads = _int(c, "num_key_value_heads") or heads
    head_dim = _int(c, "head_dim") or hidden // heads
    inter = _int(c, "intermediate_size", "n_inner") or 4 * hidden
    model_type = str(c.get("model_type") or "").lower()
    gated = model_type in _GATED or str(c.get("hidden_act", "")).lower() in (
        "silu", "swiglu", "geglu", "gelu_pytorch_tanh") and model_type not in ("gpt2",
                                                                                "gpt_neox")
    experts = _int(c, "num_local_experts", "num_experts", "n_routed_experts") or 1
    expert_inter = _int(c, "moe_intermediate_size") or inter
    shared = _int(c, "n_shared_experts", "num_shared_experts") or 0
    attention = hidden * heads * head_dim * 2 + hidden * kv_heads * head_dim * 2
    matrices = 3 if gated else 2
    mlp = matrices * hidden * (expert_inter * (experts + shared) if experts > 1 else inter)
    router = hidden * experts if experts > 1 else 0
    per_layer = attention + mlp + router + 2 * hidden
    tied = c.get("tie_word_embeddings")
    tied = model_type in ("gpt2",) if tied is None else bool(tied)
    embeddings = vocab * hidden * (1 if tied else 2)
    return layers * per_layer + embeddings + hidden


def _dims(config: dict, info: ModelInfo) -> ModelInfo:
    c = _text_config(config)
    heads = _int(c, "num_attention_heads", "n_head")
    hidden = _int(c, "hidden_size", "n_embd", "d_model")
    info.layers = _int(c, "num_hidden_layers", "n_layer", "num_layers")
    info.kv_heads = _int(c, "num_key_value_heads") or heads
    info.head_dim = _int(c, "head_dim") or (hidden // heads if hidden and heads else None)
    info.max_context = _int(c, "max_position_embeddings", "n_positions", "seq_length")
    dtype = c.get("torch_dtype") or c.get("dtype")
    info.dtype = str(dtype) if isinstance(dtype, str) else None
    return info


def load(spec: str) -> ModelInfo:
    """A model from ``spec``: a folder (config.json, *.safetensors, or the index), one of
    those files, or a parameter count."""
    count = parse_count(spec)
    if count is not None and not os.path.exists(spec):
        return ModelInfo(name=spec.strip(), params=count, exact=False,
                         source="the parameter count given")
    folder = spec if os.path.isdir(spec) else os.path.dirname(spec) or "."
    if not os.path.exists(spec):
        raise ModelError(f"{spec}: no such file or folder, and not a parameter count "
                         "(e.g. 7B, 350M, 1.5e9)")
    name = os.path.basename(os.path.abspath(folder if os.path.isdir(spec) else spec))
    config_path = os.path.join(folder, "config.json")
    config = _read_json(config_path) if os.path.isfile(config_path) else None
    if spec.endswith("config.json"):
        config = _read_json(spec)
    if config is not None and not isinstance(config, dict):
        raise ModelError(f"{config_path} is not a config object")
    info = _from_weights(spec, folder)
    if info is None:
        if config is None:
            raise ModelError(f"{spec}: no config.json, *.safetensors or "
                             "model.safetensors.index.json here")
        info = ModelInfo(name, config_estimate(config), False,
                         "estimated from config.json (dimensions; biases not counted)")
    info.name = name
    return _dims(config, info) if config else info


def _from_weights(spec: str, folder: str) -> Optional[ModelInfo]:
    if spec.endswith(".safetensors") and os.path.isfile(spec):
        files = [spec]
    elif os.path.isdir(spec):
        files = sorted(os.path.join(folder, f) for f in os.listdir(folder)
                       if f.endswith(".safetensors"))
    else:
        files = []
    index_path = spec if spec.endswith(".index.json") else \
        os.path.join(folder, "model.safetensors.index.json")
    index = _read_json(index_path) if os.path.isfile(index_path) and (
        spec.endswith(".index.json") or os.path.isdir(spec)) else None
    if isinstance(index, dict) and isinstance(index.get("weight_map"), dict):
        shards = sorted({str(v) for v in index["weight_map"].values()})
        local = [os.path.join(folder, s) for s in shards]
        if all(os.path.isfile(p) for p in local):
            files = local
        else:
            total = (index.get("metadata") or {}).get("total_size")
            if not isinstance(total, int) or total <= 0:
                raise ModelError(f"{index_path} has no metadata.total_size and its shards "
                                 "are not here")
            return _from_total(total, folder)
    if not files:
        return None
    params, by_dtype = 0, {}
    for path in files:
        count, dtypes = safetensors_params(path)
        params += count
        for key, value in dtypes.items():
            by_dtype[key] = by_dtype.get(key, 0) + value
    main = max(by_dtype, key=by_dtype.get) if by_dtype else None
    return ModelInfo("", params, True, f"counted from the safetensors headers of "
                     f"{len(files)} file{'s' if len(files) != 1 else ''}", dtype=main)


def _from_total(total: int, folder: str) -> ModelInfo:
    config_path = os.path.join(folder, "config.json")
    config = _read_json(config_path) if os.path.isfile(config_path) else {}
    dtype = str(_text_config(config if isinstance(config, dict) else {}).get(
        "torch_dtype") or "bfloat16")
    size = TORCH_DTYPE_BYTES.get(dtype, 2)
    return ModelInfo("", int(total / size), False,
                     f"model.safetensors.index.json: total_size {total} bytes / {size} "
                     f"bytes per {dtype} parameter")
