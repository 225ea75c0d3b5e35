"""One pinned root, istio-csr configured for each cluster, declared remote secrets: for every CA mode and engine on a
two-cluster, two-network repo, and each checker rule catching the case it exists for (mesh_trust.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from istio_gitops_check import cross_cluster, guardrails, mesh_trust, rendered_platform
from istio_gitops_check.platform_check import check, summary

REPO = Path(__file__).resolve().parent.parent
ROOT_PEM = (REPO / "tests/fixtures/mesh-root-ca.pem").read_text()
SECOND_ROOT_PEM = (REPO / "tests/fixtures/second-mesh-root-ca.pem").read_text()
CLUSTERS = [{"name": "cluster-1", "network": "network-1", "api_server": "https://api.cluster-1.example:6443"},
            {"name": "cluster-2", "network": "network-2", "api_server": "https://api.cluster-2.example"}]
MODES = ("cert-manager-issuer", "aws-pca", "vault", "istio-csr")  # self-signed-dev is refused with several clusters


def mesh(mode: str, engine: str) -> dict:
    return {"ca_mode": mode, "gitops_engine": engine, "clusters": CLUSTERS, "gateways_enabled": ["ingress", "egress", "eastwest"],
            "mesh_root_ca_pem": ROOT_PEM}


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def bodies(pem: str) -> frozenset[str]:
    return mesh_trust.certificate_bodies(pem)


@pytest.mark.parametrize("engine", ["argocd", "flux"])
@pytest.mark.parametrize("mode", MODES)
def test_every_ca_mode_pins_one_root_and_declares_remote_secrets(mode: str, engine: str, render) -> None:
    root = render(mesh(mode, engine))
    report = check(root)  # strict schemas for every Certificate, Issuer, PushSecret, ExternalSecret; every rule
    assert report.ok, summary(report)
    platform = report.platform or rendered_platform.load(root)
    istiods = [r for r in platform.helm_releases if r.chart == "istiod"]
    assert {r.cluster for r in istiods} == {"cluster-1", "cluster-2"}
    for release in istiods:
        values = release.values
        assert {frozenset(bodies(e["pem"])) for e in values["meshConfig"]["caCertificates"]} == {bodies(ROOT_PEM)}
        assert values["env"]["ISTIO_MULTIROOT_MESH"] == "true"
        assert values["meshConfig"]["defaultConfig"]["proxyMetadata"]["PROXY_CONFIG_XDS_AGENT"] == "true"
    assert bodies((root / "mesh/trust/root-ca.pem").read_text()) == bodies(ROOT_PEM)
    for rule in ("one root pinned", "istio-csr matches each cluster", "remote secrets declared"):
        assert guardrails.GUARDRAILS[rule](platform) == []
    for cluster in CLUSTERS:
        push = [d for d in documents(root / f"mesh/clusters/{cluster['name']}/remote-secrets/push-remote-secret.yaml") if d["kind"] == "PushSecret"]
        assert f"server: {cluster['api_server']}" in push[0]["spec"]["template"]["data"][cluster["name"]]
    istio_csr = root / "addons/cert-manager-istio-csr.values.yaml"
    assert istio_csr.exists() == (mode == "istio-csr")
    if mode == "istio-csr":
        for cluster in CLUSTERS:
            name = cluster["name"]
            values = rendered_platform.merge_values(documents(istio_csr)[0],
                                                    documents(root / f"addons/clusters/{name}/cert-manager-istio-csr.values.yaml")[0])
            app = values["app"]
            assert app["server"]["clusterID"] == name
            assert app["istio"]["revisions"] == sorted(r.values["revision"] for r in istiods if r.cluster == name)
            assert app["tls"]["trustDomain"] == "cluster.local"
            assert app["certmanager"] == {"namespace": "istio-system", "issuer": {"enabled": True, "name": "istio-csr-ca", "kind": "Issuer",
                                                                                  "group": "cert-manager.io"}}
            assert values["volumes"] == [{"name": "mesh-root-ca", "configMap": {"name": "istio-mesh-root-ca"}}]
            config_map = documents(root / f"mesh/clusters/{name}/certificates/mesh-root-ca.yaml")[0]
            assert bodies(config_map["data"]["root-ca.pem"]) == bodies(ROOT_PEM)
        for release in istiods:
            assert release.values["env"]["ENABLE_CA_SERVER"] == "false"
            assert release.values["global"]["caAddress"] == "cert-manager-istio-csr.cert-manager.svc:443"
    if engine == "argocd":
        project = documents(root / "argocd/project-remote-secrets.yaml")[0]["spec"]
        assert {(k["group"], k["kind"]) for k in project["namespaceResourceWhitelist"]} == {
            ("external-secrets.io", "ExternalSecret"), ("external-secrets.io", "PushSecret"), ("", "Secret")}
        mesh_project = documents(root / "argocd/project-mesh.yaml")[0]["spec"]
        writes_cert_manager = mode == "vault" or mode == "istio-csr"
        assert ("cert-manager" in {d["namespace"] for d in mesh_project["destinations"]}) == writes_cert_manager


def test_istio_csr_installed_elsewhere_gets_no_values_but_keeps_its_issuer_and_root(render) -> None:
    root = render({**mesh("istio-csr", "argocd"), "addons_installed_elsewhere": ["cert-manager-istio-csr"]})
    assert not (root / "addons/cert-manager-istio-csr.values.yaml").exists()
    assert not (root / "addons/clusters/cluster-1/cert-manager-istio-csr.values.yaml").exists()
    assert (root / "mesh/clusters/cluster-1/certificates/istio-csr-ca.yaml").exists()
    assert (root / "mesh/clusters/cluster-1/certificates/mesh-root-ca.yaml").exists()


def test_a_root_rotation_lists_both_roots_everywhere(render) -> None:
    root = render({**mesh("istio-csr", "flux"), "mesh_root_ca_pem": ROOT_PEM + SECOND_ROOT_PEM})
    report = check(root)
    assert report.ok, summary(report)
    values = yaml.safe_load((root / "mesh/revisions/1-31-1/istiod.values.yaml").read_text())
    assert [bodies(e["pem"]) for e in values["meshConfig"]["caCertificates"]] == [bodies(ROOT_PEM), bodies(SECOND_ROOT_PEM)]


def test_a_canary_revision_is_listed_for_istio_csr_with_its_istiod(render) -> None:
    root = render({**mesh("istio-csr", "flux"), "istio_versions": ["1.30.4", "1.31.1"]})
    values = yaml.safe_load((root / "addons/cert-manager-istio-csr.values.yaml").read_text())
    assert values["app"]["istio"]["revisions"] == ["1-30-4", "1-31-1"]
    platform = rendered_platform.load(root)
    assert mesh_trust.istio_csr_matches_each_cluster(platform) == [] and mesh_trust.one_root_pinned(platform) == []


# -- each rule catches its bad case ------------------------------------------------------------------

ISTIOD = "mesh/revisions/1-31-1/istiod.values.yaml"
FIRST_LINE = ROOT_PEM.splitlines()[1]
OTHER_FIRST_LINE = SECOND_ROOT_PEM.splitlines()[1]

BREAKAGES = {
    "istiod pins no root": (
        "one root pinned",
        lambda r: replace(r / ISTIOD, "  caCertificates:", "  caCertificatesDropped:"),
        f"{ISTIOD}, mesh/clusters/cluster-1/istiod.values.yaml: istiod istiod-1-31-1 on cluster-1 pins no root",
    ),
    "istiod pins another root": (
        "one root pinned",
        lambda r: replace(r / ISTIOD, f"        {FIRST_LINE}", f"        {OTHER_FIRST_LINE}"),
        "pins other roots than mesh/trust/root-ca.pem",
    ),
    "no root file with several clusters": (
        "one root pinned",
        lambda r: (r / "mesh/trust/root-ca.pem").unlink(),
        "mesh/trust/root-ca.pem: missing or empty",
    ),
    "istio-csr's root differs": (
        "one root pinned",
        lambda r: replace(r / "mesh/clusters/cluster-2/certificates/mesh-root-ca.yaml", f"    {FIRST_LINE}", f"    {OTHER_FIRST_LINE}"),
        "mesh/clusters/cluster-2/certificates/mesh-root-ca.yaml: istio-csr's root (istio-mesh-root-ca) differs",
    ),
    "istio-csr's root missing": (
        "one root pinned",
        lambda r: replace(r / "mesh/clusters/cluster-1/certificates/kustomization.yaml", "  - mesh-root-ca.yaml\n", ""),
        "mesh/clusters/cluster-1/certificates: no ConfigMap cert-manager/istio-mesh-root-ca",
    ),
    "istio-csr's default cluster ID": (
        "istio-csr matches each cluster",
        lambda r: replace(r / "addons/clusters/cluster-2/cert-manager-istio-csr.values.yaml", "clusterID: cluster-2", "clusterID: Kubernetes"),
        "app.server.clusterID is 'Kubernetes' on cluster-2",
    ),
    "istio-csr's default revisions": (
        "istio-csr matches each cluster",
        lambda r: replace(r / "addons/cert-manager-istio-csr.values.yaml", "      - 1-31-1", "      - default"),
        "app.istio.revisions ['default'] on cluster-1; the installed istiod revisions are ['1-31-1']",
    ),
    "istio-csr's trust domain": (
        "istio-csr matches each cluster",
        lambda r: replace(r / "addons/cert-manager-istio-csr.values.yaml", "trustDomain: cluster.local", "trustDomain: other.local"),
        "app.tls.trustDomain 'other.local' on cluster-1",
    ),
    "istio-csr's issuer undeclared": (
        "istio-csr matches each cluster",
        lambda r: replace(r / "addons/cert-manager-istio-csr.values.yaml", "name: istio-csr-ca", "name: istio-ca"),
        "istio-csr signs with Issuer istio-ca (istio-system), which mesh/clusters/cluster-1/certificates does not declare",
    ),
    "istio-csr's root unmounted": (
        "istio-csr matches each cluster",
        lambda r: replace(r / "addons/cert-manager-istio-csr.values.yaml", "name: istio-mesh-root-ca", "name: something-else"),
        "app.tls.rootCAFile /var/run/secrets/istio-csr/root-ca.pem is not mounted from ConfigMap istio-mesh-root-ca",
    ),
    "a cluster pushes to a key nobody pulls": (
        "remote secrets declared",
        lambda r: replace(r / "mesh/clusters/cluster-2/remote-secrets/push-remote-secret.yaml",
                          "remoteKey: istio/platform-mesh/remote-secrets/cluster-2", "remoteKey: istio/platform-mesh/remote-secrets/elsewhere"),
        "mesh/clusters/cluster-1/remote-secrets: pulls istio/platform-mesh/remote-secrets/cluster-2 from ClusterSecretStore "
        "istio-remote-secrets as cluster-2's remote secret, but nobody pushes it",
    ),
    "a cluster pushes to another store": (
        "remote secrets declared",
        lambda r: replace(r / "mesh/clusters/cluster-1/remote-secrets/push-remote-secret.yaml", "name: istio-remote-secrets", "name: other-store"),
        "but nobody pushes it",
    ),
    "a cluster pushes no remote secret": (
        "remote secrets declared",
        lambda r: replace(r / "mesh/clusters/cluster-1/remote-secrets/kustomization.yaml", "  - push-remote-secret.yaml\n", ""),
        "mesh/clusters/cluster-1/remote-secrets: cluster-1 pushes no remote secret",
    ),
    "a kubeconfig without a server": (
        "remote secrets declared",
        lambda r: replace(r / "mesh/clusters/cluster-1/remote-secrets/push-remote-secret.yaml",
                          "server: https://api.cluster-1.example:6443", "server: ''"),
        "the kubeconfig it pushes has no https:// server URL",
    ),
    "a kubeconfig for another API server": (
        "remote secrets declared",
        lambda r: replace(r / "mesh/clusters/cluster-1/remote-secrets/push-remote-secret.yaml",
                          "server: https://api.cluster-1.example:6443", "server: https://api.cluster-2.example"),
        "server https://api.cluster-2.example is not cluster-1's api_server https://api.cluster-1.example:6443",
    ),
    "two clusters push the same key": (
        "remote secrets declared",
        lambda r: replace(r / "mesh/clusters/cluster-2/remote-secrets/push-remote-secret.yaml",
                          "remoteKey: istio/platform-mesh/remote-secrets/cluster-2", "remoteKey: istio/platform-mesh/remote-secrets/cluster-1"),
        "cluster-1 already pushes istio/platform-mesh/remote-secrets/cluster-1 to ClusterSecretStore istio-remote-secrets",
    ),
    "the pushed key is not the cluster name": (
        "remote secrets declared",
        lambda r: replace(r / "mesh/clusters/cluster-1/remote-secrets/push-remote-secret.yaml", "secretKey: cluster-1", "secretKey: kubeconfig"),
        "pushes key 'kubeconfig'; istiod reads the remote secret's key as the cluster name 'cluster-1'",
    ),
}


@pytest.mark.parametrize("case", sorted(BREAKAGES))
def test_rule_catches(case: str, render, editable_copy) -> None:
    rule, breakage, expected = BREAKAGES[case]
    root = editable_copy(render(mesh("istio-csr", "argocd")))
    breakage(root)
    found = guardrails.GUARDRAILS[rule](rendered_platform.load(root))
    assert any(expected in problem for problem in found), found


def test_issuers_may_differ_per_cluster_only_under_a_pinned_root(render, editable_copy) -> None:
    """The cross-cluster check compares the pinned root by configuration, not issuer names; without a pinned root
    one issuer is still the only sign of one root."""
    root = editable_copy(render(mesh("cert-manager-issuer", "argocd")))
    replace(root / "mesh/clusters/cluster-2/certificates/istiod-intermediate-ca.yaml", "name: istio-intermediate-ca", "name: us-intermediates")
    assert not any("different issuers" in p for p in cross_cluster.problems(root))
    (root / "mesh/trust/root-ca.pem").unlink()
    assert any("intermediates come from different issuers and no root is pinned" in p for p in cross_cluster.problems(root))


def test_the_certificates_unit_writes_only_cert_manager_inputs_into_cert_manager(render, editable_copy) -> None:
    """Argo CD projects cannot scope kinds per namespace: the mesh project lists cert-manager as a destination for
    the Vault token RBAC and istio-csr's root, and the check refuses every other kind the unit would put there."""
    root = editable_copy(render(mesh("vault", "argocd")))
    folder = root / "mesh/clusters/cluster-1/certificates"
    (folder / "extra.yaml").write_text(guardrails.HEADER + "\napiVersion: v1\nkind: Service\nmetadata:\n  name: x\n"
                                       "  namespace: cert-manager\nspec:\n  ports:\n    - port: 80\n")
    replace(folder / "kustomization.yaml", "resources:\n", "resources:\n  - extra.yaml\n")
    found = guardrails.argocd_projects_confine_applications(rendered_platform.load(root))
    assert found == ["clusters/cluster-1/mesh-certificates.yaml: Application cluster-1-mesh-certificates: "
                     "Service cert-manager/x lies outside its destination namespace"], found


# -- Secrets and certificates in Git ----------------------------------------------------------------

TOKEN_REQUEST = "mesh/clusters/cluster-1/remote-secrets/push-remote-secret.yaml"


def _key_material(root: Path) -> list[str]:
    return guardrails.no_key_material(rendered_platform.load(root))


def test_the_token_request_is_the_only_secret_git_may_hold(render, editable_copy) -> None:
    root = editable_copy(render(mesh("vault", "flux")))
    assert _key_material(root) == []
    replace(root / TOKEN_REQUEST, "type: kubernetes.io/service-account-token\n",
            "type: kubernetes.io/service-account-token\ndata:\n  token: dG9rZW4=\n")
    found = _key_material(root)
    assert any("Secret istio-system/istio-reader-service-account-token: Secrets never live in Git" in p for p in found), found
    assert any(p.startswith(f"{TOKEN_REQUEST}: declares a Secret") for p in found), found
    replace(root / TOKEN_REQUEST, "type: kubernetes.io/service-account-token\ndata:\n  token: dG9rZW4=\n", "type: Opaque\n")
    assert any("Secrets never live in Git" in p for p in _key_material(root))


def test_only_the_pinned_root_and_never_a_private_key(render, editable_copy) -> None:
    root = editable_copy(render(mesh("aws-pca", "argocd")))
    (root / "mesh/trust/extra.pem").write_text(SECOND_ROOT_PEM)
    (root / "mesh/trust/key.pem").write_text("-----BEGIN EC PRIVATE KEY-----\nMHc=\n-----END EC PRIVATE KEY-----\n")
    found = _key_material(root)
    assert any(p.startswith("mesh/trust/extra.pem: contains a certificate that is not the mesh's pinned root") for p in found), found
    assert any(p.startswith("mesh/trust/key.pem: contains a PEM private key") for p in found), found
    assert not any(p.startswith(("mesh/trust/root-ca.pem", ISTIOD, ".copier-answers.yml")) for p in found), found
