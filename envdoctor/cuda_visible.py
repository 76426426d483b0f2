"""What CUDA_VISIBLE_DEVICES makes visible: pure parsing, no machine access.

Semantics (CUDA C Programming Guide, "CUDA Environment Variables"; PyTorch's
``torch.cuda._parse_visible_devices``, which mirrors the driver):

- unset: every GPU is visible;
- set but empty (or only spaces): no GPU is visible;
- a comma-separated list of GPU indices or UUIDs (``GPU-<uuid>``; a unique prefix such as
  ``GPU-8932f937`` is enough; ``MIG-<uuid>`` for MIG instances): the listed GPUs are
  visible, renumbered 0, 1, ... in the order given;
- the first invalid entry hides itself and every entry after it: ``0,2,-1,1`` shows GPUs 0
  and 2, which is why ``-1`` hides everything;
- a number is read like C's ``strtoul``: ``1gpu2`` is 1, spaces around it are skipped;
- a repeated GPU makes the whole list empty (PyTorch: "Repeated ordinal results in empty
  set").

:func:`resolve` takes the raw value and, when known, the GPUs present (index and UUID each)
and never raises, whatever the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

# Entry kinds
INDEX, UUID, MIG, INVALID = "index", "uuid", "mig", "invalid"

# Entry states
VISIBLE = "visible"                  # this entry makes a GPU visible
STOPS_HERE = "invalid"               # the first invalid entry: it and all later ones hidden
AFTER_INVALID = "hidden-after-invalid"
DUPLICATE = "duplicate"              # names a GPU already listed: the whole list is empty
UNCHECKED = "unchecked"              # looks valid, but the GPUs present are unknown


class Entry:
    """One comma-separated entry. Plain class: dataclasses cost milliseconds at import."""

    __slots__ = ("text", "kind", "state", "gpu", "reason", "value", "had_spaces", "lenient")

    def __init__(self, text: str, kind: str, had_spaces: bool = False) -> None:
        self.text = text              # the entry as written, without surrounding spaces
        self.kind = kind              # index | uuid | mig | invalid
        self.state = UNCHECKED
        self.gpu: Optional[int] = None     # the physical index it resolved to, when known
        self.reason = ""              # why it is invalid / hidden
        self.value: Optional[int] = None   # the number read, for index entries
        self.had_spaces = had_spaces
        self.lenient = False          # a number followed by junk ("1gpu2" read as 1)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "kind": self.kind, "state": self.state}
        if self.gpu is not None:
            out["gpu"] = self.gpu
        if self.reason:
            out["reason"] = self.reason
        return out


class Resolution:
    """What CUDA_VISIBLE_DEVICES resolves to."""

    def __init__(self, raw: Optional[str], mode: str, *, visible: Optional[list[int]] = None,
                 visible_count: Optional[int] = None, gpus_known: bool = False) -> None:
        self.raw = raw
        self.mode = mode                          # unset | empty | list
        self.entries: list[Entry] = []
        # Physical indices of the visible GPUs, in CUDA's order, when the GPUs are known;
        # None when they are unknown.
        self.visible = visible
        # How many entries CUDA would accept (resolved GPUs plus unresolved entries).
        self.visible_count = visible_count
        # Accepted entries not matched to a known GPU (GPUs or their UUIDs unknown, or
        # MIG instances, which are not whole GPUs).
        self.unresolved: list[str] = []
        self.gpus_known = gpus_known
        self.first_invalid: Optional[int] = None  # position of the first invalid entry
        self.duplicate: Optional[str] = None      # the entry that repeated a GPU
        self.mixed_kinds = False                  # indices and UUIDs in one list

    @property
    def hides_everything(self) -> bool:
        if self.mode == "unset":
            return False
        if self.visible is not None and self.visible:
            return False
        return not self.unresolved

    def to_dict(self) -> dict[str, Any]:
        return {
            "raw": self.raw,
            "mode": self.mode,
            "entries": [e.to_dict() for e in self.entries],
            "visible": self.visible,
            "visible_count": self.visible_count,
            "unresolved": self.unresolved,
            "gpus_known": self.gpus_known,
            "first_invalid": self.first_invalid,
            "duplicate": self.duplicate,
        }


def strtoul_prefix(text: str) -> tuple[Optional[int], bool]:
    """The number C's strtoul-like reading finds at the start of ``text`` (after spaces),
    and whether junk followed it. ``None`` when there is no number or it is negative."""
    s = text.strip()
    digits = ""
    sign = ""
    for pos, ch in enumerate(s):
        if pos == 0 and ch in "+-":
            sign = ch
            continue
        if "0" <= ch <= "9":
            digits += ch
            continue
        break
    if not digits:
        return None, False
    junk = len(sign) + len(digits) < len(s)
    if sign == "-" and int(digits) != 0:
        return None, junk
    return int(digits), junk


def _norm_uuid(uuid: Any) -> Optional[str]:
    if not isinstance(uuid, str) or not uuid.strip():
        return None
    uuid = uuid.strip()
    if not uuid.upper().startswith(("GPU-", "MIG-")):
        uuid = "GPU-" + uuid
    return uuid.lower()


def gpu_table(gpus: Any) -> Optional[list[tuple[int, Optional[str]]]]:
    """(index, normalised uuid) for each GPU in ``facts["nvidia"]["gpus"]``; None when the
    list is unknown (not a list). Entries without an index are numbered by position."""
    if not isinstance(gpus, list):
        return None
    table: list[tuple[int, Optional[str]]] = []
    for pos, gpu in enumerate(gpus):
        if not isinstance(gpu, dict):
            table.append((pos, None))
            continue
        index = gpu.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            index = pos
        table.append((index, _norm_uuid(gpu.get("uuid"))))
    return table


def mig_uuids(gpus: Any) -> list[str]:
    """Normalised UUIDs of the MIG devices listed under the GPUs (may be empty)."""
    out: list[str] = []
    for gpu in gpus if isinstance(gpus, list) else []:
        devices = gpu.get("mig_devices") if isinstance(gpu, dict) else None
        for dev in devices if isinstance(devices, list) else []:
            uuid = dev.get("uuid") if isinstance(dev, dict) else None
            if isinstance(uuid, str) and uuid.upper().startswith("MIG-"):
                out.append(uuid.strip().lower())
    return out


def _classify(text: str) -> str:
    upper = text.upper()
    if upper.startswith("GPU-"):
        return UUID
    if upper.startswith("MIG-"):
        return MIG
    value, _ = strtoul_prefix(text)
    return INDEX if value is not None else INVALID


def resolve(raw: Optional[str], gpus: Any = None) -> Resolution:
    """What ``CUDA_VISIBLE_DEVICES=raw`` shows, given the GPUs present (``gpus`` as in
    ``facts["nvidia"]["gpus"]``, or None when unknown). Never raises."""
    table = gpu_table(gpus)
    migs = mig_uuids(gpus)
    known = table is not None
    all_indices = [idx for idx, _ in table] if table is not None else []
    if raw is None:
        return Resolution(None, "unset", visible=list(all_indices) if known else None,
                          visible_count=len(all_indices) if known else None,
                          gpus_known=known)
    if not isinstance(raw, str):
        raw = str(raw)
    if not raw.strip():
        return Resolution(raw, "empty", visible=[] if known else None,
                          visible_count=0, gpus_known=known)

    res = Resolution(raw, "list", gpus_known=known)
    taken: list[int] = []          # physical GPUs already made visible
    taken_text: list[str] = []     # entries already accepted (GPUs unknown)
    stopped = False
    kinds_seen: set[str] = set()
    for pos, piece in enumerate(raw.split(",")):
        text = piece.strip()
        entry = Entry(text=text, kind=_classify(text), had_spaces=text != piece)
        res.entries.append(entry)
        if entry.kind in (INDEX, UUID, MIG):
            kinds_seen.add("index" if entry.kind == INDEX else "uuid")
        if stopped:
            entry.state = AFTER_INVALID
            entry.reason = "comes after an invalid entry"
            continue
        problem = _check_entry(entry, table, migs)
        if problem:
            entry.state = STOPS_HERE
            entry.reason = problem
            res.first_invalid = pos
            stopped = True
            continue
        if entry.gpu is not None:
            if entry.gpu in taken:
                entry.state = DUPLICATE
                entry.reason = f"GPU {entry.gpu} is already listed"
                res.duplicate = text
                break
            taken.append(entry.gpu)
            entry.state = VISIBLE
        else:
            key = _dedup_key(entry)
            if key in taken_text:
                entry.state = DUPLICATE
                entry.reason = "already listed"
                res.duplicate = text
                break
            taken_text.append(key)
            entry.state = UNCHECKED
    res.mixed_kinds = len(kinds_seen) > 1
    if res.duplicate is not None:
        res.visible = [] if known else None
        res.visible_count = 0
        return res
    res.visible = taken if known else None
    res.unresolved = [e.text for e in res.entries if e.state == UNCHECKED]
    res.visible_count = len(taken) + len(res.unresolved)
    return res


def _dedup_key(entry: Entry) -> str:
    if entry.kind == INDEX:
        return f"#{entry.value}"
    return entry.text.lower()


def _check_entry(entry: Entry, table: Optional[list[tuple[int, Optional[str]]]],
                 migs: Sequence[str] = ()) -> str:
    """Why CUDA would reject this entry ('' when it is fine); sets entry.gpu/value."""
    if entry.kind == INVALID:
        if not entry.text:
            return "is empty"
        if entry.text.lstrip().startswith("-"):
            return "is a negative number"
        return "is neither a GPU index nor a GPU-/MIG- UUID"
    if entry.kind == INDEX:
        value, junk = strtoul_prefix(entry.text)
        entry.value = value
        entry.lenient = junk
        if value is None:  # pragma: no cover - _classify guarantees a number
            return "is not a number"
        if table is None:
            return ""
        indices = [idx for idx, _ in table]
        if value not in indices:
            count = len(table)
            return (f"names GPU {value}, but there is no GPU {value} "
                    f"({count} GPU{'s' if count != 1 else ''} present)")
        entry.gpu = value
        return ""
    if entry.kind == UUID:
        prefix = entry.text.lower()
        if prefix == "gpu-":
            return "is an empty UUID prefix"
        if table is None:
            return ""
        uuids = [(idx, u) for idx, u in table if u]
        if not uuids:
            return ""  # GPUs known but their UUIDs are not: cannot judge
        matches = [idx for idx, u in uuids if u.startswith(prefix)]
        if not matches:
            return "matches no GPU's UUID"
        if len(matches) > 1:
            return ("matches several GPUs "
                    f"({', '.join(map(str, matches))}): the prefix is ambiguous")
        entry.gpu = matches[0]
        return ""
    # MIG-<uuid>: a MIG instance, not a whole GPU (it stays in Resolution.unresolved).
    if len(entry.text) <= len("MIG-"):
        return "is an empty MIG UUID"
    if migs:
        matches = [u for u in migs if u.startswith(entry.text.lower())]
        if not matches:
            return "matches no MIG device's UUID"
        if len(matches) > 1:
            return "matches several MIG devices: the prefix is ambiguous"
    return ""


def describe_visible(res: Resolution, gpus: Any = None) -> str:
    """A short human sentence: which GPUs CUDA programs will see."""
    if res.mode == "unset":
        if res.visible is None:
            return "all GPUs (CUDA_VISIBLE_DEVICES is not set)"
        return f"all {len(res.visible)} GPU(s) (CUDA_VISIBLE_DEVICES is not set)"
    if res.hides_everything:
        return "no GPU"
    names = _names(gpus)
    parts = []
    cuda_idx = 0
    resolved = iter(res.visible or [])
    for entry in res.entries:
        if entry.state == VISIBLE:
            phys = next(resolved)
            name = names.get(phys)
            parts.append(f"cuda:{cuda_idx} = GPU {phys}" + (f" ({name})" if name else ""))
        elif entry.state == UNCHECKED:
            parts.append(f"cuda:{cuda_idx} = {entry.text}")
        else:
            continue
        cuda_idx += 1
    return ", ".join(parts) if parts else "no GPU"


def _names(gpus: Any) -> dict[int, str]:
    names: dict[int, str] = {}
    table = gpu_table(gpus) or []
    for (idx, _), gpu in zip(table, gpus if isinstance(gpus, list) else []):
        if isinstance(gpu, dict) and isinstance(gpu.get("name"), str):
            names[idx] = gpu["name"]
    return names


def visible_gpu_list(gpus: Sequence[Any], res: Resolution) -> list[dict[str, Any]]:
    """The visible GPUs as small dicts (cuda index, physical index, name, uuid)."""
    if res.visible is None:
        return []
    by_index = {}
    for (idx, _), gpu in zip(gpu_table(list(gpus)) or [], gpus):
        by_index[idx] = gpu if isinstance(gpu, dict) else {}
    out = []
    for cuda_idx, phys in enumerate(res.visible):
        gpu = by_index.get(phys, {})
        out.append({"cuda_index": cuda_idx, "index": phys, "name": gpu.get("name"),
                    "uuid": gpu.get("uuid")})
    return out
