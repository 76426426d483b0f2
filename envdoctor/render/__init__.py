"""Renderers turn a (redacted) report document into text, JSON or Markdown.

They read the report dict only, never live facts, so what a user sees and what they
paste are the same redacted data.
"""

from __future__ import annotations

from typing import Any, Callable

Renderer = Callable[..., str]


def get(name: str) -> Renderer:
    if name == "json":
        from envdoctor.render.json import render
    elif name == "markdown":
        from envdoctor.render.markdown import render
    elif name == "text":
        from envdoctor.render.text import render
    elif name == "prometheus":
        from envdoctor.render.prometheus import render
    else:
        raise KeyError(name)
    return render


def environment_rows(report: dict[str, Any]) -> list[tuple[str, str]]:
    """A short environment summary shared by the text header and the Markdown table."""
    from envdoctor.facts import as_dict, dicts, strings  # reports may be hand-edited

    facts = as_dict(report.get("facts"))
    rows: list[tuple[str, str]] = []
    plat = as_dict(facts.get("platform"))
    if plat:
        dist = as_dict(plat.get("distribution")).get("name")
        win = as_dict(plat.get("windows"))
        mac = as_dict(plat.get("macos"))
        os_name = dist or (f"Windows {win.get('release', '')} {win.get('edition') or ''}".strip()
                           if win else None) or (f"macOS {mac.get('version')}" if mac else None)
        os_name = os_name or plat.get("system") or "?"
        extra = []
        if as_dict(plat.get("wsl")):
            extra.append(f"WSL{plat['wsl'].get('version')}")
        if plat.get("container"):
            extra.append(f"container: {plat['container']}")
        libc = as_dict(plat.get("libc"))
        if libc.get("name"):
            extra.append(f"{libc['name']} {libc.get('version') or ''}".strip())
        inside = [str(plat["machine"])] if plat.get("machine") else []
        inside += extra
        rows.append(("OS", f"{os_name}" + (f" ({', '.join(inside)})" if inside else "")))
    py = as_dict(facts.get("python"))
    if py:
        parts = [py.get("version"), f"{py['bits']}-bit" if py.get("bits") else None,
                 f"({py['environment']})" if py.get("environment") else None,
                 py.get("executable")]
        rows.append(("Python", " ".join(str(p) for p in parts if p is not None)))
    chosen = as_dict(as_dict(report.get("source")).get("python"))
    if chosen.get("how"):
        rows.append(("Examined", str(chosen["how"]) + (
            "" if chosen.get("in_process") else ", from outside (nothing written there)")))
    cpu = as_dict(facts.get("cpu"))
    if cpu:
        flags = set(strings(cpu.get("flags")))
        simd = [f for f in ("sse4_2", "avx", "avx2", "avx512f") if f in flags]
        rows.append(("CPU", f"{cpu.get('model') or '?'}"
                     + (f" [{cpu['x86_level']}]" if cpu.get("x86_level") else "")
                     + (f" ({', '.join(simd)})" if simd else "")))
    nvidia = as_dict(facts.get("nvidia"))
    gpus = dicts(nvidia.get("gpus"))
    every = gpu_rows(report)
    if every:
        rows.append(("GPU", gpu_text(every)))
    mig = mig_text(gpus)
    if mig:
        rows.append(("MIG", mig))
    if nvidia.get("driver_version"):
        cuda = nvidia.get("cuda_driver_version")
        rows.append(("NVIDIA driver", f"{nvidia['driver_version']}"
                     + (f" (CUDA {cuda})" if cuda else "")))
    amd = as_dict(facts.get("amd"))
    if amd.get("driver_version") or amd.get("rocm_version"):
        rows.append(("AMD driver", f"amdgpu {amd.get('driver_version') or '?'}; ROCm "
                     f"{amd.get('rocm_version') or 'not installed under /opt/rocm'}"))
    apple = as_dict(facts.get("apple"))
    if apple.get("present"):
        memory = apple.get("unified_memory_mib")
        rows.append(("Apple", f"{apple.get('chip') or 'Apple GPU'}"
                     + (f", {memory / 1024:.0f} GiB unified memory"
                        if isinstance(memory, (int, float)) else "")))
    cuda = as_dict(facts.get("cuda"))
    runtimes = [f"{r.get('version') or '?'} {r.get('kind')} ({r.get('where')})"
                for r in dicts(cuda.get("runtimes"))]
    if runtimes:
        rows.append(("CUDA runtimes", "; ".join(runtimes)))
    cudnn = [f"{c.get('version') or '?'} {c.get('kind')} ({c.get('where')})"
             for c in dicts(cuda.get("cudnn"))]
    if cudnn:
        rows.append(("cuDNN", "; ".join(cudnn)))
    frameworks = as_dict(facts.get("frameworks"))
    for name, info in sorted(as_dict(frameworks.get("installed")).items()):
        if isinstance(info, dict) and info.get("version"):
            build = info.get("build")
            label = "CPU-only build" if build == "cpu" else (f"{build} build" if build else "")
            rows.append((name, f"{info['version']} ({label})" if label else str(info["version"])))
    return rows


def gpu_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's ``summary.gpus`` (every vendor); computed from the facts for a
    report made before that list existed."""
    from envdoctor.facts import as_dict, dicts

    rows = as_dict(report.get("summary")).get("gpus")
    if isinstance(rows, list):
        return dicts(rows)
    from envdoctor.hardware.gpus import inventory

    return inventory(as_dict(report.get("facts")))


def gpu_text(rows: list[dict[str, Any]]) -> str:
    """ "2 x NVIDIA A100-SXM4-80GB, AMD Radeon RX 7900 XT (gfx1100)": NVIDIA names as the
    driver gives them; AMD and Apple ones with their vendor and architecture."""
    labels: dict[str, int] = {}
    for row in rows:
        name = str(row.get("name") or "?")
        vendor = str(row.get("vendor") or "")
        if vendor in ("amd", "apple"):
            prefix = {"amd": "AMD", "apple": "Apple"}[vendor]
            name = name if name.lower().startswith(prefix.lower()) else f"{prefix} {name}"
            if row.get("arch"):
                name += f" ({row['arch']})"
        labels[name] = labels.get(name, 0) + 1
    return ", ".join(f"{n} x {label}" if n > 1 else label for label, n in labels.items())


def _mig_flag(value: Any) -> Any:
    """MIG mode as the probes write it (True/False) or as nvidia-smi prints it."""
    if isinstance(value, str):
        return {"enabled": True, "disabled": False}.get(value.strip().lower())
    return value if isinstance(value, bool) else None


def mig_text(gpus: list[dict[str, Any]]) -> str:
    """Which GPUs run in MIG mode and how many instances each holds ("" when none):
    a MIG GPU shows CUDA programs its instances, not the whole GPU."""
    from envdoctor.facts import as_dict, dicts

    parts = []
    for gpu in gpus:
        mode = as_dict(gpu.get("mig_mode"))
        current, pending = _mig_flag(mode.get("current")), _mig_flag(mode.get("pending"))
        label = f"GPU {gpu.get('index')}"
        if current:
            count = len(dicts(gpu.get("mig_devices")))
            parts.append(f"{label} enabled ({count} instance{'' if count == 1 else 's'})")
        if pending is not None and current is not None and pending != current:
            parts.append(f"{label} {'enabled' if pending else 'disabled'} after the next GPU "
                         "reset (pending)")
    return "; ".join(parts)


def finding_text(check: dict[str, Any], finding: dict[str, Any]) -> str:
    """A finding's message without the part the check's summary line already said."""
    message, summary = finding.get("message") or "", check.get("summary") or ""
    if summary and message.startswith(summary):
        return message[len(summary):].lstrip(" ;:,.-")
    return message
