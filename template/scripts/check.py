# Managed by istio-gitops-template (copier): your edits survive `copier update`.
"""Check this platform repo with the rules of the template version that generated it.

    python3 scripts/check.py              the whole check (CI runs this on every pull request)
    python3 scripts/check.py --fast       conflict markers, yamllint, answers (pre-commit runs this)
    python3 scripts/check.py --summary    also print what was checked
    python3 scripts/check.py render-charts --out DIR --analyze    the real charts (CI; helm, istioctl, network)
    python3 scripts/check.py istio-patch --index URL --out FILE    the Istio patch bot's answers change

Installs istio-gitops-check once per template commit, from the template repository and commit recorded in
.copier-answers.yml (`_src_path`, `_commit`), into a cache folder ($ISTIO_GITOPS_CHECK_CACHE, else
~/.cache/istio-gitops-check), then runs `istio-gitops-check check` on this repo. Needs Python >= 3.11, git
and npm. Every other argument goes to `istio-gitops-check` (its `check` command unless another is named).

ISTIO_GITOPS_CHECK_SOURCE=<pip requirement> installs the checker from somewhere else (a mirror, a wheel).
--python PATH uses an interpreter that already has the checker's dependencies (an air-gapped CI image) and
installs only the checker itself, without build isolation.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ANSWERS = REPO / ".copier-answers.yml"
SUBCOMMANDS = ("check", "render-charts", "istio-patch")
DESCRIBE_SUFFIX = re.compile(r"-\d+-g([0-9a-f]{7,40})$")


def answer(name: str) -> str:
    """A top-level scalar of the answers file (stdlib only, so no YAML parser)."""
    match = re.search(rf"^{re.escape(name)}:[ \t]*(.*?)[ \t]*$", ANSWERS.read_text(), re.MULTILINE)
    if not match or not match.group(1):
        sys.exit(f"{ANSWERS.name}: {name} is missing; restore the file from git history")
    return match.group(1).strip("'\"")


def git_url(source: str) -> str:
    """copier's `_src_path` as a URL pip can clone."""
    for prefix, host in (("gh:", "https://github.com/"), ("gl:", "https://gitlab.com/")):
        if source.startswith(prefix):
            path = source.removeprefix(prefix)
            return host + path + ("" if path.endswith(".git") else ".git")
    scp = re.fullmatch(r"([\w.-]+)@([\w.-]+):(?!//)(.+)", source)
    if scp:
        return f"ssh://{scp[1]}@{scp[2]}/{scp[3]}"
    if re.match(r"^(https?|ssh|git|file)://", source):
        return source
    if Path(source).is_absolute():
        return Path(source).as_uri()
    sys.exit(f"{ANSWERS.name}: _src_path {source!r} is not a URL or an absolute path; set ISTIO_GITOPS_CHECK_SOURCE")


def git_ref(commit: str) -> str:
    """copier's `_commit` (`git describe` output) as a ref: a tag, or the commit after `-N-g`."""
    described = DESCRIBE_SUFFIX.search(commit)
    return described.group(1) if described else commit


def requirement() -> str:
    configured = os.environ.get("ISTIO_GITOPS_CHECK_SOURCE")
    if configured:
        return configured
    # A plain VCS URL: older pips refuse `name @ git+file:///...@ref` as a requirement.
    return f"git+{git_url(answer('_src_path'))}@{git_ref(answer('_commit'))}"


def cache_root() -> Path:
    configured = os.environ.get("ISTIO_GITOPS_CHECK_CACHE")
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(configured) if configured else (Path(xdg) if xdg else Path.home() / ".cache") / "istio-gitops-check"


def pip(python: str, *arguments: str) -> None:
    command = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *arguments]
    if subprocess.run(command, check=False).returncode != 0:
        sys.exit(f"installing the checker failed: {' '.join(command)}\nIf the template repository in "
                 f"{ANSWERS.name} (_src_path) cannot be reached from here, set ISTIO_GITOPS_CHECK_SOURCE to a pip "
                 "requirement for istio-gitops-check (a mirror URL or a wheel).")


def installed(spec: str, python: str | None) -> tuple[list[str], dict[str, str]]:
    """The command that runs the checker, and its environment, installing it first if needed."""
    key = hashlib.sha256(f"{spec}|{python}".encode()).hexdigest()[:16]
    home = cache_root() / f"checker-{key}"
    stamp = home / ".installed"
    env = dict(os.environ)
    if python:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(home / "lib"), env.get("PYTHONPATH")]))
        if not stamp.is_file():
            pip(python, "--no-deps", "--no-build-isolation", "--target", str(home / "lib"), spec)
            stamp.write_text(spec)
        return [python, "-m", "istio_gitops_check"], env
    interpreter = str(home / "bin" / "python")
    if not stamp.is_file():
        venv.create(home, with_pip=True, clear=True)
        pip(interpreter, spec)
        pykustomize = subprocess.run(
            [interpreter, "-c", "from importlib.resources import files; "
             "print(files('istio_gitops_check').joinpath('requirements-pykustomize.txt').read_text())"],
            capture_output=True, text=True, check=True).stdout
        # pykustomize declares Requires-Python >= 3.14 but runs on 3.11+ (kustomize in a Go library).
        pip(interpreter, "--ignore-requires-python", "--no-deps", *pykustomize.split())
        stamp.write_text(spec)
    return [interpreter, "-m", "istio_gitops_check"], env


def main(argv: list[str]) -> int:
    python = None
    if "--python" in argv:
        index = argv.index("--python")
        python = argv[index + 1]
        argv = argv[:index] + argv[index + 2:]
    subcommand = argv.pop(0) if argv and argv[0] in SUBCOMMANDS else "check"
    command, env = installed(requirement(), python)
    return subprocess.call([*command, subcommand, str(REPO), *argv], env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
