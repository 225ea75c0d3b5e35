"""Check a generated platform repository end to end and print what was checked.

    python -m tests.validation.platform_check <platform-dir>

yamllint with the repo's own config, every kustomization built in-process (warnings fail),
strict schema validation of every rendered object, Istio chart values against the chart
models in tests/chart_values, and the guardrails. Exit status 1 on any problem.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from yamllint import linter
from yamllint.config import YamlLintConfig

from tests.validation import rendered_platform
from tests.validation.chart_values import values_errors
from tests.validation.guardrails import GUARDRAILS
from tests.validation.rendered_platform import RenderedPlatform
from tests.validation.strict_schemas import validate_objects


@dataclass
class CheckReport:
    platform: RenderedPlatform
    yamllint_problems: list[str] = field(default_factory=list)
    schema_problems: list[str] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)
    invalid_objects: int = 0
    values_problems: list[str] = field(default_factory=list)
    guardrail_problems: dict[str, list[str]] = field(default_factory=dict)
    kinds: Counter = field(default_factory=Counter)

    @property
    def problems(self) -> list[str]:
        found = [f"yamllint: {p}" for p in self.yamllint_problems]
        found += [f"schema: {p}" for p in self.schema_problems]
        found += [f"schema: no schema for {k}" for k in self.uncovered]
        found += [f"helm values: {p}" for p in self.values_problems]
        found += [f"guardrail '{name}': {p}" for name, ps in self.guardrail_problems.items() for p in ps]
        return found

    @property
    def ok(self) -> bool:
        return not self.problems


def lint_yaml(root: Path) -> list[str]:
    """yamllint every YAML file with the config the platform repo ships."""
    config = YamlLintConfig(file=str(root / ".yamllint.yaml"))
    problems = []
    for path in sorted(root.rglob("*.y*ml")):
        relative = path.relative_to(root).as_posix()
        if ".git" in path.parts or config.is_file_ignored(relative):
            continue
        for problem in linter.run(path.read_text(), config, relative):
            problems.append(f"{relative}:{problem.line}:{problem.column}: {problem.desc} ({problem.rule})")
    return problems


def check_values(platform: RenderedPlatform) -> list[str]:
    """Each values source, and each release's merged values, against the chart's values model."""
    problems: list[str] = []
    for release in platform.helm_releases:
        for label, values in release.value_sources:
            problems += [f"{label}: {p}" for p in values_errors(release.chart, values, release.version)]
        problems += [f"{release.declared_in} (merged): {p}" for p in values_errors(release.chart, release.values, release.version)]
    return sorted(set(problems))


def check(root: Path) -> CheckReport:
    platform = rendered_platform.load(root)
    report = CheckReport(platform)
    report.yamllint_problems = lint_yaml(platform.root)
    for object_report in validate_objects(platform.objects):
        identity = f"{object_report.api_version} {object_report.kind}"
        report.kinds[identity] += 1
        if not object_report.covered:
            if identity not in report.uncovered:
                report.uncovered.append(identity)
            continue
        if object_report.errors:
            report.invalid_objects += 1
            where = f"{object_report.namespace}/" if object_report.namespace else ""
            report.schema_problems += [f"{object_report.kind} {where}{object_report.name}: {e}" for e in object_report.errors]
    report.schema_problems = sorted(set(report.schema_problems))
    report.values_problems = check_values(platform)
    for name, guardrail in GUARDRAILS.items():
        found = guardrail(platform)
        if found:
            report.guardrail_problems[name] = found
    return report


def summary(report: CheckReport) -> str:
    platform = report.platform
    lines = [
        f"platform repo: {platform.root}",
        f"files: {len(platform.files)}",
        f"kustomizations built: {len(platform.builds)} ok, {len(platform.build_errors)} failed",
        f"objects applied (entry points): {len(platform.applied_objects)} from {len(platform.entry_points)} "
        f"kustomizations; validated across all builds: {len(platform.objects)}",
        f"schema: {sum(report.kinds.values())} objects, {report.invalid_objects} invalid, "
        f"{len(report.uncovered)} kinds uncovered, kinds: {len(report.kinds)}",
        f"helm releases checked: {len(platform.helm_releases)}, values problems: {len(report.values_problems)}",
        f"yamllint problems: {len(report.yamllint_problems)}",
        f"guardrails: {len(GUARDRAILS) - len(report.guardrail_problems)}/{len(GUARDRAILS)} pass",
    ]
    lines += [f"  kind {kind}: {count}" for kind, count in sorted(report.kinds.items())]
    lines += [f"PROBLEM {p}" for p in report.problems]
    lines.append("OK: the platform repo is valid" if report.ok else f"FAILED: {len(report.problems)} problem(s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("platform_dir", type=Path)
    args = parser.parse_args(argv)
    report = check(args.platform_dir)
    print(summary(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
