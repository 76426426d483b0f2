"""The engine: probes with deadlines, checks that crash, exit codes, selection."""

from __future__ import annotations

import time

import pytest

from envdoctor import registry, report, runner
from envdoctor.probes import Probe, ProbeContext, all_probes
from envdoctor.registry import Check
from envdoctor.result import ERROR, WARNING, Finding, Status, outcome, passed, skipped


def test_probes_run_concurrently_and_a_hung_probe_costs_only_its_deadline():
    def slow(ctx):
        time.sleep(0.4)
        return {"slow": True}

    def hang(ctx):
        time.sleep(60)
        return {}

    def broken(ctx):
        raise PermissionError(13, "Permission denied", "/dev/nvidiactl")

    probes = [Probe("a", slow), Probe("b", slow), Probe("hang", hang, deadline=0.5),
              Probe("broken", broken)]
    start = time.monotonic()
    facts = runner.collect_facts(probes, ProbeContext(timeout=5))
    took = time.monotonic() - start
    assert took < 1.5, f"probes did not run concurrently or the hang held us up ({took:.2f} s)"
    assert facts["a"] == {"slow": True} and facts["b"] == {"slow": True}
    assert facts["hang"] is None
    assert facts["probes"]["hang"]["status"] == "timeout"
    assert facts["broken"] is None
    assert facts["probes"]["broken"]["status"] == "error"
    assert "Permission denied" in facts["probes"]["broken"]["error"]


def _check(func, needs=()):
    return Check("test.thing", "A test check", func, ("test",), tuple(needs))


def test_a_check_that_raises_is_reported_as_error_and_others_still_run():
    def crashes(facts):
        raise KeyError("gpus")

    def fine(facts):
        return passed("all good")

    results = runner.run_checks([_check(crashes), _check(fine)], {"probes": {}})
    assert results[0].status is Status.ERROR
    assert "KeyError" in results[0].summary
    assert results[1].status is Status.PASS


def test_a_check_whose_facts_were_never_gathered_is_skipped():
    # e.g. `--from` on a report written by an older envdoctor without that probe
    result = runner.run_check(_check(lambda f: passed("x"), needs=("opencv",)), {"probes": {}})
    assert result.status is Status.SKIP
    assert "no 'opencv' section" in result.skip_reason


def test_a_check_whose_probe_timed_out_is_error_not_a_crash():
    facts = {"probes": {"nvidia": {"status": "timeout", "timeout_s": 3.0}}, "nvidia": None}
    result = runner.run_check(_check(lambda f: passed("x"), needs=("nvidia",)), facts)
    assert result.status is Status.ERROR
    assert "timed out after 3.0 s" in result.summary


@pytest.mark.parametrize("findings,status", [
    ([], Status.PASS),
    ([Finding("test.W001", WARNING, "meh")], Status.WARN),
    ([Finding("test.W001", WARNING, "meh"), Finding("test.E001", ERROR, "bad")], Status.FAIL),
])
def test_status_follows_the_highest_finding_level(findings, status):
    assert outcome("s", findings).status is status


def test_skip_is_its_own_status():
    assert skipped("no NVIDIA GPU").status is Status.SKIP


def _results(*statuses):
    from envdoctor.result import CheckResult

    return [CheckResult(f"t.c{i}", "t", s, "") for i, s in enumerate(statuses)]


@pytest.mark.parametrize("statuses,fail_on,probes,code", [
    ((Status.PASS, Status.SKIP), "fail", {}, 0),
    ((Status.PASS, Status.WARN), "fail", {}, 0),
    ((Status.PASS, Status.WARN), "warn", {}, 1),
    ((Status.FAIL, Status.ERROR), "fail", {}, 1),
    ((Status.PASS, Status.ERROR), "fail", {}, 3),
    ((Status.PASS,), "fail", {"x": {"status": "timeout"}}, 3),
    ((Status.FAIL,), "fail", {"x": {"status": "timeout"}}, 1),
])
def test_exit_codes(statuses, fail_on, probes, code):
    assert report.exit_code(_results(*statuses), {"probes": probes}, fail_on) == code


def test_selection_by_id_area_and_tag():
    checks = registry.all_checks()
    ids = {c.id for c in checks}
    assert "envdoctor.plugins" in ids
    only_area = registry.select(checks, ["envdoctor"], [])
    assert {c.id for c in only_area} == {c.id for c in checks if c.area == "envdoctor"}
    assert registry.select(checks, [], ["envdoctor.plugins"]) == [
        c for c in checks if c.id != "envdoctor.plugins"]


def test_every_check_has_a_docstring_title_and_valid_codes():
    for check in registry.all_checks():
        assert check.title, check.id
        assert len(check.doc) > 40, f"{check.id} needs a docstring for `envdoctor explain`"
        for code in check.codes:
            assert code.split(".")[0] == check.area, f"{code} does not belong to {check.id}"


def test_every_probe_module_is_light_and_named_uniquely():
    probes = all_probes()
    assert {"platform", "python", "cpu", "env", "packages", "plugins"} <= set(probes)


def test_register_rejects_bad_ids():
    with pytest.raises(ValueError):
        registry.register("NoDot", title="x")
    with pytest.raises(ValueError):
        registry.register("a.b", title="x", codes={"a.X1": "bad code"})


def test_children_still_running_at_exit_are_killed(tmp_path):
    """Ctrl-C (or a probe past its deadline) must not leave a hung child behind."""
    import os
    import subprocess
    import sys
    import textwrap

    pidfile = tmp_path / "child.pid"
    script = textwrap.dedent(f"""
        import sys, threading, time
        from envdoctor import proc
        child = [sys.executable, "-c",
                 "import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); "
                 "time.sleep(120)"]
        threading.Thread(target=proc.run, args=(child, 300), daemon=True).start()
        import os
        while not os.path.exists({str(pidfile)!r}):
            time.sleep(0.05)
        time.sleep(0.2)
        raise KeyboardInterrupt
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert run.returncode != 0
    pid = int(pidfile.read_text())
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, 9)
    raise AssertionError("the child outlived envdoctor")
