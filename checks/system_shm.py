"""system.shm: is /dev/shm big enough for PyTorch DataLoader workers (Docker's default
is 64 MB)?"""

from __future__ import annotations

from envdoctor.facts import as_dict, number, text
from envdoctor.registry import register
from envdoctor.result import ERROR, INFO, WARNING, Finding, outcome, passed, skipped

CODES = {
    "system.E101": "/dev/shm is Docker's 64 MB default (or smaller) and PyTorch is installed: "
                   "DataLoader workers die with 'Bus error ... out of shared memory'.",
    "system.W101": "/dev/shm is smaller than the 1 GB NVIDIA recommends for PyTorch "
                   "containers.",
    "system.W102": "/dev/shm is nearly full.",
    "system.I101": "/dev/shm is small, which matters only to programs that share memory "
                   "between processes (PyTorch is not installed).",
}

FIX = ("docker run --ipc=host ... (or --shm-size=8g); Kubernetes: mount an emptyDir with "
       "medium: Memory at /dev/shm; docker compose: shm_size: '8gb'")


def _torch_installed(facts) -> bool:
    dists = as_dict(as_dict(facts.get("packages")).get("distributions"))
    return any(name in dists for name in ("torch", "pytorch-lightning", "lightning"))


@register("system.shm", title="Shared memory (/dev/shm) for DataLoader workers",
          tags=("system", "memory", "container", "performance"), needs=("shm", "packages"),
          codes=CODES)
def check_shm(facts):
    """PyTorch DataLoader workers pass every batch to the main process through shared
    memory in /dev/shm. Docker gives a container 64 MB of it unless told otherwise
    (Podman 64000 KB), which a few batches of images fill: the worker then dies with
    "DataLoader worker (pid N) is killed by signal: Bus error ... out of shared memory".

    Fix: `docker run --ipc=host` or `--shm-size=8g`; in Kubernetes an `emptyDir` volume
    with `medium: Memory` mounted at /dev/shm; in docker compose `shm_size`. Thresholds
    (Docker's default, NVIDIA's 1 GB recommendation) are in
    envdoctor/data/system_thresholds.json."""
    from envdoctor.system.units import size, thresholds

    shm = as_dict(facts.get("shm"))
    if text(shm.get("path")) is None:
        return skipped("no /dev/shm on this operating system")
    total = number(shm.get("size_bytes"))
    if not shm.get("present") or total is None:
        return skipped("/dev/shm is not mounted here")
    t = thresholds()["shm"]
    used, free = number(shm.get("used_bytes")), number(shm.get("free_bytes"))
    torch = _torch_installed(facts)
    findings: list[Finding] = []
    details = {"size_bytes": total, "used_bytes": used, "torch_installed": torch}
    if total <= t["docker_default_bytes"]:
        if torch:
            findings.append(Finding(
                "system.E101", ERROR,
                f"/dev/shm is {size(total)} (Docker's default is 64 MiB): PyTorch DataLoader "
                "workers will die with 'Bus error ... out of shared memory'",
                hint=FIX, details=details))
        else:
            findings.append(Finding("system.I101", INFO,
                                    f"/dev/shm is {size(total)}; raise it before using "
                                    "multi-process data loading", hint=FIX))
    elif total < t["recommended_bytes"] and torch:
        findings.append(Finding(
            "system.W101", WARNING,
            f"/dev/shm is {size(total)}, less than the 1 GiB NVIDIA recommends for PyTorch",
            hint=FIX, details=details))
    if used is not None and used >= total * t["nearly_full_ratio"]:
        findings.append(Finding(
            "system.W102", WARNING, f"/dev/shm is {size(used)} full of {size(total)}",
            hint="leftover files of crashed jobs stay there: `ls -la /dev/shm`, remove "
                 "what no running process uses; or make it bigger: " + FIX))
    summary = f"/dev/shm {size(total)}" + (f", {size(free)} free" if free is not None else "")
    if any(f.level >= WARNING for f in findings):
        return outcome(summary, findings, details)
    return passed(summary, details, findings)
