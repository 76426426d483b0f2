"""system.memory: how much RAM a job can really use (the machine's, or the container's /
Slurm job's cgroup limit when that is lower), swap, and whether that is small next to
the GPUs' memory."""

from __future__ import annotations

from typing import Any

from envdoctor.facts import as_dict, number
from envdoctor.registry import register
from envdoctor.result import INFO, WARNING, Finding, outcome, passed, skipped

CODES = {
    "system.I001": "RAM, available memory and swap.",
    "system.I002": "A cgroup memory limit (container, Kubernetes pod, Slurm job) lower than "
                   "the machine's RAM: the number a job can really use.",
    "system.W001": "The memory a job can use is smaller than the GPUs' memory: loading a "
                   "checkpoint that fills the GPUs goes through host RAM and gets OOM-killed.",
    "system.W002": "The cgroup's memory use is near its limit: the kernel's OOM killer ends "
                   "the job when it is reached.",
    "system.W003": "A GPU has almost no free memory before your job starts: other processes "
                   "hold it.",
}


def _gpu_memory(facts: dict[str, Any]) -> list[tuple[str, float, float | None]]:
    from envdoctor.hardware.gpus import gpus

    found = []
    nvidia = {int(g.get("index")): g for g in
              (as_dict(x) for x in as_dict(facts.get("nvidia")).get("gpus") or [])
              if number(g.get("index")) is not None}
    for gpu in gpus(facts):
        if gpu.memory_total_mib:
            free = number(as_dict(nvidia.get(gpu.index)).get("memory_free_mib")) \
                if gpu.vendor == "nvidia" else None
            found.append((gpu.label, float(gpu.memory_total_mib) * 2 ** 20,
                          float(free) * 2 ** 20 if free is not None else None))
    return found


@register("system.memory", title="Memory a job can use (RAM, swap, cgroup limit)",
          tags=("system", "memory", "performance"), needs=("memory",),
          uses=("nvidia", "amd", "apple"),
          codes=CODES)
def check_memory(facts):
    """RAM total and available (/proc/meminfo), swap, and the cgroup v1/v2 memory limit
    of the container, Kubernetes pod or Slurm job (memory.limit_in_bytes / memory.max),
    which is what the OOM killer enforces even when `free` shows the whole machine.

    Warns when what a job can use is smaller than the GPUs' total memory (a checkpoint
    that fills the GPUs is loaded through host RAM first: `torch.load` maps to the CPU
    unless told otherwise), when the cgroup is near its limit, and when a GPU is almost
    full before the job starts (the Colab case: 566 MB free of 11,439 MB). Thresholds:
    envdoctor/data/system_thresholds.json."""
    from envdoctor.system.units import size, thresholds

    mem = as_dict(facts.get("memory"))
    total, available = number(mem.get("total_bytes")), number(mem.get("available_bytes"))
    cgroup = as_dict(mem.get("cgroup"))
    limit, usage = number(cgroup.get("limit_bytes")), number(cgroup.get("usage_bytes"))
    if total is None and limit is None:
        return skipped("this platform's memory facts are unknown")
    t = thresholds()["memory"]
    findings: list[Finding] = []
    swap = number(mem.get("swap_total_bytes"))
    findings.append(Finding(
        "system.I001", INFO,
        f"RAM {size(total)}, available {size(available)}, swap {size(swap)}",
        details={"total_bytes": total, "available_bytes": available, "swap_bytes": swap}))
    usable = available
    if limit is not None and (total is None or limit < total):
        where = "this Slurm job" if mem.get("slurm_job") else "this container or cgroup"
        findings.append(Finding(
            "system.I002", INFO,
            f"{where} may use {size(limit)} (cgroup v{cgroup.get('version')} limit) of the "
            f"machine's {size(total)}; {size(usage)} in use",
            hint="jobs over the limit are OOM-killed without a Python error: `docker run "
                 "--memory`, the pod's resources.limits.memory or `sbatch --mem` sets it",
            details={"limit_bytes": limit, "usage_bytes": usage}))
        left = limit - usage if usage is not None else limit
        usable = min(v for v in (available, left) if v is not None)
        if usage is not None and usage >= limit * t["cgroup_nearly_full_ratio"]:
            findings.append(Finding(
                "system.W002", WARNING,
                f"the cgroup uses {size(usage)} of its {size(limit)} limit",
                hint="free memory (fewer DataLoader workers, smaller prefetch) or raise the "
                     "limit before the OOM killer ends the job"))
    gpu_mem = _gpu_memory(facts)
    gpu_total = sum(m for _, m, _ in gpu_mem)
    if gpu_total and usable is not None and usable < gpu_total:
        findings.append(Finding(
            "system.W001", WARNING,
            f"a job can use {size(usable)} of memory, less than the {size(gpu_total)} of its "
            f"{len(gpu_mem)} GPU(s)",
            hint="load checkpoints shard by shard straight to the GPU (torch.load(..., "
                 "map_location='cuda', mmap=True); transformers low_cpu_mem_usage=True), "
                 "or raise the memory limit",
            details={"usable_bytes": usable, "gpu_total_bytes": gpu_total}))
    for label, gpu_bytes, free in gpu_mem:
        if free is not None and free < gpu_bytes * t["gpu_free_low_ratio"]:
            findings.append(Finding(
                "system.W003", WARNING,
                f"{label} has {size(free)} free of {size(gpu_bytes)}",
                hint="see who holds it: `nvidia-smi --query-compute-apps=pid,name,"
                     "used_memory --format=csv`; restart the notebook kernel that holds it"))
    details = {"usable_bytes": usable, "limit_bytes": number(mem.get("limit_bytes")),
               "gpu_total_bytes": gpu_total or None}
    if any(f.level >= WARNING for f in findings):
        return outcome("memory is tight for this job", findings, details)
    return passed(f"{size(usable)} usable of {size(total)} RAM", details, findings)
