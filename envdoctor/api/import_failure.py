"""Explain a failed import: a package calls this when its own import fails, and the user
sees envdoctor's verdict for that package beside the traceback.

    # in a user's script, or in a package's __init__.py around its compiled part
    import envdoctor

    with envdoctor.explain_import_failure("torch"):
        import torch

On ``ImportError`` / ``OSError`` (a missing ``libcudart.so.12``, a DLL load failure, an
``undefined symbol``...) the block prints what envdoctor finds about the package, the
GPU chain and the interpreter to stderr, then re-raises the original exception
unchanged. It never raises anything of its own: a diagnosis that goes wrong prints one
line and the original error carries on.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Optional, TextIO

from envdoctor.api.report import CheckVerdict, Report, ReportFinding

# Import names whose failures the GPU chain explains (a missing CUDA library, a driver
# too old for the build, a CPU without AVX...).
GPU_FRAMEWORKS = frozenset({"torch", "torchvision", "torchaudio", "tensorflow", "jax",
                            "jaxlib", "cupy", "onnxruntime", "paddle", "mxnet", "xformers",
                            "flash_attn", "vllm", "triton", "bitsandbytes", "deepspeed",
                            "apex", "tensorrt"})
# Checks about the machine or the interpreter as a whole: every finding of theirs counts.
MACHINE_AREAS = frozenset({"gpu", "cuda", "env", "python", "platform"})
# Distribution names that differ from the import name.
DISTRIBUTIONS = {"cv2": ("opencv-python", "opencv-contrib-python", "opencv-python-headless",
                         "opencv-contrib-python-headless", "opencv"),
                 "sklearn": ("scikit-learn",), "PIL": ("pillow",), "yaml": ("pyyaml",),
                 "jaxlib": ("jax",), "flash_attn": ("flash-attn",),
                 "onnxruntime": ("onnxruntime-gpu",), "paddle": ("paddlepaddle",
                                                                 "paddlepaddle-gpu")}
EXPLAINED = (ImportError, OSError)


def selectors(package: str) -> list[str]:
    """The checks that can explain ``import <package>`` failing."""
    top = package.split(".")[0]
    if top in GPU_FRAMEWORKS:
        return ["framework", "gpu", "cuda", "env", "cpu", "python", "pip", "platform"]
    if top == "cv2":
        return ["pip.opencv", "cpu", "python", "pip", "platform"]
    return ["cpu", "python", "pip", "platform"]


def _names(package: str) -> list[str]:
    top = package.split(".")[0]
    return [top, *DISTRIBUTIONS.get(top, ())]


def _mentions(finding: ReportFinding, names: list[str]) -> bool:
    said = f"{finding.message}\n{finding.hint}"
    return any(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", said, re.IGNORECASE)
               for name in names)


def relevant(report: Report, package: str) -> list[tuple[CheckVerdict, list[ReportFinding]]]:
    """The checks (and their findings) that concern ``package``: every problem of the
    machine-wide areas (GPU, CUDA, environment, interpreter), and elsewhere the findings
    that name the package or its distribution; checks that could not run too."""
    names = _names(package)
    chosen = []
    for check in report.checks:
        if check.status in ("pass", "skip"):
            continue
        area = check.id.split(".", 1)[0]
        findings = [f for f in check.findings
                    if area in MACHINE_AREAS or _mentions(f, names)]
        if findings or check.status == "error":
            chosen.append((check, findings))
    return chosen


def import_failure_report(package: str, *, frameworks: bool = True,
                          timeout: float = 10.0) -> Report:
    """The diagnosis behind :func:`explain_import_failure`, without printing: the checks
    that can explain ``import <package>`` failing (use :func:`relevant` to pick them)."""
    from envdoctor.api.diagnosis import diagnose

    return diagnose(only=selectors(package), frameworks=frameworks, timeout=timeout)


def verdict_text(package: str, error: Optional[BaseException], report: Report) -> str:
    """What :func:`explain_import_failure` prints."""
    from envdoctor.render.escape import terminal, terminal_lines

    lines = []
    head = f"envdoctor: `import {package}` failed"
    if error is not None:
        first = next(iter(str(error).splitlines()), "")
        head += f" ({type(error).__name__}" + (f": {first}" if first else "") + ")"
    lines.append(terminal(head))
    chosen = relevant(report, package)
    if not chosen:
        lines.append(terminal(f"envdoctor found nothing on this machine that explains it "
                              f"(checked: {', '.join(selectors(package))})."))
    for check, findings in chosen:
        lines.append(terminal(f"[{check.status}] {check.id}: {check.summary}"))
        for finding in findings:
            said = finding.message
            if check.summary and said.startswith(check.summary):  # said on the line above
                said = said[len(check.summary):].lstrip(" ;:,.-")
            lines.append(terminal(f"    {finding.code}" + (f": {said}" if said else "")))
            for n, hint in enumerate(terminal_lines(finding.hint) if finding.hint else []):
                lines.append(("      -> " if n == 0 else "         ") + hint)
        if check.status == "error" and check.error:
            lines.append(terminal(f"    could not run: {check.error.splitlines()[0]}"))
    lines.append(f"Full report to paste in an issue: {sys.executable} -m envdoctor check "
                 "--format markdown")
    return "\n".join(lines) + "\n"


@contextmanager
def explain_import_failure(package: str, *, stream: Optional[TextIO] = None,
                           frameworks: bool = True, timeout: float = 10.0) -> Iterator[None]:
    """On an ``ImportError`` or ``OSError`` inside the block, print envdoctor's verdict
    for ``package`` (to ``stream``, default stderr) and re-raise the exception as it was.

    ``frameworks=False`` skips importing frameworks in child processes (faster, less
    exact). Other exceptions pass through untouched, and so does a clean import."""
    try:
        yield
    except EXPLAINED as exc:
        _print_verdict(package, exc, stream, frameworks, timeout)
        raise


def _print_verdict(package: str, error: Optional[BaseException], stream: Optional[TextIO],
                   frameworks: bool, timeout: float) -> None:
    out = stream if stream is not None else sys.stderr
    try:
        report = import_failure_report(package, frameworks=frameworks, timeout=timeout)
        text = verdict_text(package, error, report)
    except Exception as exc:  # never mask the user's own error with ours
        text = (f"envdoctor: could not diagnose `import {package}` "
                f"({type(exc).__name__}: {exc}); run `envdoctor check`\n")
    try:
        out.write(text)
        out.flush()
    except (OSError, ValueError, UnicodeEncodeError):
        pass
