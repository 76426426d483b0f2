"""build.jit_extensions: can PyTorch C++/CUDA extensions (flash-attn, apex, DeepSpeed ops,
torch.utils.cpp_extension.load) be compiled here?"""

from __future__ import annotations

from typing import Any

from envdoctor.facts import as_dict, text
from envdoctor.registry import register
from envdoctor.result import WARNING, Finding, Outcome, outcome, passed, skipped

CODES = {
    "build.W020": "ninja is not installed: torch.utils.cpp_extension.load() stops with "
                  "'Ninja is required to load C++ extensions'.",
    "build.W021": "The Python headers (Python.h) are missing: extensions fail with 'fatal "
                  "error: Python.h: No such file or directory'.",
    "build.W022": "A CUDA build of PyTorch and no CUDA toolkit (nvcc) to compile its CUDA "
                  "extensions: 'CUDA_HOME environment variable is not set'.",
    "build.W023": "The CUDA toolkit extensions would build with has another major version "
                  "than PyTorch's CUDA: 'The detected CUDA version mismatches the version "
                  "that was used to compile PyTorch'.",
    "build.W024": "No C++ compiler for extensions (g++ / cl).",
}


def _python_dev_hint(facts: dict[str, Any]) -> str:
    python = as_dict(facts.get("python"))
    info = python.get("version_info")
    mm = f"{info[0]}.{info[1]}" if isinstance(info, list) and len(info) >= 2 else "3"
    if python.get("environment") == "conda" or python.get("conda"):
        return f"conda install python={mm}   (conda's Python ships its headers)"
    return (f"sudo apt install python{mm}-dev   (Fedora: sudo dnf install python3-devel; "
            "a pyenv or uv Python ships its headers: reinstall it if they are gone)")


@register("build.jit_extensions", title="Compiling PyTorch extensions",
          tags=("build", "framework", "cuda"), needs=("toolchain",),
          uses=("frameworks", "python", "platform"), codes=CODES)
def check_jit_extensions(facts: dict[str, Any]) -> Outcome:
    """Can PyTorch C++/CUDA extensions be compiled here?

    Packages without a wheel for this machine compile against PyTorch when they install
    or first import: flash-attn, apex, DeepSpeed ops, xformers from source, and anything
    calling torch.utils.cpp_extension.load(). They need ninja ("Ninja is required to
    load C++ extensions"), the Python headers ("fatal error: Python.h: No such file or
    directory"), a C++ compiler, and for CUDA code a CUDA toolkit (torch finds it
    through CUDA_HOME, else CUDA_PATH, else the nvcc on PATH, else /usr/local/cuda:
    "CUDA_HOME environment variable is not set") of the same major version as PyTorch's
    own CUDA ("The detected CUDA version (11.8) mismatches the version that was used to
    compile PyTorch (12.1)"). Skipped when PyTorch is not installed.

    Fix: `pip install ninja`; install the Python development headers; install the CUDA
    toolkit matching `torch.version.cuda` and set CUDA_HOME to it.
    """
    from envdoctor.hints import pip_command

    installed = as_dict(as_dict(facts.get("frameworks")).get("installed"))
    torch = as_dict(installed.get("torch"))
    if not torch.get("version"):
        return skipped("PyTorch is not installed: no torch extensions to compile")
    toolchain = as_dict(facts.get("toolchain"))
    windows = as_dict(facts.get("platform")).get("system") == "Windows"
    torch_cuda = text(torch.get("cuda"))
    findings: list[Finding] = []
    details: dict[str, Any] = {"torch": torch.get("version"), "torch_cuda": torch_cuda}

    ninja = as_dict(toolchain.get("ninja"))
    details["ninja"] = ninja.get("version")
    if not text(ninja.get("version")):
        findings.append(Finding(
            "build.W020", WARNING,
            "ninja is not installed (" + (text(ninja.get("error")) or "not found") + "): "
            "torch.utils.cpp_extension.load() stops with \"Ninja is required to load C++ "
            "extensions\", and setup.py builds of flash-attn, apex or DeepSpeed ops fall back "
            "to one file at a time",
            hint=f"{pip_command(facts)} install ninja"))

    headers = as_dict(toolchain.get("python_headers"))
    details["python_headers"] = headers.get("include_dir")
    if headers.get("python_h") is False:
        findings.append(Finding(
            "build.W021", WARNING,
            f"Python.h is not in {headers.get('include_dir')}: C/C++ extensions fail with "
            "\"fatal error: Python.h: No such file or directory\"",
            hint=_python_dev_hint(facts)))

    compilers = as_dict(toolchain.get("compilers"))
    cxx = as_dict(compilers.get("cl" if windows else "g++"))
    clang = as_dict(compilers.get("clang"))
    if not text(cxx.get("version")) and not text(clang.get("version")):
        findings.append(Finding(
            "build.W024", WARNING,
            "no C++ compiler on PATH (" + ("cl.exe" if windows else "g++ or clang") + "): "
            "PyTorch extensions cannot compile",
            hint=("install the Visual Studio Build Tools ('Desktop development with C++') and "
                  "build from the 'x64 Native Tools Command Prompt'" if windows else
                  "sudo apt install build-essential   (Fedora: sudo dnf install gcc-c++)")))

    if torch_cuda:
        target = as_dict(as_dict(toolchain.get("cuda_home")).get("torch_extensions"))
        version = text(target.get("cuda_version"))
        nvcc = as_dict(toolchain.get("nvcc"))
        if not version and text(target.get("from")) == "nvcc on PATH":
            version = text(nvcc.get("version"))
        details["extensions_cuda"] = {"path": target.get("path"), "from": target.get("from"),
                                      "cuda_version": version}
        major = torch_cuda.split(".")[0]
        toolkit = f"cuda-toolkit-{torch_cuda.replace('.', '-')}"
        if not text(target.get("path")):
            findings.append(Finding(
                "build.W022", WARNING,
                f"PyTorch {torch.get('version')} is built for CUDA {torch_cuda} but there is no "
                "CUDA toolkit to compile CUDA extensions with (no CUDA_HOME, no nvcc on PATH, "
                "no /usr/local/cuda): they fail with \"CUDA_HOME environment variable is not "
                "set\"",
                hint=(f"install CUDA toolkit {torch_cuda} (Ubuntu with NVIDIA's repository: "
                      f"sudo apt install {toolkit}; conda: conda install -c nvidia "
                      f"cuda-toolkit={torch_cuda}) and export CUDA_HOME=/usr/local/cuda-"
                      f"{torch_cuda}")))
        elif version and version.split(".")[0] != major:
            findings.append(Finding(
                "build.W023", WARNING,
                f"CUDA extensions would build with CUDA {version} ({target.get('path')}, from "
                f"{target.get('from')}) but PyTorch {torch.get('version')} is built for CUDA "
                f"{torch_cuda}: torch stops with \"The detected CUDA version ({version}) "
                f"mismatches the version that was used to compile PyTorch ({torch_cuda})\"",
                hint=(f"install CUDA toolkit {torch_cuda} and export CUDA_HOME=/usr/local/cuda-"
                      f"{torch_cuda}; or install the PyTorch build for CUDA {version}")))

    summary = f"PyTorch {torch.get('version')}" + (f" (CUDA {torch_cuda})" if torch_cuda
                                                   else " (CPU)")
    if not findings:
        return passed(summary + ": ninja, Python headers"
                      + (", compiler and CUDA toolkit present" if torch_cuda
                         else " and a compiler present"), details)
    return outcome(summary, findings, details)
