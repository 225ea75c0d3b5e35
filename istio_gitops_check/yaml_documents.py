"""YAML reading for the checker: libyaml's C loader when PyYAML has it (about 6x faster than the pure-Python
loader, which was nearly half of the check's time), and tolerant file readers.

A file that does not parse (a committed conflict marker, a typo) must not stop the check: yamllint reports
it with file and line, so the readers here treat it as holding no documents.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(text: str) -> Any:
    return yaml.load(text, Loader=LOADER)  # noqa: S506 (a safe loader)


def parse_all(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=LOADER))  # noqa: S506 (a safe loader)


def documents(path: Path) -> list[dict]:
    """The mapping documents of a YAML file; [] when it is missing or does not parse."""
    try:
        return [doc for doc in parse_all(path.read_text()) if isinstance(doc, dict)]
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []


def mapping(path: Path) -> dict:
    """The first document of a YAML file if it is a mapping; {} when it is missing, not a mapping or broken."""
    try:
        data = parse(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}
