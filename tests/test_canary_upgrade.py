"""The Istio canary upgrade as a sequence of answer changes, run for real with copier.

Each step is `copier update --vcs-ref=:current: --data ...` (docs/upgrade-istio.md). After every
step the repo is complete and valid, the revision invariants hold on the rendered output, the
diff touches only what the step should, and the user's edits to revision values survive.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from copier import run_update
from copier._types import VcsRef

from tests.conftest import copy_platform, git, init_repo
from istio_gitops_check import guardrails, rendered_platform
from istio_gitops_check.platform_check import check, summary

OLD, NEW = "1.30.4", "1.31.1"
CLUSTERS = [{"name": "eu-1", "network": "net-eu"}, {"name": "us-1", "network": "net-us"}]
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
ARGO_EXPECTED = {
    "add canary": {
        "added": {NEW_VALUES},
        # base and the CNI node agent follow the newest installed version
        "modified": {f"clusters/{c}/{f}" for c in ("eu-1", "us-1") for f in ("istiod.yaml", "istio-base.yaml", "istio-cni.yaml")},
        "deleted": set(),
    },
    "promote": {
        "added": set(),
        "modified": {OLD_VALUES, NEW_VALUES, "mesh/istio-base.values.yaml", "clusters/eu-1/gateways.yaml", "clusters/us-1/gateways.yaml"},
        "deleted": set(),
    },
    "remove old": {"added": set(), "modified": {"clusters/eu-1/istiod.yaml", "clusters/us-1/istiod.yaml"}, "deleted": {OLD_VALUES}},
}
FLUX_EXPECTED = {
    "add canary": {
        "added": {NEW_VALUES, "flux/releases/istiod-1-31-1/helm-release.yaml", "flux/releases/istiod-1-31-1/kustomization.yaml"}
        | {f"flux/clusters/{c}/istiod-1-31-1/kustomization.yaml" for c in ("eu-1", "us-1")},
        "modified": {"flux/releases/istio-base/helm-release.yaml", "flux/releases/istio-cni/helm-release.yaml"}
        | {f"clusters/{c}/{f}" for c in ("eu-1", "us-1") for f in ("istio-control-plane.yaml", "gateways.yaml", "mesh-config.yaml")},
        "deleted": set(),
    },
    "promote": {
        "added": set(),
        "modified": {OLD_VALUES, NEW_VALUES, "mesh/istio-base.values.yaml"}
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
ALWAYS_CHANGED = {".copier-answers.yml", "README.md"}
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
    return {"istiods": istiods, "defaultRevision": base, "gateways": gateways}


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_canary_upgrade_sequence(template_snapshot: Path, tmp_path: Path, engine: str) -> None:
    project = copy_platform(template_snapshot, tmp_path / "platform", {**START, "gitops_engine": engine})
    init_repo(project, "install Istio 1.30.4")
    old_values = project / OLD_VALUES
    old_values.write_text(old_values.read_text().replace("autoscaleMax: 5", "autoscaleMax: 7"))
    git(project, "commit", "-qam", "tune the stable control plane")
    assert revision_invariants(project)["istiods"] == [(c["name"], "1-30-4", ("prod-stable", "default")) for c in CLUSTERS]

    expected = ARGO_EXPECTED if engine == "argocd" else FLUX_EXPECTED
    for step, answers in STEPS:
        run_update(project, data=answers, defaults=True, overwrite=True, unsafe=True, quiet=True, vcs_ref=VcsRef.CURRENT)
        assert changes(project) == expected[step], step
        report = check(project)
        assert report.ok, f"{step}:\n{summary(report)}"
        state = revision_invariants(project)
        if step == "add canary":
            assert state["istiods"] == sorted(
                [(c["name"], "1-30-4", ("prod-stable", "default")) for c in CLUSTERS] + [(c["name"], "1-31-1", ("prod-canary",)) for c in CLUSTERS]
            )
            assert state["defaultRevision"] == {"1-30-4"}
            assert state["gateways"] == {(OLD, "prod-stable")}
            new_values = project / NEW_VALUES
            new_values.write_text(new_values.read_text().replace("cpu: 500m", "cpu: 750m"))
        if step == "promote":
            assert state["istiods"] == sorted(
                [(c["name"], "1-30-4", ()) for c in CLUSTERS] + [(c["name"], "1-31-1", ("prod-canary", "prod-stable", "default")) for c in CLUSTERS]
            )
            assert state["defaultRevision"] == {"1-31-1"}
            assert state["gateways"] == {(NEW, "prod-stable")}, "gateways follow the tag to the new chart"
            assert "autoscaleMax: 7" in old_values.read_text(), "edit to the old revision survives"
            assert "cpu: 750m" in (project / NEW_VALUES).read_text(), "edit to the canary survives"
        if step == "remove old":
            assert state["istiods"] == [(c["name"], "1-31-1", ("prod-canary", "prod-stable", "default")) for c in CLUSTERS]
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
    new_values.write_text(new_values.read_text().replace("  - prod-canary\n", "  - prod-canary\n  - prod-stable\n"))
    (root / "mesh/istio-base.values.yaml").write_text((root / "mesh/istio-base.values.yaml").read_text().replace("defaultRevision: 1-30-4", "defaultRevision: 1-31-1"))
    namespace = root / "apps/base/example/namespace/namespace.yaml"
    namespace.write_text(namespace.read_text().replace("istio.io/rev: prod-stable", "istio.io/rev: prod-next"))
    gateway = root / "gateways/revisions/prod-stable/ingress.values.yaml"
    gateway.write_text(gateway.read_text().replace("revision: prod-stable", "revision: prod-old"))
    platform = rendered_platform.load(root)
    tags = "\n".join(guardrails.revision_tags_consistent(platform))
    labels = "\n".join(guardrails.revision_labels_resolve(platform))
    assert "tag 'prod-stable' is owned by several revisions: 1-30-4, 1-31-1" in tags
    assert "base defaultRevision '1-31-1' but the default tag is owned by '1-30-4'" in tags
    assert "istio.io/rev=prod-next is no installed revision or tag" in labels
    assert "gateway revision 'prod-old' is no revision or tag" in labels
