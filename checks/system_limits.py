"""system.limits: the open-files limit (DataLoader workers, "Too many open files") and
the locked-memory limit that RDMA (InfiniBand/RoCE) needs for NCCL."""

from __future__ import annotations

from envdoctor.facts import as_dict, number, strings
from envdoctor.registry import register
from envdoctor.result import INFO, WARNING, Finding, outcome, passed, skipped

CODES = {
    "system.W201": "The open-files limit is 1024 or lower and PyTorch is installed: "
                   "DataLoader workers sharing tensors hit 'Too many open files'.",
    "system.W202": "RDMA devices are present but locked memory is limited: NCCL over "
                   "InfiniBand/RoCE fails to register memory or falls back to slower paths.",
    "system.I201": "The open-files and locked-memory limits.",
}


def _show(limit: dict) -> str:
    soft, hard = limit.get("soft"), limit.get("hard")
    return f"{'unlimited' if soft is None else soft} (hard {'unlimited' if hard is None else hard})"


@register("system.limits", title="Process limits (open files, locked memory)",
          tags=("system", "performance"), needs=("limits", "packages"), codes=CODES)
def check_limits(facts):
    """Reads /proc/self/limits (getrlimit elsewhere). PyTorch's default sharing strategy
    keeps a file descriptor per tensor passed between DataLoader workers, so a soft
    open-files limit of 1024 (the usual default, kept for select()) gives "RuntimeError:
    Too many open files". RDMA (InfiniBand, RoCE: /sys/class/infiniband) pins memory, so
    NCCL needs `ulimit -l unlimited` (`docker run --ulimit memlock=-1`). Sources in
    envdoctor/data/system_thresholds.json."""
    from envdoctor.system.units import thresholds

    limits = as_dict(facts.get("limits"))
    nofile, memlock = as_dict(limits.get("nofile")), as_dict(limits.get("memlock"))
    if not nofile and not memlock:
        return skipped("process limits are unknown on this platform")
    dists = as_dict(as_dict(facts.get("packages")).get("distributions"))
    torch = "torch" in dists
    findings: list[Finding] = [Finding(
        "system.I201", INFO,
        f"open files {_show(nofile) if nofile else 'unknown'}; locked memory "
        f"{_show(memlock) if memlock else 'unknown'}")]
    soft, hard = number(nofile.get("soft")), number(nofile.get("hard"))
    if torch and soft is not None and soft <= thresholds()["nofile"]["low_soft_limit"]:
        raise_to = "unlimited" if nofile.get("hard") is None and "hard" in nofile else hard
        findings.append(Finding(
            "system.W201", WARNING,
            f"the open-files limit is {soft}: PyTorch DataLoader workers can fail with "
            "'Too many open files'",
            hint=(f"`ulimit -n {raise_to}` before starting (the hard limit allows it)"
                  if hard is None or (hard and hard > soft) else
                  "raise the hard limit (limits.conf, systemd LimitNOFILE, docker run "
                  "--ulimit nofile=65536:65536)")
            + "; or torch.multiprocessing.set_sharing_strategy('file_system')"))
    rdma = strings(limits.get("rdma_devices"))
    if rdma and memlock and memlock.get("soft") is not None:
        findings.append(Finding(
            "system.W202", WARNING,
            f"RDMA devices ({', '.join(rdma[:4])}) are present but locked memory is limited "
            f"to {memlock.get('soft')} bytes",
            hint="`ulimit -l unlimited` (limits.conf memlock unlimited; docker run --ulimit "
                 "memlock=-1; Slurm: PropagateResourceLimitsExcept=MEMLOCK)"))
    if any(f.level >= WARNING for f in findings):
        return outcome("a process limit is too low for this workload", findings)
    return passed(findings[0].message, findings=findings)
