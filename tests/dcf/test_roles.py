"""Least privilege on PostgreSQL (issue 12, item 2): the application role, the owner, the refusals.

The ``store`` fixture (tests/dbfixtures.py) migrates each test schema as the owner role and connects
the store as the application role, as a deployment does (README "Deploy on PostgreSQL"). Here: the
application role holds exactly :data:`cdrflow.dcf.roles.POLICY`, cannot drop, alter, disable or
replace a guard, cannot truncate or rewrite an append-only table, cannot read the integrity keys,
cannot become the owner; ``cdrflow`` refuses to run as a superuser or as the owner; ``db roles`` is
idempotent and takes over a schema a superuser migrated; grants follow tables a later migration adds.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import DBAPIError

from cdrflow.dcf import db, roles
from cdrflow.dcf.schema import events, metadata
from cdrflow.dcf.store import SELECTION, Store, event

from ..cli.runner import cli
from ..dbfixtures import (
    PG_APP,
    PG_OWNER,
    _pg_admin_engine,
    insert_case,
    make_beneficiary,
    owner_engine,
    pg_url,
    role_url,
    seed_beneficiaries,
    store_url,
    token_for,
)

SSN = "123450001"
DAY = dt.date(2026, 1, 5)
INSUFFICIENT_PRIVILEGE = "42501"


PG = pytest.mark.parametrize("store", ["postgresql"], indirect=True)
"""PostgreSQL only: SQLite has no roles (whoever can write the file owns the DCF; issue 12 item 3 is its
protection). Parametrizing the ``store`` fixture this way runs these tests once, on PostgreSQL."""


@pytest.fixture
def pg_store(store: Store) -> Store:
    assert store.engine.dialect.name == "postgresql"
    return store


def _schema(store: Store) -> str:
    schema: str = store.test_schema  # type: ignore[attr-defined]
    return schema


def _refused(engine: Engine, sql: str, **params: Any) -> DBAPIError:
    """``sql`` in its own transaction must fail with insufficient_privilege (42501)."""
    with pytest.raises(DBAPIError) as info, engine.begin() as conn:
        conn.execute(text(sql), params)
    state = getattr(info.value.orig, "sqlstate", None)
    assert state == INSUFFICIENT_PRIVILEGE, (sql, state, str(info.value.orig))
    return info.value


def _seeded(store: Store) -> str:
    seed_beneficiaries(store, [make_beneficiary(SSN)])
    cid = insert_case(store, SSN, sent_on=DAY)
    with store.tx() as tx:
        tx.append([event(ssn=SSN, case_id=cid, event_date=DAY, event_type="T2 REMARK", actor=SELECTION,
                         idem_key="roles-test")])
    return cid


def _snapshot(store: Store) -> list[tuple[Any, ...]]:
    with owner_engine(store).connect() as conn:
        return [tuple(r) for r in conn.execute(select(events).order_by(events.c.event_id)).all()]


# ---- the map ------------------------------------------------------------------------------------------------

def test_the_policy_names_real_tables_and_columns() -> None:
    """Every table and column the map names is in the schema (a typo would silently grant nothing)."""
    tables = {t.name: {c.name for c in t.columns} for t in metadata.sorted_tables}
    tables["alembic_version"] = {"version_num"}
    for name, pol in roles.POLICY.items():
        assert name in tables, name
        cols = tables.get(name)
        if cols is None:
            continue
        named = pol.update.columns if isinstance(pol.update, roles.AllBut) else pol.update
        assert set(named) <= cols, (name, set(named) - cols)
    # append-only tables: INSERT and SELECT only
    for name in ("events", "exr_findings", "mpr_checks", "mpr_imports", "mpr_leie", "dcf_chain_links"):
        assert roles.policy_for(name).privileges(sorted(tables[name])) == ["SELECT", "INSERT"], name
    assert roles.policy_for("a_table_a_later_migration_adds") == roles.DEFAULT
    assert roles.DEFAULT.privileges(["a", "b"]) == ["SELECT", "INSERT"]
    assert not any(p.delete for p in roles.POLICY.values())  # the workflow deletes nothing


@PG
def test_the_application_role_holds_exactly_the_policy(pg_store: Store) -> None:
    schema = _schema(pg_store)
    with owner_engine(pg_store).connect() as conn:
        held = roles.table_grants(conn, schema, PG_APP)
        names = set(inspect(conn).get_table_names(schema=schema))
    for name in sorted(names):
        cols = [c["name"] for c in inspect(owner_engine(pg_store)).get_columns(name, schema=schema)]
        pol = roles.policy_for(name)
        want = {p for p in ("SELECT", "INSERT") if p in pol.privileges(cols)}
        want |= {f"UPDATE({c})" for c in pol.update_columns(cols)}
        assert held.get(name, set()) == want, name
    assert held["events"] == {"SELECT", "INSERT"}
    assert "UPDATE(case_id)" not in held["cases"] and "UPDATE(state)" in held["cases"]
    assert held["documents"] == {"SELECT", "INSERT", "UPDATE(disposed_on)", "UPDATE(disposition)"}


# ---- what the application role cannot do ------------------------------------------------------------------

GUARD_ATTACKS = [
    "DROP TABLE events",
    "DROP TABLE cases CASCADE",
    "ALTER TABLE events DISABLE TRIGGER ALL",
    "ALTER TABLE events DISABLE TRIGGER events_append_only",
    "ALTER TABLE cases DISABLE TRIGGER cases_flip_guard",
    "DROP TRIGGER events_append_only ON events",
    "DROP TRIGGER cases_flip_guard ON cases",
    "DROP FUNCTION dcf_events_append_only() CASCADE",
    "CREATE OR REPLACE FUNCTION dcf_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RETURN NEW; END $$",
    "CREATE OR REPLACE FUNCTION dcf_cases_flip_guard() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RETURN NEW; END $$",
    "ALTER TABLE events OWNER TO cdrflow_test_app",
    "ALTER TABLE events ADD COLUMN note text",
    "ALTER TABLE cases ALTER COLUMN state DROP NOT NULL",
    "CREATE TRIGGER sneaky BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION dcf_events_append_only()",
    "CREATE TABLE shadow (x int)",
    "CREATE INDEX ix_sneaky ON events (actor)",
    "COMMENT ON SCHEMA {schema} IS 'cdrflow DCF schema: owner x, application role y'",
    "ALTER DEFAULT PRIVILEGES FOR ROLE cdrflow_test_owner IN SCHEMA {schema} GRANT ALL ON TABLES TO PUBLIC",
    "ALTER SCHEMA {schema} OWNER TO cdrflow_test_app",
    "SET ROLE cdrflow_test_owner",
    "ALTER ROLE cdrflow_test_app SUPERUSER",
    "ALTER ROLE cdrflow_test_app CREATEROLE",
    "UPDATE alembic_version SET version_num = '0001'",
    "DELETE FROM alembic_version",
    "DROP SCHEMA {schema} CASCADE",
]

APPEND_ONLY = ["events", "exr_findings", "mpr_checks", "mpr_imports", "mpr_leie", "mpr_orgs", "mpr_people"]


@PG
@pytest.mark.parametrize("sql", GUARD_ATTACKS)
def test_the_application_role_cannot_touch_the_guards(pg_store: Store, sql: str) -> None:
    _seeded(pg_store)
    before = _snapshot(pg_store)
    _refused(pg_store.engine, sql.format(schema=f'"{_schema(pg_store)}"'))
    assert _snapshot(pg_store) == before
    with owner_engine(pg_store).connect() as conn:  # the guards are all still there and enabled
        triggers = dict(conn.execute(text(
            "SELECT t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s AND NOT t.tgisinternal"),
            {"s": _schema(pg_store)}).all())
    assert {"events_append_only", "events_no_truncate", "cases_flip_guard"} <= set(triggers)
    assert set(triggers.values()) == {"O"}


@PG
def test_the_application_role_cannot_truncate_update_or_delete_the_logs(pg_store: Store) -> None:
    cid = _seeded(pg_store)
    before = _snapshot(pg_store)
    with owner_engine(pg_store).connect() as conn:
        tables = set(inspect(conn).get_table_names(schema=_schema(pg_store)))
    for table in sorted(tables):  # TRUNCATE and DELETE: nothing the workflow does
        _refused(pg_store.engine, f"TRUNCATE {table}")
        _refused(pg_store.engine, f"TRUNCATE {table} CASCADE")
        _refused(pg_store.engine, f"DELETE FROM {table}")
    for table in APPEND_ONLY:
        assert table in tables
        col = inspect(owner_engine(pg_store)).get_columns(table, schema=_schema(pg_store))[1]["name"]
        _refused(pg_store.engine, f"UPDATE {table} SET {col} = {col}")
    _refused(pg_store.engine, "UPDATE events SET event_type = 'T2 REWRITTEN' WHERE idem_key = 'roles-test'")
    _refused(pg_store.engine, "UPDATE events SET detail = NULL")
    # columns the workflow never changes: a case's identity, a document's content
    _refused(pg_store.engine, "UPDATE cases SET case_id = 'X' WHERE case_id = :c", c=cid)
    _refused(pg_store.engine, "UPDATE cases SET ssn = '999999999' WHERE case_id = :c", c=cid)
    _refused(pg_store.engine, "UPDATE beneficiaries SET ssn = '999999999'")
    _refused(pg_store.engine, "UPDATE documents SET payload = '{}'")
    _refused(pg_store.engine, "INSERT INTO alembic_version VALUES ('9999')")
    with owner_engine(pg_store).connect() as conn:
        held = roles.table_grants(conn, _schema(pg_store), PG_APP)
    with pg_store.engine.begin() as conn:  # granting itself more is a warning that grants nothing
        conn.execute(text(f"GRANT ALL ON events, cases, documents TO {PG_APP}, PUBLIC"))
    _refused(pg_store.engine, f'GRANT TRUNCATE ON ALL TABLES IN SCHEMA "{_schema(pg_store)}" TO PUBLIC')
    with owner_engine(pg_store).connect() as conn:
        assert roles.table_grants(conn, _schema(pg_store), PG_APP) == held
        assert roles.table_grants(conn, _schema(pg_store), "PUBLIC") == {}
    _refused(pg_store.engine, "SELECT setval(pg_get_serial_sequence('events', 'event_id'), 1)")
    assert _snapshot(pg_store) == before
    with pg_store.tx() as tx:  # while what the workflow does still works
        v = tx.require_case(cid)["version"]
        tx.update_case(cid, v, review_stage="DE")


@PG
def test_the_application_role_cannot_read_the_secrets(pg_store: Store) -> None:
    secret = [t for t, p in roles.POLICY.items() if not p.select]
    assert secret, "the integrity keys are the application's secret (issue 12, item 4)"
    for table in secret:
        _refused(pg_store.engine, f"SELECT * FROM {table}")
        _refused(pg_store.engine, f"SELECT count(*) FROM {table}")
        _refused(pg_store.engine, f"COPY {table} TO STDOUT")
    with pg_store.engine.connect() as conn:  # the functions it needs, it may call
        for fn in roles.FUNCTIONS:
            assert conn.execute(text("SELECT has_function_privilege(current_user, CAST(:f AS regprocedure), "
                                     "'EXECUTE')"), {"f": fn}).scalar_one(), fn


@PG
def test_set_role_is_not_the_boundary_the_login_is(pg_store: Store) -> None:
    """The store's connections log in as the application role; RESET ROLE leaves them there."""
    with pg_store.engine.connect() as conn:
        conn.execute(text("RESET ROLE"))
        who = conn.execute(text("SELECT session_user, current_user")).one()
        info = roles.role_info(conn)
    assert tuple(who) == (PG_APP, PG_APP)
    assert not info.can_alter and not info.superuser and not info.createrole
    assert info.schema == _schema(pg_store) and info.schema_owner == PG_OWNER and info.app_role == PG_APP
    assert roles.refusal(info) is None


@PG
def test_the_application_role_may_not_migrate(pg_store: Store) -> None:
    assert db.upgrade(pg_store.engine) == db.head_revision(pg_store.engine)  # nothing to do: fine
    with pytest.raises(db.RoleRefused, match=r"as the schema owner \(cdrflow_test_owner\)"):
        db.upgrade(pg_store.engine, "0001")
    with pytest.raises(db.RoleRefused, match="runs as the schema owner"):
        db.check_role(pg_store.engine, owner_command=True)
    db.check_role(pg_store.engine)  # the application may run the application


# ---- cdrflow refuses a superuser and the owner -----------------------------------------------------------

def _admin_url(store: Store) -> str:
    return store_url(store).replace(store.test_url, db.resolve_url(pg_url()))  # type: ignore[attr-defined]


def _owner_url(store: Store) -> str:
    return store_url(store).replace(store.test_url, store.test_owner_url)  # type: ignore[attr-defined]


@PG
def test_cdrflow_refuses_a_superuser_and_the_owner(pg_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(db.ALLOW_SUPERUSER_ENV, raising=False)
    for url, who in ((_admin_url(pg_store), "a superuser"), (_owner_url(pg_store), "owns the DCF schema")):
        for args in (["review", "queue"], ["population", "generate", "--count", "5"], ["exr", "list"],
                     ["mpr", "org", "list"]):
            code, out = cli(*args, "--db", url)
            assert code == 2, (args, out)
            assert out.startswith("error: refusing to run as PostgreSQL role") and who in out, out
            assert out.count("\n") == 1 and "Traceback" not in out, out
    tok = token_for(pg_store, "dee", "DE", pc=7)  # a reviewer reads the queue (the refusals above come first)
    code, out = cli("review", "queue", "--db", store_url(pg_store), token=tok)
    assert code == 0, out
    # a throwaway database: the flag or the environment variable
    code, out = cli("--allow-superuser", "review", "queue", "--db", _admin_url(pg_store), token=tok)
    assert code == 0, out
    monkeypatch.setenv(db.ALLOW_SUPERUSER_ENV, "1")
    code, out = cli("review", "queue", "--db", _owner_url(pg_store), token=tok)
    assert code == 0, out
    monkeypatch.delenv(db.ALLOW_SUPERUSER_ENV)
    code, out = cli("review", "queue", "--db", _admin_url(pg_store))  # the flag held for one run only
    assert code == 2, out


@PG
def test_the_refusal_is_one_line_from_the_installed_command(pg_store: Store) -> None:
    env = {k: v for k, v in os.environ.items() if k != db.ALLOW_SUPERUSER_ENV}
    env["COLUMNS"] = "60"
    proc = subprocess.run([sys.executable, "-m", "cdrflow.cli", "review", "queue", "--db", _admin_url(pg_store)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: refusing to run as PostgreSQL role 'postgres'"), lines
    assert "CDRFLOW_ALLOW_SUPERUSER=1" in lines[0] and "--allow-superuser" in lines[0]


@PG
def test_db_upgrade_runs_as_the_owner(pg_store: Store) -> None:
    code, out = cli("db", "upgrade", "--db", _owner_url(pg_store))
    assert code == 0 and f"at revision {db.head_revision(pg_store.engine)}" in out, out
    code, out = cli("db", "upgrade", "--db", store_url(pg_store))
    assert code == 2 and "runs as the schema owner (cdrflow_test_owner)" in out and out.count("\n") == 1, out
    # a superuser on a configured schema migrates as the owner (what it creates belongs to the owner)
    code, out = cli("db", "upgrade", "--db", _admin_url(pg_store))
    assert code == 0, out


# ---- grants follow the migrations ------------------------------------------------------------------------

@PG
def test_a_table_a_later_migration_adds_gets_the_default_then_its_policy(
        pg_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = _schema(pg_store)
    owner = owner_engine(pg_store)
    with owner.begin() as conn:  # what a later migration does, as the owner
        conn.execute(text("CREATE TABLE chain_head (id int PRIMARY KEY, digest text, n bigserial)"))
    with pg_store.engine.begin() as conn:  # the owner's default privileges: INSERT and SELECT at once
        conn.execute(text("INSERT INTO chain_head (id, digest) VALUES (1, 'a')"))
        assert conn.execute(text("SELECT digest FROM chain_head")).scalar_one() == "a"
    _refused(pg_store.engine, "UPDATE chain_head SET digest = 'b'")
    _refused(pg_store.engine, "DELETE FROM chain_head")
    # the table needs UPDATE of one column: name it in the map; db upgrade re-applies the whole map
    monkeypatch.setitem(roles.POLICY, "chain_head", roles.TablePolicy(update=("digest",), why="test"))
    with owner.begin() as conn:  # and drift (a grant made by hand) is undone by the same re-application
        conn.execute(text(f"GRANT DELETE ON chain_head TO {PG_APP}"))
    db.upgrade(owner)
    with pg_store.engine.begin() as conn:
        conn.execute(text("UPDATE chain_head SET digest = 'b'"))
    _refused(pg_store.engine, "UPDATE chain_head SET id = 2")
    _refused(pg_store.engine, "DELETE FROM chain_head")
    with owner.connect() as conn:
        assert roles.table_grants(conn, schema, PG_APP)["chain_head"] == {"SELECT", "INSERT", "UPDATE(digest)"}


# ---- db roles ------------------------------------------------------------------------------------------

@pytest.fixture
def scratch_schema(pg_store: Store) -> Iterator[tuple[str, Engine]]:
    """A schema of its own for ``db roles``, dropped afterwards (and the roles' search path reset)."""
    admin = _pg_admin_engine(pg_url())
    schema = f"r_{uuid.uuid4().hex[:12]}"
    try:
        yield schema, admin
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            dbname = conn.execute(text("SELECT current_database()")).scalar_one()
            for role in (PG_OWNER, PG_APP):
                conn.execute(text(f'ALTER ROLE {role} IN DATABASE "{dbname}" RESET search_path'))
        admin.dispose()


def _url_in(url: str, schema: str) -> str:
    return f"{url}?options=-csearch_path%3D{schema}"


@PG
def test_db_roles_is_idempotent_and_takes_over_a_schema_a_superuser_migrated(
        scratch_schema: tuple[str, Engine]) -> None:
    schema, admin = scratch_schema
    admin_url = db.resolve_url(pg_url())
    with admin.connect() as conn:  # an existing DCF migrated as postgres (before this issue)
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    legacy = db.make_engine(admin_url, schema=schema)
    try:
        db.upgrade(legacy)
    finally:
        legacy.dispose()
    for run in (1, 2):
        code, out = cli("db", "roles", "--owner", PG_OWNER, "--app", PG_APP, "--schema", schema, "--db", admin_url)
        assert code == 0, out
        assert "events: SELECT, INSERT\n" in out and "cases: SELECT, INSERT, UPDATE (every column but" in out, out
        assert "integrity_keys: nothing" in out and "function integrity_draw_hmac(integer, text): EXECUTE" in out
        if run == 1:
            assert f'ALTER TABLE "{schema}"."events" OWNER TO "{PG_OWNER}";' in out, out
        else:
            assert "OWNER TO" not in out, out  # nothing left to take over
    with admin.connect() as conn:
        owners = set(conn.execute(text(
            "SELECT r.rolname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_roles r ON r.oid = c.relowner WHERE n.nspname = :s UNION "
            "SELECT r.rolname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "JOIN pg_roles r ON r.oid = p.proowner WHERE n.nspname = :s"), {"s": schema}).scalars())
    assert owners == {PG_OWNER}
    owner_url, app_url = role_url(pg_url(), PG_OWNER), role_url(pg_url(), PG_APP)
    code, out = cli("db", "upgrade", "--db", _url_in(owner_url, schema))
    assert code == 0, out
    app = db.make_engine(app_url, schema=schema)
    try:
        st = Store(app)
        seed_beneficiaries(st, [make_beneficiary(SSN)])
        insert_case(st, SSN, sent_on=DAY)
        _refused(app, "DROP TABLE events")
        _refused(app, "TRUNCATE events")
        tok = token_for(st, "dee", "DE", pc=7)
    finally:
        app.dispose()
    code, out = cli("review", "queue", "--db", _url_in(app_url, schema), token=tok)
    assert code == 0, out


@PG
def test_db_roles_refuses_what_would_break_least_privilege(scratch_schema: tuple[str, Engine],
                                                           tmp_path: Path) -> None:
    schema, _admin = scratch_schema
    admin_url = db.resolve_url(pg_url())
    code, out = cli("db", "roles", "--owner", PG_APP, "--app", PG_APP, "--schema", schema, "--db", admin_url)
    assert code == 2 and "two different roles" in out, out
    code, out = cli("db", "roles", "--owner", "postgres", "--app", PG_APP, "--schema", schema, "--db", admin_url)
    assert code == 2 and "is a superuser" in out, out
    code, out = cli("db", "roles", "--owner", "Bad-Name", "--app", PG_APP, "--schema", schema, "--db", admin_url)
    assert code == 2 and "--owner 'Bad-Name'" in out, out
    code, out = cli("db", "roles", "--owner", PG_OWNER, "--app", PG_APP, "--schema", schema,
                    "--db", role_url(pg_url(), PG_APP))
    assert code == 2 and "run by an administrator" in out, out
    code, out = cli("db", "roles", "--owner", PG_OWNER, "--app", PG_APP, "--db", f"sqlite:///{tmp_path}/x.db")
    assert code == 2 and "for PostgreSQL" in out, out
    assert not (tmp_path / "x.db").exists()
