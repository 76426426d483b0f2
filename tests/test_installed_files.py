"""pip.installed_files: the RECORD sample of every distribution, on real and broken installs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import opencv_fakes as fakes
import pytest
from conftest import facts_fixture, run_check

from envdoctor import distributions
from envdoctor.probes.packages import incomplete


def _site_dist(site: Path, name: str) -> distributions.Dist:
    return next(d for d in distributions.scan([str(site)]) if d.key == name)


def test_every_distribution_of_this_environment_has_its_files():
    # The real environment the tests run in (pip, pytest, packaging, torch where installed)
    # is intact: no false alarm on real RECORD files.
    assert incomplete(distributions.scan()) == []


def test_the_sample_spreads_over_a_large_record_and_skips_metadata(tmp_path):
    files = [f"pkg/mod{i:04d}.py" for i in range(3000)]
    for rel in files:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("", encoding="utf-8")
    fakes.add_dist(tmp_path, "big", "1.0", files=files + ["pkg/__pycache__/x.cpython-311.pyc",
                                                          "../../../bin/big"])
    sample = distributions.record_sample(_site_dist(tmp_path, "big"))
    assert sample[0] == "pkg/mod0000.py" and len(sample) == distributions.RECORD_SAMPLE
    assert int(sample[-1][7:11]) > 2000  # windows reach the end of the RECORD
    assert all(p.startswith("pkg/mod") for p in sample)
    assert distributions.missing_files(_site_dist(tmp_path, "big"))[0] == []


def test_files_removed_behind_pips_back_are_reported_with_the_reinstall(tmp_path):
    (tmp_path / "half").mkdir()
    for rel in ("half/__init__.py", "half/core.py"):
        (tmp_path / rel).write_text("x = 1\n", encoding="utf-8")
    fakes.add_dist(tmp_path, "half-gone", "2.1.0", files=["half/__init__.py", "half/core.py"])
    (tmp_path / "half" / "__init__.py").unlink()
    found = incomplete(distributions.scan([str(tmp_path)]))
    assert [(d["name"], d["missing"]) for d in found] == [("half-gone", ["half/__init__.py"])]
    facts = facts_fixture(packages={"distributions": {"half-gone": "2.1.0"}, "count": 1,
                                    "shadowed": [], "incomplete": found},
                          python={"executable": "/opt/py/bin/python3"})
    result = run_check("pip.installed_files", facts)
    assert result.status.value == "fail"
    assert result.findings[0].code == "pip.E401"
    assert result.findings[0].hint == ('/opt/py/bin/python3 -m pip install --force-reinstall '
                                       '--no-deps "half-gone==2.1.0"')


def test_a_record_that_is_garbage_or_unreadable_is_no_finding(tmp_path):
    folder = fakes.add_dist(tmp_path, "odd", "1.0")
    (folder / "RECORD").write_bytes(b"\xff\xfe\x00garbage,,\n,,,\n\x00\x00")
    assert incomplete(distributions.scan([str(tmp_path)])) == []
    (folder / "RECORD").unlink()
    assert incomplete(distributions.scan([str(tmp_path)])) == []


def test_an_old_report_without_the_file_sample_is_a_skip():
    facts = facts_fixture(packages={"distributions": {"x": "1"}, "count": 1, "shadowed": []})
    assert run_check("pip.installed_files", facts).status.value == "skip"


@pytest.mark.heavy
@pytest.mark.skipif(sys.platform != "linux", reason="Linux wheels and venv layout")
def test_real_opencv_left_empty_by_uninstalling_headless(heavy_python):
    """The issue's case with the real wheels: both 4.10.0.84 variants, then the headless one
    uninstalled. envdoctor must report it and cv2-dll must repair it."""
    py = heavy_python
    pip = [py, "-m", "pip", "install", "-q", "opencv-python==4.10.0.84",
           "opencv-python-headless==4.10.0.84"]
    subprocess.run(pip, check=True, capture_output=True, timeout=900)
    try:
        subprocess.run([py, "-m", "pip", "uninstall", "-y", "-q", "opencv-python-headless"],
                       check=True, capture_output=True, timeout=300)
        broken = subprocess.run([py, "-c", "import cv2; cv2.imread"], capture_output=True,
                                text=True)
        assert "has no attribute 'imread'" in broken.stderr
        check = subprocess.run([py, "-m", "envdoctor", "check", "--only", "pip", "--json",
                                "--no-frameworks"], capture_output=True, text=True,
                               timeout=300)
        import json

        report = json.loads(check.stdout)
        found = {f["code"] for c in report["checks"] for f in c["findings"]}
        assert {"pip.E310", "pip.E401"} <= found
        fix = subprocess.run([py, "-m", "envdoctor", "fix", "cv2-dll", "--yes"],
                             capture_output=True, text=True, timeout=900)
        assert fix.returncode == 0, fix.stdout + fix.stderr
        ok = subprocess.run([py, "-c", "import cv2; print(cv2.imread)"], capture_output=True,
                            text=True)
        assert ok.returncode == 0, ok.stderr
    finally:
        subprocess.run([py, "-m", "pip", "uninstall", "-y", "-q", "opencv-python",
                        "opencv-python-headless"], capture_output=True, timeout=300)
        shutil.rmtree(Path(py).parent.parent / "lib" / "cv2", ignore_errors=True)
