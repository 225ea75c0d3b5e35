"""Who the GitOps engine is on each cluster: the Kubernetes username its changes arrive as, which admission
policies trust as "the platform".

Argo CD acts as its application controller on the cluster it runs on (taken to be the first cluster), and as
the `argocd-manager` service account that `argocd cluster add` creates on every other cluster. Flux runs on
each cluster and applies as kustomize-controller. A cluster's `gitops_identity` answer overrides both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

ARGOCD_REMOTE = "system:serviceaccount:kube-system:argocd-manager"
FLUX = "system:serviceaccount:flux-system:kustomize-controller"
USERNAME = re.compile(
    r"^(system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-.a-z0-9]*[a-z0-9])?"
    r"|(?!system:serviceaccount:)[A-Za-z0-9@._:-]{1,253})\Z")


def gitops_identity_problem(value: object) -> str:
    """'' when `value` is a Kubernetes username an engine can act as (no spaces, quotes or newlines)."""
    if not isinstance(value, str) or not USERNAME.match(value):
        return (f"gitops_identity {value!r} is not a Kubernetes username; write it like "
                "system:serviceaccount:kube-system:argocd-manager")
    return ""


def gitops_identities(clusters: object, engine: str, argocd_namespace: str = "argocd") -> dict[str, str]:
    """{cluster name: the username the engine's changes arrive as on that cluster}."""
    found: dict[str, str] = {}
    for index, cluster in enumerate(clusters if isinstance(clusters, list) else []):
        if not isinstance(cluster, Mapping):
            continue
        if cluster.get("gitops_identity"):
            identity = str(cluster["gitops_identity"])
        elif engine == "flux":
            identity = FLUX
        elif index == 0:
            identity = f"system:serviceaccount:{argocd_namespace}:argocd-application-controller"
        else:
            identity = ARGOCD_REMOTE
        found[str(cluster.get("name"))] = identity
    return found
