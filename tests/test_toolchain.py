"""The toolchain and conda probes: real gcc / cmake / ninja / nvcc where this machine has
them, fake compilers on PATH printing real version lines of other releases
(tests/data/toolchain/SOURCES.md), a fake toolkit folder with the host_config.h guard
lines a release's error quotes, and a fake conda-meta folder."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO

from envdoctor.probes import ProbeContext
from envdoctor.probes.conda import probe_conda
from envdoctor.probes.toolchain import probe_toolchain
from envdoctor.toolchain import host_config, versions

DATA = REPO / "tests" / "data" / "toolchain"
POSIX = pytest.mark.skipif(os.name != "posix", reason="fake executables are POSIX scripts")
REAL_HEADER = Path("/usr/local/cuda-13.0/include/crt/host_config.h")


def capture(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


# -- version lines ------------------------------------------------------------------------

@pytest.mark.parametrize("name, parser, version, major", [
    ("gcc-13.2-ubuntu.txt", "gcc", "13.2.0", 13),
    ("gcc-5.3-fedora.txt", "gcc", "5.3.1", 5),
    ("gcc-12.2-debian.txt", "gcc", "12.2.0", 12),
    ("clang-12-ubuntu.txt", "clang", "12.0.1", 12),
    ("clang-10-ubuntu-llvm-apt.txt", "clang", "10.0.1", 10),
    ("cl-19.10-vs2017.txt", "msvc", "19.10.25017", 19),
    ("cmake-3.28.3.txt", "cmake", "3.28.3", 3),
    ("nvcc-13.0.txt", "nvcc", "13.0", 13),
])
def test_real_version_lines_are_read(name, parser, version, major):
    info = versions.PARSERS[parser](capture(name))
    assert info is not None and info["version"] == version and info["major"] == major
    assert info["line"] in capture(name)


def test_msvc_version_is_turned_into_msc_ver():
    assert versions.msvc(capture("cl-19.10-vs2017.txt"))["msc_ver"] == 1910


@pytest.mark.parametrize("text", ["", "garbage\x00\xff", "Ubuntu clang version 12.0.1",
                                  "gcc: error: unrecognized option", "x" * 100_000])
def test_outputs_that_are_not_gcc_are_not_read_as_gcc(text):
    assert versions.gcc(text) is None


# -- host_config.h --------------------------------------------------------------------------

def test_guard_lines_quoted_from_releases_give_their_limits():
    # CUDA 12.8 (pytorch/pytorch#173366 quotes these lines) and the CUDA 9.1 MSVC guard
    # (fireice-uk/xmr-stak#962).
    header = ("#if __GNUC__ > 14\n\n#error -- unsupported GNU version! gcc versions later "
              "than 14 are not supported! The nvcc flag '-allow-unsupported-compiler' can "
              "be used\n\n#endif /* __GNUC__ > 14 */\n"
              "#if _MSC_VER < 1600 || _MSC_VER > 1911\n\n#error -- unsupported Microsoft "
              "Visual Studio version! Only the versions 2012, 2013, 2015 and 2017 are "
              "supported!\n")
    limits = host_config.parse(header)
    assert limits["gcc_max"] == 14
    assert (limits["msc_ver_min"], limits["msc_ver_max"]) == (1600, 1911)
    assert limits["messages"][0].startswith("unsupported GNU version! gcc versions later")


@pytest.mark.skipif(not REAL_HEADER.is_file(), reason="no CUDA 13.0 toolkit here")
def test_the_real_cuda_13_header():
    limits = host_config.parse(REAL_HEADER.read_text(encoding="utf-8", errors="replace"))
    assert limits["gcc_max"] == 15 and limits["clang_max"] == 20
    assert (limits["msc_ver_min"], limits["msc_ver_max"]) == (1920, 1949)


def test_the_table_answers_only_what_its_rows_support():
    assert host_config.table_limits("12.8")["gcc_max"] == 14
    assert host_config.table_limits("12.4") == {"gcc_max_at_least": 12, "gcc_max_at_most": 13}
    assert host_config.table_limits("13.2") == {"gcc_max_at_least": 15}
    assert host_config.table_limits("nonsense") == {}


# -- the probe ----------------------------------------------------------------------------

def fake_tool(bindir: Path, name: str, output: str = "", mode: str = "print") -> Path:
    bindir.mkdir(parents=True, exist_ok=True)
    path = bindir / name
    body = {"print": f"import sys\nsys.stdout.write({output!r})\n",
            "stderr": f"import sys\nsys.stderr.write({output!r})\n",
            "hang": "import time\ntime.sleep(600)\n",
            "binary": "import sys\nsys.stdout.buffer.write(b'\\xff\\xfe\\x00garbage')\n"}[mode]
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def fake_toolkit(root: Path, cuda: str, gcc_max: int) -> Path:
    """<root>/bin/nvcc printing the 13.0 capture's shape for ``cuda``, version.json, and
    the host_config.h guard lines of that release's error."""
    major, minor = cuda.split(".")
    nvcc_out = capture("nvcc-13.0.txt").replace("release 13.0, V13.0.88",
                                                f"release {cuda}, V{cuda}.0")
    fake_tool(root / "bin", "nvcc", nvcc_out)
    (root / "include" / "crt").mkdir(parents=True)
    (root / "include" / "crt" / "host_config.h").write_text(
        f"#if __GNUC__ > {gcc_max}\n#error -- unsupported GNU version! gcc versions later "
        f"than {gcc_max} are not supported!\n#endif\n", encoding="utf-8")
    (root / "version.json").write_text(json.dumps({"cuda": {"name": "CUDA SDK",
                                                            "version": f"{cuda}.0"}}))
    return root


def run_probe(path: str, **env: str) -> dict:
    return probe_toolchain(ProbeContext(timeout=5, environ={"PATH": path, **env}))


@POSIX
def test_fake_compilers_on_path_with_a_fake_cuda_12_1_toolkit(tmp_path):
    bindir = tmp_path / "bin"
    fake_tool(bindir, "gcc", capture("gcc-13.2-ubuntu.txt"))
    fake_tool(bindir, "g++", capture("gcc-13.2-ubuntu.txt").replace("gcc (", "g++ ("))
    fake_tool(bindir, "clang", capture("clang-12-ubuntu.txt"))
    fake_tool(bindir, "cmake", capture("cmake-3.28.3.txt"))
    toolkit = fake_toolkit(tmp_path / "cuda-12.1", "12.1", 12)
    old = fake_toolkit(tmp_path / "cuda-11.8", "11.8", 11)
    path = os.pathsep.join([str(bindir), str(old / "bin"), str(toolkit / "bin"),
                            str(tmp_path / "missing"), str(bindir)])
    facts = run_probe(path)
    json.dumps(facts)
    assert facts["compilers"]["gcc"]["version"] == "13.2.0"
    assert facts["compilers"]["clang"]["major"] == 12
    assert facts["cmake"]["version"] == "3.28.3"
    assert facts["ninja"]["error"] == "not found on PATH"
    assert facts["nvcc"]["version"] == "11.8"  # the first on PATH
    assert facts["nvcc_host"]["from"] == "default" and facts["nvcc_host"]["major"] == 13
    assert facts["nvcc_host_limits"]["gcc_max"] == 11
    entries = facts["path_entries"]
    assert [e.get("cuda_version") for e in entries if e.get("nvcc")] == ["11.8", "12.1"]
    assert entries[3]["exists"] is False and entries[4]["repeat_of"] == 0


@POSIX
def test_nvcc_ccbin_names_the_host_compiler(tmp_path):
    bindir = tmp_path / "bin"
    fake_tool(bindir, "g++", capture("gcc-13.2-ubuntu.txt"))
    fake_tool(tmp_path / "old", "g++-5", capture("gcc-5.3-fedora.txt"))
    facts = run_probe(str(bindir), NVCC_CCBIN=str(tmp_path / "old" / "g++-5"))
    host = facts["nvcc_host"]
    assert (host["from"], host["version"]) == ("NVCC_CCBIN", "5.3.1")


@POSIX
def test_cuda_home_and_what_torch_extensions_would_use(tmp_path):
    toolkit = fake_toolkit(tmp_path / "cuda-12.8", "12.8", 14)
    facts = run_probe("", CUDA_HOME=str(toolkit))
    home = facts["cuda_home"]["CUDA_HOME"]
    assert home["exists"] and home["nvcc"] and home["cuda_version"] == "12.8"
    assert facts["cuda_home"]["torch_extensions"] == {"path": str(toolkit), "from": "CUDA_HOME",
                                                      "cuda_version": "12.8"}
    gone = run_probe("", CUDA_HOME=str(tmp_path / "nowhere"))["cuda_home"]["CUDA_HOME"]
    assert (gone["exists"], gone["nvcc"], gone["cuda_version"]) == (False, False, None)


@POSIX
@pytest.mark.parametrize("mode", ["hang", "binary", "stderr"])
def test_a_hanging_or_garbled_compiler_is_a_fact_not_a_hang(tmp_path, mode):
    fake_tool(tmp_path / "bin", "gcc", "not a version at all\n", mode=mode)
    start = time.monotonic()
    facts = probe_toolchain(ProbeContext(timeout=1.0, environ={"PATH": str(tmp_path / "bin")}))
    assert time.monotonic() - start < 4
    gcc = facts["compilers"]["gcc"]
    assert gcc["version"] is None and gcc["error"]
    assert ("timed out" in gcc["error"]) == (mode == "hang")
    json.dumps(facts)


@pytest.mark.skipif(not shutil.which("gcc"), reason="no gcc here")
def test_this_machines_real_tools():
    facts = run_probe(os.environ.get("PATH", ""))
    assert facts["compilers"]["gcc"]["version"]
    assert facts["python_headers"]["include_dir"]
    if shutil.which("nvcc") and REAL_HEADER.is_file():
        assert facts["nvcc"]["version"] == "13.0"
        assert facts["nvcc_host_limits"]["gcc_max"] == 15


# -- conda ------------------------------------------------------------------------------------

def test_conda_packages_come_from_conda_meta_file_names(tmp_path):
    meta = tmp_path / "env" / "conda-meta"
    meta.mkdir(parents=True)
    for line in capture("conda-meta.txt").split():
        (meta / f"{line}.json").write_text("{}")
    (meta / "history").write_text("")
    facts = probe_conda(ProbeContext(environ={"CONDA_PREFIX": str(tmp_path / "env")}))
    assert facts["source"] == "CONDA_PREFIX" and facts["count"] == 6
    torch = next(p for p in facts["packages"] if p["name"] == "pytorch")
    assert torch == {"name": "pytorch", "version": "2.1.0",
                     "build": "py3.9_cuda12.1_cudnn8.9.2_0"}
    assert {"name": "pytorch-cuda", "version": "12.1", "build": "ha16c6d3_5"} in \
        facts["packages"]


def test_no_conda_environment_is_an_empty_list(tmp_path):
    facts = probe_conda(ProbeContext(environ={"CONDA_PREFIX": str(tmp_path / "none")}))
    if facts["prefix"] is None:
        assert facts["packages"] == [] and facts["count"] == 0


@pytest.mark.skipif(not shutil.which("gcc") or os.name != "posix", reason="needs a C compiler")
def test_a_compiled_tools_answer_is_cached_by_the_binarys_identity(tmp_path, monkeypatch):
    """A real (compiled) `gcc` that counts its runs: the second probe starts no process;
    a rebuilt binary (new mtime) is asked again. Scripts are never cached."""
    import subprocess

    monkeypatch.setenv("ENVDOCTOR_CACHE_DIR", str(tmp_path / "cache"))
    counter = tmp_path / "runs"
    source = tmp_path / "fakegcc.c"
    source.write_text(
        '#include <stdio.h>\nint main(void){FILE *f=fopen("' + str(counter) + '","a");'
        'if(f){fputs("x",f);fclose(f);}'
        'puts("gcc (Ubuntu 13.2.0-23ubuntu4) 13.2.0");return 0;}\n')
    bindir = tmp_path / "bin"
    bindir.mkdir()
    subprocess.run(["gcc", "-o", str(bindir / "gcc"), str(source)], check=True)
    for _ in range(3):
        assert run_probe(str(bindir))["compilers"]["gcc"]["version"] == "13.2.0"
    assert counter.read_text() == "x"
    os.utime(bindir / "gcc", ns=(1, 1))
    assert run_probe(str(bindir))["compilers"]["gcc"]["version"] == "13.2.0"
    assert counter.read_text() == "xx"
    monkeypatch.setenv("ENVDOCTOR_NO_CACHE", "1")
    run_probe(str(bindir))
    assert counter.read_text() == "xxx"
