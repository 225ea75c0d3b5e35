"""Each guardrail passes on the rendered default and catches the bad case it exists for."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from istio_gitops_check import guardrails, rendered_platform
from istio_gitops_check.platform_check import check, problem


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


HEADER = guardrails.HEADER + "\n"
ISTIOD_VALUES = "mesh/revisions/1-31-1/istiod.values.yaml"
CONFIG_KUSTOMIZATION = "mesh/base/istio-config/kustomization.yaml"
INGRESS = "gateways/base/istio-ingress"
EASTWEST_VALUES = "gateways/clusters/cluster-1/eastwest.values.yaml"


def add_resource(root: Path, directory: str, name: str, manifest: str) -> None:
    (root / directory / name).write_text(HEADER + manifest)
    replace(root / directory / "kustomization.yaml", "resources:\n", f"resources:\n  - {name}\n")


BREAKAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "builds cleanly": (lambda r: append(r / CONFIG_KUSTOMIZATION, "  - missing.yaml\n"), "missing.yaml"),
    "istiod sets root namespace and mesh identity": (
        lambda r: replace(r / ISTIOD_VALUES, "rootNamespace: istio-config", "rootNamespace: istio-system"),
        "meshConfig.rootNamespace is 'istio-system'",
    ),
    "mesh identity consistent": (
        lambda r: append(r / "mesh/clusters/cluster-2/istiod.values.yaml", "  meshID: other\n"),
        "disagree on global.meshID",
    ),
    "istio-system holds only istiod": (
        lambda r: add_resource(
            r, "mesh/base/istio-system", "config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: istio-system\n"
        ),
        "ConfigMap istio-system/x: only istiod lives in istio-system",
    ),
    "EnvoyFilters only in istio-config": (
        lambda r: add_resource(
            r,
            INGRESS,
            "filter.yaml",
            "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: f\n  namespace: istio-ingress\n"
            "spec:\n  configPatches: []\n",
        ),
        "EnvoyFilter istio-ingress/f: EnvoyFilters belong in istio-config only",
    ),
    "STRICT mTLS by default": (
        lambda r: replace(r / "mesh/base/istio-config/peer-authentication-default.yaml", "mode: STRICT", "mode: PERMISSIVE"),
        "no mesh-wide STRICT PeerAuthentication",
    ),
    "default Sidecar limits egress": (
        lambda r: replace(r / "mesh/base/istio-config/sidecar-default.yaml", '"./*"', '"*/*"'),
        "imports everything",
    ),
    "Gateway hosts namespace-scoped": (
        lambda r: replace(r / "gateways/base/istio-egress/egress-gateway.yaml", '"./api.github.com"', '"api.github.com"'),
        "host 'api.github.com' accepts VirtualServices from every namespace",
    ),
    "gateways outside istio-system": (
        lambda r: replace(r / "clusters/cluster-1/gateways.yaml", "namespace: istio-ingress\n  sources", "namespace: istio-system\n  sources"),
        "gateway release istio-ingressgateway must not run in istio-system",
    ),
    "no key material": (
        lambda r: (r / "mesh/ca.pem").write_text(HEADER + "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"),
        "mesh/ca.pem: contains a PEM private key or token",
    ),
    "admitted by the platform's policies": (
        lambda r: add_resource(
            r, "apps/base/example/workloads", "exposed.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: exposed\n  namespace: example\nspec:\n  type: LoadBalancer\n"
            "  ports:\n    - port: 80\n",
        ),
        "admission policy services-exposed-only-by-gateways denies it",
    ),
    "no YAML anchors": (
        lambda r: replace(r / ISTIOD_VALUES, "meshConfig:\n", "meshConfig: &mesh\n"),
        "YAML anchor or alias 'mesh'",
    ),
    "files carry the header": (lambda r: replace(r / ISTIOD_VALUES, HEADER, ""), f"{ISTIOD_VALUES}: first line"),
    "no orphan manifests": (
        lambda r: (r / INGRESS / "stray.yaml").write_text(HEADER + "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stray\n"),
        "ConfigMap stray is in no kustomization",
    ),
    "Argo CD projects confine applications": (
        lambda r: add_resource(
            r, "apps/base/example/workloads", "role.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: escalate\nrules: []\n"
        ),
        "project platform-apps does not allow ClusterRole escalate",
    ),
    "Argo CD sync order": (
        lambda r: replace(r / "clusters/cluster-1/istiod.yaml", 'sync-wave: "3"', 'sync-wave: "9"'),
        "istiod (wave 9) must sync before revision-tags",
    ),
    "Argo CD parents delete their children": (
        lambda r: replace(r / "argocd/root-applications.yaml", "  finalizers:\n    - resources-finalizer.argocd.argoproj.io\n", ""),
        "Application platform-cluster-1 renders Applications but lacks the resources-finalizer.argocd.argoproj.io finalizer",
    ),
    "every entry point is synced": (
        lambda r: (r / "apps/clusters/cluster-1/forgotten").mkdir()
        or (r / "apps/clusters/cluster-1/forgotten/kustomization.yaml").write_text(
            HEADER + "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"
        ),
        "apps/clusters/cluster-1/forgotten: no Application or Flux Kustomization syncs this kustomization",
    ),
    "Flux Kustomizations well formed": (
        lambda r: replace(r / "clusters/cluster-1/mesh-config.yaml", "  timeout: 10m\n", ""),
        "Kustomization flux-system/mesh-config: spec.timeout is not set",
    ),
    "Flux install order": (
        lambda r: replace(r / "clusters/cluster-1/mesh-config.yaml", "    - name: istio-ingress\n", ""),
        "Kustomization mesh-config must depend on istio-ingress",
    ),
    "Flux HelmReleases remediate": (
        lambda r: replace(r / "flux/releases/istio-base/helm-release.yaml", "crds: CreateReplace", "crds: Skip"),
        "HelmRelease istio-base: install.crds must be CreateReplace",
    ),
    "Flux controllers locked down": (
        lambda r: replace(r / "clusters/cluster-1/flux-system/kustomization.yaml", "value: --default-service-account=flux", "value: --log-level=debug"),
        "kustomize-controller lacks --default-service-account=flux",
    ),
    "tenants confined": (
        lambda r: add_resource(
            r,
            "flux/tenants/example",
            "escalation.yaml",
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: reach\n  namespace: istio-config\n"
            "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: edit\n"
            "subjects:\n  - kind: ServiceAccount\n    name: flux\n    namespace: example\n",
        ),
        "reaches namespace istio-config",
    ),
    "revision tags consistent": (
        lambda r: replace(r / "mesh/istio-base.values.yaml", "defaultRevision: 1-31-1", "defaultRevision: 1-30-4"),
        "base defaultRevision '1-30-4' is not an installed revision",
    ),
    "revision labels resolve": (
        lambda r: replace(r / "apps/base/example/namespace/namespace.yaml", "istio.io/rev: prod-stable", "istio-injection: enabled"),
        "uses istio-injection",
    ),
    "cross-cluster invariants": (
        lambda r: replace(r / "mesh/clusters/cluster-1/istiod.values.yaml", "clusterName: cluster-1", "clusterName: cluster-2"),
        "mesh/clusters/cluster-1/istiod.values.yaml: clusterName is 'cluster-2'",
    ),
    "Pod Security enforced": (
        lambda r: replace(r / "gateways/namespaces/istio-ingress/namespace.yaml",
                          "pod-security.kubernetes.io/enforce: restricted", "pod-security.kubernetes.io/enforce: privileged"),
        "Namespace istio-ingress: Pod Security privileged hands pods the node",
    ),
    "istio-cni runs alone": (
        lambda r: replace(r / ISTIOD_VALUES, "cni:\n  enabled: true", "cni:\n  enabled: false"),
        "does not set cni.enabled",
    ),
    "charts pinned": (
        lambda r: replace(r / "clusters/cluster-1/istio-base.yaml", "targetRevision: 1.31.1", "targetRevision: 1.31.*"),
        "is not an exact release",
    ),
    "CUSTOM authorization providers declared": (
        lambda r: replace(r / ISTIOD_VALUES, "    - name: external-authz\n", "    - name: other-authz\n"),
        "provider 'external-authz' is not in meshConfig.extensionProviders of revision(s) 1-31-1",
    ),
    "ext_authz services reachable": (
        lambda r: replace(r / "mesh/base/istio-config/sidecar-default.yaml", '        - "ext-authz/ext-authz.ext-authz.svc.cluster.local"\n', ""),
        "Sidecar istio-config/default: cluster cluster-1: does not import ext-authz/ext-authz.ext-authz.svc.cluster.local",
    ),
    "values leave chart-written labels to the chart": (
        lambda r: append(r / EASTWEST_VALUES, "labels:\n  topology.istio.io/network: network-1\n"),
        f'{EASTWEST_VALUES}: labels["topology.istio.io/network"]: the gateway chart 1.31.1 writes this label itself from networkGateway',
    ),
    "gateway Services select gateway pods": (
        lambda r: replace(r / "gateways/revisions/prod-stable/ingress.values.yaml", "service:\n  type: LoadBalancer",
                          "service:\n  selectorLabels:\n    version: v2\n  type: LoadBalancer"),
        "Service istio-ingress/istio-ingressgateway (Application cluster-1-istio-ingress) selects {'app': 'istio-ingressgateway', "
        "'istio': 'ingressgateway', 'version': 'v2'}, which no gateway release's pods carry",
    ),
    "one root pinned": (
        lambda r: replace(r / ISTIOD_VALUES, "  caCertificates:", "  caCertificatesDropped:"),
        "istiod istiod-1-31-1 on cluster-1 pins no root",
    ),
    "istio-csr matches each cluster": (
        lambda r: replace(r / "addons/clusters/cluster-1/cert-manager-istio-csr.values.yaml", "clusterID: cluster-1", "clusterID: Kubernetes"),
        "app.server.clusterID is 'Kubernetes' on cluster-1",
    ),
    "remote secrets declared": (
        lambda r: replace(r / "mesh/clusters/cluster-2/remote-secrets/push-remote-secret.yaml", "remote-secrets/cluster-2", "remote-secrets/other"),
        "as cluster-2's remote secret, but nobody pushes it",
    ),
}


TWO_CLUSTERS = {"clusters": [{"name": "cluster-1", "network": "n", "api_server": "https://api.cluster-1.example.com:6443"}, {"name": "cluster-2", "network": "n", "api_server": "https://api.cluster-2.example.com:6443"}]}
FLUX = {"gitops_engine": "flux"}
EXTERNAL_AUTHZ = {"external_authz_service": "ext-authz.ext-authz.svc.cluster.local:9000"}
TWO_NETWORKS = {
    "gateways_enabled": ["ingress", "egress", "eastwest"],
    "clusters": [{"name": "cluster-1", "network": "network-1", "api_server": "https://api.cluster-1.example.com:6443"}, {"name": "cluster-2", "network": "network-2", "api_server": "https://api.cluster-2.example.com:6443"}],
}
ISTIO_CSR_MESH = {
    "ca_mode": "istio-csr", "gateways_enabled": ["ingress", "egress", "eastwest"],
    "clusters": [{"name": "cluster-1", "network": "network-1", "api_server": "https://api.cluster-1.example:6443"},
                 {"name": "cluster-2", "network": "network-2", "api_server": "https://api.cluster-2.example"}],
    "mesh_root_ca_pem": (Path(__file__).parent / "fixtures/mesh-root-ca.pem").read_text(),
}
ANSWERS = {
    "one root pinned": ISTIO_CSR_MESH,
    "istio-csr matches each cluster": ISTIO_CSR_MESH,
    "remote secrets declared": ISTIO_CSR_MESH,
    "values leave chart-written labels to the chart": TWO_NETWORKS,
    "mesh identity consistent": TWO_CLUSTERS,
    "CUSTOM authorization providers declared": EXTERNAL_AUTHZ,
    "ext_authz services reachable": EXTERNAL_AUTHZ,
    "Flux Kustomizations well formed": FLUX,
    "Flux install order": FLUX,
    "Flux HelmReleases remediate": FLUX,
    "Flux controllers locked down": FLUX,
    "tenants confined": FLUX,
}


def test_every_guardrail_has_a_breaking_case() -> None:
    assert set(BREAKAGES) == set(guardrails.GUARDRAILS)


@pytest.mark.parametrize("name", sorted(guardrails.GUARDRAILS))
def test_guardrail_catches_its_bad_case(name: str, render, editable_copy) -> None:
    answers = ANSWERS.get(name, {})
    pristine = rendered_platform.load(render(answers))
    assert guardrails.GUARDRAILS[name](pristine) == [], "passes on the unbroken render"
    root = editable_copy(render(answers))
    breakage, expected = BREAKAGES[name]
    breakage(root)
    found = guardrails.GUARDRAILS[name](rendered_platform.load(root))
    assert any(expected in problem for problem in found), found
    named = [problem(name, text).file.split(":")[0] for text in found]
    assert all((root / path.split(", ")[0]).exists() for path in named), f"every problem names a file of the repo: {found}"


def test_only_the_pinned_roots_may_appear_as_certificates(render, editable_copy) -> None:
    """A certificate is public, yet the repo holds only the pinned roots: any other one (a leaf, an intermediate,
    another root) means certificates are being hand-managed in Git."""
    from conftest import MESH_ROOT_PEM

    fixtures = Path(__file__).resolve().parent / "fixtures"
    repo = editable_copy(render({"clusters": [{"name": "a", "network": "n", "api_server": "https://api.a.example.com"},
                                              {"name": "b", "network": "n", "api_server": "https://api.b.example.com"}]}))
    assert MESH_ROOT_PEM.split("\n")[1] in (repo / ".copier-answers.yml").read_text().replace(" ", "")
    assert guardrails.no_key_material(rendered_platform.load(repo)) == [], "the pinned root wherever it is written"
    (repo / "mesh/ca.pem").write_text(HEADER + (fixtures / "second-mesh-root-ca.pem").read_text())
    found = guardrails.no_key_material(rendered_platform.load(repo))
    assert found == ["mesh/ca.pem: contains a certificate that is not the mesh's pinned root (mesh/trust/root-ca.pem); "
                     "only the public root may live in Git"], found
    (repo / "mesh/ca.pem").write_text(HEADER + MESH_ROOT_PEM)
    assert guardrails.no_key_material(rendered_platform.load(repo)) == []


def test_pod_security_needs_the_label_on_every_namespace(render, editable_copy) -> None:
    root = editable_copy(render({}))
    replace(root / "apps/base/example/namespace/namespace.yaml", "    pod-security.kubernetes.io/enforce: restricted\n", "")
    found = guardrails.pod_security_enforced(rendered_platform.load(root))
    assert any("Namespace example: no pod-security.kubernetes.io/enforce label" in p for p in found), found


def test_istio_cni_namespace_holds_nothing_else(render, editable_copy) -> None:
    root = editable_copy(render({}))
    add_resource(root, "mesh/base/istio-cni", "config.yaml",
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: istio-cni\n")
    found = guardrails.istio_cni_runs_alone(rendered_platform.load(root))
    assert any("ConfigMap istio-cni/x: istio-cni is privileged for istio-cni and must hold nothing else" in p for p in found), found


def test_istiod_expecting_cni_without_the_node_agent_is_caught(render, editable_copy) -> None:
    root = editable_copy(render({}))
    replace(root / "clusters/cluster-1/kustomization.yaml", "  - istio-cni.yaml\n", "")
    found = guardrails.istio_cni_runs_alone(rendered_platform.load(root))
    assert any("expects the istio-cni node agent, which cluster cluster-1 does not install" in p for p in found), found


def test_argocd_project_rejects_envoyfilter_for_service_owners(render, editable_copy) -> None:
    root = editable_copy(render({}))
    add_resource(
        root,
        "apps/base/example/workloads",
        "filter.yaml",
        "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: f\n  namespace: example\nspec:\n  configPatches: []\n",
    )
    found = guardrails.argocd_projects_confine_applications(rendered_platform.load(root))
    assert any("does not allow EnvoyFilter example/f" in p for p in found), found


def test_typo_in_values_file_fails_the_platform_check(render, editable_copy) -> None:
    root = editable_copy(render({}))
    replace(root / ISTIOD_VALUES, "autoscaleMin:", "autoscaleMinimum:")
    replace(root / "gateways/revisions/prod-stable/ingress.values.yaml", "minReplicas:", "minReplica:")
    problems = check(root).values_problems
    assert any("autoscaleMinimum: unknown key" in p for p in problems), problems
    assert any("minReplica" in p for p in problems), problems


def test_typo_in_rendered_objects_fails_strict_validation(render, editable_copy) -> None:
    root = editable_copy(render({}))
    replace(root / "mesh/base/istio-config/sidecar-default.yaml", "  egress:", "  egres:")
    replace(root / "clusters/cluster-1/mesh-config.yaml", "  project:", "  projekt:")
    replace(root / "mesh/base/istio-config/namespace.yaml", "  labels:", "  lables:")
    problems = "\n".join(check(root).schema_problems)
    assert "spec.egres: unknown field" in problems
    assert "spec.projekt: unknown field" in problems
    assert "lables" in problems


def test_yamllint_problems_fail_the_platform_check(render, editable_copy) -> None:
    root = editable_copy(render({}))
    append(root / ISTIOD_VALUES, "trailing: spaces   \n")
    assert any("trailing-spaces" in p for p in check(root).yamllint_problems)
