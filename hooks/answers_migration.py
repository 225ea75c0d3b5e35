"""Rewrite a platform answers file recorded by an older template version (copier migration).

    python hooks/answers_migration.py .copier-answers.yml

0.2.0: the single `istio_version` answer became the list `istio_versions` (revisions as data);
the version becomes the one installed revision, and `prod-stable` the default tag pointing at it.
The file is edited in place with ruamel.yaml so its comment and key order stay as they were.
Running it on an already migrated file changes nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML


def migrate(answers: dict[str, Any]) -> bool:
    """Migrate `answers` in place; return whether anything changed."""
    if "istio_version" not in answers or "istio_versions" in answers:
        return False
    version = str(answers.pop("istio_version"))
    answers["istio_versions"] = [version]
    answers.setdefault("istio_revision_tags", [{"name": "prod-stable", "version": version}])
    answers.setdefault("istio_default_tag", "prod-stable")
    return True


def migrate_file(path: Path) -> bool:
    yaml = YAML()
    yaml.preserve_quotes = True
    document = yaml.load(path.read_text())
    if document is None or not migrate(document):
        return False
    with path.open("w") as stream:
        yaml.dump(document, stream)
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    path = Path(argv[0])
    if not path.is_file():
        print(f"answers file {path} not found", file=sys.stderr)
        return 1
    print(f"{path}: {'migrated' if migrate_file(path) else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
