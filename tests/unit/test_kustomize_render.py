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


def test_build_many_gives_each_build_its_own_error_and_warning(tmp_path: Path) -> None:
    """The library's last error and its stderr are process-global: in a parallel batch, a failure or a warning
    must still land on the build that caused it, and the clean builds around it must stay clean."""
    clean = [write(tmp_path / f"ok-{i}", "resources:\n  - namespace.yaml\n") for i in range(40)]
    missing_a = write(tmp_path / "missing-a", "resources:\n  - a.yaml\n")
    missing_b = write(tmp_path / "missing-b", "resources:\n  - b.yaml\n")
    warning = write(tmp_path / "warn", "resources:\n  - namespace.yaml\ncommonLabels:\n  team: a\n")
    results = kustomize_render.build_many([(d, False) for d in [*clean[:20], missing_a, warning, missing_b, *clean[20:]]], workers=2)
    assert all(results[d] == [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}] for d in clean)
    assert "a.yaml" in str(results[missing_a]) and "b.yaml" not in str(results[missing_a])
    assert "b.yaml" in str(results[missing_b]) and "a.yaml" not in str(results[missing_b])
    assert isinstance(results[warning], kustomize_render.KustomizeBuildFailed) and "warning" in str(results[warning])


def test_load_restrictor_is_applied(tmp_path: Path) -> None:
    write(tmp_path / "shared", "resources:\n  - namespace.yaml\n")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text("resources:\n  - ../shared/namespace.yaml\n")
    restricted = kustomize_render.build_many([(overlay, False)])[overlay]
    assert isinstance(restricted, kustomize_render.KustomizeBuildFailed)
    assert kustomize_render.build_many([(overlay, True)])[overlay][0]["kind"] == "Namespace"
