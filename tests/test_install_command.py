"""envdoctor install: the build each real machine of the corpus should get, the command,
and why. GPU facts come from the real nvidia-smi captures in tests/data/corpus replayed
through a fake nvidia-smi (the probe runs for real); the compute capability is the one
NVIDIA publishes for the model (https://developer.nvidia.com/cuda-gpus)."""

from __future__ import annotations

import json
import os
import sys

import pytest
from conftest import facts_fixture, report_with_facts, run_envdoctor
from fakes_nvidia import fake_smi, sysroot

from envdoctor.install.advice import advise
from envdoctor.probes import ProbeContext
from envdoctor.probes.nvidia import probe_nvidia

POSIX = pytest.mark.skipif(os.name == "nt", reason="fake executables are POSIX scripts")

# corpus file -> compute capability of that model (NVIDIA's CUDA GPUs list)
CC = {"a100-sxm4-v12.xml": "8.0", "quadro-p2000-v12.xml": "6.1", "tesla-t4.xml": "7.5",
      "rtx-4000-sff-ada-v13.xml": "8.9", "rtx-3060-v12.xml": "8.6"}


@pytest.fixture
def gpu(tmp_path, corpus, monkeypatch):
    """The nvidia probe's facts for one corpus capture (NVML unusable: nvidia-smi)."""
    monkeypatch.setattr("envdoctor.nvml.Nvml.init", lambda self: False)
    seen: dict[str, dict] = {}

    def probe(name: str) -> dict:
        if name in seen:
            return json.loads(json.dumps(seen[name]))
        bindir = tmp_path / name / "bin"
        fake_smi(bindir, mode="replay", xml=corpus / "nvidia-smi-xml" / name,
                 compute_caps=[CC[name]])
        root = sysroot(tmp_path / name / "root", pci=[("0000:01:00.0", "0x030000", "nvidia")],
                       dev_nodes=("nvidiactl", "nvidia0"))
        env = {"PATH": str(bindir), "PYTHONPATH": str(tmp_path / "no_nvml_here")}
        facts = probe_nvidia(ProbeContext(timeout=5.0, sysroot=str(root), environ=env))
        assert facts["gpus"][0]["compute_capability"] == CC[name]
        seen[name] = facts
        return json.loads(json.dumps(facts))
    return probe


def machine(nvidia=None, *, system="Linux", python=(3, 11, 7), torch=None,
            dists=None, creator="venv", wsl=None) -> dict:
    exe = "/home/me/venv/bin/python"
    installed = {"torch": torch} if torch else {}
    return facts_fixture(
        platform={"system": system, "machine": "x86_64", "wsl": wsl},
        python={"version_info": list(python), "environment": "virtualenv",
                "executable": exe, "venv_creator": creator},
        pip={"interpreter": {"executable": exe}},
        python_env={"pip_module": {"module": None if creator == "uv" else "pip"}},
        nvidia=nvidia or {"gpus": [], "driver_version": None},
        frameworks={"installed": installed},
        packages={"distributions": dict(dists or {})},
        env={"variables": {}})


def test_a100_on_driver_535_gets_cu126_not_the_cuda_13_default(gpu):
    advice = advise("torch", machine(gpu("a100-sxm4-v12.xml")))
    assert advice.fits and advice.build == "torch 2.14 cu126 (CUDA 12.6)"
    assert advice.index_url == "https://download.pytorch.org/whl/cu126"
    line = advice.commands[-1].line()
    assert line == ("/home/me/venv/bin/python -m pip install 'torch==2.14.*' "
                    "--index-url https://download.pytorch.org/whl/cu126")
    why = " ".join(advice.why)
    assert "gives the cu130 build (CUDA 13.0)" in why
    assert "needs driver 580 or newer" in why and "runs CUDA up to 12.2" in why
    # the A100 in MIG mode is still one sm_80 GPU for the build
    assert "sm_80 by sm_80" in why


def test_pascal_quadro_gets_a_build_that_still_ships_sm_60(gpu):
    advice = advise("torch", machine(gpu("quadro-p2000-v12.xml")))
    assert advice.build == "torch 2.14 cu126 (CUDA 12.6)"
    why = " ".join(advice.why)
    assert "no kernels for Quadro P2000 (sm_61)" in why          # the cu130 default
    assert "sm_61 by sm_60" in why
    assert "minor-version compatibility" in why                  # 525.125.06 < 560.28.03


def test_tesla_t4_on_a_cuda_11_driver_falls_back_to_the_newest_cu118_release(gpu):
    advice = advise("torch", machine(gpu("tesla-t4.xml")))
    assert advice.build == "torch 2.7 cu118 (CUDA 11.8)"
    assert advice.commands[-1].argv[-2:] == ["--index-url",
                                              "https://download.pytorch.org/whl/cu118"]


def test_ada_on_a_new_driver_gets_the_pypi_default_and_says_so(gpu):
    advice = advise("torch", machine(gpu("rtx-4000-sff-ada-v13.xml")))
    assert advice.build == "torch 2.14 cu130 (CUDA 13.0)"
    assert "already gives the cu130 build here" in advice.why[0]


def test_windows_gets_a_cuda_index_because_pypi_is_cpu_only_there(gpu):
    facts = machine(gpu("rtx-4000-sff-ada-v13.xml"), system="Windows")
    advice = advise("torch", facts)
    assert advice.index_url == "https://download.pytorch.org/whl/cu130"
    assert "on Windows gives the CPU-only build" in advice.why[0]


def test_a_cpu_torch_is_replaced_and_its_companions_follow_at_matching_versions(gpu):
    torch = {"version": "2.13.0+cpu", "build": "cpu", "cuda": None}
    facts = machine(gpu("a100-sxm4-v12.xml"), torch=torch,
                    dists={"torch": "2.13.0+cpu", "torchvision": "0.28.0+cpu"})
    advice = advise("torch", facts)
    assert advice.build == "torch 2.13 cu129 (CUDA 12.9)"  # keeps the installed release
    first, second = advice.commands
    assert first.destructive and first.argv[-3:] == ["-y", "torch", "torchvision"]
    assert second.argv[4:6] == ["torch==2.13.0", "torchvision==0.28.*"]
    # if the install fails after the uninstall, the engine puts the CPU build back
    assert [c.line() for c in advice.restore] == [
        "/home/me/venv/bin/python -m pip install torch==2.13.0+cpu torchvision==0.28.0+cpu "
        "--index-url https://download.pytorch.org/whl/cpu"]


def test_a_windows_interpreter_path_is_quoted_for_powershell(gpu):
    facts = machine(gpu("rtx-4000-sff-ada-v13.xml"), system="Windows")
    exe = r"C:\Users\me\my env\python.exe"
    facts["python"]["executable"] = facts["pip"]["interpreter"]["executable"] = exe
    line = advise("torch", facts).commands[-1].line()
    assert line.startswith('& "C:\\Users\\me\\my env\\python.exe" -m pip install')


def test_torchvision_alone_joins_a_fitting_cuda_torch_from_its_index(gpu):
    torch = {"version": "2.14.0+cu126", "build": "cu126", "cuda": "12.6"}
    facts = machine(gpu("a100-sxm4-v12.xml"), torch=torch, dists={"torch": "2.14.0+cu126"})
    advice = advise("torchvision", facts)
    assert [c.line() for c in advice.commands] == [
        "/home/me/venv/bin/python -m pip install torch==2.14.0 'torchvision==0.29.*' "
        "--index-url https://download.pytorch.org/whl/cu126"]


def test_no_gpu_gets_the_cpu_index(gpu):
    advice = advise("torch", machine())
    assert advice.index_url == "https://download.pytorch.org/whl/cpu"
    assert "gigabytes of CUDA libraries" in " ".join(advice.why)


def test_uv_environment_gets_uv_commands(gpu):
    advice = advise("torch", machine(gpu("a100-sxm4-v12.xml"), creator="uv"))
    assert advice.commands[-1].argv[:5] == ["uv", "pip", "install", "--python",
                                            "/home/me/venv/bin/python"]


def test_tensorflow_on_driver_535_gets_the_newest_release_built_for_cuda_12_2(gpu):
    advice = advise("tensorflow", machine(gpu("a100-sxm4-v12.xml")))
    assert advice.commands[-1].argv[-1] == "tensorflow[and-cuda]==2.15.*"
    assert "TensorFlow 2.21 is built for CUDA 12.5" in " ".join(advice.why)


def test_tensorflow_on_native_windows_has_no_gpu_build(gpu):
    advice = advise("tensorflow", machine(gpu("rtx-3060-v12.xml"), system="Windows"))
    assert not advice.fits and "WSL2" in advice.why[0]


def test_jax_and_cupy_pick_the_cuda_family_this_driver_runs(gpu):
    old = machine(gpu("a100-sxm4-v12.xml"))
    new = machine(gpu("rtx-4000-sff-ada-v13.xml"))
    assert advise("jax", old).commands[-1].argv[-1] == "jax[cuda12]"
    assert "jax[cuda13] (CUDA 13) needs driver 580" in " ".join(advise("jax", old).why)
    assert advise("jax", new).commands[-1].argv[-1] == "jax[cuda13]"
    assert advise("cupy", old).commands[-1].argv[-1] == "cupy-cuda12x"
    assert advise("cupy", new).commands[-1].argv[-1] == "cupy-cuda13x"


def test_cupy_on_pascal_with_a_cuda_13_driver_stays_on_cuda_12(gpu):
    nvidia = gpu("quadro-p2000-v12.xml")
    nvidia["driver_version"], nvidia["cuda_driver_version"] = "595.58.03", "13.2"
    advice = advise("cupy", machine(nvidia))
    assert advice.commands[-1].argv[-1] == "cupy-cuda12x"
    assert "not Quadro P2000 (sm_61)" in " ".join(advice.why)


def test_onnxruntime_gpu_replaces_the_cpu_package(gpu):
    advice = advise("onnxruntime", machine(gpu("a100-sxm4-v12.xml"),
                                           dists={"onnxruntime": "1.23.0"}))
    assert advice.commands[0].destructive and advice.commands[0].argv[-1] == "onnxruntime"
    assert advice.commands[-1].argv[-1] == "onnxruntime-gpu"


def test_vllm_refuses_pascal_and_windows(gpu):
    assert not advise("vllm", machine(gpu("quadro-p2000-v12.xml"))).fits
    assert not advise("vllm", machine(gpu("a100-sxm4-v12.xml"), system="Windows")).fits
    ok = advise("vllm", machine(gpu("a100-sxm4-v12.xml")))
    assert ok.commands[-1].argv[-2:] == ["--extra-index-url",
                                          "https://download.pytorch.org/whl/cu129"]
    uv = advise("vllm", machine(gpu("a100-sxm4-v12.xml"), creator="uv"))
    assert uv.commands[-1].argv[-1] == "--torch-backend=auto"


def test_a_python_no_torch_release_supports_is_skipped(gpu):
    advice = advise("torch", machine(gpu("a100-sxm4-v12.xml"), python=(3, 9, 18)))
    assert advice.build.startswith("torch 2.8 ")  # 2.9+ need Python 3.10


# -- the command line ----------------------------------------------------------------------

def _report(tmp_path, facts) -> str:
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report_with_facts(facts)), encoding="utf-8")
    return str(path)


@POSIX
def test_cli_from_a_report_prints_the_command_and_exit_codes(tmp_path, gpu):
    path = _report(tmp_path, machine(gpu("a100-sxm4-v12.xml")))
    done = run_envdoctor("install", "torch", "--from", path)
    assert done.returncode == 0, done.stderr
    assert "--index-url https://download.pytorch.org/whl/cu126" in done.stdout
    assert "NVIDIA A100-SXM4-80GB (sm_80)" in done.stdout
    pascal = _report(tmp_path, machine(gpu("quadro-p2000-v12.xml")))
    refused = run_envdoctor("install", "vllm", "--from", pascal, "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["fits"] is False


def test_cli_escapes_hostile_values_from_a_report(tmp_path):
    nvidia = {"driver_version": "535.54.03", "cuda_driver_version": "12.2",
              "gpus": [{"index": 0, "name": "GPU\x1b]52;c;ZXZpbA==\x07\x1b[2J",
                        "compute_capability": "8.0"}]}
    done = run_envdoctor("install", "torch", "--from", _report(tmp_path, machine(nvidia)))
    assert done.returncode == 0
    assert "\x1b" not in done.stdout and "\\x1b]52" in done.stdout


def test_cli_usage_errors(tmp_path):
    bad = run_envdoctor("install", "torch", "--run", "--from", "x.json")
    assert bad.returncode == 2 and "--run installs on this machine" in bad.stderr
    assert run_envdoctor("install", "tensorflow-gpu").returncode == 2
    assert run_envdoctor("install", "jax", "--release", "0.4").returncode == 2
    missing = run_envdoctor("install", "torch", "--from", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


FAKE_UV = """import os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_UV_LOG"], "a") as fh:
    fh.write(" ".join(args) + "\\n")
if args[:2] == ["pip", "install"]:
    name = [a for a in args[4:] if not a.startswith("-")][0]
    info = os.path.join(os.environ["FAKE_SITE"], name + "-0.7.2.dist-info")
    os.makedirs(info, exist_ok=True)
    with open(os.path.join(info, "METADATA"), "w") as fh:
        fh.write("Metadata-Version: 2.1\\nName: %s\\nVersion: 0.7.2\\n" % name)
    print("Installed 1 package")
"""


@POSIX
def test_run_plans_asks_installs_and_checks_again(tmp_path):
    bindir, site = tmp_path / "bin", tmp_path / "site"
    bindir.mkdir()
    site.mkdir()
    uv = bindir / "uv"
    uv.write_text(f"#!{sys.executable}\n{FAKE_UV}", encoding="utf-8")
    uv.chmod(0o755)
    log = tmp_path / "uv.log"
    env = {"PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(site),
           "FAKE_UV_LOG": str(log), "FAKE_SITE": str(site)}
    dry = run_envdoctor("install", "jax", "--installer", "uv", "--run", "--dry-run", env=env)
    assert dry.returncode == 6 and "Dry run: nothing was changed" in dry.stdout
    assert not log.exists()
    declined = run_envdoctor("install", "jax", "--installer", "uv", "--run", env=env)
    assert declined.returncode == 5 and not log.exists()      # stdin is not a terminal
    done = run_envdoctor("install", "jax", "--installer", "uv", "--run", "--yes", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert log.read_text().startswith(f"pip install --python {sys.executable} --upgrade jax")
    assert "jax: jax 0.7.2" in done.stdout and "installed and verified" in done.stdout
