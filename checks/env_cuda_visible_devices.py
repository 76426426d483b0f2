"""env.cuda_visible_devices: which GPUs CUDA programs will see, and variables that get in
the way (CUDA_VISIBLE_DEVICES, CUDA_DEVICE_ORDER, NVIDIA_VISIBLE_DEVICES, debug/profiling
variables). Reads facts["env"]["variables"] only, so it works on a saved report."""

from __future__ import annotations

from typing import Any, Optional

from envdoctor import cuda_visible as cv
from envdoctor.registry import register
from envdoctor.result import ERROR, INFO, WARNING, Finding, Outcome, outcome

# Variables NVIDIA's DCGM deployment diagnostic (dcgmi diag -r 1) flags when set: they
# inject debuggers/profilers into every CUDA program or change how it runs.
# Source: NVIDIA/DCGM nvvs/plugin_src/software/Software.cpp.
DEBUG_VARIABLES = (
    "NSIGHT_CUDA_DEBUGGER", "CUDA_INJECTION32_PATH", "CUDA_INJECTION64_PATH",
    "CUDA_AUTO_BOOST", "CUDA_ENABLE_COREDUMP_ON_EXCEPTION", "CUDA_COREDUMP_FILE",
    "CUDA_DEVICE_WAITS_ON_EXCEPTION", "CUDA_PROFILE", "COMPUTE_PROFILE", "OPENCL_PROFILE",
)

CODES = {
    "env.E001": "CUDA_VISIBLE_DEVICES names GPUs that do not exist (or repeats one), so CUDA "
                "programs see no GPU although GPUs are installed.",
    "env.W001": "CUDA_VISIBLE_DEVICES is set to an empty string: CUDA programs see no GPU.",
    "env.W002": "CUDA_VISIBLE_DEVICES starts with an invalid entry (such as -1): CUDA "
                "programs see no GPU.",
    "env.W003": "An invalid entry in CUDA_VISIBLE_DEVICES hides itself and every GPU listed "
                "after it.",
    "env.W004": "CUDA_VISIBLE_DEVICES lists the same entry twice: CUDA then sees no GPU.",
    "env.W005": "CUDA_VISIBLE_DEVICES mixes GPU indices and UUIDs.",
    "env.W006": "An entry of CUDA_VISIBLE_DEVICES is not read the way it looks (extra "
                "characters or spaces).",
    "env.W007": "Several different GPUs and CUDA_DEVICE_ORDER is not PCI_BUS_ID: CUDA's "
                "numbering differs from nvidia-smi's.",
    "env.W008": "CUDA debugging/profiling variables are set.",
    "env.W009": "This container was started without GPUs (NVIDIA_VISIBLE_DEVICES is "
                "none/void/empty).",
    "env.W010": "This container asks for GPUs (NVIDIA_VISIBLE_DEVICES) but none are visible: "
                "it was probably started without --gpus.",
    "env.I001": "NVIDIA_VISIBLE_DEVICES is set outside a container, where it has no effect.",
    "env.I002": "CUDA_VISIBLE_DEVICES hides every GPU (no GPU was detected to compare with).",
    "env.I003": "CUDA_LAUNCH_BLOCKING=1 makes every GPU call wait: slow outside debugging.",
    "env.I004": "Several identical GPUs and CUDA_DEVICE_ORDER is not PCI_BUS_ID.",
}


def _variables(facts: dict[str, Any]) -> dict[str, str]:
    env = facts.get("env")
    variables = env.get("variables") if isinstance(env, dict) else None
    if not isinstance(variables, dict):
        return {}
    return {str(k): v if isinstance(v, str) else str(v) for k, v in variables.items()}


def _gpus(facts: dict[str, Any]) -> Optional[list]:
    """The GPUs the NVIDIA probe found; None when unknown. An empty list counts as
    unknown too: a broken driver also reports no GPU."""
    nvidia = facts.get("nvidia")
    if not isinstance(nvidia, dict):
        return None
    gpus = nvidia.get("gpus")
    if not isinstance(gpus, list) or not gpus:
        return None
    return gpus


def _gpu_count_seen(facts: dict[str, Any]) -> Optional[int]:
    """How many GPUs the NVIDIA probe found (0 when it ran and found no driver or GPU);
    None when it did not run or failed."""
    if "nvidia" not in facts:
        return None
    nvidia = facts["nvidia"]
    if nvidia is None:
        return 0 if _probe_ok(facts, "nvidia") else None
    if not isinstance(nvidia, dict):
        return None
    gpus = nvidia.get("gpus")
    return len(gpus) if isinstance(gpus, list) else None


def _probe_ok(facts: dict[str, Any], name: str) -> bool:
    records = facts.get("probes")
    record = records.get(name) if isinstance(records, dict) else None
    return isinstance(record, dict) and record.get("status") == "ok"


def _windows(facts: dict[str, Any]) -> bool:
    platform = facts.get("platform")
    return isinstance(platform, dict) and platform.get("system") == "Windows"


def _unset_hint(names: list[str], windows: bool) -> str:
    if windows:
        return "In PowerShell: " + "; ".join(f"Remove-Item Env:{n}" for n in names) + \
            " (and remove them from System Properties > Environment Variables)"
    return "unset " + " ".join(names) + \
        "   (and remove them from ~/.bashrc, ~/.profile or the job script that sets them)"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@register("env.cuda_visible_devices", title="GPU visibility (CUDA_VISIBLE_DEVICES)",
          tags=("env", "gpu", "cuda"), needs=("env",),
          uses=("nvidia", "platform"), codes=CODES)
def check_cuda_visible_devices(facts: dict[str, Any]) -> Outcome:
    """Works out which GPUs CUDA programs (PyTorch, TensorFlow, JAX...) will see.

    CUDA_VISIBLE_DEVICES picks and renumbers GPUs: unset shows every GPU; an empty value
    shows none; a comma list of indices or UUIDs (GPU-<uuid>, a unique prefix is enough;
    MIG-<uuid> for MIG instances) shows those GPUs, renumbered cuda:0, cuda:1... in the
    order given. The first invalid entry hides itself and everything after it, so
    "0,2,-1,1" shows GPUs 0 and 2 and "-1" shows none; a repeated GPU shows none at all.
    CUDA reads the variable once, when it starts in a process: setting it later in the
    program has no effect.

    Common causes of trouble: a leftover CUDA_VISIBLE_DEVICES=-1 or "" from a CPU-only
    experiment; an index copied from another machine (GPU 1 on a one-GPU laptop); a
    typo repeating an index; CUDA_DEVICE_ORDER left at its default, so CUDA's GPU 0 is not
    nvidia-smi's GPU 0; a Docker container started without `--gpus all`; debugging or
    profiling variables (CUDA_INJECTION64_PATH, CUDA_PROFILE...) left in the environment.

    How to fix: `unset CUDA_VISIBLE_DEVICES` (or set it to indices nvidia-smi lists),
    `export CUDA_DEVICE_ORDER=PCI_BUS_ID`, start containers with `docker run --gpus all`.
    """
    variables = _variables(facts)
    gpus = _gpus(facts)
    seen = _gpu_count_seen(facts)
    windows = _windows(facts)
    raw = variables.get("CUDA_VISIBLE_DEVICES")
    res = cv.resolve(raw, gpus)
    count = len(gpus) if gpus else 0
    findings: list[Finding] = []
    details: dict[str, Any] = {"cuda_visible_devices": res.to_dict(),
                               "gpus_present": count if gpus else seen,
                               "visible": cv.describe_visible(res, gpus)}
    if gpus:
        details["visible_gpus"] = cv.visible_gpu_list(gpus, res)

    findings += _visible_findings(res, raw, gpus, count)
    findings += _order_findings(variables, gpus, details)
    findings += _container_findings(facts, variables, seen)
    findings += _debug_findings(variables, windows)
    if variables.get("CUDA_LAUNCH_BLOCKING", "").strip() == "1":
        findings.append(Finding(
            "env.I003", INFO,
            "CUDA_LAUNCH_BLOCKING=1 makes every GPU operation wait for the previous one: "
            "useful to locate a CUDA error, much slower for training.",
            hint=_unset_hint(["CUDA_LAUNCH_BLOCKING"], windows) + " when you are done "
            "debugging"))

    summary = f"CUDA programs will see {details['visible']}"
    if res.mode == "unset" and seen == 0:
        summary = "CUDA_VISIBLE_DEVICES is not set (no NVIDIA GPU was detected)"
    if gpus and res.mode != "unset":
        summary += f" (of {_plural(count, 'GPU')})"
    return outcome(summary, findings, details)


def _entries_text(entries: list[cv.Entry]) -> str:
    return ", ".join(repr(e.text) for e in entries)


def _visible_findings(res: cv.Resolution, raw: Optional[str], gpus: Optional[list],
                      count: int) -> list[Finding]:
    out: list[Finding] = []
    if res.mode == "unset":
        return out
    shown = f"CUDA_VISIBLE_DEVICES={raw!r}"
    list_hint = ("unset CUDA_VISIBLE_DEVICES   (or list GPUs that exist: run `nvidia-smi -L` "
                 "and use their indices, e.g. export CUDA_VISIBLE_DEVICES=0)")
    if res.mode == "empty":
        if gpus:
            out.append(Finding("env.W001", WARNING,
                               f"{shown} is empty, so CUDA programs see none of the "
                               f"{_plural(count, 'GPU')} in this machine.", hint=list_hint))
        else:
            out.append(Finding("env.I002", INFO,
                               f"{shown} is empty: CUDA programs will see no GPU.",
                               hint=list_hint))
        return out

    hidden_after = [e for e in res.entries if e.state == cv.AFTER_INVALID]
    if res.duplicate is not None:
        dup_msg = (f"{shown} lists {res.duplicate!r} twice (or names the same GPU twice); "
                   "CUDA treats a repeated GPU as an invalid list")
        if gpus:
            out.append(Finding("env.E001", ERROR,
                               f"{dup_msg}, so CUDA programs see none of the "
                               f"{_plural(count, 'GPU')} in this machine.",
                               hint="Remove the repeated entry, e.g. export "
                                    "CUDA_VISIBLE_DEVICES=0,1",
                               details={"duplicate": res.duplicate}))
        else:
            out.append(Finding("env.W004", WARNING,
                               f"{dup_msg}: CUDA programs will see no GPU.",
                               hint="Remove the repeated entry, e.g. export "
                                    "CUDA_VISIBLE_DEVICES=0,1",
                               details={"duplicate": res.duplicate}))
    elif res.first_invalid is not None:
        bad = res.entries[res.first_invalid]
        deliberate = bad.kind == cv.INVALID  # "-1", "none", "NoDevFiles": hides on purpose
        if res.first_invalid == 0:
            if deliberate:
                msg = (f"{shown}: {bad.text!r} {bad.reason}, not a GPU, which hides every "
                       "GPU from CUDA programs")
                if gpus:
                    out.append(Finding("env.W002", WARNING,
                                       f"{msg}; this machine has {_plural(count, 'GPU')}.",
                                       hint=list_hint))
                else:
                    out.append(Finding("env.I002", INFO, msg + ".", hint=list_hint))
            elif gpus:
                out.append(Finding("env.E001", ERROR,
                                   f"{shown}: {bad.text!r} {bad.reason}, so CUDA programs see "
                                   f"no GPU at all although this machine has "
                                   f"{_plural(count, 'GPU')}.",
                                   hint="List GPUs that exist: run `nvidia-smi -L` and use "
                                        "their indices or UUIDs, e.g. export "
                                        "CUDA_VISIBLE_DEVICES=0",
                                   details={"entry": bad.text, "reason": bad.reason}))
            else:
                out.append(Finding("env.I002", INFO,
                                   f"{shown}: {bad.text!r} {bad.reason}, so CUDA programs "
                                   "will see no GPU.", hint=list_hint))
        else:
            lost = [bad] + hidden_after
            out.append(Finding(
                "env.W003", WARNING,
                f"{shown}: entry {bad.text!r} {bad.reason}; CUDA stops "
                f"there, so {_entries_text(lost)} "
                f"{'is' if len(lost) == 1 else 'are'} ignored.",
                hint="Remove the invalid entry; list only GPUs that `nvidia-smi -L` shows",
                details={"ignored": [e.text for e in lost]}))
    if res.mixed_kinds:
        out.append(Finding(
            "env.W005", WARNING,
            f"{shown} mixes GPU indices and UUIDs; PyTorch's own reading stops at the "
            "first entry of the other kind, so torch.cuda.device_count() may disagree "
            "with CUDA.",
            hint="Use only indices (0,1) or only UUIDs (GPU-...) from `nvidia-smi -L`"))
    odd = [e for e in res.entries
           if e.state in (cv.VISIBLE, cv.UNCHECKED)
           and (e.lenient or (e.had_spaces and e.kind in (cv.UUID, cv.MIG)))]
    if odd:
        parts = []
        for e in odd:
            if e.lenient:
                parts.append(f"{e.text!r} is read as {e.value}")
            else:
                parts.append(f"{e.text!r} has spaces around it")
        out.append(Finding("env.W006", WARNING,
                           f"{shown}: " + "; ".join(parts) + ".",
                           hint="Write plain comma-separated indices or UUIDs with no "
                                "spaces, e.g. export CUDA_VISIBLE_DEVICES=0,1"))
    return out


def _order_findings(variables: dict[str, str], gpus: Optional[list],
                    details: dict[str, Any]) -> list[Finding]:
    order = variables.get("CUDA_DEVICE_ORDER")
    value = (order or "").strip()
    details["cuda_device_order"] = order
    out: list[Finding] = []
    if value and value not in ("PCI_BUS_ID", "FASTEST_FIRST"):
        out.append(Finding("env.W007", WARNING,
                           f"CUDA_DEVICE_ORDER={order!r} is not a value CUDA knows "
                           "(FASTEST_FIRST or PCI_BUS_ID).",
                           hint="export CUDA_DEVICE_ORDER=PCI_BUS_ID"))
        return out
    if not gpus or len(gpus) < 2 or value == "PCI_BUS_ID":
        details["numbering"] = "pci" if value == "PCI_BUS_ID" else "cuda default"
        return out
    kinds = {(str(g.get("name")), str(g.get("compute_capability")))
             for g in gpus if isinstance(g, dict)}
    details["numbering"] = "fastest first: may differ from nvidia-smi"
    if len(kinds) > 1:
        out.append(Finding(
            "env.W007", WARNING,
            f"This machine has {len(gpus)} different GPUs and CUDA_DEVICE_ORDER is not "
            "PCI_BUS_ID: CUDA numbers them fastest first, so cuda:0 (and the indices in "
            "CUDA_VISIBLE_DEVICES) may not be nvidia-smi's GPU 0.",
            hint="export CUDA_DEVICE_ORDER=PCI_BUS_ID   (then CUDA's numbers match "
                 "nvidia-smi's)"))
    else:
        out.append(Finding(
            "env.I004", INFO,
            f"{len(gpus)} identical GPUs and CUDA_DEVICE_ORDER is not PCI_BUS_ID: CUDA's "
            "GPU numbers are not guaranteed to match nvidia-smi's.",
            hint="export CUDA_DEVICE_ORDER=PCI_BUS_ID"))
    return out


def _container_findings(facts: dict[str, Any], variables: dict[str, str],
                        seen: Optional[int]) -> list[Finding]:
    if "NVIDIA_VISIBLE_DEVICES" not in variables:
        return []
    value = variables["NVIDIA_VISIBLE_DEVICES"]
    platform = facts.get("platform")
    container = platform.get("container") if isinstance(platform, dict) else None
    word = value.strip().lower()
    if not container:
        if isinstance(platform, dict):
            return [Finding("env.I001", INFO,
                            f"NVIDIA_VISIBLE_DEVICES={value!r} is set, but this is not a "
                            "container: only the NVIDIA container runtime reads it (when a "
                            "container starts); CUDA programs here ignore it.",
                            hint="Use CUDA_VISIBLE_DEVICES to choose GPUs outside "
                                 "containers")]
        return []
    if word in ("none", "void", ""):
        what = ("no GPU but the driver's tools" if word == "none"
                else "neither GPUs nor the NVIDIA driver's libraries")
        if seen:  # GPUs are visible anyway (e.g. --device flags): nothing to say
            return []
        return [Finding("env.W009", WARNING,
                        f"This {container} container has NVIDIA_VISIBLE_DEVICES={value!r}: "
                        f"the NVIDIA runtime gave it {what}.",
                        hint="Start the container with GPUs: docker run --gpus all ... "
                             "(or -e NVIDIA_VISIBLE_DEVICES=all with --runtime=nvidia)")]
    if seen == 0:
        return [Finding("env.W010", WARNING,
                        f"This {container} container asks for GPUs "
                        f"(NVIDIA_VISIBLE_DEVICES={value!r}) but no NVIDIA GPU is visible "
                        "inside it: it was probably started without --gpus, or the NVIDIA "
                        "Container Toolkit is not installed on the host.",
                        hint="docker run --gpus all ...   (install the toolkit on the host: "
                             "https://docs.nvidia.com/datacenter/cloud-native/"
                             "container-toolkit/latest/install-guide.html)")]
    return []


def _debug_findings(variables: dict[str, str], windows: bool) -> list[Finding]:
    present = [name for name in DEBUG_VARIABLES if name in variables]
    if not present:
        return []
    shown = ", ".join(f"{n}={variables[n]!r}" for n in present)
    return [Finding("env.W008", WARNING,
                    f"CUDA debugging/profiling variables are set: {shown}. They load "
                    "debuggers or profilers into every CUDA program or change how it runs "
                    "(NVIDIA's DCGM deployment check flags them).",
                    hint=_unset_hint(present, windows),
                    details={"variables": present})]
