"""collect_env parity: every fact `python -m torch.utils.collect_env` prints is in an
envdoctor report, and says the same thing.

FIELDS maps each field of the installed torch's ``collect_env.SystemEnv`` (the current
release's list, read at test time: a field a new torch adds fails the first test until
it is mapped) to where the report keeps it, and a comparison of the two values taken on
this machine in the same environment: collect_env in a child process, `envdoctor check
--json` in another. The same table is in docs/checks/framework.md.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from typing import Any, Callable, Optional

import pytest
from conftest import run_envdoctor

# torch is never imported into the test process (other tests check that envdoctor keeps
# it out of sys.modules): collect_env runs in a child.
pytestmark = [pytest.mark.torch,
              pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                 reason="torch is not installed (pip install torch==2.13.0)")]

Report = dict[str, Any]


def at(report: Report, path: str) -> Any:
    """The value at a dotted path of the report's facts (None when any step is missing)."""
    node: Any = report["facts"]
    for key in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def na(value: Any) -> bool:
    """collect_env's ways of saying "nothing": None, "N/A", "Could not collect", ""."""
    return value in (None, "", "N/A", "Could not collect") or value == {}


def same_or_both_absent(ours: Any, theirs: Any) -> bool:
    if na(theirs):
        return ours in (None, [], {}, False, "")
    return str(ours) == str(theirs)


def _os(report: Report, ce: str) -> bool:
    plat = at(report, "platform")
    name = (plat.get("distribution") or {}).get("name") or plat.get("system")
    return ce == f"{name} ({plat.get('machine')})"


def _libc(report: Report, ce: str) -> bool:
    libc = at(report, "platform.libc") or {}
    return ce == f"{libc.get('name')}-{libc.get('version')}" if not na(ce) else not libc


def _python(report: Report, ce: str) -> bool:
    py = at(report, "python")
    return (ce.startswith(py["version"] + " ") and f"({py['bits']}-bit runtime)" in ce
            and f"[{py['compiler']}]" in ce)


def _python_platform(report: Report, ce: str) -> bool:
    plat = at(report, "platform")
    return ce.startswith(f"{plat['system']}-{plat['release']}-{plat['machine']}")


def _gcc(report: Report, ce: Optional[str]) -> bool:
    gcc = at(report, "toolchain.compilers.gcc") or {}
    if na(ce):
        return gcc.get("version") is None
    return gcc.get("version") is not None and ce in gcc.get("line", "")


def _clang(report: Report, ce: Optional[str]) -> bool:
    clang = at(report, "toolchain.compilers.clang") or {}
    if na(ce):
        return clang.get("version") is None
    return ce.startswith(str(clang.get("version")))


def _cmake(report: Report, ce: Optional[str]) -> bool:
    version = at(report, "toolchain.cmake.version")
    return version is None if na(ce) else ce == f"version {version}"


def _gpus(report: Report, ce: Optional[str]) -> bool:
    names = [g.get("name") for g in at(report, "nvidia.gpus") or []]
    if na(ce):
        return names == []
    return all(name in ce for name in names)


def _cudnn(report: Report, ce: Optional[str]) -> bool:
    found = at(report, "cuda.cudnn") or []
    if na(ce):
        return found == []
    return bool(found)


def _pip(report: Report, ce: Optional[str]) -> bool:
    dists = at(report, "packages.distributions") or {}
    if na(ce):
        return True
    for line in ce.splitlines():
        name, _, version = line.strip().partition("==")
        if version and dists.get(name.lower().replace("_", "-")) != version:
            return False
    return True


def _conda(report: Report, ce: Optional[str]) -> bool:
    packages = {p["name"]: p["version"] for p in at(report, "conda.packages") or []}
    if na(ce):
        return packages == {} or at(report, "conda.prefix") is not None
    for line in ce.splitlines():
        parts = line.split()
        if len(parts) >= 2 and packages.get(parts[0]) != parts[1]:
            return False
    return True


def _allocator(report: Report, ce: Any) -> bool:
    variables = at(report, "env.variables") or {}
    ours = {k: v for k, v in variables.items()
            if k in ("PYTORCH_CUDA_ALLOC_CONF", "PYTORCH_HIP_ALLOC_CONF", "PYTORCH_ALLOC_CONF")}
    return ours == ({} if na(ce) else dict(ce))


def _cpu(report: Report, ce: Optional[str]) -> bool:
    cpu = at(report, "cpu") or {}
    return na(ce) or (not cpu.get("model") or str(cpu["model"]) in ce)


def _truth(path: str) -> Callable[[Report, Any], bool]:
    def compare(report: Report, ce: Any) -> bool:
        ours = at(report, path)
        if na(ce):
            return ours in (None, False)
        return str(bool(ours)) == str(ce)
    return compare


def _value(path: str) -> Callable[[Report, Any], bool]:
    return lambda report, ce: same_or_both_absent(at(report, path), ce)


# collect_env field -> (where the report keeps it, how the two compare)
FIELDS: dict[str, tuple[str, Callable[[Report, Any], bool]]] = {
    "torch_version": ("frameworks.installed.torch.version",
                      _value("frameworks.installed.torch.version")),
    "is_debug_build": ("frameworks.installed.torch.debug",
                       _truth("frameworks.installed.torch.debug")),
    "cuda_compiled_version": ("frameworks.installed.torch.cuda",
                              _value("frameworks.installed.torch.cuda")),
    "gcc_version": ("toolchain.compilers.gcc", _gcc),
    "clang_version": ("toolchain.compilers.clang", _clang),
    "cmake_version": ("toolchain.cmake", _cmake),
    "os": ("platform.distribution.name, platform.machine", _os),
    "libc_version": ("platform.libc", _libc),
    "python_version": ("python.version, python.compiler, python.bits", _python),
    "python_platform": ("platform.system, platform.release, platform.machine",
                        _python_platform),
    "is_cuda_available": ("frameworks.live.torch.cuda_available",
                          _truth("frameworks.live.torch.cuda_available")),
    "cuda_runtime_version": ("toolchain.nvcc.full_version",
                             _value("toolchain.nvcc.full_version")),
    "cuda_module_loading": ("frameworks.live.torch.cuda_module_loading (env.variables."
                            "CUDA_MODULE_LOADING as set)",
                            _value("frameworks.live.torch.cuda_module_loading")),
    "nvidia_driver_version": ("nvidia.driver_version", _value("nvidia.driver_version")),
    "nvidia_gpu_models": ("nvidia.gpus[].name", _gpus),
    "cudnn_version": ("cuda.cudnn (every cuDNN found, with its file)", _cudnn),
    "is_xpu_available": ("frameworks.live.torch.xpu_available",
                         _truth("frameworks.live.torch.xpu_available")),
    "pip_version": ("python.version_info[0] (pip3 for Python 3)",
                    lambda report, ce: ce == f"pip{at(report, 'python.version_info')[0]}"),
    "pip_packages": ("packages.distributions (every installed distribution)", _pip),
    "conda_packages": ("conda.packages (from conda-meta, every package)", _conda),
    "hip_compiled_version": ("frameworks.installed.torch.hip",
                             _value("frameworks.installed.torch.hip")),
    "hip_runtime_version": ("frameworks.live.torch.hip_version (ROCm builds)",
                            _value("frameworks.live.torch.hip_version")),
    "miopen_runtime_version": ("frameworks.live.torch.miopen (ROCm builds)",
                               _value("frameworks.live.torch.miopen")),
    "caching_allocator_config": ("env.variables.PYTORCH_*ALLOC_CONF", _allocator),
    "is_xnnpack_available": ("frameworks.live.torch.xnnpack_available",
                             _truth("frameworks.live.torch.xnnpack_available")),
    "cpu_info": ("cpu (model, vendor, flags, cores)", _cpu),
}

CHILD = ("import json\nfrom torch.utils import collect_env\n"
         "print(json.dumps({'fields': list(collect_env.SystemEnv._fields), 'values': "
         "collect_env.get_env_info()._asdict()}, default=str))\n")


@pytest.fixture(scope="module")
def both() -> tuple[dict[str, Any], Report]:
    """collect_env's fields and envdoctor's report, taken side by side on this machine."""
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    child = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(child["values"]) == set(child["fields"])
    report = json.loads(run_envdoctor("check", "--json", "--no-redact", env=env,
                                      timeout=300).stdout)
    return child["values"], report


def test_every_collect_env_field_of_this_torch_release_is_mapped(both):
    fields = set(both[0])
    assert fields == set(FIELDS), (
        f"unmapped: {sorted(fields - set(FIELDS))}; gone: {sorted(set(FIELDS) - fields)}")


def differences(theirs: dict[str, Any], report: Report) -> dict[str, Any]:
    return {field: (theirs[field], where) for field, (where, same) in FIELDS.items()
            if field in theirs and not same(report, theirs[field])}


def test_every_mapped_fact_says_what_collect_env_says(both):
    theirs, report = both
    differ = differences(theirs, report)
    assert not differ, json.dumps(differ, indent=1, default=str)


def test_the_comparison_notices_a_report_that_says_otherwise(both):
    theirs, report = both
    wrong = json.loads(json.dumps(report))
    facts = wrong["facts"]
    facts["frameworks"]["installed"]["torch"]["version"] = "1.0.0"
    facts["toolchain"]["compilers"]["gcc"] = {"version": "4.8.5", "line": "gcc (GCC) 4.8.5"}
    facts["toolchain"]["cmake"] = {"version": "2.8.12"}
    facts["platform"]["libc"] = {"name": "musl", "version": "1.2"}
    facts["frameworks"]["live"]["torch"]["xnnpack_available"] = \
        not facts["frameworks"]["live"]["torch"].get("xnnpack_available")
    differ = differences(theirs, wrong)
    expected = {"torch_version", "libc_version", "is_xnnpack_available"}
    if not na(theirs.get("gcc_version")):
        expected.add("gcc_version")
    if not na(theirs.get("cmake_version")):
        expected.add("cmake_version")
    assert expected <= set(differ), differ
