"""Decide a returned-mailer file: every record ends up decided or rejected with its reason.

Input: JSON Lines (one returned-mailer record per line) or Parquet with the columns of
:data:`cdrflow.batch.schema.MAILER_SCHEMA`. Each record is validated against the
``ReturnedMailer`` model; invalid records go to the reject file with the line, the field and
the reason; valid records are decided vectorized. ``read + decided + rejected`` always
reconcile, and re-running the same input writes the same output.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import ValidationError

from cdrflow.engine.calc import validation_to_input_error
from cdrflow.engine.errors import NoValueInForce
from cdrflow.policy.mailer.record import ReturnedMailer

from .decide import alert_text_expr, decide_frame, policy_version
from .schema import MAILER_SCHEMA


@dataclass(frozen=True)
class Reject:
    line: int
    mailer_id: str | None
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "mailer_id": self.mailer_id, "field": self.field, "reason": self.reason}


@dataclass
class BatchResult:
    read: int
    decisions: pl.DataFrame
    rejects: list[Reject]

    @property
    def decided(self) -> int:
        return self.decisions.height

    def reconciles(self) -> bool:
        return self.read == self.decided + len(self.rejects)


def iter_raw(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed object or the JSON error) for each non-blank record of the file."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        i = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=65_536):  # streamed: bounded memory
            for row in batch.to_pylist():
                i += 1
                yield i, row
        return
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield i, json.loads(line)
            except json.JSONDecodeError as exc:
                yield i, exc


def validate(
    raw: Iterable[tuple[int, Any]], progress: Callable[[int], None] | None = None, seen: dict[str, int] | None = None
) -> tuple[int, list[dict[str, Any]], list[Reject]]:
    """Validate records; ``seen`` (mailer id -> line) carries duplicate detection across chunks."""
    read = 0
    valid: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    seen = {} if seen is None else seen
    for line, obj in raw:
        read += 1
        if progress is not None:
            progress(1)
        if isinstance(obj, json.JSONDecodeError):
            rejects.append(Reject(line, None, "(line)", f"not valid JSON: {obj.msg}"))
            continue
        mid = obj.get("mailer_id") if isinstance(obj, dict) else None
        if not isinstance(obj, dict):
            rejects.append(Reject(line, None, "(line)", "expected one JSON object"))
            continue
        try:
            rec = ReturnedMailer.model_validate(obj)
        except ValidationError as exc:
            err = validation_to_input_error(exc)
            rejects.append(Reject(line, mid if isinstance(mid, str) else None, err.field, err.message))
            continue
        if rec.mailer_id in seen:
            rejects.append(
                Reject(line, rec.mailer_id, "mailer_id", f"duplicate of the record on line {seen[rec.mailer_id]}")
            )
            continue
        seen[rec.mailer_id] = line
        row = rec.model_dump(mode="json", include=set(MAILER_SCHEMA))
        row["_line"] = line
        row["_decision_date"] = rec.decision_date
        valid.append(row)
    return read, valid, rejects


def decide_file(
    path: Path, on: dt.date | None = None, progress: Callable[[int], None] | None = None
) -> BatchResult:
    """Decide a file in memory. A record's own ``decision_date`` chooses its policy; otherwise ``on``."""
    read, valid, rejects = validate(iter_raw(path), progress)
    decisions = _decide_valid(valid, rejects, on)
    rejects.sort(key=lambda r: r.line)
    return BatchResult(read, decisions, rejects)


def _decide_valid(valid: list[dict[str, Any]], rejects: list[Reject], on: dt.date | None) -> pl.DataFrame:
    """Decide validated rows, grouped by their policy date, in input order; date errors become rejects."""
    groups: dict[dt.date | None, list[dict[str, Any]]] = {}
    for row in valid:
        groups.setdefault(row.pop("_decision_date") or on, []).append(row)
    frames: list[pl.DataFrame] = []
    for when, rows in sorted(groups.items(), key=lambda kv: (kv[0] is not None, kv[0] or dt.date.min)):
        try:
            version = json.dumps(policy_version(when), sort_keys=True)
        except NoValueInForce as exc:
            rejects.extend(Reject(r["_line"], r["mailer_id"], "decision_date", str(exc)) for r in rows)
            continue
        lines = pl.Series("_line", [r.pop("_line") for r in rows], dtype=pl.Int64)
        frame = pl.DataFrame(rows, schema=MAILER_SCHEMA)
        decided = decide_frame(frame, when).collect()
        frames.append(decided.with_columns(lines, pl.lit(version).alias("policy_version")))
    if frames:
        decisions = pl.concat(frames).sort("_line").drop("_line")
    else:
        empty = pl.DataFrame(schema=MAILER_SCHEMA)
        decisions = decide_frame(empty, None).collect().with_columns(pl.lit("").alias("policy_version"))
    return decisions.with_columns(alert_text_expr())


def write_result(result: BatchResult, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "decisions": out_dir / "decisions.parquet",
        "decisions_csv": out_dir / "decisions.csv",
        "rejects": out_dir / "rejects.jsonl",
    }
    result.decisions.write_parquet(paths["decisions"])
    flat = result.decisions
    if "rule_ids" in flat.columns:  # CSV has no lists: the fired rows, space-separated
        flat = flat.with_columns(pl.col("rule_ids").list.join(" "))
    flat.write_csv(paths["decisions_csv"])
    with paths["rejects"].open("w", encoding="utf-8") as fh:
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
    flat = _flat(result.decisions)
    output.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        flat.write_parquet(output)
    elif suffix == ".csv":
        flat.write_csv(output)
    else:
        flat.write_ndjson(output)
    rej = rejects or output.with_name(output.stem + ".rejects.jsonl")
    rej.parent.mkdir(parents=True, exist_ok=True)
    with rej.open("w", encoding="utf-8") as fh:
        for r in result.rejects:
            fh.write(json.dumps(r.as_dict()) + "\n")
    return output, rej


@dataclass
class StreamSummary:
    read: int
    decided: int
    rejected: int
    counts: pl.DataFrame  # outcome, alert_type, alert_message, count

    def reconciles(self) -> bool:
        return self.read == self.decided + self.rejected


def decide_stream(
    path: Path,
    output: Path,
    rejects_path: Path | None = None,
    on: dt.date | None = None,
    *,
    chunk_size: int = 200_000,
    progress: Callable[[int], None] | None = None,
) -> StreamSummary:
    """Decide a file chunk by chunk with bounded memory, appending to ``output`` and the reject file.

    The output is identical to :func:`write_decisions` on :func:`decide_file` of the same input.
    """
    suffix = output.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise ValueError(f"{output}: unknown output format {suffix or '(none)'!r}")
    output.parent.mkdir(parents=True, exist_ok=True)
    rej_path = rejects_path or output.with_name(output.stem + ".rejects.jsonl")
    seen: dict[str, int] = {}
    read = decided = rejected = 0
    counts: list[pl.DataFrame] = []
    writer: Any = None
    first = True
    with rej_path.open("w", encoding="utf-8") as rej_fh, output.open("wb") as out_fh:
        for chunk in chunks(iter_raw(path), chunk_size):
            n, valid, rejects = validate(chunk, progress, seen)
            decisions = _decide_valid(valid, rejects, on)
            rejects.sort(key=lambda r: r.line)
            read, decided, rejected = read + n, decided + decisions.height, rejected + len(rejects)
            for r in rejects:
                rej_fh.write(json.dumps(r.as_dict()) + "\n")
            counts.append(decisions.group_by("outcome", "alert_type", "alert_message").agg(pl.len().alias("count")))
            writer = _append(out_fh, suffix, _flat(decisions), writer, first)
            first = False
        if first:  # an empty input still gets a well-formed, empty output
            writer = _append(out_fh, suffix, _flat(_decide_valid([], [], on)), writer, True)
        if writer is not None:
            writer.close()
    total = (pl.concat(counts).group_by("outcome", "alert_type", "alert_message").agg(pl.col("count").sum())
             if counts else pl.DataFrame(schema={"outcome": pl.String, "alert_type": pl.String,
                                                 "alert_message": pl.Int64, "count": pl.UInt32}))
    return StreamSummary(read, decided, rejected, total)


def _flat(decisions: pl.DataFrame) -> pl.DataFrame:
    return decisions.with_columns(pl.col("rule_ids").list.join(" ")).select(FLAT_COLUMNS)


def _append(out_fh: Any, suffix: str, flat: pl.DataFrame, writer: Any, first: bool) -> Any:
    """Append one chunk to the open output; returns the Parquet writer (None for text formats)."""
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        table = flat.to_arrow()
        if writer is None:
            writer = pq.ParquetWriter(out_fh, table.schema)
        writer.write_table(table.cast(writer.schema))
        return writer
    if suffix == ".csv":
        flat.write_csv(out_fh, include_header=first)
    else:
        flat.write_ndjson(out_fh)
    return None


def chunks(it: Iterator[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    """(line, record) pairs in lists of ``size``: the unit of validation and of a transaction."""
    buf: list[tuple[int, Any]] = []
    for item in it:
        buf.append(item)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


def count_records(path: Path) -> int:
    """Records in a returned-mailer file (Parquet rows, or non-blank JSON lines), for progress bars."""
    if path.suffix == ".parquet":
        return int(pl.scan_parquet(path).select(pl.len()).collect().item())
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def outcome_table(decisions: pl.DataFrame) -> pl.DataFrame:
    """Counts and percentages by outcome and alert, for people to read."""
    total = max(decisions.height, 1)
    return (
        decisions.group_by("outcome", "alert_type", "alert_message")
        .agg(pl.len().alias("count"))
        .with_columns((pl.col("count") * 100.0 / total).round(2).alias("percent"))
        .sort(["outcome", "alert_type", "alert_message"], nulls_last=False)
    )
