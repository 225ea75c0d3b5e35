"""The in-process build fails on errors and on warnings, and agrees with kubectl kustomize."""

from __future__ import annotations

from pathlib import Path

import pytest

from istio_gitops_check import kustomize_render

NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n"


def write(directory: Path, kustomization: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "namespace.yaml").write_text(NAMESPACE)
    (directory / "kustomization.yaml").write_text(kustomization)
    return directory


def test_clean_build_matches_kubectl(tmp_path: Path) -> None:
    directory = write(tmp_path / "ok", "resources:\n  - namespace.yaml\nlabels:\n  - pairs:\n      team: a\n")
    rendered = kustomize_render.build(directory)
    assert kustomize_render.objects(rendered)[0]["metadata"]["labels"] == {"team": "a"}
    assert rendered == kustomize_render.kubectl_build(directory)


def test_deprecation_warning_fails_the_build(tmp_path: Path) -> None:
    directory = write(tmp_path / "warn", "resources:\n  - namespace.yaml\ncommonLabels:\n  team: a\n")
    with pytest.raises(kustomize_render.KustomizeBuildFailed, match="warning"):
        kustomize_render.build(directory)


def test_missing_resource_fails_the_build(tmp_path: Path) -> None:
    directory = write(tmp_path / "broken", "resources:\n  - missing.yaml\n")
    with pytest.raises(kustomize_render.KustomizeBuildFailed, match="missing.yaml"):
        kustomize_render.build(directory)
    with pytest.raises(kustomize_render.KustomizeBuildFailed):
        kustomize_render.kubectl_build(directory)


def test_find_kustomizations_skips_git(tmp_path: Path) -> None:
    write(tmp_path / "a", "resources:\n  - namespace.yaml\n")
    write(tmp_path / ".git" / "b", "resources: []\n")
    assert kustomize_render.find_kustomizations(tmp_path) == [tmp_path / "a"]
