"""The Node side of strict schema validation: the pinned @kubernetes-models packages and validate-crds.mjs,
installed once per lock file into a cache folder outside the repository being checked.

The package ships package.json, package-lock.json and validate-crds.mjs (schemas/); `npm ci` runs in
`<cache>/schemas-<sha of the lock files>/` (check_cache.py), so an installed checker never writes into
site-packages and two checker versions with different pins never share node_modules.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Final

from istio_gitops_check.check_cache import cache_root

PACKAGED: Final = Path(__file__).resolve().parent / "schemas"
LOCK_FILES: Final = ("package.json", "package-lock.json")
SCRIPT: Final = "validate-crds.mjs"
STAMP: Final = ".installed"


class SchemaPackagesError(RuntimeError):
    """npm is missing or `npm ci` failed: the custom resources cannot be validated."""


def lock_digest() -> str:
    return hashlib.sha256(b"".join((PACKAGED / name).read_bytes() for name in LOCK_FILES)).hexdigest()[:16]


def install_dir() -> Path:
    return cache_root() / f"schemas-{lock_digest()}"


def ensure_installed(quiet: bool = True) -> Path:
    """The folder holding node_modules and validate-crds.mjs, installing with `npm ci` on first use."""
    target = install_dir()
    if not (target / STAMP).is_file():
        npm = shutil.which("npm")
        if not npm:
            raise SchemaPackagesError("npm is needed once to install the schema packages; install Node.js and npm")
        target.mkdir(parents=True, exist_ok=True)
        for name in LOCK_FILES:
            shutil.copyfile(PACKAGED / name, target / name)
        command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
        done = subprocess.run(command, cwd=target, capture_output=quiet, text=True, check=False)
        if done.returncode != 0:
            raise SchemaPackagesError(f"`npm ci` in {target} failed: {(done.stderr or '').strip()}")
        (target / STAMP).write_text(lock_digest())
    script = (PACKAGED / SCRIPT).read_bytes()
    installed_script = target / SCRIPT
    if not installed_script.is_file() or installed_script.read_bytes() != script:
        installed_script.write_bytes(script)
    return target
