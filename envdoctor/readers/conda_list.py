"""``conda list``: a "# packages in environment at ..." header, then name, version, build
and channel columns. Packages from the ``pypi`` channel were installed by pip."""

from __future__ import annotations

import re

from envdoctor.readers import Dump
from envdoctor.readers.facts_builder import frameworks, put
from envdoctor.readers.text import clean, normalise_name

FORMAT = "conda"
# Lower-case words one of which any dump of this format contains (a quick test first).
SIGNS = ("# packages in environment", "# name ")
TITLE = "conda list"

_HEADER = re.compile(r"^\s*#\s*(packages in environment at|Name\s+Version\s+Build)",
                     re.IGNORECASE)
_ROW = re.compile(r"^\s*([A-Za-z0-9_][A-Za-z0-9._\-]*)\s+(\d\S*)\s*(\S+)?\s*(\S+)?\s*$")


def find(lines: list[str]) -> list[Dump]:
    dumps = []
    i = 0
    while i < len(lines):
        if _HEADER.match(lines[i]):
            dump, i = _read(lines, i)
            if dump is not None:
                dumps.append(dump)
            continue
        i += 1
    return dumps


def _read(lines: list[str], start: int) -> tuple[Dump | None, int]:
    conda: dict[str, dict] = {}
    end = i = start
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("#") and (i - start) < 4:
            end = i
            i += 1
            continue
        row = _ROW.match(line)
        if not row:
            break
        name, version, build, channel = row.groups()
        if build == "<pip>":  # conda 4.3 and older: "name  version  <pip>"
            build, channel = None, "<pip>"
        conda[name.lower()] = {"version": clean(version, 80) or "?",
                                       "build": clean(build, 80), "channel": clean(channel, 80)}
        end = i
        i += 1
    if not conda:
        return None, start + 1
    dump = Dump(FORMAT, TITLE, start + 1, end + 1)
    put(dump, "packages.conda", conda)
    # The conda probe's own shape (it reads conda-meta): [{name, version, build}].
    put(dump, "conda.packages", [{"name": n, "version": r["version"], "build": r["build"]}
                                 for n, r in conda.items()])
    put(dump, "conda.count", len(conda))
    put(dump, "conda.source", "conda list")
    dists = {normalise_name(name): row["version"] for name, row in conda.items()}
    put(dump, "packages.distributions", dists)
    put(dump, "packages.count", len(dists))
    put(dump, "python.conda", True)
    frameworks(dump, dists)
    torch = conda.get("pytorch")
    if torch and "torch" not in dists:
        build = torch.get("build") or ""
        info = {"version": torch["version"], "distribution": "pytorch", "source": "conda list"}
        cuda = re.search(r"cuda(\d+)\.(\d+)", build)
        if cuda:
            info.update(build=f"cu{cuda.group(1)}{cuda.group(2)}",
                        cuda=f"{cuda.group(1)}.{cuda.group(2)}")
        elif "cpu" in build:
            info["build"] = "cpu"
        put(dump, "frameworks.installed.torch", info)
        if "build" in info:
            dump.known.add("frameworks.installed.torch.build")
    dump.notes.append(f"{len(conda)} package(s)")
    return dump, end + 1
