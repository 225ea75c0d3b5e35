"""Releases (CHANGELOG.md) and updates across them: no generated path disappears without a migration,
and a repo generated at every release, edited by hand in every persona folder, updates to the working
tree with every edited line kept or shown in a conflict.

The tags are recreated in a scratch template repo from CHANGELOG.md's `Commit:` lines (`git archive`
of each release), with the working tree on top as the unreleased version.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from copier import run_copy, run_update
from copier.errors import TaskError
from packaging.version import Version

from tests.changelog import ChangelogError, ordering_problems, parse_releases, read_releases
from tests.conftest import MESH_ROOT_PEM, REPO, SNAPSHOT_VERSION, copy_platform, git, init_repo

sys.path.insert(0, str(REPO / "hooks"))
from path_migrations import RULES, PathRule, migrated_path, rules_between  # noqa: E402

RELEASES = read_releases()
RELEASED = tuple(r for r in reversed(RELEASES) if r.commit)  # oldest first
# The working tree is the unreleased version, or a version above every release if none is open.
WORKING_TREE = next((r.version for r in RELEASES if r.commit is None), Version(SNAPSHOT_VERSION))
MULTI_CLUSTER = [
    {"name": "east-1", "network": "net-a", "labels": {"environment": "production", "region": "us-east-1"}},
    {"name": "west-2", "network": "net-b", "labels": {"environment": "production", "region": "us-west-2"}},
]
# What 0.4.0 adds for several clusters (each API server, the pinned root): an update of a multi-cluster repo from an
# earlier release gives them, as CHANGELOG.md says (without them it is refused, tests/test_recorded_answers.py).
UPDATE_DATA = {
    "two-networks": {"clusters": [{**c, "api_server": f"https://api.{c['name']}.example.com:6443"} for c in MULTI_CLUSTER],
                     "mesh_root_ca_pem": MESH_ROOT_PEM},
}
# Answer sets every release understands (0.1.0 already had both engines, clusters and the layouts).
ANSWER_SETS = {
    "defaults": {},
    "flux": {"gitops_engine": "flux"},
    "two-networks": {"clusters": MULTI_CLUSTER, "gateways_enabled": ["ingress", "egress", "eastwest"]},
    "single-gateway-namespace-flux": {"gateway_layout": "single", "gitops_engine": "flux"},
}


# -- CHANGELOG ------------------------------------------------------------------------------------

def ensure_commit(commit: str) -> None:
    """Fetch the full history of a shallow clone once; skip loudly if a release commit is still missing."""
    def present() -> bool:
        return subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=REPO, capture_output=True).returncode == 0
    if not present():
        subprocess.run(["git", "fetch", "--quiet", "--unshallow"], cwd=REPO, capture_output=True, check=False)
    if not present():
        pytest.skip(f"release commit {commit} is not in this clone, even after `git fetch --unshallow`: "
                    "the release tests cannot run here")


def test_changelog_parses_with_increasing_versions_and_known_commits() -> None:
    assert RELEASES, "CHANGELOG.md records no release"
    assert ordering_problems(RELEASES) == []
    for release in RELEASED:
        ensure_commit(release.commit)
        ancestor = subprocess.run(["git", "merge-base", "--is-ancestor", release.commit, "HEAD"], cwd=REPO, check=False)
        assert ancestor.returncode == 0, f"{release.version}: {release.commit} is not in main's history"


@pytest.mark.parametrize(("text", "message"), [
    ("## 0.2.0\n\nno commit line\n", "has no `Commit: <40 hex>` line"),
    ("## 0.2.0 (unreleased)\nCommit: " + "a" * 40 + "\n", "marked unreleased but has a Commit line"),
    ("## 0.2\nCommit: " + "a" * 39 + "\n", "belongs under a release heading"),
    ("## next\n", "Invalid version"),
    ("Commit: " + "a" * 40 + "\n", "belongs under a release heading"),
])
def test_changelog_parser_names_the_line_at_fault(text: str, message: str) -> None:
    with pytest.raises(ChangelogError, match=re.escape(message)):
        parse_releases("# Changelog\n\n" + text)


def test_changelog_ordering_problems() -> None:
    releases = parse_releases("## 0.3.0 (unreleased)\n## 0.1.0\nCommit: " + "a" * 40 + "\n## 0.2.0 (unreleased)\n")
    assert ordering_problems(releases) == ["0.1.0 is listed above 0.2.0 but is not newer", "0.2.0: only the first entry may be unreleased"]


# -- the rules as data ------------------------------------------------------------------------------

def uncovered_paths(before: set[str], after: set[str], older: str, newer: str, rules: tuple[PathRule, ...] = RULES) -> list[str]:
    """Paths generated at release `older` and gone at `newer` that no rule of the releases in between moves to a
    path `newer` generates (or declares dropped)."""
    problems = []
    for path in sorted(before - after):
        target, rule = migrated_path(path, rules_between(older, newer, rules))
        if rule is None:
            problems.append(f"{path}: gone in {newer}, no migration rule covers it")
        elif target is not None and target not in after:
            problems.append(f"{path}: the {rule.version} rule moves it to {target}, which {newer} does not generate")
    return problems


def test_path_check_fails_on_a_path_that_disappears_without_a_rule() -> None:
    before = {"README.md", "gateways/base/istio-ingress/namespace.yaml", "gateways/base/istio-ingress/old.yaml"}
    after = {"README.md", "gateways/namespaces/istio-ingress/namespace.yaml"}
    assert uncovered_paths(before, after, "0.2.0", "0.3.0") == ["gateways/base/istio-ingress/old.yaml: gone in 0.3.0, no migration rule covers it"]
    wrong = (PathRule("0.3.0", "gateways/base/{ns}/namespace.yaml", "gateways/{ns}/namespace.yaml", "test"),)
    assert uncovered_paths(before - {"gateways/base/istio-ingress/old.yaml"}, after, "0.2.0", "0.3.0", wrong) == [
        "gateways/base/istio-ingress/namespace.yaml: the 0.3.0 rule moves it to gateways/istio-ingress/namespace.yaml, which 0.3.0 does not generate"]


def test_every_release_with_rules_has_its_migration_entries() -> None:
    migrations = yaml.safe_load((REPO / "copier.yml").read_text())["_migrations"]

    def stage(entry: dict) -> str | None:
        command = entry["command"]
        return command[2] if isinstance(command, list) and command[1].endswith("/hooks/path_migrations.py") else None

    entries = [(m.get("version"), stage(m), m["when"]) for m in migrations]
    assert {Version(r.version) for r in RULES} <= {r.version for r in RELEASES}, "rules belong to releases in CHANGELOG.md"
    for version in sorted({r.version for r in RULES}):
        assert (version, "before", "{{ _stage == 'before' }}") in entries, f"no path migration before updating past {version}"
        assert (version, "after", "{{ _stage == 'after' }}") in entries, f"no path migration after updating past {version}"
    assert stage(migrations[0]) == "before", "the first migration: refusals come before anything is written"
    last_path_entry = max(i for i, m in enumerate(migrations) if stage(m))
    assert all(m.get("version") for m in migrations[:last_path_entry]), (
        "unversioned entries (the conflict report, which may exit 1) come after the merges of moved files")


# -- a template repo with every release tagged --------------------------------------------------------

@pytest.fixture(scope="module")
def release_template(template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("releases") / "template"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for release in RELEASED:
        ensure_commit(release.commit)
        archive = subprocess.run(["git", "archive", release.commit], cwd=REPO, capture_output=True, check=True)
        clear(repo)
        tarfile.open(fileobj=io.BytesIO(archive.stdout)).extractall(repo, filter="data")
        commit_and_tag(repo, str(release.version))
    clear(repo)
    shutil.copytree(template_snapshot, repo, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))
    commit_and_tag(repo, str(WORKING_TREE))
    return repo


def clear(repo: Path) -> None:
    for child in repo.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()


def commit_and_tag(repo: Path, version: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", version, "--allow-empty")
    git(repo, "tag", version)


Rendered = Callable[[str, str], Path]


@pytest.fixture(scope="module")
def rendered(release_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """rendered(version, answer set) -> a repo generated at that release, rendered once per module; copy it."""
    cache: dict[tuple[str, str], Path] = {}

    def _rendered(version: str, answer_set: str) -> Path:
        if (version, answer_set) not in cache:
            destination = tmp_path_factory.mktemp("rendered") / f"{answer_set}-{version}"
            answers = ANSWER_SETS[answer_set]
            if Version(version) >= Version("0.4.0"):  # the answers 0.4.0 adds (earlier releases refuse unknown cluster fields)
                answers = {**answers, **UPDATE_DATA.get(answer_set, {})}
            cache[version, answer_set] = copy_platform(release_template, destination, answers, vcs_ref=version)
        return cache[version, answer_set]

    return _rendered


def generated_at(rendered: Rendered, version: str, answer_set: str, destination: Path) -> Path:
    """A git repo with what `version` generated for `answer_set`, committed."""
    project = shutil.copytree(rendered(version, answer_set), destination)
    init_repo(project, f"generated at {version}")
    return project


@pytest.mark.slow
def test_no_generated_path_disappears_without_a_migration(rendered: Rendered) -> None:
    versions = [str(r.version) for r in RELEASED] + [str(WORKING_TREE)]
    problems = []
    for name in ANSWER_SETS:
        paths = {v: {p.relative_to(rendered(v, name)).as_posix() for p in rendered(v, name).rglob("*") if p.is_file()} for v in versions}
        for older, newer in zip(versions, versions[1:]):
            problems += [f"[{name}] {p}" for p in uncovered_paths(paths[older], paths[newer], older, newer)]
    assert problems == []


# -- updates from every release, with hand edits in every persona folder ---------------------------------

PERSONA_FOLDERS = ("mesh/", "gateways/", "apps/", "teams/", "clusters/", "argocd/", "flux/")
EDITS_PER_FOLDER = 3
MARKER = "local-edit-"
KEY_VALUE = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z0-9_.\-]+): (?P<value>[^#\s][^#]*?)\s*$")
TEAM = {"scope": "team", "team_name": "payments", "team_namespaces": ["payments"]}


def update_scenarios() -> list[tuple[str, str, bool]]:
    """(release, answer set, with a team): both engines from every release; a team (where the release has
    team scope) on one engine per release, alternating; two networks with east-west from the first release."""
    scenarios = []
    for number, release in enumerate(RELEASED):
        for engine, answer_set in enumerate(("defaults", "flux")):
            scenarios.append((str(release.version), answer_set, (number + engine) % 2 == 1))
    scenarios.append((str(RELEASED[0].version), "two-networks", False))
    return scenarios


def edit_by_hand(project: Path, version: str) -> list[str]:
    """Append a line to, and change a line of, YAML files in every persona folder (every file a rule of a
    later release moves included); return the markers written."""
    tracked = sorted(git(project, "ls-files").splitlines())
    rules = rules_between(version, str(WORKING_TREE))
    # Files a later release stops generating are left alone here: editing one makes the update refuse by design
    # (test_an_edited_file_the_template_dropped_refuses_the_update); every file a rule moves is edited.
    dropped = {p for p in tracked if migrated_path(p, rules)[1] and migrated_path(p, rules)[0] is None}
    moving = {p for p in tracked if migrated_path(p, rules)[1]} - dropped
    chosen = set(moving)
    for folder in PERSONA_FOLDERS:
        chosen.update([p for p in tracked if p.startswith(folder) and p.endswith(".yaml")
                       and p not in moving and p not in dropped][:EDITS_PER_FOLDER])
    markers = []
    for path in sorted(chosen):
        if not path.endswith(".yaml"):
            continue
        file = project / path
        lines = file.read_text().splitlines()
        for number, line in enumerate(lines):
            match = KEY_VALUE.match(line)
            if match and number > 0:
                marker = f"{MARKER}{len(markers)}"
                lines[number] = f"{line}  # {marker}: changed by hand"
                markers.append(marker)
                break
        marker = f"{MARKER}{len(markers)}"
        lines.append(f"# {marker}: appended by hand")
        markers.append(marker)
        file.write_text("\n".join(lines) + "\n")
    assert {p.split("/")[0] + "/" for p in chosen} >= {f for f in PERSONA_FOLDERS if any(p.startswith(f) for p in tracked)}
    return markers


def project_text(project: Path) -> dict[str, str]:
    return {p.relative_to(project).as_posix(): p.read_text(errors="replace")
            for p in project.rglob("*") if p.is_file() and ".git" not in p.relative_to(project).parts}


def invisible_conflicts(project: Path) -> list[str]:
    """Files the last update changed that have conflict markers but are not listed as unmerged by git (and
    have no .rej beside them)."""
    unmerged = {line.split("\t")[1] for line in git(project, "ls-files", "-u").splitlines()}
    changed = {line[3:].split(" -> ")[-1] for line in git(project, "status", "--porcelain", "--untracked-files=all").splitlines()}
    texts = project_text(project)
    return sorted(p for p, text in texts.items()
                  if p in changed and re.search(r"^<<<<<<< ", text, re.M) and p not in unmerged and f"{p}.rej" not in texts)


def update(project: Path, **options: object) -> bool:
    """copier update to the working tree; whether it reported conflicts by failing (hooks/update_conflicts.py
    exits 1 after a merge that left any, so that `copier update && git commit -a` stops)."""
    try:
        run_update(project, vcs_ref=str(WORKING_TREE), defaults=True, overwrite=True, unsafe=True, quiet=True, **options)
    except TaskError as error:
        if "update_conflicts.py" not in str(error.cmd):
            raise
        return True
    return False


def lost_markers(project: Path, markers: list[str]) -> list[str]:
    everything = "\n".join(project_text(project).values())
    return [m for m in markers if f"{m}:" not in everything]


@pytest.mark.slow
@pytest.mark.parametrize(("version", "answer_set", "with_team"), update_scenarios(),
                         ids=lambda v: {True: "team", False: ""}.get(v, v) if isinstance(v, (str, bool)) else "")
def test_update_from_every_release_loses_no_edited_line(release_template: Path, rendered: Rendered, tmp_path: Path,
                                                        version: str, answer_set: str, with_team: bool) -> None:
    project = generated_at(rendered, version, answer_set, tmp_path / "platform")
    team = with_team and "scope" in yaml.safe_load(git(release_template, "show", f"{version}:copier.yml"))
    if team:
        run_copy(str(release_template), project, data=TEAM, defaults=True, unsafe=True, vcs_ref=version, quiet=True, overwrite=True)
        git(project, "add", "-A")
        git(project, "commit", "-qm", "onboard payments")
    markers = edit_by_hand(project, version)
    git(project, "commit", "-qam", "edits by hand")

    reported = update(project, data=UPDATE_DATA.get(answer_set, {}))
    answers_after = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers_after["_commit"] == str(WORKING_TREE)
    conflicts = {line.split("\t")[1] for line in git(project, "ls-files", "-u").splitlines()}
    assert invisible_conflicts(project) == []
    assert reported or not conflicts or not (REPO / "hooks/update_conflicts.py").exists(), "conflicts left without a word"
    lost = lost_markers(project, markers)
    if team:
        git(project, "add", "-A")
        git(project, "commit", "-qm", "platform updated (conflicts committed as they are, for the count)")
        update(project, answers_file=".copier/team-payments.yml")
        assert invisible_conflicts(project) == []
        lost = lost_markers(project, markers)
    print(f"\n{version} {answer_set}{' + team' if team else ''}: {len(markers)} edited lines, {len(lost)} lost, {len(conflicts)} files in conflict")
    assert lost == [], f"{len(lost)} of {len(markers)} edited lines lost"


@pytest.mark.slow
def test_edits_in_renamed_files_merge_without_conflict(rendered: Rendered, tmp_path: Path) -> None:
    """The case issue 11 measured: edits in the files 0.2.0 renamed were lost. They now merge 3-way."""
    project = generated_at(rendered, str(RELEASED[0].version), "defaults", tmp_path / "platform")
    values = project / "gateways/revisions/1-31-1/ingress.values.yaml"
    application = project / "clusters/cluster-1/istiod-1-31-1.yaml"
    values.write_text(values.read_text().replace("cpu: 100m", "cpu: 250m"))
    application.write_text(application.read_text().replace("limit: 5", "limit: 7"))
    git(project, "commit", "-qam", "tuned")

    assert update(project) is False, "no conflict"

    moved_values = project / "gateways/revisions/prod-stable/ingress.values.yaml"
    moved_application = project / "clusters/cluster-1/istiod.yaml"
    assert "cpu: 250m" in moved_values.read_text() and "revision: prod-stable" in moved_values.read_text()
    assert "limit: 7" in moved_application.read_text() and "cluster-1-istiod-1-31-1" in moved_application.read_text()
    status = git(project, "status", "--porcelain").splitlines()
    assert f"RM {values.relative_to(project)} -> {moved_values.relative_to(project)}" in status
    assert f"RM {application.relative_to(project)} -> {moved_application.relative_to(project)}" in status


@pytest.mark.slow
def test_an_edited_file_the_template_dropped_refuses_the_update(rendered: Rendered, tmp_path: Path) -> None:
    project = generated_at(rendered, "0.2.0", "defaults", tmp_path / "platform")
    script = project / "scripts/check_mesh.py"
    script.write_text(script.read_text() + "# our own check\n")
    git(project, "commit", "-qam", "our check")
    head = git(project, "rev-parse", "HEAD")

    with pytest.raises(TaskError) as refused:
        run_update(project, vcs_ref=str(WORKING_TREE), defaults=True, overwrite=True, unsafe=True, quiet=True)
    assert "path_migrations.py" in str(refused.value.cmd)
    assert git(project, "status", "--porcelain") == "" and git(project, "rev-parse", "HEAD") == head, "nothing written"

    git(project, "mv", "scripts/check_mesh.py", "scripts/our_checks.py")
    git(project, "commit", "-qm", "keep our version under our own name, as the refusal says")
    update(project)
    assert (project / "scripts/our_checks.py").read_text().endswith("# our own check\n")
    assert not (project / "scripts/check_mesh.py").exists()


@pytest.mark.slow
def test_a_multi_cluster_repo_of_the_last_release_gives_api_servers_and_root_in_its_update(rendered: Rendered, tmp_path: Path) -> None:
    """0.4.0 needs each cluster's API server and a pinned root with several clusters: a plain update of such a repo
    is refused before anything is written, naming the answer and the fix; with both given it updates and passes."""
    from copier.errors import UserMessageError

    from istio_gitops_check.platform_check import check, summary

    project = generated_at(rendered, str(RELEASED[-1].version), "two-networks", tmp_path / "platform")
    head = git(project, "rev-parse", "HEAD")
    with pytest.raises(UserMessageError) as refused:
        update(project)
    assert "cluster 'east-1': api_server is missing" in refused.value.message
    assert "--data 'clusters=...'" in refused.value.message
    assert git(project, "status", "--porcelain", "--untracked-files=all") == "" and git(project, "rev-parse", "HEAD") == head
    # A new question whose default fails: through the API copier raises its own ValueError (the CLI prints the line).
    with pytest.raises(ValueError, match="mesh_root_ca_pem: a mesh of 2 clusters needs one pinned root"):
        update(project, data={"clusters": UPDATE_DATA["two-networks"]["clusters"]})
    assert git(project, "status", "--porcelain", "--untracked-files=all") == ""
    update(project, data=UPDATE_DATA["two-networks"])
    assert (project / "mesh/trust/root-ca.pem").read_text().endswith(MESH_ROOT_PEM)
    assert "server: https://api.west-2.example.com:6443" in (project / "mesh/clusters/west-2/remote-secrets/push-remote-secret.yaml").read_text()
    report = check(project)
    assert report.ok, summary(report)
