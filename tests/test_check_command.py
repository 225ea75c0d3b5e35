"""The checker as a generated repo runs it: `istio-gitops-check check` on the repo as it is on disk.

The unedited repo passes; each kind of hand edit the issue names (a broken build, a schema error, a guardrail,
a persona boundary, a committed conflict marker) fails with a line naming the file and the rule; the fast
part alone catches what pre-commit should catch.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from istio_gitops_check import cli, repository_checks
from istio_gitops_check.persona_boundaries import owners_of, pattern_regex

HEADER = "# Managed by istio-gitops-template (copier): your edits survive `copier update`.\n"


def run_check(root: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "istio_gitops_check", "check", str(root), *arguments],
                          capture_output=True, text=True, check=False)


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def add_to_gateway(root: Path, name: str, manifest: str) -> None:
    (root / "gateways/base/istio-ingress" / name).write_text(HEADER + manifest)
    replace(root / "gateways/base/istio-ingress/kustomization.yaml", "resources:\n", f"resources:\n  - {name}\n")


CLUSTER_ADMIN_BINDING = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: network-owners-are-admins
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: Group
    name: network-owners
"""

EDITS: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "broken build": (
        lambda r: replace(r / "mesh/base/istio-config/kustomization.yaml", "resources:\n", "resources:\n  - missing.yaml\n"),
        "mesh/base/istio-config/kustomization.yaml", "builds cleanly"),
    "schema": (
        lambda r: replace(r / "mesh/base/istio-config/sidecar-default.yaml", "  egress:", "  egres:"),
        "mesh/base/istio-config/sidecar-default.yaml", "strict schemas"),
    "guardrail": (
        lambda r: replace(r / "mesh/base/istio-config/peer-authentication-default.yaml", "mode: STRICT", "mode: PERMISSIVE"),
        "mesh/base/istio-config/peer-authentication-default.yaml", "STRICT mTLS by default"),
    "persona boundary": (
        lambda r: (r / "gateways/base/istio-ingress/ingress-gateway.yaml").write_text(
            (r / "gateways/base/istio-ingress/ingress-gateway.yaml").read_text() + "---\n" + CLUSTER_ADMIN_BINDING),
        "gateways/base/istio-ingress/ingress-gateway.yaml", "persona boundaries"),
    "persona boundary through CODEOWNERS": (
        lambda r: (r / "CODEOWNERS").write_text((r / "CODEOWNERS").read_text().replace(
            "/gateways/namespaces/ ", "/gateways/namespaces/disabled/ ")),
        "gateways/namespaces/istio-ingress/namespace.yaml", "persona boundaries"),
    "conflict marker": (
        lambda r: replace(r / "mesh/revisions/1-31-1/istiod.values.yaml", "meshConfig:\n",
                          "<<<<<<< before updating\nmeshConfig:\n=======\nmeshConfig:\n>>>>>>> after updating\n"),
        "mesh/revisions/1-31-1/istiod.values.yaml:", "conflict markers"),
    "answers": (
        lambda r: (r / "clusters/cluster-9").mkdir(),
        "clusters/cluster-9", "answers consistent"),
}


def test_unedited_repo_passes(render) -> None:
    done = run_check(render({}))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_hand_edit_fails_naming_file_and_rule(render, editable_copy, edit: str) -> None:
    root = editable_copy(render({}))
    change, file, rule = EDITS[edit]
    change(root)
    done = run_check(root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert any(line.startswith(file) and f": {rule}: " in line for line in done.stdout.splitlines()), done.stdout
    assert "Traceback" not in done.stderr


def test_conflict_marker_fails_the_fast_check(render, editable_copy) -> None:
    root = editable_copy(render({}))
    EDITS["conflict marker"][0](root)
    done = run_check(root, "--fast")
    assert done.returncode == 1
    lines = [line for line in done.stdout.splitlines() if ": conflict markers: " in line]
    assert len(lines) == 3, done.stdout
    assert all(line.startswith("mesh/revisions/1-31-1/istiod.values.yaml:") for line in lines)


def test_github_format_annotates_the_file(render, editable_copy) -> None:
    root = editable_copy(render({}))
    EDITS["schema"][0](root)
    done = run_check(root, "--format", "github")
    assert "::error file=mesh/base/istio-config/sidecar-default.yaml,title=strict schemas::" in done.stdout


def test_markdown_underline_is_no_conflict_marker(tmp_path: Path) -> None:
    (tmp_path / "doc.md").write_text("Title\n=======\n")
    (tmp_path / "copier.rej").write_text("x")
    found = repository_checks.conflict_markers(tmp_path, repository_checks.repository_files(tmp_path))
    assert found == ["copier.rej: copier could not apply a change here; merge it into the file it names, then delete this file"]


def test_answers_consistency_needs_the_install_keys(render, editable_copy) -> None:
    root = editable_copy(render({}))
    replace(root / ".copier-answers.yml", "_commit:", "_comit:")
    assert any("_commit is missing" in p for p in repository_checks.answers_consistency(root))


def test_stale_revision_folder_is_reported(render, editable_copy) -> None:
    root = editable_copy(render({}))
    (root / "mesh/revisions/1-30-4").mkdir()
    assert any(p.startswith("mesh/revisions/1-30-4: not in the answers") for p in repository_checks.answers_consistency(root))


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*", "anything/at/all.yaml", True),
        ("/gateways/", "gateways/base/x.yaml", True),
        ("/gateways/", "mesh/gateways/x.yaml", False),
        ("/teams/*/base/*/namespace/", "teams/shop/base/shop/namespace/namespace.yaml", True),
        ("/teams/*/base/*/namespace/", "teams/shop/base/shop/workloads/deployment.yaml", False),
        ("/gateways/base/*/rbac.yaml", "gateways/base/istio-ingress/rbac.yaml", True),
        ("docs/", "a/docs/x.md", True),
        ("*.md", "a/b/readme.md", True),
        ("/apps/**/kustomization.yaml", "apps/a/b/kustomization.yaml", True),
    ],
)
def test_codeowners_patterns(pattern: str, path: str, matches: bool) -> None:
    assert bool(pattern_regex(pattern).match(path)) is matches


def test_codeowners_last_match_wins(tmp_path: Path) -> None:
    from istio_gitops_check.persona_boundaries import owner_rules

    (tmp_path / "CODEOWNERS").write_text("* @o/admins\n/gateways/ @o/net\n/gateways/base/*/rbac.yaml @o/admins\n/docs/\n")
    rules = owner_rules(tmp_path)
    assert owners_of("gateways/base/istio-ingress/gateway.yaml", rules) == ("@o/net",)
    assert owners_of("gateways/base/istio-ingress/rbac.yaml", rules) == ("@o/admins",)
    assert owners_of("docs/x.md", rules) == ("(no code owner)",)


def test_cli_usage_error_for_a_missing_folder(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["check", str(tmp_path / "nowhere")])


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n",
        "a: 1\n  b: 2\n",            # syntax error: yamllint's own message and position
        "x: [1, 2\n",               # syntax error at the end
        "k: v   \n",                # trailing spaces
        "a:\n- b\n",                # indentation
        "on: yes\nkey: no\n",       # truthy values
        "# yamllint disable-file\nbad:  \n",
        "a: 1\na: 2\n",             # duplicate key
        "---\nlong: " + "x" * 200 + "\n",
    ],
)
def test_lint_shortcut_reports_what_yamllint_reports(text: str) -> None:
    """lint_text skips yamllint's second, pure-Python parse when libyaml parses the text; the result must be
    exactly what yamllint reports."""
    from yamllint import linter
    from yamllint.config import YamlLintConfig

    config = YamlLintConfig("extends: default\nrules:\n  line-length:\n    max: 140\n")
    expected = [[p.line, p.column, p.desc, p.rule or "syntax"] for p in linter.run(text, config)]
    assert repository_checks.lint_text(text, config) == expected
