"""The tag ownership model on hand-made steps: the old design (tags in the istiod releases) moves objects between
owners and leaves a window without a webhook; one tags unit changes them in place."""

from __future__ import annotations

from istio_gitops_check.revision_tag_ownership import (
    ObjectKey,
    chart_tag_objects,
    manifest_tag_objects,
    owner_changes,
    shared_objects,
    webhook_gaps,
)

REVISIONS = {"1-30-4", "1-31-1"}


def istiod(revision: str, tags: list[str], namespace: str = "istio-system") -> list:
    return chart_tag_objects(f"HelmRelease istiod-{revision}", namespace, {"revision": revision, "revisionTags": tags})


def tags_unit(pointers: dict[str, str]) -> list:
    """What the istio-revision-tags unit applies: per tag a webhook to istiod-<revision> and a Service."""
    manifests = []
    for tag, revision in pointers.items():
        webhook = {"clientConfig": {"service": {"name": f"istiod-{revision}", "namespace": "istio-system", "path": "/inject"}}}
        manifests.append({"kind": "MutatingWebhookConfiguration", "metadata": {"name": f"istio-revision-tag-{tag}", "labels": {"istio.io/tag": tag}},
                          "webhooks": [{"name": "rev.namespace.sidecar-injector.istio.io", **webhook}]})
        manifests.append({"kind": "Service", "metadata": {"name": f"istiod-revision-tag-{tag}", "namespace": "istio-system"},
                          "spec": {"selector": {"app": "istiod", "istio.io/rev": revision}}})
    return manifest_tag_objects("Kustomization istio-revision-tags", manifests)


def test_chart_renders_webhook_and_service_per_tag() -> None:
    objects = istiod("1-30-4", ["prod-stable", "default"])
    assert {o.key for o in objects} == {
        ObjectKey("MutatingWebhookConfiguration", "", "istio-revision-tag-prod-stable"),
        ObjectKey("MutatingWebhookConfiguration", "", "istio-revision-tag-default"),
        ObjectKey("Service", "istio-system", "istiod-revision-tag-prod-stable"),
        ObjectKey("Service", "istio-system", "istiod-revision-tag-default"),
    }
    assert {o.revision for o in objects} == {"1-30-4"}
    outside = chart_tag_objects("HelmRelease x", "istio-canary", {"revision": "1-31-1", "revisionTags": ["a"], "global": {"resourceScope": "cluster"}})
    assert [o.key.name for o in outside] == ["istio-revision-tag-a-istio-canary"], "namespaced suffix; Service out of scope"


def test_promoting_a_tag_between_istiod_releases_moves_objects() -> None:
    before = {"eu-1": istiod("1-30-4", ["prod-stable", "default"]) + istiod("1-31-1", ["prod-canary"])}
    after = {"eu-1": istiod("1-30-4", []) + istiod("1-31-1", ["prod-canary", "prod-stable", "default"])}
    moves = owner_changes(before, after)
    assert "cluster eu-1: MutatingWebhookConfiguration istio-revision-tag-prod-stable moves from HelmRelease istiod-1-30-4 to HelmRelease istiod-1-31-1" in moves
    assert len(moves) == 4, "prod-stable and default: webhook and Service each"
    # The releases reconcile independently: the old one upgraded first deletes the tags before the new one has them.
    between = istiod("1-30-4", []) + istiod("1-31-1", ["prod-canary"])
    gaps = webhook_gaps("eu-1", between, {"prod-stable", "prod-canary", "default"}, REVISIONS)
    assert gaps == [
        "cluster eu-1: tag 'default' has no webhook: pods labelled istio.io/rev=default get no sidecar",
        "cluster eu-1: tag 'prod-stable' has no webhook: pods labelled istio.io/rev=prod-stable get no sidecar",
    ]
    # ... or the new one upgraded first finds them owned by the other release (Helm refuses to adopt them).
    assert shared_objects("eu-1", istiod("1-30-4", ["prod-stable"]) + istiod("1-31-1", ["prod-stable"])) == [
        "cluster eu-1: MutatingWebhookConfiguration istio-revision-tag-prod-stable is applied by HelmRelease istiod-1-30-4, HelmRelease istiod-1-31-1",
        "cluster eu-1: Service istio-system/istiod-revision-tag-prod-stable is applied by HelmRelease istiod-1-30-4, HelmRelease istiod-1-31-1",
    ]


def test_one_tags_unit_changes_tags_in_place() -> None:
    before = {"eu-1": tags_unit({"prod-stable": "1-30-4", "default": "1-30-4", "prod-canary": "1-31-1"})}
    after = {"eu-1": tags_unit({"prod-stable": "1-31-1", "default": "1-31-1", "prod-canary": "1-31-1"})}
    assert owner_changes(before, after) == []
    assert webhook_gaps("eu-1", after["eu-1"], {"prod-stable", "prod-canary", "default"}, REVISIONS) == []
    assert {(o.tag, o.revision) for o in after["eu-1"]} == {("prod-stable", "1-31-1"), ("default", "1-31-1"), ("prod-canary", "1-31-1")}


def test_webhook_to_a_removed_revision_is_a_gap() -> None:
    objects = tags_unit({"prod-stable": "1-30-4"})
    assert webhook_gaps("eu-1", objects, {"prod-stable"}, {"1-31-1"}) == [
        "cluster eu-1: tag 'prod-stable' sends pods to revision '1-30-4', which is not installed"
    ]
