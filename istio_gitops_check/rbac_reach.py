"""What a subject may do, judged from the rendered Roles and bindings with Kubernetes' RBAC rules.

There is no API server here (`kubectl auth can-i` needs one), so this evaluates the same rules:
a RoleBinding grants its role's rules in its own namespace, a ClusterRoleBinding everywhere;
a subject matches by kind, name and (for service accounts) namespace, or through the groups
every service account belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_NAMESPACES = "*"


@dataclass(frozen=True)
class Grant:
    namespace: str
    api_groups: tuple[str, ...]
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    via: str


@dataclass(frozen=True)
class Identity:
    """Who asks: a user name and the groups the authenticator gives it."""

    user: str
    groups: tuple[str, ...] = ()

    @classmethod
    def service_account(cls, namespace: str, name: str) -> Identity:
        return cls(f"system:serviceaccount:{namespace}:{name}",
                   ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"))


def _identity(who: Identity | tuple[str, str]) -> Identity:
    return who if isinstance(who, Identity) else Identity.service_account(*who)


def _matches(subject: dict, identity: Identity) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "ServiceAccount":
        return identity.user == f"system:serviceaccount:{subject.get('namespace')}:{name}"
    if kind == "User":
        return identity.user == name
    if kind == "Group":
        return name in identity.groups
    return False


def grants(objects: list[dict], who: Identity | tuple[str, str]) -> list[Grant]:
    """Every rule an identity (or a service account given as (namespace, name)) receives, with the
    namespace it applies in."""
    identity = _identity(who)
    roles = {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o
             for o in objects if o.get("kind") in ("Role", "ClusterRole")}
    found: list[Grant] = []
    for binding in objects:
        if binding.get("kind") not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        if not any(_matches(s, identity) for s in binding.get("subjects", [])):
            continue
        ref = binding.get("roleRef", {})
        scope = binding["metadata"].get("namespace", "") if binding["kind"] == "RoleBinding" else ALL_NAMESPACES
        role_namespace = scope if ref.get("kind") == "Role" else ""
        role = roles.get((ref.get("kind"), role_namespace, ref.get("name")))
        via = f"{binding['kind']} {binding['metadata']['name']} -> {ref.get('kind')} {ref.get('name')}"
        if role is None:
            found.append(Grant(scope, ("?",), ("?",), ("?",), via + " (role not in this repository)"))
            continue
        for rule in role.get("rules", []):
            found.append(Grant(scope, tuple(rule.get("apiGroups", [])), tuple(rule.get("resources", [])),
                               tuple(rule.get("verbs", [])), via))
    return found


def can(objects: list[dict], who: Identity | tuple[str, str], verb: str, group: str, resource: str, namespace: str) -> bool:
    """`kubectl auth can-i` for the rendered RBAC; namespace '' asks about a cluster-scoped resource."""
    for grant in grants(objects, who):
        in_scope = grant.namespace == ALL_NAMESPACES or (namespace and grant.namespace == namespace)
        if (in_scope and (group in grant.api_groups or "*" in grant.api_groups)
                and (resource in grant.resources or "*" in grant.resources)
                and (verb in grant.verbs or "*" in grant.verbs)):
            return True
    return False
