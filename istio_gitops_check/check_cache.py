"""The checker's cache folder, outside the repository being checked: the schema packages, and what earlier
runs found in files that have not changed since (results keyed by the content and the rules' version, so a
stale entry cannot be used). CI keeps the folder between runs; deleting it only costs time.

`$ISTIO_GITOPS_CHECK_CACHE`, else `$XDG_CACHE_HOME/istio-gitops-check`, else `~/.cache/istio-gitops-check`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def cache_root() -> Path:
    configured = os.environ.get("ISTIO_GITOPS_CHECK_CACHE")
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "istio-gitops-check"


def load_results(name: str) -> dict[str, Any]:
    """A stored mapping of content digests to results; {} when missing or unreadable."""
    try:
        data = json.loads((cache_root() / f"{name}.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def store_results(name: str, results: dict[str, Any]) -> None:
    """Replace the stored mapping atomically (two checks at once never see half a file); best effort."""
    try:
        folder = cache_root()
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as handle:
            json.dump(results, handle)
        os.replace(handle.name, folder / f"{name}.json")
    except OSError:
        pass
