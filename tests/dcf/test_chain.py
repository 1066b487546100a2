"""The tamper-evident DCF (issue 12, item 3): hash chains over events, EXR findings and M/PR checks.

Each test tampers the way the backend allows someone who gets around the guards: on SQLite whoever can
write the file (drop a trigger, then edit; REPLACE; delete; insert around the store; edit the file's
bytes); on PostgreSQL the schema owner (drop or disable a trigger) or a superuser
(``session_replication_role = replica``, which fires no trigger at all). ``dcf verify`` must name
the chain, the link and the kind of damage; a digest kept outside the database catches even a chain
rewritten from the edit on.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url

from cdrflow.dcf import chain, db, guards
from cdrflow.dcf.schema import dcf_chain_links, events
from cdrflow.dcf.store import DCDRS, Store, event

from ..dbfixtures import owner_engine, pg_url
from .dcfworld import MARKER, SSN_D, World, attacker_engines, build


def _verify(store: Store, expect: str | None = None) -> chain.VerifyReport:
    return chain.verify_engine(store.engine, expect)


def _kinds(report: chain.VerifyReport) -> set[tuple[str, str]]:
    return {(p.chain, p.kind) for p in report.problems}


def _pg(store: Store) -> bool:
    return store.engine.dialect.name == "postgresql"


def _run(engine: Engine, statements: list[str], params: dict[str, Any] | None = None) -> None:
    with engine.begin() as conn:
        for sql in statements:
            conn.execute(text(sql), params or {})


def _ddl(store: Store) -> Engine:
    """SQLite: a plain connection to the file. PostgreSQL: the schema owner (may drop or disable triggers)."""
    return next(iter(attacker_engines(store).values()))


def _superuser(store: Store) -> Engine:
    """PostgreSQL: the administrator, in the test's schema (``session_replication_role`` needs a superuser)."""
    return db.make_engine(pg_url(), schema=store.test_schema)  # type: ignore[attr-defined]


def _replica(store: Store, statements: list[str], params: dict[str, Any] | None = None) -> None:
    """PostgreSQL: statements with every trigger off (a superuser), leaving the triggers in place."""
    eng = _superuser(store)
    try:
        _run(eng, ["SET LOCAL session_replication_role = replica", *statements], params)
    finally:
        eng.dispose()


def _link_of(store: Store, chain_name: str, row_id: int) -> int:
    with owner_engine(store).connect() as conn:
        return int(conn.execute(select(dcf_chain_links.c.seq).where(
            dcf_chain_links.c.chain == chain_name, dcf_chain_links.c.row_id == row_id)).scalar_one())


@pytest.fixture
def world(store: Store) -> World:
    return build(store)


# ---- a DCF nobody touched --------------------------------------------------------------------------

def test_a_dcf_written_through_the_store_verifies(store: Store, world: World) -> None:
    report = _verify(store)
    assert report.ok, [p.line() for p in report.problems]
    by = {c.chain: c for c in report.chains}
    with owner_engine(store).connect() as conn:
        n_events = conn.execute(text("SELECT count(*) FROM events")).scalar_one()
        n_access = conn.execute(text("SELECT count(*) FROM access_log")).scalar_one()
    assert by["events"].links == by["events"].rows == by["events"].head_seq == by["events"].verified_seq == n_events
    assert by["exr_findings"].links == 2 and by["mpr_checks"].links == 2
    assert n_access >= 1 and by["access_log"].links == by["access_log"].rows == n_access  # the seeding import
    assert report.guards == len(guards.PG_TRIGGERS if _pg(store) else guards.SQLITE_TRIGGERS)
    assert report.digest.startswith(f"dcf-v1:access_log={n_access}:events={n_events}:exr_findings=2:mpr_checks=2:")


def test_the_digest_checks_a_prefix_as_the_dcf_grows(store: Store, world: World) -> None:
    digest = _verify(store).digest
    with store.tx() as tx:
        tx.append([event(ssn=SSN_D, case_id=world.deferred, event_date=dt.date(2026, 4, 1),
                         event_type="T2 DOCUMENT DISPOSAL", actor=DCDRS, idem_key="later")])
    later = _verify(store, digest)
    assert later.ok and later.expect_ok is True
    assert later.digest != digest
    forged = digest[:-1] + ("0" if digest[-1] != "0" else "1")
    bad = _verify(store, forged)
    assert not bad.ok and bad.expect_ok is False and bad.problems[0].kind == "EXPECT"
    ahead = digest.replace("mpr_checks=2", "mpr_checks=3")
    short = _verify(store, ahead)
    assert not short.ok and "mpr_checks has 2 links, the digest covers 3" in short.problems[0].detail
    with pytest.raises(ValueError, match="not a digest"):
        chain.parse_digest("sha256:abc")


def test_concurrent_writers_never_fork_a_chain(store: Store, world: World) -> None:
    """Eight writers appending at once: one chain, links 1..N without a gap, every one verifying."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(8, timeout=30)

    def writer(w: int) -> None:
        try:
            barrier.wait()
            for i in range(5):
                with store.tx() as tx:
                    tx.append([event(ssn=SSN_D, case_id=world.deferred, event_date=dt.date(2026, 4, 1),
                                     event_type="T2 REMARK", actor=DCDRS, idem_key=f"w{w}:{i}:{j}")
                               for j in range(3)])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    report = _verify(store)
    assert report.ok, [p.line() for p in report.problems]
    with owner_engine(store).connect() as conn:
        seqs = [int(r[0]) for r in conn.execute(text(
            "SELECT seq FROM dcf_chain_links WHERE chain = 'events' ORDER BY seq"))]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) == {c.chain: c for c in report.chains}["events"].rows


# ---- tampering, and what verify says ----------------------------------------------------------------

def test_an_edit_is_detected(store: Store, world: World) -> None:
    seq = _link_of(store, "events", world.initiate_event_id)
    drop = ("ALTER TABLE events DISABLE TRIGGER events_append_only" if _pg(store)
            else "DROP TRIGGER events_no_update")
    _run(_ddl(store), [drop, "UPDATE events SET detail = '{\"reason\": \"DEFER\"}' WHERE event_id = :e"],
         {"e": world.initiate_event_id})
    report = _verify(store)
    assert not report.ok
    first = report.problems[0]
    assert (first.chain, first.kind, first.seq, first.row_id) == ("events", "CHANGED", seq, world.initiate_event_id)
    assert {c.chain: c.verified_seq for c in report.chains}["events"] == seq - 1
    assert ("guards", "GUARD") in _kinds(report)  # the dropped or disabled trigger is named too
    if _pg(store):  # putting the trigger back does not hide the edit
        _run(owner_engine(store), ["ALTER TABLE events ENABLE TRIGGER events_append_only"])
        again = _verify(store)
        assert _kinds(again) == {("events", "CHANGED")}


def test_a_replace_is_detected(store: Store, world: World) -> None:
    params = {"e": world.initiate_event_id, "f": world.flipped, "s": "123450001", "d": dt.date(2026, 3, 2),
              "t": dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), "k": world.initiate_idem_key}
    cols = "event_id, case_id, ssn, event_date, event_type, code, actor, actor_role, idem_key, recorded_at"
    vals = ":e, :f, :s, :d, 'T2 INITIATE CDR', 'IPCA 2', 'someone-else', 'DE', :k, :t"
    if _pg(store):  # no REPLACE on PostgreSQL: its equivalent is an upsert with the update guard dropped
        stmts = ["DROP TRIGGER events_append_only ON events",
                 f"INSERT INTO events ({cols}) VALUES ({vals}) ON CONFLICT (event_id) DO UPDATE SET "
                 "actor = excluded.actor, recorded_at = excluded.recorded_at"]
    else:
        stmts = ["DROP TRIGGER events_guard_insert", f"REPLACE INTO events ({cols}) VALUES ({vals})"]
    _run(_ddl(store), stmts, params)
    report = _verify(store)
    assert report.problems[0].kind == "CHANGED" and report.problems[0].row_id == world.initiate_event_id


def test_a_dropped_trigger_then_an_edit_of_each_record_kind_is_detected(store: Store, world: World) -> None:
    if _pg(store):
        stmts = ["DROP TRIGGER exr_findings_append_only ON exr_findings",
                 "DROP TRIGGER mpr_checks_append_only ON mpr_checks",
                 "UPDATE exr_findings SET payload = '{}' WHERE finding_id = :f",
                 "UPDATE mpr_checks SET eligible = false WHERE check_id = :c"]
    else:
        stmts = ["DROP TRIGGER exr_findings_no_update", "DROP TRIGGER mpr_checks_no_update",
                 "UPDATE exr_findings SET payload = '{}' WHERE finding_id = :f",
                 "UPDATE mpr_checks SET eligible = 0 WHERE check_id = :c"]
    _run(_ddl(store), stmts, {"f": world.finding_id, "c": world.check_id})
    report = _verify(store)
    changed = {(p.chain, p.row_id) for p in report.problems if p.kind == "CHANGED"}
    assert changed == {("exr_findings", world.finding_id), ("mpr_checks", world.check_id)}
    missing = {p.detail for p in report.problems if p.kind == "GUARD"}
    assert len(missing) == 2 and all("missing (dropped)" in m for m in missing)


def test_a_deleted_row_is_detected(store: Store, world: World) -> None:
    seq = _link_of(store, "events", world.initiate_event_id)
    stmts = ["DELETE FROM events WHERE event_id = :e"]
    if _pg(store):
        _replica(store, stmts, {"e": world.initiate_event_id})  # no trigger fires, none is missing afterwards
    else:
        _run(_ddl(store), ["DROP TRIGGER events_no_delete", *stmts], {"e": world.initiate_event_id})
    report = _verify(store)
    first = report.problems[0]
    assert (first.kind, first.seq, first.row_id) == ("MISSING_ROW", seq, world.initiate_event_id)
    if _pg(store):
        assert _kinds(report) == {("events", "MISSING_ROW")}


def test_a_deleted_link_is_a_gap(store: Store, world: World) -> None:
    stmts = ["DELETE FROM dcf_chain_links WHERE chain = 'events' AND seq = 2"]
    if _pg(store):
        _replica(store, stmts)
    else:
        _run(_ddl(store), ["DROP TRIGGER dcf_chain_links_no_delete", *stmts])
    report = _verify(store)
    kinds = _kinds(report)
    assert report.problems[0].kind == "GAP" and report.problems[0].seq == 2
    assert ("events", "UNCHAINED") in kinds and ("events", "BROKEN_LINK") in kinds


def test_a_row_written_around_the_store_is_unchained(store: Store, world: World) -> None:
    """Through the application's own privileges (PostgreSQL) or the file (SQLite): the guards accept a valid
    event, but no link names it."""
    engine = store.engine if _pg(store) else _ddl(store)
    _run(engine, ["INSERT INTO events (case_id, ssn, event_date, event_type, actor, actor_role, recorded_at) "
                  "VALUES (:c, :s, :d, 'T2 REMARK', 'someone', 'DE', :t)"],
         {"c": world.deferred, "s": SSN_D, "d": dt.date(2026, 4, 1), "t": dt.datetime(2026, 4, 1, tzinfo=dt.UTC)})
    report = _verify(store)
    assert _kinds(report) == {("events", "UNCHAINED")}
    assert "1 row(s) are in no link" in report.problems[0].detail


def _drop_tail(store: Store) -> None:
    """Remove the last event and its link (what a truncation leaves)."""
    with owner_engine(store).connect() as conn:
        seq, row_id = conn.execute(text("SELECT seq, row_id FROM dcf_chain_links WHERE chain = 'events' "
                                        "ORDER BY seq DESC LIMIT 1")).one()
    stmts = ["DELETE FROM dcf_chain_links WHERE chain = 'events' AND seq = :s",
             "DELETE FROM events WHERE event_id = :r"]
    if _pg(store):
        _replica(store, stmts, {"s": seq, "r": row_id})
    else:
        _run(_ddl(store), ["DROP TRIGGER dcf_chain_links_no_delete", "DROP TRIGGER events_no_delete", *stmts],
             {"s": seq, "r": row_id})


def test_a_truncation_is_detected_against_the_head(store: Store, world: World) -> None:
    _drop_tail(store)
    report = _verify(store)
    assert ("events", "TRUNCATED") in _kinds(report)
    trunc = next(p for p in report.problems if p.kind == "TRUNCATED")
    assert "the last 1 record(s) were removed" in trunc.detail


def test_a_truncation_with_the_head_rewound_is_caught_by_the_kept_digest(store: Store, world: World) -> None:
    kept = _verify(store).digest
    _drop_tail(store)
    rewind = ["UPDATE dcf_chain SET seq = seq - 1, head_hash = (SELECT row_hash FROM dcf_chain_links l "
              "WHERE l.chain = 'events' AND l.seq = dcf_chain.seq - 1) WHERE chain = 'events'"]
    if _pg(store):
        _replica(store, rewind)
    else:
        _run(_ddl(store), ["DROP TRIGGER dcf_chain_head_guard", *rewind])
    inside = _verify(store)
    assert {k for _, k in _kinds(inside)} <= {"GUARD"}  # consistent in itself (the SQLite trigger is missing)
    checked = _verify(store, kept)
    assert checked.expect_ok is False and checked.problems[0].kind == "EXPECT"


def test_a_rewritten_chain_is_caught_by_the_kept_digest(store: Store, world: World) -> None:
    """Edit a row, then recompute every link and the head so the chain is consistent again."""
    kept = _verify(store).digest
    stmts = ["UPDATE events SET actor = 'someone-else' WHERE event_id = :e",
             "DELETE FROM dcf_chain_links WHERE chain = 'events'",
             f"UPDATE dcf_chain SET seq = 0, head_hash = '{chain.GENESIS}' WHERE chain = 'events'"]
    if _pg(store):
        eng = _superuser(store)
        try:
            with eng.begin() as conn:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                for s in stmts:
                    conn.execute(text(s), {"e": world.initiate_event_id})
                chain.backfill(conn, "events")
        finally:
            eng.dispose()
    else:
        eng = _ddl(store)
        with eng.begin() as conn:
            for trig in ("events_no_update", "dcf_chain_links_no_delete", "dcf_chain_head_guard"):
                conn.execute(text(f"DROP TRIGGER {trig}"))
            for s in stmts:
                conn.execute(text(s), {"e": world.initiate_event_id})
            chain.backfill(conn, "events")
    inside = _verify(store)
    assert ("events", "CHANGED") not in _kinds(inside)  # the rewrite is consistent in itself
    checked = _verify(store, kept)
    assert checked.expect_ok is False and checked.problems[0].kind == "EXPECT"


def test_a_byte_edit_is_detected(store: Store, world: World) -> None:
    """SQLite: one byte of the database file. PostgreSQL, where nobody edits the files: one character changed
    with every trigger off."""
    seq = _link_of(store, "events", world.initiate_event_id)
    changed = MARKER[:-1] + "2"
    if _pg(store):
        _replica(store, ["UPDATE events SET detail = replace(detail, :a, :b) WHERE event_id = :e"],
                 {"a": MARKER, "b": changed, "e": world.initiate_event_id})
    else:
        path = Path(make_url(store.test_url).database or "")  # type: ignore[attr-defined]
        store.engine.dispose()
        con = sqlite3.connect(path)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        data = path.read_bytes()
        assert data.count(MARKER.encode()) == 1
        path.write_bytes(data.replace(MARKER.encode(), changed.encode()))
    report = _verify(store)
    first = report.problems[0]
    assert (first.chain, first.kind, first.seq) == ("events", "CHANGED", seq)
    with owner_engine(store).connect() as conn:  # the edit is there, and only the hash says so
        detail = conn.execute(select(events.c.detail).where(events.c.event_id == world.initiate_event_id)).scalar()
    assert changed in str(detail)


def test_a_missing_or_disabled_guard_alone_is_reported(store: Store, world: World) -> None:
    stmt = ("ALTER TABLE cases DISABLE TRIGGER cases_flip_guard" if _pg(store) else "DROP TRIGGER cases_flip_guard")
    _run(_ddl(store), [stmt])
    report = _verify(store)
    assert [p.line() for p in report.problems] == [
        "GUARD: guards: trigger cases_flip_guard is " + ("disabled" if _pg(store) else "missing (dropped)")]


def test_the_upgrade_links_the_rows_a_dcf_already_has(store: Store, world: World) -> None:
    """A DCF at 0006 (no chains, no vocabulary) with events, findings and checks: 0007 links every row, in id
    order, and the downgrade takes the chains and the new guards away again."""
    from alembic import command

    owner = owner_engine(store)
    cfg = db.alembic_config(owner)
    with owner.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")
    with owner.begin() as conn:  # 0006 took any wording (the vocabulary came with 0007)
        conn.execute(text("INSERT INTO events (case_id, ssn, event_date, event_type, actor, actor_role, recorded_at) "
                          "VALUES (NULL, :s, :d, 'T2 OLD WORDING', 'someone', 'DE', :t)"),
                     {"s": SSN_D, "d": dt.date(2025, 1, 2), "t": dt.datetime(2025, 1, 2, 8, 30, tzinfo=dt.UTC)})
        n_events = conn.execute(text("SELECT count(*) FROM events")).scalar_one()
        tables = set(conn.dialect.get_table_names(conn))
    assert not tables & {"dcf_chain", "dcf_chain_links", "event_vocabulary"}
    assert db.upgrade(owner) == db.head_revision(owner)
    report = _verify(store)
    assert report.ok, [p.line() for p in report.problems]
    by = {c.chain: c for c in report.chains}
    assert (by["events"].links, by["exr_findings"].links, by["mpr_checks"].links) == (n_events, 2, 2)
    with owner_engine(store).connect() as conn:
        order = [int(r[0]) for r in conn.execute(text(
            "SELECT row_id FROM dcf_chain_links WHERE chain = 'events' ORDER BY seq"))]
    assert order == sorted(order)
