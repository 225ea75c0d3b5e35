"""The admission policies for what RBAC cannot express, evaluated on admission requests as the API server
would (CEL through cel-python; the binding's namespace selector with Kubernetes' label-selector rules).

Each rule: the requests a persona makes in normal work are admitted, and the attempts to exceed its rights
that used to get through (issue 10) are denied, on the objects a real repo renders for both engines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from istio_gitops_check import rendered_platform
from istio_gitops_check.admission_cel import binding_applies, denials
from tests.conftest import copy_platform, init_repo
from tests.test_team_onboarding import onboard

TEAM = "payments"


@pytest.fixture(scope="module", params=["argocd", "flux"])
def platform(request, template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory):
    project = copy_platform(template_snapshot, tmp_path_factory.mktemp("admission") / "repo",
                            {"gitops_engine": request.param, "egress_allowed_hosts": ["api.github.com", "pypi.org"]})
    init_repo(project, "platform")
    onboard(template_snapshot, project, TEAM, team_egress_hosts=["api.github.com"])
    return rendered_platform.load(project)


def _named(platform, kind: str, name: str) -> dict:
    return next(o for o in platform.unique_objects if o["kind"] == kind and o["metadata"]["name"] == name)


def _team_namespace(platform) -> dict:
    return _named(platform, "Namespace", TEAM)


def _applies(platform, policy: str, namespace: dict) -> bool:
    return binding_applies(_named(platform, "ValidatingAdmissionPolicyBinding", policy), namespace)


def pod(labels: dict | None = None, annotations: dict | None = None, host_network: bool | None = None) -> dict:
    meta: dict = {"name": "api", "namespace": TEAM}
    if labels is not None:
        meta["labels"] = labels
    if annotations is not None:
        meta["annotations"] = annotations
    spec: dict = {"containers": [{"name": "api", "image": "registry.example/api:1"}]}
    if host_network is not None:
        spec["hostNetwork"] = host_network
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def test_team_pods_stay_in_the_mesh(platform) -> None:
    policy = _named(platform, "ValidatingAdmissionPolicy", "team-pods-stay-in-the-mesh")
    assert _applies(platform, "team-pods-stay-in-the-mesh", _team_namespace(platform))
    assert not _applies(platform, "team-pods-stay-in-the-mesh", _named(platform, "Namespace", "istio-ingress"))
    admitted = [pod(), pod(labels={"app": "api", "sidecar.istio.io/inject": "true"}),
                pod(annotations={"proxy.istio.io/config": "{}", "prometheus.io/scrape": "true"}), pod(host_network=False)]
    for request in admitted:
        assert denials(policy, request) == [], request
    denied = {
        "label inject=false": pod(labels={"sidecar.istio.io/inject": "false"}),
        "annotation inject=false": pod(annotations={"sidecar.istio.io/inject": "false"}),
        "exclude outbound ranges": pod(annotations={"traffic.sidecar.istio.io/excludeOutboundIPRanges": "0.0.0.0/0"}),
        "exclude outbound ports": pod(annotations={"traffic.sidecar.istio.io/excludeOutboundPorts": "443"}),
        "include nothing": pod(annotations={"traffic.sidecar.istio.io/includeOutboundIPRanges": ""}),
        "no interception": pod(annotations={"sidecar.istio.io/interceptionMode": "NONE"}),
        "host network": pod(host_network=True),
    }
    for attempt, request in denied.items():
        assert denials(policy, request), attempt


def with_spec(**spec: object) -> dict:
    request = pod()
    request["spec"].update(spec)
    return request


def container(name: str = "api", **security: object) -> dict:
    return {"name": name, "image": "registry.example/api:1", **({"securityContext": security} if security else {})}


def test_team_pods_keep_the_node_out_of_reach(platform) -> None:
    """Pod Security baseline's node-protecting rules, held by the policy as well as by Pod Security restricted:
    with istio-cni the injected pod adds no capability, so no container may add NET_ADMIN, whatever its name."""
    policy = _named(platform, "ValidatingAdmissionPolicy", "team-pods-stay-in-the-mesh")
    injected = with_spec(containers=[container(), container("istio-proxy", runAsUser=1337, capabilities={"drop": ["ALL"]})],
                         initContainers=[container("istio-validation", runAsUser=1337, capabilities={"drop": ["ALL"]})])
    for request in (injected, with_spec(containers=[container(capabilities={"add": ["NET_BIND_SERVICE"]})]),
                    with_spec(volumes=[{"name": "data", "emptyDir": {}}]), with_spec(hostPID=False)):
        assert denials(policy, request) == [], request
    for attempt, request in {
        "privileged": with_spec(containers=[container(privileged=True)]),
        "privileged init": with_spec(initContainers=[container("setup", privileged=True)]),
        "privileged debug container": with_spec(ephemeralContainers=[container("debug", privileged=True)]),
        "hostPath": with_spec(volumes=[{"name": "root", "hostPath": {"path": "/"}}]),
        "hostPID": with_spec(hostPID=True),
        "hostIPC": with_spec(hostIPC=True),
        "SYS_ADMIN": with_spec(containers=[container(capabilities={"add": ["SYS_ADMIN"]})]),
        "NET_ADMIN": with_spec(containers=[container(capabilities={"add": ["NET_ADMIN"]})]),
        "NET_ADMIN in a container named istio-init": with_spec(
            initContainers=[container("istio-init", capabilities={"add": ["NET_ADMIN", "NET_RAW"]})]),
    }.items():
        assert denials(policy, request), attempt


def test_pod_security_is_restricted_everywhere_but_the_cni_node_agent(platform) -> None:
    levels = {o["metadata"]["name"]: o["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
              for o in platform.unique_objects if o["kind"] == "Namespace"}
    assert levels.pop("istio-cni") == "privileged"
    assert {"istio-system", "istio-config", "istio-ingress", TEAM} <= set(levels)
    assert set(levels.values()) == {"restricted"}, levels
    team = _team_namespace(platform)["metadata"]["labels"]
    assert team["pod-security.kubernetes.io/warn"] == team["pod-security.kubernetes.io/audit"] == "restricted"


def sidecar(egress_hosts: list[str] | None = None, mode: str | None = None) -> dict:
    spec: dict = {}
    if egress_hosts is not None:
        spec["egress"] = [{"hosts": egress_hosts}]
    if mode is not None:
        spec["outboundTrafficPolicy"] = {"mode": mode}
    return {"apiVersion": "networking.istio.io/v1", "kind": "Sidecar", "metadata": {"name": "api", "namespace": TEAM}, "spec": spec}


def test_team_sidecars_keep_declared_egress(platform) -> None:
    policy = _named(platform, "ValidatingAdmissionPolicy", "team-sidecars-keep-declared-egress")
    namespace = _team_namespace(platform)
    assert _applies(platform, "team-sidecars-keep-declared-egress", namespace)
    declared = next(o for o in platform.unique_objects if o["kind"] == "Sidecar" and o["metadata"].get("namespace") == TEAM)
    assert denials(policy, declared, namespace=namespace) == [], "the onboarding's own Sidecar is admitted"
    for request in (sidecar(["./*"]), sidecar(["./*", "istio-system/*", "istio-egress/api.github.com"]),
                    sidecar(mode="REGISTRY_ONLY"), sidecar()):
        assert denials(policy, request, namespace=namespace) == [], request
    for attempt, request in {
        "ALLOW_ANY": sidecar(mode="ALLOW_ANY"),
        "every namespace": sidecar(["*/*"]),
        "an undeclared host": sidecar(["istio-egress/pypi.org"]),
        "another team's namespace": sidecar(["shop/*"]),
        "the root namespace": sidecar(["istio-config/*"]),
    }.items():
        assert denials(policy, request, namespace=namespace), attempt


def peer_authentication(namespace: str, mode: str | None = None, ports: dict | None = None) -> dict:
    spec: dict = {}
    if mode:
        spec["mtls"] = {"mode": mode}
    if ports:
        spec["selector"] = {"matchLabels": {"app": "api"}}
        spec["portLevelMtls"] = {port: {"mode": m} for port, m in ports.items()}
    return {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
            "metadata": {"name": "p", "namespace": namespace}, "spec": spec}


def test_strict_mtls_outside_istio_config(platform) -> None:
    policy = _named(platform, "ValidatingAdmissionPolicy", "strict-mtls-outside-istio-config")
    for request in (peer_authentication(TEAM, "STRICT"), peer_authentication(TEAM), peer_authentication(TEAM, "UNSET"),
                    peer_authentication(TEAM, ports={"8080": "STRICT"}), peer_authentication("istio-config", "PERMISSIVE")):
        assert denials(policy, request) == [], request
    for request in (peer_authentication(TEAM, "PERMISSIVE"), peer_authentication(TEAM, "DISABLE"),
                    peer_authentication(TEAM, "STRICT", ports={"8080": "DISABLE"}), peer_authentication("istio-ingress", "PERMISSIVE")):
        assert denials(policy, request), request


def test_wasmplugins_only_in_istio_config(platform) -> None:
    policy = _named(platform, "ValidatingAdmissionPolicy", "wasmplugin-only-in-istio-config")
    plugin = lambda ns: {"apiVersion": "extensions.istio.io/v1alpha1", "kind": "WasmPlugin", "metadata": {"name": "w", "namespace": ns},
                         "spec": {"url": "oci://registry.example/filter:1"}}
    assert denials(policy, plugin("istio-config")) == []
    assert denials(policy, plugin(TEAM)) and denials(policy, plugin("istio-ingress"))


def service(namespace: str, service_type: str | None = None, external_ips: list[str] | None = None) -> dict:
    spec: dict = {"ports": [{"port": 80}]}
    if service_type:
        spec["type"] = service_type
    if external_ips is not None:
        spec["externalIPs"] = external_ips
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": namespace}, "spec": spec}


def test_services_exposed_only_by_gateways(platform) -> None:
    policy = _named(platform, "ValidatingAdmissionPolicy", "services-exposed-only-by-gateways")
    team, ingress = _team_namespace(platform), _named(platform, "Namespace", "istio-ingress")
    assert _applies(platform, "services-exposed-only-by-gateways", team)
    assert not _applies(platform, "services-exposed-only-by-gateways", ingress), "the gateway chart's LoadBalancer is fine"
    for request in (service(TEAM), service(TEAM, "ClusterIP"), service(TEAM, external_ips=[])):
        assert denials(policy, request) == [], request
    for request in (service(TEAM, "LoadBalancer"), service(TEAM, "NodePort"), service(TEAM, external_ips=["203.0.113.7"])):
        assert denials(policy, request), request


def test_declared_egress_is_on_the_team_namespace(platform) -> None:
    annotations = _team_namespace(platform)["metadata"].get("annotations", {})
    assert annotations == {"egress.istio-gitops-template/api-github-com": "istio-egress/api.github.com",
                           "egress.istio-gitops-template/egress-gateway":
                               "istio-egress/istio-egressgateway.istio-egress.svc.cluster.local"}


def test_egress_gateway_authorizes_each_team_for_its_hosts_only(platform) -> None:
    """Sidecars reach the egress gateway over Istio mTLS (one server per host, told apart by SNI), so the
    gateway knows the caller: a default-deny ALLOW policy, and one ALLOW per team for its namespaces and its
    declared hosts, applied as the network owners in the egress namespace."""
    gateway = _named(platform, "Gateway", "egress")
    servers = gateway["spec"]["servers"]
    assert [s["hosts"] for s in servers] == [["./api.github.com"], ["./pypi.org"]]
    assert {s["tls"]["mode"] for s in servers} == {"ISTIO_MUTUAL"}
    rule = _named(platform, "DestinationRule", "egress-gateway-mtls")
    assert {s["name"]: s["trafficPolicy"]["portLevelSettings"][0]["tls"] for s in rule["spec"]["subsets"]} == {
        "api-github-com": {"mode": "ISTIO_MUTUAL", "sni": "api.github.com"}, "pypi-org": {"mode": "ISTIO_MUTUAL", "sni": "pypi.org"}}
    default = _named(platform, "AuthorizationPolicy", "egress-gateway-default-deny")
    assert default["spec"]["action"] == "ALLOW" and "rules" not in default["spec"], "no rule: nothing allowed by it"
    team = _named(platform, "AuthorizationPolicy", f"egress-{TEAM}")
    assert team["metadata"]["namespace"] == "istio-egress"
    assert team["spec"]["rules"] == [{"from": [{"source": {"namespaces": [TEAM]}}],
                                      "when": [{"key": "connection.sni", "values": ["api.github.com"]}]}]
    sidecar = next(o for o in platform.unique_objects if o["kind"] == "Sidecar" and o["metadata"].get("namespace") == TEAM)
    assert "istio-egress/istio-egressgateway.istio-egress.svc.cluster.local" in sidecar["spec"]["egress"][0]["hosts"]
    if platform.engine == "flux":
        unit = _named(platform, "Kustomization", f"egress-{TEAM}")
        assert (unit["metadata"]["namespace"], unit["spec"]["serviceAccountName"], unit["spec"]["targetNamespace"]) == (
            "istio-egress", "network-owners", "istio-egress")
    else:
        app = next(o for o in platform.unique_objects if o["kind"] == "Application" and o["metadata"]["name"].endswith(f"-{TEAM}-egress"))
        assert app["spec"]["project"] == "platform-gateways" and app["spec"]["destination"]["namespace"] == "istio-egress"


def _revision_policies(platform) -> dict[str, dict]:
    """Each cluster's namespace-revision policy, as its istio-config overlay renders it."""
    from istio_gitops_check.rendered_platform import cluster_entry_points

    found = {}
    for cluster, paths in cluster_entry_points(platform).items():
        for path in paths:
            for obj in platform.builds[path]:
                if obj["kind"] == "ValidatingAdmissionPolicy" and obj["metadata"]["name"] == "namespace-revision-labels":
                    found[cluster] = obj
    return found


@pytest.mark.parametrize(
    ("engine", "expected"),
    [
        ("argocd", {"eu-1": "system:serviceaccount:argocd:argocd-application-controller",
                    "us-1": "system:serviceaccount:kube-system:argocd-manager",
                    "ap-1": "system:serviceaccount:kube-system:platform-sync"}),
        ("flux", {"eu-1": "system:serviceaccount:flux-system:kustomize-controller",
                  "us-1": "system:serviceaccount:flux-system:kustomize-controller",
                  "ap-1": "system:serviceaccount:kube-system:platform-sync"}),
    ],
)
def test_each_cluster_trusts_the_engine_identity_it_really_sees(render, engine: str, expected: dict[str, str]) -> None:
    """Argo CD acts as argocd-manager on clusters registered with `argocd cluster add`: a policy trusting only
    its in-cluster controller would refuse every namespace with istio.io/rev there."""
    clusters = [{"name": "eu-1", "network": "n1", "api_server": "https://api.eu-1.example.com:6443"}, {"name": "us-1", "network": "n2", "api_server": "https://api.us-1.example.com:6443"},
                {"name": "ap-1", "network": "n2", "api_server": "https://api.ap-1.example.com:6443", "gitops_identity": "system:serviceaccount:kube-system:platform-sync"}]
    platform = rendered_platform.load(render({"gitops_engine": engine, "clusters": clusters,
                                              "gateways_enabled": ["ingress", "egress", "eastwest"]}))
    policies = _revision_policies(platform)
    assert set(policies) == set(expected)
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"istio.io/rev": "prod-stable"}}}
    for cluster, identity in expected.items():
        assert denials(policies[cluster], namespace, username=identity) == [], cluster
        others = set(expected.values()) - {identity}
        assert all(denials(policies[cluster], namespace, username=other) for other in others), cluster


def test_third_party_namespaces_may_opt_out_with_istio_injection_disabled(platform) -> None:
    policy = _revision_policies(platform)["cluster-1"]
    chart_namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring", "labels": {"istio-injection": "disabled"}}}
    assert denials(policy, chart_namespace, old=chart_namespace, username="system:serviceaccount:monitoring:installer") == []
    conflicting = {"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": "shop", "labels": {"istio-injection": "disabled", "istio.io/rev": "prod-stable"}}}
    enabled = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"istio-injection": "enabled"}}}
    for request in (conflicting, enabled):
        assert any("istio-injection overrides istio.io/rev" in m for m in denials(policy, request, username="anyone")), request


@pytest.mark.parametrize(("mode", "kind", "issuer"), [("cert-manager-issuer", "ClusterIssuer", "istio-intermediate-ca"),
                                                     ("aws-pca", "AWSPCAClusterIssuer", "istio-aws-pca"),
                                                     ("vault", "ClusterIssuer", "istio-vault")])
def test_only_istio_system_uses_the_mesh_ca_issuer(render, mode: str, kind: str, issuer: str) -> None:
    answers = {"ca_mode": mode}
    if mode == "aws-pca":
        answers["ca_aws_pca_arn"] = "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/0a1b2c3d-0000-1111-2222-333344445555"
    platform = rendered_platform.load(render(answers))
    policy = _named(platform, "ValidatingAdmissionPolicy", "mesh-ca-issuer-only-for-istio-system")
    certificate = lambda ns, name=issuer: {  # noqa: E731
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "c", "namespace": ns},
        "spec": {"secretName": "s", "isCA": True, "issuerRef": {"name": name, "kind": kind, "group": "cert-manager.io"}}}
    assert denials(policy, certificate("istio-system")) == []
    assert denials(policy, certificate(TEAM, "letsencrypt")) == [], "other issuers stay usable"
    assert denials(policy, certificate(TEAM)), "a team minting an intermediate of the mesh's root"
    request = {"apiVersion": "cert-manager.io/v1", "kind": "CertificateRequest", "metadata": {"name": "r", "namespace": "istio-ingress"},
               "spec": {"request": "LS0t", "issuerRef": {"name": issuer, "kind": kind}}}
    assert denials(policy, request)
