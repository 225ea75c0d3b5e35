"""Conflicts a `copier update` leaves are impossible to miss: the update is applied, then copier exits 1 with a
message naming every file with conflict markers and every `.rej` (hooks/update_conflicts.py, an unversioned
"after" migration: copier runs `_tasks` before it merges, so only a migration sees the merge's conflicts).

The pure parts run without copier; the real `copier update` CLI runs for the platform scope (inline markers and
`--conflict rej`) and for a team scope, and a clean update stays silent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, copy_platform, git, init_repo
from tests.test_team_onboarding import onboard

sys.path.insert(0, str(REPO / "hooks"))
import update_conflicts  # noqa: E402

ISTIOD_TEMPLATE = "template/mesh/revisions/{% yield rev from istio_revisions %}{{ rev.revision }}{% endyield %}/istiod.values.yaml.jinja"
ISTIOD = "mesh/revisions/1-31-1/istiod.values.yaml"
TEAM_HOOK = "hooks/team_folders.py"
TEAM_LABELS = '    labels = {"app.kubernetes.io/part-of": platform["platform_name"], "istio-gitops-template/team": team["name"]}\n'
NAMESPACE = "teams/shop/base/shop/namespace/namespace.yaml"


# Pure functions.

def test_marker_lines_are_conflict_openers_and_closers_only() -> None:
    text = "a: 1\n<<<<<<< before updating\na: 2\n=======\na: 3\n>>>>>>> after updating\nTitle\n=======\n<<<<<<<< not one\n>>>>>>>\n"
    assert update_conflicts.marker_lines(text) == [2, 6, 10]
    assert update_conflicts.marker_lines("Title\n=======\n") == []


def test_report_names_each_file_and_what_to_do() -> None:
    conflicts = update_conflicts.find_conflicts(
        unmerged=["mesh/x.yaml", "README.md"],
        candidates={"mesh/x.yaml": "<<<<<<< before updating\n=======\n>>>>>>> after updating\n", "ok.yaml": "a: 1\n"},
        untracked=["gateways/y.yaml.rej", "notes.txt"])
    assert conflicts.files() == ["README.md", "gateways/y.yaml.rej", "mesh/x.yaml"]
    message = update_conflicts.report(conflicts, ".copier/team-shop.yml")
    assert "`copier update -a .copier/team-shop.yml` is applied, but 3 files need you" in message
    assert "  mesh/x.yaml: conflict markers at lines 1, 3" in message
    assert "  gateways/y.yaml.rej: a change copier could not apply to gateways/y.yaml" in message
    assert "  README.md: unmerged" in message
    assert "git reset --hard HEAD" in message and "exits 1 on purpose" in message
    assert "`copier update` is applied, but 1 file needs you" in update_conflicts.report(
        update_conflicts.find_conflicts([], {}, ["a.rej"]), ".copier-answers.yml")


def merge_with_a_conflict(repo: Path) -> int:
    """Change values.yaml on two branches and merge them: git leaves it unmerged, with markers. Returns git's status."""
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "values.yaml").write_text("a: 2\n")
    git(repo, "commit", "-qam", "other")
    git(repo, "checkout", "-q", "main")
    (repo / "values.yaml").write_text("a: 3\n")
    git(repo, "commit", "-qam", "main")
    return subprocess.run(["git", "merge", "-q", "other"], cwd=repo, capture_output=True, check=False).returncode


def test_scan_finds_unmerged_markers_and_ignored_rejects(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".gitignore").write_text("*.rej\n")
    (repo / "values.yaml").write_text("a: 1\n")
    (repo / "clean.yaml").write_text("b: 1\n")
    init_repo(repo, "base")
    assert merge_with_a_conflict(repo) != 0
    (repo / "clean.yaml.rej").write_text("@@ -1 +1 @@\n-b: 1\n+b: 2\n")
    (repo / "added.yaml").write_text("<<<<<<< before updating\nc: 1\n=======\nc: 2\n>>>>>>> after updating\n")
    found = update_conflicts.scan(repo)
    assert found.unmerged == ["values.yaml"]
    assert sorted(found.markers) == ["added.yaml", "values.yaml"]
    assert found.rejects == ["clean.yaml.rej"], "a *.rej ignore rule hides nothing"


def test_nothing_to_report_outside_a_work_tree_or_when_clean(tmp_path: Path) -> None:
    assert update_conflicts.scan(tmp_path) is None
    (tmp_path / "a.yaml").write_text("a: 1\n")
    init_repo(tmp_path, "clean")
    assert update_conflicts.scan(tmp_path).files() == []


# The real copier update.

@pytest.fixture(scope="module")
def two_versions(template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Template 0.1.0 and 0.2.0 differ on one istiod line and on one line of a team's Namespace."""
    repo = tmp_path_factory.mktemp("conflict-versions") / "template"
    shutil.copytree(template_snapshot, repo)
    istiod, hook = repo / ISTIOD_TEMPLATE, repo / TEAM_HOOK
    current_istiod, current_hook = istiod.read_text(), hook.read_text()
    assert "autoscaleMax: 5" in current_istiod and TEAM_LABELS in current_hook
    istiod.write_text(current_istiod.replace("autoscaleMax: 5", "autoscaleMax: 4"))
    hook.write_text(current_hook.replace(TEAM_LABELS, '    labels = {"istio-gitops-template/team": team["name"]}\n'))
    git(repo, "commit", "-qam", "0.1.0")
    git(repo, "tag", "0.1.0")
    istiod.write_text(current_istiod)
    hook.write_text(current_hook)
    git(repo, "commit", "-qam", "0.2.0")
    git(repo, "tag", "0.2.0")
    return repo


def copier_update(project: Path, *arguments: str) -> subprocess.CompletedProcess:
    """The copier CLI, as a user runs it."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    return subprocess.run([sys.executable, "-m", "copier", "update", "--trust", "--defaults", "--vcs-ref", "0.2.0", *arguments],
                          cwd=project, capture_output=True, text=True, check=False, env=env)


def platform_with_edit(template: Path, project: Path) -> Path:
    copy_platform(template, project, vcs_ref="0.1.0")
    init_repo(project, "generated at 0.1.0")
    istiod = project / ISTIOD
    istiod.write_text(istiod.read_text().replace("autoscaleMax: 4", "autoscaleMax: 8"))
    git(project, "commit", "-qam", "more istiod replicas")
    return project


@pytest.mark.parametrize("mode", ["inline", "rej"])
def test_platform_update_with_a_conflict_exits_1_naming_the_file(two_versions: Path, tmp_path: Path, mode: str) -> None:
    project = platform_with_edit(two_versions, tmp_path / "repo")
    done = copier_update(project, "--conflict", mode)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "CONFLICTS: `copier update` is applied, but 1 file needs you before you commit:" in done.stderr
    if mode == "inline":
        assert f"  {ISTIOD}: conflict markers at lines" in done.stderr
        assert git(project, "ls-files", "--unmerged", "--", ISTIOD), "git shows it unmerged too"
    else:
        assert f"  {ISTIOD}.rej: a change copier could not apply to {ISTIOD}" in done.stderr
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "0.2.0", "the update itself is applied"


def test_team_update_with_a_conflict_exits_1_naming_the_file_a_clean_one_is_silent(two_versions: Path, tmp_path: Path) -> None:
    project = copy_platform(two_versions, tmp_path / "repo", vcs_ref="0.1.0")
    init_repo(project, "generated at 0.1.0")
    onboard(two_versions, project, "shop", "0.1.0")
    namespace = project / NAMESPACE
    # 0.2.0 adds a label at the top of the same mapping: both sides insert at one place.
    namespace.write_text(namespace.read_text().replace("  labels:\n", "  labels:\n    cost-center: cc-42\n"))
    git(project, "commit", "-qam", "cost center label")
    clean = copier_update(project)
    assert clean.returncode == 0 and "CONFLICTS" not in clean.stderr, "an update without conflicts stays silent"
    assert "autoscaleMax: 5" in (project / ISTIOD).read_text()
    git(project, "commit", "-qam", "platform at 0.2.0")
    done = copier_update(project, "-a", ".copier/team-shop.yml")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "CONFLICTS: `copier update -a .copier/team-shop.yml` is applied, but 1 file needs you" in done.stderr
    assert f"  {NAMESPACE}: conflict markers at lines" in done.stderr


# The bots propose an update with conflicts for review; any other failure still fails the job.

def bot_step(render) -> str:
    workflow = yaml.safe_load((render({"ci_provider": "github"}) / ".github/workflows/platform-bots.yml").read_text())
    return next(s["run"] for s in workflow["jobs"]["template-update"]["steps"] if "copier update" in s.get("run", ""))


@pytest.mark.parametrize(("conflict", "status"), [(True, 0), (False, 1)])
def test_template_update_bot_goes_on_only_after_conflicts(render, tmp_path: Path, conflict: bool, status: int) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "values.yaml").write_text("a: 1\n")
    init_repo(repo, "base")
    if conflict:
        merge_with_a_conflict(repo)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "copier").write_text("#!/bin/sh\necho 'copier failed' >&2\nexit 1\n")
    (fake / "copier").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-e", "-c", bot_step(render)], cwd=repo, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == status, done.stdout + done.stderr
    if conflict:
        assert "::warning title=template update::conflict markers to resolve on the PR branch: values.yaml" in done.stdout
