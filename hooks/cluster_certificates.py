"""Generate each cluster's certificate configuration (copier task of the platform scope).

    python hooks/cluster_certificates.py '<json: platform answers>'

Per cluster, under mesh/clusters/<cluster>/certificates/ (its own unit, after Istio's CRDs and before istiod,
which needs `cacerts`; never in the unit that installs the base chart, so a missing cert-manager CRD cannot
stop Istio's own CRDs):
- the cert-manager `Certificate` for istiod's intermediate CA, written to the `cacerts` secret in
  the kubernetes.io/tls layout istiod reads, with CN and SPIFFE URI SAN from the trust domain and
  cluster, production duration/renewBefore, ECDSA P-256 and a new key on every renewal;
- the issuer the mode needs (AWS Private CA, Vault with the RBAC that lets cert-manager request its
  service account's token, a self-signed development root) or none (an issuer you already run);
- in the istio-csr mode, instead of `cacerts`: the cluster's intermediate `istio-csr-ca` (secret of that name)
  and the CA Issuer `istio-csr-ca` istio-csr signs with, both in istio-system, and, with a pinned root, the
  ConfigMap `istio-mesh-root-ca` in cert-manager that istio-csr mounts as its root CA file (a stable name: the
  istio-csr values name it, and the kubelet updates the mounted file in place, which istio-csr watches, so
  a root rotation reaches istio-csr without a restart);
and, with several clusters, under mesh/clusters/<cluster>/remote-secrets/ (its own unit, after istiod,
pruned, last: an ExternalSecret is not Ready until its peer has joined, and nothing may wait for that):
- the token Secret of istio-reader-service-account (no data: Kubernetes' token controller fills it), and a
  PushSecret that writes Istio's remote secret for this cluster (a kubeconfig for its API server, in the shape
  `istioctl create-remote-secret` writes) to the secret store;
- one ExternalSecret per peer cluster pulling the peer's remote secret from the store.
A removed cluster's remote secrets leave its peers' folders, and the pruning unit deletes them.
No key or token is ever written: cert-manager and external-secrets create them in the cluster; the only
certificate is the public root the answers pin. Deterministic: the same answers always give the same bytes.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from manifest_files import HEADER, kustomization, manifest, write_files  # noqa: E402
from root_certificate import normalized_pem  # noqa: E402  (extensions/, on the path manifest_files sets)

CA_MODES = ("aws-pca", "vault", "cert-manager-issuer", "istio-csr", "self-signed-dev")
DURATION, RENEW_BEFORE = "8760h", "720h"
DEV_ROOT = "istio-dev-root-ca"
NOT_FOR_PRODUCTION = {"istio-gitops-template/not-for-production": "self-signed development CA; use a real PKI in production"}
REMOTE_SECRETS_FOLDER = "mesh/clusters/{cluster}/remote-secrets"
ISTIO_CSR_CA = "istio-csr-ca"  # the intermediate's secret and the CA Issuer istio-csr signs with (istio-system)
MESH_ROOT_CONFIGMAP = "istio-mesh-root-ca"  # the pinned root istio-csr mounts (namespace cert-manager)
MESH_ROOT_KEY = "root-ca.pem"
MESH_ROOT_FILE = "mesh/trust/root-ca.pem"  # the pinned root(s), for people and scripts (PEM allows text around blocks)
VAULT_ISSUER = "istio-vault"
VAULT_SERVICE_ACCOUNT = "istio-vault-issuer"  # cert-manager requests this account's token (audience vault://istio-vault)
CERT_MANAGER = {"namespace": "cert-manager", "service_account": "cert-manager"}
READER_ACCOUNT = "istio-reader-service-account"  # rendered by Istio's base chart; the istiod chart binds its ClusterRole
READER_TOKEN = "istio-reader-service-account-token"
ARN = re.compile(r"arn:aws[a-z-]*:acm-pca:(?P<region>[a-z0-9-]+):[0-9]{12}:certificate-authority/[0-9a-f-]+")


def issuer_ref(answers: dict) -> dict:
    """The issuer every cluster's intermediate is signed by (one root of trust for the mesh)."""
    mode = answers["ca_mode"]
    if mode == "aws-pca":
        return {"group": "awspca.cert-manager.io", "kind": "AWSPCAClusterIssuer", "name": "istio-aws-pca"}
    if mode == "vault":
        return {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": VAULT_ISSUER}
    if mode == "self-signed-dev":
        return {"group": "cert-manager.io", "kind": "Issuer", "name": DEV_ROOT}
    return {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": answers.get("ca_issuer_name", "istio-intermediate-ca")}


def intermediate_certificate(answers: dict, cluster: str) -> dict:
    """The cluster's intermediate CA: `cacerts` for istiod's own CA, or, with istio-csr, the CA its Issuer uses."""
    trust_domain = answers.get("trust_domain", "cluster.local")
    istio_csr = answers["ca_mode"] == "istio-csr"
    certificate = {
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": "istio-csr-intermediate-ca" if istio_csr else "istiod-intermediate-ca", "namespace": "istio-system"},
        "spec": {
            "secretName": ISTIO_CSR_CA if istio_csr else "cacerts",
            "isCA": True,
            "commonName": f"{'istio-csr' if istio_csr else 'istiod'} {cluster} intermediate CA",
            "subject": {"organizations": [answers.get("platform_name", "platform")]},
            "uris": [f"spiffe://{trust_domain}/ns/istio-system/sa/istiod"],
            "duration": DURATION,
            "renewBefore": RENEW_BEFORE,
            "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
            "usages": ["cert sign", "crl sign", "digital signature", "key encipherment"],
            "issuerRef": issuer_ref(answers),
        },
    }
    if answers["ca_mode"] == "self-signed-dev":
        certificate["metadata"]["annotations"] = dict(NOT_FOR_PRODUCTION)
    return certificate


def issuer_documents(answers: dict) -> list[dict]:
    mode = answers["ca_mode"]
    if mode == "aws-pca":
        arn = answers["ca_aws_pca_arn"]
        return [{"apiVersion": "awspca.cert-manager.io/v1beta1", "kind": "AWSPCAClusterIssuer",
                 "metadata": {"name": "istio-aws-pca"}, "spec": {"arn": arn, "region": ARN.fullmatch(arn)["region"]}}]
    if mode == "vault":
        return [{"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": VAULT_ISSUER},
                 "spec": {"vault": {"server": answers["ca_vault_server"], "path": answers["ca_vault_pki_path"],
                                    "auth": {"kubernetes": {"role": answers["ca_vault_role"], "mountPath": "/v1/auth/kubernetes",
                                                            "serviceAccountRef": {"name": VAULT_SERVICE_ACCOUNT}}}}}}]
    if mode == "self-signed-dev":
        return [
            {"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
             "metadata": {"name": "istio-dev-selfsigned", "namespace": "istio-system", "annotations": dict(NOT_FOR_PRODUCTION)},
             "spec": {"selfSigned": {}}},
            {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
             "metadata": {"name": DEV_ROOT, "namespace": "istio-system", "annotations": dict(NOT_FOR_PRODUCTION)},
             "spec": {"secretName": DEV_ROOT, "isCA": True, "commonName": "istio development root CA", "duration": "87600h",
                      "privateKey": {"algorithm": "ECDSA", "size": 256},
                      "issuerRef": {"group": "cert-manager.io", "kind": "Issuer", "name": "istio-dev-selfsigned"}}},
            {"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
             "metadata": {"name": DEV_ROOT, "namespace": "istio-system", "annotations": dict(NOT_FOR_PRODUCTION)},
             "spec": {"ca": {"secretName": DEV_ROOT}}},
        ]
    return []


def istio_csr_issuer() -> dict:
    """The CA Issuer istio-csr signs workload and istiod certificates with: the cluster's own intermediate."""
    return {"apiVersion": "cert-manager.io/v1", "kind": "Issuer", "metadata": {"name": ISTIO_CSR_CA, "namespace": "istio-system"},
            "spec": {"ca": {"secretName": ISTIO_CSR_CA}}}


def mesh_root_configmap(root_pem: str) -> dict:
    """The pinned root(s) as istio-csr's root CA file: it writes them, not what an issuer returns, to every
    namespace's istio-ca-root-cert."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": MESH_ROOT_CONFIGMAP, "namespace": CERT_MANAGER["namespace"]},
            "data": {MESH_ROOT_KEY: root_pem}}


def vault_token_request() -> list[dict]:
    """The account cert-manager logs in to Vault with, and the Role that lets cert-manager (and nobody else)
    request its token: cert-manager's chart grants no serviceaccounts/token."""
    namespace = CERT_MANAGER["namespace"]
    name = f"{VAULT_SERVICE_ACCOUNT}-token"
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": VAULT_SERVICE_ACCOUNT, "namespace": namespace},
         "automountServiceAccountToken": False},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": name, "namespace": namespace},
         "rules": [{"apiGroups": [""], "resources": ["serviceaccounts/token"], "resourceNames": [VAULT_SERVICE_ACCOUNT], "verbs": ["create"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name, "namespace": namespace},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": CERT_MANAGER["service_account"], "namespace": namespace}]},
    ]


def remote_secret_key(answers: dict, cluster: str) -> str:
    """Where a cluster's remote secret lives in the secret store."""
    return f"istio/{answers.get('mesh_id', 'mesh')}/remote-secrets/{cluster}"


def remote_secret_kubeconfig(cluster: str, server: str) -> str:
    """The kubeconfig istiod reads from a remote secret, as `istioctl create-remote-secret` writes it (cluster,
    context and user named after the cluster), templated by external-secrets from the reader's token Secret."""
    return (f"apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: {cluster}\n  cluster:\n    server: {server}\n"
            '    certificate-authority-data: {{ index . "ca.crt" | b64enc }}\n'
            f"contexts:\n- name: {cluster}\n  context:\n    cluster: {cluster}\n    user: {cluster}\n"
            f"current-context: {cluster}\n"
            f"users:\n- name: {cluster}\n  user:\n    token: '{{{{ .token }}}}'\n")


def reader_token_and_push(answers: dict, cluster: dict) -> list[dict]:
    """What this cluster's peers need to read it, declared instead of `istioctl create-remote-secret`: a token for
    istio-reader-service-account (since Kubernetes 1.24 none exists unless asked for like this), and a PushSecret
    writing the kubeconfig built from it to the key every peer's ExternalSecret pulls."""
    name = cluster["name"]
    store = answers.get("remote_secret_store", "istio-remote-secrets")
    return [
        {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
         "metadata": {"name": READER_TOKEN, "namespace": "istio-system",
                      "annotations": {"kubernetes.io/service-account.name": READER_ACCOUNT}}},
        {"apiVersion": "external-secrets.io/v1alpha1", "kind": "PushSecret",
         "metadata": {"name": f"istio-remote-secret-{name}", "namespace": "istio-system"},
         "spec": {"refreshInterval": "1h", "updatePolicy": "Replace", "deletionPolicy": "Delete",
                  "secretStoreRefs": [{"kind": "ClusterSecretStore", "name": store}],
                  "selector": {"secret": {"name": READER_TOKEN}},
                  "template": {"engineVersion": "v2",
                               "data": {name: remote_secret_kubeconfig(name, str(cluster.get("api_server", "")))}},
                  "data": [{"match": {"secretKey": name, "remoteRef": {"remoteKey": remote_secret_key(answers, name)}}}]}},
    ]


def remote_secrets(answers: dict, cluster: str) -> list[dict]:
    """One ExternalSecret per peer: Istio's remote secret for that cluster, from the secret store."""
    store = answers.get("remote_secret_store", "istio-remote-secrets")
    return [
        {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
         "metadata": {"name": f"istio-remote-secret-{peer}", "namespace": "istio-system"},
         "spec": {"refreshInterval": "1h", "secretStoreRef": {"kind": "ClusterSecretStore", "name": store},
                  "target": {"name": f"istio-remote-secret-{peer}", "creationPolicy": "Owner",
                             "template": {"metadata": {"labels": {"istio/multiCluster": "true"},
                                                       "annotations": {"networking.istio.io/cluster": peer}}}},
                  "data": [{"secretKey": peer, "remoteRef": {"key": remote_secret_key(answers, peer)}}]}}
        for peer in _names(answers) if peer != cluster
    ]


def ca_issuer_policy(answers: dict) -> list[dict]:
    """Only istio-system may ask the mesh's CA issuer for certificates: a cluster-wide issuer that signs CA
    certificates would otherwise mint trusted intermediates for anyone allowed to create a Certificate."""
    ref = issuer_ref(answers)
    if ref["kind"] == "Issuer":
        return []  # a namespaced issuer serves its own namespace only
    name = "mesh-ca-issuer-only-for-istio-system"
    uses_issuer = (f"has(object.spec.issuerRef) && object.spec.issuerRef.name == '{ref['name']}'"
                   f" && has(object.spec.issuerRef.kind) && object.spec.issuerRef.kind == '{ref['kind']}'")
    return [
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
         "metadata": {"name": name},
         "spec": {"failurePolicy": "Fail",
                  "matchConstraints": {"resourceRules": [{
                      "apiGroups": ["cert-manager.io"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
                      "resources": ["certificates", "certificaterequests"]}]},
                  "validations": [{
                      "expression": f"object.metadata.namespace == 'istio-system' || !({uses_issuer})",
                      "message": f"{ref['kind']} {ref['name']} signs the mesh's CA certificates; only istio-system may use it."}]}},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
         "metadata": {"name": name}, "spec": {"policyName": name, "validationActions": ["Deny"]}},
    ]


def _clusters(answers: dict) -> list[dict]:
    return [c if isinstance(c, dict) else {"name": c} for c in answers["clusters"]]


def _names(answers: dict) -> list[str]:
    return [c["name"] for c in _clusters(answers)]


def certificate_files(answers: dict) -> dict[str, str]:
    """Every file this hook owns, as {path relative to the repo: content}."""
    mode = answers["ca_mode"]
    if mode not in CA_MODES:
        raise ValueError(f"ca_mode {mode!r}: expected one of {', '.join(CA_MODES)}")
    root_pem = normalized_pem(answers.get("mesh_root_ca_pem") or "")
    clusters = _clusters(answers)
    files: dict[str, str] = {}
    for cluster in clusters:
        name = cluster["name"]
        folder = f"mesh/clusters/{name}/certificates"
        resources = []
        issuers = issuer_documents(answers)
        if issuers:
            files[f"{folder}/issuer.yaml"] = manifest(*issuers)
            resources.append("issuer.yaml")
        if mode == "vault":
            files[f"{folder}/vault-token-request.yaml"] = manifest(*vault_token_request())
            resources.append("vault-token-request.yaml")
        if mode == "istio-csr":
            files[f"{folder}/istio-csr-ca.yaml"] = manifest(intermediate_certificate(answers, name), istio_csr_issuer())
            resources.append("istio-csr-ca.yaml")
            if root_pem:  # the same text as mesh/trust/root-ca.pem, which istiod's values pin
                files[f"{folder}/mesh-root-ca.yaml"] = manifest(mesh_root_configmap(root_pem))
                resources.append("mesh-root-ca.yaml")
        else:
            files[f"{folder}/istiod-intermediate-ca.yaml"] = manifest(intermediate_certificate(answers, name))
            resources.append("istiod-intermediate-ca.yaml")
        policy = ca_issuer_policy(answers)
        if policy:
            files[f"{folder}/ca-issuer-policy.yaml"] = manifest(*policy)
            resources.append("ca-issuer-policy.yaml")
        files[f"{folder}/kustomization.yaml"] = kustomization(resources)
        peers = remote_secrets(answers, name)
        if peers:
            remote = REMOTE_SECRETS_FOLDER.format(cluster=name)
            files[f"{remote}/push-remote-secret.yaml"] = manifest(*reader_token_and_push(answers, cluster))
            files[f"{remote}/remote-secrets.yaml"] = manifest(*peers)
            files[f"{remote}/kustomization.yaml"] = kustomization(["push-remote-secret.yaml", "remote-secrets.yaml"])
    if root_pem:
        files[MESH_ROOT_FILE] = HEADER + root_pem
    return dict(sorted(files.items()))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: cluster_certificates.py '<json with the platform answers>'", file=sys.stderr)
        return 2
    answers = json.loads(argv[0])
    write_files(Path.cwd(), certificate_files(answers))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
