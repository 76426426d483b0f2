"""``envdoctor fit MODEL``: will a model fit this machine's GPU memory, per precision,
for inference and for training? (docs/fit.md)

Exit codes: 0 BF16/FP16 inference fits on one device; 1 it does not (or there is no
NVIDIA GPU); 2 usage error (unreadable model files, unusable --from report).
"""

# No `from __future__ import annotations` here: Typer reads the Annotated option
# declarations at runtime.

import os
from typing import Annotated, Any, Optional

import typer


def _facts(from_file: Optional[str]) -> dict:
    from envdoctor.cli import error

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
    return runner.start_probes([available[n] for n in ("nvidia", "env") if n in available],
                               ctx).wait()


def _verdict(need: float, device: Any) -> str:
    from envdoctor.models.memory import MIB

    return "fits" if device is not None and need <= device.free_mib * MIB else "no"


def fit_command(
    model: Annotated[str, typer.Argument(
        metavar="MODEL", help="A local model folder (config.json, *.safetensors, "
                              "model.safetensors.index.json), one of those files, or a "
                              "parameter count such as 7B or 350M.")],
    context: Annotated[Optional[int], typer.Option(
        "--context", min=1, metavar="TOKENS",
        help="Tokens of KV cache per sequence (default: the model's, at most 4096).")
    ] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, metavar="N",
                                       help="Sequences at once (KV cache).")] = 1,
    from_file: Annotated[Optional[str], typer.Option(
        "--from", metavar="REPORT.json",
        help="Judge against the GPUs of a saved report's machine.")] = None,
    json_flag: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")
                         ] = False,
) -> None:
    """Will MODEL fit this machine's GPU memory? Per precision (FP32, BF16/FP16, INT8,
    INT4), for inference and for training with Adam; MIG instances and memory other
    processes hold count. Local files only, no network.

    Exit codes: 0 BF16/FP16 inference fits on one device; 1 it does not (or no NVIDIA
    GPU); 2 usage error."""
    from envdoctor.cli import _write_stdout, error
    from envdoctor.models.memory import GIB, MIB, devices, gib, kv_cache_bytes, needs
    from envdoctor.models.size import ModelError, load
    from envdoctor.render.escape import terminal

    try:
        info = load(model)
    except ModelError as exc:
        raise error(str(exc)) from None
    ctx_tokens = context or min(info.max_context or 4096, 4096)
    gpus = devices(_facts(from_file))
    best = max(gpus, key=lambda d: d.free_mib, default=None)
    rows = needs(info, ctx_tokens, batch)
    bf16 = next(r for r in rows if r.precision == "BF16/FP16")
    code = 0 if _verdict(bf16.inference, best) == "fits" else 1
    kv = kv_cache_bytes(info, ctx_tokens, batch)
    if json_flag:
        import json

        doc = {"model": info.name, "params": info.params, "exact": info.exact,
               "source": info.source, "context": ctx_tokens, "batch": batch,
               "kv_cache_bytes": kv,
               "devices": [{"name": d.name, "total_mib": d.total_mib, "used_mib": d.used_mib,
                            "free_mib": d.free_mib, "mig": d.mig} for d in gpus],
               "largest_free_mib": best.free_mib if best else None,
               "precisions": [{"precision": r.precision, "weights_bytes": r.weights,
                               "inference_bytes": r.inference,
                               "inference": _verdict(r.inference, best),
                               "training_bytes": r.training, "training_how": r.training_how,
                               "training": _verdict(r.training, best),
                               "sources": r.sources} for r in rows],
               "exit_code": code}
        _write_stdout(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        raise typer.Exit(code)
    lines = [f"Model: {terminal(info.name)}: {info.params / 1e9:.2f} B parameters "
             f"({terminal(info.source)})"]
    if kv is None:
        lines.append("KV cache: not counted (no config.json with the layer dimensions)")
    else:
        lines.append(f"KV cache: {gib(kv)} for {ctx_tokens} tokens x {batch} sequence(s)")
    if not gpus:
        lines.append("GPU: no NVIDIA GPU found; nothing to fit into.")
    for d in gpus:
        held = f", {d.used_mib / 1024:.1f} GiB held by other processes" if d.used_mib > 256 \
            else ""
        lines.append(f"GPU: {terminal(d.name)}: {d.free_mib / 1024:.1f} GiB free of "
                     f"{d.total_mib / 1024:.1f} GiB{held}")
    if any(d.mig for d in gpus):
        lines.append("MIG is on: a process gets one instance, so each instance is judged "
                     "alone (not the whole GPU).")
    lines.append(f"{'precision':<11}{'weights':>10}{'inference':>12}{'':>6}"
                 f"{'training':>11}{'':>6}")
    for r in rows:
        lines.append(f"{r.precision:<11}{gib(r.weights):>10}{gib(r.inference):>12}"
                     f"{_verdict(r.inference, best):>6}{gib(r.training):>11}"
                     f"{_verdict(r.training, best):>6}")
    lines.append("training: " + "; ".join(f"{r.precision}: {r.training_how}" for r in rows
                                          if r.precision in ("BF16/FP16", "INT4")))
    if best is not None and len(gpus) > 1 and not any(d.mig for d in gpus):
        total = sum(d.free_mib for d in gpus) * MIB
        lines.append(f"Across all {len(gpus)} GPUs (tensor/pipeline parallel): "
                     f"{total / GIB:.1f} GiB free.")
    lines.append("Estimates: activations are not counted; the inference figure includes "
                 "the KV cache, the CUDA context and a 10% margin (docs/fit.md).")
    _write_stdout("\n".join(lines) + "\n")
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("fit")(fit_command)
