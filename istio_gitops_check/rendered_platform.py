"""A generated platform repository loaded for checking: its files, every kustomization built the
way its GitOps engine builds it, and the Helm releases the wiring declares (values merged as Helm
merges them).

What the engines add on top of kustomize is emulated where the output depends on it:
- Flux builds with kustomize's load restrictor off, chrooted to the repository: `flux/` wiring
  may read values files elsewhere in the repo, never outside it (checked).
- Flux generates a kustomization for a path that has none (the `clusters/<cluster>/` entry
  points): every manifest below it, and each sub-folder that has its own kustomization.
- `flux bootstrap` writes `flux-system/gotk-components.yaml` and `gotk-sync.yaml`: stand-ins with
  the same controller Deployments and sync objects are written so the lockdown patches are built.
- Flux `postBuild.substitute` replaces `${var}` in what a Kustomization applies.
Shared folders (mesh/, gateways/, apps/) are always built with the restrictor on, so they stay
buildable by either engine.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from istio_gitops_check import kustomize_render
from istio_gitops_check.kubernetes_kinds import kind_name
from istio_gitops_check.yaml_documents import documents, mapping, parse, parse_all

ISTIO_CHARTS = "https://blob.istio.io/istio-release/charts"
VALUES_REF_PREFIX = "$values/"
FLUX_CONTROLLERS = ("source-controller", "kustomize-controller", "helm-controller", "notification-controller")
EMULATED = "istio-gitops-template/emulated"
ORIGIN = "config.kubernetes.io/origin"
# The scratch copy goes to memory where Linux offers it: creating thousands of folders and files there is ~25x
# faster than on a disk-backed /tmp (measured on the CI machine: 0.05 s against 1.3 s for 3,000 of each).
SCRATCH = "/dev/shm"
ORIGIN_PATH = re.compile(r"^(path|configuredIn):(.*)$", re.MULTILINE)
# What `flux bootstrap` records as the sync URL is the bootstrap command's argument, not something the repo
# declares; the stand-in only has to be a URL Flux accepts.
BOOTSTRAP_URL = "ssh://git@git.example.invalid/platform.git"
SUBSTITUTION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::=([^}]*))?\}")


@dataclass(frozen=True)
class HelmRelease:
    """One Helm release the engine will install: chart, version, where, and its values in order."""

    declared_in: str
    file: str
    cluster: str
    chart: str
    repository: str
    version: str
    release_name: str
    namespace: str
    value_sources: tuple[tuple[str, dict], ...] = field(hash=False, compare=False)
    values: dict = field(hash=False, compare=False)


def distinct(objects: list[dict]) -> list[dict]:
    """Objects without exact repeats, the first one seen kept (a base and its overlays render the same object;
    clusters render same-named objects with different content, and those are all kept)."""
    seen: dict[str, dict] = {}
    for obj in objects:
        seen.setdefault(json.dumps(obj, sort_keys=True), obj)
    return list(seen.values())


@dataclass
class RenderedPlatform:
    root: Path
    engine: str
    files: list[Path]
    kustomizations: dict[Path, dict]
    builds: dict[Path, list[dict]]
    build_errors: dict[Path, str]
    helm_releases: list[HelmRelease] = field(default_factory=list)
    wiring_problems: list[str] = field(default_factory=list)
    origins: dict[int, str] = field(default_factory=dict)
    contents: dict[Path, bytes] = field(default_factory=dict, repr=False)

    # Derived views, computed once: load() fills builds first, and forget() drops them if builds change.
    @cached_property
    def objects(self) -> list[dict]:
        """Every object of every build (bases and overlays both, so shared objects repeat)."""
        return [obj for objs in self.builds.values() for obj in objs]

    @cached_property
    def unique_objects(self) -> list[dict]:
        """Every object of every build, without exact repeats."""
        return distinct(self.objects)

    @cached_property
    def entry_points(self) -> list[Path]:
        """Kustomizations no other kustomization includes: what the engine actually applies."""
        included: set[str] = set()
        for directory, spec in self.kustomizations.items():
            for entry in list(spec.get("resources") or []) + list(spec.get("components") or []):
                target = os.path.normpath(os.path.join(str(directory), str(entry)))
                if target in self._folders or os.path.isdir(target):
                    included.add(target)
        return [d for d in self.builds if str(d) not in included]

    @cached_property
    def _folders(self) -> frozenset[str]:
        return frozenset(str(d) for d in self.kustomizations)

    @cached_property
    def applied_unique_objects(self) -> list[dict]:
        """What the engines apply: the entry points' objects without exact repeats (bootstrap stand-ins included)."""
        return distinct([obj for directory in self.entry_points for obj in self.builds[directory]])

    def forget(self) -> None:
        """Drop the derived views after builds changed."""
        for name in ("objects", "unique_objects", "entry_points", "_folders", "applied_unique_objects"):
            self.__dict__.pop(name, None)

    def text(self, path: Path) -> str:
        """One of the repository's files as text (undecodable bytes replaced), from the bytes read once."""
        data = self.contents.get(path)
        return data.decode(errors="replace") if data is not None else path.read_text(errors="replace")

    def documents(self, path: Path) -> list[dict]:
        """The mapping documents of one of the repository's files, parsed once per check."""
        cache = self.__dict__.setdefault("_documents", {})
        if path not in cache:
            try:
                cache[path] = [d for d in parse_all(self.text(path)) if isinstance(d, dict)] if path in self.contents else documents(path)
            except yaml.YAMLError:
                cache[path] = []
        return cache[path]

    @property
    def applied_objects(self) -> list[dict]:
        """Objects of the entry points, without the stand-ins for what `flux bootstrap` writes."""
        return [
            obj
            for directory in self.entry_points
            for obj in self.builds[directory]
            if EMULATED not in obj.get("metadata", {}).get("annotations", {})
        ]

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() or "."

    def origin(self, obj: dict) -> str:
        """The repository file an object was written in (kustomize's origin annotation), '.' if unknown."""
        return self.origins.get(id(obj), ".")

    def describe(self, obj: dict) -> str:
        """`file: Kind namespace/name`, the way problems name an object."""
        return f"{self.origin(obj)}: {kind_name(obj)}"


def merge_values(base: dict, override: dict) -> dict:
    """Helm's merge of values files: maps merge recursively, anything else is replaced."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def gitops_engine(root: Path) -> str:
    return str(mapping(root / ".copier-answers.yml").get("gitops_engine", "argocd"))


def application_sources(spec: dict) -> list[dict]:
    """An Argo CD Application's sources, single- or multi-source."""
    return list(spec.get("sources", []) or []) + ([spec["source"]] if "source" in spec else [])


def argocd_applications(platform: RenderedPlatform) -> list[dict]:
    """Every Argo CD Application the repo renders, once by name."""
    found: dict[str, dict] = {}
    for app in platform.objects:
        if app.get("kind") == "Application" and str(app.get("apiVersion", "")).startswith("argoproj.io/"):
            found.setdefault(app["metadata"]["name"], app)
    return list(found.values())


def argocd_helm_releases(platform: RenderedPlatform) -> tuple[list[HelmRelease], list[str]]:
    """Helm releases declared by Argo CD Applications (multi-source, values from `$values/`)."""
    releases: list[HelmRelease] = []
    problems: list[str] = []
    for app in argocd_applications(platform):
        name = app["metadata"]["name"]
        spec = app.get("spec", {})
        destination = spec.get("destination", {})
        for source in application_sources(spec):
            if "chart" not in source:
                continue
            helm = source.get("helm", {})
            value_sources = []
            for file in (f.removeprefix(VALUES_REF_PREFIX) for f in helm.get("valueFiles", [])):
                if not (platform.root / file).is_file():
                    problems.append(f"{platform.origin(app)}: Application {name}: values file {file} does not exist")
                    continue
                value_sources.append((file, mapping(platform.root / file)))
            releases.append(_release(f"{platform.origin(app)}: Application {name}", platform.origin(app),
                                     destination.get("name", destination.get("server", "")),
                                     source["chart"], source.get("repoURL", ""), source.get("targetRevision", ""), helm.get("releaseName", name),
                                     destination.get("namespace", ""), value_sources, {}))
    return releases, problems


def flux_helm_releases(platform: RenderedPlatform) -> tuple[list[HelmRelease], list[str]]:
    """HelmReleases in the per-cluster Flux folders, with values from the ConfigMaps built beside them."""
    releases: list[HelmRelease] = []
    problems: list[str] = []
    repositories = {o["metadata"].get("name"): str(o.get("spec", {}).get("url", ""))
                    for o in platform.objects if o.get("kind") == "HelmRepository"}
    for directory, objects in platform.builds.items():
        parts = directory.relative_to(platform.root).parts
        if parts[:2] != ("flux", "clusters"):
            continue
        config_maps = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "ConfigMap"}
        for release in (o for o in objects if o.get("kind") == "HelmRelease"):
            spec = release.get("spec", {})
            name = release["metadata"]["name"]
            file = platform.origin(release)
            value_sources = []
            for ref in spec.get("valuesFrom", []):
                config_map = config_maps.get(ref.get("name"))
                key = ref.get("valuesKey", "values.yaml")
                if ref.get("kind") != "ConfigMap" or config_map is None or key not in config_map.get("data", {}):
                    problems.append(f"{file}: HelmRelease {name} in {'/'.join(parts)}: valuesFrom {ref} is not built beside it")
                    continue
                try:
                    values = parse(config_map["data"][key]) or {}
                except yaml.YAMLError as error:
                    problems.append(f"{platform.origin(config_map)}: values of ConfigMap {ref['name']} do not parse: {error}")
                    continue
                value_sources.append((f"{platform.origin(config_map)} (ConfigMap {ref['name']} key {key})", values))
            chart = spec.get("chart", {}).get("spec", {})
            repository = repositories.get(chart.get("sourceRef", {}).get("name"), "")
            releases.append(_release(f"{file}: HelmRelease {name} ({'/'.join(parts)})", file, parts[2], chart.get("chart", ""),
                                     repository, chart.get("version", ""), spec.get("releaseName", name),
                                     spec.get("targetNamespace", release["metadata"].get("namespace", "")),
                                     value_sources, spec.get("values", {})))
    return releases, problems


def _release(declared_in, file, cluster, chart, repository, version, release_name, namespace, value_sources, inline) -> HelmRelease:
    values: dict = {}
    for _, source in value_sources:
        if isinstance(source, dict):
            values = merge_values(values, source)
    values = merge_values(values, inline or {})
    return HelmRelease(declared_in, file, str(cluster), str(chart), str(repository), str(version), str(release_name), str(namespace),
                       tuple(value_sources), values)


def paths_escaping(directory: Path, spec: dict, root: Path) -> list[str]:
    """Files and folders a kustomization reads from outside the repository (Flux's chroot)."""
    referenced = list(spec.get("resources", [])) + list(spec.get("components", []))
    referenced += list(spec.get("configurations", []))
    referenced += [p["path"] for p in spec.get("patches", []) if isinstance(p, dict) and "path" in p]
    for generator in spec.get("configMapGenerator", []) + spec.get("secretGenerator", []):
        referenced += [f.split("=", 1)[-1] for f in generator.get("files", []) + generator.get("envs", [])]
    return [ref for ref in referenced if not (directory / ref).resolve().is_relative_to(root.resolve())]


def emulate_flux_bootstrap(workdir: Path, cluster_dir: Path, git_url: str, git_branch: str) -> None:
    """Write what `flux bootstrap git --path=clusters/<c>` writes: the controllers and the sync objects."""
    system = cluster_dir / "flux-system"
    system.mkdir(exist_ok=True)
    note = {EMULATED: "flux-bootstrap"}
    # As Flux's install manifests have them: the namespace only warns at restricted, and every controller is
    # written to pass restricted.
    namespace_labels = {"app.kubernetes.io/instance": "flux-system", "app.kubernetes.io/part-of": "flux",
                        "pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/warn-version": "latest"}
    restricted = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True,
                  "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    components: list[dict] = [{"apiVersion": "v1", "kind": "Namespace",
                               "metadata": {"name": "flux-system", "labels": namespace_labels, "annotations": note}}]
    for controller in FLUX_CONTROLLERS:
        labels = {"app": controller}
        components.append({"apiVersion": "v1", "kind": "ServiceAccount",
                           "metadata": {"name": controller, "namespace": "flux-system", "annotations": note}})
        components.append({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": controller, "namespace": "flux-system", "annotations": note},
            "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {
                "serviceAccountName": controller, "securityContext": {"fsGroup": 1337},
                "containers": [{"name": "manager", "image": f"ghcr.io/fluxcd/{controller}",
                                "args": ["--watch-all-namespaces=true", "--log-level=info"],
                                "securityContext": restricted}]}}},
        })
    sync = [
        {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
         "metadata": {"name": "flux-system", "namespace": "flux-system", "annotations": note},
         "spec": {"interval": "1m0s", "ref": {"branch": git_branch}, "url": git_url, "secretRef": {"name": "flux-system"}}},
        {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
         "metadata": {"name": "flux-system", "namespace": "flux-system", "annotations": note},
         "spec": {"interval": "10m0s", "path": f"./{cluster_dir.relative_to(workdir).as_posix()}", "prune": True,
                  "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}},
    ]
    (system / "gotk-components.yaml").write_text(yaml.safe_dump_all(components, sort_keys=False))
    (system / "gotk-sync.yaml").write_text(yaml.safe_dump_all(sync, sort_keys=False))


def flux_scan(directory: Path) -> list[str]:
    """Flux's generated kustomization: manifests below `directory`, sub-folders with a kustomization as a whole."""
    found: list[str] = []
    for child in sorted(directory.iterdir()):
        if child.is_dir():
            if any((child / name).exists() for name in kustomize_render.KUSTOMIZATION_FILES):
                found.append(child.name)
            else:
                found += [f"{child.name}/{entry}" for entry in flux_scan(child)]
        elif child.suffix in (".yaml", ".yml"):
            docs = documents(child)
            if docs and all("apiVersion" in d and "kind" in d for d in docs):
                found.append(child.name)
    return found


def substitute(rendered: str, variables: dict) -> str:
    """Flux postBuild.substitute: ${var} and ${var:=default}; unknown variables are left for the check to see."""
    def replace(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in variables:
            return str(variables[name])
        return default if default is not None else match.group(0)
    return SUBSTITUTION.sub(replace, rendered)


def prepare_engine_workdir(root: Path, workdir: Path) -> str:
    """Add to the copy in `workdir` what the engine adds before building; returns the engine."""
    engine = gitops_engine(root)
    if engine == "flux":
        branch = str(mapping(root / ".copier-answers.yml").get("git_branch", "main"))
        for cluster_dir in sorted((workdir / "clusters").iterdir()) if (workdir / "clusters").is_dir() else []:
            if cluster_dir.is_dir():
                emulate_flux_bootstrap(workdir, cluster_dir, BOOTSTRAP_URL, branch)
        for path in flux_kustomization_paths(workdir):
            target = workdir / path
            if target.is_dir() and not any((target / n).exists() for n in kustomize_render.KUSTOMIZATION_FILES):
                (target / "kustomization.yaml").write_text(yaml.safe_dump(
                    {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": flux_scan(target)}))
    return engine


def record_origins(folders: list[Path]) -> None:
    """Ask kustomize to annotate every object with the file it came from (`buildMetadata: [originAnnotations]`),
    so each problem can name a file; load() takes the annotation off again."""
    for directory in folders:
        path = next(directory / n for n in kustomize_render.KUSTOMIZATION_FILES if (directory / n).is_file())
        text = path.read_text()
        if "buildMetadata" not in text:
            path.write_text(text.rstrip("\n") + "\nbuildMetadata: [originAnnotations]\n")
            continue
        spec = mapping(path)
        if not spec and text.strip():
            continue  # does not parse: the build reports it
        if "buildMetadata" not in spec:
            path.write_text(text.rstrip("\n") + "\nbuildMetadata: [originAnnotations]\n")
        elif "originAnnotations" not in (spec.get("buildMetadata") or []):
            spec["buildMetadata"] = [*(spec.get("buildMetadata") or []), "originAnnotations"]
            path.write_text(yaml.safe_dump(spec, sort_keys=False))


def take_origins(objects: list[dict], built: Path, workdir: Path) -> dict[int, str]:
    """Remove the origin annotations from a build's objects; returns id(object) -> repository-relative file."""
    origins: dict[int, str] = {}
    base = str(workdir.resolve())
    for obj in objects:
        annotations = obj.get("metadata", {}).get("annotations")
        if not isinstance(annotations, dict) or ORIGIN not in annotations:
            continue
        found = ORIGIN_PATH.search(str(annotations.pop(ORIGIN)))
        if not annotations:
            del obj["metadata"]["annotations"]
        if found:
            file = os.path.normpath(os.path.join(str(built), found.group(2).strip().strip("'\"")))
            if file.startswith(base + os.sep):
                origins[id(obj)] = file[len(base) + 1:]
    return origins


def flux_kustomization_paths(workdir: Path) -> list[str]:
    """Paths of the Flux Kustomizations declared under clusters/, bootstrap's own sync included
    (paths with unresolved variables skipped)."""
    paths = []
    for file in sorted(workdir.glob("clusters/**/*.yaml")):
        for doc in documents(file):
            if doc.get("kind") == "Kustomization" and "toolkit.fluxcd.io" in str(doc.get("apiVersion")):
                path = str(doc.get("spec", {}).get("path", "")).removeprefix("./")
                if path and "${" not in path:
                    paths.append(path)
    return paths


def builds_unrestricted(engine: str, relative: Path) -> bool:
    """Flux wiring (flux/, clusters/) is built the way Flux builds it; shared folders stay restricted."""
    return engine == "flux" and relative.parts[:1] in (("flux",), ("clusters",))


def _glob_match(relative: str, pattern: str) -> bool:
    """Go filepath.Match semantics, as Argo CD's directory include uses: `*` stays within a segment."""
    parts, wanted = relative.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(fnmatch.fnmatchcase(p, w) for p, w in zip(parts, wanted))


def directory_manifests(directory: Path, recurse: bool, include: str | None, read=documents) -> list[tuple[Path, dict]]:
    """What an Argo CD directory source applies: YAML manifests, optionally recursive and filtered, with their file."""
    files = sorted(directory.rglob("*") if recurse else directory.iterdir())
    found: list[tuple[Path, dict]] = []
    for file in files:
        relative = file.relative_to(directory).as_posix()
        if not file.is_file() or file.suffix not in (".yaml", ".yml", ".json"):
            continue
        if include and not any(_glob_match(relative, p) for p in include.strip("{}").split(",")):
            continue
        found += [(file, d) for d in read(file)]
    return found


def add_argocd_directory_sources(platform: RenderedPlatform) -> None:
    """Argo CD Applications whose path is a plain directory: their manifests become a build of that path."""
    done: set[Path] = set()
    while True:
        pending = []
        for app in (o for objs in list(platform.builds.values()) for o in objs if o.get("kind") == "Application"):
            spec = app.get("spec", {})
            for source in application_sources(spec):
                if "path" not in source or "chart" in source:
                    continue
                directory = (platform.root / source["path"]).resolve()
                if directory in platform.builds or directory in done or not directory.is_dir():
                    continue
                if any((directory / n).exists() for n in kustomize_render.KUSTOMIZATION_FILES):
                    continue
                options = source.get("directory", {})
                pending.append((directory, bool(options.get("recurse")), options.get("include")))
        if not pending:
            return
        for directory, recurse, include in pending:
            done.add(directory)
            manifests = directory_manifests(directory, recurse, include, platform.documents)
            platform.builds[directory] = [obj for _, obj in manifests]
            platform.origins.update((id(obj), platform.relative(file)) for file, obj in manifests)
            platform.kustomizations[directory] = {}
            platform.forget()


def cluster_entry_points(platform: RenderedPlatform) -> dict[str, list[Path]]:
    """The kustomization folders each cluster gets, from the Argo CD Applications or the Flux entry points."""
    found: dict[str, set[Path]] = {}
    for obj in platform.objects:
        if obj.get("kind") == "Application" and str(obj.get("apiVersion", "")).startswith("argoproj.io/"):
            spec = obj.get("spec", {})
            cluster = str(spec.get("destination", {}).get("name", ""))
            for source in application_sources(spec):
                path = (platform.root / str(source.get("path", ""))).resolve() if "path" in source else None
                if cluster and path in platform.builds:
                    found.setdefault(cluster, set()).add(path)
    if platform.engine == "flux":
        for directory, objects in platform.builds.items():
            parts = directory.relative_to(platform.root).parts
            if len(parts) != 2 or parts[0] != "clusters":
                continue
            reached = found.setdefault(parts[1], set())
            pending = [directory]
            while pending:  # Kustomizations that declare Kustomizations (tenants, network owners) apply there too
                current = pending.pop()
                if current in reached and current != directory:
                    continue
                reached.add(current)
                for obj in platform.builds.get(current, []):
                    if obj.get("kind") == "Kustomization" and "toolkit.fluxcd.io" in str(obj.get("apiVersion")):
                        path = (platform.root / str(obj.get("spec", {}).get("path", ""))).resolve()
                        if path in platform.builds and path not in reached:
                            pending.append(path)
    return {cluster: sorted(paths) for cluster, paths in sorted(found.items())}


def copy_repository(root: Path, files: list[Path], workdir: Path, contents: dict[Path, bytes] | None = None) -> None:
    """The repository's own files (not what git ignores, such as caches) in a scratch folder."""
    relative = [str(path.relative_to(root)) for path in files]
    for folder in sorted({os.path.dirname(r) for r in relative}):
        os.makedirs(os.path.join(workdir, folder), exist_ok=True)
    for path, name in zip(files, relative, strict=True):
        if contents is not None and path in contents:
            with open(os.path.join(workdir, name), "wb") as copy:
                copy.write(contents[path])
        else:
            shutil.copyfile(path, os.path.join(workdir, name))


def load(root: Path, files: list[Path] | None = None, contents: dict[Path, bytes] | None = None) -> RenderedPlatform:
    """Build every kustomization of the repository as its engine would and collect the Helm releases.

    `files`: the repository's files (repository_checks.repository_files), listed again when not given;
    `contents`: their bytes, read once by the caller (read again here when not given)."""
    from istio_gitops_check.repository_checks import repository_files

    root = root.resolve()
    files = files if files is not None else repository_files(root)
    with tempfile.TemporaryDirectory(dir=SCRATCH if os.access(SCRATCH, os.W_OK) else None) as scratch:
        workdir = Path(scratch) / "repo"
        copy_repository(root, files, workdir, contents)
        engine = prepare_engine_workdir(root, workdir)
        folders = kustomize_render.find_kustomizations(workdir)
        kustomizations = {root / d.relative_to(workdir): mapping(d / "kustomization.yaml") for d in folders}
        record_origins(folders)
        jobs: list[tuple[Path, bool]] = []
        wiring: list[str] = []
        for real, spec in kustomizations.items():
            directory = workdir / real.relative_to(root)
            flux_wiring = builds_unrestricted(engine, real.relative_to(root))
            if flux_wiring:
                wiring += [f"{real.relative_to(root) / 'kustomization.yaml'}: reads {p} outside the repository"
                           for p in paths_escaping(directory, spec, workdir)]
            jobs.append((directory, flux_wiring))
        outcomes = kustomize_render.build_many(jobs)
        builds: dict[Path, list[dict]] = {}
        errors: dict[Path, str] = {}
        origins: dict[int, str] = {}
        for directory, outcome in outcomes.items():
            real = root / directory.relative_to(workdir)
            if isinstance(outcome, kustomize_render.KustomizeBuildFailed):
                message = str(outcome).replace(f"{directory}: ", "", 1).replace(str(workdir) + "/", "").replace(str(workdir), ".")
                errors[real] = f"{real.relative_to(root) / 'kustomization.yaml'}: {message}"
                continue
            origins.update(take_origins(outcome, directory, workdir))
            builds[real] = outcome
        for flux_kustomization in (o for objs in list(builds.values()) for o in objs if o.get("kind") == "Kustomization"
                                   and str(o.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/")):
            variables = flux_kustomization.get("spec", {}).get("postBuild", {}).get("substitute")
            target = (root / flux_kustomization.get("spec", {}).get("path", "")).resolve()
            if variables and target in builds:
                directory = workdir / target.relative_to(root)
                rendered = kustomize_render.build(directory, unrestricted=builds_unrestricted(engine, target.relative_to(root)))
                objects = kustomize_render.objects(substitute(rendered, variables))
                origins.update(take_origins(objects, directory, workdir))
                builds[target] = objects
    platform = RenderedPlatform(root, engine, files, kustomizations, builds, errors, wiring_problems=wiring, origins=origins,
                                contents=contents or {})
    add_argocd_directory_sources(platform)
    argo, argo_problems = argocd_helm_releases(platform)
    flux, flux_problems = flux_helm_releases(platform)
    platform.helm_releases = argo + flux
    platform.wiring_problems += argo_problems + flux_problems
    return platform
