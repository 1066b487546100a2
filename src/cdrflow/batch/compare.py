"""How outcomes move between two decision files ("what if"): `cdrflow compare BASE VARIANT`.

Both files are outputs of `cdrflow decide` (Parquet, CSV or JSON Lines). Rows are matched by
``mailer_id``; a record decided in one file and rejected in the other is counted, not dropped.
With the input file of returned mailers, the moves are also broken down by profile and title.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

READERS: dict[str, Callable[[Path], pl.DataFrame]] = {
    ".parquet": pl.read_parquet, ".csv": pl.read_csv, ".jsonl": pl.read_ndjson, ".ndjson": pl.read_ndjson,
}


def read_decisions(path: Path) -> pl.DataFrame:
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ValueError(f"{path}: unknown format {path.suffix!r}; use one of {', '.join(READERS)}")
    frame = reader(path)
    missing = {"mailer_id", "outcome"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: not a decisions file (missing {', '.join(sorted(missing))})")
    return frame.select(pl.col("mailer_id").cast(pl.String), pl.col("outcome").cast(pl.String))


def moves(base: pl.DataFrame, variant: pl.DataFrame, by: pl.DataFrame | None = None) -> pl.DataFrame:
    """Counts of (base outcome -> variant outcome), with the share of all base records, optionally by keys.

    ``by`` has ``mailer_id`` plus the columns to break down by (e.g. profile, title). A record
    missing from one side shows as ``REJECTED`` there.
    """
    joined = base.join(variant, on="mailer_id", how="full", suffix="_variant", coalesce=True).with_columns(
        pl.col("outcome").fill_null("REJECTED").alias("base"),
        pl.col("outcome_variant").fill_null("REJECTED").alias("variant"),
    )
    keys = ["base", "variant"]
    if by is not None:
        joined = joined.join(by, on="mailer_id", how="left")
        keys = [c for c in by.columns if c != "mailer_id"] + keys
    total = max(joined.height, 1)
    return (
        joined.group_by(keys)
        .agg(pl.len().alias("count"))
        .with_columns(
            (pl.col("base") != pl.col("variant")).alias("moved"),
            (pl.col("count") * 100.0 / total).round(2).alias("percent"),
        )
        .sort([*keys[:-2], "moved", "count"], descending=[*[False] * (len(keys) - 2), True, True])
    )


def input_keys(path: Path) -> pl.DataFrame:
    """``mailer_id``, ``profile``, ``title`` from a returned-mailer file (JSON Lines or Parquet)."""
    if path.suffix.lower() == ".parquet":
        frame = pl.read_parquet(path, columns=["mailer_id", "profile", "title"])
    else:
        frame = pl.read_ndjson(path, schema={"mailer_id": pl.String, "profile": pl.String, "title": pl.String},
                               ignore_errors=True)
    return frame.unique("mailer_id", keep="first")
