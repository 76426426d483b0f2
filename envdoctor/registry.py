"""The check registry: built-in checks from ``envdoctor.checks`` plus entry-point plugins.

A check is a pure function of the facts document, registered with :func:`register`::

    @register("cpu.avx", title="CPU instruction sets", tags=("cpu",), needs=("cpu", "packages"),
              codes={"cpu.E001": "An installed package needs AVX and this CPU has none."})
    def check_avx(facts: Facts) -> Outcome: ...

Third-party packages add checks through the entry-point group ``envdoctor.checks``
(the entry point names a module or a callable; importing it registers its checks). A
plugin that fails to load becomes a recorded fact and a finding, never a crash.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from envdoctor.result import Outcome

Facts = dict[str, Any]
CheckFunc = Callable[[Facts], Outcome]

CHECK_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
CODE = re.compile(r"^[a-z][a-z0-9_]*\.[EWI]\d{3}$")
ENTRY_POINT_GROUP = "envdoctor.checks"


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    func: CheckFunc
    tags: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    codes: dict[str, str] = field(default_factory=dict)
    origin: str = "envdoctor"
    # Probes whose facts the check reads when they are there but can judge without
    # (the GPU count for CUDA_VISIBLE_DEVICES). They run whenever the check runs, so
    # --only gives the same verdict as a full run; unlike ``needs``, their failure
    # does not stop the check.
    uses: tuple[str, ...] = ()

    @property
    def inputs(self) -> tuple[str, ...]:
        """Every probe whose facts can change this check's verdict: needs, then uses."""
        return self.needs + tuple(n for n in self.uses if n not in self.needs)

    @property
    def doc(self) -> str:
        import inspect  # already loaded by typer; cleandoc strips the docstring's indent

        return inspect.cleandoc(self.func.__doc__ or "")

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]


_CHECKS: dict[str, Check] = {}
_PLUGIN_ERRORS: list[dict[str, str]] = []
_loaded = False


def register(check_id: str, *, title: str, tags: tuple[str, ...] = (),
             needs: tuple[str, ...] = (), codes: dict[str, str] | None = None,
             uses: tuple[str, ...] = ()) -> Callable[[CheckFunc], CheckFunc]:
    """Register a check function under a stable id (``area.name``).

    ``needs``: the probes whose facts the check cannot judge without (when one of them
    failed the check is an error, not called). ``uses``: probes whose facts it reads
    when present (a missing or failed one is "unknown" to it). Together they must name
    every probe whose facts can change the verdict: ``--only`` runs exactly those
    (tests/test_check_inputs.py holds every check to it).
    """
    if not CHECK_ID.match(check_id):
        raise ValueError(f"check id {check_id!r} is not of the form area.name")
    for code in codes or {}:
        if not CODE.match(code):
            raise ValueError(f"finding code {code!r} is not of the form area.E001")

    def decorate(func: CheckFunc) -> CheckFunc:
        module = getattr(func, "__module__", "") or ""
        origin = "envdoctor" if module.startswith("envdoctor.") else module.split(".")[0]
        if check_id in _CHECKS and _CHECKS[check_id].func is not func:
            raise ValueError(f"check id {check_id!r} is registered twice")
        _CHECKS[check_id] = Check(check_id, title, func, tuple(tags), tuple(needs),
                                  dict(codes or {}), origin, tuple(uses))
        return func

    return decorate


def _load_builtin() -> None:
    import envdoctor.checks as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")


def _load_plugins() -> None:
    from envdoctor.distributions import entry_points

    for ep in sorted(entry_points(ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            target = ep.load()
            if callable(target) and not isinstance(target, type(importlib)):
                target()
        except Exception as exc:  # a broken plugin must not break envdoctor
            _PLUGIN_ERRORS.append({"name": ep.name, "value": ep.value,
                                   "error": f"{type(exc).__name__}: {exc}"})


_load_lock = threading.Lock()


def load(plugins: bool = True) -> None:
    """Import the built-in checks and the plugins, once (thread-safe: a probe may ask
    for the registry while the main thread is loading it)."""
    global _loaded
    with _load_lock:
        if _loaded:
            return
        _load_builtin()
        if plugins:
            _load_plugins()
        _loaded = True


def all_checks() -> list[Check]:
    load()
    return sorted(_CHECKS.values(), key=lambda c: c.id)


def get(check_id: str) -> Check | None:
    load()
    return _CHECKS.get(check_id)


def plugin_errors() -> list[dict[str, str]]:
    load()
    return list(_PLUGIN_ERRORS)


def find_code(code: str) -> tuple[Check, str] | None:
    """The check that emits finding ``code`` and the code's one-line meaning."""
    for check in all_checks():
        if code in check.codes:
            return check, check.codes[code]
    return None


def select(checks: list[Check], only: list[str], skip: list[str]) -> list[Check]:
    """Filter by id or tag. ``only``/``skip`` items match an id, an area or a tag."""

    def matches(check: Check, key: str) -> bool:
        return key == check.id or key == check.area or key in check.tags

    chosen = [c for c in checks if not only or any(matches(c, k) for k in only)]
    return [c for c in chosen if not any(matches(c, k) for k in skip)]
