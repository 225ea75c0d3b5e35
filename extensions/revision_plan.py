"""Istio revisions and revision tags as data.

Installed versions become revisions (1.31.1 -> 1-31-1), each its own istiod Helm release.
Tags are the mutable pointers namespaces and gateways use; every tag is owned by exactly one
istiod release (its `revisionTags`). The default tag's revision also owns Istio's `default`
tag and is the base chart's `defaultRevision`, so the two can never disagree (istio/istio#58578).
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
    """One entry per installed version, oldest first: version, revision, the tags it owns
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
