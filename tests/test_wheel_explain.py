"""`envdoctor wheel` logic: every reason a wheel does not fit, for described interpreters."""

from __future__ import annotations

import platform
import struct
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envdoctor.wheeltags import (
    InvalidWheelName,
    Target,
    compact_tags,
    describe_interpreter,
    expand_tags,
    explain,
    parse_platform,
    parse_wheel_file,
)

# Interpreters from the real reports, described without being on them.
PY27MU = Target((2, 7), abiflags="mu", libc_version=(2, 17))              # Linux distro 2.7
PY27M = Target((2, 7), abiflags="m", libc_version=(2, 17))
WIN310 = Target((3, 10), system="windows", machine="AMD64", libc=None, libc_version=None)
MAC_ARM = Target((3, 11), system="macos", machine="arm64", libc=None, libc_version=None,
                 macos_version=(14, 2))
MAC_OLD = Target((3, 12), system="macos", machine="arm64", libc=None, libc_version=None,
                 macos_version=(12, 6))
MAC_ROSETTA = Target((3, 11), system="macos", machine="x86_64", os_machine="arm64",
                     libc=None, libc_version=None, macos_version=(13, 0))
# Raspberry Pi OS 32-bit on a 64-bit kernel: uname says aarch64, Python is 32-bit ARM.
PI32 = Target((3, 11), machine="armv8l", bits=32, os_machine="aarch64", libc_version=(2, 36))
WIN32_ON_64 = Target((3, 11), system="windows", machine="win32", bits=32, os_machine="AMD64",
                     libc=None, libc_version=None)
CENTOS7 = Target((3, 12), libc_version=(2, 17))
DEBIAN12 = Target((3, 12), libc_version=(2, 36))
ALPINE = Target((3, 12), libc="musl", libc_version=(1, 2))
ARM_SERVER = Target((3, 12), machine="aarch64", libc_version=(2, 35))
FREE_THREADED = Target((3, 13), abiflags="t", libc_version=(2, 36))
GIL313 = Target((3, 13), libc_version=(2, 36))
PYPY = Target((3, 10), implementation="pp", abis=["pypy310_pp73"], libc_version=(2, 35))

CASES = [
    # file name, interpreter, reason codes, suggested tag (prefix), words the reasons say
    ("numpy-1.16.6-cp27-cp27m-manylinux1_x86_64.whl", PY27MU, ["unicode-width"],
     "cp27-cp27mu-manylinux1_x86_64", ["cp27m", "cp27mu", "UCS-4"]),
    ("numpy-1.16.6-cp27-cp27mu-manylinux1_x86_64.whl", PY27M, ["unicode-width"],
     "cp27-cp27m-manylinux1_x86_64", ["wide-unicode", "narrow-unicode"]),
    ("numpy-1.26.4-cp311-cp311-win_amd64.whl", WIN310, ["python-version"],
     "cp310-cp310-win_amd64", ["Python 3.11", "CPython 3.10"]),
    ("foo-1.0-cp311-cp311-linux_x86_64.whl", MAC_ARM, ["operating-system"],
     "cp311-cp311-macosx_14_0_arm64", ["Linux", "macOS"]),
    ("torch-2.1.0-cp311-cp311-linux_aarch64.whl", PI32, ["32bit-userland-64bit-kernel"],
     "cp311-cp311-manylinux_2_17_armv7l", ["uname -m says aarch64", "32-bit"]),
    ("numpy-1.26.4-cp311-cp311-win_amd64.whl", WIN32_ON_64, ["32bit-python-64bit-os"],
     "cp311-cp311-win32", ["32-bit", "64-bit Windows"]),
    ("x-1.0-cp312-cp312-manylinux_2_28_x86_64.whl", CENTOS7, ["glibc-too-old"],
     "cp312-cp312-manylinux_2_17_x86_64", ["glibc 2.28", "glibc 2.17"]),
    ("x-1.0-cp312-cp312-musllinux_1_2_x86_64.whl", DEBIAN12, ["musl-vs-glibc"],
     "cp312-cp312-manylinux_2_17_x86_64", ["musl", "glibc"]),
    ("x-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", ALPINE,
     ["glibc-vs-musl"], "cp312-cp312-musllinux_1_2_x86_64", ["musl"]),
    ("x-1.0-cp312-cp312-manylinux_2_17_aarch64.whl", DEBIAN12, ["architecture"],
     "cp312-cp312-manylinux_2_17_x86_64", ["aarch64", "x86_64"]),
    # The suggestion keeps the wheel's manylinux level when this glibc takes it.
    ("x-1.0-cp312-cp312-manylinux_2_28_aarch64.whl", DEBIAN12, ["architecture"],
     "cp312-cp312-manylinux_2_28_x86_64", ["aarch64", "x86_64"]),
    ("x-1.0-cp312-cp312-linux_arm64.whl", ARM_SERVER, ["arch-naming"], None, ["aarch64"]),
    ("x-1.0-cp312-cp312-macosx_11_0_x86_64.whl", MAC_OLD, ["architecture"],
     "cp312-cp312-macosx_12_0_arm64", ["Intel", "Apple silicon"]),
    ("x-1.0-cp311-cp311-macosx_11_0_arm64.whl", MAC_ROSETTA, ["architecture"], None,
     ["Rosetta"]),
    ("x-1.0-cp38-abi3-macosx_14_0_arm64.whl", MAC_OLD, ["macos-too-old"],
     "cp38-abi3-macosx_12_0_arm64", ["macOS 14.0", "macOS 12.6"]),
    ("x-1.0-cp313-cp313t-manylinux_2_17_x86_64.whl", GIL313, ["free-threading"],
     "cp313-cp313-manylinux_2_17_x86_64", ["free-threaded"]),
    ("x-1.0-cp313-cp313-manylinux_2_17_x86_64.whl", FREE_THREADED, ["free-threading"],
     "cp313-cp313t-manylinux_2_17_x86_64", ["free-threaded"]),
    ("x-1.0-cp39-abi3-manylinux_2_17_x86_64.whl", FREE_THREADED,
     ["stable-abi-free-threaded"], None, ["abi3"]),
    ("x-1.0-cp313-cp313t-manylinux_2_17_x86_64.whl", DEBIAN12,
     ["python-version", "free-threading"], "cp312-cp312-manylinux_2_17_x86_64",
     ["3.13", "free-threaded"]),
    ("x-1.0-cp312-cp312d-manylinux_2_17_x86_64.whl", DEBIAN12, ["debug-build"],
     "cp312-cp312-manylinux_2_17_x86_64", ["debug"]),
    ("x-1.0-cp312-abi3-manylinux_2_17_x86_64.whl", Target((3, 10), libc_version=(2, 36)),
     ["python-too-old"], "cp310-abi3-manylinux_2_17_x86_64", ["3.12 or newer"]),
    ("x-1.0-pp310-pypy310_pp73-manylinux_2_17_x86_64.whl", DEBIAN12, ["implementation"],
     "cp312-cp312-manylinux_2_17_x86_64", ["PyPy"]),
    ("x-1.0-cp310-cp310-manylinux_2_17_x86_64.whl", PYPY, ["implementation"], None,
     ["CPython", "PyPy"]),
    ("x-1.0-py2-none-any.whl", DEBIAN12, ["python-version"], "py3-none-any",
     ["Python 2 only"]),
    ("x-1.0-cp311-cp311-win_amd64.whl", DEBIAN12, ["python-version", "operating-system"],
     "cp312-cp312-manylinux_2_17_x86_64", ["Windows", "Linux", "3.11"]),
]


@pytest.mark.parametrize("filename,target,codes,suggestion,words", CASES,
                         ids=[f"{c[0]}@{c[1].describe()}" for c in CASES])
def test_every_reason_is_named(filename, target, codes, suggestion, words):
    verdict = explain(filename, target)
    assert not verdict.compatible
    assert [r.code for r in verdict.reasons] == codes
    text = " ".join(r.message for r in verdict.reasons)
    for word in words:
        assert word in text
    if suggestion:
        assert verdict.suggestion == suggestion
        # The suggested name is itself a wheel the interpreter accepts.
        again = explain(verdict.suggested_filename, target)
        assert again.compatible, again.reasons


@pytest.mark.parametrize("filename,target", [
    ("numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", DEBIAN12),
    ("six-1.16.0-py2.py3-none-any.whl", PY27MU),
    ("six-1.16.0-py2.py3-none-any.whl", WIN32_ON_64),
    ("x-1.0-cp38-abi3-win_amd64.whl", WIN310),
    ("x-1.0-cp312-cp312-macosx_10_9_universal2.whl", MAC_OLD),
    ("x-1.0-cp311-cp311-linux_armv7l.whl", PI32),
    ("x-1.0-cp312-cp312-musllinux_1_1_x86_64.whl", ALPINE),
    ("x-1.0-cp313-cp313t-manylinux_2_17_x86_64.whl", FREE_THREADED),
])
def test_fitting_wheels_install(filename, target):
    verdict = explain(filename, target)
    assert verdict.compatible and not verdict.reasons
    assert verdict.matching_tag in verdict.tags


def test_json_shape_carries_reasons_and_suggestion():
    data = explain("numpy-1.26.4-cp311-cp311-win_amd64.whl", WIN310).to_dict()
    assert data["installable"] is False
    assert data["reasons"][0]["kind"] == "python"
    assert data["suggestion"]["filename"] == "numpy-1.26.4-cp310-cp310-win_amd64.whl"
    assert "Windows" in data["target"]["description"]


@pytest.mark.parametrize("name", ["foo.whl", "numpy-1.0-cp311-cp311-win_amd64",
                                  "numpy-1.0-cp311-win_amd64.whl", "numpy-1.0-1-2-3-4-5.whl",
                                  "-.whl", "numpy-not a version-py3-none-any.whl", ""])
def test_invalid_names_are_a_plain_error(name):
    with pytest.raises(InvalidWheelName) as info:
        explain(name, DEBIAN12)
    assert "wheel" in str(info.value)


def test_this_interpreter_round_trips_through_facts():
    """The compact tags a report carries expand to exactly this interpreter's sys_tags."""
    from packaging.tags import sys_tags

    real = [str(t) for t in sys_tags()]
    assert sorted(expand_tags(compact_tags(real))) == sorted(real)
    target = Target.from_dict(describe_interpreter())
    assert set(target.supported()) == set(real)
    mine = f"x-1.0-{real[0]}.whl"
    assert explain(mine, target).compatible


@pytest.mark.skipif(not (sys.platform.startswith("linux") and platform.machine() == "x86_64"
                         and struct.calcsize("P") == 8 and sys.implementation.name == "cpython"),
                    reason="compares generated tags with this x86_64 CPython's sys_tags")
def test_described_target_generates_the_same_tags_as_packaging():
    from packaging.tags import sys_tags

    facts = describe_interpreter()
    if facts["libc"] != "glibc" or facts["abiflags"]:
        pytest.skip("needs a release glibc CPython")
    described = Target(tuple(sys.version_info[:2]), libc="glibc",
                       libc_version=tuple(facts["libc_version"]))
    assert set(described.supported()) == {str(t) for t in sys_tags()}


def test_wheel_file_tag_lines():
    assert parse_wheel_file("Wheel-Version: 1.0\nTag: py2.py3-none-any\n") == (
        ["py2-none-any", "py3-none-any"], None)
    assert parse_wheel_file(None)[0] is None
    tags, why = parse_wheel_file("Wheel-Version: 1.0\nTag: cp311-cp311\n")
    assert tags is None and "malformed" in why
    tags, why = parse_wheel_file("Wheel-Version: 1.0\nGenerator: x\n")
    assert tags is None and "no Tag" in why


# --- never a traceback -------------------------------------------------------------------

_PART = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_.", min_size=0, max_size=14)
_TARGETS = st.sampled_from([PY27MU, WIN310, MAC_ARM, PI32, WIN32_ON_64, CENTOS7, ALPINE,
                            FREE_THREADED, PYPY, MAC_ROSETTA])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(max_size=80), target=_TARGETS)
def test_arbitrary_text_never_raises_anything_else(name, target):
    try:
        verdict = explain(name + ".whl", target)
    except InvalidWheelName as exc:
        assert str(exc)
        return
    assert verdict.compatible or verdict.reasons


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interp=st.one_of(_PART, st.sampled_from(["cp27", "cp311", "py3", "pp310", "py2.py3",
                                                "cp313", "graalpy311"])),
       abi=st.one_of(_PART, st.sampled_from(["cp27mu", "abi3", "none", "cp313t", "cp311d"])),
       plat=st.one_of(_PART, st.sampled_from([
           "win32", "win_amd64", "macosx_99_0_arm64", "manylinux_2_999_x86_64",
           "musllinux_1_9_aarch64", "linux_armv6l", "android_21_arm64_v8a",
           "ios_13_0_arm64_iphoneos", "manylinux2014_ppc64le", "macosx_10_9_fat3"])),
       target=_TARGETS)
def test_structured_names_always_explained(interp, abi, plat, target):
    name = f"pkg-1.0-{interp}-{abi}-{plat}.whl"
    try:
        verdict = explain(name, target)
    except InvalidWheelName:
        return
    if not verdict.compatible:
        assert verdict.reasons and all(r.message for r in verdict.reasons)
    assert isinstance(verdict.to_dict(), dict)


@given(st.text(max_size=40))
def test_parse_platform_never_raises(tag):
    info = parse_platform(tag)
    assert "os" in info


_JUNK = st.one_of(st.none(), st.integers(), st.text(max_size=10),
                  st.lists(st.integers(min_value=-5, max_value=40), max_size=3))


@settings(max_examples=150, deadline=None)
@given(data=st.fixed_dictionaries({}, optional={
    "implementation": _JUNK, "python_version": _JUNK, "abiflags": _JUNK, "system": _JUNK,
    "machine": _JUNK, "bits": _JUNK, "os_machine": _JUNK, "libc": _JUNK,
    "libc_version": _JUNK, "macos_version": _JUNK, "abis": st.lists(st.text(max_size=8)),
    "tags": st.one_of(st.none(), st.fixed_dictionaries({
        "platforms": st.lists(st.text(alphabet="abc_123", max_size=8), max_size=3),
        "pairs": st.lists(st.sampled_from(["cp311-cp311", "py3-none"]), max_size=2)}))}))
def test_garbage_interpreter_facts_still_explain(data):
    """A saved report edited by hand or from another version: explained, never a crash."""
    target = Target.from_dict(data)
    verdict = explain("numpy-1.26.4-cp311-cp311-win_amd64.whl", target)
    assert verdict.compatible or verdict.reasons
    assert target.describe()


def test_an_abi3_release_keeps_its_abi3_form_for_an_older_python():
    # cryptography-50.0.2-cp311-abi3 on Python 3.9: the real files are cpXY-abi3, never
    # cp39-cp39.
    target = Target((3, 9), libc_version=(2, 36))
    verdict = explain("cryptography-50.0.2-cp311-abi3-manylinux_2_34_x86_64.whl", target)
    assert verdict.suggestion.startswith("cp39-abi3-")
    assert "cpXY-abi3 wheel with XY at most 39" in verdict.suggestion_note


def test_a_suggested_name_for_another_python_is_never_presented_as_a_fact():
    # numpy 2.5.5 built for 3.12 on Python 3.11: a cp311 file exists only if the release's
    # Requires-Python allows 3.11, which a file name cannot tell.
    target = Target((3, 11), libc_version=(2, 36))
    verdict = explain("numpy-2.5.5-cp312-cp312-manylinux_2_27_x86_64.whl", target)
    data = verdict.to_dict()["suggestion"]
    assert data["filename_is_guess"] is True
    assert "Requires-Python" in data["check"]
    assert "pip download numpy==2.5.5 --no-deps --only-binary=:all:" in data["check"]
