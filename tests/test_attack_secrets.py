"""Attack class: secrets and identities that must never reach a report.

Every value the issue listed is planted in a real `envdoctor check` run (environment
variables, a Requires-Dist direct URL, sudo's real user, addresses, e-mails, GPU UUIDs),
each carrying a marker; then every output format of check, the -o file, diff,
summarize and wheel --from are searched for the markers. Each runs the real CLI.
"""

from __future__ import annotations

import json
import re

import opencv_fakes as fakes
import pytest
from conftest import run_envdoctor

UUID = "GPU-5ec0e1d2-7c4b-4a3e-9f0e-0123456789ab"
PLANTED = {
    # a token used as the URL user name (Azure DevOps), a password holding @
    "PIP_EXTRA_INDEX_URL": "https://SECRETAzDo0123456789@pkgs.dev.azure.com/o/_packaging/f/"
                           "pypi/simple/",
    "PIP_INDEX_URL": "https://me:pa@ssSECRETpw@pypi.internal.example/simple",
    # Terraform's variables behind the old TF_ prefix
    "TF_VAR_db_pass": "SECRETtfvar",
    "TF_CLI_CONFIG_FILE": "/etc/SECRETtfcli.rc",
    "TORCH_HUB_SAS": "https://a.blob.core.windows.net/c?sv=2022&sig=SECRETsas",
    # allowed names carrying secrets
    "TORCH_HOME": "https://a.blob.core.windows.net/hub?sv=2022&sig=SECRETsig2",
    "TF_CONFIG": json.dumps({"cluster": {"worker": ["10.1.2.3:2222",
                                                    "node-b.SECRETdomain.example:2222"]},
                             "key": "-----BEGIN PRIVATE KEY-----\nMIIEvSECRETpem\n"
                                    "-----END PRIVATE KEY-----"}),
    "XLA_FLAGS": "--xla_dump_to=/tmp --token=SECRETflag",
    "CUDA_CACHE_PATH": "Bearer abcdefSECRETbearer123",
    "TORCH_EXTENSIONS_DIR": "/opt/ghp_SECRETgithub0123456789abcdef",
    "NCCL_DEBUG": "hf_SECREThuggingface0123456789",
    # addresses of other machines
    "KUBERNETES_SERVICE_HOST": "10.96.77.1",
    "NCCL_COMM_ID": "192.168.77.7:1234",
    "JAX_COORDINATOR_ADDRESS": "coord.SECRETjax.example:1234",
    # e-mail, sudo's real user inside folder names, a GPU UUID
    "LD_LIBRARY_PATH": "/opt/SECRETmail@example.com/lib:/tmp/nvidia-mps-secretalice/lib",
    "CUDA_MPS_PIPE_DIRECTORY": "/tmp/nvidia-mps-secretalice",
    "USER": "root",
    "SUDO_USER": "secretalice",
    "PATH": "/home/secretalice/.local/bin:/usr/bin:/bin",
    "CUDA_VISIBLE_DEVICES": UUID,
}
MARKERS = re.compile(r"SECRET|secretalice|10\.1\.2\.3|10\.96\.77\.1|192\.168\.77\.7|5ec0e1d2")


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secrets")
    site = tmp / "site"
    fakes.add_dist(site, "private-app", "1.0", requires=(
        "private-lib @ git+https://SECRETghtoken0123@github.com/org/lib.git",
        "other-lib @ https://user:SECRETrd@pkgs.example/other-1.0.whl"))
    env = {**PLANTED, "PYTHONPATH": str(site)}
    saved = tmp / "saved.json"
    run = run_envdoctor("check", "--json", "--no-frameworks", "-o", str(saved), env=env)
    assert run.returncode in (0, 1, 3), run.stderr
    return env, saved, tmp, run.stdout


def _clean(text: str, where: str) -> None:
    found = sorted(set(MARKERS.findall(text)))
    assert not found, f"{where} leaks {found}: " + "; ".join(
        line.strip()[:160] for line in text.splitlines() if MARKERS.search(line))[:2000]


def test_the_planted_values_reached_the_run(planted):
    """The control: the values are there to leak (allowed names are in the report)."""
    _, _, _, stdout = planted
    variables = json.loads(stdout)["facts"]["env"]["variables"]
    assert {"PIP_EXTRA_INDEX_URL", "TF_CONFIG", "NCCL_COMM_ID", "CUDA_VISIBLE_DEVICES",
            "LD_LIBRARY_PATH"} <= set(variables)
    assert variables["CUDA_VISIBLE_DEVICES"] == "GPU-redacted-0001"
    assert "TF_VAR_db_pass" not in variables and "TORCH_HUB_SAS" not in variables
    assert "private-app" in stdout


@pytest.mark.parametrize("args", [["--json"], [], ["-v"], ["--format", "markdown"],
                                  ["--format", "prometheus"]])
def test_check_in_every_format_leaks_nothing(planted, args):
    env, _, _, _ = planted
    run = run_envdoctor("check", "--no-frameworks", *args, env=env)
    _clean(run.stdout + run.stderr, f"check {' '.join(args)}")


def test_the_output_file_and_the_saved_report_leak_nothing(planted):
    _, saved, _, stdout = planted
    _clean(saved.read_text(encoding="utf-8"), "-o file")
    _clean(stdout, "check --json")


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_diff_summarize_wheel_and_from_leak_nothing(planted, fmt):
    env, saved, tmp, _ = planted
    other = tmp / "other.json"
    if not other.exists():
        run = run_envdoctor("check", "--json", "--no-frameworks", "-o", str(other))
    outputs = [run_envdoctor("diff", str(other), str(saved), "--format", fmt, "--all"),
               run_envdoctor("check", "--from", str(saved), "--format", fmt)]
    if fmt != "markdown":
        extra = ["--json"] if fmt == "json" else ["--all"]
        outputs.append(run_envdoctor("summarize", str(saved), *extra))
        outputs.append(run_envdoctor("wheel", "torch-2.3.0-cp311-cp311-linux_x86_64.whl",
                                     "--from", str(saved), *(["--json"] if fmt == "json"
                                                             else [])))
    for run in outputs:
        _clean(run.stdout + run.stderr, " ".join(run.args[3:6]))


def test_keep_gpu_uuids_keeps_them(planted):
    env, _, _, _ = planted
    run = run_envdoctor("check", "--json", "--no-frameworks", "--only", "env",
                        "--keep-gpu-uuids", env=env)
    assert UUID in run.stdout
