"""External authorization (AuthorizationPolicy action CUSTOM) as istiod and the proxies resolve it.

A CUSTOM policy names an extension provider; istiod looks the name up in *its own* meshConfig, so on a cluster
with several revisions each istiod must declare it, or the workloads of the revision that lacks it fail closed
(istiod writes an RBAC filter that denies every request the policy matches). The provider's service becomes an
ext_authz filter pointing at the outbound cluster `outbound|<port>||<host>`, which a proxy only has when its
Sidecar scope imports that host: a namespace's own selector-less Sidecar, else the root namespace's default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from istio_gitops_check.rendered_platform import HelmRelease, RenderedPlatform, cluster_entry_points, distinct

ROOT_NAMESPACE = "istio-config"
PROVIDER_KINDS = ("envoyExtAuthzGrpc", "envoyExtAuthzHttp")


def declared_providers(istiod_values: Mapping) -> dict[str, Mapping]:
    """The ext_authz extension providers an istiod release declares, by name."""
    providers = ((istiod_values.get("meshConfig") or {}).get("extensionProviders")) or []
    return {str(p["name"]): p for p in providers if isinstance(p, Mapping) and "name" in p
            and any(kind in p for kind in PROVIDER_KINDS)}


def provider_service(provider: Mapping) -> tuple[str, str]:
    """(namespace or '', host) of a provider's `service`, written `[<namespace>/]<host>`."""
    for kind in PROVIDER_KINDS:
        if kind in provider:
            namespace, _, host = str(provider[kind].get("service", "")).rpartition("/")
            if not namespace and host.count(".") >= 2 and ".svc." in host:
                namespace = host.split(".")[1]  # <name>.<namespace>.svc.<domain>
            return namespace, host
    return "", ""


def _host_matches(pattern: str, host: str) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return pattern == host


def sidecar_imports(egress_hosts: Iterable[str], sidecar_namespace: str, workload_namespace: str,
                    service_namespace: str, service_host: str) -> bool:
    """Whether a Sidecar's egress hosts (`<namespace>/<dnsName>`) import a service. `.` is the Sidecar's own
    namespace, which for the root namespace's default Sidecar means the workload's namespace; `~` imports nothing."""
    for entry in egress_hosts:
        namespace, _, pattern = str(entry).partition("/")
        if namespace == ".":
            namespace = workload_namespace if sidecar_namespace == ROOT_NAMESPACE else sidecar_namespace
        if namespace in ("*", service_namespace) and _host_matches(pattern, service_host):
            return True
    return False


def custom_policies(objects: Iterable[dict]) -> list[dict]:
    return [o for o in objects if o.get("kind") == "AuthorizationPolicy" and (o.get("spec") or {}).get("action") == "CUSTOM"]


def _provider_name(policy: dict) -> str:
    return str(((policy.get("spec") or {}).get("provider") or {}).get("name", ""))


def _clusters(platform: RenderedPlatform) -> list[tuple[str, list[dict], list[HelmRelease]]]:
    return [(cluster, distinct([o for p in paths for o in platform.builds[p]]),
             [r for r in platform.helm_releases if r.cluster == cluster and r.chart == "istiod"])
            for cluster, paths in cluster_entry_points(platform).items()]


def providers_declared_problems(platform: RenderedPlatform) -> list[str]:
    """Every CUSTOM policy applied on a cluster names a provider that every istiod revision of the cluster declares."""
    problems = []
    for cluster, objects, istiods in _clusters(platform):
        for policy in custom_policies(objects):
            name = _provider_name(policy)
            missing = sorted(str(r.values.get("revision", r.release_name)) for r in istiods if name not in declared_providers(r.values))
            if not name:
                problems.append(f"{platform.describe(policy)}: action CUSTOM without provider.name")
            elif missing:
                where = ", ".join(sorted({label for r in istiods if str(r.values.get('revision', r.release_name)) in missing
                                          for label, _ in r.value_sources} or {r.file for r in istiods}))
                problems.append(
                    f"{platform.describe(policy)}: cluster {cluster}: provider {name!r} is not in meshConfig.extensionProviders "
                    f"of revision(s) {', '.join(missing)} ({where}); their workloads would deny every request the policy matches")
    return problems


def _scope_namespaces(obj: dict, namespaces: Iterable[dict]) -> list[str]:
    """The namespaces whose workloads a policy or EnvoyFilter may select: all mesh namespaces from the root namespace."""
    own = str(obj.get("metadata", {}).get("namespace", ""))
    if own != ROOT_NAMESPACE:
        return [own]
    return sorted(str(n["metadata"]["name"]) for n in namespaces
                  if "istio.io/rev" in ((n.get("metadata") or {}).get("labels") or {}))


def grpc_services(value: object) -> list[dict]:
    """Every `envoy_grpc` block (either spelling) inside an EnvoyFilter patch value."""
    found: list[dict] = []
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if key in ("envoy_grpc", "envoyGrpc") and isinstance(inner, Mapping):
                found.append(dict(inner))
            else:
                found += grpc_services(inner)
    elif isinstance(value, list):
        for inner in value:
            found += grpc_services(inner)
    return found


def outbound_cluster_service(cluster: str) -> tuple[str, str]:
    """(namespace, host) of an outbound cluster `outbound|<port>|<subset>|<host>`; ('', '') for anything else."""
    parts = cluster.split("|")
    if len(parts) != 4 or parts[0] != "outbound":
        return "", ""
    host = parts[3]
    return (host.split(".")[1] if ".svc." in host else ""), host


def envoyfilter_grpc_problems(platform: RenderedPlatform, envoy_filter: dict) -> list[str]:
    """An EnvoyFilter's gRPC services name an authority: without one Envoy sends the cluster name, with its `|`
    characters, as the HTTP/2 :authority, which gRPC servers reject."""
    problems = []
    for patch in (envoy_filter.get("spec") or {}).get("configPatches") or []:
        for grpc in grpc_services((patch.get("patch") or {}).get("value")):
            cluster = str(grpc.get("cluster_name", grpc.get("clusterName", "")))
            authority = str(grpc.get("authority", ""))
            if not authority or "|" in authority:
                problems.append(f"{platform.describe(envoy_filter)}: envoy_grpc cluster {cluster!r} has no valid authority "
                                f"({authority or 'none'}); Envoy would send the cluster name as :authority, which HTTP/2 servers "
                                f"reject. Set authority to the service host ({outbound_cluster_service(cluster)[1] or '<host>'})")
    return problems


def _consumers(objects: list[dict], providers: Mapping[str, Mapping]) -> list[tuple[dict, str, str, str]]:
    """(object, what, service namespace, host) for each CUSTOM policy's provider and each EnvoyFilter's gRPC cluster."""
    found = []
    for policy in custom_policies(objects):
        provider = providers.get(_provider_name(policy))
        if provider is not None:  # an undeclared provider is providers_declared_problems' finding
            found.append((policy, f"provider {_provider_name(policy)!r}", *provider_service(provider)))
    for envoy_filter in (o for o in objects if o.get("kind") == "EnvoyFilter"):
        for patch in (envoy_filter.get("spec") or {}).get("configPatches") or []:
            for grpc in grpc_services((patch.get("patch") or {}).get("value")):
                cluster = str(grpc.get("cluster_name", grpc.get("clusterName", "")))
                namespace, host = outbound_cluster_service(cluster)
                if host:
                    found.append((envoy_filter, f"cluster {cluster!r}", namespace, host))
    return found


def services_reachable_problems(platform: RenderedPlatform) -> list[str]:
    """The service of every CUSTOM policy's provider and every EnvoyFilter gRPC cluster is imported by the Sidecar
    that applies in each namespace the object may select; EnvoyFilter gRPC services name a valid authority."""
    problems = []
    for cluster, objects, istiods in _clusters(platform):
        providers: dict[str, Mapping] = {}
        for release in istiods:
            providers.update(declared_providers(release.values))
        namespaces = [o for o in objects if o.get("kind") == "Namespace"]
        sidecars = {str(o["metadata"].get("namespace", "")): o for o in objects
                    if o.get("kind") == "Sidecar" and not (o.get("spec") or {}).get("workloadSelector")}
        for consumer, what, service_namespace, host in _consumers(objects, providers):
            for namespace in _scope_namespaces(consumer, namespaces):
                sidecar = sidecars.get(namespace) or sidecars.get(ROOT_NAMESPACE)
                if sidecar is None:
                    continue  # no Sidecar at all: the proxy imports every service
                hosts = [h for egress in (sidecar.get("spec") or {}).get("egress") or [] for h in egress.get("hosts") or []]
                if not sidecar_imports(hosts, str(sidecar["metadata"].get("namespace")), namespace, service_namespace, host):
                    problems.append(
                        f"{platform.describe(sidecar)}: cluster {cluster}: does not import {service_namespace or '*'}/{host}, the "
                        f"service of {what} that {platform.describe(consumer).split(': ', 1)[1]} uses in namespace {namespace}: "
                        "its proxies lack that cluster, so every check fails closed")
        for envoy_filter in (o for o in objects if o.get("kind") == "EnvoyFilter"):
            problems += envoyfilter_grpc_problems(platform, envoy_filter)
    return sorted(set(problems))
