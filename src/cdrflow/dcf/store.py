"""Writing to and reading from the DCF inside one transaction.

Everything that changes the DCF goes through :class:`Tx`: events are appended in batches (COPY on
PostgreSQL, one multi-row ``executemany`` on SQLite), current state is updated in the same
transaction, and a case update names the version it was read at (optimistic concurrency: two
reviewers acting on one case — one wins, the other gets :class:`ConflictError`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, bindparam, select, update
from sqlalchemy.exc import DBAPIError

from cdrflow.kernel.errors import Conflict, DomainError, InvalidState
from cdrflow.kernel.errors import NotFound as KernelNotFound
from cdrflow.kernel.roles import ROLES

from . import chain as _chain
from .schema import beneficiaries, cases, documents, events


class StoreError(DomainError):
    """An error of the DCF or a service over it; the subclasses say which of the kernel's kinds it is."""


class ConflictError(StoreError, Conflict):
    """The case changed since it was read: someone else acted first."""


class GuardError(StoreError, InvalidState):
    """A store-level guard refused the change (append-only log, integrity flip)."""


class NotFound(StoreError, KernelNotFound):
    pass


@dataclass(frozen=True)
class Actor:
    name: str
    role: str

    @classmethod
    def parse(cls, text: str) -> Actor:
        """``"jsmith:DE"`` -> Actor("jsmith", "DE")."""
        name, sep, role = text.partition(":")
        role = role.strip().upper()
        if not sep or not name.strip() or role not in ROLES:
            raise ValueError(f"--as {text[:80]!r}: expected NAME:ROLE with ROLE one of {', '.join(ROLES)}")
        name = name.strip()
        # The name is stored in every event's actor column: the same checks as any stored text (§71).
        from cdrflow.dcf.limits import limit, text_problem

        why = text_problem(name, limit(events.c.actor))
        if why is not None:
            raise ValueError(f"--as: the name {why}")
        return cls(name, role)

    def __str__(self) -> str:
        return f"{self.name}:{self.role}"


SELECTION = Actor("selection", "SYSTEM")
WBDOC = Actor("wbdoc", "WBDOC")
DCDRS = Actor("dcdrs", "DCDRS")
INTEGRITY = Actor("integrity-sampler", "SYSTEM")

_PROCESSORS: dict[tuple[str, str, tuple[str, ...]], list[Any]] = {}

EVENT_COLUMNS = ("case_id", "ssn", "event_date", "event_type", "code", "actor", "actor_role",
                 "policy_version", "detail", "idem_key", "recorded_at")


_JSON_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def dumps(obj: Any) -> str:
    """Canonical JSON (sorted keys, compact) for event details and document payloads; orjson for speed."""
    return orjson.dumps(obj, option=_JSON_OPTS, default=str).decode()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def event(
    *,
    ssn: str,
    case_id: str | None,
    event_date: dt.date,
    event_type: str,
    actor: Actor,
    code: str | None = None,
    policy_version: str | None = None,
    detail: dict[str, Any] | None = None,
    idem_key: str | None = None,
    recorded_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """One row for ``events``; ``detail`` is stored as JSON."""
    return {
        "case_id": case_id,
        "ssn": ssn,
        "event_date": event_date,
        "event_type": event_type,
        "code": code,
        "actor": actor.name,
        "actor_role": actor.role,
        "policy_version": policy_version,
        "detail": dumps(detail) if detail is not None else None,
        "idem_key": idem_key,
        "recorded_at": recorded_at,  # None: stamped once per batch by Tx.append
    }


def _guard(exc: Exception) -> StoreError:
    orig = getattr(exc, "orig", None)
    msg = str(orig) if orig is not None else str(exc)
    if "DI 40502.001G.7" in msg or "append-only" in msg or "DCF guard" in msg:
        return GuardError(msg.splitlines()[0])
    return StoreError(msg.splitlines()[0])


class Tx:
    """One unit of work on the DCF (a database transaction)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self._unsealed: dict[str, list[int]] = {}  # chained table -> ids inserted in this transaction
        self.access: list[dict[str, Any]] = []  # access-log rows (cdrflow.authz), written by Store.tx / read

    # ---- events ---------------------------------------------------------------------------
    def existing_keys(self, keys: Iterable[str], table: Any = events) -> set[str]:
        found: set[str] = set()
        batch = list(keys)
        if self.pg and batch:  # one array parameter instead of thousands of IN parameters
            sql = f"SELECT idem_key FROM {table.name} WHERE idem_key = ANY(%s)"  # noqa: S608 - table name
            found.update(r[0] for r in self.conn.exec_driver_sql(sql, (batch,)))
            return found
        for i in range(0, len(batch), 5000):
            chunk = batch[i : i + 5000]
            found.update(self.conn.execute(select(table.c.idem_key).where(table.c.idem_key.in_(chunk))).scalars())
        return found

    def append(self, rows: Sequence[dict[str, Any]]) -> int:
        """Append events in one batch. COPY on PostgreSQL; executemany on SQLite."""
        if not rows:
            return 0
        stamp = now()
        for r in rows:
            if r.get("recorded_at") is None:
                r["recorded_at"] = stamp
        self.insert_rows(events, EVENT_COLUMNS, rows)
        return len(rows)

    def insert_rows(self, table: Any, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
        """The batch insert of every bulk path: COPY on PostgreSQL, one driver ``executemany`` on SQLite.

        Database errors (the guards' included) come back as :class:`StoreError` / :class:`GuardError`.
        Rows of a chained table (``events``, ``exr_findings``, ``mpr_checks``) are linked to their hash
        chain when the transaction commits (:meth:`seal`).
        """
        try:
            if table.name in _chain.CHAINS:
                self._insert_chained(table, columns, rows)
            elif self.pg:
                self._copy(table, columns, rows)
            else:
                self._insert_many(table, columns, rows)
        except DBAPIError as exc:
            raise _guard(exc) from exc

    def insert_chained(self, table: Any, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert rows of a chained table (all with the same keys); returns their ids, in order."""
        if not rows:
            return []
        before = len(self._unsealed.get(table.name, []))
        self.insert_rows(table, list(rows[0]), rows)
        return self._unsealed[table.name][before:]

    def _insert_chained(self, table: Any, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
        """Insert and note the new ids for the seal: ids drawn first on PostgreSQL (COPY returns none);
        on SQLite one executemany under the write lock gives consecutive rowids ending at last_insert_rowid()."""
        id_col = _chain.CHAINS[table.name]
        n = len(rows)
        if self.pg:
            ids = self._next_ids(table.name, id_col, n)
            with_ids = [{**r, id_col: i} for r, i in zip(rows, ids, strict=True)]
            self._copy(table, [id_col, *(c for c in columns if c != id_col)], with_ids)
        else:
            self._insert_many(table, columns, rows)
            last = int(self.conn.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())
            ids = list(range(last - n + 1, last + 1))
        self._unsealed.setdefault(table.name, []).extend(ids)

    def _next_ids(self, table: str, id_col: str, n: int) -> list[int]:
        cache = self.conn.info.setdefault("cdrflow_sequences", {})
        seq = cache.get(table)
        if seq is None:
            seq = self.conn.exec_driver_sql("SELECT pg_get_serial_sequence(%s, %s)", (table, id_col)).scalar_one()
            cache[table] = seq
        return [int(r[0]) for r in self.conn.exec_driver_sql(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", (seq, n))]

    def write_access(self) -> None:
        """Insert the access-log rows collected so far (chained like the event log)."""
        if self.access:
            from .schema import access_log

            rows, self.access = self.access, []
            self.insert_chained(access_log, rows)

    def seal(self) -> int:
        """Link this transaction's new rows to their hash chains (``Store.tx`` calls it just before commit)."""
        if not self._unsealed:
            return 0
        try:
            added = _chain.seal(self.conn, self._unsealed)
        except DBAPIError as exc:
            raise _guard(exc) from exc
        except RuntimeError as exc:  # a DCF without its chain heads (not migrated), or rows gone before the seal
            raise StoreError(str(exc)) from exc
        self._unsealed = {}
        return added

    def _processors(self, table: Any, columns: Sequence[str]) -> list[Any]:
        key = (self.conn.dialect.name, table.name, tuple(columns))
        cached = _PROCESSORS.get(key)
        if cached is None:
            cached = [table.c[c].type.bind_processor(self.conn.dialect) for c in columns]
            _PROCESSORS[key] = cached
        return cached

    def _tuples(self, table: Any, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Rows as DB-API tuples, converted by the same bind processors SQLAlchemy would use."""
        procs = self._processors(table, columns)
        conv = [(i, p) for i, p in enumerate(procs) if p is not None]
        out: list[tuple[Any, ...]] = []
        for r in rows:
            vals = [r.get(c) for c in columns]
            for i, p in conv:
                v = vals[i]
                if v is not None:
                    vals[i] = p(v)
            out.append(tuple(vals))
        return out

    def _insert_many(self, table: Any, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
        """One ``executemany`` through the driver: the batch path, without per-row statement compilation."""
        mark = "%s" if self.pg else "?"
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"  # noqa: S608
        self.conn.exec_driver_sql(sql, self._tuples(table, columns, rows))

    def _copy(self, table: Any, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
        import psycopg

        raw = self.conn.connection.dbapi_connection
        assert raw is not None
        cols = ", ".join(columns)
        try:
            with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as cp:  # type: ignore[attr-defined]
                for r in rows:
                    cp.write_row(tuple(r[c] for c in columns))
        except psycopg.Error as exc:  # COPY runs below SQLAlchemy: map its errors like the others
            raise _guard(exc) from exc

    # ---- documents ------------------------------------------------------------------------
    def add_documents(self, rows: Sequence[dict[str, Any]]) -> int:
        if not rows:
            return 0
        cols = ("case_id", "ssn", "kind", "created_on", "payload", "disposed_on", "disposition", "idem_key")
        full = [{c: r.get(c) for c in cols} for r in rows]
        for r in full:
            if not isinstance(r["payload"], str):
                r["payload"] = dumps(r["payload"])
        self.insert_rows(documents, cols, full)
        return len(full)

    # ---- cases ----------------------------------------------------------------------------
    def insert_cases(self, rows: Sequence[dict[str, Any]]) -> int:
        if not rows:
            return 0
        stamp = now()
        full = [
            {"remailed": False, "integrity_selected": False, "integrity_flipped": False, "version": 1,
             "updated_at": stamp, **r}
            for r in rows
        ]
        self.insert_rows(cases, list(full[0]), full)
        return len(full)

    def update_cases(self, rows: Sequence[dict[str, Any]]) -> int:
        """Bulk update by ``case_id`` + expected ``version``; every row must hit or the batch is a conflict.

        Each row: ``{"case_id", "version" (as read), <columns to set>}``; all rows set the same columns.
        """
        if not rows:
            return 0
        columns = [c for c in rows[0] if c not in ("case_id", "version")]
        mark = "%s" if self.pg else "?"
        sets = ", ".join([*(f"{c} = {mark}" for c in columns), f"updated_at = {mark}", "version = version + 1"])
        sql = f"UPDATE cases SET {sets} WHERE case_id = {mark} AND version = {mark}"  # noqa: S608 - column names
        stamp = now()
        order = [*columns, "updated_at", "case_id", "version"]
        params = self._tuples(cases, order, [{**r, "updated_at": stamp} for r in rows])
        try:
            result = self.conn.exec_driver_sql(sql, params)
        except DBAPIError as exc:
            raise _guard(exc) from exc
        if result.rowcount != len(rows):
            raise ConflictError(
                f"{len(rows) - result.rowcount} of {len(rows)} case(s) changed since they were read; "
                "nothing was written"
            )
        return len(rows)

    def update_versioned(self, table: Any, key: Any, version: int, values: dict[str, Any],
                         conflict: Callable[[], str]) -> int:
        """The one optimistic lock: update the row of ``table`` whose primary key is ``key`` if it is still at
        ``version`` (``version`` becomes ``version + 1``); returns the new version. A row that moved on (or is
        gone) is a :class:`ConflictError` with the message ``conflict()`` builds (who acted, what to do); a
        guard's refusal is a :class:`GuardError`."""
        (pk,) = table.primary_key.columns
        try:
            hit = self.conn.execute(update(table).where(pk == key, table.c.version == version)
                                    .values(**values, version=version + 1)).rowcount
        except DBAPIError as exc:
            raise _guard(exc) from exc
        if hit != 1:
            raise ConflictError(conflict())
        return version + 1

    def update_case(self, case_id: str, expected_version: int, **changes: Any) -> int:
        """Update one case if it is still at ``expected_version``; returns the new version."""
        try:
            self.update_cases([{"case_id": case_id, "version": expected_version, **changes}])
        except ConflictError:
            current = self.case(case_id)
            who = ""
            if current is not None:
                # Who acted last, and when; not what: the system's actions after a reviewer's input (the
                # integrity sampler's flip) must not reach the reviewer who lost the race (DI 40502.001G.7,
                # "essentially invisible to the PC reviewer"; docs/interpretations.md#flip-visibility).
                last = self.conn.execute(
                    select(events.c.actor, events.c.actor_role, events.c.recorded_at)
                    .where(events.c.case_id == case_id, events.c.actor_role != "SYSTEM")
                    .order_by(events.c.event_id.desc()).limit(1)
                ).first()
                if last is not None:
                    who = f"; last changed by {last.actor}:{last.actor_role} at {last.recorded_at}"
            raise ConflictError(
                f"case {case_id} changed since you read it (you read version {expected_version}, it is now "
                f"{current['version'] if current else 'gone'}){who}. Reload the case and try again."
            ) from None
        return expected_version + 1

    def case(self, case_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
        stmt = select(cases).where(cases.c.case_id == case_id)
        if for_update and self.pg:
            stmt = stmt.with_for_update()
        row = self.conn.execute(stmt).mappings().first()
        return dict(row) if row is not None else None

    def require_case(self, case_id: str) -> dict[str, Any]:
        row = self.case(case_id)
        if row is None:
            raise NotFound(f"no case {case_id!r} in the DCF")
        return row

    # ---- beneficiaries --------------------------------------------------------------------
    def beneficiary(self, ssn: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(beneficiaries).where(beneficiaries.c.ssn == ssn)).mappings().first()
        return dict(row) if row is not None else None

    def update_beneficiary(self, ssn: str, **changes: Any) -> None:
        self.conn.execute(
            update(beneficiaries).where(beneficiaries.c.ssn == ssn)
            .values(**changes, version=beneficiaries.c.version + 1, updated_at=now())
        )

    def update_beneficiaries(self, rows: Sequence[dict[str, Any]]) -> int:
        """Bulk update by ``ssn``; all rows set the same columns."""
        if not rows:
            return 0
        columns = [c for c in rows[0] if c != "ssn"]
        stmt = (
            update(beneficiaries)
            .where(beneficiaries.c.ssn == bindparam("b_ssn"))
            .values({**{c: bindparam(f"v_{c}") for c in columns}, "version": beneficiaries.c.version + 1,
                     "updated_at": bindparam("v__stamp")})
        )
        stamp = now()
        self.conn.execute(stmt, [{"b_ssn": r["ssn"], "v__stamp": stamp, **{f"v_{c}": r[c] for c in columns}}
                                 for r in rows])
        return len(rows)


class Store:
    """The DCF: a SQLAlchemy engine plus transactions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        """One transaction. Its access-log rows (reads, changes and refusals the authorization recorded)
        commit with it; if it fails they are written on their own afterwards, so a refusal is always logged."""
        tx: Tx | None = None
        try:
            with self.engine.begin() as conn:
                tx = Tx(conn)
                yield tx
                tx.write_access()
                tx.seal()  # last, so the chain heads are locked for the shortest time, after every other lock
        except BaseException:
            if tx is not None and tx.access:
                self.log_access(tx.access)
            raise

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only connection; the access-log rows of what was read are written afterwards."""
        tx: Tx | None = None
        try:
            with self.engine.connect() as conn:
                tx = Tx(conn)
                yield tx
        finally:
            if tx is not None and tx.access:
                self.log_access(tx.access)

    def log_access(self, rows: Sequence[dict[str, Any]]) -> None:
        """Write access-log rows in a transaction of their own."""
        with self.engine.begin() as conn:
            tx = Tx(conn)
            tx.access = list(rows)
            tx.write_access()
            tx.seal()
