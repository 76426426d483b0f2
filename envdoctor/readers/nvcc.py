"""``nvcc --version``: "Cuda compilation tools, release 12.1, V12.1.105"."""

from __future__ import annotations

import re

from envdoctor.readers import Dump
from envdoctor.readers.facts_builder import put

FORMAT = "nvcc"
# Lower-case words one of which any dump of this format contains (a quick test first).
SIGNS = ("cuda compilation tools",)
TITLE = "nvcc --version"

_RELEASE = re.compile(r"Cuda compilation tools,\s*release\s*(\d+\.\d+),\s*V?(\d+(?:\.\d+)*)",
                      re.IGNORECASE)


def find(lines: list[str]) -> list[Dump]:
    dumps = []
    for i, line in enumerate(lines):
        match = _RELEASE.search(line)
        if not match:
            continue
        start = i
        for back in range(i - 1, max(i - 5, -1), -1):
            if "nvcc: NVIDIA" in lines[back]:
                start = back
        end = i + 1 if i + 1 < len(lines) and lines[i + 1].strip().startswith("Build cuda") \
            else i
        dump = Dump(FORMAT, TITLE, start + 1, end + 1)
        runtime = {"version": match.group(1), "full_version": match.group(2),
                   "kind": "toolkit", "where": "nvcc (pasted)", "exists": True, "nvcc": True}
        put(dump, "cuda.runtimes", [runtime])
        put(dump, "cuda.nvcc", {"version": match.group(1), "full_version": match.group(2)})
        from envdoctor.toolchain import versions

        tool = versions.nvcc(line)
        if tool:
            put(dump, "toolchain.nvcc", {"path": None, "error": None, **tool,
                                         "source": "nvcc --version"})
        dumps.append(dump)
    return dumps
