"""Connecting to the DCF and migrating it: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from cdrflow.kernel.settings import DEFAULT_DATABASE_URL as DEFAULT_URL

ENV_VAR = "CDRFLOW_DATABASE_URL"
"""Read by :class:`cdrflow.kernel.settings.Settings` (``database_url``), never here."""
ALLOW_SUPERUSER_ENV = "CDRFLOW_ALLOW_SUPERUSER"
"""Read by :class:`cdrflow.kernel.settings.Settings` (``allow_superuser``), never here."""
_HERE = Path(__file__).resolve().parent


class StoreNotReady(RuntimeError):
    """The database is missing tables or is behind the code's migrations."""


class RoleRefused(StoreNotReady):
    """PostgreSQL: the connecting role may not run this command (a superuser or the schema owner running
    the application, or the application role trying to migrate). The message is one line."""


def resolve_url(url: str | None = None) -> str:
    """``url``, else ``sqlite:///cdrflow.db``; a plain ``postgresql://`` URL is given the psycopg 3 driver.

    Which URL (``--db``, then ``CDRFLOW_DATABASE_URL``) is the caller's to say: the CLI passes
    ``Settings.database(db)`` (cdrflow.kernel.settings).
    """
    raw = url or DEFAULT_URL
    u = make_url(raw)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def make_engine(url: str | None = None, *, schema: str | None = None, **kw: Any) -> Engine:
    """An engine for the DCF. ``schema`` (PostgreSQL only) sets the search_path, used by tests."""
    resolved = resolve_url(url)
    u = make_url(resolved)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:" and not u.database.startswith("file:"):
            from cdrflow.safeio import private_file

            private_file(Path(u.database))  # owner-only; SQLite gives its WAL and shm files the same mode
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
    """Apply migrations up to ``revision``; returns the revision the database is at.

    On PostgreSQL with the roles configured (``cdrflow db roles``), the migration runs as the schema
    owner (a superuser's session switches to it for this transaction) and the application role's
    grants are re-applied afterwards, so a table a migration adds gets exactly what
    ``cdrflow.dcf.roles.POLICY`` gives it. Another role (the application) may only find the database
    already at ``revision``; anything else is :class:`RoleRefused`.
    """
    from . import roles

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        info = roles.role_info(conn) if conn.dialect.name == "postgresql" else None
        if info is not None and not info.can_alter:
            cur = MigrationContext.configure(conn).get_current_revision()
            target = head_revision(engine) if revision == "head" else revision
            if cur == target:
                return cur or ""
            raise RoleRefused(
                f"PostgreSQL role {info.user!r} may not migrate the DCF (database at {cur or 'none'}, code needs "
                f"{target}): run `cdrflow db upgrade` as the schema owner{_owner_hint(info)}")
        if info is not None:
            roles.before_upgrade(conn, info)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        if info is not None:
            roles.after_upgrade(conn, info)
    return current_revision(engine) or ""


def _owner_hint(info: Any) -> str:
    return f" ({info.schema_owner})" if info.schema_owner else ""


def check_role(engine: Engine, *, allow_superuser: bool = False, owner_command: bool = False) -> None:
    """PostgreSQL: refuse to run the application as a superuser or as the schema's owner.

    ``owner_command`` (``db upgrade``): the owner is the right role, and a superuser is accepted when
    the roles are configured (the migration then runs as the owner); the application role is refused.
    ``allow_superuser`` (the CLI passes ``Settings.allow_superuser``: ``--allow-superuser`` /
    ``CDRFLOW_ALLOW_SUPERUSER=1``) lifts the refusal, for throwaway databases only. SQLite: nothing to
    check (whoever can write the file can do anything).
    """
    if engine.dialect.name != "postgresql":
        return
    from . import roles

    with engine.connect() as conn:
        info = roles.role_info(conn)
    if allow_superuser:
        return
    if owner_command:
        if info.superuser and info.app_role is None:
            raise RoleRefused(
                f"refusing to migrate as PostgreSQL superuser {info.user!r} a schema with no cdrflow roles: run "
                "`cdrflow db roles` first and `cdrflow db upgrade` as the owner, or, on a throwaway database only, "
                "pass --allow-superuser or set CDRFLOW_ALLOW_SUPERUSER=1")
        if not info.can_alter:
            raise RoleRefused(f"`cdrflow db upgrade` runs as the schema owner{_owner_hint(info)}, not as "
                              f"PostgreSQL role {info.user!r}")
        return
    why = roles.refusal(info)
    if why is not None:
        raise RoleRefused(why)


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
