"""YAML loading with YAML 1.2 booleans: only ``true``/``false`` are booleans.

PyYAML follows YAML 1.1, where ``YES``, ``NO``, ``ON`` and ``OFF`` are booleans. Policy
text uses YES and NO as answers, so the loader keeps them as strings.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml


class PolicyLoader(yaml.SafeLoader):
    pass


PolicyLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
PolicyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=PolicyLoader)  # noqa: S506 - SafeLoader subclass
