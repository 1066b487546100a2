"""Connecting to the DCF and migrating it: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

DEFAULT_URL = "sqlite:///cdrflow.db"
ENV_VAR = "CDRFLOW_DATABASE_URL"
_HERE = Path(__file__).resolve().parent


class StoreNotReady(RuntimeError):
    """The database is missing tables or is behind the code's migrations."""


def resolve_url(url: str | None = None) -> str:
    """``--db URL`` wins, then ``CDRFLOW_DATABASE_URL``, then ``sqlite:///cdrflow.db``.

    A plain ``postgresql://`` URL is given the psycopg 3 driver.
    """
    raw = url or os.environ.get(ENV_VAR) or DEFAULT_URL
    u = make_url(raw)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def make_engine(url: str | None = None, *, schema: str | None = None, **kw: Any) -> Engine:
    """An engine for the DCF. ``schema`` (PostgreSQL only) sets the search_path, used by tests."""
    resolved = resolve_url(url)
    u = make_url(resolved)
    if u.get_backend_name() == "sqlite":
        engine = create_engine(resolved, **kw)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _rec: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if u.get_backend_name() != "postgresql":
        raise ValueError(f"unsupported database URL {u.render_as_string()!r}: use sqlite:/// or postgresql://")
    if schema is not None:
        kw.setdefault("connect_args", {})["options"] = f"-csearch_path={schema}"
    return create_engine(resolved, **kw)


def alembic_config(engine: Engine) -> Config:
    cfg = Config(str(_HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Apply migrations up to ``revision``; returns the revision the database is at."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return current_revision(engine) or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None
    return head


def require_current(engine: Engine) -> None:
    """Refuse to work on a database that is not migrated to head, with the command that fixes it."""
    cur = current_revision(engine)
    head = head_revision(engine)
    if cur != head:
        raise StoreNotReady(
            f"database {engine.url.render_as_string()} is at revision {cur or 'none'}, code needs {head}: "
            "run `cdrflow db upgrade`"
        )
