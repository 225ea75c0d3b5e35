"""Check Helm values against our model of what an Istio chart actually reads.

Helm ignores keys a chart does not know (only the gateway chart ships a values.schema.json, and
it is loose below the top level), so a typo such as `meshConfig.rootNamespce` installs cleanly
and silently changes nothing. chart_values/<chart>-<version>.schema.json models, per
pinned chart version, every key the chart's templates read and its type; this module turns
JSON Schema errors into one readable line each.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

MODEL_DIR = Path(__file__).resolve().parent / "chart_values"
DEFAULT_VERSION = "1.31.1"
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


class NoChartModelError(LookupError):
    """There is no values model for this chart and version under chart_values/."""


def available_models() -> list[tuple[str, str]]:
    """(chart, version) pairs that have a model."""
    found = []
    for path in sorted(MODEL_DIR.glob("*.schema.json")):
        chart, _, version = path.name.removesuffix(".schema.json").rpartition("-")
        if chart:
            found.append((chart, version))
    return found


@cache
def _validator(chart: str, version: str) -> Draft202012Validator:
    path = MODEL_DIR / f"{chart}-{version}.schema.json"
    if not path.is_file():
        known = ", ".join(f"{c} {v}" for c, v in available_models()) or "none"
        raise NoChartModelError(
            f"no values model for chart {chart!r} version {version!r} (expected {path}); "
            f"models available: {known}. Write one from that chart version's values.yaml and templates."
        )
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def values_errors(chart: str, values: Mapping[str, Any] | None, version: str = DEFAULT_VERSION) -> list[str]:
    """Problems in `values` for `chart` at `version`; an empty list means every key is known and well typed.

    Works on a single values file as well as on merged values: no key is required.
    Raises NoChartModelError when chart_values/ has no model for that chart version.
    """
    validator = _validator(chart, version)
    prefix = f"{chart} values"
    if values is None:
        return []
    if not isinstance(values, Mapping):
        return [f"{prefix}: expected a mapping at the top level, got {_json_type(values)}"]
    messages: set[str] = set()
    for error in validator.iter_errors(dict(values)):
        messages.update(_describe(error, validator.schema, chart, version, prefix))
    return sorted(messages)


def _describe(error: ValidationError, root: Mapping[str, Any], chart: str, version: str, prefix: str) -> Iterable[str]:
    path = list(error.absolute_path)
    where = _format_path(path) or "(top level)"
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    kind = error.validator

    if kind in ("additionalProperties", "unevaluatedProperties") and isinstance(error.instance, Mapping):
        known = _declared_keys(schema, root)
        # A known key that failed its own subschema can also count as "unevaluated"; that key's
        # real problem is reported by its own error, so only undeclared keys are listed here.
        for key in (k for k in error.instance if k not in known):
            yield f"{prefix}: {_format_path([*path, key])}: unknown key (not in {chart} chart {version})"
        return
    if "propertyNames" in error.absolute_schema_path and isinstance(error.instance, str):
        # A map whose keys come from a closed set: the error's instance is the offending key.
        yield f"{prefix}: {_format_path([*path, error.instance])}: unknown key (not in {chart} chart {version})"
        return
    if kind == "not" and schema.get("description") and schema.get("not") == {}:
        yield f"{prefix}: {where}: {schema['description']}"
        return
    if kind == "type":
        wanted = error.validator_value
        wanted_text = " or ".join(wanted) if isinstance(wanted, list) else str(wanted)
        yield f"{prefix}: {where}: expected {wanted_text}, got {_json_type(error.instance)} {_short(error.instance)}"
        return
    if kind == "enum":
        allowed = ", ".join(json.dumps(v) for v in error.validator_value)
        yield f"{prefix}: {where}: {_short(error.instance)} is not one of {allowed}"
        return
    if kind in ("anyOf", "oneOf") and schema.get("description"):
        yield f"{prefix}: {where}: {_short(error.instance)} is not valid ({schema['description']})"
        return
    if kind == "pattern" and schema.get("description"):
        yield f"{prefix}: {where}: {_short(error.instance)} is not valid ({schema['description']})"
        return
    yield f"{prefix}: {where}: {error.message}"


def _declared_keys(schema: Mapping[str, Any], root: Mapping[str, Any], seen: frozenset[str] = frozenset()) -> set[str]:
    """Property names a schema declares itself or through local $ref / allOf."""
    keys = set(schema.get("properties", {}))
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/") and ref not in seen:
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        keys |= _declared_keys(target, root, seen | {ref})
    for sub in schema.get("allOf", []):
        keys |= _declared_keys(sub, root, seen)
    return keys


def _format_path(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{json.dumps(str(part))}]"
    return out


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
