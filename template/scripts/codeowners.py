# Managed by istio-gitops-template (copier): your edits survive `copier update`.
"""Give every onboarded team its CODEOWNERS line (Python >= 3.9, standard library only).

    python3 scripts/codeowners.py           add the missing lines (the CI bot runs this and opens a pull request)
    python3 scripts/codeowners.py --check   list the teams without a line; exit 1 if there is one

Onboarding a team (copier in team scope) writes only the team's own files, never a shared one, so onboarding
pull requests made in parallel merge in any order with a plain `git merge`. Until a team has its line, its
folder `teams/<team>/` is reviewed by the catch-all `*` owners (the cluster admins), which is stricter.

For each `.copier/team-<team>.yml` without a `/teams/<team>/` line, this adds
`/teams/<team>/ @<codeowners_org>/<team_owners_group>` between `# BEGIN teams` and `# END teams`, at its sorted
place. It never rewrites, moves or removes a line that exists: owners added by hand stay, and offboarding is
yours to do (the script only mentions lines left for teams that have no answers file any more).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOCATIONS = ("CODEOWNERS", ".github/CODEOWNERS", ".gitlab/CODEOWNERS", "docs/CODEOWNERS")
BEGIN, END = "# BEGIN teams", "# END teams"
TEAM_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# What GitHub and GitLab accept in `@<org>/<group>`: an owner they cannot resolve is ignored without a word,
# which would leave the team's folder with no required reviewer at all.
ORG = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
GROUP = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?")


def scalar(text: str, name: str) -> str | None:
    """A top-level scalar of a copier answers file (plain or quoted), without a YAML parser."""
    match = re.search(rf"^{re.escape(name)}:[ \t]*([^\n]*?)[ \t]*$", text, re.MULTILINE)
    if not match or not match.group(1):
        return None
    value = match.group(1)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value


def teams(root: Path) -> tuple[dict[str, str], list[str]]:
    """{team: owners group} from `.copier/team-*.yml`, and the problems of files that cannot be read."""
    found, problems = {}, []
    for path in sorted((root / ".copier").glob("team-*.yml")):
        text = path.read_text()
        name = scalar(text, "team_name") or path.stem.removeprefix("team-")
        group = scalar(text, "team_owners_group")
        where = path.relative_to(root).as_posix()
        if not TEAM_NAME.fullmatch(name):
            problems.append(f"{where}: team_name {name!r} is not a DNS label")
        elif not group or not GROUP.fullmatch(group):
            problems.append(f"{where}: team_owners_group {group!r} cannot be a CODEOWNERS team (@org/<group>): "
                            "letters, digits, '-', '_' and '.' only; change it with `copier update -a` first")
        else:
            found[name] = group
    return found, problems


def team_of(line: str) -> str | None:
    """The team a CODEOWNERS line is for, if its pattern is the team's folder (`/teams/<team>/` and spellings)."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    pattern = stripped.split()[0]
    match = re.fullmatch(r"/?teams/([^/*?\[\]]+)(?:/|/\*\*?)?", pattern)
    return match.group(1) if match else None


def missing_teams(text: str, owners: dict[str, str]) -> list[str]:
    """Teams with an answers file and no line of their own anywhere in CODEOWNERS."""
    present = {team_of(line) for line in text.split("\n")}
    return sorted(team for team in owners if team not in present)


def stale_lines(text: str, owners: dict[str, str]) -> list[str]:
    """Lines for a team folder whose team has no answers file (offboarded, or a typo)."""
    return [line for line in text.split("\n") if team_of(line) and team_of(line) not in owners]


def block(lines: list[str]) -> tuple[int, int] | None:
    """Indexes of the `# BEGIN teams` and `# END teams` lines."""
    begin = next((i for i, line in enumerate(lines) if line.startswith(BEGIN)), None)
    if begin is None:
        return None
    end = next((i for i in range(begin + 1, len(lines)) if lines[i].startswith(END)), None)
    return None if end is None else (begin, end)


def with_team_lines(text: str, owners: dict[str, str], org: str) -> tuple[str, list[str]]:
    """CODEOWNERS with a line added for each team that has none, and the lines added. Every existing line stays
    as it is, where it is; a new line goes before the first team line of the block that sorts after it."""
    lines = text.split("\n")
    where = block(lines)
    if where is None:
        raise ValueError(f"no '{BEGIN}' ... '{END}' block")
    added = []
    for team in missing_teams(text, owners):
        entry = f"/teams/{team}/ @{org}/{owners[team]}"
        begin, end = block(lines)  # type: ignore[misc]
        position = next((i for i in range(begin + 1, end) if team_of(lines[i]) and f"/teams/{team_of(lines[i])}/" > f"/teams/{team}/"), end)
        lines.insert(position, entry)
        added.append(entry)
    return "\n".join(lines), added


def codeowners_path(root: Path) -> Path | None:
    return next((root / name for name in LOCATIONS if (root / name).is_file()), None)


def main(argv: list[str], root: Path = REPO) -> int:
    if argv not in ([], ["--check"]):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    path = codeowners_path(root)
    if path is None:
        print("CODEOWNERS: no CODEOWNERS file (looked for " + ", ".join(LOCATIONS) + ")", file=sys.stderr)
        return 2
    owners, problems = teams(root)
    answers = root / ".copier-answers.yml"
    org = scalar(answers.read_text(), "codeowners_org") if answers.is_file() else None
    if not org or not ORG.fullmatch(org):
        problems.append(f".copier-answers.yml: codeowners_org {org!r} is missing or not an organisation name")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 2
    name = path.relative_to(root).as_posix()
    text = path.read_text()
    for line in stale_lines(text, owners):
        print(f"{name}: note: '{line.strip()}' names a team without .copier/team-*.yml; delete it when you offboard")
    try:
        updated, added = with_team_lines(text, owners, org)  # type: ignore[arg-type]
    except ValueError as error:
        print(f"{name}: {error}: put these two lines after the catch-all `*` and folder lines and before the "
              "`/teams/*/base/*/namespace/` lines (the last matching line wins), then run this again", file=sys.stderr)
        return 2
    if argv == ["--check"]:
        for line in added:
            team = line.split("/")[2]
            print(f"{name}: team {team} has no line yet, so the cluster admins review teams/{team}/; "
                  f"`python3 scripts/codeowners.py` adds: {line}")
        return 1 if added else 0
    if added:
        path.write_text(updated)
    for line in added:
        print(f"{name}: added {line}")
    if not added:
        print(f"{name}: every onboarded team has its line")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
