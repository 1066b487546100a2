"""Decide a returned-mailer file: every record ends up decided or rejected with its reason.

Input: JSON Lines (one returned-mailer record per line) or Parquet with the columns of
:data:`cdrflow.batch.schema.MAILER_SCHEMA`. Each record is validated against the
``ReturnedMailer`` model; invalid records go to the reject file with the line, the field and
the reason; valid records are decided vectorized. ``read + decided + rejected`` always
reconcile, and re-running the same input writes the same output.

This module decides (:func:`decide_chunk`, :func:`decide_file`, :func:`decide_stream`); it reads
through :mod:`cdrflow.batch.reading`, drops duplicates through :mod:`cdrflow.batch.duplicates` and
writes through :mod:`cdrflow.batch.writing`, whose names it re-exports for its callers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import ValidationError

from cdrflow.engine.calc import validation_to_input_error
from cdrflow.engine.errors import NoValueInForce
from cdrflow.policy.mailer.record import ReturnedMailer
from cdrflow.safeio import Staged, refuse_overwrite

from .decide import alert_text_expr, decide_frame, policy_version
from .duplicates import FirstValid, SeenIds, parquet_duplicates
from .reading import (
    BadLine,
    RawChunk,
    Reject,
    UnreadableFile,
    arrow_chunk,
    chunks,
    count_records,
    iter_raw,
    jsonl_chunks,
    open_parquet,
    parquet_chunks,
    parse_line,
    prefetch,
    read_chunks,
)
from .schema import MAILER_SCHEMA
from .validate import LOSSLESS, checks, lossless_flags, surely_valid
from .writing import (
    COUNT_KEYS,
    FLAT_COLUMNS,
    OUTPUT_FORMATS,
    add_why,
    append_chunk,
    chunk_counts,
    flat_decisions,
    model_path_text,
    outcome_table,
    total_counts,
    write_decisions,
    write_result,
)

__all__ = [
    "COUNT_KEYS",
    "FLAT_COLUMNS",
    "OUTPUT_FORMATS",
    "VALID_SCHEMA",
    "BadLine",
    "BatchResult",
    "ChunkResult",
    "FirstValid",
    "RawChunk",
    "Reject",
    "SeenIds",
    "StreamSummary",
    "UnreadableFile",
    "add_why",
    "append_chunk",
    "arrow_chunk",
    "chunk_counts",
    "chunks",
    "count_records",
    "decide_chunk",
    "decide_file",
    "decide_stream",
    "empty_decisions",
    "flat_decisions",
    "iter_decided",
    "iter_raw",
    "jsonl_chunks",
    "model_path_text",
    "open_parquet",
    "outcome_table",
    "parquet_chunks",
    "parquet_duplicates",
    "parse_line",
    "prefetch",
    "read_chunks",
    "total_counts",
    "validate",
    "write_decisions",
    "write_result",
]


@dataclass
class BatchResult:
    read: int
    decisions: pl.DataFrame
    rejects: list[Reject]
    to_model: int = 0  # records judged by the model one by one (the rest passed the column check)
    why: dict[str, int] = field(default_factory=dict)  # why they went: "<column path>: <type>" or "<field>: value"

    @property
    def decided(self) -> int:
        return self.decisions.height

    def reconciles(self) -> bool:
        return self.read == self.decided + len(self.rejects)


def validate(raw: Iterable[tuple[int, Any]]) -> tuple[int, list[dict[str, Any]], list[Reject]]:
    """Validate records one by one with the model (duplicates are checked by the caller).

    Valid rows carry the model's values (stripped, canonical) plus ``_line`` and ``decision_date``.
    """
    read = 0
    valid: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    for line, obj in raw:
        read += 1
        if isinstance(obj, BadLine):
            rejects.append(Reject(line, None, obj.field, obj.reason))
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
        row = rec.model_dump(mode="json", include=set(MAILER_SCHEMA))
        row["_line"] = line
        row["decision_date"] = rec.decision_date.isoformat() if rec.decision_date else None
        valid.append(row)
    return read, valid, rejects


# ------------------------------------------------------------------ the column-wise path
VALID_SCHEMA: dict[str, pl.DataType] = {**MAILER_SCHEMA, "_line": pl.Int64(), "decision_date": pl.String()}
"""A chunk's valid records: the decision inputs, the record's line (or row) and its decision date."""


@dataclass
class ChunkResult:
    read: int
    decisions: pl.DataFrame  # decide_frame columns + policy_version + _line, in line order
    rejects: list[Reject]  # in line order
    to_model: int = 0  # records the column check did not pass, judged by the model one by one
    why: dict[str, int] = field(default_factory=dict)  # records per reason (a record may have several)


_WHOLE_CHUNK = "(chunk): not decoded column-wise"


def decide_chunk(chunk: RawChunk, on: dt.date | None, duplicates: SeenIds | FirstValid) -> ChunkResult:
    """Validate and decide one chunk: the column check passes most records, the model judges the rest.

    A pure function of the chunk (and of ``duplicates``; :class:`FirstValid` is stateless), so it is
    the unit of parallel work too (:mod:`cdrflow.batch.distributed`).
    """
    n = len(chunk.lines)
    line_col = pl.Series("_line", chunk.lines, dtype=pl.Int64)
    if chunk.frame is not None:
        flags = lossless_flags(chunk.frame)
        passed = surely_valid() if not flags else (
            (surely_valid() & pl.all_horizontal(flags)).fill_null(False).alias("_surely_valid"))
        flagged = chunk.frame.lazy().with_columns(line_col, passed).collect()
        fast = flagged.filter(pl.col("_surely_valid")).select(list(VALID_SCHEMA))
        slow = flagged.select(pl.arg_where(~pl.col("_surely_valid"))).to_series().to_list()
        why = _why(flagged, flags) if slow else {}
    else:
        fast = pl.DataFrame(schema=VALID_SCHEMA)
        slow = list(range(n))
        why = {_WHOLE_CHUNK: n} if n else {}
    _, rows, rejects = validate(zip([chunk.lines[i] for i in slow], chunk.records(slow), strict=True))
    valid = pl.concat([fast, pl.DataFrame(rows, schema=VALID_SCHEMA)]).sort("_line") if rows else fast
    valid, dups = duplicates.split(valid)
    rejects.extend(dups)
    decisions = _decide(valid, rejects, on)
    rejects.sort(key=lambda r: r.line)
    return ChunkResult(n, decisions, rejects, len(slow), why)


def _why(flagged: pl.DataFrame, flags: list[str]) -> dict[str, int]:
    """Why the rows the column check did not pass went to the model: for each value that did not convert
    without loss, its ``column path: type``; for a row whose every value converted, each field whose
    check it fails (``field: value``)."""
    slow = flagged.filter(~pl.col("_surely_valid"))
    counts: dict[str, int] = {}
    if flags:
        row = slow.select([(~pl.col(f)).sum().alias(f[len(LOSSLESS):]) for f in flags]).row(0, named=True)
        counts.update({k: int(v) for k, v in row.items() if v})
        slow = slow.filter(pl.all_horizontal(flags))
    if slow.height:
        row = slow.select([(~c.fill_null(False)).sum().alias(f"{name}: value") for name, c in checks().items()]
                          ).row(0, named=True)
        counts.update({k: int(v) for k, v in row.items() if v})
    return counts


def _decide(valid: pl.DataFrame, rejects: list[Reject], on: dt.date | None) -> pl.DataFrame:
    """Decide valid rows grouped by the policy date (a record's own, else ``on``), in line order."""
    frames: list[pl.DataFrame] = []
    dates = valid["decision_date"]
    if valid.height == 0:
        groups: dict[Any, pl.DataFrame] = {}
    elif dates.null_count() == valid.height:  # the usual file: no record names its own date
        groups = {(None,): valid}
    else:
        groups = valid.partition_by("decision_date", as_dict=True, maintain_order=True)
    for (date_text,), rows in groups.items():
        when = dt.date.fromisoformat(date_text) if date_text else on
        try:
            version = json.dumps(policy_version(when), sort_keys=True)
        except NoValueInForce as exc:
            rejects.extend(Reject(line, mid, "decision_date", str(exc))
                           for line, mid in rows.select("_line", "mailer_id").iter_rows())
            continue
        decided = decide_frame(rows, when).collect()
        frames.append(decided.with_columns(rows["_line"], pl.lit(version).alias("policy_version")))
    if frames:
        decisions = pl.concat(frames)
        if len(frames) > 1:
            decisions = decisions.sort("_line")
    else:
        empty = pl.DataFrame(schema=MAILER_SCHEMA)
        decisions = decide_frame(empty, None).collect().with_columns(
            pl.Series("_line", [], dtype=pl.Int64), pl.lit("").alias("policy_version"))
    return decisions


def iter_decided(
    path: Path, on: dt.date | None = None, *, chunk_size: int = 200_000,
    progress: Callable[[int], None] | None = None,
) -> Iterator[ChunkResult]:
    """Decide a file chunk by chunk (bounded memory), in file order."""
    dups: SeenIds | FirstValid = parquet_duplicates(path) if path.suffix.lower() == ".parquet" else SeenIds()
    for chunk in read_chunks(path, chunk_size):
        result = decide_chunk(chunk, on, dups)
        if progress is not None:
            progress(result.read)
        yield result


def decide_file(
    path: Path, on: dt.date | None = None, progress: Callable[[int], None] | None = None
) -> BatchResult:
    """Decide a file in memory. A record's own ``decision_date`` chooses its policy; otherwise ``on``."""
    read = to_model = 0
    frames: list[pl.DataFrame] = []
    rejects: list[Reject] = []
    why: dict[str, int] = {}
    for r in iter_decided(path, on, progress=progress):
        read += r.read
        frames.append(r.decisions)
        rejects.extend(r.rejects)
        to_model += r.to_model
        add_why(why, r.why)
    decisions = pl.concat(frames) if frames else empty_decisions(on)
    return BatchResult(read, decisions.drop("_line").with_columns(alert_text_expr()), rejects, to_model, why)


@dataclass
class StreamSummary:
    read: int
    decided: int
    rejected: int
    counts: pl.DataFrame  # outcome, alert_type, alert_message, count
    to_model: int = 0  # records judged by the model one by one (the rest passed the column check)
    why: dict[str, int] = field(default_factory=dict)  # why they went (see ChunkResult)

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

    The output is identical to :func:`write_decisions` on :func:`decide_file` of the same input. Both
    files are written beside their targets under temporary names and renamed over them when the run
    ends (:class:`cdrflow.safeio.Staged`), owner-only; an output or reject path that is the input (or
    each other) is refused before anything is opened (:class:`cdrflow.safeio.SamePathError`).
    """
    suffix = output.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise ValueError(f"{output}: unknown output format {suffix or '(none)'!r}")
    rej_path = rejects_path or output.with_name(output.stem + ".rejects.jsonl")
    refuse_overwrite({"the input": path}, {"the output": output, "the reject file": rej_path})
    read = decided = rejected = to_model = 0
    why: dict[str, int] = {}
    counts: list[pl.DataFrame] = []
    writer: Any = None
    first = True
    from concurrent.futures import Future, ThreadPoolExecutor

    pending: Future[Any] | None = None
    with (Staged([output, rej_path]) as staged,
          staged.temp(rej_path).open("w", encoding="utf-8") as rej_fh, staged.temp(output).open("wb") as out_fh,
          ThreadPoolExecutor(max_workers=1, thread_name_prefix="cdrflow-write") as pool):
        for r in iter_decided(path, on, chunk_size=chunk_size, progress=progress):
            read, decided, rejected = read + r.read, decided + r.decisions.height, rejected + len(r.rejects)
            to_model += r.to_model
            add_why(why, r.why)
            for rej in r.rejects:
                rej_fh.write(json.dumps(rej.as_dict()) + "\n")
            counts.append(chunk_counts(r.decisions))
            if pending is not None:  # one chunk is written while the next is decided; order is kept
                writer = pending.result()
            pending = pool.submit(append_chunk, out_fh, suffix, flat_decisions(r.decisions), writer, first)
            first = False
        if pending is not None:
            writer = pending.result()
        if first:  # an empty input still gets a well-formed, empty output
            writer = append_chunk(out_fh, suffix, flat_decisions(empty_decisions(on)), writer, True)
        if writer is not None:
            writer.close()
    return StreamSummary(read, decided, rejected, total_counts(counts), to_model, why)


def empty_decisions(on: dt.date | None) -> pl.DataFrame:
    """No decisions, in the columns a decided chunk has (for an empty input's well-formed output)."""
    return _decide(pl.DataFrame(schema=VALID_SCHEMA), [], on)
