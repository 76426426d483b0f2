"""``transformers-cli env`` / ``diffusers-cli env`` / ``huggingface-cli env``:
"- `transformers` version: 4.35.2", "- PyTorch version (GPU?): 2.1.0+cu121 (True)"..."""

from __future__ import annotations

import re

from envdoctor.readers import Dump
from envdoctor.readers.facts_builder import frameworks, put
from envdoctor.readers.text import clean, os_system, version_in, yes_no

FORMAT = "hf-env"
# Lower-case words one of which any dump of this format contains (a quick test first).
SIGNS = ("version",)
TITLE = "transformers-cli env"

_LINE = re.compile(r"^\s*[-*]\s+`?([A-Za-z][\w ./-]*?)`?\s*(version)?\s*(\([^)]*\))?\s*:\s*(.*?)"
                   r"\s*$")
_KNOWN = ("transformers", "diffusers", "huggingface_hub", "platform", "python", "pytorch",
          "tensorflow", "flax", "jax", "jaxlib", "safetensors", "accelerate", "tokenizers")


def find(lines: list[str]) -> list[Dump]:
    dumps = []
    i = 0
    while i < len(lines):
        values: dict[str, str] = {}
        j = i
        end = i
        while j < len(lines):
            match = _LINE.match(lines[j])
            key = match.group(1).strip().lower().replace("-", "_") if match else ""
            if not match or not any(key.startswith(k) for k in _KNOWN + ("using",)):
                if lines[j].strip():
                    break
                j += 1
                continue
            values.setdefault(key.split()[0], match.group(4))
            end = j
            j += 1
        if len(values) >= 3 and ("pytorch" in values or "transformers" in values
                                 or "diffusers" in values):
            dumps.append(_dump(i, end, values))
            i = end + 1
        else:
            i += 1
    return dumps


def _dump(start: int, end: int, values: dict[str, str]) -> Dump:
    dump = Dump(FORMAT, TITLE, start + 1, end + 1)
    dists: dict[str, str] = {}
    for key, dist in (("transformers", "transformers"), ("diffusers", "diffusers"),
                      ("huggingface_hub", "huggingface-hub"), ("accelerate", "accelerate"),
                      ("safetensors", "safetensors"), ("tokenizers", "tokenizers"),
                      ("jaxlib", "jaxlib")):
        version = version_in(values.get(key))
        if version:
            dists[dist] = version
    torch = values.get("pytorch", "")
    torch_version = clean(torch.split("(")[0], 60)
    if torch_version and version_in(torch_version):
        dists["torch"] = torch_version
    tf = version_in(values.get("tensorflow"))
    if tf:
        dists["tensorflow"] = tf
    if dists:
        put(dump, "packages.distributions", dists)
        dump.partial.add("packages.distributions")
        frameworks(dump, dists)
    gpu = re.search(r"\((True|False)\)", torch)
    if torch_version and gpu:
        put(dump, "frameworks.live.torch", {"status": "ok", "version": torch_version,
                                            "cuda_available": yes_no(gpu.group(1)),
                                            "device_count": None if gpu.group(1) == "True"
                                            else 0})
    python = version_in(values.get("python"))
    if python:
        parts = [int(p) for p in python.split(".")[:3] if p.isdigit()]
        put(dump, "python.version", ".".join(map(str, parts)))
        put(dump, "python.version_info", parts)
    put(dump, "platform.system", os_system(values.get("platform")))
    return dump
