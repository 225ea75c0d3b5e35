"""Generate each cluster's certificate configuration (copier task of the platform scope).

    python hooks/cluster_certificates.py '<json: platform answers>'

Per cluster, under mesh/clusters/<cluster>/certificates/ (its own unit, after Istio's CRDs and before istiod,
which needs `cacerts`; never in the unit that installs the base chart, so a missing cert-manager CRD cannot
stop Istio's own CRDs):
- the cert-manager `Certificate` for istiod's intermediate CA, written to the `cacerts` secret in
  the kubernetes.io/tls layout istiod reads, with CN and SPIFFE URI SAN from the trust domain and
  cluster, production duration/renewBefore, ECDSA P-256 and a new key on every renewal;
- the issuer the mode needs (AWS Private CA, Vault, a self-signed development root) or none (an
  issuer you already run; istio-csr, where istiod's CA server is off and no intermediate exists);
and, with several clusters, under mesh/clusters/<cluster>/remote-secrets/ (its own unit, after istiod,
pruned, last: an ExternalSecret is not Ready until its peer has joined, and nothing may wait for that), one
ExternalSecret per peer cluster producing Istio's remote secret from a secret store, instead of
`istioctl create-remote-secret | kubectl apply`. A removed cluster's remote secrets leave its peers' folders,
and the pruning unit deletes them.
No key, certificate body or token is ever written: cert-manager and external-secrets create them
in the cluster. Deterministic: the same answers always give the same bytes.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from manifest_files import kustomization, manifest, write_files  # noqa: E402

CA_MODES = ("aws-pca", "vault", "cert-manager-issuer", "istio-csr", "self-signed-dev")
DURATION, RENEW_BEFORE = "8760h", "720h"
DEV_ROOT = "istio-dev-root-ca"
NOT_FOR_PRODUCTION = {"istio-gitops-template/not-for-production": "self-signed development CA; use a real PKI in production"}
REMOTE_SECRETS_FOLDER = "mesh/clusters/{cluster}/remote-secrets"
ARN = re.compile(r"^arn:aws[a-z-]*:acm-pca:(?P<region>[a-z0-9-]+):\d{12}:certificate-authority/[0-9a-f-]+$")


def issuer_ref(answers: dict) -> dict:
    """The issuer every cluster's intermediate is signed by (one root of trust for the mesh)."""
    mode = answers["ca_mode"]
    if mode == "aws-pca":
        return {"group": "awspca.cert-manager.io", "kind": "AWSPCAClusterIssuer", "name": "istio-aws-pca"}
    if mode == "vault":
        return {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "istio-vault"}
    if mode == "self-signed-dev":
        return {"group": "cert-manager.io", "kind": "Issuer", "name": DEV_ROOT}
    return {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": answers.get("ca_issuer_name", "istio-intermediate-ca")}


def intermediate_certificate(answers: dict, cluster: str) -> dict:
    trust_domain = answers.get("trust_domain", "cluster.local")
    certificate = {
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": "istiod-intermediate-ca", "namespace": "istio-system"},
        "spec": {
            "secretName": "cacerts",
            "isCA": True,
            "commonName": f"istiod {cluster} intermediate CA",
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
                 "metadata": {"name": "istio-aws-pca"}, "spec": {"arn": arn, "region": ARN.match(arn)["region"]}}]
    if mode == "vault":
        return [{"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": "istio-vault"},
                 "spec": {"vault": {"server": answers["ca_vault_server"], "path": answers["ca_vault_pki_path"],
                                    "auth": {"kubernetes": {"role": answers["ca_vault_role"], "mountPath": "/v1/auth/kubernetes",
                                                            "serviceAccountRef": {"name": "cert-manager"}}}}}}]
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


def remote_secrets(answers: dict, cluster: str) -> list[dict]:
    """One ExternalSecret per peer: Istio's remote secret for that cluster, from the secret store."""
    store = answers.get("remote_secret_store", "istio-remote-secrets")
    prefix = f"istio/{answers.get('mesh_id', 'mesh')}/remote-secrets"
    return [
        {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
         "metadata": {"name": f"istio-remote-secret-{peer}", "namespace": "istio-system"},
         "spec": {"refreshInterval": "1h", "secretStoreRef": {"kind": "ClusterSecretStore", "name": store},
                  "target": {"name": f"istio-remote-secret-{peer}", "creationPolicy": "Owner",
                             "template": {"metadata": {"labels": {"istio/multiCluster": "true"},
                                                       "annotations": {"networking.istio.io/cluster": peer}}}},
                  "data": [{"secretKey": peer, "remoteRef": {"key": f"{prefix}/{peer}"}}]}}
        for peer in answers["clusters"] if peer != cluster
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


def certificate_files(answers: dict) -> dict[str, str]:
    """Every file this hook owns, as {path relative to the repo: content}."""
    if answers["ca_mode"] not in CA_MODES:
        raise ValueError(f"ca_mode {answers['ca_mode']!r}: expected one of {', '.join(CA_MODES)}")
    files: dict[str, str] = {}
    for cluster in answers["clusters"]:
        folder = f"mesh/clusters/{cluster}/certificates"
        resources = []
        issuers = issuer_documents(answers)
        if issuers:
            files[f"{folder}/issuer.yaml"] = manifest(*issuers)
            resources.append("issuer.yaml")
        if answers["ca_mode"] != "istio-csr":
            files[f"{folder}/istiod-intermediate-ca.yaml"] = manifest(intermediate_certificate(answers, cluster))
            resources.append("istiod-intermediate-ca.yaml")
        policy = ca_issuer_policy(answers)
        if policy:
            files[f"{folder}/ca-issuer-policy.yaml"] = manifest(*policy)
            resources.append("ca-issuer-policy.yaml")
        files[f"{folder}/kustomization.yaml"] = kustomization(resources)
        peers = remote_secrets(answers, cluster)
        if peers:
            files[f"{REMOTE_SECRETS_FOLDER.format(cluster=cluster)}/remote-secrets.yaml"] = manifest(*peers)
            files[f"{REMOTE_SECRETS_FOLDER.format(cluster=cluster)}/kustomization.yaml"] = kustomization(["remote-secrets.yaml"])
    return dict(sorted(files.items()))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: cluster_certificates.py '<json with the platform answers>'", file=sys.stderr)
        return 2
    answers = json.loads(argv[0])
    answers["clusters"] = [c["name"] if isinstance(c, dict) else c for c in answers["clusters"]]
    write_files(Path.cwd(), certificate_files(answers))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
