"""envdoctor: the doctor for deep-learning environments."""

from __future__ import annotations

import os as _os

__version__ = "0.1.0"

# The Python API (docs/api.md), loaded on first use so `import envdoctor` stays cheap.
__all__ = ["CheckVerdict", "Report", "ReportFinding", "__version__", "diagnose",
           "explain_import_failure", "import_failure_report"]
_API = frozenset(__all__) - {"__version__"}


def __getattr__(name: str):
    if name in _API:
        import envdoctor.api as api

        return getattr(api, name)
    raise AttributeError(f"module 'envdoctor' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _API)


def _map_source_checkout() -> None:
    """Let a plain source checkout import ``envdoctor.checks`` and ``envdoctor.fixes``.

    The repository keeps ``checks/`` and ``fixes/`` at its top level (the design card),
    and the build maps them into this package. When envdoctor runs straight from a
    checkout (``python -m envdoctor`` in the repo root, no install), this makes the same
    names resolve to those folders.
    """
    here = _os.path.dirname(__file__)
    root = _os.path.dirname(here)
    if _os.path.isdir(_os.path.join(here, "checks")):
        return
    if _os.path.isfile(_os.path.join(root, "checks", "__init__.py")) and _os.path.isfile(
        _os.path.join(root, "pyproject.toml")
    ):
        for sub in ("checks", "fixes"):
            import importlib.util
            import sys

            name = f"{__name__}.{sub}"
            if name in sys.modules:
                continue
            spec = importlib.util.spec_from_file_location(
                name,
                _os.path.join(root, sub, "__init__.py"),
                submodule_search_locations=[_os.path.join(root, sub)],
            )
            if spec is None or spec.loader is None:  # pragma: no cover - defensive
                continue
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            globals()[sub] = module
            spec.loader.exec_module(module)


_map_source_checkout()
