"""rocm.driver: an AMD GPU, the amdgpu driver, and this user's access to /dev/kfd."""

from __future__ import annotations

from typing import Any

from envdoctor.facts import as_dict, dicts, strings, text
from envdoctor.registry import register
from envdoctor.result import ERROR, INFO, WARNING, Finding, Outcome, outcome, passed, skipped

from . import _rocm as rocm

CODES = {
    "rocm.E001": "An AMD GPU is present but the amdgpu kernel driver is not bound to it "
                 "(not loaded, blacklisted, or another driver such as vfio-pci holds it).",
    "rocm.E002": "No permission to open /dev/kfd or /dev/dri/renderD*: this user is not in "
                 "the group that owns them (render / video).",
    "rocm.E003": "amdgpu is loaded but /dev/kfd is missing: ROCm cannot reach the GPU "
                 "(a container started without --device=/dev/kfd, or a kernel without KFD).",
    "rocm.W001": "The ROCm tools did not answer (amd-smi, rocm-smi and rocminfo failed or "
                 "hung).",
    "rocm.I001": "GPU facts come from rocm-smi or rocminfo because amd-smi (ROCm 6+) is not "
                 "installed.",
    "rocm.I002": "No ROCm installation under /opt/rocm*: pip wheels of torch carry their own "
                 "ROCm libraries, but the ROCm tools are missing.",
}

CONTAINER_HINT = ("start the container with the AMD devices: `docker run --device=/dev/kfd "
                  "--device=/dev/dri --group-add video --group-add render ...`")


def _denied(nodes: dict) -> list[dict]:
    every = [as_dict(nodes.get("kfd")), *dicts(nodes.get("render"))]
    return [n for n in every if n.get("exists") and n.get("accessible") is False]


@register("rocm.driver", title="AMD GPU and amdgpu driver", tags=("gpu", "amd", "rocm", "driver"),
          needs=("amd", "platform"), uses=("nvidia", "frameworks"), codes=CODES)
def check_driver(facts: dict[str, Any]) -> Outcome:
    """Is there an AMD GPU, is the amdgpu kernel driver bound to it, and may this user
    open /dev/kfd and /dev/dri/renderD*?

    The facts come from amd-smi (ROCm 6+), rocm-smi or rocminfo, and the kernel side:
    PCI devices of vendor 0x1002 and the driver bound to each, /sys/module/amdgpu,
    /dev/kfd (the compute interface every ROCm program opens) and the render nodes.

    The most common "no GPU found" on ROCm is permissions: /dev/kfd and
    /dev/dri/renderD* belong to the `render` group (`video` on older systems) and the
    user is not in it. Fix: `sudo usermod -aG render,video $USER`, then log out and in
    (the new group shows only in a new login session). In a container the devices
    must be passed in: `--device=/dev/kfd --device=/dev/dri`.

    An AMD integrated GPU next to an NVIDIA card is reported only as a note unless
    something on the machine uses ROCm (an /opt/rocm install, a ROCm build of a
    framework, the ROCm tools).
    """
    info = rocm.amd(facts)
    if not rocm.amd_present(facts):
        return skipped("no AMD GPU found")
    kernel = rocm.kernel(facts)
    gpus = rocm.amd_gpus(facts)
    module = as_dict(kernel.get("module"))
    nodes = as_dict(kernel.get("nodes"))
    kfd = as_dict(nodes.get("kfd"))
    pci = dicts(kernel.get("pci_devices"))
    active = rocm.uses_rocm(facts)
    level = ERROR if active else INFO
    findings: list[Finding] = []
    details = {"driver_version": info.get("driver_version"),
               "rocm_version": info.get("rocm_version"), "source": info.get("source"),
               "gpus": [{"index": g.get("index"), "name": g.get("name"),
                         "gfx_target": g.get("gfx_target")} for g in gpus]}

    unbound = [d for d in pci if text(d.get("driver")) != "amdgpu"]
    if unbound and (module.get("loaded") is False or any(d.get("driver") for d in unbound)
                    or not kfd.get("exists")):
        where = ", ".join(f"{d.get('address')} ({d.get('driver') or 'no driver'})"
                          for d in unbound)
        findings.append(Finding(
            "rocm.E001", level,
            f"AMD GPU without the amdgpu driver: {where}"
            + ("" if active else " (nothing on this machine uses ROCm, so this is only a note)"),
            hint="`sudo modprobe amdgpu` and read the error (`sudo dmesg | grep -i amdgpu`); "
                 "remove any `blacklist amdgpu` / `modprobe.blacklist=amdgpu` and any "
                 "vfio-pci binding; on Ubuntu install the kernel driver with "
                 f"`sudo amdgpu-install --usecase=dkms` ({rocm.ROCM_INSTALL_URL})",
            details={"devices": unbound, "module_loaded": module.get("loaded")}))

    denied = _denied(nodes)
    if denied:
        groups = sorted({str(n.get("group")) for n in denied if n.get("group")})
        mine = strings(kernel.get("user_groups"))
        findings.append(Finding(
            "rocm.E002", level,
            "no permission to open " + ", ".join(str(n.get("path")) for n in denied)
            + (f" (owned by group {', '.join(groups)}" if groups else "")
            + (f"; this session is in: {', '.join(mine)})" if groups and mine
               else ("; this session is in neither)" if groups else "")),
            hint=f"`{rocm.GROUP_FIX}`, then log out and back in (or reboot); check with "
                 "`groups` and `ls -l /dev/kfd /dev/dri/renderD*`",
            details={"denied": [n.get("path") for n in denied], "groups": groups}))

    if module.get("loaded") and not kfd.get("exists") and active:
        container = as_dict(facts.get("platform")).get("container")
        findings.append(Finding(
            "rocm.E003", ERROR,
            "the amdgpu driver is loaded but /dev/kfd does not exist, so ROCm programs "
            "find no GPU" + (f" (running in a container: {container})" if container else ""),
            hint=CONTAINER_HINT if container else
            "check `ls -l /dev/kfd` and `sudo dmesg | grep -i kfd`; the kernel needs "
            "CONFIG_HSA_AMD (distribution kernels have it) or AMD's DKMS driver "
            f"(`sudo amdgpu-install --usecase=dkms`, {rocm.ROCM_INSTALL_URL})",
            details={"container": container}))

    errors = dicts(info.get("errors"))
    tools = as_dict(info.get("tools"))
    failed = [e for e in errors if e.get("code") in ("FAILED", "TIMED_OUT", "NO_JSON")]
    if failed and info.get("source") in (None, "sysfs") and active:
        findings.append(Finding(
            "rocm.W001", WARNING,
            "the ROCm tools did not answer: "
            + "; ".join(str(e.get("message")) for e in failed[:3]),
            hint="run `amd-smi static` (or `rocminfo`) by hand and read its message; a "
                 "permission error there is rocm.E002",
            details={"errors": failed[:3]}))
    if info.get("source") in ("rocm-smi", "rocminfo") and not tools.get("amd-smi"):
        findings.append(Finding(
            "rocm.I001", INFO,
            f"GPU facts come from {info.get('source')}: amd-smi (ROCm 6 and later) is not "
            "installed", hint="install ROCm 6 or later (`amd-smi` replaces the deprecated "
                              f"rocm-smi): {rocm.ROCM_INSTALL_URL}"))
    if active and not info.get("rocm_path"):
        findings.append(Finding(
            "rocm.I002", INFO,
            "no ROCm installation under /opt/rocm*: pip wheels of torch for ROCm carry their "
            "own ROCm libraries, so this is fine for them, but amd-smi and rocminfo are "
            "missing", hint=f"to install ROCm itself see {rocm.ROCM_INSTALL_URL}"))

    if gpus:
        summary = rocm.gpu_names(gpus)
        version = info.get("driver_version")
        summary += f"; amdgpu {version}" if version else ""
        summary += f"; ROCm {info.get('rocm_version')}" if info.get("rocm_version") else ""
        summary += f" via {info.get('source')}" if info.get("source") else ""
    else:
        summary = "an AMD GPU is present but could not be queried"
    if not findings:
        return passed(summary, details)
    return outcome(summary, findings, details)
