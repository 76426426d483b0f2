"""framework.extensions: xformers, flash-attn, PyG, mmcv... built for the installed torch."""

from __future__ import annotations

import re
from typing import Any, Optional

from envdoctor.facts import as_dict, strings
from envdoctor.facts import text as as_text
from envdoctor.registry import register
from envdoctor.result import ERROR, WARNING, Finding, outcome, passed, skipped

from . import _framework as fw

# A mangled C++ name from torch's own libraries: c10 (_ZN3c10 / _ZNK3c10), ATen
# (_ZN2at / _ZNK2at), torch:: (_ZN5torch). Missing means the extension was compiled
# against another torch (rusty1s/pytorch_scatter#476, #348, #248).
TORCH_SYMBOL = re.compile(r"undefined symbol: (_ZN?K?(3c10|2at|5torch)\w*)")
# Distribution -> import name (framework_child.TORCH_EXTENSIONS).
TORCH_MODULES = {"flash-attn": "flash_attn", "torch-scatter": "torch_scatter",
                 "torch-sparse": "torch_sparse", "torch-cluster": "torch_cluster",
                 "pyg-lib": "pyg_lib"}
# PyG wheels carry the torch and CUDA they were built for: 2.1.2+pt25cu124.
PYG_LOCAL = re.compile(r"^pt(\d)(\d+)(cpu|cu\d+)$")
# xformers logs it over two lines: "xFormers was built for:" / "PyTorch 2.5.1+cu124 with
# CUDA 1204 (you have 2.13.0+cpu)".
XFORMERS_BUILT_FOR = re.compile(r"xFormers was built for:?\s*(PyTorch[^\n]*)", re.I)


def extension_table() -> dict:
    from envdoctor.data import load

    return load("torch_extensions.json")["extensions"]


def reinstall(facts: dict, name: str, torch: dict) -> str:
    from envdoctor.hints import pip_command

    row = extension_table().get(name) or {}
    version = str(torch.get("version") or "").split("+", 1)[0]
    build = str(torch.get("build") or "cpu")
    minor = ".".join(version.split(".")[:2])
    template = row.get("install") or "{pip} install --force-reinstall {name}"
    return template.format(pip=pip_command(facts), name=name, torch=version, build=build,
                           torch_minor=minor)


def pyg_mismatch(local: Optional[str], torch: dict) -> Optional[str]:
    """ "pt24cu121" against torch 2.5.1+cu124 -> why it does not fit, or None."""
    match = PYG_LOCAL.match(local or "")
    if not match:
        return None
    built = (int(match.group(1)), int(match.group(2)))
    have = fw.version_tuple(torch.get("version"))[:2]
    why = []
    if have and built != have:
        why.append(f"torch {built[0]}.{built[1]}")
    if torch.get("build") and match.group(3) != torch.get("build"):
        why.append(match.group(3))
    return " and ".join(why) or None


@register(
    "framework.extensions",
    title="Extensions compiled against torch match it",
    tags=("framework", "torch"),
    needs=("frameworks",),
    uses=("pip", "python", "python_env"),
    codes={
        "framework.E050": "An extension compiled against torch (xformers, flash-attn, PyG, "
                          "mmcv, detectron2, apex, vllm, deepspeed...) fails to import; an "
                          "undefined symbol from c10/ATen/torch means it was built for "
                          "another torch.",
        "framework.E051": "A PyG wheel (torch-scatter, torch-sparse...) names another torch "
                          "or CUDA in its version (+ptXYcuZZZ).",
        "framework.W050": "xFormers loaded without its C++/CUDA kernels: it was built for "
                          "another torch (\"xFormers was built for ...\").",
    },
)
def check_extensions(facts: dict[str, Any]):
    """Were the installed torch extensions built for this torch?

    Extensions with C++/CUDA code (xformers, flash-attn, bitsandbytes, torch-scatter /
    torch-sparse / PyG, mmcv, detectron2, apex, vllm, deepspeed ops) are compiled against
    one torch release and build. Another torch gives "undefined symbol: _ZN3c10..." at
    import (c10, ATen or torch:: C++ names that changed), or xFormers' "xFormers was built
    for: PyTorch X with CUDA Y (you have Z)". The torch child imports each installed one;
    PyG wheels name their torch in the version (+pt25cu124); xformers and vllm pin torch
    exactly (pip.requirements reports a broken pin). envdoctor/data/torch_extensions.json
    says, with sources, how each is reinstalled for the installed torch.

    Fix: the hint's reinstall command (the right wheel index for this torch and build, or
    a rebuild from source against it).
    """
    torch = fw.installed(facts).get("torch")
    if not torch:
        return skipped("torch is not installed")
    installed = {k: v for k, v in as_dict(torch.get("extensions")).items()
                 if isinstance(v, dict)}
    if not installed:
        return skipped("no extension compiled against torch is installed")
    lv = fw.live(facts, "torch")
    live = as_dict(lv.get("extensions"))
    findings: list[Finding] = []
    fine = []
    failed = as_dict(lv.get("extra_failed"))
    stage = str(failed.get("stage") or "")
    for name, info in sorted(installed.items()):
        version = as_text(info.get("version")) or "?"
        entry = as_dict(live.get(name))
        module = TORCH_MODULES.get(name, name.replace("-", "_"))
        if stage == f"import {module}" and not entry:
            # It took the torch child down (or hung it): the child's last stage says so.
            entry = {"status": "error", "module": module,
                     "error": f"importing {module} {failed.get('error')}"}
        error = as_text(entry.get("error")) if entry.get("status") == "error" else None
        details = {"extension": name, "version": version, "torch": torch.get("version"),
                   "torch_build": torch.get("build"),
                   "requires_torch": info.get("requires_torch"),
                   "source": (extension_table().get(name) or {}).get("source")}
        hint = reinstall(facts, name, torch)
        other = pyg_mismatch(as_text(info.get("build")), torch)
        if error:
            symbol = TORCH_SYMBOL.search(error)
            why = (f"{symbol.group(1)} is a symbol of torch's C++ libraries that torch "
                   f"{torch.get('version')} does not have: {name} was built for another "
                   "torch" if symbol else "see the error")
            if other:
                why += f" ({name} {version} is the wheel for {other})"
            findings.append(Finding(
                "framework.E050", ERROR,
                f"`import {entry.get('module') or name}` fails: {error[:300]}. Why: {why}.",
                hint=hint, details={**details, "import_error": error,
                                    "symbol": symbol.group(1) if symbol else None}))
            continue
        if other:
            findings.append(Finding(
                "framework.E051", ERROR,
                f"{name} {version} is the PyG wheel for {other}, and torch "
                f"{torch.get('version')} is installed: its compiled ops will not load.",
                hint=hint, details=details))
            continue
        fine.append(f"{name} {version}")
    match = XFORMERS_BUILT_FOR.search("\n".join(strings(lv.get("stderr_tail"))))
    built_for = [match.group(1).strip()[:200]] if match else []
    if built_for and "xformers" in installed:
        findings.append(Finding(
            "framework.W050", WARNING,
            f"xFormers runs without its C++/CUDA kernels: it was built for {built_for[0]}.",
            hint=reinstall(facts, "xformers", torch),
            details={"built_for": built_for[0]}))
    if not findings:
        return passed(f"{', '.join(fine)} import with torch {torch.get('version')}")
    return outcome(findings[0].message, findings)
