"""The access log for auditors (issue 13 item 3): ``cdrflow audit list``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cdrflow import authz
from cdrflow.authz import Resource
from cdrflow.dcf.schema import access_log
from cdrflow.dcf.store import Actor, Store


def entries(store: Store, actor: Actor, *, person: str | None = None, resource: str | None = None,
            denied: bool = False, limit: int = 200) -> list[dict[str, Any]]:
    """Access-log rows, newest first; reading the log is itself logged."""
    with store.tx() as tx:
        what = " ".join(x for x in (f"person={person}" if person else "", f"resource={resource}" if resource else "",
                                    "denied" if denied else "") if x)
        authz.require(tx, actor, "audit.read", Resource("access_log"), reason=what or None)
        q = select(access_log).order_by(access_log.c.log_id.desc()).limit(limit)
        if person:
            q = q.where(access_log.c.person == person)
        if resource:
            q = q.where(access_log.c.resource == resource)
        if denied:
            q = q.where(access_log.c.outcome == "DENIED")
        return [dict(r) for r in tx.conn.execute(q).mappings()]
