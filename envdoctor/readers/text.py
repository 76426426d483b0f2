"""Text helpers shared by the readers: normalising a paste, cleaning values, versions."""

from __future__ import annotations

import re
from typing import Any, Optional

MAX_VALUE = 200  # no fact from a paste needs more; longer values are cut

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_QUOTE = re.compile(r"^(?:> ?)+")


def normalise(raw: bytes) -> str:
    """Pasted bytes as text with ``\\n`` line ends: UTF-8 (a BOM dropped) or UTF-16 with
    its BOM; undecodable bytes become U+FFFD; CR LF and lone CR become LF; tabs become
    spaces; e-mail quote marks (``> ``) are taken off when most lines carry them."""
    encoding = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    text = raw.decode(encoding, "replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    text = text.replace("\u00a0", " ").replace("\u2018", "'").replace("\u2019", "'")
    lines = text.split("\n")
    quoted = sum(1 for ln in lines if ln.startswith(">"))
    if lines and quoted * 2 > len([ln for ln in lines if ln.strip()]):
        text = "\n".join(_QUOTE.sub("", ln) for ln in lines)
    return text


def split_lines(text: str) -> list[str]:
    return text.split("\n")


def clean(value: Any, limit: int = MAX_VALUE) -> Optional[str]:
    """A value from a paste made safe to keep: a string without control characters
    (terminal escapes, bidi overrides), trimmed, at most ``limit`` characters; None for
    nothing or the placeholders collect_env prints for unknown values."""
    if value is None:
        return None
    text = _CONTROL.sub("", str(value)).strip()
    if not text or text.lower() in UNKNOWN:
        return None
    return text[:limit]


UNKNOWN = {"n/a", "na", "none", "could not collect", "unknown", "not installed", "?",
           "not available", "-", "null", "no cuda"}


def yes_no(value: Any) -> Optional[bool]:
    """collect_env's True/False/Yes/No (and hand edits such as "yes (I think)")."""
    text = (clean(value) or "").lower()
    if text.startswith(("true", "yes")):
        return True
    if text.startswith(("false", "no")) and not text.startswith("none"):
        return False
    return None


_VERSION = re.compile(r"\d+(?:\.\d+)+(?:[.+\-][0-9A-Za-z.+\-]*)?")


def version_in(value: Any) -> Optional[str]:
    """The first dotted version in ``value`` ("version 3.27.7" -> "3.27.7")."""
    match = _VERSION.search(clean(value) or "")
    return match.group(0).rstrip(".-+") if match else None


def major_minor(version: Optional[str]) -> Optional[str]:
    """ "12.1.105" -> "12.1"."""
    if not version:
        return None
    match = re.match(r"^(\d+)\.(\d+)", version)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def normalise_name(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def os_system(text: Optional[str]) -> Optional[str]:
    """The platform.system() of an OS description: Linux, Windows or Darwin."""
    low = (text or "").lower()
    if not low:
        return None
    if "windows" in low:
        return "Windows"
    if "mac" in low or "darwin" in low or "os x" in low:
        return "Darwin"
    linuxes = ("linux", "ubuntu", "debian", "centos", "fedora", "red hat", "rhel", "rocky",
               "alma", "suse", "arch", "manjaro", "mint", "pop!_os", "amazon", "oracle",
               "gentoo", "nixos", "wsl", "kali", "elementary", "void", "alpine", "clear")
    if any(word in low for word in linuxes):
        return "Linux"
    return None
