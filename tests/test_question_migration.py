"""Question names are an API: repos generated before `istio_version` became `istio_versions`
update cleanly through the migration in copier.yml (hooks/answers_migration.py)."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml
from copier import run_update

from tests.changelog import read_releases
from tests.conftest import REPO, copy_platform, git, init_repo
from istio_gitops_check.platform_check import check, summary

sys.path.insert(0, str(REPO / "hooks"))
from answers_migration import migrate, migrate_file  # noqa: E402

# The last template release with the single `istio_version` question: 0.1.0, its commit as CHANGELOG.md records it.
BEFORE_RENAME = next(r.commit for r in read_releases() if str(r.version) == "0.1.0")


def test_migrate_rewrites_the_old_answer() -> None:
    answers = {"istio_version": "1.30.4", "mesh_id": "m"}
    assert migrate(answers) is True
    assert answers == {
        "mesh_id": "m",
        "istio_versions": ["1.30.4"],
        "istio_revision_tags": [{"name": "prod-stable", "version": "1.30.4"}],
        "istio_default_tag": "prod-stable",
    }
    assert migrate(answers) is False, "idempotent"


def test_migrate_file_keeps_comments_and_order(tmp_path: Path) -> None:
    path = tmp_path / ".copier-answers.yml"
    path.write_text("# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n_commit: abc\nistio_version: 1.29.7\nmesh_id: m\n")
    assert migrate_file(path) is True
    text = path.read_text()
    assert text.startswith("# Changes here will be overwritten by Copier")
    assert yaml.safe_load(text)["istio_versions"] == ["1.29.7"]
    assert migrate_file(path) is False


def test_update_across_the_rename(template_snapshot: Path, tmp_path: Path) -> None:
    archive = subprocess.run(["git", "archive", BEFORE_RENAME], cwd=REPO, capture_output=True, check=False)
    if archive.returncode != 0:
        # A shallow clone lacks the old commit: fetch it, and only if that is impossible say so loudly.
        subprocess.run(["git", "fetch", "--quiet", "--unshallow"], cwd=REPO, capture_output=True, check=False)
        archive = subprocess.run(["git", "archive", BEFORE_RENAME], cwd=REPO, capture_output=True, check=False)
    if archive.returncode != 0:
        pytest.skip(f"pre-rename template commit {BEFORE_RENAME} unavailable in this shallow clone: {archive.stderr.decode().strip()}")
    template = tmp_path / "template"
    template.mkdir()
    tarfile.open(fileobj=io.BytesIO(archive.stdout)).extractall(template, filter="data")
    init_repo(template, "0.1.0")
    git(template, "tag", "0.1.0")
    for child in template.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    shutil.copytree(template_snapshot, template, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))
    git(template, "add", "-A")
    git(template, "commit", "-qm", "0.2.0")
    git(template, "tag", "0.2.0")

    project = copy_platform(template, tmp_path / "platform", {"istio_version": "1.30.4"}, vcs_ref="0.1.0")
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["istio_version"] == "1.30.4"
    values = project / "mesh/revisions/1-30-4/istiod.values.yaml"
    git(project, "init", "-q", "-b", "main")
    values.write_text(values.read_text().replace("autoscaleMax: 5", "autoscaleMax: 9"))
    git(project, "add", "-A")
    git(project, "commit", "-qm", "generated at 0.1.0, tuned")

    run_update(project, vcs_ref="0.2.0", defaults=True, overwrite=True, unsafe=True, quiet=True)

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert "istio_version" not in answers
    assert answers["istio_versions"] == ["1.30.4"]
    assert answers["istio_revision_tags"] == [{"name": "prod-stable", "version": "1.30.4"}]
    assert "autoscaleMax: 9" in values.read_text()
    assert "revisionTags" not in values.read_text(), "tags belong to the revision tags unit"
    assert "name: istio-revision-tag-prod-stable" in (project / "mesh/revision-tags/revision-tags.yaml").read_text()
    report = check(project)
    assert report.ok, summary(report)
