"""Recorded answers never change silently.

copier drops a recorded answer that no longer passes its validator and, under `--defaults`, takes the question's
default instead: exit 0, nothing printed. An update that changes one answer can so replace another (a cluster
list, the revision tags, a team's clusters) without anyone asking for it. The last question of copier.yml,
`recorded_answers_kept`, runs `refuse_replaced_answers` after every other answer is settled and before anything is
written (under `--defaults`; interactively copier asks again and shows the value it proposes): it compares the answers file on disk with the answers copier is about to use and refuses, with the
reason and the fix, when a recorded answer would change without being given on the command line. It also refuses
platform changes that would strand an onboarded team (a removed cluster, revision tag or gateway it uses; a
switched GitOps engine).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from jinja2 import pass_context
from jinja2.runtime import Context

from team_update_index import restore_index

GUARD = "recorded_answers_kept"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where PyYAML has it: ~10x faster on copier.yml


def replaced_answers(recorded: Mapping[str, Any], current: Mapping[str, Any], given: Mapping[str, Any],
                     asked: set[str]) -> list[str]:
    """Recorded answers, among the questions still asked, that would change without being given."""
    return [
        name for name, value in recorded.items()
        if not name.startswith("_") and name in asked and name not in given and name != GUARD
        and name in current and current[name] != value
    ]


def _names(items: object, key: str = "name") -> set[str]:
    return {str(i.get(key)) if isinstance(i, Mapping) else str(i) for i in items or []}


def stranded_team_problems(recorded: Mapping[str, Any], current: Mapping[str, Any],
                           teams: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Platform changes that would leave an onboarded team pointing at something that is gone."""
    problems = []
    if teams and recorded.get("gitops_engine") and recorded.get("gitops_engine") != current.get("gitops_engine"):
        problems.append(
            f"gitops_engine: switching from {recorded['gitops_engine']} to {current.get('gitops_engine')} would leave the "
            f"engine wiring of {len(teams)} onboarded team(s) ({', '.join(sorted(teams))}) for the old engine under tenants/. "
            "Fix: switch engines in a new platform repo and onboard the teams there, or remove the teams first")
    removed_clusters = _names(recorded.get("clusters")) - _names(current.get("clusters"))
    removed_tags = _names(recorded.get("istio_revision_tags")) - _names(current.get("istio_revision_tags"))
    gateways = set(map(str, current.get("gateways_enabled") or []))
    for team, answers in sorted(teams.items()):
        where = f".copier/team-{team}.yml"
        used = removed_clusters & set(map(str, answers.get("team_clusters") or []))
        if used:
            problems.append(
                f"clusters: removing {', '.join(sorted(used))} would strand team {team} (team_clusters in {where}). "
                f"Fix: first `copier update --trust --defaults -a {where} --data 'team_clusters=[...]'` without it, "
                "then remove the cluster")
        if str(answers.get("team_revision_tag")) in removed_tags:
            problems.append(
                f"istio_revision_tags: removing tag {answers['team_revision_tag']} would strand team {team} "
                f"(team_revision_tag in {where}). Fix: move the team to another tag first, or keep the tag")
        if answers.get("team_ingress_routes") and "ingress" not in gateways:
            problems.append(f"gateways_enabled: dropping ingress would strand team {team}'s ingress routes ({where}). "
                            "Fix: remove the team's routes first, or keep ingress")
        if answers.get("team_egress_hosts") and "egress" not in gateways:
            problems.append(f"gateways_enabled: dropping egress would strand team {team}'s egress hosts ({where}). "
                            "Fix: remove the team's egress hosts first, or keep egress")
    return problems


def _read(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.load(path.read_text(), Loader=LOADER) if path.is_file() else None
    except (OSError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _onboarded_teams(destination: Path) -> dict[str, dict[str, Any]]:
    return {p.name.removeprefix("team-").removesuffix(".yml"): _read(p)
            for p in sorted(destination.glob(".copier/team-*.yml"))}


def _flow(value: object) -> str:
    """A value as one line of YAML, as it would be written after --data."""
    return yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False).strip().removesuffix("...").strip()


def _truthy(text: str) -> bool:
    return text.strip().lower() not in ("", "false", "0", "none", "no", "off")


@pass_context
def refuse_replaced_answers(context: Context, conf: Any) -> str:
    """Raise copier's user error (one message, no traceback) when an answer would change silently; else ''."""
    if not conf["defaults"]:
        return ""  # interactive: copier asks every question again and shows the value it proposes
    destination = Path(str(conf["dst_path"]))
    recorded = _read(destination / str(conf["answers_file"]))
    if not recorded:
        return ""  # a first copy, or copier's temporary render of an old or new version
    questions = _read(Path(str(conf["src_path"])) / "copier.yml")
    answers = {name: context.get(name) for name in questions if not name.startswith("_") and name in context}
    environment = context.environment
    asked = {name for name, spec in questions.items()
             if isinstance(spec, Mapping) and not name.startswith("_")
             and _truthy(environment.from_string(str(spec.get("when", True))).render(context.get_all()))}
    given = dict(conf["data"] or {})
    problems = []
    for name in replaced_answers(recorded, answers, given, asked):
        validator = str((questions.get(name) or {}).get("validator") or "")
        reason = environment.from_string(validator).render({**context.get_all(), name: recorded[name]}).strip()
        changed = ", ".join(sorted(given)) or "the template's new rules"
        problems.append(
            f"{name}: your recorded answer {_flow(recorded[name])} no longer passes ({reason or 'it is no longer valid'}), "
            f"and copier would silently replace it with {_flow(answers[name])} after you changed {changed}. "
            f"Fix: pass a valid value in the same update (--data '{name}=...'), or leave {changed} as it was")
    if not str(conf["answers_file"]).startswith(".copier/"):
        problems += stranded_team_problems(recorded, answers, _onboarded_teams(destination))
    if problems:
        from copier.errors import UserMessageError

        restore_index(destination, os.getpid())  # a refused team update must not leave its index narrowed
        raise UserMessageError(f"{_refusal_heading(destination)}\n- " + "\n- ".join(problems))
    return ""


def _refusal_heading(destination: Path) -> str:
    """What the user must undo: nothing, unless a release's `before` migrations already ran in this update."""
    status = subprocess.run(["git", "status", "--porcelain"], cwd=destination, capture_output=True, text=True, check=False)
    if status.returncode != 0 or not status.stdout.strip():
        return "Refused, nothing was written:"
    return ("Refused; the template files were not touched, but this update's release migrations already moved "
            "files or rewrote the answers file (see `git status`): run `git reset --hard HEAD` to undo them, then:")
