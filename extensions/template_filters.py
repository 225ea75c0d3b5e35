"""Registers the answer checks and derived values as Jinja filters for copier.

copier-template-extensions loads this file by path, so its siblings are not importable by
default. They are loaded from this file's own directory on every load, never from a cached
module: during `copier update` the old and the new template version are rendered in one
process, and each must use its own rules.
"""

from __future__ import annotations

import atexit
import importlib
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from jinja2 import Environment
from jinja2.ext import Extension

# Loaded with the others (so each template version uses its own), but no filters: it changes the git index.
HELPERS = ("team_update_index",)
SIBLINGS = (*HELPERS, "naming_rules", "gitops_identity", "revision_plan", "mesh_model", "answer_checks", "yaml_quoting", "persona_permissions", "git_urls", "team_checks", "recorded_answers",
            "answer_refusal", "shell_quoting", "root_certificate", "platform_addons")


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


def public_functions(module: ModuleType) -> dict[str, Callable]:
    """The functions a module defines (not those it imports), by name."""
    return {
        name: value
        for name, value in vars(module).items()
        if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")
    }


class TemplateFilters(Extension):
    """Every public function of the sibling modules as a filter: answer checks (`*_problem`, the
    answer first, '' when fine) and derived values."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        modules = load_siblings()
        for name, module in modules.items():
            if name not in HELPERS:
                environment.filters.update(public_functions(module))
        environment.globals["copier_operation"] = copier_operation
        # A team update's narrowed index is put back when copier exits, whatever stopped it (team_update_index.py).
        atexit.register(modules["team_update_index"].restore_pending, os.getpid())
        environment.globals["service_owner_kinds"] = modules["persona_permissions"].service_owner_kinds()
