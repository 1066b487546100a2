"""Decide a Parquet file on a Dask cluster, partition by partition (``pip install 'cdrflow[dask]'``).

The decision step (:func:`~cdrflow.batch.files.decide_chunk`) is a pure function of a record batch
and of the file's duplicate check (:func:`~cdrflow.batch.duplicates.parquet_duplicates`, computed once by
the driver and shared with every task), so each partition (one or more Parquet row groups) is decided
on a worker independently. The driver gathers the partitions and writes them in file order, so the
output and the reject file are the ones :func:`~cdrflow.batch.files.decide_stream` writes for the same
input: byte for byte for CSV and JSON Lines, equal in content for Parquet.

Workers read the input themselves: ``path`` must name the same file on the driver and on every
worker (a shared filesystem, or an object store mounted at the same path). The output and the reject
file are written by the driver only. See ``docs/dask.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from cdrflow import __version__
from cdrflow.policy.mailer import source
from cdrflow.safeio import Staged, refuse_overwrite

from .duplicates import FirstValid, parquet_duplicates
from .files import StreamSummary, decide_chunk, empty_decisions
from .reading import RawChunk, arrow_chunk
from .writing import OUTPUT_FORMATS, add_why, append_chunk, chunk_counts, flat_decisions, total_counts

if TYPE_CHECKING:
    import distributed

INSTALL_HINT = "Deciding on Dask needs the dask extra: pip install 'cdrflow[dask]'"
LOCAL = "local"
"""The ``address`` that means "start a local cluster for this call" (as when no address is given)."""

QUIET_SCHEDULER: dict[str, Any] = {"dashboard_address": "127.0.0.1:0"}
"""A local cluster's scheduler: no dashboard, and its HTTP endpoints on a free local port, not 8787."""

@dataclass(frozen=True)
class Partition:
    """Row groups ``groups`` of the input, whose first record is row ``first_line`` (1-based)."""

    index: int
    groups: list[int]
    first_line: int
    rows: int


@dataclass
class PartResult:
    """What a task sends back: the flat decisions, the rejects (as dicts) and the outcome counts."""

    index: int
    read: int
    flat: pl.DataFrame  # the FLAT_COLUMNS of the output, in line order
    rejects: list[dict[str, Any]]  # Reject.as_dict(), in line order
    counts: pl.DataFrame  # outcome, alert_type, alert_message, count
    version: str = __version__  # the worker's cdrflow: it must be the driver's
    to_model: int = 0  # records judged by the model one by one (ChunkResult.to_model)
    why: dict[str, int] = field(default_factory=dict)  # and why (ChunkResult.why)

    @property
    def decided(self) -> int:
        return self.flat.height


def partitions(path: Path, row_groups_per_task: int = 1) -> list[Partition]:
    """The tasks for ``path``: consecutive row groups, ``row_groups_per_task`` at a time (empty ones left out)."""
    import pyarrow.parquet as pq

    if row_groups_per_task < 1:
        raise ValueError(f"row_groups_per_task must be at least 1, not {row_groups_per_task}")
    meta = pq.ParquetFile(path).metadata
    parts: list[Partition] = []
    start = 0
    for first in range(0, meta.num_row_groups, row_groups_per_task):
        groups = list(range(first, min(first + row_groups_per_task, meta.num_row_groups)))
        rows = sum(meta.row_group(g).num_rows for g in groups)
        if rows:
            parts.append(Partition(len(parts), groups, start + 1, rows))
        start += rows
    return parts


def row_group_chunk(path: str | Path, part: Partition) -> RawChunk:
    """The partition's records as a :class:`~cdrflow.batch.reading.RawChunk`, built as ``parquet_chunks`` does."""
    import pyarrow.parquet as pq

    table = pq.ParquetFile(path).read_row_groups(part.groups)
    if table.num_rows != part.rows:
        raise ValueError(f"{path}: row groups {part.groups} hold {table.num_rows} rows, the footer says {part.rows}"
                         " (was the file replaced while it was being decided?)")
    return arrow_chunk(table, part.first_line)


def decide_partition(path: str, part: Partition, on: dt.date | None, duplicates: FirstValid,
                     overrides: dict[str, Any] | None = None) -> PartResult:
    """The task run on a worker: read the partition's row groups, validate and decide them.

    ``overrides`` are entered here with :func:`~cdrflow.policy.mailer.source.what_if`: a what-if
    active in the driver's process does not reach the workers.
    """
    with _what_if(overrides):
        result = decide_chunk(row_group_chunk(path, part), on, duplicates)
    return PartResult(
        index=part.index,
        read=result.read,
        flat=flat_decisions(result.decisions),
        rejects=[r.as_dict() for r in result.rejects],
        counts=chunk_counts(result.decisions),
        version=__version__,
        to_model=result.to_model,
        why=result.why,
    )


def decide_dask(
    path: Path,
    output: Path,
    rejects_path: Path | None = None,
    on: dt.date | None = None,
    *,
    client: distributed.Client | None = None,
    address: str | None = None,
    row_groups_per_task: int = 1,
    overrides: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> StreamSummary:
    """Decide the Parquet file ``path`` on a Dask cluster; the result is :func:`decide_stream`'s.

    The cluster is ``client`` if given; else the scheduler at ``address`` (``tcp://host:8786``); else
    (or with ``address="local"``) a local cluster of one single-threaded worker process per CPU,
    started for this call and closed after it. Each task decides ``row_groups_per_task`` row groups.
    The driver writes ``output`` (format by suffix: .parquet, .csv, .jsonl, .ndjson) and the reject
    file (default: beside the output, ``NAME.rejects.jsonl``) in file order as the partitions arrive,
    holding at most a few partitions per worker thread at a time. ``overrides`` is a what-if
    (:func:`~cdrflow.policy.mailer.source.what_if`), applied on the driver and in every task.
    ``progress`` is called with the number of records of each partition as it is decided.
    """
    if path.suffix.lower() != ".parquet":
        raise ValueError(f"{path}: deciding on Dask reads Parquet only (row groups are the partitions); "
                         "convert the file to Parquet or decide it without Dask")
    suffix = output.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise ValueError(
            f"{output}: unknown output format {suffix or '(none)'!r}; use one of {', '.join(OUTPUT_FORMATS)}"
        )
    if not overrides and source._what_if.get() is not None:
        raise ValueError("a what-if is active in this process but would not reach the Dask workers: "
                         "pass its parameters as overrides=")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    dist = _import_distributed()
    src = path.resolve()  # the workers' working directory is not ours
    rej_path = rejects_path or output.with_name(output.stem + ".rejects.jsonl")
    refuse_overwrite({"the input": path}, {"the output": output, "the reject file": rej_path})
    with _what_if(overrides), ExitStack() as stack:
        parts = partitions(src, row_groups_per_task)
        duplicates = parquet_duplicates(src)
        if client is None:  # before the output is opened: a wrong address leaves earlier files alone
            client = stack.enter_context(_connect(dist, address))
        staged = stack.enter_context(Staged([output, rej_path]))  # renamed over the targets at the end
        rej_fh = stack.enter_context(staged.temp(rej_path).open("w", encoding="utf-8"))
        out_fh = stack.enter_context(staged.temp(output).open("wb"))
        results = stack.enter_context(closing(_in_order(dist, client, src, parts, on, duplicates, overrides,
                                                        progress)))  # closed (tasks cancelled) before the client
        read = decided = rejected = to_model = 0
        why: dict[str, int] = {}
        counts: list[pl.DataFrame] = []
        writer: Any = None
        first = True
        for res in results:
            if res.version != __version__:
                raise RuntimeError(f"a Dask worker runs cdrflow {res.version}, this process {__version__}: "
                                   "install the same cdrflow on the workers as on the driver")
            read, decided, rejected = read + res.read, decided + res.decided, rejected + len(res.rejects)
            to_model += res.to_model
            add_why(why, res.why)
            for rej in res.rejects:
                rej_fh.write(json.dumps(rej) + "\n")
            counts.append(res.counts)
            writer = append_chunk(out_fh, suffix, res.flat, writer, first)
            first = False
        if first:  # an empty input still gets a well-formed, empty output
            writer = append_chunk(out_fh, suffix, flat_decisions(empty_decisions(on)), writer, True)
        if writer is not None:
            writer.close()
    return StreamSummary(read, decided, rejected, total_counts(counts), to_model, why)


def _in_order(
    dist: Any, client: Any, path: Path, parts: list[Partition], on: dt.date | None, duplicates: FirstValid,
    overrides: dict[str, Any] | None, progress: Callable[[int], None] | None,
) -> Generator[PartResult, None, None]:
    """The partitions' results in file order, as soon as each one and all before it are decided.

    At most ``window`` tasks are submitted and not yet written, so the driver holds a bounded number
    of results however far the workers run ahead of the slowest partition.
    """
    if not parts:
        return
    window = max(4, 2 * sum(client.nthreads().values()))
    run = uuid.uuid4().hex[:12]
    dups = client.scatter(duplicates, broadcast=True, hash=False)
    pending = iter(parts)
    submitted: list[Any] = []

    def submit() -> Any:
        part = next(pending, None)
        if part is None:
            return None
        fut = client.submit(decide_partition, str(path), part, on, dups, overrides,
                            key=f"cdrflow-decide-{run}-{part.index}", pure=False)
        submitted.append(fut)
        return fut

    done: dict[int, PartResult] = {}
    nxt = 0
    try:
        ac = dist.as_completed([f for f in (submit() for _ in range(window)) if f is not None], with_results=True)
        for _fut, res in ac:
            if progress is not None:
                progress(res.read)
            done[res.index] = res
            while nxt in done:
                yield done.pop(nxt)
                nxt += 1
                fut = submit()
                if fut is not None:
                    ac.add(fut)
    finally:
        client.cancel([f for f in submitted if not f.done()])
        client.cancel([dups])
    if nxt != len(parts):  # as_completed raises a task's error; this would be a lost task
        raise RuntimeError(f"{path}: {len(parts) - nxt} of {len(parts)} partitions never came back")


def _import_distributed() -> Any:
    """``distributed``, or an ImportError that says how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return distributed


def local_workers() -> int:
    """The worker processes of a local cluster: the CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def _connect(dist: Any, address: str | None) -> Iterator[Any]:
    """A client of the scheduler at ``address``, or of a local cluster started (and closed) here."""
    if address and address != LOCAL:
        with dist.Client(address) as client:
            yield client
        return
    with dist.LocalCluster(n_workers=local_workers(), threads_per_worker=1, processes=True, dashboard_address=None,
                           scheduler_kwargs=QUIET_SCHEDULER) as cluster, dist.Client(cluster) as client:
        yield client


@contextmanager
def _what_if(overrides: dict[str, Any] | None) -> Iterator[None]:
    if overrides:
        with source.what_if(overrides):
            yield
    else:
        yield
