"""framework.arch: does each installed CUDA build carry code for each GPU's architecture?"""

from __future__ import annotations

from envdoctor.facts import dicts, strings
from envdoctor.hardware.gpus import no_nvidia
from envdoctor.registry import register
from envdoctor.result import ERROR, INFO, WARNING, Finding, outcome, passed, skipped

from . import _framework as fw

# JAX's CUDA wheels need compute capability 5.2 or newer (jax docs, installation.md).
JAX_MIN_CC = (5, 2)


def _torch_arch_list(facts: dict, info: dict) -> tuple[list, str]:
    """The arch list to judge by and where it came from: live first, table second."""
    lv = fw.live(facts, "torch")
    if lv.get("status") == "ok" and strings(lv.get("arch_list")):
        return strings(lv["arch_list"]), "torch.cuda.get_arch_list()"
    variant = fw.torch_variant(info.get("version"), info.get("build"))
    if variant and variant.get("arch"):
        note = "" if variant.get("verified") else ", unverified row"
        return list(variant["arch"]), (f"envdoctor/data/torch_builds.json ({variant.get('source')}"
                                       f"{note})")
    return [], ""


def _kernel_failures(facts: dict) -> dict:
    """Capability -> the error text of the live child's tiny kernel, when it failed."""
    out = {}
    for dev in dicts(fw.live(facts, "torch").get("devices")):
        if dev.get("kernel_test") not in (None, "ok"):
            cc = fw.parse_cc(dev.get("compute_capability"))
            if cc:
                out[cc] = str(dev["kernel_test"])
    return out


def _kernel_passes(facts: dict) -> list[str]:
    """Capabilities on which the live child's tiny kernel ran."""
    return [str(dev.get("compute_capability")) for dev in dicts(fw.live(facts, "torch")
            .get("devices")) if dev.get("kernel_test") == "ok" and dev.get("compute_capability")]


def _check_torch(facts: dict, info: dict, gpus: list, findings: list, details: dict) -> None:
    arch, source = _torch_arch_list(facts, info)
    failed = _kernel_failures(facts)
    entry: dict = {"arch_list": arch, "arch_source": source or None, "gpus": []}
    details["torch"] = entry
    ran = _kernel_passes(facts)
    if not arch and not failed:
        lv = fw.live(facts, "torch")
        if lv.get("status") == "ok":
            why = ("torch.cuda.get_arch_list() does not exist before torch 1.6"
                   if "get_arch_list" in str(lv.get("arch_list_error") or "") else
                   "torch.cuda.get_arch_list() returned nothing")
        else:
            why = "torch did not import"
        known = f"; its test kernel ran on {', '.join(ran)}" if ran else ""
        findings.append(Finding(
            "framework.I010", INFO,
            f"The GPU architectures compiled into torch {info.get('version')} are unknown "
            f"({why}, and its build is not in envdoctor's table){known}.",
            hint="python -c \"import torch; print(torch.ones(1, device='cuda') * 2)\" (a "
                 "kernel that runs proves the build has code for the GPU)",
            details={"kernel_ok": ran}))
        return
    bad: list = []
    for gpu in gpus:
        cc = fw.parse_cc(gpu.get("compute_capability"))
        if cc is None:
            continue
        cover = fw.covering_entry(arch, cc) if arch else None
        runtime_error = failed.get(cc)
        kernel_ok = runtime_error is None or fw.KERNEL_IMAGE not in runtime_error
        if arch:
            verdict = "ok" if cover and kernel_ok else "no_kernel"
        else:
            verdict = "unknown" if kernel_ok else "no_kernel"
        entry["gpus"].append({"gpu": fw.gpu_label(gpu), "capability": f"{cc[0]}.{cc[1]}",
                              "covered_by": cover, "verdict": verdict})
        if verdict == "no_kernel" and cc not in [b[0] for b in bad]:
            bad.append((cc, gpu, runtime_error))
        elif cover and cover.startswith("compute_") and not any(
                f.code == "framework.I011" for f in findings):
            findings.append(Finding(
                "framework.I011", INFO,
                f"torch has no cubin for {fw.gpu_label(gpu)}; it runs by JIT-compiling "
                f"{cover} PTX (slow first start, needs a driver as new as the build's CUDA).",
                details={"covered_by": cover}))
    if not bad:
        return
    ccs = [fw.parse_cc(g.get("compute_capability")) for g in gpus]
    rec = fw.recommend_torch(facts, [c for c in ccs if c], info.get("version"))
    for cc, gpu, runtime_error in bad:
        listed = " ".join(a for a in arch) or "(none)"
        message = (f"torch {info.get('version')} has no kernels for {fw.gpu_label(gpu)}: "
                   f"it supports {listed}. CUDA operations will fail with \"CUDA error: "
                   f"{fw.KERNEL_IMAGE}\".")
        if runtime_error:
            message += f" Observed: {runtime_error[:300]}"
        if rec:
            cmd = fw.torch_install_command(rec, facts)
            where = "" if rec["same_release"] else f"torch {rec['torch']} "
            hint = (f"Install {where}{rec['variant']}, which includes code for "
                    f"{fw.sm_name(cc)}: {cmd}")
        else:
            hint = (f"No PyTorch build in envdoctor's table covers {fw.sm_name(cc)} with "
                    f"this driver; see {fw.CPU_HINT_URL}")
        findings.append(Finding(
            "framework.E010", ERROR, message, hint=hint,
            details={"framework": "torch", "gpu": gpu.get("name"),
                     "capability": f"{cc[0]}.{cc[1]}", "arch_list": arch,
                     "arch_source": source, "recommended": rec,
                     "runtime_error": runtime_error}))


@register(
    "framework.arch",
    title="Framework has kernels for the GPU architecture",
    tags=("framework", "gpu", "cuda"),
    needs=("frameworks", "nvidia"),
    uses=("env", "packages", "platform", "pip", "python", "python_env", "amd", "apple"),
    codes={
        "framework.E010": "The installed PyTorch build has no kernels for this GPU's "
                          "architecture (\"no kernel image is available for execution on "
                          "the device\").",
        "framework.E011": "The GPU's compute capability is below what the installed JAX "
                          "CUDA build supports.",
        "framework.I010": "The architectures compiled into the torch build are unknown.",
        "framework.I011": "The GPU runs torch only through PTX JIT compilation.",
    },
)
def check_arch(facts: dict):
    """Will the installed CUDA builds run kernels on each GPU?

    Applies CUDA's binary-compatibility rule to torch's compiled architecture list
    (torch.cuda.get_arch_list() from the live probe; envdoctor's sourced table of
    official wheels when torch does not import): a cubin sm_XY runs on a GPU of the
    same major with minor >= Y (an sm_86 build runs on an sm_89 RTX 40xx); PTX
    compute_XY is JIT-compiled on capability >= X.Y. A failed tiny kernel in the live
    probe confirms it.

    Common causes: a new GPU on an old build (RTX 50xx, sm_120, with torch 2.6 cu126);
    an old GPU on a new build (GTX 10xx, sm_61, with torch 2.7 cu128, which dropped
    Pascal).

    Fix: install the variant named in the hint (its index URL), which covers the GPU.
    """
    installed = fw.installed(facts)
    if not installed:
        return skipped("no deep-learning framework installed")
    if not fw.gpu_present(facts):
        return skipped(no_nvidia(facts))
    gpus = fw.visible_gpus(facts) or fw.nvidia_gpus(facts)
    if not any(fw.parse_cc(g.get("compute_capability")) for g in gpus):
        return skipped("the GPUs' compute capabilities are unknown")
    findings: list = []
    details: dict = {}
    torch = installed.get("torch")
    if torch and not fw.is_cpu_only("torch", torch) and not torch.get("hip"):
        _check_torch(facts, torch, gpus, findings, details)
    jax = installed.get("jax")
    if jax and str(jax.get("build") or "").startswith("cuda"):
        for gpu in gpus:
            cc = fw.parse_cc(gpu.get("compute_capability"))
            if cc and cc < JAX_MIN_CC:
                findings.append(Finding(
                    "framework.E011", ERROR,
                    f"JAX's CUDA build needs compute capability 5.2 or newer; "
                    f"{fw.gpu_label(gpu)} is {cc[0]}.{cc[1]}.",
                    hint="Use JAX on the CPU (pip install -U jax) or a newer GPU "
                         "(https://docs.jax.dev/en/latest/installation.html).",
                    details={"framework": "jax", "capability": f"{cc[0]}.{cc[1]}"}))
                break
    if not details and not findings:
        return skipped("no installed CUDA build whose architectures envdoctor can check")
    if not any(f.level >= WARNING for f in findings):
        checked = details.get("torch", {}).get("gpus") or []
        text = ", ".join(f"{g['gpu']} via {g['covered_by']}" for g in checked)
        return passed(f"kernels present for every GPU: {text}" if text else
                      "no architecture problem found", details, findings)
    worst = max(findings, key=lambda f: f.level)
    return outcome(worst.message, findings, details)
