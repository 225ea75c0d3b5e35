"""The Istio canary upgrade as a sequence of answer changes, run for real with copier.

Each step is `copier update --vcs-ref=:current: --data ...` (docs/upgrade-istio.md). After every
step the repo is complete and valid, the revision invariants hold on the rendered output, the
diff touches only what the step should, and the user's edits to revision values survive. Between
steps, no revision tag object (webhook, Service) changes owner, and every tag and `default` has a
webhook to an installed revision on every cluster (revision_tag_ownership.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from copier import run_update
from copier._types import VcsRef

from tests.conftest import copy_platform, git, init_repo
from istio_gitops_check import guardrails, rendered_platform, revision_tag_ownership
from istio_gitops_check.platform_check import check, summary

OLD, NEW = "1.30.4", "1.31.1"
CLUSTERS = [{"name": "eu-1", "network": "net-eu", "api_server": "https://api.eu-1.example.com:6443"}, {"name": "us-1", "network": "net-us", "api_server": "https://api.us-1.example.com:6443"}]
START = {
    "istio_versions": [OLD],
    "istio_revision_tags": [{"name": "prod-stable", "version": OLD}],
    "clusters": CLUSTERS,
    "gateways_enabled": ["ingress", "egress", "eastwest"],
}
STEPS = [
    (
        "add canary",
        {"istio_versions": [OLD, NEW], "istio_revision_tags": [{"name": "prod-stable", "version": OLD}, {"name": "prod-canary", "version": NEW}]},
    ),
    ("promote", {"istio_revision_tags": [{"name": "prod-stable", "version": NEW}, {"name": "prod-canary", "version": NEW}]}),
    ("remove old", {"istio_versions": [NEW]}),
]
OLD_VALUES = "mesh/revisions/1-30-4/istiod.values.yaml"
NEW_VALUES = "mesh/revisions/1-31-1/istiod.values.yaml"
TAGS = "mesh/revision-tags/revision-tags.yaml"
ARGO_EXPECTED = {
    "add canary": {
        "added": {NEW_VALUES},
        # the one owner of every tag gains prod-canary; base and the CNI node agent follow the newest version
        "modified": {TAGS}
        | {f"clusters/{c}/{f}" for c in ("eu-1", "us-1") for f in ("istiod.yaml", "istio-base.yaml", "istio-cni.yaml")},
        "deleted": set(),
    },
    "promote": {
        "added": set(),
        # tags move in place: the revisions' values files do not change
        "modified": {TAGS, "mesh/istio-base.values.yaml", "clusters/eu-1/gateways.yaml", "clusters/us-1/gateways.yaml"},
        "deleted": set(),
    },
    "remove old": {"added": set(), "modified": {"clusters/eu-1/istiod.yaml", "clusters/us-1/istiod.yaml"}, "deleted": {OLD_VALUES}},
}
FLUX_EXPECTED = {
    "add canary": {
        "added": {NEW_VALUES, "flux/releases/istiod-1-31-1/helm-release.yaml", "flux/releases/istiod-1-31-1/kustomization.yaml"}
        | {f"flux/clusters/{c}/istiod-1-31-1/kustomization.yaml" for c in ("eu-1", "us-1")},
        "modified": {TAGS, "flux/releases/istio-base/helm-release.yaml", "flux/releases/istio-cni/helm-release.yaml"}
        | {f"clusters/{c}/{f}" for c in ("eu-1", "us-1") for f in ("istio-control-plane.yaml", "gateways.yaml", "mesh-config.yaml")},
        "deleted": set(),
    },
    "promote": {
        "added": set(),
        "modified": {TAGS, "mesh/istio-base.values.yaml"}
        | {f"flux/releases/gateway-{role}/helm-release.yaml" for role in ("ingress", "egress", "eastwest")},
        "deleted": set(),
    },
    "remove old": {
        "added": set(),
        "modified": {f"clusters/{c}/{f}" for c in ("eu-1", "us-1") for f in ("istio-control-plane.yaml", "gateways.yaml", "mesh-config.yaml")},
        "deleted": {OLD_VALUES, "flux/releases/istiod-1-30-4/helm-release.yaml", "flux/releases/istiod-1-30-4/kustomization.yaml"}
        | {f"flux/clusters/{c}/istiod-1-30-4/kustomization.yaml" for c in ("eu-1", "us-1")},
    },
}
RUNBOOKS = {f"docs/{page}.md" for page in ("bootstrap", "certificates", "clusters", "onboard-team", "upgrade-istio", "verify")}
ALWAYS_CHANGED = {".copier-answers.yml", "README.md"} | RUNBOOKS  # the runbooks name the revisions and tags
POLICY = "mesh/base/guardrails/namespace-revision-policy.yaml"
for expected in (ARGO_EXPECTED, FLUX_EXPECTED):
    for step in ("add canary", "remove old"):
        expected[step]["modified"].add(POLICY)
    # CI's istioctl follows the newest installed version (template/_partials/ci.jinja).
    expected["add canary"]["modified"].add(".github/workflows/platform-check.yml")


def changes(project: Path) -> dict[str, set[str]]:
    status = git(project, "status", "--porcelain", "--untracked-files=all").splitlines()
    found = {"added": set(), "modified": set(), "deleted": set()}
    for line in status:
        code, path = line[:2], line[3:]
        key = "added" if code == "??" else "deleted" if "D" in code else "modified"
        found[key].add(path)
    found["modified"] -= ALWAYS_CHANGED
    return found


def revision_invariants(project: Path) -> dict[str, object]:
    """What the rendered repo says about revisions, per cluster, plus guardrail verdicts."""
    platform = rendered_platform.load(project)
    for name in ("istiod sets root namespace and mesh identity", "revision tags consistent", "revision labels resolve"):
        assert guardrails.GUARDRAILS[name](platform) == [], name
    istiods = sorted({(r.cluster, r.values["revision"], tuple(r.values.get("revisionTags", []))) for r in platform.helm_releases if r.chart == "istiod"})
    base = {r.values["defaultRevision"] for r in platform.helm_releases if r.chart == "base"}
    gateways = {(r.version, r.values["revision"]) for r in platform.helm_releases if r.chart == "gateway"}
    tag_objects = revision_tag_ownership.tag_objects(platform)
    pointers = {(cluster, o.tag, o.revision) for cluster, objects in tag_objects.items() for o in objects}
    owners = {o.owner for objects in tag_objects.values() for o in objects}
    return {"istiods": istiods, "defaultRevision": base, "gateways": gateways, "tags": pointers, "tag owners": owners,
            "tag objects": tag_objects, "revisions": revision_tag_ownership.installed_revisions(platform)}


def tag_pointers(tags: dict[str, str]) -> set[tuple[str, str, str]]:
    """(cluster, tag, revision) for every cluster: the answers' tags plus Istio's `default` (= prod-stable)."""
    tags = {**tags, "default": tags["prod-stable"]}
    return {(c["name"], tag, version.replace(".", "-")) for c in CLUSTERS for tag, version in tags.items()}


def tag_continuity(before: dict, after: dict, answers: dict) -> list[str]:
    """Nothing changes owner between two steps; every tag of the answers and `default` has its webhook after it."""
    tags = {t["name"] for t in answers["istio_revision_tags"]} | {"default"}
    problems = revision_tag_ownership.owner_changes(before["tag objects"], after["tag objects"])
    for cluster, objects in after["tag objects"].items():
        problems += revision_tag_ownership.webhook_gaps(cluster, objects, tags, after["revisions"].get(cluster, set()))
    return problems


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_canary_upgrade_sequence(template_snapshot: Path, tmp_path: Path, engine: str) -> None:
    project = copy_platform(template_snapshot, tmp_path / "platform", {**START, "gitops_engine": engine})
    init_repo(project, "install Istio 1.30.4")
    old_values = project / OLD_VALUES
    old_values.write_text(old_values.read_text().replace("autoscaleMax: 5", "autoscaleMax: 7"))
    git(project, "commit", "-qam", "tune the stable control plane")
    state = revision_invariants(project)
    assert state["istiods"] == [(c["name"], "1-30-4", ()) for c in CLUSTERS], "istiod releases render no tag"
    assert state["tags"] == tag_pointers({"prod-stable": OLD})
    owner = "Application {}-istio-revision-tags" if engine == "argocd" else "Kustomization istio-revision-tags"
    assert state["tag owners"] == {owner.format(c["name"]) for c in CLUSTERS}
    answers = dict(START)

    expected = ARGO_EXPECTED if engine == "argocd" else FLUX_EXPECTED
    for step, step_answers in STEPS:
        run_update(project, data=step_answers, defaults=True, overwrite=True, unsafe=True, quiet=True, vcs_ref=VcsRef.CURRENT)
        assert changes(project) == expected[step], step
        report = check(project)
        assert report.ok, f"{step}:\n{summary(report)}"
        previous, state = state, revision_invariants(project)
        answers = {**answers, **step_answers}
        assert tag_continuity(previous, state, answers) == [], step
        assert state["tag owners"] == previous["tag owners"], f"{step}: the tags' one owner per cluster stays"
        if step == "add canary":
            assert state["istiods"] == sorted([(c["name"], r, ()) for c in CLUSTERS for r in ("1-30-4", "1-31-1")])
            assert state["tags"] == tag_pointers({"prod-stable": OLD, "prod-canary": NEW})
            assert state["defaultRevision"] == {"1-30-4"}
            assert state["gateways"] == {(OLD, "prod-stable")}
            new_values = project / NEW_VALUES
            new_values.write_text(new_values.read_text().replace("cpu: 500m", "cpu: 750m"))
        if step == "promote":
            assert state["istiods"] == sorted([(c["name"], r, ()) for c in CLUSTERS for r in ("1-30-4", "1-31-1")])
            assert state["tags"] == tag_pointers({"prod-stable": NEW, "prod-canary": NEW})
            assert state["defaultRevision"] == {"1-31-1"}
            assert state["gateways"] == {(NEW, "prod-stable")}, "gateways follow the tag to the new chart"
            assert "autoscaleMax: 7" in old_values.read_text(), "edit to the old revision survives"
            assert "cpu: 750m" in (project / NEW_VALUES).read_text(), "edit to the canary survives"
        if step == "remove old":
            assert state["istiods"] == [(c["name"], "1-31-1", ()) for c in CLUSTERS]
            assert state["tags"] == tag_pointers({"prod-stable": NEW, "prod-canary": NEW})
            assert not (project / "mesh/revisions/1-30-4").exists()
            assert "cpu: 750m" in (project / NEW_VALUES).read_text()
        git(project, "add", "-A")
        git(project, "commit", "-qm", step)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["istio_versions"] == [NEW]


def test_invariant_guardrails_catch_disagreements(render, editable_copy) -> None:
    two = {"istio_versions": [OLD, NEW], "istio_revision_tags": [{"name": "prod-stable", "version": OLD}, {"name": "prod-canary", "version": NEW}]}
    root = editable_copy(render(two))
    new_values = root / NEW_VALUES
    # the old design: the canary's istiod release renders prod-stable's webhook and Service itself
    new_values.write_text(new_values.read_text().replace("revision: 1-31-1\n", "revision: 1-31-1\nrevisionTags:\n  - prod-stable\n"))
    (root / "mesh/istio-base.values.yaml").write_text((root / "mesh/istio-base.values.yaml").read_text().replace("defaultRevision: 1-30-4", "defaultRevision: 1-31-1"))
    namespace = root / "apps/base/example/namespace/namespace.yaml"
    namespace.write_text(namespace.read_text().replace("istio.io/rev: prod-stable", "istio.io/rev: prod-next"))
    gateway = root / "gateways/revisions/prod-stable/ingress.values.yaml"
    gateway.write_text(gateway.read_text().replace("revision: prod-stable", "revision: prod-old"))
    platform = rendered_platform.load(root)
    tags = "\n".join(guardrails.revision_tags_consistent(platform))
    labels = "\n".join(guardrails.revision_labels_resolve(platform))
    assert ("MutatingWebhookConfiguration istio-revision-tag-prod-stable is applied by Application cluster-1-istio-revision-tags, "
            "Application cluster-1-istiod-1-31-1") in tags
    assert "is rendered by Application cluster-1-istiod-1-31-1 (revisionTags)" in tags
    assert "tag 'prod-stable' has 2 webhooks" in tags
    assert "base defaultRevision '1-31-1' but the default tag points at '1-30-4'" in tags
    assert "istio.io/rev=prod-next is no installed revision or tag" in labels
    assert "gateway revision 'prod-old' is no revision or tag" in labels


def test_pods_in_tagged_namespaces_are_modelled_as_injected(render, editable_copy) -> None:
    """The admission model injects the sidecar into pods of namespaces labelled with a tag, which it learns from
    the tags unit's webhooks now that no istiod release lists its tags."""
    root = editable_copy(render({}))
    values = next((root / "mesh/revisions").glob("*/istiod.values.yaml"))
    values.write_text(values.read_text().replace("cni:\n  enabled: true", "cni:\n  enabled: false"))
    workloads = root / "apps/base/example/workloads"
    (workloads / "deployment.yaml").write_text(yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "example"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                     "containers": [{"name": "web", "image": "nginx:1.27", "securityContext": {
                         "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True}}]}}}}))
    kustomization = workloads / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("resources:\n", "resources:\n  - deployment.yaml\n"))
    problems = guardrails.admission_problems(rendered_platform.load(root))
    assert any("Deployment example/web" in p and "'istio-init' adds capabilities" in p for p in problems), problems


def test_a_cluster_without_the_tags_unit_has_tags_without_webhooks(render, editable_copy) -> None:
    root = editable_copy(render({}))
    entry = root / "clusters/cluster-1/kustomization.yaml"
    entry.write_text(entry.read_text().replace("  - istio-revision-tags.yaml\n", ""))
    tags = "\n".join(guardrails.revision_tags_consistent(rendered_platform.load(root)))
    assert "cluster cluster-1: tag 'default' has no webhook" in tags
    assert "cluster cluster-1: tag 'prod-stable' has no webhook" in tags


def test_tag_manifests_are_validated_strictly(render, editable_copy) -> None:
    """The tags unit's webhooks and Services go through the same strict schemas as every applied object."""
    root = editable_copy(render({}))
    tags = root / TAGS
    tags.write_text(tags.read_text().replace("failurePolicy: Fail", "failurePolicy: [Fail]", 1).replace("port: 15014", "port: http", 1))
    problems = [line for line in summary(check(root)).splitlines() if "mesh/revision-tags/revision-tags.yaml: strict schemas" in line]
    assert any("MutatingWebhookConfiguration istio-revision-tag-default" in p and "failurePolicy" in p for p in problems), problems
    assert any("Service istio-system/istiod-revision-tag-default" in p and "'http' is not of type 'integer'" in p for p in problems), problems
