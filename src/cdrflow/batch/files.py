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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import ValidationError

from cdrflow.engine.calc import validation_to_input_error
from cdrflow.engine.errors import NoValueInForce
from cdrflow.engine.jsonlines import read_line
from cdrflow.policy.mailer.record import ReturnedMailer
from cdrflow.safeio import Staged, atomic, refuse_overwrite

from .decide import alert_text_expr, decide_frame, policy_version
from .schema import MAILER_SCHEMA
from .validate import DEFAULTS, FULL_SCHEMA, LOSSLESS, arrow_schema, checks, conform, lossless_flags, surely_valid


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
    to_model: int = 0  # records judged by the model one by one (the rest passed the column check)
    why: dict[str, int] = field(default_factory=dict)  # why they went: "<column path>: <type>" or "<field>: value"

    @property
    def decided(self) -> int:
        return self.decisions.height

    def reconciles(self) -> bool:
        return self.read == self.decided + len(self.rejects)


class BadLine(ValueError):
    """A record that cannot be read as one JSON value (or Parquet rows that cannot be decoded): ``reason``
    says why and where, ``field`` is ``(line)`` (or ``(row group)``). Readers hand it on in place of the
    record, so the record is rejected on its own and its neighbours are read."""

    def __init__(self, reason: str, field: str = "(line)") -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


def parse_line(data: bytes | str) -> Any:
    """One line of a JSON Lines file as a value, or a :class:`BadLine` saying why not; never raises.

    Invalid UTF-8, bad JSON, a whole number of more than 4,300 digits (Python's limit) and nesting
    deeper than the JSON reader's recursion limit are each the line's own reject
    (:func:`cdrflow.engine.jsonlines.read_line`).
    """
    value, problem = read_line(data)
    return BadLine(problem) if problem is not None else value


class UnreadableFile(ValueError):
    """The file itself cannot be read (not Parquet, no footer, not a file): one line naming it and the place."""


def iter_raw(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed object or a :class:`BadLine`) for each non-blank record of the file.

    The per-record reader (intake uses it); :func:`read_chunks` is the column-wise one. A JSON
    Lines file is read as bytes, line by line, so a bad line is that line's reject. A Parquet file is
    read row group by row group; a row group that cannot be decoded gives a :class:`BadLine` for
    each of its rows (from the footer's row count) and the next row group is read. A file whose
    footer cannot be read raises :class:`UnreadableFile` before any record.
    """
    if path.suffix.lower() == ".parquet":
        yield from _parquet_rows(path)
        return
    with path.open("rb") as fh:
        for i, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            yield i, parse_line(line.rstrip(b"\r\n"))


def open_parquet(path: Path) -> Any:
    """The ``pyarrow.parquet.ParquetFile`` of ``path``, or :class:`UnreadableFile` naming what is wrong."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise UnreadableFile(f"{path}: not a readable Parquet file (its footer: {_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    """The first line of an error's message, its unprintable characters escaped (a reader's message may quote
    the bytes it choked on)."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}"
                   for ch in first)


def _row_or_bad(batch: Any, i: int) -> Any:
    import pyarrow as pa

    try:
        return batch.slice(i, 1).to_pylist()[0]
    except (pa.ArrowException, ValueError, OverflowError) as exc:
        return BadLine(f"the row holds a value that cannot be read: {_first_line(exc)}", "(row)")


def _parquet_rows(path: Path) -> Iterator[tuple[int, Any]]:
    import pyarrow as pa

    pf = open_parquet(path)
    meta = pf.metadata
    start = 0
    for g in range(meta.num_row_groups):
        rows = meta.row_group(g).num_rows
        done = 0
        try:
            for batch in pf.iter_batches(batch_size=65_536, row_groups=[g]):  # streamed: bounded memory
                try:
                    values = batch.to_pylist()
                except (pa.ArrowException, ValueError, OverflowError):  # one value Python cannot hold: row by row
                    values = [_row_or_bad(batch, i) for i in range(batch.num_rows)]
                for row in values:
                    done += 1
                    yield start + done, row
        except (pa.ArrowException, OSError, ValueError, OverflowError) as exc:
            bad = BadLine(f"row group {g + 1} (rows {start + 1}-{start + rows}) of {path.name} cannot be "
                          f"read: {_first_line(exc)}", "(row group)")
            for i in range(done, rows):
                yield start + i + 1, bad
        start += rows


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
class RawChunk:
    """Consecutive records of one input file, decoded column-wise where possible.

    ``frame`` is the chunk in :data:`~cdrflow.batch.validate.FULL_SCHEMA` followed by its ``_lossless:``
    flags (:func:`~cdrflow.batch.validate.conform`; None sends every record to the model);
    ``records(positions)`` gives the original records at those positions (a dict, or the parse error of
    the line) for the model to judge.
    """

    lines: list[int]
    frame: pl.DataFrame | None
    records: Callable[[list[int]], list[Any]]


@dataclass
class ChunkResult:
    read: int
    decisions: pl.DataFrame  # decide_frame columns + policy_version + _line, in line order
    rejects: list[Reject]  # in line order
    to_model: int = 0  # records the column check did not pass, judged by the model one by one
    why: dict[str, int] = field(default_factory=dict)  # records per reason (a record may have several)


def arrow_chunk(data: Any, first_line: int) -> RawChunk:
    """A RecordBatch or Table (or Polars frame) of a file's rows as a RawChunk; ``first_line`` is the
    first row's number (1-based)."""
    frame = data if isinstance(data, pl.DataFrame) else pl.from_arrow(data)
    assert isinstance(frame, pl.DataFrame)
    lines = list(range(first_line, first_line + frame.height))

    def records(pos: list[int]) -> list[Any]:
        return frame[pos].to_dicts() if pos else []  # only the file's columns: absent means default

    return RawChunk(lines, conform(frame), records)


def parquet_chunks(path: Path, size: int) -> Iterator[RawChunk]:
    """The file streamed by Polars in batches of about ``size`` rows; a record's "line" is its 1-based
    row number."""
    start = 0
    for frame in pl.scan_parquet(path).collect_batches(chunk_size=size):
        yield arrow_chunk(frame, start + 1)
        start += frame.height


def jsonl_chunks(path: Path, size: int) -> Iterator[RawChunk]:
    """Non-blank lines in chunks of ``size``, parsed by Arrow's JSON reader with the model's exact
    types and no unknown keys; a chunk Arrow refuses (one bad line spoils it) goes record by record."""
    import io

    import pyarrow as pa
    import pyarrow.json as pj

    opts = pj.ParseOptions(explicit_schema=arrow_schema(), unexpected_field_behavior="error")
    lines: list[int] = []
    texts: list[bytes] = []

    def decode(part: list[bytes]) -> pl.DataFrame | None:
        data = b"\n".join(part)
        try:
            table = pj.read_json(io.BytesIO(data), parse_options=opts,
                                 read_options=pj.ReadOptions(block_size=8 << 20))  # blocks parse in parallel
        except pa.ArrowException:  # any refusal: the lines go to the model, which says why
            return None
        if table.num_rows != len(part):  # one object per line, never two
            return None
        decoded = pl.from_arrow(table)
        assert isinstance(decoded, pl.DataFrame)
        frame = conform(decoded)
        assert not lossless_flags(frame), "Arrow's JSON reader gives the model's exact types"
        return _absent_means_default(frame, pl.Series(part, dtype=pl.Binary)).with_columns(
            pl.lit(True).alias(_UNREAD))

    def decode_all(part: list[bytes]) -> pl.DataFrame:
        """Arrow refuses a whole text for one bad line, so a refused part is halved until the bad
        lines stand alone; their rows are left null, which sends them to the model."""
        frame = decode(part)
        if frame is not None:
            return frame
        if len(part) <= _MIN_PART:
            return pl.DataFrame({n: pl.Series(n, [None] * len(part), dtype=t) for n, t in FULL_SCHEMA.items()}
                                ).with_columns(pl.lit(False).alias(_UNREAD))
        half = len(part) // 2
        return pl.concat([decode_all(part[:half]), decode_all(part[half:])])

    def flush() -> RawChunk:
        chunk_texts = list(texts)

        def records(pos: list[int]) -> list[Any]:
            out: list[Any] = []
            for i in pos:
                out.append(parse_line(chunk_texts[i]))
            return out

        return RawChunk(list(lines), decode_all(chunk_texts), records)

    with path.open("rb") as fh:
        for i, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            lines.append(i)
            texts.append(line.rstrip(b"\r\n"))
            if len(lines) >= size:
                yield flush()
                lines.clear()
                texts.clear()
    if lines:
        yield flush()


def _absent_means_default(frame: pl.DataFrame, raw: pl.Series) -> pl.DataFrame:
    """Arrow reads a missing key and ``null`` alike; the model does not for a field with a default.

    A null in such a field becomes the default only when the line surely lacks the key: its quoted
    name does not occur and the line has no ``\\u`` escape that could spell it. Otherwise the null
    stays and the record goes to the model, which sees the line as written.
    """
    no_escape = ~raw.bin.contains(b"\\u")
    fills = []
    for name, default in DEFAULTS.items():
        absent = no_escape & ~raw.bin.contains(f'"{name}"'.encode())
        fills.append(pl.when(pl.col(name).is_null() & absent).then(pl.lit(default, dtype=FULL_SCHEMA[name]))
                     .otherwise(pl.col(name)).alias(name))
    return frame.with_columns(fills)


_MIN_PART = 4
"""Lines at or below which a part Arrow refuses is not halved again but judged by the model."""

_UNREAD = LOSSLESS + "(line): not read by Arrow's JSON reader with the model's types"
"""The flag of JSON lines Arrow refused (with their part of up to :data:`_MIN_PART` lines): the model reads them."""

_WHOLE_CHUNK = "(chunk): not decoded column-wise"


def read_chunks(path: Path, size: int) -> Iterator[RawChunk]:
    """The file's chunks, read one ahead in a thread while the current one is decided."""
    chunks = parquet_chunks(path, size) if path.suffix.lower() == ".parquet" else jsonl_chunks(path, size)
    return prefetch(chunks)


def prefetch(items: Iterator[Any], depth: int = 1) -> Iterator[Any]:
    """Run ``items`` in a background thread, ``depth`` items ahead (Polars and Arrow release the GIL
    while they read, so reading overlaps deciding). An error in the thread is raised here, in order."""
    import queue
    import threading

    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def run() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("done", None))
        except BaseException as exc:  # handed to the consumer, raised there
            q.put(("error", exc))

    thread = threading.Thread(target=run, name="cdrflow-read", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()


class SeenIds:
    """Exact duplicate check that remembers every id (any input; memory grows with the file)."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def split(self, valid: pl.DataFrame) -> tuple[pl.DataFrame, list[Reject]]:
        return _split(valid, self.seen, None)


class FirstValid:
    """Exact duplicate check from a pre-pass: for each id the file holds more than once, the line of
    its first valid record. Stateless, so chunks can be decided in any order or in parallel."""

    def __init__(self, first: dict[str, int]) -> None:
        self.first = first

    def split(self, valid: pl.DataFrame) -> tuple[pl.DataFrame, list[Reject]]:
        return _split(valid, None, self.first)


def _split(valid: pl.DataFrame, seen: dict[str, int] | None, first: dict[str, int] | None
           ) -> tuple[pl.DataFrame, list[Reject]]:
    ids = valid["mailer_id"]
    lines = valid["_line"]
    if first is not None:
        if not first:
            return valid, []
        mask = ids.is_in(list(first))
        ids, lines = ids.filter(mask), lines.filter(mask)
    dup_lines: list[int] = []
    rejects: list[Reject] = []
    for mid, line in zip(ids.to_list(), lines.to_list(), strict=True):
        if first is not None:
            if first[mid] != line:
                dup_lines.append(line)
                rejects.append(Reject(line, mid, "mailer_id", f"duplicate of the record on line {first[mid]}"))
        elif seen is not None:
            if mid in seen:
                dup_lines.append(line)
                rejects.append(Reject(line, mid, "mailer_id", f"duplicate of the record on line {seen[mid]}"))
            else:
                seen[mid] = line
    if dup_lines:
        valid = valid.filter(~pl.col("_line").is_in(dup_lines))
    return valid, rejects


_ID_EDGE = r"^[\s\x1c-\x1f]+|[\s\x1c-\x1f]+$"


def parquet_duplicates(path: Path) -> FirstValid:
    """The duplicate check of a Parquet file, from its ``mailer_id`` column alone.

    Ids are compared with every character the model could strip removed from both ends (a superset
    of what it strips, so no true duplicate is missed); only the records of ids seen more than once
    are read again and judged by the model, to find each id's first valid record.
    """
    scan = pl.scan_parquet(path)
    kind = scan.collect_schema().get("mailer_id")
    if kind is None or not (kind == pl.String or isinstance(kind, (pl.Categorical, pl.Enum))):
        return FirstValid({})  # no record has a valid id: all are rejected anyway
    raw = pl.col("mailer_id").cast(pl.String)  # a dictionary-encoded id is the same text
    # the key strips only ids that have something to strip (few); a 64-bit hash of it finds the
    # repeats cheaply, and a collision only adds a candidate, which the exact step below clears
    key = pl.when(raw.str.contains(_ID_EDGE)).then(raw.str.replace_all(_ID_EDGE, "")).otherwise(raw)
    hashed = key.hash(seed=455)
    hashes = scan.select(hashed.alias("h")).collect()["h"]
    if hashes.n_unique() == hashes.len():  # the usual file: every id once
        return FirstValid({})
    ordered = hashes.sort()
    repeated = ordered.filter(ordered == ordered.shift(1)).unique()
    rows = (scan.with_row_index("_line", offset=1).filter(hashed.is_in(repeated.implode()))
            .collect(engine="streaming"))
    first: dict[str, int] = {}
    lines = rows["_line"].to_list()
    for line, rec in zip(lines, rows.drop("_line").to_dicts(), strict=True):
        try:
            mid = ReturnedMailer.model_validate(rec).mailer_id
        except ValidationError:
            continue
        first.setdefault(mid, line)
    return FirstValid(first)


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
    decisions = pl.concat(frames) if frames else _empty_decisions(on)
    return BatchResult(read, decisions.drop("_line").with_columns(alert_text_expr()), rejects, to_model, why)


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
    flat = _flat(result.decisions)
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
            pending = pool.submit(_append, out_fh, suffix, _flat(r.decisions), writer, first)
            first = False
        if pending is not None:
            writer = pending.result()
        if first:  # an empty input still gets a well-formed, empty output
            writer = _append(out_fh, suffix, _flat(_empty_decisions(on)), writer, True)
        if writer is not None:
            writer.close()
    return StreamSummary(read, decided, rejected, total_counts(counts), to_model, why)


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


def _empty_decisions(on: dt.date | None) -> pl.DataFrame:
    return _decide(pl.DataFrame(schema=VALID_SCHEMA), [], on)


def _flat(decisions: pl.DataFrame) -> pl.DataFrame:
    return decisions.select(FLAT_COLUMNS)


def _append(out_fh: Any, suffix: str, flat: pl.DataFrame, writer: Any, first: bool) -> Any:
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


def count_records(path: Path) -> int | None:
    """Records in a returned-mailer file (Parquet rows from the footer, or non-blank JSON lines), for
    progress bars; None when the file cannot be read (the reader then says why)."""
    try:
        if path.suffix.lower() == ".parquet":
            return int(open_parquet(path).metadata.num_rows)
        with path.open("rb") as fh:
            return sum(1 for line in fh if line.strip())
    except (UnreadableFile, OSError):
        return None


def outcome_table(decisions: pl.DataFrame) -> pl.DataFrame:
    """Counts and percentages by outcome and alert, for people to read."""
    total = max(decisions.height, 1)
    return (
        chunk_counts(decisions)
        .with_columns((pl.col("count") * 100.0 / total).round(2).alias("percent"))
        .sort(list(COUNT_KEYS), nulls_last=False)
    )
