"""Every check declares every probe whose facts can change its verdict.

``--only X`` runs only the probes X's checks declare (``needs`` + ``uses``), so a check
that reads an undeclared section judges without it and says something a full run would
not (``--only env`` once passed CUDA_VISIBLE_DEVICES=5 on a one-GPU machine because the
NVIDIA probe did not run). Two tests hold every registered check to it, on real facts
(this machine's probe run) and on rich GPU-node documents:

* reads are recorded: the facts document records each top-level section a check touches,
  and each must be declared;
* removing any undeclared section (as ``--only`` would leave it out) never changes the
  check's status or finding codes.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import pytest
from conftest import run_envdoctor
from fakes_nvidia import install_fake_nvml, scenario, sysroot
from fleet_reports import facts as fleet_facts
from test_from_robustness import base_facts

from envdoctor import registry, runner

# Keys of the document that are not probe sections.
META = {"schema_version", "envdoctor_version", "probes"}
EVERYTHING = "*"


class RecordingFacts(dict):
    """A facts document that remembers which top-level sections were read."""

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)

    def _all(self) -> None:
        self.read.add(EVERYTHING)

    def keys(self):  # type: ignore[override]
        self._all()
        return super().keys()

    def items(self):  # type: ignore[override]
        self._all()
        return super().items()

    def values(self):  # type: ignore[override]
        self._all()
        return super().values()

    def __iter__(self):
        self._all()
        return super().__iter__()

    def copy(self) -> dict[str, Any]:  # type: ignore[override]
        self._all()
        return dict(super().items())


def _documents() -> list[tuple[str, dict[str, Any]]]:
    """Facts in which the checks take their interesting branches."""
    docs = [("this machine", base_facts(0)), ("rich GPU node", base_facts(1))]
    for name, kwargs in (("A100 node", {}), ("no AVX", {"avx": False}),
                         ("CUDA_VISIBLE_DEVICES=5", {"env": {"CUDA_VISIBLE_DEVICES": "5"},
                                                     "gpus": 1}),
                         ("old driver", {"driver": "450.80.02", "cuda": "11.0"})):
        doc = fleet_facts(**kwargs)
        node = base_facts(1)
        for section in node:  # sections fleet_facts does not model
            if section not in doc:
                doc[section] = copy.deepcopy(node[section])
                doc["probes"][section] = node["probes"].get(section, {"status": "ok"})
        docs.append((name, doc))
    return docs


DOCUMENTS = _documents()
CHECKS = registry.all_checks()


def _verdict(check: registry.Check, facts: dict[str, Any]) -> tuple:
    result = runner.run_check(check, facts)
    return result.status.value, sorted(f.code for f in result.findings)


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_every_section_a_check_reads_is_declared(check):
    declared = set(check.inputs) | META
    for name, doc in DOCUMENTS:
        facts = RecordingFacts(copy.deepcopy(doc))
        check.func(facts)
        undeclared = facts.read - declared
        assert not undeclared, (
            f"{check.id} reads {sorted(undeclared)} on the {name} facts but declares only "
            f"needs={check.needs} uses={check.uses}: add them to needs (cannot judge "
            "without) or uses (reads them when present)")


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_leaving_out_an_undeclared_probe_never_changes_the_verdict(check):
    for name, doc in DOCUMENTS:
        full = _verdict(check, copy.deepcopy(doc))
        for section in sorted(set(doc) - META - set(check.inputs)):
            partial = copy.deepcopy(doc)
            del partial[section]
            partial["probes"].pop(section, None)
            assert _verdict(check, partial) == full, (
                f"{check.id} on the {name} facts changes its verdict without the "
                f"undeclared '{section}' section")


def test_only_runs_every_probe_the_chosen_checks_read():
    probes = runner.needed_probes([registry.get("env.cuda_visible_devices")],
                                  __import__("envdoctor.probes").probes.all_probes())
    assert {"env", "nvidia", "platform"} <= {p.name for p in probes}


def test_a_failed_optional_probe_does_not_stop_the_check():
    doc = json.loads(json.dumps(DOCUMENTS[4][1]))
    doc["nvidia"] = None
    doc["probes"]["nvidia"] = {"status": "timeout", "timeout_s": 10.0}
    check = registry.get("env.cuda_visible_devices")
    assert "nvidia" in check.uses
    result = runner.run_check(check, doc)
    assert result.status.value != "error"


@pytest.mark.parametrize("only", ["env", "env.cuda_visible_devices"])
def test_only_env_fails_an_index_that_this_one_gpu_machine_lacks(tmp_path, only):
    """The reported bug, end to end: one GPU (a fake NVML at the machine's edge),
    CUDA_VISIBLE_DEVICES=5; --only must fail it with env.E001 as the full run does."""
    env = install_fake_nvml(tmp_path / "nvml", scenario())
    root = sysroot(tmp_path / "root", pci=[("0000:19:00.0", "0x030200", "nvidia")],
                   module_version="590.48.01", dev_nodes=("nvidiactl", "nvidia0"))
    env.update(CUDA_VISIBLE_DEVICES="5", ENVDOCTOR_SYSROOT=str(root),
               PATH=os.environ.get("PATH", ""))
    verdicts = {}
    for args in (("--only", only), ("--no-frameworks",)):
        proc = run_envdoctor("check", "--json", *args, env=env)
        report = json.loads(proc.stdout)
        result = next(c for c in report["checks"] if c["id"] == "env.cuda_visible_devices")
        verdicts[args[0]] = (result["status"], [f["code"] for f in result["findings"]])
    assert verdicts["--only"] == verdicts["--no-frameworks"]
    assert verdicts["--only"][0] == "fail" and "env.E001" in verdicts["--only"][1]


# -- the other bugs issue 16 saw on the way (item 7) ------------------------------------------

def _gpu_node(tmp_path, nvml_scenario=None, smi_mode=None):
    """Environment for the real CLI on a fake one-GPU Linux node: a fake NVML (or none,
    and a fake nvidia-smi) at the machine's edge."""
    root = sysroot(tmp_path / "root", pci=[("0000:19:00.0", "0x030200", "nvidia")],
                   module_version="590.48.01", dev_nodes=("nvidiactl", "nvidia0"))
    env = {"ENVDOCTOR_SYSROOT": str(root), "PATH": os.environ.get("PATH", "")}
    if nvml_scenario is not None:
        env.update(install_fake_nvml(tmp_path / "nvml", nvml_scenario))
    if smi_mode is not None:
        from fakes_nvidia import fake_smi

        fake_smi(tmp_path / "bin", mode=smi_mode)
        site = tmp_path / "site" / "pynvml"
        site.mkdir(parents=True)
        (site / "__init__.py").write_text("raise ImportError('no NVML binding here')\n")
        env.update(PATH=f"{tmp_path / 'bin'}{os.pathsep}{env['PATH']}",
                   PYTHONPATH=str(tmp_path / "site"))
    return env


def test_mig_mode_shows_in_the_text_output(tmp_path):
    from fakes_nvidia import MIB, h100_gpu

    mig_dev = {"uuid": "MIG-aaaa", "name": "NVIDIA H100 80GB HBM3 MIG 1g.10gb", "gi": 7,
               "ci": 0, "mem": [9984 * MIB, 13 * MIB, 9971 * MIB]}
    gpu = h100_gpu(mig=[1, 1], mig_devices=[mig_dev, dict(mig_dev, uuid="MIG-bbbb", gi=8)])
    env = _gpu_node(tmp_path, scenario(gpus=[gpu]))
    text = run_envdoctor("check", "--only", "gpu", env=env).stdout
    assert "MIG:" in text and "GPU 0 enabled (2 instances)" in text
    env = _gpu_node(tmp_path / "pending", scenario(gpus=[h100_gpu(mig=[0, 1])]))
    text = run_envdoctor("check", "--only", "gpu", env=env).stdout
    assert "GPU 0 enabled after the next GPU reset (pending)" in text
    env = _gpu_node(tmp_path / "plain", scenario())
    assert "MIG" not in run_envdoctor("check", "--only", "gpu", env=env).stdout


@pytest.mark.skipif(os.name != "posix", reason="fake executables are POSIX scripts")
@pytest.mark.parametrize("mode", ["garbage", "binary"])
def test_garbage_from_nvidia_smi_is_said_in_the_text_verdict(tmp_path, mode):
    text = run_envdoctor("check", "--only", "gpu.driver",
                         env=_gpu_node(tmp_path, smi_mode=mode)).stdout
    assert "gpu.E010" in text and "not its report" in text, text
    assert "driver is not installed" not in text and "no nvidia-smi" not in text


@pytest.mark.skipif(os.name != "posix", reason="needs the POSIX sleep command")
def test_timeouts_are_said_in_rounded_seconds():
    from envdoctor import proc

    result = proc.run(["sleep", "5"], timeout=0.74964)
    assert result.timed_out and result.error == "timed out after 0.7 s (killed)"
    assert proc.seconds(9.74964) == "9.7" and proc.seconds(10.0) == "10"


def test_cuda_e001_offers_cuda_compat_on_a_data_center_gpu_only():
    """An A100 on driver 535 with a CUDA 13.0 toolkit: cuda-compat-13-0 is a way out
    (Linux, data-center GPU: the cuda.E002 rules); on a GeForce it would fail with 804."""
    def hint(gpu_name: str, system: str = "Linux") -> str:
        doc = fleet_facts(driver="535.54.03", cuda="12.2", gpus=1, gpu_name=gpu_name)
        doc["platform"]["system"] = system
        doc["cuda"] = {"runtimes": [{"version": "13.0", "kind": "toolkit",
                                     "where": "/usr/local/cuda-13.0"}]}
        doc["probes"]["cuda"] = {"status": "ok"}
        result = runner.run_check(registry.get("cuda.driver_compat"), doc)
        e001 = [f for f in result.findings if f.code == "cuda.E001"]
        assert e001, result.findings
        return e001[0].hint or ""

    a100 = hint("NVIDIA A100-SXM4-80GB")
    assert "sudo apt-get install cuda-compat-13-0" in a100
    assert "/usr/local/cuda-13.0/compat:$LD_LIBRARY_PATH" in a100
    assert "on this data-center GPU" in a100 and "update the NVIDIA driver" in a100
    assert "cuda-compat" not in hint("NVIDIA GeForce RTX 3090")
    assert "cuda-compat" not in hint("NVIDIA A100-SXM4-80GB", system="Windows")
    assert "if this is a data-center GPU" in hint("NVIDIA RTX A6000")
