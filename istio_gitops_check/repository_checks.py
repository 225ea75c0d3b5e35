"""Checks on the repository's files themselves, before anything is built: conflict markers that an update
left behind, yamllint with the repo's own configuration, and whether the folders still agree with the
answers copier will re-render from.

These are the fast part of the check (pre-commit runs them on every commit).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from yamllint import __version__ as yamllint_version
from yamllint import linter
from yamllint.config import YamlLintConfig, YamlLintConfigError

from istio_gitops_check import check_cache

from istio_gitops_check.yaml_documents import mapping

CONFLICT_START = re.compile(r"^<{7}( |$)", re.MULTILINE)
CONFLICT_LINE = re.compile(r"^(<{7}|\|{7}|={7}|>{7})( |$)")
ANSWERS = ".copier-answers.yml"


def repository_files(root: Path) -> list[Path]:
    """The files of the repository as it is on disk: tracked and untracked, but not what .gitignore excludes
    (the checker's own cache in CI, rendered charts). Outside a git work tree: every file but .git's."""
    listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, text=True, check=False)
    if listed.returncode == 0 and (root / ".git").exists():
        return sorted(p for p in (root / name for name in set(listed.stdout.split("\0")) if name) if p.is_file())
    return sorted(p for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts)


def read_files(files: list[Path]) -> dict[Path, bytes]:
    """Every file's bytes, read once per check: the rules share them instead of reading the tree six times."""
    return {path: path.read_bytes() for path in files}


def _text(path: Path, contents: Mapping[Path, bytes] | None) -> str:
    """A file's text (UnicodeDecodeError when it is not UTF-8)."""
    return (contents[path] if contents is not None and path in contents else path.read_bytes()).decode()


def conflict_markers(root: Path, files: list[Path], contents: Mapping[Path, bytes] | None = None) -> list[str]:
    """Lines a `copier update` (or a git merge) left as conflict markers, and `.rej` files of `--conflict rej`."""
    problems = []
    for path in files:
        relative = path.relative_to(root).as_posix()
        if path.suffix == ".rej":
            problems.append(f"{relative}: copier could not apply a change here; merge it into the file it names, then delete this file")
            continue
        try:
            text = _text(path, contents)
        except (UnicodeDecodeError, OSError):
            continue
        if not CONFLICT_START.search(text):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if CONFLICT_LINE.match(line):
                problems.append(f"{relative}:{number}: conflict marker {line[:7]!r}; resolve the conflict and remove the markers")
    return problems


LINT_IN_PARALLEL_FROM = 200  # distinct texts; below that, starting worker processes costs more than it saves
LINT_RESULTS_FORMAT = 3  # bump when what lint_texts returns changes: cached results of another format are never used


DISABLE_FILE = re.compile(r"^#\s*yamllint disable-file\s*$")
C_PARSER = getattr(yaml, "CBaseLoader", None)


def lint_text(text: str, config: YamlLintConfig) -> list[list[Any]]:
    """yamllint one text: [line, column, description, rule] per problem.

    yamllint parses every file a second time with PyYAML's pure-Python parser only to find a syntax error
    (about a third of its time). libyaml's parser is checked first: when it parses the text, only the cosmetic
    rules run; when it does not, yamllint runs in full, so its syntax error and position are reported as ever."""
    first_line = text.split("\n", 1)[0]
    if C_PARSER is not None and not DISABLE_FILE.match(first_line):
        try:
            for _ in yaml.parse(text, Loader=C_PARSER):
                pass
        except yaml.YAMLError:
            pass
        else:
            return [[p.line, p.column, p.desc, p.rule or "syntax"] for p in linter.get_cosmetic_problems(text, config, None)]
    return [[p.line, p.column, p.desc, p.rule or "syntax"] for p in linter.run(text, config)]


def lint_texts(config_text: str, texts: list[str]) -> list[list[list[Any]]]:
    """lint_text for each text."""
    config = YamlLintConfig(config_text)
    return [lint_text(text, config) for text in texts]


def _lint_all(config_text: str, texts: list[str]) -> list[list[list[Any]]]:
    """lint_texts spread over one `python -m istio_gitops_check.yamllint_worker` per core (plain subprocesses:
    multiprocessing would re-import the caller's main module)."""
    workers = min(os.cpu_count() or 1, 8)
    if len(texts) < LINT_IN_PARALLEL_FROM or workers < 2:
        return lint_texts(config_text, texts)
    chunks = [texts[i::workers] for i in range(workers)]
    package_parent = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))}
    running = [subprocess.Popen([sys.executable, "-m", "istio_gitops_check.yamllint_worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env=env) for _ in chunks]

    def exchange(process: subprocess.Popen, chunk: list[str]) -> list[list[list[Any]]]:
        output, _ = process.communicate(json.dumps({"config": config_text, "texts": chunk}))
        if process.returncode != 0:
            raise RuntimeError(f"yamllint worker failed with exit status {process.returncode}")
        return json.loads(output)

    with ThreadPoolExecutor(len(running)) as pool:
        parts = list(pool.map(exchange, running, chunks))
    results: list[list[list[Any]]] = [[] for _ in texts]
    for worker, part in enumerate(parts):
        for offset, found in enumerate(part):
            results[worker + offset * workers] = found
    return results


def lint_yaml(root: Path, files: list[Path], contents: Mapping[Path, bytes] | None = None) -> list[str]:
    """yamllint every YAML file with the config the platform repo ships (its defaults if it has none).

    Generated repos repeat the same text per cluster and team, and most files do not change between two
    checks: each distinct text is linted once, results are kept in the cache by content, and what is left is
    spread over the cores."""
    config_file = root / ".yamllint.yaml"
    config_text = config_file.read_text() if config_file.is_file() else "extends: default"
    try:
        config = YamlLintConfig(config_text)
    except YamlLintConfigError as error:
        return [f".yamllint.yaml: not a valid yamllint configuration: {error}"]
    problems: list[str] = []
    texts: dict[str, list[str]] = {}
    for path in files:
        relative = path.relative_to(root).as_posix()
        if path.suffix not in (".yaml", ".yml") or config.is_file_ignored(relative):
            continue
        try:
            texts.setdefault(_text(path, contents), []).append(relative)
        except UnicodeDecodeError:
            problems.append(f"{relative}: not UTF-8 text")
    store = f"yamllint-{hashlib.sha256(f'{LINT_RESULTS_FORMAT}|{yamllint_version}|{config_text}'.encode()).hexdigest()[:16]}"
    known = check_cache.load_results(store)
    digests = {text: hashlib.sha256(text.encode()).hexdigest() for text in texts}
    missing = [text for text in texts if digests[text] not in known]
    if missing:
        known.update(zip((digests[t] for t in missing), _lint_all(config_text, missing), strict=True))
        check_cache.store_results(store, {digests[t]: known[digests[t]] for t in texts})
    for text, paths in texts.items():
        for relative in paths:
            problems += [f"{relative}:{line}:{column}: {desc} ({rule})" for line, column, desc, rule in known[digests[text]]]
    return problems


def revision_folder(version: str) -> str:
    """Istio's revision naming: 1.31.1 -> 1-31-1."""
    return version.replace(".", "-")


def _folders(path: Path) -> set[str]:
    return {p.name for p in path.iterdir() if p.is_dir()} if path.is_dir() else set()


def answers_consistency(root: Path) -> list[str]:
    """The repo still matches the answers `copier update` re-renders from; a mismatch means the next update
    deletes or resurrects files nobody asked about."""
    answers_path = root / ANSWERS
    if not answers_path.is_file():
        return [f"{ANSWERS}: missing; the repo was not generated by copier or the file was deleted (copier update needs it)"]
    answers = mapping(answers_path)
    if not answers:
        return [f"{ANSWERS}: does not parse as a YAML mapping; restore it from git history (never edit it by hand)"]
    problems = [f"{ANSWERS}: {key} is missing; copier update and the checker's install need it (restore the file from git history)"
                for key in ("_src_path", "_commit") if not answers.get(key)]
    engine = answers.get("gitops_engine")
    other = {"argocd": "flux", "flux": "argocd"}.get(str(engine))
    if other is None:
        problems.append(f"{ANSWERS}: gitops_engine is {engine!r}; it must be argocd or flux")
    else:
        if not (root / str(engine)).is_dir():
            problems.append(f"{engine}/: missing although gitops_engine is {engine}; run copier update to restore it")
        if (root / other).is_dir():
            problems.append(f"{other}/: left over from the other engine (gitops_engine is {engine}); delete it")
    clusters = {str(c.get("name")) for c in answers.get("clusters") or [] if isinstance(c, dict)}
    for folder in ("clusters", "mesh/clusters"):
        present = _folders(root / folder)
        problems += [f"{folder}/{name}: cluster {name} is in the answers but has no folder here; run copier update to restore it"
                     for name in sorted(clusters - present)]
        problems += [f"{folder}/{name}: no cluster {name} in the answers; remove the folder, or add the cluster with "
                     f"copier update --data (a hand-made cluster is never updated)" for name in sorted(present - clusters)]
    versions = {revision_folder(str(v)) for v in answers.get("istio_versions") or []}
    present = _folders(root / "mesh/revisions")
    problems += [f"mesh/revisions/{name}: Istio {name} is in the answers' istio_versions but has no folder; run copier update"
                 for name in sorted(versions - present)]
    problems += [f"mesh/revisions/{name}: not in the answers' istio_versions; remove it, or install it with copier update --data"
                 for name in sorted(present - versions)]
    for team_file in sorted((root / ".copier").glob("team-*.yml")):
        relative = team_file.relative_to(root).as_posix()
        team = mapping(team_file)
        name = str(team.get("team_name", ""))
        if not team or team_file.name != f"team-{name}.yml":
            problems.append(f"{relative}: not a team answers file for team {name!r}; restore it from git history")
            continue
        if not (root / "teams" / name).is_dir():
            problems.append(f"teams/{name}: missing although {relative} onboards team {name}; run copier update -a {relative}")
        unknown = sorted({str(c) for c in team.get("team_clusters") or []} - clusters) if clusters else []
        if unknown:
            problems.append(f"{relative}: team {name} is placed on clusters the platform does not have: {', '.join(unknown)}")
    return problems
