"""One entry point for a fresh machine (Python >= 3.11, git, npm): set up, then act.

    python3 tests/run.py example [DIR]   generate a platform repo with the defaults and validate it
    python3 tests/run.py test [ARGS]     run the whole test suite on every core (ARGS go to pytest)

Setup is idempotent: a virtualenv in .venv with tests/requirements.txt, and the checker's schema
packages (istio_gitops_check/schemas) in .check-cache/, each redone only when its lock file changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
CHECK_CACHE = REPO / ".check-cache"
PY_LOCKS = [REPO / "requirements.txt", REPO / "tests" / "requirements.txt", REPO / "tests" / "constraints.txt", REPO / "istio_gitops_check" / "requirements-pykustomize.txt"]
USAGE = __doc__.split("\n\n")[1]


def digest(paths: list[Path]) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()


def run(command: list[str], **kwargs) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, check=True, **kwargs)


def ensure_python_environment() -> None:
    stamp = VENV / ".requirements-sha256"
    wanted = digest(PY_LOCKS)
    if VENV_PYTHON.exists() and stamp.exists() and stamp.read_text() == wanted:
        return
    if not VENV_PYTHON.exists():
        run([sys.executable, "-m", "venv", str(VENV)])
    pip = [str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run(pip + ["-r", str(REPO / "tests" / "requirements.txt")])
    # pykustomize declares Requires-Python >= 3.14 but works on 3.11 (see tests/requirements.txt).
    run(pip + ["--ignore-requires-python", "--no-deps", "-r", str(REPO / "istio_gitops_check" / "requirements-pykustomize.txt")])
    stamp.write_text(wanted)


def ensure_schema_packages() -> None:
    """The same install the checker does for a platform repo (istio_gitops_check/schema_packages.py)."""
    from istio_gitops_check import schema_packages

    print(f"+ schema packages in {schema_packages.ensure_installed(quiet=False)}", flush=True)


def generate_example(destination: Path) -> int:
    from copier import run_copy

    from istio_gitops_check.platform_check import check, summary

    destination = destination.resolve()
    if destination.exists() and any(destination.iterdir()):
        if not (destination / ".copier-answers.yml").exists():
            sys.exit(f"{destination} exists and is not a generated platform repo; choose another folder")
        shutil.rmtree(destination)
    with tempfile.TemporaryDirectory() as staging:
        staged = Path(staging) / "platform"
        run_copy(str(REPO), staged, defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True)
        shutil.move(str(staged), destination)
    report = check(destination)
    print(summary(report))
    return 0 if report.ok else 1


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("example", "test"):
        print(USAGE)
        return 2
    os.environ.setdefault("ISTIO_GITOPS_CHECK_CACHE", str(CHECK_CACHE))
    if Path(sys.prefix).resolve() != VENV.resolve():
        ensure_python_environment()
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__).resolve()), *argv])
    sys.path.insert(0, str(REPO))
    os.chdir(REPO)
    ensure_schema_packages()
    if argv[0] == "example":
        return generate_example(Path(argv[1]) if len(argv) > 1 else REPO / "example-platform")
    # Both cores (pytest-xdist); pass your own -n to change that, e.g. `-n 0` to debug in one process.
    parallel = [] if any(a == "-n" or a.startswith("-n") for a in argv[1:]) else ["-n", "auto"]
    return subprocess.call([str(VENV_PYTHON), "-m", "pytest", "-q", *parallel, *argv[1:]])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
