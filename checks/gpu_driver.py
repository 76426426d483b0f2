"""gpu.driver: an NVIDIA GPU and a working driver."""

from __future__ import annotations

from typing import Any, Optional

from envdoctor.facts import as_dict, dicts, strings, text
from envdoctor.hardware.gpus import no_nvidia
from envdoctor.registry import register
from envdoctor.result import ERROR, INFO, WARNING, Finding, Outcome, outcome, passed, skipped

CODES = {
    "gpu.E001": "An NVIDIA GPU is present but the NVIDIA driver is not installed.",
    "gpu.E002": "The NVIDIA driver is installed but its kernel module is not loaded.",
    "gpu.E003": "The open-source nouveau driver is loaded instead of NVIDIA's driver.",
    "gpu.E004": "Driver/library version mismatch: the user-space driver is newer than the "
                "loaded kernel module (reboot or reload the module).",
    "gpu.E005": "No permission to open the GPU device nodes (/dev/nvidia*).",
    "gpu.E006": "The GPU is lost (fallen off the bus) or needs a reset.",
    "gpu.E007": "Running in a container started without access to the host's GPUs.",
    "gpu.E008": "NVML or nvidia-smi did not answer in time (hung driver or lost GPU).",
    "gpu.E009": "WSL2: a Linux NVIDIA driver or a toolkit's libcuda inside the distribution "
                "shadows the Windows driver's libraries in /usr/lib/wsl/lib.",
    "gpu.E010": "The NVIDIA driver could not be queried (NVML and nvidia-smi both failed).",
    "gpu.W001": "The driver does not know this GPU's name ('Graphics Device'): the driver "
                "is probably older than the GPU.",
    "gpu.W002": "nvidia-smi's report could not be read completely.",
    "gpu.I001": "GPU facts come from nvidia-smi because NVML could not be used.",
}

DRIVER_DOWNLOAD = "https://www.nvidia.com/Download/index.aspx"
CONTAINER_HINT = ("restart the container with GPU access: `docker run --gpus all ...` (needs "
                  "the NVIDIA Container Toolkit on the host), or on Kubernetes request "
                  "`nvidia.com/gpu` in the pod's resources")


def _codes(nvidia: dict) -> dict[str, dict]:
    """First error of each code, NVML's before nvidia-smi's."""
    found: dict[str, dict] = {}
    for error in dicts(nvidia.get("errors")):
        if error.get("code"):
            found.setdefault(str(error["code"]), error)
    return found


def _userspace_version(kernel: dict) -> Optional[str]:
    libs = dicts(as_dict(kernel.get("userspace")).get("libnvidia-ml"))
    versions = [lib["version"] for lib in libs if text(lib.get("version"))]
    module = kernel.get("module_version")
    other = [v for v in versions if v != module]
    return (other or versions or [None])[0]


def _gpu_names(gpus: list[dict]) -> str:
    names: dict[str, int] = {}
    for gpu in gpus:
        name = str(gpu.get("name") or "unnamed GPU")
        names[name] = names.get(name, 0) + 1
    return ", ".join(f"{n} x {name}" if n > 1 else name for name, n in names.items())


@register("gpu.driver", title="NVIDIA GPU and driver", tags=("gpu", "nvidia", "driver"),
          needs=("nvidia", "platform"), uses=("amd", "apple"), codes=CODES)
def check_driver(facts: dict[str, Any]) -> Outcome:
    """Is there an NVIDIA GPU, and does its driver work?

    Reads what the nvidia probe found: NVML (nvidia-ml-py), nvidia-smi -q -x as a
    fallback, and on Linux the kernel side (/proc/driver/nvidia/version, loaded modules,
    PCI devices, /dev/nvidia* nodes, WSL2's /usr/lib/wsl/lib).

    No NVIDIA GPU at all is a skip, never a failure. Otherwise it tells apart:
    driver not installed (GPU on the PCI bus, no driver: install it from your
    distribution or nvidia.com); driver not loaded (modprobe nvidia, or check Secure
    Boot / DKMS build logs); nouveau bound instead (blacklist nouveau, rebuild the
    initramfs, reboot); "Driver/library version mismatch" (the driver package was
    upgraded but the old kernel module is still loaded: reboot, or unload and reload
    the nvidia modules; both versions are shown); no permission on /dev/nvidia* (add
    the user to the video/render group or fix the udev rule); a lost GPU (nvidia-smi
    hangs or says "GPU is lost": check dmesg for Xid 79, reseat or reset the GPU); a
    container started without GPU access (docker run --gpus all); WSL2 with a Linux
    driver or libcuda inside the distribution shadowing the Windows driver's libraries.
    """
    nvidia = facts.get("nvidia") or {}
    plat = facts.get("platform") or {}
    kernel = as_dict(nvidia.get("kernel"))
    gpus = dicts(nvidia.get("gpus"))
    codes = _codes(nvidia)
    if not nvidia.get("present") and not gpus:
        return skipped(no_nvidia(facts))
    if "NO_DEVICES" in codes and not kernel.get("pci_devices") and not gpus:
        return skipped(no_nvidia(facts, " (nvidia-smi: No devices were found)"))

    findings: list[Finding] = []
    details: dict[str, Any] = {"driver_version": nvidia.get("driver_version"),
                               "cuda_driver_version": nvidia.get("cuda_driver_version"),
                               "source": nvidia.get("source"),
                               "kernel_module_version": kernel.get("module_version")}
    module = text(kernel.get("module_version"))
    pci = [dict(d, address=str(d.get("address"))) for d in dicts(kernel.get("pci_devices"))]
    nodes = dicts(kernel.get("dev_nodes"))
    wsl = as_dict(kernel.get("wsl"))
    container = plat.get("container")

    # WSL2: libraries inside the distribution that shadow the Windows driver's.
    if strings(wsl.get("shadowing")):
        findings.append(Finding(
            "gpu.E009", ERROR,
            "WSL2 gets its GPU driver from Windows through /usr/lib/wsl/lib, but these "
            "files inside the distribution shadow it: " + ", ".join(strings(wsl["shadowing"])),
            hint="remove the Linux NVIDIA driver from the distribution (`sudo apt purge "
                 "'nvidia-*' 'libnvidia-*'`), install only the CUDA toolkit package "
                 "(cuda-toolkit-X-Y, not cuda or cuda-drivers), then `wsl --shutdown` from "
                 "Windows; see https://docs.nvidia.com/cuda/wsl-user-guide/",
            details={"shadowing": wsl["shadowing"]}))

    # nouveau.
    nouveau_bound = [d["address"] for d in pci if d.get("driver") == "nouveau"]
    if nouveau_bound or (kernel.get("nouveau_loaded") and not gpus):
        where = f" (bound to {', '.join(nouveau_bound)})" if nouveau_bound else ""
        findings.append(Finding(
            "gpu.E003", ERROR,
            f"the open-source nouveau driver is loaded{where}: NVIDIA's driver cannot use "
            "the GPU and CUDA does not work with nouveau",
            hint="install NVIDIA's driver, blacklist nouveau (`echo 'blacklist nouveau' | "
                 "sudo tee /etc/modprobe.d/blacklist-nouveau.conf`), run `sudo "
                 "update-initramfs -u` (or `sudo dracut --force`) and reboot",
            details={"pci": nouveau_bound}))

    # Version mismatch.
    mismatch = codes.get("LIB_RM_VERSION_MISMATCH")
    userspace = nvidia.get("driver_version") or _userspace_version(kernel)
    if not mismatch and module and nvidia.get("driver_version") and not wsl:
        from envdoctor.cudacompat import compare

        if compare(module, nvidia["driver_version"]) != 0:
            mismatch = {"message": "NVML reports a driver version different from the "
                                   "loaded kernel module"}
    if mismatch:
        if userspace == module:
            userspace = _userspace_version(kernel)
        versions = (f" (kernel module {module or 'unknown'}, user-space library "
                    f"{userspace or 'unknown'})")
        findings.append(Finding(
            "gpu.E004", ERROR,
            "Driver/library version mismatch: the NVIDIA user-space library is newer than "
            f"the loaded kernel module{versions}; usually the driver package was upgraded "
            "and the old module is still loaded",
            hint="reboot; or, with no program using the GPU: `sudo rmmod nvidia_uvm "
                 "nvidia_drm nvidia_modeset nvidia && sudo modprobe nvidia` (then compare "
                 "`cat /proc/driver/nvidia/version` with `nvidia-smi`)",
            details={"kernel_module": module, "userspace": userspace}))

    # Hangs and lost GPUs.
    hung = codes.get("HUNG")
    if hung:
        findings.append(Finding(
            "gpu.E008", ERROR,
            str(hung.get("message") or "the NVIDIA driver did not answer in time "
                "(NVML or nvidia-smi hung)"),
            hint="check `sudo dmesg | grep -i -E 'NVRM|Xid'` for Xid 79 (GPU fallen off "
                 "the bus); reset the GPU (`sudo nvidia-smi -r`) or reboot; reseat the card "
                 "and check its power cables if it recurs",
            details={"source": hung.get("source")}))
    lost = [g for g in gpus if g.get("lost")]
    for code in ("GPU_IS_LOST", "RESET_REQUIRED"):
        if code in codes or (code == "GPU_IS_LOST" and lost):
            which = ", ".join(f"GPU {g.get('index')}" for g in lost) or "a GPU"
            findings.append(Finding(
                "gpu.E006", ERROR,
                f"{which}: " + ("the GPU is lost (it has fallen off the bus or stopped "
                                "responding)" if code == "GPU_IS_LOST"
                                else "the GPU needs a reset"),
                hint="check `sudo dmesg | grep -i Xid` (Xid 79: fallen off the bus); reset "
                     "it with `sudo nvidia-smi -r -i <index>` or reboot; check power and "
                     "seating if it recurs",
                details={"gpus": [g.get("index") for g in lost]}))
            break

    # Permissions.
    denied = [str(n.get("name")) for n in nodes if n.get("accessible") is False]
    if "NO_PERMISSION" in codes or denied:
        findings.append(Finding(
            "gpu.E005", ERROR,
            "no permission to open the GPU device nodes"
            + (f": {', '.join('/dev/' + n for n in denied)}" if denied else ""),
            hint="add your user to the group that owns them (`ls -l /dev/nvidia*`; usually "
                 "`sudo usermod -aG video,render $USER`, then log in again), or fix the udev "
                 "rule / container device permissions",
            details={"denied": denied}))

    # Container without GPU access.
    no_gpu_access = (container and not nodes and not gpus
                     and (pci or kernel.get("proc_driver") or module))
    if no_gpu_access:
        findings.append(Finding(
            "gpu.E007", ERROR,
            f"running in a container ({container}) that was started without GPU access: the "
            "host has an NVIDIA GPU but no /dev/nvidia* device is passed in",
            hint=CONTAINER_HINT, details={"container": container}))

    # Driver not loaded / not installed.
    if not gpus and not findings:
        if "DRIVER_NOT_LOADED" in codes or (pci and not kernel.get("proc_driver") and not module
                                            and as_dict(kernel.get("userspace")).get(
                                                "libnvidia-ml")):
            findings.append(Finding(
                "gpu.E002", ERROR,
                "the NVIDIA driver is installed but its kernel module is not loaded"
                + (f" (GPU at {pci[0]['address']})" if pci else ""),
                hint="`sudo modprobe nvidia` and read the error; with Secure Boot on, the "
                     "module must be signed (enroll the MOK key) or Secure Boot disabled; "
                     "after a kernel update rebuild it (`sudo dkms autoinstall`) and reboot",
                details={"nvml": codes.get("DRIVER_NOT_LOADED", {}).get("message")}))
        elif "GARBAGE" in codes:
            # nvidia-smi exists and ran: the driver is installed, it answered nonsense.
            garbage = codes["GARBAGE"]
            said = text(garbage.get("detail"))
            findings.append(Finding(
                "gpu.E010", ERROR,
                "the NVIDIA driver could not be queried: nvidia-smi answered with something "
                "that is not its report"
                + (f" (it printed {said[:80]!r})" if said else "")
                + (f"; {garbage['message']}" if text(garbage.get("message")) else ""),
                hint="run `nvidia-smi -q -x | head` and read what it prints; a wrapper script "
                     "or alias named nvidia-smi earlier on PATH (`which -a nvidia-smi`), a "
                     "damaged driver install (reinstall the driver) or a failing GPU "
                     "(`sudo dmesg | grep -i -E 'NVRM|Xid'`) does this",
                details={"first_error": "GARBAGE", "printed": said[:300] if said else None}))
        elif pci or "LIBRARY_NOT_FOUND" in codes or (
                "NOT_FOUND" in codes and nvidia.get("present")):
            if container and not pci:
                findings.append(Finding(
                    "gpu.E007", ERROR,
                    f"running in a container ({container}) without the NVIDIA driver's "
                    "libraries or devices", hint=CONTAINER_HINT))
            else:
                findings.append(Finding(
                    "gpu.E001", ERROR,
                    "an NVIDIA GPU is present"
                    + (f" (PCI {', '.join(d['address'] for d in pci)})" if pci else "")
                    + " but the NVIDIA driver is not installed (no NVML library, no "
                      "nvidia-smi)",
                    hint="install the driver: Ubuntu `sudo ubuntu-drivers install`; other "
                         f"systems: your distribution's nvidia driver package or {DRIVER_DOWNLOAD}",
                    details={"pci": [d.get("address") for d in pci]}))
        else:
            first = next(iter(codes.values()), {})
            said = "; ".join(f"{e.get('source')}: {e.get('message')}" for e in codes.values()
                             if e.get("code") != "BINDING_NOT_INSTALLED")
            findings.append(Finding(
                "gpu.E010", ERROR,
                "the NVIDIA driver could not be queried: " + (said or "no answer"),
                hint="run `nvidia-smi` and read its message; see `sudo dmesg | grep NVRM`",
                details={"first_error": first.get("code")}))

    # Softer notes when the driver works.
    for gpu in gpus:
        if str(gpu.get("name") or "").strip().lower() == "graphics device":
            findings.append(Finding(
                "gpu.W001", WARNING,
                f"GPU {gpu.get('index')} is named 'Graphics Device': driver "
                f"{nvidia.get('driver_version') or '?'} does not know this GPU, which usually "
                "means the driver is older than the GPU",
                hint=f"update the NVIDIA driver ({DRIVER_DOWNLOAD})",
                details={"pci_bus_id": gpu.get("pci_bus_id")}))
    smi = as_dict(nvidia.get("nvidia_smi"))
    if nvidia.get("source") == "nvidia-smi":
        if smi.get("missing") or "TRUNCATED" in codes:
            findings.append(Finding(
                "gpu.W002", WARNING,
                "nvidia-smi's report could not be read completely; missing: "
                + ", ".join(strings(smi.get("missing")) or ["part of the report"]),
                hint="run `nvidia-smi -q -x` by hand and check it completes; update the "
                     "driver if its output is cut short", details={"missing": smi.get("missing")}))
        why = (codes.get("BINDING_NOT_INSTALLED") or next(
            (e for e in codes.values() if e.get("source") == "nvml"), {})).get("message")
        findings.append(Finding(
            "gpu.I001", INFO,
            "GPU facts come from nvidia-smi because NVML could not be used"
            + (f" ({why})" if why else ""),
            hint="`pip install nvidia-ml-py` gives envdoctor direct NVML access "
                 "(the package named `pynvml` is deprecated)"))

    if gpus and nvidia.get("driver_version"):
        cuda = nvidia.get("cuda_driver_version")
        summary = (f"{_gpu_names(gpus)}; driver {nvidia['driver_version']}"
                   + (f" (CUDA {cuda})" if cuda else "") + f" via {nvidia.get('source')}")
    elif gpus:
        summary = f"{_gpu_names(gpus)}; driver version unknown"
    else:
        summary = "an NVIDIA GPU is present but the driver does not work"
    details["gpus"] = [{"index": g.get("index"), "name": g.get("name"),
                        "pci_bus_id": g.get("pci_bus_id")} for g in gpus]
    if not findings:
        return passed(summary, details)
    return outcome(summary, findings, details)
