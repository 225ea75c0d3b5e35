"""Wall times of the operations users wait for, as ratios to a baseline measured in the same run.

    .venv/bin/python tests/benchmark.py [--repeat N]

Baseline: `copier copy` of the defaults. Measured: copy of a three-cluster repo, the platform check,
and each step of the canary upgrade (docs/upgrade-istio.md) for both engines. Medians of N runs.
Timings are printed, never asserted: the machine decides absolute numbers, the ratios show shape.
"""

from __future__ import annotations

import argparse
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
from istio_gitops_check.platform_check import check  # noqa: E402

THREE_CLUSTERS = {
    "gateways_enabled": ["ingress", "egress", "eastwest"],
    "clusters": [{"name": f"c{i}", "network": f"n{i}"} for i in range(3)],
}


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def canary_times(template: Path, workdir: Path, engine: str) -> list[float]:
    project = copy_platform(template, workdir / f"canary-{engine}", {**START, "gitops_engine": engine})
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

    def onboard(name: str) -> None:
        run_copy(str(template), project, data={"scope": "team", "team_name": name}, defaults=True, unsafe=True,
                 vcs_ref="HEAD", quiet=True, overwrite=True)

    first = timed(lambda: onboard("team-0"))
    for index in range(1, teams):
        onboard(f"team-{index}")
    git(project, "add", "-A")
    git(project, "commit", "-qm", f"{teams} teams")
    return {
        "onboard 1st team": first,
        f"onboard team {teams + 1} (repo has {teams})": timed(lambda: onboard("newcomer")),
        f"platform check with {teams + 1} teams": timed(lambda: check(project)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--teams", type=int, default=0, help="also onboard a team into a repo that already has this many")
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
    baseline = statistics.median(results["copy defaults (baseline)"])
    print(f"{'operation':<46} {'median s':>9} {'x baseline':>11}")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:<46} {median:>9.2f} {median / baseline:>11.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
