"""``jax.print_environment_info()``: jax, jaxlib, numpy, python, jax.devices, platform
(and nvidia-smi's table after it, which the nvidia-smi reader reads)."""

from __future__ import annotations

import re

from envdoctor.readers import Dump
from envdoctor.readers.facts_builder import put
from envdoctor.readers.text import clean, version_in

FORMAT = "jax"
# Lower-case words one of which any dump of this format contains (a quick test first).
SIGNS = ("jaxlib",)
TITLE = "jax.print_environment_info()"

_LINE = re.compile(r"^\s*(jax|jaxlib|numpy|python|jax\.devices|process_count|platform)"
                   r"\s*(\([^)]*\))?\s*:\s*(.*?)\s*$")


def find(lines: list[str]) -> list[Dump]:
    dumps = []
    i = 0
    while i < len(lines):
        match = _LINE.match(lines[i])
        if match and match.group(1) == "jax":
            values: dict[str, str] = {}
            end = j = i
            while j < len(lines) and (m := _LINE.match(lines[j])):
                values.setdefault(m.group(1), m.group(3))
                end = j
                j += 1
            if "jaxlib" in values and "jax.devices" in values:
                dumps.append(_dump(i, end, values))
            i = j + 1
            continue
        i += 1
    return dumps


def _dump(start: int, end: int, values: dict[str, str]) -> Dump:
    dump = Dump(FORMAT, TITLE, start + 1, end + 1)
    devices = values.get("jax.devices", "")
    gpu = re.search(r"(Cuda|Gpu|Rocm)Device|\b(cuda|gpu|rocm)\(id", devices, re.IGNORECASE)
    info = {"version": clean(values.get("jax"), 40), "distribution": "jax",
            "jaxlib": clean(values.get("jaxlib"), 40), "source": "jax.print_environment_info"}
    put(dump, "frameworks.installed.jax", info)
    count = len(re.findall(r"id=\d+", devices))
    put(dump, "frameworks.live.jax", {"status": "ok", "version": info["version"],
                                      "cuda_available": bool(gpu),
                                      "device_count": count if gpu else 0,
                                      "backend": "gpu" if gpu else "cpu"})
    python = version_in(values.get("python"))
    if python:
        parts = [int(p) for p in python.split(".")[:3] if p.isdigit()]
        put(dump, "python.version", ".".join(map(str, parts)))
        put(dump, "python.version_info", parts)
    plat = values.get("platform", "")
    system = re.search(r"system='(\w+)'", plat)
    machine = re.search(r"machine='(\w+)'", plat)
    release = re.search(r"release='([^']+)'", plat)
    if system:
        put(dump, "platform.system", clean(system.group(1), 20))
    if machine:
        put(dump, "platform.machine", clean(machine.group(1), 20))
    if release:
        put(dump, "platform.release", clean(release.group(1), 80))
    return dump
