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
    # PEM blocks: private keys, certificates (a key pasted into an allowed variable)
    re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|\Z)", re.S),
    re.compile(r"\bhf_[A-Za-z0-9]{16,}"),                      # Hugging Face
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),               # GitHub
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"\bglpat-[A-Za-z0-9_-]{16,}"),                 # GitLab
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),              # AWS access key id
    re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),                    # OpenAI-style
    re.compile(r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"),      # Stripe
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),             # Slack
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}"),                    # Google API key
    re.compile(r"\bnpm_[A-Za-z0-9]{36}"),                      # npm
    re.compile(r"\bpypi-[A-Za-z0-9_-]{32,}"),                  # PyPI upload token
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # JWT
    re.compile(r"(?i)\b(?:Bearer|Basic|token)\s+[A-Za-z0-9._~+/-]{12,}=*"),  # HTTP auth
    # key=value secrets in URLs, query strings, connection strings (Azure SAS sig=)
    re.compile(r"(?i)(?:(?<=[?&;,\s\"'-])|^)(?:token|secret|password|passwd|pwd|api[_-]?key"
               r"|access[_-]?key|account[_-]?key|sharedaccesskey|sig|signature"
               r"|x-amz-signature|x-amz-credential|x-amz-security-token|client_secret)"
               r"=[^\s&;\"']+"),
    # Everything between :// and the authority's last @: user:password@, a token used as
    # the user name (https://TOKEN@host, Azure DevOps), a password holding @.
    re.compile(r"(?<=://)[^/?#\s]+@(?=[^/?#\s@]+)"),
]
USERINFO = TOKEN + "@"

# Addresses: IPv4, bracketed IPv6, and host:port pairs (in the variables that name other
# machines: TF_CONFIG's cluster, NCCL_COMM_ID, JAX_COORDINATOR_ADDRESS).
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(r"\[[0-9A-Fa-f:.]+\]|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{1,4}"
                   r"(?![\w:])")
_HOST_PORT = re.compile(r"(?<![\w.-])[A-Za-z][\w-]*(?:\.[\w-]+)*(?=:\d{1,5}\b)")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
                    r"(?![\w-])")
IP = "<ip>"
EMAIL = "<email>"
# GPU and MIG UUIDs: persistent hardware ids, replaced by a per-report number
# (<gpu-uuid-1>...) so a report still tells its GPUs apart.
GPU_UUID = re.compile(r"\b(?:GPU|MIG)-[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b"
                      r"|\bMIG-GPU-[0-9a-fA-F-]{36}/\d+/\d+")


def redact_addresses(text: str) -> str:
    """IP addresses and the host of every host:port pair."""
    text = _IPV4.sub(IP, text)
    text = _IPV6.sub(IP, text)
    return _HOST_PORT.sub(HOST, text)


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
    """Credentials (see _TOKEN_PATTERNS) and e-mail addresses, in any text."""
    if not text:
        return text
    for pattern in _TOKEN_PATTERNS[:-1]:
        text = pattern.sub(TOKEN, text)
    if "://" in text:
        text = _TOKEN_PATTERNS[-1].sub(USERINFO, text)
    if "@" in text:
        text = _EMAIL.sub(EMAIL, text)
    return text


@dataclass(frozen=True)
class Identity:
    user: Optional[str]
    home: Optional[str]
    hostname: Optional[str]
    # Other people this run could name: under sudo, the real user (SUDO_USER) and their
    # home, as (user, home) pairs.
    others: tuple = ()


# Host names that are everyday words: a machine called "debian" or "cuda" must leave
# "Debian GNU/Linux" and /usr/local/cuda alone (its full name with a domain is still
# redacted).
HOST_WORDS = PATH_WORDS | frozenset({
    "debian", "ubuntu", "fedora", "centos", "rocky", "alma", "arch", "alpine", "linux",
    "windows", "darwin", "python", "torch", "tensorflow", "jax", "gpu", "cpu", "node",
    "server", "worker", "master", "main", "host", "box", "machine", "desktop", "laptop",
    "workstation", "container", "docker", "default", "ubuntu-server", "jupyter", "colab",
    "kaggle", "nvidia", "amd", "intel", "cluster", "compute", "login",
})


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
    others = []
    sudo_user = env.get("SUDO_USER")
    if sudo_user and sudo_user not in ("root", user):
        others.append((sudo_user, _home_of(sudo_user)))
    return Identity(user or None, home or None, hostname or None, tuple(others))


def _home_of(user: str) -> Optional[str]:
    try:
        import pwd

        return pwd.getpwnam(user).pw_dir
    except (ImportError, KeyError, OSError):
        return None


class Redactor:
    """Rewrites strings in a report; :meth:`apply` walks a JSON document's values."""

    def __init__(self, identity: Identity, keep_gpu_uuids: bool = False) -> None:
        self._rules: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = []
        self._gpu_ids: Optional[dict[str, str]] = None if keep_gpu_uuids else {}
        people = [(identity.user, identity.home), *identity.others]
        for _, home in people:
            self._home_rule(home)
        for user, _ in people:
            self._user_rules(user)
        self._host_rules(identity.hostname)

    def _home_rule(self, home: Optional[str]) -> None:
        home = (home or "").rstrip("/\\")
        if len(home) > 1 and home not in ("/", "C:", "c:") and os.sep * 2 not in home:
            flags = re.IGNORECASE if "\\" in home or re.match(r"^[A-Za-z]:", home) else 0
            self._rules.append((re.compile(r"(?<![\w.-])" + re.escape(home) + r"(?![\w.-])",
                                           flags), HOME))

    def _user_rules(self, user: Optional[str]) -> None:
        if not user or len(user) <= 1 or user == "root":
            return
        # The user's folder under the usual home roots, wherever it appears.
        self._rules.append((
            re.compile(r"(?i)((?:^|[\s\"'=:;(])(?:/home|/Users|/export/home|[A-Za-z]:\\Users"
                       r"|\\Users)[/\\])" + re.escape(user) + r"(?=$|[/\\\s\"';:,)])"),
            lambda m: m.group(1) + USER))
        # Clusters keep per-user folders elsewhere too (/scratch/alice, /gpfs/.../alice,
        # /tmp/nvidia-mps-alice): the user name as a path component, or as a piece of one
        # between - _ . separators, is redacted anywhere, unless the name is also an
        # everyday path word (a user named "cuda" must leave /usr/local/cuda alone).
        if len(user) >= 3 and user.lower() not in PATH_WORDS:
            name = re.escape(user)
            self._rules.append((
                re.compile(r"(?<=[/\\])" + name + r"(?=$|[/\\\s\"';:,)])"), USER))
            self._rules.append((
                re.compile(r"(?<=[-_.])" + name + r"(?=$|[-_./\\\s\"';:,)])"
                           r"|(?<=[/\\])" + name + r"(?=[-_.])"), USER))

    def _host_rules(self, host: Optional[str]) -> None:
        if not host or host.lower() in ("localhost", "localhost.localdomain") or len(host) < 2:
            return
        short, _, domain = host.partition(".")
        names = [host] if "." in host else []
        if len(short) >= 2 and short.lower() not in HOST_WORDS:
            names.append(short)
        for name in sorted(set(names), key=len, reverse=True):
            self._rules.append((re.compile(r"(?<![\w.-])" + re.escape(name)
                                           + r"(?:\.[\w-]+)*(?![\w-])", re.IGNORECASE),
                                HOST))
        if domain.count(".") >= 1:
            # Other nodes of the same domain (node08.cluster.example.org) name the site.
            self._rules.append((re.compile(r"(?<![\w.-])[\w-]+(?:\.[\w-]+)*\."
                                           + re.escape(domain) + r"(?![\w-])", re.IGNORECASE),
                                HOST))

    def _gpu_id(self, match: re.Match[str]) -> str:
        assert self._gpu_ids is not None
        found = match.group(0)
        if found not in self._gpu_ids:
            kind = "MIG" if found.startswith("MIG") else "GPU"
            self._gpu_ids[found] = f"{kind}-redacted-{len(self._gpu_ids) + 1:04d}"
        return self._gpu_ids[found]

    def text(self, value: str) -> str:
        value = valid_text(redact_tokens(value))
        for pattern, replacement in self._rules:
            value = pattern.sub(replacement, value)
        if self._gpu_ids is not None and ("GPU-" in value or "MIG-" in value):
            value = GPU_UUID.sub(self._gpu_id, value)
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
    """``--no-redact``: identities (and GPU UUIDs) stay, but tokens are still never
    printed."""

    def __init__(self) -> None:
        super().__init__(Identity(None, None, None), keep_gpu_uuids=True)
