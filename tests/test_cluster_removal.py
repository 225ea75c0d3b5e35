"""Removing a cluster from `clusters` with the real `copier update` (issue 12, item 8), on both engines.

A three-cluster mesh on two networks loses eu-2. Afterwards no file of the repo names eu-2, no engine unit is left
for it, the peers' remote secrets for it are gone (and the units that held them prune), and the platform check
passes. What the engines then delete is modelled from the repo before the update: on Argo CD the pruned
per-cluster root Application and every child carry the resources finalizer, so the deletion cascades to what
they installed; on Flux the cluster's own flux-system Kustomization (bootstrap's gotk-sync, prune: true) prunes
the Kustomizations the entry point no longer lists, and they prune what they applied (istio-base excepted, see
docs/certificates.md#removing-a-cluster).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from copier import run_update
from copier._types import VcsRef
from copier.errors import UserMessageError

from tests.conftest import copy_platform, git, init_repo
from tests.test_questionnaire import snapshot_of
from tests.test_team_onboarding import onboard
from istio_gitops_check import guardrails, rendered_platform
from istio_gitops_check.platform_check import check, summary

THREE = [{"name": "eu-1", "network": "net-eu", "api_server": "https://api.eu-1.example.com:6443"}, {"name": "eu-2", "network": "net-eu", "api_server": "https://api.eu-2.example.com:6443"}, {"name": "us-1", "network": "net-us", "api_server": "https://api.us-1.example.com:6443"}]
KEPT = [c for c in THREE if c["name"] != "eu-2"]
ANSWERS = {"clusters": THREE, "gateways_enabled": ["ingress", "egress", "eastwest"]}
REMOVED = re.compile(r"\beu-2\b")


def update(project: Path, data: dict, answers_file: str = ".copier-answers.yml") -> None:
    run_update(project, data=data, answers_file=answers_file, vcs_ref=VcsRef.CURRENT, defaults=True, overwrite=True,
               unsafe=True, quiet=True)


def mentions_of_removed(project: Path) -> list[str]:
    """Every path, and every line of every file, that names the removed cluster (git history aside)."""
    found = []
    for path in sorted(p for p in project.rglob("*") if ".git" not in p.relative_to(project).parts):
        relative = path.relative_to(project).as_posix()
        if REMOVED.search(relative):
            found.append(relative)
        elif path.is_file():
            found += [f"{relative}: {line.strip()}" for line in path.read_text().splitlines() if REMOVED.search(line)]
    return found


def units_of(platform: rendered_platform.RenderedPlatform, cluster: str) -> list[str]:
    """The engine units that act on `cluster`: Argo CD Applications (by destination or name), Flux Kustomizations
    of its entry point."""
    if platform.engine == "argocd":
        return sorted(a["metadata"]["name"] for a in platform.unique_objects if a.get("kind") == "Application"
                      and (a["spec"].get("destination", {}).get("name") == cluster or REMOVED.search(a["metadata"]["name"])))
    return sorted(f"{platform.relative(d)}/{o['metadata']['name']}" for d, objects in platform.builds.items()
                  if platform.relative(d) == f"clusters/{cluster}" for o in objects if o.get("kind") == "Kustomization")


def remote_secret_peers(project: Path, cluster: str) -> set[str]:
    path = project / f"mesh/clusters/{cluster}/remote-secrets/remote-secrets.yaml"
    return {d["spec"]["target"]["template"]["metadata"]["annotations"]["networking.istio.io/cluster"]
            for d in yaml.safe_load_all(path.read_text()) if d}


def assert_removed_cleanly(project: Path) -> None:
    assert mentions_of_removed(project) == []
    platform = rendered_platform.load(project)
    assert units_of(platform, "eu-2") == []
    assert remote_secret_peers(project, "eu-1") == {"us-1"} and remote_secret_peers(project, "us-1") == {"eu-1"}
    report = check(project)
    assert report.ok, summary(report)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_removing_a_cluster_leaves_no_file_unit_or_remote_secret(template_snapshot: Path, tmp_path: Path, engine: str) -> None:
    project = copy_platform(template_snapshot, tmp_path / "platform", {**ANSWERS, "gitops_engine": engine})
    init_repo(project, "three clusters")
    before = rendered_platform.load(project)
    units = units_of(before, "eu-2")
    assert units and remote_secret_peers(project, "eu-1") == {"eu-2", "us-1"}
    if engine == "argocd":
        # The root Application the update removes, and every child it renders, delete what they installed.
        assert "platform-eu-2" in units
        applications = {a["metadata"]["name"]: a for a in before.unique_objects if a.get("kind") == "Application"}
        assert all(guardrails.ARGOCD_FINALIZER in applications[name]["metadata"].get("finalizers", []) for name in units)
        assert guardrails.argocd_parents_delete_their_children(before) == []
    else:
        kustomizations = {u.rsplit("/", 1)[1]: u for u in units}
        assert {"istio-base", "mesh-certificates", "remote-secrets", "istiod-1-31-1", "mesh-config", "tenants"} <= set(kustomizations)

    update(project, {"clusters": KEPT})

    assert_removed_cleanly(project)
    status = git(project, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert all(line[:2].strip() in ("D", "M") for line in status), status
    # The peers' remote-secrets units, which prune, now lack eu-2's secret: their engines delete it.
    after = rendered_platform.load(project)
    secrets = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in after.unique_objects if o.get("kind") == "ExternalSecret"}
    assert ("istio-system", "istio-remote-secret-eu-2") not in secrets and ("istio-system", "istio-remote-secret-us-1") in secrets
    assert guardrails.GUARDRAILS["Argo CD sync order" if engine == "argocd" else "Flux Kustomizations well formed"](after) == []


@pytest.mark.slow
def test_a_cluster_a_team_uses_is_removed_after_the_team_moves(template_snapshot: Path, tmp_path: Path) -> None:
    """The documented order: the update refuses while a team runs on the cluster; move the team (its own update),
    commit, remove the cluster, commit, then update each team so its record of the platform forgets the cluster."""
    project = copy_platform(template_snapshot, tmp_path / "platform", {**ANSWERS, "gitops_engine": "argocd"})
    init_repo(project, "three clusters")
    onboard(template_snapshot, project, "payments")
    assert (project / "tenants/eu-2/payments").is_dir()

    with pytest.raises(UserMessageError, match="removing eu-2 would strand team payments"):
        update(project, {"clusters": KEPT})
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""

    update(project, {"team_clusters": ["eu-1", "us-1"]}, answers_file=".copier/team-payments.yml")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "payments leaves eu-2")
    assert not (project / "tenants/eu-2/payments").exists()

    update(project, {"clusters": KEPT})
    git(project, "add", "-A")
    git(project, "commit", "-qm", "remove eu-2")
    # The team's record of the platform (team_platform) still lists eu-2 until the team's next update refreshes it.
    assert mentions_of_removed(project) == [".copier/team-payments.yml: - eu-2"]
    update(project, {"team_platform": snapshot_of(project)}, answers_file=".copier/team-payments.yml")
    assert_removed_cleanly(project)
    assert (project / "tenants/eu-1/payments").is_dir() and (project / "tenants/us-1/payments").is_dir()
