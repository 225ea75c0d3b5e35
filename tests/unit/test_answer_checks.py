"""One good and several bad answers per check; messages name the field and the fix."""

from __future__ import annotations

import pytest

import answer_checks as checks
import mesh_model
import naming_rules
from yaml_quoting import yaml_string

GOOD_CLUSTER = {"name": "prod-eu-1", "network": "net-eu", "labels": {"region": "eu-west-1"}}


@pytest.mark.parametrize("value", ["platform", "a", "prod-2", "x" * 30])
def test_name_accepts_dns_labels(value: str) -> None:
    assert checks.name_problem(value, "platform_name", 30) == ""


@pytest.mark.parametrize("value", ["Prod_EU", "-a", "a-", "", "a.b", "x" * 31, None, 12])
def test_name_rejects_non_labels_naming_the_field(value: object) -> None:
    message = checks.name_problem(value, "platform_name", 30)
    assert message.startswith(f"platform_name '{value}':")


def test_cluster_message_reads_as_documented() -> None:
    message = checks.clusters_problem([{"name": "Prod_EU", "network": "n"}])
    assert message == "cluster 'Prod_EU': " + naming_rules.DNS_LABEL_HINT


@pytest.mark.parametrize("value", ["1.31.1", "1.30.4", "1.29.7"])
def test_supported_istio_versions(value: str) -> None:
    assert checks.istio_version_problem(value) == ""


@pytest.mark.parametrize("value", ["1.31", "v1.31.1", "1.31.1-rc.0", "1.28.3", "2.0.0", "latest", ""])
def test_malformed_or_unsupported_istio_versions(value: str) -> None:
    assert checks.istio_version_problem(value).startswith(f"istio_version '{value}'")


@pytest.mark.parametrize(
    "value", ["https://github.com/org/repo.git", "ssh://git@host.example/org/repo.git", "git@github.com:org/repo.git"]
)
def test_git_urls(value: str) -> None:
    assert checks.git_url_problem(value) == ""


@pytest.mark.parametrize("value", ["http://github.com/org/repo.git", "github.com/org/repo", "", "https://", "file:///tmp/x"])
def test_bad_git_urls(value: str) -> None:
    assert "git_repo_url" in checks.git_url_problem(value)


@pytest.mark.parametrize("value", ["main", "release/platform", "v1.x"])
def test_git_branches(value: str) -> None:
    assert checks.git_branch_problem(value) == ""


@pytest.mark.parametrize("value", ["", "-x", "a..b", "a b", "feature/", "x.lock", "a:b", "a~1"])
def test_bad_git_branches(value: str) -> None:
    assert "git_branch" in checks.git_branch_problem(value)


def test_groups() -> None:
    assert checks.group_problem("oidc:platform-admins", "cluster_admin_group") == ""
    assert "cluster_admin_group" in checks.group_problem("platform admins", "cluster_admin_group")
    assert "cluster_admin_group" in checks.group_problem("", "cluster_admin_group")


def test_gateways() -> None:
    assert checks.gateways_problem(["ingress", "eastwest"]) == ""
    assert checks.gateways_problem([]) == ""
    assert "choose any of" in checks.gateways_problem(["ingres"])
    assert "once" in checks.gateways_problem(["ingress", "ingress"])


def test_egress_hosts() -> None:
    assert checks.egress_hosts_problem(["api.github.com", "pypi.org"]) == ""
    assert checks.egress_hosts_problem([]) == ""
    assert "wildcards" in checks.egress_hosts_problem(["*.github.com"])
    assert "twice" in checks.egress_hosts_problem(["pypi.org", "pypi.org"])
    assert "DNS-1123 subdomain" in checks.egress_hosts_problem(["Bad_Host"])
    assert "YAML list" in checks.egress_hosts_problem("api.github.com")


def test_good_clusters() -> None:
    two_networks = [GOOD_CLUSTER, {"name": "prod-us-1", "network": "net-us"}]
    assert checks.clusters_problem([GOOD_CLUSTER]) == ""
    assert checks.clusters_problem(two_networks, ["eastwest"]) == ""


@pytest.mark.parametrize(
    ("clusters", "expected"),
    [
        ([], "give at least one cluster"),
        (None, "give at least one cluster"),
        (["prod"], "clusters[0]: write each cluster as a mapping"),
        ([GOOD_CLUSTER, GOOD_CLUSTER], "cluster 'prod-eu-1' is listed twice"),
        ([{"name": "kube-system", "network": "n"}], "'kube-system' is reserved"),
        ([{"name": "istio-system", "network": "n"}], "'istio-system' is reserved"),
        ([{"name": "a", "network": "Net_1"}], "cluster 'a': network 'Net_1'"),
        ([{"name": "a", "network": "n", "zone": "z"}], "unknown field(s) zone"),
        ([{"name": "a", "network": "n", "platform": "eks"}], "platform 'eks' is not one istio-cni knows"),
        ([{"name": "a", "network": "n", "labels": ["x"]}], "labels must be a mapping"),
        ([{"name": "a", "network": "n", "labels": {"region": "eu west"}}], "label 'region: eu west'"),
        ([{"name": "a", "network": "n", "labels": {"bad key!": "x"}}], "label 'bad key!: x'"),
        ([{"name": "a" * 41, "network": "n"}], "at most 40 characters"),
        ([{"name": "a", "network": "n1"}, {"name": "b", "network": "n2"}], "add 'eastwest' to gateways_enabled"),
    ],
)
def test_bad_clusters(clusters: object, expected: str) -> None:
    assert expected in checks.clusters_problem(clusters, ["ingress"])


def test_revision_and_gateway_namespaces() -> None:
    assert mesh_model.gateway_namespaces("split", ["eastwest", "ingress"]) == [
        {"name": "istio-ingress", "roles": ["ingress"]},
        {"name": "istio-eastwest", "roles": ["eastwest"]},
    ]
    assert mesh_model.gateway_namespaces("single", ["ingress", "egress"]) == [
        {"name": "istio-gateways", "roles": ["ingress", "egress"]}
    ]
    assert mesh_model.gateway_namespaces("single", []) == []
    with pytest.raises(ValueError, match="layout"):
        mesh_model.gateway_namespace("ingress", "triple")


def test_sidecar_imports_egress_namespace_only_when_egress_runs() -> None:
    assert mesh_model.sidecar_egress_hosts("split", ["ingress"]) == ["./*", "istio-system/*"]
    assert mesh_model.sidecar_egress_hosts("single", ["egress"]) == ["./*", "istio-system/*", "istio-gateways/*"]


@pytest.mark.parametrize(("value", "expected"), [("n", '"n"'), ("on", '"on"'), ("123", "'123'"), ("net-1", "net-1"), ("1.31.1", "1.31.1")])
def test_yaml_string_keeps_strings_strings(value: str, expected: str) -> None:
    assert yaml_string(value) == expected


def test_gitops_identities_default_per_engine_and_override() -> None:
    from gitops_identity import gitops_identities

    clusters = [{"name": "hub", "network": "n"}, {"name": "spoke", "network": "n"},
                {"name": "own", "network": "n", "gitops_identity": "system:serviceaccount:kube-system:sync"}]
    assert gitops_identities(clusters, "argocd", "gitops") == {
        "hub": "system:serviceaccount:gitops:argocd-application-controller",
        "spoke": "system:serviceaccount:kube-system:argocd-manager",
        "own": "system:serviceaccount:kube-system:sync"}
    assert set(gitops_identities(clusters[:2], "flux").values()) == {"system:serviceaccount:flux-system:kustomize-controller"}


@pytest.mark.parametrize("identity", ["system:serviceaccount:kube-system:argocd-manager", "platform-bot", "oidc:ci@corp.example"])
def test_gitops_identity_accepted(identity: str) -> None:
    assert checks.clusters_problem([{"name": "c", "network": "n", "gitops_identity": identity}]) == ""


@pytest.mark.parametrize("identity", ["has space", "quote'd", "line\nbreak", "", 42, "system:serviceaccount:Bad_NS:x"])
def test_gitops_identity_refused(identity: object) -> None:
    assert "gitops_identity" in checks.clusters_problem([{"name": "c", "network": "n", "gitops_identity": identity}])
