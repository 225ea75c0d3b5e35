"""The chart values models catch what Helm would silently ignore (unknown keys) or mis-render (wrong types)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import answer_checks
from istio_gitops_check.chart_values import (
    MODEL_DIR,
    NoChartModelError,
    available_models,
    chart_version_problem,
    minimum_versions,
    model_version,
    release_key,
    values_errors,
)

VERSION = "1.31.1"


def istiod_values() -> dict[str, Any]:
    return {
        "revision": "1-31-1",
        "revisionTags": ["prod-stable"],
        "autoscaleEnabled": True,
        "autoscaleMin": 2,
        "autoscaleMax": 5,
        "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
        "pdb": {"minAvailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow"},
        "env": {"ENABLE_CA_SERVER": "false", "PILOT_TRACE_SAMPLING": 1},
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "istio", "effect": "NoSchedule"}],
        "topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway"}
        ],
        "podAnnotations": {"cluster-autoscaler.kubernetes.io/safe-to-evict": "true"},
        "meshConfig": {
            "rootNamespace": "istio-config",
            "trustDomain": "cluster.local",
            "trustDomainAliases": ["old.example.com"],
            "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"},
            "accessLogFile": "/dev/stdout",
            "accessLogEncoding": "JSON",
            "enableTracing": False,
            "defaultConfig": {"proxyMetadata": {"ISTIO_META_DNS_CAPTURE": "true"}, "holdApplicationUntilProxyStarts": True},
            "discoverySelectors": [{"matchLabels": {"istio.io/mesh": "enabled"}}],
            "extensionProviders": [{"name": "otel", "opentelemetry": {"service": "otel.observability.svc", "port": 4317}}],
            "defaultProviders": {"tracing": ["otel"]},
        },
        "global": {
            "meshID": "mesh1",
            "multiCluster": {"clusterName": "cluster-a"},
            "network": "network-a",
            "istioNamespace": "istio-system",
            "priorityClassName": "system-cluster-critical",
            "caAddress": "cert-manager-istio-csr.cert-manager.svc:443",
            "proxy": {"resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
            "defaultPodDisruptionBudget": {"enabled": True},
        },
        "base": {"validationFailurePolicy": "Fail"},
        "compatibilityVersion": "1.30",
    }


def base_values() -> dict[str, Any]:
    return {
        "defaultRevision": "1-31-1",
        "base": {"validationFailurePolicy": "Fail", "enableCRDTemplates": True, "excludedCRDs": []},
        "global": {"istioNamespace": "istio-system", "enableReaderRBAC": True},
        "experimental": {"stableValidationPolicy": False},
    }


def gateway_values() -> dict[str, Any]:
    return {
        "name": "istio-eastwestgateway",
        "revision": "prod-stable",
        "networkGateway": "network-a",
        "labels": {"istio": "eastwestgateway", "topology.istio.io/network": "network-a"},
        "service": {
            "type": "LoadBalancer",
            "annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},
            "ports": [{"name": "status-port", "port": 15021, "targetPort": 15021, "protocol": "TCP"}],
        },
        "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 5, "targetCPUUtilizationPercentage": 80},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}},
        "podDisruptionBudget": {"minAvailable": 1},
        "global": {"networkPolicy": {"enabled": False}},
    }


REALISTIC = {"istiod": istiod_values, "base": base_values, "gateway": gateway_values}


def with_change(chart: str, dotted: str, value: Any) -> dict[str, Any]:
    values = copy.deepcopy(REALISTIC[chart]())
    *parents, leaf = dotted.split(".")
    node = values
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return values


def one_error(chart: str, values: dict[str, Any]) -> str:
    errors = values_errors(chart, values, VERSION)
    assert len(errors) == 1, errors
    return errors[0]


@pytest.mark.parametrize("chart", sorted(REALISTIC))
def test_models_are_valid_draft_2020_12_and_name_their_upstream(chart: str) -> None:
    schema = json.loads((MODEL_DIR / f"{chart}-{VERSION}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "istio/istio" in schema["$comment"] and "commit" in schema["$comment"]


@pytest.mark.parametrize("chart", sorted(REALISTIC))
def test_realistic_values_pass(chart: str) -> None:
    assert values_errors(chart, REALISTIC[chart](), VERSION) == []


@pytest.mark.parametrize("chart", sorted(REALISTIC))
def test_empty_values_file_passes(chart: str) -> None:
    assert values_errors(chart, {}, VERSION) == []
    assert values_errors(chart, None, VERSION) == []


# --- istiod -------------------------------------------------------------------------------------


def test_istiod_typo_top_level_key() -> None:
    assert one_error("istiod", with_change("istiod", "autoscaleMinn", 2)) == (
        "istiod values: autoscaleMinn: unknown key (not in istiod chart 1.31.1)"
    )


def test_istiod_typo_mesh_config_key() -> None:
    assert one_error("istiod", with_change("istiod", "meshConfig.rootNamespce", "istio-config")) == (
        "istiod values: meshConfig.rootNamespce: unknown key (not in istiod chart 1.31.1)"
    )


def test_istiod_typo_in_global() -> None:
    assert "global.multicluster" in one_error("istiod", with_change("istiod", "global.multicluster", {"clusterName": "a"}))


def test_istiod_flat_priority_class_name_is_ignored_by_the_chart() -> None:
    # The istiod Deployment only reads global.priorityClassName.
    assert "priorityClassName: unknown key" in one_error("istiod", with_change("istiod", "priorityClassName", "x"))


def test_istiod_wrong_type() -> None:
    assert one_error("istiod", with_change("istiod", "autoscaleEnabled", "true")) == (
        'istiod values: autoscaleEnabled: expected boolean, got string "true"'
    )
    assert "expected integer" in one_error("istiod", with_change("istiod", "autoscaleMax", "5"))
    assert "expected string" in one_error(
        "istiod", with_change("istiod", "meshConfig.defaultConfig", {"proxyMetadata": {"ISTIO_META_DNS_CAPTURE": True}})
    )


def test_istiod_bad_enum() -> None:
    error = one_error("istiod", with_change("istiod", "meshConfig.outboundTrafficPolicy", {"mode": "DENY_ALL"}))
    assert error.startswith('istiod values: meshConfig.outboundTrafficPolicy.mode: "DENY_ALL" is not one of')
    assert "fail" in one_error("istiod", with_change("istiod", "base.validationFailurePolicy", "fail"))


def test_istiod_revision_must_be_a_dns_label() -> None:
    assert "revision" in one_error("istiod", with_change("istiod", "revision", "1.31.1"))


def test_istiod_compatibility_version_must_be_a_quoted_string() -> None:
    assert "compatibilityVersion" in one_error("istiod", with_change("istiod", "compatibilityVersion", 1.3))


def test_istiod_legacy_pilot_alias_takes_the_flat_keys_only() -> None:
    assert values_errors("istiod", {"pilot": {"autoscaleMin": 2, "env": {"A": "b"}}}, VERSION) == []
    assert one_error("istiod", {"pilot": {"autoscaleMinimum": 2}}) == (
        "istiod values: pilot.autoscaleMinimum: unknown key (not in istiod chart 1.31.1)"
    )


def test_istiod_internal_defaults_key_is_refused() -> None:
    assert "_internal_defaults_do_not_set" in one_error("istiod", {"_internal_defaults_do_not_set": {"revision": "x"}})


# --- base ---------------------------------------------------------------------------------------


def test_base_typo_top_level_key() -> None:
    assert one_error("base", with_change("base", "defaultRevison", "1-31-1")) == (
        "base values: defaultRevison: unknown key (not in base chart 1.31.1)"
    )


def test_base_typo_nested_key() -> None:
    assert one_error("base", with_change("base", "base.validationFailurPolicy", "Fail")) == (
        "base values: base.validationFailurPolicy: unknown key (not in base chart 1.31.1)"
    )


def test_base_istiod_only_keys_are_unknown() -> None:
    assert "global.meshID: unknown key" in one_error("base", with_change("base", "global.meshID", "mesh1"))


def test_base_wrong_type() -> None:
    assert one_error("base", with_change("base", "base.enableCRDTemplates", "yes")) == (
        'base values: base.enableCRDTemplates: expected boolean, got string "yes"'
    )


def test_base_bad_enum() -> None:
    assert "is not one of" in one_error("base", with_change("base", "base.validationFailurePolicy", "Always"))


# --- gateway ------------------------------------------------------------------------------------


def test_gateway_typo_top_level_key() -> None:
    assert one_error("gateway", with_change("gateway", "networkGatway", "network-a")) == (
        "gateway values: networkGatway: unknown key (not in gateway chart 1.31.1)"
    )


def test_gateway_typo_nested_key() -> None:
    assert one_error("gateway", with_change("gateway", "autoscaling.minReplica", 2)) == (
        "gateway values: autoscaling.minReplica: unknown key (not in gateway chart 1.31.1)"
    )


def test_gateway_keys_upstream_accepts_but_never_reads_are_refused() -> None:
    assert "no effect" in one_error("gateway", with_change("gateway", "defaultRevision", "1-31-1"))


def test_gateway_global_only_takes_gateway_keys() -> None:
    assert "global.meshID: unknown key" in one_error("gateway", with_change("gateway", "global.meshID", "mesh1"))


def test_gateway_wrong_type() -> None:
    assert one_error("gateway", with_change("gateway", "autoscaling.enabled", "false")) == (
        'gateway values: autoscaling.enabled: expected boolean, got string "false"'
    )
    port = {"name": "https", "port": 443, "targetPort": "https"}
    assert "service.ports[0].targetPort: expected integer" in one_error("gateway", with_change("gateway", "service.ports", [port]))


def test_gateway_bad_enum() -> None:
    assert one_error("gateway", with_change("gateway", "service.type", "Loadbalancer")).startswith(
        'gateway values: service.type: "Loadbalancer" is not one of'
    )
    assert "is not one of" in one_error(
        "gateway", with_change("gateway", "podDisruptionBudget", {"unhealthyPodEvictionPolicy": "Always"})
    )


def test_unknown_chart_or_version_is_a_clear_error() -> None:
    with pytest.raises(NoChartModelError, match="no values model for chart 'istiod' version '1.99.0'"):
        values_errors("istiod", {}, "1.99.0")
    with pytest.raises(NoChartModelError, match="ztunnel"):
        values_errors("ztunnel", {}, VERSION)


# --- every pinned chart line --------------------------------------------------------------------

PINNED_VERSIONS = ["1.29.7", "1.30.4", "1.31.1"]


def emitted_values(version: str) -> dict[str, dict[str, Any]]:
    """The values our template emits for each chart at a pinned version."""
    revision = version.replace(".", "-")
    return {
        "istiod": {
            "revision": revision,
            "revisionTags": ["prod-stable", "default"],
            "autoscaleEnabled": True,
            "autoscaleMin": 2,
            "autoscaleMax": 5,
            "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}},
            "base": {"validationFailurePolicy": "Fail"},
            "global": {
                "meshID": "m",
                "defaultPodDisruptionBudget": {"enabled": True},
                "multiCluster": {"clusterName": "c"},
                "network": "n",
            },
            "meshConfig": {
                "rootNamespace": "istio-config",
                "trustDomain": "cluster.local",
                "outboundTrafficPolicy": {"mode": "REGISTRY_ONLY"},
                "accessLogFile": "/dev/stdout",
                "defaultConfig": {"holdApplicationUntilProxyStarts": True},
            },
        },
        "base": {"defaultRevision": revision, "base": {"validationFailurePolicy": "Fail"}},
        "gateway": {
            "name": "istio-ingressgateway",
            "revision": "prod-stable",
            "service": {"type": "LoadBalancer"},
            "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 5},
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
            "podDisruptionBudget": {"minAvailable": 1},
            "networkGateway": "n",
        },
    }


@pytest.mark.parametrize("version", PINNED_VERSIONS)
@pytest.mark.parametrize("chart", sorted(REALISTIC))
def test_pinned_models_are_valid_and_name_their_upstream(chart: str, version: str) -> None:
    schema = json.loads((MODEL_DIR / f"{chart}-{version}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    assert "istio/istio" in schema["$comment"] and "commit" in schema["$comment"]


@pytest.mark.parametrize("version", PINNED_VERSIONS)
@pytest.mark.parametrize("chart", sorted(REALISTIC))
def test_emitted_values_pass_for_every_pinned_version(chart: str, version: str) -> None:
    assert values_errors(chart, emitted_values(version)[chart], version) == []


@pytest.mark.parametrize("version", PINNED_VERSIONS)
def test_istiod_typos_fail_for_every_pinned_version(version: str) -> None:
    values = emitted_values(version)["istiod"]
    values["autoscaleMinn"] = 2
    values["meshConfig"]["rootNamespce"] = "istio-config"
    assert values_errors("istiod", values, version) == [
        f"istiod values: autoscaleMinn: unknown key (not in istiod chart {version})",
        f"istiod values: meshConfig.rootNamespce: unknown key (not in istiod chart {version})",
    ]


# --- keys that appeared within a minor line, and the minimum patch per line ----------------------


def since_annotations(node: Any, path: str = "") -> dict[str, str]:
    """Every `x-since` in a model, by the schema path that carries it."""
    found: dict[str, str] = {}
    if isinstance(node, dict):
        if "x-since" in node:
            found[path] = node["x-since"]
        for key, child in node.items():
            found.update(since_annotations(child, f"{path}/{key}"))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.update(since_annotations(child, f"{path}/{index}"))
    return found


def test_models_record_the_keys_that_appeared_within_their_line() -> None:
    """Diffing values.yaml and the templates' .Values references across the tags of each line found these."""
    annotated = {
        (chart, version): since_annotations(json.loads((MODEL_DIR / f"{chart}-{version}.schema.json").read_text()))
        for chart, version in available_models()
    }
    assert {k: v for k, v in annotated.items() if v} == {
        ("base", "1.29.7"): {"/properties/base/properties/validationFailurePolicy": "1.29.2"},
        ("istiod", "1.29.7"): {"/$defs/settings/properties/base/properties/validationFailurePolicy": "1.29.2"},
        ("istiod", "1.30.4"): {"/$defs/settings/properties/taint/properties/name": "1.30.3"},
    }


@pytest.mark.parametrize("chart", ["base", "istiod"])
def test_a_key_used_with_a_chart_older_than_the_key_is_reported(chart: str) -> None:
    values = {"base": {"validationFailurePolicy": "Fail"}}
    assert values_errors(chart, values, "1.29.1") == [
        f"{chart} values: base.validationFailurePolicy: not in {chart} chart 1.29.1: the key appeared in 1.29.2, "
        "so this chart ignores it; pin 1.29.2 or newer"
    ]
    assert values_errors(chart, values, "1.29.2") == []
    assert values_errors(chart, values, "1.29.7") == []
    assert values_errors(chart, values, "1.30.0") == []


def test_a_key_that_appeared_in_a_later_patch_of_1_30() -> None:
    assert "taint.name: not in istiod chart 1.30.2: the key appeared in 1.30.3" in one_error_at("istiod", {"taint": {"name": "x"}}, "1.30.2")
    assert values_errors("istiod", {"taint": {"name": "x", "enabled": True}}, "1.30.3") == []


def one_error_at(chart: str, values: dict[str, Any], version: str) -> str:
    errors = values_errors(chart, values, version)
    assert len(errors) == 1, errors
    return errors[0]


def test_every_patch_of_a_line_is_checked_against_that_line_s_model() -> None:
    assert model_version("istiod", "1.29.2") == "1.29.7"
    assert model_version("gateway", "1.31.3") == "1.31.1"
    assert model_version("base", "1.30.4") == "1.30.4"
    with pytest.raises(NoChartModelError, match="1.28.5"):
        model_version("base", "1.28.5")
    assert "autoscaleMinn: unknown key (not in istiod chart 1.29.3)" in one_error_at("istiod", {"autoscaleMinn": 1}, "1.29.3")


def test_minimums_cover_every_supported_line_and_the_questionnaire_reads_them() -> None:
    assert sorted(minimum_versions()) == [f"1.{minor}" for minor in answer_checks.SUPPORTED_MINORS]
    for line, minimum in minimum_versions().items():
        assert release_key(minimum["version"])[:2] == release_key(line + ".0")[:2] and minimum["why"]
    assert answer_checks.istio_versions_problem(["1.29.2"]) == ""
    refusal = answer_checks.istio_versions_problem(["1.29.1", "1.30.0"])
    assert refusal.startswith("istio_versions: '1.29.1': the oldest 1.29 release this template supports is 1.29.2 (")
    assert "base.validationFailurePolicy" in refusal and refusal.endswith("use 1.29.2 or newer")
    assert "1.29.0" in answer_checks.istio_versions_problem(["1.29.0"])


@pytest.mark.parametrize("line", sorted(minimum_versions()))
def test_every_key_the_template_sets_exists_at_the_minimum(line: str) -> None:
    """The minimum is the oldest patch where the emitted values are clean, and the patch before it is not."""
    minimum = minimum_versions()[line]["version"]
    newest_model = model_version("istiod", minimum)
    for chart, values in emitted_values(newest_model).items():
        assert values_errors(chart, values, minimum) == [], (chart, minimum)
    major, minor, patch = release_key(minimum)
    if patch:
        older = f"{major}.{minor}.{patch - 1}"
        assert any(values_errors(chart, values, older) for chart, values in emitted_values(newest_model).items())
        assert chart_version_problem("istiod", older).startswith(f"istiod chart {older} is older than {minimum}")
    assert chart_version_problem("istiod", minimum) == ""


# -- add-on charts (issue 13): versions with a leading v, strict models -------------------------------

ADDON_MODELS = [("cert-manager", "v1.21.1"), ("cert-manager-istio-csr", "v0.17.0"), ("external-secrets", "2.9.0"),
                ("aws-privateca-issuer", "v1.9.0")]


def test_release_key_reads_a_leading_v() -> None:
    assert release_key("v1.21.1") == (1, 21, 1) == release_key("1.21.1")
    assert release_key("v1.21") is None and release_key("vv1.2.3") is None


@pytest.mark.parametrize(("chart", "version"), ADDON_MODELS)
def test_addon_models_are_valid_and_name_their_upstream(chart: str, version: str) -> None:
    schema = json.loads((MODEL_DIR / f"{chart}-{version}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    assert "upstream" in schema["$comment"] and schema["additionalProperties"] is False
    assert model_version(chart, version) == version
    assert chart_version_problem(chart, version) == "", "Istio's minimums say nothing about add-on charts"


@pytest.mark.parametrize(("chart", "version", "values", "expected"), [
    ("cert-manager", "v1.21.1", {"crds": {"enabled": True, "keep": True}, "global": {"leaderElection": {"namespace": "cert-manager"}},
                                 "webhook": {"replicaCount": 2, "securityContext": {"runAsNonRoot": True}}}, []),
    ("cert-manager", "v1.21.1", {"global": {"leaderElection": {"namespce": "x"}}}, ["global.leaderElection.namespce: unknown key"]),
    ("cert-manager-istio-csr", "v0.17.0", {"app": {"server": {"clusterID": "a"}, "istio": {"revisions": ["1-31-1"]}}}, []),
    ("cert-manager-istio-csr", "v0.17.0", {"app": {"server": {"clusterId": "a"}}}, ["app.server.clusterId: unknown key"]),
    ("external-secrets", "2.9.0", {"installCRDs": True, "securityContext": {"enabled": True, "runAsNonRoot": True}}, []),
    ("external-secrets", "2.9.0", {"webhook": {"replicas": 2}}, ["webhook.replicas: unknown key"]),
    ("aws-privateca-issuer", "v1.9.0", {"serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn"}}}, []),
    ("aws-privateca-issuer", "v1.9.0", {"approverRole": {"serviceAccount": "cert-manager"}}, ["approverRole.serviceAccount: unknown key"]),
])
def test_addon_values_are_checked_strictly(chart: str, version: str, values: dict, expected: list[str]) -> None:
    errors = values_errors(chart, values, version)
    assert len(errors) == len(expected) and all(e in error for e, error in zip(expected, errors, strict=True)), errors
