"""cpu.avx: the real cpu probe on a fake /proc/cpuinfo built from real lscpu captures,
then the check, the way a user with that processor would run it."""

from __future__ import annotations

import json
import os
import platform
import re
from pathlib import Path

import pytest
from conftest import facts_fixture, report_with_facts, run_check, run_envdoctor, validate_report

from envdoctor.probes import ProbeContext
from envdoctor.probes.cpu import parse_cpuinfo, probe_cpu, x86_level
from envdoctor.result import Status

CORPUS_CPUS = {
    # file stem: (expected x86-64 level, has AVX)
    "lscpu-pentium-g4600": ("x86-64-v2", False),
    "lscpu-atom-x5-z8350": ("x86-64-v2", False),
    "lscpu-celeron-n4020": ("x86-64-v2", False),
    "lscpu-core-i7-7700k": ("x86-64-v3", True),
    "lscpu-ryzen7-5800x": ("x86-64-v3", True),
}

# A Core 2 Duo E8400 (2008): SSE4.1 but no SSE4.2/POPCNT, so below x86-64-v2. Written for
# this test from Intel's published feature list, in /proc/cpuinfo spelling.
CORE2_FLAGS = ("fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 "
               "clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx lm constant_tsc "
               "arch_perfmon pebs bts rep_good nopl pni dtes64 monitor ds_cpl vmx smx est "
               "tm2 ssse3 cx16 xtpr pdcm sse4_1 lahf_lm")

on_linux_x86 = pytest.mark.skipif(
    platform.system() != "Linux" or os.uname().machine not in ("x86_64", "amd64"),
    reason="the cpu probe reads /proc/cpuinfo and computes x86 levels on Linux x86-64 only")


def lscpu_fields(text: str) -> tuple[str, list[str]]:
    model = re.search(r"^Model name:\s*(.+)$", text, re.M)
    flags = re.search(r"^Flags:\s*(.+)$", text, re.M)
    assert model and flags, "corpus file lacks Model name:/Flags: lines"
    return model.group(1).strip(), flags.group(1).split()


def write_cpuinfo(root: Path, model: str, flags: list[str], cpus: int = 2,
                  vendor: str = "GenuineIntel") -> Path:
    blocks = [f"processor\t: {n}\nvendor_id\t: {vendor}\nmodel name\t: {model}\n"
              f"flags\t\t: {' '.join(flags)}\n" for n in range(cpus)]
    path = root / "proc" / "cpuinfo"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(blocks), encoding="utf-8")
    return root


def corpus_cpu(corpus: Path, stem: str, tmp_path: Path) -> dict:
    model, flags = lscpu_fields((corpus / "cpu" / f"{stem}.txt").read_text(encoding="utf-8"))
    vendor = "AuthenticAMD" if model.startswith("AMD") else "GenuineIntel"
    root = write_cpuinfo(tmp_path / stem, model, flags, vendor=vendor)
    return probe_cpu(ProbeContext(sysroot=str(root), environ={}))


@on_linux_x86
@pytest.mark.parametrize("stem", sorted(CORPUS_CPUS))
def test_probe_reads_model_flags_and_level_of_real_cpus(corpus, tmp_path, stem):
    facts = corpus_cpu(corpus, stem, tmp_path)
    level, has_avx = CORPUS_CPUS[stem]
    assert facts["flags_source"] == "/proc/cpuinfo"
    assert facts["x86_level"] == level
    assert ("avx" in facts["flags"]) is has_avx
    assert facts["logical_cpus"] == 2
    assert facts["model"] and facts["model"] in (corpus / "cpu" / f"{stem}.txt").read_text()


@on_linux_x86
def test_pentium_g4600_with_tensorflow_fails_in_words_a_beginner_understands(corpus,
                                                                            tmp_path):
    cpu = corpus_cpu(corpus, "lscpu-pentium-g4600", tmp_path)
    facts = facts_fixture(cpu=cpu, packages={"distributions": {"tensorflow": "2.15.0",
                                                               "numpy": "1.26.4"}})
    result = run_check("cpu.avx", facts)
    assert result.status is Status.FAIL
    [finding] = [f for f in result.findings if f.code == "cpu.E001"]
    text = finding.message
    assert "Intel Pentium G4600" in text        # the processor, without (R) and GHz noise
    assert "lacks AVX" in text
    assert "TensorFlow 1.6" in text and "tensorflow 2.15.0" in text
    assert "Illegal instruction (core dumped)" in text
    assert "pip uninstall tensorflow" in finding.hint
    assert "tensorflow==1.5.1" in finding.hint and "from source" in finding.hint
    assert finding.details["missing"] == ["avx"]
    # NumPy 1.26 runs on x86-64-v2 and below: no finding for it.
    assert all("numpy" not in f.details.get("packages", {}) for f in result.findings)


@on_linux_x86
@pytest.mark.parametrize("stem", ["lscpu-atom-x5-z8350", "lscpu-celeron-n4020"])
def test_other_cpus_without_avx_fail_with_jaxlib(corpus, tmp_path, stem):
    cpu = corpus_cpu(corpus, stem, tmp_path)
    facts = facts_fixture(cpu=cpu, packages={"distributions": {"jaxlib": "0.4.30",
                                                               "jax": "0.4.30"}})
    result = run_check("cpu.avx", facts)
    assert result.status is Status.FAIL
    assert any("jaxlib 0.4.30" in f.message and "lacks AVX" in f.message
               for f in result.findings)


@on_linux_x86
@pytest.mark.parametrize("stem", ["lscpu-core-i7-7700k", "lscpu-ryzen7-5800x"])
def test_cpus_with_avx_pass_with_the_same_packages(corpus, tmp_path, stem):
    cpu = corpus_cpu(corpus, stem, tmp_path)
    facts = facts_fixture(cpu=cpu, packages={"distributions": {
        "tensorflow": "2.15.0", "jaxlib": "0.4.30", "numpy": "2.4.1", "dlib": "19.24.6"}})
    result = run_check("cpu.avx", facts)
    assert result.status is Status.PASS, result.findings
    assert result.findings == []
    assert "tensorflow 2.15.0" in result.summary and "x86-64-v3" in result.summary


@on_linux_x86
def test_old_tensorflow_before_avx_builds_passes_on_g4600(corpus, tmp_path):
    cpu = corpus_cpu(corpus, "lscpu-pentium-g4600", tmp_path)
    facts = facts_fixture(cpu=cpu, packages={"distributions": {"tensorflow": "1.5.1"}})
    assert run_check("cpu.avx", facts).status is Status.PASS


@on_linux_x86
def test_without_packages_it_passes_and_lists_what_this_cpu_cannot_run(corpus, tmp_path):
    cpu = corpus_cpu(corpus, "lscpu-pentium-g4600", tmp_path)
    result = run_check("cpu.avx", facts_fixture(cpu=cpu, packages={"distributions": {}}))
    assert result.status is Status.PASS
    [note] = result.findings
    assert note.code == "cpu.I001" and note.level.label == "info"
    assert "TensorFlow 1.6" in note.message and "jaxlib 0.1.62" in note.message
    assert "NumPy" not in note.message       # a G4600 is x86-64-v2: NumPy 2.4 runs
    assert result.details["cannot_run"]


@on_linux_x86
def test_numpy_2_4_fails_on_a_cpu_below_x86_64_v2(tmp_path):
    root = write_cpuinfo(tmp_path, "Intel(R) Core(TM)2 Duo CPU     E8400  @ 3.00GHz",
                         CORE2_FLAGS.split())
    cpu = probe_cpu(ProbeContext(sysroot=str(root), environ={}))
    assert cpu["x86_level"] == "x86-64"
    for version, status in (("2.4.0", Status.FAIL), ("2.4.0rc1", Status.FAIL),
                            ("2.3.5", Status.PASS)):
        result = run_check("cpu.avx", facts_fixture(
            cpu=cpu, packages={"distributions": {"numpy": version}}))
        assert result.status is status, version
    result = run_check("cpu.avx", facts_fixture(
        cpu=cpu, packages={"distributions": {"numpy": "2.4.0"}}))
    [finding] = result.findings
    assert "x86-64-v2" in finding.message and "SSE4.2" in finding.message
    assert "POPCNT" in finding.message and "Core2 Duo E8400" in finding.message
    assert 'numpy<2.4' in finding.hint


def test_dlib_on_a_cpu_without_avx_is_a_warning_not_a_failure():
    cpu = {"machine": "x86_64", "model": "Intel(R) Celeron(R) CPU N3060 @ 1.60GHz",
           "flags": ["sse", "sse2", "pni", "ssse3", "sse4_1", "sse4_2", "popcnt"],
           "flags_source": "/proc/cpuinfo", "x86_level": "x86-64"}
    result = run_check("cpu.avx", facts_fixture(
        cpu=cpu, packages={"distributions": {"dlib": "19.24.6"}}))
    assert result.status is Status.WARN
    assert result.findings[0].code == "cpu.W001"
    assert "--no-binary dlib" in result.findings[0].hint


def test_arm_processors_pass_with_a_note_instead_of_an_avx_verdict():
    cpu = {"machine": "aarch64", "model": None, "flags": ["fp", "asimd", "aes"],
           "flags_source": "/proc/cpuinfo", "x86_level": None}
    result = run_check("cpu.avx", facts_fixture(
        cpu=cpu, packages={"distributions": {"tensorflow": "2.15.0"}}))
    assert result.status is Status.PASS
    assert "aarch64" in result.summary and "do not apply" in result.summary


def test_unknown_flags_skip_with_the_reason():
    cpu = {"machine": "x86_64", "model": None, "flags": [],
           "flags_source": "unavailable: /proc/cpuinfo unreadable", "x86_level": None}
    result = run_check("cpu.avx", facts_fixture(
        cpu=cpu, packages={"distributions": {"tensorflow": "2.15.0"}}))
    assert result.status is Status.SKIP
    assert "unreadable" in result.skip_reason


def test_windows_partial_flags_judge_only_what_windows_reports():
    # IsProcessorFeaturePresent has no POPCNT/CX16/LAHF query: NumPy 2.4 cannot be judged
    # fully, but a missing AVX is still certain.
    cpu = {"machine": "amd64", "model": "Intel64 Family 6 Model 158",
           "flags": ["pni", "ssse3", "sse4_1", "sse4_2"],
           "flags_known": ["avx", "avx2", "avx512f", "pni", "sse4_1", "sse4_2", "ssse3"],
           "flags_source": "IsProcessorFeaturePresent", "x86_level": None}
    result = run_check("cpu.avx", facts_fixture(
        cpu=cpu, packages={"distributions": {"numpy": "2.4.1", "tensorflow-intel": "2.15.0"}}))
    assert result.status is Status.FAIL
    assert [f.details["packages"] for f in result.findings] == [{"tensorflow-intel": "2.15.0"}]
    assert result.details["avx"] is False and result.details["fma"] is None


def test_parse_cpuinfo_survives_garbage():
    for text in ("", "\x00\xff garbage", "flags: : :", "processor : x\n\n\n"):
        parsed = parse_cpuinfo(text)
        assert isinstance(parsed["flags"], list)
    assert x86_level(set()) == "x86-64"


def _rows():
    from envdoctor.checks.cpu_avx import requirements

    return requirements()


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["id"])
def test_requirement_rows_are_sourced_and_well_formed(row):
    from packaging.specifiers import SpecifierSet

    assert row["source"].strip()
    assert row["packages"] and all(p == p.lower() for p in row["packages"])
    SpecifierSet(row["versions"])
    assert row["level"] in ("error", "warning")
    assert ("flags" in row["needs"]) != ("x86_level" in row["needs"])
    assert row["ways_out"]


def test_check_from_saved_report_fails_with_exit_code_1_and_a_valid_report(tmp_path):
    flags = ["fpu", "sse", "sse2", "ssse3", "pni", "cx16", "sse4_1", "sse4_2", "popcnt",
             "lahf_lm", "xsave", "movbe", "abm", "aes", "rdrand"]
    cpu = {"machine": "x86_64", "model": "Intel(R) Pentium(R) CPU G4600 @ 3.60GHz",
           "vendor": "GenuineIntel", "flags": flags, "flags_source": "/proc/cpuinfo",
           "flags_known": None, "logical_cpus": 4, "x86_level": x86_level(set(flags))}
    facts = facts_fixture(cpu=cpu, packages={"distributions": {"tensorflow": "2.16.1"},
                                             "count": 1, "shadowed": []})
    saved = tmp_path / "report.json"
    saved.write_text(json.dumps(report_with_facts(facts)), encoding="utf-8")
    proc = run_envdoctor("check", "--from", str(saved), "--only", "cpu.avx", "--json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    validate_report(report)
    [check] = report["checks"]
    assert check["id"] == "cpu.avx" and check["status"] == "fail"
    assert check["findings"][0]["code"] == "cpu.E001"
    assert "Intel Pentium G4600" in check["findings"][0]["message"]
    assert report["summary"]["exit_code"] == 1


@on_linux_x86
def test_cli_on_a_fake_g4600_with_a_fake_tensorflow_install(corpus, tmp_path):
    """End to end: real probes under ENVDOCTOR_SYSROOT, a fake installed tensorflow."""
    model, flags = lscpu_fields(
        (corpus / "cpu" / "lscpu-pentium-g4600.txt").read_text(encoding="utf-8"))
    root = write_cpuinfo(tmp_path / "root", model, flags)
    site = tmp_path / "site"
    dist = site / "tensorflow-2.15.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tensorflow\n"
                                   "Version: 2.15.0\n", encoding="utf-8")
    env = {"ENVDOCTOR_SYSROOT": str(root),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(site),
                                                       os.environ.get("PYTHONPATH")]))}
    proc = run_envdoctor("check", "--only", "cpu.avx", "--json", env=env)
    report = json.loads(proc.stdout)
    validate_report(report)
    [check] = report["checks"]
    assert check["status"] == "fail", check
    assert proc.returncode == 1
    assert report["facts"]["cpu"]["x86_level"] == "x86-64-v2"
    assert "lacks AVX" in check["findings"][0]["message"]


def test_tensorflow_2_4_0_needed_avx2_by_mistake_and_2_4_1_did_not():
    # A Sandy Bridge i7-2600 has AVX but no AVX2 (tensorflow/tensorflow#45744).
    cpu = {"machine": "x86_64", "model": "Intel(R) Core(TM) i7-2600 CPU @ 3.40GHz",
           "flags": ["sse", "sse2", "pni", "ssse3", "sse4_1", "sse4_2", "popcnt", "avx"],
           "flags_source": "/proc/cpuinfo", "x86_level": "x86-64-v2"}
    broken = run_check("cpu.avx", facts_fixture(
        cpu=cpu, packages={"distributions": {"tensorflow": "2.4.0"}}))
    assert broken.status is Status.FAIL
    assert "AVX2" in broken.findings[0].message
    assert 'tensorflow==2.4.1' in broken.findings[0].hint
    fixed = run_check("cpu.avx", facts_fixture(
        cpu=cpu, packages={"distributions": {"tensorflow": "2.4.1"}}))
    assert fixed.status is Status.PASS
