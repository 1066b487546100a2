"""Intake runs (issue 12, items 5 and 8): one action per mailer, a file once per receipt date, one run per
file at a time, unfinished runs listed and closed by a rerun, and a record the DCF refuses costing only
itself. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from cdrflow.dcf.schema import events, ingest_runs
from cdrflow.dcf.store import Store, StoreError, Tx
from cdrflow.safeio import file_sha256
from cdrflow.workflow import common as c
from cdrflow.workflow import runs
from cdrflow.workflow.cycle import run_cycle
from cdrflow.workflow.intake import ingest

from ..dbfixtures import (
    case_id_for,
    case_row,
    event_types,
    make_beneficiary,
    returned_mailer,
    seed_beneficiaries,
    store,
    store_url,
    token_for,
    write_jsonl,
)
from .hostile import one_error_line, read_rejects, run

__all__ = ["store"]

SENT_ON = dt.date(2026, 1, 5)


def _op(store: Store) -> str:
    """An operator's token: intake is run by operations staff (authz ``mailer.ingest.run``)."""
    return token_for(store, "op1", "OPERATOR")
RECEIVED = dt.date(2026, 3, 10)


def _sent(store: Store, n: int, base: int) -> list[tuple[str, str]]:
    bens = [make_beneficiary(f"{base + i:09d}") for i in range(n)]
    seed_beneficiaries(store, bens)
    run_cycle(store, SENT_ON)
    return [(case_id_for(store, SENT_ON, b["ssn"]), b["ssn"]) for b in bens]


def _count(store: Store, table: Any) -> int:
    with store.read() as tx:
        return int(tx.conn.execute(select(func.count()).select_from(table)).scalar_one())


# ---- duplicate mailer ids (interpretations §39) ----------------------------------------------------

def test_the_first_valid_record_of_a_mailer_wins(store: Store, tmp_path: Path) -> None:
    (a, sa), (b, sb) = _sent(store, 2, 323_480_001)
    lines = [
        returned_mailer(a, sa, q4_health="MAYBE"),  # 1 invalid: does not hold the mailer
        returned_mailer(a, sa, q1a_worked="YES"),   # 2 the first valid record of A: a PC review
        returned_mailer(a, sa),                     # 3 another record of A (a deferral): a duplicate
        returned_mailer(b, sb),                     # 4 B
        returned_mailer(b, sb),                     # 5 the same record again: a duplicate, not "already ingested"
        returned_mailer(b, sb, signed=False),       # 6 B once more, in another chunk
    ]
    f = write_jsonl(tmp_path / "r.jsonl", lines)
    res = ingest(store, f, RECEIVED, chunk_size=2)
    assert res.reconciles() and res.read == 6 and res.processed == 2 and res.rejected == 4
    got = {r.line: (r.field, r.reason) for r in res.rejects}
    assert got[1][0] == "q4_health"
    assert got[3] == ("mailer_id", "duplicate of the record on line 2")
    assert got[5] == ("mailer_id", "duplicate of the record on line 4")
    assert got[6] == ("mailer_id", "duplicate of the record on line 4")
    assert case_row(store, a)["state"] == c.PC_REVIEW and case_row(store, b)["state"] == c.DEFERRED
    assert event_types(store, a).count("T2 MAILER RECEIVED") == 1 and "T2 DEFER CDR" not in event_types(store, a)
    assert event_types(store, b).count("T2 DEFER CDR") == 1
    n_events = _count(store, events)

    again = ingest(store, f, RECEIVED, chunk_size=4)  # a rerun: the same verdicts, nothing new
    assert again.reconciles() and again.skipped == 2 and again.processed == 0
    assert [(r.line, r.field, r.reason) for r in again.rejects] == [(r.line, r.field, r.reason) for r in res.rejects]
    assert _count(store, events) == n_events


# ---- a file once per receipt date (interpretations §72) --------------------------------------------

def test_a_file_already_ingested_is_refused_under_another_date_unless_overridden(store: Store, tmp_path: Path
                                                                                  ) -> None:
    cases = _sent(store, 3, 323_480_101)
    f = write_jsonl(tmp_path / "r.jsonl", [{"mailer_id": cid, "ssn": ssn, "undeliverable": True}
                                           for cid, ssn in cases])
    db = store_url(store)
    r = run("ingest", str(f), "--as-of", "2026-03-10", "--db", db, token=_op(store))
    assert r.exit_code == 0 and "processed 3" in r.stdout, r.output
    n_events, n_runs = _count(store, events), _count(store, ingest_runs)

    r = run("ingest", str(f), "--as-of", "2026-04-10", "--db", db, token=_op(store))
    assert r.exit_code == 2, r.output
    one_error_line(r, "already ingested as received on 2026-03-10", "--reingest --reason")
    assert (_count(store, events), _count(store, ingest_runs)) == (n_events, n_runs)  # nothing written
    r = run("ingest", str(f), "--as-of", "2026-04-10", "--reingest", "--db", db, token=_op(store))
    assert r.exit_code == 2 and "--reingest needs --reason" in r.stderr, r.output
    r = run("ingest", str(f), "--as-of", "2026-04-10", "--reason", "resent", "--db", db, token=_op(store))
    assert r.exit_code == 2 and "--reason goes with --reingest" in r.stderr, r.output
    r = run("ingest", str(f), "--as-of", "2026-04-10", "--reingest", "--reason", "line\x07break", "--db", db,
            token=_op(store))
    assert r.exit_code == 2, r.output
    assert (_count(store, events), _count(store, ingest_runs)) == (n_events, n_runs)

    # the same date: a rerun, changes nothing
    r = run("ingest", str(f), "--as-of", "2026-03-10", "--db", db, token=_op(store))
    assert r.exit_code == 0 and "processed 0" in r.stdout and "already ingested 3" in r.stdout, r.output
    assert _count(store, events) == n_events

    r = run("ingest", str(f), "--as-of", "2026-04-10", "--reingest", "--reason", "WBDOC resent the envelopes",
            "--db", db, token=_op(store))
    assert r.exit_code == 0 and "re-ingest override logged" in r.stdout and "processed 3" in r.stdout, r.output
    assert _count(store, events) == n_events + 3  # the second undeliverables: held (E.1)
    r = run("runs", "--all", "--db", db, token=_op(store))
    assert r.exit_code == 0 and "WBDOC resent the envelopes" in " ".join(r.stdout.split()), r.output
    with store.read() as tx:
        last = tx.conn.execute(select(ingest_runs.c.counts).order_by(ingest_runs.c.run_id.desc())).scalars().first()
    override = json.loads(last)["override"]
    assert override["reason"] == "WBDOC resent the envelopes" and override["earlier_as_of"] == ["2026-03-10"]
    assert override["operator"]


# ---- one run per file at a time ---------------------------------------------------------------------

def test_a_second_ingest_of_a_file_held_by_another_run_writes_nothing_and_says_a_rerun_is_safe(
        store: Store, tmp_path: Path) -> None:
    cases = _sent(store, 2, 323_480_201)
    f = write_jsonl(tmp_path / "r.jsonl", [returned_mailer(cid, ssn) for cid, ssn in cases])
    rej = tmp_path / "r.rejects.jsonl"
    n_events = _count(store, events)
    with runs.hold(store, f, file_sha256(f)):  # another run holds the file
        r = run("ingest", str(f), "--as-of", RECEIVED.isoformat(), "--db", store_url(store), token=_op(store))
        assert r.exit_code == 3, r.output
        one_error_line(r, "another run is ingesting this file", "wrote nothing", "A rerun is safe")
        assert runs.is_held(store, file_sha256(f))
    assert (_count(store, events), _count(store, ingest_runs)) == (n_events, 0) and not rej.exists()
    r = run("ingest", str(f), "--as-of", RECEIVED.isoformat(), "--db", store_url(store), token=_op(store))
    assert r.exit_code == 0 and "processed 2" in r.stdout, r.output
    assert not runs.is_held(store, file_sha256(f))


SLOW_INGEST = textwrap.dedent(
    """
    import datetime as dt, sys, time
    from pathlib import Path
    from cdrflow.dcf.db import make_engine
    from cdrflow.dcf.store import Store
    from cdrflow.workflow.intake import ingest

    url, schema, path, as_of = sys.argv[1:5]
    store = Store(make_engine(url, schema=schema or None))
    res = ingest(store, Path(path), dt.date.fromisoformat(as_of), chunk_size=5, progress=lambda n: time.sleep(0.4))
    print("processed", res.processed, flush=True)
    """
)


def test_two_processes_ingesting_one_file(store: Store, tmp_path: Path) -> None:
    """A real second process: the first ingests slowly; the second, started meanwhile, is told another run holds
    the file; run again afterwards, it finds everything ingested."""
    cases = _sent(store, 40, 323_480_301)
    f = write_jsonl(tmp_path / "r.jsonl", [returned_mailer(cid, ssn) for cid, ssn in cases])
    script = tmp_path / "slow.py"
    script.write_text(SLOW_INGEST, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script), store.test_url, store.test_schema or "",  # type: ignore[attr-defined]
                             str(f), RECEIVED.isoformat()], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while _count(store, ingest_runs) == 0:  # the first run has started (it holds the file from the start)
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        r = run("ingest", str(f), "--as-of", RECEIVED.isoformat(), "--db", store_url(store), token=_op(store))
        assert r.exit_code == 3 and "another run is ingesting this file" in r.stderr, r.output
        out, errs = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "processed 40" in out, errs[-2000:]
    r = run("ingest", str(f), "--as-of", RECEIVED.isoformat(), "--db", store_url(store), token=_op(store))
    assert r.exit_code == 0 and "processed 0" in r.stdout and "already ingested 40" in r.stdout, r.output


def test_a_receipt_taken_by_a_concurrent_transaction_is_reported_as_held(store: Store, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Should two runs meet on one record after all (two files holding the same record, say), the loser's chunk
    hits the unique receipt key: it is told another run holds the records, and nothing of its chunk stays."""
    cases = _sent(store, 3, 323_480_401)
    recs = [returned_mailer(cid, ssn, signed=i != 1) for i, (cid, ssn) in enumerate(cases)]
    ingest(store, write_jsonl(tmp_path / "a.jsonl", recs[:2]), RECEIVED)  # an unsigned mailer still takes one
    n_events = _count(store, events)
    monkeypatch.setattr(Tx, "existing_keys", lambda self, keys, table=events: set())  # as if read before the commit
    with pytest.raises(runs.FileHeld, match="another run is ingesting"):
        ingest(store, write_jsonl(tmp_path / "b.jsonl", recs[1:]), RECEIVED)
    assert _count(store, events) == n_events
    assert case_row(store, cases[2][0])["state"] == c.SENT


# ---- unfinished runs ------------------------------------------------------------------------------

def test_runs_lists_an_unfinished_run_and_a_rerun_closes_it(store: Store, tmp_path: Path) -> None:
    cases = _sent(store, 6, 323_480_501)
    f = write_jsonl(tmp_path / "r.jsonl", [returned_mailer(cid, ssn) for cid, ssn in cases])
    db = store_url(store)

    def die(_n: int) -> None:
        raise KeyboardInterrupt  # the operator's ^C, or a kill: the run is left unfinished

    with pytest.raises(KeyboardInterrupt):
        ingest(store, f, RECEIVED, chunk_size=2, progress=die)
    r = run("runs", "--db", db, token=_op(store))
    text = " ".join(r.stdout.split())
    assert r.exit_code == 0 and "unfinished" in text and f"rerun `cdrflow ingest {f} --as-of 2026-03-10`" in text, text
    with runs.hold(store, f, file_sha256(f)):  # while a live process holds the file, the run is running
        r = run("runs", "--db", db, token=_op(store))
        assert "running" in r.stdout and "did not finish" not in r.stdout, r.output

    r = run("ingest", str(f), "--as-of", RECEIVED.isoformat(), "--db", db, token=_op(store))
    assert r.exit_code == 0 and "closed the unfinished run(s) 1" in " ".join(r.stdout.split()), r.output
    assert "processed 4 + already ingested 2" in " ".join(r.stdout.split()), r.output
    r = run("runs", "--db", db, token=_op(store))
    assert r.exit_code == 0 and "no unfinished intake runs" in r.stdout, r.output
    r = run("runs", "--all", "--db", db, token=_op(store))
    assert "closed by run 2" in " ".join(r.stdout.split()) and "finished" in r.stdout, r.output


# ---- a record the DCF refuses ---------------------------------------------------------------------

def test_a_record_the_dcf_refuses_costs_only_itself(store: Store, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A value no check foresaw and the database refuses: the chunk is redone record by record and only that
    record is rejected, with the database's reason."""
    cases = _sent(store, 3, 323_480_601)
    real = Tx.update_beneficiaries

    def refusing(self: Tx, rows: Any) -> int:
        if any(r.get("name") == "BOOM" for r in rows):
            raise StoreError("value the database refuses")
        return real(self, rows)

    monkeypatch.setattr(Tx, "update_beneficiaries", refusing)
    lines = [returned_mailer(cases[0][0], cases[0][1]),
             returned_mailer(cases[1][0], cases[1][1], name_correction="BOOM"),
             returned_mailer(cases[2][0], cases[2][1])]
    f = write_jsonl(tmp_path / "r.jsonl", lines)
    rej = tmp_path / "rej.jsonl"
    r = run("ingest", str(f), "--as-of", RECEIVED.isoformat(), "--rejects", str(rej), "--db", store_url(store),
            token=_op(store))
    assert r.exit_code == 0 and "processed 2" in r.stdout and "rejected 1" in r.stdout, r.output
    [only] = read_rejects(rej)
    assert (only["line"], only["field"]) == (2, "(record)")
    assert "the DCF refused the record: value the database refuses" in only["reason"]
    assert [case_row(store, cid)["state"] for cid, _ in cases] == [c.DEFERRED, c.SENT, c.DEFERRED]
    assert event_types(store, cases[1][0]) == ["T2 INITIAL MAILER SENT"]
