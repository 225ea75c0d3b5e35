"""The template's releases as CHANGELOG.md records them (the tests recreate the tags from it).

Format: each release is a `## <version>` heading (`## <version> (unreleased)` for the one in the
making, at most one, the first); every released heading is followed by a line `Commit: <40 hex>` before
the next heading. Everything else is prose for people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

CHANGELOG = Path(__file__).resolve().parent.parent / "CHANGELOG.md"
HEADING = re.compile(r"## (?P<version>\S+)(?P<unreleased> \(unreleased\))?\s*\Z")
COMMIT = re.compile(r"Commit: (?P<commit>[0-9a-f]{40})\s*\Z")


@dataclass(frozen=True)
class Release:
    version: Version
    commit: str | None  # None: unreleased (the working tree)


class ChangelogError(ValueError):
    pass


def parse_releases(text: str) -> tuple[Release, ...]:
    """The releases, newest first, exactly as written; ChangelogError names the line at fault."""
    releases: list[Release] = []
    pending: tuple[Version, bool, int] | None = None  # version, unreleased, heading line
    commit: str | None = None

    def close() -> None:
        if pending is None:
            return
        version, unreleased, line = pending
        if unreleased and commit:
            raise ChangelogError(f"line {line}: {version} is marked unreleased but has a Commit line")
        if not unreleased and not commit:
            raise ChangelogError(f"line {line}: release {version} has no `Commit: <40 hex>` line")
        releases.append(Release(version, None if unreleased else commit))

    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            close()
            match = HEADING.match(line)
            if not match:
                raise ChangelogError(f"line {number}: expected `## <version>` or `## <version> (unreleased)`, got {line!r}")
            try:
                version = Version(match["version"])
            except InvalidVersion as error:
                raise ChangelogError(f"line {number}: {error}") from None
            pending, commit = (version, bool(match["unreleased"]), number), None
        elif line.startswith("Commit:"):
            match = COMMIT.match(line)
            if pending is None or not match:
                raise ChangelogError(f"line {number}: a `Commit: <40 hex>` line belongs under a release heading, got {line!r}")
            if commit is not None:
                raise ChangelogError(f"line {number}: second Commit line for {pending[0]}")
            commit = match["commit"]
    close()
    return tuple(releases)


def ordering_problems(releases: tuple[Release, ...]) -> list[str]:
    """Versions strictly decreasing down the file, at most one unreleased and only the first."""
    problems = []
    for newer, older in zip(releases, releases[1:]):
        if not newer.version > older.version:
            problems.append(f"{newer.version} is listed above {older.version} but is not newer")
    problems += [f"{r.version}: only the first entry may be unreleased" for r in releases[1:] if r.commit is None]
    return problems


def read_releases(path: Path = CHANGELOG) -> tuple[Release, ...]:
    return parse_releases(path.read_text())
