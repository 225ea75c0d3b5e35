"""istio-gitops-check: the command a platform repo runs in CI, in pre-commit and by hand.

    istio-gitops-check check [REPO] [--fast] [--format text|github] [--summary]
    istio-gitops-check render-charts [REPO] --out DIR [--analyze]      (CI, needs helm/istioctl and network)
    istio-gitops-check istio-patch [REPO] --index URL|FILE --out FILE  (the Istio patch bot's answers change)

One line per problem, `file: rule: message`; exit status 1 when there is any, 0 when there is none.
`--format github` prints GitHub Actions error annotations, so each problem shows on the pull request's file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from istio_gitops_check.platform_check import Problem, check, problem, summary
from istio_gitops_check.yaml_documents import mapping


def github_annotation(file: str, rule: str, message: str) -> str:
    path, _, line = file.partition(":")
    location = f"file={path}" + (f",line={line.split(':')[0]}" if line else "")
    escaped = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::error {location},title={rule}::{escaped}"


def report(findings: list[Problem], output_format: str) -> None:
    for found in sorted(set(findings)):
        print(github_annotation(found.file, found.rule, found.message) if output_format == "github" else str(found))


def run_check(args: argparse.Namespace) -> int:
    result = check(args.repo, fast=args.fast)
    report(result.findings, args.format)
    if args.summary:
        print(summary(result))
    print(f"{'OK' if result.ok else 'FAILED'}: {len(set(result.findings))} problem(s), {len(result.rules_run)} rules, "
          f"{result.root}", file=sys.stderr)
    return 0 if result.ok else 1


def run_render_charts(args: argparse.Namespace) -> int:
    from istio_gitops_check import rendered_platform
    from istio_gitops_check.chart_rendering import render_charts

    platform = rendered_platform.load(args.repo)
    istioctl = (shutil.which("istioctl") or "istioctl") if args.analyze else None
    findings = [problem("real charts", text) for text in render_charts(platform, args.out, istioctl=istioctl)]
    report(findings, args.format)
    print(f"{'OK' if not findings else 'FAILED'}: {len(platform.helm_releases)} releases rendered into {args.out}", file=sys.stderr)
    return 0 if not findings else 1


def run_istio_patch(args: argparse.Namespace) -> int:
    from istio_gitops_check.istio_patches import chart_versions, patch_plan, read_index

    answers = mapping(args.repo / ".copier-answers.yml")
    plan = patch_plan(answers, chart_versions(read_index(args.index)))
    if plan is None:
        print("no newer Istio patch to propose (or an upgrade is already under way)", file=sys.stderr)
        return 0
    args.out.write_text(json.dumps(plan, indent=2) + "\n")
    target = plan["istio_versions"][-1]
    print(f"proposing Istio {target} as canary: copier update --trust --defaults --vcs-ref=:current: --data-file {args.out}",
          file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="istio-gitops-check", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check_parser = commands.add_parser("check", help="check a platform repository as it is on disk")
    check_parser.add_argument("--fast", action="store_true", help="only what needs no build: conflict markers, yamllint, answers")
    check_parser.add_argument("--summary", action="store_true", help="also print what was checked")
    render_parser = commands.add_parser("render-charts", help="render every Helm release with the real charts (network)")
    render_parser.add_argument("--out", type=Path, required=True)
    render_parser.add_argument("--analyze", action="store_true", help="then run istioctl analyze --use-kube=false per cluster")
    patch_parser = commands.add_parser("istio-patch", help="write the answers of canary step 1 for a newer Istio patch")
    patch_parser.add_argument("--index", required=True, help="the Istio Helm repository (URL) or a copy of its index.yaml")
    patch_parser.add_argument("--out", type=Path, required=True, help="where to write the copier --data-file")
    for sub in (check_parser, render_parser, patch_parser):
        sub.add_argument("repo", nargs="?", type=Path, default=Path("."))
    for sub in (check_parser, render_parser):
        sub.add_argument("--format", choices=("text", "github"), default="text")
    args = parser.parse_args(argv)
    if not args.repo.is_dir():
        parser.error(f"{args.repo} is not a folder")
    return {"check": run_check, "render-charts": run_render_charts, "istio-patch": run_istio_patch}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
