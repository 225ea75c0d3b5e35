"""Wall times of the operations users wait for, as ratios to a baseline measured in the same run.

    .venv/bin/python tests/benchmark.py [--repeat N] [--teams N] [--large CLUSTERSxTEAMS ...]

Baseline: `copier copy` of the defaults. Measured: copy of a three-cluster repo, the platform check,
and each step of the canary upgrade (docs/upgrade-istio.md) for both engines. Medians of N runs.
`--team-ops 1x10 --team-ops 20x50` times onboarding one more team and updating one team (`copier update -a
.copier/team-<name>.yml`) in repos of those shapes, medians of N, each on a fresh copy of the repo, for a team on
one cluster (the same team in every shape) and a team on every cluster, and prints each operation's ratio between
the last and the first shape. `--skip-platform` times only the baseline besides.
`--large 10x25 --large 20x50` also generates repos with that many clusters and onboarded teams and times the
platform check on them cold (empty cache: every YAML file linted) and warm (the cache CI and pre-commit keep),
per kustomization too, which shows whether the check's cost grows linearly.
Timings are printed, never asserted: the machine decides absolute numbers, the ratios show shape.
"""

from __future__ import annotations

import argparse
import gc
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
    gc.collect()  # each operation starts from a clean heap instead of paying for the garbage of the one before
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
    """A platform with `clusters` clusters on two networks, all gateways, and `teams` teams: team-0 on the first
    cluster only, every other team on every cluster (the team scope's default)."""
    from copier import run_copy

    answers = multi_cluster({"gateways_enabled": ["ingress", "egress", "eastwest"],
                             "clusters": [{"name": f"c{i}", "network": f"n{i % 2}"} for i in range(clusters)]})
    copy_platform(template, destination, answers)
    git(destination, "init", "-q", "-b", "main")
    git(destination, "config", "gc.auto", "0")  # no background gc while the repo is copied for each run
    init_repo(destination, "platform")
    for index in range(teams):  # onboarding wants a clean working tree: one commit per team, as teams would
        data = {"scope": "team", "team_name": f"team-{index}", **({"team_clusters": ["c0"]} if index == 0 else {})}
        run_copy(str(template), destination, data=data, defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True,
                 overwrite=True)
        init_repo(destination, f"team-{index}")
    return destination


# The team operations timed in each repo shape. "One cluster" is the same team in every shape, so its ratio between
# shapes is what the repo's size costs; "every cluster" also grows with the team (20 clusters: 9x its files).
TEAM_OPERATIONS = (
    ("onboard a team on one cluster", "onboard", {"team_name": "newcomer-one", "team_clusters": ["c0"]}),
    ("onboard a team on every cluster", "onboard", {"team_name": "newcomer-all"}),
    ("update a team on one cluster", "update", {"team_name": "team-0"}),
    ("update a team on every cluster", "update", {"team_name": "team-1"}),
)


def shape_size(shape: str) -> tuple[int, int]:
    """`20x50` -> (20 clusters, 50 teams)."""
    clusters, teams = (int(n) for n in shape.lower().split("x"))
    return clusters, teams


def shape_label(shape: str) -> str:
    clusters, teams = shape_size(shape)
    return f"{clusters} cluster(s) x {teams} teams"


def team_operation_times(template: Path, workdir: Path, shapes: list[str], repeat: int) -> dict[str, list[float]]:
    """Onboarding and a team update (`copier update -a .copier/team-<name>.yml --defaults`, as the bots run it) in a
    repo of each shape (clusters x teams), each from the same committed state of a fresh copy. The shapes take turns
    within each run, so a slower or faster spell of the machine falls on all of them alike; copies are kept until the
    end, since deleting thousands of files slows the file system for whatever runs next."""
    from copier import run_copy

    sources = {shape: (large_repo(template, workdir / f"teams-{shape}", *shape_size(shape)), shape_label(shape))
               for shape in shapes}
    times: dict[str, list[float]] = {}
    for run in range(repeat):
        for shape, (source, label) in sources.items():
            project = workdir / f"teams-{shape}-{run}"
            shutil.copytree(source, project, symlinks=True)
            # The copy changed every file's inode and ctime, so git's index no longer vouches for any file and the
            # first `git status` would re-read and hash the whole repo (~0.1 s at 20x50); a user's clone has a fresh
            # index.
            git(project, "update-index", "-q", "--refresh")
            os.sync()  # the copy's writeback must not land inside the timed operations
            for name, operation, data in TEAM_OPERATIONS:
                if operation == "onboard":
                    seconds = timed(lambda: run_copy(str(template), project, data={"scope": "team", **data},
                                                     defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True, overwrite=True))
                else:
                    seconds = timed(lambda: run_update(project, answers_file=f".copier/team-{data['team_name']}.yml",
                                                       defaults=True, overwrite=True, unsafe=True, quiet=True,
                                                       vcs_ref=VcsRef.CURRENT))
                git(project, "add", "-A")  # the next operation wants a clean working tree
                git(project, "commit", "-q", "--allow-empty", "-m", name)
                times.setdefault(f"{name}, {label}", []).append(seconds)
    return times


def team_operation_ratios(results: dict[str, list[float]], shapes: list[str]) -> list[str]:
    """Per team operation, its median in the last shape given over its median in the first (target <= 1.2)."""
    if len(shapes) < 2:
        return []
    lines = []
    for name, _, _ in TEAM_OPERATIONS:
        small, large = (statistics.median(results[f"{name}, {shape_label(shape)}"]) for shape in (shapes[0], shapes[-1]))
        lines.append(f"{name}: {large:.2f} s / {small:.2f} s = {large / small:.2f}x ({shapes[-1]} over {shapes[0]})")
    return lines


def large_repo_times(template: Path, workdir: Path, shape: str) -> dict[str, float]:
    clusters, teams = shape_size(shape)
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
    parser.add_argument("--skip-platform", action="store_true", help="time only the baseline and what --teams, --team-ops and --large ask")
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
            if args.skip_platform:
                continue
            results.setdefault("copy 3 clusters, all gateways", []).append(timed(lambda: copy_platform(template, work / "t", THREE_CLUSTERS)))
            results.setdefault("platform check, defaults", []).append(timed(lambda: check(work / "d")))
            for engine in ("argocd", "flux"):
                for (step, _), seconds in zip(STEPS, canary_times(template, work, engine)):
                    results.setdefault(f"canary {step} ({engine}, 2 clusters)", []).append(seconds)
        if args.teams:
            for name, seconds in crowded_repo_times(template, root, args.teams).items():
                results.setdefault(name, []).append(seconds)
        if args.team_ops:
            results.update(team_operation_times(template, root, args.team_ops, args.repeat))
        for shape in args.large:
            for name, seconds in large_repo_times(template, root, shape).items():
                results.setdefault(name, []).append(seconds)
    baseline = statistics.median(results["copy defaults (baseline)"])
    width = max(46, *(len(name) for name in results))
    print(f"{'operation':<{width}} {'median s':>9} {'x baseline':>11}")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:<{width}} {median:>9.2f} {median / baseline:>11.1f}")
    for line in team_operation_ratios(results, args.team_ops):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
