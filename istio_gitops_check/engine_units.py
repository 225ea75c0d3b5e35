"""The GitOps engines' units (Argo CD Applications, Flux Kustomizations): what each one applies, which files can
change that, and what the engine lets the unit apply, as the engine decides it.

- Argo CD: the Application's project. Namespaced kinds must be in the namespace whitelist (and not in the
  blacklist) and land in a namespace the project's destinations allow on that cluster; cluster-scoped kinds are
  checked against the cluster whitelist only (Argo CD checks destinations for namespaced kinds only).
- Flux: the identity the Kustomization runs as (its service account; kustomize-controller, which the Flux
  install binds to cluster-admin, when it names that or none in flux-system) evaluated with the rendered RBAC,
  and `targetNamespace`, which moves every namespaced object into that namespace.

"Through Git", a persona can make a unit apply whatever the unit may apply, as soon as it owns one file that
can add or change the unit's objects.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from istio_gitops_check.kubernetes_kinds import CLUSTER_SCOPED_KINDS, resource_of
from istio_gitops_check.persona_boundaries import IncludeGraph
from istio_gitops_check.rbac_reach import can
from istio_gitops_check.rendered_platform import RenderedPlatform, application_sources

CLUSTER_ADMIN = ("flux-system", "kustomize-controller")


@dataclass(frozen=True)
class EngineUnit:
    description: str
    cluster: str
    files: frozenset[str]
    may: Callable[[str, str, str], bool]  # (group, kind, namespace) -> the engine would apply it


def _kinds(entries: list | None) -> set[tuple[str, str]]:
    return {(str(e.get("group", "")), str(e.get("kind", ""))) for e in entries or []}


def _matches(allowed: set[tuple[str, str]], group: str, kind: str) -> bool:
    return any(g in (group, "*") and k in (kind, "*") for g, k in allowed)


def _files_read(platform: RenderedPlatform, graph: IncludeGraph, path) -> set[str]:
    """The files that can change what a unit applies from `path`: its include chains, and the file each object
    came from (which covers Argo CD directory sources and Flux's generated kustomizations)."""
    return graph.files_read(str(path)) | {str(platform.root / platform.origin(o)) for o in platform.builds[path]
                                          if platform.origin(o) != "."}


def argocd_units(platform: RenderedPlatform, graph: IncludeGraph) -> list[EngineUnit]:
    objects = platform.applied_unique_objects
    projects = {o["metadata"]["name"]: o.get("spec", {}) for o in objects if o.get("kind") == "AppProject"}
    units = []
    for app in (o for o in objects if o.get("kind") == "Application" and str(o.get("apiVersion", "")).startswith("argoproj.io/")):
        spec = app.get("spec", {})
        project = projects.get(spec.get("project"), {})
        cluster = str(spec.get("destination", {}).get("name", ""))
        paths = [platform.root / s["path"] for s in application_sources(spec)
                 if "path" in s and "chart" not in s]
        files: set[str] = set()
        for path in paths:
            if path not in platform.builds:
                continue
            files |= _files_read(platform, graph, path)
        namespaces = {d.get("namespace") for d in project.get("destinations", []) if d.get("name") in (cluster, "*")}
        cluster_white, cluster_black = _kinds(project.get("clusterResourceWhitelist")), _kinds(project.get("clusterResourceBlacklist"))
        ns_white = _kinds(project.get("namespaceResourceWhitelist"))
        ns_black = _kinds(project.get("namespaceResourceBlacklist"))
        ns_open = "namespaceResourceWhitelist" not in project

        def may(group: str, kind: str, namespace: str, namespaces=namespaces, cw=cluster_white, cb=cluster_black,
                nw=ns_white, nb=ns_black, open_=ns_open) -> bool:
            if kind in CLUSTER_SCOPED_KINDS:
                return _matches(cw, group, kind) and not _matches(cb, group, kind)
            allowed_kind = (open_ or _matches(nw, group, kind)) and not _matches(nb, group, kind)
            return allowed_kind and bool({namespace, "*"} & namespaces)

        units.append(EngineUnit(f"Application {app['metadata']['name']} (project {spec.get('project')})", cluster, frozenset(files), may))
    return units


def flux_units(platform: RenderedPlatform, graph: IncludeGraph) -> list[EngineUnit]:
    from istio_gitops_check.rendered_platform import cluster_entry_points

    objects = platform.applied_unique_objects
    cluster_of = {str(p): c for c, paths in cluster_entry_points(platform).items() for p in paths}
    units = []
    for unit in (o for o in objects if o.get("kind") == "Kustomization" and "toolkit.fluxcd.io" in str(o.get("apiVersion"))):
        spec = unit.get("spec", {})
        namespace = unit["metadata"].get("namespace", "")
        account = spec.get("serviceAccountName") or ("kustomize-controller" if namespace == "flux-system" else "flux")
        path = (platform.root / str(spec.get("path", "")).removeprefix("./")).resolve()
        if path not in platform.builds:
            continue
        files = _files_read(platform, graph, path)
        target = spec.get("targetNamespace")
        identity = (namespace, account)

        def may(group: str, kind: str, where: str, identity=identity, target=target) -> bool:
            if identity == CLUSTER_ADMIN:
                return True
            if kind in CLUSTER_SCOPED_KINDS:
                return can(objects, identity, "create", group, resource_of(kind), "")
            return (not target or where == target) and can(objects, identity, "create", group, resource_of(kind), where)

        units.append(EngineUnit(f"Kustomization {namespace}/{unit['metadata']['name']} (as {namespace}/{account})",
                                cluster_of.get(str(path), ""), frozenset(files), may))
    return units


def engine_units(platform: RenderedPlatform) -> list[EngineUnit]:
    graph = IncludeGraph(platform)
    return argocd_units(platform, graph) if platform.engine == "argocd" else flux_units(platform, graph)


def through_git(platform: RenderedPlatform, owner: str, owners_of: Callable[[str], tuple[str, ...]]) -> list[EngineUnit]:
    """The units a CODEOWNERS owner can steer: those reading at least one file it owns."""
    root = str(platform.root) + os.sep
    return [u for u in engine_units(platform)
            if any(f.startswith(root) and owner in owners_of(f[len(root):]) for f in u.files)]
