"""What each persona may deploy, written once for both engines.

Argo CD projects whitelist these kinds; the Flux tenant Role grants exactly these resources.
Service owners get namespaced workload kinds and the workload-level Istio kinds; never
EnvoyFilter, Gateway, ServiceEntry, WorkloadEntry or anything cluster-scoped.
"""

from __future__ import annotations

SERVICE_OWNER_RESOURCES: tuple[tuple[str, str, str], ...] = (
    ("", "ServiceAccount", "serviceaccounts"),
    ("", "ConfigMap", "configmaps"),
    ("", "Service", "services"),
    ("apps", "Deployment", "deployments"),
    ("apps", "StatefulSet", "statefulsets"),
    ("batch", "Job", "jobs"),
    ("batch", "CronJob", "cronjobs"),
    ("autoscaling", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
    ("policy", "PodDisruptionBudget", "poddisruptionbudgets"),
    ("networking.istio.io", "VirtualService", "virtualservices"),
    ("networking.istio.io", "DestinationRule", "destinationrules"),
    ("networking.istio.io", "Sidecar", "sidecars"),
    ("security.istio.io", "AuthorizationPolicy", "authorizationpolicies"),
    ("security.istio.io", "RequestAuthentication", "requestauthentications"),
    ("security.istio.io", "PeerAuthentication", "peerauthentications"),
    ("telemetry.istio.io", "Telemetry", "telemetries"),
)


def service_owner_kinds() -> list[dict[str, str]]:
    """The service owners' kinds as {group, kind, resource}, in a stable order."""
    return [{"group": g, "kind": k, "resource": r} for g, k, r in SERVICE_OWNER_RESOURCES]


def rbac_rules(kinds: list[dict[str, str]]) -> list[dict[str, list[str]]]:
    """Role rules granting full control of exactly these resources, one rule per API group."""
    groups: dict[str, list[str]] = {}
    for item in kinds:
        groups.setdefault(item["group"], []).append(item["resource"])
    verbs = ["get", "list", "watch", "create", "update", "patch", "delete"]
    return [{"apiGroups": [group], "resources": sorted(resources), "verbs": verbs} for group, resources in groups.items()]
