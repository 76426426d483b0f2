"""Probes: the only code that touches the machine.

Each module in this package defines one or more :class:`Probe` objects in a module
level ``PROBES`` list. A probe's name is its key in the facts document; its function
takes a :class:`ProbeContext` and returns a JSON-serialisable dict. Probes run
concurrently, each with a deadline; a probe that raises or overruns becomes a record
in ``facts["probes"]``, never an exception (see :mod:`envdoctor.runner`).

Keep module top levels light: import heavy libraries inside the probe function, so a
run pays only for the probes it needs.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from envdoctor.target.interpreter import PythonTarget, this_process


@dataclass
class ProbeContext:
    timeout: float = 10.0
    # Prefix for /proc, /sys, /dev, /etc... so tests can point probes at a fake tree
    # (ENVDOCTOR_SYSROOT). Empty on a real run.
    sysroot: str = ""
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    options: dict[str, Any] = field(default_factory=dict)
    # The user chose ``timeout`` (--timeout): no probe may take longer, not even one with
    # a deadline of its own (framework imports).
    timeout_explicit: bool = False
    # The Python environment the Python-side probes examine (--python, --kernel, or
    # the one envdoctor runs in): read it through this, never through `sys`.
    python: PythonTarget = field(default_factory=this_process)

    def path(self, absolute: str) -> str:
        """The real path of a system file, under the sysroot when one is set."""
        if not self.sysroot:
            return absolute
        return os.path.join(self.sysroot, absolute.lstrip("/"))

    def read_text(self, absolute: str) -> Optional[str]:
        """A system file's text (undecodable bytes replaced), or None when unreadable."""
        try:
            with open(self.path(absolute), encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except OSError:
            return None


ProbeFunc = Callable[[ProbeContext], dict]


@dataclass(frozen=True)
class Probe:
    name: str
    func: ProbeFunc
    # A probe that runs child processes of its own (framework imports) may need longer
    # than the per-command timeout; None means "the context's timeout plus a margin".
    deadline: Optional[float] = None


def all_probes() -> dict[str, Probe]:
    """Every built-in probe by name."""
    probes: dict[str, Probe] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for probe in getattr(module, "PROBES", ()):
            if probe.name in probes:
                raise ValueError(f"probe {probe.name!r} is defined twice")
            probes[probe.name] = probe
    return probes
