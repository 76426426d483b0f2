"""Take the user name, home path, host name and anything token-like out of a report.

Reports get pasted in public. Redaction replaces *paths and tokens*, never substrings:
with HOME=/ nothing is replaced, and a user named ``cuda`` turns ``/home/cuda/x`` into
``/home/<user>/x`` while ``/usr/local/cuda`` stays as it is. Only values are rewritten;
JSON keys never are.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

HOME = "~"
USER = "<user>"
HOST = "<host>"
TOKEN = "<redacted-token>"

# Values that look like credentials, whatever variable or text they sit in.
_TOKEN_PATTERNS = [
    re.compile(r"\bhf_[A-Za-z0-9]{16,}"),                      # Hugging Face
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),               # GitHub
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"\bglpat-[A-Za-z0-9_-]{16,}"),                 # GitLab
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),              # AWS access key id
    re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),                    # OpenAI-style
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),             # Slack
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # JWT
    re.compile(r"(?i)(?<=[?&;\s])(?:token|secret|password|passwd|api[_-]?key|access[_-]?key)"
               r"=[^\s&;]+"),
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),            # user:password@ in URLs
]

# Folder names common enough in paths that a user of that name is not redacted outside
# the home roots: replacing them would mangle unrelated paths.
PATH_WORDS = frozenset({
    "bin", "boot", "cache", "cuda", "cudnn", "data", "dev", "etc", "home", "include", "lib",
    "lib32", "lib64", "libexec", "local", "mnt", "nvidia", "opt", "proc", "python", "python3",
    "root", "run", "sbin", "scratch", "share", "shared", "site-packages", "snap", "srv", "src",
    "sys", "tmp", "user", "users", "usr", "var", "work", "workspace", "projects", "apps",
    "app", "tools", "build", "dist", "conda", "miniconda3", "anaconda3", "envs", "venv", "env",
    "pkgs", "models", "datasets", "jobs", "logs", "test", "tests", "docs",
})

_QUOTED_HOME = re.compile(r"""(['"])~/""")
_QUOTED_HOME_WIN = re.compile(r'"~\\')

_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(value: str) -> str:
    """``value`` as valid Unicode. Environment variables and file names that are not
    UTF-8 reach Python as lone surrogates (surrogateescape); written out as they are they
    would make the JSON report undecodable. Their bytes are decoded with U+FFFD for what
    is not UTF-8."""
    if not _SURROGATE.search(value):
        return value
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate that no byte produced
        return value.encode("utf-8", "replace").decode("utf-8")


SECRET_NAME = re.compile(r"(?i)(TOKEN|SECRET|PASSW|API_?KEY|ACCESS_?KEY|PRIVATE|CREDENTIAL"
                         r"|AUTH|COOKIE|SESSION)")


def redact_tokens(text: str) -> str:
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(TOKEN, text)
    return text


@dataclass(frozen=True)
class Identity:
    user: Optional[str]
    home: Optional[str]
    hostname: Optional[str]


def current_identity(environ: Optional[dict] = None) -> Identity:
    env = environ if environ is not None else os.environ
    user = env.get("USER") or env.get("USERNAME") or env.get("LOGNAME")
    if not user:
        try:
            import getpass

            user = getpass.getuser()
        except Exception:
            user = None
    home = env.get("HOME") or env.get("USERPROFILE") or os.path.expanduser("~")
    try:
        hostname = os.uname().nodename if hasattr(os, "uname") else env.get("COMPUTERNAME")
    except OSError:
        hostname = None
    return Identity(user or None, home or None, hostname or None)


class Redactor:
    """Rewrites strings in a report; :meth:`apply` walks a JSON document's values."""

    def __init__(self, identity: Identity) -> None:
        self._rules: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = []
        home = (identity.home or "").rstrip("/\\")
        if len(home) > 1 and home not in ("/", "C:", "c:") and os.sep * 2 not in home:
            flags = re.IGNORECASE if "\\" in home or re.match(r"^[A-Za-z]:", home) else 0
            self._rules.append((re.compile(r"(?<![\w.-])" + re.escape(home) + r"(?![\w.-])",
                                           flags), HOME))
        user = identity.user
        if user and len(user) > 1 and user != "root":
            # The user's folder under the usual home roots, wherever it appears.
            self._rules.append((
                re.compile(r"(?i)((?:^|[\s\"'=:;(])(?:/home|/Users|/export/home|[A-Za-z]:\\Users"
                           r"|\\Users)[/\\])" + re.escape(user) + r"(?=$|[/\\\s\"';:,)])"),
                lambda m: m.group(1) + USER))
            # Clusters keep per-user folders elsewhere too (/scratch/alice, /gpfs/.../alice):
            # a path component equal to the user name is redacted anywhere, unless the
            # name is also an everyday path word (a user named "cuda" must leave
            # /usr/local/cuda alone).
            if len(user) >= 3 and user.lower() not in PATH_WORDS:
                self._rules.append((
                    re.compile(r"(?<=[/\\])" + re.escape(user) + r"(?=$|[/\\\s\"';:,)])"),
                    USER))
        host = identity.hostname
        if host and host.lower() not in ("localhost", "localhost.localdomain") and len(host) > 1:
            names = {host, host.split(".")[0]}
            for name in sorted(names, key=len, reverse=True):
                if len(name) < 2:
                    continue
                self._rules.append((re.compile(r"(?<![\w.-])" + re.escape(name)
                                               + r"(?:\.[\w-]+)*(?![\w-])", re.IGNORECASE),
                                    HOST))

    def text(self, value: str) -> str:
        value = valid_text(redact_tokens(value))
        for pattern, replacement in self._rules:
            value = pattern.sub(replacement, value)
        if "~" in value and ("'~" in value or '"~' in value):
            # A hint quoted a path in the home folder ('/home/alice/my env/python'): a
            # quoted ~ would not expand, so it moves out of the quotes (POSIX), or
            # becomes $HOME inside PowerShell's double quotes.
            value = _QUOTED_HOME_WIN.sub(r'"$HOME\\', value)
            value = _QUOTED_HOME.sub(r"~/\1", value)
        return value

    def apply(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {key: self.apply(value) for key, value in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.apply(value) for value in obj]
        return obj


class NullRedactor(Redactor):
    """``--no-redact``: identities stay, but tokens are still never printed."""

    def __init__(self) -> None:
        super().__init__(Identity(None, None, None))
