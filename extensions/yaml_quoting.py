"""Write answers into YAML so they read back as the same string.

A network called `n`, a cluster called `123` or a branch called `on` would otherwise come back
as a boolean or a number from YAML 1.1 readers: go-yaml v2 (kustomize patches, Kubernetes'
own YAML decoding) even takes `y` and `n` for booleans, which PyYAML does not.
"""

from __future__ import annotations

import re

import yaml

YAML11_BOOLEANS = re.compile(r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF")


def yaml_string(value: object) -> str:
    """`value` as a YAML scalar that every reader takes as this string: plain when safe, else quoted."""
    text = str(value)
    if YAML11_BOOLEANS.fullmatch(text):
        return f'"{text}"'
    dumped = yaml.safe_dump(text, default_flow_style=True, width=100_000).strip()
    return dumped.removesuffix("...").strip()
