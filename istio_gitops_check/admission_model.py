"""What admission will do with what the engines apply: every object of the repo, sent as the engine sends it,
against the repo's own ValidatingAdmissionPolicies (their CEL, their bindings' namespace selectors).

A merged change that one of the platform's policies denies does not fail in review: it fails in the cluster,
at sync time, where Argo CD marks the Application Degraded and Flux's Kustomization stops. So the check
reports it on the file, before merge.

Each cluster is judged on its own: the objects its entry points apply, against its own policies, sent as CREATE
requests by the identity its policies trust as "the platform" (the `platform` variable of its
namespace-revision policy; by default Argo CD's application controller or Flux's kustomize-controller), since
that is who applies the repo there. Pods are not rendered here (the controllers create them), so the pod rules
are checked on the pod templates of workloads, as the injector leaves them (sidecar_injection.py); Pod Security
Admission judges the same pods at the level their namespace enforces (pod_security.py).
"""

from __future__ import annotations

import json
from functools import lru_cache

from istio_gitops_check.admission_cel import binding_applies, denials
from istio_gitops_check.kubernetes_kinds import group_of, resource_of
from istio_gitops_check.pod_security import namespace_level, violations
from istio_gitops_check.rendered_platform import RenderedPlatform, cluster_entry_points, distinct
from istio_gitops_check.revision_tag_ownership import WEBHOOK, tag_objects
from istio_gitops_check.sidecar_injection import Injection, injected, injection_by_label
from istio_gitops_check.yaml_documents import mapping

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


def platform_identity(platform: RenderedPlatform) -> str:
    answers = mapping(platform.root / ".copier-answers.yml")
    if platform.engine == "flux":
        return "system:serviceaccount:flux-system:kustomize-controller"
    return f"system:serviceaccount:{answers.get('argocd_namespace', 'argocd')}:argocd-application-controller"


def _matches(policy: dict, group: str, version: str, resource: str) -> bool:
    for rule in policy.get("spec", {}).get("matchConstraints", {}).get("resourceRules", []) or []:
        if (group in rule.get("apiGroups", []) or "*" in rule.get("apiGroups", [])) \
                and (version in rule.get("apiVersions", []) or "*" in rule.get("apiVersions", [])) \
                and (resource in rule.get("resources", []) or "*" in rule.get("resources", [])) \
                and ("CREATE" in rule.get("operations", []) or "*" in rule.get("operations", [])):
            return True
    return False


def _requests(obj: dict) -> list[tuple[dict, str, str, str]]:
    """The admission requests an object leads to: itself, and for workloads the pods their template creates."""
    api_version = str(obj.get("apiVersion", ""))
    group, version = group_of(api_version), api_version.rpartition("/")[2]
    requests = [(obj, group, version, resource_of(str(obj.get("kind", ""))))]
    template = ((obj.get("spec") or {}).get("template") or {})
    if obj.get("kind") == "CronJob":
        template = (((obj.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
    if obj.get("kind") in WORKLOAD_KINDS | {"CronJob"} and template:
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {**(template.get("metadata") or {}), "namespace": (obj.get("metadata") or {}).get("namespace")},
               "spec": template.get("spec") or {}}
        requests.append((pod, "", "v1", "pods"))
    return requests


def trusted_identity(policies: dict[str, dict], default: str) -> str:
    """The username a cluster's policies trust as the platform (their `platform` variable), else `default`."""
    for policy in policies.values():
        for variable in policy.get("spec", {}).get("variables", []) or []:
            expression = str(variable.get("expression", "")).strip()
            if variable.get("name") == "platform" and len(expression) > 1 and expression[0] == expression[-1] == "'":
                return expression[1:-1]
    return default


def admission_problems(platform: RenderedPlatform) -> list[str]:
    problems: set[str] = set()
    default = platform_identity(platform)
    verdicts: dict[tuple, list[str]] = {}  # clusters repeat the same requests against the same policies: decide once
    tag_targets = {cluster: {o.tag: o.revision for o in objects if o.key.kind == WEBHOOK}
                   for cluster, objects in tag_objects(platform).items()}
    for cluster, paths in cluster_entry_points(platform).items():
        objects = distinct([o for p in paths for o in platform.builds[p]])
        injection = injection_by_label([r for r in platform.helm_releases if r.cluster == cluster], tag_targets.get(cluster))
        problems |= cluster_admission_problems(platform, objects, default, verdicts, injection)
    return sorted(problems)


def pod_security_problems(platform: RenderedPlatform, obj: dict, pod: dict, namespace: dict | None,
                          injection: dict[str, Injection]) -> list[str]:
    """What Pod Security Admission refuses of the pods a workload creates, sidecar included."""
    if namespace is None:
        return []  # a namespace the repo does not apply: its level is not ours to know
    level = namespace_level(namespace)
    found = violations(injected(pod, namespace, injection), level)
    if not found:
        return []
    name = namespace["metadata"]["name"]
    return [f"{platform.describe(obj)}: Pod Security {level} in namespace {name} refuses its pods: {'; '.join(found)}"]


def cluster_admission_problems(platform: RenderedPlatform, objects: list[dict], default_identity: str,
                               verdicts: dict[tuple, list[str]] | None = None,
                               injection: dict[str, Injection] | None = None) -> set[str]:
    """What one cluster's policies, and Pod Security, deny of what is applied to that cluster."""
    policies = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "ValidatingAdmissionPolicy"}
    bindings = [o for o in objects if o.get("kind") == "ValidatingAdmissionPolicyBinding"
                and o.get("spec", {}).get("policyName") in policies and "Deny" in (o.get("spec", {}).get("validationActions") or [])]
    namespaces = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "Namespace"}
    username = trusted_identity(policies, default_identity)
    verdicts = {} if verdicts is None else verdicts
    policy_keys = {id(p): json.dumps(p, sort_keys=True) for p in policies.values()}
    namespace_keys = {name: json.dumps(n, sort_keys=True) for name, n in namespaces.items()}
    applies = lru_cache(maxsize=None)(lambda index, namespace: binding_applies(
        bindings[index], namespaces.get(namespace) or {"metadata": {"name": namespace}}))
    problems: set[str] = set()
    for obj in objects:
        for request, group, version, resource in _requests(obj):
            namespace = str((request.get("metadata") or {}).get("namespace") or "")
            if resource == "pods":
                problems.update(pod_security_problems(platform, obj, request, namespaces.get(namespace), injection or {}))
            request_key: str | None = None
            for index, binding in enumerate(bindings):
                policy = policies[binding["spec"]["policyName"]]
                if not _matches(policy, group, version, resource):
                    continue
                if namespace and not applies(index, namespace):
                    continue
                if request_key is None:
                    request_key = json.dumps(request, sort_keys=True)
                key = (policy_keys[id(policy)], request_key, namespace_keys.get(namespace), username)
                if key not in verdicts:
                    verdicts[key] = denials(policy, request, username=username, namespace=namespaces.get(namespace))
                for message in verdicts[key]:
                    what = "its pods" if request is not obj else "it"
                    problems.add(f"{platform.describe(obj)}: admission policy {policy['metadata']['name']} denies {what}: {message}")
    return problems
