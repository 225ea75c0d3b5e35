"""A team update under --defaults snapshots only the team's paths (extensions/team_update_index.py): the real copier
ends with exactly what it ends with without the narrowing, sees only the team's files, and leaves the index whole
however it stops."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from copier import run_update

from tests.conftest import REPO, copy_platform, git, init_repo
from tests.test_team_onboarding import onboard, tag_two_team_versions

NARROWING_STEP = "hooks/team_update_narrowing.py"
COPIER = str(Path(os.environ.get("VIRTUAL_ENV", REPO / ".venv")) / "bin" / "copier")
COPIER = COPIER if Path(COPIER).exists() else shutil.which("copier") or "copier"


def template_versions(snapshot: Path, destination: Path, narrowing: bool) -> Path:
    """0.1.0 (team namespaces without the part-of label) and 0.2.0 (the working tree), with or without the narrowing
    step in copier.yml."""
    shutil.copytree(snapshot, destination)
    config = destination / "copier.yml"
    if not narrowing:
        text = config.read_text()
        start = text.index("  # Last \"before\" step")
        end = text.index("  # Last, and without a version")
        assert NARROWING_STEP in text[start:end]
        config.write_text(text[:start] + text[end:])
    return tag_two_team_versions(destination)


@pytest.fixture(scope="module")
def versions(template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Path]:
    root = tmp_path_factory.mktemp("narrowing")
    return {narrowing: template_versions(template_snapshot, root / f"template-{narrowing}", narrowing)
            for narrowing in (True, False)}


def platform_with_teams(template: Path, project: Path, engine: str) -> Path:
    """Two clusters, three teams at 0.1.0; beta has hand edits: a workload, a merged edit, a conflicting edit and a
    deleted overlay."""
    copy_platform(template, project, {"gitops_engine": engine}, vcs_ref="0.1.0")
    init_repo(project, "platform at 0.1.0")
    onboard(template, project, "alpha", "0.1.0")
    onboard(template, project, "beta", "0.1.0", team_namespaces=["beta", "beta-batch"], team_egress_hosts=["api.github.com"])
    onboard(template, project, "gamma", "0.1.0")
    base = project / "teams/beta/base/beta"
    (base / "workloads/settings.yaml").write_text(
        "# Managed by istio-gitops-template (copier): your edits survive `copier update`.\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: beta\ndata:\n  mode: fast\n")
    kustomization = base / "workloads/kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("resources: []", "resources:\n  - settings.yaml"))
    namespace = base / "namespace/namespace.yaml"
    namespace.write_text(namespace.read_text().replace("istio-gitops-template/team: beta", "istio-gitops-template/team: beta-renamed"))
    sidecar = project / "teams/beta/base/beta-batch/namespace/sidecar.yaml"
    sidecar.write_text(sidecar.read_text() + "# reviewed by the network owners\n")
    overlays = sorted((project / "teams/beta/clusters").glob("*/beta-batch/workloads/kustomization.yaml"))
    overlays[0].unlink()
    git(project, "add", "-A")
    git(project, "commit", "-qm", "beta's own changes")
    return project


def state(project: Path) -> dict[str, object]:
    """Everything a user sees after an update: file contents, git's status and its index (stages included); the
    answers files without `_src_path`, the template copy they came from."""
    files = {p.relative_to(project).as_posix(): p.read_bytes() for p in sorted(project.rglob("*"))
             if p.is_file() and ".git" not in p.parts}
    for path in [p for p in files if p.endswith(".yml") and p.startswith(".copier")]:
        files[path] = b"".join(line for line in files[path].splitlines(keepends=True) if not line.startswith(b"_src_path:"))
    return {"files": files, "status": git(project, "status", "--porcelain"),
            "index": git(project, "ls-files", "--stage", "--", ":!.copier/*", ":!.copier-answers.yml")}


def in_team_scope(path: str, team: str) -> bool:
    parts = path.split("/")
    return (path in (f".copier/team-{team}.yml", f"tenants/projects/{team}.yaml")
            or path.startswith((f"teams/{team}/", f"gateways/requests/{team}/"))
            or (parts[0] == "tenants" and len(parts) > 3 and parts[2] == team))


def trace_of(project: Path, *args: str) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    """Run the copier CLI in `project` with git's trace on; its result and the argv of every git command."""
    with tempfile.TemporaryDirectory() as scratch:  # outside the repo: the trace is no file of the user's
        trace = Path(scratch) / "trace.json"
        done = subprocess.run([COPIER, *args], cwd=project, capture_output=True, text=True,
                              env={**os.environ, "GIT_TRACE2_EVENT": str(trace)})
        events = [json.loads(line) for line in trace.read_text().splitlines()] if trace.exists() else []
    return done, [event["argv"] for event in events if event.get("event") == "start"]


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_a_narrowed_team_update_ends_exactly_as_a_plain_one(versions: dict[bool, Path], tmp_path: Path, engine: str) -> None:
    ends = {}
    for narrowing, template in versions.items():
        project = platform_with_teams(template, tmp_path / f"narrowing-{narrowing}", engine)
        deleted = set(git(project, "diff", "--name-only", "--diff-filter=D", "HEAD~1", "HEAD").split())
        done, commands = trace_of(project, "update", "--trust", "--defaults", "--quiet", "--vcs-ref", "0.2.0",
                                  "-a", ".copier/team-beta.yml")
        assert done.returncode == 1 and "CONFLICTS" in done.stderr, done.stderr  # the conflicting edit is reported
        snapshots = [argv[-1] for argv in commands if argv[1:3] == ["diff-tree", "-r"] and "--diff-filter=D" in argv]
        assert len(snapshots) == 1, commands
        snapshot = git(project, "ls-tree", "-r", "--name-only", snapshots[0]).split()
        everything = set(git(project, "ls-files").split())  # an unmerged path is listed once per stage
        if narrowing:
            assert snapshot and all(in_team_scope(p, "beta") for p in snapshot), snapshot
            assert sorted(snapshot) == sorted(p for p in everything if in_team_scope(p, "beta") and p not in deleted)
        else:
            assert set(snapshot) == everything, "copier's own snapshot: the whole repo"
        assert not list((project / ".git").glob("istio-gitops-template-*")), "nothing kept in the git dir"
        ends[narrowing] = state(project)
    assert ends[True]["status"] == ends[False]["status"]
    assert ends[True]["index"] == ends[False]["index"], "the same unmerged files, at the same stages"
    assert ends[True]["files"] == ends[False]["files"]
    beta = ends[True]["files"]
    assert b"settings.yaml" in beta["teams/beta/base/beta/workloads/kustomization.yaml"], "the workload survives"
    assert b"# reviewed by the network owners" in beta["teams/beta/base/beta-batch/namespace/sidecar.yaml"]
    assert b"<<<<<<< before updating" in beta["teams/beta/base/beta/namespace/namespace.yaml"], "the conflict is visible"
    assert all(in_team_scope(line[3:], "beta") for line in str(ends[True]["status"]).splitlines()), ends[True]["status"]


@pytest.fixture(scope="module")
def teams_repo(versions: dict[bool, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("stopped") / "repo"
    copy_platform(versions[True], project, {}, vcs_ref="0.2.0")
    init_repo(project, "platform")
    onboard(versions[True], project, "alpha", "0.2.0")
    onboard(versions[True], project, "beta", "0.2.0")
    return project


def assert_whole(project: Path) -> None:
    assert git(project, "status", "--porcelain") == "", "the index holds the whole repo again"
    assert not list((project / ".git").glob("istio-gitops-template-*"))


@pytest.mark.parametrize(("data", "expected"), [
    ("team_clusters=[cluster-1,", "while parsing a flow node"),  # copier's own YAML error: a traceback
    ("team_clusters=[nowhere]", "cluster 'nowhere' is not a platform cluster"),  # our validator: one line
    ("team_platform={}", "team_platform: no platform answers found"),
])
def test_a_team_update_that_stops_leaves_the_index_whole(teams_repo: Path, tmp_path: Path, data: str, expected: str) -> None:
    project = tmp_path / "repo"
    shutil.copytree(teams_repo, project)
    done, commands = trace_of(project, "update", "--trust", "--defaults", "--quiet", "--vcs-ref", "0.2.0",
                              "-a", ".copier/team-beta.yml", "--data", data)
    assert done.returncode != 0 and expected in done.stderr, done.stderr
    assert any(argv[1:4] == ["update-index", "-z", "--index-info"] for argv in commands), "the index was narrowed"
    assert_whole(project)


def test_a_refusal_through_the_python_api_leaves_the_index_whole(teams_repo: Path, tmp_path: Path) -> None:
    project = tmp_path / "repo"
    shutil.copytree(teams_repo, project)
    with pytest.raises(ValueError, match="cluster 'nowhere' is not a platform cluster"):
        run_update(project, answers_file=".copier/team-beta.yml", data={"team_clusters": ["nowhere"]}, defaults=True,
                   overwrite=True, unsafe=True, quiet=True, vcs_ref="0.2.0")
    assert_whole(project)


def test_a_team_update_without_tasks_leaves_the_index_whole(teams_repo: Path, tmp_path: Path) -> None:
    project = tmp_path / "repo"
    shutil.copytree(teams_repo, project)
    done, _ = trace_of(project, "update", "--trust", "--defaults", "--quiet", "--skip-tasks", "--vcs-ref", "0.2.0",
                       "-a", ".copier/team-beta.yml")
    assert done.returncode == 0, done.stderr
    assert_whole(project)


def test_a_platform_repo_inside_a_larger_git_repo(versions: dict[bool, Path], tmp_path: Path) -> None:
    """The platform repo may be a folder of a monorepo: the narrowing keeps the team's paths under that folder and
    every file outside it, and copier still merges the team's edit."""
    monorepo = tmp_path / "monorepo"
    (monorepo / "services").mkdir(parents=True)
    (monorepo / "services" / "README.md").write_text("not the platform\n")
    project = monorepo / "platform"
    copy_platform(versions[True], project, {}, vcs_ref="0.1.0")
    git(monorepo, "init", "-q", "-b", "main")
    git(monorepo, "add", "-A")
    git(monorepo, "commit", "-qm", "monorepo")
    onboard(versions[True], project, "beta", "0.1.0")
    kustomization = project / "teams/beta/base/beta/workloads/kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "# ours\n")
    git(monorepo, "commit", "-qam", "beta's edit")
    done, commands = trace_of(project, "update", "--trust", "--defaults", "--quiet", "--vcs-ref", "0.2.0",
                              "-a", ".copier/team-beta.yml")
    assert done.returncode == 0, done.stderr
    snapshot = next(argv[-1] for argv in commands if argv[1:3] == ["diff-tree", "-r"] and "--diff-filter=D" in argv)
    paths = git(monorepo, "ls-tree", "-r", "--name-only", snapshot).split()
    assert paths and all(p.startswith("platform/") and in_team_scope(p.removeprefix("platform/"), "beta") for p in paths)
    assert "# ours" in kustomization.read_text()
    assert "app.kubernetes.io/part-of" in (project / "teams/beta/base/beta/namespace/namespace.yaml").read_text()
    changed = [line[3:] for line in git(monorepo, "status", "--porcelain").splitlines()]
    assert changed and all(p.startswith("platform/") and in_team_scope(p.removeprefix("platform/"), "beta") for p in changed), changed
    assert not list((monorepo / ".git").glob("istio-gitops-template-*"))
