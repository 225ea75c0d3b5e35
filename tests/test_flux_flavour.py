"""The Flux flavour: tenant isolation judged with RBAC rules, what Flux adds on top of kustomize,
and one source of truth shared with the Argo CD flavour."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from git_urls import flux_git_url
from istio_gitops_check import rendered_platform
from istio_gitops_check.rbac_reach import can, grants

FLUX = {"gitops_engine": "flux"}
TENANT = ("example", "flux")


@pytest.fixture(scope="module")
def applied(render) -> list[dict]:
    platform = rendered_platform.load(render(FLUX))
    return [o for d in platform.entry_points for o in platform.builds[d]]


def test_tenant_kustomization_runs_as_tenant_account(applied) -> None:
    tenant = [o for o in applied if o["kind"] == "Kustomization" and o["metadata"]["namespace"] == "example"]
    assert len(tenant) == 1
    spec = tenant[0]["spec"]
    assert spec["serviceAccountName"] == "flux"
    assert spec["targetNamespace"] == "example"
    assert spec["path"] == "./apps/clusters/cluster-1/example/workloads", "postBuild.substitute resolved the cluster"
    assert spec["sourceRef"] == {"kind": "GitRepository", "name": "example"}, "same-namespace source (no cross-namespace refs)"


@pytest.mark.parametrize("resource", [("networking.istio.io", "virtualservices"), ("security.istio.io", "authorizationpolicies"), ("apps", "deployments")])
def test_tenant_manages_its_own_namespace(applied, resource) -> None:
    assert can(applied, TENANT, "create", *resource, "example")


@pytest.mark.parametrize("namespace", ["istio-system", "istio-config", "istio-ingress", "istio-egress", "flux-system", "default"])
def test_tenant_reaches_no_shared_namespace(applied, namespace: str) -> None:
    for group, resource in [("apps", "deployments"), ("", "configmaps"), ("networking.istio.io", "virtualservices")]:
        assert not can(applied, TENANT, "create", group, resource, namespace)
        assert not can(applied, TENANT, "get", group, resource, namespace)


@pytest.mark.parametrize(
    ("group", "resource", "namespace"),
    [
        ("networking.istio.io", "envoyfilters", "example"),
        ("networking.istio.io", "gateways", "example"),
        ("networking.istio.io", "serviceentries", "example"),
        ("rbac.authorization.k8s.io", "rolebindings", "example"),
        ("", "namespaces", ""),
        ("apiextensions.k8s.io", "customresourcedefinitions", ""),
    ],
)
def test_tenant_cannot_escalate(applied, group: str, resource: str, namespace: str) -> None:
    assert not can(applied, TENANT, "create", group, resource, namespace)


def test_rbac_reach_sees_cluster_role_bindings() -> None:
    objects = [
        {"kind": "ClusterRole", "metadata": {"name": "all"}, "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]},
        {"kind": "ClusterRoleBinding", "metadata": {"name": "oops"}, "roleRef": {"kind": "ClusterRole", "name": "all"},
         "subjects": [{"kind": "Group", "name": "system:serviceaccounts:example"}]},
    ]
    assert can(objects, TENANT, "create", "networking.istio.io", "envoyfilters", "istio-system")
    assert grants(objects, ("other", "flux")) == []


def test_flux_generated_kustomization_includes_manifests_and_subfolders(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "kustomization.yaml").write_text("resources: []\n")
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    (tmp_path / "values.yaml").write_text("replicas: 2\n")
    assert rendered_platform.flux_scan(tmp_path) == ["a.yaml", "deep/er/cm.yaml", "sub"]


def test_post_build_substitution() -> None:
    text = "path: ./apps/${cluster_name}/x\nother: ${missing:=fallback}\nkept: $${cluster_name}\nleft: ${unknown}\n"
    assert rendered_platform.substitute(text, {"cluster_name": "eu-1"}) == (
        "path: ./apps/eu-1/x\nother: fallback\nkept: $${cluster_name}\nleft: ${unknown}\n"
    )


def test_wiring_may_not_read_outside_the_repository(tmp_path: Path) -> None:
    directory = tmp_path / "repo" / "flux" / "x"
    directory.mkdir(parents=True)
    spec = {"resources": ["../../shared"], "configMapGenerator": [{"name": "v", "files": ["v.yaml=../../../../etc/passwd"]}]}
    assert rendered_platform.paths_escaping(directory, spec, tmp_path / "repo") == ["../../../../etc/passwd"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("git@github.com:org/platform.git", "ssh://git@github.com/org/platform.git"),
        ("https://github.com/org/platform.git", "https://github.com/org/platform.git"),
        ("ssh://git@host.example/org/platform.git", "ssh://git@host.example/org/platform.git"),
    ],
)
def test_flux_git_urls(url: str, expected: str) -> None:
    assert flux_git_url(url) == expected


ENGINE_SPECIFIC = ("argocd/", "flux/", "clusters/", "tenants/projects/")
# Rendered once from one template each, but naming engine-specific things: the README explains the
# engine, and the namespace policy (base and per-cluster patch) trusts the engine's own identity.
PER_ENGINE_TEXT = {"README.md", ".copier-answers.yml", "mesh/base/guardrails/namespace-revision-policy.yaml",
                   "mesh/clusters/a/istio-config/kustomization.yaml", "mesh/clusters/b/istio-config/kustomization.yaml"}
# The runbooks show each engine's commands.
PER_ENGINE_TEXT |= {f"docs/{page}.md" for page in ("bootstrap", "certificates", "clusters", "onboard-team", "upgrade-istio", "verify")}


def test_shared_files_are_identical_in_both_flavours(render) -> None:
    answers = {"gateways_enabled": ["ingress", "egress", "eastwest"], "clusters": [{"name": "a", "network": "n1", "api_server": "https://api.a.example.com:6443"}, {"name": "b", "network": "n2", "api_server": "https://api.b.example.com:6443"}]}
    argo, flux = render({**answers, "gitops_engine": "argocd"}), render({**answers, "gitops_engine": "flux"})
    files = {e: {p.relative_to(r).as_posix(): p.read_bytes() for p in r.rglob("*") if p.is_file()} for e, r in (("argo", argo), ("flux", flux))}
    shared = set(files["argo"]) & set(files["flux"])
    only = (set(files["argo"]) ^ set(files["flux"]))
    assert len(shared) > 30
    for path in sorted(shared - PER_ENGINE_TEXT):
        if not path.startswith(ENGINE_SPECIFIC):
            assert files["argo"][path] == files["flux"][path], f"{path} differs between flavours"
    engine_only = sorted(p for p in only if not p.startswith(ENGINE_SPECIFIC))
    assert engine_only == ["apps/clusters/a/example/kustomization.yaml", "apps/clusters/b/example/kustomization.yaml"]


def test_flux_values_come_from_the_same_files_argo_reads(render) -> None:
    root = render(FLUX)
    platform = rendered_platform.load(root)
    istiod = next(r for r in platform.helm_releases if r.chart == "istiod")
    revision_file = yaml.safe_load((root / "mesh/revisions/1-31-1/istiod.values.yaml").read_text())
    cluster_file = yaml.safe_load((root / "mesh/clusters/cluster-1/istiod.values.yaml").read_text())
    assert [values for _, values in istiod.value_sources] == [revision_file, cluster_file]
    assert istiod.values["meshConfig"]["rootNamespace"] == "istio-config"
