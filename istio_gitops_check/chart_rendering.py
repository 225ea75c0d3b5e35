"""What the real Istio charts render with this repo's values, per cluster: the CI job with network access.

For each Helm release the engines will install: `helm template` of the real chart at the pinned version with
the release's values files merged as Helm merges them, then kustomize over the output (Flux's helm-controller
always post-renders with kustomize, which rejects what Helm and Argo CD let pass, such as duplicate keys),
then, with `--analyze`, `istioctl analyze --use-kube=false` over everything the cluster gets: the rendered
charts and every object the repo's kustomizations apply there.

Output: <out>/<cluster>/charts/<release>.yaml and <out>/<cluster>/repo/<entry point>.yaml. Needs `helm` (and
`istioctl` for --analyze) on PATH and access to the chart repositories; the offline check does not run this.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from istio_gitops_check import kustomize_render
from istio_gitops_check.rendered_platform import HelmRelease, RenderedPlatform, cluster_entry_points


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "root"


def helm_template(release: HelmRelease, values_file: Path, helm: str) -> subprocess.CompletedProcess:
    command = [helm, "template", release.release_name, release.chart, "--repo", release.repository,
               "--version", release.version, "--namespace", release.namespace, "--values", str(values_file),
               "--include-crds"]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def post_render(rendered: str) -> str | None:
    """kustomize over a chart's output, as helm-controller does; the error, or None when it builds."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "chart.yaml").write_text(rendered)
        (folder / "kustomization.yaml").write_text("resources:\n  - chart.yaml\n")
        try:
            kustomize_render.build(folder)
        except kustomize_render.KustomizeBuildFailed as error:
            return str(error).replace(f"{folder}: ", "").replace(str(folder) + "/", "")
    return None


def render_charts(platform: RenderedPlatform, out: Path, helm: str = "helm", istioctl: str | None = None) -> list[str]:
    """Render every release and the repo per cluster into `out`; problems as `file: message` lines."""
    problems: list[str] = []
    if shutil.which(helm) is None:
        return [f".: {helm} is not on PATH; this job needs Helm and network access to the chart repositories"]
    for release in platform.helm_releases:
        cluster_dir = out / _safe(release.cluster)
        (cluster_dir / "charts").mkdir(parents=True, exist_ok=True)
        values_file = cluster_dir / "charts" / f"{_safe(release.release_name)}.values.yaml"
        values_file.write_text(yaml.safe_dump(release.values, sort_keys=True))
        done = helm_template(release, values_file, helm)
        sources = ", ".join([release.file, *(label for label, _ in release.value_sources)])
        if done.returncode != 0:
            problems.append(f"{release.file}: helm template {release.chart} {release.version} for cluster "
                            f"{release.cluster} failed (values from {sources}): {done.stderr.strip()}")
            continue
        (cluster_dir / "charts" / f"{_safe(release.release_name)}.yaml").write_text(done.stdout)
        error = post_render(done.stdout)
        if error:
            problems.append(f"{release.file}: Flux's kustomize post-render of {release.release_name} on {release.cluster} "
                            f"fails (values from {sources}): {error}")
    for cluster, paths in cluster_entry_points(platform).items():
        repo_dir = out / _safe(cluster) / "repo"
        repo_dir.mkdir(parents=True, exist_ok=True)
        for path in paths:
            name = _safe(path.relative_to(platform.root).as_posix()) + ".yaml"
            (repo_dir / name).write_text(yaml.safe_dump_all(platform.builds[path], sort_keys=False))
    if istioctl:
        for cluster_dir in sorted(p for p in out.iterdir() if p.is_dir()):
            command = [istioctl, "analyze", "--use-kube=false", "--recursive", "--ignore-unknown", str(cluster_dir)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                problems.append(f"clusters/{cluster_dir.name}: istioctl analyze reports (exit {done.returncode}): "
                                f"{(done.stdout + done.stderr).strip()}")
    return problems
