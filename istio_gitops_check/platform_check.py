"""Check a generated platform repository end to end: every problem as (file, rule, message).

Fast part (pre-commit): conflict markers, yamllint with the repo's own config, answers consistency.
Full check: also every kustomization built the way its engine builds it (warnings fail), strict schema
validation of every rendered object, Istio chart values against the chart models, the guardrails, and the
persona boundaries through Git.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from istio_gitops_check import rendered_platform, repository_checks
from istio_gitops_check.chart_values import NoChartModelError, chart_version_problem, values_errors
from istio_gitops_check.guardrails import GUARDRAILS
from istio_gitops_check.persona_boundaries import boundary_problems
from istio_gitops_check.rendered_platform import RenderedPlatform
from istio_gitops_check.strict_schemas import validate_objects

FAST_RULES = ("conflict markers", "yamllint", "answers consistent")
LEADING_FILE = re.compile(r"^((?:[\w.@+-]+/)*[\w.@+-]+(?:/|(?::\d+)*))(?:, (?:[\w.@+-]+/)*[\w.@+-]+/?)*: ")


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.rule}: {self.message}"


def problem(rule: str, text: str) -> Problem:
    """Split `path[:line]: message` (how every check words its findings) into a Problem."""
    match = LEADING_FILE.match(text)
    if match:
        return Problem(match.group(0)[:-2], rule, text[match.end():])
    return Problem(".", rule, text)


@dataclass
class CheckReport:
    root: Path
    platform: RenderedPlatform | None = None
    findings: list[Problem] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)
    invalid_objects: int = 0
    kinds: Counter = field(default_factory=Counter)
    rules_run: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    _clock: float = field(default_factory=time.perf_counter, repr=False)

    def add(self, rule: str, texts: list[str]) -> None:
        self.rules_run.append(rule)
        self.findings += [problem(rule, t) for t in texts]
        self.lap(rule)

    def lap(self, step: str) -> None:
        """Record the seconds since the previous step (the benchmark prints them)."""
        now = time.perf_counter()
        self.timings[step] = self.timings.get(step, 0.0) + now - self._clock
        self._clock = now

    def of(self, rule: str) -> list[str]:
        return [str(p) for p in self.findings if p.rule == rule]

    @property
    def yamllint_problems(self) -> list[str]:
        return self.of("yamllint")

    @property
    def schema_problems(self) -> list[str]:
        return self.of("strict schemas")

    @property
    def values_problems(self) -> list[str]:
        return self.of("helm values")

    @property
    def problems(self) -> list[str]:
        return [str(p) for p in sorted(set(self.findings))]

    @property
    def ok(self) -> bool:
        return not self.findings


def check_values(platform: RenderedPlatform) -> list[str]:
    """Each release's chart version against the supported minimum; each values source, and each release's merged
    values, against the chart's values model (keys the pinned version does not have yet included)."""
    problems: list[str] = []
    for release in platform.helm_releases:
        too_old = chart_version_problem(release.chart, release.version)
        problems += [f"{release.declared_in}: {too_old}"] if too_old else []
        try:
            for label, values in release.value_sources:
                problems += [f"{label}: {p}" for p in values_errors(release.chart, values, release.version)]
            problems += [f"{release.declared_in} (merged values): {p}" for p in values_errors(release.chart, release.values, release.version)]
        except NoChartModelError as error:
            problems.append(f"{release.declared_in}: {error}")
    return sorted(set(problems))


def check_schemas(report: CheckReport, platform: RenderedPlatform) -> list[str]:
    """Every distinct object of every build, strictly (an object repeated by a base and its overlays once)."""
    problems = []
    objects = platform.unique_objects
    for obj, object_report in zip(objects, validate_objects(objects), strict=True):
        identity = f"{object_report.api_version} {object_report.kind}"
        report.kinds[identity] += 1
        if not object_report.covered:
            if identity not in report.uncovered:
                report.uncovered.append(identity)
                problems.append(f"{platform.origin(obj)}: no schema for {identity}, so it was not validated")
            continue
        if object_report.errors:
            report.invalid_objects += 1
            problems += [f"{platform.describe(obj)}: {e}" for e in object_report.errors]
    return sorted(set(problems))


def check(root: Path, fast: bool = False) -> CheckReport:
    """Run the check on the repository as it is; `fast` stops after the checks that need no build."""
    root = root.resolve()
    report = CheckReport(root)
    files = repository_checks.repository_files(root)
    contents = repository_checks.read_files(files)
    report.lap("list and read files")
    with ThreadPoolExecutor(1) as background:
        # yamllint's heavy part runs in worker processes: let it overlap with the builds.
        linted = background.submit(repository_checks.lint_yaml, root, files, contents)
        report.add("conflict markers", repository_checks.conflict_markers(root, files, contents))
        report.add("answers consistent", repository_checks.answers_consistency(root))
        if not fast:
            platform = rendered_platform.load(root, files, contents)
            report.platform = platform
            report.lap("build every kustomization")
        report.add("yamllint", linted.result())
    if fast:
        return report
    report.add("strict schemas", check_schemas(report, platform))
    report.add("helm values", check_values(platform))
    for name, guardrail in GUARDRAILS.items():
        report.add(name, guardrail(platform))
    report.add("persona boundaries", boundary_problems(platform))
    return report


def summary(report: CheckReport) -> str:
    lines = [f"platform repo: {report.root}"]
    platform = report.platform
    if platform is not None:
        lines += [
            f"files: {len(platform.files)}",
            f"kustomizations built: {len(platform.builds)} ok, {len(platform.build_errors)} failed",
            f"objects applied (entry points): {len(platform.applied_objects)} from {len(platform.entry_points)} "
            f"kustomizations; validated across all builds: {len(platform.objects)}",
            f"schema: {sum(report.kinds.values())} objects, {report.invalid_objects} invalid, "
            f"{len(report.uncovered)} kinds uncovered, kinds: {len(report.kinds)}",
            f"helm releases checked: {len(platform.helm_releases)}",
        ]
        lines += [f"  kind {kind}: {count}" for kind, count in sorted(report.kinds.items())]
    failing = {p.rule for p in report.findings}
    lines.append(f"rules: {len(report.rules_run) - len(failing)}/{len(report.rules_run)} pass")
    lines += [f"PROBLEM {p}" for p in report.problems]
    lines.append("OK: the platform repo is valid" if report.ok else f"FAILED: {len(report.problems)} problem(s)")
    return "\n".join(lines)
