"""Checks for the questionnaire's answers.

Each function takes the answer first (so it works as a Jinja filter, `answer | check(...)`) and
returns '' when the answer is fine, otherwise one sentence that names the field, the offending value
and the fix; copier shows it as
"Validation error for question '<name>': <sentence>".
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from git_urls import port_in_range, redacted_url
from root_certificate import root_pem_problem
from gitops_identity import gitops_identity_problem
from revision_plan import ISTIO_DEFAULT_TAG, tag_versions, version_key
from naming_rules import (
    ARGOCD,
    RESERVED_NAMESPACES,
    dns_label_problem,
    dns_subdomain_problem,
    external_host_problem,
    label_key_problem,
    label_value_problem,
    namespace_owner,
    quoted_answer,
)

# Every pattern here is used with fullmatch: `$` would also accept a trailing newline.
# Exact X.Y.Z in ASCII digits without leading zeros (\d would also take other scripts' digits).
VERSION = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
SUPPORTED_MINORS = (29, 30, 31)
# The oldest patch per minor whose charts have every values key the template sets, and why; recorded beside the
# chart value models so the check of a generated repo refuses the same versions.
MINIMUMS_FILE = Path(__file__).resolve().parent.parent / "istio_gitops_check" / "chart_values" / "minimums.json"
# A team slug that GitHub and GitLab both produce, so `@<org>/<slug>` is a valid CODEOWNERS owner, and a plain
# name for the Kubernetes group the identity provider sends (RBAC subjects, Argo CD project roles).
TEAM_SLUG = re.compile(r"[a-z0-9]([a-z0-9_-]*[a-z0-9])?")
TEAM_SLUG_MAX = 100
# git check-ref-format's rules, narrowed to characters a shell never interprets (the README's commands use it).
BRANCH_CHARACTERS = re.compile(r"[A-Za-z0-9_@%+=,./-]+")
CLUSTER_FIELDS = frozenset({"name", "network", "labels", "gitops_identity", "platform", "api_server"})
# The Kubernetes distributions the istio-cni chart ships a platform profile for (files/profile-platform-*.yaml,
# the same six in 1.29, 1.30 and 1.31); they keep the CNI binaries and configuration in their own directories.
CNI_PLATFORMS = ("gke", "k3d", "k3s", "microk8s", "minikube", "openshift")
CLUSTER_NAME_MAX = 40


def name_problem(value: object, field: str, max_length: int = 63) -> str:
    """A DNS-1123 label answer (platform name, mesh ID, network...)."""
    problem = dns_label_problem(value, max_length)
    return f"{field} {quoted_answer(value)}: {problem}" if problem else ""


def subdomain_problem(value: object, field: str) -> str:
    """A DNS-1123 subdomain answer (trust domain, ingress domain...)."""
    problem = dns_subdomain_problem(value)
    return f"{field} {quoted_answer(value)}: {problem}" if problem else ""


def argocd_namespace_problem(value: object) -> str:
    """Argo CD's own namespace: a DNS label no other part of any platform uses."""
    problem = name_problem(value, "argocd_namespace")
    if problem:
        return problem
    owner = namespace_owner(value)
    if owner and owner != ARGOCD:
        return (f"argocd_namespace {quoted_answer(value)} belongs to {owner}; give Argo CD a namespace of its own, "
                "e.g. argocd (the namespace it was installed into)")
    return ""


def istio_version_problem(value: object) -> str:
    """An Istio release this template supports, as X.Y.Z."""
    match = VERSION.fullmatch(value) if isinstance(value, str) else None
    if not match:
        return (f"istio_version {quoted_answer(value)}: write a release as MAJOR.MINOR.PATCH, without 'v', spaces or leading "
                "zeros, e.g. 1.31.1")
    major, minor = int(match[1]), int(match[2])
    if major != 1 or minor not in SUPPORTED_MINORS:
        lines = ", ".join(f"1.{m}.x" for m in SUPPORTED_MINORS)
        return f"istio_version '{value}': this template supports the Istio lines {lines}; pick one of them"
    minimum = minimum_patch(major, minor)
    if minimum and tuple(map(int, value.split("."))) < tuple(map(int, minimum["version"].split("."))):
        return (f"istio_version '{value}': the oldest {major}.{minor} release this template supports is {minimum['version']} "
                f"({minimum['why']}); use {minimum['version']} or newer")
    return ""


def minimum_patch(major: int, minor: int) -> dict[str, str]:
    """minimums.json's entry for a minor line ({version, why}), or {} when it records none."""
    minimums = json.loads(MINIMUMS_FILE.read_text(encoding="utf-8"))["minimums"]
    return minimums.get(f"{major}.{minor}", {})


def git_branch_problem(value: object) -> str:
    """A branch name git accepts (the subset of git check-ref-format that matters here)."""
    text = value if isinstance(value, str) else ""
    bad = (
        not text
        or text.startswith(("-", "/"))
        or text.endswith(("/", ".", ".lock"))
        or ".." in text
        or "//" in text
        or "@{" in text
        or text == "@"
        or "/." in text
        or text.startswith(".")
        or not BRANCH_CHARACTERS.fullmatch(text)
    )
    return (
        f"git_branch {quoted_answer(value)}: use a valid branch name of letters, digits and '_@%+=,./-', such as 'main' or "
        "'release/platform' (no spaces, shell characters or git's reserved sequences)" if bad else ""
    )


def group_problem(value: object, field: str) -> str:
    """A group that is both a team slug on the Git host (CODEOWNERS `@<org>/<slug>`) and the Kubernetes group
    the identity provider sends for it (RBAC subjects, Argo CD project roles)."""
    text = value if isinstance(value, str) else ""
    if text.startswith("system:"):
        reason = "system:* groups are Kubernetes' own (system:authenticated is every user)"
    elif text.startswith("@") or "/" in text:
        reason = "give the team slug alone, the organisation comes from codeowners_org"
    elif ":" in text or "@" in text:
        reason = "provider prefixes and e-mail style names (oidc:x, x@corp) are not team slugs"
    elif not TEAM_SLUG.fullmatch(text) or len(text) > TEAM_SLUG_MAX:
        reason = f"a team slug is lowercase letters, digits, '-' and '_', at most {TEAM_SLUG_MAX} characters"
    else:
        return ""
    return (f"{field} {quoted_answer(value)}: {reason}. Fix: use the Git host's team slug (e.g. platform-admins) and "
            "have your identity provider send the group synced to that team under the same name: CODEOWNERS "
            "needs @<org>/<slug>, RBAC binds that group")


def gateways_problem(value: object) -> str:
    """The enabled gateway roles."""
    allowed = ("ingress", "egress", "eastwest")
    items = value if isinstance(value, list) else []
    unknown = [item for item in items if item not in allowed]
    if not isinstance(value, list) or unknown:
        return f"gateways_enabled {value}: choose any of {', '.join(allowed)}"
    if len(set(items)) != len(items):
        return f"gateways_enabled {value}: list each gateway once"
    return ""


def egress_hosts_problem(value: object) -> str:
    """External hosts reachable through the egress gateway: exact DNS names outside the cluster, each once."""
    if not isinstance(value, list):
        return "egress_allowed_hosts: give a YAML list of host names, e.g. [api.github.com], or [] for none"
    seen: set[str] = set()
    for host in value:
        problem = external_host_problem(host)
        if problem:
            return f"egress host {quoted_answer(host)}: {problem}"
        if host in seen:
            return f"egress host '{host}' is listed twice; keep one entry"
        seen.add(host)
    return ""


EXTERNAL_AUTHZ_SERVICE = re.compile(r"([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc\.cluster\.local:([1-9][0-9]{0,4})")
EXTERNAL_AUTHZ_EXAMPLE = "ext-authz.ext-authz.svc.cluster.local:9000"
# `<namespace>/<host>` in Sidecars and the admission policy, whose lines must stay within the repo's yamllint limit (140).
EXTERNAL_AUTHZ_IMPORT_MAX = 120


def external_authz_service_problem(value: object, argocd_namespace: object = "") -> str:
    """The gRPC ext_authz service of the CUSTOM AuthorizationPolicy: '' (off), or a Kubernetes Service as
    `<name>.<namespace>.svc.cluster.local:<port>` in a namespace of its own (the Sidecars import that host)."""
    if value == "" or value is None:
        return ""
    text = str(value)
    match = EXTERNAL_AUTHZ_SERVICE.fullmatch(text)
    if not match or int(match.group(5)) > 65535:
        return (f"external_authz_service {quoted_answer(value)}: write the Kubernetes Service as "
                f"<name>.<namespace>.svc.cluster.local:<port 1-65535>, e.g. {EXTERNAL_AUTHZ_EXAMPLE}, or leave it empty for none")
    name, namespace = match.group(1), match.group(3)
    for label, what in ((name, "service name"), (namespace, "namespace")):
        problem = dns_label_problem(label)
        if problem:
            return f"external_authz_service '{text}': {what} {problem}"
    imported_as = f"{namespace}/{text.rpartition(':')[0]}"
    if len(imported_as) > EXTERNAL_AUTHZ_IMPORT_MAX:
        return (f"external_authz_service '{text}': shorten the name or namespace; Sidecars import it as '{imported_as}', "
                f"which must stay within {EXTERNAL_AUTHZ_IMPORT_MAX} characters (it has {len(imported_as)})")
    owner = ARGOCD if argocd_namespace and namespace == argocd_namespace else namespace_owner(namespace)
    if owner or namespace in RESERVED_NAMESPACES:
        return (f"external_authz_service '{text}': namespace '{namespace}' belongs to "
                f"{owner or 'the platform'}; run the authorization service in a namespace of its own")
    return ""


def clusters_problem(value: object, gateways_enabled: object = (), ca_mode: object = "") -> str:
    """The cluster list: non-empty, unique names and valid fields; several networks need east-west."""
    if not isinstance(value, list) or not value:
        return "clusters: give at least one cluster, e.g. [{name: prod-eu-1, network: net-eu}]"
    names: set[str] = set()
    networks: set[str] = set()
    for index, cluster in enumerate(value):
        if not isinstance(cluster, Mapping):
            return f"clusters[{index}]: write each cluster as a mapping with 'name' and 'network'"
        name = cluster.get("name")
        who = f"cluster '{name}'" if name is not None else f"clusters[{index}]"
        extra = sorted(set(map(str, cluster)) - CLUSTER_FIELDS)
        if extra:
            return f"{who}: unknown field(s) {', '.join(extra)}; allowed are name, network, labels, gitops_identity, platform, api_server"
        problem = dns_label_problem(name, CLUSTER_NAME_MAX)
        if problem:
            return f"{who}: {problem}"
        if name in RESERVED_NAMESPACES or name in {"in-cluster", "local"}:
            return f"{who}: '{name}' is reserved; choose a name like 'prod-eu-1'"
        if name in names:
            return f"{who} is listed twice; cluster names must be unique"
        names.add(name)
        network = cluster.get("network")
        problem = dns_label_problem(network)
        if problem:
            return f"{who}: network '{network}': {problem}"
        networks.add(network)
        if "gitops_identity" in cluster:
            problem = gitops_identity_problem(cluster["gitops_identity"])
            if problem:
                return f"{who}: {problem}"
        if "platform" in cluster and cluster["platform"] not in CNI_PLATFORMS:
            return (f"{who}: platform '{cluster['platform']}' is not one istio-cni knows; use one of "
                    f"{', '.join(CNI_PLATFORMS)}, or leave platform out for other distributions (EKS, AKS, kubeadm)")
        labels = cluster.get("labels", {})
        if not isinstance(labels, Mapping):
            return f"{who}: labels must be a mapping such as {{region: eu-west-1, environment: prod}}"
        for key, label in labels.items():
            problem = label_key_problem(key) or label_value_problem(label)
            if problem:
                return f"{who}: label '{key}: {label}': {problem}"
    for cluster in value:
        if "api_server" in cluster or len(value) > 1:
            problem = api_server_problem(cluster.get("api_server"), f"cluster '{cluster['name']}'")
            if problem:
                return problem
    if ca_mode == "self-signed-dev" and len(value) > 1:
        return (
            "clusters: the self-signed-dev CA gives every cluster its own root, so clusters would not trust each "
            "other; use one cluster, or a ca_mode backed by one PKI (cert-manager-issuer, aws-pca, vault, istio-csr)"
        )
    enabled = gateways_enabled if isinstance(gateways_enabled, (list, tuple)) else ()
    if len(networks) > 1 and "eastwest" not in enabled:
        return (
            f"clusters span {len(networks)} networks ({', '.join(sorted(networks))}): add 'eastwest' to "
            "gateways_enabled so they can reach each other, or put them on one network"
        )
    return ""


MAX_REVISIONS = 3
REVISION_LIKE = re.compile(r"[0-9]+-[0-9]+-[0-9]+")  # a prefix test (match): 1-31-1-canary looks like one too


def istio_versions_problem(value: object) -> str:
    """Installed Istio versions: 1 to 3 supported releases, each once, spanning at most two minors
    (a canary may skip one minor from the oldest installed)."""
    if not isinstance(value, list) or not value:
        return "istio_versions: give a YAML list of installed versions, e.g. [1.31.1]"
    for version in value:
        problem = istio_version_problem(version)
        if problem:
            return problem.replace("istio_version ", "istio_versions: ", 1)
    if len(set(value)) != len(value):
        duplicate = next(v for v in value if value.count(v) > 1)
        return f"istio_versions: {duplicate} is listed twice; list each version once"
    if len(value) > MAX_REVISIONS:
        return f"istio_versions: {len(value)} versions installed; keep at most {MAX_REVISIONS} (remove the oldest first)"
    minors = sorted(version_key(v)[1] for v in value)
    if minors[-1] - minors[0] > 2:
        return (
            f"istio_versions: 1.{minors[-1]} is more than one minor ahead of the oldest installed 1.{minors[0]}; "
            f"install 1.{minors[0] + 1} or 1.{minors[0] + 2} first, or remove the oldest version"
        )
    return ""


def revision_tags_problem(value: object, versions: object) -> str:
    """Revision tags: a list of {name, version}; each name once, a DNS label that is neither
    'default' nor revision-like, pointing at an installed version."""
    if not isinstance(value, list) or not value:
        return "istio_revision_tags: give a YAML list such as [{name: prod-stable, version: 1.31.1}]"
    installed = versions if isinstance(versions, list) else []
    seen: set[str] = set()
    for index, tag in enumerate(value):
        if not isinstance(tag, Mapping) or set(map(str, tag)) != {"name", "version"}:
            return f"istio_revision_tags[{index}]: write each tag as {{name: <tag>, version: <installed version>}}"
        name, version = tag["name"], str(tag["version"])
        problem = dns_label_problem(name)
        if problem:
            return f"tag '{name}': {problem}"
        if name == ISTIO_DEFAULT_TAG:
            return f"tag '{name}': Istio's default tag is derived from istio_default_tag; choose another name"
        if REVISION_LIKE.match(str(name)):
            return f"tag '{name}': looks like a revision name; tags must not be confused with revisions"
        if name in seen:
            return f"tag '{name}' is listed twice; each tag is owned by exactly one revision"
        seen.add(name)
        if version not in installed:
            return f"tag '{name}' points at {version}, which is not in istio_versions; install it first or point the tag at one of {', '.join(map(str, installed))}"
    return ""


def default_tag_problem(value: object, tags: object) -> str:
    """The default tag must be one of the revision tags."""
    names = list(tag_versions(tags)) if isinstance(tags, list) and not revision_tags_problem(tags, [t.get("version") for t in tags if isinstance(t, Mapping)]) else []
    if value not in names:
        return f"istio_default_tag '{value}': must be one of the revision tags ({', '.join(names) or 'none defined'})"
    return ""


def gateway_revision_problem(value: object, tags: object, versions: object) -> str:
    """Gateways follow a revision tag, or are pinned to an installed version."""
    names = [str(t.get("name")) for t in tags if isinstance(t, Mapping)] if isinstance(tags, list) else []
    installed = [str(v) for v in versions] if isinstance(versions, list) else []
    if str(value) not in names + installed:
        return (
            f"gateway_revision '{value}': use a revision tag to follow ({', '.join(names)}) "
            f"or an installed version to pin ({', '.join(installed)})"
        )
    return ""


# GitHub's rule for organisation names (single hyphens inside, at most 39), which GitLab group paths also accept.
GITHUB_ORG = re.compile(r"[A-Za-z0-9](-?[A-Za-z0-9]){0,38}")


def github_org_problem(value: object) -> str:
    """A GitHub organisation name, used as @<org>/<group> in CODEOWNERS."""
    if not isinstance(value, str) or not GITHUB_ORG.fullmatch(value):
        return (f"codeowners_org {quoted_answer(value)}: use the organisation's name as it appears in its URL (without '@'): "
                "letters, digits and single hyphens, at most 39 characters")
    return ""


AWS_PCA_ARN = re.compile(r"arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:[0-9]{12}:certificate-authority/[0-9a-f-]+")


def aws_pca_arn_problem(value: object) -> str:
    """An AWS Private CA ARN (its region is taken from it)."""
    if not isinstance(value, str) or not AWS_PCA_ARN.fullmatch(value):
        return f"ca_aws_pca_arn {quoted_answer(value)}: use the CA's ARN, arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>"
    return ""


URL_PATH = re.compile(r"(/[A-Za-z0-9._~%+-]*)*")


def https_url_problem(value: object, field: str) -> str:
    """An https:// URL of a server: a host, an optional port from 1 to 65535 and a plain path; no credentials,
    query or fragment."""
    text = value if isinstance(value, str) else ""
    fix = f"{field} {quoted_answer(redacted_url(text) if text else value)}: use an https:// URL such as https://vault.example.com:8200"
    if not text.startswith("https://") or any(c.isspace() or not c.isprintable() for c in text):
        return fix
    parts = urlsplit(text)
    if "@" in parts.netloc:
        return f"{fix}; no credentials in the URL (cert-manager logs in with its own Kubernetes identity)"
    if not port_in_range(parts):
        return f"{fix}; a port is a number from 1 to 65535"
    host = parts.hostname or ""
    if dns_subdomain_problem(host) and not _is_ip(host):
        return f"{fix}; the host must be a DNS name or an IP address"
    if parts.query or parts.fragment or "?" in text or "#" in text or not URL_PATH.fullmatch(parts.path):
        return f"{fix}; the path may hold letters, digits and '._~%+-/' only, with no query or fragment"
    return ""


def api_server_problem(value: object, who: str) -> str:
    """A cluster's Kubernetes API server as its peers reach it (written into the kubeconfig its remote secret
    carries): https://<host>[:port], no path, no credentials."""
    if value is None:
        return (f"{who}: api_server is missing; with several clusters each one's istiod reads the others' API servers, "
                "so give each cluster's address as its peers reach it, e.g. api_server: https://api.prod-eu-1.example.com:6443")
    problem = https_url_problem(value, f"{who}: api_server")
    if problem:
        return problem.replace("https://vault.example.com:8200", "https://api.prod-eu-1.example.com:6443")
    if urlsplit(str(value)).path not in ("", "/"):
        return f"{who}: api_server {quoted_answer(value)}: give the server's address only (https://<host>[:<port>]), no path"
    return ""


def mesh_root_problem(value: object, clusters: object = (), ca_mode: object = "") -> str:
    """The root CA certificate(s) every cluster trusts: required when several clusters must trust each other, and
    optional for one cluster (its issuer's ca.crt is then its only root)."""
    several = isinstance(clusters, list) and len(clusters) > 1
    if value is None or (isinstance(value, str) and not value.strip()):
        if several and ca_mode != "self-signed-dev":
            return (f"mesh_root_ca_pem: a mesh of {len(clusters)} clusters needs one pinned root, or each cluster trusts only "
                    "what its own issuer writes to ca.crt; paste your PKI's root CA certificate (PEM, public)")
        return ""
    return root_pem_problem(value)


ADDONS = ("cert-manager", "external-secrets", "aws-privateca-issuer", "cert-manager-istio-csr")


def addons_elsewhere_problem(value: object) -> str:
    """The add-ons another team already runs on every cluster (the platform then neither installs nor owns them)."""
    if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
        return f"addons_installed_elsewhere {quoted_answer(value)}: give a YAML list drawn from {', '.join(ADDONS)}, e.g. [cert-manager]"
    unknown = [v for v in value if v not in ADDONS]
    if unknown:
        return f"addons_installed_elsewhere: {', '.join(map(repr, unknown))} is not an add-on this template installs; use {', '.join(ADDONS)}"
    if len(set(value)) != len(value):
        return "addons_installed_elsewhere: list each add-on once"
    return ""


AWS_IAM_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}")


def aws_iam_role_problem(value: object) -> str:
    """The IAM role aws-privateca-issuer assumes through IRSA; empty for EKS Pod Identity (no annotation)."""
    if value in ("", None):
        return ""
    if not isinstance(value, str) or not AWS_IAM_ROLE_ARN.fullmatch(value):
        return (f"ca_aws_pca_iam_role_arn {quoted_answer(value)}: use the role's ARN, arn:aws:iam::<account>:role/<name>, "
                "or leave it empty when EKS Pod Identity gives the issuer its role")
    return ""


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def vault_path_problem(value: object) -> str:
    """A Vault API path, without a leading slash or /v1/ prefix."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)+", value):
        return f"ca_vault_pki_path {quoted_answer(value)}: write the path as Vault shows it, e.g. pki_int/root/sign-intermediate"
    return ""
