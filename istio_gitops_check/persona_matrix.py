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
