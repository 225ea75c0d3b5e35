"""What Istio's sidecar injector adds to a pod, as far as Pod Security is concerned.

A Deployment in an injected namespace is admitted as its template says, but the pods its ReplicaSet creates
carry two more containers, and Pod Security judges those pods. The injector (istiod chart
files/injection-template.yaml, the same in 1.29, 1.30 and 1.31) adds:
- without istio-cni, `istio-init`: runs as root with NET_ADMIN and NET_RAW to write iptables rules, which even
  Pod Security `baseline` refuses;
- with istio-cni (`cni.enabled` in the istiod values), `istio-validation`: unprivileged, UID 1337, drops ALL;
- `istio-proxy`: unprivileged, UID 1337, drops ALL.
Neither gets a seccomp profile unless `global.proxy.seccompProfile` is set, and the template sets no pod-level
one, so under `restricted` either the istiod values or every workload must set it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

PROXY_UID = 1337


@dataclass(frozen=True)
class Injection:
    """The parts of an istiod release's values that shape the injected containers."""

    cni: bool
    seccomp_profile: tuple[tuple[str, str], ...]

    @staticmethod
    def from_values(values: dict) -> Injection:
        cni = (values.get("pilot") or {}).get("cni") or values.get("cni") or {}
        profile = (((values.get("global") or {}).get("proxy") or {}).get("seccompProfile") or {})
        return Injection(bool(cni.get("enabled")), tuple(sorted((str(k), str(v)) for k, v in profile.items())))

    def containers(self) -> tuple[list[dict], list[dict]]:
        """The init containers and containers the injector adds."""
        unprivileged = {"allowPrivilegeEscalation": False, "privileged": False, "capabilities": {"drop": ["ALL"]},
                        "readOnlyRootFilesystem": True, "runAsUser": PROXY_UID, "runAsGroup": PROXY_UID,
                        "runAsNonRoot": True}
        if self.seccomp_profile:
            unprivileged["seccompProfile"] = dict(self.seccomp_profile)
        if self.cni:
            init = {"name": "istio-validation", "securityContext": copy.deepcopy(unprivileged)}
        else:
            init = {"name": "istio-init", "securityContext": {
                "allowPrivilegeEscalation": False, "privileged": False, "readOnlyRootFilesystem": False,
                "runAsUser": 0, "runAsGroup": 0, "runAsNonRoot": False,
                "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
                **({"seccompProfile": dict(self.seccomp_profile)} if self.seccomp_profile else {})}}
        return [init], [{"name": "istio-proxy", "securityContext": unprivileged}]


def injection_by_label(releases: list, tags: Mapping[str, str] | None = None) -> dict[str, Injection]:
    """For one cluster's istiod releases: what each revision and tag name injects. Tags come from the releases'
    `revisionTags` or, as the template keeps them, from `tags` ({tag: revision}, the tag webhooks' targets)."""
    found: dict[str, Injection] = {}
    for release in releases:
        if release.chart != "istiod":
            continue
        injection = Injection.from_values(release.values)
        found[str(release.values.get("revision", "default") or "default")] = injection
        for tag in release.values.get("revisionTags", []) or []:
            found[str(tag)] = injection
    for tag, revision in (tags or {}).items():
        if revision in found:
            found[tag] = found[revision]
    return found


def injected(pod: dict, namespace: dict | None, by_label: dict[str, Injection]) -> dict:
    """The pod as the injector leaves it: unchanged when it is not injected or its revision is unknown here."""
    pod_labels = (pod.get("metadata") or {}).get("labels") or {}
    namespace_labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
    if str(pod_labels.get("sidecar.istio.io/inject", "")).lower() == "false":
        return pod
    label = pod_labels.get("istio.io/rev") or namespace_labels.get("istio.io/rev")
    if namespace_labels.get("istio-injection") == "enabled" and not label:
        label = "default"
    injection = by_label.get(str(label)) if label else None
    if injection is None:
        return pod
    init, containers = injection.containers()
    spec = dict(pod.get("spec") or {})
    spec["initContainers"] = list(spec.get("initContainers") or []) + init
    spec["containers"] = list(spec.get("containers") or []) + containers
    return {**pod, "spec": spec}
