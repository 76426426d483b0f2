"""apple.mps: torch on an Apple Silicon Mac's GPU (the MPS backend)."""

from __future__ import annotations

from typing import Any, Optional

from envdoctor.facts import as_dict, number, text
from envdoctor.registry import register
from envdoctor.result import ERROR, INFO, Finding, Outcome, outcome, passed, skipped

from ._framework import version_tuple

CODES = {
    "apple.E001": "This macOS is older than the MPS backend of the installed torch needs "
                  "(12.3 for torch 1.12+, 14.0 for torch 2.11+).",
    "apple.E002": "torch is built without MPS on an Apple Silicon Mac.",
    "apple.E003": "torch has MPS but it is not available, or a tiny MPS operation failed.",
    "apple.I001": "PYTORCH_ENABLE_MPS_FALLBACK is not set: operations without an MPS kernel "
                  "raise NotImplementedError instead of running on the CPU.",
    "apple.I002": "PYTORCH_ENABLE_MPS_FALLBACK=1: operations without an MPS kernel run on the "
                  "CPU, slowly and with only a warning.",
}

TORCH_INSTALL = "pip install --upgrade torch  (the macOS arm64 wheels on PyPI include MPS)"


def _data() -> dict:
    from envdoctor.data import load

    return load("apple_metal.json")


def macos_needed(torch_version: Any) -> Optional[dict]:
    """The sourced row for the newest torch_from not above ``torch_version``."""
    have = version_tuple(torch_version)
    rows = [r for r in _data()["torch_mps"] if version_tuple(r["torch_from"]) <= have]
    return max(rows, key=lambda r: version_tuple(r["torch_from"])) if rows else None


def unified_memory(apple: dict) -> str:
    mib = number(apple.get("unified_memory_mib"))
    return f"{mib / 1024:.0f} GiB unified memory" if mib else "unified memory size unknown"


def gpu_summary(apple: dict) -> str:
    gpus = [g for g in apple.get("gpus") or [] if isinstance(g, dict)]
    names = ", ".join(
        f"{g.get('name') or 'Apple GPU'}"
        + (f" ({g['cores']} cores)" if isinstance(g.get("cores"), int) else "")
        + (f", {g['metal_family']}" if g.get("metal_family") else "") for g in gpus)
    chip = text(apple.get("chip"))
    label = names or chip or "Apple GPU"
    macos = text(apple.get("macos_version"))
    return f"{label}; {unified_memory(apple)}" + (f"; macOS {macos}" if macos else "")


@register("apple.mps", title="PyTorch on the Apple GPU (MPS)",
          tags=("gpu", "apple", "mps", "framework"),
          needs=("apple", "platform", "frameworks", "env"), codes=CODES)
def check_mps(facts: dict[str, Any]) -> Outcome:
    """Can torch use the Apple Silicon GPU through Metal Performance Shaders (MPS)?

    Needs: an arm64 Python (an x86_64 one under Rosetta has no MPS: see platform.W003),
    macOS 12.3 or later (14.0 for torch 2.11 and later), and a torch built with MPS (the
    PyPI wheels for macOS arm64 are, since torch 1.12). The framework child runs one
    tiny operation on the `mps` device, the only sure test that it works.

    Some operations have no MPS kernel and raise NotImplementedError;
    PYTORCH_ENABLE_MPS_FALLBACK=1 runs them on the CPU instead (slowly, with a warning).
    """
    apple = as_dict(facts.get("apple"))
    if not apple.get("present"):
        return skipped("not a Mac with an Apple GPU")
    if as_dict(as_dict(facts.get("platform")).get("macos")).get("rosetta"):
        return skipped("this Python runs under Rosetta (x86_64), which has no MPS: see "
                       "platform.W003")
    summary = gpu_summary(apple)
    details = {"chip": apple.get("chip"), "macos_version": apple.get("macos_version"),
               "unified_memory_mib": apple.get("unified_memory_mib")}
    torch = as_dict(as_dict(as_dict(facts.get("frameworks")).get("installed")).get("torch"))
    if not torch:
        return passed(summary + "; torch is not installed", details)
    live = as_dict(as_dict(as_dict(facts.get("frameworks")).get("live")).get("torch"))
    findings: list[Finding] = []
    macos = text(apple.get("macos_version"))
    need = macos_needed(torch.get("version"))
    old_macos = bool(macos and need and version_tuple(macos) < version_tuple(need["macos_min"]))
    if old_macos:
        findings.append(Finding(
            "apple.E001", ERROR,
            f"macOS {macos} is older than torch {torch.get('version')}'s MPS backend needs "
            f"(macOS {need['macos_min']} or later): torch runs on the CPU only",
            hint=f"update macOS (System Settings > General > Software Update); source: "
                 f"{need['source']}", details={"macos": macos, "needs": need["macos_min"]}))
    if live.get("status") == "ok":
        if live.get("mps_built") is False and apple.get("apple_silicon"):
            findings.append(Finding(
                "apple.E002", ERROR,
                f"torch {torch.get('version')} is built without MPS, so it cannot use the "
                "Apple GPU (an old torch, or a build made without MPS)",
                hint=TORCH_INSTALL))
        elif not old_macos and (live.get("mps_available") is False
                                or text(live.get("mps_test")) not in (None, "ok")):
            why = (text(live.get("mps_test")) if live.get("mps_available")
                   else "torch.backends.mps.is_available() is False")
            findings.append(Finding(
                "apple.E003", ERROR,
                f"torch has MPS but cannot use the Apple GPU: {why}",
                hint="run `python -c \"import torch; print(torch.ones(1, device='mps'))\"` "
                     "for the full error; in a macOS virtual machine MPS is not available",
                details={"mps_test": live.get("mps_test")}))
        if live.get("mps_available") and live.get("mps_test") == "ok":
            variables = as_dict(as_dict(facts.get("env")).get("variables"))
            fallback = variables.get("PYTORCH_ENABLE_MPS_FALLBACK")
            source = _data()["mps_fallback"]["source"]
            if fallback is None:
                findings.append(Finding(
                    "apple.I001", INFO,
                    "PYTORCH_ENABLE_MPS_FALLBACK is not set: an operation MPS does not "
                    "implement raises NotImplementedError",
                    hint=f"`export PYTORCH_ENABLE_MPS_FALLBACK=1` to run those on the CPU; "
                         f"source: {source}"))
            elif str(fallback).strip() == "1":
                findings.append(Finding(
                    "apple.I002", INFO,
                    "PYTORCH_ENABLE_MPS_FALLBACK=1: operations without an MPS kernel run on "
                    "the CPU, silently slow (look for 'fall back to run on the CPU' warnings)",
                    hint=f"unset it to find such operations; source: {source}"))
            summary += "; torch runs on MPS"
    if not findings:
        return passed(summary, details)
    return outcome(summary, findings, details)
