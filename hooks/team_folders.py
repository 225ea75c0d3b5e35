"""Generate one app team's folders in a platform repo (copier task of the team scope).

    python hooks/team_folders.py '<json: {"platform": <platform answers>, "team": <team answers>}>'

Writes, under the current directory only:
- teams/<team>/: per namespace a kustomize base and per-cluster overlays, split into
  `namespace/` (Namespace labelled istio.io/rev=<tag>, the owners' Role and RoleBinding, the
  namespace-default Sidecar limited to the declared egress hosts, default-deny and allow
  AuthorizationPolicies; reconciled with platform rights) and `workloads/` (the team's own).
- tenants/<cluster>/<team>/: the engine wiring for that cluster (Argo CD Applications, or a Flux
  tenant ServiceAccount, Role, GitRepository and Kustomization), picked up by the platform's
  per-cluster `teams` sync without editing any shared file.
- tenants/projects/<team>.yaml (Argo CD): the team's AppProjects.
- gateways/requests/<team>/: VirtualServices for the hosts the team asked to expose, in the
  network owners' folder.
Nothing shared: not CODEOWNERS, so onboarding pull requests made in parallel merge with a plain `git merge`.
The generated repo's scripts/codeowners.py (run by its CI bot) adds the team's CODEOWNERS line afterwards and
never rewrites a line that exists.
Deterministic and idempotent: the same JSON always writes the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "extensions"))
from git_urls import flux_git_url  # noqa: E402
from mesh_model import external_authz, gateway_namespace, host_slug  # noqa: E402
from persona_permissions import rbac_rules, service_owner_kinds  # noqa: E402
from team_checks import platform_snapshot  # noqa: E402
from team_update_index import restore_index  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from manifest_files import kustomization, manifest, write_files  # noqa: E402

EGRESS_ANNOTATION_PREFIX = "egress.istio-gitops-template/"
# Team pods run unprivileged: istio-cni sets up their traffic redirection, so the injected proxy needs no
# NET_ADMIN init container. A workload that needs more is a cluster admins' decision in the namespace file.
POD_SECURITY_RESTRICTED = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn", "audit")}
MESH_WIDE_ISTIO_KINDS = (
    ("networking.istio.io", "EnvoyFilter"),
    ("networking.istio.io", "Gateway"),
    ("networking.istio.io", "ServiceEntry"),
    ("networking.istio.io", "WorkloadEntry"),
    ("networking.istio.io", "WorkloadGroup"),
    ("networking.istio.io", "ProxyConfig"),
    ("extensions.istio.io", "WasmPlugin"),
)


def _platform(platform: dict) -> dict:
    """Platform answers with the defaults of questions that were not asked."""
    return {
        "platform_name": platform.get("platform_name", "platform"),
        "gitops_engine": platform.get("gitops_engine", "argocd"),
        "git_repo_url": platform.get("git_repo_url", ""),
        "git_branch": platform.get("git_branch", "main"),
        "argocd_namespace": platform.get("argocd_namespace", "argocd"),
        "gateway_layout": platform.get("gateway_layout", "split"),
        "gateways_enabled": platform.get("gateways_enabled", []),
        "trust_domain": platform.get("trust_domain", "cluster.local"),
        "external_authz_service": platform.get("external_authz_service", ""),
    }


def egress_gateway_service(egress_ns: str) -> str:
    return f"istio-egressgateway.{egress_ns}.svc.cluster.local"


def egress_request_files(platform: dict, team: dict) -> dict[str, str]:
    """The team's ALLOW policy at the egress gateway: its namespaces, its declared hosts (by the SNI the
    sidecars' mTLS carries), nothing else. Network owners review it (gateways/requests/)."""
    if not team.get("egress_hosts"):
        return {}
    egress_ns = gateway_namespace("egress", platform["gateway_layout"])
    policy = {
        "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
        "metadata": {"name": f"egress-{team['name']}", "namespace": egress_ns,
                     "labels": {"istio-gitops-template/team": team["name"]}},
        "spec": {"selector": {"matchLabels": {"istio": "egressgateway"}}, "action": "ALLOW",
                 "rules": [{"from": [{"source": {"namespaces": list(team["namespaces"])}}],
                            "when": [{"key": "connection.sni", "values": list(team["egress_hosts"])}]}]},
    }
    folder = f"gateways/requests/{team['name']}/egress"
    return {f"{folder}/kustomization.yaml": kustomization(["authorization-policy.yaml"]),
            f"{folder}/authorization-policy.yaml": manifest(policy)}


def egress_annotation(host: str) -> str:
    """The namespace annotation declaring one egress host: a valid annotation name (63 characters at most, a
    digest keeps long or wildcard hosts distinct)."""
    name = re.sub(r"[^a-z0-9-]+", "-", host_slug(host)).strip("-")
    if len(name) > 63 or name != host_slug(host):
        name = f"{name[:54].strip('-')}-{hashlib.sha256(host.encode()).hexdigest()[:8]}"
    return EGRESS_ANNOTATION_PREFIX + name


def egress_network_policy(namespace: str, egress_ns: str, cross_network: bool = False, authz_ns: str = "") -> dict[str, Any]:
    """The backstop behind the egress allow-list (Istio's egress guide): pods reach only mesh namespaces, istiod,
    the egress gateway and DNS, so traffic that escapes the proxy cannot leave the cluster. A mesh spanning
    networks also reaches the other networks' east-west gateways, whose addresses live outside the cluster: only
    their mTLS port 15443 is opened for that. The external authorization service's namespace is reachable too
    (the proxy calls it), whether or not it is in the mesh."""
    cross = [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 15443}]}] if cross_network else []
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "egress-stays-in-the-mesh", "namespace": namespace},
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {"to": [{"namespaceSelector": {"matchExpressions": [{"key": "istio.io/rev", "operator": "Exists"}]}},
                        {"namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In",
                                                                     "values": sorted({"istio-system", egress_ns, authz_ns} - {""})}]}}]},
                {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                         "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                 "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
                *cross,
            ],
        },
    }


def namespace_files(platform: dict, team: dict, namespace: str) -> dict[str, str]:
    base = f"teams/{team['name']}/base/{namespace}"
    labels = {"app.kubernetes.io/part-of": platform["platform_name"], "istio-gitops-template/team": team["name"]}
    egress_ns = gateway_namespace("egress", platform["gateway_layout"])
    # What the admission policy team-sidecars-keep-declared-egress lets this namespace's Sidecars import: the
    # declared hosts, and the egress gateway's Service they are reached through.
    declared_egress = {egress_annotation(host): f"{egress_ns}/{host}" for host in team.get("egress_hosts", [])}
    if declared_egress:
        declared_egress[f"{EGRESS_ANNOTATION_PREFIX}egress-gateway"] = f"{egress_ns}/{egress_gateway_service(egress_ns)}"
    authz = external_authz(platform["external_authz_service"])
    # The CUSTOM policy's ext_authz filter names the service's outbound cluster: the proxy needs it imported.
    hosts = ["./*", "istio-system/*"] + ([str(authz["sidecar_host"])] if authz else []) + list(declared_egress.values())
    policies = [
        {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
         "metadata": {"name": "default-deny", "namespace": namespace}, "spec": {}},
        {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
         "metadata": {"name": "allow-same-namespace", "namespace": namespace},
         "spec": {"action": "ALLOW", "rules": [{"from": [{"source": {"namespaces": [namespace]}}]}]}},
    ]
    if "ingress" in platform["gateways_enabled"]:
        ingress_ns = gateway_namespace("ingress", platform["gateway_layout"])
        principal = f"{platform['trust_domain']}/ns/{ingress_ns}/sa/istio-ingressgateway"
        policies.append({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                         "metadata": {"name": "allow-ingress-gateway", "namespace": namespace},
                         "spec": {"action": "ALLOW", "rules": [{"from": [{"source": {"principals": [principal]}}]}]}})
    return {
        f"{base}/namespace/kustomization.yaml": kustomization(
            ["namespace.yaml", "rbac.yaml", "sidecar.yaml", "authorization-policies.yaml", "network-policy.yaml"]),
        f"{base}/namespace/namespace.yaml": manifest({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": namespace, "labels": {**labels, **POD_SECURITY_RESTRICTED, "istio.io/rev": team["revision_tag"]},
                         **({"annotations": declared_egress} if declared_egress else {})}}),
        f"{base}/namespace/rbac.yaml": manifest(
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
             "metadata": {"name": "team-owners", "namespace": namespace}, "rules": rbac_rules(service_owner_kinds())},
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
             "metadata": {"name": "team-owners", "namespace": namespace},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "team-owners"},
             "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": team["owners_group"]}]}),
        f"{base}/namespace/sidecar.yaml": manifest({
            "apiVersion": "networking.istio.io/v1", "kind": "Sidecar",
            "metadata": {"name": "default", "namespace": namespace}, "spec": {"egress": [{"hosts": hosts}]}}),
        f"{base}/namespace/authorization-policies.yaml": manifest(*policies),
        f"{base}/namespace/network-policy.yaml": manifest(
            egress_network_policy(namespace, egress_ns, "eastwest" in platform["gateways_enabled"], str(authz.get("namespace", "")))),
        f"{base}/workloads/kustomization.yaml": kustomization([]),
    }


def overlay_files(team: dict, cluster: str, namespace: str) -> dict[str, str]:
    overlay = f"teams/{team['name']}/clusters/{cluster}/{namespace}"
    return {
        f"{overlay}/{part}/kustomization.yaml": kustomization([f"../../../../base/{namespace}/{part}"])
        for part in ("namespace", "workloads")
    }


def ingress_request_files(platform: dict, team: dict) -> dict[str, str]:
    routes = team.get("ingress_routes", [])
    if not routes:
        return {}
    ingress_ns = gateway_namespace("ingress", platform["gateway_layout"])
    services = []
    for route in routes:
        namespace = route.get("namespace", team["namespaces"][0])
        services.append({
            "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": f"{team['name']}-{host_slug(route['host'])}", "namespace": ingress_ns,
                         "labels": {"istio-gitops-template/team": team["name"]}},
            "spec": {"hosts": [route["host"]], "gateways": ["ingress"],
                     "http": [{"route": [{"destination": {"host": f"{route['service']}.{namespace}.svc.cluster.local",
                                                          "port": {"number": route["port"]}}}]}]},
        })
    folder = f"gateways/requests/{team['name']}"
    return {f"{folder}/kustomization.yaml": kustomization(["virtual-services.yaml"]),
            f"{folder}/virtual-services.yaml": manifest(*services)}


def _app(platform: dict, name: str, project: str, cluster: str, namespace: str, path: str, wave: int) -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": platform["argocd_namespace"],
                     "labels": {"app.kubernetes.io/part-of": platform["platform_name"], "istio-gitops-template/cluster": cluster},
                     "annotations": {"argocd.argoproj.io/sync-wave": str(wave)},
                     "finalizers": ["resources-finalizer.argocd.argoproj.io"]},
        "spec": {"project": project, "destination": {"name": cluster, "namespace": namespace},
                 "source": {"repoURL": platform["git_repo_url"], "targetRevision": platform["git_branch"], "path": path},
                 "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["PruneLast=true"]}},
    }


def _project(platform: dict, team: str, name: str, description: str, destinations: list[dict], cluster_kinds: list[tuple[str, str]],
             namespace_kinds: list[tuple[str, str]], blacklist: list[tuple[str, str]], group: str | None) -> dict:
    spec: dict[str, Any] = {
        "description": description,
        "sourceRepos": [platform["git_repo_url"]],
        "destinations": destinations,
        "clusterResourceWhitelist": [{"group": g, "kind": k} for g, k in cluster_kinds],
        "namespaceResourceWhitelist": [{"group": g, "kind": k} for g, k in namespace_kinds],
    }
    if blacklist:
        spec["namespaceResourceBlacklist"] = [{"group": g, "kind": k} for g, k in blacklist]
    if group:
        spec["roles"] = [{"name": "owners", "groups": [group], "policies": [
            f"p, proj:{name}:owners, applications, {verb}, {name}/*, allow" for verb in ("get", "sync")]}]
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
            "metadata": {"name": name, "namespace": platform["argocd_namespace"],
                         "labels": {"app.kubernetes.io/part-of": platform["platform_name"], "istio-gitops-template/team": team}},
            "spec": spec}


def argocd_files(platform: dict, team: dict) -> dict[str, str]:
    name = team["name"]
    destinations = [{"name": c, "namespace": ns} for c in team["clusters"] for ns in team["namespaces"]]
    owners = _project(platform, name, f"team-{name}", f"Team {name}: workloads and workload-level Istio config in its own namespaces",
                      destinations, [], [(k["group"], k["kind"]) for k in service_owner_kinds()], list(MESH_WIDE_ISTIO_KINDS),
                      team["owners_group"])
    platform_side = _project(platform, name, f"team-{name}-namespaces",
                             f"Cluster admins: team {name}'s namespaces, RBAC, Sidecar and authorization defaults",
                             destinations, [("", "Namespace")],
                             [("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "RoleBinding"),
                              ("networking.istio.io", "Sidecar"), ("security.istio.io", "AuthorizationPolicy"),
                              ("networking.k8s.io", "NetworkPolicy")],
                             list(MESH_WIDE_ISTIO_KINDS), None)
    files = {f"tenants/projects/{name}.yaml": manifest(owners, platform_side)}
    ingress_ns = gateway_namespace("ingress", platform["gateway_layout"])
    for cluster in team["clusters"]:
        apps = []
        for ns in team["namespaces"]:
            overlay = f"teams/{name}/clusters/{cluster}/{ns}"
            apps.append(_app(platform, f"{cluster}-{name}-{ns}-namespace", f"team-{name}-namespaces", cluster, ns, f"{overlay}/namespace", 6))
            apps.append(_app(platform, f"{cluster}-{name}-{ns}", f"team-{name}", cluster, ns, f"{overlay}/workloads", 7))
        if team.get("ingress_routes"):
            apps.append(_app(platform, f"{cluster}-{name}-ingress", f"{platform['platform_name']}-gateways", cluster,
                             ingress_ns, f"gateways/requests/{name}", 7))
        if team.get("egress_hosts"):
            apps.append(_app(platform, f"{cluster}-{name}-egress", f"{platform['platform_name']}-gateways", cluster,
                             gateway_namespace("egress", platform["gateway_layout"]), f"gateways/requests/{name}/egress", 7))
        files[f"tenants/{cluster}/{name}/applications.yaml"] = manifest(*apps)
    return files


def network_owners_unit(name: str, namespace: str, path: str) -> dict[str, Any]:
    """A Flux Kustomization for a folder the network owners own (gateways/requests/): it runs in the gateway
    namespace as their service account (flux/clusters/<c>/gateway-namespaces), never as kustomize-controller."""
    return {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"serviceAccountName": "network-owners", "targetNamespace": namespace, "interval": "10m",
                     "retryInterval": "2m", "timeout": "5m", "prune": True, "wait": False,
                     "sourceRef": {"kind": "GitRepository", "name": "platform"}, "path": f"./{path}"}}


def flux_files(platform: dict, team: dict) -> dict[str, str]:
    name = team["name"]
    files = {}
    for cluster in team["clusters"]:
        documents = []
        for ns in team["namespaces"]:
            documents += [
                {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "flux", "namespace": ns}},
                {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                 "metadata": {"name": "flux-tenant", "namespace": ns}, "rules": rbac_rules(service_owner_kinds())},
                {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                 "metadata": {"name": "flux-tenant", "namespace": ns},
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "flux-tenant"},
                 "subjects": [{"kind": "ServiceAccount", "name": "flux", "namespace": ns}]},
                {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
                 "metadata": {"name": name, "namespace": ns},
                 "spec": {"url": flux_git_url(platform["git_repo_url"]), "ref": {"branch": platform["git_branch"]}, "interval": "5m"}},
                {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                 "metadata": {"name": name, "namespace": ns},
                 "spec": {"serviceAccountName": "flux", "targetNamespace": ns, "interval": "10m", "retryInterval": "2m",
                          "timeout": "5m", "prune": True, "wait": False,
                          "sourceRef": {"kind": "GitRepository", "name": name},
                          "path": f"./teams/{name}/clusters/{cluster}/{ns}/workloads"}},
            ]
        if team.get("ingress_routes"):
            documents.append(network_owners_unit(f"requests-{name}", gateway_namespace("ingress", platform["gateway_layout"]),
                                                 f"gateways/requests/{name}"))
        if team.get("egress_hosts"):
            documents.append(network_owners_unit(f"egress-{name}", gateway_namespace("egress", platform["gateway_layout"]),
                                                 f"gateways/requests/{name}/egress"))
        resources = [f"../../../teams/{name}/clusters/{cluster}/{ns}/namespace" for ns in team["namespaces"]]
        resources.append("tenant.yaml")
        folder = f"tenants/{cluster}/{name}"
        files[f"{folder}/kustomization.yaml"] = kustomization(
            resources, labels=[{"pairs": {"toolkit.fluxcd.io/tenant": name}, "includeSelectors": False}])
        files[f"{folder}/tenant.yaml"] = manifest(*documents)
    return files


def team_files(platform_answers: dict, team: dict) -> dict[str, str]:
    """Every file the team scope owns, as {path relative to the repo: content}."""
    platform = _platform(platform_answers)
    files: dict[str, str] = {}
    for namespace in team["namespaces"]:
        files |= namespace_files(platform, team, namespace)
        for cluster in team["clusters"]:
            files |= overlay_files(team, cluster, namespace)
    files |= ingress_request_files(platform, team)
    files |= egress_request_files(platform, team)
    files |= argocd_files(platform, team) if platform["gitops_engine"] == "argocd" else flux_files(platform, team)
    return dict(sorted(files.items()))


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "--snapshot":
        answers = yaml.safe_load(Path(argv[1]).read_text()) or {}
        print(json.dumps(platform_snapshot(answers), sort_keys=True))
        return 0
    if len(argv) != 1:
        print("usage: team_folders.py '<json with platform and team answers>' | --snapshot .copier-answers.yml", file=sys.stderr)
        return 2
    data = json.loads(argv[0])
    platform, team = data["platform"], data["team"]
    root = Path.cwd()
    restore_index(root, os.getppid())  # copier has taken its update snapshot (extensions/team_update_index.py)
    write_files(root, team_files(platform, team))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
