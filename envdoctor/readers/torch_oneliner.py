"""The checks people run by hand: ``python -c "import torch; print(torch.__version__,
torch.cuda.is_available())"`` followed by its answer, or the same in a ``>>>`` session."""

from __future__ import annotations

import re

from envdoctor.readers import Dump
from envdoctor.readers.facts_builder import frameworks, put
from envdoctor.readers.text import clean, yes_no

FORMAT = "torch-oneliner"
# Lower-case words one of which any dump of this format contains (a quick test first).
SIGNS = ("torch.__version__", "torch.cuda.is_available()")
TITLE = "torch.__version__ / torch.cuda.is_available()"

_VERSION_EXPR = re.compile(r"torch\.__version__")
_AVAILABLE_EXPR = re.compile(r"torch\.cuda\.is_available\(\)")
_VERSION = re.compile(r"^'?(\d+\.\d+(?:\.\d+)?(?:[a-z0-9.]*)?(?:\+[A-Za-z0-9.]+)?)'?$")


def find(lines: list[str]) -> list[Dump]:
    version = available = None
    first = last = None
    for i, line in enumerate(lines[:-1]):
        if not (_VERSION_EXPR.search(line) or _AVAILABLE_EXPR.search(line)):
            continue
        answer = lines[i + 1].strip().strip("`")
        words = answer.split()
        if not words or len(words) > 3:
            continue
        asks = [m.group(0) for m in re.finditer(r"torch\.__version__|torch\.cuda\.is_available"
                                                r"\(\)", line)]
        if len(asks) != len(words):
            continue
        for ask, word in zip(asks, words):
            if ask.startswith("torch.__") and _VERSION.match(word):
                version = version or clean(_VERSION.match(word).group(1), 60)
            elif ask.startswith("torch.cuda") and yes_no(word) is not None:
                available = yes_no(word) if available is None else available
            else:
                break
        else:
            first = i if first is None else first
            last = i + 1
    if version is None and available is None:
        return []
    dump = Dump(FORMAT, TITLE, (first or 0) + 1, (last or 0) + 1)
    if version:
        frameworks(dump, {"torch": version})
    if available is not None:
        put(dump, "frameworks.live.torch", {"status": "ok", "version": version,
                                            "cuda_available": available,
                                            "device_count": None if available else 0})
    return [dump]
