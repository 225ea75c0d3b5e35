"""Kubernetes and DNS naming rules shared by the answer checks.

Every answer that ends up as a Kubernetes name, label or host passes through one of these
functions, so the rules live in one place and carry the upstream limits verbatim.
"""

from __future__ import annotations

import re

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")

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
        "cert-manager",
    }
)


def dns_label_problem(value: object, max_length: int = 63) -> str:
    """Return why `value` is not a DNS-1123 label of at most `max_length` characters, or ''."""
    if not isinstance(value, str) or not value:
        return DNS_LABEL_HINT
    if len(value) > max_length:
        return f"shorten it to at most {max_length} characters (it has {len(value)})"
    if not DNS_LABEL.match(value):
        return DNS_LABEL_HINT
    return ""


def dns_subdomain_problem(value: object) -> str:
    """Return why `value` is not a DNS-1123 subdomain, or ''."""
    if not isinstance(value, str) or not value:
        return DNS_SUBDOMAIN_HINT
    if len(value) > 253:
        return f"shorten it to at most 253 characters (it has {len(value)})"
    if not DNS_SUBDOMAIN.match(value) or any(len(part) > 63 for part in value.split(".")):
        return DNS_SUBDOMAIN_HINT
    return ""


def label_key_problem(key: object) -> str:
    """Return why `key` is not a valid Kubernetes label key ([prefix/]name), or ''."""
    if not isinstance(key, str) or not key:
        return "use a non-empty label key such as 'region' or 'example.com/tier'"
    prefix, _, name = key.rpartition("/")
    if prefix and dns_subdomain_problem(prefix):
        return f"the prefix '{prefix}' must be a DNS subdomain"
    if len(name) > 63 or not LABEL_NAME.match(name):
        return "label names are at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric"
    return ""


def label_value_problem(value: object) -> str:
    """Return why `value` is not a valid Kubernetes label value, or ''."""
    if not isinstance(value, str):
        return "label values must be strings (quote numbers and booleans)"
    if value and (len(value) > 63 or not LABEL_NAME.match(value)):
        return "label values are at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric"
    return ""
