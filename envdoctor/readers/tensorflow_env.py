"""TensorFlow's printouts: ``tf.sysconfig.get_build_info()`` (an OrderedDict or dict),
``tf_env_collect.sh`` (``tf.version.VERSION = ...``) and the answers of TensorFlow's
issue template (TensorFlow version, Python version, CUDA/cuDNN version, GPU model)."""

from __future__ import annotations

import re

from envdoctor.readers import Dump
from envdoctor.readers.facts_builder import put
from envdoctor.readers.text import clean, major_minor, version_in

FORMAT = "tensorflow"
# Lower-case words one of which any dump of this format contains (a quick test first).
SIGNS = ("is_cuda_build", "tensorflow version", "tf.version", "tf.__version__")
TITLE = "TensorFlow environment"

_BUILD_INFO = re.compile(r"(?:OrderedDict\(\[|\{)[^{}\[]{0,400}?'cpu_compiler'.{0,2000}?"
                         r"'is_cuda_build'[^\n]*", re.DOTALL)
_PAIR = re.compile(r"'(\w+)'\s*[,:]\s*('[^']*'|True|False|None|\[[^\]]*\])")
_TF_VERSION = re.compile(r"^\s*(?:-\s*)?(?:tf\.version\.VERSION\s*=|tf\.__version__\s*[=:]|"
                         r"TensorFlow version(?: \(use command below\))?\s*:)\s*(.*)$",
                         re.IGNORECASE)
_HEADING = re.compile(r"^\s*#+\s*(TensorFlow version|Python version|CUDA/cuDNN version|"
                      r"GPU model and memory|OS platform and distribution)\s*$", re.IGNORECASE)


def find(lines: list[str]) -> list[Dump]:
    dumps = []
    text = "\n".join(lines)
    for match in _BUILD_INFO.finditer(text):
        start = text.count("\n", 0, match.start())
        dump = _build_info(start, match.group(0))
        dump.end = text.count("\n", 0, match.end()) + 1
        dumps.append(dump)
    dump = _template(lines)
    if dump is not None:
        dumps.append(dump)
    return dumps


def _build_info(i: int, text: str) -> Dump:
    dump = Dump(FORMAT, "tf.sysconfig.get_build_info()", i + 1, i + 1)
    values = {k: v.strip("'") for k, v in _PAIR.findall(text)}
    info = {"distribution": "tensorflow", "source": "tf.sysconfig.get_build_info"}
    cuda = clean(values.get("cuda_version"), 20)
    if values.get("is_cuda_build") == "True":
        info.update(build="cu" + (major_minor(cuda) or cuda or "").replace(".", "")
                    if cuda else "cuda", cuda=cuda, is_cuda_build=True)
    elif values.get("is_rocm_build") == "True":
        info.update(build="rocm", is_rocm_build=True)
    elif values.get("is_cuda_build") == "False":
        info.update(build="cpu", is_cuda_build=False)
    info["cudnn"] = clean(values.get("cudnn_version"), 20)
    put(dump, "frameworks.installed.tensorflow", info)
    if info.get("build"):
        dump.known.add("frameworks.installed.tensorflow.build")
    return dump


def _template(lines: list[str]) -> Dump | None:
    """Answers of the issue template: "### TensorFlow version" then the answer below it,
    or the older "- TensorFlow version (use command below): 2.4.0"."""
    answers: dict[str, tuple[int, str]] = {}
    for i, line in enumerate(lines):
        heading = _HEADING.match(line)
        if heading:
            for j in range(i + 1, min(i + 4, len(lines))):
                if lines[j].strip():
                    answers.setdefault(heading.group(1).lower(), (j, lines[j].strip()))
                    break
            continue
        match = _TF_VERSION.match(line)
        if match and version_in(match.group(1)):
            answers.setdefault("tensorflow version", (i, match.group(1)))
    tf = answers.get("tensorflow version")
    if not tf or not version_in(tf[1]):
        return None
    rows = [row for row, _ in answers.values()]
    dump = Dump(FORMAT, "TensorFlow version (template or tf_env_collect)", min(rows) + 1,
                max(rows) + 1)
    exact = re.findall(r"(?<![\w.-])(\d+\.\d+\.\d+)(?![\w.-])", tf[1])
    version = exact[-1] if exact else version_in(tf[1]) or ""
    put(dump, "frameworks.installed.tensorflow", {"version": version.lstrip("v"),
                                                  "distribution": "tensorflow",
                                                  "source": "pasted TensorFlow version"})
    python = answers.get("python version")
    if python and version_in(python[1]):
        value = version_in(python[1]) or ""
        parts = [int(p) for p in value.split(".")[:3] if p.isdigit()]
        put(dump, "python.version", ".".join(map(str, parts)))
        put(dump, "python.version_info", parts)
    return dump
