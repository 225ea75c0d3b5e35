"""Persona boundaries through Git: a merged pull request must not give a persona more than kubectl would.

The GitOps engine applies whatever the repository says, under its own (broad) identity. So whoever may
change a file the engine builds acts with the engine's rights, unless the repository keeps each persona to
what its own RBAC allows. The model:

- Who may change a file: its CODEOWNERS owners (last matching pattern wins, as on GitHub and GitLab).
  A file with no owner may be changed by anyone who can merge, which here means a persona without rights.
- Who may change an object: the owners of the file it is written in, and the owners of every
  kustomization (and patch file) on the way from the synced entry point to that file, because a
  kustomization can add, replace or patch anything it includes.
- Each such owner, taken as the Kubernetes identity of the same name (`@org/team` -> group `team`,
  `@user` -> user `user`), must be allowed by the rendered RBAC to create that object where it lands.
  The cluster admins (answer `cluster_admin_group`) run the engines and are trusted.

Not modelled here: Helm values files (what a values change makes a chart render) and what the engines'
own restrictions (Argo CD projects, Flux service accounts) would refuse; those have their own guardrails.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from istio_gitops_check.kubernetes_kinds import CLUSTER_SCOPED_KINDS, group_of, resource_of
from istio_gitops_check.rbac_reach import Identity, can
from istio_gitops_check.rendered_platform import RenderedPlatform
from istio_gitops_check.yaml_documents import mapping

CODEOWNERS_LOCATIONS = ("CODEOWNERS", ".github/CODEOWNERS", ".gitlab/CODEOWNERS", "docs/CODEOWNERS")
UNOWNED = "(no code owner)"


@dataclass(frozen=True)
class OwnerRule:
    pattern: str
    owners: tuple[str, ...]
    regex: re.Pattern[str]


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A CODEOWNERS pattern (gitignore syntax) as a regex over repository-relative paths."""
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    directory = pattern.endswith("/")
    out = ""
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif body.startswith("**", i):
            out += ".*"
            i += 2
        elif body[i] == "*":
            out += "[^/]*"
            i += 1
        elif body[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(body[i])
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    suffix = "/.*" if directory else "(?:/.*)?"
    return re.compile(f"^{prefix}{out}{suffix}$")


def codeowners_file(root: Path) -> Path | None:
    return next((root / name for name in CODEOWNERS_LOCATIONS if (root / name).is_file()), None)


def owner_rules(root: Path) -> list[OwnerRule]:
    path = codeowners_file(root)
    rules: list[OwnerRule] = []
    for line in path.read_text(errors="replace").splitlines() if path else []:
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        pattern, *owners = line.split()
        rules.append(OwnerRule(pattern, tuple(owners), pattern_regex(pattern)))
    return rules


def owners_of(relative: str, rules: list[OwnerRule]) -> tuple[str, ...]:
    """The owners of a repository-relative file: the last matching rule's (an empty owner list unsets)."""
    for rule in reversed(rules):
        if rule.regex.match(relative):
            return rule.owners or (UNOWNED,)
    return (UNOWNED,)


def identity_of(owner: str) -> Identity:
    """`@org/team` -> group `team`; `@user` or an e-mail -> that user. Groups as the platform's RBAC names them."""
    if owner.startswith("@") and "/" in owner:
        return Identity(f"codeowner:{owner}", (owner.split("/", 1)[1], "system:authenticated"))
    return Identity(owner.removeprefix("@"), ("system:authenticated",))


KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def _patch_files(directory: str, spec: dict) -> set[str]:
    found = set()
    for patch in list(spec.get("patches") or []) + list(spec.get("patchesStrategicMerge") or []):
        if isinstance(patch, dict) and "path" in patch:
            found.add(os.path.normpath(os.path.join(directory, str(patch["path"]))))
        elif isinstance(patch, str) and "\n" not in patch:
            found.add(os.path.normpath(os.path.join(directory, patch)))
    return found


class IncludeGraph:
    """Which kustomization folders include which, and the files in each that can change what it includes
    (its kustomization file and its patch files). Paths are normalised strings: no filesystem calls."""

    def __init__(self, platform: RenderedPlatform) -> None:
        self.folders = {str(d): spec for d, spec in platform.kustomizations.items()}
        self.children: dict[str, list[str]] = {}
        self.own: dict[str, frozenset[str]] = {}
        self.resource_files: dict[str, frozenset[str]] = {}
        for directory, spec in self.folders.items():
            entries = list(spec.get("resources") or []) + list(spec.get("components") or [])
            targets = [os.path.normpath(os.path.join(directory, str(e))) for e in entries]
            self.children[directory] = [t for t in targets if t in self.folders]
            self.resource_files[directory] = frozenset(t for t in targets if t not in self.folders and os.path.isfile(t))
            own = {os.path.join(directory, n) for n in KUSTOMIZATION_NAMES if os.path.isfile(os.path.join(directory, n))}
            self.own[directory] = frozenset(own | _patch_files(directory, spec))

    def chains(self, entry_point: str) -> dict[str, set[str]]:
        """For each folder reachable from an entry point: the files on every way to it (its own included)."""
        chains: dict[str, set[str]] = {}
        stack = [(entry_point, frozenset[str]())]
        while stack:
            directory, inherited = stack.pop()
            here = inherited | self.own.get(directory, frozenset())
            known = chains.setdefault(directory, set())
            if known and here <= known:
                continue
            known.update(here)
            stack.extend((child, here) for child in self.children.get(directory, []))
        return chains

    def files_read(self, entry_point: str) -> set[str]:
        """Every file that can add or change an object of this entry point's build: the kustomization and patch
        files of each folder it reaches, and the manifests they list (generator inputs only carry data)."""
        reached = self.chains(entry_point)
        return set().union(*reached.values(), *(self.resource_files.get(folder, frozenset()) for folder in reached))


def trusted_owners(root: Path) -> frozenset[str]:
    answers = mapping(root / ".copier-answers.yml")
    org, admins = answers.get("codeowners_org"), answers.get("cluster_admin_group")
    return frozenset({f"@{org}/{admins}"} if org and admins else set())


def boundary_problems(platform: RenderedPlatform) -> list[str]:
    """Each object an engine applies, against the rights of every persona who can change it through Git."""
    rules = owner_rules(platform.root)
    if not rules:
        return ["CODEOWNERS: no CODEOWNERS file, so every persona who can merge can change everything the engines apply"]
    trusted = trusted_owners(platform.root)
    rbac = _rbac_objects(platform)
    owners = lru_cache(maxsize=None)(lambda relative: owners_of(relative, rules))
    allowed = lru_cache(maxsize=None)(
        lambda owner, group, resource, namespace: can(rbac, identity_of(owner), "create", group, resource, namespace))
    problems: set[str] = set()
    root = str(platform.root)
    graph = IncludeGraph(platform)
    for entry_point in platform.entry_points:
        chains = graph.chains(str(entry_point))
        everything = set().union(*chains.values()) if chains else set()
        for obj in platform.builds[entry_point]:
            origin = platform.origin(obj)
            if origin == ".":
                continue
            origin_path = os.path.join(root, origin)
            chain = chains.get(os.path.dirname(origin_path)) or everything
            kind = str(obj.get("kind", ""))
            meta = obj.get("metadata") or {}
            namespace = "" if kind in CLUSTER_SCOPED_KINDS else str(meta.get("namespace") or "")
            group, resource = group_of(str(obj.get("apiVersion", ""))), resource_of(kind)
            for path in sorted(chain | {origin_path}):
                if not path.startswith(root + os.sep):
                    continue
                relative = path[len(root) + 1:]
                for owner in owners(relative):
                    if owner in trusted or allowed(owner, group, resource, namespace):
                        continue
                    where = f"namespace {namespace}" if namespace else "cluster-wide"
                    problems.add(f"{relative}: {owner} can change {kind} {meta.get('name')} ({where}, written in {origin}) "
                                 f"through this file, but may not create {resource} there; give this file to the cluster "
                                 f"admins in CODEOWNERS or move the object to a file they own")
    return sorted(problems)


def _rbac_objects(platform: RenderedPlatform) -> list[dict]:
    return [o for o in platform.unique_objects if o.get("kind") in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")]
