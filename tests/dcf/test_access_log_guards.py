"""The access log, the people table and the tokens hold against data statements, not only our code (issue 13).

Every statement is run as someone with DCF access but no DDL (SQLite: a plain connection to the file;
PostgreSQL: the schema owner and the application role). Each must be refused by a guard (or, for the
application role, by a missing privilege) and leave the three tables as they were; the access log's hash
chain still verifies afterwards.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select, text

from cdrflow import authz
from cdrflow.authz import Resource
from cdrflow.dcf import chain
from cdrflow.dcf.schema import access_log, people, person_tokens
from cdrflow.dcf.store import Store
from cdrflow.kernel.errors import Forbidden
from cdrflow.workflow import people as people_service

from ..dbfixtures import person, token_for
from .dcfworld import attacker_engines, refused

ATTACKS = [
    ("edit an access-log entry", "UPDATE access_log SET outcome = 'ALLOWED' WHERE outcome = 'DENIED'"),
    ("blank a reveal's reason", "UPDATE access_log SET reason = NULL"),
    ("delete the access log", "DELETE FROM access_log"),
    ("delete one person's entries", "DELETE FROM access_log WHERE person = 'flc3'"),
    ("delete a person", "DELETE FROM people WHERE name = 'flc3'"),
    ("rename a person", "UPDATE people SET name = 'someone-else' WHERE name = 'flc3'"),
    ("turn a system component into a person", "UPDATE people SET kind = 'PERSON' WHERE name = 'selection'"),
    ("delete the tokens", "DELETE FROM person_tokens"),
    ("swap a token's hash", "UPDATE person_tokens SET token_hash = 'x'"),
    ("give a token to another person", "UPDATE person_tokens SET person_id = person_id + 1"),
    ("un-revoke a token", "UPDATE person_tokens SET revoked_at = NULL WHERE revoked_at IS NOT NULL"),
]
SQLITE_ONLY = [
    ("REPLACE an access-log entry", "REPLACE INTO access_log (log_id, at, person, role, action, kind, resource, "
     "outcome) SELECT log_id, at, person, role, action, kind, resource, 'ALLOWED' FROM access_log "
     "WHERE outcome = 'DENIED'"),
    ("REPLACE a person", "REPLACE INTO people SELECT * FROM people WHERE name = 'flc3'"),
    ("REPLACE a token", "REPLACE INTO person_tokens SELECT * FROM person_tokens"),
]
PG_ONLY = [(f"TRUNCATE {t}", f"TRUNCATE {t} CASCADE") for t in ("access_log", "people", "person_tokens")]
GUARD = re.compile(r"append-only|never deleted|never deleted or changed|revoked")
PRIVILEGE = re.compile(r"permission denied|must be owner")


def _snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    with store.read() as tx:
        return {t.name: [tuple(r) for r in tx.conn.execute(select(t).order_by(*t.primary_key.columns))]
                for t in (access_log, people, person_tokens)}


def test_the_access_log_people_and_tokens_refuse_data_statements(store: Store) -> None:
    clerk = person(store, "flc3", "FLC", pc=3)
    token_for(store, "de3", "DE", pc=3)
    token_for(store, "gone", "DT", pc=3)
    admin = person(store, "admin1", "ADMIN")
    people_service.disable(store, admin, "gone")  # a revoked token
    try:
        with store.tx() as tx:
            authz.require(tx, clerk, "people.manage", Resource("person", "x"))
    except Forbidden:
        pass
    before = _snapshot(store)
    assert any(r for r in before["access_log"] if "DENIED" in r)
    backend = store.engine.dialect.name
    statements = ATTACKS + (SQLITE_ONLY if backend == "sqlite" else PG_ONLY)
    accepted, wrong = [], []
    for who, engine in attacker_engines(store).items():
        for label, sql in statements:
            why = refused(engine, sql, {})
            if why is None:
                accepted.append(f"{who}: {label}")
            elif not GUARD.search(why) and not (who == "application" and PRIVILEGE.search(why)):
                wrong.append(f"{who}: {label}: {why}")
            assert _snapshot(store) == before, f"{who}: {label}: the data changed"
    assert not accepted, accepted
    assert not wrong, wrong
    with store.read() as tx:
        report = chain.verify(tx.conn)
    assert report.ok, [p.line() for p in report.problems]


def test_a_deleted_access_log_entry_shows_in_verify(store: Store) -> None:
    """Around the guard (the owner drops the SQLite trigger / disables PostgreSQL's): verify names it."""
    clerk = person(store, "flc3", "FLC", pc=3)
    for _ in range(3):
        try:
            with store.tx() as tx:
                authz.require(tx, clerk, "audit.read", Resource("access_log"))
        except Forbidden:
            pass
    owner = attacker_engines(store).get("owner") or store.engine
    with owner.begin() as conn:
        if store.engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER access_log_no_delete"))
        else:
            conn.execute(text("ALTER TABLE access_log DISABLE TRIGGER access_log_append_only"))
        conn.execute(text("DELETE FROM access_log WHERE log_id = (SELECT min(log_id) FROM access_log)"))
    with store.read() as tx:
        report = chain.verify(tx.conn)
    kinds = {(p.chain, p.kind) for p in report.problems}
    assert ("access_log", "MISSING_ROW") in kinds or ("access_log", "GAP") in kinds, kinds
