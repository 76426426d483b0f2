"""Compatibility tables shipped with envdoctor (every row carries its source).

Load them with :func:`load`: each file is parsed once per process, on first use.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

_HERE = os.path.dirname(os.path.abspath(__file__))


@functools.cache
def load(name: str) -> Any:
    """The parsed JSON data file ``name`` (e.g. ``"cuda_drivers.json"``)."""
    with open(os.path.join(_HERE, name), encoding="utf-8") as fh:
        return json.load(fh)
