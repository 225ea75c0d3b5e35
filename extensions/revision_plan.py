"""Istio revisions and revision tags as data.

Installed versions become revisions (1.31.1 -> 1-31-1), each its own istiod Helm release.
Tags are the mutable pointers namespaces and gateways use; their objects live in one unit per
cluster (mesh/revision-tags), never in the istiod releases, so moving a tag moves nothing between
releases. Istio's `default` tag points where the default tag does, and that revision is the base
chart's `defaultRevision`, so the two can never disagree (istio/istio#58578).
"""

from __future__ import annotations

from collections.abc import Mapping

ISTIO_DEFAULT_TAG = "default"


def version_key(version: str) -> tuple[int, ...]:
    """Sort key for X.Y.Z versions."""
    return tuple(int(part) for part in version.split("."))


def revision_name(version: str) -> str:
    """Istio's revision name for a version: dots become dashes."""
    return version.strip().replace(".", "-")


def tag_versions(tags: list[Mapping[str, str]]) -> dict[str, str]:
    """The tag list as {tag name: version}."""
    return {str(tag["name"]): str(tag["version"]) for tag in tags}


def revision_plan(versions: list[str], tags: list[Mapping[str, str]], default_tag: str) -> list[dict[str, object]]:
    """One entry per installed version, oldest first: version, revision, the tags pointing at it
    (Istio's `default` tag included on the revision the default tag points at) and whether it is
    the default revision."""
    pointers = tag_versions(tags)
    default_version = pointers.get(default_tag)
    plan = []
    for version in sorted(versions, key=version_key):
        owned = sorted(name for name, target in pointers.items() if target == version)
        is_default = version == default_version
        plan.append(
            {
                "version": version,
                "revision": revision_name(version),
                "tags": owned + ([ISTIO_DEFAULT_TAG] if is_default else []),
                "default": is_default,
            }
        )
    return plan


def default_revision(versions: list[str], tags: list[Mapping[str, str]], default_tag: str) -> str:
    """The base chart's defaultRevision: the revision the default tag points at ('' if none does)."""
    version = tag_versions(tags).get(default_tag)
    return revision_name(version) if version else ""


def newest_version(versions: list[str]) -> str:
    """The newest installed version: the base chart (CRDs) always comes from it."""
    return max(versions, key=version_key)


def gateway_target(pointer: str, versions: list[str], tags: list[Mapping[str, str]]) -> dict[str, str]:
    """Where gateways run: following a tag (label = tag, values folder named after the tag) or
    pinned to a revision (label = revision), and the chart version behind it."""
    pointers = tag_versions(tags)
    if pointer in pointers:
        return {"label": pointer, "folder": pointer, "version": pointers[pointer]}
    return {"label": revision_name(pointer), "folder": revision_name(pointer), "version": pointer}


GATEWAY_UPGRADE_MODES = ("in-place", "canary")


def gateway_deployments(mode: str, pointer: str, versions: list[str], tags: list[Mapping[str, str]]) -> list[dict[str, object]]:
    """The gateway Helm releases of each role, oldest first.

    In place: one release per role (`istio-<role>gateway`), following `gateway_target`. Canary: one release
    per installed revision (`istio-<role>gateway-<revision>`, values in gateways/revisions/<revision>/), all
    behind one Service per role that the platform owns once; the revision `pointer` resolves to is the
    primary (autoscaled), the others run a fixed canary replica count. Each entry: folder, label (the
    chart's `revision`), version (chart), suffix (of the release name) and primary."""
    target = gateway_target(pointer, versions, tags)
    if mode != "canary":
        return [{**target, "suffix": "", "primary": True}]
    return [
        {
            "folder": revision_name(version),
            "label": revision_name(version),
            "version": version,
            "suffix": "-" + revision_name(version),
            "primary": version == target["version"],
        }
        for version in sorted(versions, key=version_key)
    ]


def gateway_upgrade_problem(mode: object) -> str:
    """How gateways upgrade: in place (following gateway_revision) or canary (one release per revision)."""
    if mode not in GATEWAY_UPGRADE_MODES:
        return f"gateway_upgrade '{mode}': use in-place (gateways follow gateway_revision) or canary (one gateway release per installed version)"
    return ""


# The ports the gateway chart gives its Service (values.yaml `service.ports`, and `networkGatewayPorts` for the
# east-west gateway), the same in 1.29, 1.30 and 1.31.
GATEWAY_SERVICE_PORTS = {
    "default": [("status-port", 15021), ("http2", 80), ("https", 443)],
    "eastwest": [("status-port", 15021), ("tls", 15443), ("tls-istiod", 15012), ("tls-webhook", 15017)],
}


def gateway_service(role: str) -> dict[str, object]:
    """The one Service of a gateway role in canary mode, as the chart would render it for the in-place release
    (name, type, ports), but selecting only the `istio:` label every revision's pods share."""
    ports = GATEWAY_SERVICE_PORTS["eastwest" if role == "eastwest" else "default"]
    return {
        "name": f"istio-{role}gateway",
        "selector": f"{role}gateway",
        "type": "ClusterIP" if role == "egress" else "LoadBalancer",
        "ports": [{"name": name, "port": port, "protocol": "TCP", "targetPort": port} for name, port in ports],
    }
