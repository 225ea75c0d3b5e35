"""The mesh's trust and discovery across clusters, judged by configuration: one pinned root, istio-csr configured
for the cluster it runs on, and remote secrets that every cluster publishes and every peer reads.

- One root pinned: with several clusters, every istiod release (every revision, every cluster) lists the same
  non-empty `meshConfig.caCertificates`, equal to mesh/trust/root-ca.pem, and in the istio-csr mode each cluster's
  ConfigMap istio-mesh-root-ca (istio-csr's root CA file) holds the same roots. What an issuer writes to ca.crt
  differs per CA mode (and per issuer); the pinned root does not.
- istio-csr matches each cluster: its cluster ID is the cluster's name (istiod sends it), it lists every istiod
  revision installed there (istio-csr issues istiod-<revision>'s serving certificate), uses istiod's trust domain,
  signs with an issuer the cluster's certificates unit declares, and reads the pinned root when there is one.
- Remote secrets declared: each cluster asks for its reader account's token and pushes, from it, a kubeconfig for
  its own API server to exactly the key each peer's ExternalSecret pulls, in the same store; nobody pulls a key
  nobody pushes.
"""

from __future__ import annotations

import re

from istio_gitops_check.kubernetes_kinds import group_of
from istio_gitops_check.rendered_platform import HelmRelease, RenderedPlatform, merge_values
from istio_gitops_check.yaml_documents import mapping

MESH_ROOT_FILE = "mesh/trust/root-ca.pem"
MESH_ROOT_CONFIGMAP = ("cert-manager", "istio-mesh-root-ca", "root-ca.pem")
ISTIO_CSR_CHART = "cert-manager-istio-csr"
ISTIO_CSR_VALUES = "addons/cert-manager-istio-csr.values.yaml"
ISTIO_CSR_CLUSTER_VALUES = "addons/clusters/{cluster}/cert-manager-istio-csr.values.yaml"
READER_ACCOUNT = "istio-reader-service-account"
CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----")
SERVER = re.compile(r"^\s*server:\s*(\S+)\s*$", re.MULTILINE)
CURRENT_CONTEXT = re.compile(r"^current-context:\s*(\S+)\s*$", re.MULTILINE)


def certificate_bodies(text: str) -> frozenset[str]:
    """The base64 bodies of the PEM certificates in `text`, whitespace removed (what identifies a certificate)."""
    return frozenset("".join(body.split()) for body in CERTIFICATE.findall(text or ""))


def _clusters(platform: RenderedPlatform) -> list[str]:
    folder = platform.root / "mesh/clusters"
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def _istiods(platform: RenderedPlatform) -> list[HelmRelease]:
    return [r for r in platform.helm_releases if r.chart == "istiod"]


def _files(release: HelmRelease) -> str:
    return ", ".join(name for name, _ in release.value_sources) or release.declared_in


def _istiod_roots(release: HelmRelease) -> frozenset[str]:
    entries = (release.values.get("meshConfig") or {}).get("caCertificates") or []
    return frozenset().union(*(certificate_bodies(str(e.get("pem", ""))) for e in entries if isinstance(e, dict)))


def _built(platform: RenderedPlatform, folder: str) -> list[dict]:
    return platform.builds.get(platform.root / folder, [])


def _root_configmap(platform: RenderedPlatform, cluster: str) -> dict | None:
    namespace, name, _ = MESH_ROOT_CONFIGMAP
    return next((o for o in _built(platform, f"mesh/clusters/{cluster}/certificates")
                 if o.get("kind") == "ConfigMap" and o.get("metadata", {}).get("name") == name
                 and o.get("metadata", {}).get("namespace") == namespace), None)


def _istio_csr_mode(platform: RenderedPlatform) -> bool:
    """istiod's own CA is off and points at istio-csr."""
    return any("istio-csr" in str((r.values.get("global") or {}).get("caAddress", "")) for r in _istiods(platform))


def one_root_pinned(platform: RenderedPlatform) -> list[str]:
    """Every cluster's istiod (and istio-csr) trusts the same pinned root(s); required with several clusters."""
    clusters = _clusters(platform)
    root_file = platform.root / MESH_ROOT_FILE
    pinned = certificate_bodies(root_file.read_text()) if root_file.is_file() else frozenset()
    problems = []
    if len(clusters) > 1 and not pinned:
        problems.append(f"{MESH_ROOT_FILE}: missing or empty; with several clusters the mesh pins one root (answer mesh_root_ca_pem)")
    roots = {}
    for release in _istiods(platform):
        found = _istiod_roots(release)
        roots[release] = found
        if not found and (len(clusters) > 1 or pinned):
            problems.append(f"{_files(release)}: istiod {release.release_name} on {release.cluster} pins no root "
                            "(meshConfig.caCertificates); every istiod of the mesh must trust the same root")
        elif found and pinned and found != pinned:
            problems.append(f"{_files(release)}: istiod {release.release_name} on {release.cluster} pins other roots "
                            f"than {MESH_ROOT_FILE}")
    distinct = {found for found in roots.values() if found}
    if len(distinct) > 1:
        where = sorted({_files(r) for r, found in roots.items() if found})
        problems.append(f"{', '.join(where)}: istiod releases pin {len(distinct)} different sets of roots; clusters with "
                        "different roots do not trust each other")
    if _istio_csr_mode(platform) and (pinned or len(clusters) > 1):
        for cluster in clusters:
            istiod_roots = {found for r, found in roots.items() if r.cluster == cluster} or {pinned}
            config_map = _root_configmap(platform, cluster)
            where = f"mesh/clusters/{cluster}/certificates"
            if config_map is None:
                problems.append(f"{where}: no ConfigMap {MESH_ROOT_CONFIGMAP[0]}/{MESH_ROOT_CONFIGMAP[1]}; istio-csr would "
                                "hand out whatever root its issuer returns")
                continue
            held = certificate_bodies(str((config_map.get("data") or {}).get(MESH_ROOT_CONFIGMAP[2], "")))
            if any(held != found for found in istiod_roots):
                problems.append(f"{platform.origin(config_map)}: istio-csr's root ({MESH_ROOT_CONFIGMAP[1]}) differs from the "
                                f"roots istiod pins on {cluster} (meshConfig.caCertificates)")
    return problems


def _istio_csr_values(platform: RenderedPlatform) -> dict[str, tuple[str, dict]]:
    """Per cluster, istio-csr's values and where they come from: its Helm release, else the values files."""
    found = {r.cluster: (_files(r), r.values) for r in platform.helm_releases if r.chart == ISTIO_CSR_CHART}
    if found:
        return found
    base = platform.root / ISTIO_CSR_VALUES
    if not base.is_file():
        return {}
    for cluster in _clusters(platform):
        own = platform.root / ISTIO_CSR_CLUSTER_VALUES.format(cluster=cluster)
        values = merge_values(mapping(base), mapping(own) if own.is_file() else {})
        found[cluster] = (f"{ISTIO_CSR_VALUES}, {own.relative_to(platform.root).as_posix()}", values)
    return found


def istio_csr_matches_each_cluster(platform: RenderedPlatform) -> list[str]:
    """istio-csr's cluster ID, revisions, trust domain, issuer and root agree with the cluster it runs on."""
    problems = []
    istiods = _istiods(platform)
    pinned = (platform.root / MESH_ROOT_FILE).is_file()
    for cluster, (where, values) in sorted(_istio_csr_values(platform).items()):
        app = values.get("app") or {}
        cluster_id = (app.get("server") or {}).get("clusterID", "Kubernetes")
        if cluster_id != cluster:
            problems.append(f"{where}: app.server.clusterID is {cluster_id!r} on {cluster}; istiod sends the cluster name {cluster!r}")
        here = [r for r in istiods if r.cluster == cluster]
        installed = sorted(str(r.values.get("revision", "default") or "default") for r in here)
        listed = sorted(str(v) for v in (app.get("istio") or {}).get("revisions", ["default"]))
        if listed != installed:
            problems.append(f"{where}: app.istio.revisions {listed} on {cluster}; the installed istiod revisions are {installed}")
        domains = {str((r.values.get("meshConfig") or {}).get("trustDomain", "cluster.local")) for r in here}
        trust_domain = (app.get("tls") or {}).get("trustDomain", "cluster.local")
        if domains and domains != {trust_domain}:
            problems.append(f"{where}: app.tls.trustDomain {trust_domain!r} on {cluster}; istiod's is {sorted(domains)}")
        certmanager = app.get("certmanager") or {}
        issuer = {"name": "istio-ca", "kind": "Issuer", "group": "cert-manager.io", **(certmanager.get("issuer") or {})}
        namespace = certmanager.get("namespace", "istio-system")
        declared = [o for o in _built(platform, f"mesh/clusters/{cluster}/certificates")
                    if o.get("kind") == issuer["kind"] and group_of(o.get("apiVersion", "")) == issuer["group"]
                    and o.get("metadata", {}).get("name") == issuer["name"]
                    and (issuer["kind"] != "Issuer" or o.get("metadata", {}).get("namespace") == namespace)]
        if not declared:
            problems.append(f"{where}: istio-csr signs with {issuer['kind']} {issuer['name']} ({namespace}), which "
                            f"mesh/clusters/{cluster}/certificates does not declare")
        root_file = (app.get("tls") or {}).get("rootCAFile")
        if pinned and not root_file:
            problems.append(f"{where}: app.tls.rootCAFile is unset on {cluster}; istio-csr must hand out the pinned root")
        if root_file:
            directory = str(root_file).rsplit("/", 1)[0]
            volumes = {m.get("name") for m in values.get("volumeMounts") or [] if m.get("mountPath") == directory}
            maps = {(v.get("configMap") or {}).get("name") for v in values.get("volumes") or [] if v.get("name") in volumes}
            if MESH_ROOT_CONFIGMAP[1] not in maps:
                problems.append(f"{where}: app.tls.rootCAFile {root_file} is not mounted from ConfigMap {MESH_ROOT_CONFIGMAP[1]}")
    return problems


def _answers_api_servers(platform: RenderedPlatform) -> dict[str, str]:
    answers = mapping(platform.root / ".copier-answers.yml")
    return {str(c.get("name")): str(c["api_server"]) for c in answers.get("clusters") or []
            if isinstance(c, dict) and c.get("api_server")}


def remote_secrets_declared(platform: RenderedPlatform) -> list[str]:
    """Each cluster pushes its remote secret (a kubeconfig for its API server, from its reader token) to the key
    every peer's ExternalSecret pulls, in the same store; no cluster pulls a key nobody pushes."""
    clusters = _clusters(platform)
    if len(clusters) < 2:
        return []
    problems = []
    api_servers = _answers_api_servers(platform)
    pushed: dict[tuple[str, str, str], str] = {}  # (store kind, store, key) -> cluster
    pulled: list[tuple[str, str, tuple[str, str, str]]] = []  # (cluster, peer, (store kind, store, key))
    servers: dict[str, str] = {}
    for cluster in clusters:
        folder = f"mesh/clusters/{cluster}/remote-secrets"
        objects = _built(platform, folder)
        tokens = {o["metadata"]["name"] for o in objects if o.get("kind") == "Secret"
                  and o.get("type") == "kubernetes.io/service-account-token"
                  and (o["metadata"].get("annotations") or {}).get("kubernetes.io/service-account.name") == READER_ACCOUNT}
        pushes = [o for o in objects if o.get("kind") == "PushSecret"]
        if not pushes:
            problems.append(f"{folder}: {cluster} pushes no remote secret (PushSecret); its peers cannot reach its API server")
        for push in pushes:
            spec = push.get("spec") or {}
            where = f"{platform.origin(push)}: PushSecret {push['metadata']['name']}"
            source = ((spec.get("selector") or {}).get("secret") or {}).get("name")
            if source not in tokens:
                problems.append(f"{where}: pushes Secret {source!r}, not a token request for {READER_ACCOUNT} in {folder}")
            templates = (spec.get("template") or {}).get("data") or {}
            for entry in spec.get("data") or []:
                match = entry.get("match") or {}
                key = match.get("secretKey")
                remote = (match.get("remoteRef") or {}).get("remoteKey")
                kubeconfig = str(templates.get(key, ""))
                if key != cluster:
                    problems.append(f"{where}: pushes key {key!r}; istiod reads the remote secret's key as the cluster name {cluster!r}")
                server = SERVER.search(kubeconfig)
                context = CURRENT_CONTEXT.search(kubeconfig)
                if not server or not server.group(1).startswith("https://"):
                    problems.append(f"{where}: the kubeconfig it pushes has no https:// server URL")
                else:
                    servers[cluster] = server.group(1)
                    if cluster in api_servers and server.group(1) != api_servers[cluster]:
                        problems.append(f"{where}: server {server.group(1)} is not {cluster}'s api_server {api_servers[cluster]}")
                if not context or context.group(1) != cluster:
                    problems.append(f"{where}: the kubeconfig's current context must be named after the cluster {cluster!r}")
                for store in spec.get("secretStoreRefs") or []:
                    key = (str(store.get("kind", "SecretStore")), str(store.get("name")), str(remote))
                    if pushed.get(key, cluster) != cluster:
                        problems.append(f"{where}: {pushed[key]} already pushes {remote} to {key[0]} {key[1]}; one key per cluster")
                    pushed[key] = cluster
        for pull in (o for o in objects if o.get("kind") == "ExternalSecret"):
            spec = pull.get("spec") or {}
            store = spec.get("secretStoreRef") or {}
            peer = (((spec.get("target") or {}).get("template") or {}).get("metadata") or {}).get("annotations", {}).get("networking.istio.io/cluster")
            for entry in spec.get("data") or []:
                key = (str(store.get("kind", "SecretStore")), str(store.get("name")), str((entry.get("remoteRef") or {}).get("key")))
                pulled.append((cluster, str(peer), key))
                if entry.get("secretKey") != peer:
                    problems.append(f"{platform.origin(pull)}: ExternalSecret {pull['metadata']['name']}: key {entry.get('secretKey')!r} "
                                    f"must be the peer's name {peer!r}")
    for cluster, peer, key in pulled:
        if pushed.get(key) != peer:
            who = f"{pushed[key]} pushes it" if key in pushed else "nobody pushes it"
            problems.append(f"mesh/clusters/{cluster}/remote-secrets: pulls {key[2]} from {key[0]} {key[1]} as {peer}'s remote "
                            f"secret, but {who}")
    for key, cluster in pushed.items():
        readers = {c for c, peer, k in pulled if k == key and peer == cluster}
        if readers != set(clusters) - {cluster}:
            problems.append(f"mesh/clusters/{cluster}/remote-secrets: pushes {key[2]} to {key[0]} {key[1]}, read by "
                            f"{sorted(readers)}; every peer ({sorted(set(clusters) - {cluster})}) must read it")
    if len(set(servers.values())) < len(servers):
        problems.append(f"mesh/clusters/*/remote-secrets: clusters push the same API server {sorted(servers.items())}")
    return problems
