"""`copier update` from an older template version keeps the user's edits and brings the new practice.

The older version is this template with two older defaults put back (no access log, a smaller
ingress autoscaling ceiling), so the test exercises a real 3-way merge on files the user edited.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from copier import run_update

from tests.conftest import copy_platform, git, init_repo
from istio_gitops_check.platform_check import check, summary

ISTIOD_TEMPLATE = "template/mesh/revisions/{% yield rev from istio_revisions %}{{ rev.revision }}{% endyield %}/istiod.values.yaml.jinja"
INGRESS_TEMPLATE = "template/gateways/revisions/{% yield gw from gateway_deployments %}{{ gw.folder }}{% endyield %}/{% if 'ingress' in gateways_enabled %}ingress.values.yaml{% endif %}.jinja"
# The gateways' values come from one macro; the older ingress values pass its output through a replace.
INGRESS_VALUES_CALL = 'gateway_values.release_values("ingress", "LoadBalancer")'


@pytest.fixture(scope="module")
def two_versions(template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template repo whose tag 0.1.0 is the older practice and 0.2.0 the working tree."""
    repo = tmp_path_factory.mktemp("versions") / "template"
    shutil.copytree(template_snapshot, repo)
    istiod, ingress = repo / ISTIOD_TEMPLATE, repo / INGRESS_TEMPLATE
    current_istiod, current_ingress = istiod.read_text(), ingress.read_text()
    assert "  accessLogFile: /dev/stdout\n" in current_istiod and INGRESS_VALUES_CALL in current_ingress
    assert "maxReplicas: 5" in (repo / "template/_partials/gateway-values.jinja").read_text()
    istiod.write_text(current_istiod.replace("  accessLogFile: /dev/stdout\n", ""))
    ingress.write_text(current_ingress.replace(INGRESS_VALUES_CALL, INGRESS_VALUES_CALL + ' | replace("maxReplicas: 5", "maxReplicas: 3")'))
    git(repo, "commit", "-qam", "older practice")
    git(repo, "tag", "0.1.0")
    istiod.write_text(current_istiod)
    ingress.write_text(current_ingress)
    git(repo, "commit", "-qam", "newer practice")
    git(repo, "tag", "0.2.0")
    return repo


def changed_files(project: Path) -> set[str]:
    return {line[3:] for line in git(project, "status", "--porcelain").splitlines()}


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_update_keeps_edits_and_brings_new_practice(two_versions: Path, tmp_path: Path, engine: str) -> None:
    project = copy_platform(two_versions, tmp_path / "platform", {"gitops_engine": engine}, vcs_ref="0.1.0")
    init_repo(project, "generated at 0.1.0")

    istiod = project / "mesh/revisions/1-31-1/istiod.values.yaml"
    ingress = project / "gateways/revisions/prod-stable/ingress.values.yaml"
    readme = project / "README.md"
    example = project / "apps/base/example/workloads"
    assert "accessLogFile" not in istiod.read_text()
    istiod.write_text(istiod.read_text().replace("autoscaleMax: 5", "autoscaleMax: 8"))
    ingress.write_text(ingress.read_text().replace("cpu: 100m", "cpu: 250m"))
    readme.write_text(readme.read_text() + "\n## Our runbook\n\nPage the platform team.\n")
    (example / "settings.yaml").write_text(
        "# Managed by istio-gitops-template (copier): your edits survive `copier update`.\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: example\ndata:\n  mode: fast\n"
    )
    (example / "kustomization.yaml").write_text((example / "kustomization.yaml").read_text() + "  - settings.yaml\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "team edits")

    run_update(project, vcs_ref="0.2.0", defaults=True, overwrite=True, unsafe=True, quiet=True, conflict="inline")

    assert changed_files(project) == {".copier-answers.yml", istiod.relative_to(project).as_posix(), ingress.relative_to(project).as_posix()}
    istiod_text, ingress_text = istiod.read_text(), ingress.read_text()
    assert "autoscaleMax: 8" in istiod_text and "accessLogFile: /dev/stdout" in istiod_text
    assert "cpu: 250m" in ingress_text and "maxReplicas: 5" in ingress_text
    assert "Our runbook" in readme.read_text()
    assert "settings.yaml" in (example / "kustomization.yaml").read_text()
    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert "<<<<<<<" not in path.read_text(errors="replace"), path
    report = check(project)
    assert report.ok, summary(report)

    git(project, "add", "-A")
    git(project, "commit", "-qm", "update to 0.2.0")
    run_update(project, vcs_ref="0.2.0", defaults=True, overwrite=True, unsafe=True, quiet=True)
    assert changed_files(project) == set(), "a no-op update must change nothing"
