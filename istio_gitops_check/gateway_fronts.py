"""Gateway Services, who owns them, and the gateway pods they select, per cluster.

A gateway canary (answer `gateway_upgrade: canary`) runs one gateway release per Istio revision behind one
Service, so traffic moves with replicas. That only works if the Service selects the pods of every revision,
the revisions' Deployments do not select each other's pods, and the Service keeps one owner at every step
(Helm refuses an object another release owns, and a Service that changes owner is deleted and recreated,
with a new load-balancer address).

The gateway chart is modelled from its templates, identical in what matters here at 1.29, 1.30 and 1.31
(istio/istio manifests/charts/gateway: `_helpers.tpl`, `deployment.yaml`, `service.yaml`):

- `gateway.name` is `name`, else the release name; `gateway.selectorLabels` are `app: <labels.app or name>`
  and `istio: <labels.istio or name without "istio-">`. The Deployment's selector is exactly those labels.
- The pod template carries the selector labels, `sidecar.istio.io/inject`, `istio.io/rev: <revision>`,
  `app.kubernetes.io/name`, Helm's `istio.labels`, every `labels` entry except `app` and `istio` (chart
  default `istio.io/dataplane-mode: none`) and, with `networkGateway`, `topology.istio.io/network`.
- The Service is rendered unless `service.type` is `None`; its selector is the selector labels plus
  `service.selectorLabels`, so a chart-rendered Service always names one release's `app` and can never select
  the pods of another release (whose Deployment would otherwise overlap it). Hence the canary's shared
  Service is a manifest selecting only `istio:`.
"""

from __future__ import annotations

from dataclasses import dataclass

from istio_gitops_check.rendered_platform import HelmRelease, RenderedPlatform, application_sources, cluster_entry_points

CHART_DEFAULT_LABELS = {"istio.io/dataplane-mode": "none"}


@dataclass(frozen=True, order=True)
class GatewayPods:
    """The pods one gateway release runs (its Deployment's selector and its pod template's labels)."""

    cluster: str
    namespace: str
    release: str
    revision: str
    file: str
    selector: tuple[tuple[str, str], ...]
    labels: tuple[tuple[str, str], ...]


@dataclass(frozen=True, order=True)
class GatewayService:
    """A Service in a gateway namespace and the unit that applies it."""

    cluster: str
    namespace: str
    name: str
    owner: str
    source: str
    file: str
    selector: tuple[tuple[str, str], ...]


def chart_name(release: HelmRelease) -> str:
    return str(release.values.get("name") or release.release_name or "istio-ingressgateway")


def chart_selector_labels(release: HelmRelease) -> dict[str, str]:
    labels = release.values.get("labels") or {}
    name = chart_name(release)
    return {"app": str(labels.get("app") or name), "istio": str(labels.get("istio") or name.removeprefix("istio-"))}


def chart_pod_labels(release: HelmRelease) -> dict[str, str]:
    values = release.values
    pod = {"sidecar.istio.io/inject": "true"}
    if values.get("revision"):
        pod["istio.io/rev"] = str(values["revision"])
    pod |= chart_selector_labels(release)
    pod |= {"app.kubernetes.io/name": chart_name(release), "app.kubernetes.io/instance": release.release_name,
            "app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/part-of": "istio"}
    extra = {**CHART_DEFAULT_LABELS, **(values.get("labels") or {})}
    pod |= {str(key): str(value) for key, value in extra.items() if key not in ("app", "istio")}
    if values.get("networkGateway"):
        pod["topology.istio.io/network"] = str(values["networkGateway"])
    return pod


def chart_service_selector(release: HelmRelease) -> dict[str, str] | None:
    """The selector of the Service the chart renders for this release, or None when it renders none."""
    service = release.values.get("service") or {}
    if str(service.get("type", "LoadBalancer")) == "None":
        return None
    return chart_selector_labels(release) | {str(k): str(v) for k, v in (service.get("selectorLabels") or {}).items()}


def release_owner(release: HelmRelease) -> str:
    """Argo CD renders charts itself and owns their objects as the Application; Flux installs a Helm release."""
    if ": Application " in release.declared_in:
        return "Application " + release.declared_in.rsplit(": Application ", 1)[1]
    return f"Helm release {release.namespace}/{release.release_name}"


def gateway_pods(platform: RenderedPlatform) -> list[GatewayPods]:
    return sorted(
        GatewayPods(r.cluster, r.namespace, r.release_name, str(r.values.get("revision", "")), r.file,
                    tuple(sorted(chart_selector_labels(r).items())), tuple(sorted(chart_pod_labels(r).items())))
        for r in platform.helm_releases if r.chart == "gateway"
    )


def _unit_paths(platform: RenderedPlatform) -> dict[tuple[str, object], str]:
    """(cluster, folder) -> the unit that applies that folder: an Argo CD Application or a Flux Kustomization."""
    units: dict[tuple[str, object], str] = {}
    entry_points = cluster_entry_points(platform)
    for obj in platform.applied_unique_objects:
        spec = obj.get("spec") or {}
        api = str(obj.get("apiVersion", ""))
        if obj.get("kind") == "Application" and api.startswith("argoproj.io/"):
            cluster = str(spec.get("destination", {}).get("name", ""))
            for source in application_sources(spec):
                if "path" in source and "chart" not in source:
                    units[(cluster, (platform.root / source["path"]).resolve())] = f"Application {obj['metadata']['name']}"
        if obj.get("kind") == "Kustomization" and api.startswith("kustomize.toolkit.fluxcd.io/"):
            folder = (platform.root / str(spec.get("path", ""))).resolve()
            for cluster, folders in entry_points.items():
                if folder in folders:
                    units[(cluster, folder)] = f"Kustomization {obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"
    return units


def gateway_services(platform: RenderedPlatform) -> list[GatewayService]:
    """Every Service with a selector in a namespace where a gateway release runs: rendered by a gateway chart or
    applied as a manifest by a unit, once per source (the same object from two sources is two entries)."""
    gateway_namespaces = {(r.cluster, r.namespace) for r in platform.helm_releases if r.chart == "gateway"}
    found: set[GatewayService] = set()
    for release in (r for r in platform.helm_releases if r.chart == "gateway"):
        selector = chart_service_selector(release)
        if selector is not None:
            found.add(GatewayService(release.cluster, release.namespace, chart_name(release), release_owner(release),
                                     f"chart release {release.release_name}", release.file, tuple(sorted(selector.items()))))
    for (cluster, folder), unit in _unit_paths(platform).items():
        for obj in platform.builds.get(folder, []):
            namespace = str(obj.get("metadata", {}).get("namespace", ""))
            selector = (obj.get("spec") or {}).get("selector") or {}
            if obj.get("kind") == "Service" and (cluster, namespace) in gateway_namespaces and selector:
                found.add(GatewayService(cluster, namespace, str(obj["metadata"]["name"]), unit, platform.origin(obj), platform.origin(obj),
                                         tuple(sorted((str(k), str(v)) for k, v in selector.items()))))
    return sorted(found)


def selected_releases(service: GatewayService, pods: list[GatewayPods]) -> list[GatewayPods]:
    """The gateway releases whose pods the Service selects."""
    return [p for p in pods if (p.cluster, p.namespace) == (service.cluster, service.namespace) and set(service.selector) <= set(p.labels)]


def gateway_fronts_problems(platform: RenderedPlatform) -> list[str]:
    """Every gateway Service comes from one source (so one owner: Helm refuses a second release, and Argo CD
    applies only one of two renderings in an Application), selects the pods of at least one gateway release, and
    no gateway Deployment's selector matches another release's pods."""
    problems = []
    services = gateway_services(platform)
    pods = gateway_pods(platform)
    owners: dict[tuple[str, str, str], list[GatewayService]] = {}
    for service in services:
        owners.setdefault((service.cluster, service.namespace, service.name), []).append(service)
        if not selected_releases(service, pods):
            problems.append(f"{service.file}: cluster {service.cluster}: Service {service.namespace}/{service.name} ({service.owner}) "
                            f"selects {dict(service.selector)}, which no gateway release's pods carry")
    for (cluster, namespace, name), owning in sorted(owners.items()):
        if len(owning) > 1:
            sources = "; ".join(sorted(f"{s.owner} ({s.source})" for s in owning))
            problems.append(f"{owning[0].file}: cluster {cluster}: Service {namespace}/{name} is rendered more than once: {sources}")
    for deployment in pods:
        for other in pods:
            if other != deployment and (other.cluster, other.namespace) == (deployment.cluster, deployment.namespace) \
                    and set(deployment.selector) <= set(other.labels):
                problems.append(f"{deployment.file}: cluster {deployment.cluster}: gateway {deployment.namespace}/{deployment.release} "
                                f"selects the pods of {other.release} too (overlapping Deployment selectors)")
    return problems
