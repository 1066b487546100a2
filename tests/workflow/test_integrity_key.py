"""The integrity sample nobody can steer or predict (DI 40502.001G.7; issue 12 item 4; interpretations §74).

The draw is HMAC-SHA256(secret key of the case's selection fiscal year, case id), the key held by the
system (``integrity_keys``, migration 0009), reached by the application only through
``cdrflow.workflow.integrity.draw`` (on PostgreSQL through the SECURITY DEFINER function
``integrity_draw_hmac``, which never returns the key). Run on SQLite and PostgreSQL (fixture ``store``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from cdrflow.dcf.schema import integrity_keys
from cdrflow.dcf.store import ConflictError, Store
from cdrflow.workflow import integrity, review

from ..cli.runner import cli
from ..dbfixtures import (
    case_events,
    case_row,
    forget_cycles,
    owner_engine,
    sample_integrity,
    set_integrity_key,
    store_url,
    token_for,
)
from .test_review import DE, DE2, DECIDED, _at_de

SRC = Path(__file__).parents[2] / "src" / "cdrflow"
FY2026 = dt.date(2026, 1, 5)  # selected in FY 2026 (Oct 2025 - Sep 2026)
FY2027 = dt.date(2026, 10, 1)  # the first day of FY 2027


def _keys(store: Store) -> dict[int, bytes]:
    """What only the owner (a DBA, an auditor holding the key) can read."""
    with owner_engine(store).connect() as conn:
        return {r.year: bytes(r.key) for r in conn.execute(select(integrity_keys))}


def _draw(store: Store, case_id: str, selected_on: dt.date) -> integrity.Draw:
    with store.tx() as tx:
        return integrity.draw(tx, {"case_id": case_id, "selected_on": selected_on})


def test_a_key_per_fiscal_year_made_by_the_system_on_first_need(store: Store) -> None:
    assert _keys(store) == {}
    a = _draw(store, "M20260105-7K3QD9XW2A", FY2026)
    b = _draw(store, "M20261001-7K3QD9XW2A", FY2027)
    keys = _keys(store)
    assert set(keys) == {2026, 2027} and keys[2026] != keys[2027]
    assert all(len(k) == integrity.KEY_BYTES for k in keys.values())
    assert (a.key_year, b.key_year) == (2026, 2027)
    # the same case draws the same value again: the sample does not depend on when or how often one asks
    assert _draw(store, "M20260105-7K3QD9XW2A", FY2026) == a
    # the store's HMAC is HMAC-SHA256 of the case id under the year's key (on PostgreSQL computed in the database)
    assert a.hmac == hmac.new(keys[2026], b"M20260105-7K3QD9XW2A", hashlib.sha256).hexdigest()
    assert b.hmac == integrity.expected_hmac(keys[2027], "M20261001-7K3QD9XW2A").hex()
    assert a.draw == integrity.value_of(bytes.fromhex(a.hmac)) and a.selected is (a.draw < a.rate)
    # what is logged carries no key
    logged = json.dumps(a.as_dict())
    assert keys[2026].hex() not in logged and "key_year" in logged and a.hmac in logged


def test_the_hmac_is_rfc_4231(store: Store) -> None:
    """RFC 4231 test case 6 (a 131-byte key, longer than the block) through the store's own path."""
    set_integrity_key(store, 2030, b"\xaa" * 131)
    with store.tx() as tx:
        mac = integrity._store_hmac(tx, 2030, "Test Using Larger Than Block-Size Key - Hash Key First")
    assert mac.hex() == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"


def test_nothing_the_reviewer_sets_changes_the_draw(store: Store, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    cid = _at_de(store, tmp_path, "423450041")
    sample_integrity(store, {cid: True})
    monkeypatch.setenv("CDRFLOW_INTEGRITY_SEED", "1")  # the old way out of the sample
    late = DECIDED + dt.timedelta(days=400)  # another fiscal year and another date
    out = review.decide(store, cid, DE, late, full_cdr=False)
    assert out["outcome"] == "DO_CDR" and out["flipped"] is True
    logged = json.loads(next(e for e in case_events(store, cid) if e["event_type"] == "T2 DEFER CDR")["detail"])
    assert logged["integrity"]["key_year"] == 2026  # the case's selection year, not the reviewer's date
    with store.tx() as tx:
        case = tx.require_case(cid)
        assert integrity.verify(tx, case, logged["integrity"])
        assert not integrity.verify(tx, case, {**logged["integrity"], "hmac": "00" * 32})
    # no code reads a seed from the environment any more
    for path in SRC.rglob("*.py"):
        assert "INTEGRITY_SEED" not in path.read_text(encoding="utf-8"), path


def test_keys_are_never_changed_or_replaced(store: Store) -> None:
    set_integrity_key(store, 2026, b"k" * 32)
    owner = owner_engine(store)
    statements = ["UPDATE integrity_keys SET key = :k WHERE year = 2026",
                  "DELETE FROM integrity_keys WHERE year = 2026",
                  "INSERT INTO integrity_keys (year, key, created) VALUES (2026, :k, CURRENT_TIMESTAMP)"]
    if owner.dialect.name == "sqlite":
        statements.append("INSERT OR REPLACE INTO integrity_keys (year, key, created) VALUES (2026, :k, "
                          "CURRENT_TIMESTAMP)")
    else:
        statements.append("TRUNCATE integrity_keys")
    for sql in statements:
        with pytest.raises(DBAPIError), owner.begin() as conn:
            conn.execute(text(sql), {"k": b"x" * 32})
    with pytest.raises(DBAPIError), owner.begin() as conn:  # a key too short to be a secret
        conn.execute(text("INSERT INTO integrity_keys (year, key, created) VALUES (2031, :k, CURRENT_TIMESTAMP)"),
                     {"k": b"short"})
    assert _keys(store) == {2026: b"k" * 32}


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)
def test_the_application_role_reaches_the_keys_only_through_the_function(store: Store) -> None:
    """PostgreSQL: the application role cannot read, write or replace a key; it gets HMACs, never the key."""
    assert _draw(store, "M20260105-7K3QD9XW2A", FY2026).key_year == 2026  # created through the function
    for sql in ("SELECT key FROM integrity_keys", "SELECT count(*) FROM integrity_keys",
                "INSERT INTO integrity_keys (year, key, created) VALUES (2040, decode(repeat('00', 32), 'hex'), now())",
                "DELETE FROM integrity_keys"):
        with pytest.raises(DBAPIError, match="permission denied"), store.engine.begin() as conn:
            conn.execute(text(sql))
    with store.engine.connect() as conn:
        fn = conn.execute(text("SELECT p.prosecdef, has_function_privilege('public', p.oid, 'EXECUTE') "
                               "FROM pg_proc p WHERE p.proname = 'integrity_draw_hmac' "
                               "AND p.pronamespace = current_schema()::regnamespace")).one()
        got = conn.execute(text("SELECT integrity_draw_hmac(2026, 'M20260105-7K3QD9XW2A')")).scalar_one()
    assert fn == (True, False)  # SECURITY DEFINER; PUBLIC may not call it
    assert re.fullmatch(r"[0-9a-f]{64}", got) and bytes.fromhex(got) not in _keys(store).values()


def _normal(message: str, cid: str, actor_times: bool = True) -> str:
    out = message.replace(cid, "CASE")
    return re.sub(r" at \d{4}-\d\d-\d\d[ T][\d:.+]+", " at TIME", out) if actor_times else out


def _lose_the_race(store: Store, cid: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """DE2 reads the case; DE's deferral commits before DE2 writes; DE2's conflict message."""
    v = case_row(store, cid)["version"]
    real = review.draw
    first = {"done": False}

    def draw(tx: Any, case: Any) -> Any:
        if not first["done"]:  # DE2 has read the case at version v: now DE decides and commits
            first["done"] = True
            review.decide(store, cid, DE, DECIDED, full_cdr=False, expected_version=v)
        return real(tx, case)

    monkeypatch.setattr(review, "draw", draw)
    with pytest.raises(ConflictError) as lost:
        review.decide(store, cid, DE2, DECIDED, full_cdr=True, expected_version=v)
    monkeypatch.setattr(review, "draw", real)
    assert case_row(store, cid)["version"] == v + 1  # one version per decision, flipped or not
    return str(lost.value)


def test_a_reviewer_who_loses_the_race_learns_nothing_of_the_sample(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flipped = _at_de(store, tmp_path, "423450051")
    forget_cycles(store)  # a second selection run on the same day
    plain = _at_de(store, tmp_path, "423450052")
    sample_integrity(store, {flipped: True, plain: False})
    lost = {cid: _lose_the_race(store, cid, monkeypatch) for cid in (flipped, plain)}
    assert case_row(store, flipped)["integrity_flipped"] is True and case_row(store, plain)["state"] == "DEFERRED"
    # a second try at the version read: refused the same way for both
    again = {}
    for cid in (flipped, plain):
        v = case_row(store, cid)["version"] - 1
        with pytest.raises(ConflictError) as e:
            review.decide(store, cid, DE2, DECIDED, full_cdr=True, expected_version=v)
        again[cid] = str(e.value)
    for messages in (lost, again):
        assert _normal(messages[flipped], flipped) == _normal(messages[plain], plain), messages
        for text_ in messages.values():
            low = text_.lower()
            assert not any(w in low for w in ("integrity", "flip", "sampl", "initiate", "system", "do_cdr", "do cdr"))
    assert "jsmith:DE" in lost[flipped]  # it names who acted last
    # the reviewer's view of the case leaves out the sampler's flags
    code, shown = cli("review", "show", flipped, "--db", store_url(store), token=token_for(store, DE2.name, DE2.role))
    assert code == 0, shown
    assert "integrity" not in shown.lower() and "flip" not in shown.lower()


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_two_first_draws_of_a_year_at_once_share_one_key(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite makes the key in the application: two draws that both find no key make one, and both use it.
    (On PostgreSQL the function's INSERT ... ON CONFLICT DO NOTHING does the same inside the database.)"""
    import threading

    barrier = threading.Barrier(2, timeout=20)
    real = integrity.secrets.token_bytes

    def both_found_none(n: int) -> bytes:
        barrier.wait()  # both transactions have looked and found no key for the year
        return real(n)

    monkeypatch.setattr(integrity.secrets, "token_bytes", both_found_none)
    got: dict[str, Any] = {}

    def run(cid: str) -> None:
        try:
            got[cid] = _draw(store, cid, FY2026)
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            got[cid] = exc

    threads = [threading.Thread(target=run, args=(cid,)) for cid in ("M20260105-7K3QD9XW61", "M20260105-7K3QD9XW62")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(isinstance(d, integrity.Draw) for d in got.values()), got
    (key,) = _keys(store).values()
    assert all(d.hmac == integrity.expected_hmac(key, cid).hex() for cid, d in got.items())
