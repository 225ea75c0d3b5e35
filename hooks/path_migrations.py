"""Carry the user's edits across paths the template renames or stops generating (copier migrations).

    python hooks/path_migrations.py before <answers file> <version from> <version to>
    python hooks/path_migrations.py after

`copier update` applies the user's changes to the paths the *old* version generated, then deletes the
paths the new version no longer generates: an edited file that moved is lost, silently. So, for every
file the old version generated at a path that a rule below changes:

- unedited: nothing to do (copier deletes the old path and writes the new one);
- edited, renamed: `before` moves it with git mv semantics (the index must change: copier diffs the
  index, `git write-tree`, not the working tree) and stages it empty at the new path, so copier writes
  the new version there untouched; `after` then 3-way merges the user's version into it
  (`git merge-file`, base = what the old version generated, labels as copier's own), conflicts
  recorded in the index like copier's. A bare `git mv` would be merged by copier against an empty
  base: every line where the two versions differ would conflict, edited or not;
- edited, no longer generated, or the new path already exists: `before` refuses (exit 1) with what to
  do, before any migration has written anything (its entries come first in copier.yml).

Which files the old version generated, and their content, come from rendering it again (the recorded
answers from HEAD, at the recorded commit) from this template's clone: rules only ever touch generated
paths, never a file the user added. The state between the two stages is a JSON file in the git dir
(blob ids; the blobs live in the object database). Running either stage again changes nothing.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
STATE_FILE = "copier-path-migrations.json"
LABELS = ("before updating", "last update", "after updating")  # copier's own merge-file labels


@dataclass(frozen=True)
class PathRule:
    """A generated path that release `version` renamed (`new`) or stopped generating (`new` None).

    `{name}` placeholders match within one path segment (`{revision}` only a revision); `new` reuses those
    of `old`. Rules only ever apply to paths the old version generated."""

    version: str
    old: str
    new: str | None
    why: str
    scope: str = "platform"  # the answers file's `scope` whose update applies it


RULES: tuple[PathRule, ...] = (
    PathRule("0.2.0", "clusters/{cluster}/istiod-{revision}.yaml", "clusters/{cluster}/istiod.yaml",
             "one istiod Application per cluster lists every installed revision"),
    # The 0.2.0 answers migration records the single version under the tag prod-stable, and gateways
    # follow the default tag, so the gateway values move from the revision's folder to the tag's.
    PathRule("0.2.0", "gateways/revisions/{revision}/{gateway}.values.yaml", "gateways/revisions/prod-stable/{gateway}.values.yaml",
             "gateways follow a revision tag, and their values live in the tag's folder"),
    PathRule("0.3.0", "gateways/base/{namespace}/namespace.yaml", "gateways/namespaces/{namespace}/namespace.yaml",
             "gateway namespaces and their RBAC are the cluster admins' unit"),
    PathRule("0.3.0", "gateways/base/{namespace}/rbac.yaml", "gateways/namespaces/{namespace}/rbac.yaml",
             "gateway namespaces and their RBAC are the cluster admins' unit"),
    PathRule("0.3.0", "scripts/check_mesh.py", None,
             "its cross-cluster checks are part of the istio_gitops_check package, which scripts/check.py runs"),
    PathRule("0.4.0", "mesh/clusters/{cluster}/certificates/remote-secrets.yaml",
             "mesh/clusters/{cluster}/remote-secrets/remote-secrets.yaml",
             "remote secrets are their own unit after istiod, pruned, so a fresh bootstrap never waits for a peer"),
    PathRule("0.4.0", "mesh/base/istio-config/envoyfilter-external-authz.yaml", None,
             "external authorization is the external_authz_service answer; docs/external-authorization.md has a "
             "working EnvoyFilter to compare yours with"),
)


@dataclass(frozen=True)
class Move:
    source: str
    target: str
    base: bytes  # what the old version generated at `source`
    ours: bytes  # the user's version


@dataclass(frozen=True)
class Plan:
    moves: tuple[Move, ...]
    refusals: tuple[str, ...]


PLACEHOLDERS = {"revision": r"\d+(?:-\d+)+(?:-[a-z0-9]+)*"}  # an Istio revision (1.31.1 -> 1-31-1), never a tag name


def _regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", pattern)
    return re.compile("".join(f"(?P<{p}>{PLACEHOLDERS.get(p, '[^/]+')})" if i % 2 else re.escape(p)
                              for i, p in enumerate(parts)) + r"\Z")


def rules_between(version_from: str, version_to: str, rules: Iterable[PathRule] = RULES, scope: str = "platform") -> tuple[PathRule, ...]:
    """The rules of the releases an update of `scope` from `version_from` to `version_to` crosses, oldest first."""
    low, high = Version(version_from), Version(version_to)
    return tuple(sorted((r for r in rules if r.scope == scope and low < Version(r.version) <= high), key=lambda r: Version(r.version)))


def migrated_path(path: str, rules: Iterable[PathRule]) -> tuple[str | None, PathRule | None]:
    """Where `path` lives after `rules` (None: no longer generated), and the last rule that moved it."""
    current: str | None = path
    last: PathRule | None = None
    for rule in rules:
        if current is None:
            break
        match = _regex(rule.old).match(current)
        if match:
            current, last = (rule.new.format(**match.groupdict()) if rule.new else None), rule
    return current, last


def plan(rules: tuple[PathRule, ...], generated: Mapping[str, bytes], project: Mapping[str, bytes]) -> Plan:
    """What to do with each path the old version `generated` (path -> content) that `rules` change,
    given the user's `project` (path -> content of every tracked file)."""
    moves: list[Move] = []
    refusals: list[str] = []
    for source in sorted(generated):
        target, rule = migrated_path(source, rules)
        if rule is None or target == source or source not in project or project[source] == generated[source]:
            continue
        if target is None:
            refusals.append(
                f"{source}: no longer generated since {rule.version} ({rule.why}), and you changed it. "
                f"Keep your version under a name of your own (git mv {source} <new name>) or drop your changes "
                f"(git rm {source}), commit, and run copier update again.")
        elif target in project or any(m.target == target for m in moves):
            refusals.append(
                f"{source}: moves to {target} in {rule.version} ({rule.why}), and you changed it, but {target} already "
                f"exists. Bring your changes into one of the two files, delete the other (git rm), commit, and run "
                f"copier update again.")
        else:
            moves.append(Move(source, target, generated[source], project[source]))
    return Plan(tuple(moves), tuple(refusals))


# -- git and copier -------------------------------------------------------------------------------

def _git(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["git", *args], input=data, capture_output=True, check=True).stdout


def _state_path() -> Path:
    return Path(_git("rev-parse", "--git-path", STATE_FILE).decode().strip())


def _in_repo(path: str) -> str:
    """`path` (relative to the project) from the top of the git repo, as `git update-index` takes it."""
    return _git("rev-parse", "--show-prefix").decode().strip() + path


def _blob(content: bytes) -> str:
    return _git("hash-object", "-w", "--stdin", data=content).decode().strip()


def _index_entry(path: str) -> tuple[str, str] | None:
    """(mode, blob) of `path` at stage 0 of the index."""
    line = _git("ls-files", "-s", "--", path).decode().strip()
    if not line or line.split()[2] != "0":
        return None
    mode, blob = line.split()[:2]
    return mode, blob


def _tracked_files() -> dict[str, bytes]:
    names = [n for n in _git("ls-files", "-z").decode().split("\0") if n]
    return {n: Path(n).read_bytes() for n in names if Path(n).is_file()}


def _recorded_answers(answers_file: str) -> dict:
    """The answers as committed (a migration earlier in this update may have rewritten the file)."""
    import yaml

    return yaml.safe_load(_git("show", f"HEAD:./{answers_file}")) or {}


def _render_old_version(answers: Mapping[str, object]) -> dict[str, bytes]:
    """Every file the recorded answers produced at the recorded commit (rendered again, tasks included),
    from this template's clone, or from the recorded template source if the clone lacks that commit."""
    from copier import run_copy

    data = {k: v for k, v in answers.items() if not str(k).startswith("_")}
    with tempfile.TemporaryDirectory(prefix="path-migrations.") as scratch:
        destination = Path(scratch) / "old"
        try:
            run_copy(str(TEMPLATE_ROOT), destination, data=data, vcs_ref=str(answers["_commit"]), defaults=True,
                     unsafe=True, quiet=True, overwrite=True)
        except Exception:  # noqa: BLE001 - any failure here has one fallback: the recorded source
            run_copy(str(answers["_src_path"]), destination, data=data, vcs_ref=str(answers["_commit"]), defaults=True,
                     unsafe=True, quiet=True, overwrite=True)
        return {p.relative_to(destination).as_posix(): p.read_bytes()
                for p in destination.rglob("*") if p.is_file() and ".git" not in p.relative_to(destination).parts}


def _load_state() -> dict:
    path = _state_path()
    return json.loads(path.read_text()) if path.is_file() else {}


def _in_effect(entry: Mapping[str, str], empty: str) -> bool:
    """Whether a recorded move is still staged (not undone by a reset after an aborted update)."""
    staged = _index_entry(entry["target"])
    return staged is not None and staged[1] == empty and _index_entry(entry["source"]) is None


def before(answers_file: str, version_from: str, version_to: str,
           render: Callable[[Mapping[str, object]], dict[str, bytes]] = _render_old_version) -> int:
    """Refuse, or move the edited files the update's rules rename. copier.yml runs this once per
    release that has rules; the first run does the work for all of them, the others find it done."""
    answers = _recorded_answers(answers_file)
    rules = rules_between(version_from, version_to, scope=str(answers.get("scope") or "platform"))
    empty = _blob(b"")
    head = _git("rev-parse", "HEAD").decode().strip()
    state = _load_state()
    if state.get("update") == [head, version_from, version_to] and all(_in_effect(e, empty) for e in state["moves"]):
        return 0
    project = _tracked_files()
    result = plan(rules, render(answers), project) if any(migrated_path(p, rules)[1] for p in project) else Plan((), ())
    occupied = [m.target for m in result.moves if Path(m.target).exists()]
    refusals = list(result.refusals) + [
        f"{m.source}: moves to {m.target}, which exists but is not tracked by git; move it away, and run copier update again."
        for m in result.moves if m.target in occupied]
    if refusals:
        print(f"copier update {version_from} -> {version_to} refused, nothing changed:", file=sys.stderr)
        for refusal in refusals:
            print(f"  - {refusal}", file=sys.stderr)
        return 1
    moves = []
    for move in result.moves:
        mode = (_index_entry(move.source) or ("100644", ""))[0]
        Path(move.target).parent.mkdir(parents=True, exist_ok=True)
        _git("mv", "--", move.source, move.target)
        _git("update-index", "--cacheinfo", f"{mode},{empty},{_in_repo(move.target)}")
        moves.append({"source": move.source, "target": move.target, "mode": mode, "base": _blob(move.base), "ours": _blob(move.ours)})
        print(f"moved {move.source} -> {move.target}: your edits are merged into the new version at the end of the "
              "update (if the update stops before that, `git reset --hard HEAD` undoes the move)")
    _state_path().write_text(json.dumps({"update": [head, version_from, version_to], "moves": moves}, indent=1))
    return 0


def _merge(ours: bytes, base: bytes, theirs: bytes) -> tuple[bytes, int]:
    """git merge-file with copier's labels: the merged bytes and the number of conflicts (-1: failed)."""
    with tempfile.TemporaryDirectory(prefix="path-migrations.") as scratch:
        files = [Path(scratch, name) for name in ("ours", "base", "theirs")]
        for file, content in zip(files, (ours, base, theirs)):
            file.write_bytes(content)
        labels = [arg for label in LABELS for arg in ("-L", label)]
        merged = subprocess.run(["git", "merge-file", "-p", *labels, *map(str, files)], capture_output=True, check=False)
    return merged.stdout, (merged.returncode if 0 <= merged.returncode <= 127 else -1)


def after() -> int:
    """Merge the user's version of each moved file into what copier wrote at its new path."""
    path = _state_path()
    if not path.is_file():
        return 0
    empty = _blob(b"")
    conflicted = []
    for entry in _load_state().get("moves", []):
        if not _in_effect(entry, empty):
            print(f"{entry['target']}: move from {entry['source']} no longer staged, left alone", file=sys.stderr)
            continue
        target, in_repo = Path(entry["target"]), _in_repo(entry["target"])
        ours, base = _git("cat-file", "blob", entry["ours"]), _git("cat-file", "blob", entry["base"])
        theirs = target.read_bytes() if target.is_file() else ours
        merged, conflicts = _merge(ours, base, theirs)
        if conflicts > 0:
            target.write_bytes(merged)
            stages = [f"0 {'0' * len(empty)}\t{in_repo}",
                      *(f"{entry['mode']} {blob} {stage}\t{in_repo}"
                        for stage, blob in ((1, entry["base"]), (2, entry["ours"]), (3, _blob(theirs))))]
            _git("update-index", "--index-info", data=("\n".join(stages) + "\n").encode())
            conflicted.append(entry["target"])
            continue
        target.write_bytes(merged if conflicts == 0 else ours)
        _git("update-index", "--cacheinfo", f"{entry['mode']},{entry['ours']},{in_repo}")  # a staged rename
        print(f"{entry['target']}: your edits from {entry['source']} merged" if conflicts == 0 else
              f"{entry['target']}: git merge-file failed, your version is kept as it was", file=sys.stdout if conflicts == 0 else sys.stderr)
    path.unlink()
    if conflicted:
        print("CONFLICTS in moved files (resolve the <<<<<<< markers, then git add): " + ", ".join(conflicted), file=sys.stderr)
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["before"] and len(argv) == 4:
        return before(*argv[1:])
    if argv == ["after"]:
        return after()
    print("\n".join(line.strip() for line in __doc__.strip().splitlines()[2:4]), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
