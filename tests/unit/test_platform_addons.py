"""Which add-ons a platform installs, and which of them creates a namespace two add-ons share."""

from __future__ import annotations

from platform_addons import addon_owns_namespace, platform_addons

TWO = [{"name": "a"}, {"name": "b"}]


def test_cert_manager_owns_the_namespace_istio_csr_shares() -> None:
    addons = platform_addons("istio-csr", TWO)
    assert [a["name"] for a in addons] == ["cert-manager", "external-secrets", "cert-manager-istio-csr"]
    assert addon_owns_namespace(addons, "cert-manager") and not addon_owns_namespace(addons, "cert-manager-istio-csr")


def test_istio_csr_owns_the_namespace_when_cert_manager_runs_elsewhere() -> None:
    addons = platform_addons("istio-csr", TWO, ["cert-manager"])
    assert addon_owns_namespace(addons, "cert-manager-istio-csr")
    assert addons[-1]["needs"] == [], "nothing waits for an add-on another team runs"
    assert not addon_owns_namespace(addons, "cert-manager") and not addon_owns_namespace(None, "cert-manager")
