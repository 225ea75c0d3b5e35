"""Same answers, byte-identical output."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import copy_platform
from tests.test_render_matrix import MATRIX


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_two_copies_are_byte_identical(template_snapshot: Path, tmp_path: Path) -> None:
    answers = MATRIX["split-eastwest-three-clusters"]
    first = tree(copy_platform(template_snapshot, tmp_path / "one", answers))
    second = tree(copy_platform(template_snapshot, tmp_path / "two", answers))
    assert len(first) > 40
    assert first == second


def test_different_answers_differ(template_snapshot: Path, tmp_path: Path) -> None:
    default = tree(copy_platform(template_snapshot, tmp_path / "one", {}))
    other = tree(copy_platform(template_snapshot, tmp_path / "two", {"mesh_id": "other-mesh"}))
    assert default != other
