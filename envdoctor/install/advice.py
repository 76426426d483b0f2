"""Which build of a framework to install on a machine, the exact commands, and why.

Every decision reads a shipped table (each row with its source) through the same helpers
the framework checks use (:mod:`envdoctor.checks._framework`, :mod:`envdoctor.cudacompat`):
the checks say what is wrong with the installed build, this module says what to install
instead, and both agree because they are one piece of knowledge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from envdoctor.install.machine import Installer, Machine

PACKAGES = ("torch", "torchvision", "tensorflow", "jax", "cupy", "onnxruntime", "vllm")


@dataclass
class Command:
    """One step: ``argv`` run without a shell; ``destructive`` for uninstalls. ``shell``
    is how the line is quoted for display: the target machine's shell (hints.shell_of_path
    of its interpreter), not this one's, so ``--from`` advice pastes right there."""

    title: str
    argv: list[str]
    destructive: bool = False
    shell: Optional[str] = None

    def line(self) -> str:
        from envdoctor.hints import shell_join

        return shell_join(self.argv, self.shell)


@dataclass
class Advice:
    """What to install for ``package`` on ``machine``.

    ``fits`` is False when no build of the package can use this machine's GPU (then
    ``commands`` is empty and ``why`` says what would have to change). ``expect`` is what
    the re-check after ``--run`` looks for: the framework's build in the facts
    (``{"framework": "torch", "build": "cu126"}``) or an installed distribution."""

    package: str
    machine: list[str]
    fits: bool
    build: str
    commands: list[Command] = field(default_factory=list)
    index_url: Optional[str] = None
    why: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    expect: dict[str, str] = field(default_factory=dict)
    # What puts back what the commands removed if a later one fails: reinstall the
    # build that was there, from its own index.
    restore: list[Command] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"package": self.package, "fits": self.fits, "build": self.build,
                "index_url": self.index_url,
                "commands": [{"title": c.title, "argv": c.argv, "line": c.line(),
                              "destructive": c.destructive} for c in self.commands],
                "why": self.why, "notes": self.notes, "sources": self.sources,
                "machine": self.machine, "expect": self.expect,
                "restore": [{"title": c.title, "argv": c.argv, "line": c.line()}
                            for c in self.restore]}


# ------------------------------------------------------------------------------ helpers


def _fw():
    from envdoctor.checks import _framework

    return _framework


def _channels() -> dict[str, Any]:
    from envdoctor.data import load

    return load("install_channels.json")


def _sm(cc: Optional[tuple[int, int]]) -> str:
    return f"sm_{cc[0]}{cc[1]}" if cc else "unknown"


def _cc_text(cc: tuple[int, int]) -> str:
    return f"{cc[0]}.{cc[1]}"


def _gpu_names(machine: Machine, ccs: list[tuple[int, int]]) -> str:
    names = [f"{g['name']} ({_sm(g['cc'])})" for g in machine.gpus if g["cc"] in ccs]
    return ", ".join(dict.fromkeys(names)) or ", ".join(_sm(c) for c in ccs)


def _verdict(cuda: Any, machine: Machine) -> Optional[dict]:
    if not cuda or not machine.driver:
        return None
    from envdoctor import cudacompat

    return cudacompat.driver_verdict(str(cuda), machine.driver, machine.driver_system)


def _family_ok(major: int, machine: Machine) -> Optional[bool]:
    """Does this driver run the CUDA ``major`` family (its minor-version-compatibility
    minimum)? None when the driver is unknown."""
    verdict = _verdict(f"{major}.0", machine)
    if verdict is None or verdict.get("verdict") == "unknown":
        return None
    return verdict["verdict"] != "insufficient"


def _family_minimum(major: int, machine: Machine) -> Optional[str]:
    from envdoctor import cudacompat

    return cudacompat.family_min_driver(f"{major}.0", machine.driver_system)


def _driver_phrase(machine: Machine) -> str:
    cuda = machine.supported_cuda()
    return f"this driver ({machine.driver}) runs CUDA up to {cuda}" if cuda else \
        f"this driver is {machine.driver or 'unknown'}"


def _python_rows(package: str) -> list[dict]:
    from envdoctor.data import load

    for framework in load("python_support.json")["frameworks"]:
        if package in framework["packages"]:
            return [dict(r, source=framework["source"]) for r in framework["rows"]]
    return []


def _python_ok(package: str, release: str, machine: Machine) -> Optional[bool]:
    """Does ``release`` of ``package`` ship wheels for this Python? None: not in the table."""
    fw = _fw()
    want = machine.python_version[:2]
    if not want:
        return None
    for row in _python_rows(package):
        if fw.version_tuple(row["release"]) == fw.version_tuple(release)[:2]:
            low, high = (fw.version_tuple(v) for v in row["python"])
            return bool(want) and low <= want <= high
    return None


# ------------------------------------------------------------------------------ PyTorch


def _companion_version(name: str, torch_release: str) -> str:
    """The torchvision / torchaudio release that pairs with a torch release ("2.14")."""
    fw = _fw()
    rule = fw.torch_builds()["companions"][name]
    minor = fw.version_tuple(torch_release)[1]
    return f"{rule['major']}.{minor + rule['minor_offset']}"


def _companion_spec(name: str, torch_release: str) -> str:
    return f"{name}=={_companion_version(name, torch_release)}.*"


def _linux_default(release: str) -> Optional[str]:
    """The CUDA variant PyPI serves for ``release`` on Linux (None: not in the table)."""
    for row in _fw().torch_builds()["releases"]:
        if row["torch"] == release:
            return row.get("pypi_default")
    return None


def _pypi_default(release: str, machine: Machine) -> Optional[str]:
    """The variant a plain ``pip install torch==<release>`` gives on this OS."""
    rule = _fw().torch_builds()["pypi"]
    system = machine.system.lower()
    if system in ("windows", "darwin") and not machine.wsl:
        return rule[system]
    return _linux_default(release)


def _variant_problems(name: str, variant: dict, machine: Machine) -> list[str]:
    """Why ``variant`` does not suit this machine (empty when it does)."""
    fw = _fw()
    problems = []
    verdict = _verdict(variant.get("cuda"), machine)
    if verdict and verdict.get("verdict") == "insufficient":
        problems.append(f"it is built for CUDA {variant.get('cuda')}, which needs driver "
                        f"{verdict.get('family_minimum') or verdict.get('required')} or newer; "
                        f"{_driver_phrase(machine)}")
    missing = [cc for cc in machine.ccs if not fw.covering_entry(variant.get("arch") or [], cc)]
    if missing:
        problems.append(f"it has no kernels for {_gpu_names(machine, missing)} (it ships "
                        f"{' '.join(variant.get('arch') or [])})")
    return problems


def _choose_torch(machine: Machine, facts: dict, release: Optional[str]) -> Optional[dict]:
    """The release and variant to install: ``release`` when given; else the installed
    torch's release when a build of it fits (other pins keep working), else the newest
    release with wheels for this Python. Within a release, the PyPI default variant when
    this driver runs it fully, else the best fit (fully supported CUDA first, newest
    CUDA first)."""
    fw = _fw()
    rows = list(reversed(fw.torch_releases()))
    if release:
        rows = [r for r in rows if r[1] == release]
    else:
        current = fw.torch_release((machine.installed.get("torch") or {}).get("version"))
        if current:
            rows = [r for r in rows if r[1] == current[0]] + \
                [r for r in rows if r[1] != current[0]]
    rank = {"ok": 0, "unknown": 1, "minor_compat": 2}
    for _, name, variants in rows:
        if not release and _python_ok("torch", name, machine) is False:
            continue
        default = _pypi_default(name, machine)
        # The variant PyPI serves on Linux is the most used and tested one: preferred
        # wherever this driver runs it fully (on Windows too, where PyPI has no CUDA).
        mainstream = _linux_default(name)
        fits = {v: fw.variant_fits(info, machine.ccs, facts) for v, info in variants.items()}
        if mainstream in variants and fits.get(mainstream) == "ok":
            chosen = mainstream
        else:
            ranked = sorted((rank.get(fit, 3), tuple(-x for x in fw.version_tuple(
                variants[v].get("cuda"))), v) for v, fit in fits.items() if fit)
            if not ranked:
                continue
            chosen = ranked[0][2]
        return {"release": name, "variant": chosen, "info": variants[chosen],
                "fit": fits[chosen], "default": default, "variants": variants}
    return None


def _torch_why(choice: dict, machine: Machine) -> list[str]:
    fw = _fw()
    release, variant, default = choice["release"], choice["variant"], choice["default"]
    cuda = choice["info"].get("cuda")
    why = []
    if default == variant:
        why.append(f"A plain `pip install torch=={release}.*` already gives the {variant} "
                   f"build here; the index is named so the command gives the same build "
                   "everywhere (mirrors and other OSes differ).")
    elif default == "cpu":
        why.append(f"A plain `pip install torch` on {machine.system} gives the CPU-only "
                   "build: CUDA builds come only from the PyTorch index.")
    elif default in choice["variants"]:
        dinfo = choice["variants"][default]
        problems = _variant_problems(default, dinfo, machine)
        if problems:
            why.append(f"A plain `pip install torch=={release}.*` gives the {default} build "
                       f"(CUDA {dinfo.get('cuda')}), which does not run here: "
                       + "; ".join(problems) + ".")
        else:
            why.append(f"A plain `pip install torch=={release}.*` gives the {default} build "
                       f"(CUDA {dinfo.get('cuda')}), which this driver runs only through "
                       f"minor-version compatibility; {variant} (CUDA {cuda}) it runs fully.")
    arch = " ".join(choice["info"].get("arch") or [])
    covered = [f"{_sm(cc)} by {fw.covering_entry(choice['info'].get('arch') or [], cc)}"
               for cc in machine.ccs]
    why.append(f"torch {release} {variant} is built for CUDA {cuda} ({arch})"
               + (f"; it covers {', '.join(covered)}" if covered else "")
               + (f"; {_driver_phrase(machine)}." if machine.driver else "."))
    if choice["fit"] == "minor_compat":
        verdict = _verdict(cuda, machine) or {}
        why.append(f"The driver is below CUDA {cuda}'s own minimum ({verdict.get('required')}) "
                   "but inside its family's: it runs through minor-version compatibility. "
                   f"Upgrade the driver to {verdict.get('required')} or newer to remove "
                   "the caveat.")
    return why


def _torch_cpu(advice: Advice, machine: Machine, installer: Installer,
               release: Optional[str], wanted: list[str]) -> Advice:
    """No NVIDIA GPU: the CPU build (the installed release, else the newest for this
    Python), from the CPU index so pip does not download CUDA libraries."""
    fw = _fw()
    installed = machine.installed.get("torch")
    advice.expect = {"framework": "torch", "build": "cpu"}
    advice.why.append("No NVIDIA GPU was found, so the CPU build is the one to install.")
    if installed and fw.is_cpu_only("torch", installed) and not release \
            and not set(wanted) - set(machine.distributions):
        advice.build = f"torch {installed.get('version')} (CPU)"
        advice.notes.append(f"torch {installed.get('version')} is a CPU build already: "
                            "nothing to change.")
        return advice
    current = fw.torch_release((installed or {}).get("version"))
    candidates = [r[1] for r in reversed(fw.torch_releases())
                  if _python_ok("torch", r[1], machine) is not False]
    rel = release or (current[0] if current else None) or \
        (candidates[0] if candidates else fw.torch_releases()[-1][1])
    default = _pypi_default(rel, machine)
    advice.build = f"torch {rel} CPU build"
    advice.index_url = fw.index_url(fw.torch_builds()["cpu_variant"])
    if default and default != "cpu":
        advice.why.append(f"A plain `pip install torch` on Linux gives the {default} build, "
                          "with gigabytes of CUDA libraries this machine cannot use; the CPU "
                          "index avoids them.")
    pin = f"torch=={rel}.*"
    if installed and fw.is_cpu_only("torch", installed) and current and current[0] == rel:
        pin = f"torch=={str(installed.get('version')).split('+', 1)[0]}"  # keep it
    elif installed:
        advice.commands.append(Command(f"Remove the installed torch {installed.get('version')}",
                                       installer.uninstall(["torch", *[
                                           n for n in wanted if n in machine.distributions]]),
                                       True))
    specs = [pin, *(_companion_spec(n, rel) for n in wanted)]
    advice.commands.append(Command("Install the CPU build of torch",
                                   installer.install(specs, index_url=advice.index_url)))
    return advice


def advise_torch(machine: Machine, facts: dict, installer: Installer,
                 release: Optional[str] = None, companions: tuple[str, ...] = ()) -> Advice:
    fw = _fw()
    builds = fw.torch_builds()
    advice = Advice("torch", machine.describe(), True, "",
                    sources=[builds["index_url_source"]])
    present = [n for n in ("torchvision", "torchaudio") if n in machine.distributions]
    wanted = list(dict.fromkeys([*companions, *present]))
    installed = machine.installed.get("torch")
    if machine.system == "Darwin":
        advice.build = "torch from PyPI (CPU and the Apple GPU through MPS)"
        advice.why.append("macOS has no CUDA: PyPI's torch uses the Apple GPU through MPS.")
        advice.commands.append(Command("Install torch", installer.install(["torch", *wanted])))
        advice.expect = {"distribution": "torch"}
        return advice
    if not machine.gpus:
        return _torch_cpu(advice, machine, installer, release, wanted)
    choice = _choose_torch(machine, facts, release)
    if choice is None:
        advice.fits = False
        advice.build = "none"
        newest = fw.torch_releases()[-1]
        for name, variant in sorted(newest[2].items()):
            problems = _variant_problems(name, variant, machine)
            if problems:
                advice.why.append(f"torch {newest[1]} {name}: " + "; ".join(problems) + ".")
        if release and not any(r[1] == release for r in fw.torch_releases()):
            advice.why.insert(0, f"torch {release} is not in envdoctor's table "
                                 f"(releases {fw.torch_releases()[0][1]} to {newest[1]}).")
        advice.why.append(f"No torch build in envdoctor's table runs on "
                          f"{_gpu_names(machine, machine.ccs)} with this driver: upgrade the "
                          f"NVIDIA driver, or see {fw.CPU_HINT_URL} for older releases.")
        return advice
    rel, variant = choice["release"], choice["variant"]
    advice.build = f"torch {rel} {variant} (CUDA {choice['info'].get('cuda')})"
    advice.index_url = fw.index_url(variant)
    advice.why = _torch_why(choice, machine)
    advice.sources.append(str(choice["info"].get("source")))
    pin = f"torch=={rel}.*"
    if installed and fw.torch_release(installed.get("version")) \
            and fw.torch_release(installed.get("version"))[0] == rel:
        pin = f"torch=={str(installed.get('version')).split('+', 1)[0]}"
    if installed and installed.get("build") == variant and pin.startswith("torch==" + rel) \
            and not set(companions) - set(machine.distributions):
        advice.notes.append(f"torch {installed.get('version')} ({variant}) is already "
                            "installed: nothing to change.")
        advice.expect = {"framework": "torch", "build": variant}
        return advice
    specs = [pin, *(_companion_spec(n, rel) for n in wanted)]
    if installed:
        # A CPU wheel 2.14.0+cpu already satisfies torch==2.14.0: without the uninstall,
        # pip answers "Requirement already satisfied" and changes nothing.
        advice.commands.append(Command(
            f"Remove the installed torch {installed.get('version')}",
            installer.uninstall(["torch", *[n for n in wanted if n in machine.distributions]]),
            True))
    advice.commands.append(Command(f"Install {advice.build}",
                                   installer.install(specs, index_url=advice.index_url)))
    advice.expect = {"framework": "torch", "build": variant}
    return advice


def advise_torchvision(machine: Machine, facts: dict, installer: Installer,
                       release: Optional[str] = None) -> Advice:
    """torchvision must come from the index of the torch it runs with, at the matching
    version: with a fitting CUDA torch installed, only torchvision is added (torch pinned
    so pip keeps it); otherwise torch and torchvision are installed together."""
    fw = _fw()
    installed = machine.installed.get("torch")
    fit = None
    if installed and machine.gpus and installed.get("build") not in (None, "cpu"):
        variant = fw.torch_variant(installed.get("version"), installed.get("build"))
        if variant is not None and not _variant_problems(installed["build"], variant, machine):
            fit = variant
    if fit is None or release:
        advice = advise_torch(machine, facts, installer, release, companions=("torchvision",))
        advice.package = "torchvision"
        return advice
    rel = fw.torch_release(installed.get("version"))[0]
    build = str(installed.get("build"))
    version = str(installed.get("version")).split("+", 1)[0]
    advice = Advice("torchvision", machine.describe(), True,
                    f"torchvision for torch {installed.get('version')}",
                    index_url=fw.index_url(build),
                    sources=[fw.torch_builds()["companions"]["source"]])
    advice.why.append(f"The installed torch {installed.get('version')} fits this GPU and "
                      f"driver; torchvision {_companion_version('torchvision', rel)} is its "
                      f"pair and must come from the same {build} index, with torch pinned "
                      "so pip does not replace it with PyPI's default build.")
    advice.commands.append(Command(
        "Install the matching torchvision",
        installer.install([f"torch=={version}", _companion_spec("torchvision", rel)],
                          index_url=advice.index_url)))
    advice.expect = {"distribution": "torchvision"}
    return advice


# ------------------------------------------------------------------------------ TensorFlow


def advise_tensorflow(machine: Machine, facts: dict, installer: Installer,
                      release: Optional[str] = None) -> Advice:
    fw = _fw()
    table = fw.tensorflow_builds()
    advice = Advice("tensorflow", machine.describe(), True, "", sources=[table["source"]])
    others = [n for n in ("tensorflow-cpu", "tensorflow-intel", "tensorflow-gpu")
              if n in machine.distributions]
    removal = Command("Remove the other TensorFlow distributions (they share one package "
                      "folder)", installer.uninstall(others), True) if others else None
    rows = [r for r in table["releases"]
            if not release or fw.version_tuple(r["min"]) <= fw.version_tuple(release)[:2]
            <= fw.version_tuple(r["max"])]
    py_rows = [r for r in rows if _python_range_ok(r["python"], machine)]
    if not py_rows:
        advice.fits = False
        advice.build = "none"
        newest = (rows or table["releases"])[0]
        advice.why.append(f"No TensorFlow release in envdoctor's table ships wheels for "
                          f"Python {machine.python_minor}: use a Python TensorFlow "
                          f"{newest['max']} supports ({newest['python']}).")
        return advice
    if machine.system == "Darwin" or not machine.gpus:
        row = py_rows[0]
        advice.build = f"tensorflow {row['max']} (CPU)"
        advice.why.append("No NVIDIA GPU was found: the plain TensorFlow wheel runs on the CPU."
                          if machine.system != "Darwin" else
                          "macOS has no CUDA: the plain TensorFlow wheel runs on the CPU.")
        if removal:
            advice.commands.append(removal)
        advice.commands.append(Command("Install TensorFlow", installer.install(
            [f"tensorflow=={row['max']}.*"])))
        advice.expect = {"distribution": "tensorflow"}
        return advice
    if machine.system == "Windows" and not machine.wsl:
        advice.fits = False
        advice.build = "none on native Windows"
        advice.why.append("TensorFlow has no GPU build for native Windows after "
                          f"{table['windows_last_gpu']}: install it inside WSL2 "
                          f"({table['wsl2_url']}), where this advice applies again.")
        advice.sources.append(table["windows_source"])
        return advice
    for row in py_rows:
        verdict = _verdict(row["cuda"], machine)
        if verdict is not None and verdict.get("verdict") != "ok":
            continue
        and_cuda = fw.version_tuple(row["max"]) >= fw.version_tuple(table["and_cuda_since"])
        advice.build = (f"tensorflow {row['max']} with CUDA {row['cuda']} and cuDNN "
                        f"{row['cudnn']}")
        if removal:
            advice.commands.append(removal)
        spec = (f"tensorflow[and-cuda]=={row['max']}.*" if and_cuda
                else f"tensorflow=={row['max']}.*")
        advice.commands.append(Command(f"Install {advice.build}", installer.install([spec])))
        advice.why.append("A plain `pip install tensorflow` installs no CUDA libraries: it "
                          "uses the GPU only when CUDA and cuDNN of exactly its tested "
                          "versions are installed system-wide. The [and-cuda] extra installs "
                          "them as pip packages." if and_cuda else
                          f"TensorFlow {row['max']} predates the [and-cuda] extra: install "
                          f"CUDA {row['cuda']} and cuDNN {row['cudnn']} yourself.")
        newest = py_rows[0]
        if newest is not row:
            advice.why.append(f"TensorFlow {newest['max']} is built for CUDA {newest['cuda']}, "
                              f"newer than {_driver_phrase(machine)}; {row['max']} is the newest "
                              f"release built for a CUDA it runs ({row['cuda']}).")
        else:
            advice.why.append(f"TensorFlow {row['max']} is built for CUDA {row['cuda']}; "
                              f"{_driver_phrase(machine)}.")
        advice.sources.append(table["and_cuda_source"])
        advice.expect = {"framework": "tensorflow", "build": "cuda"}
        return advice
    advice.fits = False
    advice.build = "none"
    advice.why.append(f"Every TensorFlow release for Python {machine.python_minor} in the "
                      f"table needs a newer driver: {_driver_phrase(machine)}. Upgrade the "
                      "NVIDIA driver.")
    return advice


def _python_range_ok(text: str, machine: Machine) -> bool:
    fw = _fw()
    low, _, high = str(text).partition("-")
    want = machine.python_version[:2]
    return bool(want) and fw.version_tuple(low) <= want <= fw.version_tuple(high or low)


# ------------------------------------------------------------------------------ family channels


def _family_choice(name: str, machine: Machine) -> tuple[Optional[dict], list[str]]:
    """The newest CUDA family row of ``install_channels.json[name]`` this driver runs and
    every GPU supports; and why each newer one was passed over."""
    passed = []
    for row in _channels()[name]["families"]:
        major = row["cuda_major"]
        low = _fw().parse_cc(row["min_cc"])
        old = [cc for cc in machine.ccs if low and cc < low]
        runs = _family_ok(major, machine)
        if runs is False:
            passed.append(f"{row['requirement']} (CUDA {major}) needs driver "
                          f"{_family_minimum(major, machine)} or newer; "
                          f"{_driver_phrase(machine)}")
            continue
        if old:
            passed.append(f"{row['requirement']} (CUDA {major}) supports compute capability "
                          f"{row['min_cc']} and newer, not {_gpu_names(machine, old)}")
            continue
        return row, passed
    return None, passed


def _family_advice(name: str, machine: Machine, installer: Installer, *,
                   label: str, remove: Callable[[dict], list[str]],
                   build_of: Callable[[dict], str], expect: Callable[[dict], dict]) -> Advice:
    chan = _channels()[name]
    advice = Advice(name, machine.describe(), True, "", sources=[chan["source"]])
    system_ok = machine.system in chan["systems"] or (machine.wsl and chan.get("wsl"))
    if not machine.gpus or not system_ok:
        if name in ("cupy", "vllm"):
            advice.fits = False
            advice.build = "none"
            advice.why.append(f"{label} needs an NVIDIA GPU with CUDA on "
                              f"{' or '.join(chan['systems'])}; "
                              + ("no NVIDIA GPU was found." if not machine.gpus else
                                 f"this is {machine.system}.") + f" See {chan['url']}.")
            return advice
        advice.build = f"{chan['plain']} ({chan['plain_is']})"
        advice.why.append(("No NVIDIA GPU was found" if not machine.gpus else
                           f"{label} has no NVIDIA GPU build for {machine.system}")
                          + f": the plain `{chan['plain']}` package ({chan['plain_is']}) "
                            "is the one to install.")
        advice.commands.append(Command(f"Install {label}", installer.install([chan["plain"]],
                                                                             upgrade=True)))
        advice.expect = {"distribution": chan["plain"]}
        return advice
    row, passed = _family_choice(name, machine)
    if row is None:
        advice.fits = False
        advice.build = "none"
        advice.why.extend(p + "." for p in passed)
        advice.why.append(f"No {label} GPU build fits this machine: upgrade the NVIDIA "
                          f"driver. See {chan['url']}.")
        return advice
    advice.build = build_of(row)
    advice.sources.append(row["source"])
    names = remove(row)
    if names:
        advice.commands.append(Command(f"Remove {', '.join(names)} (it would shadow "
                                       f"{row['requirement']})", installer.uninstall(names),
                                       True))
    advice.index_url = row.get("extra_index_url")
    advice.commands.append(Command(f"Install {advice.build}", installer.install(
        [row["requirement"]], extra_index_url=row.get("extra_index_url"), upgrade=True)))
    if chan["plain"] != row["requirement"]:
        advice.why.append(f"A plain `pip install {chan['plain']}` gives {chan['plain_is']}.")
    advice.why.extend(p + "." for p in passed)
    verdict = _verdict(row.get("cuda") or f"{row['cuda_major']}.0", machine)
    built = row.get("cuda") or row["cuda_major"]
    advice.why.append(f"{row['requirement']} is built for CUDA {built}"
                      + (f"; {_driver_phrase(machine)}." if machine.driver else "."))
    if verdict and verdict.get("verdict") == "minor_compat":
        advice.why.append(f"The driver is below CUDA {verdict.get('cuda')}'s own minimum "
                          f"({verdict.get('required')}): it runs through minor-version "
                          "compatibility; upgrade the driver to remove the caveat.")
    advice.expect = expect(row)
    return advice


def advise_jax(machine: Machine, facts: dict, installer: Installer,
               release: Optional[str] = None) -> Advice:
    advice = _family_advice(
        "jax", machine, installer, label="JAX",
        remove=lambda row: [n for n in machine.distributions
                            if n.startswith("jax-cuda") and not n.startswith(
                                f"jax-cuda{row['cuda_major']}")],
        build_of=lambda row: f"{row['requirement']} (CUDA {row['cuda_major']} plugin)",
        expect=lambda row: {"distribution": f"jax-cuda{row['cuda_major']}-plugin"})
    if machine.wsl:
        advice.notes.append("JAX on WSL2 GPUs is experimental (JAX installation guide).")
    if advice.fits and machine.gpus:
        advice.notes.append("The CUDA wheels bring their own CUDA libraries: leave "
                            "LD_LIBRARY_PATH unset, or it can shadow them.")
    return advice


def advise_cupy(machine: Machine, facts: dict, installer: Installer,
                release: Optional[str] = None) -> Advice:
    return _family_advice(
        "cupy", machine, installer, label="CuPy",
        remove=lambda row: [n for n in machine.distributions
                            if (n == "cupy" or n.startswith("cupy-cuda"))
                            and n != row["requirement"]],
        build_of=lambda row: f"{row['requirement']} (CUDA {row['cuda_major']}.x)",
        expect=lambda row: {"distribution": row["requirement"]})


def advise_onnxruntime(machine: Machine, facts: dict, installer: Installer,
                       release: Optional[str] = None) -> Advice:
    advice = _family_advice(
        "onnxruntime", machine, installer, label="ONNX Runtime",
        remove=lambda row: [n for n in ("onnxruntime",) if n in machine.distributions],
        build_of=lambda row: f"{row['requirement']} (CUDA {row['cuda_major']}.x, cuDNN 9)",
        expect=lambda row: {"framework": "onnxruntime", "build": "gpu"})
    if advice.fits and machine.gpus:
        advice.notes.append("onnxruntime-gpu loads the CUDA 12 and cuDNN 9 libraries at run "
                            "time: install them (e.g. the nvidia-*-cu12 wheels torch brings, "
                            "or the system packages) if they are not already there.")
    return advice


def advise_vllm(machine: Machine, facts: dict, installer: Installer,
                release: Optional[str] = None) -> Advice:
    advice = _family_advice(
        "vllm", machine, installer, label="vLLM", remove=lambda row: [],
        build_of=lambda row: f"vllm (CUDA {row['cuda']} binaries, torch from the "
                             f"cu{row['cuda'].replace('.', '')} index)",
        expect=lambda row: {"distribution": "vllm"})
    if advice.fits and machine.gpus:
        if installer.kind == "uv":
            uv_cmd = ["uv", "pip", "install", "--python", installer.python, "vllm",
                      "--torch-backend=auto"]
            advice.commands[-1] = Command(f"Install {advice.build}", uv_cmd)
            advice.why.append("uv's --torch-backend=auto picks the torch index from this "
                              "driver (vLLM installation guide).")
        advice.notes.append("vLLM pins an exact torch release: install it into a fresh "
                            "virtual environment, or it replaces the torch already here.")
        if "torch" in machine.installed:
            advice.notes.append(f"torch {machine.installed['torch'].get('version')} is "
                                "installed here and will be replaced by the torch vLLM pins.")
    return advice


ADVISORS: dict[str, Callable[..., Advice]] = {
    "torch": advise_torch, "torchvision": advise_torchvision,
    "tensorflow": advise_tensorflow, "jax": advise_jax, "cupy": advise_cupy,
    "onnxruntime": advise_onnxruntime, "vllm": advise_vllm,
}


def advise(package: str, facts: dict, installer_kind: str = "auto",
           release: Optional[str] = None) -> Advice:
    """The install advice for ``package`` (one of :data:`PACKAGES`) on the machine
    ``facts`` describe."""
    from envdoctor.install.machine import choose_installer

    machine = Machine.from_facts(facts)
    installer, notes = choose_installer(machine, installer_kind)
    advice = ADVISORS[package](machine, facts, installer, release)
    advice.notes = notes + advice.notes
    if advice.restore == [] and any(c.destructive for c in advice.commands):
        advice.restore = _restore(machine, installer)
    from envdoctor.hints import shell_of_path

    for command in [*advice.commands, *advice.restore]:
        command.shell = shell_of_path(installer.python)
    return advice


def _restore(machine: Machine, installer: Installer) -> list[Command]:
    """Reinstall the torch build an advice removes (same version, from its own index):
    run by the fix engine when a step after the uninstall fails."""
    fw = _fw()
    torch = machine.installed.get("torch")
    build = str((torch or {}).get("build") or "")
    if not torch or not (build == "cpu" or re.fullmatch(r"cu\d{2,3}", build)):
        return []
    specs = [f"torch=={torch.get('version')}"]
    specs += [f"{n}=={machine.distributions[n]}" for n in ("torchvision", "torchaudio")
              if n in machine.distributions]
    return [Command(f"Reinstall torch {torch.get('version')}",
                    installer.install(specs, index_url=fw.index_url(build)))]
