"""pip.wheel_tags on installed-distribution fixtures in temporary site directories."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

from conftest import facts_fixture, run_check, run_envdoctor, validate_report

from envdoctor import distributions
from envdoctor.probes.wheels import distribution_facts
from envdoctor.wheeltags import Target, describe_interpreter

_UNSET = object()


def plant_dist(site: Path, name: str, version: str, tags=_UNSET, wheel_text=None,
               requires: Optional[list[str]] = None, installer: Optional[str] = "pip") -> Path:
    """A dist-info folder as pip leaves it: METADATA, WHEEL (unless tags is None), INSTALLER."""
    folder = site / f"{name.replace('-', '_')}-{version}.dist-info"
    folder.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires or []]
    (folder / "METADATA").write_text("\n".join(lines) + "\n\nLong description: ignored.\n"
                                     "Requires-Dist: not-a-header\n", encoding="utf-8")
    if wheel_text is not None:
        (folder / "WHEEL").write_text(wheel_text, encoding="utf-8")
    elif tags is not None:
        tags = ["py3-none-any"] if tags is _UNSET else tags
        body = "Wheel-Version: 1.0\nGenerator: bdist_wheel (0.43.0)\nRoot-Is-Purelib: false\n"
        body += "".join(f"Tag: {t}\n" for t in tags)
        (folder / "WHEEL").write_text(body, encoding="utf-8")
    if installer:
        (folder / "INSTALLER").write_text(installer + "\n", encoding="utf-8")
    return folder


def pip_facts(site: Path, interpreter: Optional[dict] = None) -> dict:
    """The pip probe's facts for one site directory (the probe's own code)."""
    from packaging.markers import default_environment

    sites, dists = distribution_facts(distributions.scan([str(site)]))
    return {"interpreter": interpreter or describe_interpreter(),
            "marker_environment": dict(default_environment()), "sites": sites,
            "distributions": dists}


def _this_binary_tag() -> str:
    from packaging.tags import sys_tags

    return str(next(iter(sys_tags())))


def _foreign_platform() -> str:
    return "linux_s390x" if sys.platform.startswith("win") else "win_arm64"


def _site(tmp_path: Path) -> Path:
    site = tmp_path / "site-packages"
    py = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    plant_dist(site, "goodpure", "1.0")
    plant_dist(site, "goodbinary", "2.0", tags=[_this_binary_tag()])
    plant_dist(site, "foreignarch", "3.0", tags=[f"{py}-{py}-{_foreign_platform()}"])
    plant_dist(site, "badwheel", "4.0", wheel_text="Wheel-Version: 1.0\nTag: cp311\n")
    plant_dist(site, "nowheel", "5.0", tags=None)
    return site


def test_foreign_arch_fails_and_unknown_is_never_a_failure(tmp_path):
    result = run_check("pip.wheel_tags", facts_fixture(pip=pip_facts(_site(tmp_path))))
    assert result.status.value == "fail"
    errors = [f for f in result.findings if f.code == "pip.E101"]
    assert [f.details["name"] for f in errors] == ["foreignarch"]
    assert "platform" in errors[0].message and "cannot use" in errors[0].message
    assert "--force-reinstall" in errors[0].hint and '"foreignarch==3.0"' in errors[0].hint
    infos = [f for f in result.findings if f.code == "pip.I101"]
    assert [f.message.split(":")[0] for f in infos] == ["badwheel"]
    unknown = {u["name"] for u in result.details["unknown"]}
    assert unknown == {"badwheel", "nowheel"}
    assert result.details["checked"] == 3


def test_all_fitting_passes_with_unknowns_noted(tmp_path):
    site = tmp_path / "site"
    plant_dist(site, "goodpure", "1.0")
    plant_dist(site, "nowheel", "5.0", tags=None)
    result = run_check("pip.wheel_tags", facts_fixture(pip=pip_facts(site)))
    assert result.status.value == "pass"
    assert "1 unknown" in result.summary


def test_python2_only_pure_wheel_is_a_warning(tmp_path):
    site = tmp_path / "site"
    plant_dist(site, "oldpure", "0.1", tags=["py2-none-any"])
    result = run_check("pip.wheel_tags", facts_fixture(pip=pip_facts(site)))
    assert result.status.value == "warn"
    assert result.findings[0].code == "pip.W101"
    assert "Python 2 only" in result.findings[0].message


def test_judged_against_the_recorded_interpreter_not_this_one(tmp_path):
    """--from: a Windows report's win_amd64 packages fit there; a manylinux one does not."""
    site = tmp_path / "site"
    plant_dist(site, "numpy", "1.26.4", tags=["cp311-cp311-win_amd64"])
    plant_dist(site, "copied", "1.0", tags=["cp311-cp311-manylinux_2_17_x86_64"])
    windows = Target((3, 11), system="windows", machine="AMD64", libc=None,
                     libc_version=None).to_dict()
    result = run_check("pip.wheel_tags", facts_fixture(pip=pip_facts(site, windows)))
    assert [f.details["name"] for f in result.findings] == ["copied"]
    assert "this is Windows" in result.findings[0].message


def test_cli_with_a_copied_site_dir_and_rerun_from_the_report(tmp_path):
    site = _site(tmp_path)
    done = run_envdoctor("check", "--json", "--only", "pip.wheel_tags",
                         env={"PYTHONPATH": str(site)})
    report = json.loads(done.stdout)
    validate_report(report)
    assert done.returncode == 1, done.stderr
    (check,) = report["checks"]
    assert check["status"] == "fail"
    assert {f["details"]["name"] for f in check["findings"] if f["code"] == "pip.E101"} \
        == {"foreignarch"}
    saved = tmp_path / "report.json"
    saved.write_text(json.dumps(report), encoding="utf-8")
    again = run_envdoctor("check", "--json", "--only", "pip.wheel_tags", "--from", str(saved))
    rerun = json.loads(again.stdout)
    validate_report(rerun)
    assert [f["code"] for f in rerun["checks"][0]["findings"]] == \
        [f["code"] for f in check["findings"]]


def test_no_distributions_is_a_skip():
    facts = facts_fixture(pip={"interpreter": describe_interpreter(), "marker_environment": {},
                               "sites": [], "distributions": []})
    assert run_check("pip.wheel_tags", facts).status.value == "skip"
