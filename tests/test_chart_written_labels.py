"""Values that restate a label the chart writes itself are caught (Flux's post-render refuses the duplicate key)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from istio_gitops_check import rendered_platform
from istio_gitops_check.chart_rendering import post_render
from istio_gitops_check.chart_written_labels import chart_written_keys, restated_keys, values_restate_chart_written_labels
from istio_gitops_check.rendered_platform import HelmRelease


def release(chart: str, sources: dict[str, dict[str, Any]], version: str = "1.31.1") -> HelmRelease:
    merged: dict[str, Any] = {}
    for values in sources.values():
        for key, value in values.items():
            merged[key] = {**merged[key], **value} if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return HelmRelease("clusters/a/gateways.yaml", "clusters/a/gateways.yaml", "a", chart, "repo", version, "r", "ns",
                       tuple(sources.items()), merged)


def test_the_network_label_is_refused_only_where_network_gateway_makes_the_chart_write_it() -> None:
    label = {"labels": {"topology.istio.io/network": "n1"}}
    eastwest = release("gateway", {"gateways/clusters/a/eastwest.values.yaml": {"networkGateway": "n1"},
                                   "gateways/revisions/x/eastwest.values.yaml": label})
    [problem] = restated_keys(eastwest)
    assert problem.startswith('gateways/revisions/x/eastwest.values.yaml: labels["topology.istio.io/network"]: the gateway chart '
                              "1.31.1 writes this label itself from networkGateway (pod template and Service)")
    assert "Flux's post-render (kustomize) refuses the duplicate key" in problem
    assert restated_keys(release("gateway", {"ingress.values.yaml": label})) == [], "no networkGateway: the label is the user's"


def test_the_labels_the_chart_writes_from_its_release_and_revision() -> None:
    values = {"revision": "prod-stable", "labels": {"istio.io/rev": "prod-stable", "app.kubernetes.io/name": "x",
                                                    "helm.sh/chart": "x", "istio": "ingressgateway", "app": "x", "team": "a"}}
    found = restated_keys(release("gateway", {"ingress.values.yaml": values}))
    assert [p.split(": ")[1] for p in found] == ['labels["istio.io/rev"]', 'labels["app.kubernetes.io/name"]', 'labels["helm.sh/chart"]']


def test_istiod_and_cni_maps() -> None:
    istiod = release("istiod", {"istiod.values.yaml": {"podLabels": {"istio.io/rev": "x", "team": "a"},
                                                       "pilot": {"deploymentLabels": {"app": "istiod"}},
                                                       "podAnnotations": {"prometheus.io/scrape": "false"}}})
    found = {p.split(": ")[1]: p for p in restated_keys(istiod)}
    assert sorted(found) == ['pilot.deploymentLabels["app"]', 'podAnnotations["prometheus.io/scrape"]', 'podLabels["istio.io/rev"]']
    assert "writes this annotation itself" in found['podAnnotations["prometheus.io/scrape"]']
    assert "writes this label itself" in found['podLabels["istio.io/rev"]']
    cni = release("cni", {"cni.values.yaml": {"daemonSetLabels": {"k8s-app": "x"}, "podLabels": {"team": "a"}}})
    assert [p.split(": ")[1] for p in restated_keys(cni)] == ['daemonSetLabels["k8s-app"]']


@pytest.mark.parametrize(("version", "values", "restated"), [
    ("1.29.7", {}, True),  # 1.29 writes the AppArmor annotation unconditionally
    ("1.30.4", {}, True),  # 1.30+ by default (useAppArmorAnnotation: true)
    ("1.30.4", {"useAppArmorAnnotation": False}, False),
])
def test_a_key_the_chart_writes_in_some_versions_only(version: str, values: dict, restated: bool) -> None:
    annotation = {"podAnnotations": {"container.apparmor.security.beta.kubernetes.io/install-cni": "unconfined"}}
    assert bool(restated_keys(release("cni", {"cni.values.yaml": {**values, **annotation}}, version))) is restated
    assert len([k for k in chart_written_keys("cni", version) if "apparmor" in k.key]) == 1


def test_the_refused_case_is_what_kustomize_rejects() -> None:
    """The duplicate this rule prevents is the one Flux's post-render fails on."""
    rendered = "apiVersion: v1\nkind: Service\nmetadata:\n  name: e\n  labels:\n" + "    topology.istio.io/network: n1\n" * 2
    assert "already defined" in (post_render(rendered) or "")


def test_flux_values_from_config_maps_name_their_file(render, editable_copy) -> None:
    answers = {"gitops_engine": "flux", "gateways_enabled": ["ingress", "egress", "eastwest"],
               "clusters": [{"name": "eu-1", "network": "net-eu", "api_server": "https://api.eu-1.example.com:6443"}, {"name": "us-1", "network": "net-us", "api_server": "https://api.us-1.example.com:6443"}]}
    source = render(answers)
    assert values_restate_chart_written_labels(rendered_platform.load(source)) == []
    root = editable_copy(source)
    values = root / "gateways/clusters/us-1/eastwest.values.yaml"
    values.write_text(values.read_text() + "labels:\n  topology.istio.io/network: net-us\n")
    found = values_restate_chart_written_labels(rendered_platform.load(root))
    assert found and all(p.startswith("gateways/clusters/us-1/eastwest.values.yaml") for p in found), found
    assert Path(root / "gateways/clusters/us-1/eastwest.values.yaml").exists()
