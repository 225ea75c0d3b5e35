"""The CI the generated repo ships (GitHub Actions, GitLab CI or none), its Renovate config and pre-commit hook.

Rendered with copier for real, then validated offline against check-jsonschema's vendored schemas; each
validation is shown to catch a broken file. Every action is pinned to a commit, the tool pins match the
template's own requirements, and each rendered repo still passes its own platform check.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from copier import run_copy

from istio_gitops_check.platform_check import check, summary
from tests.conftest import init_repo

REPO = Path(__file__).resolve().parent.parent
CI_PARTIAL = REPO / "template" / "_partials" / "ci.jinja"
TEMPLATE_CI = REPO / ".github" / "workflows" / "ci.yml"
WORKFLOWS = (".github/workflows/platform-check.yml", ".github/workflows/platform-bots.yml")
GITLAB_CI = ".gitlab-ci.yml"
RENOVATE = "renovate.json5"
PRE_COMMIT = ".pre-commit-config.yaml"
PINNED_USES = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")
CASES = {
    "github-argocd": {"ci_provider": "github"},
    "github-flux": {"ci_provider": "github", "gitops_engine": "flux"},
    "gitlab-argocd": {"ci_provider": "gitlab"},
    "gitlab-flux": {"ci_provider": "gitlab", "gitops_engine": "flux"},
    "none-argocd": {"ci_provider": "none"},
}


def schema_check(*arguments: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", *map(str, arguments)],
                          capture_output=True, text=True, check=False)


def validate_workflow(path: Path) -> list[str]:
    """Failures of the two GitHub workflow schemas (empty when valid)."""
    failures = []
    for schema in ("vendor.github-workflows", "custom.github-workflows-require-timeout"):
        done = schema_check("--builtin-schema", schema, path)
        if done.returncode != 0:
            failures.append(f"{schema}: {done.stdout}{done.stderr}")
    return failures


def validate_gitlab(path: Path) -> subprocess.CompletedProcess:
    return schema_check("--builtin-schema", "vendor.gitlab-ci", "--data-transform", "gitlab-ci",
                        "--regex-variant", "nonunicode", path)


def validate_renovate(path: Path) -> subprocess.CompletedProcess:
    return schema_check("--builtin-schema", "vendor.renovate", "--regex-variant", "nonunicode", path)


def workflow_triggers(workflow: dict) -> dict:
    """`on:` (YAML 1.1 readers such as PyYAML load the key as True)."""
    return workflow.get("on", workflow.get(True))


def pinned_uses(path: Path) -> list[str]:
    """Every `uses:` value with its trailing comment, as written (comments are lost when YAML is parsed)."""
    return [m.group(1).strip() for m in re.finditer(r"^\s*(?:-\s+)?uses:\s*(.+)$", path.read_text(), re.MULTILINE)]


def partial_pin(name: str) -> str:
    match = re.search(rf'{{%-? set {name} = "([^"]+)" %}}', CI_PARTIAL.read_text())
    assert match, f"{name} is not set in {CI_PARTIAL}"
    return match.group(1)


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request: pytest.FixtureRequest, render) -> tuple[str, Path]:
    return request.param, render(CASES[request.param])


@pytest.fixture(scope="module")
def github_repo(render) -> Path:
    return render(CASES["github-argocd"])


@pytest.fixture(scope="module")
def gitlab_repo(render) -> Path:
    return render(CASES["gitlab-argocd"])


def test_each_provider_renders_its_own_files(case) -> None:
    name, root = case
    provider = name.split("-")[0]
    assert all((root / w).is_file() == (provider == "github") for w in WORKFLOWS), name
    assert (root / GITLAB_CI).is_file() == (provider == "gitlab"), name
    assert (root / RENOVATE).is_file() == (provider != "none"), name
    assert not (root / ".github").exists() or provider == "github", name
    assert (root / PRE_COMMIT).is_file(), name
    assert {".check-cache/", "rendered/"} <= set((root / ".gitignore").read_text().splitlines()), name


def test_rendered_repo_passes_its_own_check(case) -> None:
    name, root = case
    report = check(root)
    assert report.ok, f"{name}:\n{summary(report)}"


def test_rendered_files_pass_their_schemas(case) -> None:
    name, root = case
    for workflow in WORKFLOWS:
        if (root / workflow).is_file():
            assert not validate_workflow(root / workflow), f"{name} {workflow}: {validate_workflow(root / workflow)}"
    if (root / GITLAB_CI).is_file():
        done = validate_gitlab(root / GITLAB_CI)
        assert done.returncode == 0, f"{name}: {done.stdout}{done.stderr}"
    if (root / RENOVATE).is_file():
        done = validate_renovate(root / RENOVATE)
        assert done.returncode == 0, f"{name}: {done.stdout}{done.stderr}"


def test_template_repository_ci_passes_its_schemas() -> None:
    assert not validate_workflow(TEMPLATE_CI)
    workflow = yaml.safe_load(TEMPLATE_CI.read_text())
    assert workflow["permissions"] == {"contents": "read"}
    assert {"push", "pull_request"} <= set(workflow_triggers(workflow))
    assert [s["run"] for job in workflow["jobs"].values() for s in job["steps"] if "run" in s] == [".ci/run"]


def validate_pre_commit(path: Path) -> subprocess.CompletedProcess:
    """pre-commit's own validation of its config (check-jsonschema vendors no schema for it)."""
    return subprocess.run([sys.executable, "-m", "pre_commit", "validate-config", str(path)],
                          capture_output=True, text=True, check=False)


def test_pre_commit_config_is_valid_and_the_validator_catches_a_broken_one(case, tmp_path: Path) -> None:
    name, root = case
    done = validate_pre_commit(root / PRE_COMMIT)
    assert done.returncode == 0, f"{name}: {done.stdout}{done.stderr}"
    broken = tmp_path / PRE_COMMIT
    broken.write_text((root / PRE_COMMIT).read_text().replace("        name: ", "        title: "))
    refused = validate_pre_commit(broken)
    assert refused.returncode == 1 and "Missing required key: name" in refused.stdout


def test_pre_commit_runs_the_fast_check(case) -> None:
    name, root = case
    config = yaml.safe_load((root / PRE_COMMIT).read_text())
    assert isinstance(config["repos"], list), name
    local = [repo for repo in config["repos"] if repo.get("repo") == "local"]
    assert len(local) == 1, name
    hooks = {hook["id"]: hook for hook in local[0]["hooks"]}
    hook = hooks["platform-check-fast"]
    assert {"id", "name", "entry", "language"} <= set(hook), name
    assert hook["entry"] == "python3 scripts/check.py --fast"
    assert hook["language"] == "system"
    assert hook["pass_filenames"] is False and hook["always_run"] is True


def test_every_action_is_pinned_to_a_commit(github_repo: Path) -> None:
    for path in [*(github_repo / w for w in WORKFLOWS), TEMPLATE_CI]:
        uses = pinned_uses(path)
        assert uses, path
        assert all(PINNED_USES.match(u) for u in uses), f"{path}: {[u for u in uses if not PINNED_USES.match(u)]}"


def test_template_ci_uses_the_same_pins_as_the_generated_ci() -> None:
    partial = set(re.findall(r'"([\w.-]+/[\w./-]+@[0-9a-f]{40} # v[\d.]+)"', CI_PARTIAL.read_text()))
    assert set(pinned_uses(TEMPLATE_CI)) <= partial


def test_copier_pins_equal_requirements() -> None:
    required = {line.split("==")[0]: line.strip() for line in (REPO / "requirements.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#")}
    assert partial_pin("copier") == required["copier"]
    assert partial_pin("copier_extensions") == required["copier-template-extensions"]
    assert partial_pin("hooks") == required["ruamel.yaml"], "the template's hooks need ruamel.yaml next to copier"


def test_github_workflows_do_what_the_readme_says(github_repo: Path) -> None:
    checks = yaml.safe_load((github_repo / WORKFLOWS[0]).read_text())
    bots = yaml.safe_load((github_repo / WORKFLOWS[1]).read_text())
    assert checks["permissions"] == {"contents": "read"}
    assert workflow_triggers(checks)["push"]["branches"] == ["main"]
    assert set(checks["jobs"]) == {"check", "real-charts", "template-release"}
    assert checks["jobs"]["template-release"]["continue-on-error"] is True
    runs = {name: " ".join(s.get("run", "") for s in job["steps"]) for name, job in checks["jobs"].items()}
    assert "python3 scripts/check.py --format github" in runs["check"]
    assert "render-charts --out rendered --analyze --format github" in runs["real-charts"]
    assert "sha256sum -c" in runs["real-charts"]
    assert "copier check-update --output-format json" in runs["template-release"]
    assert bots["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert {"schedule", "workflow_dispatch"} <= set(workflow_triggers(bots))
    branches = {name: [s["with"]["branch"] for s in job["steps"] if "create-pull-request" in s.get("uses", "")]
                for name, job in bots["jobs"].items()}
    assert branches == {"template-update": ["bot/template-update"], "istio-patch": ["bot/istio-patch"], "codeowners": ["bot/codeowners"]}
    # CODEOWNERS lines for newly onboarded teams: proposed after each push that adds a team's answers file.
    assert workflow_triggers(bots)["push"] == {"branches": ["main"], "paths": [".copier/team-*.yml", "CODEOWNERS"]}
    assert "if" not in bots["jobs"]["codeowners"], "also on schedule and by hand"
    assert all(bots["jobs"][name]["if"] == "github.event_name != 'push'" for name in ("template-update", "istio-patch"))
    assert "python3 scripts/codeowners.py" in " ".join(s.get("run", "") for s in bots["jobs"]["codeowners"]["steps"])


def test_gitlab_jobs_run_when_the_readme_says(gitlab_repo: Path) -> None:
    config = yaml.safe_load((gitlab_repo / GITLAB_CI).read_text())
    jobs = {name: job for name, job in config.items() if isinstance(job, dict) and "script" in job}
    assert set(jobs) == {"check", "real-charts", "template-release", "template-update", "istio-patch", "codeowners"}
    assert config["default"]["image"] == partial_pin("gitlab_image")
    assert config["variables"]["ISTIO_GITOPS_CHECK_CACHE"] == "$CI_PROJECT_DIR/.check-cache"
    assert config["template-release"]["allow_failure"] is True
    assert all(".on-changes" in jobs[name]["extends"] for name in ("check", "real-charts", "template-release"))
    assert config[".bot"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    for bot in ("template-update", "istio-patch", "codeowners"):
        script = "\n".join(jobs[bot]["script"])
        assert "$PLATFORM_BOT_TOKEN" in script and "merge_request.create" in script, bot
        assert f"HEAD:refs/heads/bot/{bot}" in script, bot
    assert "python3 scripts/codeowners.py" in jobs["codeowners"]["script"]
    assert jobs["codeowners"]["rules"][0]["changes"] == [".copier/team-*.yml", "CODEOWNERS"]
    assert jobs["codeowners"]["needs"] == [], "runs after a push to the branch even while the check runs"
    assert "PLATFORM_BOT_TOKEN" in (gitlab_repo / "README.md").read_text()


def test_ci_follows_the_answers(render) -> None:
    """istioctl is the newest installed version; the check runs on the branch the engine syncs from."""
    answers = {"istio_versions": ["1.30.4", "1.31.1"], "git_branch": "release/core"}
    github = render({**answers, "ci_provider": "github"})
    gitlab = render({**answers, "ci_provider": "gitlab"})
    checks = yaml.safe_load((github / WORKFLOWS[0]).read_text())
    assert workflow_triggers(checks)["push"]["branches"] == ["release/core"]
    install = next(s for s in checks["jobs"]["real-charts"]["steps"] if "ISTIO_VERSION" in s.get("env", {}))
    assert install["env"]["ISTIO_VERSION"] == "1.31.1"
    config = yaml.safe_load((gitlab / GITLAB_CI).read_text())
    assert config["real-charts"]["variables"]["ISTIO_VERSION"] == "1.31.1"
    assert config["variables"]["PLATFORM_BRANCH"] == "release/core"


def test_renovate_leaves_copier_and_istio_to_the_bots(render) -> None:
    import json5

    for engine in ("argocd", "flux"):
        config = json5.loads((render({"ci_provider": "github", "gitops_engine": engine}) / RENOVATE).read_text())
        assert config["copier"] == {"enabled": False}
        assert config["flux"]["managerFilePatterns"] == ["/^flux/.+\\.ya?ml$/"]
        assert config["argocd"]["managerFilePatterns"] == ["/^clusters/.+\\.ya?ml$/"]
        assert "helpers:pinGitHubActionDigests" in config["extends"]
        disabled = [rule for rule in config["packageRules"] if rule.get("enabled") is False]
        assert disabled == [{"matchDatasources": ["helm"], "matchPackageNames": ["base", "istiod", "gateway", "cni"], "enabled": False}]
        assert any(rule.get("groupName") == "add-on charts" for rule in config["packageRules"])
    gitlab = json5.loads((render(CASES["gitlab-argocd"]) / RENOVATE).read_text())
    assert "docker:pinDigests" in gitlab["extends"]


def test_an_unknown_ci_provider_is_refused(template_snapshot: Path, tmp_path: Path) -> None:
    destination = tmp_path / "repo"
    with pytest.raises(ValueError, match="Invalid choice for 'ci_provider'"):
        run_copy(str(template_snapshot), destination, data={"ci_provider": "jenkins"}, defaults=True, unsafe=True,
                 vcs_ref="HEAD", quiet=True)
    assert not destination.exists() or not any(destination.iterdir())


# Each validation catches a broken file.

def broken_copy(source: Path, tmp_path: Path, old: str, new: str) -> Path:
    text = source.read_text()
    assert old in text, f"{old!r} not in {source}"
    target = tmp_path / source.name
    target.write_text(text.replace(old, new, 1))
    return target


def test_a_job_without_timeout_is_caught(github_repo: Path, tmp_path: Path) -> None:
    broken = broken_copy(github_repo / WORKFLOWS[0], tmp_path, "    timeout-minutes: 30\n", "")
    failures = validate_workflow(broken)
    assert len(failures) == 1 and failures[0].startswith("custom.github-workflows-require-timeout"), failures


def test_a_wrong_workflow_permission_is_caught(github_repo: Path, tmp_path: Path) -> None:
    broken = broken_copy(github_repo / WORKFLOWS[1], tmp_path, "contents: write", "contents: everything")
    assert any(f.startswith("vendor.github-workflows") for f in validate_workflow(broken))


def test_an_unknown_gitlab_top_level_key_is_caught(gitlab_repo: Path, tmp_path: Path) -> None:
    broken = broken_copy(gitlab_repo / GITLAB_CI, tmp_path, "stages:\n", "imagee: python:3.11\nstages:\n")
    done = validate_gitlab(broken)
    assert done.returncode != 0 and "imagee" in done.stdout


def test_a_wrong_type_in_renovate_is_caught(github_repo: Path, tmp_path: Path) -> None:
    broken = broken_copy(github_repo / RENOVATE, tmp_path, "enabled: false,\n  },\n", "enabled: 'no',\n  },\n")
    done = validate_renovate(broken)
    assert done.returncode != 0 and "copier.enabled" in done.stdout


def test_ignored_cache_and_rendered_charts_are_not_checked(gitlab_repo: Path, editable_copy) -> None:
    """GitLab keeps the checker's cache inside the project ($CI_PROJECT_DIR/.check-cache) and render-charts
    writes rendered/: the generated .gitignore excludes both, and the checker reads only what git would."""
    root = editable_copy(gitlab_repo)
    init_repo(root, "generated")
    for folder in (".check-cache/checker-0/lib", "rendered/cluster-1"):
        (root / folder).mkdir(parents=True)
        (root / folder / "notes.yaml").write_text("key: value\n")
        (root / folder / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    assert check(root, fast=False).ok
    (root / ".gitignore").write_text("")
    assert not check(root, fast=False).ok, "the same files fail the check once git no longer ignores them"
