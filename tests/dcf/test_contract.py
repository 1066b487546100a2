"""The DCF store contract, run on SQLite and PostgreSQL alike (fixture ``store``).

Migrations, the append-only event log, batched appends with idempotency keys, optimistic
concurrency, and the integrity-flip guard of DI 40502.001G.7 enforced in the database.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from cdrflow.dcf import db
from cdrflow.dcf.schema import cases, events
from cdrflow.dcf.store import DCDRS, INTEGRITY, SELECTION, ConflictError, GuardError, Store, StoreError, event

from ..dbfixtures import count_rows, insert_case, make_beneficiary, owner_engine, seed_beneficiaries

SSN = "123450001"
DAY = dt.date(2026, 1, 5)


def _events_snapshot(store: Store) -> list[tuple[Any, ...]]:
    with store.read() as tx:
        return [tuple(r) for r in tx.conn.execute(select(events).order_by(events.c.event_id)).all()]


def _case_snapshot(store: Store, case_id: str) -> dict[str, Any]:
    with store.read() as tx:
        return tx.require_case(case_id)


def _raw(store: Store, sql: str, **params: Any) -> None:
    """Raw SQL in its own transaction (what a DBA or a script with DCF access could run).

    On PostgreSQL as the schema owner: the application role is refused most of these outright
    (tests/dcf/test_roles.py); the triggers must hold even for a role that has the privileges.
    """
    with owner_engine(store).begin() as conn:
        conn.execute(text(sql), params)


# Event types from the vocabulary (migration 0007) that any open case may take.
TYPES = ("T2 MAILER RECEIVED", "T2 WBDOC DIRCON", "T2 DIRCON ATTEMPT", "T2 REMARK", "T2 DOCUMENT DISPOSAL")


def _case(store: Store, case_id: str = "C-1") -> str:
    """The case the test events belong to (the database checks that an event's case exists)."""
    seed_beneficiaries(store, [make_beneficiary(SSN)])
    return insert_case(store, SSN, sent_on=DAY, case_id=case_id)


def _events(n: int, *, case_id: str = "C-1", prefix: str = "k") -> list[dict[str, Any]]:
    return [
        event(ssn=SSN, case_id=case_id, event_date=DAY + dt.timedelta(days=i), event_type=TYPES[i % len(TYPES)],
              code="001" if i % 2 else None, actor=SELECTION if i % 3 else DCDRS, policy_version=None,
              detail={"i": i, "nested": {"list": [1, "two", None], "flag": bool(i % 2)}, "text": "é ü"},
              idem_key=f"{prefix}{i}")
        for i in range(n)
    ]


@pytest.fixture
def flipped(store: Store) -> str:
    """A case flipped by integrity sampling: integrity_flipped, outcome DO_CDR (DI 40502.001G.7)."""
    seed_beneficiaries(store, [make_beneficiary(SSN)])
    cid = insert_case(store, SSN, sent_on=DAY)
    with store.tx() as tx:
        case = tx.require_case(cid)
        tx.update_case(cid, case["version"], state="DO_CDR", outcome="DO_CDR", integrity_selected=True,
                       integrity_flipped=True, closed_on=DAY)
    return cid


# ---- migrations ----------------------------------------------------------------------------------

def test_upgrade_reaches_head_and_is_repeatable(store: Store) -> None:
    _case(store)
    head = db.head_revision(store.engine)
    assert db.current_revision(store.engine) == head
    db.require_current(store.engine)
    with store.tx() as tx:
        tx.append(_events(3))
    before = _events_snapshot(store)
    assert db.upgrade(store.engine) == head  # a second upgrade is a no-op
    assert db.current_revision(store.engine) == head
    assert _events_snapshot(store) == before
    # the guards are still there (and not doubled into an error)
    with pytest.raises(DBAPIError):
        _raw(store, "DELETE FROM events")


# ---- append-only log -----------------------------------------------------------------------------

def test_events_reject_update_and_delete(store: Store) -> None:
    _case(store)
    with store.tx() as tx:
        tx.append(_events(4))
    before = _events_snapshot(store)
    with pytest.raises(DBAPIError, match="append-only"):
        _raw(store, "UPDATE events SET event_type = 'T2 DEFER CDR' WHERE idem_key = 'k1'")
    with pytest.raises(DBAPIError, match="append-only"):
        _raw(store, "UPDATE events SET detail = NULL")
    with pytest.raises(DBAPIError, match="append-only"):
        _raw(store, "DELETE FROM events WHERE idem_key = 'k2'")
    with pytest.raises(DBAPIError, match="append-only"):
        _raw(store, "DELETE FROM events")
    assert _events_snapshot(store) == before


def test_append_batch_reads_back_identically(store: Store) -> None:
    _case(store)
    rows = _events(40)
    with store.tx() as tx:
        assert tx.append(rows) == 40
    with store.read() as tx:
        back = [dict(r) for r in tx.conn.execute(select(events).where(events.c.idem_key.like("k%"))
                                                 .order_by(events.c.event_id)).mappings()]
    assert len(back) == 40
    for sent, got in zip(rows, back, strict=True):
        for col in ("case_id", "ssn", "event_type", "code", "actor", "actor_role", "policy_version", "idem_key"):
            assert got[col] == sent[col], col
        assert type(got["event_date"]) is dt.date
        assert got["event_date"] == sent["event_date"]
        assert json.loads(got["detail"]) == json.loads(sent["detail"])
        assert isinstance(got["recorded_at"], dt.datetime)
    assert [r["event_id"] for r in back] == sorted({r["event_id"] for r in back})


def test_duplicate_idem_key_writes_nothing_of_the_batch(store: Store) -> None:
    _case(store)
    with store.tx() as tx:
        tx.append(_events(3))
    before = _events_snapshot(store)
    batch = [*_events(2, prefix="new-"), _events(3)[1], *_events(2, prefix="later-")]
    with pytest.raises(Exception):  # noqa: B017 - the type is the next test's business
        with store.tx() as tx:
            tx.append(batch)
    assert _events_snapshot(store) == before
    with store.read() as tx:
        assert not tx.existing_keys(["new-0", "new-1", "later-0", "later-1"])


def test_duplicate_idem_key_raises_store_error(store: Store) -> None:
    """Tx.append turns a database refusal into the store's own error on both backends."""
    _case(store)
    with store.tx() as tx:
        tx.append(_events(1))
    with pytest.raises(StoreError), store.tx() as tx:
        tx.append(_events(1))


def test_existing_keys(store: Store) -> None:
    _case(store)
    with store.tx() as tx:
        tx.append(_events(5))
    with store.read() as tx:
        assert tx.existing_keys(["k0", "k4", "nope"]) == {"k0", "k4"}


# ---- optimistic concurrency ----------------------------------------------------------------------

def test_update_case_with_a_stale_version_conflicts(store: Store) -> None:
    seed_beneficiaries(store, [make_beneficiary(SSN)])
    cid = insert_case(store, SSN, sent_on=DAY)
    v = _case_snapshot(store, cid)["version"]
    with store.tx() as tx:
        assert tx.update_case(cid, v, review_stage="DE") == v + 1
    with pytest.raises(ConflictError, match=cid) as info, store.tx() as tx:
        tx.update_case(cid, v, review_stage="BET_DT")
    assert f"version {v}" in str(info.value)
    case = _case_snapshot(store, cid)
    assert case["review_stage"] == "DE"
    assert case["version"] == v + 1


def test_two_writers_race_one_wins(store: Store) -> None:
    seed_beneficiaries(store, [make_beneficiary(SSN)])
    cid = insert_case(store, SSN, sent_on=DAY)
    barrier = threading.Barrier(2, timeout=20)
    outcomes: dict[str, Any] = {}

    def writer(name: str) -> None:
        try:
            with store.tx() as tx:
                case = tx.require_case(cid)
                barrier.wait()
                tx.update_case(cid, case["version"], alert_reviewer=name)
            outcomes[name] = "ok"
        except Exception as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["A", "B"]
    wins = [n for n, o in outcomes.items() if o == "ok"]
    losses = [o for o in outcomes.values() if o != "ok"]
    assert len(wins) == 1, outcomes
    assert len(losses) == 1 and isinstance(losses[0], ConflictError), outcomes
    assert cid in str(losses[0])
    case = _case_snapshot(store, cid)
    assert case["alert_reviewer"] == wins[0]
    assert case["version"] == 2


# ---- integrity guard (DI 40502.001G.7) -----------------------------------------------------------

def test_flipped_case_refuses_raw_changes_back(store: Store, flipped: str) -> None:
    before = _case_snapshot(store, flipped)
    assert before["integrity_flipped"] is True and before["outcome"] == "DO_CDR"
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("UPDATE cases SET outcome = 'DEFER' WHERE case_id = :c", {}),
        ("UPDATE cases SET outcome = 'DEFER', state = 'DEFERRED'", {}),
        ("UPDATE cases SET outcome = NULL WHERE case_id = :c", {}),
        ("UPDATE cases SET integrity_flipped = :f WHERE case_id = :c", {"f": False}),
        ("DELETE FROM cases WHERE case_id = :c", {}),
        ("DELETE FROM cases", {}),
        ("INSERT INTO events (case_id, ssn, event_date, event_type, code, actor, actor_role, recorded_at) "
         "VALUES (:c, :s, :d, 'T2 DEFER CDR', 'IPCA 4', 'someone', 'DE', :t)",
         {"s": SSN, "d": DAY, "t": dt.datetime(2026, 1, 6, tzinfo=dt.UTC)}),
        ("INSERT INTO events (case_id, ssn, event_date, event_type, actor, actor_role, recorded_at) "
         "VALUES (:c, :s, :d, 'T2 DEFER CDR-VR REQUESTED', 'someone', 'DE', :t)",
         {"s": SSN, "d": DAY, "t": dt.datetime(2026, 1, 6, tzinfo=dt.UTC)}),
    ]
    events_before = _events_snapshot(store)
    for sql, params in attempts:
        with pytest.raises(DBAPIError, match=r"40502\.001G\.7"):
            _raw(store, sql, c=flipped, **params)
    assert _case_snapshot(store, flipped) == before
    assert _events_snapshot(store) == events_before


def test_flipped_case_refuses_store_changes_back(store: Store, flipped: str) -> None:
    case = _case_snapshot(store, flipped)
    with pytest.raises(GuardError, match=r"40502\.001G\.7"), store.tx() as tx:
        tx.update_case(flipped, case["version"], outcome="DEFER", state="DEFERRED")
    with pytest.raises(GuardError), store.tx() as tx:
        tx.update_case(flipped, case["version"], integrity_flipped=False)
    assert _case_snapshot(store, flipped) == case


def test_flipped_case_refuses_a_deferral_event_through_the_store(store: Store, flipped: str) -> None:
    before = _events_snapshot(store)
    ev = event(ssn=SSN, case_id=flipped, event_date=DAY, event_type="T2 DEFER CDR", code="IPCA 4",
               actor=INTEGRITY, idem_key="sneaky-defer")
    with pytest.raises(GuardError, match=r"40502\.001G\.7"), store.tx() as tx:
        tx.append([ev])
    assert _events_snapshot(store) == before


def test_flipped_case_still_takes_changes_that_keep_the_flip(store: Store, flipped: str) -> None:
    _raw(store, "UPDATE cases SET closed_on = :d WHERE case_id = :c", d=DAY + dt.timedelta(days=1), c=flipped)
    with store.tx() as tx:
        case = tx.require_case(flipped)
        tx.update_case(flipped, case["version"], review_stage=None, last_event="T2 INITIATE CDR")
        tx.append([event(ssn=SSN, case_id=flipped, event_date=DAY, event_type="T2 DOCUMENT DISPOSAL",
                         actor=INTEGRITY, idem_key="ok-event")])
    case = _case_snapshot(store, flipped)
    assert case["outcome"] == "DO_CDR" and case["integrity_flipped"] is True
    assert case["closed_on"] == DAY + dt.timedelta(days=1)


def test_guard_is_not_too_broad(store: Store) -> None:
    """A case that was not flipped can be deferred, changed back, and deleted."""
    seed_beneficiaries(store, [make_beneficiary(SSN), make_beneficiary("123450002")])
    cid = insert_case(store, SSN, sent_on=DAY)
    other = insert_case(store, "123450002", sent_on=DAY)
    with store.tx() as tx:
        v = tx.require_case(cid)["version"]
        v = tx.update_case(cid, v, state="DO_CDR", outcome="DO_CDR", integrity_selected=True)
        v = tx.update_case(cid, v, state="DEFERRED", outcome="DEFER")
        tx.append([event(ssn=SSN, case_id=cid, event_date=DAY, event_type="T2 DEFER CDR", code="IPCA 4",
                         actor=DCDRS, idem_key="fine-defer")])
    _raw(store, "UPDATE cases SET outcome = 'DO_CDR' WHERE case_id = :c", c=cid)
    _raw(store, "UPDATE cases SET outcome = 'DEFER', integrity_flipped = :f WHERE case_id = :c", f=False, c=cid)
    assert _case_snapshot(store, cid)["outcome"] == "DEFER"
    with store.read() as tx:
        n = len(tx.conn.execute(select(cases)).all())
    # events reference cases only by id, so a non-flipped case can go
    _raw(store, "DELETE FROM cases WHERE case_id = :c", c=other)
    assert count_rows(store, cases) == n - 1


# ---- connecting ----------------------------------------------------------------------------------

def test_make_engine_backend_and_unsupported_url(store: Store) -> None:
    backend = store.engine.dialect.name
    assert backend in ("sqlite", "postgresql")
    with pytest.raises(ValueError, match=r"unsupported database URL.*sqlite.*postgresql"):
        db.make_engine("mysql://user@localhost/dcf")
    with pytest.raises(ValueError, match="unsupported database URL"):
        db.make_engine("mssql+pyodbc://user@dsn")
    if backend == "postgresql":
        assert store.engine.url.drivername == "postgresql+psycopg"


def test_resolve_url_precedence(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from cdrflow.kernel.settings import Settings

    url = store.test_url  # type: ignore[attr-defined]
    other = "sqlite:////tmp/elsewhere.db"
    monkeypatch.delenv(db.ENV_VAR, raising=False)
    assert db.resolve_url() == "sqlite:///cdrflow.db"
    assert db.resolve_url(None) == db.DEFAULT_URL
    assert db.resolve_url(Settings().database()) == db.DEFAULT_URL
    monkeypatch.setenv(db.ENV_VAR, url)
    assert db.resolve_url() == db.DEFAULT_URL  # the environment is the settings' to read (kernel/settings.py)
    env_resolved = db.resolve_url(Settings().database())
    assert make_url(env_resolved).get_backend_name() == store.engine.dialect.name
    assert db.resolve_url(Settings().database(other)) == other  # the explicit URL (--db) wins over the environment
    monkeypatch.setenv(db.ENV_VAR, other)
    assert db.resolve_url(Settings().database()) == other
    assert db.resolve_url(url) == env_resolved
    assert db.resolve_url("postgresql://u:p%40ss@h:5433/d") == "postgresql+psycopg://u:p%40ss@h:5433/d"
    assert db.resolve_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert db.resolve_url("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"
    if store.engine.dialect.name == "postgresql":
        assert env_resolved.startswith("postgresql+psycopg://")
    else:
        assert env_resolved == url
