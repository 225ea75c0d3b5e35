"""The gateway chart model (istio_gitops_check/gateway_fronts.py) on values alone: names, selectors, pod labels."""

from __future__ import annotations

from istio_gitops_check import gateway_fronts as fronts
from istio_gitops_check.rendered_platform import HelmRelease


def release(name: str, values: dict, declared_in: str = "flux/clusters/a/istio-ingress: HelmRelease x") -> HelmRelease:
    return HelmRelease(declared_in, "clusters/a/gateways.yaml", "a", "gateway", "repo", "1.31.1", name, "istio-ingress", (), values)


def test_in_place_release_names_and_selects_its_own_pods() -> None:
    in_place = release("istio-ingressgateway", {"name": "istio-ingressgateway", "revision": "prod-stable"})
    assert fronts.chart_selector_labels(in_place) == {"app": "istio-ingressgateway", "istio": "ingressgateway"}
    assert fronts.chart_service_selector(in_place) == {"app": "istio-ingressgateway", "istio": "ingressgateway"}
    pods = fronts.chart_pod_labels(in_place)
    assert pods["istio.io/rev"] == "prod-stable" and pods["istio.io/dataplane-mode"] == "none"


def test_canary_release_renders_no_service_and_shares_only_the_istio_label() -> None:
    values = {"name": "istio-ingressgateway-1-31-1", "labels": {"istio": "ingressgateway"}, "service": {"type": "None"}, "revision": "1-31-1"}
    canary = release("istio-ingressgateway-1-31-1", values)
    assert fronts.chart_service_selector(canary) is None
    assert fronts.chart_selector_labels(canary) == {"app": "istio-ingressgateway-1-31-1", "istio": "ingressgateway"}
    assert "istio" in fronts.chart_pod_labels(canary) and fronts.chart_pod_labels(canary)["istio"] == "ingressgateway"


def test_release_name_is_the_default_name_and_service_selector_labels_only_add() -> None:
    unnamed = release("istio-egressgateway", {"service": {"selectorLabels": {"version": "v2"}}, "networkGateway": "n1"})
    assert fronts.chart_service_selector(unnamed) == {"app": "istio-egressgateway", "istio": "egressgateway", "version": "v2"}
    assert fronts.chart_pod_labels(unnamed)["topology.istio.io/network"] == "n1"
    assert "version" not in fronts.chart_pod_labels(unnamed), "so that Service selects no pod"


def test_owner_is_the_application_on_argocd_and_the_helm_release_on_flux() -> None:
    assert fronts.release_owner(release("r", {}, "clusters/a/gateways.yaml: Application a-istio-ingress")) == "Application a-istio-ingress"
    assert fronts.release_owner(release("r", {})) == "Helm release istio-ingress/r"
