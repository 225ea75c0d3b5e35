"""Strict schema validation (istio_gitops_check/strict_schemas.py): valid objects of every family pass with no
errors; typos, bad enums, wrong types and misplaced `description` fields are reported with their path;
unknown kinds are reported as not covered.

Installs the schema packages on first use (istio_gitops_check/schema_packages.py). Run from the repository root:
    .venv/bin/python -m pytest tests/unit/test_strict_schemas.py -q
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from istio_gitops_check import schema_packages
from istio_gitops_check.strict_schemas import (
    KUBERNETES_VERSION,
    ObjectReport,
    core_kinds,
    covered_kinds,
    validate_objects,
)

# --- valid objects ---------------------------------------------------------------------------------------

SIDECAR: dict[str, Any] = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "Sidecar",
    "metadata": {"name": "default", "namespace": "shop", "labels": {"app.kubernetes.io/managed-by": "argocd"}},
    "spec": {
        "egress": [{"hosts": ["./*", "istio-system/*", "istio-egress/egress.example.com"]}],
        "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"},
    },
}

PEER_AUTHENTICATION: dict[str, Any] = {
    "apiVersion": "security.istio.io/v1",
    "kind": "PeerAuthentication",
    "metadata": {"name": "default", "namespace": "istio-system"},
    "spec": {"mtls": {"mode": "STRICT"}},
}

ENVOY_FILTER: dict[str, Any] = {
    "apiVersion": "networking.istio.io/v1alpha3",
    "kind": "EnvoyFilter",
    "metadata": {"name": "ingress-lua", "namespace": "istio-ingress"},
    "spec": {
        "workloadSelector": {"labels": {"istio": "ingressgateway"}},
        "configPatches": [
            {
                "applyTo": "HTTP_FILTER",
                "match": {
                    "context": "GATEWAY",
                    "listener": {
                        "filterChain": {
                            "filter": {
                                "name": "envoy.filters.network.http_connection_manager",
                                "subFilter": {"name": "envoy.filters.http.router"},
                            }
                        }
                    },
                },
                "patch": {
                    "operation": "INSERT_BEFORE",
                    # A protobuf Struct: free-form, any keys (and arbitrarily nested) are accepted.
                    "value": {
                        "name": "envoy.lua",
                        "typed_config": {
                            "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
                            "defaultSourceCode": {"inlineString": "function envoy_on_request(h) end"},
                            "anyKeyAtAll": [{"nested": {"deeper": True}}],
                        },
                    },
                },
            }
        ],
    },
}

ISTIO_GATEWAY: dict[str, Any] = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "Gateway",
    "metadata": {"name": "egress", "namespace": "istio-egress"},
    "spec": {
        "selector": {"istio": "egressgateway"},
        "servers": [
            {
                "port": {"number": 443, "name": "tls", "protocol": "TLS"},
                "hosts": ["egress.example.com"],
                "tls": {"mode": "PASSTHROUGH"},
            }
        ],
    },
}

SERVICE_ENTRY: dict[str, Any] = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "ServiceEntry",
    "metadata": {"name": "example", "namespace": "istio-egress"},
    "spec": {
        "hosts": ["egress.example.com"],
        "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
        "resolution": "DNS",
        "location": "MESH_EXTERNAL",
        "exportTo": ["."],
    },
}

VIRTUAL_SERVICE: dict[str, Any] = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "VirtualService",
    "metadata": {"name": "example-through-egress", "namespace": "istio-egress"},
    "spec": {
        "hosts": ["egress.example.com"],
        "gateways": ["mesh", "istio-egress/egress"],
        "tls": [
            {
                "match": [{"gateways": ["mesh"], "port": 443, "sniHosts": ["egress.example.com"]}],
                "route": [
                    {
                        "destination": {
                            "host": "istio-egressgateway.istio-egress.svc.cluster.local",
                            "port": {"number": 443},
                        }
                    }
                ],
            },
            {
                "match": [{"gateways": ["istio-egress/egress"], "port": 443, "sniHosts": ["egress.example.com"]}],
                "route": [{"destination": {"host": "egress.example.com", "port": {"number": 443}}, "weight": 100}],
            },
        ],
    },
}

AUTHORIZATION_POLICY: dict[str, Any] = {
    "apiVersion": "security.istio.io/v1",
    "kind": "AuthorizationPolicy",
    "metadata": {"name": "allow-frontend", "namespace": "shop"},
    "spec": {
        "selector": {"matchLabels": {"app": "backend"}},
        "action": "ALLOW",
        "rules": [
            {
                "from": [{"source": {"principals": ["cluster.local/ns/shop/sa/frontend"]}}],
                "to": [{"operation": {"methods": ["GET", "POST"], "paths": ["/api/*"]}}],
                "when": [{"key": "request.headers[x-tenant]", "values": ["shop"]}],
            }
        ],
    },
}

APPLICATION: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {
        "name": "istiod",
        "namespace": "argocd",
        "annotations": {"argocd.argoproj.io/sync-wave": "-1"},
        "finalizers": ["resources-finalizer.argocd.argoproj.io"],
    },
    "spec": {
        "project": "istio",
        "sources": [
            {
                "repoURL": "https://istio-release.storage.googleapis.com/charts",
                "chart": "istiod",
                "targetRevision": "1.31.1",
                "helm": {
                    "releaseName": "istiod",
                    "valueFiles": ["$values/clusters/prod/istiod-values.yaml"],
                    # RawExtension: free-form chart values.
                    "valuesObject": {"pilot": {"resources": {"requests": {"cpu": "500m"}}}, "anything": [1, "x"]},
                },
            },
            {"repoURL": "https://git.example.com/platform/gitops.git", "targetRevision": "main", "ref": "values"},
        ],
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "istio-system"},
        "syncPolicy": {
            "automated": {"prune": True, "selfHeal": True},
            "syncOptions": ["CreateNamespace=false", "ServerSideApply=true"],
            "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}},
        },
        "ignoreDifferences": [
            {
                "group": "admissionregistration.k8s.io",
                "kind": "ValidatingWebhookConfiguration",
                "name": "istio-validator-istio-system",
                "jqPathExpressions": [".webhooks[]?.failurePolicy"],
            },
            {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]},
        ],
    },
}

APP_PROJECT: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "AppProject",
    "metadata": {"name": "istio", "namespace": "argocd"},
    "spec": {
        "description": "Istio control plane and gateways",
        "sourceRepos": ["https://istio-release.storage.googleapis.com/charts", "https://git.example.com/*"],
        "destinations": [
            {"server": "https://kubernetes.default.svc", "namespace": "istio-system"},
            {"server": "https://kubernetes.default.svc", "namespace": "istio-*"},
        ],
        "clusterResourceWhitelist": [
            {"group": "admissionregistration.k8s.io", "kind": "ValidatingWebhookConfiguration"},
            {"group": "apiextensions.k8s.io", "kind": "CustomResourceDefinition"},
        ],
        "namespaceResourceWhitelist": [{"group": "*", "kind": "*"}],
        "roles": [
            {
                "name": "read-only",
                "description": "Read-only access",
                "policies": ["p, proj:istio:read-only, applications, get, istio/*, allow"],
            }
        ],
        "syncWindows": [
            {
                "kind": "deny",
                "schedule": "0 22 * * *",
                "duration": "8h",
                "applications": ["*"],
                "description": "Nightly freeze",
            }
        ],
    },
}

NAMESPACE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Namespace",
    "metadata": {"name": "shop", "labels": {"istio.io/rev": "1-31-1"}},
}

ROLE: dict[str, Any] = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "Role",
    "metadata": {"name": "istio-config-editor", "namespace": "shop"},
    "rules": [
        {
            "apiGroups": ["networking.istio.io", "security.istio.io"],
            "resources": ["virtualservices", "destinationrules", "authorizationpolicies"],
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
        }
    ],
}

ROLE_BINDING: dict[str, Any] = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "RoleBinding",
    "metadata": {"name": "istio-config-editor", "namespace": "shop"},
    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "istio-config-editor"},
    "subjects": [{"kind": "Group", "name": "team-shop", "apiGroup": "rbac.authorization.k8s.io"}],
}

VALIDATING_ADMISSION_POLICY: dict[str, Any] = {
    "apiVersion": "admissionregistration.k8s.io/v1",
    "kind": "ValidatingAdmissionPolicy",
    "metadata": {"name": "deny-envoyfilter-outside-istio-system"},
    "spec": {
        "failurePolicy": "Fail",
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": ["networking.istio.io"],
                    "apiVersions": ["*"],
                    "operations": ["CREATE", "UPDATE"],
                    "resources": ["envoyfilters"],
                }
            ]
        },
        "validations": [
            {
                "expression": "request.namespace == 'istio-system'",
                "message": "EnvoyFilters are platform-owned",
                "reason": "Forbidden",
            }
        ],
    },
}

VALIDATING_ADMISSION_POLICY_BINDING: dict[str, Any] = {
    "apiVersion": "admissionregistration.k8s.io/v1",
    "kind": "ValidatingAdmissionPolicyBinding",
    "metadata": {"name": "deny-envoyfilter-outside-istio-system"},
    "spec": {"policyName": "deny-envoyfilter-outside-istio-system", "validationActions": ["Deny", "Audit"]},
}

# Other families the template renders (Flux, ApplicationSet, Gateway API, cert-manager), with free-form parts.
FLUX_KUSTOMIZATION: dict[str, Any] = {
    "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
    "kind": "Kustomization",
    "metadata": {"name": "istio", "namespace": "flux-system"},
    "spec": {
        "interval": "10m",
        "path": "./clusters/prod/istio",
        "prune": True,
        "wait": True,
        "sourceRef": {"kind": "GitRepository", "name": "platform"},
        "dependsOn": [{"name": "istio-crds"}],
        "postBuild": {
            "substitute": {"CLUSTER_NAME": "prod"},
            "substituteFrom": [{"kind": "ConfigMap", "name": "vars"}],
        },
        "patches": [{"patch": "- op: replace\n  path: /spec/replicas\n  value: 3", "target": {"kind": "Deployment"}}],
    },
}

FLUX_HELM_RELEASE: dict[str, Any] = {
    "apiVersion": "helm.toolkit.fluxcd.io/v2",
    "kind": "HelmRelease",
    "metadata": {"name": "istiod", "namespace": "istio-system"},
    "spec": {
        "interval": "10m",
        "chart": {
            "spec": {
                "chart": "istiod",
                "version": "1.31.1",
                "sourceRef": {"kind": "HelmRepository", "name": "istio", "namespace": "flux-system"},
            }
        },
        # apiextensions JSON: free-form chart values.
        "values": {"revision": "1-31-1", "pilot": {"env": {"PILOT_ENABLE_AMBIENT": "false"}}},
        "install": {"crds": "Skip"},
        "upgrade": {"crds": "Skip", "remediation": {"retries": 3}},
    },
}

FLUX_GIT_REPOSITORY: dict[str, Any] = {
    "apiVersion": "source.toolkit.fluxcd.io/v1",
    "kind": "GitRepository",
    "metadata": {"name": "platform", "namespace": "flux-system"},
    "spec": {"interval": "1m", "url": "https://git.example.com/platform/gitops.git", "ref": {"branch": "main"}},
}

APPLICATION_SET: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "ApplicationSet",
    "metadata": {"name": "gateways", "namespace": "argocd"},
    "spec": {
        "goTemplate": True,
        "goTemplateOptions": ["missingkey=error"],
        # List elements are apiextensions JSON: free-form.
        "generators": [{"list": {"elements": [{"cluster": "prod", "url": "https://10.0.0.1", "extra": {"any": 1}}]}}],
        "template": {
            "metadata": {"name": "{{.cluster}}-gateways"},
            "spec": {
                "project": "istio",
                "source": {
                    "repoURL": "https://git.example.com/platform/gitops.git",
                    "path": "gateways",
                    "targetRevision": "main",
                },
                "destination": {"server": "{{.url}}", "namespace": "istio-ingress"},
            },
        },
    },
}

GATEWAY_CLASS: dict[str, Any] = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "GatewayClass",
    "metadata": {"name": "istio"},
    "spec": {"controllerName": "istio.io/gateway-controller", "description": "Istio gateways"},
}

CERTIFICATE: dict[str, Any] = {
    "apiVersion": "cert-manager.io/v1",
    "kind": "Certificate",
    "metadata": {"name": "ingress", "namespace": "istio-ingress"},
    "spec": {
        "secretName": "ingress-cert",
        "dnsNames": ["shop.example.com"],
        "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer", "group": "cert-manager.io"},
        "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
    },
}

VALID_OBJECTS = [
    SIDECAR,
    PEER_AUTHENTICATION,
    ENVOY_FILTER,
    ISTIO_GATEWAY,
    SERVICE_ENTRY,
    VIRTUAL_SERVICE,
    AUTHORIZATION_POLICY,
    APPLICATION,
    APP_PROJECT,
    NAMESPACE,
    ROLE,
    ROLE_BINDING,
    VALIDATING_ADMISSION_POLICY,
    VALIDATING_ADMISSION_POLICY_BINDING,
    FLUX_KUSTOMIZATION,
    FLUX_HELM_RELEASE,
    FLUX_GIT_REPOSITORY,
    APPLICATION_SET,
    GATEWAY_CLASS,
    CERTIFICATE,
]


def _one(obj: dict[str, Any]) -> ObjectReport:
    (report,) = validate_objects([obj])
    return report


def _mutated(obj: dict[str, Any], path: str, value: Any, *, remove: str | None = None) -> dict[str, Any]:
    """A deep copy of obj with value set at a dotted path (numeric parts index lists); optionally a key removed."""
    result = copy.deepcopy(obj)
    *parents, last = path.split(".")
    node: Any = result
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if remove is not None:
        del node[remove]
    node[last] = value
    return result


@pytest.mark.parametrize("obj", VALID_OBJECTS, ids=lambda o: f"{o['kind']}-{o['metadata']['name']}")
def test_valid_object_passes(obj: dict[str, Any]) -> None:
    report = _one(obj)
    assert report.covered, report.describe()
    assert report.errors == (), report.describe()


def test_reports_keep_input_order_and_identity() -> None:
    reports = validate_objects(VALID_OBJECTS)
    assert [(r.api_version, r.kind, r.name, r.namespace) for r in reports] == [
        (o["apiVersion"], o["kind"], o["metadata"]["name"], o["metadata"].get("namespace")) for o in VALID_OBJECTS
    ]
    assert all(r.valid for r in reports)


# --- unknown fields ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (_mutated(SIDECAR, "spec.egres", [{"hosts": ["./*"]}]), "spec.egres: unknown field"),
        (_mutated(SIDECAR, "spec.egress.0.hostz", ["./*"]), "spec.egress[0].hostz: unknown field"),
        (_mutated(VIRTUAL_SERVICE, "spec.tls.0.match.0.sniHost", ["x"]), "spec.tls[0].match[0].sniHost: unknown field"),
        (_mutated(APPLICATION, "spec.destnation", {"server": "x"}), "spec.destnation: unknown field"),
        (
            _mutated(APPLICATION, "spec.sources.0.helm.valueFile", ["$values/x.yaml"]),
            "spec.sources[0].helm.valueFile: unknown field",
        ),
        (_mutated(APPLICATION, "metadata.annotation", {"a": "b"}), "metadata.annotation: unknown field"),
        (
            _mutated(APP_PROJECT, "spec.clusterResourceWhitelist.0.kinds", "x"),
            "spec.clusterResourceWhitelist[0].kinds: unknown field",
        ),
        (_mutated(NAMESPACE, "metadata.lables", {"a": "b"}), "metadata.lables: unknown field"),
        (_mutated(ROLE, "rules.0.verb", ["get"]), "rules[0].verb: unknown field"),
        (
            _mutated(VALIDATING_ADMISSION_POLICY, "spec.validations.0.messages", "x"),
            "spec.validations[0].messages: unknown field",
        ),
        (_mutated(PEER_AUTHENTICATION, "extra", 1), "extra: unknown field"),
        (_mutated(FLUX_KUSTOMIZATION, "spec.sourceRef.nmae", "x"), "spec.sourceRef.nmae: unknown field"),
        (_mutated(FLUX_HELM_RELEASE, "spec.chart.spec.verison", "1"), "spec.chart.spec.verison: unknown field"),
        (
            _mutated(APPLICATION_SET, "spec.template.spec.destnation", {}),
            "spec.template.spec.destnation: unknown field",
        ),
        (_mutated(GATEWAY_CLASS, "spec.controller", "x"), "spec.controller: unknown field"),
        (_mutated(CERTIFICATE, "spec.dnsName", ["x"]), "spec.dnsName: unknown field"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_unknown_field_is_reported(obj: dict[str, Any], expected: str) -> None:
    report = _one(obj)
    assert report.covered
    assert expected in report.errors, report.errors


def test_nested_typo_in_single_source_application() -> None:
    app = _mutated(APPLICATION, "spec.source", copy.deepcopy(APPLICATION["spec"]["sources"][0]), remove="sources")
    app["spec"]["source"]["helm"]["valueFile"] = app["spec"]["source"]["helm"].pop("valueFiles")
    assert _one(app).errors == ("spec.source.helm.valueFile: unknown field",)


def test_free_form_fields_accept_any_keys() -> None:
    # Struct / RawExtension / maps: labels, annotations, EnvoyFilter patch.value, Argo CD helm.valuesObject.
    envoy_filter = _mutated(ENVOY_FILTER, "spec.configPatches.0.patch.value.whatever", {"x": {"y": [1, {"z": 2}]}})
    app = _mutated(APPLICATION, "spec.sources.0.helm.valuesObject.egres", {"hostz": 1})
    labelled = _mutated(SIDECAR, "metadata.annotations", {"any.example.com/thing": "x", "egres": "y"})
    release = _mutated(FLUX_HELM_RELEASE, "spec.values.egres", {"hostz": [1]})
    app_set = _mutated(APPLICATION_SET, "spec.generators.0.list.elements.0.destnation", "x")
    free_form = [envoy_filter, app, labelled, release, app_set]
    assert [r.errors for r in validate_objects(free_form)] == [()] * len(free_form)


# --- types, enums, required ---------------------------------------------------------------------------------


def test_bad_enum() -> None:
    report = _one(_mutated(PEER_AUTHENTICATION, "spec.mtls.mode", "STRICTER"))
    assert report.errors == ('spec.mtls.mode: enum {"allowedValues":["UNSET","DISABLE","PERMISSIVE","STRICT"]}',)


@pytest.mark.parametrize(
    ("obj", "prefix"),
    [
        (_mutated(SERVICE_ENTRY, "spec.ports.0.number", "443"), "spec.ports[0].number: type"),
        (_mutated(SIDECAR, "spec.egress", {"hosts": ["./*"]}), "spec.egress: type"),
        (_mutated(APPLICATION, "spec.syncPolicy.automated.prune", "yes"), "spec.syncPolicy.automated.prune: type"),
        (_mutated(ROLE_BINDING, "subjects", {"kind": "Group"}), "subjects: type"),
        (
            _mutated(NAMESPACE, "metadata.labels", {"app.kubernetes.io/n": 1}),
            'metadata.labels["app.kubernetes.io/n"]: type',
        ),
        (
            _mutated(SIDECAR, "metadata.labels", {"app.kubernetes.io/n": 1}),
            'metadata.labels["app.kubernetes.io/n"]: type',
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_wrong_type(obj: dict[str, Any], prefix: str) -> None:
    report = _one(obj)
    assert any(e.startswith(prefix) for e in report.errors), report.errors


def test_missing_required_field() -> None:
    service_entry = copy.deepcopy(SERVICE_ENTRY)
    del service_entry["spec"]["hosts"]
    assert any(e.startswith("spec: required") and "hosts" in e for e in _one(service_entry).errors)
    binding = copy.deepcopy(ROLE_BINDING)
    del binding["roleRef"]
    assert any(e.startswith("(root): required") and "roleRef" in e for e in _one(binding).errors)


# --- `description`: never checked by the validators, so allow-listed where it is a schema field -------------


def test_description_where_it_is_a_schema_field() -> None:
    assert _one(APP_PROJECT).errors == ()
    project = _mutated(APP_PROJECT, "spec.syncWindows.0.description", 42)
    assert _one(project).errors == ('spec.syncWindows[0].description: type {"type":"string"}',)


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (
            _mutated(APP_PROJECT, "spec.destinations.0.description", "x"),
            "spec.destinations[0].description: unknown field",
        ),
        (_mutated(APPLICATION, "spec.description", "x"), "spec.description: unknown field"),
        (_mutated(SIDECAR, "spec.description", "x"), "spec.description: unknown field"),
        (_mutated(NAMESPACE, "metadata.description", "x"), "metadata.description: unknown field"),
        (_mutated(FLUX_KUSTOMIZATION, "spec.description", "x"), "spec.description: unknown field"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_description_in_a_wrong_place(obj: dict[str, Any], expected: str) -> None:
    assert expected in _one(obj).errors


def test_description_allow_list_matches_the_packages() -> None:
    """After a package upgrade, a new `description` property needs an entry in validate-crds.mjs."""
    packages = schema_packages.ensure_installed() / "node_modules" / "@kubernetes-models"
    declaring = sorted(
        str(path.relative_to(packages))
        for name in ("istio", "argo-cd", "flux-cd", "cert-manager", "gateway-api")
        for path in (packages / name).rglob("*.d.ts")
        if "_schemas" not in path.parts and re.search(r'^\s*"description"\??:', path.read_text(), re.MULTILINE)
    )
    assert declaring == [
        "argo-cd/argoproj.io/v1alpha1/AppProjectSpec.d.ts",
        "argo-cd/argoproj.io/v1alpha1/ProjectRole.d.ts",
        "argo-cd/argoproj.io/v1alpha1/SyncWindow.d.ts",
        "gateway-api/gateway.networking.k8s.io/v1/GatewayClassSpec.d.ts",
        "gateway-api/gateway.networking.x-k8s.io/v1alpha1/MeshSpec.d.ts",
    ]


# --- coverage ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "obj",
    [
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
        {"apiVersion": "networking.istio.io/v1", "kind": "EnvoyFilter", "metadata": {"name": "only-v1alpha3"}},
        {"apiVersion": "v1", "kind": "NoSuchKind", "metadata": {"name": "x"}},
        {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot", "metadata": {"name": "x"}},
        {"kind": "Namespace", "metadata": {"name": "no-api-version"}},
        # Exported by @kubernetes-models/istio, but its schema has no `spec` (see validate-crds.mjs NOT_COVERED).
        {"apiVersion": "install.istio.io/v1alpha1", "kind": "IstioOperator", "metadata": {"name": "x"}, "spec": {}},
    ],
    ids=lambda o: f"{o.get('apiVersion')}-{o['kind']}",
)
def test_unknown_kind_is_not_covered(obj: dict[str, Any]) -> None:
    report = _one(obj)
    assert not report.covered
    assert not report.valid


def test_covered_kinds() -> None:
    kinds = covered_kinds()
    for pair in [
        ("v1", "Namespace"),
        ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"),
        ("networking.istio.io/v1alpha3", "EnvoyFilter"),
        ("telemetry.istio.io/v1", "Telemetry"),
        ("extensions.istio.io/v1alpha1", "WasmPlugin"),
        ("argoproj.io/v1alpha1", "ApplicationSet"),
        ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
        ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
        ("source.toolkit.fluxcd.io/v1", "OCIRepository"),
        ("cert-manager.io/v1", "Certificate"),
        ("gateway.networking.k8s.io/v1", "HTTPRoute"),
    ]:
        assert pair in kinds
    assert ("install.istio.io/v1alpha1", "IstioOperator") not in kinds
    assert ("v1", "Namespace") in core_kinds()
    assert KUBERNETES_VERSION == "1.34"


def test_mixed_batch_of_500_objects() -> None:
    batch = [copy.deepcopy(VALID_OBJECTS[i % len(VALID_OBJECTS)]) for i in range(500)]
    batch[123] = _mutated(batch[123], "metadata.nmae", "x")
    reports = validate_objects(batch)
    assert len(reports) == 500
    assert [i for i, r in enumerate(reports) if not r.valid] == [123]
    assert reports[123].errors == ("metadata.nmae: unknown field",)


def test_package_lock_is_pinned() -> None:
    assert (schema_packages.PACKAGED / "package-lock.json").is_file()
    assert (schema_packages.PACKAGED / "package.json").read_text().count("^") == 0
