"""Writing what a run decided: the flat decisions by suffix (Parquet, CSV, JSON Lines) with the
rejects beside them, whole or chunk by chunk (:func:`append_chunk`); the counts by outcome and
alert; the run's line about the model path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from cdrflow.safeio import atomic, refuse_overwrite

if TYPE_CHECKING:
    from .files import BatchResult


def add_why(total: dict[str, int], part: dict[str, int]) -> None:
    """Add one chunk's reasons for the model path to a run's."""
    for k, v in part.items():
        total[k] = total.get(k, 0) + v


def model_path_text(to_model: int, why: dict[str, int], top: int = 6) -> str:
    """The run's line about the model path: how many records went to it and why (most frequent first)."""
    if not to_model:
        return "model path: 0 records"
    parts = [f"{k} × {v:,}" for k, v in sorted(why.items(), key=lambda kv: (-kv[1], kv[0]))]
    more = f", and {len(parts) - top} more" if len(parts) > top else ""
    return f"model path: {to_model:,} records ({'; '.join(parts[:top])}{more})"


def write_result(result: BatchResult, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "decisions": out_dir / "decisions.parquet",
        "decisions_csv": out_dir / "decisions.csv",
        "rejects": out_dir / "rejects.jsonl",
    }
    with atomic(paths["decisions"], "wb") as fh:
        result.decisions.write_parquet(fh)
    with atomic(paths["decisions_csv"], "wb") as fh:
        result.decisions.write_csv(fh)
    with atomic(paths["rejects"]) as fh:
        for r in result.rejects:
            fh.write(json.dumps(r.as_dict()) + "\n")
    return paths


FLAT_COLUMNS = [
    "mailer_id",
    "outcome",
    "actionable",
    "alert_type",
    "alert_message",
    "alert_reviewer",
    "alert_recommended_action",
    "automated_recommendation",
    "rule_ids",
    "policy_version",
]
"""One row per decided record in `cdrflow decide -o FILE`: flat columns; ``rule_ids`` is the rows that
fired (``table:row``), space-separated, in evaluation order."""

OUTPUT_FORMATS = (".parquet", ".csv", ".jsonl", ".ndjson")


def write_decisions(result: BatchResult, output: Path, rejects: Path | None = None) -> tuple[Path, Path]:
    """Write the flat decisions to ``output`` (format by suffix) and the rejects beside it (JSON Lines)."""
    suffix = output.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise ValueError(
            f"{output}: unknown output format {suffix or '(none)'!r}; use one of {', '.join(OUTPUT_FORMATS)}"
        )
    flat = flat_decisions(result.decisions)
    rej = rejects or output.with_name(output.stem + ".rejects.jsonl")
    refuse_overwrite({}, {"the output": output, "the reject file": rej})
    with atomic(output, "wb") as out_fh:
        if suffix == ".parquet":
            flat.write_parquet(out_fh)
        elif suffix == ".csv":
            flat.write_csv(out_fh)
        else:
            flat.write_ndjson(out_fh)
    with atomic(rej) as fh:
        for r in result.rejects:
            fh.write(json.dumps(r.as_dict()) + "\n")
    return output, rej


COUNT_KEYS = ("outcome", "alert_type", "alert_message")
"""What the end-of-run summary counts decisions by."""


def chunk_counts(decisions: pl.DataFrame) -> pl.DataFrame:
    """One chunk's decisions counted by :data:`COUNT_KEYS`."""
    return decisions.lazy().group_by(*COUNT_KEYS).agg(pl.len().alias("count")).collect()


def total_counts(counts: list[pl.DataFrame]) -> pl.DataFrame:
    """The chunks' counts added up (an empty frame of the same columns when there were none)."""
    if not counts:
        return pl.DataFrame(schema={"outcome": pl.String, "alert_type": pl.String, "alert_message": pl.Int64,
                                    "count": pl.UInt32})
    return pl.concat(counts).group_by(*COUNT_KEYS).agg(pl.col("count").sum())


def flat_decisions(decisions: pl.DataFrame) -> pl.DataFrame:
    """The decisions in :data:`FLAT_COLUMNS`, as ``cdrflow decide -o FILE`` writes them."""
    return decisions.select(FLAT_COLUMNS)


def append_chunk(out_fh: Any, suffix: str, flat: pl.DataFrame, writer: Any, first: bool) -> Any:
    """Append one chunk to the open output; returns the Parquet writer (None for text formats)."""
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        table = flat.to_arrow(compat_level=pl.CompatLevel.newest())  # string views: no copy
        if writer is None:
            writer = pq.ParquetWriter(out_fh, table.schema)
        writer.write_table(table.cast(writer.schema))
        return writer
    if suffix == ".csv":
        flat.write_csv(out_fh, include_header=first)
    else:
        flat.write_ndjson(out_fh)
    return None


def outcome_table(decisions: pl.DataFrame) -> pl.DataFrame:
    """Counts and percentages by outcome and alert, for people to read."""
    total = max(decisions.height, 1)
    return (
        chunk_counts(decisions)
        .with_columns((pl.col("count") * 100.0 / total).round(2).alias("percent"))
        .sort(list(COUNT_KEYS), nulls_last=False)
    )
