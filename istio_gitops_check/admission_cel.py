"""Evaluate a ValidatingAdmissionPolicy's CEL the way the API server does, offline (cel-python).

Variables are evaluated in order and exposed as `variables.<name>`; each validation that does not
evaluate to true denies the request with its message. Kubernetes' CEL library extensions are not
available here, so the policies this template ships stick to standard CEL (and the tests prove it).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import celpy


@lru_cache(maxsize=None)
def _program(expression: str) -> Any:
    environment = celpy.Environment()
    return environment.program(environment.compile(expression))


def _run(expression: str, activation: dict[str, Any]) -> Any:
    try:
        return _program(expression).evaluate(activation)
    except celpy.CELEvalError as error:
        return error  # the API server denies when a validation errors (failurePolicy Fail)


def denials(policy: dict, obj: dict | None, old: dict | None = None, username: str = "someone", groups: tuple[str, ...] = (),
            namespace: dict | None = None) -> list[str]:
    """Messages of the validations that deny this request ([] means admitted). `namespace`: the Namespace object
    of the request's namespace (`namespaceObject`)."""
    activation: dict[str, Any] = {
        "object": celpy.json_to_cel(obj),
        "oldObject": celpy.json_to_cel(old),
        "namespaceObject": celpy.json_to_cel(namespace),
        "request": celpy.json_to_cel({"userInfo": {"username": username, "groups": list(groups)},
                                      "operation": "CREATE" if old is None else "UPDATE"}),
    }
    spec = policy["spec"]
    variables: dict[str, Any] = {}
    for variable in spec.get("variables", []):
        activation["variables"] = _cel_map(variables)
        variables[variable["name"]] = _run(variable["expression"], activation)
    activation["variables"] = _cel_map(variables)
    return [v.get("message", v["expression"]) for v in spec.get("validations", []) if not _is_true(_run(v["expression"], activation))]


def _cel_map(values: dict[str, Any]) -> Any:
    """Already-evaluated CEL values as a CEL map (json_to_cel would turn booleans into integers)."""
    return celpy.celtypes.MapType({celpy.celtypes.StringType(k): v for k, v in values.items()})


def _is_true(result: Any) -> bool:
    """Only a boolean true admits; an error or any other value denies, as in the API server."""
    return isinstance(result, celpy.celtypes.BoolType) and bool(result)


def selected(selector: dict | None, labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels, matchExpressions) against a set of labels; none selects all."""
    if not selector:
        return True
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def binding_applies(binding: dict, namespace: dict) -> bool:
    """Whether a ValidatingAdmissionPolicyBinding's matchResources selects requests in this namespace (the API
    server adds the label kubernetes.io/metadata.name to every Namespace)."""
    labels = {**(namespace.get("metadata", {}).get("labels") or {}), "kubernetes.io/metadata.name": namespace["metadata"]["name"]}
    return selected((binding.get("spec", {}).get("matchResources") or {}).get("namespaceSelector"), labels)
