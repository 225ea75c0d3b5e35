"""Files the template does not render need no header: the guardrail "files carry the header" asks it only of
paths the template or its hooks generate (istio_gitops_check/generated_paths.py).

The list is kept equal to the template here: every file of template/ and every file the hooks write is a
generated path (so a new template file cannot silently escape the rule), and files a user adds next to them
are not.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from istio_gitops_check import guardrails, rendered_platform
from istio_gitops_check.generated_paths import GENERATED_PATHS, is_generated, matches
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "hooks"))
import cluster_certificates  # noqa: E402
import team_folders  # noqa: E402

USER_ADDED = (
    "teams/payments/base/payments/workloads/deployment.yaml",
    "teams/payments/base/payments/workloads/config/settings.yaml",
    "gateways/base/istio-ingress/extra.yaml",
    "mesh/base/istio-config/extra.yaml",
    "apps/base/shop/workloads/deployment.yaml",
    "apps/base/example/workloads/deployment.yaml",
    "clusters/cluster-1/extra.yaml",
    ".github/workflows/deploy.yml",
    "docs/runbook.md",
    "scripts/tool.py",
)
PLATFORM = {
    "platform_name": "core", "gitops_engine": "argocd", "git_repo_url": "https://git.example.com/core.git", "git_branch": "main",
    "gateway_layout": "split", "gateways_enabled": ["ingress", "egress"], "trust_domain": "corp.example", "codeowners_org": "acme",
}
TEAM = {"name": "payments", "owners_group": "team-payments", "namespaces": ["payments", "batch"], "clusters": ["eu-1", "us-1"],
        "revision_tag": "prod-stable", "egress_hosts": ["api.github.com"],
        "ingress_routes": [{"host": "pay.example.com", "service": "web", "port": 8080}]}
CERTIFICATES = {"platform_name": "core", "trust_domain": "corp.example", "mesh_id": "m", "ca_issuer_name": "ca",
                "ca_aws_pca_arn": "arn:aws:acm-pca:us-east-2:111122223333:certificate-authority/abc-123",
                "ca_vault_server": "https://vault.example.com", "ca_vault_pki_path": "pki/sign", "ca_vault_role": "r",
                "remote_secret_store": "store", "clusters": ["eu-1", "us-1"],
                "mesh_root_ca_pem": (Path(__file__).parent / "fixtures/mesh-root-ca.pem").read_text()}


def example_path(template_path: str) -> str:
    """A path the template file renders to: conditions kept, loops and expressions replaced by a sample name."""
    path = re.sub(r"\{%\s*if [^%]*%\}(.*?)\{%\s*endif\s*%\}", r"\1", template_path)
    path = re.sub(r"\{%\s*yield [^%]*%\}(.*?)\{%\s*endyield\s*%\}", lambda m: re.sub(r"\{\{[^}]*\}\}", "x1", m.group(1)), path)
    path = re.sub(r"\{\{[^}]*\}\}", "x1", path)
    return path.removesuffix(".jinja")


def template_files() -> list[str]:
    root = REPO / "template"
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and "_partials" not in p.parts and "__pycache__" not in p.parts and "answers_file" not in p.name)


def test_example_path_follows_copier_path_rules() -> None:
    assert example_path("clusters/{% yield cluster from clusters %}{{ cluster.name }}{% endyield %}/"
                        "{% if gitops_engine == 'argocd' %}istiod.yaml{% endif %}.jinja") == "clusters/x1/istiod.yaml"
    assert example_path("flux/releases/{% yield rev from istio_revisions %}istiod-{{ rev.revision }}{% endyield %}/"
                        "helm-release.yaml.jinja") == "flux/releases/istiod-x1/helm-release.yaml"


def test_every_template_file_is_a_generated_path() -> None:
    files = template_files()
    assert len(files) > 80
    missing = [f"{f} -> {example_path(f)}" for f in files if not is_generated(example_path(f))]
    assert not missing, "add these to GENERATED_PATHS in istio_gitops_check/generated_paths.py:\n" + "\n".join(missing)


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_every_file_the_team_hook_writes_is_a_generated_path(engine: str) -> None:
    files = team_folders.team_files({**PLATFORM, "gitops_engine": engine}, TEAM)
    assert [path for path in files if not is_generated(path)] == []


@pytest.mark.parametrize("mode", cluster_certificates.CA_MODES)
def test_every_file_the_certificate_hook_writes_is_a_generated_path(mode: str) -> None:
    files = cluster_certificates.certificate_files({**CERTIFICATES, "ca_mode": mode})
    assert [path for path in files if not is_generated(path)] == []


def test_every_pattern_is_used() -> None:
    """No pattern outlives the file it was for (it would demand a header of a file the user adds there)."""
    written = [example_path(f) for f in template_files()]
    for engine in ("argocd", "flux"):
        written += list(team_folders.team_files({**PLATFORM, "gitops_engine": engine}, TEAM))
    for mode in cluster_certificates.CA_MODES:
        written += list(cluster_certificates.certificate_files({**CERTIFICATES, "ca_mode": mode}))
    unused = [pattern for pattern in GENERATED_PATHS if not any(matches(path, pattern) for path in written)]
    assert unused == []


@pytest.mark.parametrize("path", USER_ADDED)
def test_files_a_user_adds_are_not_generated_paths(path: str) -> None:
    assert not is_generated(path)


def test_user_added_files_need_no_header_generated_ones_still_do(render, editable_copy) -> None:
    root = editable_copy(render())
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n"
    for path in ("teams/payments/base/payments/workloads/deployment.yaml", "gateways/base/istio-ingress/extra.yaml",
                 "mesh/base/istio-config/extra.yaml"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(manifest)
    istiod = root / "mesh/revisions/1-31-1/istiod.values.yaml"
    istiod.write_text(istiod.read_text().replace(guardrails.HEADER + "\n", ""))
    problems = guardrails.files_carry_header(rendered_platform.load(root))
    assert problems == ["mesh/revisions/1-31-1/istiod.values.yaml: first line is not the template header"]
