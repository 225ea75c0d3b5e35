"""The certificates hook per CA mode: istio-csr's intermediate and Issuer, the pinned root, Vault's token-request
RBAC, and each cluster's declared remote secret (token request + PushSecret of an istioctl-shaped kubeconfig)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "hooks"))
sys.path.insert(0, str(REPO / "extensions"))
import cluster_certificates  # noqa: E402
from root_certificate import normalized_pem, pem_certificates  # noqa: E402

ROOT_PEM = (REPO / "tests/fixtures/mesh-root-ca.pem").read_text()
SECOND_ROOT_PEM = (REPO / "tests/fixtures/second-mesh-root-ca.pem").read_text()
CLUSTERS = [{"name": "a", "network": "n1", "api_server": "https://api.a.example:6443"},
            {"name": "b", "network": "n2", "api_server": "https://api.b.example"}]
ANSWERS = {"platform_name": "core", "trust_domain": "corp.example", "mesh_id": "m", "ca_issuer_name": "pki-intermediates",
           "ca_vault_server": "https://vault.example:8200", "ca_vault_pki_path": "pki_int/root/sign-intermediate",
           "ca_vault_role": "istio", "remote_secret_store": "store", "clusters": CLUSTERS, "mesh_root_ca_pem": ROOT_PEM}


def files(mode: str, **extra) -> dict[str, str]:
    return cluster_certificates.certificate_files({**ANSWERS, "ca_mode": mode, **extra})


def docs(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]


def test_istio_csr_gets_an_intermediate_per_cluster_and_the_issuer_istio_csr_signs_with() -> None:
    out = files("istio-csr")
    for cluster in ("a", "b"):
        folder = f"mesh/clusters/{cluster}/certificates"
        certificate, issuer = docs(out[f"{folder}/istio-csr-ca.yaml"])
        assert certificate["metadata"] == {"name": "istio-csr-intermediate-ca", "namespace": "istio-system"}
        assert certificate["spec"]["isCA"] is True and certificate["spec"]["secretName"] == "istio-csr-ca"
        assert certificate["spec"]["issuerRef"] == {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "pki-intermediates"}
        assert issuer == {"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
                          "metadata": {"name": "istio-csr-ca", "namespace": "istio-system"}, "spec": {"ca": {"secretName": "istio-csr-ca"}}}
        assert f"{folder}/istiod-intermediate-ca.yaml" not in out, "istiod's own CA is off: no cacerts"
        policy = docs(out[f"{folder}/ca-issuer-policy.yaml"])[0]
        assert "'pki-intermediates'" in policy["spec"]["validations"][0]["expression"], "only istio-system may use the PKI issuer"
        assert docs(out[f"{folder}/kustomization.yaml"])[0]["resources"] == ["istio-csr-ca.yaml", "mesh-root-ca.yaml", "ca-issuer-policy.yaml"]


def test_the_pinned_root_reaches_istio_csr_under_a_stable_name() -> None:
    out = files("istio-csr", mesh_root_ca_pem=ROOT_PEM + SECOND_ROOT_PEM)
    config_map = docs(out["mesh/clusters/a/certificates/mesh-root-ca.yaml"])[0]
    assert config_map["metadata"] == {"name": "istio-mesh-root-ca", "namespace": "cert-manager"}
    assert config_map["data"] == {"root-ca.pem": normalized_pem(ROOT_PEM + SECOND_ROOT_PEM)}
    assert out["mesh/trust/root-ca.pem"] == cluster_certificates.HEADER + normalized_pem(ROOT_PEM + SECOND_ROOT_PEM)
    assert len(pem_certificates(normalized_pem(ROOT_PEM + SECOND_ROOT_PEM))) == 2


def test_without_a_pinned_root_nothing_pretends_to_pin_one() -> None:
    out = files("istio-csr", clusters=CLUSTERS[:1], mesh_root_ca_pem="")
    assert "mesh/trust/root-ca.pem" not in out and "mesh/clusters/a/certificates/mesh-root-ca.yaml" not in out
    assert "mesh/clusters/a/certificates/mesh-root-ca.yaml" not in files("cert-manager-issuer"), "only istio-csr reads the ConfigMap"


def test_vault_lets_cert_manager_request_exactly_one_token() -> None:
    out = files("vault")
    issuer = docs(out["mesh/clusters/a/certificates/issuer.yaml"])[0]
    assert issuer["metadata"]["name"] == "istio-vault"
    assert issuer["spec"]["vault"]["auth"]["kubernetes"]["serviceAccountRef"] == {"name": "istio-vault-issuer"}
    account, role, binding = docs(out["mesh/clusters/a/certificates/vault-token-request.yaml"])
    assert account["kind"] == "ServiceAccount" and account["metadata"] == {"name": "istio-vault-issuer", "namespace": "cert-manager"}
    assert role["metadata"]["namespace"] == "cert-manager"
    assert role["rules"] == [{"apiGroups": [""], "resources": ["serviceaccounts/token"], "resourceNames": ["istio-vault-issuer"], "verbs": ["create"]}]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role["metadata"]["name"]}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "cert-manager", "namespace": "cert-manager"}]
    assert "vault-token-request.yaml" in docs(out["mesh/clusters/a/certificates/kustomization.yaml"])[0]["resources"]


def _kubeconfig(template: str) -> dict:
    """The kubeconfig external-secrets would render from the reader token Secret (fake token and CA)."""
    rendered = template.replace('{{ index . "ca.crt" | b64enc }}', "Q0E=").replace("{{ .token }}", "tok")
    assert "{{" not in rendered, rendered
    return yaml.safe_load(rendered)


@pytest.mark.parametrize("mode", ["aws-pca", "istio-csr"])
def test_each_cluster_declares_the_remote_secret_its_peers_pull(mode: str) -> None:
    out = files(mode, ca_aws_pca_arn="arn:aws:acm-pca:us-east-2:111122223333:certificate-authority/abc-123")
    for cluster in CLUSTERS:
        name = cluster["name"]
        folder = f"mesh/clusters/{name}/remote-secrets"
        token, push = docs(out[f"{folder}/push-remote-secret.yaml"])
        assert token == {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
                         "metadata": {"name": "istio-reader-service-account-token", "namespace": "istio-system",
                                      "annotations": {"kubernetes.io/service-account.name": "istio-reader-service-account"}}}
        spec = push["spec"]
        assert push["apiVersion"] == "external-secrets.io/v1alpha1" and spec["selector"] == {"secret": {"name": token["metadata"]["name"]}}
        assert spec["secretStoreRefs"] == [{"kind": "ClusterSecretStore", "name": "store"}] and spec["deletionPolicy"] == "Delete"
        assert spec["data"] == [{"match": {"secretKey": name, "remoteRef": {"remoteKey": f"istio/m/remote-secrets/{name}"}}}]
        kubeconfig = _kubeconfig(spec["template"]["data"][name])
        # istioctl create-remote-secret: cluster, context and user all carry the cluster's name.
        assert kubeconfig["current-context"] == name
        assert kubeconfig["clusters"] == [{"name": name, "cluster": {"server": cluster["api_server"], "certificate-authority-data": "Q0E="}}]
        assert kubeconfig["contexts"] == [{"name": name, "context": {"cluster": name, "user": name}}]
        assert kubeconfig["users"] == [{"name": name, "user": {"token": "tok"}}]
        for peer in (c["name"] for c in CLUSTERS if c["name"] != name):
            pulls = docs(out[f"mesh/clusters/{peer}/remote-secrets/remote-secrets.yaml"])
            assert [p["spec"]["data"] for p in pulls] == [[{"secretKey": name, "remoteRef": {"key": f"istio/m/remote-secrets/{name}"}}]]
            assert pulls[0]["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "store"}
        assert docs(out[f"{folder}/kustomization.yaml"])[0]["resources"] == ["push-remote-secret.yaml", "remote-secrets.yaml"]


def test_one_cluster_declares_no_remote_secret() -> None:
    out = files("cert-manager-issuer", clusters=CLUSTERS[:1])
    assert not any("remote-secrets" in path for path in out)


def test_no_private_key_or_token_is_ever_written() -> None:
    for mode in ("aws-pca", "vault", "cert-manager-issuer", "istio-csr"):
        for text in files(mode, ca_aws_pca_arn="arn:aws:acm-pca:us-east-2:111122223333:certificate-authority/abc-123").values():
            assert "PRIVATE KEY" not in text and not re.search(r"\beyJ", text)
            assert set(re.findall(r"-----BEGIN ([A-Z ]+)-----", text)) <= {"CERTIFICATE"}
