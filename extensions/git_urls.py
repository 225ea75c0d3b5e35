"""Git URLs in the form each engine accepts.

Argo CD takes scp-like `git@host:org/repo.git`; Flux's GitRepository only takes http(s):// and
ssh:// URLs, so the same answer is written as `ssh://git@host/org/repo.git` for Flux.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

SCP_LIKE = re.compile(r"(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9.-]+):(?P<path>(?!//)\S+)")
# Characters a repository path takes on GitHub, GitLab, Bitbucket and Azure DevOps (percent-encoded otherwise);
# none of them means anything to a shell, where the README's bootstrap commands use the URL.
REPO_PATH = re.compile(r"/?[A-Za-z0-9._~%+-]+(/[A-Za-z0-9._~%+-]+)*/?")
HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")
SCHEMES = ("https", "ssh")


def flux_git_url(url: str) -> str:
    """`url` as Flux accepts it: scp-like addresses become ssh:// URLs, others are unchanged."""
    match = SCP_LIKE.fullmatch(url.strip())
    if not match:
        return url.strip()
    return f"ssh://{match['user']}@{match['host']}/{match['path'].lstrip('/')}"


def redacted_url(url: str) -> str:
    """`url` with any user information replaced by `***`, fit for a message or a log."""
    scheme, separator, rest = url.partition("://")
    if not separator or "@" not in rest.split("/", 1)[0]:
        return url
    return f"{scheme}://***@{rest.split('/', 1)[0].rsplit('@', 1)[1]}" + (f"/{rest.split('/', 1)[1]}" if "/" in rest else "")


def git_url_problem(value: object) -> str:
    """A Git URL the GitOps engine can clone, without credentials: https://, ssh:// or scp-like git@host:path."""
    text = value if isinstance(value, str) else ""
    reason = _git_url_reason(text)
    if not reason:
        return ""
    shown = repr(redacted_url(text)) if text else f"'{value}'"
    if reason == CREDENTIALS:
        parts = urlsplit(text)
        plain = urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
        return (f"git_repo_url {shown}: {reason}. Fix: answer {plain} and give the engine a credentials secret "
                "instead (Argo CD: a repository secret; Flux: the GitRepository's secretRef)")
    return f"git_repo_url {shown}: {reason}; use https://host/org/repo.git, ssh://git@host/org/repo.git or git@host:org/repo.git"


CREDENTIALS = ("credentials in the URL would be copied into the answers file and every generated Application or "
               "GitRepository")


def port_in_range(parts: SplitResult) -> bool:
    """Whether a split URL has no port or one from 1 to 65535 (also used for the Vault server's URL)."""
    try:
        port = parts.port
    except ValueError:
        return False
    return port != 0 and not (port is None and parts.netloc.endswith(":"))


def _git_url_reason(text: str) -> str:
    if not text:
        return "give the URL the engine clones this repository from"
    if any(c.isspace() or not c.isprintable() for c in text):
        return "no spaces or control characters"
    if "://" not in text:
        match = SCP_LIKE.fullmatch(text)
        if match and HOST.fullmatch(match["host"]) and REPO_PATH.fullmatch(match["path"]):
            return ""
        return "the repository path takes letters, digits and '._~%+-/' only"
    parts = urlsplit(text)
    if parts.scheme not in SCHEMES:
        return "plain http is refused, as is any scheme but https:// and ssh://"
    if parts.password is not None or (parts.username is not None and parts.scheme == "https"):
        return CREDENTIALS
    if not port_in_range(parts):
        return "a port is a number from 1 to 65535"
    if not HOST.fullmatch(parts.hostname or ""):
        return "the host must be a DNS name"
    if parts.query or parts.fragment or "?" in text or "#" in text or not REPO_PATH.fullmatch(parts.path) \
            or not parts.path.strip("/"):
        return "the repository path takes letters, digits and '._~%+-/' only, no query or fragment"
    return ""
