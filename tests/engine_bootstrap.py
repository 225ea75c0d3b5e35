"""A fresh cluster on which only the GitOps engine runs, installed the way each engine orders the repo's units.

A unit cannot become healthy while one of its objects belongs to an API group nobody serves yet (the CRDs an add-on
brings) or, for istiod, while a service it calls is not up (istio-csr, in that CA mode); a unit holding an object that
never becomes Ready on a fresh cluster (an ExternalSecret whose peer has not joined) is Degraded on Argo CD, and not
Ready on Flux when the Kustomization waits for its objects. Once healthy, a unit brings what `provides` says.
Argo CD syncs one parent's waves in order and stops after the first wave that is not healthy; Flux applies a
Kustomization once everything it depends on is Ready.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from istio_gitops_check import guardrails
from istio_gitops_check.kubernetes_kinds import group_of
from istio_gitops_check.rendered_platform import RenderedPlatform, application_sources


@dataclass(frozen=True)
class FreshCluster:
    lacking: frozenset[str]  # API groups (and services) that exist only once a unit provides them
    provides: Mapping[str, frozenset[str]] = field(default_factory=dict)  # unit name without the cluster prefix -> what it brings
    istiod_needs: frozenset[str] = frozenset()
    never_ready: frozenset[str] = frozenset({"ExternalSecret"})


def _objects(platform: RenderedPlatform, paths: list[str]) -> list[dict]:
    return [o for p in paths for o in platform.builds.get((platform.root / p.removeprefix("./")).resolve(), [])]


def _healthy(fresh: FreshCluster, available: set[str], objects: list[dict], charts: set[str], waits: bool) -> bool:
    needs = {group_of(str(o.get("apiVersion", ""))) for o in objects} & fresh.lacking
    if "istiod" in charts:
        needs |= fresh.istiod_needs
    stuck = waits and bool({o.get("kind") for o in objects} & fresh.never_ready)
    return not needs - available and not stuck


def argocd_bootstrap(platform: RenderedPlatform, parent: str, cluster: str, fresh: FreshCluster) -> set[str]:
    """The child Applications of `parent` (names without the `<cluster>-` prefix) that end up synced and healthy."""
    parent_app = next(a for a in platform.unique_objects if a.get("kind") == "Application" and a["metadata"]["name"] == parent)
    waves: dict[int, list[dict]] = {}
    for child in guardrails._argocd_children(platform, parent_app):
        waves.setdefault(int(child["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]), []).append(child)
    available: set[str] = set()
    healthy: set[str] = set()
    for wave in sorted(waves):
        synced = []
        for child in waves[wave]:
            sources = application_sources(child["spec"])
            objects = _objects(platform, [s["path"] for s in sources if "path" in s and "chart" not in s])
            if _healthy(fresh, available, objects, {s["chart"] for s in sources if "chart" in s}, waits=True):
                synced.append(child["metadata"]["name"].removeprefix(f"{cluster}-"))
        healthy.update(synced)
        for name in synced:
            available |= fresh.provides.get(name, frozenset())
        if len(synced) < len(waves[wave]):
            break
    return healthy


def flux_bootstrap(platform: RenderedPlatform, cluster: str, fresh: FreshCluster) -> set[str]:
    """The Kustomizations of the cluster's entry point that become Ready."""
    units = {o["metadata"]["name"]: o for d, objects in platform.builds.items() if platform.relative(d) == f"clusters/{cluster}"
             for o in objects if o.get("kind") == "Kustomization" and o["metadata"]["name"] != "flux-system"}
    ready: set[str] = set()
    available: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, unit in units.items():
            spec = unit["spec"]
            if name in ready or not {d["name"] for d in spec.get("dependsOn", [])} <= ready:
                continue
            objects = _objects(platform, [spec["path"]])
            charts = {o["spec"]["chart"]["spec"]["chart"] for o in objects if o.get("kind") == "HelmRelease"}
            if _healthy(fresh, available, objects, charts, waits=spec.get("wait", False)):
                ready.add(name)
                available |= fresh.provides.get(name, frozenset())
                changed = True
    return ready
