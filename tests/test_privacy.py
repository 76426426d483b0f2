"""Reports get pasted in public: nothing secret or identifying leaks, in any format."""

from __future__ import annotations

import json
import os

import pytest
from conftest import run_envdoctor, validate_report

from envdoctor.redact import Identity, Redactor, redact_tokens

USER = "alicesecret"
HOME = f"/home/{USER}"
HF = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345"
AWS = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GH = "ghp_0123456789abcdefghijABCDEFGHIJ012345"


def planted_env() -> dict[str, str]:
    host = os.uname().nodename
    return {
        "USER": USER, "LOGNAME": USER, "HOME": HOME,
        "HF_TOKEN": HF, "AWS_SECRET_ACCESS_KEY": AWS, "GITHUB_TOKEN": GH,
        "MY_APP_PASSWORD": "hunter2hunter2",
        "PATH": f"{HOME}/.local/bin:{HOME}/miniconda3/bin:" + os.environ.get("PATH", ""),
        "LD_LIBRARY_PATH": f"{HOME}/cuda/lib64:/usr/local/cuda/lib64",
        "CUDA_HOME": f"{HOME}/cuda",
        "CUDA_CACHE_PATH": f"/scratch/{host}/cuda-cache",
        "PIP_INDEX_URL": f"https://{USER}:{GH}@pypi.example.com/simple",
        "PYTORCH_CUDA_ALLOC_CONF": f"expandable_segments:True token={HF}",
        "NO_COLOR": "1",
    }


SECRETS = [HF, AWS, GH, "hunter2hunter2", USER, HOME]


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_no_format_leaks_planted_secrets(fmt):
    proc = run_envdoctor("check", "--format", fmt, env=planted_env())
    assert proc.returncode in (0, 1, 3), proc.stderr
    out = proc.stdout + proc.stderr
    for secret in SECRETS:
        assert secret not in out, f"{secret!r} leaked in {fmt} output"
    host = os.uname().nodename
    if len(host) > 3:
        assert host not in out, f"host name leaked in {fmt} output"
    machine_id = ""
    if os.path.exists("/etc/machine-id"):
        with open("/etc/machine-id") as fh:
            machine_id = fh.read().strip()
    if machine_id:
        assert machine_id not in out
    if fmt == "json":
        report = json.loads(proc.stdout)
        validate_report(report)
        variables = report["facts"]["env"]["variables"]
        assert "HF_TOKEN" not in variables and "AWS_SECRET_ACCESS_KEY" not in variables
        assert "MY_APP_PASSWORD" not in variables
        # Allowed variables stay, with the home path replaced, not removed.
        assert variables["CUDA_HOME"] == "~/cuda"
        assert variables["LD_LIBRARY_PATH"] == "~/cuda/lib64:/usr/local/cuda/lib64"
        assert variables["CUDA_CACHE_PATH"] == "/scratch/<host>/cuda-cache"


def test_the_environment_is_never_dumped():
    env = planted_env()
    env["SOME_RANDOM_VARIABLE"] = "visible-if-dumped"
    proc = run_envdoctor("check", "--json", env=env)
    assert "visible-if-dumped" not in proc.stdout
    assert "SOME_RANDOM_VARIABLE" not in proc.stdout


def test_no_redact_keeps_identity_but_never_tokens():
    proc = run_envdoctor("check", "--json", "--no-redact", env=planted_env())
    report = json.loads(proc.stdout)
    validate_report(report)
    assert report["redacted"] is False
    assert report["facts"]["env"]["variables"]["CUDA_HOME"] == f"{HOME}/cuda"
    assert HF not in proc.stdout and GH not in proc.stdout


def test_paths_not_substrings_user_named_cuda_and_home_root():
    redactor = Redactor(Identity(user="cuda", home="/", hostname="node7"))
    doc = {"cuda": "/usr/local/cuda/bin", "cuda_home": "/home/cuda/.venv/bin/python",
           "msg": "CUDA 12.4 runtime from cuda toolkit", "path": "/usr/bin:/bin",
           "nested": [{"cuda_version": "12.4"}], "host": "ran on node7 today"}
    out = redactor.apply(doc)
    assert list(out) == list(doc), "JSON keys must never change"
    assert out["cuda"] == "/usr/local/cuda/bin"
    assert out["cuda_home"] == "/home/<user>/.venv/bin/python"
    assert out["msg"] == doc["msg"]
    assert out["path"] == "/usr/bin:/bin", "HOME=/ must not rewrite every path"
    assert out["nested"] == [{"cuda_version": "12.4"}]
    assert out["host"] == "ran on <host> today"


def test_home_is_replaced_only_as_a_whole_path():
    redactor = Redactor(Identity(user="bob", home="/home/bob", hostname=None))
    assert redactor.text("/home/bob/x") == "~/x"
    assert redactor.text("/home/bobby/x") == "/home/bobby/x"
    assert redactor.text("PATH=/home/bob/bin:/usr/bin") == "PATH=~/bin:/usr/bin"
    win = Redactor(Identity(user="Bob", home="C:\\Users\\Bob", hostname=None))
    assert win.text("C:\\Users\\Bob\\AppData\\python.exe") == "~\\AppData\\python.exe"


@pytest.mark.parametrize("token", [HF, GH, "AKIAIOSFODNN7EXAMPLE",
                                   "sk-proj-abcdefghijklmnopqrstuvwx",
                                   "xoxb-123456789012-abcdefghij"])
def test_token_shapes_are_masked_anywhere(token):
    assert token not in redact_tokens(f"value is {token} here")


def test_envdoctor_opens_no_network_connection(tmp_path):
    """Every table ships in the package: a full run never touches the network."""
    log = tmp_path / "connections.log"
    (tmp_path / "sitecustomize.py").write_text(
        "import socket\n"
        f"_LOG = {str(log)!r}\n"
        "def _deny(self, address, *a, **k):\n"
        "    with open(_LOG, 'a') as fh:\n"
        "        fh.write(repr(address) + '\\n')\n"
        "    raise OSError('network use is forbidden in this test')\n"
        f"open({str(tmp_path / 'loaded')!r}, 'w').close()\n"
        "socket.socket.connect = _deny\n"
        "socket.socket.connect_ex = _deny\n"
        "socket.create_connection = lambda *a, **k: _deny(None, a)\n")
    env = {"PYTHONPATH": str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for args in (("check", "--json"), ("check", "--format", "markdown"), ("list",)):
        proc = run_envdoctor(*args, env=env)
        assert proc.returncode in (0, 1, 3), proc.stderr
    assert (tmp_path / "loaded").exists(), "the socket guard was not installed"
    assert not log.exists(), f"network connections attempted: {log.read_text()}"


@pytest.mark.skipif(os.name != "posix", reason="byte environments are POSIX")
def test_non_utf8_environment_values_still_give_valid_json():
    import subprocess
    import sys

    env = {k.encode(): v.encode("utf-8", "surrogateescape") for k, v in os.environ.items()}
    env[b"LD_LIBRARY_PATH"] = b"/opt/caf\xe9/lib"  # Latin-1, not UTF-8
    proc = subprocess.run([sys.executable, "-m", "envdoctor", "check", "--json"], env=env,
                          capture_output=True, timeout=120)
    report = json.loads(proc.stdout.decode("utf-8"))  # strict: must be valid UTF-8
    validate_report(report)
    assert report["facts"]["env"]["variables"]["LD_LIBRARY_PATH"] == "/opt/caf\ufffd/lib"
    for fmt in ("text", "markdown"):
        out = subprocess.run([sys.executable, "-m", "envdoctor", "check", "-f", fmt], env=env,
                             capture_output=True, timeout=120)
        out.stdout.decode("utf-8")
        assert b"Traceback" not in out.stderr


def test_user_folders_outside_home_are_redacted_but_path_words_are_not():
    alice = Redactor(Identity(user="alice", home="/home/alice", hostname=None))
    assert alice.text("/scratch/alice/run/train.py") == "/scratch/<user>/run/train.py"
    assert alice.text("/gpfs/proj/alice") == "/gpfs/proj/<user>"
    assert alice.text("/scratch/alicex/run") == "/scratch/alicex/run"
    assert alice.text("alice wrote this") == "alice wrote this"  # words, not paths
    cuda = Redactor(Identity(user="cuda", home="/home/cuda", hostname=None))
    paths = "/usr/local/cuda/bin:/scratch/cuda-12"
    assert cuda.text(paths) == paths
    assert cuda.text("/home/cuda/x") == "~/x"


def test_a_host_named_like_a_common_word_is_not_redacted_inside_text():
    """A machine called `debian` or `cuda` must leave "Debian GNU/Linux" and
    /usr/local/cuda alone; its qualified name and its domain's other nodes still go."""
    plain = Redactor(Identity("bob", "/home/bob", "debian"))
    assert plain.text("Debian GNU/Linux 12 (bookworm)") == "Debian GNU/Linux 12 (bookworm)"
    cuda = Redactor(Identity("bob", "/home/bob", "cuda.lab.example.org"))
    assert cuda.text("/usr/local/cuda/bin/nvcc") == "/usr/local/cuda/bin/nvcc"
    assert cuda.text("cuda.lab.example.org") == "<host>"
    assert cuda.text("peer node9.lab.example.org:2222") == "peer <host>:2222"
    odd = Redactor(Identity("bob", "/home/bob", "zebra-17"))
    assert odd.text("zebra-17 and /var/log/zebra-17/x") == "<host> and /var/log/<host>/x"


def test_gpu_uuids_become_stable_numbers_within_a_report():
    a, b = ("GPU-5ec0e1d2-7c4b-4a3e-9f0e-0123456789ab",
            "GPU-00000000-1111-2222-3333-444444444444")
    red = Redactor(Identity(None, None, None))
    doc = red.apply({"gpus": [{"uuid": a}, {"uuid": b}], "env": f"{b},{a}"})
    assert doc == {"gpus": [{"uuid": "GPU-redacted-0001"}, {"uuid": "GPU-redacted-0002"}],
                   "env": "GPU-redacted-0002,GPU-redacted-0001"}
    kept = Redactor(Identity(None, None, None), keep_gpu_uuids=True).apply({"u": a})
    assert kept == {"u": a}
