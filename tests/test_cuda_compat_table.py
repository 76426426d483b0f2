"""envdoctor.cudacompat: the toolkit -> driver table and the minor-version rule."""

from __future__ import annotations

import json
import os

import pytest

from envdoctor import cudacompat


def test_every_row_of_the_data_file_names_its_source():
    data = cudacompat.data()
    assert data["toolkits"] and data["families"]
    for row in data["toolkits"] + data["families"]:
        assert row.get("source", "").startswith("NVIDIA"), row
    # The table is newest first and every GA minimum is a real version string.
    majors_minors = [cudacompat.cuda_major_minor(r["cuda"]) for r in data["toolkits"]]
    assert majors_minors == sorted(majors_minors, reverse=True)
    for row in data["toolkits"]:
        assert cudacompat.version_tuple(row["linux"]), row


@pytest.mark.parametrize("cuda, driver, system, verdict", [
    ("12.4", "550.54.14", "Linux", "ok"),            # exactly the toolkit minimum
    ("12.4", "550.54.13", "Linux", "minor_compat"),  # one patch below: inside the family
    ("12.4", "535.104.05", "Linux", "minor_compat"),
    ("12.2", "535.104.05", "Linux", "ok"),           # 104 > 54 numerically, not as text
    ("12.1", "525.60.13", "Linux", "minor_compat"),
    ("12.1", "525.60.12", "Linux", "insufficient"),
    ("12.1", "470.82.01", "Linux", "insufficient"),
    ("12.2", "536.40", "Windows", "ok"),             # Windows driver numbering
    ("12.4", "528.33", "Windows", "minor_compat"),
    ("12.4", "528.24", "Windows", "insufficient"),
    ("11.8", "450.80.02", "Linux", "minor_compat"),
    ("11.8", "450.51.06", "Linux", "insufficient"),
    ("13.0", "575.57.08", "Linux", "insufficient"),  # a 12.x driver cannot run CUDA 13
    ("13.0", "580.65.06", "Linux", "ok"),
    ("13.2", "580.95.05", "Linux", "minor_compat"),
    ("13.1", "590.48.01", "Windows", "ok"),          # Windows 13.x: family minimum only
    ("10.2", "418.39", "Linux", "insufficient"),     # no minor-version compat before 11
    ("12.4", None, "Linux", "unknown"),
    ("garbage", "550.54.14", "Linux", "unknown"),
    ("9.0", "384.81", "Linux", "ok"),
])
def test_driver_verdict(cuda, driver, system, verdict):
    result = cudacompat.driver_verdict(cuda, driver, system)
    assert result["verdict"] == verdict
    assert set(result) >= {"verdict", "required", "family_minimum", "source"}


def test_verdict_reports_both_minimums_and_the_source():
    result = cudacompat.driver_verdict("12.4.127", "470.82.01", "Linux")
    assert result["required"] == "550.54.14"
    assert result["family_minimum"] == "525.60.13"
    assert "Release Notes" in result["source"]
    assert result["cuda"] == "12.4"


@pytest.mark.parametrize("spelling", ["12.1", "12.1.105", "V12.1.105", "cu121", "cuda121", 12010])
def test_cuda_spellings_all_mean_the_same_toolkit(spelling):
    assert cudacompat.min_driver(spelling, "Linux") == "530.30.02"


def test_windows_and_linux_minimums_differ():
    assert cudacompat.min_driver("12.8", "Linux") == "570.26"
    assert cudacompat.min_driver("12.8", "Windows") == "570.65"
    assert cudacompat.family_min_driver("12.3", "Windows") == "528.33"
    assert cudacompat.family_min_driver("11.2", "Windows") == "452.39"
    assert cudacompat.family_min_driver("13.1", "Linux") == "580"
    assert cudacompat.family_min_driver("10.2", "Linux") is None
    assert cudacompat.min_driver("99.9", "Linux") is None


@pytest.mark.parametrize("driver, system, newest", [
    ("535.104.05", "Linux", "12.2"),
    ("550.54.14", "Linux", "12.4"),
    ("470.82.01", "Linux", "11.4"),
    ("595.71.05", "Linux", "13.2"),
    ("536.40", "Windows", "12.2"),
    ("610.62", "Windows", "13.2"),
    ("300.1", "Linux", None),
    ("", "Linux", None),
])
def test_newest_cuda_for_driver(driver, system, newest):
    assert cudacompat.newest_cuda_for_driver(driver, system) == newest


@pytest.mark.parametrize("value, level", [(12040, "12.4"), (12020, "12.2"), (11080, "11.8"),
                                          (13020, "13.2"), (10010, "10.1")])
def test_cuda_level_from_nvml(value, level):
    assert cudacompat.cuda_level_from_nvml(value) == level


def test_wsl_uses_the_windows_table():
    assert cudacompat.driver_system({"platform": {"system": "Linux", "wsl": {"version": 2}}}) \
        == "Windows"
    assert cudacompat.driver_system({"platform": {"system": "Linux", "wsl": None}}) == "Linux"
    assert cudacompat.driver_system({}) == "Linux"


def test_data_file_is_valid_json_package_data():
    import envdoctor.data

    path = os.path.join(os.path.dirname(envdoctor.data.__file__), "cuda_drivers.json")
    with open(path, encoding="utf-8") as fh:
        assert json.load(fh)["toolkits"][0]["cuda"]
