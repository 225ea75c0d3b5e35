"""Persona boundaries through every channel, on a two-cluster, two-network repo with three onboarded teams, for
both engines: what a persona's merged pull request makes the engine apply, as which identity, and what
admission then does with it.

The attempts are the ones issue 10 found getting through: a network-owner change that adds a
ClusterRoleBinding, a Namespace, a RoleBinding to a ClusterRole or an EnvoyFilter in istio-config, and a team
Sidecar with ALLOW_ANY. Each must fail the platform check on the file that carries it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from istio_gitops_check.platform_check import check, summary
from istio_gitops_check.rbac_reach import can
from tests.conftest import copy_platform, init_repo
from tests.test_check_command import CLUSTER_ADMIN_BINDING
from tests.test_team_onboarding import onboard

HEADER = "# Managed by istio-gitops-template (copier): your edits survive `copier update`.\n"
TWO_NETWORKS = {"gateways_enabled": ["ingress", "egress", "eastwest"],
                "clusters": [{"name": "eu-1", "network": "net-eu", "api_server": "https://api.eu-1.example.com:6443"}, {"name": "us-1", "network": "net-us", "api_server": "https://api.us-1.example.com:6443"}]}
TEAMS = ("payments", "shop", "search")
NETWORK_OWNED = "gateways/base/istio-ingress/ingress-gateway.yaml"

ATTEMPTS = {
    "ClusterRoleBinding": CLUSTER_ADMIN_BINDING,
    "Namespace": """apiVersion: v1
kind: Namespace
metadata:
  name: shadow
""",
    "RoleBinding to a ClusterRole": """apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: ingress-admin
  namespace: istio-ingress
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: Group
    name: network-owners
""",
    "EnvoyFilter in istio-config": """apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: tap
  namespace: istio-config
spec:
  configPatches: []
""",
}


@pytest.fixture(scope="module", params=["argocd", "flux"])
def repo(request, template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_platform(template_snapshot, tmp_path_factory.mktemp("channels") / "repo",
                            {**TWO_NETWORKS, "gitops_engine": request.param})
    init_repo(project, "platform")
    for team in TEAMS:
        onboard(template_snapshot, project, team)
    # What the codeowners bot does after the onboarding PRs merge: each team gets its CODEOWNERS line.
    subprocess.run([sys.executable, "scripts/codeowners.py"], cwd=project, check=True, capture_output=True)
    init_repo(project, "codeowners")
    return project


def test_the_repo_passes_as_generated(repo: Path) -> None:
    report = check(repo)
    assert report.ok, summary(report)


@pytest.mark.parametrize("attempt", sorted(ATTEMPTS))
def test_network_owner_attempts_fail_on_their_file(repo: Path, editable_copy, attempt: str) -> None:
    root = editable_copy(repo)
    target = root / NETWORK_OWNED
    target.write_text(target.read_text() + "---\n" + ATTEMPTS[attempt])
    report = check(root)
    found = [p for p in report.findings if p.file == NETWORK_OWNED and p.rule == "persona boundaries"]
    assert found, summary(report)
    assert "@example-org/network-owners" in found[0].message


def test_team_sidecar_with_allow_any_fails(repo: Path, editable_copy) -> None:
    root = editable_copy(repo)
    workloads = root / "teams/shop/base/shop/workloads"
    (workloads / "sidecar.yaml").write_text(HEADER + """apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: open
  namespace: shop
spec:
  workloadSelector:
    labels:
      app: api
  outboundTrafficPolicy:
    mode: ALLOW_ANY
""")
    kustomization = workloads / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("resources: []", "resources:\n  - sidecar.yaml"))
    report = check(root)
    found = [p for p in report.findings if p.rule == "admitted by the platform's policies"]
    assert found and all(p.file == "teams/shop/base/shop/workloads/sidecar.yaml" for p in found), summary(report)
    assert "team-sidecars-keep-declared-egress" in found[0].message


def add_team_deployment(root: Path, team: str, pod_labels: str, pod_spec: str) -> None:
    workloads = root / f"teams/{team}/base/{team}/workloads"
    (workloads / "deployment.yaml").write_text(HEADER + f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: {team}
spec:
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
{pod_labels}    spec:
{pod_spec}""")
    kustomization = workloads / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("resources: []", "resources:\n  - deployment.yaml"))


RESTRICTED_POD = """      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: api
          image: registry.example/api:1
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop: ["ALL"]
"""


def test_team_deployment_opting_out_of_the_mesh_fails(repo: Path, editable_copy) -> None:
    root = editable_copy(repo)
    add_team_deployment(root, "payments", '        sidecar.istio.io/inject: "false"\n',
                        "      containers:\n        - name: api\n          image: registry.example/api:1\n")
    found = [p for p in check(root).findings if p.rule == "admitted by the platform's policies"]
    assert any("team-pods-stay-in-the-mesh denies its pods" in p.message for p in found), found


def test_team_deployment_written_for_restricted_runs_with_its_sidecar(repo: Path, editable_copy) -> None:
    """istio-cni and the istiod values make the injected pod pass Pod Security restricted as it stands."""
    root = editable_copy(repo)
    add_team_deployment(root, "search", "", RESTRICTED_POD)
    report = check(root)
    assert report.ok, summary(report)


@pytest.mark.parametrize("attempt, spec_change, expected", [
    ("privileged", ("drop: [\"ALL\"]", "drop: [\"ALL\"]\n            privileged: true"), "'api' is privileged"),
    ("host network", ("      containers:", "      hostNetwork: true\n      containers:"), "hostNetwork=true"),
    ("node filesystem", ("      containers:", "      volumes:\n        - name: node\n          hostPath:\n            path: /\n"
                         "      containers:"), "a hostPath volume"),
    ("root", ("runAsNonRoot: true", "runAsNonRoot: false"), "'api' may run as root"),
    ("no seccomp profile", ("        seccompProfile:\n          type: RuntimeDefault\n", ""), "'api' has no seccompProfile"),
])
def test_team_deployment_beyond_pod_security_restricted_fails(repo: Path, editable_copy, attempt: str,
                                                             spec_change: tuple[str, str], expected: str) -> None:
    root = editable_copy(repo)
    add_team_deployment(root, "shop", "", RESTRICTED_POD.replace(*spec_change))
    found = [p for p in check(root).findings if p.rule == "admitted by the platform's policies"]
    assert any(p.file == "teams/shop/base/shop/workloads/deployment.yaml"
               and "Pod Security restricted in namespace shop refuses its pods" in p.message
               and expected in p.message for p in found), found


def test_network_owners_units_act_with_network_owner_rights_only(repo: Path) -> None:
    platform = check(repo).platform
    objects = platform.applied_unique_objects
    if platform.engine == "argocd":
        project = next(o for o in objects if o["kind"] == "AppProject" and o["metadata"]["name"] == "platform-gateways")
        assert project["spec"]["clusterResourceWhitelist"] == []
        kinds = {k["kind"] for k in project["spec"]["namespaceResourceWhitelist"]}
        assert not kinds & {"Role", "RoleBinding", "EnvoyFilter", "Namespace"}
        namespace_apps = [o for o in objects if o["kind"] == "Application" and o["metadata"]["name"].endswith("-namespace")
                          and o["spec"]["source"]["path"].startswith("gateways/namespaces/")]
        assert {a["spec"]["project"] for a in namespace_apps} == {"platform-gateway-namespaces"}
        assert len(namespace_apps) == 2 * 3, "one platform unit per cluster and gateway namespace"
        return
    units = [o for o in objects if o["kind"] == "Kustomization" and o["metadata"]["name"] == "network-owners"]
    assert sorted(u["metadata"]["namespace"] for u in units) == sorted(["istio-eastwest", "istio-egress", "istio-ingress"] * 2), \
        "one network-owner unit per cluster and gateway namespace"
    for unit in units:
        namespace = unit["metadata"]["namespace"]
        assert unit["spec"]["serviceAccountName"] == "network-owners"
        assert unit["spec"]["targetNamespace"] == namespace
        account = (namespace, "network-owners")
        assert can(objects, account, "create", "networking.istio.io", "gateways", namespace)
        assert not can(objects, account, "create", "rbac.authorization.k8s.io", "clusterrolebindings", "")
        assert not can(objects, account, "create", "rbac.authorization.k8s.io", "rolebindings", namespace)
        assert not can(objects, account, "create", "", "namespaces", "")
        assert not can(objects, account, "create", "networking.istio.io", "envoyfilters", "istio-config")
    kustomize_controller_paths = {o["spec"]["path"] for o in objects if o["kind"] == "Kustomization"
                                  and o["spec"].get("serviceAccountName") == "kustomize-controller"}
    assert not any(p.startswith("./gateways/") for p in kustomize_controller_paths), \
        "no folder the network owners own is applied with kustomize-controller's cluster-admin rights"


GIT_COLUMNS = ("istio-system", "istio-config", "gateway namespace", "own team namespace", "another team's namespace")
GIT_PERSONAS = (
    ("cluster admins", "@example-org/platform-admins", "payments", "shop"),
    ("network owners", "@example-org/network-owners", "payments", "shop"),
    ("team payments", "@example-org/team-payments", "payments", "shop"),
    ("team shop", "@example-org/team-shop", "shop", "payments"),
)


def test_through_git_matrix(repo: Path, capsys) -> None:
    """What each persona can make the engines apply by merging a change to files it owns (CODEOWNERS), judged
    by the engines' own rules (Argo CD projects; Flux service accounts and targetNamespace)."""
    from istio_gitops_check import engine_units, persona_boundaries
    from istio_gitops_check.persona_matrix import CLUSTER_COLUMN, allowed_through_git, git_markdown
    from tests.conftest import REPO

    platform = check(repo).platform
    rules = persona_boundaries.owner_rules(platform.root)
    owners = lambda path: persona_boundaries.owners_of(path, rules)  # noqa: E731
    rows = []
    for name, owner, own, other in GIT_PERSONAS:
        namespaces = dict(zip(GIT_COLUMNS, ("istio-system", "istio-config", "istio-ingress", own, other)))
        units = engine_units.through_git(platform, owner, owners)
        rows.append((name, allowed_through_git(units, namespaces)))
    table = git_markdown(rows)
    with capsys.disabled():
        print(f"\nThrough Git ({platform.engine}): what a merged change can make the engine apply\n{table}")
    cells = dict(rows)
    for persona in ("network owners", "team payments", "team shop"):
        assert cells[persona][CLUSTER_COLUMN] == (), f"{persona} creates cluster-scoped objects through Git"
        assert cells[persona]["istio-system"] == () and cells[persona]["istio-config"] == (), persona
        assert cells[persona]["another team's namespace"] == (), persona
        assert "EnvoyFilter" not in sum(cells[persona].values(), ()), persona
    assert "RoleBinding" not in sum(cells["network owners"].values(), ()), "network owners grant RBAC through Git"
    assert cells["network owners"]["own team namespace"] == (), "network owners write in a team's namespace"
    for team in ("team payments", "team shop"):
        assert cells[team]["gateway namespace"] == () and "RoleBinding" not in cells[team]["own team namespace"]
        assert {"Deployment", "VirtualService"} <= set(cells[team]["own team namespace"])
    assert {"Gateway", "VirtualService"} <= set(cells["network owners"]["gateway namespace"])
    assert set(cells["cluster admins"][CLUSTER_COLUMN]) >= {"Namespace", "ClusterRoleBinding"}
    assert table in (REPO / "docs/personas.md").read_text(), "docs/personas.md shows a different through-Git matrix"
