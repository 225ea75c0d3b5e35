"""Values derived from the answers: revision names, gateway namespaces, Sidecar egress.

Templates only render what these functions decide, so the decisions are unit-tested here.
"""

from __future__ import annotations

GATEWAY_ROLES = ("ingress", "egress", "eastwest")
SINGLE_GATEWAY_NAMESPACE = "istio-gateways"


def gateway_namespace(role: str, layout: str) -> str:
    """The namespace a gateway role lives in for a layout ('split' or 'single')."""
    if role not in GATEWAY_ROLES:
        raise ValueError(f"unknown gateway role {role!r}; expected one of {', '.join(GATEWAY_ROLES)}")
    if layout == "single":
        return SINGLE_GATEWAY_NAMESPACE
    if layout == "split":
        return f"istio-{role}"
    raise ValueError(f"unknown gateway layout {layout!r}; expected 'split' or 'single'")


def gateway_namespaces(layout: str, enabled: list[str]) -> list[dict[str, object]]:
    """One entry per gateway namespace, in a stable order, with the roles it hosts."""
    namespaces: dict[str, list[str]] = {}
    for role in GATEWAY_ROLES:
        if role in enabled:
            namespaces.setdefault(gateway_namespace(role, layout), []).append(role)
    return [{"name": name, "roles": roles} for name, roles in namespaces.items()]


def sidecar_egress_hosts(layout: str, enabled: list[str], external_authz_service: str = "") -> list[str]:
    """Hosts the mesh-wide default Sidecar imports.

    `./*` is the workload's own namespace (root-namespace semantics) and `istio-system/*` the
    control plane. The egress gateway's namespace is added when it exists, because the
    allow-listed external hosts (ServiceEntries) live there. istio-config is left out on
    purpose: it holds policy, never services, so importing it would only widen every proxy's config.
    The external authorization service is added when there is one: the ext_authz filter istiod writes
    for a CUSTOM policy names its outbound cluster, which a proxy only has if its Sidecar imports the host.
    """
    hosts = ["./*", "istio-system/*"]
    if "egress" in enabled:
        hosts.append(f"{gateway_namespace('egress', layout)}/*")
    authz = external_authz(external_authz_service)
    if authz:
        hosts.append(str(authz["sidecar_host"]))
    return hosts


EXTERNAL_AUTHZ_PROVIDER = "external-authz"


def external_authz(service: str) -> dict[str, object]:
    """The external authorization service `<name>.<namespace>.svc.cluster.local:<port>` as the pieces the
    templates need, or {} when the feature is off (''). Assumes an answer that passed its check."""
    if not service:
        return {}
    host, _, port = str(service).rpartition(":")
    name, namespace = host.split(".")[:2]
    return {
        "provider": EXTERNAL_AUTHZ_PROVIDER,
        "host": host,
        "name": name,
        "namespace": namespace,
        "port": int(port),
        "sidecar_host": f"{namespace}/{host}",
        "cluster": f"outbound|{port}||{host}",
    }


def host_slug(host: str) -> str:
    """A Kubernetes name for an external host (api.github.com -> api-github-com)."""
    return host.strip().lower().replace(".", "-")
