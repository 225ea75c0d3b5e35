"""One good and several bad answers per check; messages name the field and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import answer_checks as checks
import answer_refusal
import git_urls
import mesh_model
import naming_rules
import team_checks
from shell_quoting import shell_quote
from yaml_quoting import yaml_string

from tests.conftest import git

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


@pytest.mark.parametrize("value", ["1.31", "v1.31.1", "1.31.1-rc.0", "1.28.3", "2.0.0", "latest", "", "1.31.01", "01.31.1",
                                   "1.031.1", "1.31.1\n", "1.31.1 ", "1.31.\u0661"])
def test_malformed_or_unsupported_istio_versions(value: str) -> None:
    assert checks.istio_version_problem(value).startswith(f"istio_version {value!r}")


def test_a_version_with_a_leading_space_names_the_rule() -> None:
    assert checks.istio_versions_problem([" 1.31.1"]) == (
        "istio_versions: ' 1.31.1': write a release as MAJOR.MINOR.PATCH, without 'v', spaces or leading zeros, e.g. 1.31.1")


@pytest.mark.parametrize(
    "value", ["https://github.com/org/repo.git", "ssh://git@host.example/org/repo.git", "git@github.com:org/repo.git",
              "ssh://git@host.example:2222/org/repo.git", "https://git.example.com:8443/org/repo",
              "https://dev.azure.com/org/My%20Project/_git/repo"]
)
def test_git_urls(value: str) -> None:
    assert git_urls.git_url_problem(value) == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://github.com/org/repo.git", "plain http is refused"),
        ("file:///tmp/x", "any scheme but https:// and ssh://"),
        ("github.com/org/repo", "repository path"),
        ("", "give the URL"),
        ("https://", "the host must be a DNS name"),
        ("https://github.com:99999/org/repo.git", "a port is a number from 1 to 65535"),
        ("ssh://git@github.com:0/org/repo.git", "a port is a number from 1 to 65535"),
        ("https://github.com:/org/repo.git", "a port is a number from 1 to 65535"),
        ("https://github.com/org/repo.git\n", "no spaces or control characters"),
        ("https://github.com/org/repo.git;id", "repository path"),
        ("https://github.com/org/$(id).git", "repository path"),
        ("git@github.com:org/`id`.git", "repository path"),
        ("https://github.com/org/repo.git?ref=x", "no query or fragment"),
    ],
)
def test_bad_git_urls(value: str, expected: str) -> None:
    message = git_urls.git_url_problem(value)
    assert message.startswith("git_repo_url ") and expected in message, message


@pytest.mark.parametrize("value", ["https://bot:ghp_secret@github.com/org/repo.git", "https://ghp_secret@github.com/org/repo.git",
                                   "ssh://git:secret@github.com/org/repo.git"])
def test_credentials_in_git_url_are_refused_without_echoing_them(value: str) -> None:
    message = git_urls.git_url_problem(value)
    assert "credentials in the URL" in message and "credentials secret" in message
    assert "secret@" not in message and "ghp_secret" not in message
    assert "Fix: answer https://github.com/org/repo.git" in message or "Fix: answer ssh://github.com/org/repo.git" in message


@pytest.mark.parametrize("value", ["main", "release/platform", "v1.x", "feat+1", "user@topic"])
def test_git_branches(value: str) -> None:
    assert checks.git_branch_problem(value) == ""


@pytest.mark.parametrize("value", ["", "-x", "a..b", "a b", "feature/", "x.lock", "a:b", "a~1", "main\n", "a;b", "a$(id)",
                                   "a|b", "a`b`", "a'b", "@", ".hidden", "a/.b"])
def test_bad_git_branches(value: str) -> None:
    assert checks.git_branch_problem(value).startswith(f"git_branch {value!r}")


@pytest.mark.parametrize("value", ["platform-admins", "team_payments", "ops2", "a"])
def test_groups_are_team_slugs(value: str) -> None:
    assert checks.group_problem(value, "cluster_admin_group") == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("system:authenticated", "system:* groups are Kubernetes' own"),
        ("system:masters", "system:* groups are Kubernetes' own"),
        ("oidc:x@corp", "provider prefixes and e-mail style names"),
        ("oidc:platform-admins", "provider prefixes"),
        ("admins@corp.example", "e-mail style"),
        ("@example-org/platform-admins", "give the team slug alone"),
        ("example-org/platform-admins", "give the team slug alone"),
        ("platform admins", "a team slug is lowercase letters"),
        ("Platform-Admins", "a team slug is lowercase letters"),
        ("platform-admins\n", "a team slug is lowercase letters"),
        ("-admins", "a team slug is lowercase letters"),
        ("", "a team slug is lowercase letters"),
        ("a" * 101, "at most 100 characters"),
    ],
)
def test_groups_that_are_no_team_slug_are_refused(value: str, expected: str) -> None:
    message = checks.group_problem(value, "team_owners_group")
    assert message.startswith(f"team_owners_group {value!r}: ") and expected in message
    assert "Fix: use the Git host's team slug" in message and "identity provider" in message


@pytest.mark.parametrize("value", ["example-org", "a", "a-b-c", "x" * 39])
def test_codeowners_orgs(value: str) -> None:
    assert checks.github_org_problem(value) == ""


@pytest.mark.parametrize("value", ["@example-org", "example--org", "-org", "org-", "org\n", "org/team", "x" * 40, "my org", ""])
def test_bad_codeowners_orgs(value: str) -> None:
    assert checks.github_org_problem(value).startswith(f"codeowners_org {value!r}: ")


@pytest.mark.parametrize("value", ["argocd", "gitops", "argo-cd"])
def test_argocd_namespaces(value: str) -> None:
    assert checks.argocd_namespace_problem(value) == ""


@pytest.mark.parametrize(
    ("value", "owner"),
    [
        ("istio-system", "Istio"), ("istio-config", "Istio"), ("istio-cni", "Istio"), ("istio-ingress", "Istio"),
        ("istio-egress", "Istio"), ("istio-eastwest", "Istio"), ("istio-gateways", "Istio"),
        ("kube-system", "Kubernetes"), ("kube-public", "Kubernetes"), ("kube-anything", "Kubernetes"),
        ("default", "Kubernetes"), ("flux-system", "Flux"), ("cert-manager", "cert-manager"),
        ("example", "the example app"), ("external-secrets", "external-secrets"),
        ("aws-privateca-issuer", "aws-privateca-issuer"),
    ],
)
def test_argocd_namespace_of_another_part_of_the_platform_is_refused(value: str, owner: str) -> None:
    message = checks.argocd_namespace_problem(value)
    assert message.startswith(f"argocd_namespace '{value}' belongs to {owner}") and "give Argo CD a namespace of its own" in message


def test_argocd_namespace_with_a_newline_is_refused() -> None:
    assert "DNS-1123 label" in checks.argocd_namespace_problem("argocd\n")


@pytest.mark.parametrize(
    ("value", "field"),
    [("https://vault.example.com:8200", "ca_vault_server"), ("https://vault", "ca_vault_server"),
     ("https://10.0.0.5:8200/", "ca_vault_server"), ("https://[fd00::5]:8200", "ca_vault_server")],
)
def test_https_urls(value: str, field: str) -> None:
    assert checks.https_url_problem(value, field) == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://vault:99999", "a port is a number from 1 to 65535"),
        ("https://vault:0", "a port is a number from 1 to 65535"),
        ("https://vault:port", "a port is a number from 1 to 65535"),
        ("http://vault.example.com:8200", "use an https:// URL"),
        ("vault.example.com:8200", "use an https:// URL"),
        ("https://vault.example.com:8200\n", "use an https:// URL"),
        ("https://user:pw@vault.example.com:8200", "no credentials in the URL"),
        ("https://vault_1.example.com", "the host must be a DNS name"),
        ("https://vault.example.com/v1?x=1", "no query or fragment"),
        ("https://vault.example.com/$(id)", "no query or fragment"),
    ],
)
def test_bad_https_urls(value: str, expected: str) -> None:
    message = checks.https_url_problem(value, "ca_vault_server")
    assert message.startswith("ca_vault_server ") and expected in message, message
    assert "pw@" not in message


NAME_CHECKS = {
    "platform_name": (lambda v: checks.name_problem(v, "platform_name"), "platform"),
    "trust_domain": (lambda v: checks.subdomain_problem(v, "trust_domain"), "cluster.local"),
    "argocd_namespace": (checks.argocd_namespace_problem, "argocd"),
    "team_name": (lambda v: team_checks.team_name_problem(v, "/nonexistent"), "payments"),
    "team_namespaces": (lambda v: team_checks.team_namespaces_problem([v], "t", "/nonexistent", SNAPSHOT), "payments"),
    "cluster_admin_group": (lambda v: checks.group_problem(v, "cluster_admin_group"), "platform-admins"),
    "codeowners_org": (checks.github_org_problem, "example-org"),
    "istio_version": (checks.istio_version_problem, "1.31.1"),
    "git_branch": (checks.git_branch_problem, "main"),
    "git_repo_url": (git_urls.git_url_problem, "git@github.com:org/repo.git"),
    "ca_vault_server": (lambda v: checks.https_url_problem(v, "ca_vault_server"), "https://vault.example.com:8200"),
    "ca_aws_pca_arn": (checks.aws_pca_arn_problem, "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/1111-2222"),
    "ca_vault_pki_path": (checks.vault_path_problem, "pki_int/root/sign-intermediate"),
    "egress_allowed_hosts": (lambda v: checks.egress_hosts_problem([v]), "api.github.com"),
    "label key": (naming_rules.label_key_problem, "region"),
    "label value": (naming_rules.label_value_problem, "eu-west-1"),
}


@pytest.mark.parametrize("name", sorted(NAME_CHECKS))
@pytest.mark.parametrize("suffix", ["\n", " ", "\t", "\r\n", "\x00"])
def test_trailing_whitespace_fails_every_name_check(name: str, suffix: str) -> None:
    """`$` under re.match accepts a trailing newline; every check matches the whole value."""
    check, good = NAME_CHECKS[name]
    assert check(good) == ""
    assert check(good + suffix) != ""


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


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("10.0.0.1", "IP addresses and ranges"), ("10.0.0.0/8", "IP addresses and ranges"),
        ("2001:db8::1", "IP addresses and ranges"), ("[2001:db8::1]", "IP addresses and ranges"),
        ("2001:db8::/32", "IP addresses and ranges"), ("1.2.3.999", "looks like an IP address"),
        ("web.payments.svc", "in-cluster"), ("web.payments.svc.cluster.local", "in-cluster"),
        ("kubernetes.default.svc", "in-cluster"), ("node.cluster.local", "in-cluster"),
        ("localhost", "in-cluster or local"), ("app.localhost", "in-cluster or local"),
        ("redis", "single-label"), ("*.github.com", "wildcards"), ("api.*.com", "DNS-1123 subdomain"),
        ("api.github.com\n", "DNS-1123 subdomain"), (" api.github.com", "DNS-1123 subdomain"),
    ],
)
def test_egress_hosts_outside_the_cluster_only(host: str, expected: str) -> None:
    message = checks.egress_hosts_problem([host])
    assert message.startswith(f"egress host {host!r}: ") and expected in message, message


def test_good_clusters() -> None:
    two_networks = [{**GOOD_CLUSTER, "api_server": "https://api.prod-eu-1.example.com:6443"},
                    {"name": "prod-us-1", "network": "net-us", "api_server": "https://10.0.0.1"}]
    assert checks.clusters_problem([GOOD_CLUSTER]) == "", "one cluster needs no api_server"
    assert checks.clusters_problem([{**GOOD_CLUSTER, "api_server": "https://api.example.com"}]) == ""
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
        ([{"name": "a", "network": "n1", "api_server": "https://a.example.com"},
          {"name": "b", "network": "n2", "api_server": "https://b.example.com"}], "add 'eastwest' to gateways_enabled"),
        ([{"name": "a", "network": "n"}, {"name": "b", "network": "n", "api_server": "https://b.example.com"}],
         "cluster 'a': api_server is missing"),
        ([{"name": "a", "network": "n", "api_server": "http://a.example.com"}], "cluster 'a': api_server 'http://a.example.com': use an https:// URL"),
        ([{"name": "a", "network": "n", "api_server": "https://a.example.com/k8s"}], "no path"),
        ([{"name": "a", "network": "n", "api_server": "https://bot:x@a.example.com"}], "no credentials"),
        ([{"name": "a", "network": "n", "api_server": "https://a.example.com:99999"}], "port is a number from 1 to 65535"),
        ([{"name": "a", "network": "n", "api_server": "https://a.example.com\n"}], "use an https:// URL"),
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


# --- team checks: the platform's actual answers and the other teams' answers files --------------------------------

PLATFORM = {"platform_name": "platform", "gitops_engine": "argocd", "argocd_namespace": "gitops",
            "git_repo_url": "https://github.com/example-org/platform.git", "gateway_layout": "split",
            "gateways_enabled": ["ingress", "egress"], "egress_allowed_hosts": ["api.github.com", "10.0.0.1"],
            "ingress_domain": "example.com", "istio_revision_tags": [{"name": "prod-stable", "version": "1.31.1"}],
            "istio_default_tag": "prod-stable", "clusters": [{"name": "eu-1", "network": "n"}, {"name": "us-1", "network": "n"}]}
SNAPSHOT = team_checks.platform_snapshot(PLATFORM)


def onboarded(tmp_path: Path, **teams: dict) -> Path:
    (tmp_path / ".copier").mkdir(exist_ok=True)
    for name, answers in teams.items():
        (tmp_path / ".copier" / f"team-{name}.yml").write_text(yaml.safe_dump(answers))
    return tmp_path


def test_team_platform_must_be_the_platforms_own() -> None:
    assert team_checks.team_platform_problem(SNAPSHOT, {"platform": PLATFORM}) == ""
    forged = {**SNAPSHOT, "git_repo_url": "https://evil.example/x.git", "clusters": ["eu-1", "ap-1"]}
    message = team_checks.team_platform_problem(forged, {"platform": PLATFORM})
    assert message.startswith("team_platform: clusters, git_repo_url differ(s) from the platform's .copier-answers.yml")
    assert "(clusters: ['eu-1', 'ap-1'] here, ['eu-1', 'us-1'] there)" in message
    assert "Fix: leave team_platform out when onboarding" in message and "--snapshot" in message
    assert "extra" in team_checks.team_platform_problem({**SNAPSHOT, "extra": 1}, {"platform": PLATFORM})
    stale = {**SNAPSHOT, "clusters": ["eu-1"]}
    assert "clusters differ" in team_checks.team_platform_problem(stale, {"platform": PLATFORM}), "a stale recorded snapshot too"


def test_team_platform_is_not_compared_where_the_platform_file_is_unreadable() -> None:
    assert team_checks.team_platform_problem({**SNAPSHOT, "clusters": ["eu-1"]}, {"platform": {}}) == "", "copier's temporary renders"
    assert "no platform answers found" in team_checks.team_platform_problem({}, {"platform": PLATFORM})


@pytest.mark.parametrize(("namespace", "owner"), [("gitops", "Argo CD"), ("argocd", "Argo CD"), ("istio-ingress", "Istio"),
                                                  ("istio-config", "Istio"), ("kube-node-lease", "Kubernetes"),
                                                  ("default", "Kubernetes"), ("flux-system", "Flux"),
                                                  ("cert-manager", "cert-manager"), ("external-secrets", "external-secrets"),
                                                  ("aws-privateca-issuer", "aws-privateca-issuer"), ("example", "the example app")])
def test_team_cannot_claim_a_platform_namespace(tmp_path: Path, namespace: str, owner: str) -> None:
    message = team_checks.team_namespaces_problem([namespace], "shop", tmp_path, SNAPSHOT)
    assert message.startswith(f"namespace '{namespace}' belongs to the platform ({owner}") and "choose a namespace" in message
    assert team_checks.team_name_problem(namespace, tmp_path, "copy", {"platform": PLATFORM}).startswith(f"team_name '{namespace}' is reserved")


def test_platform_namespaces_follow_the_platforms_answers(tmp_path: Path) -> None:
    one_cluster_flux = {**SNAPSHOT, "gitops_engine": "flux", "clusters": ["eu-1"]}
    assert team_checks.team_namespaces_problem(["gitops", "external-secrets"], "shop", tmp_path, one_cluster_flux) == ""
    assert team_checks.team_namespaces_problem(["shop"], "shop", tmp_path, SNAPSHOT) == ""


def test_team_namespaces_and_names_with_a_newline_are_refused(tmp_path: Path) -> None:
    assert "DNS-1123 label" in team_checks.team_namespaces_problem(["shop\n"], "shop", tmp_path, SNAPSHOT)
    assert "DNS-1123 label" in team_checks.team_name_problem("shop\n", tmp_path)


def test_ingress_host_is_routed_to_one_team_only(tmp_path: Path) -> None:
    onboarded(tmp_path, alpha={"team_ingress_routes": [{"host": "shop.example.com", "service": "web", "port": 80}]})
    route = {"host": "shop.example.com", "service": "web", "port": 8080}
    message = team_checks.team_ingress_problem([route], ["beta"], SNAPSHOT, tmp_path, "beta")
    assert message == ("ingress host 'shop.example.com' is already routed to team 'alpha' (.copier/team-alpha.yml); "
                       "choose another host, or ask that team to give it up first")
    assert team_checks.team_ingress_problem([route], ["alpha"], SNAPSHOT, tmp_path, "alpha") == "", "its own update"
    assert team_checks.team_ingress_problem([{**route, "host": "pay.example.com"}], ["beta"], SNAPSHOT, tmp_path, "beta") == ""


def test_ingress_host_owners_pure_from_answers_files(tmp_path: Path) -> None:
    onboarded(tmp_path, alpha={"team_ingress_routes": [{"host": "a.example.com"}]}, beta={"team_ingress_routes": [{"host": "b.example.com"}]})
    assert team_checks.ingress_host_owners(tmp_path, "beta") == {"a.example.com": "alpha"}


def test_team_egress_hosts_outside_the_cluster_even_if_allow_listed() -> None:
    assert team_checks.team_egress_problem(["api.github.com"], SNAPSHOT) == ""
    assert "IP addresses" in team_checks.team_egress_problem(["10.0.0.1"], SNAPSHOT)
    assert "not on the platform's egress allow-list" in team_checks.team_egress_problem(["pypi.org"], SNAPSHOT)


def test_onboarding_needs_a_clean_checkout(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "README.md").write_text("x\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "x")
    assert team_checks.team_name_problem("shop", tmp_path, "copy", {"platform": PLATFORM}) == ""
    (tmp_path / "README.md").write_text("edited\n")
    (tmp_path / "notes.txt").write_text("new\n")
    message = team_checks.team_name_problem("shop", tmp_path, "copy", {"platform": PLATFORM})
    assert message.startswith("team_name 'shop': the platform repo has uncommitted changes (README.md, notes.txt)")
    assert "Fix: commit or stash them first" in message
    assert team_checks.team_name_problem("shop", tmp_path, "update", {"platform": PLATFORM}) == "", "copier update checks this itself"
    assert team_checks.uncommitted_paths(tmp_path / "not-a-repo") == []


# --- how a refusal reaches the user ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "raw", "expected"),
    [
        ("BAD", "BAD", True),
        (["ingress", "egress"], "[egress, ingress]", True),
        ({"a": 1}, "{a: 1}", True),
        (["1.31.1"], ["1.31.1"], True),
        ("12", 12, True),
        ("recorded", "given", False),
    ],
)
def test_answer_from_data(answer: object, raw: object, expected: bool) -> None:
    assert answer_refusal.answer_from_data(answer, {"q": raw}, "q") is expected
    assert answer_refusal.answer_from_data(answer, {}, "q") is False


def test_refuse_or_report_returns_the_message_outside_the_copier_cli() -> None:
    from jinja2 import Environment

    environment = Environment()
    environment.filters["refuse_or_report"] = answer_refusal.refuse_or_report
    template = environment.from_string("{{ 'bad answer' | refuse_or_report('q') }}")
    assert template.render(q="BAD", _copier_conf={"data": {"q": "BAD"}}) == "bad answer"
    assert answer_refusal.copier_callers() == (False, False)


@pytest.mark.parametrize(("value", "expected"), [("main", "main"), ("https://github.com/org/repo.git", "https://github.com/org/repo.git"),
                                                 ("a;b", "'a;b'"), ("$(id)", "'$(id)'"), ("it's", "'it'\"'\"'s'")])
def test_shell_quote_keeps_one_word(value: str, expected: str) -> None:
    assert shell_quote(value) == expected


def test_platform_answers_come_from_copiers_external_data_without_its_warning() -> None:
    import warnings

    class Missing(dict):
        def get(self, key, default=None):
            warnings.warn("File not found; returning empty dict: .copier-answers.yml")
            return {}

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert team_checks.platform_answers(Missing()) == {}
    assert team_checks.platform_answers({"platform": PLATFORM}) is PLATFORM
    assert team_checks.platform_answers(None) == {}


def test_refusal_paths_through_copiers_question() -> None:
    """Under the copier CLI, only an answer from --data and a default under --defaults end the run; a typed answer
    is reported to the prompt (asked again), a re-checked recorded answer is left to copier."""
    from copier._jinja_ext import SandboxedEnvironment
    from copier._user_data import AnswersMap, Question

    environment = SandboxedEnvironment()
    environment.filters["refuse_or_report"] = answer_refusal.refuse_or_report
    environment.filters["lowercase_problem"] = lambda v: "" if v.islower() else f"q {v!r}: use lowercase"

    def question(data: dict, defaults: bool, default: str) -> Question:
        return Question(var_name="q", answers=AnswersMap(init=data), jinja_env=environment, type="str", default=default,
                        validator="{{ q | lowercase_problem | refuse_or_report('q') }}",
                        context={"_copier_conf": {"data": data, "defaults": defaults}})

    cli_namespace = {"__name__": "copier._cli"}
    exec("def _handle_exceptions(method):\n    return method()", cli_namespace)  # copier's CLI error handler

    def outcome(action) -> str:
        try:
            action()
        except SystemExit as refused:
            return f"exit: {refused}"
        except ValueError as error:
            return f"ValueError: {error}"
        return "accepted"

    under_cli = cli_namespace["_handle_exceptions"]
    prompt = question({}, False, "fine").get_questionary_structure()["validate"]
    assert under_cli(lambda: prompt("TYPED")) == "Validation error for question 'q': q 'TYPED': use lowercase"
    assert outcome(lambda: under_cli(question({}, True, "Default").get_default)).startswith("exit: Validation error")
    assert outcome(question({}, True, "Default").get_default).startswith("ValueError: "), "the Python API"
    data = question({"q": "BAD"}, True, "fine")
    assert outcome(lambda: under_cli(lambda: data.validate_answer("BAD"))) == (
        "exit: Validation error for question 'q': q 'BAD': use lowercase")
    assert outcome(lambda: under_cli(lambda: data.validate_answer("RECORDED"))).startswith("ValueError: "), "recorded"


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ROOT = (FIXTURES / "mesh-root-ca.pem").read_text()
TWO = [{"name": "a", "network": "n"}, {"name": "b", "network": "n"}]


@pytest.mark.parametrize(
    ("value", "clusters", "expected"),
    [
        ("", TWO, "a mesh of 2 clusters needs one pinned root"),
        ("   ", TWO, "a mesh of 2 clusters needs one pinned root"),
        (None, TWO, "a mesh of 2 clusters needs one pinned root"),
        ((FIXTURES / "intermediate-ca.pem").read_text(), TWO, "is not self-signed: it is an intermediate"),
        ((FIXTURES / "not-a-ca.pem").read_text(), [TWO[0]], "is not a CA certificate"),
        (ROOT + "-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----\n", TWO, "this holds a private key"),
        ("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n", [TWO[0]], "this holds a private key"),
        (ROOT.replace("MII", "MIJ", 1), TWO, "does not decode as an X.509 certificate"),
        (ROOT + ROOT, TWO, "the same certificate is listed twice"),
        (ROOT * 5, TWO, "pin at most 4 roots"),
        ("subject=CN=x\n" + ROOT, TWO, "only PEM certificate blocks may appear"),
        (ROOT.replace("CERTIFICATE", "X509 CRL"), TWO, "is a X509 CRL, not a CERTIFICATE"),
        ("not pem", [TWO[0]], "only PEM certificate blocks"),
    ],
)
def test_mesh_root_refused(value: object, clusters: list, expected: str) -> None:
    problem = checks.mesh_root_problem(value, clusters, "vault")
    assert expected in problem and problem.startswith("mesh_root_ca_pem")


def test_mesh_root_accepted() -> None:
    second = (FIXTURES / "second-mesh-root-ca.pem").read_text()
    assert checks.mesh_root_problem(ROOT, TWO, "vault") == ""
    assert checks.mesh_root_problem(ROOT + second, TWO, "istio-csr") == "", "old and new root during a rotation"
    assert checks.mesh_root_problem("", [TWO[0]], "vault") == "", "one cluster may leave its issuer's ca.crt as root"
    assert checks.mesh_root_problem("", TWO, "self-signed-dev") == ""


def test_mesh_root_is_written_in_one_canonical_form() -> None:
    from root_certificate import normalized_pem

    messy = ROOT.replace("\n", "\r\n").replace("-----BEGIN", "  \n-----BEGIN")
    assert normalized_pem(messy) == ROOT
    assert normalized_pem("") == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["cert-manager", "external-secrets"], ""),
        ([], ""),
        (["cert-manager", "cert-manager"], "list each add-on once"),
        (["trust-manager"], "'trust-manager' is not an add-on this template installs"),
        ("cert-manager", "give a YAML list"),
        ([1], "give a YAML list"),
    ],
)
def test_addons_elsewhere(value: object, expected: str) -> None:
    problem = checks.addons_elsewhere_problem(value)
    assert (expected in problem and problem) if expected else problem == ""


@pytest.mark.parametrize(
    ("value", "ok"),
    [("", True), ("arn:aws:iam::111122223333:role/aws-pca-issuer", True), ("arn:aws:iam::1111:role/x", False),
     ("arn:aws:iam::111122223333:role/x\n", False), ("arn:aws:iam::111122223333:user/x", False)],
)
def test_aws_iam_role(value: str, ok: bool) -> None:
    assert (checks.aws_iam_role_problem(value) == "") is ok
