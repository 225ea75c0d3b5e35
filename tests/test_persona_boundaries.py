"""Persona boundaries that hold in the cluster: the RBAC matrix evaluated on the rendered Roles,
ClusterRoles and bindings, and the admission policies' CEL evaluated on sample requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO, copy_platform, init_repo
from tests.test_team_onboarding import onboard
from istio_gitops_check import rendered_platform
from istio_gitops_check.admission_cel import denials
from istio_gitops_check.persona_matrix import Persona, allowed, to_markdown
from istio_gitops_check.rbac_reach import Identity

COLUMNS = ("istio-system", "istio-config", "gateway namespace", "own team namespace", "another team's namespace")


def persona(name: str, group: str, own: str, other: str) -> Persona:
    return Persona(name, Identity(f"{group}-member", (group, "system:authenticated")),
                   dict(zip(COLUMNS, ("istio-system", "istio-config", "istio-ingress", own, other))))


PERSONAS = [
    persona("cluster admins", "platform-admins", "payments", "shop"),
    persona("network owners", "network-owners", "payments", "shop"),
    persona("team payments", "team-payments", "payments", "shop"),
    persona("team shop", "team-shop", "shop", "payments"),
]
TEAM = ("PeerAuthentication", "Sidecar", "VirtualService", "AuthorizationPolicy", "Deployment")
EXPECTED = {
    "cluster admins": {"istio-config": ("EnvoyFilter", "PeerAuthentication", "Sidecar", "VirtualService", "AuthorizationPolicy")},
    "network owners": {"gateway namespace": ("Sidecar", "VirtualService", "Gateway", "AuthorizationPolicy", "Secret", "Deployment")},
    "team payments": {"own team namespace": TEAM},
    "team shop": {"own team namespace": TEAM},
}


@pytest.fixture(scope="module", params=["argocd", "flux"])
def platform(request, template_snapshot: Path, tmp_path_factory: pytest.TempPathFactory):
    project = copy_platform(template_snapshot, tmp_path_factory.mktemp("personas") / "repo", {"gitops_engine": request.param})
    init_repo(project, "platform")
    onboard(template_snapshot, project, "payments")
    onboard(template_snapshot, project, "shop")
    return rendered_platform.load(project)


def test_rbac_matrix(platform, capsys) -> None:
    objects = platform.objects
    table = to_markdown(objects, PERSONAS)
    with capsys.disabled():
        print(f"\nRBAC matrix ({platform.engine}): may create, per persona and namespace\n{table}")
    cells = 0
    for who in PERSONAS:
        actual = allowed(objects, who)
        for column in COLUMNS:
            assert actual[column] == EXPECTED[who.name].get(column, ()), (who.name, column)
            cells += 8
    assert cells == 4 * 5 * 8
    assert table in (REPO / "docs/personas.md").read_text(), "docs/personas.md shows a different matrix"


def _policy(platform, name: str) -> dict:
    return next(o for o in platform.objects if o["kind"] == "ValidatingAdmissionPolicy" and o["metadata"]["name"] == name)


def test_envoyfilter_policy(platform) -> None:
    policy = _policy(platform, "envoyfilter-only-in-istio-config")
    filter_in = lambda ns: {"apiVersion": "networking.istio.io/v1alpha3", "kind": "EnvoyFilter", "metadata": {"name": "f", "namespace": ns}}
    assert denials(policy, filter_in("istio-config")) == []
    assert denials(policy, filter_in("payments")) == ["EnvoyFilters are only allowed in istio-config, the root namespace the cluster admins own."]
    assert denials(policy, filter_in("istio-system"))


def _namespace(labels: dict | None) -> dict:
    meta: dict = {"name": "payments"}
    if labels is not None:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def test_namespace_revision_policy(platform) -> None:
    policy = _policy(platform, "namespace-revision-labels")
    platform_user = ("system:serviceaccount:argocd:argocd-application-controller" if platform.engine == "argocd"
                     else "system:serviceaccount:flux-system:kustomize-controller")
    stable = _namespace({"istio.io/rev": "prod-stable"})
    assert denials(policy, stable, username=platform_user) == []
    assert denials(policy, _namespace({"istio.io/rev": "1-31-1"}), username=platform_user) == []
    assert denials(policy, _namespace(None), username="alice") == [], "namespaces without Istio are fine"
    assert denials(policy, _namespace({"team": "x", "istio.io/rev": "prod-stable"}), old=stable, username="alice") == [], "other labels may change"
    assert denials(policy, stable, username="alice") == ["Only the platform sets or changes istio.io/rev; change the namespace in Git."]
    assert denials(policy, _namespace({}), old=stable, username="alice") == ["Only the platform sets or changes istio.io/rev; change the namespace in Git."]
    assert denials(policy, _namespace({"istio.io/rev": "prod-next"}), username=platform_user) == [
        "istio.io/rev must name an installed revision or revision tag of this platform."]
    assert any(m.startswith("istio-injection overrides istio.io/rev; label the namespace istio.io/rev=<tag> instead")
               for m in denials(policy, _namespace({"istio-injection": "enabled"}), username=platform_user))
