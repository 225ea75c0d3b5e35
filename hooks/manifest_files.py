"""Write generated manifests the way every file of the platform repo is written: one header line,
block-style YAML that YAML 1.1 readers (go-yaml v2) read back unchanged, and only inside the repo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "extensions"))
from yaml_quoting import YAML11_BOOLEANS  # noqa: E402

HEADER = "# Managed by istio-gitops-template (copier): your edits survive `copier update`.\n"
KUSTOMIZATION = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}


class _Dumper(yaml.SafeDumper):
    """Block-style YAML whose strings read back as strings for YAML 1.1 readers (go-yaml v2)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        """Repeated values are written out again: people do not write &id001/*id001 into manifests."""
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    """Multi-line text (a PEM certificate, a templated kubeconfig) as a literal block, as people write it."""
    if "\n" in value and value.endswith("\n") and not any(line != line.rstrip() for line in value.split("\n")):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    style = '"' if YAML11_BOOLEANS.fullmatch(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


# {repr of documents: the file}: a team on 20 clusters writes the same overlay kustomization 40 times, and the
# pure-Python emitter costs ~0.5 ms a file. repr tells apart every value YAML would write differently.
_WRITTEN: dict[str, str] = {}


def manifest(*documents: dict) -> str:
    """Documents as one YAML file with the template header."""
    key = repr(documents)
    if key not in _WRITTEN:
        _WRITTEN[key] = HEADER + "---\n".join(yaml.dump(d, Dumper=_Dumper, sort_keys=False, width=120) for d in documents)
    return _WRITTEN[key]


def kustomization(resources: list[str], **extra: Any) -> str:
    return manifest({**KUSTOMIZATION, "resources": resources, **extra})


def write_files(root: Path, files: dict[str, str]) -> list[str]:
    """Write `files` under `root`, refusing any path that would leave it; returns what changed."""
    root = root.resolve()
    changed = []
    for relative, content in files.items():
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or Path(relative).is_absolute():
            raise ValueError(f"refusing to write {relative!r} outside {root}")
        if target.exists() and target.read_text() == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        changed.append(relative)
    return changed


