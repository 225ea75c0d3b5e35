"""Gateway canaries (answer `gateway_upgrade: canary`), run for real with copier on both engines.

The steps are the control plane's (docs/upgrade-istio.md, "Gateway canary"): add the new version (its gateway
releases start with one replica next to the old ones), promote (the tag gateways follow moves, so the new
revision's gateways autoscale and the old ones drop to one replica: traffic moves with the replicas), remove
the old version. After each step: the gateway files that change are exactly the expected ones, the platform
check passes, and, modelled from the gateway chart's templates (istio_gitops_check/gateway_fronts.py), each
gateway Service has the same single owner as at the start and selects the pods of every installed revision.
In-place mode renders what the template rendered before canaries existed.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from copier import run_update
from copier._types import VcsRef

from istio_gitops_check import gateway_fronts, rendered_platform
from istio_gitops_check.platform_check import check, summary
from tests.conftest import REPO, copy_platform, git, init_repo

OLD, NEW = "1.30.4", "1.31.1"
OLD_REV, NEW_REV = "1-30-4", "1-31-1"
CLUSTERS = [{"name": "eu-1", "network": "net-eu", "api_server": "https://api.eu-1.example.com:6443"}, {"name": "us-1", "network": "net-us", "api_server": "https://api.us-1.example.com:6443"}]
ROLES = ("ingress", "egress", "eastwest")
NAMESPACES = {"ingress": "istio-ingress", "egress": "istio-egress", "eastwest": "istio-eastwest"}
START = {
    "istio_versions": [OLD],
    "istio_revision_tags": [{"name": "prod-stable", "version": OLD}],
    "clusters": CLUSTERS,
    "gateways_enabled": list(ROLES),
    "gateway_upgrade": "canary",
}
STEPS = [
    (
        "add canary",
        {"istio_versions": [OLD, NEW], "istio_revision_tags": [{"name": "prod-stable", "version": OLD}, {"name": "prod-canary", "version": NEW}]},
    ),
    ("promote", {"istio_revision_tags": [{"name": "prod-stable", "version": NEW}, {"name": "prod-canary", "version": NEW}]}),
    ("remove old", {"istio_versions": [NEW]}),
]
# Per step: the revisions whose gateways run (each behind the one Service) and the one that autoscales.
RUNNING = {"start": {OLD_REV}, "add canary": {OLD_REV, NEW_REV}, "promote": {OLD_REV, NEW_REV}, "remove old": {NEW_REV}}
PRIMARY = {"start": OLD_REV, "add canary": OLD_REV, "promote": NEW_REV, "remove old": NEW_REV}
# The paths gateway canaries render; the rest of each step's diff is the control plane's (test_canary_upgrade.py).
GATEWAY_PATHS = re.compile(r"^(gateways/|flux/releases/gateway-|flux/clusters/[^/]+/istio-(ingress|egress|eastwest)/|clusters/[^/]+/gateways\.yaml$|CODEOWNERS$)")
# The commit before gateway canaries: in-place output must stay what it was.
BEFORE_CANARIES = "54b571830445e245685eccc785cd8e54c172a2d7"


def revision_values(revision: str) -> set[str]:
    return {f"gateways/revisions/{revision}/{role}.values.yaml" for role in ROLES}


def per_cluster(pattern: str) -> set[str]:
    return {pattern.format(cluster=c["name"]) for c in CLUSTERS}


FLUX_WIRING = {f"flux/clusters/{c['name']}/{NAMESPACES[role]}/kustomization.yaml" for c in CLUSTERS for role in ROLES} | {
    f"flux/releases/gateway-{role}/helm-release.yaml" for role in ROLES
}
EXPECTED = {
    "argocd": {
        # The new revision's chart sources join each gateway Application.
        "add canary": {"added": revision_values(NEW_REV), "modified": per_cluster("clusters/{cluster}/gateways.yaml"), "deleted": set()},
        # Only replicas move: the releases, their charts and the Service stay.
        "promote": {"added": set(), "modified": revision_values(OLD_REV) | revision_values(NEW_REV), "deleted": set()},
        "remove old": {"added": set(), "modified": per_cluster("clusters/{cluster}/gateways.yaml"), "deleted": revision_values(OLD_REV)},
    },
    "flux": {
        # New HelmReleases and their values ConfigMaps; clusters/<c>/gateways.yaml because the gateway units
        # depend on every istiod (the control plane's change).
        "add canary": {"added": revision_values(NEW_REV), "modified": FLUX_WIRING | per_cluster("clusters/{cluster}/gateways.yaml"),
                       "deleted": set()},
        "promote": {"added": set(), "modified": revision_values(OLD_REV) | revision_values(NEW_REV), "deleted": set()},
        "remove old": {"added": set(), "modified": FLUX_WIRING | per_cluster("clusters/{cluster}/gateways.yaml"),
                       "deleted": revision_values(OLD_REV)},
    },
}
SERVICE_OWNERS = {
    "argocd": {(c["name"], NAMESPACES[r], f"istio-{r}gateway"): f"Application {c['name']}-{NAMESPACES[r]}" for c in CLUSTERS for r in ROLES},
    "flux": {(c["name"], NAMESPACES[r], f"istio-{r}gateway"): f"Kustomization flux-system/{NAMESPACES[r]}" for c in CLUSTERS for r in ROLES},
}


def gateway_changes(project: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"added": set(), "modified": set(), "deleted": set()}
    for line in git(project, "status", "--porcelain", "--untracked-files=all").splitlines():
        code, path = line[:2], line[3:]
        if GATEWAY_PATHS.match(path):
            found["added" if code == "??" else "deleted" if "D" in code else "modified"].add(path)
    return found


def gateway_state(project: Path) -> dict[str, object]:
    """Per Service: owner and the revisions whose pods it selects; per revision: the chart and how it scales."""
    platform = rendered_platform.load(project)
    assert gateway_fronts.gateway_fronts_problems(platform) == []
    pods = gateway_fronts.gateway_pods(platform)
    services = gateway_fronts.gateway_services(platform)
    releases = [r for r in platform.helm_releases if r.chart == "gateway"]
    return {
        "owners": {(s.cluster, s.namespace, s.name): s.owner for s in services},
        "selected": {(s.cluster, s.namespace, s.name): frozenset(p.revision for p in gateway_fronts.selected_releases(s, pods)) for s in services},
        "charts": {(r.values["revision"], r.version) for r in releases},
        "autoscaled": {r.values["revision"] for r in releases if r.values["autoscaling"]["enabled"]},
        "fixed replicas": {(r.values["revision"], r.values.get("replicaCount")) for r in releases if not r.values["autoscaling"]["enabled"]},
        "service types": {r.values["service"]["type"] for r in releases},
    }


def assert_state(state: dict[str, object], engine: str, step: str) -> None:
    assert state["owners"] == SERVICE_OWNERS[engine], f"{step}: one owner per Service, the same at every step"
    assert set(state["selected"].values()) == {frozenset(RUNNING[step])}, f"{step}: each Service selects every running revision"
    assert state["charts"] == {(rev, version) for rev, version in ((OLD_REV, OLD), (NEW_REV, NEW)) if rev in RUNNING[step]}
    assert state["autoscaled"] == {PRIMARY[step]}
    assert state["fixed replicas"] == {(rev, 1) for rev in RUNNING[step] - {PRIMARY[step]}}
    assert state["service types"] == {"None"}, "no release renders a Service of its own"


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_gateway_canary_sequence(template_snapshot: Path, tmp_path: Path, engine: str) -> None:
    project = copy_platform(template_snapshot, tmp_path / "platform", {**START, "gitops_engine": engine})
    init_repo(project, "install Istio 1.30.4 with canary gateways")
    assert_state(gateway_state(project), engine, "start")
    assert "/gateways/services/ @example-org/platform-admins" in (project / "CODEOWNERS").read_text()

    for step, answers in STEPS:
        run_update(project, data=answers, defaults=True, overwrite=True, unsafe=True, quiet=True, vcs_ref=VcsRef.CURRENT)
        assert gateway_changes(project) == EXPECTED[engine][step], step
        report = check(project)
        assert report.ok, f"{step}:\n{summary(report)}"
        assert_state(gateway_state(project), engine, step)
        if step == "add canary":
            tuned = project / f"gateways/revisions/{NEW_REV}/ingress.values.yaml"
            tuned.write_text(tuned.read_text().replace("cpu: 100m", "cpu: 300m"))
        if step == "promote":
            assert "cpu: 300m" in (project / f"gateways/revisions/{NEW_REV}/ingress.values.yaml").read_text(), "edit survives the shift"
            for role in ROLES:  # the docs' advice before removing the old version: no traffic to it any more
                drained = project / f"gateways/revisions/{OLD_REV}/{role}.values.yaml"
                drained.write_text(drained.read_text().replace("replicaCount: 1", "replicaCount: 0"))
            assert check(project).ok, "a revision scaled to zero is valid"
        git(project, "add", "-A")
        git(project, "commit", "-qm", step)
    assert "cpu: 300m" in (project / f"gateways/revisions/{NEW_REV}/ingress.values.yaml").read_text()
    assert not (project / f"gateways/revisions/{OLD_REV}").exists()


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_the_model_catches_a_second_owner_overlapping_gateways_and_a_service_selecting_nothing(render, editable_copy, engine: str) -> None:
    two = {**START, "gitops_engine": engine, "istio_versions": [OLD, NEW],
           "istio_revision_tags": [{"name": "prod-stable", "version": OLD}, {"name": "prod-canary", "version": NEW}]}
    root = editable_copy(render(two))
    ingress = root / f"gateways/revisions/{OLD_REV}/ingress.values.yaml"
    ingress.write_text(ingress.read_text().replace(f"name: istio-ingressgateway-{OLD_REV}", "name: istio-ingressgateway")
                       .replace("type: None", "type: LoadBalancer"))
    egress = root / f"gateways/revisions/{OLD_REV}/egress.values.yaml"
    egress.write_text(egress.read_text().replace("  istio: egressgateway\n", f"  istio: egressgateway\n  app: istio-egressgateway-{NEW_REV}\n"))
    services = root / "gateways/services/us-1/istio-eastwest/services.yaml"
    services.write_text(services.read_text().replace("  selector:\n    istio: eastwestgateway", "  selector:\n    istio: eastwest"))
    problems = gateway_fronts.gateway_fronts_problems(rendered_platform.load(root))
    chart_owner = "Application eu-1-istio-ingress" if engine == "argocd" else f"Helm release istio-ingress/istio-ingressgateway-{OLD_REV}"
    unit = "Application eu-1-istio-ingress" if engine == "argocd" else "Kustomization flux-system/istio-ingress"
    assert any(p.endswith(f"cluster eu-1: Service istio-ingress/istio-ingressgateway is rendered more than once: {chart_owner} (chart "
                          f"release istio-ingressgateway-{OLD_REV}); {unit} (gateways/services/eu-1/istio-ingress/services.yaml)")
               for p in problems), problems
    assert any(p.endswith(f"cluster eu-1: gateway istio-egress/istio-egressgateway-{OLD_REV} selects the pods of "
                          f"istio-egressgateway-{NEW_REV} too (overlapping Deployment selectors)") for p in problems), problems
    assert any(p.startswith("gateways/services/us-1/istio-eastwest/services.yaml: cluster us-1: Service istio-eastwest/istio-eastwestgateway ")
               and "selects {'istio': 'eastwest'}, which no gateway release's pods carry" in p for p in problems), problems


def gateway_files(root: Path) -> dict[str, object]:
    """What in-place gateways render: their files, and the gateway Applications' sources (Argo CD)."""
    files = {
        path.relative_to(root).as_posix(): path.read_text()
        for path in sorted(root.rglob("*"))
        if path.is_file() and GATEWAY_PATHS.match(path.relative_to(root).as_posix())
        and not re.match(r"^(clusters/[^/]+/gateways\.yaml|gateways/clusters/[^/]+/eastwest\.values\.yaml|CODEOWNERS)$",
                         path.relative_to(root).as_posix())
    }
    files["CODEOWNERS gateway lines"] = [line for line in (root / "CODEOWNERS").read_text().splitlines() if "/gateways/" in line]
    files["gateway Application sources"] = {
        app["metadata"]["name"]: app["spec"].get("sources")
        for file in sorted(root.glob("clusters/*/gateways.yaml"))
        for app in yaml.safe_load_all(file.read_text())
        if app and app.get("kind") == "Application"
    }
    return files


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_in_place_renders_what_it_rendered_before_canaries(template_snapshot: Path, tmp_path: Path, engine: str) -> None:
    answers = {**START, "istio_versions": [OLD, NEW], "gitops_engine": engine,
               "istio_revision_tags": [{"name": "prod-stable", "version": OLD}, {"name": "prod-canary", "version": NEW}]}
    del answers["gateway_upgrade"]
    before = tmp_path / "template-before"
    git(tmp_path, "clone", "-q", str(REPO), str(before))
    # That release had no api_server field (several clusters need it since 0.4.0).
    old_clusters = [{k: v for k, v in c.items() if k != "api_server"} for c in answers["clusters"]]
    old = copy_platform(before, tmp_path / "before", {**answers, "clusters": old_clusters}, vcs_ref=BEFORE_CANARIES)
    now = copy_platform(template_snapshot, tmp_path / "now", {**answers, "gateway_upgrade": "in-place"})
    assert gateway_files(now) == gateway_files(old)
    assert not (now / "gateways/services").exists()


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_switching_to_canary_moves_each_service_once_as_documented(render, tmp_path: Path, engine: str) -> None:
    """docs/upgrade-istio.md, "Switching an existing platform to canary": the update leaves a valid repo; on
    Argo CD the Service stays with its Application, on Flux it moves from the Helm release to the gateway unit
    (so the uninstall of the old release deletes it once), and edits to the tag's values folder are not carried."""
    project = tmp_path / "platform"
    shutil.copytree(render({**START, "gitops_engine": engine, "gateway_upgrade": "in-place"}), project)
    init_repo(project, "in-place gateways")
    before = gateway_fronts.gateway_services(rendered_platform.load(project))
    run_update(project, data={"gateway_upgrade": "canary"}, defaults=True, overwrite=True, unsafe=True, quiet=True, vcs_ref=VcsRef.CURRENT)
    report = check(project)
    assert report.ok, summary(report)
    after = gateway_fronts.gateway_services(rendered_platform.load(project))
    owners_before = {(s.cluster, s.namespace, s.name): s.owner for s in before}
    owners_after = {(s.cluster, s.namespace, s.name): s.owner for s in after}
    assert set(owners_before) == set(owners_after), "the same Services, by name"
    assert owners_after == SERVICE_OWNERS[engine]
    moved = {key for key in owners_after if owners_before[key] != owners_after[key]}
    assert moved == (set() if engine == "argocd" else set(owners_after))
    assert not (project / "gateways/revisions/prod-stable").exists()
