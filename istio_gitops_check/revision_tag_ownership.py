"""Who owns each revision tag's objects, per cluster, and whether every tag has its webhook.

A revision tag is two objects: the MutatingWebhookConfiguration `istio-revision-tag-<tag>` (its webhooks send pods
labelled `istio.io/rev=<tag>` to `istiod-<revision>`) and the Service `istiod-revision-tag-<tag>`. Whoever applies
them owns them: an istiod Helm release that sets `revisionTags` (Helm's release annotation; under Argo CD the
Application's tracking), or a Git unit (Argo CD Application, Flux Kustomization) whose build contains them. When an
object changes owner between two commits, the two owners reconcile independently: Helm refuses to adopt it
("invalid ownership metadata") or the old owner deletes it before the new one creates it, and pods created in
between get no sidecar. The template therefore gives every tag one owner per cluster that never changes (the
`istio-revision-tags` unit); this module computes the owners so that tests can compare them step by step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from istio_gitops_check.rendered_platform import HelmRelease, RenderedPlatform, application_sources, argocd_applications

TAG_WEBHOOK_PREFIX = "istio-revision-tag-"
TAG_SERVICE_PREFIX = "istiod-revision-tag-"
ISTIO_DEFAULT_TAG = "default"
WEBHOOK = "MutatingWebhookConfiguration"


@dataclass(frozen=True, order=True)
class ObjectKey:
    """How Kubernetes (and Helm's ownership check) identify an object."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"


@dataclass(frozen=True, order=True)
class TagObject:
    """One object of a revision tag: what it is, who applies it, which tag and which revision it points at."""

    key: ObjectKey
    owner: str
    tag: str
    revision: str


def chart_tag_objects(owner: str, namespace: str, values: Mapping) -> list[TagObject]:
    """What the istiod chart (templates/revision-tags-mwc.yaml and revision-tags-svc.yaml, 1.29-1.31) renders for
    `revisionTags`: per tag a webhook (suffixed with the namespace outside istio-system) pointing at
    `istiod-<revision>`, and a Service, subject to `global.resourceScope` and `global.operatorManageWebhooks`."""
    revision = str(values.get("revision", "") or "")
    global_values = values.get("global", {}) or {}
    scope = str(global_values.get("resourceScope", "all"))
    objects = []
    for tag in map(str, values.get("revisionTags", []) or []):
        if scope in ("all", "cluster") and not global_values.get("operatorManageWebhooks"):
            name = f"{TAG_WEBHOOK_PREFIX}{tag}" + ("" if namespace == "istio-system" else f"-{namespace}")
            objects.append(TagObject(ObjectKey(WEBHOOK, "", name), owner, tag, revision))
        if scope in ("all", "namespace"):
            objects.append(TagObject(ObjectKey("Service", namespace, f"{TAG_SERVICE_PREFIX}{tag}"), owner, tag, revision))
    return objects


def _webhook_revision(webhook: Mapping) -> str:
    """The revision a tag webhook sends pods to: its clientConfig service `istiod-<revision>`."""
    revisions = {str(w.get("clientConfig", {}).get("service", {}).get("name", "")).removeprefix("istiod-") for w in webhook.get("webhooks", []) or []}
    return revisions.pop() if len(revisions) == 1 else ""


def manifest_tag_objects(owner: str, objects: Iterable[Mapping]) -> list[TagObject]:
    """The tag objects among the plain manifests a Git unit applies."""
    found = []
    for obj in objects:
        metadata = obj.get("metadata", {}) or {}
        name = str(metadata.get("name", ""))
        kind = obj.get("kind")
        if kind == WEBHOOK and name.startswith(TAG_WEBHOOK_PREFIX):
            tag = str((metadata.get("labels") or {}).get("istio.io/tag", name.removeprefix(TAG_WEBHOOK_PREFIX)))
            found.append(TagObject(ObjectKey(WEBHOOK, "", name), owner, tag, _webhook_revision(obj)))
        elif kind == "Service" and name.startswith(TAG_SERVICE_PREFIX):
            selector = (obj.get("spec", {}) or {}).get("selector", {}) or {}
            found.append(TagObject(ObjectKey("Service", str(metadata.get("namespace", "")), name), owner,
                                   name.removeprefix(TAG_SERVICE_PREFIX), str(selector.get("istio.io/rev", ""))))
    return found


def release_owner(release: HelmRelease) -> str:
    """`Application <name>` (Argo CD renders the chart and tracks its objects) or `HelmRelease <name>` (Flux)."""
    declared = release.declared_in.split(": ", 1)[-1]
    return declared.split(" (", 1)[0]




def git_units(platform: RenderedPlatform) -> dict[str, dict[str, list[dict]]]:
    """Per cluster, each Git unit (`Application <name>` / `Kustomization <name>`) and the objects its paths build."""
    units: dict[str, dict[str, list[dict]]] = {}
    for app in argocd_applications(platform):
        name = app["metadata"]["name"]
        spec = app.get("spec", {})
        cluster = str(spec.get("destination", {}).get("name", ""))
        built = [o for s in application_sources(spec) if "path" in s and "chart" not in s
                 for o in platform.builds.get((platform.root / str(s["path"])).resolve(), [])]
        units.setdefault(cluster, {})[f"Application {name}"] = built
    for directory, objects in platform.builds.items():
        parts = directory.relative_to(platform.root).parts
        if len(parts) != 2 or parts[0] != "clusters" or platform.engine != "flux":
            continue
        for kustomization in objects:
            if kustomization.get("kind") != "Kustomization" or "toolkit.fluxcd.io" not in str(kustomization.get("apiVersion")):
                continue
            path = (platform.root / str(kustomization.get("spec", {}).get("path", ""))).resolve()
            units.setdefault(parts[1], {})[f"Kustomization {kustomization['metadata']['name']}"] = platform.builds.get(path, [])
    return units


def tag_objects(platform: RenderedPlatform) -> dict[str, list[TagObject]]:
    """Per cluster, every tag object and its owner: what istiod releases render from their values and what Git
    units apply."""
    found: dict[str, list[TagObject]] = {}
    for release in platform.helm_releases:
        if release.chart == "istiod":
            found.setdefault(release.cluster, []).extend(chart_tag_objects(release_owner(release), release.namespace, release.values))
    for cluster, units in git_units(platform).items():
        for owner, objects in units.items():
            tags = manifest_tag_objects(owner, objects)
            if tags:
                found.setdefault(cluster, []).extend(tags)
    return {cluster: sorted(set(objects)) for cluster, objects in sorted(found.items())}


def installed_revisions(platform: RenderedPlatform) -> dict[str, set[str]]:
    """Per cluster, the revisions of its istiod releases."""
    revisions: dict[str, set[str]] = {}
    for release in platform.helm_releases:
        if release.chart == "istiod":
            revisions.setdefault(release.cluster, set()).add(str(release.values.get("revision", "") or ""))
    return revisions


def owners(objects: Iterable[TagObject]) -> dict[ObjectKey, set[str]]:
    """Who applies each object."""
    found: dict[ObjectKey, set[str]] = {}
    for obj in objects:
        found.setdefault(obj.key, set()).add(obj.owner)
    return found


def shared_objects(cluster: str, objects: Iterable[TagObject]) -> list[str]:
    """Objects applied by more than one owner: each reconcile of one undoes (or is refused by) the other."""
    return [f"cluster {cluster}: {key} is applied by {', '.join(sorted(applied_by))}"
            for key, applied_by in sorted(owners(objects).items()) if len(applied_by) > 1]


def owner_changes(before: Mapping[str, Iterable[TagObject]], after: Mapping[str, Iterable[TagObject]]) -> list[str]:
    """Objects present before and after a change whose owner differs: the change moves them between releases/units."""
    problems = []
    for cluster in sorted(set(before) & set(after)):
        old, new = owners(before[cluster]), owners(after[cluster])
        for key in sorted(set(old) & set(new)):
            if old[key] != new[key]:
                problems.append(f"cluster {cluster}: {key} moves from {', '.join(sorted(old[key]))} to {', '.join(sorted(new[key]))}")
    return problems


def webhook_gaps(cluster: str, objects: Iterable[TagObject], tags: Iterable[str], revisions: set[str]) -> list[str]:
    """Tags (and `default`) without exactly one webhook that sends pods to an installed revision."""
    webhooks: dict[str, list[TagObject]] = {}
    for obj in objects:
        if obj.key.kind == WEBHOOK:
            webhooks.setdefault(obj.tag, []).append(obj)
    problems = []
    for tag in sorted(set(tags)):
        found = webhooks.get(tag, [])
        if not found:
            problems.append(f"cluster {cluster}: tag {tag!r} has no webhook: pods labelled istio.io/rev={tag} get no sidecar")
        elif len(found) > 1:
            problems.append(f"cluster {cluster}: tag {tag!r} has {len(found)} webhooks ({', '.join(str(o.key) for o in found)})")
        elif found[0].revision not in revisions:
            problems.append(f"cluster {cluster}: tag {tag!r} sends pods to revision {found[0].revision!r}, which is not installed")
    return problems


def tags_in_use(platform: RenderedPlatform) -> set[str]:
    """`default` plus every istio.io/rev label and gateway revision that names no installed revision."""
    revisions = set().union(*installed_revisions(platform).values()) if platform.helm_releases else set()
    used = {ISTIO_DEFAULT_TAG}
    for obj in platform.unique_objects:
        label = ((obj.get("metadata", {}) or {}).get("labels") or {}).get("istio.io/rev")
        if label is not None and obj.get("kind") in ("Namespace", "Deployment", "Pod") and str(label) not in revisions:
            used.add(str(label))
    used |= {str(r.values["revision"]) for r in platform.helm_releases if r.chart == "gateway" and "revision" in r.values} - revisions
    return used


def tag_ownership_problems(platform: RenderedPlatform) -> list[str]:
    """One commit on its own: every tag object has one owner, no istiod release renders tags (they would move with
    the tag), every tag in use has one webhook to an installed revision, and each tag's webhook and Service agree."""
    problems = []
    revisions = installed_revisions(platform)
    in_use = tags_in_use(platform)
    istiod_owners = {release_owner(r) for r in platform.helm_releases if r.chart == "istiod"}
    everything = tag_objects(platform)
    for cluster in sorted(set(everything) | set(revisions)):
        objects = everything.get(cluster, [])
        problems += shared_objects(cluster, objects)
        problems += [f"cluster {cluster}: {o.key} is rendered by {o.owner} (revisionTags): moving tag {o.tag!r} would move it "
                     f"to another release; tags belong to the istio-revision-tags unit"
                     for o in objects if o.owner in istiod_owners and o.key.kind == WEBHOOK]
        if cluster in revisions:
            problems += webhook_gaps(cluster, objects, in_use | {o.tag for o in objects}, revisions[cluster])
        by_tag: dict[str, set[str]] = {}
        for obj in objects:
            by_tag.setdefault(obj.tag, set()).add(obj.revision)
        problems += [f"cluster {cluster}: tag {tag!r}: webhook and Service point at different revisions {sorted(r)}"
                     for tag, r in sorted(by_tag.items()) if len(r) > 1]
    return problems


def default_tag_revision(objects: Iterable[TagObject]) -> str | None:
    """The revision Istio's `default` tag sends pods to (None if there is no default webhook)."""
    return next((o.revision for o in objects if o.key.kind == WEBHOOK and o.tag == ISTIO_DEFAULT_TAG), None)
