"""The persona RBAC matrix: who may create what where, evaluated on the rendered RBAC objects.

Rows are personas, columns namespaces, cells the resources allowed ('-' for none). The same table
is printed by the tests and kept in docs/personas.md, and a test fails when the two differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from istio_gitops_check.rbac_reach import Identity, can

RESOURCES: tuple[tuple[str, str, str], ...] = (
    ("EnvoyFilter", "networking.istio.io", "envoyfilters"),
    ("PeerAuthentication", "security.istio.io", "peerauthentications"),
    ("Sidecar", "networking.istio.io", "sidecars"),
    ("VirtualService", "networking.istio.io", "virtualservices"),
    ("Gateway", "networking.istio.io", "gateways"),
    ("AuthorizationPolicy", "security.istio.io", "authorizationpolicies"),
    ("Secret", "", "secrets"),
    ("Deployment", "apps", "deployments"),
)


@dataclass(frozen=True)
class Persona:
    name: str
    identity: Identity
    namespaces: dict[str, str]


def allowed(objects: list[dict], persona: Persona) -> dict[str, tuple[str, ...]]:
    """For each namespace column, the resources of interest the persona may create there."""
    return {
        column: tuple(kind for kind, group, resource in RESOURCES if can(objects, persona.identity, "create", group, resource, namespace))
        for column, namespace in persona.namespaces.items()
    }


def to_markdown(objects: list[dict], personas: list[Persona]) -> str:
    columns = list(personas[0].namespaces)
    lines = ["| persona | " + " | ".join(columns) + " |", "| --- |" + " --- |" * len(columns)]
    for persona in personas:
        cells = allowed(objects, persona)
        lines.append(f"| {persona.name} | " + " | ".join(", ".join(cells[c]) or "-" for c in columns) + " |")
    return "\n".join(lines)


GIT_RESOURCES: tuple[tuple[str, str], ...] = tuple((kind, group) for kind, group, _ in RESOURCES) + (
    ("RoleBinding", "rbac.authorization.k8s.io"),
)
CLUSTER_RESOURCES: tuple[tuple[str, str], ...] = (
    ("Namespace", ""),
    ("ClusterRoleBinding", "rbac.authorization.k8s.io"),
    ("CustomResourceDefinition", "apiextensions.k8s.io"),
    ("ValidatingAdmissionPolicy", "admissionregistration.k8s.io"),
)
CLUSTER_COLUMN = "cluster-scoped"


def allowed_through_git(units: list, namespaces: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """What the engine units a persona can steer through Git may apply: per namespace column the resources of
    GIT_RESOURCES, and the cluster-scoped kinds of CLUSTER_RESOURCES."""
    cells = {column: tuple(kind for kind, group in GIT_RESOURCES if any(u.may(group, kind, ns) for u in units))
             for column, ns in namespaces.items()}
    cells[CLUSTER_COLUMN] = tuple(kind for kind, group in CLUSTER_RESOURCES if any(u.may(group, kind, "") for u in units))
    return cells


def git_markdown(rows: list[tuple[str, dict[str, tuple[str, ...]]]]) -> str:
    columns = list(rows[0][1])
    lines = ["| persona | " + " | ".join(columns) + " |", "| --- |" + " --- |" * len(columns)]
    for name, cells in rows:
        lines.append(f"| {name} | " + " | ".join(", ".join(cells[c]) or "-" for c in columns) + " |")
    return "\n".join(lines)
