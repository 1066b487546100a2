"""Shared helpers: population rows as the text a CSV holds, and CSV writing of such rows."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from cdrflow.population.generate import generate, write_population


def raw_rows(tmp_path: Path, count: int = 40, seed: int = 11) -> list[dict[str, str]]:
    """``count`` valid rows exactly as ``write_population`` spells them in a CSV."""
    path = tmp_path / f"base-{count}-{seed}.csv"
    write_population(generate(count, seed=seed), path)
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_csv(path: Path, rows: Sequence[dict[str, str]], columns: Sequence[str] | None = None) -> Path:
    cols = list(columns) if columns is not None else list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path
