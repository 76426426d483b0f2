"""Fast paths that replace a library import or a process start must give the same
answer as the real thing they replace."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from envdoctor.probes import ProbeContext, cuda
from envdoctor.probes.wheels import marker_environment


def test_marker_environment_equals_packaging_default_environment():
    from packaging.markers import default_environment

    assert marker_environment() == dict(default_environment())


def test_ld_cache_reader_agrees_with_ldconfig_p():
    ldconfig = shutil.which("ldconfig") or (
        "/sbin/ldconfig" if shutil.os.path.exists("/sbin/ldconfig") else None)
    if not ldconfig or not shutil.os.path.exists("/etc/ld.so.cache"):
        pytest.skip("no ldconfig or /etc/ld.so.cache on this machine")
    real = cuda.parse_ldconfig(subprocess.run([ldconfig, "-p"], capture_output=True,
                                              text=True, check=False).stdout)
    with open("/etc/ld.so.cache", "rb") as fh:
        fast = cuda.parse_ld_cache(fh.read())
    assert sorted(e["path"] for e in fast) == sorted(e["path"] for e in real)


def test_ld_cache_reader_finds_cuda_libraries_in_a_cache_file(tmp_path):
    blob = (b"glibc-ld.so.cache1.1" + b"\x00" * 40 + b"libcudnn.so.9\x00"
            b"/usr/lib/x86_64-linux-gnu/libcudnn.so.9\x00libm.so.6\x00"
            b"/lib/x86_64-linux-gnu/libm.so.6\x00/usr/lib/wsl/lib/libcuda.so.1\x00"
            b"/usr/lib/x86_64-linux-gnu/libcudnn.so.9\x00")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "ld.so.cache").write_bytes(blob)
    facts = cuda.ldconfig_facts(ProbeContext(sysroot=str(tmp_path)))
    assert facts["source"] == "/etc/ld.so.cache"
    assert [(e["lib"], e["path"]) for e in facts["entries"]] == [
        ("cudnn", "/usr/lib/x86_64-linux-gnu/libcudnn.so.9"),
        ("cuda", "/usr/lib/wsl/lib/libcuda.so.1")]


def test_a_fake_tree_without_a_loader_cache_never_asks_the_real_ldconfig(tmp_path):
    assert cuda.ldconfig_facts(ProbeContext(sysroot=str(tmp_path))) is None


def test_nvcc_is_not_run_when_its_toolkit_version_is_known(tmp_path, monkeypatch):
    root = tmp_path / "cuda-12.4"
    (root / "bin").mkdir(parents=True)
    nvcc = root / "bin" / "nvcc"
    marker = tmp_path / "ran"
    nvcc.write_text(f"#!/bin/sh\n: > {marker}\n"
                    "echo 'Cuda compilation tools, release 12.4, V12.4.131'\n")
    nvcc.chmod(0o755)
    ctx = ProbeContext(environ={"PATH": str(root / "bin")})
    known = [{"exists": True, "version": "12.4", "full_version": "12.4.1", "where": str(root),
              "version_source": "version.json"}]
    facts = cuda.nvcc_facts(ctx, known)
    assert facts["version"] == "12.4" and facts["run"] is None
    assert not marker.exists()
    # Outside any known toolkit, nvcc itself is asked.
    facts = cuda.nvcc_facts(ctx, [])
    assert facts["version"] == "12.4" and marker.exists()


def test_a_wrapper_script_on_path_is_followed_to_its_toolkit(tmp_path):
    root = tmp_path / "cuda-12.6"
    (root / "bin").mkdir(parents=True)
    real = root / "bin" / "nvcc"
    real.write_text("#!/bin/sh\nexit 99\n")
    real.chmod(0o755)
    shim_dir = tmp_path / "shims"
    shim_dir.mkdir()
    shim = shim_dir / "nvcc"
    shim.write_text(f'#!/bin/sh\nexec {real} "$@"\n')
    shim.chmod(0o755)
    ctx = ProbeContext(environ={"PATH": str(shim_dir)})
    known = [{"exists": True, "version": "12.6", "where": str(root)}]
    facts = cuda.nvcc_facts(ctx, known)
    assert facts["version"] == "12.6" and facts["run"] is None
    assert facts["path"] == str(shim)
