"""Cross-cluster invariants of one mesh, read from the repository's files.

One mesh ID and one trust domain everywhere; unique cluster names matching their folders; each cluster's
network on its istio-system label and, when the mesh spans several networks, an east-west gateway per
cluster for its own network; every cross-network Gateway selecting an east-west gateway that exists; one
root of trust for all intermediates (one issuer, unless a root is pinned: then mesh_trust.py compares the
pinned roots by configuration), whose SPIFFE SANs use the mesh's trust domain; remote secrets for exactly
the other clusters.
"""

from __future__ import annotations

import re
from pathlib import Path

from istio_gitops_check.mesh_trust import MESH_ROOT_FILE, certificate_bodies
from istio_gitops_check.yaml_documents import documents, mapping

NETWORK_PATCH = re.compile(r"path: /metadata/labels/topology\.istio\.io~1network\s+value:\s*\"?([^\s\"]+)")


def _eastwest_labels(root: Path) -> set[str]:
    """The `istio:` selector labels of the east-west gateways (gateway chart: labels.istio, else name without istio-)."""
    labels = set()
    for values_file in root.glob("gateways/revisions/*/eastwest.values.yaml"):
        values = mapping(values_file)
        name = str(values.get("name", "istio-eastwestgateway"))
        labels.add(str((values.get("labels") or {}).get("istio", name.removeprefix("istio-"))))
    return labels


def problems(root: Path) -> list[str]:
    """Each problem starts with the file to change."""
    found: list[str] = []
    revisions = sorted(root.glob("mesh/revisions/*/istiod.values.yaml"))
    mesh_ids = {str((mapping(f).get("global") or {}).get("meshID")) for f in revisions}
    domains = {str((mapping(f).get("meshConfig") or {}).get("trustDomain", "cluster.local")) for f in revisions}
    revision_files = ", ".join(f.relative_to(root).as_posix() for f in revisions) or "mesh/revisions"
    clusters: dict[str, str] = {}
    cluster_dirs = sorted(p for p in (root / "mesh/clusters").iterdir() if p.is_dir()) if (root / "mesh/clusters").is_dir() else []
    for cluster_dir in cluster_dirs:
        values_file = f"mesh/clusters/{cluster_dir.name}/istiod.values.yaml"
        values = mapping(root / values_file).get("global") or {}
        name = str((values.get("multiCluster") or {}).get("clusterName", ""))
        if name != cluster_dir.name:
            found.append(f"{values_file}: clusterName is {name!r}; it must be the cluster folder's name")
        if name in clusters:
            found.append(f"{values_file}: cluster name {name!r} is used twice")
        clusters[name] = str(values.get("network", ""))
        if "meshID" in values:
            mesh_ids.add(str(values["meshID"]))
        label_file = cluster_dir / "istio-system/kustomization.yaml"
        label = NETWORK_PATCH.search(label_file.read_text()) if label_file.is_file() else None
        if not label or label.group(1) != clusters[name]:
            found.append(f"{label_file.relative_to(root)}: istio-system must carry topology.istio.io/network={clusters[name]}")
    if len(mesh_ids) > 1:
        found.append(f"{revision_files}: istiod values disagree on global.meshID: {sorted(mesh_ids)}")
    if len(domains) > 1:
        found.append(f"{revision_files}: istiod values disagree on meshConfig.trustDomain: {sorted(domains)}")
    trust_domain = next(iter(domains)) if len(domains) == 1 else None

    networks = set(clusters.values())
    for name, network in clusters.items():
        eastwest = f"gateways/clusters/{name}/eastwest.values.yaml"
        if len(networks) > 1 and not (root / eastwest).is_file():
            found.append(f"{eastwest}: the mesh spans {len(networks)} networks, so cluster {name} needs an east-west gateway")
        declared = mapping(root / eastwest).get("networkGateway")
        if (root / eastwest).is_file() and str(declared) != network:
            found.append(f"{eastwest}: networkGateway is {declared!r}, the cluster's network is {network!r}")
    eastwest_labels = _eastwest_labels(root)
    for gateway_file in sorted(root.glob("gateways/base/*/cross-network-gateway.yaml")):
        for gateway in documents(gateway_file):
            selected = ((gateway.get("spec") or {}).get("selector") or {}).get("istio")
            if selected not in eastwest_labels:
                found.append(f"{gateway_file.relative_to(root)}: selector istio={selected} matches no east-west gateway ({sorted(eastwest_labels)})")

    issuers = {}
    pinned = certificate_bodies((root / MESH_ROOT_FILE).read_text()) if (root / MESH_ROOT_FILE).is_file() else frozenset()
    for name in clusters:
        certificate_file = f"mesh/clusters/{name}/certificates/istiod-intermediate-ca.yaml"
        if not (root / certificate_file).is_file():
            certificate_file = f"mesh/clusters/{name}/certificates/istio-csr-ca.yaml"
        for certificate in documents(root / certificate_file):
            if certificate.get("kind") != "Certificate":
                continue
            spec = certificate.get("spec") or {}
            issuers[name] = repr(sorted((spec.get("issuerRef") or {}).items()))
            if "istio-gitops-template/not-for-production" in ((certificate.get("metadata") or {}).get("annotations") or {}) and len(clusters) > 1:
                found.append(f"{certificate_file}: a self-signed development root per cluster means clusters do not trust each other")
            for uri in spec.get("uris", []) or []:
                if trust_domain and not str(uri).startswith(f"spiffe://{trust_domain}/"):
                    found.append(f"{certificate_file}: intermediate SAN {uri} is outside trust domain {trust_domain}")
    if len(set(issuers.values())) > 1 and not pinned:
        # Issuers may differ per cluster when one pinned root (mesh/trust/root-ca.pem, compared by the "one root
        # pinned" rule) is what every istiod trusts; without it, one issuer is the only sign of one root.
        where = ", ".join(f"mesh/clusters/{n}/certificates/" for n in sorted(issuers))
        found.append(f"{where}: intermediates come from different issuers and no root is pinned ({MESH_ROOT_FILE}), "
                     f"so there is no single root of trust: {issuers}")
    if len(clusters) > 1:
        for name in clusters:
            secrets_file = f"mesh/clusters/{name}/remote-secrets/remote-secrets.yaml"
            peers = {(((d.get("spec") or {}).get("target") or {}).get("template") or {}).get("metadata", {}).get("annotations", {}).get("networking.istio.io/cluster")
                     for d in documents(root / secrets_file)}
            if peers != set(clusters) - {name}:
                found.append(f"{secrets_file}: remote secrets cover {sorted(map(str, peers))}, expected {sorted(set(clusters) - {name})}")
    return found
