"""Intake runs: one file at a time, a file once per receipt date, and the runs that did not finish.

* :func:`hold` keeps a second process from ingesting the same file (by content) while one is at
  it: a PostgreSQL session advisory lock keyed by the schema and the file's hash, or on SQLite an
  exclusive ``flock`` on a lock file beside the database (``<db>.locks/``). Both are released by
  the operating system or the server when the process dies, so a killed run never holds a file.
  The loser gets :class:`FileHeld`, before it has written anything.
* :func:`previous_runs` finds the runs of a file; the intake refuses a file already ingested under
  another receipt date unless the operator overrides it with a reason
  (docs/interpretations.md §72).
* :func:`unfinished` lists ``ingest_runs`` rows without ``finished_at`` (a killed or failed run);
  a rerun of the same file for the same date closes them when it finishes (:func:`close_earlier`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from cdrflow import authz
from cdrflow.authz import Resource
from cdrflow.dcf.schema import ingest_runs
from cdrflow.dcf.store import Actor, Store, StoreError, now
from cdrflow.kernel.errors import Conflict, InvalidState


class FileHeld(StoreError, Conflict):
    """Another run is ingesting this file now; nothing was written by this one; a rerun later is safe."""


class AlreadyIngested(StoreError, InvalidState):
    """The file was ingested before under another receipt date and no override was given."""


def held_message(path: Path, sha: str) -> str:
    return (f"{path}: another run is ingesting this file (content sha256 {sha[:16]}…) right now; this run wrote "
            "nothing. A rerun is safe: when the other run has finished, run the same command again and it "
            "skips every record already ingested (`cdrflow runs` lists unfinished runs)")


def _sqlite_lock_dir(store: Store) -> Path | None:
    database = store.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    resolved = Path(database).resolve()  # one database by any spelling of its path: one lock
    return resolved.with_name(resolved.name + ".locks")


def _pg_key(conn: Any, sha: str) -> int:
    schema = conn.execute(text("SELECT current_schema()")).scalar_one() or ""
    digest = hashlib.sha256(f"cdrflow-ingest:{schema}:{sha}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def hold(store: Store, path: Path, sha: str) -> Iterator[None]:
    """Hold the file ``sha`` for this process while the block runs, or raise :class:`FileHeld`."""
    if store.engine.dialect.name == "postgresql":
        conn = store.engine.connect()
        try:
            key = _pg_key(conn, sha)
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one()
            conn.commit()  # a session lock outlives the transaction; the connection is not left in one
            if not got:
                raise FileHeld(held_message(path, sha))
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
        finally:
            conn.close()
        return
    lock_dir = _sqlite_lock_dir(store)
    if lock_dir is None:  # an in-memory database: one process only
        yield
        return
    import fcntl

    lock_dir.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(lock_dir / f"ingest-{sha[:32]}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FileHeld(held_message(path, sha)) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def is_held(store: Store, sha: str) -> bool:
    """Whether a live process holds the file ``sha`` now (a brief probe of :func:`hold`)."""
    try:
        with hold(store, Path("-"), sha):
            return False
    except FileHeld:
        return True


def previous_runs(store: Store, sha: str) -> list[dict[str, Any]]:
    with store.read() as tx:
        return [dict(r) for r in tx.conn.execute(
            select(ingest_runs).where(ingest_runs.c.file_sha256 == sha).order_by(ingest_runs.c.run_id)).mappings()]


def start(store: Store, path: Path, sha: str, as_of: dt.date, *, reingest_reason: str | None = None,
          operator: str | None = None) -> tuple[int, dict[str, Any] | None]:
    """Check the file's earlier runs and log this one: (run id, the override recorded, if any).

    A file already ingested under another receipt date raises :class:`AlreadyIngested` unless
    ``reingest_reason`` is given; then the override (reason, operator, the earlier runs and dates)
    is recorded in the run's ``counts`` and returned.
    """
    earlier = previous_runs(store, sha)
    other = sorted({r["as_of"] for r in earlier if r["as_of"] != as_of})
    override: dict[str, Any] | None = None
    if other:
        dates = ", ".join(str(d) for d in other)
        ids = ", ".join(str(r["run_id"]) for r in earlier if r["as_of"] != as_of)
        if reingest_reason is None or not reingest_reason.strip():
            raise AlreadyIngested(
                f"{path}: this file (content sha256 {sha[:16]}…) was already ingested as received on {dates} "
                f"(run {ids}); ingesting it as received on {as_of} would take its records as new receipts. "
                "Nothing was written. If WBDOC really sent the same file again, ingest it as a re-ingest with the "
                "reason (the override is logged with the run)", field="reingest_reason")
        override = {"reingest": True, "reason": reingest_reason.strip(), "operator": operator,
                    "earlier_runs": [r["run_id"] for r in earlier if r["as_of"] != as_of],
                    "earlier_as_of": [str(d) for d in other]}
    with store.tx() as tx:
        values: dict[str, Any] = {"file_sha256": sha, "file_name": str(path)[-300:], "as_of": as_of,
                                  "started_at": now()}
        if override is not None:
            values["counts"] = json.dumps({"override": override}, sort_keys=True)
        inserted = tx.conn.execute(ingest_runs.insert().values(**values)).inserted_primary_key
        assert inserted is not None
        return int(inserted[0]), override


def finish(store: Store, run_id: int, sha: str, as_of: dt.date, counts: dict[str, Any]) -> list[int]:
    """Mark the run finished with its counts and close the earlier unfinished runs of the same file and
    date (a killed run that this one completed); returns their ids."""
    with store.tx() as tx:
        tx.conn.execute(ingest_runs.update().where(ingest_runs.c.run_id == run_id)
                        .values(finished_at=now(), counts=json.dumps(counts, sort_keys=True, default=str)))
        return close_earlier(tx.conn, run_id, sha, as_of)


def close_earlier(conn: Any, run_id: int, sha: str, as_of: dt.date) -> list[int]:
    open_ = ingest_runs.c.finished_at.is_(None)
    rows = [dict(r) for r in conn.execute(select(ingest_runs.c.run_id, ingest_runs.c.counts).where(
        ingest_runs.c.file_sha256 == sha, ingest_runs.c.as_of == as_of, open_,
        ingest_runs.c.run_id < run_id)).mappings()]
    for r in rows:
        counts = json.loads(r["counts"]) if r["counts"] else {}
        counts["closed_by_run"] = run_id
        conn.execute(ingest_runs.update().where(ingest_runs.c.run_id == r["run_id"], open_)
                     .values(finished_at=now(), counts=json.dumps(counts, sort_keys=True)))
    return [r["run_id"] for r in rows]


def listing(store: Store, actor: Actor, *, everything: bool = False) -> list[dict[str, Any]]:
    """The intake runs, newest first: the unfinished ones (or all), each with ``status``:
    ``running`` (a live process holds the file), ``unfinished`` (stopped: rerun it), ``finished``,
    or ``closed by run N``."""
    with store.read() as tx:
        authz.require(tx, actor, "mailer.runs.read", Resource("ingest_runs"))
        stmt = select(ingest_runs).order_by(ingest_runs.c.run_id.desc())
        if not everything:
            stmt = stmt.where(ingest_runs.c.finished_at.is_(None))
        rows = [dict(r) for r in tx.conn.execute(stmt).mappings()]
    held: dict[str, bool] = {}
    for r in rows:
        counts = json.loads(r["counts"]) if r["counts"] else {}
        r["override"] = counts.get("override")
        if r["finished_at"] is None:
            if r["file_sha256"] not in held:
                held[r["file_sha256"]] = is_held(store, r["file_sha256"])
            r["status"] = "running" if held[r["file_sha256"]] else "unfinished"
        elif "closed_by_run" in counts:
            r["status"] = f"closed by run {counts['closed_by_run']}"
        else:
            r["status"] = "finished"
        r["counts"] = counts
    return rows
