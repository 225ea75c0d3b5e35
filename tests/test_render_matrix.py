"""Render answer combinations with copier and prove every output valid: all kustomizations
build, every object passes strict schema validation, values match the chart models, yamllint
is clean and every guardrail holds."""

from __future__ import annotations

import pytest
import yaml

from istio_gitops_check import kustomize_render, rendered_platform, repository_checks
from istio_gitops_check.platform_check import check, summary

THREE_CLUSTERS = [
    {"name": "prod-eu-1", "network": "net-eu", "api_server": "https://api.prod-eu-1.example.com:6443", "labels": {"region": "eu-west-1", "environment": "production"}},
    {"name": "prod-eu-2", "network": "net-eu", "api_server": "https://api.prod-eu-2.example.com:6443", "labels": {"region": "eu-west-2", "environment": "production"},
     "platform": "gke"},
    {"name": "prod-us-1", "network": "net-us", "api_server": "https://api.prod-us-1.example.com:6443", "labels": {"region": "us-east-1", "environment": "production"},
     "platform": "openshift"},
]

# The largest answer sets the validators accept: three installed versions (the most, spanning two minors) with
# four revision tags of 63 characters, five clusters with 40-character names on three networks with 63-character
# names, every gateway.
LONGEST_TAGS = [f"{name}-".ljust(63, "x") for name in ("previous", "stable", "canary", "next")]
LARGEST = {
    "istio_versions": ["1.29.7", "1.30.4", "1.31.1"],
    "istio_revision_tags": [{"name": tag, "version": version}
                            for tag, version in zip(LONGEST_TAGS, ["1.29.7", "1.30.4", "1.31.1", "1.31.1"], strict=True)],
    "istio_default_tag": LONGEST_TAGS[1],
    "gateways_enabled": ["ingress", "egress", "eastwest"],
    "clusters": [
        {"name": f"prod-{index}-".ljust(40, "x"), "network": f"network-{index % 3}-".ljust(63, "x"),
         "api_server": f"https://{'api-' + str(index) + '-':x<63}.example.com:6443",
         "labels": {"region": f"region-{index}", "environment": "production"}}
        for index in range(5)
    ],
}
# Each CA mode that allows several clusters (self-signed-dev allows one), with both gateway upgrade modes and layouts.
LARGEST_VARIANTS = {
    "cert-manager-issuer": {"gateway_upgrade": "canary"},
    "aws-pca": {"gateway_layout": "single"},
    "vault": {"gateway_upgrade": "canary", "gateway_layout": "single"},
    "istio-csr": {},
}

MATRIX = {
    "defaults": {},
    **{f"largest-{ca_mode}": {**LARGEST, "ca_mode": ca_mode, **variant} for ca_mode, variant in LARGEST_VARIANTS.items()},
    "single-layout-all-gateways-three-clusters": {
        "gateway_layout": "single",
        "gateways_enabled": ["ingress", "egress", "eastwest"],
        "clusters": THREE_CLUSTERS,
    },
    "split-eastwest-three-clusters": {
        "gateways_enabled": ["ingress", "egress", "eastwest"],
        "clusters": THREE_CLUSTERS,
        "egress_allowed_hosts": ["api.github.com", "pypi.org"],
    },
    "ingress-only-allow-any": {"gateways_enabled": ["ingress"], "outbound_traffic_policy": "ALLOW_ANY"},
    "egress-without-hosts": {"gateways_enabled": ["egress"], "egress_allowed_hosts": []},
    "no-gateways-eastwest-off-two-clusters-one-network": {
        "gateways_enabled": [],
        "clusters": [{"name": "a", "network": "n", "api_server": "https://api.a.example.com:6443"}, {"name": "b", "network": "n", "api_server": "https://api.b.example.com:6443"}],
        "platform_name": "core",
        "git_repo_url": "git@git.example.com:infra/core.git",
        "git_branch": "release/core",
    },
}


ENGINES = ("argocd", "flux")


def matrix_params() -> list:
    """Every case on both engines; the largest ones take 10-25 s each (render and check), so they are marked slow."""
    return [pytest.param((name, engine), id=f"{name}-{engine}", marks=[pytest.mark.slow] if name.startswith("largest-") else [])
            for name in sorted(MATRIX) for engine in ENGINES]


@pytest.fixture(params=matrix_params(), scope="module")
def case(request: pytest.FixtureRequest, render) -> tuple[str, dict, object]:
    name, engine = request.param
    answers = {**MATRIX[name], "gitops_engine": engine}
    return f"{name} ({engine})", answers, render(answers)


def test_every_matrix_case_is_valid(case) -> None:
    name, _, root = case
    report = check(root)
    assert report.platform.builds, f"{name}: no kustomization found"
    assert report.ok, f"{name}:\n{summary(report)}"
    assert not report.uncovered
    assert report.invalid_objects == 0


def test_default_entry_points_are_the_synced_overlays(render) -> None:
    root = render({})
    entries = {p.relative_to(root).as_posix() for p in check(root).platform.entry_points}
    assert entries == {
        "argocd",
        "clusters/cluster-1",
        "addons/clusters/cluster-1/cert-manager",
        "mesh/clusters/cluster-1/istio-system",
        "mesh/clusters/cluster-1/istio-cni",
        "mesh/clusters/cluster-1/certificates",
        "mesh/clusters/cluster-1/istio-config",
        "mesh/revision-tags",
        "gateways/clusters/cluster-1/istio-ingress",
        "gateways/clusters/cluster-1/istio-egress",
        "gateways/namespaces/istio-ingress",
        "gateways/namespaces/istio-egress",
        "apps/clusters/cluster-1/example",
        "tenants/cluster-1",
        "tenants/projects",
    }


def _namespaces(root) -> set[str]:
    report = check(root)
    return {o["metadata"]["name"] for o in report.platform.objects if o["kind"] == "Namespace"}


def test_split_layout_gives_each_gateway_its_namespace(render) -> None:
    names = _namespaces(render(MATRIX["split-eastwest-three-clusters"]))
    assert {"istio-ingress", "istio-egress", "istio-eastwest"} <= names
    assert "istio-gateways" not in names


def test_cluster_platform_reaches_only_that_clusters_cni_release(render) -> None:
    releases = {r.cluster: r for r in check(render(MATRIX["split-eastwest-three-clusters"])).platform.helm_releases
                if r.chart == "cni"}
    assert sorted(releases) == ["prod-eu-1", "prod-eu-2", "prod-us-1"]
    assert {c: r.namespace for c, r in releases.items()} == dict.fromkeys(releases, "istio-cni")
    assert "platform" not in releases["prod-eu-1"].values
    assert releases["prod-eu-2"].values["platform"] == "gke"
    assert releases["prod-eu-2"].values["cniBinDir"] == "/home/kubernetes/bin"
    assert releases["prod-us-1"].values["platform"] == "openshift"
    assert all(r.values["resourceQuotas"] == {"enabled": True} for r in releases.values())


def test_single_layout_puts_all_gateways_in_one_namespace(render) -> None:
    root = render(MATRIX["single-layout-all-gateways-three-clusters"])
    names = _namespaces(root)
    assert "istio-gateways" in names
    assert not {"istio-ingress", "istio-egress", "istio-eastwest"} & names
    releases = [r for r in check(root).platform.helm_releases if r.chart == "gateway"]
    assert {r.namespace for r in releases} == {"istio-gateways"}
    assert len(releases) == 3 * 3


def test_eastwest_gateway_per_cluster_uses_its_network(render) -> None:
    root = render(MATRIX["split-eastwest-three-clusters"])
    platform = check(root).platform
    eastwest = [r for r in platform.helm_releases if r.release_name == "istio-eastwestgateway"]
    assert sorted(r.cluster for r in eastwest) == sorted(c["name"] for c in THREE_CLUSTERS)
    networks = {c["name"]: c["network"] for c in THREE_CLUSTERS}
    for release in eastwest:
        assert release.values["networkGateway"] == networks[release.cluster]
    cross = [o for o in platform.objects if o["kind"] == "Gateway" and o["metadata"]["name"] == "cross-network"]
    assert cross and all(o["spec"]["selector"] == {"istio": "eastwestgateway"} for o in cross)
    for cluster in THREE_CLUSTERS:
        istio_system = platform.builds[root / "mesh" / "clusters" / cluster["name"] / "istio-system"]
        assert istio_system[0]["metadata"]["labels"]["topology.istio.io/network"] == cluster["network"]


def test_eastwest_off_renders_no_eastwest_pieces(render) -> None:
    root = render({})
    assert not list(root.rglob("*eastwest*")) and not list(root.rglob("cross-network-gateway.yaml"))


def test_egress_allow_list_follows_the_answer(render) -> None:
    root = render(MATRIX["split-eastwest-three-clusters"])
    platform = check(root).platform
    entries = {o["spec"]["hosts"][0] for o in platform.objects if o["kind"] == "ServiceEntry"}
    assert entries == {"api.github.com", "pypi.org"}
    assert not list(render(MATRIX["egress-without-hosts"]).rglob("egress-allowlist.yaml"))


def test_outbound_policy_reaches_istiod(render) -> None:
    for answers, expected in ((MATRIX["defaults"], "REGISTRY_ONLY"), (MATRIX["ingress-only-allow-any"], "ALLOW_ANY")):
        values = yaml.safe_load((render(answers) / "mesh/revisions/1-31-1/istiod.values.yaml").read_text())
        assert values["meshConfig"]["outboundTrafficPolicy"]["mode"] == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_pykustomize_matches_kubectl_kustomize(render, engine: str, tmp_path) -> None:
    """The in-process builds the check uses (JSON, threaded) give what kubectl's kustomize gives."""
    root = tmp_path / "repo"
    source = render({**MATRIX["split-eastwest-three-clusters"], "gitops_engine": engine})
    rendered_platform.copy_repository(source, repository_checks.repository_files(source), root)
    assert rendered_platform.prepare_engine_workdir(source, root) == engine
    directories = kustomize_render.find_kustomizations(root)
    assert len(directories) > 20
    jobs = [(d, rendered_platform.builds_unrestricted(engine, d.relative_to(root))) for d in directories]
    threaded = kustomize_render.build_many(jobs)
    for directory, unrestricted in jobs:
        reference = kustomize_render.kubectl_build(directory, unrestricted)
        assert kustomize_render.build(directory, unrestricted) == reference, directory
        assert threaded[directory] == kustomize_render.objects(reference), directory


def test_largest_answers_keep_every_revision_and_tag_in_the_namespace_policy(render) -> None:
    """The allowed istio.io/rev values are folded one per line, so no answer set pushes the line past yamllint's limit."""
    root = render({**MATRIX["largest-vault"], "gitops_engine": "argocd"})
    policy = yaml.safe_load_all((root / "mesh/base/guardrails/namespace-revision-policy.yaml").read_text())
    expressions = [v["expression"] for p in policy if p["kind"] == "ValidatingAdmissionPolicy" for v in p["spec"]["validations"]]
    allowed = next(e for e in expressions if "variables.newRev in [" in e)
    for value in ["1-29-7", "1-30-4", "1-31-1", "default", *LONGEST_TAGS]:
        assert f"'{value}'" in allowed
    longest = max(len(line) for line in (root / "mesh/base/guardrails/namespace-revision-policy.yaml").read_text().splitlines())
    assert longest <= 140, "the repo's yamllint line-length limit"


def test_a_chart_pinned_below_its_line_s_minimum_fails_the_check(render, editable_copy) -> None:
    """A hand-edited pin to 1.29.1: the chart lacks base.validationFailurePolicy, which the values still set."""
    root = editable_copy(render({"istio_versions": ["1.29.7"], "istio_revision_tags": [{"name": "prod-stable", "version": "1.29.7"}]}))
    application = root / "clusters/cluster-1/istio-base.yaml"
    application.write_text(application.read_text().replace("targetRevision: 1.29.7", "targetRevision: 1.29.1"))
    problems = check(root).values_problems
    assert any("Application cluster-1-istio-base: base chart 1.29.1 is older than 1.29.2, the oldest 1.29 release" in p
               for p in problems), problems
    assert any(p.startswith("mesh/istio-base.values.yaml: helm values: base values: base.validationFailurePolicy: "
                            "not in base chart 1.29.1: the key appeared in 1.29.2") for p in problems), problems


def test_the_minimum_of_every_line_has_every_values_key_the_template_sets(render) -> None:
    """Rendered at each line's minimum (minimums.json), every values file only uses keys that chart version has."""
    root = render({"istio_versions": ["1.29.2", "1.30.0", "1.31.0"]})
    report = check(root)
    assert {r.version for r in report.platform.helm_releases if r.chart == "istiod"} == {"1.29.2", "1.30.0", "1.31.0"}
    assert report.values_problems == []


def test_a_chart_line_without_a_model_is_a_problem_not_a_crash(render, editable_copy) -> None:
    root = editable_copy(render({}))
    application = root / "clusters/cluster-1/istio-base.yaml"
    application.write_text(application.read_text().replace("targetRevision: 1.31.1", "targetRevision: 1.28.3"))
    problems = check(root).values_problems
    assert any("Application cluster-1-istio-base: no values model for chart 'base' version '1.28.3'" in p for p in problems), problems
