"""Reading a returned-mailer file, JSON Lines or Parquet: record by record (:func:`iter_raw`, the
reader intake uses) or chunk by chunk, column-wise where possible (:func:`read_chunks`).

A record that cannot be read is a :class:`BadLine` in its place, so it is rejected on its own (a
:class:`Reject`) and its neighbours are read; a file that cannot be read at all is an
:class:`UnreadableFile`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from cdrflow.engine.jsonlines import read_line

from .validate import DEFAULTS, FULL_SCHEMA, LOSSLESS, arrow_schema, conform, lossless_flags


@dataclass(frozen=True)
class Reject:
    """A record that is not decided: its line (or row), its ``mailer_id`` when one was read, the field and why."""

    line: int
    mailer_id: str | None
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "mailer_id": self.mailer_id, "field": self.field, "reason": self.reason}


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


# ------------------------------------------------------------------ the column-wise path
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
