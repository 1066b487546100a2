"""Crash safety: a real process killed (SIGKILL) in the middle of an ingest, then the ingest rerun.

Nothing is lost (no case of the file is left SENT) and nothing is doubled (one MAILER RECEIVED per
returned mailer), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import func, select

from cdrflow.dcf.schema import cases, events
from cdrflow.dcf.store import Store
from cdrflow.workflow import common as c
from cdrflow.workflow.cycle import run_cycle
from cdrflow.workflow.intake import ingest

from ..dbfixtures import make_beneficiary, returned_mailer, seed_beneficiaries, write_jsonl

D = dt.date(2026, 1, 5)
RECEIVED = dt.date(2026, 3, 10)
N = 3000
CHUNK = 50
KILL_AFTER = 10

SCRIPT = textwrap.dedent(
    """
    import datetime as dt
    import os
    import signal
    import sys
    from pathlib import Path

    from cdrflow.dcf.db import make_engine
    from cdrflow.dcf.store import Store
    from cdrflow.workflow.intake import ingest

    url, schema, path, as_of, kill_after = sys.argv[1:6]
    store = Store(make_engine(url, schema=schema or None))
    chunks = 0

    def progress(n):
        global chunks
        chunks += 1
        if chunks >= int(kill_after):
            os.kill(os.getpid(), signal.SIGKILL)

    ingest(store, Path(path), dt.date.fromisoformat(as_of), chunk_size=50, progress=progress)
    print("ingest finished: the process was not killed")
    """
)


def _records(ids: dict[str, str], ssns: list[str]) -> list[dict[str, object]]:
    recs: list[dict[str, object]] = []
    for i, ssn in enumerate(ssns):
        cid = ids[ssn]
        if i % 13 == 5:
            recs.append(returned_mailer(cid, ssn, q1a_worked="YES"))  # PC review
        elif i % 17 == 3:
            recs.append(returned_mailer(cid, ssn, signed=False))  # signature control
        elif i % 19 == 7:
            recs.append(returned_mailer(cid, ssn, address_change={"address_line": f"{i} NEW RD", "city": "MACON",
                                                                  "state": "GA", "zip": "31201"}))
        else:
            recs.append(returned_mailer(cid, ssn))
    return recs


def test_ingest_killed_mid_run_then_rerun(store: Store, tmp_path: Path) -> None:
    ssns = [f"52345{i:04d}" for i in range(1, N + 1)]
    seed_beneficiaries(store, [make_beneficiary(s) for s in ssns])
    run_cycle(store, D)
    with store.read() as tx:
        assert tx.conn.execute(select(func.count()).select_from(cases)).scalar_one() == N
    ids = _case_ids(store)  # case ids are opaque: the DCF says which is whose (interpretations §78)
    recs = _records(ids, ssns)
    bad = ['{"mailer_id": "M1", ', returned_mailer("M20260105-ZZZZZZZZZZ", "000000000")]
    returns = write_jsonl(tmp_path / "returns.jsonl", [*recs, *bad])

    script = tmp_path / "ingest_and_die.py"
    script.write_text(SCRIPT, encoding="utf-8")
    url = store.test_url  # type: ignore[attr-defined]
    schema = store.test_schema or ""  # type: ignore[attr-defined]
    proc = subprocess.run([sys.executable, str(script), url, schema, str(returns), RECEIVED.isoformat(),
                           str(KILL_AFTER)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    assert "ingest finished" not in proc.stdout

    file_cases = [ids[s] for s in ssns]
    with store.read() as tx:
        states = dict(tx.conn.execute(select(cases.c.case_id, cases.c.state)).all())
    done_before = sum(1 for cid in file_cases if states[cid] != c.SENT)
    assert done_before == KILL_AFTER * CHUNK  # the killed run committed exactly its first chunks
    received_before = _received_counts(store)
    assert max(received_before.values()) == 1

    result = ingest(store, returns, RECEIVED, chunk_size=CHUNK)
    assert result.reconciles(), result.as_dict()
    assert result.read == N + len(bad)
    assert result.skipped == KILL_AFTER * CHUNK
    assert result.rejected == len(bad)
    assert result.processed == N - KILL_AFTER * CHUNK

    with store.read() as tx:
        states = dict(tx.conn.execute(select(cases.c.case_id, cases.c.state)).all())
    assert [cid for cid in file_cases if states[cid] == c.SENT] == []  # nothing lost
    received = _received_counts(store)
    unsigned = {ids[ssns[i]] for i, r in enumerate(recs) if r.get("signed") is False}
    assert set(received) == set(file_cases) - unsigned
    assert set(received.values()) == {1}  # nothing doubled
    with store.read() as tx:
        sig = dict(tx.conn.execute(
            select(events.c.case_id, func.count()).where(events.c.event_type == "T2 SIGNATURE CONTROL")
            .group_by(events.c.case_id)).all())
    assert set(sig) == unsigned and set(sig.values()) == {1}
    assert {states[cid] for cid in unsigned} == {c.SIGNATURE_PENDING}
    decided = [states[cid] for cid in file_cases if cid not in unsigned]
    assert set(decided) <= {c.DEFERRED, c.PC_REVIEW, c.DO_CDR}
    # each decision posted once: one DEFER CDR per deferred case
    with store.read() as tx:
        defer_counts = [n for (n,) in tx.conn.execute(
            select(func.count()).where(events.c.event_type == "T2 DEFER CDR").group_by(events.c.case_id))]
    assert defer_counts and set(defer_counts) == {1}
    assert len(defer_counts) == sum(1 for s in decided if s == c.DEFERRED)

    again = ingest(store, returns, RECEIVED, chunk_size=CHUNK)
    assert again.reconciles() and again.processed == 0 and again.skipped == N


def _case_ids(store: Store) -> dict[str, str]:
    """SSN -> the id of its case selected on D."""
    with store.read() as tx:
        return {ssn: cid for ssn, cid in tx.conn.execute(
            select(cases.c.ssn, cases.c.case_id).where(cases.c.selected_on == D))}


def _received_counts(store: Store) -> dict[str, int]:
    with store.read() as tx:
        return dict(tx.conn.execute(
            select(events.c.case_id, func.count()).where(events.c.event_type == "T2 MAILER RECEIVED")
            .group_by(events.c.case_id)).all())
