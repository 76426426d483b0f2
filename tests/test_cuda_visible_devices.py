"""CUDA_VISIBLE_DEVICES: the resolver (envdoctor.cuda_visible) and env.cuda_visible_devices."""

from __future__ import annotations

import json

import pytest
from conftest import facts_fixture, report_with_facts, run_check, run_envdoctor, validate_report
from hypothesis import given, settings
from hypothesis import strategies as st

from envdoctor import cuda_visible as cv
from envdoctor.probes import ProbeContext
from envdoctor.probes.env import probe_env
from envdoctor.result import Status

UUIDS = ["GPU-8932f937-d72c-4106-c12f-20bd9faed9f6",
         "GPU-8932aaaa-0000-1111-2222-333333333333",
         "GPU-b8ea3855-276c-c9cb-b366-c6fa655957c5"]


def gpus(n: int = 3, names=None) -> list[dict]:
    names = names or ["NVIDIA A100-SXM4-40GB"] * n
    return [{"index": i, "name": names[i], "uuid": UUIDS[i] if i < len(UUIDS) else
             f"GPU-{i:08x}-0000-0000-0000-000000000000", "compute_capability": "8.0"}
            for i in range(n)]


def facts_with(variables: dict, gpu_list=None, container=None, system="Linux") -> dict:
    sections = {"env": {"variables": variables},
                "platform": {"system": system, "container": container}}
    if gpu_list is not None:
        sections["nvidia"] = {"present": bool(gpu_list), "gpus": gpu_list}
    return facts_fixture(**sections)


def codes(result) -> list[str]:
    return [f.code for f in result.findings]


# --- the resolver -------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    (None, [0, 1, 2]),           # unset: every GPU
    ("", []),                    # empty: none
    ("   ", []),
    ("-1", []),                  # the usual way to hide all
    ("0,2,-1,1", [0, 2]),        # CUDA guide's own example
    ("2,1", [2, 1]),             # order is CUDA's new numbering
    ("1gpu2,2ampere", [1, 2]),   # read like strtoul
    (" 1 , 0 ", [1, 0]),
    ("0,0", []),                 # a repeated GPU empties the list
    ("0,GPU-8932f937-d72c", []),  # the same GPU by index and by UUID
    ("GPU-b8ea", [2]),           # unique UUID prefix
    ("GPU-8932", []),            # ambiguous prefix: invalid, hides everything
    ("GPU-8932a,0", [1, 0]),
    ("0,7,1", [0]),              # index beyond the GPUs stops the list
    ("NoDevFiles", []),          # what Slurm sets when a job has no GPU
    ("0,,1", [0]),               # an empty entry is invalid
])
def test_resolver_follows_cuda_semantics(raw, expected):
    res = cv.resolve(raw, gpus(3))
    assert res.visible == expected


def test_resolver_without_gpu_facts_keeps_what_it_can_tell():
    res = cv.resolve("0,2,-1,1", None)
    assert res.visible is None and res.unresolved == ["0", "2"]
    assert res.first_invalid == 2
    assert [e.state for e in res.entries] == ["unchecked", "unchecked", "invalid",
                                             "hidden-after-invalid"]
    assert cv.resolve("3,3", None).hides_everything
    assert not cv.resolve(None, None).hides_everything


def test_mig_uuids_are_matched_against_the_mig_devices_listed():
    gpu_list = gpus(1)
    gpu_list[0]["mig_devices"] = [{"uuid": "MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f"},
                                  {"uuid": "MIG-0a1b2c3d-0000-1111-2222-333333333333"}]
    assert cv.resolve("MIG-c6d4", gpu_list).unresolved == ["MIG-c6d4"]
    res = cv.resolve("MIG-ffff", gpu_list)
    assert res.hides_everything and "no MIG device" in res.entries[0].reason


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(st.none(), st.text(max_size=40),
                     st.lists(st.sampled_from(["0", "1", "2", "-1", " 3", "GPU-89", "GPU-b8",
                                               "MIG-x", "", "abc", "1x", "+1", "00"]),
                              max_size=6).map(",".join)),
       n=st.integers(min_value=0, max_value=5))
def test_resolver_never_raises_and_returns_a_sub_list_of_present_gpus(raw, n):
    gpu_list = gpus(n) if n else None
    res = cv.resolve(raw, gpu_list)
    present = {g["index"] for g in gpu_list or []}
    if gpu_list:
        assert res.visible is not None
        assert set(res.visible) <= present
        assert len(res.visible) == len(set(res.visible))   # never the same GPU twice
    assert isinstance(cv.describe_visible(res, gpu_list), str)
    json.dumps(res.to_dict())


@settings(max_examples=150, deadline=None)
@given(raw=st.text(max_size=30),
       gpu_list=st.lists(st.fixed_dictionaries({}, optional={
           "index": st.one_of(st.integers(-2, 9), st.text(max_size=3), st.none()),
           "uuid": st.one_of(st.text(max_size=12), st.none(), st.integers()),
           "name": st.one_of(st.text(max_size=8), st.none()),
           "mig_devices": st.lists(st.one_of(st.none(), st.fixed_dictionaries(
               {"uuid": st.one_of(st.text(max_size=10), st.none())})), max_size=2),
       }), max_size=4))
def test_the_check_never_crashes_on_arbitrary_values_and_gpu_lists(raw, gpu_list):
    facts = facts_with({"CUDA_VISIBLE_DEVICES": raw, "CUDA_DEVICE_ORDER": raw[:5]},
                       gpu_list)
    result = run_check("env.cuda_visible_devices", facts)
    assert result.status is not Status.ERROR, result.error
    json.dumps(result.to_dict())


# --- the check ------------------------------------------------------------------------

def test_unset_passes_and_lists_every_gpu():
    result = run_check("env.cuda_visible_devices", facts_with({}, gpus(2)))
    assert result.status is Status.PASS
    assert "all 2 GPU(s)" in result.summary


def test_empty_value_warns_when_gpus_exist_and_is_info_otherwise():
    with_gpus = run_check("env.cuda_visible_devices",
                          facts_with({"CUDA_VISIBLE_DEVICES": ""}, gpus(1)))
    assert with_gpus.status is Status.WARN and codes(with_gpus) == ["env.W001"]
    assert "unset CUDA_VISIBLE_DEVICES" in with_gpus.findings[0].hint
    no_gpus = run_check("env.cuda_visible_devices",
                        facts_with({"CUDA_VISIBLE_DEVICES": ""}, []))
    assert no_gpus.status is Status.PASS and codes(no_gpus) == ["env.I002"]


def test_minus_one_is_a_deliberate_hide_all_warning():
    result = run_check("env.cuda_visible_devices",
                       facts_with({"CUDA_VISIBLE_DEVICES": "-1"}, gpus(2)))
    assert result.status is Status.WARN and codes(result)[0] == "env.W002"
    assert result.details["visible"] == "no GPU"


def test_an_index_that_does_not_exist_hides_everything_and_fails():
    result = run_check("env.cuda_visible_devices",
                       facts_with({"CUDA_VISIBLE_DEVICES": "1"}, gpus(1)))
    assert result.status is Status.FAIL
    [finding] = result.findings
    assert finding.code == "env.E001"
    assert "no GPU 1" in finding.message and "1 GPU" in finding.message
    assert "nvidia-smi -L" in finding.hint


def test_duplicates_fail_with_gpus_and_warn_without():
    failing = run_check("env.cuda_visible_devices",
                        facts_with({"CUDA_VISIBLE_DEVICES": "0,1,0"}, gpus(2)))
    assert failing.status is Status.FAIL and "env.E001" in codes(failing)
    assert failing.details["cuda_visible_devices"]["duplicate"] == "0"
    unknown = run_check("env.cuda_visible_devices",
                        facts_with({"CUDA_VISIBLE_DEVICES": "0,1,0"}))
    assert unknown.status is Status.WARN and codes(unknown) == ["env.W004"]


def test_invalid_entry_in_the_middle_reports_what_is_dropped():
    result = run_check("env.cuda_visible_devices",
                       facts_with({"CUDA_VISIBLE_DEVICES": "0,2,-1,1"}, gpus(3)))
    assert result.status is Status.WARN
    [finding] = [f for f in result.findings if f.code == "env.W003"]
    assert finding.details["ignored"] == ["-1", "1"]
    assert [g["index"] for g in result.details["visible_gpus"]] == [0, 2]
    assert result.details["visible_gpus"][1]["cuda_index"] == 1
    assert "cuda:1 = GPU 2" in result.summary


def test_lenient_numbers_and_spaced_uuids_are_pointed_out():
    result = run_check("env.cuda_visible_devices",
                       facts_with({"CUDA_VISIBLE_DEVICES": "1gpu, GPU-b8ea "}, gpus(3)))
    [finding] = [f for f in result.findings if f.code == "env.W006"]
    assert "'1gpu' is read as 1" in finding.message
    assert "spaces" in finding.message
    assert "env.W005" in codes(result)      # indices and UUIDs mixed


def test_device_order_warns_only_for_different_gpus():
    mixed = gpus(2, names=["NVIDIA GeForce RTX 4090", "NVIDIA GeForce GTX 1080"])
    result = run_check("env.cuda_visible_devices", facts_with({}, mixed))
    assert codes(result) == ["env.W007"]
    assert "CUDA_DEVICE_ORDER=PCI_BUS_ID" in result.findings[0].hint
    same = run_check("env.cuda_visible_devices", facts_with({}, gpus(2)))
    assert codes(same) == ["env.I004"] and same.status is Status.PASS
    fixed = run_check("env.cuda_visible_devices",
                      facts_with({"CUDA_DEVICE_ORDER": "PCI_BUS_ID"}, mixed))
    assert fixed.findings == []
    typo = run_check("env.cuda_visible_devices",
                     facts_with({"CUDA_DEVICE_ORDER": "PCI"}, gpus(1)))
    assert codes(typo) == ["env.W007"] and "not a value CUDA knows" in typo.findings[0].message


def test_debug_and_profiling_variables_are_named_with_an_unset_command():
    variables = {"CUDA_INJECTION64_PATH": "/opt/tool/libinject.so", "CUDA_PROFILE": "1",
                 "OPENCL_PROFILE": "1", "CUDA_VISIBLE_DEVICES": "0"}
    result = run_check("env.cuda_visible_devices", facts_with(variables, gpus(1)))
    [finding] = result.findings
    assert finding.code == "env.W008"
    assert finding.details["variables"] == ["CUDA_INJECTION64_PATH", "CUDA_PROFILE",
                                            "OPENCL_PROFILE"]
    assert finding.hint.startswith("unset CUDA_INJECTION64_PATH CUDA_PROFILE OPENCL_PROFILE")
    windows = run_check("env.cuda_visible_devices",
                        facts_with(variables, gpus(1), system="Windows"))
    assert "Remove-Item Env:CUDA_PROFILE" in windows.findings[0].hint


def test_env_probe_keeps_the_variables_this_check_reads():
    from envdoctor.checks.env_cuda_visible_devices import DEBUG_VARIABLES

    environ = {name: "1" for name in DEBUG_VARIABLES}
    environ.update({"CUDA_VISIBLE_DEVICES": "0", "CUDA_DEVICE_ORDER": "PCI_BUS_ID",
                    "NVIDIA_VISIBLE_DEVICES": "all", "CUDA_LAUNCH_BLOCKING": "1",
                    "HOME": "/home/someone"})
    kept = probe_env(ProbeContext(environ=environ))["variables"]
    assert set(environ) - {"HOME"} <= set(kept)
    assert "HOME" not in kept


def test_containers_started_without_gpus_are_explained():
    none = run_check("env.cuda_visible_devices",
                     facts_with({"NVIDIA_VISIBLE_DEVICES": "void"}, [], container="docker"))
    assert codes(none) == ["env.W009"] and "--gpus all" in none.findings[0].hint
    asks = run_check("env.cuda_visible_devices",
                     facts_with({"NVIDIA_VISIBLE_DEVICES": "all"}, [], container="docker"))
    assert codes(asks) == ["env.W010"]
    fine = run_check("env.cuda_visible_devices",
                     facts_with({"NVIDIA_VISIBLE_DEVICES": "all"}, gpus(1),
                                container="docker"))
    assert "env.W010" not in codes(fine)
    outside = run_check("env.cuda_visible_devices",
                        facts_with({"NVIDIA_VISIBLE_DEVICES": "0"}, gpus(1)))
    assert codes(outside) == ["env.I001"]


def test_no_gpu_is_never_a_failure():
    for value in ("", "-1", "0", "5", "0,0", "GPU-abc"):
        result = run_check("env.cuda_visible_devices",
                           facts_with({"CUDA_VISIBLE_DEVICES": value}, []))
        assert result.status in (Status.PASS, Status.WARN), (value, result.findings)


def test_from_saved_report_reads_only_the_reports_variables(tmp_path):
    facts = facts_with({"CUDA_VISIBLE_DEVICES": "3"}, gpus(2))
    saved = tmp_path / "report.json"
    saved.write_text(json.dumps(report_with_facts(facts)), encoding="utf-8")
    # This machine's own CUDA_VISIBLE_DEVICES must not leak into the verdict.
    proc = run_envdoctor("check", "--from", str(saved), "--only", "env.cuda_visible_devices",
                         "--json", env={"CUDA_VISIBLE_DEVICES": "0"})
    report = json.loads(proc.stdout)
    validate_report(report)
    [check] = report["checks"]
    assert check["status"] == "fail" and check["findings"][0]["code"] == "env.E001"
    assert proc.returncode == 1
