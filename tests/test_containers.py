"""envdoctor dockerfile / compose / k8s on real container definitions (tests/data/containers,
SOURCES.md names each), and on variants derived from them in temporary folders. The host
is given as a saved report built from the real nvidia-smi captures (tests/data/corpus)."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import REPO, facts_fixture, report_with_facts, run_envdoctor

from envdoctor import nvidia_smi
from envdoctor.containers import dockerfile, pip, rules

DATA = REPO / "tests" / "data" / "containers"


def _issues(done) -> list[dict]:
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)["issues"]


def _host(tmp_path, corpus, xml: str, cc: str) -> str:
    """A saved report whose NVIDIA facts are the parsed real capture ``xml``."""
    raw = (corpus / "nvidia-smi-xml" / xml).read_text(encoding="utf-8", errors="replace")
    nvidia = nvidia_smi.parse_xml(raw)
    for gpu in nvidia["gpus"]:
        gpu["compute_capability"] = cc
    facts = facts_fixture(nvidia=nvidia, platform={"system": "Linux", "machine": "x86_64"})
    path = tmp_path / f"{xml}.json"
    path.write_text(json.dumps(report_with_facts(facts)), encoding="utf-8")
    return str(path)


def test_transformers_gpu_image_asks_for_a_torch_the_cu121_index_does_not_have():
    done = run_envdoctor("dockerfile", str(DATA / "transformers-pytorch-gpu.Dockerfile"),
                         "--no-host", "--json")
    issues = _issues(done)
    assert [(i["code"], i["line"]) for i in issues] == [("container.W006", 20)]
    assert "cu121 index has no torch 2.6" in issues[0]["message"]
    assert "cu118, cu124, cu126" in issues[0]["fix"]
    assert done.returncode == 0
    assert run_envdoctor("dockerfile", str(DATA / "transformers-pytorch-gpu.Dockerfile"),
                         "--no-host", "--fail-on", "warn").returncode == 1


def test_transformers_tensorflow_image_has_cuda_11_for_a_cuda_12_tensorflow():
    done = run_envdoctor("dockerfile", str(DATA / "transformers-tensorflow-gpu.Dockerfile"),
                         "--no-host", "--json")
    issues = _issues(done)
    assert done.returncode == 1
    assert [(i["code"], i["line"]) for i in issues] == [("container.E001", 17)]
    assert "built for CUDA 12.5" in issues[0]["message"] and "CUDA 11.2" in issues[0]["message"]


def test_cpu_light_image_is_clean():
    done = run_envdoctor("dockerfile", str(DATA / "transformers-torch-light.Dockerfile"),
                         "--no-host")
    assert done.returncode == 0 and "no GPU problems found" in done.stdout


def test_a_cuda_base_newer_than_the_host_driver_refuses_to_start(tmp_path, corpus):
    # The A100 capture runs driver 535.54.03 (CUDA 12.2); the docker docs image is 12.9.
    host = _host(tmp_path, corpus, "a100-sxm4-v12.xml", "8.0")
    done = run_envdoctor("compose", str(DATA / "docker-docs-gpu-compose.yaml"),
                         "--from", host, "--json")
    issues = _issues(done)
    assert done.returncode == 1
    assert [(i["code"], i["line"]) for i in issues] == [("container.E002", 3)]
    assert "cuda>=12.9" in issues[0]["message"] and "up to 12.2" in issues[0]["message"]
    # the same file on a host whose driver runs CUDA 13.2 is fine
    ada = _host(tmp_path, corpus, "rtx-4000-sff-ada-v13.xml", "8.9")
    assert run_envdoctor("compose", str(DATA / "docker-docs-gpu-compose.yaml"),
                         "--from", ada).returncode == 0


def test_pypi_torch_whose_cuda_the_host_driver_cannot_run(tmp_path, corpus):
    # The torch-light image, switched to PyPI's default torch, on the Tesla T4 (515, CUDA 11.7)
    text = (DATA / "transformers-torch-light.Dockerfile").read_text(encoding="utf-8")
    path = tmp_path / "Dockerfile"
    path.write_text(text.replace(" --index-url https://download.pytorch.org/whl/cpu", ""),
                    encoding="utf-8")
    host = _host(tmp_path, corpus, "tesla-t4.xml", "7.5")
    issues = _issues(run_envdoctor("dockerfile", str(path), "--from", host, "--json"))
    assert [(i["code"], i["line"]) for i in issues] == [("container.E003", 8)]
    assert "CUDA driver version is insufficient" in issues[0]["message"]
    assert "cu118" in issues[0]["fix"]
    # without a host it is a warning: the build is whatever PyPI serves that day
    warn = _issues(run_envdoctor("dockerfile", str(path), "--no-host", "--json"))
    assert [i["code"] for i in warn] == ["container.W001"]


def test_compose_service_without_gpu_request_or_shm(tmp_path):
    text = (DATA / "docker-docs-tensorflow-compose.yaml").read_text(encoding="utf-8")
    kept = _issues(run_envdoctor("compose", str(DATA / "docker-docs-tensorflow-compose.yaml"),
                                 "--no-host", "--json"))
    assert [i["code"] for i in kept] == ["container.W004"]          # no shm_size / ipc
    stripped = tmp_path / "compose.yaml"
    stripped.write_text(text.split("    deploy:")[0] + "    shm_size: 8gb\n", encoding="utf-8")
    issues = _issues(run_envdoctor("compose", str(stripped), "--no-host", "--json"))
    assert [(i["code"], i["line"]) for i in issues] == [("container.W003", 2)]


def test_compose_builds_its_dockerfile_and_reports_its_lines(tmp_path):
    shutil.copy(DATA / "transformers-tensorflow-gpu.Dockerfile", tmp_path / "Dockerfile")
    (tmp_path / "compose.yaml").write_text(
        "services:\n  train:\n    build: .\n    ipc: host\n    deploy:\n      resources:\n"
        "        reservations:\n          devices:\n            - capabilities: [gpu]\n",
        encoding="utf-8")
    done = run_envdoctor("compose", str(tmp_path / "compose.yaml"), "--no-host", "--json",
                         cwd=str(tmp_path))
    issues = _issues(done)
    assert [(i["file"], i["code"], i["line"]) for i in issues] == [
        ("Dockerfile", "container.E001", 17)]


def test_k8s_pod_without_limit_and_shm(tmp_path):
    assert run_envdoctor("k8s", str(DATA / "k8s-device-plugin-gpu-pod.yaml")).returncode == 0
    text = (DATA / "k8s-device-plugin-gpu-pod.yaml").read_text(encoding="utf-8")
    pytorch = text.replace("nvcr.io/nvidia/k8s/cuda-sample:vectoradd-cuda12.5.0",
                           "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime")
    no_limit = pytorch.replace("      resources:\n        limits:\n"
                               "          nvidia.com/gpu: 1 # requesting 1 GPU\n", "")
    deployment = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n"
                  "  template:\n    spec:\n      containers:\n        - name: a\n"
                  "          image: vllm/vllm-openai:latest\n")
    path = tmp_path / "pods.yaml"
    path.write_text(pytorch + "---\n" + no_limit + "---\n" + deployment, encoding="utf-8")
    issues = _issues(run_envdoctor("k8s", str(path), "--json"))
    assert [(i["code"], i["line"]) for i in issues] == [
        ("container.W004", 8),                                  # limit, but 64 MB /dev/shm
        ("container.W003", 25), ("container.W004", 25),         # the pod without a limit
        ("container.W003", 39), ("container.W004", 39)]         # the Deployment's template


def test_opencv_gui_build_and_alpine(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text("FROM python:3.11-alpine\nRUN pip install torch opencv-python\n",
                    encoding="utf-8")
    issues = _issues(run_envdoctor("dockerfile", str(path), "--no-host", "--json"))
    assert {i["code"] for i in issues} == {"container.E004", "container.W001",
                                           "container.W005"}
    assert any("opencv-python-headless" in i["fix"] for i in issues)


def test_bad_files_are_usage_errors(tmp_path):
    missing = run_envdoctor("dockerfile", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("services: [unclosed\n", encoding="utf-8")
    done = run_envdoctor("compose", str(bad), "--no-host")
    assert done.returncode == 2 and "not valid YAML" in done.stderr
    assert "Traceback" not in done.stderr


def test_yaml_alias_bomb_stays_small(tmp_path):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    lines += [f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]"
              for p, c in zip("abcdefgh", "bcdefghi")]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\nservices: {}\n", encoding="utf-8")
    assert run_envdoctor("compose", str(bomb), "--no-host", timeout=30).returncode == 0


def test_hostile_values_are_escaped(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text("FROM nvidia/cuda:12.4.0-runtime\nRUN pip install "
                    "'opencv-python\x1b]52;c;ZXZpbA==\x07'\n", encoding="utf-8")
    done = run_envdoctor("dockerfile", str(path), "--no-host")
    assert "\x1b" not in done.stdout and "\\x1b" in done.stdout


@pytest.mark.parametrize("shell,expected", [
    ("pip install torch==2.5.1 --index-url https://download.pytorch.org/whl/cu124",
     ("torch==2.5.1", "cu124")),
    ("python3 -m pip install -U torch -f https://download.pytorch.org/whl/cu118/torch_stable.html",
     ("torch", "cu118")),
    ("uv pip install 'torch==2.8.0+cpu'", ("torch==2.8.0+cpu", "cpu")),
    ("V=torch==2.6.*; pip install $V --extra-index-url https://download.pytorch.org/whl/cu126",
     ("torch==2.6.*", "cu126")),
])
def test_pip_commands_are_read_with_their_index(shell, expected):
    (found,) = pip.find(shell)
    assert (found.names()["torch"], rules.torch_variant(found)) == expected


def test_dockerfile_stages_args_and_continuations():
    text = ("ARG BASE=nvidia/cuda:12.8.1-runtime-ubuntu24.04\nFROM ${BASE} AS build\n"
            "RUN pip install \\\n    torch \\\n    # a comment\n    torchvision\n"
            "FROM build\nRUN echo done\n")
    (first, last) = dockerfile.builds(text)
    assert last.base.cuda == "12.8" and last.base_line == 2
    assert [(line, sorted(p.names())) for line, p in last.pips] == [
        (3, ["torch", "torchvision"])]


def test_every_code_is_documented():
    from envdoctor.containers.issues import CODES

    doc = (REPO / "docs" / "containers.md").read_text(encoding="utf-8")
    assert all(f"| {code} |" in doc for code in CODES)
    documented = set(__import__("re").findall(r"\| (container\.[EWI]\d{3}) \|", doc))
    assert documented == set(CODES)
