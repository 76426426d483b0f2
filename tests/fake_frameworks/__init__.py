"""Fake framework packages written into a temporary site directory at test time.

Each fake is a real importable package plus a ``*.dist-info`` folder, so envdoctor's
static probe (dist-info index, torch/version.py, build_info.py) and its child process
(PYTHONPATH=<site>) see it exactly as they would see the real thing. A scenario is a
small dict (``behaviour`` + what the framework reports); the fake's ``__init__`` reads
it from ``_scenario.json`` next to it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

_HERE = Path(__file__).resolve().parent

# What every fake does first: the edge behaviours (crash, hang, fail to import).
_PRELUDE = '''
import json as _json, os as _os, signal as _signal, sys as _sys, time as _time
_S = _json.load(open(_os.path.join(_os.path.dirname(__file__), "_scenario.json")))
_b = _S.get("behaviour", "ok")
for _line in _S.get("stderr", []):
    _sys.stderr.write(_line + "\\n")
_sys.stderr.flush()
print("noise a framework prints on stdout")
if _b == "sigill":
    _os.kill(_os.getpid(), _signal.SIGILL)
elif _b == "sigsegv":
    _os.kill(_os.getpid(), _signal.SIGSEGV)
elif _b == "sigabrt":
    _os.abort()
elif _b == "hang":
    _time.sleep(600)
elif _b == "raise":
    raise ImportError(_S["error"])
'''


def _dist_info(site: Path, name: str, version: str) -> None:
    folder = site / f"{name.replace('-', '_')}-{version}.dist-info"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n", encoding="utf-8")


def _package(site: Path, package: str, template: str, scenario: dict) -> Path:
    pkg = site / package
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "_scenario.json").write_text(json.dumps(scenario), encoding="utf-8")
    body = (_HERE / template).read_text(encoding="utf-8")
    (pkg / "__init__.py").write_text(_PRELUDE + "\n" + body, encoding="utf-8")
    return pkg


def fake_torch(site: Path, version: str = "2.6.0+cu126", cuda: Optional[str] = "12.6",
               hip: Optional[str] = None, **scenario: Any) -> Path:
    """A torch package: ``torch/version.py`` as the real wheels write it, and a
    ``torch.cuda`` that answers from the scenario (devices, arch_list, error texts)."""
    site = Path(site)
    pkg = _package(site, "torch", "torch_template.txt",
                   {"version": version, "cuda": cuda, "hip": hip, **scenario})
    (pkg / "version.py").write_text(
        "from typing import Optional\n\n"
        "__all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip']\n"
        f"__version__ = {version!r}\n"
        "debug = False\n"
        f"cuda: Optional[str] = {cuda!r}\n"
        "git_version = 'abc'\n"
        f"hip: Optional[str] = {hip!r}\n", encoding="utf-8")
    _dist_info(site, "torch", version)
    return pkg


def fake_tensorflow(site: Path, version: str = "2.15.0", cuda: Optional[str] = "12.2",
                    cudnn: Optional[str] = "8", dist: str = "tensorflow",
                    **scenario: Any) -> Path:
    site = Path(site)
    pkg = _package(site, "tensorflow", "tensorflow_template.txt",
                   {"version": version, "cuda": cuda, "cudnn": cudnn, **scenario})
    platform = pkg / "python" / "platform"
    platform.mkdir(parents=True, exist_ok=True)
    info = {"cpu_compiler": "/usr/lib/llvm-17/bin/clang", "is_cuda_build": bool(cuda),
            "is_rocm_build": False, "is_tensorrt_build": bool(cuda)}
    if cuda:
        info.update({"cuda_version": cuda, "cudnn_version": cudnn,
                     "cuda_compute_capabilities": ["sm_60", "sm_70", "sm_80", "compute_90"]})
    (platform / "build_info.py").write_text(
        # As tensorflow/tools/build_info/gen_build_info.py writes it.
        '"""Auto-generated module providing information about the build."""\n'
        "import collections\n\n"
        f"build_info = collections.OrderedDict({sorted(info.items())!r})\n",
        encoding="utf-8")
    _dist_info(site, dist, version)
    return pkg


def fake_jax(site: Path, version: str = "0.4.30", plugin: Optional[str] = "jax-cuda12-plugin",
             **scenario: Any) -> Path:
    site = Path(site)
    pkg = _package(site, "jax", "jax_template.txt", {"version": version, **scenario})
    _dist_info(site, "jax", version)
    _dist_info(site, "jaxlib", version)
    if plugin:
        _dist_info(site, plugin.replace("-", "_"), version)
    return pkg


def fake_cupy(site: Path, dist: str = "cupy-cuda12x", version: str = "13.3.0",
              **scenario: Any) -> Path:
    site = Path(site)
    pkg = _package(site, "cupy", "cupy_template.txt", {"version": version, **scenario})
    _dist_info(site, dist.replace("-", "_"), version)
    return pkg
