"""Audit and recovery: every event carries actor, date and policy version; rejects leave no trace; reruns are clean."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from cdrflow.dcf.schema import events
from cdrflow.dcf.store import Store
from cdrflow.workflow.cycle import run_cycle
from cdrflow.workflow.intake import ingest

from ..dbfixtures import assert_denied, make_beneficiary, person, returned_mailer, seed_beneficiaries, write_jsonl


def test_every_event_has_actor_date_and_policy_version(store: Store, tmp_path: Path) -> None:
    seed_beneficiaries(store, [make_beneficiary(f"42345{n:04d}") for n in range(1, 4)])
    run_cycle(store, dt.date(2026, 2, 2))
    with store.read() as tx:
        ids = [(r.case_id, r.ssn) for r in tx.conn.execute(select(events.c.case_id, events.c.ssn))]
    recs = [returned_mailer(cid, ssn) for cid, ssn in ids[:2]]
    recs[1]["q1a_worked"] = "YES"  # PC review
    ingest(store, write_jsonl(tmp_path / "r.jsonl", recs), dt.date(2026, 3, 2))
    with store.read() as tx:
        rows = [dict(r) for r in tx.conn.execute(select(events)).mappings()]
    assert len(rows) >= 7
    for r in rows:
        assert r["event_date"] and r["actor"] and r["actor_role"] and r["recorded_at"]
        pv = json.loads(r["policy_version"])
        assert pv["source"] == "DI 40502.001 TN 2 (10-08)", r["event_type"]
    first = next(r for r in rows if r["event_type"].endswith("INITIAL MAILER SENT"))
    assert json.loads(first["policy_version"])["param:mailer_profiles"] == "2008-10-01"
    decided = next(r for r in rows if r["event_type"].endswith("DEFER CDR"))
    assert "table:pc_review_routing" in json.loads(decided["policy_version"])


def test_a_rejected_record_leaves_no_trace_and_a_rerun_is_clean(store: Store, tmp_path: Path) -> None:
    """A name correction on a record with an invalid answer: rejected before any MBR update or event."""
    from cdrflow.dcf.schema import beneficiaries

    seed_beneficiaries(store, [make_beneficiary("423450011")])
    run_cycle(store, dt.date(2026, 2, 2))
    with store.read() as tx:
        cid = tx.conn.execute(select(events.c.case_id)).scalar_one()
        before = len(tx.conn.execute(select(events.c.event_id)).all())
    bad = {**returned_mailer(cid, "423450011"), "name_correction": "JANE Q PUBLIC", "q4_health": "GREAT"}
    path = write_jsonl(tmp_path / "r.jsonl", [bad])
    for _ in range(2):
        res = ingest(store, path, dt.date(2026, 3, 2))
        assert res.rejected == 1 and res.rejects[0].field == "q4_health" and res.reconciles()
    with store.read() as tx:
        assert len(tx.conn.execute(select(events.c.event_id)).all()) == before
        name = tx.conn.execute(select(beneficiaries.c.name).where(beneficiaries.c.ssn == "423450011")).scalar_one()
    assert name != "JANE Q PUBLIC"


def test_an_analyst_reads_but_never_changes_a_case(store: Store) -> None:
    """Read-only role: stage-less commands (H.2, E.2, J.3.d) refuse it like the staged ones."""
    from cdrflow.kernel.errors import Forbidden
    from cdrflow.workflow import review

    seed_beneficiaries(store, [make_beneficiary("423450021")])
    run_cycle(store, dt.date(2026, 2, 2))
    with store.read() as tx:
        cid = tx.conn.execute(select(events.c.case_id)).scalar_one()
    analyst = person(store, "ann", "ANALYST")
    with pytest.raises(Forbidden, match="MAILROOM"):
        review.undeliverable(store, cid, analyst, dt.date(2026, 3, 1), new_address=None)
    with pytest.raises(Forbidden):
        review.dispose(store, cid, analyst, dt.date(2026, 3, 1), document="FACSIMILE", disposition="DESTROYED")
    with pytest.raises(Forbidden):
        review.referral_done(store, cid, analyst, dt.date(2026, 3, 1), note="x")
    for action in ("mailer.undeliverable", "mailer.dispose", "mailer.referral_done"):
        assert_denied(store, "ann", action, f"case:{cid}")
    assert review.undeliverable(store, cid, person(store, "mo", "MAILROOM", pc=7), dt.date(2026, 3, 1),
                                new_address=None) == "NONRESPONDER"


def test_print_file_is_complete_after_an_interrupted_run_and_identical_on_repeat(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """B.8 / C: every mailer the DCF says was sent is in the print file, however the run went."""
    from cdrflow.dcf.store import Tx

    seed_beneficiaries(store, [make_beneficiary(f"42345{n:04d}") for n in range(100, 130)])
    real = Tx.insert_cases
    calls = {"n": 0}

    def failing(self: Tx, rows: list[dict[str, object]]) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed mid-run")
        return real(self, rows)

    monkeypatch.setattr(Tx, "insert_cases", failing)
    pf = tmp_path / "print.jsonl"
    with pytest.raises(RuntimeError):
        run_cycle(store, dt.date(2026, 2, 2), print_file=pf, chunk_size=10)
    monkeypatch.setattr(Tx, "insert_cases", real)
    res = run_cycle(store, dt.date(2026, 2, 2), print_file=pf, chunk_size=10)  # finishes the interrupted run
    with store.read() as tx:
        sent = {r.case_id for r in tx.conn.execute(
            select(events.c.case_id).where(events.c.event_type.like("% INITIAL MAILER SENT")))}
    printed = [json.loads(line)["mailer_id"] for line in pf.read_text().splitlines()]
    assert len(sent) == 30 and sorted(printed) == sorted(sent) and res.print_records == 30
    first = pf.read_bytes()
    again = run_cycle(store, dt.date(2026, 2, 2), print_file=pf)  # already ran: nothing new, same file
    assert again.groups == [] and pf.read_bytes() == first
