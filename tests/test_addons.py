"""The add-ons istiod's certificates and the remote secrets stand on, as Git-managed Helm releases (issue 13).

What the engines do with them: Argo CD syncs one parent's waves in order and stops at one that is not healthy; Flux
holds a Kustomization until everything it depends on is Ready. A cert-manager Certificate without cert-manager, an
AWSPCAClusterIssuer without aws-privateca-issuer, istiod without istio-csr (in that mode) or an ExternalSecret
without external-secrets never becomes Ready. So each add-on comes before its first user, on every CA mode and both
engines; an add-on another team runs is not installed and nothing waits for it; and each comes from its own
upstream chart repository at a pinned version, with values the chart actually reads.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from istio_gitops_check import guardrails, rendered_platform
from istio_gitops_check.addon_charts import pin_problem
from istio_gitops_check.platform_check import check
from tests.engine_bootstrap import FreshCluster, argocd_bootstrap, flux_bootstrap

FIXTURES = Path(__file__).parent / "fixtures"
TWO_NETWORKS = {
    "clusters": [{"name": "a", "network": "n1", "api_server": "https://api.a.example.com:6443"},
                 {"name": "b", "network": "n2", "api_server": "https://api.b.example.com:6443"}],
    "gateways_enabled": ["ingress", "egress", "eastwest"],
    "mesh_root_ca_pem": (FIXTURES / "mesh-root-ca.pem").read_text(),
}
CA_MODES = ("cert-manager-issuer", "aws-pca", "vault", "istio-csr")
EXPECTED = {
    "cert-manager-issuer": ["cert-manager", "external-secrets"],
    "vault": ["cert-manager", "external-secrets"],
    "aws-pca": ["cert-manager", "external-secrets", "aws-privateca-issuer"],
    "istio-csr": ["cert-manager", "external-secrets", "cert-manager-istio-csr"],
}
# The design's dependsOn of the units that use an add-on, per CA mode (add-ons absent from a mode drop out).
FLUX_DEPENDS_ON = {
    "cert-manager": [],
    "external-secrets": [],
    "aws-privateca-issuer": ["cert-manager"],
    "cert-manager-istio-csr": ["cert-manager", "mesh-certificates"],
    "mesh-certificates": ["istio-base", "cert-manager", "aws-privateca-issuer"],
    "istiod-1-31-1": ["istio-base", "istio-cni", "mesh-certificates", "cert-manager-istio-csr"],
    "remote-secrets": ["istiod-1-31-1", "external-secrets"],
}
ARGOCD_WAVES = {"cert-manager": -3, "external-secrets": -3, "aws-privateca-issuer": -2, "mesh-certificates": 1,
                "cert-manager-istio-csr": 2, "istiod-1-31-1": 3, "remote-secrets": 9}
UNITS_AND_ADDONS = set(FLUX_DEPENDS_ON)


def answers(ca_mode: str, engine: str, **more) -> dict:
    return {**TWO_NETWORKS, "ca_mode": ca_mode, "gitops_engine": engine, **more}


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def replace(path: Path, old: str, new: str, count: int = -1) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count))


def argocd_waves(root: Path, cluster: str) -> dict[str, int]:
    """Application name without the cluster prefix -> its sync wave, for the cluster's parent."""
    return {app["metadata"]["name"].removeprefix(f"{cluster}-"): int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
            for file in sorted((root / "clusters" / cluster).glob("*.yaml")) if file.name != "kustomization.yaml"
            for app in documents(file)}


def flux_depends_on(root: Path, cluster: str) -> dict[str, list[str]]:
    return {k["metadata"]["name"]: [d["name"] for d in k["spec"].get("dependsOn", [])]
            for file in sorted((root / "clusters" / cluster).glob("*.yaml"))
            for k in documents(file) if k.get("kind") == "Kustomization" and k["metadata"]["name"] != "flux-system"}


def installed_addons(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "addons" / "base").iterdir()) if (root / "addons" / "base").is_dir() else []


@pytest.mark.parametrize("engine", ["argocd", "flux"])
@pytest.mark.parametrize("ca_mode", CA_MODES)
def test_each_ca_mode_installs_its_addons_before_their_users(ca_mode: str, engine: str, render) -> None:
    root = render(answers(ca_mode, engine))
    expected = EXPECTED[ca_mode]
    assert installed_addons(root) == sorted(expected)
    assert sorted(p.name.removesuffix(".values.yaml") for p in (root / "addons").glob("*.values.yaml")) == sorted(expected)
    for cluster in ("a", "b"):
        if engine == "argocd":
            waves = argocd_waves(root, cluster)
            assert sorted(n for n in waves if n in EXPECTED["aws-pca"] + EXPECTED["istio-csr"]) == sorted(expected)
            assert {n: w for n, w in waves.items() if n in ARGOCD_WAVES} == {n: w for n, w in ARGOCD_WAVES.items() if n in waves}
        else:
            units = flux_depends_on(root, cluster)
            present = set(units)
            assert sorted(present & set(EXPECTED["aws-pca"] + EXPECTED["istio-csr"])) == sorted(expected)
            for unit, needs in ((u, n) for u, n in FLUX_DEPENDS_ON.items() if u in present):
                assert sorted(units[unit]) == sorted(n for n in needs if n in present), unit
            assert all(set(needs) <= present for needs in units.values()), "a dependsOn names a Kustomization that does not exist"
    platform = rendered_platform.load(root)
    order = guardrails.argocd_sync_order if engine == "argocd" else guardrails.flux_install_order
    assert order(platform) == []
    assert guardrails.charts_from_istio_release_repository(platform) == []
    releases = {(r.cluster, r.chart, r.release_name, r.namespace) for r in platform.helm_releases if r.chart in expected}
    assert releases == {(c, a, a, "cert-manager" if a.startswith("cert-manager") else a) for c in ("a", "b") for a in expected}


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_addons_another_team_runs_are_absent_and_nothing_waits_for_them(engine: str, render) -> None:
    root = render(answers("istio-csr", engine, addons_installed_elsewhere=["cert-manager", "external-secrets"]))
    assert installed_addons(root) == ["cert-manager-istio-csr"]
    namespace = documents(root / "addons/base/cert-manager-istio-csr/namespace.yaml")[0]
    assert namespace["metadata"]["name"] == "cert-manager", "istio-csr creates cert-manager's namespace when it runs alone"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    text = "\n".join(p.read_text() for p in (root / "clusters").rglob("*.yaml"))
    if engine == "argocd":
        assert "name: a-cert-manager\n" not in text and "a-external-secrets" not in text
        assert "https://charts.external-secrets.io" not in (root / "argocd/project-addons.yaml").read_text()
    else:
        units = flux_depends_on(root, "a")
        assert "cert-manager" not in units and "external-secrets" not in units
        assert units["cert-manager-istio-csr"] == ["mesh-certificates"]
        assert sorted(units["remote-secrets"]) == ["istiod-1-31-1"]
        assert all(set(needs) <= set(units) for needs in units.values()), units
        assert "jetstack-charts" in (root / "flux/clusters/a/cert-manager-istio-csr/kustomization.yaml").read_text()
        assert not (root / "flux/releases/external-secrets-charts").exists()
    # The answers file records the root CA certificate, which is another rule's matter.
    assert [p for p in check(root).problems if not p.startswith(".copier-answers.yml")] == []


def test_one_addon_repository_is_declared_once_per_cluster(render) -> None:
    root = render(answers("istio-csr", "flux"))
    platform = rendered_platform.load(root)
    flux_dir = root / "flux/clusters/a"
    holders = [d.name for d in flux_dir.iterdir() if "jetstack-charts" in (d / "kustomization.yaml").read_text()]
    assert holders == ["cert-manager"], "the later jetstack add-on depends on the one that brings the HelmRepository"
    assert guardrails.flux_helm_releases_remediate(platform) == []


def _first_wave(path: Path, old: str, new: str) -> None:
    replace(path, old, new, 1)


Breakage = Callable[[Path], None]
BREAKS: dict[str, tuple[str, str, str, Breakage, str]] = {
    # name: (ca_mode, engine, guardrail, breakage, expected problem)
    "argocd cert-manager after the certificates": (
        "aws-pca", "argocd", "Argo CD sync order",
        lambda r: _first_wave(r / "clusters/a/addons.yaml", 'sync-wave: "-3"', 'sync-wave: "1"'),
        "cluster a: cert-manager (wave 1) must sync before mesh-certificates (wave 1)"),
    "argocd aws-privateca-issuer after the certificates": (
        "aws-pca", "argocd", "Argo CD sync order",
        lambda r: replace(r / "clusters/a/addons.yaml", 'sync-wave: "-2"', 'sync-wave: "2"'),
        "aws-privateca-issuer (wave 2) must sync before mesh-certificates (wave 1)"),
    "argocd istio-csr after istiod": (
        "istio-csr", "argocd", "Argo CD sync order",
        lambda r: replace(r / "clusters/a/addons.yaml", 'sync-wave: "2"', 'sync-wave: "4"'),
        "cert-manager-istio-csr (wave 4) must sync before istiod (wave 3)"),
    "argocd istio-csr with the certificates": (
        "istio-csr", "argocd", "Argo CD sync order",
        lambda r: replace(r / "clusters/a/addons.yaml", 'sync-wave: "2"', 'sync-wave: "1"'),
        "mesh-certificates (wave 1) must sync before cert-manager-istio-csr (wave 1)"),
    "argocd external-secrets after remote secrets": (
        "vault", "argocd", "Argo CD sync order",
        lambda r: replace(r / "clusters/a/addons.yaml", 'sync-wave: "-3"', 'sync-wave: "10"'),
        "external-secrets (wave 10) must sync before remote-secrets (wave 9)"),
    "flux certificates before cert-manager": (
        "cert-manager-issuer", "flux", "Flux install order",
        lambda r: replace(r / "clusters/a/istio-control-plane.yaml", "    - name: istio-base\n    - name: cert-manager\n", "    - name: istio-base\n"),
        "Kustomization mesh-certificates must depend on cert-manager"),
    "flux certificates before aws-privateca-issuer": (
        "aws-pca", "flux", "Flux install order",
        lambda r: replace(r / "clusters/a/istio-control-plane.yaml", "    - name: aws-privateca-issuer\n", ""),
        "Kustomization mesh-certificates must depend on aws-privateca-issuer"),
    "flux istiod before istio-csr": (
        "istio-csr", "flux", "Flux install order",
        lambda r: replace(r / "clusters/a/istio-control-plane.yaml", "    - name: cert-manager-istio-csr\n", ""),
        "Kustomization istiod-1-31-1 must depend on cert-manager-istio-csr"),
    "flux istio-csr before the certificates": (
        "istio-csr", "flux", "Flux install order",
        lambda r: replace(r / "clusters/a/addons.yaml", "    - name: mesh-certificates\n", ""),
        "Kustomization cert-manager-istio-csr must depend on mesh-certificates"),
    "flux remote secrets before external-secrets": (
        "vault", "flux", "Flux install order",
        lambda r: replace(r / "clusters/a/istio-control-plane.yaml", "    - name: external-secrets\n", ""),
        "Kustomization remote-secrets must depend on external-secrets"),
    "argocd add-on namespace below restricted": (
        "vault", "argocd", "Pod Security enforced",
        lambda r: replace(r / "addons/base/external-secrets/namespace.yaml", "enforce: restricted", "enforce: baseline"),
        "Namespace external-secrets: Pod Security baseline; the platform's own namespaces enforce restricted"),
    "argocd add-on namespace outside the project's names": (
        "vault", "argocd", "Argo CD projects confine applications",
        lambda r: replace(r / "argocd/project-addons.yaml", "      name: external-secrets\n", "      name: other\n"),
        "Application a-external-secrets: project platform-addons allows Namespace only under other names than 'external-secrets'"),
    "argocd add-on chart from an unknown repository": (
        "aws-pca", "argocd", "charts pinned",
        lambda r: replace(r / "clusters/a/addons.yaml", "repoURL: https://cert-manager.github.io/aws-privateca-issuer",
                          "repoURL: https://charts.example.com"),
        "chart aws-privateca-issuer comes from https://charts.example.com, not from its upstream repository"),
    "argocd add-on chart not pinned": (
        "vault", "argocd", "charts pinned",
        lambda r: replace(r / "clusters/a/addons.yaml", "targetRevision: v1.21.1", "targetRevision: v1.21.*"),
        "chart cert-manager version 'v1.21.*' is not an exact release"),
    "argocd unknown chart": (
        "vault", "argocd", "charts pinned",
        lambda r: replace(r / "clusters/a/addons.yaml", "chart: external-secrets", "chart: secrets-operator"),
        "chart 'secrets-operator' from https://charts.external-secrets.io is neither an Istio chart nor a known add-on"),
    "flux add-on chart not pinned": (
        "istio-csr", "flux", "charts pinned",
        lambda r: replace(r / "flux/releases/cert-manager-istio-csr/helm-release.yaml", "version: v0.17.0", "version: '>=0.17.0'"),
        "chart cert-manager-istio-csr version '>=0.17.0' is not an exact release"),
    "flux add-on chart from an unknown repository": (
        "istio-csr", "flux", "Flux HelmReleases remediate",
        lambda r: replace(r / "flux/releases/jetstack-charts/helm-repository.yaml", "url: https://charts.jetstack.io", "url: https://charts.example.com"),
        "HelmRelease cert-manager: chart source must be the HelmRepository for https://charts.jetstack.io"),
    "flux unknown chart": (
        "aws-pca", "flux", "Flux HelmReleases remediate",
        lambda r: replace(r / "flux/releases/aws-privateca-issuer/helm-release.yaml", "chart: aws-privateca-issuer", "chart: pca-issuer"),
        "chart 'pca-issuer' is neither an Istio chart nor a known add-on"),
}


@pytest.mark.parametrize("name", sorted(BREAKS))
def test_addon_guardrails_catch_their_bad_case(name: str, render, editable_copy) -> None:
    ca_mode, engine, guardrail, breakage, expected = BREAKS[name]
    root = editable_copy(render(answers(ca_mode, engine)))
    breakage(root)
    found = guardrails.GUARDRAILS[guardrail](rendered_platform.load(root))
    assert any(expected in p for p in found), found


@pytest.mark.parametrize(("engine", "values_file", "old", "new", "expected"), [
    ("argocd", "addons/cert-manager.values.yaml", "  keep: true", "  kep: true", "crds.kep: unknown key (not in cert-manager chart v1.21.1)"),
    ("flux", "addons/external-secrets.values.yaml", "leaderElect: true", "leaderElection: true",
     "leaderElection: unknown key (not in external-secrets chart 2.9.0)"),
])
def test_unknown_addon_values_key_fails_the_check(engine, values_file, old, new, expected, render, editable_copy) -> None:
    root = editable_copy(render(answers("vault", engine)))
    replace(root / values_file, old, new)
    problems = check(root).values_problems
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(("chart", "repository", "version", "expected"), [
    ("cert-manager", "https://charts.jetstack.io", "v1.21.1", ""),
    ("external-secrets", "https://charts.external-secrets.io/", "2.9.0", ""),
    ("istiod", "https://blob.istio.io/istio-release/charts", "1.31.1", ""),
    ("istiod", "https://blob.istio.io/istio-release/charts", "v1.31.1", "is not an exact release"),
    ("cert-manager", "https://charts.jetstack.io", "1.21", "is not an exact release"),
    ("cert-manager", "https://blob.istio.io/istio-release/charts", "v1.21.1", "not from its upstream repository"),
    ("trust-manager", "https://charts.jetstack.io", "v0.20.0", "neither an Istio chart nor a known add-on"),
])
def test_pin_problem(chart: str, repository: str, version: str, expected: str) -> None:
    problem = pin_problem(chart, repository, version)
    assert (expected in problem) if expected else problem == ""


def test_both_engines_give_each_addon_release_the_same_values(render) -> None:
    """Argo CD's valueFiles and Flux's configMapGenerator read the same files, in the same order."""
    releases = {}
    for engine in ("argocd", "flux"):
        platform = rendered_platform.load(render(answers("istio-csr", engine)))
        releases[engine] = {(r.cluster, r.release_name): [v for _, v in r.value_sources] for r in platform.helm_releases
                            if r.chart in EXPECTED["istio-csr"]}
    assert releases["argocd"] == releases["flux"]
    assert len(releases["flux"][("a", "cert-manager-istio-csr")]) == 2, "mesh-wide, then the cluster's istio-csr values"
    assert releases["flux"][("a", "cert-manager")][0]["global"]["leaderElection"]["namespace"] == "cert-manager"


@pytest.mark.parametrize("ca_mode", ["aws-pca", "istio-csr"])
def test_addons_project_reaches_only_the_addon_namespaces(ca_mode: str, render) -> None:
    project = documents(render(answers(ca_mode, "argocd")) / "argocd/project-addons.yaml")[0]["spec"]
    namespaces = {"cert-manager", "external-secrets"} | ({"aws-privateca-issuer"} if ca_mode == "aws-pca" else {"istio-system"})
    assert {d["namespace"] for d in project["destinations"]} == namespaces, "istio-system only for istio-csr's istiod Certificate"
    assert {(d["name"], d["namespace"]) for d in project["destinations"]} == {(c, n) for c in ("a", "b") for n in namespaces}
    named = {(e["kind"], e["name"]) for e in project["clusterResourceWhitelist"] if "name" in e}
    assert {n for k, n in named if k == "Namespace"} == namespaces - {"istio-system"}
    assert all(e.get("name") for e in project["clusterResourceWhitelist"]), "every cluster-scoped kind only under the charts' names"
    assert ("ClusterRoleBinding", "cert-manager*") in named and ("ValidatingWebhookConfiguration", "cert-manager-webhook") in named
    assert ("ClusterRole", "aws-privateca-issuer*") in named if ca_mode == "aws-pca" else ("ClusterRole", "aws-privateca-issuer*") not in named
    assert not any("*" in (e["group"], e["kind"]) for e in project["clusterResourceWhitelist"] + project["namespaceResourceWhitelist"])
    assert ("Certificate" in {e["kind"] for e in project["namespaceResourceWhitelist"]}) == (ca_mode == "istio-csr")


def test_cluster_admins_own_the_addons(render) -> None:
    root = render(answers("aws-pca", "flux"))
    lines = (root / "CODEOWNERS").read_text().splitlines()
    settings = yaml.safe_load((root / ".copier-answers.yml").read_text())
    assert f"/addons/ @{settings['codeowners_org']}/{settings['cluster_admin_group']}" in lines
    assert not any(line.startswith("/addons/") and settings["cluster_admin_group"] not in line for line in lines)


# -- a fresh cluster, nothing installed but the engine (tests/engine_bootstrap.py) ---------------------------------
# Only the add-ons' API groups are modelled (Istio's come with the base chart in the first wave); each add-on's unit,
# once healthy, serves its chart's groups, and istio-csr the CA server istiod calls in that mode.

PROVIDES = {"cert-manager": frozenset({"cert-manager.io", "acme.cert-manager.io"}), "aws-privateca-issuer": frozenset({"awspca.cert-manager.io"}),
            "external-secrets": frozenset({"external-secrets.io"}), "cert-manager-istio-csr": frozenset({"istio-csr"})}


def fresh_cluster(ca_mode: str) -> FreshCluster:
    return FreshCluster(lacking=frozenset().union(*PROVIDES.values()), provides=PROVIDES,
                        istiod_needs=frozenset({"istio-csr"}) if ca_mode == "istio-csr" else frozenset())


@pytest.mark.parametrize("engine", ["argocd", "flux"])
@pytest.mark.parametrize("ca_mode", CA_MODES)
def test_a_fresh_cluster_installs_everything_in_one_pass(ca_mode: str, engine: str, render) -> None:
    platform = rendered_platform.load(render(answers(ca_mode, engine)))
    if engine == "argocd":
        healthy = argocd_bootstrap(platform, "platform-a", "a", fresh_cluster(ca_mode))
        assert {"mesh-certificates", "istiod-1-31-1", "teams", *EXPECTED[ca_mode]} <= healthy, healthy
    else:
        ready = flux_bootstrap(platform, "a", fresh_cluster(ca_mode))
        assert {"mesh-certificates", "istiod-1-31-1", "tenants", "remote-secrets", *EXPECTED[ca_mode]} <= ready, ready


def test_an_addon_moved_after_its_user_stops_the_bootstrap(render, editable_copy) -> None:
    """What the guardrail prevents: cert-manager in the certificates' wave leaves them without their CRDs."""
    root = editable_copy(render(answers("aws-pca", "argocd")))
    replace(root / "clusters/a/addons.yaml", 'sync-wave: "-3"', 'sync-wave: "1"', 1)
    healthy = argocd_bootstrap(rendered_platform.load(root), "platform-a", "a", fresh_cluster("aws-pca"))
    assert "mesh-certificates" not in healthy and "istiod-1-31-1" not in healthy


@pytest.mark.parametrize("engine", ["argocd", "flux"])
def test_readme_lists_the_addons_in_the_install_order(engine: str, render) -> None:
    readme = (render(answers("istio-csr", engine)) / "README.md").read_text()
    assert "| `cert-manager-istio-csr` | `cert-manager-istio-csr` | v0.17.0 | https://charts.jetstack.io | `cert-manager` |" in readme
    if engine == "argocd":
        assert "cert-manager (-3), external-secrets (-3), Istio" in readme and "istio-csr (2)" in readme
        assert "istiod revisions (3)" in readme and "remote secrets (9" in readme
    else:
        assert ("| `cert-manager-istio-csr` | `flux/clusters/<cluster>/cert-manager-istio-csr` | cert-manager, mesh-certificates |"
                in readme)
        assert "| istio-base, istio-cni, mesh-certificates, cert-manager-istio-csr |" in readme
        assert "| all istiod revisions, external-secrets |" in readme
