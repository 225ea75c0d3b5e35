"""Wall times of the operations users wait for, as ratios to a baseline measured in the same run.

    .venv/bin/python tests/benchmark.py [--repeat N] [--teams N] [--large CLUSTERSxTEAMS ...]

Baseline: `copier copy` of the defaults. Measured: copy of a three-cluster repo, the platform check,
and each step of the canary upgrade (docs/upgrade-istio.md) for both engines. Medians of N runs.
`--team-ops 1x10 --team-ops 20x50` times onboarding one more team and updating one team (`copier update -a
.copier/team-<name>.yml`) in repos of those shapes, medians of N, each on a fresh copy of the repo.
`--large 10x25 --large 20x50` also generates repos with that many clusters and onboarded teams and times the
platform check on them cold (empty cache: every YAML file linted) and warm (the cache CI and pre-commit keep),
per kustomization too, which shows whether the check's cost grows linearly.
Timings are printed, never asserted: the machine decides absolute numbers, the ratios show shape.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from copier import run_update  # noqa: E402
from copier._types import VcsRef  # noqa: E402

from tests.conftest import copy_platform, git, init_repo, snapshot_template  # noqa: E402
from tests.test_canary_upgrade import START, STEPS  # noqa: E402
from istio_gitops_check import kustomize_render  # noqa: E402
from istio_gitops_check.platform_check import check  # noqa: E402

MESH_ROOT = Path(__file__).resolve().parent / "fixtures" / "mesh-root-ca.pem"


def multi_cluster(answers: dict) -> dict:
    """The answers with what several clusters require: each cluster's api_server and the pinned mesh root."""
    clusters = [{"api_server": f"https://api.{c['name']}.example.com:6443", **c} for c in answers.get("clusters", [])]
    if len(clusters) < 2:
        return answers
    return {"mesh_root_ca_pem": MESH_ROOT.read_text(), **answers, "clusters": clusters}


THREE_CLUSTERS = multi_cluster({
    "gateways_enabled": ["ingress", "egress", "eastwest"],
    "clusters": [{"name": f"c{i}", "network": f"n{i}"} for i in range(3)],
})


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def canary_times(template: Path, workdir: Path, engine: str) -> list[float]:
    project = copy_platform(template, workdir / f"canary-{engine}", multi_cluster({**START, "gitops_engine": engine}))
    init_repo(project, "start")
    times = []
    for step, answers in STEPS:
        times.append(timed(lambda: run_update(project, data=answers, defaults=True, overwrite=True, unsafe=True,
                                              quiet=True, vcs_ref=VcsRef.CURRENT)))
        git(project, "add", "-A")
        git(project, "commit", "-qm", step)
    return times


def crowded_repo_times(template: Path, workdir: Path, teams: int) -> dict[str, float]:
    """Onboard `teams` teams, then time one more onboarding and the platform check of the result."""
    from copier import run_copy

    project = copy_platform(template, workdir / "crowded", {})
    git(project, "init", "-q", "-b", "main")
    git(project, "config", "gc.auto", "0")
    init_repo(project, "platform")

    def onboard(name: str) -> None:
        run_copy(str(template), project, data={"scope": "team", "team_name": name}, defaults=True, unsafe=True,
                 vcs_ref="HEAD", quiet=True, overwrite=True)

    first = timed(lambda: onboard("team-0"))
    init_repo(project, "team-0")
    for index in range(1, teams):  # onboarding wants a clean working tree
        onboard(f"team-{index}")
        init_repo(project, f"team-{index}")
    return {
        "onboard 1st team": first,
        f"onboard team {teams + 1} (repo has {teams})": timed(lambda: onboard("newcomer")),
        f"platform check with {teams + 1} teams": timed(lambda: check(project)),
    }


def large_repo(template: Path, destination: Path, clusters: int, teams: int) -> Path:
    """A platform with `clusters` clusters on two networks, all gateways, and `teams` teams on every cluster."""
    from copier import run_copy

    answers = multi_cluster({"gateways_enabled": ["ingress", "egress", "eastwest"],
                             "clusters": [{"name": f"c{i}", "network": f"n{i % 2}"} for i in range(clusters)]})
    copy_platform(template, destination, answers)
    git(destination, "init", "-q", "-b", "main")
    git(destination, "config", "gc.auto", "0")  # no background gc while the repo is copied for each run
    init_repo(destination, "platform")
    for index in range(teams):  # onboarding wants a clean working tree: one commit per team, as teams would
        run_copy(str(template), destination, data={"scope": "team", "team_name": f"team-{index}"}, defaults=True,
                 unsafe=True, vcs_ref="HEAD", quiet=True, overwrite=True)
        init_repo(destination, f"team-{index}")
    return destination


def team_operation_times(template: Path, workdir: Path, shape: str, repeat: int) -> dict[str, list[float]]:
    """Onboarding and a team update in a repo of `shape` clusters x teams, each from the same committed state."""
    from copier import run_copy

    clusters, teams = (int(n) for n in shape.lower().split("x"))
    source = large_repo(template, workdir / f"teams-{shape}", clusters, teams)
    onboarding, update = [], []
    for run in range(repeat):
        project = workdir / f"teams-{shape}-{run}"
        shutil.copytree(source, project, symlinks=True)
        # The copy changed every file's inode and ctime, so git's index no longer vouches for any file and the first
        # `git status` would re-read and hash the whole repo (~0.1 s at 20x50); a user's clone has a fresh index.
        git(project, "update-index", "-q", "--refresh")
        onboarding.append(timed(lambda: run_copy(str(template), project, data={"scope": "team", "team_name": "newcomer"},
                                                 defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True, overwrite=True)))
        init_repo(project, "newcomer")
        update.append(timed(lambda: run_update(project, answers_file=".copier/team-team-1.yml", defaults=True, overwrite=True,
                                               unsafe=True, quiet=True, vcs_ref=VcsRef.CURRENT)))
    label = f"{clusters} cluster(s) x {teams} teams"
    return {f"onboard a team, {label}": onboarding, f"team update, {label}": update}


def large_repo_times(template: Path, workdir: Path, shape: str) -> dict[str, float]:
    clusters, teams = (int(n) for n in shape.lower().split("x"))
    project = large_repo(template, workdir / f"large-{shape}", clusters, teams)
    count = len(kustomize_render.find_kustomizations(project))
    cache = workdir / f"cache-{shape}"
    os.environ["ISTIO_GITOPS_CHECK_CACHE"] = str(cache)
    shared = Path(__file__).resolve().parent.parent / ".check-cache"
    for schemas in shared.glob("schemas-*"):  # the npm install is not what is measured
        shutil.copytree(schemas, cache / schemas.name, symlinks=True)
    cold = timed(lambda: check(project))
    warm = timed(lambda: check(project))
    label = f"{clusters} clusters x {teams} teams, {count} kustomizations"
    return {f"check cold, {label}": cold, f"check warm, {label}": warm,
            f"check warm per 1000 kustomizations ({shape})": warm / count * 1000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--teams", type=int, default=0, help="also onboard a team into a repo that already has this many")
    parser.add_argument("--team-ops", action="append", default=[], metavar="CLUSTERSxTEAMS",
                        help="also time onboarding and a team update in a repo of that size (repeatable)")
    parser.add_argument("--large", action="append", default=[], metavar="CLUSTERSxTEAMS",
                        help="also time the check on a generated repo of that size (repeatable)")
    args = parser.parse_args(argv)
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        template = snapshot_template(root / "template")
        for run in range(args.repeat):
            work = root / f"run{run}"
            work.mkdir()
            results.setdefault("copy defaults (baseline)", []).append(timed(lambda: copy_platform(template, work / "d", {})))
            results.setdefault("copy 3 clusters, all gateways", []).append(timed(lambda: copy_platform(template, work / "t", THREE_CLUSTERS)))
            results.setdefault("platform check, defaults", []).append(timed(lambda: check(work / "d")))
            for engine in ("argocd", "flux"):
                for (step, _), seconds in zip(STEPS, canary_times(template, work, engine)):
                    results.setdefault(f"canary {step} ({engine}, 2 clusters)", []).append(seconds)
        if args.teams:
            for name, seconds in crowded_repo_times(template, root, args.teams).items():
                results.setdefault(name, []).append(seconds)
        for shape in args.team_ops:
            for name, values in team_operation_times(template, root, shape, args.repeat).items():
                results.setdefault(name, []).extend(values)
        for shape in args.large:
            for name, seconds in large_repo_times(template, root, shape).items():
                results.setdefault(name, []).append(seconds)
    baseline = statistics.median(results["copy defaults (baseline)"])
    width = max(46, *(len(name) for name in results))
    print(f"{'operation':<{width}} {'median s':>9} {'x baseline':>11}")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:<{width}} {median:>9.2f} {median / baseline:>11.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
