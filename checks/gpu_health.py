"""gpu.health: memory errors, throttling, PCIe width, persistence, memory held by others."""

from __future__ import annotations

from typing import Any

from envdoctor.facts import as_dict, dicts, number, strings
from envdoctor.registry import register
from envdoctor.result import ERROR, INFO, WARNING, Finding, Outcome, outcome, passed, skipped

CODES = {
    "gpu.E101": "Uncorrected ECC memory errors on a GPU.",
    "gpu.E102": "Pages are waiting to be retired: the GPU needs a reset or reboot.",
    "gpu.E103": "Row remapping failed: the GPU's memory has a fault it cannot repair.",
    "gpu.E104": "Too many retired pages (over 60): the GPU should be replaced.",
    "gpu.E105": "The GPU's InfoROM is corrupted.",
    "gpu.W101": "The GPU is being slowed down by hardware, thermal or power-brake throttling.",
    "gpu.W102": "The GPU's PCIe link runs narrower than its maximum width.",
    "gpu.W103": "Other processes hold a large part of a GPU's memory.",
    "gpu.I101": "Persistence mode is off on a Linux machine.",
}

# Share of a GPU's memory held by others above which a job is likely to run out.
MEMORY_SHARE = 0.5
RETIRED_PAGES_LIMIT = 60
THROTTLES = {"hw_slowdown": "hardware slowdown (HW_SLOWDOWN: power or temperature signal "
                            "from the board)",
             "hw_thermal_slowdown": "hardware thermal slowdown (the GPU is too hot)",
             "hw_power_brake_slowdown": "power-brake slowdown (external power brake, "
                                        "e.g. the power supply asked for it)",
             "sw_thermal_slowdown": "software thermal slowdown (driver cooling the GPU)"}


def _name(gpu: dict) -> str:
    return f"GPU {gpu.get('index')} ({gpu.get('name') or '?'})"


@register("gpu.health", title="GPU health", tags=("gpu", "nvidia", "health"),
          needs=("nvidia", "platform"), codes=CODES)
def check_health(facts: dict[str, Any]) -> Outcome:
    """GPU health in the spirit of DCGM's level-1 diagnostic (dcgmi diag -r 1).

    Fails on uncorrected ECC errors, pages pending retirement (reset the GPU or reboot
    so they are retired), a row-remapping failure or more than 60 retired pages (the
    board should be replaced: contact your vendor), and a corrupted InfoROM. Warns
    about hardware slowdown, thermal or power-brake throttling (check cooling, fans,
    power cables), a PCIe link narrower than its maximum (reseat the card, use an x16
    slot; a lower PCIe *generation* at idle is power saving, not a fault), and other
    processes holding half or more of a GPU's memory (the "only 5% of GPU memory
    free" case on shared machines: the processes are named). Notes persistence mode
    off on Linux (`sudo nvidia-smi -pm 1` or the nvidia-persistenced service keeps
    the driver loaded between jobs).
    """
    nvidia = facts.get("nvidia") or {}
    plat = facts.get("platform") or {}
    gpus = [g for g in dicts(nvidia.get("gpus")) if g.get("name")]
    if not gpus:
        return skipped("no NVIDIA GPU to check")
    findings: list[Finding] = []
    no_persistence = []
    for gpu in gpus:
        who = _name(gpu)
        ecc = as_dict(gpu.get("ecc"))
        vol = number(ecc.get("uncorrected_volatile"))
        agg = number(ecc.get("uncorrected_aggregate"))
        if (vol or 0) > 0 or (agg or 0) > 0:
            findings.append(Finding(
                "gpu.E101", ERROR,
                f"{who}: uncorrected ECC memory errors (since boot: "
                f"{vol if vol is not None else '?'}, lifetime: "
                f"{agg if agg is not None else '?'})",
                hint="stop jobs on this GPU, reset it (`sudo nvidia-smi -r -i "
                     f"{gpu.get('index')}`) or reboot; if errors return, contact your vendor "
                     "(RMA)", details={"gpu": gpu.get("index"), "volatile": vol,
                                       "aggregate": agg}))
        if gpu.get("retired_pages_pending"):
            findings.append(Finding(
                "gpu.E102", ERROR,
                f"{who}: memory pages are pending retirement; they are retired at the next "
                "GPU reset",
                hint=f"reset the GPU (`sudo nvidia-smi -r -i {gpu.get('index')}`) or reboot",
                details={"gpu": gpu.get("index")}))
        rows = as_dict(gpu.get("remapped_rows"))
        if gpu.get("remapped_rows_failure"):
            findings.append(Finding(
                "gpu.E103", ERROR, f"{who}: row remapping failed: the GPU memory has a fault "
                                   "it cannot repair",
                hint="take the GPU out of service and contact your vendor (RMA)",
                details={"gpu": gpu.get("index"), "remapped_rows": rows}))
        elif rows.get("pending"):
            findings.append(Finding(
                "gpu.E102", ERROR,
                f"{who}: a row remap is pending; it takes effect at the next GPU reset",
                hint=f"reset the GPU (`sudo nvidia-smi -r -i {gpu.get('index')}`) or reboot",
                details={"gpu": gpu.get("index"), "remapped_rows": rows}))
        retired = gpu.get("retired_pages_count")
        if isinstance(retired, int) and retired > RETIRED_PAGES_LIMIT:
            findings.append(Finding(
                "gpu.E104", ERROR,
                f"{who}: {retired} memory pages retired (more than {RETIRED_PAGES_LIMIT})",
                hint="contact your vendor about replacing the GPU (RMA)",
                details={"gpu": gpu.get("index"), "retired_pages": retired}))
        if gpu.get("inforom_valid") is False:
            findings.append(Finding(
                "gpu.E105", ERROR, f"{who}: the InfoROM is corrupted",
                hint="contact your vendor; an InfoROM update may fix it",
                details={"gpu": gpu.get("index")}))
        active = [r for r in strings(gpu.get("clock_event_reasons")) if r in THROTTLES]
        if active:
            findings.append(Finding(
                "gpu.W101", WARNING,
                f"{who} is being slowed down: " + "; ".join(THROTTLES[r] for r in active)
                + (f" at {gpu['temperature_c']} C" if gpu.get("temperature_c") is not None
                   else ""),
                hint="check cooling (fans, airflow, dust), the power cables and the power "
                     "supply; `nvidia-smi -q -d PERFORMANCE,TEMPERATURE,POWER` shows details",
                details={"gpu": gpu.get("index"), "reasons": active}))
        pcie = as_dict(gpu.get("pcie"))
        cur, top = pcie.get("width_current"), pcie.get("width_max")
        if isinstance(cur, int) and isinstance(top, int) and 0 < cur < top:
            findings.append(Finding(
                "gpu.W102", WARNING,
                f"{who}: PCIe link runs at x{cur} of its maximum x{top}: host-GPU transfers "
                "are slower",
                hint="seat the card in a full x16 slot (check the motherboard manual for "
                     "slots that share lanes) and reseat it; some servers wire x8 by design",
                details={"gpu": gpu.get("index"), "pcie": pcie}))
        total = gpu.get("memory_total_mib")
        procs = dicts(gpu.get("processes"))
        held = sum(number(p.get("used_memory_mib")) or 0 for p in procs)
        used = number(gpu.get("memory_used_mib"))
        if isinstance(total, int) and total > 0:
            basis = held if held else (used or 0)
            if basis >= MEMORY_SHARE * total:
                names = ", ".join(
                    f"{p.get('name') or '?'} (pid {p.get('pid')}, {p.get('used_memory_mib')} MiB)"
                    for p in sorted(procs, key=lambda p: -(number(p.get("used_memory_mib"))
                                                           or 0))[:5])
                free = gpu.get("memory_free_mib")
                findings.append(Finding(
                    "gpu.W103", WARNING,
                    f"{who}: other processes hold {basis} of {total} MiB"
                    + (f" ({free} MiB free)" if free is not None else "")
                    + (f": {names}" if names else " (their names are not visible from here)"),
                    hint="wait for them, pick another GPU with CUDA_VISIBLE_DEVICES, or ask "
                         "their owner; `nvidia-smi --query-compute-apps=pid,name,used_memory "
                         "--format=csv` lists them",
                    details={"gpu": gpu.get("index"), "held_mib": basis, "total_mib": total,
                             "processes": procs[:10]}))
        if gpu.get("persistence_mode") is False:
            no_persistence.append(gpu.get("index"))
    if (no_persistence and (plat.get("system") or "Linux") == "Linux" and not plat.get("wsl")):
        findings.append(Finding(
            "gpu.I101", INFO,
            "persistence mode is off on GPU " + ", ".join(str(i) for i in no_persistence)
            + ": on a server the driver unloads between jobs and each job pays its start-up",
            hint="`sudo systemctl enable --now nvidia-persistenced` (or `sudo nvidia-smi "
                 "-pm 1`)", details={"gpus": no_persistence}))
    summary = f"{len(gpus)} GPU(s) checked"
    if not findings:
        return passed(summary + ": no memory errors, throttling or link problems")
    return outcome(summary, findings)
