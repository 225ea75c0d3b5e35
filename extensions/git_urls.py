"""Git URLs in the form each engine accepts.

Argo CD takes scp-like `git@host:org/repo.git`; Flux's GitRepository only takes http(s):// and
ssh:// URLs, so the same answer is written as `ssh://git@host/org/repo.git` for Flux.
"""

from __future__ import annotations

import re

SCP_LIKE = re.compile(r"^(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9.-]+):(?P<path>(?!//)\S+)$")


def flux_git_url(url: str) -> str:
    """`url` as Flux accepts it: scp-like addresses become ssh:// URLs, others are unchanged."""
    match = SCP_LIKE.match(url.strip())
    if not match:
        return url.strip()
    return f"ssh://{match['user']}@{match['host']}/{match['path'].lstrip('/')}"
