"""rocm.gfx_target: does the ROCm build have code for each AMD GPU's gfx target, is the
target one AMD supports, and what HSA_OVERRIDE_GFX_VERSION does to it."""

from __future__ import annotations

from typing import Any, Optional

from envdoctor.amd import gfx
from envdoctor.facts import as_dict, dicts, strings, text
from envdoctor.registry import register
from envdoctor.result import ERROR, INFO, WARNING, Finding, Outcome, outcome, passed, skipped

from . import _rocm as rocm

CODES = {
    "rocm.E020": "The ROCm build of torch has no code for this GPU's gfx target "
                 "(hipErrorNoBinaryForGpu / 'invalid device function').",
    "rocm.W021": "This GPU's gfx target is not on AMD's list of GPUs supported by ROCm.",
    "rocm.W022": "HSA_OVERRIDE_GFX_VERSION makes the GPU run code built for a target of "
                 "another ISA family: crashes, hangs or wrong results.",
    "rocm.W023": "HSA_OVERRIDE_GFX_VERSION is not three numbers (major.minor.stepping): the "
                 "runtime ignores it.",
    "rocm.I020": "HSA_OVERRIDE_GFX_VERSION is set: the GPU runs code built for another gfx "
                 "target of the same family.",
}

KERNEL_ERRORS = ("invalid device function", "hipErrorNoBinaryForGpu",
                 "no kernel image is available", "Unable to find code object")


def override_for(target: str) -> Optional[dict]:
    """The sourced HSA_OVERRIDE_GFX_VERSION row that covers ``target``, if any."""
    for row in rocm.support().get("overrides", []):
        if target in row.get("targets", []):
            return row
    return None


def torch_targets(facts: dict) -> tuple[list[str], str]:
    """The gfx targets torch's ROCm build carries: from the live child (its arch list),
    else the sourced table for its ROCm build; and where that came from."""
    live = rocm.live(facts, "torch")
    targets = [t for t in (gfx.normalize(a) for a in strings(live.get("arch_list"))) if t]
    if targets:
        return sorted(set(targets)), "torch.cuda.get_arch_list()"
    torch = rocm.installed(facts).get("torch", {})
    built = rocm.major_minor(torch.get("hip"))
    for row in rocm.support().get("framework_builds", []):
        if row.get("framework") == "torch" and built and built.startswith("6."):
            return list(row["targets"]), f"envdoctor's table for torch {row['build']} wheels"
    return [], ""


def _kernel_failures(facts: dict) -> dict[str, str]:
    """gfx target -> the error torch's test kernel raised there, when it was a missing
    code object."""
    failures = {}
    for dev in dicts(rocm.live(facts, "torch").get("devices")):
        result = text(dev.get("kernel_test"))
        target = gfx.normalize(dev.get("gcn_arch"))
        if target and result and result != "ok" and any(k in result for k in KERNEL_ERRORS):
            failures[target] = result
    return failures


@register("rocm.gfx_target", title="AMD GPU gfx target support",
          tags=("gpu", "amd", "rocm", "framework"), needs=("amd", "frameworks", "env"),
          codes=CODES)
def check_gfx_target(facts: dict[str, Any]) -> Outcome:
    """Each AMD GPU is identified by its ISA, the gfx target (gfx90a, gfx942, gfx1100...).
    ROCm libraries and framework builds ship code objects per target; a GPU whose target
    is not among them gets `hipErrorNoBinaryForGpu: Unable to find code object for all
    current devices` or `HIP error: invalid device function`.

    This check compares each GPU's target with the targets torch's ROCm build carries
    (torch.cuda.get_arch_list() in the child; a sourced table otherwise) and with AMD's
    list of supported GPUs (envdoctor/data/rocm_support.json, from the ROCm system
    requirements page).

    HSA_OVERRIDE_GFX_VERSION=major.minor.stepping makes the ROCm runtime report the GPU
    as that target, so code built for it is loaded. It works when both targets share
    the ISA: RDNA2 cards (gfx1031 RX 6700 XT, gfx1032 RX 6600, gfx1035/1036 APUs) run
    gfx1030 code with 10.3.0; RDNA3 gfx1102/gfx1103 run gfx1100 code with 11.0.0. It
    is not supported by AMD, and across families (gfx1010 as 10.3.0, gfx9 as gfx10) it
    crashes, hangs or computes garbage.
    """
    gpus = [g for g in rocm.amd_gpus(facts) if gfx.normalize(g.get("gfx_target"))]
    if not gpus:
        return skipped("no AMD GPU with a known gfx target" if rocm.amd_present(facts)
                       else "no AMD GPU found")
    variables = as_dict(as_dict(facts.get("env")).get("variables"))
    raw_override = variables.get("HSA_OVERRIDE_GFX_VERSION")
    override = gfx.from_override(raw_override) if raw_override is not None else None
    supported = as_dict(rocm.support().get("supported"))
    official = as_dict(supported.get("targets"))
    builds = rocm.rocm_builds(facts)
    shipped, shipped_from = torch_targets(facts) if "torch" in builds else ([], "")
    failures = _kernel_failures(facts)
    findings: list[Finding] = []

    if raw_override is not None and override is None:
        findings.append(Finding(
            "rocm.W023", WARNING,
            f"HSA_OVERRIDE_GFX_VERSION={raw_override!r} is not major.minor.stepping (such "
            "as 10.3.0): the ROCm runtime ignores it",
            hint="set it as three numbers, e.g. `export HSA_OVERRIDE_GFX_VERSION=10.3.0`, "
                 "or unset it", details={"value": raw_override}))

    for target in sorted({gfx.normalize(g["gfx_target"]) for g in gpus}):
        names = rocm.gpu_names([g for g in gpus if gfx.normalize(g["gfx_target"]) == target])
        runs_as = override or target
        row = override_for(target)
        if override and override != target:
            if gfx.family(override) != gfx.family(target):
                findings.append(Finding(
                    "rocm.W022", WARNING,
                    f"HSA_OVERRIDE_GFX_VERSION={raw_override} makes {names} ({target}) run "
                    f"code built for {override}, a target of another ISA family: expect "
                    "crashes ('illegal instruction', GPU hangs) or wrong results",
                    hint=(f"use HSA_OVERRIDE_GFX_VERSION={row['value']} ({row['runs_as']}, "
                          "the same ISA)" if row else "unset HSA_OVERRIDE_GFX_VERSION")
                    + f"; source: {as_dict(rocm.support().get('override_crashes'))['source']}",
                    details={"target": target, "override": override}))
            else:
                findings.append(Finding(
                    "rocm.I020", INFO,
                    f"HSA_OVERRIDE_GFX_VERSION={raw_override}: {names} ({target}) runs code "
                    f"built for {override} (same ISA family; works, but AMD does not support "
                    "it)", details={"target": target, "override": override}))

        if (shipped and runs_as not in shipped) or target in failures:
            fix = (f"`export HSA_OVERRIDE_GFX_VERSION={row['value']}` (runs {row['runs_as']} "
                   f"code, which this build has; {row['note']}; source: {row['source']})"
                   if row and row["runs_as"] in shipped and not override else
                   "build torch from source for this GPU (`PYTORCH_ROCM_ARCH="
                   f"{target} python setup.py develop`) or use AMD's rocm/pytorch container")
            findings.append(Finding(
                "rocm.E020", ERROR,
                f"torch's ROCm build has no code for {names} ({runs_as}): it carries "
                f"{', '.join(shipped) or 'other targets'} ({shipped_from}); programs fail "
                "with 'hipErrorNoBinaryForGpu' or 'HIP error: invalid device function'"
                + (f" (the test kernel said: {failures[target]})" if target in failures else ""),
                hint=fix, details={"target": runs_as, "shipped": shipped}))

        if target not in official and not (override and override in official
                                           and gfx.family(override) == gfx.family(target)):
            hint = (f"`export HSA_OVERRIDE_GFX_VERSION={row['value']}` makes it run "
                    f"{row['runs_as']} code ({row['note']}; source: {row['source']})" if row
                    else f"see the supported list: {supported.get('source', '').split(' ')[0]}")
            findings.append(Finding(
                "rocm.W021", WARNING,
                f"{names}: {target} is not on AMD's list of GPUs supported by ROCm; ROCm "
                "libraries may have no code for it", hint=hint,
                details={"target": target}))

    summary = ", ".join(f"{rocm.gpu_label(g)}" for g in gpus)
    if shipped:
        summary += f"; torch carries {', '.join(shipped)}"
    details = {"targets": sorted({gfx.normalize(g['gfx_target']) for g in gpus}),
               "override": raw_override, "torch_targets": shipped,
               "torch_targets_from": shipped_from or None}
    if not findings:
        return passed(summary, details)
    return outcome(summary, findings, details)
