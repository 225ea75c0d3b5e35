"""Per-cluster certificates and the multi-cluster mesh: CA modes × cluster counts × gateway layouts ×
engines all valid, each cross-cluster invariant caught when broken, and adding a cluster changes only
that cluster's files and the lists that name clusters."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from copier import run_update
from copier._types import VcsRef

from tests.conftest import REPO, copy_platform, git, init_repo
from istio_gitops_check import cross_cluster
from istio_gitops_check.platform_check import check, summary

sys.path.insert(0, str(REPO / "hooks"))
import cluster_certificates  # noqa: E402


MODES = ("cert-manager-issuer", "aws-pca", "vault", "istio-csr", "self-signed-dev")
THREE = [{"name": "eu-1", "network": "net-eu", "api_server": "https://api.eu-1.example.com:6443"}, {"name": "eu-2", "network": "net-eu", "api_server": "https://api.eu-2.example.com:6443"}, {"name": "us-1", "network": "net-us", "api_server": "https://api.us-1.example.com:6443"}]
CASES = [
    (mode, count, layout, engine)
    for mode in MODES
    for count in (1, 3)
    for layout in ("split", "single")
    for engine in ("argocd", "flux")
    if not (mode == "self-signed-dev" and count == 3)
]


def answers(mode: str, count: int, layout: str, engine: str) -> dict:
    data = {"ca_mode": mode, "gateway_layout": layout, "gitops_engine": engine}
    if count == 3:
        data |= {"clusters": THREE, "gateways_enabled": ["ingress", "egress", "eastwest"]}
    return data


@pytest.mark.parametrize("case", CASES, ids=["-".join(map(str, c)) for c in CASES])
def test_ca_mode_matrix(render, case) -> None:
    root = render(answers(*case))
    report = check(root)
    assert report.ok, summary(report)
    kinds = {k.split(" ")[1] for k in report.kinds if k.startswith(("cert-manager.io", "awspca", "external-secrets"))}
    mode, count = case[0], case[1]
    if mode != "istio-csr":
        assert "Certificate" in kinds
    if count == 3:
        assert "ExternalSecret" in kinds
    istiod = next(r for r in report.platform.helm_releases if r.chart == "istiod")
    assert (istiod.values.get("global", {}).get("caAddress") == "cert-manager-istio-csr.cert-manager.svc:443") == (mode == "istio-csr")


@pytest.fixture(scope="module")
def three(render) -> Path:
    return render(answers("vault", 3, "split", "argocd"))


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


BROKEN = {
    "mesh id": (lambda r: (r / "mesh/clusters/us-1/istiod.values.yaml").write_text(
        (r / "mesh/clusters/us-1/istiod.values.yaml").read_text() + "  meshID: other\n"), "disagree on global.meshID"),
    "unique names": (lambda r: _replace(r / "mesh/clusters/eu-2/istiod.values.yaml", "clusterName: eu-2", "clusterName: eu-1"), "cluster name 'eu-1' is used twice"),
    "network label": (lambda r: _replace(r / "mesh/clusters/us-1/istio-system/kustomization.yaml", "value: net-us", "value: net-eu"), "mesh/clusters/us-1/istio-system/kustomization.yaml: istio-system must carry"),
    "east-west network": (lambda r: _replace(r / "gateways/clusters/us-1/eastwest.values.yaml", "networkGateway: net-us", "networkGateway: net-eu"), "gateways/clusters/us-1/eastwest.values.yaml: networkGateway is"),
    "east-west present": (lambda r: (r / "gateways/clusters/eu-2/eastwest.values.yaml").unlink(), "gateways/clusters/eu-2/eastwest.values.yaml: the mesh spans 2 networks"),
    "cross-network selector": (lambda r: _replace(r / "gateways/base/istio-eastwest/cross-network-gateway.yaml", "istio: eastwestgateway", "istio: eastwest"), "matches no east-west gateway"),
    # Different issuers are one root only through the pinned root (mesh_trust.py checks that); without it, not.
    "one root": (lambda r: (_replace(r / "mesh/clusters/eu-2/certificates/istiod-intermediate-ca.yaml", "name: istio-vault", "name: other-ca"),
                            (r / "mesh/trust/root-ca.pem").unlink()), "no single root of trust"),
    "trust domain": (lambda r: _replace(r / "mesh/clusters/eu-1/certificates/istiod-intermediate-ca.yaml", "spiffe://cluster.local/", "spiffe://other.local/"), "outside trust domain cluster.local"),
    "remote secrets": (lambda r: _replace(r / "mesh/clusters/eu-1/remote-secrets/remote-secrets.yaml", "networking.istio.io/cluster: us-1", "networking.istio.io/cluster: ap-1"), "mesh/clusters/eu-1/remote-secrets/remote-secrets.yaml: remote secrets cover"),
}


def test_invariants_hold_on_the_render(three) -> None:
    assert cross_cluster.problems(three) == []


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_invariant_catches_its_break(three, editable_copy, name: str) -> None:
    root = editable_copy(three)
    breakage, expected = BROKEN[name]
    breakage(root)
    found = cross_cluster.problems(root)
    assert any(expected in p for p in found), found
    assert not check(root).ok


def test_self_signed_dev_across_clusters_is_caught(render, editable_copy) -> None:
    root = editable_copy(render(answers("self-signed-dev", 1, "split", "argocd")))
    certificate = root / "mesh/clusters/cluster-1/certificates/istiod-intermediate-ca.yaml"
    second = root / "mesh/clusters/cluster-2"
    import shutil
    shutil.copytree(root / "mesh/clusters/cluster-1", second)
    _replace(second / "istiod.values.yaml", "clusterName: cluster-1", "clusterName: cluster-2")
    assert certificate.exists()
    assert any("self-signed development root" in p for p in cross_cluster.problems(root))


@pytest.mark.parametrize(
    ("data", "question", "message"),
    [
        ({"ca_mode": "self-signed-dev", "clusters": THREE, "gateways_enabled": ["eastwest"]}, "clusters", "self-signed-dev CA gives every cluster its own root"),
        ({"ca_mode": "aws-pca", "ca_aws_pca_arn": "arn:aws:iam::1:role/x"}, "ca_aws_pca_arn", "use the CA's ARN"),
        ({"ca_mode": "vault", "ca_vault_server": "http://vault:8200"}, "ca_vault_server", "use an https:// URL"),
        ({"clusters": [{"name": "a", "network": "n", "api_server": "https://api.a.example.com:6443"}, {"name": "a", "network": "n", "api_server": "https://api.a.example.com:6443"}]}, "clusters", "listed twice"),
    ],
)
def test_invariants_enforced_before_writing(template_snapshot: Path, tmp_path: Path, data: dict, question: str, message: str) -> None:
    with pytest.raises(Exception) as caught:
        copy_platform(template_snapshot, tmp_path / "p", data)
    assert f"Validation error for question '{question}'" in str(caught.value) and message in str(caught.value)
    assert not (tmp_path / "p").exists() or not any((tmp_path / "p").iterdir())


HOOK_INPUT = {"platform_name": "core", "trust_domain": "corp.example", "mesh_id": "m", "ca_mode": "aws-pca",
              "ca_aws_pca_arn": "arn:aws:acm-pca:us-east-2:111122223333:certificate-authority/abc-123", "clusters": ["a", "b"]}


def test_certificate_hook_is_a_pure_function() -> None:
    first = cluster_certificates.certificate_files(dict(HOOK_INPUT))
    assert first == cluster_certificates.certificate_files(dict(HOOK_INPUT))
    assert sorted(first) == sorted([f"mesh/clusters/{c}/certificates/{f}" for c in ("a", "b")
                                    for f in ("ca-issuer-policy.yaml", "issuer.yaml", "istiod-intermediate-ca.yaml", "kustomization.yaml")]
                                   + [f"mesh/clusters/{c}/remote-secrets/{f}" for c in ("a", "b")
                                      for f in ("kustomization.yaml", "push-remote-secret.yaml", "remote-secrets.yaml")])
    certificate = first["mesh/clusters/a/certificates/istiod-intermediate-ca.yaml"]
    for expected in ("secretName: cacerts", "isCA: true", "- spiffe://corp.example/ns/istio-system/sa/istiod", "duration: 8760h",
                     "renewBefore: 720h", "rotationPolicy: Always", "kind: AWSPCAClusterIssuer", "commonName: istiod a intermediate CA"):
        assert expected in certificate
    assert "region: us-east-2" in first["mesh/clusters/a/certificates/issuer.yaml"]
    assert not any("BEGIN" in text for text in first.values())
    with pytest.raises(ValueError, match="ca_mode"):
        cluster_certificates.certificate_files({**HOOK_INPUT, "ca_mode": "magic"})


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_adding_a_cluster_changes_only_its_files_and_cluster_lists(template_snapshot: Path, tmp_path: Path, engine: str) -> None:
    two = [{"name": "eu-1", "network": "net", "api_server": "https://api.eu-1.example.com:6443"}, {"name": "eu-2", "network": "net", "api_server": "https://api.eu-2.example.com:6443"}]
    project = copy_platform(template_snapshot, tmp_path / "platform", {"clusters": two, "gitops_engine": engine})
    init_repo(project, "two clusters")
    run_update(project, data={"clusters": [*two, {"name": "eu-3", "network": "net", "api_server": "https://api.eu-3.example.com:6443"}]}, defaults=True, overwrite=True,
               unsafe=True, quiet=True, vcs_ref=VcsRef.CURRENT)
    status = [(line[:2], line[3:]) for line in git(project, "status", "--porcelain", "--untracked-files=all").splitlines()]
    added = {path for code, path in status if code == "??"}
    modified = {path for code, path in status if code != "??"}
    assert added and all("/eu-3/" in path or path.startswith("tenants/eu-3/") for path in added), added
    cluster_lists = {".copier-answers.yml", "README.md", "mesh/clusters/eu-1/remote-secrets/remote-secrets.yaml",
                     "mesh/clusters/eu-2/remote-secrets/remote-secrets.yaml"}
    cluster_lists |= {f"docs/{page}.md" for page in ("bootstrap", "certificates", "clusters", "onboard-team", "upgrade-istio", "verify")}
    if engine == "argocd":
        cluster_lists |= {f"argocd/project-{p}.yaml" for p in ("mesh", "cni", "gateways", "gateway-namespaces", "apps", "remote-secrets", "addons")} | {"argocd/root-applications.yaml"}
    assert modified <= cluster_lists, modified - cluster_lists
    report = check(project)
    assert report.ok, summary(report)
