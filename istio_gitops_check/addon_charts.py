"""The add-on charts a platform may install besides Istio's, where each comes from, and what it must precede.

An add-on unit (Argo CD Application, Flux Kustomization) is known by the chart it installs, whatever it is named:
cert-manager issues istiod's intermediate (the certificates unit), aws-privateca-issuer is cert-manager's issuer for
AWS Private CA, istio-csr signs workload certificates in istiod's place, external-secrets moves the remote secrets.
Each must be installed before its first user; an add-on another team runs has no unit here, and nothing waits for it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from istio_gitops_check.rendered_platform import ISTIO_CHARTS as ISTIO_CHARTS_URL

ISTIO_CHART_NAMES = frozenset({"base", "istiod", "gateway", "cni"})
# chart -> the upstream repository it is pinned from; the template's extensions/platform_addons.py reads the same file.
ADDON_REPOSITORIES: dict[str, str] = json.loads((Path(__file__).resolve().parent / "addon_repositories.json").read_text())
ADDON_CHARTS = tuple(ADDON_REPOSITORIES)
# (earlier, later): steps of one cluster's install order; an add-on step is named after its chart.
ADDON_ORDER = (
    ("cert-manager", "aws-privateca-issuer"),
    ("cert-manager", "mesh-certificates"),
    ("aws-privateca-issuer", "mesh-certificates"),
    ("cert-manager", "cert-manager-istio-csr"),
    ("mesh-certificates", "cert-manager-istio-csr"),
    ("cert-manager-istio-csr", "istiod"),
    ("external-secrets", "remote-secrets"),
)
ISTIO_VERSION = re.compile(r"\d+\.\d+\.\d+")
# Add-on charts publish versions with or without a leading v (cert-manager v1.21.1, external-secrets 2.9.0).
ADDON_VERSION = re.compile(r"v?\d+\.\d+\.\d+")


def addon_step(charts: set[str] | frozenset[str]) -> str | None:
    """The add-on step of a unit that installs `charts`, or None when it installs no add-on chart."""
    return next((chart for chart in ADDON_CHARTS if chart in charts), None)


def expected_repository(chart: str) -> str | None:
    """The one repository `chart` may come from; None for a chart that is neither Istio's nor a known add-on."""
    return ISTIO_CHARTS_URL if chart in ISTIO_CHART_NAMES else ADDON_REPOSITORIES.get(chart)


def pin_problem(chart: str, repository: str, version: str) -> str:
    """Why a chart reference is not a pinned release from its own upstream repository ('' when it is)."""
    expected = expected_repository(chart)
    if expected is None:
        return f"chart {chart!r} from {repository or 'an unnamed repository'} is neither an Istio chart nor a known add-on ({', '.join(ADDON_CHARTS)})"
    if repository.rstrip("/") != expected:
        return f"chart {chart} comes from {repository or 'an unnamed repository'}, not from its upstream repository {expected}"
    pattern = ISTIO_VERSION if chart in ISTIO_CHART_NAMES else ADDON_VERSION
    if not pattern.fullmatch(version):
        return f"chart {chart} version {version!r} is not an exact release"
    return ""
