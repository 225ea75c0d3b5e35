"""Which paths of a platform repo the template or its hooks write: those files carry the template's header line
(guardrail "files carry the header"); a file you add anywhere else needs none.

One pattern per generated file, `*` standing for one path segment (a cluster, team, namespace, revision or
gateway name) or part of one. tests/unit/test_generated_paths.py keeps this list equal to the template: every
file of template/, every file the hooks write, and every file of the rendered repos matches a pattern; a
file you add next to them (a workload, an extra manifest in a gateway or mesh folder) matches none.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from functools import lru_cache

_ARGOCD_PROJECTS = ("addons", "apps", "cni", "gateway-namespaces", "gateways", "gitops", "mesh", "remote-secrets")

GENERATED_PATHS: tuple[str, ...] = (
    # Repository files
    ".gitattributes", ".gitignore", ".pre-commit-config.yaml", ".yamllint.yaml", "CODEOWNERS", "README.md",
    "renovate.json5", ".gitlab-ci.yml", ".github/workflows/platform-bots.yml", ".github/workflows/platform-check.yml",
    "scripts/check.py", "scripts/codeowners.py",
    # The runbooks (a page you add next to them is yours)
    *(f"docs/{page}.md" for page in ("bootstrap", "certificates", "clusters", "onboard-team", "upgrade-istio", "verify")),
    # The example app
    "apps/base/example/namespace/kustomization.yaml", "apps/base/example/namespace/namespace.yaml",
    "apps/base/example/workloads/authorization-policy.yaml", "apps/base/example/workloads/kustomization.yaml",
    "apps/clusters/*/example/kustomization.yaml", "apps/clusters/*/example/namespace/kustomization.yaml",
    "apps/clusters/*/example/workloads/kustomization.yaml",
    # Engine entry points per cluster
    *(f"clusters/*/{name}.yaml" for name in ("addons", "apps-example", "gateways", "istio-base", "istio-cni", "istio-control-plane",
                                             "istio-revision-tags", "istiod", "kustomization", "mesh-certificates",
                                             "mesh-config", "remote-secrets", "teams", "tenants")),
    "clusters/*/flux-system/kustomization.yaml",
    # Argo CD
    "argocd/kustomization.yaml", "argocd/root-applications.yaml", *(f"argocd/project-{p}.yaml" for p in _ARGOCD_PROJECTS),
    # Flux
    "flux/clusters/*/*/kustomization.yaml", "flux/clusters/*/gateway-namespaces/network-owners.yaml",
    "flux/releases/kustomizeconfig.yaml", "flux/releases/*/helm-release.yaml", "flux/releases/*/kustomization.yaml",
    "flux/releases/*/helm-repository.yaml",
    *(f"flux/tenants/example/{name}.yaml" for name in ("kustomization", "role-binding", "role", "service-account", "sync")),
    # Gateways
    *(f"gateways/base/*/{name}.yaml" for name in ("cross-network-gateway", "egress-allowlist", "egress-gateway",
                                                  "ingress-gateway", "kustomization")),
    "gateways/clusters/*/eastwest.values.yaml", "gateways/clusters/*/*/kustomization.yaml",
    *(f"gateways/namespaces/*/{name}.yaml" for name in ("gateway-secrets-rbac", "kustomization", "namespace", "rbac")),
    "gateways/revisions/*/eastwest.values.yaml", "gateways/revisions/*/egress.values.yaml",
    "gateways/revisions/*/ingress.values.yaml",
    "gateways/requests/README.md",
    "gateways/services/*/*/kustomization.yaml", "gateways/services/*/*/services.yaml",
    # Add-ons
    "addons/*.values.yaml", "addons/base/*/kustomization.yaml", "addons/base/*/namespace.yaml",
    "addons/clusters/*/*/kustomization.yaml", "addons/clusters/*/cert-manager-istio-csr.values.yaml",
    # Mesh
    "mesh/istio-base.values.yaml", "mesh/istio-cni.values.yaml", "mesh/revisions/*/istiod.values.yaml",
    "mesh/revision-tags/kustomization.yaml", "mesh/revision-tags/revision-tags.yaml",
    *(f"mesh/base/guardrails/{name}.yaml" for name in ("envoyfilter-policy", "kustomization", "mesh-bypass-policy",
                                                       "mesh-security-policy", "namespace-revision-policy",
                                                       "persona-cluster-roles")),
    "mesh/base/istio-cni/kustomization.yaml", "mesh/base/istio-cni/namespace.yaml",
    *(f"mesh/base/istio-config/{name}.yaml" for name in ("authorization-policy-external-authz", "kustomization", "namespace",
                                                         "peer-authentication-default", "rbac", "sidecar-default")),
    "mesh/base/istio-system/kustomization.yaml", "mesh/base/istio-system/namespace.yaml",
    "mesh/clusters/*/istio-cni.values.yaml", "mesh/clusters/*/istiod.values.yaml",
    "mesh/clusters/*/istio-cni/kustomization.yaml", "mesh/clusters/*/istio-config/kustomization.yaml",
    "mesh/clusters/*/istio-system/kustomization.yaml",
    # hooks/cluster_certificates.py
    *(f"mesh/clusters/*/certificates/{name}.yaml" for name in ("ca-issuer-policy", "issuer", "istio-csr-ca", "istiod-intermediate-ca",
                                                               "kustomization", "mesh-root-ca", "vault-token-request")),
    "mesh/clusters/*/remote-secrets/kustomization.yaml", "mesh/clusters/*/remote-secrets/push-remote-secret.yaml",
    "mesh/clusters/*/remote-secrets/remote-secrets.yaml", "mesh/trust/root-ca.pem",
    # istio-csr's values (the add-on releases read them)
    "addons/cert-manager-istio-csr.values.yaml", "addons/clusters/*/cert-manager-istio-csr.values.yaml",
    # Tenants (README per cluster) and hooks/team_folders.py (one team's files)
    "tenants/*/README.md", "tenants/projects/README.md", "tenants/projects/*.yaml",
    "tenants/*/*/applications.yaml", "tenants/*/*/kustomization.yaml", "tenants/*/*/tenant.yaml",
    *(f"teams/*/base/*/namespace/{name}.yaml" for name in ("authorization-policies", "kustomization", "namespace",
                                                           "network-policy", "rbac", "sidecar")),
    "teams/*/base/*/workloads/kustomization.yaml",
    "teams/*/clusters/*/*/namespace/kustomization.yaml", "teams/*/clusters/*/*/workloads/kustomization.yaml",
    "gateways/requests/*/kustomization.yaml", "gateways/requests/*/virtual-services.yaml",
    "gateways/requests/*/egress/kustomization.yaml", "gateways/requests/*/egress/authorization-policy.yaml",
)


@lru_cache(maxsize=None)
def _by_depth() -> dict[int, tuple[tuple[str, ...], ...]]:
    depths: dict[int, list[tuple[str, ...]]] = {}
    for pattern in GENERATED_PATHS:
        segments = tuple(pattern.split("/"))
        depths.setdefault(len(segments), []).append(segments)
    return {depth: tuple(patterns) for depth, patterns in depths.items()}


def matches(path: str, pattern: str) -> bool:
    """`path` (repository-relative, `/`-separated) matches `pattern`, `*` never crossing a `/`."""
    segments, wanted = path.split("/"), pattern.split("/")
    return len(segments) == len(wanted) and all(fnmatchcase(s, w) for s, w in zip(segments, wanted))


def is_generated(path: str) -> bool:
    """Whether the template or one of its hooks writes a file at this repository-relative path."""
    segments = path.split("/")
    return any(all(fnmatchcase(s, w) for s, w in zip(segments, pattern)) for pattern in _by_depth().get(len(segments), ()))
