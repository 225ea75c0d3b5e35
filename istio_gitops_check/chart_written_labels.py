"""Values must not restate a label or annotation the Istio chart writes itself.

The charts copy a values map (`labels`, `podLabels`, `podAnnotations`, ...) into an object's metadata next to
keys they write on their own: the gateway chart writes `topology.istio.io/network` from `networkGateway`
(istio/istio#54907), `istio.io/rev` from `revision`, `app.kubernetes.io/name` from `name`, the
`app.kubernetes.io/*` and `helm.sh/chart` labels from the release. A values map that sets one of those keys
again puts it twice in the rendered mapping. Helm and Argo CD keep the last one; Flux's helm-controller always
post-renders with kustomize, which refuses a duplicate mapping key, so the HelmRelease never installs.

CHART_WRITTEN_KEYS is read from the templates of istio/istio's charts (base has no such maps); the label and
annotation lines are identical from tag 1.29.0 to release-1.31 except where an entry names `since`/`until`.
The gateway chart's `labels.app` and `labels.istio` are not listed: the chart reads them as overrides of the
selector labels and leaves its own value out.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from istio_gitops_check.chart_values import release_key
from istio_gitops_check.rendered_platform import HelmRelease, RenderedPlatform

POST_RENDER_REFUSES = "Flux's post-render (kustomize) refuses the duplicate key, so the release never installs"


@dataclass(frozen=True)
class ChartWrittenKey:
    """A metadata key `chart` writes itself, which the values map `values_map` must not set again."""

    chart: str
    values_map: str
    key: str
    written_from: str
    objects: str
    condition: str = ""  # dotted values path that must be truthy for the chart to write the key; "" = always
    condition_default: bool = False  # the condition's value when the path is unset (the chart's values.yaml)
    since: str = "1.29.0"
    until: str = ""  # first version that no longer writes it this way; "" = still does

    def applies_to(self, version: str) -> bool:
        key = release_key(version)
        if key is None:
            return True
        return release_key(self.since) <= key and (not self.until or key < release_key(self.until))

    def written_for(self, values: Mapping[str, Any]) -> bool:
        if not self.condition:
            return True
        found = _lookup(values, self.condition)
        return bool(self.condition_default if found is _UNSET else found)


HELM_RELEASE_LABELS = ("app.kubernetes.io/managed-by", "app.kubernetes.io/instance", "app.kubernetes.io/part-of",
                       "app.kubernetes.io/version", "helm.sh/chart")
GATEWAY_OBJECTS = "Deployment, its pod template, Service, ServiceAccount, HorizontalPodAutoscaler, PodDisruptionBudget, Role"


def _gateway_keys() -> tuple[ChartWrittenKey, ...]:
    keys = [
        ChartWrittenKey("gateway", "labels", "topology.istio.io/network", "networkGateway", "pod template and Service",
                        condition="networkGateway"),
        ChartWrittenKey("gateway", "labels", "istio.io/rev", "revision", "pod template", condition="revision"),
        ChartWrittenKey("gateway", "labels", "sidecar.istio.io/inject", "the chart (always \"true\")", "pod template"),
        ChartWrittenKey("gateway", "labels", "app.kubernetes.io/name", "name (or the release name)", GATEWAY_OBJECTS),
    ]
    keys += [ChartWrittenKey("gateway", "labels", label, "the Helm release", GATEWAY_OBJECTS) for label in HELM_RELEASE_LABELS]
    return tuple(keys)


def _istiod_keys() -> tuple[ChartWrittenKey, ...]:
    pod = ("app", "istio.io/rev", "install.operator.istio.io/owning-resource", "sidecar.istio.io/inject",
           "operator.istio.io/component", "istio", "istio.io/dataplane-mode", "app.kubernetes.io/name", *HELM_RELEASE_LABELS)
    deployment = ("app", "istio.io/rev", "install.operator.istio.io/owning-resource", "operator.istio.io/component", "istio",
                  "release", "app.kubernetes.io/name", *HELM_RELEASE_LABELS)
    annotations = ("prometheus.io/port", "prometheus.io/scrape", "sidecar.istio.io/inject")
    keys: list[ChartWrittenKey] = []
    for prefix in ("", "pilot."):  # the chart merges the legacy `pilot` map over the flat values
        keys += [ChartWrittenKey("istiod", f"{prefix}podLabels", k, "revision and the release", "istiod pod template") for k in pod]
        keys += [ChartWrittenKey("istiod", f"{prefix}deploymentLabels", k, "revision and the release", "istiod Deployment")
                 for k in deployment]
        keys += [ChartWrittenKey("istiod", f"{prefix}podAnnotations", k, "the chart", "istiod pod template") for k in annotations]
    return tuple(keys)


def _cni_keys() -> tuple[ChartWrittenKey, ...]:
    pod = ("k8s-app", "sidecar.istio.io/inject", "istio.io/dataplane-mode", "app.kubernetes.io/name", *HELM_RELEASE_LABELS)
    daemon_set = ("k8s-app", "release", "istio.io/rev", "install.operator.istio.io/owning-resource", "operator.istio.io/component",
                  "app.kubernetes.io/name", *HELM_RELEASE_LABELS)
    annotations = ("sidecar.istio.io/inject", "prometheus.io/scrape", "prometheus.io/port", "prometheus.io/path")
    apparmor = "container.apparmor.security.beta.kubernetes.io/install-cni"
    return (
        *(ChartWrittenKey("cni", "podLabels", k, "the chart and the release", "istio-cni-node pod template") for k in pod),
        *(ChartWrittenKey("cni", "daemonSetLabels", k, "revision and the release", "istio-cni-node DaemonSet") for k in daemon_set),
        *(ChartWrittenKey("cni", "podAnnotations", k, "the chart", "istio-cni-node pod template") for k in annotations),
        ChartWrittenKey("cni", "podAnnotations", apparmor, "the chart", "istio-cni-node pod template", until="1.30.0"),
        ChartWrittenKey("cni", "podAnnotations", apparmor, "useAppArmorAnnotation", "istio-cni-node pod template",
                        condition="useAppArmorAnnotation", condition_default=True, since="1.30.0"),
    )


CHART_WRITTEN_KEYS: tuple[ChartWrittenKey, ...] = (*_gateway_keys(), *_istiod_keys(), *_cni_keys())


def chart_written_keys(chart: str, version: str) -> tuple[ChartWrittenKey, ...]:
    """The metadata keys `chart` at `version` writes itself from values maps."""
    return tuple(k for k in CHART_WRITTEN_KEYS if k.chart == chart and k.applies_to(version))


def restated_keys(release: HelmRelease, root: Path | None = None) -> list[str]:
    """Each values file (or the release's inline values) that sets a key the chart writes itself for this release;
    with the repo's `root`, a Flux ConfigMap source is named by the values file its generator reads."""
    problems = []
    for written in chart_written_keys(release.chart, release.version):
        if not written.written_for(release.values) or not _sets(release.values, written):
            continue
        sources = [_values_file(root, label) for label, values in release.value_sources if _sets(values, written)]
        sources = sources or [release.declared_in]
        kind = "annotation" if written.values_map.endswith("Annotations") else "label"
        problems += [
            f"{source}: {written.values_map}[\"{written.key}\"]: the {written.chart} chart {release.version} writes this "
            f"{kind} itself from {written.written_from} ({written.objects}); set here too, the key appears twice in the "
            f"rendered object and {POST_RENDER_REFUSES}. Remove it from the values"
            for source in sources
        ]
    return problems


def values_restate_chart_written_labels(platform: RenderedPlatform) -> list[str]:
    """Guardrail: no values file sets a label or annotation its chart already writes (release by release)."""
    return sorted({p for release in platform.helm_releases for p in restated_keys(release, platform.root)})


GENERATED_SOURCE = re.compile(r"^(?P<kustomization>\S+) \(ConfigMap (?P<name>\S+) key (?P<key>\S+)\)$")


def _values_file(root: Path | None, label: str) -> str:
    """`label` itself, or for a Flux values ConfigMap the repo file its configMapGenerator reads that key from."""
    match = GENERATED_SOURCE.match(label)
    if root is None or match is None:
        return label
    kustomization = root / match["kustomization"]
    try:
        generators = (yaml.safe_load(kustomization.read_text(encoding="utf-8")) or {}).get("configMapGenerator", [])
    except (OSError, yaml.YAMLError):
        return label
    for generator in generators:
        if match["name"] != generator.get("name") and not match["name"].startswith(f"{generator.get('name')}-"):
            continue
        for entry in generator.get("files", []):
            key, _, path = str(entry).partition("=")
            if key == match["key"] and path:
                return os.path.relpath(os.path.normpath(kustomization.parent / path), root)
    return label


_UNSET = object()


def _lookup(values: Mapping[str, Any], dotted: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _UNSET
        node = node[part]
    return node


def _sets(values: Mapping[str, Any] | None, written: ChartWrittenKey) -> bool:
    found = _lookup(values or {}, written.values_map)
    return isinstance(found, Mapping) and written.key in found
