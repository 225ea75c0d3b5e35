"""Narrow the index to one team's paths for copier's update snapshot, or put the full index back.

    python hooks/team_update_narrowing.py narrow <answers file> <defaults: True|False>
    python hooks/team_update_narrowing.py restore

`narrow` is the last `before` migration of every update (copier.yml): for a team's answers file under
`--defaults` it keeps the full index and leaves only the team's entries, so copier's `git write-tree` and the
diffs it makes from it cover the team, not the whole repo (extensions/team_update_index.py says why that is
exact). Anything else (the platform's answers, an interactive update) is left alone. `restore` puts the full
index back; hooks/team_folders.py, the refusals and hooks/update_conflicts.py call it, and a user whose update
was killed half-way may run it by hand. Both exit 0 and print nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "extensions"))
from team_update_index import narrow_index, restore_index, team_of_answers_file  # noqa: E402


def main(argv: list[str]) -> int:
    if argv == ["restore"]:
        restore_index(Path.cwd(), os.getppid())
        return 0
    if len(argv) != 3 or argv[0] != "narrow":
        print("usage: team_update_narrowing.py narrow <answers file> <defaults> | restore", file=sys.stderr)
        return 2
    team = team_of_answers_file(argv[1])
    if team is not None and argv[2] == "True":
        narrow_index(Path.cwd(), team, copier_pid=os.getppid())  # copier runs this command itself
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
