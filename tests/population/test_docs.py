from __future__ import annotations

import re
from pathlib import Path

from cdrflow.population.io import read_population
from cdrflow.population.model import COLUMNS, REQUIRED

DOC = Path(__file__).resolve().parents[2] / "docs" / "population.md"


def test_every_column_is_documented_with_its_requirement() -> None:
    text = DOC.read_text(encoding="utf-8").split("## Import columns")[1].split("\n## ")[0]
    rows = dict(re.findall(r"^\| `(\w+)` \| (?:[^|\\]|\\\|)+ \| ([^|]+) \|", text, flags=re.MULTILINE))
    assert list(rows) == list(COLUMNS)
    assert {c for c, req in rows.items() if req.strip() == "yes"} == REQUIRED


def test_example_csv_is_valid(tmp_path: Path) -> None:
    block = re.search(r"```csv\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert block is not None
    path = tmp_path / "example.csv"
    path.write_text(block.group(1), encoding="utf-8")
    assert block.group(1).splitlines()[0].split(",") == list(COLUMNS)
    valid, rejects = read_population(path)
    assert rejects == []
    assert [r["title"] for r in valid] == ["T2", "T16"]
