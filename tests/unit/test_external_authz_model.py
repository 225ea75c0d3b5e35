"""External authorization as data: the answer, what the templates and the team hook derive from it, and the
checker's model of how istiod and the proxies resolve a CUSTOM provider or an EnvoyFilter's gRPC cluster."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "extensions"))
sys.path.insert(0, str(REPO / "hooks"))

import answer_checks  # noqa: E402
import mesh_model  # noqa: E402
import team_checks  # noqa: E402
import team_folders  # noqa: E402

from istio_gitops_check import external_authorization as authz  # noqa: E402

SERVICE = "ext-authz.ext-authz.svc.cluster.local:9000"
HOST = "ext-authz.ext-authz.svc.cluster.local"


@pytest.mark.parametrize("value", ["", SERVICE, "opa.policy.svc.cluster.local:9191", "a.b.svc.cluster.local:65535"])
def test_external_authz_service_accepts_off_or_a_kubernetes_service(value: str) -> None:
    assert answer_checks.external_authz_service_problem(value) == ""


@pytest.mark.parametrize(("value", "message"), [
    ("ext-authz:9000", "<name>.<namespace>.svc.cluster.local:<port"),
    ("ext-authz.ext-authz.svc.cluster.local", "<name>.<namespace>.svc.cluster.local:<port"),
    ("ext-authz.ext-authz.svc.cluster.local:0", "<port 1-65535>"),
    ("ext-authz.ext-authz.svc.cluster.local:70000", "<port 1-65535>"),
    ("ext-authz.ext-authz.svc.cluster.local:9000\n", "<name>.<namespace>"),
    ("Ext-Authz.ext-authz.svc.cluster.local:9000", "<name>.<namespace>"),
    ("authz.example.com:9000", "<name>.<namespace>"),
    ("authz.istio-system.svc.cluster.local:9000", "a namespace of its own"),
    ("authz.kube-system.svc.cluster.local:9000", "a namespace of its own"),
    (f"{'a' * 63}.{'b' * 63}.svc.cluster.local:9000", "must stay within 120 characters"),
])
def test_external_authz_service_refusals(value: str, message: str) -> None:
    assert message in answer_checks.external_authz_service_problem(value)


def test_external_authz_pieces() -> None:
    assert mesh_model.external_authz("") == {}
    pieces = mesh_model.external_authz(SERVICE)
    assert pieces == {"provider": "external-authz", "host": HOST, "name": "ext-authz", "namespace": "ext-authz", "port": 9000,
                      "sidecar_host": f"ext-authz/{HOST}", "cluster": f"outbound|9000||{HOST}"}


def test_default_sidecar_imports_the_service_only_when_set() -> None:
    assert mesh_model.sidecar_egress_hosts("split", ["egress"]) == ["./*", "istio-system/*", "istio-egress/*"]
    assert mesh_model.sidecar_egress_hosts("split", ["egress"], SERVICE)[-1] == f"ext-authz/{HOST}"


def test_team_snapshot_records_the_service_only_when_set() -> None:
    """Teams onboarded before the question existed keep a snapshot equal to the platform's while it is off."""
    assert "external_authz_service" not in team_checks.platform_snapshot({"external_authz_service": "", "clusters": []})
    assert team_checks.platform_snapshot({"external_authz_service": SERVICE, "clusters": []})["external_authz_service"] == SERVICE


def _team_namespace(service: str) -> dict[str, list[dict]]:
    platform = {"platform_name": "p", "gateway_layout": "split", "gateways_enabled": ["egress"], "external_authz_service": service}
    team = {"name": "shop", "namespaces": ["shop"], "owners_group": "team-shop", "revision_tag": "prod-stable", "egress_hosts": []}
    files = team_folders.namespace_files(team_folders._platform(platform), team, "shop")
    return {name.rsplit("/", 1)[-1]: list(yaml.safe_load_all(text)) for name, text in files.items()}


def test_team_sidecar_and_network_policy_reach_the_service() -> None:
    on = _team_namespace(SERVICE)
    assert on["sidecar.yaml"][0]["spec"]["egress"][0]["hosts"] == ["./*", "istio-system/*", f"ext-authz/{HOST}"]
    reachable = on["network-policy.yaml"][0]["spec"]["egress"][0]["to"][1]["namespaceSelector"]["matchExpressions"][0]["values"]
    assert reachable == ["ext-authz", "istio-egress", "istio-system"]
    off = _team_namespace("")
    assert off["sidecar.yaml"][0]["spec"]["egress"][0]["hosts"] == ["./*", "istio-system/*"]
    assert "ext-authz" not in str(off["network-policy.yaml"])


@pytest.mark.parametrize(("hosts", "sidecar_ns", "workload_ns", "imported"), [
    (["./*", "istio-system/*"], "istio-config", "shop", False),
    (["./*"], "istio-config", "ext-authz", True),  # root default: `.` is the workload's namespace
    (["./*"], "shop", "shop", False),  # a namespace Sidecar: `.` is its own namespace
    ([f"ext-authz/{HOST}"], "shop", "shop", True),
    (["ext-authz/*"], "shop", "shop", True),
    (["ext-authz/*.svc.cluster.local"], "shop", "shop", True),
    (["*/*"], "shop", "shop", True),
    (["other/*", f"*/{HOST}"], "shop", "shop", True),
    (["~/*"], "shop", "shop", False),
    ([f"other/{HOST}"], "shop", "shop", False),
])
def test_sidecar_imports(hosts: list[str], sidecar_ns: str, workload_ns: str, imported: bool) -> None:
    assert authz.sidecar_imports(hosts, sidecar_ns, workload_ns, "ext-authz", HOST) is imported


def test_declared_providers_and_their_service() -> None:
    values = {"meshConfig": {"extensionProviders": [
        {"name": "external-authz", "envoyExtAuthzGrpc": {"service": HOST, "port": 9000}},
        {"name": "zipkin", "zipkin": {"service": "zipkin.tracing.svc.cluster.local", "port": 9411}},
        {"name": "other", "envoyExtAuthzHttp": {"service": "bar/authz.example.com", "port": 80}},
    ]}}
    providers = authz.declared_providers(values)
    assert sorted(providers) == ["external-authz", "other"]
    assert authz.provider_service(providers["external-authz"]) == ("ext-authz", HOST)
    assert authz.provider_service(providers["other"]) == ("bar", "authz.example.com")
    assert authz.declared_providers({}) == {}


def test_grpc_services_and_outbound_clusters() -> None:
    value = {"typed_config": {"grpc_service": {"envoy_grpc": {"cluster_name": f"outbound|9000||{HOST}", "authority": HOST}}}}
    assert authz.grpc_services(value) == [{"cluster_name": f"outbound|9000||{HOST}", "authority": HOST}]
    assert authz.grpc_services([{"envoyGrpc": {"clusterName": "x"}}]) == [{"clusterName": "x"}]
    assert authz.outbound_cluster_service(f"outbound|9000||{HOST}") == ("ext-authz", HOST)
    assert authz.outbound_cluster_service("ext-authz") == ("", "")


def test_an_edited_seed_envoyfilter_refuses_the_update_and_an_unedited_one_goes() -> None:
    from path_migrations import Plan, plan, rules_between

    seed = "mesh/base/istio-config/envoyfilter-external-authz.yaml"
    rules = rules_between("0.3.0", "0.4.0")
    edited = plan(rules, {seed: b"seed\n"}, {seed: b"seed\nauthority: mine\n"})
    assert edited.moves == () and f"{seed}: no longer generated since 0.4.0" in edited.refusals[0]
    assert "docs/external-authorization.md" in edited.refusals[0]
    assert plan(rules, {seed: b"seed\n"}, {seed: b"seed\n"}) == Plan((), ())


def test_external_authz_service_not_in_the_engines_own_namespace() -> None:
    assert "belongs to Argo CD" in answer_checks.external_authz_service_problem("authz.gitops.svc.cluster.local:9000", "gitops")
    assert answer_checks.external_authz_service_problem("authz.gitops.svc.cluster.local:9000", "") == ""
