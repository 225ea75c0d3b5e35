"""The generated repo carries its own runbooks (docs/*.md) and points at nothing it lacks.

Rendered for every CA mode on both engines (two clusters on two networks with a pinned root, the case that needs
every prerequisite; self-signed-dev is one cluster by rule): each page opens with its title and the command it is
about, no generated file sends the reader to "the template's docs", every relative link of every generated
Markdown file resolves (file and heading), and what belongs to one CA mode, engine or cluster count is written only
there. The last tests break a rendered repo on purpose, to show each check fails when it should.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO

PAGES = ("bootstrap", "certificates", "clusters", "onboard-team", "upgrade-istio", "verify")
MD_HEADER = "<!-- Managed by istio-gitops-template (copier): your edits survive `copier update`. -->"
ROOT_PEM = (REPO / "tests" / "fixtures" / "mesh-root-ca.pem").read_text()
CA_MODES = ("cert-manager-issuer", "aws-pca", "vault", "istio-csr", "self-signed-dev")
ENGINES = ("argocd", "flux")
TWO_CLUSTERS = [
    {"name": "eu-1", "network": "net-eu", "api_server": "https://eu-1.k8s.example.com:6443"},
    {"name": "us-1", "network": "net-us", "api_server": "https://us-1.k8s.example.com"},
]
# Text that belongs to one CA mode: it must appear in that mode's docs and in no other mode's.
MODE_ONLY = {
    "vault": ("vault://istio-vault", "istio-vault-issuer-token", "serviceaccounts/token"),
    "aws-pca": ("SubordinateCACertificate_PathLen0", "acm-pca:DescribeCertificateAuthority", "acm-pca:GetCertificate",
                "acm-pca:IssueCertificate"),
    "istio-csr": ("app.server.clusterID", "app.istio.revisions", "istio-csr-intermediate-ca"),
    "self-signed-dev": ("NOT FOR PRODUCTION",),
}
ENGINE_ONLY = {"argocd": ("argocd cluster add", "sync wave"), "flux": ("flux bootstrap git", "flux get kustomizations")}
# Only with several clusters (a one-cluster repo still explains the remote-secret flow, for when it adds one).
MULTI_ONLY = ("istioctl remote-clusters", "external-secrets and its CRDs", "https://eu-1.k8s.example.com:6443")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
DOCS_MENTION = re.compile(r"(?<![\w/.-])docs/[\w.-]+\.md\b")


def answers(mode: str, engine: str) -> dict:
    if mode == "self-signed-dev":
        return {"gitops_engine": engine, "ca_mode": mode}
    return {"gitops_engine": engine, "ca_mode": mode, "clusters": TWO_CLUSTERS, "mesh_root_ca_pem": ROOT_PEM,
            "gateways_enabled": ["ingress", "egress", "eastwest"]}


def text_files(root: Path) -> dict[str, str]:
    files = {}
    for path in root.rglob("*"):
        if path.is_file() and ".git" not in path.relative_to(root).parts:
            try:
                files[path.relative_to(root).as_posix()] = path.read_text()
            except UnicodeDecodeError:
                continue
    return files


def docs_text(root: Path) -> str:
    return "\n".join((root / "docs" / f"{page}.md").read_text() for page in PAGES if (root / "docs" / f"{page}.md").exists())


def page_problems(root: Path) -> list[str]:
    """Each runbook exists and opens, after the header line, with a title and a command block."""
    problems = []
    for page in PAGES:
        path = root / "docs" / f"{page}.md"
        if not path.is_file():
            problems.append(f"docs/{page}.md: missing")
            continue
        lines = path.read_text().splitlines()
        if lines[:1] != [MD_HEADER]:
            problems.append(f"docs/{page}.md: first line is not the header")
        body = [line for line in lines[1:] if line.strip()]
        if not body or not body[0].startswith("# "):
            problems.append(f"docs/{page}.md: no title after the header")
        elif len(body) < 4 or body[1] != "```sh" or body[2].startswith("```") or "```" not in body[3:]:
            problems.append(f"docs/{page}.md: the title is not followed by a command block")
    return problems


def template_docs_mentions(root: Path) -> list[str]:
    """Generated files must not send readers into the template's repository."""
    return [path for path, text in text_files(root).items()
            if "the template's docs" in " ".join(text.split()).lower()]


def heading_anchors(text: str) -> set[str]:
    anchors = set()
    for line in text.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def link_problems(root: Path) -> list[str]:
    """Every relative link of every Markdown file, and every `docs/<page>.md` named anywhere, resolves in the repo."""
    problems = []
    files = text_files(root)
    for name, text in files.items():
        if name.endswith(".md"):
            for target in LINK.findall(text):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                    continue  # https://, mailto: ...
                path_part, _, anchor = target.partition("#")
                resolved = (root / name).parent / path_part if path_part else root / name
                if not resolved.exists():
                    problems.append(f"{name}: link to {target}: no such file")
                elif anchor and resolved.is_file() and anchor not in heading_anchors(resolved.read_text()):
                    problems.append(f"{name}: link to {target}: no such heading")
        for mention in DOCS_MENTION.findall(text):
            if not (root / mention).is_file():
                problems.append(f"{name}: names {mention}, which the repo lacks")
    return problems


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("mode", CA_MODES)
def test_every_page_opens_with_its_command_and_every_link_resolves(render, mode: str, engine: str) -> None:
    root = render(answers(mode, engine))
    assert page_problems(root) == []
    assert template_docs_mentions(root) == []
    assert link_problems(root) == []
    readme = (root / "README.md").read_text()
    assert {f"docs/{page}.md" for page in PAGES} <= set(LINK.findall(readme))


def misplaced_text(docs: str, mode: str, engine: str, multi: bool) -> list[str]:
    """Text of one CA mode, engine or cluster count that is missing where it belongs or present where it does not."""
    problems = []
    expected = [(marker, owner == mode) for owner, markers in MODE_ONLY.items() for marker in markers]
    expected += [(marker, owner == engine) for owner, markers in ENGINE_ONLY.items() for marker in markers]
    expected += [(marker, multi) for marker in MULTI_ONLY]
    for marker, wanted in expected:
        if (marker in docs) != wanted:
            problems.append(f"{marker!r} {'missing from' if wanted else 'found in'} the {mode}/{engine} docs")
    return problems


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("mode", CA_MODES)
def test_mode_engine_and_cluster_specific_text_only_where_it_belongs(render, mode: str, engine: str) -> None:
    root = render(answers(mode, engine))
    multi = mode != "self-signed-dev"
    assert misplaced_text(docs_text(root), mode, engine, multi) == []
    if multi:
        clusters_page = (root / "docs" / "clusters.md").read_text()
        assert all(c["api_server"] in clusters_page for c in TWO_CLUSTERS)
        assert "mesh/trust/root-ca.pem" in docs_text(root)


@pytest.mark.parametrize("engine", ENGINES)
def test_add_ons_run_elsewhere_are_prerequisites_not_releases(render, engine: str) -> None:
    root = render({**answers("istio-csr", engine), "addons_installed_elsewhere": ["cert-manager", "cert-manager-istio-csr"]})
    bootstrap = (root / "docs" / "bootstrap.md").read_text()
    elsewhere = bootstrap.split("## 2. Add-ons another team runs")[1].split("## 3.")[0]
    order = bootstrap.split("## 3.")[1].split("## 4.")[0]
    assert "| cert-manager |" in elsewhere and "| cert-manager-istio-csr |" in elsewhere
    assert "app.server.clusterID" in elsewhere  # the other team's istio-csr must run with this platform's values
    assert "`cert-manager`" not in order.split("istio-base")[0] and "`cert-manager-istio-csr` |" not in order
    assert "`external-secrets`" in order  # still this platform's
    assert link_problems(root) == []


def test_each_check_fails_on_a_broken_repo(render, editable_copy) -> None:
    root = editable_copy(render(answers("vault", "argocd")))
    verify = root / "docs" / "verify.md"
    verify.write_text(verify.read_text().replace("```sh\n", "", 1))
    (root / "docs" / "onboard-team.md").unlink()
    readme = root / "README.md"
    readme.write_text(readme.read_text().replace("(docs/clusters.md)", "(docs/cluster.md)", 1)
                      + "\nSee the template's\ndocs/certificates.md and [rotation](docs/certificates.md#no-such-heading).\n")
    assert page_problems(root) == ["docs/onboard-team.md: missing",
                                   "docs/verify.md: the title is not followed by a command block"]
    assert template_docs_mentions(root) == ["README.md"]
    problems = link_problems(root)
    assert "README.md: link to docs/cluster.md: no such file" in problems
    assert "README.md: link to docs/onboard-team.md: no such file" in problems
    assert "README.md: link to docs/certificates.md#no-such-heading: no such heading" in problems


def test_misplaced_text_is_reported() -> None:
    aws_docs_with_vault = "SubordinateCACertificate_PathLen0 acm-pca:DescribeCertificateAuthority acm-pca:GetCertificate " \
        "acm-pca:IssueCertificate argocd cluster add sync wave istioctl remote-clusters external-secrets and its CRDs " \
        "https://eu-1.k8s.example.com:6443 audience vault://istio-vault"
    assert misplaced_text(aws_docs_with_vault, "aws-pca", "argocd", True) == [
        "'vault://istio-vault' found in the aws-pca/argocd docs"]
    as_vault_flux_one_cluster = misplaced_text(aws_docs_with_vault, "vault", "flux", False)
    assert "'istio-vault-issuer-token' missing from the vault/flux docs" in as_vault_flux_one_cluster
    assert "'SubordinateCACertificate_PathLen0' found in the vault/flux docs" in as_vault_flux_one_cluster
    assert "'flux get kustomizations' missing from the vault/flux docs" in as_vault_flux_one_cluster
    assert "'istioctl remote-clusters' found in the vault/flux docs" in as_vault_flux_one_cluster
