"""framework.gpu_visible: does each installed framework see the GPU, and if not, why?"""

from __future__ import annotations

from typing import Optional

from envdoctor.facts import as_dict, dicts, strings
from envdoctor.facts import text as as_text
from envdoctor.hardware.gpus import no_nvidia
from envdoctor.hints import pip_command
from envdoctor.registry import register
from envdoctor.result import ERROR, INFO, WARNING, Finding, outcome, passed, skipped

from . import _framework as fw

_LEVEL = {"error": ERROR, "warning": WARNING, "info": INFO}
_CPU_CODE = {"error": "framework.E020", "warning": "framework.W020", "info": "framework.I020"}
_CPU_HINT = "envdoctor explain framework.cuda_build (the hint there names the exact build)"


def _failure(name: str, lv: dict, facts: dict) -> Finding:
    """A child that crashed, hung or could not import the framework."""
    label = fw.NAMES.get(name, name)
    tail = strings(lv.get("stderr_tail"))[-5:]
    details = {"framework": name, "status": lv.get("status"), "signal": lv.get("signal"),
               "stage": lv.get("stage"), "stderr_tail": tail}
    if lv.get("status") == "crashed":
        sig = lv.get("signal")
        if sig == "SIGILL":
            hint = ("Your CPU lacks instructions (AVX/AVX2) this build needs: run "
                    "`envdoctor check --only cpu` (check cpu.avx) and install a build for "
                    "your CPU, or use a machine with AVX.")
        else:
            hint = "Last stderr lines: " + (" | ".join(tail) if tail else "(none)")
        return Finding("framework.E026", ERROR,
                       f"Importing {label} kills the process ({sig}): {lv.get('error')}",
                       hint=hint, details=details)
    if lv.get("status") == "timeout":
        return Finding("framework.E027", ERROR,
                       f"Importing {label} hung: {lv.get('error')}",
                       hint="Run `python -X importtime -c \"import "
                            f"{name}\"` to see where it stops; a hung GPU or a stale "
                            "network file system are common causes (raise the limit with "
                            "ENVDOCTOR_FRAMEWORK_TIMEOUT=SECONDS).",
                       details=details)
    error = str(lv.get("error") or "unknown error")
    details["traceback_tail"] = lv.get("traceback_tail") or []
    pip = pip_command(facts)
    # Reinstall the distribution that is installed (tensorflow-cpu, jax[cuda]...), not
    # the import name.
    dist = as_text(as_dict(as_dict(as_dict(facts.get("frameworks")).get("installed"))
                           .get(name)).get("distribution")) or name
    hint = f"{pip} install --force-reinstall " + dist if "ModuleNotFoundError" not in error \
        else f"{pip} install the missing module named in the error, then retry `import {name}`"
    if "cannot open shared object file" in error or "DLL load failed" in error:
        hint = ("A shared library the build needs is missing or not on the loader path: "
                "reinstall the framework with its CUDA wheels, and unset LD_LIBRARY_PATH if "
                "it points at another CUDA/cuDNN.")
    return Finding("framework.E028", ERROR, f"`import {name}` fails: {error[:500]}",
                   hint=hint, details=details)


def _hidden_on_purpose(res) -> bool:
    """CUDA_VISIBLE_DEVICES="" or starting with "-1"/"none": GPUs hidden deliberately
    (env.W001/env.W002, warnings), not a list naming GPUs that do not exist (env.E001)."""
    from envdoctor import cuda_visible as cv

    if res.mode == "empty":
        return True
    return res.duplicate is None and res.first_invalid == 0 and bool(res.entries) \
        and res.entries[0].kind == cv.INVALID


def _causes(name: str, info: dict, facts: dict, seen: Optional[bool] = False
            ) -> list[Finding]:
    """Why a framework that does not see the GPU does not, first link of the chain first.

    ``seen`` is what the live probe said: False when the framework was imported and saw no
    GPU ("does not see"); None when it was not imported (--no-frameworks) or its answer is
    unknown: the causes are then inferred from the build and the facts ("will not see")."""
    label = fw.NAMES.get(name, name)
    causes: list[Finding] = []
    lv = fw.live(facts, name)
    verb = "does not see the GPU" if seen is False else "will not see the GPU"
    details = {"framework": name, "version": info.get("version"), "build": info.get("build")}
    # 1. a CPU-only build (or TensorFlow on native Windows, which has none)
    if name == "tensorflow" and fw.tf_windows_unsupported(info, facts):
        causes.append(Finding(
            "framework.W021", WARNING,
            f"TensorFlow {info.get('version')} {verb}: native Windows has no "
            "TensorFlow GPU support after 2.10.",
            hint="Use WSL2: " + fw.tensorflow_builds()["wsl2_url"], details=details))
    elif fw.is_cpu_only(name, info):
        level = fw.CPU_BUILD_LEVEL.get(name, "warning")
        causes.append(Finding(
            _CPU_CODE[level], _LEVEL[level],
            f"{label} {verb}: {info.get('distribution') or name} "
            f"{info.get('version')} is a CPU-only build.", hint=_CPU_HINT, details=details))
    # 2. the driver is too old for the build's CUDA
    cuda = info.get("cuda") if name in ("torch", "tensorflow") else None
    verdict = fw.driver_verdict(cuda, facts) if cuda else None
    if verdict and verdict.get("verdict") == "insufficient":
        causes.append(Finding(
            "framework.E021", ERROR,
            f"{label} {verb}: it is built for CUDA {cuda} and NVIDIA driver "
            f"{fw.driver(facts)} is older than CUDA {str(cuda).split('.')[0]}.x's minimum "
            f"({verdict.get('family_minimum') or verdict.get('required')}).",
            hint=f"Upgrade the driver to {verdict.get('required')} or newer, or see "
                 "`envdoctor explain framework.cuda_build`.",
            details={**details, "verdict": verdict}))
    # 3. the GPU's architecture is not compiled into the build
    if name == "torch" and strings(lv.get("arch_list")):
        missing = [g for g in fw.visible_gpus(facts)
                   if fw.parse_cc(g.get("compute_capability"))
                   and not fw.covering_entry(strings(lv["arch_list"]),
                                             fw.parse_cc(g.get("compute_capability")))]
        if missing:
            causes.append(Finding(
                "framework.E022", ERROR,
                f"PyTorch has no kernels for {fw.gpu_label(missing[0])} (it supports "
                f"{' '.join(strings(lv['arch_list']))}): \"{fw.KERNEL_IMAGE}\".",
                hint="See `envdoctor explain framework.arch`; the framework.arch finding "
                     "names the build to install.", details=details))
    # 4. CUDA_VISIBLE_DEVICES hides every GPU. env.cuda_visible_devices grades the
    # variable; this finding follows its grading, so one setting is not a warning there
    # and an error here: hiding on purpose ("-1", "") is that check's warning (this is
    # info), a list naming no real GPU is its error (and this one).
    res = fw.visibility(facts)
    if res is not None and res.mode != "unset" and res.hides_everything \
            and _hidden_on_purpose(res):
        causes.append(Finding(
            "framework.I023", INFO,
            f"{label} {verb} because CUDA_VISIBLE_DEVICES={res.raw!r} hides every GPU on "
            "purpose; env.cuda_visible_devices reports (and grades) the setting.",
            hint="unset CUDA_VISIBLE_DEVICES (or set it to the GPU indices you want, e.g. "
                 "CUDA_VISIBLE_DEVICES=0)", details={**details, "raw": res.raw}))
    elif res is not None and res.mode != "unset" and res.hides_everything:
        causes.append(Finding(
            "framework.E023", ERROR,
            f"{label} {verb} because CUDA_VISIBLE_DEVICES="
            f"{res.raw!r} hides every GPU.",
            hint="unset CUDA_VISIBLE_DEVICES (or set it to the GPU indices you want, e.g. "
                 "CUDA_VISIBLE_DEVICES=0)", details={**details, "raw": res.raw}))
    # 5. the framework's own words: missing/mismatched CUDA or cuDNN libraries, driver...
    text = fw.live_error_text(name, facts)
    if text and lv.get("status") == "ok":
        causes.append(Finding(
            "framework.E024", ERROR, f"{label} does not see the GPU. Its error: {text}",
            hint="Missing or mismatched CUDA/cuDNN libraries are the usual cause: reinstall "
                 f"{name} with its CUDA wheels and unset LD_LIBRARY_PATH if it points at "
                 "another CUDA/cuDNN; the exact text above names the library or error.",
            details={**details, "loaded_libraries": lv.get("loaded_libraries") or []}))
    return causes


def _fewer_gpus(name: str, lv: dict, facts: dict) -> Optional[Finding]:
    """A framework that sees some GPUs but fewer than NVML reports: explained by
    CUDA_VISIBLE_DEVICES (info), or not (warning). MIG is left alone: CUDA enumerates MIG
    instances, not whole GPUs, so the counts do not compare."""
    count = lv.get("device_count")
    gpus = fw.nvidia_gpus(facts)
    if not isinstance(count, int) or isinstance(count, bool) or not gpus:
        return None
    if any(as_dict(g.get("mig_mode")).get("current") for g in gpus):
        return None
    label = fw.NAMES.get(name, name)
    res = fw.visibility(facts)
    details = {"framework": name, "framework_count": count, "nvml_count": len(gpus),
               "nvml_gpus": [fw.gpu_label(g) for g in gpus]}
    seen_names = [str(d.get("name")) for d in dicts(lv.get("devices")) if d.get("name")]
    if res is None or res.mode == "unset":
        if count >= len(gpus):
            return None
        missing = list(details["nvml_gpus"])
        for seen in seen_names:  # name the GPUs the framework did not list, when it can
            match = next((m for m in missing if m.split(" (sm_")[0] == seen), None)
            if match is not None:
                missing.remove(match)
        missing_text = (f"; not seen: {', '.join(missing)}"
                        if seen_names and len(missing) == len(gpus) - count else "")
        return Finding(
            "framework.W027", WARNING,
            f"{label} sees {count} of the {len(gpus)} GPUs NVML reports, and "
            f"CUDA_VISIBLE_DEVICES is not set{missing_text}.",
            hint="Compare `nvidia-smi -L` with what the framework lists; a GPU in a bad state "
                 "(see gpu.health, `sudo dmesg | grep -i xid`), a container or cgroup that "
                 "passes in only some /dev/nvidia* nodes, or CUDA_VISIBLE_DEVICES set inside "
                 "the program are the usual causes.",
            details={**details, "missing": missing})
    expected = len(res.visible) if res.visible is not None else res.visible_count
    details.update({"cuda_visible_devices": res.raw, "selected": expected})
    if isinstance(expected, int) and count < expected:
        return Finding(
            "framework.W027", WARNING,
            f"{label} sees {count} GPU(s), but CUDA_VISIBLE_DEVICES={res.raw!r} selects "
            f"{expected} of the {len(gpus)} GPUs NVML reports.",
            hint="See `envdoctor explain env.cuda_visible_devices`; compare `nvidia-smi -L` "
                 "with what the framework lists, and check gpu.health for a GPU in a bad "
                 "state.", details=details)
    if count < len(gpus):
        return Finding(
            "framework.I022", INFO,
            f"{label} sees {count} of the {len(gpus)} GPUs NVML reports because "
            f"CUDA_VISIBLE_DEVICES={res.raw!r} selects "
            + (f"{expected} of them" if isinstance(expected, int) else "only some")
            + " (see env.cuda_visible_devices).",
            hint="unset CUDA_VISIBLE_DEVICES to use every GPU", details=details)
    return None


def _macos(facts: dict, installed: dict) -> list[Finding]:
    plat = facts.get("platform") or {}
    findings = []
    if as_dict(plat.get("macos")).get("rosetta"):
        findings.append(Finding(
            "framework.E025", ERROR,
            "Python is an x86_64 build running under Rosetta 2 on Apple Silicon: frameworks "
            "cannot use the Apple GPU (no MPS) and wheels that need AVX crash.",
            hint="Install a native arm64 Python (python.org universal2 installer, or "
                 "Miniforge arm64) and recreate the environment; check with "
                 "`python -c \"import platform; print(platform.machine())\"` (want arm64).",
            details={"machine": plat.get("machine")}))
        return findings
    torch = fw.live(facts, "torch")
    if "torch" in installed and torch.get("status") == "ok" and plat.get("machine") == "arm64" \
            and not torch.get("mps_available"):
        findings.append(Finding(
            "framework.W026", WARNING,
            "PyTorch cannot use the Apple GPU: torch.backends.mps.is_available() is False"
            + ("" if torch.get("mps_built") else " (this build has no MPS support)") + ".",
            hint="MPS needs macOS 12.3+ and an arm64 Python with an arm64 torch wheel: "
                 f"{pip_command(facts)} install -U torch",
            details={"mps_built": torch.get("mps_built")}))
    return findings


@register(
    "framework.gpu_visible",
    title="Frameworks see the GPU",
    tags=("framework", "gpu"),
    needs=("frameworks", "nvidia", "platform", "env"),
    uses=("packages", "pip", "python", "python_env", "amd", "apple"),
    codes={
        "framework.E020": "PyTorch, TensorFlow or CuPy cannot use the GPU: a CPU-only "
                          "build is installed.",
        "framework.W020": "JAX cannot use the GPU: a CPU-only install.",
        "framework.I020": "ONNX Runtime runs on the CPU: the CPU package is installed.",
        "framework.W021": "TensorFlow on native Windows (newer than 2.10) cannot use the GPU.",
        "framework.E021": "The framework cannot use the GPU: the driver is too old for "
                          "its CUDA.",
        "framework.E022": "PyTorch cannot use the GPU: its architecture is not compiled in.",
        "framework.E023": "The framework cannot use the GPU: CUDA_VISIBLE_DEVICES hides "
                          "every GPU by naming GPUs that do not exist (env.E001).",
        "framework.I023": "The framework does not see the GPU because CUDA_VISIBLE_DEVICES "
                          "hides every GPU on purpose (\"-1\", \"\"); env.cuda_visible_devices "
                          "grades it (env.W001/env.W002).",
        "framework.E024": "The framework does not see the GPU; its own error (often missing "
                          "or mismatched CUDA/cuDNN libraries) is quoted.",
        "framework.E025": "x86_64 Python under Rosetta on Apple Silicon: no MPS, AVX wheels "
                          "crash.",
        "framework.W026": "PyTorch on Apple Silicon cannot use MPS.",
        "framework.E026": "Importing the framework kills the process with a signal (SIGILL: "
                          "CPU lacks AVX; SIGSEGV/SIGABRT: crash).",
        "framework.E027": "Importing the framework hung and was killed at the timeout.",
        "framework.E028": "Importing the framework fails with an exception.",
        "framework.E029": "The framework does not see the GPU and gave no reason.",
        "framework.I021": "Live framework probes were skipped (--no-frameworks).",
        "framework.W027": "A framework sees fewer GPUs than NVML reports, and "
                          "CUDA_VISIBLE_DEVICES does not explain it.",
        "framework.I022": "A framework sees fewer GPUs than NVML reports because "
                          "CUDA_VISIBLE_DEVICES selects them.",
    },
)
def check_gpu_visible(facts: dict):
    """Does each installed framework (PyTorch, TensorFlow, JAX, CuPy, ONNX Runtime) see
    the GPU that NVML sees, and if not, why?

    Each framework is imported in its own child process (never in envdoctor's), all at
    once, each with a timeout; the child reports what the framework sees. When NVML
    sees a GPU and a framework does not, the root cause is named in this order: a
    CPU-only build; a driver too old for the build's CUDA; the GPU's architecture not
    compiled in; CUDA_VISIBLE_DEVICES hiding the GPUs; missing or mismatched CUDA/cuDNN
    libraries (the framework's own error is quoted). A child that dies by a signal is
    reported (SIGILL: the CPU lacks AVX; see cpu.avx), as is one that hangs.

    On Apple Silicon it reports whether PyTorch can use MPS, and flags an x86_64
    Python running under Rosetta. With no GPU it skips, unless a framework cannot even
    be imported.

    Fix: follow the hint of the first cause (the framework.cuda_build and framework.arch
    findings name the exact build to install); for a crash on import, see cpu.avx;
    unset CUDA_VISIBLE_DEVICES when it hides the GPUs.
    """
    installed = fw.installed(facts)
    if not installed:
        return skipped("no deep-learning framework installed")
    findings: list[Finding] = []
    details: dict = {"frameworks": {}}
    for name in sorted(installed):
        lv = fw.live(facts, name)
        if lv.get("status") in ("crashed", "timeout", "error"):
            findings.append(_failure(name, lv, facts))
            details["frameworks"][name] = {"status": lv.get("status")}
    system = (facts.get("platform") or {}).get("system")
    if system == "Darwin":
        findings.extend(_macos(facts, installed))
        torch = fw.live(facts, "torch")
        if torch.get("mps_available"):
            details["frameworks"]["torch"] = {"sees": "mps"}
    if not fw.gpu_present(facts):
        if findings:
            worst = max(findings, key=lambda f: f.level)
            return outcome(worst.message, findings, details)
        if details["frameworks"].get("torch", {}).get("sees") == "mps":
            return passed("PyTorch can use the Apple GPU (MPS)", details)
        return skipped(no_nvidia(facts))
    skipped_live = as_dict(facts.get("frameworks")).get("live_skipped")
    seeing = []
    for name, info in sorted(installed.items()):
        if details["frameworks"].get(name, {}).get("status"):
            continue  # crashed / hung / failed to import: already reported
        sees = fw.sees_gpu(name, facts)
        lv = fw.live(facts, name)
        entry = {"sees_gpu": sees, "device_count": lv.get("device_count")}
        details["frameworks"][name] = entry
        if sees:
            seeing.append(name)
            fewer = _fewer_gpus(name, lv, facts)
            if fewer is not None:
                entry["fewer_gpus"] = fewer.code
                findings.append(fewer)
            continue
        causes = _causes(name, info, facts, sees)
        if sees is None:  # not checked live: only the static causes can be reported
            causes = [c for c in causes if c.code not in ("framework.E024",)]
        if causes:
            first, rest = causes[0], causes[1:]
            if rest:
                first.details["other_causes"] = [c.message for c in rest]
            entry["cause"] = first.code
            findings.append(first)
        elif sees is False:
            tail = strings(lv.get("stderr_tail"))[-5:]
            findings.append(Finding(
                "framework.E029", ERROR,
                f"{fw.NAMES.get(name, name)} does not see the GPU and gave no reason.",
                hint=f"python -c \"import {name}\" with CUDA_LAUNCH_BLOCKING=1 and read its "
                     "warnings; last stderr lines: " + (" | ".join(tail) or "(none)"),
                details={"framework": name, "stderr_tail": tail}))
    if skipped_live and not any(f.level >= WARNING for f in findings):
        findings.append(Finding(
            "framework.I021", INFO,
            "Frameworks were not imported (--no-frameworks): only their builds were checked.",
            hint="envdoctor check (without --no-frameworks)"))
    details["seeing_gpu"] = seeing
    if not any(f.level >= WARNING for f in findings):
        text = ", ".join(f"{fw.NAMES.get(n, n)} ({details['frameworks'][n].get('device_count')}"
                         " GPU)" for n in seeing)
        if seeing:
            summary = f"the GPU is visible to {text}"
        elif skipped_live:
            summary = "frameworks not imported (--no-frameworks); their builds look right"
        else:
            summary = "no framework problem found"
        return passed(summary, details, findings)
    worst = max(findings, key=lambda f: f.level)
    return outcome(worst.message, findings, details)
