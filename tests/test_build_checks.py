"""build.host_compiler, build.cuda_paths, build.jit_extensions on facts the real toolchain
probe wrote: this machine's gcc 12 and CUDA 13.0 nvcc, and fake compilers / toolkits on
PATH printing real version lines of other releases (tests/data/toolchain/SOURCES.md)."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from conftest import facts_fixture, run_check, run_envdoctor
from test_toolchain import REAL_HEADER, capture, fake_tool, fake_toolkit

from envdoctor.probes import ProbeContext
from envdoctor.probes.toolchain import probe_toolchain

POSIX = pytest.mark.skipif(os.name != "posix", reason="fake executables are POSIX scripts")
LINUX = {"system": "Linux"}


def toolchain(path: str, **env: str) -> dict:
    return probe_toolchain(ProbeContext(timeout=5, environ={"PATH": path, **env}))


def codes(result) -> list[str]:
    return [f.code for f in result.findings]


def torch_facts(version: str = "2.3.0+cu121", cuda: str = "12.1") -> dict:
    return {"installed": {"torch": {"version": version, "cuda": cuda, "distribution": "torch"}}}


# -- build.host_compiler ----------------------------------------------------------------------

@POSIX
def test_gcc_13_with_cuda_12_1_fails_like_nvcc_does(tmp_path):
    """NVlabs/instant-ngp#1562: Ubuntu 24.04's gcc 13.2.0 and CUDA 12.1 -> "gcc versions
    later than 12 are not supported!"."""
    bindir = tmp_path / "bin"
    fake_tool(bindir, "g++", capture("gcc-13.2-ubuntu.txt").replace("gcc (", "g++ ("))
    toolkit = fake_toolkit(tmp_path / "cuda-12.1", "12.1", 12)
    facts = toolchain(f"{toolkit / 'bin'}{os.pathsep}{bindir}")
    result = run_check("build.host_compiler", facts_fixture(toolchain=facts, platform=LINUX))
    assert result.status.value == "fail" and codes(result) == ["build.E001"]
    finding = result.findings[0]
    assert "nvcc 12.1 accepts GCC up to 12" in finding.message
    assert "g++ 13.2.0" in finding.message
    assert "gcc versions later than 12 are not supported!" in finding.message
    assert "sudo apt install gcc-12 g++-12" in finding.hint
    assert "export NVCC_CCBIN=/usr/bin/g++-12" in finding.hint
    assert "CUDA 12.5 or newer" in finding.hint  # the table's oldest release taking GCC 13


@POSIX
def test_nvcc_ccbin_pointing_at_an_old_gcc_passes(tmp_path):
    bindir = tmp_path / "bin"
    fake_tool(bindir, "g++", capture("gcc-13.2-ubuntu.txt"))
    fake_tool(tmp_path / "old", "g++-5", capture("gcc-5.3-fedora.txt"))
    toolkit = fake_toolkit(tmp_path / "cuda-12.1", "12.1", 12)
    facts = toolchain(f"{toolkit / 'bin'}{os.pathsep}{bindir}",
                      NVCC_CCBIN=str(tmp_path / "old" / "g++-5"))
    result = run_check("build.host_compiler", facts_fixture(toolchain=facts, platform=LINUX))
    assert result.status.value == "pass", result.findings
    assert "g++-5 5.3.1" in result.summary


@POSIX
def test_visual_studio_2017_with_a_cuda_13_header_fails(tmp_path):
    """cl 19.10 (VS 2017, _MSC_VER 1910) against CUDA 13.0's range 1920-1949."""
    fake_tool(tmp_path / "vs", "cl", capture("cl-19.10-vs2017.txt"), mode="stderr")
    toolkit = fake_toolkit(tmp_path / "cuda-13.0", "13.0", 15)
    header = toolkit / "include" / "crt" / "host_config.h"
    header.write_text(header.read_text() + "#if _MSC_VER < 1920 || _MSC_VER >= 1950\n#error -- "
                      "unsupported Microsoft Visual Studio version! Only the versions between "
                      "2019 and 2022 (inclusive) are supported!\n#endif\n")
    facts = toolchain(str(toolkit / "bin"), NVCC_CCBIN=str(tmp_path / "vs" / "cl"))
    assert facts["nvcc_host"]["msc_ver"] == 1910
    result = run_check("build.host_compiler", facts_fixture(toolchain=facts, platform=LINUX))
    assert codes(result) == ["build.E002"]
    assert "_MSC_VER 1920 to 1949" in result.findings[0].message
    assert "(_MSC_VER 1910)" in result.findings[0].message


@POSIX
def test_missing_host_compiler_and_no_compiler_at_all(tmp_path):
    toolkit = fake_toolkit(tmp_path / "cuda-12.8", "12.8", 14)
    facts = toolchain(str(toolkit / "bin"))
    result = run_check("build.host_compiler", facts_fixture(toolchain=facts, platform=LINUX))
    assert codes(result) == ["build.W001"] and "g++" in result.findings[0].message
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_check("build.host_compiler",
                       facts_fixture(toolchain=toolchain(str(empty)), platform=LINUX))
    assert codes(result) == ["build.I001"] and result.status.value == "pass"
    assert "build-essential" in result.findings[0].hint


def test_a_release_between_table_rows_is_judged_only_where_the_rows_agree():
    """No header read: CUDA 12.4 lies between the 12.1 (GCC 12) and 12.5 (GCC 13) rows."""
    def verdict(gcc_major: int) -> list[str]:
        facts = {"nvcc": {"path": "/usr/local/cuda-12.4/bin/nvcc", "version": "12.4"},
                 "nvcc_host": {"compiler": "g++", "from": "default", "path": "/usr/bin/g++",
                               "version": f"{gcc_major}.1.0", "major": gcc_major,
                               "line": f"g++ (GCC) {gcc_major}.1.0"},
                 "nvcc_host_limits": None, "compilers": {}}
        return codes(run_check("build.host_compiler", facts_fixture(toolchain=facts,
                                                                    platform=LINUX)))
    assert verdict(12) == []
    assert verdict(13) == ["build.W002"]
    assert verdict(14) == ["build.E001"]


@pytest.mark.skipif(not (shutil.which("nvcc") and shutil.which("g++") and REAL_HEADER.is_file()),
                    reason="needs this machine's real g++ and CUDA 13.0 nvcc")
def test_the_real_gcc_12_and_cuda_13_pass():
    facts = toolchain(os.environ.get("PATH", ""))
    result = run_check("build.host_compiler", facts_fixture(toolchain=facts, platform=LINUX))
    assert result.status.value == "pass"
    assert "nvcc 13.0 with host compiler g++ 12." in result.summary


# -- build.cuda_paths -----------------------------------------------------------------------

@POSIX
def test_an_older_cuda_first_on_path_a_bad_cuda_home_and_mixed_ld_library_path(tmp_path):
    old = fake_toolkit(tmp_path / "cuda-11.8", "11.8", 11)
    new = fake_toolkit(tmp_path / "cuda-12.4", "12.4", 13)
    path = os.pathsep.join([str(old / "bin"), str(new / "bin"), str(tmp_path / "gone"),
                            str(old / "bin")])
    facts = toolchain(path, CUDA_HOME=str(tmp_path / "cuda-12.9"))
    cuda = {"ld_library_path": [
        {"path": str(old / "lib64"), "exists": True, "libraries": ["libcudart.so.11.0"]},
        {"path": str(new / "lib64"), "exists": True, "libraries": ["libcudart.so.12",
                                                                   "libcudnn.so.9"]}]}
    result = run_check("build.cuda_paths", facts_fixture(toolchain=facts, cuda=cuda,
                                                         platform=LINUX))
    assert sorted(codes(result)) == ["build.I010", "build.I011", "build.W010", "build.W012",
                                     "build.W013"]
    by_code = {f.code: f for f in result.findings}
    assert "(CUDA 11.8), is older than" in by_code["build.W012"].message
    assert f"export PATH={new / 'bin'}:$PATH" in by_code["build.W012"].hint
    assert "does not exist" in by_code["build.W010"].message
    assert "libcudart 11 in" in by_code["build.W013"].message


@POSIX
def test_cuda_home_on_another_toolkit_than_path(tmp_path):
    old = fake_toolkit(tmp_path / "cuda-11.8", "11.8", 11)
    new = fake_toolkit(tmp_path / "cuda-12.4", "12.4", 13)
    facts = toolchain(str(new / "bin"), CUDA_HOME=str(old))
    result = run_check("build.cuda_paths", facts_fixture(toolchain=facts, platform=LINUX))
    assert codes(result) == ["build.W011"]
    assert "CUDA_HOME names CUDA 11.8" in result.findings[0].message


# -- build.jit_extensions ---------------------------------------------------------------------

@POSIX
def test_cuda_torch_without_toolkit_ninja_or_compiler(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    facts = toolchain(str(empty))
    facts["cuda_home"]["torch_extensions"] = {"path": None, "from": None, "cuda_version": None}
    result = run_check("build.jit_extensions", facts_fixture(
        toolchain=facts, frameworks=torch_facts(), platform=LINUX,
        python={"version_info": [3, 11, 9], "environment": "virtualenv"}))
    assert sorted(codes(result)) == ["build.W020", "build.W022", "build.W024"]
    w022 = next(f for f in result.findings if f.code == "build.W022")
    assert "CUDA_HOME environment variable is not set" in w022.message
    assert "cuda-toolkit-12-1" in w022.hint


@POSIX
def test_toolkit_major_differs_from_torch_cuda(tmp_path):
    old = fake_toolkit(tmp_path / "cuda-11.8", "11.8", 11)
    fake_tool(old / "bin", "ninja", "1.11.1\n")
    fake_tool(old / "bin", "g++", capture("gcc-12.2-debian.txt").replace("gcc (", "g++ ("))
    facts = toolchain(str(old / "bin"))
    result = run_check("build.jit_extensions", facts_fixture(
        toolchain=facts, frameworks=torch_facts(), platform=LINUX))
    assert codes(result) == ["build.W023"]
    assert "The detected CUDA version (11.8) mismatches the version that was used to " \
           "compile PyTorch (12.1)" in result.findings[0].message


def test_missing_python_headers_and_no_torch():
    facts = {"python_headers": {"include_dir": "/usr/include/python3.11", "python_h": False},
             "ninja": {"version": "1.11.1"}, "compilers": {"g++": {"version": "12.2.0"}},
             "cuda_home": {}}
    result = run_check("build.jit_extensions", facts_fixture(
        toolchain=facts, frameworks=torch_facts("2.13.0+cpu", None), platform=LINUX,
        python={"version_info": [3, 11, 7], "environment": "virtualenv"}))
    assert codes(result) == ["build.W021"]
    assert "sudo apt install python3.11-dev" in result.findings[0].hint
    result = run_check("build.jit_extensions", facts_fixture(
        toolchain=facts, frameworks={"installed": {}}, platform=LINUX))
    assert result.status.value == "skip"


def test_cli_only_build_on_this_machine():
    proc = run_envdoctor("check", "--json", "--only", "build")
    report = json.loads(proc.stdout)
    assert {c["id"] for c in report["checks"]} == {"build.host_compiler", "build.cuda_paths",
                                                   "build.jit_extensions"}
    assert all(c["status"] != "error" for c in report["checks"]), report["checks"]


# -- a pasted collect_env (envdoctor/readers) -------------------------------------------------

def _pasted(name: str) -> dict:
    from conftest import REPO

    proc = run_envdoctor("check", "--json", "--from",
                         str(REPO / "tests" / "data" / "pastes" / name), "--only", "build")
    return json.loads(proc.stdout)


def test_a_pasted_collect_env_fills_the_toolchain_facts_and_is_judged():
    """pytorch/pytorch#46973 (Colab): GCC 7.5.0, CMake 3.12.0, clang 6.0.0, nvcc 10.1.243;
    CUDA 10.1 accepts GCC up to 8."""
    report = _pasted("05-pytorch-46973-colab-t4.txt")
    toolchain = report["facts"]["toolchain"]
    assert toolchain["compilers"]["gcc"]["version"] == "7.5.0"
    assert toolchain["compilers"]["clang"]["version"] == "6.0.0"
    assert toolchain["cmake"]["version"] == "3.12.0"
    assert toolchain["nvcc"]["full_version"] == "10.1.243"
    check = next(c for c in report["checks"] if c["id"] == "build.host_compiler")
    assert check["status"] == "pass" and "gcc 7.5.0 (accepted)" in check["summary"]
    others = [c for c in report["checks"] if c["id"] != "build.host_compiler"]
    assert all(c["status"] == "skip" for c in others)


def test_a_pasted_windows_collect_env_does_not_take_mingw_gcc_for_nvccs_compiler():
    """pytorch/pytorch#40682: Windows, MinGW GCC 9.2.0 on PATH, CUDA 10.1: nvcc uses
    MSVC there, which collect_env does not show, so the pair is not judged."""
    report = _pasted("01-pytorch-40682-windows-quoted.txt")
    check = next(c for c in report["checks"] if c["id"] == "build.host_compiler")
    assert check["status"] == "skip"
