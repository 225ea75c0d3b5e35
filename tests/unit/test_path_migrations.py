"""hooks/path_migrations.py on its own: the rules as data, the plan, and the two stages on a small git repo
(the old version's render is given, copier's part is played by writing the new version's file)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, git

sys.path.insert(0, str(REPO / "hooks"))
import path_migrations  # noqa: E402
from path_migrations import RULES, Plan, PathRule, migrated_path, plan, rules_between  # noqa: E402

OLD_VALUES = "gateways/revisions/1-31-1/ingress.values.yaml"
NEW_VALUES = "gateways/revisions/prod-stable/ingress.values.yaml"
BASE = "name: istio-ingressgateway\nrevision: 1-31-1\nservice:\n  type: LoadBalancer\nresources:\n  cpu: 100m\n  memory: 128Mi\n"
OURS = BASE.replace("cpu: 100m", "cpu: 250m")
THEIRS = BASE.replace("revision: 1-31-1", "revision: prod-stable") + "securityContext: {}\n"


def test_rules_compose_across_releases() -> None:
    assert migrated_path("gateways/base/istio-ingress/namespace.yaml", rules_between("0.1.0", "0.4.0")) == (
        "gateways/namespaces/istio-ingress/namespace.yaml", RULES[2])
    assert migrated_path("gateways/base/istio-ingress/namespace.yaml", rules_between("0.3.0", "0.4.0")) == (
        "gateways/base/istio-ingress/namespace.yaml", None)
    assert migrated_path("clusters/east-1/istiod-1-31-1.yaml", RULES)[0] == "clusters/east-1/istiod.yaml"
    assert migrated_path("clusters/east-1/istiod.yaml", RULES) == ("clusters/east-1/istiod.yaml", None)
    assert migrated_path("scripts/check_mesh.py", rules_between("0.2.0", "0.3.0"))[0] is None
    assert rules_between("0.2.0", "0.2.0") == ()
    assert rules_between("0.1.0", "0.4.0", scope="team") == ()


def test_plan_moves_edited_files_only_and_refuses_what_it_cannot_move() -> None:
    rules = rules_between("0.1.0", "0.4.0")
    generated = {OLD_VALUES: b"a\n", "gateways/revisions/1-31-1/egress.values.yaml": b"b\n",
                 "clusters/c1/istiod-1-31-1.yaml": b"d\n", "README.md": b"e\n"}
    project = {OLD_VALUES: b"a\nmine\n", "gateways/revisions/1-31-1/egress.values.yaml": b"b\n",
               "clusters/c1/istiod-1-31-1.yaml": b"d\nmine\n", "clusters/c1/istiod.yaml": b"x\n", "README.md": b"e\nmine\n"}
    result = plan(rules, generated, project)
    assert [(m.source, m.target, m.base, m.ours) for m in result.moves] == [(OLD_VALUES, NEW_VALUES, b"a\n", b"a\nmine\n")]
    assert len(result.refusals) == 1 and "clusters/c1/istiod.yaml already exists" in result.refusals[0]
    assert plan(rules, {}, project) == Plan((), ()), "only paths the old version generated are touched"
    dropped = plan(rules_between("0.2.0", "0.3.0"), {"scripts/check_mesh.py": b"c\n"}, {"scripts/check_mesh.py": b"c\nmine\n"})
    assert dropped.moves == () and "scripts/check_mesh.py: no longer generated since 0.3.0" in dropped.refusals[0]
    assert plan(rules_between("0.2.0", "0.3.0"), {"scripts/check_mesh.py": b"c\n"}, {"scripts/check_mesh.py": b"c\n"}) == Plan((), ())


def test_two_sources_never_share_a_target() -> None:
    rules = (PathRule("0.2.0", "a/{x}.yaml", "b.yaml", "test"),)
    result = plan(rules, {"a/1.yaml": b"", "a/2.yaml": b""}, {"a/1.yaml": b"1", "a/2.yaml": b"2"})
    assert [m.source for m in result.moves] == ["a/1.yaml"] and "b.yaml already exists" in result.refusals[0]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A platform repo generated at 0.1.0 whose gateway values were edited, as the hook's working directory."""
    (tmp_path / "gateways/revisions/1-31-1").mkdir(parents=True)
    (tmp_path / OLD_VALUES).write_text(OURS)
    (tmp_path / ".copier-answers.yml").write_text("_commit: 0.1.0\n_src_path: /nowhere\nistio_version: 1.31.1\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "generated at 0.1.0, edited")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def render_old(answers: object) -> dict[str, bytes]:
    return {OLD_VALUES: BASE.encode(), ".copier-answers.yml": b""}


def index(project: Path) -> dict[str, tuple[str, str]]:
    """path -> (blob, stage)"""
    return {line.split("\t")[1]: (line.split()[1], line.split()[2]) for line in git(project, "ls-files", "-s").splitlines()}


def test_before_moves_in_the_index_and_stages_the_target_empty(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert path_migrations.before(".copier-answers.yml", "0.1.0", "0.4.0", render=render_old) == 0
    staged = index(project)
    assert OLD_VALUES not in staged, "copier diffs the index: the old path must leave it, or its edits are applied there"
    assert staged[NEW_VALUES] == (git(project, "hash-object", "/dev/null").strip(), "0")
    assert (project / NEW_VALUES).read_text() == OURS, "the user's file stays on disk until the merge"
    assert f"moved {OLD_VALUES} -> {NEW_VALUES}" in capsys.readouterr().out
    assert path_migrations.before(".copier-answers.yml", "0.1.0", "0.4.0", render=lambda a: pytest.fail("rendered twice")) == 0
    assert capsys.readouterr().out == "", "the second entry of the same update finds the work done"


def test_after_merges_three_ways_and_leaves_a_staged_rename(project: Path) -> None:
    path_migrations.before(".copier-answers.yml", "0.1.0", "0.4.0", render=render_old)
    (project / NEW_VALUES).write_text(THEIRS)  # what copier writes there
    assert path_migrations.after() == 0
    merged = (project / NEW_VALUES).read_text()
    assert merged == THEIRS.replace("cpu: 100m", "cpu: 250m"), "the edit and the template's changes, no conflict"
    assert git(project, "status", "--porcelain").splitlines() == [f"RM {OLD_VALUES} -> {NEW_VALUES}"]
    assert path_migrations.after() == 0 and (project / NEW_VALUES).read_text() == merged, "nothing left to do"


def test_after_records_a_conflict_as_copier_does(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path_migrations.before(".copier-answers.yml", "0.1.0", "0.4.0", render=render_old)
    (project / NEW_VALUES).write_text(BASE.replace("cpu: 100m", "cpu: 150m"))
    path_migrations.after()
    merged = (project / NEW_VALUES).read_text()
    assert "<<<<<<< before updating\n  cpu: 250m\n=======\n  cpu: 150m\n>>>>>>> after updating\n" in merged
    stages = [line.split()[2] for line in git(project, "ls-files", "-u", "--", NEW_VALUES).splitlines()]
    assert stages == ["1", "2", "3"], "git lists it as unmerged: base, the user's version, the new version"
    assert "CONFLICTS in moved files" in capsys.readouterr().err


def test_a_reset_after_an_aborted_update_is_planned_again(project: Path) -> None:
    path_migrations.before(".copier-answers.yml", "0.1.0", "0.4.0", render=render_old)
    git(project, "reset", "-q", "--hard")
    git(project, "clean", "-qfd")
    assert (project / OLD_VALUES).read_text() == OURS
    path_migrations.before(".copier-answers.yml", "0.1.0", "0.4.0", render=render_old)
    assert OLD_VALUES not in index(project) and NEW_VALUES in index(project)


def test_unedited_files_are_left_to_copier(project: Path) -> None:
    (project / OLD_VALUES).write_text(BASE)
    git(project, "commit", "-qam", "edit undone")
    assert path_migrations.before(".copier-answers.yml", "0.1.0", "0.4.0", render=render_old) == 0
    assert git(project, "status", "--porcelain") == ""


def test_refusal_changes_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / NEW_VALUES).parent.mkdir(parents=True)
    (project / NEW_VALUES).write_text("someone made it already\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "a file at the new path")
    assert path_migrations.before(".copier-answers.yml", "0.1.0", "0.4.0", render=render_old) == 1
    assert git(project, "status", "--porcelain") == ""
    assert f"{NEW_VALUES} already exists" in capsys.readouterr().err


def test_team_scope_updates_render_nothing(project: Path) -> None:
    (project / ".copier-answers.yml").write_text("_commit: 0.1.0\nscope: team\n")
    git(project, "commit", "-qam", "a team's answers")
    assert path_migrations.before(".copier-answers.yml", "0.1.0", "0.4.0", render=lambda a: pytest.fail("rendered")) == 0


def test_a_project_in_a_subdirectory_of_its_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "platforms" / "prod"
    (project / "gateways/revisions/1-31-1").mkdir(parents=True)
    (project / OLD_VALUES).write_text(OURS)
    (project / ".copier-answers.yml").write_text("_commit: 0.1.0\nistio_version: 1.31.1\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "a platform in a subdirectory")
    monkeypatch.chdir(project)
    assert path_migrations.before(".copier-answers.yml", "0.1.0", "0.4.0", render=render_old) == 0
    (project / NEW_VALUES).write_text(BASE.replace("cpu: 100m", "cpu: 150m"))
    path_migrations.after()
    stages = [line.split()[2] for line in git(tmp_path, "ls-files", "-u", "--", f"platforms/prod/{NEW_VALUES}").splitlines()]
    assert stages == ["1", "2", "3"]
    assert f"platforms/prod/{OLD_VALUES}" not in git(tmp_path, "ls-files")
