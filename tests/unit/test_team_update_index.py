"""The index a team update narrows for copier's snapshot: exactly the team's paths, and put back byte for byte."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.changelog import Release, read_releases
from tests.conftest import REPO, git
from tests.unit.test_team_folders import PLATFORM, TEAM

sys.path.insert(0, str(REPO / "extensions"))
sys.path.insert(0, str(REPO / "hooks"))
import team_folders  # noqa: E402
import team_update_index  # noqa: E402
from manifest_files import write_files  # noqa: E402

NARROWING = REPO / "hooks" / "team_update_narrowing.py"


@pytest.mark.parametrize(("answers_file", "team"), [
    (".copier/team-payments.yml", "payments"),
    ("./.copier/team-a1.yml", "a1"),
    (".copier-answers.yml", None),
    (".copier/team-.yml", None),
    (".copier/team-pay.yml\n", None),
    (".copier/team-Pay.yml", None),
    ("other/.copier/team-pay.yml", None),
    (".copier/team-../x.yml", None),
])
def test_team_of_answers_file(answers_file: str, team: str | None) -> None:
    assert team_update_index.team_of_answers_file(answers_file) == team


def teams_repo(root: Path, engine: str) -> dict[str, list[str]]:
    """A committed repo with platform files and three teams whose names prefix each other; {team: its paths}."""
    platform = {**PLATFORM, "gitops_engine": engine}
    teams = {
        "payments": TEAM,
        "payments-2": {**TEAM, "name": "payments-2", "namespaces": ["payments-2"], "clusters": ["us-1"], "ingress_routes": []},
        "pay": {**TEAM, "name": "pay", "namespaces": ["pay"], "egress_hosts": []},
    }
    owned = {}
    for name, team in teams.items():
        files = {**team_folders.team_files(platform, team), f".copier/team-{name}.yml": f"team_name: {name}\n"}
        write_files(root, files)
        owned[name] = sorted(files)
    write_files(root, {"README.md": "x\n", "tenants/eu-1/README.md": "x\n", "tenants/projects/README.md": "x\n",
                       "gateways/requests/README.md": "x\n", ".copier-answers.yml": "scope: platform\n",
                       "teams/README.md": "x\n"})
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "platform and teams")
    return owned


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_pathspecs_are_exactly_the_files_the_team_scope_writes(tmp_path: Path, engine: str) -> None:
    owned = teams_repo(tmp_path, engine)
    for name, paths in owned.items():
        listed = git(tmp_path, "ls-files", "--", *team_update_index.team_pathspecs(name)).split()
        assert sorted(listed) == paths, name


def test_narrowing_leaves_the_team_and_restoring_puts_back_every_byte(tmp_path: Path) -> None:
    owned = teams_repo(tmp_path, "argocd")
    index = tmp_path / ".git" / "index"
    full, full_tree = index.read_bytes(), git(tmp_path, "write-tree").strip()
    assert team_update_index.narrow_index(tmp_path, "payments")
    assert sorted(git(tmp_path, "ls-files").split()) == owned["payments"]
    narrowed_tree = git(tmp_path, "write-tree").strip()
    assert sorted(git(tmp_path, "ls-tree", "-r", "--name-only", narrowed_tree).split()) == owned["payments"]
    for path in owned["payments"]:  # the team's entries are the committed ones
        assert git(tmp_path, "rev-parse", f"{narrowed_tree}:{path}") == git(tmp_path, "rev-parse", f"HEAD:{path}")
    assert not team_update_index.narrow_index(tmp_path, "payments"), "a narrowed index is never narrowed again"
    assert team_update_index.restore_index(tmp_path)
    assert index.read_bytes() == full
    assert git(tmp_path, "write-tree").strip() == full_tree
    assert git(tmp_path, "status", "--porcelain") == ""
    assert not team_update_index.restore_index(tmp_path), "nothing left to restore"
    assert index.read_bytes() == full


def test_nothing_is_narrowed_outside_git_or_without_team_files(tmp_path: Path) -> None:
    assert not team_update_index.narrow_index(tmp_path, "payments")
    assert not team_update_index.restore_index(tmp_path)
    assert not team_update_index.restore_index(tmp_path / "not-yet-copied"), "a first copy: no destination yet"
    teams_repo(tmp_path, "argocd")
    full = (tmp_path / ".git" / "index").read_bytes()
    assert not team_update_index.narrow_index(tmp_path, "nobody"), "no entry to keep: copier's plain behaviour"
    assert (tmp_path / ".git" / "index").read_bytes() == full


def test_an_unmerged_index_is_left_alone(tmp_path: Path) -> None:
    owned = teams_repo(tmp_path, "argocd")
    path = owned["pay"][0]
    blob = git(tmp_path, "rev-parse", f"HEAD:{path}").strip()
    subprocess.run(["git", "update-index", "--index-info"], cwd=tmp_path, check=True, text=True,
                   input=f"0 {'0' * 40}\t{path}\n100644 {blob} 2\t{path}\n100644 {blob} 3\t{path}\n")
    before = (tmp_path / ".git" / "index").read_bytes()
    assert not team_update_index.narrow_index(tmp_path, "pay")
    assert (tmp_path / ".git" / "index").read_bytes() == before


@pytest.mark.parametrize(("answers_file", "defaults", "narrowed"), [
    (".copier/team-payments.yml", "True", True),
    (".copier/team-payments.yml", "False", False),  # interactive: copier's plain behaviour
    (".copier-answers.yml", "True", False),
])
def test_the_migration_narrows_only_team_updates_under_defaults(tmp_path: Path, answers_file: str, defaults: str,
                                                                narrowed: bool) -> None:
    owned = teams_repo(tmp_path, "flux")
    subprocess.run([sys.executable, str(NARROWING), "narrow", answers_file, defaults], cwd=tmp_path, check=True)
    listed = sorted(git(tmp_path, "ls-files").split())
    assert (listed == owned["payments"]) is narrowed
    subprocess.run([sys.executable, str(NARROWING), "restore"], cwd=tmp_path, check=True)
    assert git(tmp_path, "status", "--porcelain") == ""
    assert subprocess.run([sys.executable, str(NARROWING), "narrow"], cwd=tmp_path).returncode == 2


RELEASE_TEAM_PATHS = """
import json, sys
sys.path[:0] = [sys.argv[1] + "/hooks", sys.argv[1] + "/extensions"]
import team_folders
platform, team = json.loads(sys.argv[2])
print(json.dumps(sorted(team_folders.team_files(platform, team))))
"""


@pytest.mark.parametrize("release", [r for r in read_releases() if r.commit], ids=lambda r: str(r.version))
def test_pathspecs_cover_what_every_release_wrote_for_a_team(tmp_path: Path, release: Release) -> None:
    """An update's old render comes from the release the team was onboarded at: its paths must be the team's too."""
    archive = subprocess.run(["git", "archive", release.commit, "--", "hooks", "extensions"], cwd=REPO, capture_output=True)
    if archive.returncode != 0 or not archive.stdout:
        pytest.fail(f"cannot read {release.version} ({release.commit}): the suite needs the template's history")
    source = tmp_path / "release"
    source.mkdir()
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    if not (source / "hooks" / "team_folders.py").exists():
        pytest.skip(f"{release.version} has no team scope")
    for engine in ("argocd", "flux"):
        repo = tmp_path / engine
        done = subprocess.run([sys.executable, "-c", RELEASE_TEAM_PATHS, str(source),
                               json.dumps([{**PLATFORM, "gitops_engine": engine}, TEAM])],
                              capture_output=True, text=True, check=True)
        written = [*json.loads(done.stdout), ".copier/team-payments.yml"]
        write_files(repo, {path: "x\n" for path in written} | {f"teams/other/{engine}.yaml": "x\n"})
        git(repo, "init", "-q")
        git(repo, "add", "-A")
        listed = git(repo, "ls-files", "--", *team_update_index.team_pathspecs("payments")).split()
        assert sorted(listed) == sorted(set(written)), (release.version, engine)
