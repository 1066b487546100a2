"""Tracked M/PR work (PM 00215.001D.2, D.3, D.4.a-d): oversight, recruitment and liaison items of a
DDS, an RO's items about the DDSs of its region, and CO's national items; each kind with its
passage (:data:`~cdrflow.workflow.mpr.access.ITEM_KINDS`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, select

from cdrflow.authz import Resource
from cdrflow.dcf.schema import mpr_items, mpr_orgs, people
from cdrflow.dcf.store import Actor, NotFound, Store, Tx, now

from .access import ITEM, ITEM_KINDS, READ, org_by_code, org_by_id, require, require_item_change, who
from .common import MprError, MprStateError
from .provider_registry import provider_row, visible_only


def _owner_ok(tx: Tx, org: dict[str, Any], owner: str) -> None:
    """The owner is an active person of the item's organisation (the people table)."""
    p = tx.conn.execute(select(people.c.active, people.c.org).where(people.c.name == owner)).first()
    if p is None or not p.active or p.org != org["code"]:
        raise MprError(f"owner: {owner!r} is not an active person of the item's organisation", field="owner")


def open_item(store: Store, actor: Actor, *, org: str, kind: str, title: str, owner: str, opened: dt.date,
              due: dt.date | None = None, provider_id: int | None = None, subject: str | None = None,
              specialty: str | None = None, area: str | None = None, findings: str | None = None) -> int:
    """Open a tracked M/PR work item of ``kind`` for ``org`` (each kind with its passage:
    :data:`~cdrflow.workflow.mpr.access.ITEM_KINDS`).

    The owner is a person of that organisation. A provider named must be one of that DDS's; a
    subject DDS (RO items) must be in the RO's region. Returns the item id.
    """
    kind = kind.upper()
    if kind not in ITEM_KINDS:
        raise MprError(f"kind: one of {', '.join(ITEM_KINDS)}, got {kind!r}", field="kind")
    if not title.strip():
        raise MprError("title: required", field="title")
    if due is not None and due < opened:
        raise MprError(f"due: {due} is before the item is opened ({opened})", field="due")
    with store.tx() as tx:
        w = who(tx, actor, ITEM, Resource("item", f"new {kind}", org=org))
        o = org_by_code(tx, org)
        require_item_change(tx, w, o, kind)
        _owner_ok(tx, o, owner)
        if provider_id is not None:
            p = provider_row(tx, provider_id)
            if p["dds_org_id"] != o["org_id"]:
                raise MprError(f"provider_id: provider {provider_id} is not a provider of {org}", field="provider_id")
        subject_id = None
        if subject is not None:
            s = org_by_code(tx, subject)
            if s["parent_id"] != o["org_id"] and s["org_id"] != o["org_id"]:
                raise MprError(f"subject: {subject} is not in {org}'s region", field="subject")
            subject_id = s["org_id"]
        stamp = now()
        return int(tx.conn.execute(insert(mpr_items).values(
            org_id=o["org_id"], kind=kind, cite=ITEM_KINDS[kind][1], provider_id=provider_id,
            subject_org_id=subject_id, specialty=specialty, area=area, title=title, owner=owner, opened=opened,
            due=due, closed=None, findings=findings, outcome=None, state="OPEN", version=1, updated_by=str(actor),
            updated_at=stamp).returning(mpr_items.c.item_id)).scalar_one())


def _item(tx: Tx, item_id: int) -> dict[str, Any]:
    row = tx.conn.execute(select(mpr_items).where(mpr_items.c.item_id == item_id)).mappings().first()
    if row is None:
        raise NotFound(f"no M/PR item {item_id}")
    return dict(row)


def _change_item(store: Store, actor: Actor, item_id: int, expected_version: int | None,
                 changes: dict[str, Any], *, closing: bool = False) -> int:
    with store.tx() as tx:
        w = who(tx, actor, ITEM, Resource("item", str(item_id)))
        it = _item(tx, item_id)
        org = org_by_id(tx, it["org_id"])
        require_item_change(tx, w, org, it["kind"], item_id)
        if it["state"] != "OPEN":
            raise MprStateError(f"item {item_id} is CLOSED ({it['closed']}, by {it['updated_by']})")
        if "owner" in changes:
            _owner_ok(tx, org, changes["owner"])
        if closing and changes["closed"] < it["opened"]:
            raise MprError(f"closed: {changes['closed']} is before the item was opened ({it['opened']})",
                           field="closed")
        version = it["version"] if expected_version is None else expected_version
        return tx.update_versioned(
            mpr_items, item_id, version, {**changes, "updated_by": str(actor), "updated_at": now()},
            lambda: f"item {item_id} changed since you read it (you read version {version}; it is "
                    f"{it['version']}, last by {it['updated_by']}). Reload and try again.")


def update_item(store: Store, actor: Actor, item_id: int, *, expected_version: int | None = None,
                findings: str | None = None, owner: str | None = None, due: dt.date | None = None,
                title: str | None = None) -> int:
    """Record findings, reassign, or move the due date of an OPEN item; returns the new version."""
    changes = {k: v for k, v in {"findings": findings, "owner": owner, "due": due, "title": title}.items()
               if v is not None}
    if not changes:
        raise MprError("nothing to change: give findings, owner, due or title", field="findings")
    return _change_item(store, actor, item_id, expected_version, changes)


def close_item(store: Store, actor: Actor, item_id: int, *, closed: dt.date, outcome: str,
               findings: str | None = None, expected_version: int | None = None) -> int:
    """Close an item with its outcome (required) and, optionally, the final findings."""
    if not outcome.strip():
        raise MprError("outcome: required to close an item", field="outcome")
    changes: dict[str, Any] = {"closed": closed, "outcome": outcome, "state": "CLOSED"}
    if findings is not None:
        changes["findings"] = findings
    return _change_item(store, actor, item_id, expected_version, changes, closing=True)


def items(store: Store, actor: Actor, *, org: str | None = None, kind: str | None = None,
          state: str | None = None) -> list[dict[str, Any]]:
    """Items the actor may see (their DDS; an RO's region; CO all), oldest first."""
    filters = [f"{k}={v.upper() if k != 'org' else v}" for k, v in (("org", org), ("kind", kind), ("state", state))
               if v is not None]
    with store.read() as tx:
        res = Resource("items", ",".join(filters) or "all", org=org)
        w = who(tx, actor, READ, res)
        if org is not None:
            o = org_by_code(tx, org)
        require(tx, w, READ, res)
        stmt = select(mpr_items, mpr_orgs.c.code.label("org")).join(mpr_orgs, mpr_orgs.c.org_id == mpr_items.c.org_id)
        if org is not None:
            stmt = stmt.where(mpr_items.c.org_id == o["org_id"])
        stmt = visible_only(stmt, w)
        if kind is not None:
            stmt = stmt.where(mpr_items.c.kind == kind.upper())
        if state is not None:
            stmt = stmt.where(mpr_items.c.state == state.upper())
        return [dict(r) for r in tx.conn.execute(stmt.order_by(mpr_items.c.item_id)).mappings()]


def item(store: Store, actor: Actor, item_id: int) -> dict[str, Any]:
    """One item, if the actor may see it."""
    with store.read() as tx:
        w = who(tx, actor, READ, Resource("item", str(item_id)))
        it = _item(tx, item_id)
        require(tx, w, READ, Resource("item", str(item_id), org=org_by_id(tx, it["org_id"])["code"]))
        return it
