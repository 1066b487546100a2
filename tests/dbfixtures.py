"""DCF backend fixtures: one contract suite, two backends (SQLite file, PostgreSQL schema per test).

``store`` is parametrized over ``["sqlite", "postgresql"]``. PostgreSQL comes from
``CDRFLOW_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``), an administrator.
The tests run as a deployment does (README "Deploy on PostgreSQL"): a session fixture creates two
login roles (``cdrflow_test_owner``, ``cdrflow_test_app``) with the code of ``cdrflow db roles``;
each test gets its own schema owned and migrated by the owner role, and the ``Store`` connects as
the application role (a separate login, not ``SET ROLE``, which the application could reset).
``owner_engine(store)`` is the owner's engine, for what only a DBA may do (a downgrade, deleting
the cycles log, trying a statement that the database's triggers must refuse). The schema is dropped
afterwards. When PostgreSQL cannot be reached the test is skipped, except in CI (``CI`` is ``true``
or ``1``), where it fails: CI must run both backends.

Also helpers that build valid rows for the lifecycle tests: beneficiaries, returned mailers, cases.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, delete, select, text
from sqlalchemy.engine import make_url

from cdrflow.dcf import db, roles
from cdrflow.dcf.schema import cases, cycles, documents, events
from cdrflow.dcf.store import SELECTION, Store, event
from cdrflow.workflow import population
from cdrflow.workflow.cycle import new_case_id

PG_URL_ENV = "CDRFLOW_TEST_PG_URL"
PG_DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", "postgresql"]
PG_OWNER = "cdrflow_test_owner"
PG_APP = "cdrflow_test_app"
PG_TEST_PASSWORD = "cdrflow-test-only"  # a throwaway password, so the login works under md5/scram as under trust


def pg_url() -> str:
    return os.environ.get(PG_URL_ENV) or PG_DEFAULT_URL


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def _pg_admin_engine(url: str) -> Engine:
    """An engine for schema administration, or skip/fail when PostgreSQL is unreachable."""
    resolved = db.resolve_url(url)
    engine = create_engine(resolved, connect_args={"connect_timeout": 5}, isolation_level="AUTOCOMMIT")
    reason = None
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        engine.dispose()
        reason = f"PostgreSQL at {url} ({PG_URL_ENV}) is unreachable: {str(exc).splitlines()[0]}"
    if reason is not None:
        if in_ci():
            pytest.fail(f"{reason}. CI must run the DCF contract suite on PostgreSQL too; start the service.",
                        pytrace=False)
        pytest.skip(reason)
    return engine


def role_url(url: str, role: str) -> str:
    """The administrator's URL with another login role (the test password; trust auth ignores it)."""
    return make_url(db.resolve_url(url)).set(username=role, password=PG_TEST_PASSWORD).render_as_string(
        hide_password=False)


@pytest.fixture(scope="session")
def pg_roles() -> Iterator[tuple[str, str]]:
    """The owner and application login roles, created (idempotently) by the code of ``cdrflow db roles``.

    CI runs on a fresh clone against whatever server it has, so the session creates them itself.
    Yields the owner's and the application's URLs.
    """
    url = pg_url()
    admin = _pg_admin_engine(url)
    try:
        with admin.connect() as conn, conn.begin():
            roles.ensure_roles(conn, PG_OWNER, PG_APP)
            for role in (PG_OWNER, PG_APP):
                conn.execute(text(f"ALTER ROLE {role} PASSWORD '{PG_TEST_PASSWORD}'"))
    finally:
        admin.dispose()
    yield role_url(url, PG_OWNER), role_url(url, PG_APP)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty DCF on the backend named by the parameter (PostgreSQL: as the application role)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/dcf.db"
        engine = db.make_engine(url)
        db.upgrade(engine)
        st = Store(engine)
        st.test_url = url  # type: ignore[attr-defined]
        st.test_schema = None  # type: ignore[attr-defined]
        st.owner_engine = engine  # type: ignore[attr-defined]
        try:
            yield st
        finally:
            engine.dispose()
        return
    owner_url, app_url = request.getfixturevalue("pg_roles")
    admin = _pg_admin_engine(pg_url())
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn, conn.begin():
        roles.prepare_schema(conn, schema, PG_OWNER, PG_APP)
    owner = db.make_engine(owner_url, schema=schema)
    engine = db.make_engine(app_url, schema=schema)
    try:
        db.upgrade(owner)  # as the owner, which re-applies the application role's grants
        st = Store(engine)
        st.test_url = app_url  # type: ignore[attr-defined]
        st.test_schema = schema  # type: ignore[attr-defined]
        st.test_owner_url = owner_url  # type: ignore[attr-defined]
        st.owner_engine = owner  # type: ignore[attr-defined]
        yield st
    finally:
        engine.dispose()
        owner.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def owner_engine(st: Store) -> Engine:
    """The schema owner's engine (PostgreSQL) or the store's own (SQLite): for what only a DBA may do."""
    eng: Engine = st.owner_engine  # type: ignore[attr-defined]
    return eng


def store_url(st: Store) -> str:
    """The ``--db`` URL of a test store: PostgreSQL tests carry their schema as the search path."""
    url: str = st.test_url  # type: ignore[attr-defined]
    schema = st.test_schema  # type: ignore[attr-defined]
    if schema:
        url += "?options=" + quote(f"-csearch_path={schema}")
    return url


# ---- rows ---------------------------------------------------------------------------------------

def make_beneficiary(ssn: str, **overrides: Any) -> dict[str, Any]:
    """A full, valid ``beneficiaries`` row (every column but version/updated_at)."""
    row: dict[str, Any] = {
        "ssn": ssn,
        "bic_or_id": "A",
        "name": f"TEST PERSON {ssn[-4:]}",
        "birth_date": dt.date(1970, 5, 1),
        "title": "T2",
        "application_date": dt.date(2019, 3, 1),
        "entitlement_date": dt.date(2019, 9, 1),
        "onset_date": dt.date(2019, 1, 15),
        "diagnosis_primary": "2950",
        "diagnosis_secondary": None,
        "impairment": "Schizophrenic and other psychotic disorders",
        "od_calc_mdr": "7",
        "qmid_mdr": "7",
        "ssr_mr": None,
        "diary_month": "2026-01",
        "ssi_diary_month": None,
        "profile": "L",
        "profile_score": 0.012,
        "recent_earnings_year": None,
        "recent_earnings": None,
        "initial_claim": "DDS allowance 2019-09",
        "prior_cdr": None,
        "servicing_pc": 7,
        "dds": "GA",
        "fo_doors": "A12",
        "fo_city": "Atlanta",
        "fo_state": "GA",
        "fo_zip": "30303",
        "rep_payee": None,
        "language": "ENGLISH",
        "address_line": "100 PEACHTREE ST",
        "city": "ATLANTA",
        "state": "GA",
        "zip": "30303",
        "country": "US",
        "foreign_address": False,
        "phone": "404-555-0100",
        "date_of_death": None,
        "folder_location": None,
        "folder_date_in_location": None,
        "qmid_medical_blank": None,
    }
    unknown = set(overrides) - set(row)
    if unknown:
        raise KeyError(f"not beneficiaries columns: {sorted(unknown)}")
    row.update(overrides)
    return row


def seed_beneficiaries(store: Store, rows: Sequence[dict[str, Any]]) -> Any:
    return population.load(store, list(rows))


BASE_ANSWERS: dict[str, Any] = {
    "title": "T2",
    "form": "SSA-455-OCR-SM",
    "request": "FIRST",
    "profile": "L",
    "report_period_start": "2024-02",
    "signed": True,
    "signer": "BENEFICIARY",
    "q1a_worked": "NO",
    "q2_school": "NO",
    "q3_doctor_work": "CANNOT_WORK",
    "q4_health": "SAME",
    "q5_doctor_visits": "YES",
    "q6_hospitalized": "NO",
}
"""A LOW-profile mailer whose answers agree with the profile: DCDRS DEFERs it (checked with
``cdrflow calc mailer-decision``); ``q1a_worked="YES"`` makes it a PSC MAILER PC review (message 4, BET/DT)."""


def returned_mailer(case_id: str, ssn: str, **answers: Any) -> dict[str, Any]:
    """A returned-mailer record for ``case_id`` (ReturnedMailer fields plus any intake markers)."""
    return {"mailer_id": case_id, "ssn": ssn, **BASE_ANSWERS, **answers}


def write_jsonl(path: Path, records: Iterable[dict[str, Any] | str]) -> Path:
    """One JSON object per line; a ``str`` record is written as is (for malformed lines)."""
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write((r if isinstance(r, str) else json.dumps(r, default=str)) + "\n")
    return path


def case_id_for(store: Store, selected_on: dt.date, ssn: str) -> str:
    """The id of the case of ``ssn`` selected on ``selected_on`` (case ids are opaque, interpretations §78:
    the DCF is asked, nothing is made from the SSN)."""
    with store.read() as tx:
        ids = list(tx.conn.execute(select(cases.c.case_id).where(cases.c.ssn == ssn,
                                                                 cases.c.selected_on == selected_on)).scalars())
    assert len(ids) == 1, f"{len(ids)} cases of the SSN selected on {selected_on}"
    return str(ids[0])


def insert_case(store: Store, ssn: str, *, title: str = "T2", request: str = "FIRST", sent_on: dt.date,
                state: str = "SENT", last_event: str | None = None, pc: int = 7,
                case_id: str | None = None, **extra: Any) -> str:
    """A mailer case and its latest "... MAILER SENT" event, as if a run on ``sent_on`` had sent it.

    No ``cycles`` row is written, so the next ``run_cycle`` is not held back by the cadence.
    """
    what = "INITIAL MAILER SENT" if request == "FIRST" else "SECOND MAILER SENT"
    last_event = last_event or f"{title} {what}"
    cid = case_id or new_case_id(sent_on)
    row = {"case_id": cid, "ssn": ssn, "title": title, "profile": "L", "selected_on": sent_on, "request": request,
           "send_request_date": sent_on, "report_period_start": f"{sent_on.year - 2}-{sent_on.month:02d}",
           "state": state, "last_event": last_event, "last_event_date": sent_on, "pc": pc, **extra}
    with store.tx() as tx:
        tx.insert_cases([row])
        tx.append([event(ssn=ssn, case_id=cid, event_date=sent_on, event_type=last_event,
                         code="001" if request == "FIRST" else None, actor=SELECTION,
                         idem_key=f"test:{cid}:{what}")])
    return cid


def forget_cycles(store: Store) -> None:
    """Delete the cycles log so the next run is not held back by the G.6 cadence (tests of day counts).

    As the owner: the application role may not delete from ``cycles``.
    """
    with owner_engine(store).begin() as conn:
        conn.execute(delete(cycles))


def case_row(store: Store, case_id: str) -> dict[str, Any]:
    with store.read() as tx:
        return tx.require_case(case_id)


def beneficiary_row(store: Store, ssn: str) -> dict[str, Any]:
    with store.read() as tx:
        row = tx.beneficiary(ssn)
    assert row is not None
    return row


def case_events(store: Store, case_id: str) -> list[dict[str, Any]]:
    with store.read() as tx:
        return [dict(r) for r in tx.conn.execute(
            select(events).where(events.c.case_id == case_id).order_by(events.c.event_id)).mappings()]


def event_types(store: Store, case_id: str) -> list[str]:
    return [e["event_type"] for e in case_events(store, case_id)]


def case_documents(store: Store, case_id: str) -> list[dict[str, Any]]:
    with store.read() as tx:
        return [dict(r) for r in tx.conn.execute(
            select(documents).where(documents.c.case_id == case_id).order_by(documents.c.doc_id)).mappings()]


def count_rows(store: Store, table: Any) -> int:
    with store.read() as tx:
        return len(tx.conn.execute(select(table)).all())


def all_cases(store: Store) -> dict[str, dict[str, Any]]:
    with store.read() as tx:
        return {r["case_id"]: dict(r) for r in tx.conn.execute(select(cases)).mappings()}


def set_integrity_key(store: Store, year: int, key: bytes) -> None:
    """Test-only: install the integrity key of fiscal ``year`` (refused by the database if the year has one).

    The application never sets a key (the system creates one on first need); tests that need a known
    sample install one before the year's first draw. No environment variable or option does this.
    """
    from cdrflow.dcf.schema import integrity_keys

    with owner_engine(store).begin() as conn:  # the application role may not touch integrity_keys
        conn.execute(integrity_keys.insert().values(year=year, key=key, created=dt.datetime.now(dt.UTC)))


def sample_integrity(store: Store, wanted: dict[str, bool]) -> dict[int, bytes]:
    """Test-only: install, per fiscal year, a key under which each case's draw is (not) selected as ``wanted``.

    Call it before the first draw of that fiscal year (the cases' selection year; a key is never replaced).
    Returns the keys installed, by year.
    """
    from cdrflow.workflow import common as c
    from cdrflow.workflow.integrity import expected_hmac, key_year, value_of

    by_year: dict[int, list[tuple[str, float, bool]]] = {}
    with store.read() as tx:
        for cid, selected in wanted.items():
            on = tx.require_case(cid)["selected_on"]
            by_year.setdefault(key_year(on), []).append((cid, c.integrity_rate(on), selected))
    keys: dict[int, bytes] = {}
    for year, cases_ in by_year.items():
        for n in range(1, 1_000_000):
            key = f"test integrity key {year} #{n:08d}".encode()  # 38 bytes: the store wants at least 32
            if all((value_of(expected_hmac(key, cid)) < rate) is selected for cid, rate, selected in cases_):
                set_integrity_key(store, year, key)
                keys[year] = key
                break
        else:  # pragma: no cover
            raise AssertionError(f"no key found for {cases_}")
    return keys


# ---- people (issue 13): the principals tests act as -------------------------------------------------

def person(st: Store, name: str, role: str, *, pc: int | None = None, org: str | None = None,
           module: str | None = None) -> Any:
    """An active person of the DCF's people table (created if missing, as an administrator would) as the
    authenticated principal a service receives."""
    from sqlalchemy import insert

    from cdrflow.authz import principal_from_row
    from cdrflow.dcf.schema import people
    from cdrflow.dcf.store import now

    with st.tx() as tx:
        row = tx.conn.execute(select(people).where(people.c.name == name)).first()
        if row is None:
            tx.conn.execute(insert(people).values(name=name, role=role, kind="PERSON", pc=pc, module=module, org=org,
                                                  active=True, created_at=now(), created_by="tests", version=1))
            row = tx.conn.execute(select(people).where(people.c.name == name)).first()
        return principal_from_row(tx, row, via="test")


def staff_for(st: Store, role: str, case_id: str) -> Any:
    """A person of ``role`` at the processing center of ``case_id`` (``{role}-pc{N}``)."""
    pc = case_row(st, case_id)["pc"]
    return person(st, f"{role.lower()}-pc{pc}", role, pc=pc)


def token_for(st: Store, name: str, role: str, **where: Any) -> str:
    """A personal token for ``name`` (created as :func:`person`), for ``CDRFLOW_TOKEN`` in CLI tests."""
    import secrets

    from sqlalchemy import insert

    from cdrflow.dcf.schema import person_tokens
    from cdrflow.dcf.store import now
    from cdrflow.workflow.people import token_hash

    p = person(st, name, role, **where)
    token = "cdrf_" + secrets.token_urlsafe(24)
    with st.tx() as tx:
        tx.conn.execute(insert(person_tokens).values(person_id=p.person_id, token_hash=token_hash(token),
                                                     created_at=now(), created_by="tests"))
    return token


def access_rows(st: Store, **where: Any) -> list[dict[str, Any]]:
    """Access-log rows (oldest first) whose columns equal ``where`` (person, action, outcome, resource, ...)."""
    from cdrflow.dcf.schema import access_log

    q = select(access_log).order_by(access_log.c.log_id)
    for col, value in where.items():
        q = q.where(access_log.c[col] == value)
    with st.read() as tx:
        return [dict(r) for r in tx.conn.execute(q).mappings()]


def assert_denied(st: Store, person: str, action: str, resource: str | None = None) -> dict[str, Any]:
    """The refusal of ``action`` to ``person`` (on ``resource``) is in the access log as DENIED; the last such row."""
    rows = access_rows(st, person=person, action=action, outcome="DENIED",
                       **({"resource": resource} if resource is not None else {}))
    assert rows, f"no DENIED access-log row for {person} {action} {resource or ''}"
    return rows[-1]
