"""Remote secrets and istiod's certificates as units of their own (issue 12, item 3), on both engines.

What the engines do with them: Argo CD waits for a wave to be healthy before it syncs the next and does not retry a
failed sync of the same commit; Flux blocks every Kustomization that depends on one that never becomes Ready.
An ExternalSecret is not Ready until its peer's reader account is in the secret store, i.e. until the peer has
joined; a cert-manager or external-secrets object fails its whole unit when the add-on's CRD is missing. So:
remote secrets come after istiod and nothing waits for them, they are pruned (a removed cluster's secret goes),
istiod's certificates come before istiod but never in the unit that installs Istio's CRDs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from istio_gitops_check import guardrails, rendered_platform
from istio_gitops_check.platform_check import check, summary
from tests.conftest import git
from tests.engine_bootstrap import FreshCluster, argocd_bootstrap, flux_bootstrap

THREE = [{"name": "eu-1", "network": "net-eu", "api_server": "https://api.eu-1.example.com:6443"}, {"name": "eu-2", "network": "net-eu", "api_server": "https://api.eu-2.example.com:6443"}, {"name": "us-1", "network": "net-us", "api_server": "https://api.us-1.example.com:6443"}]
ANSWERS = {"clusters": THREE, "gateways_enabled": ["ingress", "egress", "eastwest"]}
FINALIZER = guardrails.ARGOCD_FINALIZER


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


@pytest.fixture(scope="module", params=["argocd", "flux"])
def three(request, render) -> tuple[str, Path]:
    return request.param, render({**ANSWERS, "gitops_engine": request.param})


# -- the units as the engines see them ---------------------------------------------------------------

def _argocd_waves(root: Path, cluster: str) -> dict[str, int]:
    return {app["metadata"]["name"]: int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
            for file in sorted((root / "clusters" / cluster).glob("*.yaml")) if file.name != "kustomization.yaml"
            for app in documents(file)}


def _flux_units(root: Path, cluster: str) -> dict[str, dict]:
    return {k["metadata"]["name"]: k for file in sorted((root / "clusters" / cluster).glob("*.yaml"))
            for k in documents(file) if k.get("kind") == "Kustomization"}


def _flux_waits_for(units: dict[str, dict], name: str) -> set[str]:
    """Every Kustomization `name` waits for, directly or not."""
    found: set[str] = set()
    for dependency in units[name]["spec"].get("dependsOn", []):
        found |= {dependency["name"]} | _flux_waits_for(units, dependency["name"])
    return found


def test_remote_secrets_are_their_own_pruned_unit_that_nothing_waits_for(three) -> None:
    engine, root = three
    for cluster in ("eu-1", "eu-2", "us-1"):
        folder = root / "mesh/clusters" / cluster
        secrets = documents(folder / "remote-secrets/remote-secrets.yaml")
        assert {s["kind"] for s in secrets} == {"ExternalSecret"} and len(secrets) == 2
        assert [s["kind"] for s in documents(folder / "remote-secrets/push-remote-secret.yaml")] == ["Secret", "PushSecret"]
        assert not (folder / "certificates/remote-secrets.yaml").exists()
        assert "certificates" not in (folder / "istio-system/kustomization.yaml").read_text(), "the base unit applies no add-on object"
        if engine == "argocd":
            waves = _argocd_waves(root, cluster)
            remote = waves.pop(f"{cluster}-remote-secrets")
            assert remote > max(waves.values()), "a remote secret that is not Ready would hold back every later wave"
            assert waves[f"{cluster}-mesh-certificates"] < waves[f"{cluster}-istiod-1-31-1"], "istiod needs cacerts"
            app = documents(root / "clusters" / cluster / "remote-secrets.yaml")[0]
            assert app["spec"]["syncPolicy"]["automated"]["prune"] is True and FINALIZER in app["metadata"]["finalizers"]
            assert app["spec"]["project"] == "platform-remote-secrets"
        else:
            units = _flux_units(root, cluster)
            remote = units["remote-secrets"]["spec"]
            assert remote["prune"] is True and remote["wait"] is False
            assert {"istio-base", "istio-cni", "mesh-certificates", "istiod-1-31-1"} <= _flux_waits_for(units, "remote-secrets")
            assert not any("remote-secrets" in _flux_waits_for(units, name) for name in units), "nothing waits for peers"
            assert "mesh-certificates" in _flux_waits_for(units, "istiod-1-31-1")
            assert _flux_waits_for(units, "istio-base") == set() and _flux_waits_for(units, "mesh-certificates") == {"istio-base", "cert-manager"}
            assert "external-secrets" in _flux_waits_for(units, "remote-secrets"), "ExternalSecrets and PushSecrets need its CRDs"


def test_the_remote_secrets_project_allows_only_remote_secret_objects_in_istio_system(render) -> None:
    root = render({**ANSWERS, "gitops_engine": "argocd"})
    project = documents(root / "argocd/project-remote-secrets.yaml")[0]["spec"]
    assert project["clusterResourceWhitelist"] == []
    assert project["namespaceResourceWhitelist"] == [{"group": "external-secrets.io", "kind": "ExternalSecret"},
                                                     {"group": "external-secrets.io", "kind": "PushSecret"},
                                                     {"group": "", "kind": "Secret"}]
    assert {(d["name"], d["namespace"]) for d in project["destinations"]} == {(c["name"], "istio-system") for c in THREE}
    assert project["sourceRepos"] == [documents(root / "argocd/root-applications.yaml")[0]["spec"]["source"]["repoURL"]]
    mesh = documents(root / "argocd/project-mesh.yaml")[0]["spec"]
    assert not any(k["group"] == "external-secrets.io" for k in mesh["namespaceResourceWhitelist"])


def test_one_cluster_has_no_remote_secrets_unit(render) -> None:
    for engine in ("argocd", "flux"):
        root = render({"gitops_engine": engine})
        assert not (root / "mesh/clusters/cluster-1/remote-secrets").exists()
        assert not (root / "argocd/project-remote-secrets.yaml").exists()
        assert "remote-secrets" not in "".join(p.read_text() for p in (root / "clusters/cluster-1").glob("*.yaml"))


# -- the checker catches each way back to the blocking layout ------------------------------------------

Breakage = Callable[[Path], None]
ISTIO_SYSTEM = "mesh/clusters/eu-1/istio-system/kustomization.yaml"
FLUX_BASE = "flux/clusters/eu-1/istio-base/kustomization.yaml"
BREAKS: dict[str, tuple[str, str, Breakage, str]] = {
    # name: (engine, guardrail, breakage, expected problem)
    "argocd remote secrets before istiod": (
        "argocd", "Argo CD sync order",
        lambda r: replace(r / "clusters/eu-1/remote-secrets.yaml", 'sync-wave: "9"', 'sync-wave: "1"'),
        "(wave 7) must sync before remote-secrets (wave 1)"),
    "argocd remote secrets in the middle": (
        "argocd", "Argo CD sync order",
        lambda r: replace(r / "clusters/eu-1/remote-secrets.yaml", 'sync-wave: "9"', 'sync-wave: "3"'),
        "must sync before remote-secrets (wave 3)"),
    "argocd remote secrets not pruned": (
        "argocd", "Argo CD sync order",
        lambda r: replace(r / "clusters/eu-1/remote-secrets.yaml", "prune: true", "prune: false"),
        "Application eu-1-remote-secrets applies remote secrets without prune"),
    "argocd certificates with istiod": (
        "argocd", "Argo CD sync order",
        lambda r: replace(r / "clusters/eu-1/mesh-certificates.yaml", 'sync-wave: "1"', 'sync-wave: "3"'),
        "mesh-certificates (wave 3) must sync before istiod (wave 3), which needs cacerts"),
    "argocd certificates in the base unit": (
        "argocd", "Argo CD sync order",
        lambda r: replace(r / ISTIO_SYSTEM, "resources:\n", "resources:\n  - ../certificates\n"),
        "Application eu-1-istio-base installs Istio's CRDs and also objects of add-on CRDs (cert-manager.io)"),
    "argocd remote secrets in the base unit": (
        "argocd", "Argo CD sync order",
        lambda r: replace(r / ISTIO_SYSTEM, "resources:\n", "resources:\n  - ../remote-secrets\n"),
        "Application eu-1-istio-base installs Istio's CRDs and also objects of add-on CRDs (external-secrets.io)"),
    "flux remote secrets wait": (
        "flux", "Flux Kustomizations well formed",
        lambda r: replace(r / "clusters/eu-1/istio-control-plane.yaml", "  wait: false\n", "  wait: true\n"),
        "Kustomization flux-system/remote-secrets: applies remote secrets (ExternalSecrets) with wait on"),
    "flux remote secrets not pruned": (
        "flux", "Flux Kustomizations well formed",
        lambda r: replace(r / "clusters/eu-1/istio-control-plane.yaml", "  prune: true\n  wait: false\n", "  prune: false\n  wait: false\n"),
        "Kustomization flux-system/remote-secrets: prune is off"),
    "flux certificates in the base unit": (
        "flux", "Flux Kustomizations well formed",
        lambda r: replace(r / FLUX_BASE, "resources:\n", "resources:\n  - ../../../../mesh/clusters/eu-1/certificates\n"),
        "Kustomization flux-system/istio-base: installs Istio's CRDs and also objects of add-on CRDs (cert-manager.io)"),
    "flux remote secrets before istiod": (
        "flux", "Flux install order",
        lambda r: replace(r / "clusters/eu-1/istio-control-plane.yaml",
                          "    - name: istiod-1-31-1\n    - name: external-secrets\n  interval: 10m\n",
                          "    - name: mesh-certificates\n    - name: external-secrets\n  interval: 10m\n"),
        "Kustomization remote-secrets must depend on istio-cni, istiod-1-31-1"),
    "flux istiod without its certificates": (
        "flux", "Flux install order",
        lambda r: replace(r / "clusters/eu-1/istio-control-plane.yaml", "    - name: mesh-certificates\n", ""),
        "Kustomization istiod-1-31-1 must depend on mesh-certificates"),
}


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_checker_catches(name: str, render, editable_copy) -> None:
    engine, rule, breakage, expected = BREAKS[name]
    pristine = rendered_platform.load(render({**ANSWERS, "gitops_engine": engine}))
    assert guardrails.GUARDRAILS[rule](pristine) == []
    root = editable_copy(render({**ANSWERS, "gitops_engine": engine}))
    breakage(root)
    found = guardrails.GUARDRAILS[rule](rendered_platform.load(root))
    assert any(expected in problem for problem in found), found


def test_istio_csr_keeps_the_certificates_unit_before_istiod(render) -> None:
    """istio-csr renders no Certificate, only the issuer policy: the unit is still the certificates step."""
    for engine in ("argocd", "flux"):
        report = check(render({"gitops_engine": engine, "ca_mode": "istio-csr"}))
        assert report.ok, summary(report)


# -- Argo CD parents delete their children ----------------------------------------------------------

def test_every_cluster_unit_is_deleted_with_its_cluster(render) -> None:
    """Pruning `<platform>-<cluster>` (the cluster left the repo) deletes every child Application of that cluster,
    and each child deletes what it installed: every one carries the resources finalizer."""
    root = render({**ANSWERS, "gitops_engine": "argocd"})
    roots = [a for a in documents(root / "argocd/root-applications.yaml") if a["spec"]["source"]["path"].startswith("clusters/")]
    assert roots and all(FINALIZER in a["metadata"].get("finalizers", []) for a in roots)
    for cluster in ("eu-1", "eu-2", "us-1"):
        children = [a for f in (root / "clusters" / cluster).glob("*.yaml") if f.name != "kustomization.yaml" for a in documents(f)]
        assert children and all(FINALIZER in a["metadata"].get("finalizers", []) for a in children), [
            a["metadata"]["name"] for a in children if FINALIZER not in a["metadata"].get("finalizers", [])]


def test_a_child_without_the_finalizer_is_caught(render, editable_copy) -> None:
    root = editable_copy(render({**ANSWERS, "gitops_engine": "argocd"}))
    replace(root / "clusters/eu-2/istio-cni.yaml", "  finalizers:\n    - resources-finalizer.argocd.argoproj.io\n", "")
    found = guardrails.argocd_parents_delete_their_children(rendered_platform.load(root))
    assert found == ["clusters/eu-2/istio-cni.yaml: Application eu-2-istio-cni is rendered by platform-eu-2 but lacks the "
                     "resources-finalizer.argocd.argoproj.io finalizer: deleting its parent would orphan what it installed"], found


# -- a fresh bootstrap, as the engines order it (tests/engine_bootstrap.py) ------------------------------------
FRESH = FreshCluster(lacking=frozenset())
# cert-manager run by another team and not there: its groups are never served.
NO_CERT_MANAGER = FreshCluster(lacking=frozenset({"cert-manager.io"}))


def test_a_fresh_bootstrap_installs_istiod_before_any_peer_exists(three) -> None:
    engine, root = three
    platform = rendered_platform.load(root)
    if engine == "argocd":
        healthy = argocd_bootstrap(platform, "platform-eu-1", "eu-1", FRESH)
        everything = {a["metadata"]["name"].removeprefix("eu-1-") for a in guardrails._argocd_children(
            platform, next(a for a in platform.unique_objects if a["metadata"]["name"] == "platform-eu-1"))}
        assert healthy == everything - {"remote-secrets"}
    else:
        ready = flux_bootstrap(platform, "eu-1", FRESH)
        assert "istiod-1-31-1" in ready and "tenants" in ready and "remote-secrets" in ready  # applied; wait: false


def test_a_missing_add_on_never_stops_istios_crds(three) -> None:
    engine, root = three
    platform = rendered_platform.load(root)
    if engine == "argocd":
        healthy = argocd_bootstrap(platform, "platform-eu-1", "eu-1", NO_CERT_MANAGER)
        assert {"istio-base", "istio-cni"} <= healthy and "istiod-1-31-1" not in healthy  # istiod needs cacerts
    else:
        ready = flux_bootstrap(platform, "eu-1", NO_CERT_MANAGER)
        assert {"istio-base", "istio-cni"} <= ready and "istiod-1-31-1" not in ready


def test_the_model_shows_the_old_layout_blocking(render, editable_copy) -> None:
    """The layout before issue 12: certificates and remote secrets inside the base chart's unit."""
    root = editable_copy(render({**ANSWERS, "gitops_engine": "argocd"}))
    replace(root / ISTIO_SYSTEM, "resources:\n", "resources:\n  - ../certificates\n  - ../remote-secrets\n")
    platform = rendered_platform.load(root)
    assert "istiod-1-31-1" not in argocd_bootstrap(platform, "platform-eu-1", "eu-1", FRESH), "a peer not joined blocks istiod"
    assert "istio-base" not in argocd_bootstrap(platform, "platform-eu-1", "eu-1", NO_CERT_MANAGER), "no cert-manager: no CRDs"


# -- the move, through a real copier update from the last release -----------------------------------------

from tests.test_releases import RELEASED, UPDATE_DATA, generated_at, release_template, rendered  # noqa: E402,F401 (fixtures)
from tests.test_releases import update as update_to_working_tree  # noqa: E402


@pytest.mark.slow
def test_edited_remote_secrets_move_into_their_unit_on_update(rendered, tmp_path: Path) -> None:
    """A platform generated at the last release, its remote secrets edited by hand: after the update the edit is in
    mesh/clusters/<cluster>/remote-secrets/remote-secrets.yaml (moved by the 0.4.0 path rule, merged 3-way)."""
    project = generated_at(rendered, str(RELEASED[-1].version), "two-networks", tmp_path / "platform")
    old = project / "mesh/clusters/east-1/certificates/remote-secrets.yaml"
    old.write_text(old.read_text().replace("refreshInterval: 1h", "refreshInterval: 15m"))
    git(project, "commit", "-qam", "refresh remote secrets more often")

    assert update_to_working_tree(project, data=UPDATE_DATA["two-networks"]) is False, "no conflict"

    moved = project / "mesh/clusters/east-1/remote-secrets/remote-secrets.yaml"
    assert not old.exists() and "refreshInterval: 15m" in moved.read_text()
    assert "remote-secrets" not in (project / "mesh/clusters/east-1/certificates/kustomization.yaml").read_text()
    report = check(project)
    assert report.ok, summary(report)
