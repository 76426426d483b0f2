"""CUDA toolkit <-> NVIDIA driver compatibility, from ``data/cuda_drivers.json``.

Every row of the data file carries its source (NVIDIA CUDA Toolkit Release Notes and the
CUDA Compatibility guide). Two minimums matter for a CUDA runtime ``X.Y``:

* the toolkit's own minimum (the driver bundled with ``X.Y`` GA): at or above it, every
  feature of the runtime works;
* the family minimum (minor-version compatibility, CUDA 11 and later): at or above it
  the runtime starts, but features newer than the driver and JIT of newer PTX may fail.

Below the family minimum the runtime refuses to start with "CUDA driver version is
insufficient for CUDA runtime version" (cudaErrorInsufficientDriver, 35).

Driver versions compare numerically, component by component: "535.104.05" is newer
than "535.54.03"; Windows drivers look like "536.40". ``system`` is what
``platform.system()`` says ("Linux", "Windows"); WSL2 runs the Windows driver, so callers
pass "Windows" there (see :func:`driver_system`).
"""

from __future__ import annotations

import re
from typing import Any, Optional

INSUFFICIENT_TEXT = "CUDA driver version is insufficient for CUDA runtime version"


def data() -> dict:
    """The parsed CUDA toolkit -> driver table (envdoctor/data/cuda_drivers.json)."""
    from envdoctor.data import load

    return load("cuda_drivers.json")


def version_tuple(version: Any) -> tuple[int, ...]:
    """ "535.104.05" -> (535, 104, 5); anything without digits -> ()."""
    if version is None:
        return ()
    return tuple(int(part) for part in re.findall(r"\d+", str(version)))


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1 comparing two version strings numerically (missing parts are 0)."""
    ta, tb = version_tuple(a), version_tuple(b)
    width = max(len(ta), len(tb))
    ta += (0,) * (width - len(ta))
    tb += (0,) * (width - len(tb))
    return (ta > tb) - (ta < tb)


def cuda_major_minor(cuda: Any) -> Optional[tuple[int, int]]:
    """ "12.4", "12.4.127", "V12.4.131", "cu124", 12040 -> (12, 4); None when unreadable."""
    if cuda is None:
        return None
    if isinstance(cuda, int) and not isinstance(cuda, bool):
        return (cuda // 1000, (cuda % 1000) // 10) if cuda >= 1000 else None
    text = str(cuda).strip().lower()
    compact = re.fullmatch(r"(?:cu|cuda)?(\d{2,3})", text)
    if compact and "." not in text:
        digits = compact.group(1)
        return int(digits[:-1]), int(digits[-1])
    parts = version_tuple(text)
    if len(parts) >= 2:
        return parts[0], parts[1]
    if len(parts) == 1:
        return parts[0], 0
    return None


def _system_key(system: Optional[str]) -> str:
    return "windows" if (system or "").lower().startswith(("win", "wsl")) else "linux"


def _toolkit_row(cuda: Any) -> Optional[dict]:
    mm = cuda_major_minor(cuda)
    if mm is None:
        return None
    for row in data()["toolkits"]:
        if cuda_major_minor(row["cuda"]) == mm:
            return row
    return None


def _family_row(cuda: Any) -> Optional[dict]:
    mm = cuda_major_minor(cuda)
    if mm is None:
        return None
    for row in data()["families"]:
        if row["major"] == mm[0]:
            return row
    return None


def min_driver(cuda: Any, system: str) -> Optional[str]:
    """The toolkit's own minimum driver (its GA driver), or None when not in the table."""
    row = _toolkit_row(cuda)
    return row.get(_system_key(system)) if row else None


def family_min_driver(cuda: Any, system: str) -> Optional[str]:
    """The minor-version-compatibility minimum of the CUDA major family (11.x and later)."""
    row = _family_row(cuda)
    return row.get(_system_key(system)) if row else None


def driver_verdict(cuda: Any, driver: Any, system: str) -> dict:
    """Is ``driver`` new enough for a CUDA runtime ``cuda``?

    Returns ``{"verdict", "required", "family_minimum", "source", "cuda", "driver"}`` where
    verdict is "ok", "minor_compat" (below the toolkit's minimum, inside the family's:
    a warning), "insufficient" (below the family minimum, or below the toolkit's minimum
    for CUDA 10 and older which have no minor-version compatibility) or "unknown".
    """
    mm = cuda_major_minor(cuda)
    row = _toolkit_row(cuda)
    family = _family_row(cuda)
    key = _system_key(system)
    required = row.get(key) if row else None
    fam_min = family.get(key) if family else None
    sources = []
    if row:
        sources.append(row["source"])
    if family and family["source"] not in sources:
        sources.append(family["source"])
    result = {"verdict": "unknown", "required": required, "family_minimum": fam_min,
              "source": "; ".join(sources) or None,
              "cuda": f"{mm[0]}.{mm[1]}" if mm else None,
              "driver": str(driver) if driver is not None else None}
    if mm is None or not version_tuple(driver):
        return result
    if required is None and fam_min is None:
        return result
    if required is not None and compare(driver, required) >= 0:
        result["verdict"] = "ok"
    elif fam_min is not None and compare(driver, fam_min) >= 0:
        if required is None:
            # Not in the table (a newer minor, or Windows 13.x which bundles no driver):
            # compare with the newest toolkit of the family we know.
            known = [r.get(key) for r in data()["toolkits"]
                     if (cuda_major_minor(r["cuda"]) or (0, 0))[0] == mm[0] and r.get(key)]
            newest = max(known, key=version_tuple) if known and row is None else None
            result["verdict"] = ("minor_compat" if newest and compare(driver, newest) < 0
                                 else "ok")
        else:
            result["verdict"] = "minor_compat"
    else:
        result["verdict"] = "insufficient"
    return result


def newest_cuda_for_driver(driver: Any, system: str) -> Optional[str]:
    """The newest toolkit in the table whose own minimum this driver meets."""
    if not version_tuple(driver):
        return None
    key = _system_key(system)
    best: Optional[tuple[int, int]] = None
    for row in data()["toolkits"]:
        need = row.get(key)
        if need is None and key == "windows":
            fam = _family_row(row["cuda"])
            need = fam.get(key) if fam else None
        if need is None or compare(driver, need) < 0:
            continue
        mm = cuda_major_minor(row["cuda"])
        if mm and (best is None or mm > best):
            best = mm
    return f"{best[0]}.{best[1]}" if best else None


def cuda_level_from_nvml(v: int) -> str:
    """NVML's integer CUDA level (nvmlSystemGetCudaDriverVersion): 12040 -> "12.4"."""
    v = int(v)
    return f"{v // 1000}.{(v % 1000) // 10}"


def driver_system(facts: dict) -> str:
    """ "Windows" or "Linux": which driver table applies to these facts (WSL2 runs the
    Windows driver, and NVML there reports the Windows version number)."""
    plat = facts.get("platform")
    plat = plat if isinstance(plat, dict) else {}
    if plat.get("wsl") or str(plat.get("system") or "").lower().startswith("win"):
        return "Windows"
    return "Linux"


def forward_compat(gpu_names: list[str], cuda: Any, system: str) -> Optional[dict]:
    """How NVIDIA's forward-compatibility package would let CUDA ``cuda`` run on an older
    driver here, or None where it cannot: only on Linux, only on data-center GPUs (some
    NGC-ready RTX boards and Jetson too); elsewhere it fails with error 804.

    Returns ``{"package", "library_dir", "certain", "source"}``; ``certain`` is False
    when a GPU's name does not tell whether it is a data-center GPU."""
    import re

    mm = cuda_major_minor(cuda)
    if system != "Linux" or not mm or not gpu_names:
        return None
    table = data().get("forward_compat") or {}
    data_center = re.compile(table.get("data_center_gpu_pattern") or r"(?!)")
    consumer = re.compile(table.get("consumer_gpu_pattern") or r"(?!)")
    if any(consumer.search(name) for name in gpu_names):
        return None
    major, minor = mm
    return {"package": str(table.get("package", "")).format(major=major, minor=minor),
            "library_dir": str(table.get("library_dir", "")).format(major=major, minor=minor),
            "certain": all(data_center.search(name) for name in gpu_names),
            "source": table.get("source")}


# -- cuDNN support matrix (data/cudnn_support.json) -------------------------------------
def cudnn_data() -> dict:
    """The parsed cuDNN support matrix (envdoctor/data/cudnn_support.json)."""
    from envdoctor.data import load

    return load("cudnn_support.json")


def cudnn_major_minor(version: Any) -> Optional[tuple[int, int]]:
    """ "9.17.0.29" -> (9, 17); 91700 or 90100 (CUDNN_VERSION, as torch.backends.cudnn
    .version() gives it: 9.x is MAJOR*10000+MINOR*100+PATCH, 8.x and older MAJOR*1000+
    MINOR*100+PATCH) -> (9, 17), (9, 1); 8907 -> (8, 9). A bare major ("8") -> None."""
    if version is None or isinstance(version, bool):
        return None
    parts = version_tuple(version)
    if len(parts) == 1 and parts[0] >= 1000:
        v = parts[0]
        if v >= 10000:
            return v // 10000, (v % 10000) // 100
        return v // 1000, (v % 1000) // 100
    if len(parts) >= 2:
        return parts[0], parts[1]
    return None


def cudnn_row(version: Any) -> Optional[dict]:
    """The support-matrix row covering this cuDNN release, or None when not in the table."""
    mm = cudnn_major_minor(version)
    if mm is None:
        return None
    for row in cudnn_data()["rows"]:
        low, high = version_tuple(row["min"])[:2], version_tuple(row["max"])[:2]
        if low <= mm <= high:
            return row
    return None


def cudnn_gpu_verdict(version: Any, capability: Any) -> Optional[dict]:
    """Does this cuDNN release support a GPU of this compute capability ("6.1")?

    ``{"verdict": "unsupported" | "too_new", "min_cc", "max_cc", "verified", "source"}``
    when it does not (too_new: the GPU is newer than the release's list, reported only
    for cuDNN 8 and older: cuDNN 9 is hardware forward compatible for a subset of
    operations); None when it does or when the table does not say."""
    row = cudnn_row(version)
    cc = version_tuple(capability)[:2]
    if row is None or len(cc) != 2:
        return None
    low = version_tuple(row.get("min_cc"))[:2]
    high = version_tuple(row.get("max_cc"))[:2] if row.get("max_cc") else None
    verdict = None
    if low and cc < low:
        verdict = "unsupported"
    elif high and cc > high and version_tuple(row["min"])[0] < 9:
        verdict = "too_new"
    if verdict is None:
        return None
    return {"verdict": verdict, "min_cc": row.get("min_cc"), "max_cc": row.get("max_cc"),
            "verified": bool(row.get("verified")), "source": row.get("source"),
            "cuda_majors": row.get("cuda_majors")}
