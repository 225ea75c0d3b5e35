"""The real-charts job (render-charts), driven here with a stand-in `helm`: the network it needs is only in CI.

What is real: the releases and merged values the check reads from the repo, kustomize's post-render (the
step Flux's helm-controller always runs) and the per-cluster output istioctl analyzes. The stand-in prints
what the gateway chart renders when the east-west values set the network label the chart already writes
(istio/istio#54907): the same key twice.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from istio_gitops_check import rendered_platform
from istio_gitops_check.chart_rendering import cluster_entry_points, post_render, render_charts

DUPLICATE_KEY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: istio-eastwestgateway
  labels:
    topology.istio.io/network: network-1
    topology.istio.io/network: network-1
"""


def stand_in_helm(folder: Path, calls: Path) -> Path:
    script = folder / "helm"
    script.write_text(f"""#!{sys.executable}
import sys
with open({str(calls)!r}, "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
release, chart = sys.argv[2], sys.argv[3]
if chart == "gateway" and "eastwest" in release:
    print({DUPLICATE_KEY!r})
else:
    print("apiVersion: v1\\nkind: ServiceAccount\\nmetadata:\\n  name: " + release + "\\n")
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_post_render_refuses_duplicate_keys() -> None:
    assert 'mapping key "topology.istio.io/network" already defined' in (post_render(DUPLICATE_KEY) or "")
    assert post_render("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n") is None


def test_every_release_rendered_with_its_pinned_chart_and_merged_values(render, tmp_path: Path) -> None:
    root = render({"gateways_enabled": ["ingress", "egress", "eastwest"],
                   "clusters": [{"name": "eu-1", "network": "net-eu", "api_server": "https://api.eu-1.example.com:6443"}, {"name": "us-1", "network": "net-us", "api_server": "https://api.us-1.example.com:6443"}]})
    platform = rendered_platform.load(root)
    calls = tmp_path / "calls.log"
    helm = stand_in_helm(tmp_path, calls)
    problems = render_charts(platform, tmp_path / "out", helm=str(helm))
    invocations = calls.read_text().splitlines()
    assert len(invocations) == len(platform.helm_releases) > 0
    istio = [line for line in invocations if line.split()[2] in ("base", "istiod", "gateway", "cni")]
    assert istio and all("--repo https://blob.istio.io/istio-release/charts --version 1.31.1" in line for line in istio)
    assert any(line.startswith("template cert-manager cert-manager --repo https://charts.jetstack.io --version v1.21.1")
               for line in invocations), "an add-on from its own repository at its pinned version"
    eastwest = [p for p in problems if "post-render" in p]
    assert {p.split(" on ")[1].split(" ")[0] for p in eastwest} == {"eu-1", "us-1"}, problems
    assert all(p.startswith("clusters/") for p in eastwest), "names the file declaring the release"
    values = (tmp_path / "out/eu-1/charts/istiod-1-31-1.values.yaml").read_text()
    assert "clusterName: eu-1" in values and "rootNamespace: istio-config" in values
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["eu-1", "us-1"]
    assert list((tmp_path / "out/eu-1/repo").glob("*.yaml")), "each cluster's manifests are there for istioctl"


def test_flux_clusters_get_their_own_manifests(render) -> None:
    root = render({"gitops_engine": "flux", "clusters": [{"name": "a", "network": "n", "api_server": "https://api.a.example.com:6443"}, {"name": "b", "network": "n", "api_server": "https://api.b.example.com:6443"}]})
    entry_points = cluster_entry_points(rendered_platform.load(root))
    assert set(entry_points) == {"a", "b"}
    assert root / "clusters/a" in entry_points["a"]
    assert root / "flux/clusters/a/istio-base" in entry_points["a"]
    assert not any("/clusters/b" in str(p) for p in entry_points["a"])


def test_missing_helm_is_reported_not_crashed(render, tmp_path: Path) -> None:
    platform = rendered_platform.load(render({}))
    problems = render_charts(platform, tmp_path / "out", helm=os.path.join(str(tmp_path), "no-helm"))
    assert problems and "not on PATH" in problems[0]
