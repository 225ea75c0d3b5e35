"""A generated platform repository loaded for checking: its files, every kustomization built,
and the Helm releases its GitOps wiring declares (with their values files merged as Helm would).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.validation import kustomize_render

ISTIO_CHARTS = "https://blob.istio.io/istio-release/charts"
VALUES_REF_PREFIX = "$values/"


@dataclass(frozen=True)
class HelmRelease:
    """One Helm release the engine will install: chart, version, where, and its values files."""

    declared_in: str
    cluster: str
    chart: str
    version: str
    release_name: str
    namespace: str
    value_files: tuple[str, ...]
    values: dict = field(hash=False, compare=False)


@dataclass
class RenderedPlatform:
    root: Path
    files: list[Path]
    builds: dict[Path, list[dict]]
    build_errors: dict[Path, str]
    helm_releases: list[HelmRelease]
    missing_value_files: list[str]

    @property
    def objects(self) -> list[dict]:
        """Every object of every build (bases and overlays both, so shared objects repeat)."""
        return [obj for objs in self.builds.values() for obj in objs]

    @property
    def entry_points(self) -> list[Path]:
        """Kustomizations no other kustomization includes: what the engine actually applies."""
        included: set[Path] = set()
        for directory in self.builds:
            spec = load_yaml_file(directory / "kustomization.yaml")
            for entry in spec.get("resources", []) + spec.get("components", []):
                target = (directory / entry).resolve()
                if target.is_dir():
                    included.add(target)
        return [d for d in self.builds if d not in included]

    @property
    def applied_objects(self) -> list[dict]:
        """Objects of the entry points: one per object the engines create across all clusters."""
        return [obj for directory in self.entry_points for obj in self.builds[directory]]

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() or "."


def merge_values(base: dict, override: dict) -> dict:
    """Helm's merge of values files: maps merge recursively, anything else is replaced."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_yaml_file(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    return data if isinstance(data, dict) else {}


def argocd_helm_releases(platform_root: Path, objects: list[dict]) -> tuple[list[HelmRelease], list[str]]:
    """Helm releases declared by Argo CD Applications (multi-source, values from `$values/`)."""
    releases: list[HelmRelease] = []
    missing: list[str] = []
    seen: set[tuple[str, str]] = set()
    for app in objects:
        if app.get("kind") != "Application" or not app.get("apiVersion", "").startswith("argoproj.io/"):
            continue
        spec = app.get("spec", {})
        name = app["metadata"]["name"]
        if (name, app["metadata"].get("namespace", "")) in seen:
            continue
        seen.add((name, app["metadata"].get("namespace", "")))
        for source in spec.get("sources", []) + ([spec["source"]] if "source" in spec else []):
            if "chart" not in source:
                continue
            helm = source.get("helm", {})
            files = tuple(f.removeprefix(VALUES_REF_PREFIX) for f in helm.get("valueFiles", []))
            values: dict = {}
            for file in files:
                path = platform_root / file
                if not path.is_file():
                    missing.append(f"Application {name}: values file {file} does not exist")
                    continue
                values = merge_values(values, load_yaml_file(path))
            releases.append(
                HelmRelease(
                    declared_in=f"Application {name}",
                    cluster=spec.get("destination", {}).get("name", spec.get("destination", {}).get("server", "")),
                    chart=source["chart"],
                    version=str(source.get("targetRevision", "")),
                    release_name=helm.get("releaseName", name),
                    namespace=spec.get("destination", {}).get("namespace", ""),
                    value_files=files,
                    values=values,
                )
            )
    return releases, missing


def load(root: Path) -> RenderedPlatform:
    """Build every kustomization under `root` and collect the declared Helm releases."""
    root = root.resolve()
    files = sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts)
    builds: dict[Path, list[dict]] = {}
    errors: dict[Path, str] = {}
    for directory in kustomize_render.find_kustomizations(root):
        try:
            builds[directory] = kustomize_render.objects(kustomize_render.build(directory))
        except kustomize_render.KustomizeBuildFailed as error:
            errors[directory] = str(error)
    all_objects = [obj for objs in builds.values() for obj in objs]
    releases, missing = argocd_helm_releases(root, all_objects)
    return RenderedPlatform(root, files, builds, errors, releases, missing)
