"""Registers the answer checks and derived values as Jinja filters for copier.

copier-template-extensions loads this file by path, so its siblings are not importable by
default. They are loaded from this file's own directory on every load, never from a cached
module: during `copier update` the old and the new template version are rendered in one
process, and each must use its own rules.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

from jinja2 import Environment
from jinja2.ext import Extension

SIBLINGS = ("naming_rules", "revision_plan", "mesh_model", "answer_checks", "yaml_quoting", "persona_permissions", "git_urls", "team_checks")


def load_siblings() -> dict[str, ModuleType]:
    """Import this directory's modules fresh, then restore sys.path and sys.modules."""
    here = str(Path(__file__).resolve().parent)
    saved = {name: sys.modules.pop(name) for name in SIBLINGS if name in sys.modules}
    sys.path.insert(0, here)
    try:
        return {name: importlib.import_module(name) for name in SIBLINGS}
    finally:
        sys.path.remove(here)
        for name in SIBLINGS:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


def copier_operation() -> str:
    """'copy' or 'update': copier exposes the operation to tasks and exclusions but not to
    validators, so read it where copier keeps it (copier 9.x; requirements.txt pins the version and
    tests/test_team_onboarding.py fails if this stops working)."""
    try:
        from copier._main import _operation
    except ImportError:
        return "copy"
    value = _operation.get(None)
    return str(getattr(value, "value", value) or "copy")


class TemplateFilters(Extension):
    """Answer checks (`*_problem`, '' when fine) and derived values as filters."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        modules = load_siblings()
        checks, model, quoting = modules["answer_checks"], modules["mesh_model"], modules["yaml_quoting"]
        environment.globals["copier_operation"] = copier_operation
        environment.globals["service_owner_kinds"] = modules["persona_permissions"].service_owner_kinds()
        environment.filters.update(
            {
                "name_problem": lambda value, field, max_length=63: checks.name_problem(field, value, max_length),
                "subdomain_problem": lambda value, field: checks.subdomain_problem(field, value),
                "group_problem": lambda value, field: checks.group_problem(field, value),
                "istio_version_problem": checks.istio_version_problem,
                "git_url_problem": checks.git_url_problem,
                "git_branch_problem": checks.git_branch_problem,
                "gateways_problem": checks.gateways_problem,
                "egress_hosts_problem": checks.egress_hosts_problem,
                "clusters_problem": checks.clusters_problem,
                "github_org_problem": checks.github_org_problem,
                "aws_pca_arn_problem": checks.aws_pca_arn_problem,
                "https_url_problem": lambda value, field: checks.https_url_problem(field, value),
                "vault_path_problem": checks.vault_path_problem,
                "revision_name": modules["revision_plan"].revision_name,
                "istio_versions_problem": checks.istio_versions_problem,
                "revision_tags_problem": checks.revision_tags_problem,
                "default_tag_problem": checks.default_tag_problem,
                "gateway_revision_problem": checks.gateway_revision_problem,
                "revision_plan": modules["revision_plan"].revision_plan,
                "default_revision": modules["revision_plan"].default_revision,
                "newest_version": modules["revision_plan"].newest_version,
                "gateway_target": modules["revision_plan"].gateway_target,
                "gateway_namespace": model.gateway_namespace,
                "gateway_namespaces": model.gateway_namespaces,
                "sidecar_egress_hosts": model.sidecar_egress_hosts,
                "host_slug": model.host_slug,
                "yaml_string": quoting.yaml_string,
                "rbac_rules": modules["persona_permissions"].rbac_rules,
                "flux_git_url": modules["git_urls"].flux_git_url,
                "team_name_problem": modules["team_checks"].team_name_problem,
                "platform_snapshot": modules["team_checks"].platform_snapshot,
                "team_platform_problem": modules["team_checks"].team_platform_problem,
                "team_namespaces_problem": modules["team_checks"].team_namespaces_problem,
                "team_clusters_problem": modules["team_checks"].team_clusters_problem,
                "team_tag_problem": modules["team_checks"].team_tag_problem,
                "team_egress_problem": modules["team_checks"].team_egress_problem,
                "team_ingress_problem": modules["team_checks"].team_ingress_problem,
            }
        )
