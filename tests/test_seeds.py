"""The seed texts ship with the repository unchanged (docs/seeds/README.md lists their hashes)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[1] / "docs" / "seeds"


def test_every_seed_matches_the_hash_in_its_readme() -> None:
    readme = (SEEDS / "README.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"\| (\d{3}_[0-9a-f]{16}\.txt) \|.*\| `([0-9a-f]{64})` \|", readme))
    assert sorted(listed) == sorted(p.name for p in SEEDS.glob("*.txt"))
    for name, digest in listed.items():
        assert hashlib.sha256((SEEDS / name).read_bytes()).hexdigest() == digest, name
