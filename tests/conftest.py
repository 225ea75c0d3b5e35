"""Shared fixtures: a clean git snapshot of the template as it is in the working tree, and a
renderer that drives copier for real against it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "extensions"))
os.environ["COPIER_SETTINGS_PATH"] = str(REPO / "tests" / "copier-settings-empty.yml")
os.environ.setdefault("ISTIO_GITOPS_CHECK_CACHE", str(REPO / ".check-cache"))

SNAPSHOT_VERSION = "1000.0.0"
# A root CA certificate made for the tests (its key was never kept): several clusters need one pinned root.
MESH_ROOT_PEM = (REPO / "tests" / "fixtures" / "mesh-root-ca.pem").read_text()


def with_mesh_root(answers: dict | None) -> dict:
    """`answers` plus the tests' pinned root when several clusters need one and the test did not choose."""
    answers = dict(answers or {})
    clusters = answers.get("clusters")
    if (isinstance(clusters, list) and len(clusters) > 1 and "mesh_root_ca_pem" not in answers
            and answers.get("ca_mode") != "self-signed-dev"):
        answers["mesh_root_ca_pem"] = MESH_ROOT_PEM
    return answers


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "tests",
        "GIT_AUTHOR_EMAIL": "tests@example.invalid",
        "GIT_COMMITTER_NAME": "tests",
        "GIT_COMMITTER_EMAIL": "tests@example.invalid",
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return done.stdout


def init_repo(project: Path, message: str) -> None:
    """Make a generated project a git repo with everything committed, as copier update requires."""
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", message)


def snapshot_template(destination: Path) -> Path:
    """Copy the tracked and untracked-but-not-ignored files of the working tree into a new repo."""
    listed = git(REPO, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(destination, "init", "-q", "-b", "main")
    git(destination, "add", "-A")
    git(destination, "commit", "-q", "-m", "template snapshot")
    git(destination, "tag", SNAPSHOT_VERSION)
    return destination


@pytest.fixture(scope="session")
def template_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot_template(tmp_path_factory.mktemp("template"))


Renderer = Callable[..., Path]


def copy_platform(template: Path, destination: Path, answers: dict | None = None, vcs_ref: str = "HEAD") -> Path:
    from copier import run_copy

    run_copy(str(template), destination, data=with_mesh_root(answers), defaults=True, unsafe=True, vcs_ref=vcs_ref, quiet=True)
    return destination


@pytest.fixture(scope="session")
def render(template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Renderer:
    """render(answers) -> a freshly generated platform repo (cached per answers within the session)."""
    cache: dict[str, Path] = {}

    def _render(answers: dict | None = None) -> Path:
        key = repr(sorted((answers or {}).items()))
        if key not in cache:
            cache[key] = copy_platform(template_snapshot, tmp_path_factory.mktemp("platform") / "repo", answers)
        return cache[key]

    return _render


@pytest.fixture
def editable_copy(tmp_path: Path) -> Callable[[Path], Path]:
    """A throwaway copy of a rendered repo that a test may break."""

    def _copy(source: Path) -> Path:
        target = tmp_path / "edited"
        shutil.copytree(source, target)
        return target

    return _copy
