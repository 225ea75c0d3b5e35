"""Recorded answers never change silently: each case issue 11 measured, run with the real `copier update`.

copier drops a recorded answer that fails its validator and, under `--defaults`, takes the default. Each update
below used to exit 0 with such a replacement; now it is refused with one message naming both answers and the fix,
and nothing in the repo changes. The pure rules are unit-tested at the end.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml
from copier import run_update
from copier.errors import UserMessageError
from copier._types import VcsRef

from tests.conftest import REPO, copy_platform, git, init_repo
from tests.test_team_onboarding import onboard

sys.path.insert(0, str(REPO / "extensions"))
from recorded_answers import replaced_answers, stranded_team_problems  # noqa: E402

TWO_NETWORKS = {"gateways_enabled": ["ingress", "egress", "eastwest"],
                "clusters": [{"name": "eu-1", "network": "net-eu", "api_server": "https://api.eu-1.example.com:6443"}, {"name": "us-1", "network": "net-us", "api_server": "https://api.us-1.example.com:6443"}]}
ONE_NETWORK = {"clusters": [{"name": "eu-1", "network": "net", "api_server": "https://api.eu-1.example.com:6443"}, {"name": "us-1", "network": "net", "api_server": "https://api.us-1.example.com:6443"}]}
CANARY = {"istio_versions": ["1.30.4", "1.31.1"],
          "istio_revision_tags": [{"name": "prod-stable", "version": "1.30.4"}, {"name": "prod-canary", "version": "1.31.1"}]}


def platform(template: Path, tmp_path: Path, answers: dict, engine: str = "argocd") -> Path:
    project = copy_platform(template, tmp_path / "platform", {**answers, "gitops_engine": engine})
    init_repo(project, "generated")
    return project


def refused(project: Path, data: dict, answers_file: str = ".copier-answers.yml", vcs_ref: object = VcsRef.CURRENT) -> str:
    """Run the update; assert it is refused and that the repo is exactly as it was."""
    before = git(project, "rev-parse", "HEAD")
    with pytest.raises(UserMessageError) as raised:
        run_update(project, data=data, answers_file=answers_file, vcs_ref=vcs_ref, defaults=True, overwrite=True,
                   unsafe=True, quiet=True)
    assert git(project, "status", "--porcelain", "--untracked-files=all") == "", "nothing was written"
    assert git(project, "rev-parse", "HEAD") == before
    message = raised.value.message
    assert message.startswith("Refused, nothing was written:"), message
    return message


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_dropping_eastwest_does_not_replace_the_clusters(template_snapshot: Path, tmp_path: Path, engine: str) -> None:
    project = platform(template_snapshot, tmp_path, TWO_NETWORKS, engine)
    message = refused(project, {"gateways_enabled": ["ingress", "egress"]})
    assert ("clusters: your recorded answer [{api_server: 'https://api.eu-1.example.com:6443', name: eu-1, network: net-eu}, "
            "{api_server: 'https://api.us-1.example.com:6443', name: us-1, network: net-us}] no longer passes") in message
    assert "add 'eastwest' to gateways_enabled" in message, "the validator's own reason"
    assert "after you changed gateways_enabled" in message
    assert "--data 'clusters=...'" in message


def test_removing_the_old_version_before_promoting_is_refused(template_snapshot: Path, tmp_path: Path) -> None:
    """Canary step 3 before step 2 used to delete prod-canary and promote prod-stable unreviewed."""
    project = platform(template_snapshot, tmp_path, {**ONE_NETWORK, **CANARY})
    message = refused(project, {"istio_versions": ["1.31.1"]})
    assert message.count("\n- ") == 1, message
    assert "istio_revision_tags: your recorded answer [{name: prod-stable, version: 1.30.4}, {name: prod-canary, version: 1.31.1}]" in message
    assert "1.30.4" in message and "after you changed istio_versions" in message


def test_self_signed_ca_does_not_drop_a_cluster(template_snapshot: Path, tmp_path: Path) -> None:
    project = platform(template_snapshot, tmp_path, ONE_NETWORK)
    message = refused(project, {"ca_mode": "self-signed-dev"})
    assert "clusters: your recorded answer" in message and "self-signed-dev" in message


def test_removing_the_pinned_gateway_version_is_refused(template_snapshot: Path, tmp_path: Path) -> None:
    project = platform(template_snapshot, tmp_path, {**CANARY, "gateway_revision": "1.30.4"})
    message = refused(project, {"istio_versions": ["1.31.1"],
                                "istio_revision_tags": [{"name": "prod-stable", "version": "1.31.1"}]})
    assert "gateway_revision: your recorded answer '1.30.4'" in message or "gateway_revision: your recorded answer 1.30.4" in message, message


def test_a_release_that_drops_an_istio_line_refuses_instead_of_jumping(template_snapshot: Path, tmp_path: Path) -> None:
    """The next template release no longer supports 1.29: the update stops instead of moving to the default version."""
    project = platform(template_snapshot, tmp_path, {"istio_versions": ["1.29.7"],
                                                     "istio_revision_tags": [{"name": "prod-stable", "version": "1.29.7"}]})
    template = tmp_path / "next-release"
    shutil.copytree(template_snapshot, template)
    checks = template / "extensions/answer_checks.py"
    checks.write_text(checks.read_text().replace("SUPPORTED_MINORS = (29, 30, 31)", "SUPPORTED_MINORS = (30, 31)"))
    git(template, "commit", "-qam", "drop 1.29")
    git(template, "tag", "1000.1.0")
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    answers["_src_path"] = str(template)
    (project / ".copier-answers.yml").write_text(yaml.safe_dump(answers))
    git(project, "commit", "-qam", "template moved")
    message = refused(project, {}, vcs_ref="1000.1.0")
    assert "istio_versions: your recorded answer [1.29.7] no longer passes" in message
    assert "the template's new rules" in message


def test_removing_a_cluster_a_team_runs_on_is_refused(template_snapshot: Path, tmp_path: Path) -> None:
    project = platform(template_snapshot, tmp_path, ONE_NETWORK)
    onboard(template_snapshot, project, "payments", team_clusters=["us-1"])
    onboard(template_snapshot, project, "shop")
    message = refused(project, {"clusters": [{"name": "eu-1", "network": "net", "api_server": "https://api.eu-1.example.com:6443"}]})
    assert "removing us-1 would strand team payments (team_clusters in .copier/team-payments.yml)" in message
    assert "removing us-1 would strand team shop" in message
    assert "-a .copier/team-payments.yml --data 'team_clusters=[...]'" in message


def test_switching_engine_with_teams_is_refused(template_snapshot: Path, tmp_path: Path) -> None:
    project = platform(template_snapshot, tmp_path, {})
    onboard(template_snapshot, project, "payments")
    message = refused(project, {"gitops_engine": "flux"})
    assert "gitops_engine: switching from argocd to flux would leave the engine wiring of 1 onboarded team(s) (payments)" in message


def test_team_update_does_not_spread_the_team_onto_every_cluster(template_snapshot: Path, tmp_path: Path) -> None:
    """The platform lost the team's cluster (as an older template allowed): the team update is refused, where copier
    used to replace the team's clusters by the default, every platform cluster."""
    project = platform(template_snapshot, tmp_path, ONE_NETWORK)
    onboard(template_snapshot, project, "payments", team_clusters=["us-1"])
    platform_file = project / ".copier-answers.yml"
    answers = yaml.safe_load(platform_file.read_text())
    answers["clusters"] = [c for c in answers["clusters"] if c["name"] != "us-1"]
    platform_file.write_text(yaml.safe_dump(answers))
    git(project, "commit", "-qam", "platform dropped us-1")
    message = refused(project, {}, answers_file=".copier/team-payments.yml")
    assert "team_clusters: your recorded answer [us-1] no longer passes" in message
    assert "[eu-1]" in message, "names what copier would have used"


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_changing_both_answers_together_passes_and_a_no_op_changes_nothing(template_snapshot: Path, tmp_path: Path,
                                                                           engine: str) -> None:
    project = platform(template_snapshot, tmp_path, TWO_NETWORKS, engine)
    run_update(project, vcs_ref=VcsRef.CURRENT, defaults=True, overwrite=True, unsafe=True, quiet=True)
    assert git(project, "status", "--porcelain", "--untracked-files=all") == "", "a no-op update changes nothing"
    one_network = [{"name": "eu-1", "network": "net-eu", "api_server": "https://api.eu-1.example.com:6443"}, {"name": "us-1", "network": "net-eu", "api_server": "https://api.us-1.example.com:6443"}]
    run_update(project, data={"gateways_enabled": ["ingress", "egress"], "clusters": one_network},
               vcs_ref=VcsRef.CURRENT, defaults=True, overwrite=True, unsafe=True, quiet=True)
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["clusters"] == one_network


# --- the rules, without copier ----------------------------------------------------------------------------------


def test_replaced_answers_ignores_given_hidden_and_private_answers() -> None:
    recorded = {"_commit": "1", "a": 1, "b": 2, "c": 3, "d": 4, "recorded_answers_kept": ""}
    current = {"a": 1, "b": 20, "c": 30, "d": 40, "recorded_answers_kept": "x"}
    assert replaced_answers(recorded, current, given={"c": 30}, asked={"a", "b", "c", "recorded_answers_kept"}) == ["b"]


def test_stranded_teams_name_each_team_and_what_it_uses() -> None:
    recorded = {"gitops_engine": "argocd", "clusters": [{"name": "a"}, {"name": "b"}],
                "istio_revision_tags": [{"name": "stable"}, {"name": "canary"}], "gateways_enabled": ["ingress", "egress"]}
    current = {"gitops_engine": "argocd", "clusters": [{"name": "a"}], "istio_revision_tags": [{"name": "stable"}],
               "gateways_enabled": []}
    teams = {"t1": {"team_clusters": ["b"], "team_revision_tag": "canary", "team_ingress_routes": [{"host": "x"}],
                    "team_egress_hosts": ["api.example.com"]},
             "t2": {"team_clusters": ["a"], "team_revision_tag": "stable"}}
    problems = stranded_team_problems(recorded, current, teams)
    assert len(problems) == 4 and all("team t1" in p for p in problems), problems
    assert stranded_team_problems(recorded, recorded, teams) == []
    assert stranded_team_problems(recorded, {**recorded, "gitops_engine": "flux"}, {}) == [], "no teams, free to switch"
