"""Kubernetes and DNS naming rules shared by the answer checks.

Every answer that ends up as a Kubernetes name, label or host passes through one of these
functions, so the rules live in one place and carry the upstream limits verbatim.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

# Matched with fullmatch: `$` would also accept a trailing newline, which splits YAML and CODEOWNERS lines.
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")

DNS_LABEL_HINT = "use a DNS-1123 label: lowercase letters, digits, '-', starting and ending with a letter or digit"
DNS_SUBDOMAIN_HINT = "use a DNS-1123 subdomain: dot-separated lowercase labels of letters, digits and '-'"

RESERVED_NAMESPACES = frozenset(
    {
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "istio-system",
        "istio-config",
        "istio-cni",
        "istio-ingress",
        "istio-egress",
        "istio-eastwest",
        "istio-gateways",
        "argocd",
        "flux-system",
        # The add-ons' namespaces (extensions/platform_addons.py), whoever installs them.
        "cert-manager",
        "external-secrets",
        "aws-privateca-issuer",
    }
)


def quoted_answer(value: object) -> str:
    """An answer as messages show it: quoted, with newlines and other control characters visible."""
    return repr(value) if isinstance(value, str) else f"'{value}'"


def dns_label_problem(value: object, max_length: int = 63) -> str:
    """Return why `value` is not a DNS-1123 label of at most `max_length` characters, or ''."""
    if not isinstance(value, str) or not value:
        return DNS_LABEL_HINT
    if len(value) > max_length:
        return f"shorten it to at most {max_length} characters (it has {len(value)})"
    if not DNS_LABEL.fullmatch(value):
        return DNS_LABEL_HINT
    return ""


def dns_subdomain_problem(value: object) -> str:
    """Return why `value` is not a DNS-1123 subdomain, or ''."""
    if not isinstance(value, str) or not value:
        return DNS_SUBDOMAIN_HINT
    if len(value) > 253:
        return f"shorten it to at most 253 characters (it has {len(value)})"
    if not DNS_SUBDOMAIN.fullmatch(value) or any(len(part) > 63 for part in value.split(".")):
        return DNS_SUBDOMAIN_HINT
    return ""


def label_key_problem(key: object) -> str:
    """Return why `key` is not a valid Kubernetes label key ([prefix/]name), or ''."""
    if not isinstance(key, str) or not key:
        return "use a non-empty label key such as 'region' or 'example.com/tier'"
    prefix, _, name = key.rpartition("/")
    if prefix and dns_subdomain_problem(prefix):
        return f"the prefix '{prefix}' must be a DNS subdomain"
    if len(name) > 63 or not LABEL_NAME.fullmatch(name):
        return "label names are at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric"
    return ""


def label_value_problem(value: object) -> str:
    """Return why `value` is not a valid Kubernetes label value, or ''."""
    if not isinstance(value, str):
        return "label values must be strings (quote numbers and booleans)"
    if value and (len(value) > 63 or not LABEL_NAME.fullmatch(value)):
        return "label values are at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric"
    return ""


ARGOCD = "Argo CD"
# Namespaces every platform of this template owns, and who runs there. `kube-` and `istio-` are whole prefixes:
# Kubernetes reserves the first; the second covers istio-system, istio-config, istio-cni and every gateway
# namespace of either gateway layout.
FIXED_NAMESPACE_OWNERS = {
    "default": "Kubernetes",
    "flux-system": "Flux",
    "cert-manager": "cert-manager (the mesh's certificates)",
    # Reserved whatever the CA mode: the team snapshot does not carry ca_mode, and a platform may switch to aws-pca.
    "aws-privateca-issuer": "aws-privateca-issuer (AWS Private CA for the mesh's certificates)",
    "example": "the example app under apps/",
}
PREFIX_OWNERS = {"kube-": "Kubernetes", "istio-": "Istio (control plane, mesh config, CNI and gateways)"}
REMOTE_SECRETS_NAMESPACE = "external-secrets"


def namespace_owner(namespace: object, platform: Mapping | None = None) -> str:
    """Who owns `namespace` on the platform with these answers ('' if it is free).

    `platform` is the platform's answers (or the team's snapshot of them): its Argo CD namespace, and
    external-secrets when several clusters exchange remote secrets through it. Without answers, every
    namespace any platform of this template may use counts.
    """
    name = str(namespace)
    for prefix, owner in PREFIX_OWNERS.items():
        if name.startswith(prefix):
            return owner
    if name in FIXED_NAMESPACE_OWNERS:
        return FIXED_NAMESPACE_OWNERS[name]
    argocd_namespaces = {"argocd"}
    clusters = 2
    if platform is not None:
        if platform.get("gitops_engine", "argocd") == "argocd":
            argocd_namespaces.add(str(platform.get("argocd_namespace", "argocd")))
        clusters = len(platform.get("clusters") or [])
    if name in argocd_namespaces:
        return ARGOCD
    if name == REMOTE_SECRETS_NAMESPACE and clusters > 1:
        return "external-secrets (the clusters' remote secrets)"
    return ""


IN_CLUSTER_SUFFIXES = (".svc", ".cluster.local", ".localhost")


def external_host_problem(value: object) -> str:
    """Return why `value` is not the DNS name of a host outside the cluster, or ''.

    The egress gateway routes external hosts by name (ServiceEntry resolution DNS, TLS SNI): an IP, a range or
    a wildcard cannot be resolved, and an in-cluster name needs no egress at all.
    """
    text = value if isinstance(value, str) else ""
    try:
        ipaddress.ip_network(text.strip("[]"), strict=False)
    except ValueError:
        pass
    else:
        return "IP addresses and ranges cannot be routed by name; list the host's DNS name, e.g. api.github.com"
    if text.startswith("*"):
        return "wildcards cannot be resolved by DNS; list each exact host name"
    problem = dns_subdomain_problem(value)
    if problem:
        return problem
    if text == "localhost" or text.endswith(IN_CLUSTER_SUFFIXES) or ".svc." in text:
        return "an in-cluster or local name needs no egress; list hosts outside the cluster, e.g. api.github.com"
    if "." not in text:
        return "a single-label name only resolves inside the cluster; give the fully qualified name, e.g. api.github.com"
    if text.rsplit(".", 1)[-1].isdigit():
        return "looks like an IP address; list the host's DNS name, e.g. api.github.com"
    return ""
