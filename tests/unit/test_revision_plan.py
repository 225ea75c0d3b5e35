"""Revisions and tags as data: the plan, and one good and several bad answers per invariant."""

from __future__ import annotations

import pytest

import answer_checks as checks
import revision_plan as plan

TWO = ["1.31.1", "1.30.4"]
TAGS = [{"name": "prod-stable", "version": "1.30.4"}, {"name": "prod-canary", "version": "1.31.1"}]


def test_plan_orders_revisions_and_gives_default_tag_to_one_owner() -> None:
    assert plan.revision_plan(TWO, TAGS, "prod-stable") == [
        {"version": "1.30.4", "revision": "1-30-4", "tags": ["prod-stable", "default"], "default": True},
        {"version": "1.31.1", "revision": "1-31-1", "tags": ["prod-canary"], "default": False},
    ]
    assert plan.default_revision(TWO, TAGS, "prod-stable") == "1-30-4"
    assert plan.default_revision(TWO, TAGS, "prod-canary") == "1-31-1"
    assert plan.default_revision(TWO, TAGS, "missing") == ""
    assert plan.newest_version(["1.30.4", "1.31.1", "1.29.10"]) == "1.31.1"
    assert plan.newest_version(["1.29.10", "1.29.9"]) == "1.29.10"


def test_gateways_follow_a_tag_or_pin_a_revision() -> None:
    assert plan.gateway_target("prod-stable", TWO, TAGS) == {"label": "prod-stable", "folder": "prod-stable", "version": "1.30.4"}
    assert plan.gateway_target("1.31.1", TWO, TAGS) == {"label": "1-31-1", "folder": "1-31-1", "version": "1.31.1"}


@pytest.mark.parametrize("versions", [["1.31.1"], TWO, ["1.29.7", "1.30.4", "1.31.1"], ["1.29.7", "1.31.1"]])
def test_good_version_sets(versions: list[str]) -> None:
    assert checks.istio_versions_problem(versions) == ""


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        ([], "give a YAML list"),
        ("1.31.1", "give a YAML list"),
        (["1.31.1", "1.31.1"], "1.31.1 is listed twice"),
        (["1.29.7", "1.29.8", "1.30.4", "1.31.1"], "keep at most 3"),
        (["1.31"], "MAJOR.MINOR.PATCH"),
        (["1.28.0"], "supports the Istio lines"),
    ],
)
def test_bad_version_sets(versions: object, expected: str) -> None:
    assert expected in checks.istio_versions_problem(versions)


def test_minor_skip_is_limited_to_one() -> None:
    assert checks.istio_versions_problem(["1.29.7", "1.31.1"]) == ""
    original = checks.SUPPORTED_MINORS
    try:
        checks.SUPPORTED_MINORS = (29, 30, 31, 32)
        assert "1.32 is more than one minor ahead of the oldest installed 1.29" in checks.istio_versions_problem(["1.29.7", "1.32.0"])
    finally:
        checks.SUPPORTED_MINORS = original


def test_good_tags() -> None:
    assert checks.revision_tags_problem(TAGS, TWO) == ""


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ([], "give a YAML list"),
        ([{"name": "prod-stable"}], "write each tag as"),
        ([{"name": "prod-stable", "version": "1.29.7"}], "tag 'prod-stable' points at 1.29.7, which is not in istio_versions"),
        ([{"name": "prod-stable", "version": "1.30.4"}, {"name": "prod-stable", "version": "1.31.1"}], "listed twice"),
        ([{"name": "default", "version": "1.30.4"}], "derived from istio_default_tag"),
        ([{"name": "1-31-1", "version": "1.31.1"}], "looks like a revision"),
        ([{"name": "Prod_Stable", "version": "1.31.1"}], "DNS-1123 label"),
    ],
)
def test_bad_tags(tags: object, expected: str) -> None:
    assert expected in checks.revision_tags_problem(tags, TWO)


def test_default_tag_must_exist() -> None:
    assert checks.default_tag_problem("prod-stable", TAGS) == ""
    assert "must be one of the revision tags (prod-stable, prod-canary)" in checks.default_tag_problem("prod", TAGS)


def test_gateway_revision_must_be_tag_or_installed_version() -> None:
    assert checks.gateway_revision_problem("prod-canary", TAGS, TWO) == ""
    assert checks.gateway_revision_problem("1.30.4", TAGS, TWO) == ""
    assert "use a revision tag to follow" in checks.gateway_revision_problem("1.29.7", TAGS, TWO)


def test_gateway_deployments_in_place_is_the_gateway_target() -> None:
    assert plan.gateway_deployments("in-place", "prod-stable", TWO, TAGS) == [
        {"label": "prod-stable", "folder": "prod-stable", "version": "1.30.4", "suffix": "", "primary": True}
    ]


def test_gateway_deployments_canary_is_one_release_per_revision_and_the_pointer_is_primary() -> None:
    assert plan.gateway_deployments("canary", "prod-canary", TWO, TAGS) == [
        {"folder": "1-30-4", "label": "1-30-4", "version": "1.30.4", "suffix": "-1-30-4", "primary": False},
        {"folder": "1-31-1", "label": "1-31-1", "version": "1.31.1", "suffix": "-1-31-1", "primary": True},
    ]
    assert [d["primary"] for d in plan.gateway_deployments("canary", "1.30.4", TWO, TAGS)] == [True, False], "pinned to a version"


def test_gateway_upgrade_mode() -> None:
    assert plan.gateway_upgrade_problem("canary") == ""
    assert "use in-place" in plan.gateway_upgrade_problem("blue-green")


def test_gateway_service_matches_the_chart_ports_and_selects_the_shared_label() -> None:
    ingress = plan.gateway_service("ingress")
    assert (ingress["name"], ingress["selector"], ingress["type"]) == ("istio-ingressgateway", "ingressgateway", "LoadBalancer")
    assert [p["port"] for p in ingress["ports"]] == [15021, 80, 443]
    assert plan.gateway_service("egress")["type"] == "ClusterIP"
    assert [p["port"] for p in plan.gateway_service("eastwest")["ports"]] == [15021, 15443, 15012, 15017]
