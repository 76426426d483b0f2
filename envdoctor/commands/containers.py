"""``envdoctor dockerfile PATH``, ``envdoctor compose PATH``, ``envdoctor k8s PATH``:
GPU problems in container definitions, with line numbers and the fix for each
(docs/containers.md).

Exit codes, like ``check``: 0 nothing at or above --fail-on; 1 an issue at or above it;
2 usage error (unreadable or unparsable file, unusable --from report).
"""

# No `from __future__ import annotations` here: Typer reads the Annotated option
# declarations at runtime.

import enum
import os
from typing import Annotated, Any, Optional

import typer


class FailOn(str, enum.Enum):
    warn = "warn"
    fail = "fail"


def _host(from_file: Optional[str], no_host: bool) -> Optional[dict]:
    """The facts of the machine the container will run on: a saved report, this host
    (its NVIDIA driver), or none."""
    from envdoctor.cli import error

    if no_host:
        return None
    if from_file is not None:
        from envdoctor.facts import ReportError, load_report, sanitize

        try:
            return sanitize(load_report(from_file)["facts"])
        except ReportError as exc:
            raise error(str(exc)) from None
    from envdoctor import runner
    from envdoctor.probes import ProbeContext, all_probes

    available = all_probes()
    ctx = ProbeContext(timeout=10.0, sysroot=os.environ.get("ENVDOCTOR_SYSROOT", ""))
    return runner.start_probes([available[n] for n in ("nvidia", "platform", "env")
                                if n in available], ctx).wait()


def _read(path: str) -> str:
    from envdoctor.cli import error

    try:
        with open(path, "rb") as fh:
            raw = fh.read(8 * 1024 * 1024 + 1)
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > 8 * 1024 * 1024:
        raise error(f"{path} is larger than 8 MiB; not a container definition")
    return raw.decode("utf-8", errors="replace")


def _emit(kind: str, path: str, found: list, json_flag: bool, fail_on: FailOn,
          host: Optional[dict]) -> None:
    from envdoctor.cli import _write_stdout
    from envdoctor.containers.issues import exit_code
    from envdoctor.render.escape import terminal

    issues = [issue for _, issue in found]
    code = exit_code(issues, fail_on.value)
    host_cuda = ((host or {}).get("nvidia") or {}).get("cuda_driver_version") if host else None
    if json_flag:
        import json

        doc = {"kind": kind, "file": path, "host_cuda": host_cuda,
               "issues": [{"file": f, **i.to_dict()} for f, i in found], "exit_code": code}
        _write_stdout(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        raise typer.Exit(code)
    lines = []
    for file, issue in found:
        where = f"{file}:{issue.line}" if issue.line else file
        lines.append(f"{terminal(where)}: {issue.code} {issue.level}: {terminal(issue.message)}")
        if issue.fix:
            lines.append(f"    fix: {terminal(issue.fix)}")
    counts = {lvl: sum(1 for i in issues if i.level == lvl) for lvl in ("error", "warning")}
    summary = (f"{counts['error']} error(s), {counts['warning']} warning(s)" if issues else
               "no GPU problems found")
    against = f"; judged against a driver that runs CUDA {host_cuda}" if host_cuda else ""
    lines.append(f"envdoctor {kind} {terminal(path)}: {summary}{against} (exit code {code}).")
    _write_stdout("\n".join(lines) + "\n")
    raise typer.Exit(code)


PathArg = Annotated[str, typer.Argument(metavar="PATH", help="The file to judge.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the issues as JSON.")]
FailOpt = Annotated[FailOn, typer.Option("--fail-on", help="Lowest level that makes the exit "
                                                           "code 1.")]
FromOpt = Annotated[Optional[str], typer.Option(
    "--from", metavar="REPORT.json",
    help="Judge against the NVIDIA driver of a saved report's machine.")]
NoHostOpt = Annotated[bool, typer.Option(
    "--no-host", help="Do not compare with this host's NVIDIA driver.")]


def dockerfile_command(path: PathArg, json_flag: JsonOpt = False,
                       fail_on: FailOpt = FailOn.fail, from_file: FromOpt = None,
                       no_host: NoHostOpt = False) -> None:
    """GPU problems in a Dockerfile: a base image without CUDA for a framework that needs
    it, CUDA newer than the host's driver, torch without the right index, OpenCV's GUI
    build. Exit codes: 0 none at --fail-on; 1 some; 2 usage error."""
    from envdoctor.containers import dockerfile, rules

    text = _read(path)
    build = dockerfile.final(text)
    host = _host(from_file, no_host)
    found = [(path, i) for i in rules.judge(build, host)] if build else []
    _emit("dockerfile", path, found, json_flag, fail_on, host)


def _yaml(path: str) -> list[Any]:
    from envdoctor.cli import error
    from envdoctor.containers.yamlfile import YamlError, load_all

    try:
        return load_all(_read(path))
    except YamlError as exc:
        raise error(f"{path} is not valid YAML: {exc}") from None


def compose_command(path: PathArg, json_flag: JsonOpt = False,
                    fail_on: FailOpt = FailOn.fail, from_file: FromOpt = None,
                    no_host: NoHostOpt = False) -> None:
    """GPU problems in a Docker Compose file and the Dockerfiles it builds: no GPU
    request, the 64 MB /dev/shm default, and every Dockerfile rule. Exit codes: 0 none at
    --fail-on; 1 some; 2 usage error."""
    from envdoctor.containers import compose

    documents = _yaml(path)
    host = _host(from_file, no_host)
    found = []
    for document in documents:
        found.extend(compose.judge(document, path, host))
    _emit("compose", path, found, json_flag, fail_on, host)


def k8s_command(path: PathArg, json_flag: JsonOpt = False,
                fail_on: FailOpt = FailOn.fail) -> None:
    """GPU problems in Kubernetes manifests (Pods and workload templates): no
    nvidia.com/gpu limit, no memory-backed /dev/shm, CPU-only builds on CUDA images.
    Exit codes: 0 none at --fail-on; 1 some; 2 usage error."""
    from envdoctor.containers import k8s

    found = [(path, i) for i in k8s.judge(_yaml(path))]
    _emit("k8s", path, found, json_flag, fail_on, None)


def register(app: typer.Typer) -> None:
    app.command("dockerfile")(dockerfile_command)
    app.command("compose")(compose_command)
    app.command("k8s")(k8s_command)
