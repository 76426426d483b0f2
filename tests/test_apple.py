"""Apple Silicon: real `system_profiler SPDisplaysDataType -json` captures
(tests/data/apple/SOURCES.md) through fake `system_profiler` and `sysctl` executables on
PATH, a fake SystemVersion.plist (ENVDOCTOR_SYSROOT), fake torch packages that answer as
torch's macOS arm64 wheels do, and the apple.* checks on what the probe gathered."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from conftest import facts_fixture, run_check
from fake_frameworks import fake_torch

from envdoctor.apple import profiler
from envdoctor.probes import ProbeContext
from envdoctor.probes import frameworks as fp
from envdoctor.probes.apple import collect

APPLE_DATA = Path(__file__).resolve().parent / "data" / "apple"
POSIX = pytest.mark.skipif(os.name != "posix", reason="fake tools are shell scripts")
PLIST = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>ProductBuildVersion</key>
	<string>23E224</string>
	<key>ProductName</key>
	<string>macOS</string>
	<key>ProductVersion</key>
	<string>{version}</string>
</dict>
</plist>
"""


def tool(bin_dir: Path, name: str, body: str, exit_code: int = 0) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / f".{name}.out").write_text(body, encoding="utf-8")
    cat = shutil.which("cat") or "/bin/cat"
    script = bin_dir / name
    script.write_text(f"#!/bin/sh\n{cat} '{bin_dir / f'.{name}.out'}'\nexit {exit_code}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def mac(tmp_path: Path, capture: str = "system-profiler-m3-pro.json", macos: str = "14.4.1",
        memsize: int = 36 << 30, arm64: str = "1", brand: str = "Apple M3 Pro") -> dict:
    root = tmp_path / "root"
    plist = root / "System" / "Library" / "CoreServices" / "SystemVersion.plist"
    plist.parent.mkdir(parents=True)
    plist.write_text(PLIST.format(version=macos))
    bin_dir = tmp_path / "bin"
    tool(bin_dir, "system_profiler", (APPLE_DATA / capture).read_text(encoding="utf-8"))
    tool(bin_dir, "sysctl", f"hw.memsize: {memsize}\nhw.optional.arm64: {arm64}\n"
                            f"machdep.cpu.brand_string: {brand}\n")
    return collect(ProbeContext(timeout=5.0, sysroot=str(root),
                                environ={"PATH": str(bin_dir)}), "Darwin")


def facts_with(apple: dict, torch: dict | None = None, live: dict | None = None,
               env: dict | None = None, dists: dict | None = None,
               rosetta: bool = False) -> dict:
    installed = {"torch": torch} if torch else {}
    return facts_fixture(
        apple=apple, platform={"system": "Darwin", "macos": {"version": apple.get(
            "macos_version"), "rosetta": rosetta}},
        frameworks={"installed": installed, "live": {"torch": live} if live else {}},
        env={"variables": env or {}}, packages={"distributions": dists or {}})


def codes(result) -> list[str]:
    return [f.code for f in result.findings]


def test_both_system_profiler_shapes_name_the_chip_and_metal_support():
    m3 = profiler.parse_displays((APPLE_DATA / "system-profiler-m3-pro.json").read_text())
    assert m3["gpus"] == [{"index": 0, "name": "Apple M3 Pro", "vendor": "Apple", "cores": None,
                           "metal_family": "Metal 3", "apple": True}]
    m1 = profiler.parse_displays((APPLE_DATA / "system-profiler-m1-2021.json").read_text())
    assert (m1["gpus"][0]["name"], m1["gpus"][0]["metal_family"]) == ("Apple M1", "Apple 7")


@pytest.mark.parametrize("text", ["", "garbage", "[]", '{"SPDisplaysDataType": 5}',
                                  '{"SPDisplaysDataType": [1, "x"]}', "{" * 5000])
def test_garbage_is_a_clean_failure(text):
    result = profiler.parse_displays(text)
    assert result["ok"] is False and result["gpus"] == [] and result["error"]
    assert profiler.macos_version(text) is None


def test_not_a_mac_runs_nothing(tmp_path):
    facts = collect(ProbeContext(timeout=5.0, environ={"PATH": str(tmp_path)}), "Linux")
    assert facts["present"] is False and facts["runs"] == {}
    assert run_check("apple.mps", facts_with(facts)).status.value == "skip"


@POSIX
def test_probe_on_an_m3_pro(tmp_path):
    facts = mac(tmp_path)
    assert facts["present"] and facts["apple_silicon"] is True
    assert facts["chip"] == "Apple M3 Pro" and facts["macos_version"] == "14.4.1"
    assert facts["unified_memory_mib"] == 36 * 1024 and facts["errors"] == []
    json.dumps(facts)
    result = run_check("apple.mps", facts_with(facts))
    assert result.status.value == "pass"
    assert "Apple M3 Pro, Metal 3; 36 GiB unified memory; macOS 14.4.1" in result.summary


@POSIX
def test_failing_system_profiler_is_a_recorded_error(tmp_path):
    facts = mac(tmp_path)
    tool(tmp_path / "bin", "system_profiler", "", exit_code=1)
    again = collect(ProbeContext(timeout=5.0, sysroot=str(tmp_path / "root"),
                                 environ={"PATH": str(tmp_path / "bin")}), "Darwin")
    assert facts["gpus"] and again["gpus"] == []
    assert again["errors"][0]["source"] == "system_profiler"
    assert again["present"] is True  # sysctl still says Apple Silicon


@POSIX
def test_old_macos_cannot_run_mps(tmp_path):
    facts = mac(tmp_path, "system-profiler-m1-2021.json", macos="12.1", brand="Apple M1")
    torch = {"version": "2.2.2", "build": "cpu", "cuda": None, "hip": None}
    live = {"status": "ok", "mps_built": True, "mps_available": False}
    result = run_check("apple.mps", facts_with(facts, torch, live))
    assert codes(result) == ["apple.E001"]
    assert "12.3" in result.findings[0].message


def test_torch_2_11_needs_macos_14():
    apple = {"present": True, "apple_silicon": True, "macos_version": "13.6.1", "gpus": []}
    torch = {"version": "2.11.0", "build": "cpu"}
    result = run_check("apple.mps", facts_with(apple, torch, {"status": "ok", "mps_built": True,
                                                              "mps_available": False}))
    assert codes(result) == ["apple.E001"] and "14.0" in result.findings[0].message


def test_mps_op_failure_and_fallback_notes():
    apple = {"present": True, "apple_silicon": True, "macos_version": "14.4.1",
             "gpus": [{"index": 0, "name": "Apple M3 Pro", "apple": True}]}
    torch = {"version": "2.5.1", "build": "cpu"}
    bad = run_check("apple.mps", facts_with(apple, torch, {
        "status": "ok", "mps_built": True, "mps_available": True,
        "mps_test": "RuntimeError: MPS backend out of memory"}))
    assert codes(bad) == ["apple.E003"] and "out of memory" in bad.findings[0].message
    ok_live = {"status": "ok", "mps_built": True, "mps_available": True, "mps_test": "ok"}
    assert codes(run_check("apple.mps", facts_with(apple, torch, ok_live))) == ["apple.I001"]
    on = run_check("apple.mps", facts_with(apple, torch, ok_live,
                                            env={"PYTORCH_ENABLE_MPS_FALLBACK": "1"}))
    assert codes(on) == ["apple.I002"]
    built_without = run_check("apple.mps", facts_with(apple, torch, {
        "status": "ok", "mps_built": False, "mps_available": False}))
    assert codes(built_without) == ["apple.E002"]
    rosetta = run_check("apple.mps", facts_with(apple, torch, ok_live, rosetta=True))
    assert rosetta.status.value == "skip" and "Rosetta" in rosetta.summary


def test_metal_plugin_pairings():
    apple = {"present": True, "apple_silicon": True, "macos_version": "14.1"}
    tf = run_check("apple.metal_plugins", facts_with(apple, dists={
        "tensorflow": "2.18.0", "tensorflow-metal": "1.1.0"}))
    assert codes(tf) == ["apple.W010"] and "2.17" in tf.findings[0].hint
    jax = run_check("apple.metal_plugins", facts_with(apple, dists={
        "jax": "0.4.20", "jaxlib": "0.4.20", "jax-metal": "0.1.0"}))
    assert codes(jax) == ["apple.W012", "apple.W011"]
    compat = run_check("apple.metal_plugins", facts_with(
        {**apple, "macos_version": "14.5"}, env={"ENABLE_PJRT_COMPATIBILITY": "1"},
        dists={"jax": "0.4.25", "jaxlib": "0.4.25", "jax-metal": "0.0.6"}))
    assert codes(compat) == ["apple.I010"]
    assert run_check("apple.metal_plugins", facts_with(apple)).status.value == "skip"


def test_tensorflow_that_cannot_load_its_metal_plugin():
    apple = {"present": True, "apple_silicon": True, "macos_version": "15.1.1"}
    facts = facts_with(apple, dists={"tensorflow": "2.18.0", "tensorflow-metal": "1.1.0"})
    facts["frameworks"]["live"]["tensorflow"] = {
        "status": "error", "error": "NotFoundError: dlopen(.../tensorflow-plugins/"
        "libmetal_plugin.dylib, 0x0006): Symbol not found: __ZN3tsl8internal10LogMessageC1EPKcii"}
    result = run_check("apple.metal_plugins", facts)
    assert codes(result) == ["apple.E010"] and "libmetal_plugin.dylib" in result.findings[0].message


def test_torch_child_runs_a_tiny_mps_op(tmp_path):
    fake_torch(tmp_path, version="2.5.1", cuda=None, mps=True)
    env = dict(os.environ, PYTHONPATH=str(tmp_path), ENVDOCTOR_FRAMEWORK_TIMEOUT="20")
    live = fp.run_children(["torch"], ProbeContext(timeout=5.0, environ=env))["torch"]
    assert live["status"] == "ok", live
    assert live["mps_available"] is True and live["mps_test"] == "ok"
    fake_torch(tmp_path, version="2.5.1", cuda=None, mps=True,
               mps_error="MPS backend out of memory")
    live = fp.run_children(["torch"], ProbeContext(timeout=5.0, environ=env))["torch"]
    assert "out of memory" in live["mps_test"]


@POSIX
def test_nvidia_only_checks_name_the_apple_gpu_when_they_skip(tmp_path):
    facts = facts_with(mac(tmp_path))
    facts["nvidia"] = {"present": False, "gpus": [], "kernel": {}, "errors": []}
    facts["probes"]["nvidia"] = {"status": "ok"}
    result = run_check("gpu.driver", facts)
    assert result.status.value == "skip"
    assert "Apple M3 Pro" in result.summary and "apple.*" in result.summary
