"""Onboarding writes no shared file, so onboarding pull requests merge on GitHub; the generated repo's
scripts/codeowners.py gives each team its CODEOWNERS line later and never rewrites one.

GitHub's merge button ignores `.gitattributes` merge drivers: the merges below are plain `git merge`s in a repo
whose attributes configure none, in every order.
"""

from __future__ import annotations

import importlib.util
import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from istio_gitops_check.platform_check import check, summary
from tests.conftest import REPO, copy_platform, git, init_repo
from tests.test_team_onboarding import onboard

SCRIPT = REPO / "template" / "scripts" / "codeowners.py"
TEAMS = {
    "alpha": {"team_ingress_routes": [{"host": "shop.example.com", "service": "web", "port": 8080}]},
    "beta": {"team_namespaces": ["beta", "beta-batch"], "team_egress_hosts": ["api.github.com"]},
    "gamma": {},
}
BLOCK = "* @acme/admins\n# BEGIN teams (one line per team, kept sorted by team onboarding)\n{}# END teams\n/teams/*/base/*/namespace/ @acme/admins\n"


def load_script():
    spec = importlib.util.spec_from_file_location("generated_codeowners", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


codeowners = load_script()


def run_script(project: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "scripts/codeowners.py", *arguments], cwd=project, capture_output=True, text=True, check=False)


# The script as plain functions.

def test_adds_missing_lines_sorted_and_leaves_existing_lines_alone() -> None:
    text = BLOCK.format("/teams/beta/ @acme/team-beta @acme/sre\n/teams/delta/ @acme/delta-owners\n")
    owners = {"alpha": "team-alpha", "beta": "team-beta", "charlie": "team-charlie", "delta": "team-delta"}
    updated, added = codeowners.with_team_lines(text, owners, "acme")
    assert added == ["/teams/alpha/ @acme/team-alpha", "/teams/charlie/ @acme/team-charlie"]
    assert updated.splitlines()[2:6] == ["/teams/alpha/ @acme/team-alpha", "/teams/beta/ @acme/team-beta @acme/sre",
                                         "/teams/charlie/ @acme/team-charlie", "/teams/delta/ @acme/delta-owners"]
    assert codeowners.with_team_lines(updated, owners, "acme") == (updated, []), "idempotent"
    removed = [line for line in text.splitlines() if line not in updated.splitlines()]
    assert removed == [], "no existing line is rewritten"


def test_a_team_line_anywhere_and_in_any_spelling_counts() -> None:
    text = BLOCK.format("") + "teams/alpha/** @acme/x\n/teams/beta @acme/y\n# /teams/gamma/ @acme/z\n"
    assert codeowners.missing_teams(text, {"alpha": "a", "beta": "b", "gamma": "c"}) == ["gamma"]
    assert codeowners.team_of("/teams/*/base/*/namespace/ @acme/admins") is None
    assert codeowners.team_of("/teams/alpha/base/ @acme/admins") is None, "a subfolder line is not the team's line"


def test_stale_lines_are_mentioned_not_removed(tmp_path: Path) -> None:
    (tmp_path / "CODEOWNERS").write_text(BLOCK.format("/teams/gone/ @acme/team-gone\n"))
    (tmp_path / ".copier-answers.yml").write_text("codeowners_org: acme\n")
    assert codeowners.main([], tmp_path) == 0
    assert "/teams/gone/ @acme/team-gone" in (tmp_path / "CODEOWNERS").read_text()


def test_refusals_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / ".copier").mkdir()
    (tmp_path / ".copier-answers.yml").write_text("codeowners_org: acme\n")
    (tmp_path / "CODEOWNERS").write_text("* @acme/admins\n")
    (tmp_path / ".copier/team-alpha.yml").write_text("team_name: alpha\nteam_owners_group: team-alpha\n")
    assert codeowners.main([], tmp_path) == 2
    assert "no '# BEGIN teams' ... '# END teams' block" in capsys.readouterr().err
    (tmp_path / "CODEOWNERS").write_text(BLOCK.format(""))
    (tmp_path / ".copier/team-beta.yml").write_text("team_name: beta\nteam_owners_group: 'oidc:beta@corp'\n")
    assert codeowners.main([], tmp_path) == 2
    assert "team_owners_group 'oidc:beta@corp' cannot be a CODEOWNERS team" in capsys.readouterr().err
    assert (tmp_path / "CODEOWNERS").read_text() == BLOCK.format(""), "nothing written"
    assert codeowners.main(["--fix"], tmp_path) == 2


# Onboarding in parallel, merged the way GitHub merges.

@pytest.fixture(scope="module", params=["argocd", "flux"])
def parallel_onboarding(request: pytest.FixtureRequest, template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A platform repo on main, and one onboarding branch per team, each made from the same main commit."""
    project = copy_platform(template_snapshot, tmp_path_factory.mktemp(f"parallel-{request.param}") / "repo",
                            {"gitops_engine": request.param})
    init_repo(project, "platform")
    for team, answers in TEAMS.items():
        git(project, "checkout", "-q", "-b", f"onboard-{team}", "main")
        onboard(template_snapshot, project, team, **answers)
    git(project, "checkout", "-q", "main")
    return project


def test_gitattributes_configure_no_merge_driver(parallel_onboarding: Path) -> None:
    attributes = (parallel_onboarding / ".gitattributes").read_text()
    assert "merge=" not in attributes
    assert git(parallel_onboarding, "check-attr", "merge", "--", "CODEOWNERS").strip() == "CODEOWNERS: merge: unspecified"


def test_onboarding_branches_touch_no_shared_file(parallel_onboarding: Path) -> None:
    touched = {team: set(git(parallel_onboarding, "diff", "--name-only", "main", f"onboard-{team}").split()) for team in TEAMS}
    for one, other in itertools.combinations(TEAMS, 2):
        assert not touched[one] & touched[other], (one, other, touched[one] & touched[other])
    assert all("CODEOWNERS" not in files for files in touched.values())


def test_onboarding_branches_merge_in_every_order(parallel_onboarding: Path) -> None:
    project = parallel_onboarding
    trees = set()
    for order in itertools.permutations(TEAMS):
        git(project, "checkout", "-q", "-B", "merged", "main")
        for team in order:
            done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "merge", "--no-ff", "--no-edit",
                                   f"onboard-{team}"], cwd=project, capture_output=True, text=True, check=False)
            assert done.returncode == 0, f"{' then '.join(order)}: merging {team} failed:\n{done.stdout}{done.stderr}"
        assert git(project, "ls-files", "--unmerged") == ""
        trees.add(git(project, "rev-parse", "HEAD^{tree}").strip())
    assert len(trees) == 1, "every order gives the same repository"
    git(project, "checkout", "-q", "main")


def test_merged_teams_pass_the_check_then_get_their_lines(parallel_onboarding: Path, tmp_path: Path) -> None:
    project = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(parallel_onboarding), str(project)], check=True)
    for team in TEAMS:
        git(project, "merge", "-q", "--no-edit", f"origin/onboard-{team}")
    report = check(project)
    assert report.ok, "teams without a CODEOWNERS line are the cluster admins' (the catch-all):\n" + summary(report)

    missing = run_script(project, "--check")
    assert missing.returncode == 1
    assert [line.split(": ")[1] for line in missing.stdout.splitlines()] == [f"team {t} has no line yet, so the cluster admins review teams/{t}/; `python3 scripts/codeowners.py` adds" for t in TEAMS]

    added = run_script(project)
    assert added.returncode == 0, added.stderr
    lines = (project / "CODEOWNERS").read_text().splitlines()
    begin = next(i for i, line in enumerate(lines) if line.startswith("# BEGIN teams"))
    assert lines[begin + 1:begin + 4] == [f"/teams/{t}/ @example-org/team-{t}" for t in TEAMS]
    assert run_script(project, "--check").returncode == 0
    git(project, "commit", "-qam", "CODEOWNERS lines")
    report = check(project)
    assert report.ok, summary(report)
