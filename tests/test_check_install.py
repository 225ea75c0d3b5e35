"""The checker reaches a generated repo the way a user gets it: scripts/check.py installs istio-gitops-check from
the template repository at the commit .copier-answers.yml records, into the cache, and runs it there.

Offline here, so the install uses `--python` (an interpreter that already has the dependencies; pip then builds
only the checker, from the git URL, without build isolation). CI's default path (a venv with the pinned
dependencies from PyPI) differs only in where the dependencies come from.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SNAPSHOT_VERSION, copy_platform

BOOTSTRAP = REPO / "template" / "scripts" / "check.py"


def load_bootstrap():
    spec = importlib.util.spec_from_file_location("generated_check_script", BOOTSTRAP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def installed(template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    project = copy_platform(template_snapshot, tmp_path_factory.mktemp("install") / "platform", {})
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["ISTIO_GITOPS_CHECK_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    # The schema packages are the same pinned set: reuse the suite's install instead of a second npm ci.
    suite_cache = Path(os.environ["ISTIO_GITOPS_CHECK_CACHE"])
    for schemas in suite_cache.glob("schemas-*"):
        os.symlink(schemas, Path(env["ISTIO_GITOPS_CHECK_CACHE"]) / schemas.name)
    return project, env


def run_installed(project: Path, env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "scripts/check.py", "--python", sys.executable, *arguments],
                          cwd=project, env=env, capture_output=True, text=True, check=False, timeout=600)


def test_answers_record_where_the_checker_comes_from(installed) -> None:
    project, _ = installed
    answers = (project / ".copier-answers.yml").read_text()
    assert f"_commit: {SNAPSHOT_VERSION}" in answers
    assert "_src_path: " in answers


def test_generated_repo_installs_and_runs_the_checker_of_its_commit(installed) -> None:
    project, env = installed
    done = run_installed(project, env)
    assert done.returncode == 0, done.stdout + done.stderr
    cache = Path(env["ISTIO_GITOPS_CHECK_CACHE"])
    installed_package = list(cache.glob("checker-*/lib/istio_gitops_check/__init__.py"))
    assert len(installed_package) == 1, "the checker was installed into the cache, not taken from the source tree"
    assert list(cache.glob("checker-*/lib/istio_gitops_check/chart_values/istiod-*.schema.json")), "package data installed"

    (project / "mesh/base/istio-config/sidecar-default.yaml").write_text(
        (project / "mesh/base/istio-config/sidecar-default.yaml").read_text().replace("  egress:", "  egres:"))
    broken = run_installed(project, env)
    assert broken.returncode == 1
    assert "mesh/base/istio-config/sidecar-default.yaml: strict schemas: " in broken.stdout
    assert len(list(cache.glob("checker-*"))) == 1, "the second run reuses the install"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("https://github.com/org/istio-gitops-template.git", "https://github.com/org/istio-gitops-template.git"),
        ("gh:org/istio-gitops-template", "https://github.com/org/istio-gitops-template.git"),
        ("gl:group/sub/template.git", "https://gitlab.com/group/sub/template.git"),
        ("git@github.com:org/template.git", "ssh://git@github.com/org/template.git"),
        ("/srv/templates/istio", "file:///srv/templates/istio"),
    ],
)
def test_source_paths_become_pip_git_urls(source: str, expected: str) -> None:
    assert load_bootstrap().git_url(source) == expected


@pytest.mark.parametrize(
    ("commit", "ref"),
    [("1.4.0", "1.4.0"), ("v1.4.0-3-gabc1234", "abc1234"), ("f840be2", "f840be2")],
)
def test_recorded_commit_becomes_a_git_ref(commit: str, ref: str) -> None:
    assert load_bootstrap().git_ref(commit) == ref


def test_relative_source_path_is_refused(tmp_path: Path) -> None:
    module = load_bootstrap()
    with pytest.raises(SystemExit, match="ISTIO_GITOPS_CHECK_SOURCE"):
        module.git_url("../template")
