"""External authorization on rendered repos: the CUSTOM policy's provider is declared by every istiod revision,
its service is imported by every Sidecar in the policy's reach (the platform's and the teams'), the teams' Sidecars
importing it are admitted, and the EnvoyFilter of docs/external-authorization.md works as written where the seed's
version could not."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from copier import run_update
from copier._types import VcsRef

from istio_gitops_check import external_authorization, rendered_platform
from istio_gitops_check.platform_check import check
from tests.conftest import REPO, copy_platform, git, init_repo
from tests.test_team_onboarding import onboard

SERVICE = "ext-authz.ext-authz.svc.cluster.local:9000"
HOST = "ext-authz.ext-authz.svc.cluster.local"
IMPORTED = f"ext-authz/{HOST}"
THREE_VERSIONS = {"istio_versions": ["1.29.7", "1.30.4", "1.31.1"],
                  "istio_revision_tags": [{"name": "prod-stable", "version": "1.30.4"}, {"name": "prod-canary", "version": "1.31.1"}]}
HEADER = "# Managed by istio-gitops-template (copier): your edits survive `copier update`.\n"


def replaced(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


def problems_of(root: Path) -> list[str]:
    """Everything the generated repo's own check finds."""
    return check(root).problems


def docs_envoyfilter() -> str:
    """The EnvoyFilter example of docs/external-authorization.md, verbatim."""
    blocks = re.findall(r"```yaml\n(.*?)```", (REPO / "docs/external-authorization.md").read_text(), re.DOTALL)
    (example,) = [b for b in blocks if "kind: EnvoyFilter" in b]
    return example


def add_to_istio_config(root: Path, name: str, text: str) -> None:
    (root / "mesh/base/istio-config" / name).write_text(text)
    kustomization = root / "mesh/base/istio-config/kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("resources:\n", f"resources:\n  - {name}\n"))


def test_off_by_default_renders_none_of_it(render) -> None:
    root = render({})
    assert not list(root.glob("mesh/base/istio-config/*authz*"))
    for path in root.rglob("*.yaml"):
        text = path.read_text()
        assert "extensionProviders" not in text and "action: CUSTOM" not in text and "ext-authz" not in text, path


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_every_revision_declares_the_provider_the_policy_names(render, engine: str) -> None:
    root = render({**THREE_VERSIONS, "gitops_engine": engine, "external_authz_service": SERVICE})
    platform = rendered_platform.load(root)
    (policy,) = external_authorization.custom_policies(platform.unique_objects)
    assert policy["metadata"]["namespace"] == "istio-config"
    assert policy["spec"]["selector"] == {"matchLabels": {"external-auth": "enabled"}}
    name = policy["spec"]["provider"]["name"]
    istiods = [r for r in platform.helm_releases if r.chart == "istiod"]
    assert sorted(str(r.values["revision"]) for r in istiods) == ["1-29-7", "1-30-4", "1-31-1"]
    for release in istiods:
        provider = external_authorization.declared_providers(release.values)[name]
        assert provider["envoyExtAuthzGrpc"] == {"service": HOST, "port": 9000, "timeout": "0.5s", "failOpen": False}
    default_sidecar = yaml.safe_load((root / "mesh/base/istio-config/sidecar-default.yaml").read_text())
    assert IMPORTED in default_sidecar["spec"]["egress"][0]["hosts"]
    assert problems_of(root) == []


def test_a_canary_revision_without_the_provider_is_caught(render, editable_copy) -> None:
    root = editable_copy(render({**THREE_VERSIONS, "external_authz_service": SERVICE}))
    values = root / "mesh/revisions/1-29-7/istiod.values.yaml"
    values.write_text(replaced(values.read_text(), "    - name: external-authz\n", "    - name: renamed\n"))
    found = external_authorization.providers_declared_problems(rendered_platform.load(root))
    assert found and all("of revision(s) 1-29-7 " in p for p in found), found


@pytest.fixture(scope="module")
def platform_with_team(template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_platform(template_snapshot, tmp_path_factory.mktemp("authz") / "repo", {"external_authz_service": SERVICE})
    init_repo(project, "platform")
    onboard(template_snapshot, project, "shop", team_egress_hosts=["api.github.com"])
    return project


def test_team_sidecars_import_the_service_and_are_admitted(platform_with_team: Path) -> None:
    sidecar = yaml.safe_load((platform_with_team / "teams/shop/base/shop/namespace/sidecar.yaml").read_text())
    assert IMPORTED in sidecar["spec"]["egress"][0]["hosts"]
    assert problems_of(platform_with_team) == []


def test_a_team_sidecar_without_the_service_is_caught(platform_with_team: Path, tmp_path: Path) -> None:
    """What a team onboarded before the platform set the service looks like until it is refreshed."""
    root = tmp_path / "repo"
    shutil.copytree(platform_with_team, root)
    sidecar = root / "teams/shop/base/shop/namespace/sidecar.yaml"
    sidecar.write_text(replaced(sidecar.read_text(), f"        - {IMPORTED}\n", ""))
    found = external_authorization.services_reachable_problems(rendered_platform.load(root))
    assert any(p.startswith("teams/shop/base/shop/namespace/sidecar.yaml: Sidecar shop/default") and "in namespace shop" in p
               for p in found), found


def test_team_sidecars_may_import_no_other_service(platform_with_team: Path, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(platform_with_team, root)
    sidecar = root / "teams/shop/base/shop/namespace/sidecar.yaml"
    sidecar.write_text(replaced(sidecar.read_text(), f"        - {IMPORTED}\n", f"        - {IMPORTED}\n        - other/*\n"))
    assert any("team-sidecars-keep-declared-egress" in p for p in check(root).of("admitted by the platform's policies"))


def test_docs_envoyfilter_works_as_written(render, editable_copy) -> None:
    example = docs_envoyfilter()
    assert example.startswith(HEADER)
    envoy_filter = yaml.safe_load(example)
    (grpc,) = external_authorization.grpc_services(envoy_filter["spec"]["configPatches"][0]["patch"]["value"])
    assert grpc["cluster_name"] == f"outbound|9000||{HOST}"
    assert grpc["authority"] == HOST and "|" not in grpc["authority"]
    assert envoy_filter["spec"]["workloadSelector"]["labels"] == {"external-auth": "envoyfilter"}
    root = editable_copy(render({"external_authz_service": SERVICE}))
    add_to_istio_config(root, "envoyfilter-external-authz.yaml", example)
    assert problems_of(root) == []


def test_the_seed_envoyfilter_is_caught(render, editable_copy) -> None:
    """0.3.0's EnvoyFilter: no authority, and a host that the default Sidecar hides."""
    seed = replaced(docs_envoyfilter(), f"                authority: {HOST}\n", "")
    root = editable_copy(render({}))
    add_to_istio_config(root, "envoyfilter-external-authz.yaml", seed)
    found = external_authorization.services_reachable_problems(rendered_platform.load(root))
    assert any("has no valid authority (none)" in p and f"Set authority to the service host ({HOST})" in p for p in found), found
    assert any(p.startswith("mesh/base/istio-config/sidecar-default.yaml: Sidecar istio-config/default")
               and f"does not import ext-authz/{HOST}" in p and "EnvoyFilter istio-config/external-authz" in p for p in found), found


def update(project: Path, data: dict, answers_file: str = ".copier-answers.yml") -> None:
    run_update(project, data=data, answers_file=answers_file, vcs_ref=VcsRef.CURRENT, defaults=True, overwrite=True,
               unsafe=True, quiet=True)
    git(project, "add", "-A")
    git(project, "commit", "-qm", f"update {answers_file}")


def test_turning_it_on_after_onboarding_then_refreshing_the_team(template_snapshot: Path, tmp_path: Path) -> None:
    """docs/external-authorization.md's flow: set the answer on the platform (no recorded answer changes, the guard
    lets it through), the check names each team Sidecar that lacks the service, the team refresh fixes it."""
    project = copy_platform(template_snapshot, tmp_path / "repo", {})
    init_repo(project, "platform")
    onboard(template_snapshot, project, "shop")
    update(project, {"external_authz_service": SERVICE})
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["external_authz_service"] == SERVICE
    stale = external_authorization.services_reachable_problems(rendered_platform.load(project))
    assert [p.split(":")[0] for p in stale] == ["teams/shop/base/shop/namespace/sidecar.yaml"], stale
    snapshot = subprocess.run([sys.executable, str(REPO / "hooks/team_folders.py"), "--snapshot", ".copier-answers.yml"],
                              cwd=project, capture_output=True, text=True, check=True).stdout
    update(project, {"team_platform": json.loads(snapshot)}, ".copier/team-shop.yml")
    assert problems_of(project) == []


def test_a_typo_in_the_provider_fails_the_values_check(render, editable_copy) -> None:
    root = editable_copy(render({"external_authz_service": SERVICE}))
    values = root / "mesh/revisions/1-31-1/istiod.values.yaml"
    values.write_text(replaced(values.read_text(), "        port: 9000\n", "        prot: 9000\n"))
    found = "\n".join(check(root).values_problems)
    assert "meshConfig.extensionProviders[0].envoyExtAuthzGrpc.prot: unknown key" in found, found
    assert "envoyExtAuthzGrpc: 'port' is a required property" in found, found
