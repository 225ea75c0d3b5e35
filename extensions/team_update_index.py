"""Keep a team's `copier update` proportional to the team, not to the repo it lives in.

copier 9 diffs the tree of the whole project (`git write-tree` of the index) against a fresh render of the
update's old version. A team's old render holds only that team's files, so every other file of the platform
repo (4,000 in a 20-cluster, 50-team repo) lands in the diff as a new file: copier reads, formats and
`git apply`s ~0.5 s of patches that change nothing.

So, for a team update under `--defaults`, the last `before` migration narrows the index to the paths the team
scope writes (`team_pathspecs`) right before copier runs `git write-tree`; the full index is kept in the git
dir and put back (`restore_index`) as soon as copier has taken its snapshot: by the team's own task
(hooks/team_folders.py, the first thing copier runs in the project after the snapshot), by any refusal
(answer validators, the recorded-answers guard), and by the conflict report that ends every update. Whatever
the team scope ever writes lies under these pathspecs, so copier sees exactly the diff it saw before, minus the
unrelated files it could not apply anyway (tests/unit/test_team_update_index.py renders teams to prove it).
Interactive updates keep copier's plain behaviour.

Whatever else stops copier in between (a --data value that is not valid YAML ends it with a traceback, Ctrl-C),
the copier process restores the index when it exits: the narrowing records the repo under copier's process id.
Only a process killed outright (SIGKILL) leaves `git status` listing the repo's other files as deleted from the
index; `git reset -q` (or `python3 <template>/hooks/team_update_narrowing.py restore`) puts them back. The work
tree is never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

TEAM_ANSWERS_FILE = re.compile(r"\.copier/team-(?P<team>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.yml")
SAVED_INDEX = "istio-gitops-template-full-index"


def team_of_answers_file(answers_file: str) -> str | None:
    """The team whose answers file this is; None for the platform's (or anything else)."""
    found = TEAM_ANSWERS_FILE.fullmatch(answers_file.replace(os.sep, "/").removeprefix("./"))
    return found["team"] if found else None


def team_pathspecs(team: str) -> list[str]:
    """Git pathspecs of every path the team scope writes (hooks/team_folders.py and the answers file)."""
    return [
        f":(glob).copier/team-{team}.yml",
        f":(glob)teams/{team}/**",
        f":(glob)tenants/*/{team}/**",
        f":(glob)tenants/projects/{team}.yaml",
        f":(glob)gateways/requests/{team}/**",
    ]


def _git(root: Path, *args: str, data: bytes | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, input=data, capture_output=True, check=False,
                          env={**os.environ, **env} if env else None)


def _git_paths(root: Path) -> tuple[Path, Path, Path] | None:
    """The top of the git work tree at `root`, its index and the kept full index; None outside one (copier's
    temporary renders)."""
    if not root.is_dir():
        return None  # a first copy: the destination does not exist yet
    found = _git(root, "rev-parse", "--path-format=absolute", "--show-toplevel", "--git-path", "index",
                 "--git-path", SAVED_INDEX)
    paths = found.stdout.decode().splitlines()
    return (Path(paths[0]), Path(paths[1]), Path(paths[2])) if found.returncode == 0 and len(paths) == 3 else None


def pending_restore(copier_pid: int) -> Path:
    """Where a narrowing records the repo for the copier process `copier_pid`, whose exit restores it whatever
    stopped the update (`restore_pending`, registered by extensions/template_filters.py)."""
    return Path(tempfile.gettempdir()) / f"istio-gitops-template-narrowed-index-{copier_pid}"


def restore_pending(copier_pid: int | None = None) -> None:
    """Restore the index a narrowing recorded for this copier process, if it is still narrowed (at exit)."""
    record = pending_restore(copier_pid or os.getpid())
    try:
        top = record.read_text()
    except OSError:
        return
    restore_index(Path(top))
    record.unlink(missing_ok=True)


def narrow_index(root: Path, team: str, copier_pid: int | None = None) -> bool:
    """Replace the index by its entries under the team's paths, keeping the full index to restore (and recording
    the repo for `copier_pid`'s exit); False, nothing changed, when there is no git dir, an entry is unmerged, or a
    narrowed index is already in place."""
    paths = _git_paths(root)
    if paths is None or paths[2].exists() or not paths[1].is_file():
        return False
    top, index, saved = paths
    listed = _git(root, "ls-files", "--stage", "--full-name", "-z", "--", *team_pathspecs(team))
    stages = [entry.split(b"\t", 1)[0].rsplit(b" ", 1)[-1] for entry in listed.stdout.split(b"\0") if entry]
    if listed.returncode != 0 or not stages or any(stage != b"0" for stage in stages):
        return False
    narrowed = index.with_name(index.name + ".team-update")
    narrowed.unlink(missing_ok=True)
    built = _git(top, "update-index", "-z", "--index-info", data=listed.stdout, env={"GIT_INDEX_FILE": str(narrowed)})
    if built.returncode != 0:
        narrowed.unlink(missing_ok=True)
        return False
    shutil.copyfile(index, saved)
    if copier_pid:
        pending_restore(copier_pid).write_text(str(top))
    os.replace(narrowed, index)
    return True


def restore_index(root: Path, copier_pid: int | None = None) -> bool:
    """Put back the full index `narrow_index` kept; False when there is none (the usual case)."""
    if copier_pid:
        pending_restore(copier_pid).unlink(missing_ok=True)
    paths = _git_paths(root)
    if paths is None or not paths[2].is_file():
        return False
    os.replace(paths[2], paths[1])
    return True
