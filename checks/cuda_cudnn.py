"""cuda.cudnn: cuDNN found, for which CUDA, matching the frameworks, not shadowed."""

from __future__ import annotations

import re
from typing import Any, Optional

from envdoctor.cudacompat import version_tuple
from envdoctor.facts import as_dict, dicts
from envdoctor.registry import register
from envdoctor.result import ERROR, INFO, WARNING, Finding, Outcome, outcome, passed, skipped

CODES = {
    "cuda.E101": "A framework was built against a cuDNN major version that is not installed.",
    "cuda.E102": "LD_LIBRARY_PATH makes a pip-installed cuDNN load an older cuDNN of the same "
                 "major version (pytorch#80637).",
    "cuda.W101": "A pip cuDNN wheel is built for a CUDA major that no framework or runtime "
                 "here uses.",
    "cuda.W102": "A framework needs cuDNN but none was found.",
    "cuda.E103": "A cuDNN release that does not support this GPU's compute capability "
                 "(NVIDIA's support matrix): cuDNN calls fail on this GPU.",
    "cuda.W103": "A cuDNN release that may not support this GPU, by a row of the support "
                 "matrix envdoctor could not confirm, or a cuDNN 8 or older that predates "
                 "the GPU.",
    "cuda.W104": "A cuDNN release that NVIDIA does not build for the CUDA major it is used "
                 "with.",
    "cuda.I101": "Several cuDNN versions are installed.",
    "cuda.E104": "torch loaded another cuDNN than the one it was built with (\"cuDNN version "
                 "incompatibility: PyTorch was compiled against (8, 3, 2) but linked against "
                 "(8, 0, 3)\", pytorch/pytorch#80637); the LD_LIBRARY_PATH entry that "
                 "shadows it is named.",
}

_INCOMPATIBLE = re.compile(r"compiled\s+against\s+\((\d+),\s*(\d+),\s*(\d+)\)\s+but\s+linked"
                           r"\s+against\s+\((\d+),\s*(\d+),\s*(\d+)\)")


def torch_cudnn_mismatch(facts: dict[str, Any]) -> Optional[Finding]:
    """The torch child's "cuDNN version incompatibility" text, read: the cuDNN torch was
    built with (bundled in torch/lib or its nvidia-cudnn wheel), the one it loaded, and the
    LD_LIBRARY_PATH entry that holds the loaded one."""
    frameworks = as_dict(facts.get("frameworks"))
    live = as_dict(as_dict(frameworks.get("live")).get("torch"))
    match = _INCOMPATIBLE.search(str(live.get("cudnn_error") or ""))
    if not match:
        return None
    built = ".".join(match.groups()[:3])
    linked = ".".join(match.groups()[3:])
    loaded = [str(p) for p in (live.get("loaded_libraries") or [])
              if "libcudnn" in str(p).rsplit("/", 1)[-1]]
    variables = as_dict(as_dict(facts.get("env")).get("variables"))
    entries = [e.rstrip("/") for e in str(variables.get("LD_LIBRARY_PATH") or "").split(":")
               if e.strip()]
    shadow = next((e for e in entries for p in loaded if p.rsplit("/", 1)[0].rstrip("/") == e),
                  None)
    if shadow is None:  # the cuda probe's view: an entry holding the linked version
        shadow = next((str(e.get("where")) for e in dicts(as_dict(facts.get("cuda"))
                       .get("cudnn")) if e.get("kind") == "ld_library_path"
                       and str(e.get("version") or "").startswith(linked)), None)
    torch = as_dict(as_dict(frameworks.get("installed")).get("torch"))
    bundled = torch.get("bundled_cudnn") or []
    where = ("bundled in torch/lib" if bundled else
             f"from {torch.get('cudnn_source')}" if torch.get("cudnn_source") else "")
    message = (f"torch {torch.get('version') or ''} was built with cuDNN {built}"
               f"{' (' + where + ')' if where else ''} but loaded cuDNN {linked}"
               + (f" from {loaded[0]}" if loaded else "")
               + (f", found first through LD_LIBRARY_PATH entry {shadow}" if shadow else "")
               + ": torch.backends.cudnn raises \"cuDNN version incompatibility\" and "
               "convolutions fail").replace("  ", " ")
    hint = (f"remove {shadow} from LD_LIBRARY_PATH (or `unset LD_LIBRARY_PATH`): the torch "
            "wheel brings its own cuDNN" if shadow else
            "unset LD_LIBRARY_PATH and LD_PRELOAD, which make the loader pick another "
            f"libcudnn first; the torch wheel brings cuDNN {built} itself")
    return Finding("cuda.E104", ERROR, message, hint=hint,
                   details={"built_with": built, "loaded": linked, "loaded_from": loaded[:3],
                            "ld_library_path_entry": shadow, "bundled": bundled[:4],
                            "error": live.get("cudnn_error")})


def cudnn_major(version: Any) -> Optional[int]:
    """ "9.1.0.70" -> 9; "8" -> 8; 90100 (torch.backends.cudnn.version()) -> 9."""
    parts = version_tuple(version)
    if not parts:
        return None
    if len(parts) == 1 and parts[0] >= 1000:
        return parts[0] // 10000 if parts[0] >= 10000 else parts[0] // 1000
    return parts[0]


def _label(entry: dict) -> str:
    kind = entry.get("kind")
    if kind == "pip":
        return f"{entry.get('where')} {entry.get('package_version') or entry.get('version')}"
    return f"cuDNN {entry.get('version')} ({kind}: {entry.get('where')})"


@register("cuda.cudnn", title="cuDNN", tags=("cuda", "cudnn", "gpu"), needs=("cuda", "nvidia"),
          uses=("frameworks", "platform", "env"), codes=CODES)
def check_cudnn(facts: dict[str, Any]) -> Outcome:
    """Which cuDNN is installed, for which CUDA major, and does it fit the frameworks?

    cuDNN comes from pip wheels (nvidia-cudnn-cu11/-cu12/-cu13: the suffix is the CUDA
    major it is built for), cudnn_version.h next to a toolkit or in /usr/include,
    libcudnn.so.<version> files in LD_LIBRARY_PATH and the loader cache.

    Warns (cuda.W102) when a framework build uses cuDNN, a GPU is present and no cuDNN
    is found at all (TensorFlow's fix: ``pip install "tensorflow[and-cuda]"``); on a
    machine with no NVIDIA GPU a missing cuDNN is no problem and the check skips.

    Fails when a framework was built against a cuDNN major that is not installed
    (TensorFlow 2.15 wants cuDNN 8, and fails to dlopen libcudnn.so.8 when only 9 is
    there), and when an LD_LIBRARY_PATH entry holds an older cuDNN with the same major
    as a pip wheel's: the loader takes LD_LIBRARY_PATH first, so the framework runs
    with the older library (pytorch/pytorch#80637; fix: unset LD_LIBRARY_PATH or drop
    that entry). Warns when a cuDNN wheel is built for a CUDA major nothing else uses.

    Reads the torch child's "cuDNN version incompatibility: PyTorch was compiled against
    (8, 3, 2) but linked against (8, 0, 3)" (torch 1.12 wheels bundle cuDNN 8.3.2 in
    torch/lib; an LD_LIBRARY_PATH with cuDNN 8.0.3 wins the loader's search): cuda.E104
    names the built-with and loaded versions, the file the child mapped, and the
    LD_LIBRARY_PATH entry that shadows the bundled one.

    Each cuDNN found (and the one PyTorch actually loaded) is also compared with
    NVIDIA's cuDNN support matrix (envdoctor/data/cudnn_support.json): a release that
    does not support a GPU's compute capability fails (cuDNN 9.17 dropped Maxwell,
    Pascal and Volta: a GTX 1080, sm_61, has no cuDNN kernels there; fix: a framework
    build or cuDNN wheel from a release that still lists the GPU); rows envdoctor could
    not confirm only warn. A release used with a CUDA major NVIDIA does not build it for
    warns.
    """
    cuda = facts.get("cuda") or {}
    entries = [c for c in dicts(cuda.get("cudnn")) if c.get("version")]
    frameworks = as_dict(as_dict(facts.get("frameworks")).get("installed"))
    wants = {name: info for name, info in sorted(frameworks.items())
             if isinstance(info, dict) and info.get("cudnn")}
    if not entries and not wants and not _cudnn_in_use([], facts) \
            and torch_cudnn_mismatch(facts) is None:
        return skipped("no cuDNN found and no framework needs one")
    findings: list[Finding] = []
    majors = {cudnn_major(e["version"]) for e in entries}

    gpu_here = bool(dicts(as_dict(facts.get("nvidia")).get("gpus")))
    for name, info in wants.items():
        want = cudnn_major(info["cudnn"])
        if want is None:
            continue
        if not entries:
            if not gpu_here:
                continue  # a CUDA build on a CPU-only machine never loads cuDNN: not a problem
            findings.append(Finding(
                "cuda.W102", WARNING,
                f"{name} {info.get('version') or ''} uses cuDNN {info['cudnn']} but no cuDNN "
                "was found on this machine".replace("  ", " "),
                hint=_missing_cudnn_hint(name, info),
                details={"framework": name, "cudnn": info["cudnn"]}))
        elif want not in majors:
            found = ", ".join(sorted({str(e['version']) for e in entries}))
            findings.append(Finding(
                "cuda.E101", ERROR,
                f"{name} {info.get('version') or ''} was built against cuDNN {want}, but only "
                f"cuDNN {found} is installed: loading libcudnn.so.{want} fails".replace(
                    "  ", " "),
                hint=f"install cuDNN {want} for CUDA {_cuda_major(info) or '?'} (e.g. `pip "
                     f"install 'nvidia-cudnn-cu{_cuda_major(info) or 12}=={want}.*'`), or a "
                     f"{name} release built for the installed cuDNN",
                details={"framework": name, "wants": want, "installed": sorted(
                    m for m in majors if m is not None)}))

    # LD_LIBRARY_PATH shadowing a wheel's cuDNN.
    for wheel in (e for e in entries if e.get("kind") == "pip"):
        for other in (e for e in entries if e.get("kind") == "ld_library_path"):
            if cudnn_major(other["version"]) != cudnn_major(wheel["version"]):
                continue
            if version_tuple(other["version"]) < version_tuple(wheel["version"]):
                findings.append(Finding(
                    "cuda.E102", ERROR,
                    f"LD_LIBRARY_PATH entry {other['where']} holds cuDNN {other['version']}, "
                    f"which the loader picks before the pip wheel's cuDNN {wheel['version']} "
                    f"({wheel['where']}): frameworks run with the older library and can fail "
                    "with CUDNN_STATUS errors or version warnings",
                    hint=f"remove {other['where']} from LD_LIBRARY_PATH (or `unset "
                         "LD_LIBRARY_PATH`; pip CUDA wheels do not need it)",
                    details={"entry": other["where"], "shadowing": other["version"],
                             "wheel": wheel["version"]}))

    # Wheels for a CUDA major nothing uses.
    used_majors = set()
    for rt in dicts(cuda.get("runtimes")):
        parts = version_tuple(rt.get("version"))
        if parts:
            used_majors.add(parts[0])
    for info in frameworks.values():
        if isinstance(info, dict) and _cuda_major(info):
            used_majors.add(_cuda_major(info))
    for wheel in (e for e in entries if e.get("kind") == "pip"
                  and e.get("cuda_major") and isinstance(e["cuda_major"], int)):
        if used_majors and wheel["cuda_major"] not in used_majors:
            findings.append(Finding(
                "cuda.W101", WARNING,
                f"{wheel['where']} is built for CUDA {wheel['cuda_major']}, but the CUDA "
                f"here is {', '.join(str(m) for m in sorted(used_majors))}.x",
                hint=f"install the cuDNN wheel for your CUDA (e.g. nvidia-cudnn-cu"
                     f"{max(used_majors)}) and uninstall {wheel['where']}",
                details={"wheel": wheel["where"], "cuda_majors": sorted(used_majors)}))

    findings.extend(_support_matrix(entries, facts))
    mismatch = torch_cudnn_mismatch(facts)
    if mismatch is not None:
        findings.append(mismatch)

    distinct = sorted({str(e["version"]) for e in entries})
    if len(distinct) > 1:
        findings.append(Finding(
            "cuda.I101", INFO,
            "several cuDNN versions are installed: " + "; ".join(_label(e) for e in entries),
            details={"versions": distinct}))
    loaded = _cudnn_in_use([], facts)
    if not entries and not loaded and not findings and not gpu_here:
        return skipped("no NVIDIA GPU: frameworks here do not load cuDNN")
    summary = ("cuDNN " + ", ".join(distinct) if distinct else
               f"cuDNN {loaded[0]['version']} loaded by torch" if loaded else "no cuDNN found")
    if entries:
        where = entries[0]
        summary += f" (first: {where.get('kind')} {where.get('where')}"
        summary += f", for CUDA {where['cuda_major']})" if where.get("cuda_major") else ")"
    if not findings:
        return passed(summary)
    return outcome(summary, findings)


def _missing_cudnn_hint(name: str, info: dict) -> str:
    """The install that brings the cuDNN a framework build loads. TensorFlow's CUDA
    libraries come with its ``and-cuda`` extra (tensorflow.org/install/pip), which pins
    the cuDNN and CUDA wheels it was tested with; torch's wheels pull theirs in already."""
    if name == "tensorflow":
        dist = info.get("distribution") or "tensorflow"
        if dist in ("tensorflow", "tf-nightly"):
            version = info.get("version")
            pin = f"=={version}" if version else ""
            return f'pip install "{dist}[and-cuda]{pin}"'
    return (f"`pip install nvidia-cudnn-cu{_cuda_major(info) or 12}` (or reinstall {name} "
            "with its CUDA wheels)")


def _cuda_major(info: dict) -> Optional[int]:
    parts = version_tuple(info.get("cuda"))
    return parts[0] if parts else None


def _cudnn_in_use(entries: list[dict], facts: dict[str, Any]) -> list[dict]:
    """cuDNN releases to judge: every one found, plus the one torch loaded (live)."""
    used = [dict(e) for e in entries]
    frameworks = as_dict(facts.get("frameworks"))
    live = as_dict(as_dict(frameworks.get("live")).get("torch"))
    loaded = live.get("cudnn") if live.get("status") == "ok" else None
    if loaded:
        from envdoctor.cudacompat import cudnn_major_minor

        mm = cudnn_major_minor(loaded)
        torch = as_dict(frameworks.get("installed")).get("torch") or {}
        if mm and not any(cudnn_major_minor(e.get("version")) == mm for e in used):
            used.append({"version": f"{mm[0]}.{mm[1]}", "kind": "loaded by torch",
                         "where": "torch.backends.cudnn.version()",
                         "cuda_major": _cuda_major(torch) if isinstance(torch, dict) else None})
    return used


def _cc_text(cc: Any) -> str:
    parts = [p for p in re.findall(r"\d+", str(cc or ""))][:2]
    return f"sm_{''.join(parts)}" if len(parts) == 2 else str(cc)


def _working_release(cc: str) -> Optional[str]:
    """The newest cuDNN release of the support matrix that supports capability ``cc``
    (confirmed rows first)."""
    from envdoctor.cudacompat import cudnn_data

    rows = cudnn_data()["rows"]
    want = version_tuple(cc)[:2]
    for verified in (True, False):
        fits = [r for r in rows if bool(r.get("verified")) == verified
                and version_tuple(r.get("min_cc"))[:2] <= want
                and (not r.get("max_cc") or want <= version_tuple(r["max_cc"])[:2])]
        if fits:
            return max(fits, key=lambda r: version_tuple(r["max"]))["max"]
    return None


def _support_matrix(entries: list[dict], facts: dict[str, Any]) -> list[Finding]:
    """cuDNN releases vs the GPUs' compute capabilities and the CUDA major they serve."""
    from envdoctor.cudacompat import cudnn_gpu_verdict, cudnn_major_minor, cudnn_row

    gpus = [g for g in dicts(as_dict(facts.get("nvidia")).get("gpus"))
            if g.get("compute_capability")]
    findings: list[Finding] = []
    seen: set = set()
    for entry in _cudnn_in_use(entries, facts):
        mm = cudnn_major_minor(entry.get("version"))
        row = cudnn_row(entry.get("version"))
        if mm is None or row is None:
            continue
        release = f"{mm[0]}.{mm[1]}"
        what = _label(entry) if entry.get("kind") != "pip" \
            else f"cuDNN {entry.get('version')} (pip package {entry.get('where')})"
        for gpu in gpus:
            cc = str(gpu.get("compute_capability"))
            verdict = cudnn_gpu_verdict(entry.get("version"), cc)
            if verdict is None or (release, cc, str(entry.get("where"))) in seen:
                continue
            seen.add((release, cc, str(entry.get("where"))))
            name = f"{gpu.get('name') or 'GPU ' + str(gpu.get('index'))} ({_cc_text(cc)})"
            if verdict["verdict"] == "unsupported":
                working = _working_release(cc)
                major = entry.get("cuda_major") or 12
                hint = ("use a framework build or cuDNN wheel from a cuDNN release that "
                        f"still supports {_cc_text(cc)}"
                        + (f" (cuDNN {working} by the support matrix, e.g. `pip install "
                           f"'nvidia-cudnn-cu{major}=={working}.*'`)" if working else "")
                        + "; or use a GPU of compute capability "
                        f"{verdict['min_cc']} or newer")
                if verdict["verified"]:
                    findings.append(Finding(
                        "cuda.E103", ERROR,
                        f"{what} does not support {name}: cuDNN {release} needs compute "
                        f"capability {verdict['min_cc']} or newer, so cuDNN calls "
                        "(convolutions, attention...) will fail on this GPU",
                        hint=hint, details={"cudnn": entry.get("version"), "gpu": cc,
                                            "source": verdict["source"]}))
                else:
                    findings.append(Finding(
                        "cuda.W103", WARNING,
                        f"{what} probably does not support {name}: by envdoctor's support "
                        f"table (a row not confirmed in NVIDIA's matrix) cuDNN {release} "
                        f"needs compute capability {verdict['min_cc']} or newer, so cuDNN "
                        "calls may fail on this GPU",
                        hint=hint + "; NVIDIA's matrix: "
                             "https://docs.nvidia.com/deeplearning/cudnn/",
                        details={"cudnn": entry.get("version"), "gpu": cc,
                                 "source": verdict["source"], "verified": False}))
            else:
                findings.append(Finding(
                    "cuda.W103", WARNING,
                    f"{what} predates {name}: cuDNN {release} lists compute capability up to "
                    f"{verdict['max_cc']}; some cuDNN operations may not run on this GPU",
                    hint="use a newer cuDNN (9.x) and a framework build for it",
                    details={"cudnn": entry.get("version"), "gpu": cc,
                             "source": verdict["source"]}))
        major = entry.get("cuda_major")
        majors = row.get("cuda_majors") or []
        if isinstance(major, int) and majors and major not in majors \
                and (release, major) not in seen:
            seen.add((release, major))
            findings.append(Finding(
                "cuda.W104", WARNING,
                f"{what} is used with CUDA {major}, but NVIDIA builds cuDNN {release} only "
                f"for CUDA {', '.join(str(m) for m in majors)}",
                hint=f"install a cuDNN built for CUDA {major} (`pip install "
                     f"nvidia-cudnn-cu{major}`) or a framework build for CUDA "
                     f"{majors[-1]}",
                details={"cudnn": entry.get("version"), "cuda_major": major,
                         "source": row.get("source")}))
    return findings
