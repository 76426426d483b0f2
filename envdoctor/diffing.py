"""What differs between two reports: facts by diagnostic weight, then checks.

Facts are flattened to dotted paths (``nvidia.gpus[0].name``, ``cpu.flags``,
``packages.distributions.torch``) and each differing path is put in a category, in the
order a GPU stack breaks: driver, CUDA levels, framework builds and arch lists, cuDNN,
GPU models, CPU flags, Python, packages, environment variables, then the rest. Values
that differ between any two machines without meaning anything (durations, memory in
use, temperatures, UUIDs, serial numbers) are left out. Then come the checks whose
status (or set of findings) differs, with the findings that explain the difference.

Pure functions of two report documents: the command (``envdoctor diff``) loads them.
"""

from __future__ import annotations

import re
from typing import Any, Optional

# (key, label) in display order: the order in which a GPU stack is diagnosed.
CATEGORIES = [
    ("driver", "NVIDIA driver"),
    ("cuda", "CUDA"),
    ("framework", "Framework builds"),
    ("cudnn", "cuDNN"),
    ("gpu", "GPUs"),
    ("cpu", "CPU"),
    ("python", "Python"),
    ("packages", "Packages"),
    ("env", "Environment variables"),
    ("platform", "Operating system"),
    ("bench", "Benchmarks (envdoctor bench)"),
    ("probes", "Probe runs"),
    ("other", "Other facts"),
]
CATEGORY_RANK = {key: rank for rank, (key, _) in enumerate(CATEGORIES)}
CATEGORY_LABEL = dict(CATEGORIES)

# Noise: differs between any two machines or runs and explains nothing.
_IGNORED_LEAF = re.compile(
    r"^(duration_ms|duration_s|\w*_ms|elapsed\w*|traceback|uuid|serial|serial_number|board_id|pid|"
    r"temperature\w*|\w*_temperature|utili[sz]ation\w*|fan\w*|power_draw\w*|"
    r"(memory_)?(used|free)(_(mib|mb|bytes|b|gib|kib))?|"
    r"\w*clocks?|clock\w*|generated_at|timestamp|uptime\w*|boot_time)$")
_IGNORED_SEGMENT = re.compile(r"^(processes|compute_processes|graphics_processes|"
                              r"clocks|clock_event_reasons|throttle_reasons)$")
_TOP_IGNORED = {"schema_version", "envdoctor_version"}
# nvidia.<key> facts about the driver rather than the GPUs (kernel module, NVML errors).
_DRIVER_KEYS = {"kernel", "errors", "nvml", "nvidia_smi", "signs", "present", "source"}

# Important leaves first inside a category.
_LEAF_PRIORITY = ("driver_version", "version", "cuda", "build", "name", "compute_capability",
                  "arch_list", "archs", "count", "x86_level", "flags", "model")

_SCALARS = (str, int, float, bool, type(None))


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


MISSING: Any = _Missing()


def _leaf(path: str) -> str:
    last = path.rsplit(".", 1)[-1]
    return last.split("[", 1)[0]


def ignored(path: str) -> bool:
    segments = [s.split("[", 1)[0] for s in path.split(".")]
    if len(segments) == 1 and segments[0] in _TOP_IGNORED:
        return True
    if any(_IGNORED_SEGMENT.match(s.lower()) for s in segments[:-1]):
        return True
    return bool(_IGNORED_LEAF.match(segments[-1].lower()))


def category(path: str) -> str:
    """The diagnostic category of a facts path (see CATEGORIES)."""
    low = path.lower()
    top = low.split(".", 1)[0].split("[", 1)[0]
    if top == "probes":
        return "probes"
    if top == "bench":
        return "bench"
    if top == "env":
        return "env"
    if top in ("frameworks", "framework", "torch", "tensorflow", "jax", "cupy"):
        return "framework"
    if "cudnn" in low:
        return "cudnn"
    if "cuda" in low or "nvcc" in low or "toolkit" in low:
        return "cuda"
    if "driver" in low or "nouveau" in low or "kernel_module" in low or "nvml" in low:
        return "driver"
    second = low.split(".")[1].split("[", 1)[0] if "." in low else ""
    if top == "nvidia" and second in _DRIVER_KEYS:
        return "driver"
    if top in ("nvidia", "gpu", "gpus", "rocm", "amd", "apple", "devices") or "gpus" in low \
            or "compute_capability" in low:
        return "gpu"
    if top == "cpu":
        return "cpu"
    if top == "python":
        return "python"
    if top in ("packages", "pip", "wheels", "opencv"):
        return "packages"
    if top == "platform":
        return "platform"
    return "other"


def _priority(path: str) -> int:
    leaf = _leaf(path).lower()
    for rank, key in enumerate(_LEAF_PRIORITY):
        if leaf == key or leaf.endswith("_" + key) or leaf.startswith(key + "_"):
            return rank
    return len(_LEAF_PRIORITY)


def _element_key(items: list[dict]) -> Optional[str]:
    """The field that identifies list elements (GPUs by index...), when one is unique."""
    for key in ("index", "id", "name", "path", "key"):
        values = [item.get(key) for item in items]
        if all(isinstance(v, (str, int)) for v in values) and len(set(values)) == len(values):
            return key
    return None


def flatten(obj: Any, prefix: str, out: dict[str, Any]) -> dict[str, Any]:
    """Leaves of a JSON document by dotted path; lists of scalars stay whole."""
    if isinstance(obj, dict):
        if not obj:
            out[prefix] = {}
        for key, value in obj.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if not ignored(path):
                flatten(value, path, out)
    elif isinstance(obj, list):
        if all(isinstance(v, _SCALARS) for v in obj):
            out[prefix] = obj
        elif all(isinstance(v, dict) for v in obj):
            key = _element_key(obj)
            for pos, item in enumerate(obj):
                flatten(item, f"{prefix}[{item[key] if key else pos}]", out)
        else:
            for pos, item in enumerate(obj):
                flatten(item, f"{prefix}[{pos}]", out)
    else:
        out[prefix] = obj
    return out


def _nothing(value: Any) -> bool:
    """None, [], {} and absent. An empty string is a value: CUDA_VISIBLE_DEVICES=""
    hides every GPU, unlike an unset variable."""
    return value is MISSING or value is None or (isinstance(value, (list, dict)) and not value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        try:
            return sorted(a, key=repr) == sorted(b, key=repr)
        except TypeError:  # pragma: no cover - lists of scalars always sort by repr
            return a == b
    if type(a) is bool or type(b) is bool:
        return a is b
    return a == b


def _fact_entry(path: str, a: Any, b: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": path, "category": category(path)}
    if a is MISSING:
        entry["change"] = "added"
    elif b is MISSING:
        entry["change"] = "removed"
    else:
        entry["change"] = "changed"
    entry["a"] = None if a is MISSING else a
    entry["b"] = None if b is MISSING else b
    if isinstance(a, list) and isinstance(b, list) and max(len(a), len(b)) > 4:
        sa, sb = {repr(v): v for v in a}, {repr(v): v for v in b}
        entry["only_in_a"] = [sa[k] for k in sorted(sa) if k not in sb]
        entry["only_in_b"] = [sb[k] for k in sorted(sb) if k not in sa]
    return entry


def _section_reason(facts: dict[str, Any], name: str) -> str:
    from envdoctor.facts import probe_failure

    return probe_failure(facts, name) or f"no '{name}' facts"


def diff_facts(fa: dict[str, Any], fb: dict[str, Any], shared_only: bool
               ) -> tuple[list[dict[str, Any]], list[str]]:
    """Differing facts, sorted by diagnostic weight, and the sections not compared."""
    entries: list[dict[str, Any]] = []
    not_compared: list[str] = []
    sections = sorted((set(fa) | set(fb)) - _TOP_IGNORED)
    for name in sections:
        va, vb = fa.get(name, MISSING), fb.get(name, MISSING)
        if shared_only and (va is MISSING or vb is MISSING):
            not_compared.append(name)
            continue
        if name == "probes":
            flat_a = flatten(va if isinstance(va, dict) else {}, name, {})
            flat_b = flatten(vb if isinstance(vb, dict) else {}, name, {})
        elif isinstance(va, dict) and isinstance(vb, dict):
            flat_a, flat_b = flatten(va, name, {}), flatten(vb, name, {})
        elif va in (None, MISSING) or vb in (None, MISSING):
            # A probe that ran on one side only: one entry, with the reason.
            if (va in (None, MISSING)) and (vb in (None, MISSING)):
                continue
            entry = {"path": name, "category": category(name), "change": "section",
                     "a": None if va is MISSING else va, "b": None if vb is MISSING else vb}
            if va in (None, MISSING):
                entry["a"], entry["reason_a"] = None, _section_reason(fa, name)
            if vb in (None, MISSING):
                entry["b"], entry["reason_b"] = None, _section_reason(fb, name)
            entries.append(entry)
            continue
        else:
            flat_a, flat_b = flatten(va, name, {}), flatten(vb, name, {})
        for path in set(flat_a) | set(flat_b):
            a, b = flat_a.get(path, MISSING), flat_b.get(path, MISSING)
            if _nothing(a) and _nothing(b):
                continue  # null, empty and absent all say "nothing here": no difference
            if a is MISSING or b is MISSING or not _same(a, b):
                entries.append(_fact_entry(path, a, b))
    entries.sort(key=lambda e: (CATEGORY_RANK[e["category"]], _priority(e["path"]), e["path"]))
    return entries, not_compared


_STATUS_WEIGHT = {"fail": 0, "error": 1, "warn": 2, "pass": 3, "skip": 4, None: 5}
_AREA_ORDER = ("gpu", "env", "cuda", "framework", "cpu", "pip", "python", "wheel")


def _finding_key(finding: dict[str, Any]) -> tuple[str, str]:
    return (str(finding.get("code")), str(finding.get("message")))


def diff_checks(ca: Any, cb: Any, shared_only: bool
                ) -> tuple[list[dict[str, Any]], list[str]]:
    """Checks whose status or findings differ, with the findings that explain it (a
    hand-edited report's entries that are not objects are left out)."""
    from envdoctor.facts import dicts, text

    by_a = {str(c.get("id")): c for c in dicts(ca)}
    by_b = {str(c.get("id")): c for c in dicts(cb)}
    entries: list[dict[str, Any]] = []
    not_compared: list[str] = []
    for check_id in set(by_a) | set(by_b):
        a, b = by_a.get(check_id), by_b.get(check_id)
        if shared_only and (a is None or b is None):
            not_compared.append(str(check_id))
            continue
        sa, sb = text((a or {}).get("status")), text((b or {}).get("status"))
        fa, fb = dicts((a or {}).get("findings")), dicts((b or {}).get("findings"))
        keys_a, keys_b = {_finding_key(f) for f in fa}, {_finding_key(f) for f in fb}
        if sa == sb and keys_a == keys_b:
            continue
        entries.append({
            "id": check_id,
            "title": (b or a or {}).get("title", check_id),
            "a": sa, "b": sb,
            "summary_a": (a or {}).get("summary"), "summary_b": (b or {}).get("summary"),
            "findings_only_in_a": [f for f in fa if _finding_key(f) not in keys_b],
            "findings_only_in_b": [f for f in fb if _finding_key(f) not in keys_a],
        })

    def order(entry: dict[str, Any]) -> tuple:
        area = str(entry["id"]).split(".", 1)[0]
        area_rank = _AREA_ORDER.index(area) if area in _AREA_ORDER else len(_AREA_ORDER)
        worst = min(_STATUS_WEIGHT.get(entry["a"], 5), _STATUS_WEIGHT.get(entry["b"], 5))
        return (worst, area_rank, str(entry["id"]))

    entries.sort(key=order)
    return entries, sorted(not_compared)


def _side(report: dict[str, Any], label: str) -> dict[str, Any]:
    from envdoctor.facts import as_dict

    facts = as_dict(report.get("facts"))
    source = as_dict(report.get("source"))
    return {"label": label,
            "schema_version": facts.get("schema_version", report.get("schema_version")),
            "envdoctor_version": report.get("envdoctor_version"),
            "generated_at": report.get("generated_at"),
            "host": source.get("host"),
            "exit_code": as_dict(report.get("summary")).get("exit_code")}


def diff_reports(a: dict[str, Any], b: dict[str, Any], label_a: str = "A",
                 label_b: str = "B") -> dict[str, Any]:
    """The whole comparison as one JSON-serialisable document."""
    side_a, side_b = _side(a, label_a), _side(b, label_b)
    notices: list[str] = []
    shared_only = side_a["schema_version"] != side_b["schema_version"]
    if shared_only:
        notices.append(
            f"the reports use different schema versions ({side_a['schema_version']} and "
            f"{side_b['schema_version']}): only the facts and checks both have are compared")
    if side_a["envdoctor_version"] != side_b["envdoctor_version"]:
        notices.append(
            f"the reports come from different envdoctor versions ({side_a['envdoctor_version']}"
            f" and {side_b['envdoctor_version']}): check results may differ for that reason "
            "alone; --recheck re-runs this version's checks on both")
    facts, sections_skipped = diff_facts(a.get("facts") or {}, b.get("facts") or {},
                                         shared_only)
    checks, checks_skipped = diff_checks(a.get("checks"), b.get("checks"), shared_only)
    if sections_skipped:
        notices.append("facts not compared (in one report only): "
                       + ", ".join(sections_skipped))
    if checks_skipped:
        notices.append("checks not compared (in one report only): " + ", ".join(checks_skipped))
    return {"a": side_a, "b": side_b, "notices": notices, "identical": not facts and not checks,
            "facts": facts, "checks": checks}


# ---------------------------------------------------------------------------- rendering

def show(value: Any, limit: int = 60) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        text = ", ".join(show(v, limit) for v in value) if value else "(empty)"
    elif isinstance(value, dict):
        text = "{...}" if value else "(empty)"
    elif value == "":
        text = '""'
    else:
        text = str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[:limit - 3] + "..."


def fact_values(entry: dict[str, Any], limit: int = 60) -> tuple[str, str]:
    if "only_in_a" in entry:
        return ("only here: " + show(entry["only_in_a"], limit) if entry["only_in_a"]
                else "(nothing extra)",
                "only here: " + show(entry["only_in_b"], limit) if entry["only_in_b"]
                else "(nothing extra)")
    a = "(absent)" if entry["change"] == "added" else show(entry["a"], limit)
    b = "(absent)" if entry["change"] == "removed" else show(entry["b"], limit)
    if entry.get("reason_a"):
        a = f"(no facts: {entry['reason_a']})"
    if entry.get("reason_b"):
        b = f"(no facts: {entry['reason_b']})"
    return a, b


def _status(value: Optional[str]) -> str:
    return value if value is not None else "(absent)"


def render_text(result: dict[str, Any], limit_per_category: Optional[int] = 25) -> str:
    a, b = result["a"], result["b"]
    lines = ["envdoctor diff"]
    for tag, side in (("A", a), ("B", b)):
        meta = f"envdoctor {side['envdoctor_version'] or '?'}, schema {side['schema_version']}"
        if side.get("generated_at"):
            meta += f", {side['generated_at']}"
        if side.get("host"):
            meta += f", host {side['host']}"
        lines.append(f"  {tag}: {side['label']}  ({meta})")
    for notice in result["notices"]:
        lines.append(f"  notice: {notice}")
    lines.append("")
    if result["identical"]:
        lines.append("No differences in facts or check results.")
        return _terminal_text(lines) + "\n"

    facts = result["facts"]
    if facts:
        lines.append(f"Facts that differ ({len(facts)}):")
        width = min(max(len(e["path"]) for e in facts) + 2, 48)
        current, shown, hidden = None, 0, 0
        for entry in facts:
            if entry["category"] != current:
                if hidden:
                    lines.append(f"    ... and {hidden} more (--all shows them)")
                current, shown, hidden = entry["category"], 0, 0
                lines.append(f"  {CATEGORY_LABEL[current]}")
            if limit_per_category is not None and shown >= limit_per_category:
                hidden += 1
                continue
            shown += 1
            va, vb = fact_values(entry)
            lines.append(f"    {entry['path']:<{width}} A: {va}")
            lines.append(f"    {'':<{width}} B: {vb}")
        if hidden:
            lines.append(f"    ... and {hidden} more (--all shows them)")
        lines.append("")
    checks = result["checks"]
    if checks:
        lines.append(f"Checks whose result differs ({len(checks)}):")
        width = max(len(str(e["id"])) for e in checks) + 2
        for entry in checks:
            lines.append(f"  {entry['id']:<{width}}{_status(entry['a'])} -> {_status(entry['b'])}"
                         f"   {entry['title']}")
            for tag, key in (("A", "findings_only_in_a"), ("B", "findings_only_in_b")):
                for finding in entry[key]:
                    lines.append(f"    {tag}: {finding.get('level')} {finding.get('code')}: "
                                 f"{finding.get('message')}")
                    hint = str(finding.get("hint") or "").split("\n") \
                        if finding.get("hint") else []
                    if hint:  # every line: "Ways out:" alone says nothing
                        lines.append(f"       -> {hint[0]}")
                        lines += [f"          {line}" for line in hint[1:]]
            if not entry["findings_only_in_a"] and not entry["findings_only_in_b"]:
                for tag, key in (("A", "summary_a"), ("B", "summary_b")):
                    if entry.get(key):
                        lines.append(f"    {tag}: {entry[key]}")
        lines.append("")
    return _terminal_text(lines)


def _terminal_text(lines: list[str]) -> str:
    """The lines joined, each escaped for the terminal: values come from reports, and a
    control character or newline in one is shown, never obeyed (no forged lines)."""
    from envdoctor.render.escape import terminal

    return "\n".join(terminal(line) for line in lines)


def _cell(text: Any) -> str:
    from envdoctor.render.escape import markdown_code

    return markdown_code(text, cell=True)


def _status_cell(value: Optional[str]) -> str:
    """A check status as a word; anything else a report holds there, inert."""
    known = ("pass", "warn", "fail", "skip", "error")
    return value if value in known else "(absent)" if value is None else _cell(value)


def render_markdown(result: dict[str, Any]) -> str:
    a, b = result["a"], result["b"]
    lines = ["## envdoctor diff", "", "| | A | B |", "|---|---|---|",
             f"| report | {_cell(a['label'])} | {_cell(b['label'])} |",
             f"| envdoctor | {_cell(a['envdoctor_version'])} | {_cell(b['envdoctor_version'])} |",
             f"| schema | {_cell(a['schema_version'])} | {_cell(b['schema_version'])} |",
             f"| generated | {_cell(a['generated_at'] or '')} | {_cell(b['generated_at'] or '')} |",
             ""]
    for notice in result["notices"]:
        lines.append(f"> **Notice:** {_cell(notice)}")
    if result["notices"]:
        lines.append("")
    if result["identical"]:
        lines.append("No differences in facts or check results.")
        return "\n".join(lines) + "\n"
    if result["facts"]:
        lines += [f"### Facts that differ ({len(result['facts'])})", "",
                  "| | fact | A | B |", "|---|---|---|---|"]
        for entry in result["facts"]:
            va, vb = fact_values(entry, limit=200)
            lines.append(f"| {CATEGORY_LABEL[entry['category']]} | {_cell(entry['path'])}"
                         f" | {_cell(va)} | {_cell(vb)} |")
        lines.append("")
    if result["checks"]:
        lines += [f"### Checks whose result differs ({len(result['checks'])})", "",
                  "| check | A | B | why |", "|---|---|---|---|"]
        for entry in result["checks"]:
            why = [f"A: {_cell(f.get('code'))} {_cell(f.get('message'))}"
                   for f in entry["findings_only_in_a"]]
            why += [f"B: {_cell(f.get('code'))} {_cell(f.get('message'))}"
                    for f in entry["findings_only_in_b"]]
            if not why:
                why = [f"{t}: {_cell(entry[k])}" for t, k in (("A", "summary_a"),
                                                              ("B", "summary_b"))
                       if entry.get(k)]
            lines.append(f"| {_cell(entry['id'])} | {_status_cell(entry['a'])} | "
                         f"{_status_cell(entry['b'])} | {'<br>'.join(why)} |")
        lines.append("")
    return "\n".join(lines)
