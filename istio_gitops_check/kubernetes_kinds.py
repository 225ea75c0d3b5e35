"""What the checker needs to know about Kubernetes kinds: which are cluster-scoped, and the resource name
RBAC rules use for each (there is no API server here to ask discovery)."""

from __future__ import annotations

CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "PriorityClass",
        "StorageClass",
        "PersistentVolume",
        "IngressClass",
        "GatewayClass",
        "ClusterIssuer",
        "AWSPCAClusterIssuer",
        "ClusterSecretStore",
        "ClusterExternalSecret",
    }
)
IRREGULAR_PLURALS = {"Endpoints": "endpoints"}


def kind_name(obj: dict) -> str:
    """`Kind namespace/name` (or `Kind name` for cluster-scoped objects), the way problems name an object."""
    meta = obj.get("metadata") or {}
    where = f"{meta.get('namespace')}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')} {where}{meta.get('name')}"


def group_of(api_version: str) -> str:
    """`apps/v1` -> `apps`, `v1` -> '' (the core group)."""
    return api_version.split("/")[0] if "/" in api_version else ""


def resource_of(kind: str) -> str:
    """The lower-case plural RBAC names a kind by: Gateway -> gateways, AuthorizationPolicy -> authorizationpolicies."""
    if kind in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[kind]
    lower = kind.lower()
    if lower.endswith("y") and lower[-2:-1] not in ("a", "e", "o", "u"):
        return lower[:-1] + "ies"
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    return lower + "s"
