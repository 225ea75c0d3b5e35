"""The team hook as a plain function: deterministic, idempotent, confined to the repo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "hooks"))
import team_folders  # noqa: E402

PLATFORM = {
    "platform_name": "core", "gitops_engine": "argocd", "git_repo_url": "git@git.example.com:infra/core.git", "git_branch": "main",
    "gateway_layout": "split", "gateways_enabled": ["ingress", "egress"], "egress_allowed_hosts": ["api.github.com"],
    "ingress_domain": "example.com", "trust_domain": "corp.example", "codeowners_org": "acme",
    "istio_revision_tags": [{"name": "prod-stable", "version": "1.31.1"}], "istio_default_tag": "prod-stable", "clusters": ["eu-1", "us-1"],
}
TEAM = {"name": "payments", "owners_group": "team-payments", "namespaces": ["payments", "n"], "clusters": ["eu-1", "us-1"],
        "revision_tag": "prod-stable", "egress_hosts": ["api.github.com"],
        "ingress_routes": [{"host": "pay.example.com", "service": "web", "port": 8080}]}


def test_same_input_same_bytes() -> None:
    assert team_folders.team_files(PLATFORM, TEAM) == team_folders.team_files(json.loads(json.dumps(PLATFORM)), json.loads(json.dumps(TEAM)))


def test_files_stay_in_team_owned_paths() -> None:
    for engine in ("argocd", "flux"):
        files = team_folders.team_files({**PLATFORM, "gitops_engine": engine}, TEAM)
        assert all(p.startswith(("teams/payments/", "tenants/eu-1/payments/", "tenants/us-1/payments/", "tenants/projects/payments.yaml",
                                 "gateways/requests/payments/")) for p in files), sorted(files)


def test_namespace_defaults() -> None:
    files = team_folders.team_files(PLATFORM, TEAM)
    sidecar = yaml.safe_load(files["teams/payments/base/payments/namespace/sidecar.yaml"])
    assert sidecar["spec"]["egress"][0]["hosts"] == ["./*", "istio-system/*", "istio-egress/api.github.com",
                                                     "istio-egress/istio-egressgateway.istio-egress.svc.cluster.local"]
    policies = list(yaml.safe_load_all(files["teams/payments/base/payments/namespace/authorization-policies.yaml"]))
    assert policies[0] == {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                           "metadata": {"name": "default-deny", "namespace": "payments"}, "spec": {}}
    assert policies[2]["spec"]["rules"][0]["from"][0]["source"]["principals"] == ["corp.example/ns/istio-ingress/sa/istio-ingressgateway"]
    namespace = files["teams/payments/base/n/namespace/namespace.yaml"]
    assert 'name: "n"' in namespace, "names YAML 1.1 reads as booleans are quoted"
    assert "istio.io/rev: prod-stable" in namespace


def test_flux_git_url_is_ssh_form() -> None:
    files = team_folders.team_files({**PLATFORM, "gitops_engine": "flux"}, TEAM)
    assert "url: ssh://git@git.example.com/infra/core.git" in files["tenants/eu-1/payments/tenant.yaml"]


def test_write_is_idempotent_and_confined(tmp_path: Path) -> None:
    files = team_folders.team_files(PLATFORM, TEAM)
    assert team_folders.write_files(tmp_path, files) == list(files)
    assert team_folders.write_files(tmp_path, files) == []
    with pytest.raises(ValueError, match="outside"):
        team_folders.write_files(tmp_path, {"../escape.yaml": "x"})
    assert not (tmp_path.parent / "escape.yaml").exists()


def test_command_line(tmp_path: Path) -> None:
    payload = json.dumps({"platform": PLATFORM, "team": TEAM})
    codeowners = "* @acme/admins\n# BEGIN teams (one line per team, kept sorted by team onboarding)\n# END teams\n"
    (tmp_path / "CODEOWNERS").write_text(codeowners)
    subprocess.run([sys.executable, str(REPO / "hooks/team_folders.py"), payload], cwd=tmp_path, check=True)
    assert (tmp_path / "tenants/projects/payments.yaml").exists()
    assert (tmp_path / "CODEOWNERS").read_text() == codeowners, "onboarding writes no shared file (scripts/codeowners.py does, later)"
    answers = tmp_path / ".copier-answers.yml"
    answers.write_text(yaml.safe_dump({**PLATFORM, "clusters": [{"name": "eu-1", "network": "n", "api_server": "https://api.eu-1.example.com:6443"}], "mesh_id": "m"}))
    snapshot = subprocess.run([sys.executable, str(REPO / "hooks/team_folders.py"), "--snapshot", str(answers)],
                              capture_output=True, text=True, check=True).stdout
    assert json.loads(snapshot)["clusters"] == ["eu-1"] and "mesh_id" not in json.loads(snapshot)


def test_network_policy_keeps_escaped_traffic_in_the_cluster() -> None:
    """Egress only to mesh namespaces, istiod, the egress gateway and DNS; no rule reaches an outside address,
    except the east-west port when the mesh spans networks."""
    policy = team_folders.egress_network_policy("shop", "istio-egress")
    assert policy["spec"]["policyTypes"] == ["Egress"] and policy["spec"]["podSelector"] == {}
    targets = [peer for rule in policy["spec"]["egress"] for peer in rule["to"]]
    assert not any("ipBlock" in peer for peer in targets)
    names = next(p["namespaceSelector"]["matchExpressions"][0]["values"] for p in targets
                 if p.get("namespaceSelector", {}).get("matchExpressions", [{}])[0].get("key") == "kubernetes.io/metadata.name")
    assert names == ["istio-egress", "istio-system"]
    dns = policy["spec"]["egress"][1]
    assert dns["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
    multi = team_folders.egress_network_policy("shop", "istio-gateways", cross_network=True)
    outside = [rule for rule in multi["spec"]["egress"] if any("ipBlock" in peer for peer in rule["to"])]
    assert outside == [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 15443}]}]
