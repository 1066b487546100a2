"""``cdrflow dcf verify`` as an operator runs it: exit codes, the first problem, the digest and ``--expect``."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import text

from cdrflow.dcf import db
from cdrflow.dcf.store import Store

from ..cli.runner import cli, store_url
from .dcfworld import World, attacker_engines, build

DIGEST = re.compile(r"(dcf-v1:\S+)")


def _tamper(store: Store, world: World) -> None:
    stmt = ("ALTER TABLE events DISABLE TRIGGER events_append_only" if store.engine.dialect.name == "postgresql"
            else "DROP TRIGGER events_no_update")
    with next(iter(attacker_engines(store).values())).begin() as conn:
        conn.execute(text(stmt))
        conn.execute(text("UPDATE events SET actor = 'someone-else' WHERE event_id = :e"),
                     {"e": world.initiate_event_id})


def test_verify_reports_ok_then_the_first_problem(store: Store) -> None:
    world = build(store)
    url = store_url(store)
    code, out = cli("dcf", "verify", "--db", url)
    assert code == 0, out
    assert "OK: every link recomputes" in out
    m = DIGEST.search(out)
    assert m is not None
    digest = m.group(1)
    code, out = cli("dcf", "verify", "--db", url, "--expect", digest)
    assert code == 0 and "the --expect digest matches" in out, out

    _tamper(store, world)
    code, out = cli("dcf", "verify", "--db", url)
    assert code == 1, out
    first = next(line for line in out.splitlines() if line.startswith("FIRST PROBLEM"))
    assert "CHANGED: events link" in first and f"(row event_id {world.initiate_event_id})" in first
    assert "last verified digest" in out
    code, out = cli("dcf", "verify", "--db", url, "--expect", digest)
    assert code == 1 and "FIRST PROBLEM: EXPECT" in out, out
    code, out = cli("dcf", "verify", "--db", url, "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["first_problem"].startswith("CHANGED: events")


def test_verify_usage_errors(store: Store, tmp_path: Path) -> None:
    build(store)
    code, out = cli("dcf", "verify", "--db", store_url(store), "--expect", "sha256:1234")
    assert code == 2 and "not a digest" in out
    code, out = cli("dcf", "verify", "--db", f"sqlite:///{tmp_path}/none.db")
    assert code == 2 and "no SQLite database" in out
    assert not (tmp_path / "none.db").exists()  # verify never creates a database


def test_a_damaged_sqlite_file_is_unreadable_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "dcf.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    store = Store(engine)
    store.test_url = f"sqlite:///{path}"  # type: ignore[attr-defined]
    store.owner_engine = engine  # type: ignore[attr-defined]
    build(store)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    data = path.read_bytes()
    page = 4096
    # keep the schema page, wipe every page after the tenth: the tables' pages are gone
    path.write_bytes(data[: 10 * page] + b"\xff" * (len(data) - 10 * page))
    code, out = cli("dcf", "verify", "--db", f"sqlite:///{path}")
    assert code == 1, out
    assert "UNREADABLE" in out or "FIRST PROBLEM" in out
    assert "Traceback" not in out
