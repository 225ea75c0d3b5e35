"""Make the conflicts a `copier update` leaves impossible to miss (copier migration, after every update).

    python hooks/update_conflicts.py <answers file>

copier writes a conflict as inline markers (`<<<<<<< before updating` ... `>>>>>>> after updating`) or, with
`--conflict rej`, as a `<file>.rej` next to the file, then exits 0 and prints nothing. This runs once the update
is complete and lists every file with conflict markers (git's unmerged paths, and any file the update changed
or added that has a `<<<<<<<` or `>>>>>>>` line) and every `.rej` file, says what to do, and exits 1, so that
`copier update ... && git commit -a` stops before committing markers. Exit 0, silently, when there is none.

It is a `_migrations` entry without a version, not a `_tasks` entry: copier runs `_tasks` in the project before it
merges (the project is re-rendered first, the user's diff applied afterwards), so a task never sees this
update's conflicts. An unversioned migration with `_stage == 'after'` runs after the merge, once, in the project
only (never in the temporary copies of the old and new versions), for the platform and every team scope.
docs/update.md says why the exit is non-zero.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "extensions"))
from team_update_index import restore_index, team_of_answers_file, team_pathspecs  # noqa: E402

MARKER = re.compile(r"^(<{7}|>{7})(?: |$)")
RULE = "=" * 100


@dataclass
class Conflicts:
    markers: dict[str, list[int]] = field(default_factory=dict)  # file: line numbers of <<<<<<< and >>>>>>> lines
    unmerged: list[str] = field(default_factory=list)  # git's unmerged paths (copier records inline conflicts so)
    rejects: list[str] = field(default_factory=list)  # .rej files of `--conflict rej`

    def files(self) -> list[str]:
        return sorted(set(self.markers) | set(self.unmerged) | set(self.rejects))


def marker_lines(text: str) -> list[int]:
    """1-based numbers of the lines that open or close a conflict."""
    if "<<<<<<<" not in text and ">>>>>>>" not in text:
        return []
    return [number for number, line in enumerate(text.splitlines(), start=1) if MARKER.match(line)]


def find_conflicts(unmerged: list[str], candidates: dict[str, str], untracked: list[str]) -> Conflicts:
    """The conflicts, from git's unmerged paths, the texts of the files the update changed or added, and the
    untracked files (where the `.rej` files are)."""
    found = Conflicts(unmerged=sorted(set(unmerged)), rejects=sorted(p for p in set(untracked) if p.endswith(".rej")))
    for path, text in sorted(candidates.items()):
        lines = marker_lines(text)
        if lines:
            found.markers[path] = lines
    return found


def _lines(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:6])) + (", ..." if len(numbers) > 6 else "")
    return f"line{'s' if len(numbers) > 1 else ''} {shown}"


def report(conflicts: Conflicts, answers_file: str) -> str:
    """The message: every file and what to do with it."""
    command = "copier update" + ("" if answers_file == ".copier-answers.yml" else f" -a {answers_file}")
    files = conflicts.files()
    count = f"{len(files)} files need" if len(files) > 1 else "1 file needs"
    out = [RULE, f"CONFLICTS: `{command}` is applied, but {count} you before you commit:"]
    for path in files:
        if path in conflicts.rejects:
            target = path.removesuffix(".rej")
            out.append(f"  {path}: a change copier could not apply to {target}; apply it to {target} by hand, "
                       f"then delete {path}")
        elif path in conflicts.markers:
            out.append(f"  {path}: conflict markers at {_lines(conflicts.markers[path])}")
        else:
            out.append(f"  {path}: unmerged (git status shows it as 'both modified')")
    out += [
        "",
        "In each file, between `<<<<<<< before updating` and `=======` are your lines, between `=======` and",
        "`>>>>>>> after updating` the new template's: keep what you want, delete the three marker lines, then",
        "`git add <file>`. `python3 scripts/check.py --fast` fails while a marker is left (rule 'conflict markers').",
        "To drop the whole update instead: `git reset --hard HEAD && git clean -fd`.",
        "This step exits 1 on purpose, so that `copier update ... && git commit -a` stops here; the bots propose",
        "the update with the markers for review instead. See docs/update.md of the template.",
        RULE,
    ]
    return "\n".join(out)


def _git(root: Path, *args: str) -> list[str]:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    return [p for p in done.stdout.split("\0") if p] if done.returncode == 0 else []


def scan(root: Path, paths: list[str] | None = None) -> Conflicts | None:
    """The conflicts in the git work tree at `root`, among `paths` (git pathspecs; all by default: a team's update
    only writes the team's). None when `root` is no git work tree: nothing to compare."""
    top = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False)
    if top.returncode != 0:
        return None
    within = paths or ["."]
    unmerged = {line.split("\t", 1)[1] for line in _git(root, "ls-files", "-z", "--unmerged", "--", *within) if "\t" in line}
    changed = _git(root, "diff", "--name-only", "-z", "--relative", "HEAD", "--", *within)
    untracked = _git(root, "ls-files", "-z", "--others", "--exclude-standard", "--", *within)
    # A `*.rej` ignore rule must not hide a reject (copier itself looks for them among ignored files too).
    ignored = _git(root, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--", *(paths or ["*.rej"]))
    untracked += [path for path in ignored if path.endswith(".rej")]
    candidates = {}
    for path in sorted(set(changed) | set(untracked) | unmerged):
        file = root / path
        if path.endswith(".rej") or not file.is_file():
            continue
        try:
            candidates[path] = file.read_text(errors="replace")
        except OSError:
            continue
    return find_conflicts(sorted(unmerged), candidates, untracked)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: update_conflicts.py <answers file>", file=sys.stderr)
        return 2
    restore_index(Path.cwd(), os.getppid())  # a team update whose own task did not run (--skip-tasks) still had it narrowed
    team = team_of_answers_file(argv[0])
    conflicts = scan(Path.cwd(), team_pathspecs(team) if team else None)
    if conflicts is None or not conflicts.files():
        return 0
    print(report(conflicts, argv[0]), file=sys.stderr, flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
