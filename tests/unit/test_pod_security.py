"""Pod Security Standards as the admission plugin applies them, and the containers sidecar injection adds."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from istio_gitops_check.pod_security import namespace_level, violations
from istio_gitops_check.sidecar_injection import Injection, injected, injection_by_label


def restricted_pod() -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app", "namespace": "team-a"}, "spec": {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "app", "image": "app:1", "ports": [{"containerPort": 8080}], "securityContext": {
            "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}],
        "volumes": [{"name": "config", "configMap": {"name": "app"}}, {"name": "tmp", "emptyDir": {}}]}}


def changed(path: str, value: Any) -> dict[str, Any]:
    pod = copy.deepcopy(restricted_pod())
    *parents, last = path.split(".")
    node: Any = pod
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return pod


# (case, change, expected fragment, refused at baseline too)
DENIED = [
    ("privileged container", ("spec.containers.0.securityContext.privileged", True), "is privileged", True),
    ("host network", ("spec.hostNetwork", True), "hostNetwork=true", True),
    ("host PID", ("spec.hostPID", True), "hostPID=true", True),
    ("hostPath volume", ("spec.volumes.0", {"name": "node", "hostPath": {"path": "/"}}), "hostPath", True),
    ("host port", ("spec.containers.0.ports.0", {"containerPort": 80, "hostPort": 80}), "hostPort", True),
    ("NET_ADMIN", ("spec.containers.0.securityContext.capabilities", {"drop": ["ALL"], "add": ["NET_ADMIN"]}),
     "adds capabilities ['NET_ADMIN']", True),
    ("unmasked /proc", ("spec.containers.0.securityContext.procMount", "Unmasked"), "procMount", True),
    ("unconfined seccomp", ("spec.securityContext.seccompProfile", {"type": "Unconfined"}), "Unconfined", True),
    ("unsafe sysctl", ("spec.securityContext.sysctls", [{"name": "kernel.msgmax", "value": "1"}]), "unsafe sysctls", True),
    ("SELinux user", ("spec.securityContext.seLinuxOptions", {"user": "root"}), "seLinuxOptions", True),
    ("AppArmor unconfined", ("metadata.annotations", {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}),
     "annotation", True),
    ("root allowed", ("spec.securityContext.runAsNonRoot", False), "may run as root", False),
    ("user 0", ("spec.containers.0.securityContext.runAsUser", 0), "runs as user 0", False),
    ("privilege escalation", ("spec.containers.0.securityContext.allowPrivilegeEscalation", True),
     "allowPrivilegeEscalation=false", False),
    ("no seccomp profile", ("spec.securityContext.seccompProfile", {}), "no seccompProfile", False),
    ("capabilities kept", ("spec.containers.0.securityContext.capabilities", {}), "does not drop ALL", False),
    ("CHOWN under restricted", ("spec.containers.0.securityContext.capabilities", {"drop": ["ALL"], "add": ["CHOWN"]}),
     "beyond NET_BIND_SERVICE", False),
    ("hostPath-like volume type", ("spec.volumes.0", {"name": "nfs", "nfs": {"server": "x", "path": "/"}}), "of type ['nfs']", False),
]


def test_a_restricted_pod_is_admitted_at_every_level() -> None:
    for level in ("privileged", "baseline", "restricted"):
        assert violations(restricted_pod(), level) == []


@pytest.mark.parametrize("case, change, expected, baseline_too", DENIED, ids=[c[0] for c in DENIED])
def test_pod_security_refuses(case: str, change: tuple[str, Any], expected: str, baseline_too: bool) -> None:
    pod = changed(*change)
    found = violations(pod, "restricted")
    assert any(expected in v for v in found), found
    assert bool(violations(pod, "baseline")) == baseline_too, violations(pod, "baseline")
    assert violations(pod, "privileged") == []


def test_safe_sysctl_and_net_bind_service_pass_restricted() -> None:
    pod = changed("spec.securityContext.sysctls", [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}])
    pod["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] = ["NET_BIND_SERVICE"]
    assert violations(pod, "restricted") == []


def test_namespace_level_defaults_to_privileged_and_is_strict_on_unknown_levels() -> None:
    assert namespace_level({"metadata": {"name": "x"}}) == "privileged"
    assert namespace_level({"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "baseline"}}}) == "baseline"
    assert namespace_level({"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "strict"}}}) == "restricted"


class Release:
    def __init__(self, values: dict[str, Any]) -> None:
        self.chart, self.values = "istiod", values


TEAM_NAMESPACE = {"metadata": {"name": "team-a", "labels": {"istio.io/rev": "prod-stable"}}}
WITH_CNI = {"revision": "1-31-1", "revisionTags": ["prod-stable"], "cni": {"enabled": True},
            "global": {"proxy": {"seccompProfile": {"type": "RuntimeDefault"}}}}


def test_injected_pod_with_cni_passes_restricted() -> None:
    pod = injected(restricted_pod(), TEAM_NAMESPACE, injection_by_label([Release(WITH_CNI)]))
    assert [c["name"] for c in pod["spec"]["initContainers"]] == ["istio-validation"]
    assert [c["name"] for c in pod["spec"]["containers"]] == ["app", "istio-proxy"]
    assert violations(pod, "restricted") == []


def test_injected_pod_without_cni_is_refused_even_at_baseline() -> None:
    values = {**WITH_CNI, "cni": {"enabled": False}}
    pod = injected(restricted_pod(), TEAM_NAMESPACE, injection_by_label([Release(values)]))
    assert any("'istio-init' adds capabilities ['NET_ADMIN', 'NET_RAW']" in v for v in violations(pod, "baseline"))


def test_injected_proxy_without_a_seccomp_profile_needs_one_from_the_workload() -> None:
    values = {**WITH_CNI, "global": {}}
    by_label = injection_by_label([Release(values)])
    pod = restricted_pod()
    del pod["spec"]["securityContext"]["seccompProfile"]
    pod["spec"]["containers"][0]["securityContext"]["seccompProfile"] = {"type": "RuntimeDefault"}
    found = violations(injected(pod, TEAM_NAMESPACE, by_label), "restricted")
    assert any("'istio-proxy' has no seccompProfile" in v for v in found), found
    assert violations(injected(restricted_pod(), TEAM_NAMESPACE, by_label), "restricted") == [], "a pod-level profile covers it"


def test_pods_that_are_not_injected_stay_as_they_are() -> None:
    by_label = injection_by_label([Release(WITH_CNI)])
    opted_out = changed("metadata.labels", {"sidecar.istio.io/inject": "false"})
    assert injected(opted_out, TEAM_NAMESPACE, by_label) is opted_out
    assert injected(restricted_pod(), {"metadata": {"name": "plain"}}, by_label)["spec"].get("initContainers") is None
    other_tag = {"metadata": {"name": "t", "labels": {"istio.io/rev": "prod-canary"}}}
    assert injected(restricted_pod(), other_tag, by_label)["spec"].get("initContainers") is None


def test_tags_kept_outside_the_releases_inject_like_their_revision() -> None:
    values = {key: value for key, value in WITH_CNI.items() if key != "revisionTags"}
    assert injected(restricted_pod(), TEAM_NAMESPACE, injection_by_label([Release(values)]))["spec"].get("initContainers") is None
    by_label = injection_by_label([Release(values)], {"prod-stable": "1-31-1", "prod-gone": "1-29-9"})
    assert [c["name"] for c in injected(restricted_pod(), TEAM_NAMESPACE, by_label)["spec"]["initContainers"]] == ["istio-validation"]
    assert "prod-gone" not in by_label, "a tag to a revision that is not installed injects nothing known"


def test_legacy_pilot_alias_enables_cni() -> None:
    assert Injection.from_values({"pilot": {"cni": {"enabled": True}}}).cni
    assert not Injection.from_values({}).cni
