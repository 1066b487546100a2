"""Deciding on Dask gives the single-process output: same rows, same rejects, same order.

A real local cluster of two worker processes decides a Parquet file of several row groups, with bad
records and duplicates whose records fall in different row groups; the output and the reject file
are compared with :func:`~cdrflow.batch.files.decide_stream` on the same input.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import distributed
import polars as pl
import pytest
from pydantic import ValidationError

from cdrflow.batch import distributed as cdr_dask
from cdrflow.batch.distributed import QUIET_SCHEDULER, decide_dask, partitions
from cdrflow.batch.files import StreamSummary, decide_stream
from cdrflow.batch.schema import MAILER_SCHEMA
from cdrflow.policy.mailer.record import ReturnedMailer
from cdrflow.policy.mailer.source import what_if
from cdrflow.simulate.mailers import generate

RECORDS = 3_000
ROW_GROUP = 500  # six row groups
WHAT_IF = {"earnings_threshold_q1b": 100}  # $100 a month: far more earners become actionable


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  scheduler_kwargs=QUIET_SCHEDULER) as cluster, distributed.Client(cluster) as c:
        yield c


def _valid(rec: dict[str, Any]) -> bool:
    try:
        ReturnedMailer.model_validate(rec)
    except ValidationError:
        return False
    return True


@pytest.fixture(scope="module")
def mailers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Simulated mailers, 5% broken, plus two duplicated ids across row groups (lines are 1-based rows):

    * the id of a valid record in row group 0 again in row group 5;
    * the id of an *invalid* record in row group 0 on valid records in row groups 2 and 5: the first
      valid one (row group 2) is decided, the later one is the duplicate.
    """
    recs = list(generate(RECORDS, seed=7, bad_share=0.05))
    valid_first = next(i for i in range(ROW_GROUP) if _valid(recs[i]))
    invalid_first = next(i for i in range(ROW_GROUP) if not _valid(recs[i]))
    second, third, plain = (next(i for i in range(start, RECORDS) if _valid(recs[i]))
                            for start in (1_200, 2_600, 2_900))
    recs[plain]["mailer_id"] = recs[valid_first]["mailer_id"]
    recs[second]["mailer_id"] = recs[third]["mailer_id"] = recs[invalid_first]["mailer_id"]
    path = tmp_path_factory.mktemp("dask") / "mailers.parquet"
    pl.DataFrame(recs, schema=MAILER_SCHEMA).write_parquet(path, row_group_size=ROW_GROUP)
    expected = {plain + 1: valid_first + 1, third + 1: second + 1}  # duplicate line -> line of the decided one
    path.with_suffix(".dups.json").write_text(json.dumps(expected))
    return path


def _same(a: StreamSummary, b: StreamSummary) -> None:
    assert (a.read, a.decided, a.rejected) == (b.read, b.decided, b.rejected)
    assert a.reconciles() and b.reconciles()
    keys = ["outcome", "alert_type", "alert_message"]
    assert a.counts.sort(keys, nulls_last=False).equals(b.counts.sort(keys, nulls_last=False))


def test_csv_output_and_rejects_are_byte_identical(client: distributed.Client, mailers: Path, tmp_path: Path) -> None:
    assert len(partitions(mailers)) == RECORDS // ROW_GROUP
    seen: list[int] = []
    got = decide_dask(mailers, tmp_path / "dask.csv", client=client, progress=seen.append)
    want = decide_stream(mailers, tmp_path / "one.csv")
    _same(got, want)
    assert got.read == RECORDS and sum(seen) == RECORDS and len(seen) == RECORDS // ROW_GROUP
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    rejects = (tmp_path / "dask.rejects.jsonl").read_bytes()
    assert rejects == (tmp_path / "one.rejects.jsonl").read_bytes()
    # the bad records and both cross-row-group duplicates are there, with the line of the record kept
    rows = [json.loads(line) for line in rejects.decode().splitlines()]
    assert len(rows) == got.rejected > 2
    dups = {r["line"]: r["reason"] for r in rows if r["reason"].startswith("duplicate")}
    expected = json.loads(mailers.with_suffix(".dups.json").read_text())
    assert dups == {int(line): f"duplicate of the record on line {first}" for line, first in expected.items()}


def test_parquet_and_jsonl_outputs_are_equal(client: distributed.Client, mailers: Path, tmp_path: Path) -> None:
    got = decide_dask(mailers, tmp_path / "dask.parquet", tmp_path / "r" / "dask-rejects.jsonl", client=client,
                      row_groups_per_task=4)  # two tasks: 4 row groups and 2
    want = decide_stream(mailers, tmp_path / "one.parquet")
    _same(got, want)
    assert pl.read_parquet(tmp_path / "dask.parquet").equals(pl.read_parquet(tmp_path / "one.parquet"))
    assert (tmp_path / "r" / "dask-rejects.jsonl").read_bytes() == (tmp_path / "one.rejects.jsonl").read_bytes()
    decide_dask(mailers, tmp_path / "dask.jsonl", client=client)
    decide_stream(mailers, tmp_path / "one.jsonl")
    assert (tmp_path / "dask.jsonl").read_bytes() == (tmp_path / "one.jsonl").read_bytes()


def test_what_if_reaches_the_workers(client: distributed.Client, mailers: Path, tmp_path: Path) -> None:
    got = decide_dask(mailers, tmp_path / "dask.csv", client=client, overrides=WHAT_IF)
    with what_if(WHAT_IF):
        want = decide_stream(mailers, tmp_path / "one.csv")
    _same(got, want)
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    decide_stream(mailers, tmp_path / "base.csv")
    base, variant = pl.read_csv(tmp_path / "base.csv"), pl.read_csv(tmp_path / "dask.csv")
    assert (base["outcome"] != variant["outcome"]).sum() >= 1
    assert variant["policy_version"].str.contains("what-if:100").all()
    assert not base["policy_version"].str.contains("what-if").any()
    # a what-if entered only in the driver would silently not reach the workers: refused
    with what_if(WHAT_IF), pytest.raises(ValueError, match="overrides="):
        decide_dask(mailers, tmp_path / "x.csv", client=client)


def test_scheduler_address_and_local_cluster(client: distributed.Client, mailers: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    want = decide_stream(mailers, tmp_path / "one.csv")
    _same(decide_dask(mailers, tmp_path / "addr.csv", address=client.scheduler.address), want)
    assert (tmp_path / "addr.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    monkeypatch.setattr(cdr_dask, "local_workers", lambda: 1)  # keep the call's own cluster small
    _same(decide_dask(mailers, tmp_path / "local.csv", address="local", row_groups_per_task=3), want)
    assert (tmp_path / "local.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()


def test_empty_file(client: distributed.Client, tmp_path: Path) -> None:
    src = tmp_path / "empty.parquet"
    pl.DataFrame(schema=MAILER_SCHEMA).write_parquet(src)
    got = decide_dask(src, tmp_path / "dask.csv", client=client)
    want = decide_stream(src, tmp_path / "one.csv")
    _same(got, want)
    assert got.read == 0
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    assert (tmp_path / "dask.rejects.jsonl").read_bytes() == b""


def test_workers_must_run_the_drivers_cdrflow(client: distributed.Client, mailers: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cdr_dask, "__version__", "0.0.0-driver")
    with pytest.raises(RuntimeError, match="install the same cdrflow on the workers"):
        decide_dask(mailers, tmp_path / "out.csv", client=client)


def test_refusals(mailers: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("{}\n")
    with pytest.raises(ValueError, match=r"in\.jsonl.*Parquet only"):
        decide_dask(src, tmp_path / "out.csv")
    with pytest.raises(ValueError, match="unknown output format"):
        decide_dask(mailers, tmp_path / "out.xlsx")
    with pytest.raises(ValueError, match="row_groups_per_task"):
        partitions(mailers, 0)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the extra were not installed
    with pytest.raises(ImportError, match=r"pip install 'cdrflow\[dask\]'"):
        decide_dask(mailers, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()
