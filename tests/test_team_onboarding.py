"""Onboarding teams is re-running the template in team scope: one answers file per team,
disjoint paths, independent updates, clear refusals, clean offboarding."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from copier import run_copy, run_update

from tests.conftest import copy_platform, git, init_repo
from istio_gitops_check.platform_check import check, summary

HOOK = "hooks/team_folders.py"
OLD_LABELS = '    labels = {"app.kubernetes.io/part-of": platform["platform_name"], "istio-gitops-template/team": team["name"]}\n'
TEAM_PATHS = ("teams/", "tenants/projects/", "gateways/requests/", ".copier/")


def onboard(template: Path, project: Path, name: str, vcs_ref: str = "HEAD", **answers: object) -> None:
    run_copy(str(template), project, data={"scope": "team", "team_name": name, **answers}, defaults=True,
             unsafe=True, vcs_ref=vcs_ref, quiet=True, overwrite=True)
    git(project, "add", "-A")
    git(project, "commit", "-qm", f"onboard {name}")


def add_codeowners_lines(project: Path) -> str:
    """Run the generated repo's scripts/codeowners.py (what its CI bot does after an onboarding merges), commit."""
    done = subprocess.run([sys.executable, "scripts/codeowners.py"], cwd=project, capture_output=True, text=True, check=True)
    if git(project, "status", "--porcelain"):
        git(project, "commit", "-qam", "CODEOWNERS lines for new teams")
    return done.stdout


def team_lines(project: Path) -> list[str]:
    return [line for line in (project / "CODEOWNERS").read_text().splitlines() if line.startswith("/teams/") and "*" not in line]


def fingerprint(project: Path, prefixes: tuple[str, ...]) -> dict[str, str]:
    return {
        p.relative_to(project).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(project.rglob("*"))
        if p.is_file() and ".git" not in p.parts and p.relative_to(project).as_posix().startswith(prefixes)
    }


def team_paths(project: Path) -> tuple[str, ...]:
    clusters = tuple(f"tenants/{c.name}/" for c in (project / "tenants").iterdir() if c.is_dir() and c.name != "projects")
    return TEAM_PATHS + tuple(f"{c}{t}" for c in clusters for t in ("alpha", "beta", "gamma"))


@pytest.fixture(scope="module")
def two_versions(template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("team-versions") / "template"
    shutil.copytree(template_snapshot, repo)
    return tag_two_team_versions(repo)


def tag_two_team_versions(repo: Path) -> Path:
    """Commit and tag a template copy (with its uncommitted changes) as 0.1.0: team namespaces without the part-of
    label, an older platform default; then as 0.2.0: the working tree."""
    hook = repo / HOOK
    current = hook.read_text()
    assert OLD_LABELS in current
    hook.write_text(current.replace(OLD_LABELS, '    labels = {"istio-gitops-template/team": team["name"]}\n'))
    git(repo, "commit", "-qam", "0.1.0")
    git(repo, "tag", "0.1.0")
    hook.write_text(current)
    git(repo, "commit", "-qam", "0.2.0")
    git(repo, "tag", "0.2.0")
    return repo


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_three_teams_update_independently(two_versions: Path, tmp_path: Path, engine: str) -> None:
    project = copy_platform(two_versions, tmp_path / "platform", {"gitops_engine": engine}, vcs_ref="0.1.0")
    init_repo(project, "platform at 0.1.0")
    onboard(two_versions, project, "alpha", "0.1.0", team_ingress_routes=[{"host": "shop.example.com", "service": "web", "port": 8080}])
    onboard(two_versions, project, "beta", "0.1.0", team_namespaces=["beta", "beta-batch"], team_egress_hosts=["api.github.com"])
    onboard(two_versions, project, "gamma", "0.1.0")
    assert sorted(p.name for p in (project / ".copier").iterdir()) == ["team-alpha.yml", "team-beta.yml", "team-gamma.yml"]
    assert "/teams/" not in team_lines(project), "onboarding writes no shared file"
    add_codeowners_lines(project)
    # The cluster admins add themselves to beta's line by hand: no team update and no re-run of the script undoes it.
    hand_edited = "/teams/beta/ @example-org/team-beta @example-org/platform-admins"
    (project / "CODEOWNERS").write_text((project / "CODEOWNERS").read_text().replace("/teams/beta/ @example-org/team-beta", hand_edited))
    git(project, "commit", "-qam", "cluster admins review beta too")

    workloads = project / "teams/beta/base/beta/workloads"
    (workloads / "settings.yaml").write_text(
        "# Managed by istio-gitops-template (copier): your edits survive `copier update`.\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: beta\ndata:\n  mode: fast\n")
    (workloads / "kustomization.yaml").write_text((workloads / "kustomization.yaml").read_text().replace("resources: []", "resources:\n  - settings.yaml"))
    git(project, "add", "-A")
    git(project, "commit", "-qm", "beta's first workload")

    others = fingerprint(project, ("teams/alpha/", "teams/gamma/", ".copier/team-alpha.yml", ".copier/team-gamma.yml"))
    run_update(project, answers_file=".copier/team-beta.yml", vcs_ref="0.2.0", defaults=True, overwrite=True, unsafe=True, quiet=True)
    assert fingerprint(project, ("teams/alpha/", "teams/gamma/", ".copier/team-alpha.yml", ".copier/team-gamma.yml")) == others
    namespace = (project / "teams/beta/base/beta/namespace/namespace.yaml").read_text()
    assert "app.kubernetes.io/part-of" in namespace, "beta got the newer template"
    assert "app.kubernetes.io/part-of" not in (project / "teams/alpha/base/alpha/namespace/namespace.yaml").read_text()
    assert "settings.yaml" in (workloads / "kustomization.yaml").read_text(), "hand edit survives the team's update"
    assert hand_edited in team_lines(project), "a team update keeps the owners added by hand"
    git(project, "add", "-A")
    git(project, "commit", "-qm", "beta to 0.2.0")

    teams_before = fingerprint(project, team_paths(project))
    run_update(project, vcs_ref="0.2.0", defaults=True, overwrite=True, unsafe=True, quiet=True)
    assert fingerprint(project, team_paths(project)) == teams_before, "a platform update never touches team files"
    assert team_lines(project) == ["/teams/alpha/ @example-org/team-alpha", hand_edited, "/teams/gamma/ @example-org/team-gamma"]
    again = add_codeowners_lines(project)
    assert "every onboarded team has its line" in again and hand_edited in team_lines(project), "a re-run rewrites nothing"
    report = check(project)
    assert report.ok, summary(report)
    applied = report.platform.objects
    assert any(o["kind"] == "VirtualService" and o["metadata"]["name"] == "alpha-shop-example-com" for o in applied)


@pytest.fixture(scope="module")
def platform_repo(template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_platform(template_snapshot, tmp_path_factory.mktemp("platform") / "repo",
                            {"clusters": [{"name": "eu-1", "network": "n", "api_server": "https://api.eu-1.example.com:6443"}, {"name": "us-1", "network": "n", "api_server": "https://api.us-1.example.com:6443"}]})
    init_repo(project, "platform")
    onboard(template_snapshot, project, "payments")
    add_codeowners_lines(project)
    return project


BAD_TEAMS = [
    ({"team_name": "Payments"}, "team_name", "DNS-1123 label"),
    ({"team_name": "kube-system"}, "team_name", "reserved for the platform"),
    ({"team_name": "payments"}, "team_name", "already onboarded"),
    ({"team_name": "shop", "team_namespaces": ["payments"]}, "team_namespaces", "already owned by team 'payments'"),
    ({"team_name": "shop", "team_namespaces": ["istio-config"]}, "team_namespaces", "belongs to the platform"),
    ({"team_name": "shop", "team_clusters": ["ap-1"]}, "team_clusters", "cluster 'ap-1' is not a platform cluster"),
    ({"team_name": "shop", "team_revision_tag": "prod-next"}, "team_revision_tag", "use one of the platform's revision tags"),
    ({"team_name": "shop", "team_egress_hosts": ["evil.example.net"]}, "team_egress_hosts", "not on the platform's egress allow-list"),
    ({"team_name": "shop", "team_ingress_routes": [{"host": "shop.other.org", "service": "web", "port": 80}]}, "team_ingress_routes", "serves *.example.com"),
]


@pytest.mark.parametrize(("answers", "question", "message"), BAD_TEAMS, ids=[m for _, _, m in BAD_TEAMS])
def test_bad_team_answers_are_refused_before_writing(template_snapshot: Path, platform_repo: Path, answers: dict, question: str, message: str) -> None:
    before = fingerprint(platform_repo, ("",))
    with pytest.raises(Exception) as caught:
        run_copy(str(template_snapshot), platform_repo, data={"scope": "team", **answers}, defaults=True, unsafe=True,
                 vcs_ref="HEAD", quiet=True, overwrite=True)
    assert f"Validation error for question '{question}'" in str(caught.value)
    assert message in str(caught.value)
    assert fingerprint(platform_repo, ("",)) == before, "nothing written"


def test_onboarded_team_is_valid_and_offboarding_leaves_a_valid_repo(platform_repo: Path, tmp_path: Path) -> None:
    project = tmp_path / "repo"
    shutil.copytree(platform_repo, project)
    report = check(project)
    assert report.ok, summary(report)
    names = {o["metadata"]["name"] for o in report.platform.objects}
    assert {"eu-1-payments-payments", "us-1-payments-payments-namespace", "team-payments", "team-payments-namespaces"} <= names
    # Offboarding, as docs/onboard-team.md says: remove the answers file and the team's folders, and its CODEOWNERS line.
    git(project, "rm", "-rq", ".copier/team-payments.yml", "teams/payments", "tenants/projects/payments.yaml", "tenants/eu-1/payments", "tenants/us-1/payments")
    codeowners = project / "CODEOWNERS"
    codeowners.write_text("".join(line for line in codeowners.read_text().splitlines(keepends=True) if not line.startswith("/teams/payments/")))
    git(project, "commit", "-qam", "offboard payments")
    report = check(project)
    assert report.ok, summary(report)
    assert not any("payments" in str(o.get("metadata", {}).get("name", "")) for o in report.platform.objects)
    assert "payments" not in codeowners.read_text()
    assert "every onboarded team has its line" in add_codeowners_lines(project), "nothing comes back"
