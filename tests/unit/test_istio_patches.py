"""The Istio patch bot's plan: canary step 1 for the newest patch of the installed minor, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from istio_gitops_check import cli
from istio_gitops_check.istio_patches import chart_versions, patch_plan

STABLE = {"istio_versions": ["1.30.3"], "istio_revision_tags": [{"name": "prod-stable", "version": "1.30.3"}]}
INDEX = {"entries": {"istiod": [{"version": v} for v in ("1.30.2", "1.30.3", "1.30.4", "1.30.5-beta.0", "1.31.1", "1.29.9")]}}


def test_newest_patch_of_the_same_minor_becomes_the_canary() -> None:
    assert patch_plan(STABLE, chart_versions(INDEX)) == {
        "istio_versions": ["1.30.3", "1.30.4"],
        "istio_revision_tags": [{"name": "prod-stable", "version": "1.30.3"}, {"name": "prod-canary", "version": "1.30.4"}],
    }


def test_pre_releases_and_other_minors_are_never_proposed() -> None:
    assert chart_versions(INDEX) == ["1.30.2", "1.30.3", "1.30.4", "1.31.1", "1.29.9"]
    assert patch_plan({**STABLE, "istio_versions": ["1.30.4"]}, chart_versions(INDEX)) is None


def test_nothing_while_an_upgrade_is_under_way() -> None:
    assert patch_plan({**STABLE, "istio_versions": ["1.30.3", "1.31.1"]}, ["1.30.4", "1.31.2"]) is None


def test_a_stale_canary_tag_is_replaced_not_duplicated() -> None:
    answers = {**STABLE, "istio_revision_tags": [*STABLE["istio_revision_tags"], {"name": "prod-canary", "version": "1.30.3"}]}
    tags = patch_plan(answers, ["1.30.4"])["istio_revision_tags"]
    assert [t["name"] for t in tags] == ["prod-stable", "prod-canary"]
    assert tags[-1]["version"] == "1.30.4"


def test_cli_writes_a_copier_data_file(tmp_path: Path) -> None:
    (tmp_path / ".copier-answers.yml").write_text("istio_versions:\n- 1.30.3\nistio_revision_tags:\n- name: prod-stable\n  version: 1.30.3\n")
    (tmp_path / "index.yaml").write_text("entries:\n  istiod:\n    - version: 1.30.4\n")
    out = tmp_path / "plan.json"
    assert cli.main(["istio-patch", str(tmp_path), "--index", str(tmp_path / "index.yaml"), "--out", str(out)]) == 0
    assert '"1.30.4"' in out.read_text()
    (tmp_path / "index.yaml").write_text("entries:\n  istiod:\n    - version: 1.30.3\n")
    out.unlink()
    assert cli.main(["istio-patch", str(tmp_path), "--index", str(tmp_path / "index.yaml"), "--out", str(out)]) == 0
    assert not out.exists()


@pytest.mark.parametrize("version", ["1.30", "v1.30.3", " 1.30.3"])
def test_an_installed_version_that_is_no_release_is_refused(version: str) -> None:
    with pytest.raises(ValueError, match="exact Istio release"):
        patch_plan({"istio_versions": [version]}, ["1.30.4"])
