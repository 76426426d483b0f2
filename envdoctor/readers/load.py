"""``--from FILE``: a saved envdoctor JSON report, or any pasted text the readers know."""

from __future__ import annotations

from typing import Any, Optional

from envdoctor.readers import MAX_PASTE_BYTES, Paste, PasteError, read_paste

KNOWN_FORMATS = ("envdoctor JSON or Markdown, torch collect_env, nvidia-smi (table or -q), "
                 "nvcc --version, pip list / pip freeze, conda list, "
                 "jax.print_environment_info(), tf.sysconfig.get_build_info(), "
                 "transformers-cli env")


def read_limited(path: str) -> bytes:
    """At most ``MAX_PASTE_BYTES`` + 1 bytes of ``path`` (``-``: stdin); OSError."""
    import sys

    if path == "-":
        return sys.stdin.buffer.read(MAX_PASTE_BYTES + 1)
    from envdoctor.facts import open_regular

    with open_regular(path) as fh:  # a FIFO or /dev/zero is refused, not read
        return fh.read(MAX_PASTE_BYTES + 1)


def load_source(path: str) -> tuple[Optional[dict[str, Any]], Optional[Paste]]:
    """(an envdoctor report, the paste it came from): the report is None when the paste
    holds other dumps only. :class:`envdoctor.facts.ReportError` when nothing is usable."""
    from envdoctor.facts import ReportError, looks_like_report, parse_report

    try:
        raw = read_limited(path)
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_PASTE_BYTES:
        raise ReportError(f"{path} is larger than {MAX_PASTE_BYTES:,} bytes (4 MiB), the "
                          "most envdoctor reads from a paste")
    failure: Optional[ReportError] = None
    if looks_like_report(raw):
        try:
            return parse_report(raw, path), None
        except ReportError as exc:
            # Not a whole report after all: an issue body can start with "{" or a fence.
            failure = exc
    try:
        paste = read_paste(raw)
    except PasteError as exc:
        raise (failure or ReportError(f"{path}: {exc}")) from None
    if failure is not None and not any(d.used for d in paste.dumps):
        raise failure
    if paste.report is not None:
        import json

        return parse_report(json.dumps(paste.report).encode(), path), paste
    if not any(d.used for d in paste.dumps):
        raise ReportError(f"{path} holds no environment dump envdoctor can read (it reads "
                          f"{KNOWN_FORMATS})")
    return None, paste
