# Managed by istio-gitops-template (copier): your edits survive `copier update`.
"""Check the cross-cluster invariants of this platform repo (run in its CI: needs PyYAML).

    python scripts/check_mesh.py [repo-root]

One mesh ID and one trust domain everywhere; unique cluster names matching their folders; each
cluster's network on its istio-system label and, when the mesh spans several networks, an
east-west gateway per cluster for its own network; every cross-network Gateway selecting an
east-west gateway that exists; one root of trust for all intermediates, whose SPIFFE SANs use the
mesh's trust domain; remote secrets for exactly the other clusters. Exit status 1 on any problem.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

NETWORK_PATCH = re.compile(r"path: /metadata/labels/topology\.istio\.io~1network\s+value:\s*\"?([^\s\"]+)")


def _load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text()) if path.is_file() else None
    return data if isinstance(data, dict) else {}


def _docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)] if path.is_file() else []


def _eastwest_labels(root: Path) -> set[str]:
    """The `istio:` selector labels of the east-west gateways (gateway chart: labels.istio, else name without istio-)."""
    labels = set()
    for values_file in root.glob("gateways/revisions/*/eastwest.values.yaml"):
        values = _load(values_file)
        name = str(values.get("name", "istio-eastwestgateway"))
        labels.add(str(values.get("labels", {}).get("istio", name.removeprefix("istio-"))))
    return labels


def problems(root: Path) -> list[str]:
    found: list[str] = []
    revisions = sorted(root.glob("mesh/revisions/*/istiod.values.yaml"))
    mesh_ids = {str(_load(f).get("global", {}).get("meshID")) for f in revisions}
    domains = {str(_load(f).get("meshConfig", {}).get("trustDomain", "cluster.local")) for f in revisions}
    clusters: dict[str, str] = {}
    for cluster_dir in sorted(p for p in (root / "mesh/clusters").iterdir() if p.is_dir()) if (root / "mesh/clusters").is_dir() else []:
        values = _load(cluster_dir / "istiod.values.yaml").get("global", {})
        name = str(values.get("multiCluster", {}).get("clusterName", ""))
        if name != cluster_dir.name:
            found.append(f"{cluster_dir.name}: clusterName is {name!r}; it must be the cluster folder's name")
        if name in clusters:
            found.append(f"cluster name {name!r} is used twice")
        clusters[name] = str(values.get("network", ""))
        if "meshID" in values:
            mesh_ids.add(str(values["meshID"]))
        label = NETWORK_PATCH.search((cluster_dir / "istio-system/kustomization.yaml").read_text()) if (cluster_dir / "istio-system/kustomization.yaml").is_file() else None
        if not label or label.group(1) != clusters[name]:
            found.append(f"{name}: istio-system must carry topology.istio.io/network={clusters[name]}")
    if len(mesh_ids) != 1:
        found.append(f"istiod values disagree on global.meshID: {sorted(mesh_ids)}")
    if len(domains) != 1:
        found.append(f"istiod values disagree on meshConfig.trustDomain: {sorted(domains)}")
    trust_domain = next(iter(domains)) if len(domains) == 1 else None

    networks = set(clusters.values())
    for name, network in clusters.items():
        eastwest = root / f"gateways/clusters/{name}/eastwest.values.yaml"
        if len(networks) > 1 and not eastwest.is_file():
            found.append(f"{name}: the mesh spans {len(networks)} networks, so it needs an east-west gateway")
        if eastwest.is_file() and str(_load(eastwest).get("networkGateway")) != network:
            found.append(f"{name}: east-west gateway networkGateway is {_load(eastwest).get('networkGateway')!r}, its network is {network!r}")
    eastwest_labels = _eastwest_labels(root)
    for gateway_file in sorted(root.glob("gateways/base/*/cross-network-gateway.yaml")):
        for gateway in _docs(gateway_file):
            selected = gateway.get("spec", {}).get("selector", {}).get("istio")
            if selected not in eastwest_labels:
                found.append(f"{gateway_file.relative_to(root)}: selector istio={selected} matches no east-west gateway ({sorted(eastwest_labels)})")

    issuers = {}
    for name in clusters:
        for certificate in _docs(root / f"mesh/clusters/{name}/certificates/istiod-intermediate-ca.yaml"):
            spec = certificate.get("spec", {})
            issuers[name] = repr(sorted(spec.get("issuerRef", {}).items()))
            if "istio-gitops-template/not-for-production" in certificate.get("metadata", {}).get("annotations", {}) and len(clusters) > 1:
                found.append(f"{name}: a self-signed development root per cluster means clusters do not trust each other")
            for uri in spec.get("uris", []):
                if trust_domain and not uri.startswith(f"spiffe://{trust_domain}/"):
                    found.append(f"{name}: intermediate SAN {uri} is outside trust domain {trust_domain}")
    if len(set(issuers.values())) > 1:
        found.append(f"intermediates come from different issuers, so there is no single root of trust: {issuers}")
    if len(clusters) > 1:
        for name in clusters:
            peers = {d.get("spec", {}).get("target", {}).get("template", {}).get("metadata", {}).get("annotations", {}).get("networking.istio.io/cluster")
                     for d in _docs(root / f"mesh/clusters/{name}/certificates/remote-secrets.yaml")}
            if peers != set(clusters) - {name}:
                found.append(f"{name}: remote secrets cover {sorted(map(str, peers))}, expected {sorted(set(clusters) - {name})}")
    return found


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent
    found = problems(root)
    for problem in found:
        print(f"PROBLEM {problem}")
    print(f"{'OK' if not found else 'FAILED'}: cross-cluster invariants of {root}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
