"""A real single-node Slurm cluster on localhost: `srun` runs envdoctor on the node, the
reports land atomically in a shared folder, `envdoctor summarize` reads them.

Needs Debian's slurm-wlm and munge (``apt-get install -y slurm-wlm munge``) and root (the
daemons run as root with their own state folders, ports, socket and pid files, so an
installed system Slurm is left alone). Skips, saying why, where Slurm cannot start.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, run_envdoctor, validate_report

APT_HINT = "apt-get install -y slurm-wlm munge"
BINARIES = ("munged", "slurmctld", "slurmd", "srun", "sinfo")


def _free_ports(count: int) -> list[int]:
    socks, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(pid_file: Path) -> None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def _short_hostname() -> str:
    return socket.gethostname().split(".")[0]


def _slurm_conf(base: Path, host: str, ports: list[int]) -> str:
    mem_mb = 1024
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_mb = max(256, int(int(line.split()[1]) / 1024 * 0.9))
    except (OSError, ValueError):
        pass
    cpus = os.cpu_count() or 1
    return "\n".join([
        "ClusterName=envdoctortest",
        f"SlurmctldHost={host}(127.0.0.1)",
        "SlurmUser=root",
        "SlurmdUser=root",
        "AuthType=auth/munge",
        f"AuthInfo=socket={base / 'munge' / 'munge.sock'}",
        "CredType=cred/munge",
        f"SlurmctldPort={ports[0]}",
        f"SlurmdPort={ports[1]}",
        f"StateSaveLocation={base / 'state'}",
        f"SlurmdSpoolDir={base / 'spool'}",
        f"SlurmctldPidFile={base / 'slurmctld.pid'}",
        f"SlurmdPidFile={base / 'slurmd.pid'}",
        f"SlurmctldLogFile={base / 'slurmctld.log'}",
        f"SlurmdLogFile={base / 'slurmd.log'}",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "ReturnToService=2",
        "SchedulerType=sched/builtin",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core",
        "MpiDefault=none",
        "JobCompType=jobcomp/none",
        "AccountingStorageType=accounting_storage/none",
        "JobAcctGatherType=jobacct_gather/none",
        "PlugStackConfig=/dev/null",
        f"NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem_mb} State=UNKNOWN",
        f"PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP",
        "",
    ])


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """Start munged, slurmctld and slurmd for one node named after `hostname -s`; yield
    the environment that points srun/sinfo at it; stop the daemons afterwards."""
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing:
        pytest.skip(f"Slurm is not installed ({', '.join(missing)} not found): {APT_HINT}")
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("starting slurmctld/slurmd/munged for the test needs root")
    base = Path(tmp_path_factory.mktemp("slurm"))
    base.chmod(0o755)
    for sub in ("munge", "state", "spool", "reports"):
        (base / sub).mkdir()
    munge = base / "munge"
    munge.chmod(0o755)  # munged wants others to be able to reach its socket
    key = munge / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    pid_files = [base / "slurmd.pid", base / "slurmctld.pid", munge / "munged.pid"]
    host = _short_hostname()
    env = dict(os.environ, SLURM_CONF=str(base / "slurm.conf"))
    try:
        started = subprocess.run(
            ["munged", "--force", f"--key-file={key}", f"--socket={munge / 'munge.sock'}",
             f"--pid-file={munge / 'munged.pid'}", f"--log-file={munge / 'munged.log'}",
             f"--seed-file={munge / 'munged.seed'}"],
            capture_output=True, text=True, timeout=30)
        if started.returncode != 0:
            pytest.skip(f"munged did not start: {started.stderr.strip()}")
        (base / "slurm.conf").write_text(_slurm_conf(base, host, _free_ports(2)))
        for daemon in ("slurmctld", "slurmd"):
            started = subprocess.run([daemon, "-f", str(base / "slurm.conf")], env=env,
                                     capture_output=True, text=True, timeout=30)
            if started.returncode != 0:
                pytest.skip(f"{daemon} did not start: {started.stderr.strip()}\n"
                            f"{_tail(base / (daemon + '.log'))}")
        state = ""
        for _ in range(100):
            probe = subprocess.run(["sinfo", "-h", "-n", host, "-o", "%t"], env=env,
                                   capture_output=True, text=True, timeout=30)
            state = probe.stdout.strip()
            if state.startswith("idle") or state.startswith("mix"):
                break
            time.sleep(0.2)
        else:
            pytest.skip(f"the Slurm node never became idle (state {state!r}):\n"
                        f"{_tail(base / 'slurmctld.log')}\n{_tail(base / 'slurmd.log')}")
        yield {"env": env, "base": base, "host": host}
    finally:
        for pid_file in pid_files:
            _stop(pid_file)


def _srun(slurm, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(slurm["env"], PYTHONPATH=str(REPO))
    return subprocess.run(["srun", "-N1", "--ntasks-per-node=1", "-t", "5", *args], env=env,
                          capture_output=True, text=True, timeout=timeout, cwd=str(REPO))


def test_srun_writes_reports_that_summarize_reads(slurm):
    from envdoctor.output import expand_name

    reports = slurm["base"] / "reports"
    reports.mkdir(exist_ok=True)  # as the sbatch script does (mkdir -p "$REPORTS")
    ran = _srun(slurm, sys.executable, "-m", "envdoctor", "check", "--json", "--no-frameworks",
                "--keep-hostname", "--output", str(reports / "{host}.json"))
    assert ran.returncode in (0, 1, 3), ran.stderr
    written = Path(expand_name(str(reports / "{host}.json")))
    assert written.is_file(), (ran.stderr, sorted(os.listdir(reports)))
    doc = json.loads(written.read_text(encoding="utf-8"))
    validate_report(doc)
    assert doc["source"]["host"] == socket.gethostname()
    assert json.loads(ran.stdout) == doc          # the file is exactly what was printed
    assert not [n for n in os.listdir(reports) if n.startswith(".")]  # no temp file left

    summary = run_envdoctor("summarize", str(reports), "--json", "--expect",
                            f"{slurm['host']},ghost-node-7")
    result = json.loads(summary.stdout)
    assert socket.gethostname() in result["hosts"]
    assert result["missing_hosts"] == ["ghost-node-7"]
    assert result["unreadable"] == []
    # a host did not report: at least "incomplete" (3), or 1 if the node fails a check
    assert summary.returncode == (1 if result["failing_hosts"] else 3)


def test_srun_prometheus_textfile(slurm):
    parser = pytest.importorskip("prometheus_client.parser")
    out = slurm["base"] / "textfile"
    out.mkdir(exist_ok=True)  # node_exporter's textfile folder exists before envdoctor runs
    ran = _srun(slurm, sys.executable, "-m", "envdoctor", "check", "--format", "prometheus",
                "--no-frameworks", "--output", str(out / "envdoctor.prom"))
    assert ran.returncode in (0, 1, 3), ran.stderr
    text = (out / "envdoctor.prom").read_text(encoding="utf-8")
    names = {family.name for family in parser.text_string_to_metric_families(text)}
    assert {"envdoctor_check_status", "envdoctor_exit_code"} <= names
