"""Production rules the rendered platform must keep, checked on what the engines will apply.

Each guardrail takes a RenderedPlatform and returns human-readable violations ('' never).
tests/test_guardrails.py shows each one catching the bad case it exists for.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable

import yaml

from istio_gitops_check import cross_cluster, mesh_trust, revision_tag_ownership
from istio_gitops_check.mesh_trust import CERTIFICATE, MESH_ROOT_FILE, certificate_bodies
from istio_gitops_check.addon_charts import ADDON_CHARTS, ADDON_ORDER, addon_step, expected_repository, pin_problem
from istio_gitops_check.admission_model import admission_problems
from istio_gitops_check.chart_written_labels import values_restate_chart_written_labels
from istio_gitops_check.external_authorization import providers_declared_problems, services_reachable_problems
from istio_gitops_check.gateway_fronts import gateway_fronts_problems
from istio_gitops_check.kubernetes_kinds import CLUSTER_SCOPED_KINDS, group_of, kind_name
from istio_gitops_check.rbac_reach import ALL_NAMESPACES, can, grants
from istio_gitops_check.rendered_platform import RenderedPlatform, application_sources
from istio_gitops_check.sidecar_injection import Injection

ROOT_NAMESPACE = "istio-config"
HEADER = "# Managed by istio-gitops-template (copier): your edits survive `copier update`."
PRIVATE_KEY_OR_TOKEN = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")
# Any kind of PEM certificate block; only plain CERTIFICATE blocks of the pinned root(s) (mesh_trust.MESH_ROOT_FILE,
# repeated by meshConfig.caCertificates, istio-csr's root ConfigMap and the answers file) may be in the repository.
CERTIFICATE_HEADER = re.compile(r"-----BEGIN [A-Z ]*CERTIFICATE-----")
# A Secret in Git is only ever a request for a service account token: Kubernetes fills it in the cluster.
TOKEN_REQUEST_TYPE = "kubernetes.io/service-account-token"
ISTIO_SYSTEM_CHARTS = frozenset({"base", "istiod"})
# What istiod reads from its own namespace, so it must live there: its CA (cert-manager writes `cacerts`)
# and the remote secrets of the other clusters (external-secrets writes them). No workloads.
# With several clusters, also what its peers read it with: the reader account's token Secret (requested, never
# written) and the PushSecret that sends the kubeconfig built from it to the secret store.
ISTIOD_INPUTS = frozenset({("cert-manager.io", "Certificate"), ("cert-manager.io", "Issuer"), ("external-secrets.io", "ExternalSecret"),
                           ("external-secrets.io", "PushSecret")})
# Where an anchor (&name) or alias (*name) can start a YAML token; a cheap filter before parsing a file.
ANCHOR_OR_ALIAS = re.compile(r"(?:^|[\s\[{,])[&*][^\s,\[\]{}]", re.MULTILINE)
# API groups of CRDs that add-ons install (external-secrets, cert-manager, aws-privateca-issuer). A unit that also
# installs Istio's base chart fails as a whole when one of them is missing: not even Istio's CRDs would install.
ADDON_GROUPS = frozenset({"external-secrets.io", "cert-manager.io", "awspca.cert-manager.io"})
# istiod's CA (`cacerts`, from cert-manager): its own unit, before istiod, never in the base chart's unit.
CERTIFICATES_STEP = "mesh-certificates"
CERTIFICATES_PATH = re.compile(r"mesh/clusters/[^/]+/certificates/?")
# ...which also writes, into cert-manager's namespace, the account cert-manager logs in to Vault with and the Role
# letting cert-manager request its token (vault), or the pinned root istio-csr mounts (istio-csr). The mesh project
# lists cert-manager as a destination only then; no proxy runs there, so an EnvoyFilter there would act on nothing.
CERT_MANAGER_NAMESPACE = "cert-manager"
CERT_MANAGER_INPUTS = frozenset({("", "ServiceAccount"), ("rbac.authorization.k8s.io", "Role"),
                                 ("rbac.authorization.k8s.io", "RoleBinding"), ("", "ConfigMap")})
# The peers' remote secrets (ExternalSecrets): not Ready until each peer has joined, so after istiod and last
# (Argo CD waits for a wave's health before the next one), pruned, so a removed cluster's secrets go.
REMOTE_SECRETS_STEP = "remote-secrets"
REMOTE_SECRETS_PATH = re.compile(r"mesh/clusters/[^/]+/remote-secrets/?")
ARGOCD_FINALIZER = "resources-finalizer.argocd.argoproj.io"
SYNC_WAVE_ORDER = ("istio-base", "istiod", "revision-tags", "gateways", "mesh-config", "apps")
REVISION_TAGS_PATH = "mesh/revision-tags"


def builds_cleanly(platform: RenderedPlatform) -> list[str]:
    """Every kustomization builds without errors or warnings; engine wiring resolves inside the repo."""
    return list(platform.build_errors.values()) + platform.wiring_problems


def istiod_sets_mesh_identity(platform: RenderedPlatform) -> list[str]:
    """Every istiod release uses istio-config as root namespace and sets mesh ID, cluster, network, trust domain."""
    problems = []
    for release in platform.helm_releases:
        if release.chart != "istiod":
            continue
        values = release.values
        mesh = values.get("meshConfig", {})
        glob = values.get("global", {})
        required = {
            "meshConfig.rootNamespace": mesh.get("rootNamespace"),
            "meshConfig.trustDomain": mesh.get("trustDomain"),
            "global.meshID": glob.get("meshID"),
            "global.multiCluster.clusterName": glob.get("multiCluster", {}).get("clusterName"),
            "global.network": glob.get("network"),
            "revision": values.get("revision"),
        }
        for key, value in required.items():
            if not value:
                problems.append(f"{release.declared_in}: istiod release {release.release_name} does not set {key}")
        if mesh.get("rootNamespace") and mesh.get("rootNamespace") != ROOT_NAMESPACE:
            problems.append(
                f"{release.declared_in}: meshConfig.rootNamespace is {mesh.get('rootNamespace')!r}, must be {ROOT_NAMESPACE}"
            )
        cluster_name = glob.get("multiCluster", {}).get("clusterName")
        if cluster_name and release.cluster and cluster_name != release.cluster:
            problems.append(
                f"{release.declared_in}: clusterName {cluster_name!r} differs from destination cluster {release.cluster!r}"
            )
    if not any(r.chart == "istiod" for r in platform.helm_releases):
        problems.append("no istiod release is declared")
    return problems


def mesh_identity_consistent(platform: RenderedPlatform) -> list[str]:
    """All istiod releases share one mesh ID and one trust domain."""
    istiods = [r for r in platform.helm_releases if r.chart == "istiod"]
    mesh_ids = {r.values.get("global", {}).get("meshID") for r in istiods}
    domains = {r.values.get("meshConfig", {}).get("trustDomain") for r in istiods}
    where = ", ".join(sorted({r.file for r in istiods}))
    problems = []
    if len(mesh_ids) > 1:
        problems.append(f"{where}: istiod releases disagree on global.meshID: {sorted(map(str, mesh_ids))}")
    if len(domains) > 1:
        problems.append(f"{where}: istiod releases disagree on meshConfig.trustDomain: {sorted(map(str, domains))}")
    return problems


def istio_system_holds_only_istiod(platform: RenderedPlatform) -> list[str]:
    """Only the base and istiod charts install into istio-system; kustomize adds nothing but the Namespace."""
    problems = [
        f"{r.declared_in}: chart {r.chart!r} installs into istio-system; only istiod (and base) belong there"
        for r in platform.helm_releases
        if r.namespace == "istio-system" and r.chart not in ISTIO_SYSTEM_CHARTS
    ]
    problems += [
        f"{platform.describe(obj)}: only istiod lives in istio-system"
        for obj in platform.unique_objects
        if obj.get("metadata", {}).get("namespace") == "istio-system"
        and (group_of(obj.get("apiVersion", "")), obj.get("kind")) not in ISTIOD_INPUTS
        and not _is_tag_service(obj) and not is_token_request(obj)
    ]
    return problems


def _is_tag_service(obj: dict) -> bool:
    """A revision tag's Service: selects istiod pods of one revision, runs nothing (revision_tag_ownership.py)."""
    return obj.get("kind") == "Service" and str(obj.get("metadata", {}).get("name", "")).startswith(revision_tag_ownership.TAG_SERVICE_PREFIX)


def envoyfilters_only_in_root_namespace(platform: RenderedPlatform) -> list[str]:
    """EnvoyFilters live in istio-config and nowhere else."""
    return [
        f"{platform.describe(obj)}: EnvoyFilters belong in {ROOT_NAMESPACE} only"
        for obj in platform.unique_objects
        if obj.get("kind") == "EnvoyFilter" and obj.get("metadata", {}).get("namespace") != ROOT_NAMESPACE
    ]


def strict_mtls_by_default(platform: RenderedPlatform) -> list[str]:
    """A selector-less STRICT PeerAuthentication sits in istio-config, and nothing weakens mTLS."""
    problems = []
    objects = platform.unique_objects
    defaults = [
        obj
        for obj in objects
        if obj.get("kind") == "PeerAuthentication"
        and obj.get("metadata", {}).get("namespace") == ROOT_NAMESPACE
        and not obj.get("spec", {}).get("selector")
        and obj.get("spec", {}).get("mtls", {}).get("mode") == "STRICT"
    ]
    if not defaults:
        problems.append(f"mesh/base/{ROOT_NAMESPACE}: no mesh-wide STRICT PeerAuthentication (selector-less) in {ROOT_NAMESPACE}")
    for obj in objects:
        if obj.get("kind") != "PeerAuthentication":
            continue
        modes = [obj.get("spec", {}).get("mtls", {}).get("mode")]
        modes += [p.get("mode") for p in obj.get("spec", {}).get("portLevelMtls", {}).values()]
        weak = [m for m in modes if m in ("PERMISSIVE", "DISABLE")]
        if weak:
            problems.append(f"{platform.describe(obj)}: mTLS mode {weak[0]} weakens the STRICT default")
    return problems


def default_sidecar_limits_egress(platform: RenderedPlatform) -> list[str]:
    """The mesh-wide default Sidecar exists and imports the own namespace and istio-system only (plus egress)."""
    sidecars = [
        obj
        for obj in platform.unique_objects
        if obj.get("kind") == "Sidecar"
        and obj.get("metadata", {}).get("namespace") == ROOT_NAMESPACE
        and not obj.get("spec", {}).get("workloadSelector")
    ]
    if len(sidecars) != 1:
        where = ", ".join(sorted({platform.origin(s) for s in sidecars})) or f"mesh/base/{ROOT_NAMESPACE}"
        return [f"{where}: expected exactly one selector-less default Sidecar in {ROOT_NAMESPACE}, found {len(sidecars)}"]
    hosts = [h for egress in sidecars[0].get("spec", {}).get("egress", []) for h in egress.get("hosts", [])]
    where = platform.origin(sidecars[0])
    problems = [f"{where}: default Sidecar must import {h!r}" for h in ("./*", "istio-system/*") if h not in hosts]
    problems += [f"{where}: default Sidecar imports everything through {h!r}" for h in hosts if h.startswith("*/")]
    return problems


def gateway_hosts_namespace_scoped(platform: RenderedPlatform) -> list[str]:
    """Every Gateway host carries the `./` (or its own namespace's) prefix: a bare host, or `*/host`, lets a
    VirtualService in any namespace bind to the Gateway and merge routes into other teams' traffic.
    AUTO_PASSTHROUGH servers (the east-west gateway) route by SNI to services directly; no VirtualService binds
    there, and Istio's multi-network setup writes their hosts as `*.local`."""
    problems = []
    for obj in platform.unique_objects:
        if obj.get("kind") != "Gateway" or not str(obj.get("apiVersion", "")).startswith("networking.istio.io/"):
            continue
        namespace = obj.get("metadata", {}).get("namespace")
        for server in obj.get("spec", {}).get("servers", []) or []:
            if (server.get("tls") or {}).get("mode") == "AUTO_PASSTHROUGH":
                continue
            for host in server.get("hosts", []) or []:
                scope, _, _ = str(host).rpartition("/")
                if scope not in (".", namespace):
                    problems.append(f"{platform.describe(obj)}: host {host!r} accepts VirtualServices from "
                                    f"{'every namespace' if scope in ('', '*') else scope}; write it as './{str(host).rpartition('/')[2]}'")
    return problems


def pod_security_enforced(platform: RenderedPlatform) -> list[str]:
    """Every namespace the repo applies enforces Pod Security: `restricted` in istio-system, istio-config, the
    gateway namespaces and the add-ons' namespaces, at least `baseline` elsewhere, `privileged` only where the
    istio-cni node agent runs."""
    problems = []
    cni_namespaces = {r.namespace for r in platform.helm_releases if r.chart == "cni"}
    platform_namespaces = {"istio-system", ROOT_NAMESPACE} | {r.namespace for r in platform.helm_releases if r.chart == "gateway"
                                                              or r.chart in ADDON_CHARTS}
    for obj in platform.applied_unique_objects:
        if obj.get("kind") != "Namespace":
            continue
        name = obj["metadata"]["name"]
        level = (obj["metadata"].get("labels") or {}).get("pod-security.kubernetes.io/enforce")
        if level is None:
            problems.append(f"{platform.describe(obj)}: no pod-security.kubernetes.io/enforce label; "
                            "without it any pod runs privileged (restricted, or baseline where a workload needs it)")
        elif name in cni_namespaces:
            continue
        elif level == "privileged":
            problems.append(f"{platform.describe(obj)}: Pod Security privileged hands pods the node; only the istio-cni "
                            "node agent's namespace may be privileged")
        elif name in platform_namespaces and level != "restricted":
            problems.append(f"{platform.describe(obj)}: Pod Security {level}; the platform's own namespaces enforce restricted")
    return problems


def istio_cni_runs_alone(platform: RenderedPlatform) -> list[str]:
    """Per cluster: istiod's `cni.enabled` matches an istio-cni release, which has a namespace of its own."""
    problems = []
    for cluster, releases in sorted(_by_cluster(platform.helm_releases).items()):
        cni = [r for r in releases if r.chart == "cni"]
        for release in (r for r in releases if r.chart == "istiod"):
            wants_cni = Injection.from_values(release.values).cni
            if wants_cni and not cni:
                problems.append(f"{release.declared_in}: istiod {release.release_name} expects the istio-cni node agent, "
                                f"which cluster {cluster} does not install: injected pods would never start")
            if cni and not wants_cni:
                problems.append(f"{release.declared_in}: istiod {release.release_name} does not set cni.enabled: its pods get "
                                "the NET_ADMIN istio-init container, which Pod Security refuses")
        for release in cni:
            others = [r.release_name for r in releases if r.namespace == release.namespace and r.chart != "cni"]
            if others:
                problems.append(f"{release.declared_in}: namespace {release.namespace} is privileged for istio-cni and "
                                f"must hold nothing else, but also gets {', '.join(others)}")
    cni_namespaces = {r.namespace for r in platform.helm_releases if r.chart == "cni"}
    problems += [
        f"{platform.describe(obj)}: {obj['metadata']['namespace']} is privileged for istio-cni and must hold nothing else"
        for obj in platform.unique_objects
        if (obj.get("metadata") or {}).get("namespace") in cni_namespaces
    ]
    return problems


def gateways_outside_istio_system(platform: RenderedPlatform) -> list[str]:
    """Gateway deployments and Gateway resources stay out of istio-system (and away from istiod's secrets)."""
    problems = [
        f"{r.declared_in}: gateway release {r.release_name} must not run in istio-system"
        for r in platform.helm_releases
        if r.chart == "gateway" and r.namespace in ("istio-system", ROOT_NAMESPACE)
    ]
    problems += [
        f"{platform.describe(obj)}: Gateway resources belong in a gateway namespace"
        for obj in platform.unique_objects
        if obj.get("kind") == "Gateway" and obj.get("metadata", {}).get("namespace") in ("istio-system", ROOT_NAMESPACE)
    ]
    return problems


def is_token_request(obj: dict) -> bool:
    """A Secret that asks Kubernetes for a service account's token: its type, the account named, no data."""
    return (obj.get("kind") == "Secret" and obj.get("apiVersion") == "v1" and obj.get("type") == TOKEN_REQUEST_TYPE
            and bool(((obj.get("metadata") or {}).get("annotations") or {}).get("kubernetes.io/service-account.name"))
            and not obj.get("data") and not obj.get("stringData") and set(obj) <= {"apiVersion", "kind", "metadata", "type"})


def no_key_material(platform: RenderedPlatform) -> list[str]:
    """No private key or token anywhere in the repository; no certificate but the pinned root(s) of
    mesh/trust/root-ca.pem; no Secret but a service account token request (no data: Kubernetes fills it)."""
    problems = [f"{platform.describe(obj)}: Secrets never live in Git (only a service account token request: type "
                f"{TOKEN_REQUEST_TYPE}, the account in its annotation, no data)"
                for obj in platform.unique_objects if obj.get("kind") == "Secret" and not is_token_request(obj)]
    root_file = platform.root / MESH_ROOT_FILE
    pinned = certificate_bodies(platform.text(root_file)) if root_file in platform.files else frozenset()
    for path in platform.files:
        text = platform.text(path)
        if PRIVATE_KEY_OR_TOKEN.search(text):
            problems.append(f"{platform.relative(path)}: contains a PEM private key or token; never put one in Git")
        elif CERTIFICATE_HEADER.search(text) and (text.count("-----BEGIN") != len(CERTIFICATE.findall(text))
                                                 or not certificate_bodies(text) <= pinned):
            problems.append(f"{platform.relative(path)}: contains a certificate that is not the mesh's pinned root "
                            f"({MESH_ROOT_FILE}); only the public root may live in Git")
        if re.search(r"^kind:\s*Secret\s*$", text, re.MULTILINE):
            secrets = [d for d in platform.documents(path) if d.get("kind") == "Secret"] if path.suffix in (".yaml", ".yml") else []
            if not secrets or not all(is_token_request(d) for d in secrets):
                problems.append(f"{platform.relative(path)}: declares a Secret")
    return problems


def no_yaml_anchors(platform: RenderedPlatform) -> list[str]:
    """YAML reads as people write it: no anchors and aliases (&id001/*id001), which hide what a field holds and
    which kustomize, Argo CD and Flux expand differently from what a reviewer sees."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    problems = []
    for path in platform.files:
        if path.suffix not in (".yaml", ".yml"):
            continue
        try:
            text = platform.text(path)
            if not ANCHOR_OR_ALIAS.search(text):
                continue
            events = list(yaml.parse(text, Loader=loader))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue  # yamllint reports it
        for event in events:
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                problems.append(f"{platform.relative(path)}:{event.start_mark.line + 1}: YAML anchor or alias "
                                f"{getattr(event, 'anchor', '')!r}; write the value out")
                break
    return problems


def files_carry_header(platform: RenderedPlatform) -> list[str]:
    """Every file the template or its hooks generate starts with the one header line; a file you add needs none
    (generated_paths.py lists the generated paths; the answers files carry copier's own line)."""
    from istio_gitops_check.generated_paths import is_generated

    problems = []
    for path in platform.files:
        if not is_generated(platform.relative(path)):
            continue
        first = platform.text(path).split("\n", 1)[0]
        expected = HEADER if path.suffix != ".md" else f"<!-- {HEADER.removeprefix('# ')} -->"
        if first != expected and not first.endswith(HEADER.removeprefix("# ")):
            problems.append(f"{platform.relative(path)}: first line is not the template header")
    return problems


def no_orphan_manifests(platform: RenderedPlatform) -> list[str]:
    """Every Kubernetes object written in a YAML file is part of some kustomization build."""
    built = {(o.get("kind"), o.get("metadata", {}).get("namespace"), o.get("metadata", {}).get("name")) for o in platform.objects}
    problems = []
    for path in platform.files:
        if path.suffix not in (".yaml", ".yml") or path.name.startswith("kustomization"):
            continue
        for doc in platform.documents(path):
            if "apiVersion" in doc and "kind" in doc:
                meta = doc.get("metadata", {})
                if (doc["kind"], meta.get("namespace"), meta.get("name")) not in built:
                    problems.append(f"{platform.relative(path)}: {kind_name(doc)} is in no kustomization")
    return problems


def _cert_manager_input(path: str, obj: dict) -> bool:
    """What the certificates unit writes into cert-manager's namespace for cert-manager or istio-csr to read."""
    return (bool(CERTIFICATES_PATH.fullmatch(path)) and obj.get("metadata", {}).get("namespace") == CERT_MANAGER_NAMESPACE
            and (group_of(obj.get("apiVersion", "")), obj.get("kind")) in CERT_MANAGER_INPUTS)


def argocd_projects_confine_applications(platform: RenderedPlatform) -> list[str]:
    """Each Application's project exists, allows its destination, its sources and every kind it deploys."""
    objects = platform.unique_objects
    projects = {o["metadata"]["name"]: o.get("spec", {}) for o in objects if o.get("kind") == "AppProject"}
    project_files = {o["metadata"]["name"]: platform.origin(o) for o in objects if o.get("kind") == "AppProject"}
    problems = []
    for app in (o for o in objects if o.get("kind") == "Application"):
        name = app["metadata"]["name"]
        spec = app.get("spec", {})
        project = projects.get(spec.get("project"))
        if project is None:
            problems.append(f"{platform.origin(app)}: Application {name}: project {spec.get('project')!r} is not defined")
            continue
        dest = spec.get("destination", {})
        allowed = any(
            (d.get("name") == dest.get("name") if "name" in dest else d.get("server") == dest.get("server"))
            and d.get("namespace") in (dest.get("namespace"), "*")
            for d in project.get("destinations", [])
        )
        if not allowed:
            problems.append(f"{platform.origin(app)}: Application {name}: destination {dest} is not allowed by project {spec.get('project')}")
        sources = application_sources(spec)
        for source in sources:
            if source.get("repoURL") not in project.get("sourceRepos", []):
                problems.append(f"{platform.origin(app)}: Application {name}: source {source.get('repoURL')} is not in the project's sourceRepos")
            if "path" not in source:
                continue
            directory = platform.root / source["path"]
            if directory not in platform.builds:
                problems.append(f"{platform.origin(app)}: Application {name}: path {source['path']} is not a kustomization that builds")
                continue
            cluster_kinds = {(k.get("group", ""), k.get("kind")) for k in project.get("clusterResourceWhitelist", [])}
            namespaced_kinds = {(k.get("group", ""), k.get("kind")) for k in project.get("namespaceResourceWhitelist", [])}
            for obj in platform.builds[directory]:
                key = (group_of(obj.get("apiVersion", "")), obj.get("kind"))
                whitelist = cluster_kinds if obj.get("kind") in CLUSTER_SCOPED_KINDS else namespaced_kinds
                if key not in whitelist:
                    problems.append(f"{platform.origin(app)}: Application {name}: project {spec.get('project')} does not allow {kind_name(obj)}")
                elif whitelist is cluster_kinds and not _cluster_name_allowed(project, key, obj["metadata"].get("name", "")):
                    problems.append(f"{platform.origin(app)}: Application {name}: project {spec.get('project')} allows {key[1]} "
                                    f"only under other names than {obj['metadata'].get('name')!r}")
                namespace = obj.get("metadata", {}).get("namespace")
                if namespace and namespace != dest.get("namespace") and not _cert_manager_input(source["path"], obj):
                    problems.append(f"{platform.origin(app)}: Application {name}: {kind_name(obj)} lies outside its destination namespace")
                if obj.get("kind") == "Namespace" and obj["metadata"]["name"] != dest.get("namespace"):
                    problems.append(f"{platform.origin(app)}: Application {name}: creates Namespace {obj['metadata']['name']} it does not target")
        if any(k.get("kind") in ("EnvoyFilter", "*") for k in project.get("namespaceResourceWhitelist", [])) and not all(
            d.get("namespace") in (ROOT_NAMESPACE, "istio-system", CERT_MANAGER_NAMESPACE) for d in project.get("destinations", [])
        ):
            problems.append(f"{project_files.get(spec.get('project'), '.')}: AppProject {spec.get('project')}: allows EnvoyFilter outside {ROOT_NAMESPACE}")
    for name, project in projects.items():
        for entry in project.get("clusterResourceWhitelist", []) + project.get("namespaceResourceWhitelist", []):
            if "*" in (entry.get("group"), entry.get("kind")):
                problems.append(f"{project_files.get(name, '.')}: AppProject {name}: wildcard resource {entry} is not least privilege")
    for release in platform.helm_releases:
        if release.chart in ("base", "istiod", "gateway") and not release.value_sources:
            problems.append(f"{release.declared_in}: chart {release.chart} has no values files from Git")
    return problems


def _cluster_name_allowed(project: dict, key: tuple[str, str], name: str) -> bool:
    """Whether a cluster-scoped object of kind `key` named `name` passes the project's whitelist: Argo CD matches an
    entry's optional `name` as a glob, and an entry without one allows every name."""
    entries = [e for e in project.get("clusterResourceWhitelist", []) if (e.get("group", ""), e.get("kind")) == key]
    return any(not e.get("name") or fnmatch.fnmatchcase(name, e["name"]) for e in entries)


def _flux_kustomizations(platform: RenderedPlatform) -> list[dict]:
    return [o for o in platform.applied_unique_objects
            if o.get("kind") == "Kustomization" and str(o.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/")]


def every_entry_point_is_synced(platform: RenderedPlatform) -> list[str]:
    """Every kustomization nothing else includes is the path of an Argo CD Application or a Flux
    Kustomization: no dead overlays."""
    synced = set()
    for app in platform.unique_objects:
        if app.get("kind") == "Application":
            spec = app.get("spec", {})
            for source in application_sources(spec):
                if "path" in source:
                    synced.add((platform.root / source["path"]).resolve())
    for kustomization in _flux_kustomizations(platform):
        synced.add((platform.root / kustomization.get("spec", {}).get("path", "")).resolve())
    return [
        f"{platform.relative(directory)}: no Application or Flux Kustomization syncs this kustomization"
        for directory in platform.entry_points
        if directory.resolve() not in synced
    ]


def _sync_step(spec: dict, applied_groups: frozenset[str] = frozenset()) -> str | None:
    """Which step of the install order an Application performs, judged by what it deploys (its charts, paths and
    the API groups its paths build)."""
    sources = application_sources(spec)
    charts = {s.get("chart") for s in sources if "chart" in s}
    paths = [s.get("path", "") for s in sources if "path" in s]
    if step := addon_step(charts):
        return step
    if charts & {"base", "cni"} or any(p.startswith("gateways/namespaces/") for p in paths):
        return "istio-base"  # CRDs, the CNI node agent, and the namespaces everything else installs into
    if "external-secrets.io" in applied_groups or any(REMOTE_SECRETS_PATH.fullmatch(p) for p in paths):
        return REMOTE_SECRETS_STEP
    if applied_groups & ADDON_GROUPS or any(CERTIFICATES_PATH.fullmatch(p) for p in paths):
        return CERTIFICATES_STEP
    if "istiod" in charts:
        return "istiod"
    if REVISION_TAGS_PATH in paths:
        return "revision-tags"
    if any(p.startswith(("apps/", "teams/", "gateways/requests/")) for p in paths):
        return "apps"
    if "gateway" in charts or any(p.startswith("gateways/") for p in paths):
        return "gateways"
    if any(p.startswith("mesh/") for p in paths):
        return "mesh-config"
    if any(p.startswith("apps/") for p in paths):
        return "apps"
    return None


def _application_groups(platform: RenderedPlatform, spec: dict) -> frozenset[str]:
    """The API groups of the objects an Application's Git paths build (its charts' objects not included)."""
    sources = application_sources(spec)
    return frozenset(group_of(str(o.get("apiVersion", ""))) for s in sources if "path" in s and "chart" not in s
                     for o in platform.builds.get(platform.root / s["path"], []))


def _argocd_children(platform: RenderedPlatform, app: dict) -> list[dict]:
    """The Applications an Application renders from its Git paths."""
    spec = app.get("spec", {})
    return [o for s in application_sources(spec)
            if "path" in s and "chart" not in s for o in platform.builds.get(platform.root / s["path"], [])
            if o.get("kind") == "Application" and str(o.get("apiVersion", "")).startswith("argoproj.io/")]


def argocd_sync_order(platform: RenderedPlatform) -> list[str]:
    """Per cluster and parent (waves order the Applications one parent syncs, nothing else): Istio base/CRDs,
    then istiod, gateways, mesh config, apps (Argo CD sync waves); istiod's
    certificates in a wave before istiod, remote secrets after every other wave and pruned; no add-on CRD's object
    in the unit that installs the base chart; each add-on (known by its chart) in a wave before its first user
    (addon_charts.ADDON_ORDER)."""
    unit_problems: list[str] = []
    waves: dict[tuple[str, str], dict[str, list[int]]] = {}
    files: dict[tuple[str, str], set[str]] = {}
    parent_of = {c["metadata"]["name"]: a["metadata"]["name"] for a in platform.unique_objects if a.get("kind") == "Application"
                 for c in _argocd_children(platform, a)}
    for app in platform.unique_objects:
        if app.get("kind") != "Application":
            continue
        spec = app.get("spec", {})
        groups = _application_groups(platform, spec)
        step = _sync_step(spec, groups)
        if step is None:
            continue
        where = f"{platform.origin(app)}: Application {app['metadata']['name']}"
        if step == "istio-base" and groups & ADDON_GROUPS:
            unit_problems.append(f"{where} installs Istio's CRDs and also objects of add-on CRDs ({', '.join(sorted(groups & ADDON_GROUPS))}): "
                                 "a missing add-on would stop Istio's own install; give them their own Application")
        if step == REMOTE_SECRETS_STEP and not spec.get("syncPolicy", {}).get("automated", {}).get("prune"):
            unit_problems.append(f"{where} applies remote secrets without prune: a removed cluster's secret would stay")
        siblings = (spec.get("destination", {}).get("name", ""), parent_of.get(app["metadata"]["name"], ""))
        files.setdefault(siblings, set()).add(platform.origin(app))
        wave = int(app["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0"))
        waves.setdefault(siblings, {}).setdefault(step, []).append(wave)
    problems = []
    for (cluster, parent), steps in sorted(waves.items()):
        present = [s for s in (*SYNC_WAVE_ORDER, REMOTE_SECRETS_STEP) if s in steps]
        if CERTIFICATES_STEP in steps and "istiod" in steps and max(steps[CERTIFICATES_STEP]) >= min(steps["istiod"]):
            problems.append(f"{', '.join(sorted(files[cluster, parent]))}: cluster {cluster}: {CERTIFICATES_STEP} (wave "
                            f"{max(steps[CERTIFICATES_STEP])}) must sync before istiod (wave {min(steps['istiod'])}), which needs cacerts")
        for earlier, later in [*zip(present, present[1:]), *ADDON_ORDER]:
            if earlier in steps and later in steps and max(steps[earlier]) >= min(steps[later]):
                problems.append(
                    f"{', '.join(sorted(files[cluster, parent]))}: cluster {cluster}: {earlier} (wave {max(steps[earlier])}) must sync before "
                    f"{later} (wave {min(steps[later])})"
                )
    return unit_problems + problems


def charts_from_istio_release_repository(platform: RenderedPlatform) -> list[str]:
    """Istio charts come from the maintained location, add-on charts from their own upstream repositories, each
    pinned to an exact version (an add-on's may carry a leading v); any other chart is refused."""
    return [f"{r.declared_in}: {problem}" for r in platform.helm_releases if (problem := pin_problem(r.chart, r.repository, r.version))]


FLUX_INSTALL_ORDER = ("istio-base", "istiod", "revision-tags", "gateways", "mesh-config", "tenants")


def _flux_step(kustomization: dict, applied_groups: frozenset[str] = frozenset(), charts: frozenset[str] = frozenset()) -> str | None:
    path = kustomization.get("spec", {}).get("path", "").removeprefix("./")
    name = kustomization["metadata"]["name"]
    if kustomization["metadata"].get("namespace") != "flux-system" or name == "flux-system":
        return None
    if step := addon_step(charts):
        return step
    if name in ("istio-base", "istio-cni"):
        return "istio-base"
    if "external-secrets.io" in applied_groups or REMOTE_SECRETS_PATH.fullmatch(path):
        return REMOTE_SECRETS_STEP
    if applied_groups & ADDON_GROUPS or CERTIFICATES_PATH.fullmatch(path):
        return CERTIFICATES_STEP
    if name.startswith("istiod-"):
        return "istiod"
    if path == REVISION_TAGS_PATH:
        return "revision-tags"
    if path.startswith("mesh/"):
        return "mesh-config"
    if name in ("tenants", "teams") or path.startswith("tenants/"):
        return "tenants"
    return "gateways"


def _kustomization_objects(platform: RenderedPlatform, kustomization: dict) -> list[dict]:
    return platform.builds.get((platform.root / str(kustomization.get("spec", {}).get("path", "")).removeprefix("./")).resolve(), [])


def _kustomization_charts(platform: RenderedPlatform, kustomization: dict) -> frozenset[str]:
    """The charts of the HelmReleases a Flux Kustomization applies."""
    return frozenset(str(o.get("spec", {}).get("chart", {}).get("spec", {}).get("chart", ""))
                     for o in _kustomization_objects(platform, kustomization) if o.get("kind") == "HelmRelease")


def _kustomization_groups(platform: RenderedPlatform, kustomization: dict) -> frozenset[str]:
    return frozenset(group_of(str(o.get("apiVersion", ""))) for o in _kustomization_objects(platform, kustomization))


def flux_kustomizations_well_formed(platform: RenderedPlatform) -> list[str]:
    """Every Flux Kustomization prunes (except the CRD owner), has an interval, a timeout, an existing
    source and path, and platform ones run as kustomize-controller explicitly (the lockdown's default
    account would otherwise apply). The one applying remote secrets does not wait for them (an ExternalSecret
    is not Ready until its peer has joined), and the one installing the base chart applies no add-on CRD's object."""
    problems = []
    built = {d.resolve() for d in platform.builds}
    sources = {(o["metadata"].get("namespace"), o["metadata"]["name"]) for o in platform.applied_unique_objects if o.get("kind") == "GitRepository"}
    for kustomization in _flux_kustomizations(platform):
        name, namespace = kustomization["metadata"]["name"], kustomization["metadata"].get("namespace")
        spec = kustomization.get("spec", {})
        where = f"{platform.origin(kustomization)}: Kustomization {namespace}/{name}"
        for key in ("interval", "timeout", "prune") if name != "flux-system" else ("interval", "prune"):
            if key not in spec:
                problems.append(f"{where}: spec.{key} is not set")
        if spec.get("prune") is False and name != "istio-base":
            problems.append(f"{where}: prune is off; only istio-base (which owns the CRDs) may keep removed objects")
        groups = _kustomization_groups(platform, kustomization)
        if "external-secrets.io" in groups and spec.get("wait") is not False:
            problems.append(f"{where}: applies remote secrets (ExternalSecrets) with wait on: it is not Ready until every "
                            "peer has joined; set wait: false")
        if "base" in _kustomization_charts(platform, kustomization) and groups & ADDON_GROUPS:
            problems.append(f"{where}: installs Istio's CRDs and also objects of add-on CRDs ({', '.join(sorted(groups & ADDON_GROUPS))}): "
                            "a missing add-on would stop Istio's own install; give them their own Kustomization")
        source = spec.get("sourceRef", {})
        if (source.get("namespace", namespace), source.get("name")) not in sources:
            problems.append(f"{where}: source {source} is not defined")
        if "${" in spec.get("path", ""):
            problems.append(f"{where}: path {spec['path']} still holds an unresolved variable")
        elif (platform.root / spec.get("path", "")).resolve() not in built:
            problems.append(f"{where}: path {spec.get('path')} is not a kustomization that builds")
        if namespace == "flux-system" and name != "flux-system" and spec.get("serviceAccountName") != "kustomize-controller":
            problems.append(f"{where}: platform Kustomizations must set serviceAccountName: kustomize-controller")
    return problems


def flux_install_order(platform: RenderedPlatform) -> list[str]:
    """Per cluster, dependsOn orders Istio base/CRDs -> istiod -> gateways -> mesh config -> tenants; istiod's
    certificates after istio-base and before istiod; remote secrets after istiod, and nothing else waits for them;
    each add-on (known by its chart) before its first user (addon_charts.ADDON_ORDER)."""
    problems = []
    for directory, objects in platform.builds.items():
        if platform.relative(directory).count("/") != 1 or not platform.relative(directory).startswith("clusters/"):
            continue
        kustomizations = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "Kustomization"
                          and str(o.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/")}

        def ancestors(name: str, seen: frozenset = frozenset()) -> set[str]:
            found: set[str] = set()
            for dependency in kustomizations.get(name, {}).get("spec", {}).get("dependsOn", []):
                if dependency["name"] not in seen:
                    found |= {dependency["name"]} | ancestors(dependency["name"], seen | {name})
            return found

        steps = {name: _flux_step(k, _kustomization_groups(platform, k), _kustomization_charts(platform, k))
                 for name, k in kustomizations.items()}
        for name, step in steps.items():
            if step is None:
                continue
            required = _flux_required(step, steps)
            missing = required - ancestors(name)
            if missing:
                problems.append(f"{platform.relative(directory)}: Kustomization {name} must depend on {', '.join(sorted(missing))}")
    return problems


def _flux_required(step: str, steps: dict[str, str | None]) -> set[str]:
    """The Kustomizations one of `step` must depend on (directly or not): the steps before it, and the add-ons
    it uses (addon_charts.ADDON_ORDER; an add-on another team runs has no Kustomization, so none is required)."""
    addons = {n for n, s in steps.items() if (s, step) in ADDON_ORDER}
    if step in ADDON_CHARTS:
        return addons
    if step == CERTIFICATES_STEP:
        return addons | ({"istio-base"} & set(steps))  # the istio-system namespace
    earlier = FLUX_INSTALL_ORDER[: FLUX_INSTALL_ORDER.index("istiod") + 1 if step == REMOTE_SECRETS_STEP else FLUX_INSTALL_ORDER.index(step)]
    certificates = (CERTIFICATES_STEP,) if "istiod" in (*earlier, step) else ()
    return addons | {n for n, s in steps.items() if s in earlier or s in certificates}


def flux_helm_releases_remediate(platform: RenderedPlatform) -> list[str]:
    """HelmReleases retry and roll back, keep CRDs current (base), impersonate helm-controller,
    and take the chart from its own upstream repository (Istio's, or the add-on's)."""
    problems = []
    repositories = {o["metadata"]["name"]: o for o in platform.applied_unique_objects if o.get("kind") == "HelmRepository"}
    for release in (o for o in platform.applied_unique_objects if o.get("kind") == "HelmRelease"):
        name = f'{platform.origin(release)}: HelmRelease {release["metadata"]["name"]}'
        spec = release.get("spec", {})
        if not spec.get("install", {}).get("remediation", {}).get("retries"):
            problems.append(f"{name}: install.remediation.retries is not set")
        if spec.get("upgrade", {}).get("remediation", {}).get("strategy") != "rollback":
            problems.append(f"{name}: upgrade.remediation.strategy must be rollback")
        if spec.get("serviceAccountName") != "helm-controller":
            problems.append(f"{name}: must set serviceAccountName: helm-controller under the lockdown")
        chart = spec.get("chart", {}).get("spec", {})
        if chart.get("chart") == "base":
            for phase in ("install", "upgrade"):
                if spec.get(phase, {}).get("crds") != "CreateReplace":
                    problems.append(f"{name}: {phase}.crds must be CreateReplace so CRDs follow the chart")
        repository = repositories.get(chart.get("sourceRef", {}).get("name"))
        expected = expected_repository(str(chart.get("chart", "")))
        if expected is None:
            problems.append(f"{name}: chart {chart.get('chart')!r} is neither an Istio chart nor a known add-on")
        elif repository is None or str(repository.get("spec", {}).get("url", "")).rstrip("/") != expected:
            problems.append(f"{name}: chart source must be the HelmRepository for {expected}")
    return problems


LOCKDOWN_FLAGS = {
    "kustomize-controller": ("--no-cross-namespace-refs=true", "--no-remote-bases=true", "--default-service-account=flux"),
    "helm-controller": ("--no-cross-namespace-refs=true", "--default-service-account=flux"),
    "notification-controller": ("--no-cross-namespace-refs=true",),
}


def flux_controllers_locked_down(platform: RenderedPlatform) -> list[str]:
    """After bootstrap, the controllers run with the multi-tenancy lockdown flags."""
    problems = []
    for directory, objects in platform.builds.items():
        if not platform.relative(directory).endswith("/flux-system"):
            continue
        deployments = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "Deployment"}
        for controller, flags in LOCKDOWN_FLAGS.items():
            args = deployments.get(controller, {}).get("spec", {}).get("template", {}).get("spec", {}).get("containers", [{}])[0].get("args", [])
            problems += [f"{platform.relative(directory)}: {controller} lacks {flag}" for flag in flags if flag not in args]
    return problems


def tenants_confined(platform: RenderedPlatform) -> list[str]:
    """Persona units (Flux Kustomizations outside flux-system: teams, and the network owners in each gateway
    namespace) run as their namespace's service account and target that namespace; its RBAC reaches nothing
    cluster-scoped, no other namespace, no EnvoyFilter and no RBAC objects, and only gateway namespaces'
    units may create Gateways."""
    problems = []
    objects = platform.applied_unique_objects
    protected = {"istio-system", ROOT_NAMESPACE, "flux-system"} | {
        o["metadata"]["name"] for o in objects if o.get("kind") == "Namespace" and o["metadata"]["name"].startswith("istio-")
    }
    for kustomization in _flux_kustomizations(platform):
        namespace = kustomization["metadata"].get("namespace")
        if namespace == "flux-system":
            continue
        name = kustomization["metadata"]["name"]
        where = platform.origin(kustomization)
        account = kustomization.get("spec", {}).get("serviceAccountName")
        if not account:
            problems.append(f"{where}: Kustomization {namespace}/{name}: tenant Kustomizations must set serviceAccountName")
            continue
        subject = (namespace, account)
        if kustomization.get("spec", {}).get("targetNamespace") != namespace:
            problems.append(f"{where}: Kustomization {namespace}/{name}: set targetNamespace: {namespace}, so every object lands there")
        if not any(o.get("kind") == "ServiceAccount" and (o["metadata"].get("namespace"), o["metadata"]["name"]) == subject for o in objects):
            problems.append(f"{where}: Kustomization {namespace}/{name}: service account {account} is not defined in {namespace}")
        for grant in grants(objects, subject):
            if grant.namespace == ALL_NAMESPACES:
                problems.append(f"{where}: {namespace}/{account}: {grant.via} grants rights in every namespace")
            elif grant.namespace != namespace:
                problems.append(f"{where}: {namespace}/{account}: {grant.via} reaches namespace {grant.namespace}")
            if "*" in grant.resources or "*" in grant.verbs or "*" in grant.api_groups:
                problems.append(f"{where}: {namespace}/{account}: {grant.via} uses a wildcard")
        for target in sorted(protected - {namespace}):
            if can(objects, subject, "create", "apps", "deployments", target) or can(objects, subject, "get", "", "configmaps", target):
                problems.append(f"{where}: {namespace}/{account}: can act in {target}")
        for verb, group, resource in (("create", "networking.istio.io", "envoyfilters"), ("create", "rbac.authorization.k8s.io", "roles"),
                                      ("create", "rbac.authorization.k8s.io", "rolebindings"), ("create", "networking.istio.io", "gateways")):
            if resource == "gateways" and namespace in protected:
                continue  # a gateway namespace: Gateways are what its network owners are for
            if can(objects, subject, verb, group, resource, namespace):
                problems.append(f"{where}: {namespace}/{account}: may {verb} {resource}")
        if can(objects, subject, "create", "", "namespaces", ""):
            problems.append(f"{where}: {namespace}/{account}: may create namespaces")
    return problems


def _by_cluster(releases) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for release in releases:
        grouped.setdefault(release.cluster, []).append(release)
    return grouped


def revision_tags_consistent(platform: RenderedPlatform) -> list[str]:
    """Per cluster: each tag's webhook and Service have one owner, the revision tags unit, never an istiod release
    (`revisionTags`), so promoting a tag changes objects in place; every tag in use has one webhook to an
    installed revision; no tag has a revision's name; the base chart's defaultRevision is the revision Istio's
    `default` tag sends pods to; every istiod release is named after its revision."""
    problems = [f"{REVISION_TAGS_PATH}: {p}" for p in revision_tag_ownership.tag_ownership_problems(platform)]
    tags = revision_tag_ownership.tag_objects(platform)
    for cluster, releases in sorted(_by_cluster(platform.helm_releases).items()):
        where = ", ".join(sorted({r.file for r in releases if r.chart in ("istiod", "base")}))
        revisions = set()
        for release in (r for r in releases if r.chart == "istiod"):
            revision = str(release.values.get("revision", ""))
            revisions.add(revision)
            if release.release_name != f"istiod-{revision}":
                problems.append(f"{release.declared_in}: release {release.release_name} does not match revision {revision!r}")
        for tag in sorted({o.tag for o in tags.get(cluster, [])} & revisions):
            problems.append(f"{where}: cluster {cluster}: tag {tag!r} has the name of a revision")
        owner = revision_tag_ownership.default_tag_revision(tags.get(cluster, []))
        for base in (r for r in releases if r.chart == "base"):
            default_revision = str(base.values.get("defaultRevision", "default"))
            if default_revision not in revisions:
                problems.append(f"{where}: cluster {cluster}: base defaultRevision {default_revision!r} is not an installed revision")
            if owner != default_revision:
                problems.append(f"{where}: cluster {cluster}: base defaultRevision {default_revision!r} but the default tag points at {owner!r}")
    return problems


def revision_labels_resolve(platform: RenderedPlatform) -> list[str]:
    """Every istio.io/rev label (namespaces) and gateway `revision` points at an installed revision or
    a tag of this cluster; `istio-injection` labels, which override istio.io/rev, appear nowhere."""
    problems = []
    names = revision_tag_ownership.installed_revisions(platform)
    for cluster, objects in revision_tag_ownership.tag_objects(platform).items():
        names.setdefault(cluster, set()).update(o.tag for o in objects)
    everything = set().union(*names.values()) if names else set()
    for release in platform.helm_releases:
        if release.chart == "gateway" and "revision" in release.values:
            if str(release.values["revision"]) not in names.get(release.cluster, set()):
                problems.append(f"{release.declared_in}: gateway revision {release.values['revision']!r} is no revision or tag of cluster {release.cluster}")
    for obj in platform.unique_objects:
        labels = obj.get("metadata", {}).get("labels", {}) or {}
        if "istio-injection" in labels:
            problems.append(f"{platform.describe(obj)}: uses istio-injection, which silently overrides istio.io/rev; label istio.io/rev=<tag>")
        if "istio.io/rev" in labels and str(labels["istio.io/rev"]) not in everything:
            problems.append(f"{platform.describe(obj)}: istio.io/rev={labels['istio.io/rev']} is no installed revision or tag")
    return problems


def argocd_parents_delete_their_children(platform: RenderedPlatform) -> list[str]:
    """Every Application that renders Applications, and every Application it renders, carries Argo CD's resources
    finalizer: pruning a parent (a cluster removed from the repo) then deletes its children and what they
    installed; without it the children are orphaned and keep syncing. The exception is the bootstrap Application
    that renders itself (deleting it is never a cascade anyone wants)."""
    problems = []
    for app in (o for o in platform.unique_objects if o.get("kind") == "Application"):
        name = app["metadata"]["name"]
        children = _argocd_children(platform, app)
        if not children or any(c["metadata"]["name"] == name for c in children):
            continue
        for unit in (app, *children):
            if ARGOCD_FINALIZER not in (unit["metadata"].get("finalizers") or []):
                role = "renders Applications" if unit is app else f"is rendered by {name}"
                problems.append(f"{platform.origin(unit)}: Application {unit['metadata']['name']} {role} but lacks the "
                                f"{ARGOCD_FINALIZER} finalizer: deleting its parent would orphan what it installed")
    return sorted(set(problems))


def cross_cluster_invariants(platform: RenderedPlatform) -> list[str]:
    """One mesh across clusters: see cross_cluster.py."""
    return cross_cluster.problems(platform.root)


GUARDRAILS: dict[str, Callable[[RenderedPlatform], list[str]]] = {
    "admitted by the platform's policies": admission_problems,
    "builds cleanly": builds_cleanly,
    "istiod sets root namespace and mesh identity": istiod_sets_mesh_identity,
    "mesh identity consistent": mesh_identity_consistent,
    "istio-system holds only istiod": istio_system_holds_only_istiod,
    "EnvoyFilters only in istio-config": envoyfilters_only_in_root_namespace,
    "STRICT mTLS by default": strict_mtls_by_default,
    "default Sidecar limits egress": default_sidecar_limits_egress,
    "gateways outside istio-system": gateways_outside_istio_system,
    "Pod Security enforced": pod_security_enforced,
    "istio-cni runs alone": istio_cni_runs_alone,
    "Gateway hosts namespace-scoped": gateway_hosts_namespace_scoped,
    "no key material": no_key_material,
    "files carry the header": files_carry_header,
    "no YAML anchors": no_yaml_anchors,
    "no orphan manifests": no_orphan_manifests,
    "Argo CD projects confine applications": argocd_projects_confine_applications,
    "Argo CD sync order": argocd_sync_order,
    "Argo CD parents delete their children": argocd_parents_delete_their_children,
    "every entry point is synced": every_entry_point_is_synced,
    "Flux Kustomizations well formed": flux_kustomizations_well_formed,
    "Flux install order": flux_install_order,
    "Flux HelmReleases remediate": flux_helm_releases_remediate,
    "Flux controllers locked down": flux_controllers_locked_down,
    "tenants confined": tenants_confined,
    "revision tags consistent": revision_tags_consistent,
    "revision labels resolve": revision_labels_resolve,
    "cross-cluster invariants": cross_cluster_invariants,
    "one root pinned": mesh_trust.one_root_pinned,
    "istio-csr matches each cluster": mesh_trust.istio_csr_matches_each_cluster,
    "remote secrets declared": mesh_trust.remote_secrets_declared,
    "charts pinned": charts_from_istio_release_repository,
    "gateway Services select gateway pods": gateway_fronts_problems,
    "values leave chart-written labels to the chart": values_restate_chart_written_labels,
    "CUSTOM authorization providers declared": providers_declared_problems,
    "ext_authz services reachable": services_reachable_problems,
}
