"""Istio patch releases as canary step 1: the answers change a bot proposes, never a raw values edit.

Given the repo's answers and the chart versions the Istio Helm repository offers, the plan installs the newest
patch of the newest installed minor next to it and points the canary tag at it (docs/upgrade-istio.md, step 1):

    copier update --trust --defaults --vcs-ref=:current: --data-file <plan>

Nothing is planned while an upgrade is under way (more than one version installed): one canary at a time.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from istio_gitops_check.yaml_documents import parse

CANARY_TAG = "prod-canary"
RELEASE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def version_key(version: str) -> tuple[int, int, int]:
    match = RELEASE.match(version)
    if not match:
        raise ValueError(f"{version!r} is not an exact Istio release like 1.31.1")
    return int(match[1]), int(match[2]), int(match[3])


def chart_versions(index: Mapping[str, Any], chart: str = "istiod") -> list[str]:
    """Exact releases of a chart in a Helm repository index (pre-releases skipped)."""
    return [str(entry.get("version")) for entry in index.get("entries", {}).get(chart, []) or []
            if RELEASE.match(str(entry.get("version")))]


def patch_plan(answers: Mapping[str, Any], available: Iterable[str], canary_tag: str = CANARY_TAG) -> dict[str, Any] | None:
    """The `--data` answers of canary step 1 for a newer patch, or None when there is nothing to do."""
    installed = [str(v) for v in answers.get("istio_versions") or []]
    if len(installed) != 1:
        return None
    current = installed[0]
    minor = version_key(current)[:2]
    newer = sorted((v for v in available if RELEASE.match(v) and version_key(v)[:2] == minor
                    and version_key(v) > version_key(current)), key=version_key)
    if not newer:
        return None
    target = newer[-1]
    tags = [dict(t) for t in answers.get("istio_revision_tags") or [] if isinstance(t, Mapping) and t.get("name") != canary_tag]
    return {"istio_versions": [current, target], "istio_revision_tags": [*tags, {"name": canary_tag, "version": target}]}


def read_index(location: str) -> Mapping[str, Any]:
    """A Helm repository's index.yaml from a URL (CI) or a file."""
    if re.match(r"^https?://", location):
        url = location.rstrip("/") + ("" if location.endswith("index.yaml") else "/index.yaml")
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (http(s) only, checked above)
            text = response.read().decode()
    else:
        text = Path(location).read_text()
    data = parse(text)
    return data if isinstance(data, Mapping) else {}
