"""`envdoctor check --from` on pasted reports that were edited, truncated or mangled.

A check that raises on an odd shape is a bug (the runner would report "the check itself
crashed: KeyError ..."): unexpected facts are "unknown", never a crash. These tests take
real facts (this machine's, plus a rich GPU node modelled on the probes' output), mutate
them with hypothesis (any nested value replaced by None / a string / a number / a list /
a dict / a huge or non-ASCII string, keys deleted) and run every registered check, the
report builder, the schema and every renderer on the result.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import report_with_facts, run_envdoctor, validate_report
from fleet_reports import facts as fleet_facts
from fleet_reports import gpu
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envdoctor import registry, render, runner
from envdoctor.doctor import Options, diagnose
from envdoctor.result import Status

EXCEPTION_NAME = re.compile(r"\b(?:[A-Z][A-Za-z]*Error|KeyError|StopIteration|Exception"
                            r"|Traceback)\b")


# -- the facts to mutate ----------------------------------------------------------------------

def rich_gpu_facts() -> dict[str, Any]:
    """A Linux GPU node with every section filled, in the shapes the probes write."""
    doc = fleet_facts(env={"CUDA_VISIBLE_DEVICES": "0,GPU-00000001", "CUDA_DEVICE_ORDER":
                           "FASTEST_FIRST", "LD_LIBRARY_PATH": "/usr/local/cuda-11.8/lib64"})
    doc["nvidia"]["gpus"].append(gpu(2, "NVIDIA GeForce RTX 5090", "12.0"))
    doc["nvidia"]["gpus"][0].update(
        ecc={"mode_current": "Enabled", "mode_pending": "Enabled", "uncorrected_volatile": 3,
             "uncorrected_aggregate": 5},
        retired_pages_pending=True, retired_pages_count=70,
        remapped_rows={"pending": True, "correctable": 1}, remapped_rows_failure=False,
        clock_event_reasons=["hw_slowdown", "sw_thermal_slowdown"], inforom_valid=False,
        pcie={"gen_current": 3, "gen_max": 4, "gen_max_device": 4, "width_current": 4,
              "width_max": 16}, memory_used_mib=80000, persistence_mode=False,
        mig_mode={"current": "Enabled", "pending": "Disabled"}, mig_devices=[], lost=False)
    doc["nvidia"]["gpus"][1].update(name="Graphics Device", lost=True)
    doc["nvidia"].update(
        source="nvidia-smi",
        errors=[{"source": "nvml", "code": "LIB_RM_VERSION_MISMATCH", "gpu": None,
                 "call": "nvmlInit", "detail": None,
                 "message": "Driver/library version mismatch"},
                {"source": "nvidia-smi", "code": "NO_PERMISSION", "detail": None,
                 "message": "Insufficient Permissions"},
                {"source": "nvml", "code": "HUNG", "message": "NVML did not answer"}],
        kernel={"proc_driver": True, "module_version": "535.54.03", "module_flavor": "open",
                "module_version_line": "NVRM version: NVIDIA UNIX Open Kernel Module 535.54.03",
                "modules_loaded": ["nvidia", "nvidia_uvm"], "nouveau_loaded": True,
                "pci_devices": [{"address": "0000:07:00.0", "device_id": "0x20b2",
                                 "class": "0x030200", "driver": "nouveau"}],
                "dev_nodes": [{"name": "nvidia0", "accessible": False},
                              {"name": "nvidiactl", "accessible": True}],
                "wsl": {"lib_dir": "/usr/lib/wsl/lib", "libcuda": True, "libnvidia_ml": True,
                        "nvidia_smi": True, "dxg": True,
                        "shadowing": ["/usr/lib/x86_64-linux-gnu/libcuda.so.1"]},
                "userspace": {"libnvidia-ml": [{"version": "550.54.14",
                                                "path": "/usr/lib/libnvidia-ml.so.550.54.14"}],
                              "libcuda": [{"version": "535.54.03",
                                           "path": "/usr/lib/libcuda.so.535.54.03"}]}},
        nvml={"ok": False, "hung": False, "binding": "nvidia-ml-py 12.535.133"},
        nvidia_smi={"path": "/usr/bin/nvidia-smi", "ran": True,
                    "run": {"argv": ["nvidia-smi", "-q", "-x"], "returncode": 0},
                    "dtd": "nvsmi_device_v12.dtd", "missing": ["ecc"], "attached_gpus": 3})
    doc["platform"]["container"] = "docker"
    torch_live = {"status": "ok", "signal": None, "timeout_s": 30.0, "duration_ms": 900.0,
                  "stderr_tail": ["UserWarning: something"], "python": "3.11.9",
                  "version": "2.3.0+cu121", "build_cuda": "12.1", "build_hip": None,
                  "cuda_available": True, "device_count": 2, "error": None,
                  "arch_list": ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
                  "cudnn": 8902, "cudnn_available": True,
                  "devices": [{"index": 0, "name": "NVIDIA A100-SXM4-80GB",
                               "compute_capability": "8.0", "kernel_test": "ok"},
                              {"index": 1, "name": "NVIDIA GeForce RTX 5090",
                               "compute_capability": "12.0",
                               "kernel_test": "RuntimeError: CUDA error: no kernel image is "
                                              "available for execution on the device"}],
                  "mps_built": False, "mps_available": False,
                  "warnings": ["Found GPU1 which is of cuda capability 12.0"],
                  "loaded_libraries": ["/opt/venv/lib/libcudnn.so.8"]}
    doc["frameworks"] = {
        "installed": {
            "torch": {"version": "2.3.0+cu121", "distribution": "torch", "build": "cu121",
                      "cuda": "12.1", "hip": None, "cudnn": "8.9.2", "source": "torch/version.py"},
            "tensorflow": {"version": "2.16.1", "distribution": "tensorflow", "build": "cuda",
                           "cuda": "12.3", "cudnn": "8", "source": "build_info"},
            "jax": {"version": "0.4.26", "distribution": "jax", "build": "cpu", "cuda": None},
        },
        "live": {"torch": torch_live,
                 "tensorflow": {"status": "crashed", "signal": 11, "stderr_tail": ["core"],
                                "error": "Could not load dynamic library 'libcudart.so.12'"},
                 "jax": {"status": "timeout", "signal": None, "timeout_s": 30.0}},
        "live_skipped": None, "child_timeout_s": 30.0}
    runtime = {"version": "11.8", "full_version": "11.8.89", "kind": "toolkit",
               "where": "/usr/local/cuda-11.8", "aliases": ["/usr/local/cuda"],
               "found_by": ["/usr/local"], "version_source": "version.json", "nvcc": True,
               "exists": True, "lib_dir": "/usr/local/cuda-11.8/lib64",
               "nvcc_on_path": "/usr/local/cuda-11.8/bin/nvcc"}
    pip_runtime = {"version": "12.1", "full_version": "12.1.105", "kind": "pip",
                   "where": "nvidia-cuda-runtime-cu12", "cuda_major": 12}
    doc["cuda"] = {
        "runtimes": [runtime, pip_runtime],
        "cudnn": [{"version": "8.9.2", "cuda_major": 12, "kind": "pip",
                   "where": "nvidia-cudnn-cu12"},
                  {"version": "9.1.0", "cuda_major": 11, "kind": "system",
                   "where": "/usr/lib/x86_64-linux-gnu/libcudnn.so.9"}],
        "libcuda": {"path": "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "version": "535.54.03"},
        "ld_library_path": [{"path": "/usr/local/cuda-11.8/lib64", "exists": True,
                             "libraries": ["libcudart.so.11.0", "libcudnn.so.8"]}],
        "nvcc": {"path": "/usr/local/cuda-11.8/bin/nvcc", "version": "11.8",
                 "full_version": "11.8.89", "error": None,
                 "run": {"argv": ["nvcc", "--version"], "returncode": 0, "error": None,
                         "timed_out": False, "signal": None, "duration_ms": 20.0}},
        "ldconfig": {"entries": [{"name": "libcudart.so.11.0", "lib": "cudart",
                                  "arch": "x86-64", "path": "/usr/local/cuda-11.8/lib64/"
                                  "libcudart.so.11.0"}], "error": None,
                     "source": "/etc/ld.so.cache"},
        "toolkits": [runtime], "pip_libraries": [pip_runtime], "nvidia_sign": True}
    variant = {"name": "opencv-python", "version": "4.10.0.84", "site": "/opt/venv/lib/site",
               "headless": False, "contrib": False, "binary": "cv2/cv2.abi3.so",
               "active": True, "numpy_requirement": ">=1.21.2", "built_for_numpy": 1,
               "wheel_tags": ["cp37-abi3-manylinux_2_17_x86_64"]}
    doc["opencv"] = {
        "variants": [variant, dict(variant, name="opencv-python-headless", headless=True,
                                   active=False)],
        "installed": True,
        "stray": [{"path": "/opt/venv/lib/site/cv2/cv2.so", "site": "/opt/venv/lib/site"}],
        "numpy": {"version": "2.1.0", "major": 2}, "display": False,
        "import": {"ok": False, "returncode": 1, "timed_out": False, "signal": None,
                   "duration_ms": 80.0, "error_type": "ImportError",
                   "error": "libGL.so.1: cannot open shared object file: No such file",
                   "cause": "missing-library", "library": "libGL.so.1",
                   "library_kind": "libgl"},
        "windows": {"dlls": {"msvcp140.dll": False, "mfplat.dll": False},
                    "vc_runtime": {"arch": "x64", "installed": False}, "winget": True}}
    doc["probes"].update({name: {"status": "ok", "duration_ms": 1.0}
                          for name in ("frameworks", "cuda", "opencv")})
    return doc


@functools.lru_cache(maxsize=1)
def _bases() -> tuple[str, ...]:
    """This machine's facts (a real probe run) and the rich GPU node, merged with the
    sections only this machine's run has (pip, python_env, plugins), as JSON text."""
    here = diagnose(Options(no_frameworks=True))["facts"]
    node = rich_gpu_facts()
    for name in here:
        if name not in node:
            node[name] = copy.deepcopy(here[name])
            node["probes"][name] = here["probes"].get(name, {"status": "ok"})
    return json.dumps(here), json.dumps(node)


def base_facts(which: int) -> dict[str, Any]:
    return json.loads(_bases()[which])


# -- mutations ----------------------------------------------------------------------------

def paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON document (dict keys and list indexes), outermost first."""
    found: list[tuple] = []
    items = doc.items() if isinstance(doc, dict) else \
        enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        found.append(prefix + (key,))
        found.extend(paths(value, prefix + (key,)))
    return found


JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-2**63, 2**63), st.floats(allow_nan=False),
    st.sampled_from(["", "?", "12.0", "sm_80", "abc", "x" * 100_000, "ÄÖ日本語🚀\u202e",
                     "535.54.03", "-1", "1,2", "GPU-", "cuda", "NaN"]),
    st.text(max_size=20),
    st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=5)), max_size=3),
    st.dictionaries(st.text(max_size=5), st.one_of(st.none(), st.integers(), st.text(max_size=5)),
                    max_size=3),
    st.just([{}]), st.just({"": None}),
)


def mutate(data: st.DataObject, doc: dict[str, Any]) -> list[str]:
    """Apply 1-4 random mutations to ``doc`` in place (delete a key or item, put junk
    there, or graft a real value from elsewhere); returns what was done (for the
    failure message). Most mutations first pick a section, so that small sections get
    as much attention as the long package lists."""
    done = []
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        places = paths(doc)
        if data.draw(st.booleans(), label="by section"):
            sections = sorted({str(p[0]) for p in places})
            section = sections[data.draw(st.integers(0, len(sections) - 1), label="section")]
            places = [p for p in places if p[0] == section]
        where = places[data.draw(st.integers(0, len(places) - 1), label="where")]
        parent = doc
        for key in where[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["delete", "junk", "graft"]), label="action")
        if action == "delete":
            del parent[where[-1]]
            done.append(f"del {list(where)}")
        elif action == "junk":
            parent[where[-1]] = copy.deepcopy(data.draw(JUNK, label="value"))
            done.append(f"{list(where)} = {parent[where[-1]]!r:.60}")
        else:  # a real value from elsewhere: a GPU record where a string belongs...
            source = places[data.draw(st.integers(0, len(places) - 1), label="from")]
            value: Any = doc
            for key in source:
                value = value[key]
            parent[where[-1]] = copy.deepcopy(value)
            done.append(f"{list(where)} = <{list(source)}>")
    return done


def assert_no_crash(result, note: str) -> None:
    assert result.status is not Status.ERROR or not EXCEPTION_NAME.search(
        result.error or ""), f"{result.id} crashed after {note}: {result.error}"


def render_all(report: dict[str, Any]) -> None:
    for fmt in ("text", "markdown", "prometheus"):
        out = render.get(fmt)(report, stream=None)
        assert isinstance(out, str) and out
    json.loads(render.get("json")(report, stream=None))


# -- the property -------------------------------------------------------------------------

@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_checks_never_crash_on_mutated_facts(data):
    facts = base_facts(data.draw(st.integers(0, 1), label="base"))
    note = "; ".join(mutate(data, facts))
    # Every check, straight on the mutated facts (what an API user would pass).
    for check in registry.all_checks():
        assert_no_crash(runner.run_check(check, copy.deepcopy(facts)), note)
    # The whole --from path: load, check, build the report, validate, render.
    report = diagnose(Options(from_report=report_with_facts(facts), from_file="pasted.json"))
    for check in report["checks"]:
        assert check["status"] != "error" or not EXCEPTION_NAME.search(check["error"] or ""), \
            f"{check['id']} crashed after {note}: {check['error']}"
    validate_report(report)
    assert report["summary"]["exit_code"] in (0, 1, 3)
    render_all(report)


def test_the_bases_reach_deep_into_every_check():
    """The property above means something only if the unmutated facts get past the
    checks' early skips."""
    for which in (0, 1):
        facts = base_facts(which)
        results = {c.id: runner.run_check(c, copy.deepcopy(facts)) for c in registry.all_checks()}
        assert not [r.id for r in results.values() if r.status is Status.ERROR]
    gpu_checks = ("gpu.driver", "gpu.health", "cuda.driver_compat", "cuda.cudnn",
                  "framework.arch", "framework.cuda_build", "framework.gpu_visible",
                  "pip.opencv", "env.cuda_visible_devices")
    assert all(results[c].status is not Status.SKIP for c in gpu_checks), \
        {c: results[c].summary for c in gpu_checks}
    assert {"gpu.E004", "gpu.E101", "pip.E301", "cuda.I101"} <= {
        f.code for r in results.values() for f in r.findings}


def test_a_section_of_the_wrong_type_could_not_run_and_says_why():
    facts = base_facts(1)
    facts["nvidia"] = "REDACTED"
    facts["probes"]["cpu"] = "ok"
    facts["probes"]["env"] = {"status": "fine", "duration_ms": "fast"}
    report = diagnose(Options(from_report=report_with_facts(facts), from_file="pasted.json"))
    validate_report(report)
    by_id = {c["id"]: c for c in report["checks"]}
    assert by_id["gpu.driver"]["status"] == "error"
    assert "the report's 'nvidia' facts are not in the expected form (a string" in \
        by_id["gpu.driver"]["summary"]
    assert report["facts"]["nvidia"] is None  # the report stays schema-valid
    assert by_id["cpu.avx"]["status"] != "error"  # a garbled probe record alone is harmless
    assert report["summary"]["counts"]["error"] >= 1  # incomplete: not everything ran
    # Straight through the runner (no loader), the same words.
    raw = base_facts(1)
    raw["nvidia"] = ["REDACTED"]
    result = runner.run_check(registry.get("gpu.health"), raw)
    assert result.status is Status.ERROR and "(a list, not an object)" in result.summary


def test_odd_entries_are_ignored_not_fatal():
    """A malformed entry in a list is skipped; the well-formed ones are still judged."""
    facts = base_facts(1)
    facts["nvidia"]["gpus"].insert(0, "GPU-0")
    facts["nvidia"]["gpus"][1]["name"] = {"oops": 1}
    facts["opencv"]["variants"].append({"version": "4.9.0"})  # no name
    facts["cuda"]["cudnn"].insert(0, 9)
    results = {c.id: runner.run_check(c, copy.deepcopy(facts)) for c in registry.all_checks()}
    assert not [r.id for r in results.values() if r.status is Status.ERROR]
    assert "gpu.E101" in {f.code for f in results["gpu.health"].findings}
    assert "pip.W301" in {f.code for f in results["pip.opencv"].findings}


# -- the CLI, end to end --------------------------------------------------------------------

def _corrupt_reports() -> dict[str, Any]:
    node = rich_gpu_facts()
    wrong_types = copy.deepcopy(node)
    wrong_types.update(nvidia="REDACTED", platform=[1, 2], cpu=5, frameworks=None)
    wrong_types["probes"].update(nvidia="ok", cpu={"status": "weird", "duration_ms": "fast"},
                                 frameworks=[])
    garbage = report_with_facts(copy.deepcopy(node))
    garbage.update(checks=[None, 1, "x", {"id": 5}], summary="lost", generated_at=20240101,
                   envdoctor_version=["0.1"], source=None, redacted="yes")
    garbage["facts"]["cuda"]["runtimes"] = [None, "12.1", {"version": ["12"]}]
    huge = copy.deepcopy(node)
    huge["platform"]["distribution"]["name"] = "Ubuntu " + "x" * 2_000_000
    huge["env"]["variables"]["CUDA_VISIBLE_DEVICES"] = "0," * 100_000
    huge["nvidia"]["gpus"][0]["name"] = "NVIDIA \u00c4\u65e5\u672c " * 1000
    no_probes = copy.deepcopy(node)
    del no_probes["probes"], no_probes["schema_version"]
    no_probes_report = report_with_facts(no_probes)
    return {"wrong_types": report_with_facts(wrong_types), "garbage": garbage,
            "huge": report_with_facts(huge), "no_probes": no_probes_report}


@pytest.mark.parametrize("name", sorted(_corrupt_reports()))
def test_cli_on_corrupt_reports(tmp_path: Path, name: str):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(_corrupt_reports()[name]), encoding="utf-8")
    out = run_envdoctor("check", "--from", str(path), "--json")
    assert out.returncode in (0, 1, 3), out.stderr
    assert "Traceback" not in out.stderr and not out.stderr.strip(), out.stderr[-2000:]
    report = json.loads(out.stdout)
    validate_report(report)
    assert report["summary"]["exit_code"] == out.returncode
    assert not [c["id"] for c in report["checks"] if c["status"] == "error"
                and EXCEPTION_NAME.search(c["error"] or "")]
    if name == "garbage":
        assert report["source"]["generated_at"] is None
    text = run_envdoctor("check", "--from", str(path), "--format", "markdown")
    assert text.returncode == out.returncode and "Traceback" not in text.stderr
    assert "| Check |" in text.stdout or "##" in text.stdout
    # The other commands that read pasted reports.
    good = tmp_path / "good.json"
    good.write_text(json.dumps(report_with_facts(rich_gpu_facts())), encoding="utf-8")
    for command in ("diff", "summarize"):
        other = run_envdoctor(command, str(good), str(path))
        assert "Traceback" not in other.stderr and other.returncode in (0, 1, 3), \
            (command, other.stderr[-2000:])


def _strict_json(text: str) -> Any:
    """json.loads that refuses NaN and Infinity (not JSON, though Python writes them)."""
    def refuse(word: str) -> Any:
        raise ValueError(f"{word} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _hostile_texts() -> dict[str, str]:
    head = '{"schema_version": 1, "facts": {"schema_version": 1, "probes": {}, '
    return {
        # Valid JSON that Python parses, then overflows the stack when walked naively.
        "deep": head + '"cpu": {"flags": ["avx"], "x": ' + "[" * 900 + "]" * 900 + "}}}",
        # Too deep even to parse.
        "too_deep": head + '"cpu": ' + "[" * 100_000 + "]" * 100_000 + "}}",
        # Python's json writes NaN/Infinity and lone surrogates; UTF-8 cannot carry those.
        "nan": head.replace('"probes": {}', '"probes": {"cpu": {"status": "ok", '
                                              '"duration_ms": NaN}}')
        + '"cpu": {"flags": ["avx", "\\udc80"], "logical_cpus": Infinity, '
          '"model": "Intel \\ud800", "\\ud83d": -Infinity}}, "generated_at": "\\ud800"}',
    }


@pytest.mark.parametrize("name", sorted(_hostile_texts()))
def test_cli_on_hostile_json(tmp_path: Path, name: str):
    path = tmp_path / f"{name}.json"
    path.write_text(_hostile_texts()[name], encoding="ascii")
    saved = tmp_path / "out.json"
    out = run_envdoctor("check", "--from", str(path), "--json", "-o", str(saved))
    assert "Traceback" not in out.stderr, out.stderr[-2000:]
    if name == "too_deep":
        assert out.returncode == 2
        assert out.stderr.startswith("envdoctor: error: ") and "nested too deeply" in out.stderr
        return
    assert out.returncode in (0, 1, 3) and not out.stderr.strip(), out.stderr
    report = _strict_json(out.stdout)
    validate_report(report)
    assert _strict_json(saved.read_text(encoding="utf-8")) == report
    if name == "nan":
        cpu = report["facts"]["cpu"]
        assert cpu["logical_cpus"] is None and cpu["model"] == "Intel ?"
        assert report["facts"]["probes"]["cpu"] == {"status": "ok"}
        assert report["source"]["generated_at"] == "?"
    text = run_envdoctor("check", "--from", str(path))
    assert text.returncode == out.returncode and "Traceback" not in text.stderr


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_reports_saved_by_windows_tools_load(tmp_path: Path, encoding: str):
    """Notepad saves UTF-8 with a byte-order mark; PowerShell 5's `>` writes UTF-16."""
    doc = report_with_facts(fleet_facts())
    path = tmp_path / "report.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding=encoding)
    out = run_envdoctor("check", "--from", str(path), "--json")
    assert out.returncode in (0, 1, 3) and not out.stderr.strip(), out.stderr
    report = json.loads(out.stdout)
    validate_report(report)
    assert report["facts"]["cpu"] == doc["facts"]["cpu"]
