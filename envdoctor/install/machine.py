"""What an install command depends on, read once from a facts document."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from envdoctor.facts import as_dict, text

INSTALLERS = ("auto", "pip", "uv")


@dataclass(frozen=True)
class Installer:
    """How packages get into the target environment: ``pip`` runs as ``<python> -m pip``
    (never a bare ``pip``, which may belong to another Python); ``uv`` as
    ``uv pip ... --python <python>``."""

    kind: str
    python: str

    def _base(self, verb: str) -> list[str]:
        if self.kind == "uv":
            return ["uv", "pip", verb, "--python", self.python]
        return [self.python, "-m", "pip", verb]

    def install(self, requirements: list[str], index_url: Optional[str] = None,
                extra_index_url: Optional[str] = None, upgrade: bool = False) -> list[str]:
        argv = self._base("install")
        if upgrade:
            argv.append("--upgrade")
        argv += requirements
        if index_url:
            argv += ["--index-url", index_url]
        if extra_index_url:
            argv += ["--extra-index-url", extra_index_url]
        return argv

    def uninstall(self, names: list[str]) -> list[str]:
        # uv pip uninstall never asks; pip needs -y or it waits for an answer.
        return self._base("uninstall") + ([] if self.kind == "uv" else ["-y"]) + names


@dataclass
class Machine:
    """The facts an install depends on. ``gpus`` are the NVIDIA GPUs CUDA programs will
    see (CUDA_VISIBLE_DEVICES applied), each with ``name`` and ``cc`` (major, minor)."""

    system: str
    wsl: bool
    cpu_arch: str
    python_version: tuple[int, ...]
    python: str
    environment: str
    venv_creator: Optional[str]
    has_pip: Optional[bool]
    externally_managed: bool
    driver: Optional[str]
    driver_cuda: Optional[str]
    gpus: list[dict[str, Any]] = field(default_factory=list)
    installed: dict[str, dict] = field(default_factory=dict)
    distributions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_facts(cls, facts: dict[str, Any]) -> Machine:
        from envdoctor.checks import _framework as fw
        from envdoctor.hints import python_executable

        plat = as_dict(facts.get("platform"))
        py = as_dict(facts.get("python"))
        interp = as_dict(as_dict(facts.get("pip")).get("interpreter"))
        nvidia = as_dict(facts.get("nvidia"))
        env = as_dict(facts.get("python_env"))
        version = tuple(v for v in (py.get("version_info") or interp.get("python_version")
                                    or []) if isinstance(v, int))
        gpus = []
        for gpu in fw.visible_gpus(facts):
            gpus.append({"name": text(gpu.get("name")) or "NVIDIA GPU",
                         "cc": fw.parse_cc(gpu.get("compute_capability"))})
        pip_module = env.get("pip_module")
        return cls(
            system=text(plat.get("system")) or "",
            wsl=bool(plat.get("wsl")),
            cpu_arch=text(plat.get("machine")) or text(interp.get("machine")) or "",
            python_version=version,
            python=python_executable(facts),
            environment=text(py.get("environment")) or "",
            venv_creator=text(py.get("venv_creator")),
            has_pip=(bool(pip_module.get("module")) if isinstance(pip_module, dict)
                     else None),
            externally_managed=bool(py.get("externally_managed")),
            driver=text(nvidia.get("driver_version")),
            driver_cuda=text(nvidia.get("cuda_driver_version")),
            gpus=gpus,
            installed=fw.installed(facts),
            distributions={str(k): str(v) for k, v in as_dict(as_dict(
                facts.get("packages")).get("distributions")).items()},
        )

    @property
    def ccs(self) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        for gpu in self.gpus:
            if gpu["cc"] and gpu["cc"] not in found:
                found.append(gpu["cc"])
        return found

    @property
    def python_minor(self) -> str:
        return ".".join(str(v) for v in self.python_version[:2]) or "?"

    @property
    def driver_system(self) -> str:
        """Which driver table applies: WSL2 runs the Windows driver."""
        return "Windows" if self.wsl or self.system == "Windows" else "Linux"

    def supported_cuda(self) -> Optional[str]:
        """The newest CUDA this driver runs: what the driver reports, else the newest
        toolkit whose own minimum it meets."""
        if self.driver_cuda:
            return self.driver_cuda
        if not self.driver:
            return None
        from envdoctor import cudacompat

        return cudacompat.newest_cuda_for_driver(self.driver, self.driver_system)

    def describe(self) -> list[str]:
        """One line per fact the advice depends on."""
        where = self.system or "unknown OS"
        if self.wsl:
            where += " (WSL2)"
        lines = [f"OS: {where}, {self.cpu_arch or 'unknown CPU'}",
                 f"Python: {'.'.join(map(str, self.python_version)) or 'unknown'} "
                 f"({self.environment or 'unknown environment'}"
                 + (f", made by {self.venv_creator}" if self.venv_creator else "") + ")"]
        if self.gpus:
            names = ", ".join(f"{g['name']}" + (f" (sm_{g['cc'][0]}{g['cc'][1]})"
                                                  if g["cc"] else "") for g in self.gpus)
            lines.append(f"GPU: {names}")
            cuda = self.supported_cuda()
            lines.append(f"NVIDIA driver: {self.driver or 'unknown'}"
                         + (f" (runs CUDA up to {cuda})" if cuda else ""))
        else:
            lines.append("GPU: no NVIDIA GPU found")
        return lines


def choose_installer(machine: Machine, requested: str = "auto") -> tuple[Installer, list[str]]:
    """The installer to use and notes about it. ``auto``: uv for an environment uv made
    (it has no pip), else pip through this interpreter."""
    notes: list[str] = []
    kind = requested
    if kind == "auto":
        kind = "uv" if machine.venv_creator == "uv" or machine.has_pip is False else "pip"
        if machine.has_pip is False and machine.venv_creator != "uv":
            notes.append("This Python has no pip module, so the commands use uv "
                         "(or add pip with: " f"{_display(machine.python)} -m ensurepip).")
    if machine.environment == "conda":
        notes.append("This is a conda environment: the commands install with pip into it. "
                     "PyTorch no longer publishes conda packages (pytorch/pytorch#138506); "
                     "do not mix in `conda install` of the same package afterwards.")
    if machine.externally_managed and kind == "pip":
        notes.append("This system Python refuses `pip install` (PEP 668): create a virtual "
                     f"environment first ({_display(machine.python)} -m venv .venv), then run "
                     "envdoctor install from it.")
    return Installer(kind, machine.python), notes


def _display(path: str) -> str:
    return f'"{path}"' if " " in path else path
