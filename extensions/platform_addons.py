"""The add-ons the mesh's certificates and remote secrets stand on, as Git-managed Helm releases.

One record per add-on: its upstream chart repository, chart, pinned version, release name and namespace, and the
add-ons it needs first. `platform_addons` picks the ones a platform installs itself, in install order:
cert-manager whenever a cert-manager Certificate makes istiod's CA (every CA mode), aws-privateca-issuer in the
aws-pca mode, istio-csr in the istio-csr mode, external-secrets when several clusters exchange remote secrets;
minus those another team already runs (`addons_installed_elsewhere`). The templates and the certificates hook read
this list; the checker judges the rendered repo on its own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

# chart -> its upstream chart repository: one file, read here and by the check (istio_gitops_check/addon_charts.py).
REPOSITORIES: dict[str, str] = json.loads(
    (Path(__file__).resolve().parent.parent / "istio_gitops_check" / "addon_repositories.json").read_text())
ADDONS: dict[str, dict[str, object]] = {
    "cert-manager": {
        "chart": "cert-manager", "repository": REPOSITORIES["cert-manager"], "repository_name": "jetstack", "version": "v1.21.1",
        "namespace": "cert-manager", "needs": (),
    },
    "external-secrets": {
        "chart": "external-secrets", "repository": REPOSITORIES["external-secrets"], "repository_name": "external-secrets",
        "version": "2.9.0", "namespace": "external-secrets", "needs": (),
    },
    "aws-privateca-issuer": {
        "chart": "aws-privateca-issuer", "repository": REPOSITORIES["aws-privateca-issuer"],
        "repository_name": "aws-privateca-issuer", "version": "v1.9.0", "namespace": "aws-privateca-issuer",
        "needs": ("cert-manager",),
    },
    "cert-manager-istio-csr": {
        "chart": "cert-manager-istio-csr", "repository": REPOSITORIES["cert-manager-istio-csr"], "repository_name": "jetstack", "version": "v0.17.0",
        "namespace": "cert-manager", "needs": ("cert-manager",),
    },
}
# Namespaces the add-ons run in, reserved whether this platform or another team installs them.
ADDON_NAMESPACES = frozenset(str(a["namespace"]) for a in ADDONS.values())


def needed_addons(ca_mode: object, clusters: object) -> list[str]:
    """Every add-on the platform's answers rely on, in install order."""
    needed = ["cert-manager"]
    if isinstance(clusters, list) and len(clusters) > 1:
        needed.append("external-secrets")
    if ca_mode == "aws-pca":
        needed.append("aws-privateca-issuer")
    if ca_mode == "istio-csr":
        needed.append("cert-manager-istio-csr")
    return needed


def platform_addons(ca_mode: object, clusters: object = (), elsewhere: object = ()) -> list[dict[str, object]]:
    """The add-ons this platform installs itself, in install order, each with the installed add-ons it needs."""
    skipped = set(elsewhere) if isinstance(elsewhere, (list, tuple)) else set()
    installed = [name for name in needed_addons(ca_mode, clusters) if name not in skipped]
    return [{"name": name, **{k: v for k, v in ADDONS[name].items() if k != "needs"},
             "needs": [n for n in ADDONS[name]["needs"] if n in installed]}  # type: ignore[union-attr]
            for name in installed]


def addon_installed(addons: object, name: str) -> bool:
    """Whether `name` is among the platform's own add-ons (a `platform_addons` list)."""
    return isinstance(addons, list) and any(isinstance(a, Mapping) and a.get("name") == name for a in addons)


def addon_owns_namespace(addons: object, name: str) -> bool:
    """Whether add-on `name` creates its namespace: the first installed add-on of a shared namespace owns it
    (istio-csr runs in cert-manager's namespace and creates it only when cert-manager is installed elsewhere)."""
    if not isinstance(addons, list):
        return False
    mine = next((a for a in addons if isinstance(a, Mapping) and a.get("name") == name), None)
    first = next((a for a in addons if isinstance(a, Mapping) and mine and a.get("namespace") == mine.get("namespace")), None)
    return mine is not None and first is mine
