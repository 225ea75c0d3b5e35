"""Check Helm values against our model of what an Istio chart actually reads.

Helm ignores keys a chart does not know (only the gateway chart ships a values.schema.json, and
it is loose below the top level), so a typo such as `meshConfig.rootNamespce` installs cleanly
and silently changes nothing. chart_values/<chart>-<version>.schema.json models, per
pinned chart version, every key the chart's templates read and its type; this module turns
JSON Schema errors into one readable line each.

There is one model per minor line, read from its newest patch; a key that appeared within the line carries
`"x-since": "<version>"`, and a release older than that is told the chart ignores the key. minimums.json holds
the oldest patch of each line the template supports (every key it sets exists there), read by the
questionnaire (extensions/answer_checks.py) and by the check alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

MODEL_DIR = Path(__file__).resolve().parent / "chart_values"
MINIMUMS_FILE = MODEL_DIR / "minimums.json"
DEFAULT_VERSION = "1.31.1"
# Istio's charts are versioned 1.29.2; several add-on charts keep a leading v (cert-manager v1.21.1).
RELEASE = re.compile(r"v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
# The charts minimums.json speaks about (Istio's); an add-on chart's line has no minimum there.
ISTIO_CHARTS = frozenset({"base", "istiod", "gateway", "cni"})
SINCE = "x-since"
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


def release_key(version: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of an exact release such as 1.29.2 or v1.21.1; None for anything else."""
    match = RELEASE.fullmatch(version) if isinstance(version, str) else None
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def model_version(chart: str, version: str) -> str:
    """The model that describes `chart` at `version`: its own, else the one of its minor line."""
    if (MODEL_DIR / f"{chart}-{version}.schema.json").is_file():
        return version
    wanted = release_key(version)
    same_line = [v for c, v in available_models() if c == chart and wanted and (release_key(v) or ())[:2] == wanted[:2]]
    if same_line:
        return max(same_line, key=release_key)
    known = ", ".join(f"{c} {v}" for c, v in available_models()) or "none"
    raise NoChartModelError(
        f"no values model for chart {chart!r} version {version!r} (expected {MODEL_DIR / f'{chart}-{version}.schema.json'} "
        f"or a model of the same minor line); models available: {known}. "
        "Write one from that chart version's values.yaml and templates."
    )


@cache
def minimum_versions() -> dict[str, dict[str, str]]:
    """minimums.json: per minor line ("1.29"), the oldest supported patch ("version") and why ("why")."""
    return json.loads(MINIMUMS_FILE.read_text(encoding="utf-8"))["minimums"]


def below_minimum(version: str) -> str:
    """Why `version` is older than its line's minimum, or '' when it is not (or its line has none)."""
    key = release_key(version)
    minimum = minimum_versions().get(f"{key[0]}.{key[1]}") if key else None
    if not minimum or key >= release_key(minimum["version"]):
        return ""
    return (f"{version} is older than {minimum['version']}, the oldest {key[0]}.{key[1]} release this template supports "
            f"({minimum['why']}); use {minimum['version']} or newer")


def chart_version_problem(chart: str, version: str) -> str:
    """A release pinned below the minimum of its line, as one sentence ('' when fine)."""
    reason = below_minimum(version) if chart in ISTIO_CHARTS else ""
    return f"{chart} chart {reason}" if reason else ""


def _since_keyword(release: tuple[int, int, int] | None):
    """The `x-since` keyword: a key used with a chart older than the version it appeared in."""

    def since(validator, appeared_in, instance, schema):
        if release is not None and release < (release_key(appeared_in) or (0, 0, 0)):
            yield ValidationError(f"appeared in {appeared_in}", validator_value=appeared_in)

    return since


@cache
def _validator(chart: str, version: str) -> Draft202012Validator:
    path = MODEL_DIR / f"{chart}-{model_version(chart, version)}.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    versioned = validators.extend(Draft202012Validator, {SINCE: _since_keyword(release_key(version))})
    return versioned(schema)


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
    if kind == SINCE:
        yield (f"{prefix}: {where}: not in {chart} chart {version}: the key appeared in {error.validator_value}, so this chart "
               f"ignores it; pin {error.validator_value} or newer")
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
