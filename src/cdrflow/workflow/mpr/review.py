"""What a person decides (PM 00215.001D.4.c): the review queue (an unsure LEIE match, a license
that could be several providers') and the eligibility-change flags the MPRO must act on."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update

from cdrflow.authz import Resource
from cdrflow.dcf.schema import mpr_flags, mpr_licenses, mpr_orgs, mpr_providers, mpr_review_queue
from cdrflow.dcf.store import Actor, ConflictError, NotFound, Store, dumps, now

from .access import FLAG, READ, REVIEW, org_by_id, require, who
from .common import MprError
from .provider_registry import display_name, provider_row, visible_only

# ---- the review queue --------------------------------------------------------------------------------

def queue(store: Store, actor: Actor, *, state: str | None = "OPEN") -> list[dict[str, Any]]:
    """Queue entries the actor may see (OPEN by default; ``state=None`` for all)."""
    with store.read() as tx:
        res = Resource("review_queue", f"state={state}" if state is not None else "all")
        w = who(tx, actor, READ, res)
        require(tx, w, READ, res)
        stmt = select(mpr_review_queue, mpr_orgs.c.code.label("dds")).join(
            mpr_orgs, mpr_orgs.c.org_id == mpr_review_queue.c.dds_org_id)
        if state is not None:
            stmt = stmt.where(mpr_review_queue.c.state == state)
        stmt = visible_only(stmt, w)
        rows = [dict(r) for r in tx.conn.execute(stmt.order_by(mpr_review_queue.c.queue_id)).mappings()]
    for r in rows:
        r["candidates"] = json.loads(r["candidates"])
        r["decision"] = json.loads(r["decision"]) if r["decision"] else None
    return rows


def decide_review(store: Store, actor: Actor, queue_id: int, *, confirm: bool, rationale: str,
                  provider_id: int | None = None) -> str:
    """A person answers a queued question (PM 00215.001D.4.c; ``docs/interpretations.md#matching``).

    ``LEIE_MATCH``: confirm (the entry is this provider and the sanction stands) or dismiss (it is
    not, or a waiver covers the work); the next :func:`~cdrflow.workflow.mpr.checks.check` uses the
    answer. ``LICENSE_LINK``: confirm with the ``provider_id`` that holds the license (it is linked),
    or dismiss (none does).
    The DDS's MPRO, Administrator or Chief Medical Consultant decides. Returns the new state.
    """
    if not rationale.strip():
        raise MprError("rationale: say why", field="rationale")
    with store.tx() as tx:
        w = who(tx, actor, REVIEW, Resource("review", str(queue_id)))
        q = tx.conn.execute(select(mpr_review_queue).where(mpr_review_queue.c.queue_id == queue_id)).mappings().first()
        if q is None:
            raise NotFound(f"no review queue entry {queue_id}")
        require(tx, w, REVIEW, Resource("review", str(queue_id), org=org_by_id(tx, q["dds_org_id"])["code"]))
        if q["state"] != "OPEN":
            raise ConflictError(f"review {queue_id} was already {q['state']} by {q['decided_by']} at {q['decided_at']}")
        state = "CONFIRMED" if confirm else "DISMISSED"
        decision: dict[str, Any] = {"confirm": confirm}
        if q["kind"] == "LICENSE_LINK":
            ids = [c["provider_id"] for c in json.loads(q["candidates"])]
            if confirm:
                if provider_id not in ids:
                    raise MprError(f"provider_id: confirm names the provider holding the license, one of "
                                   f"{', '.join(map(str, ids))}", field="provider_id")
                tx.conn.execute(update(mpr_licenses).where(mpr_licenses.c.license_id == q["license_id"])
                                .values(provider_id=provider_id, link="PERSON"))
                decision["provider_id"] = provider_id
        elif provider_id is not None:
            raise MprError("provider_id: only for a LICENSE_LINK question", field="provider_id")
        n = tx.conn.execute(update(mpr_review_queue).where(mpr_review_queue.c.queue_id == queue_id,
                                                           mpr_review_queue.c.state == "OPEN")
                            .values(state=state, decision=dumps(decision), decided_by=str(actor),
                                    decided_at=now(), rationale=rationale)).rowcount
        if n != 1:
            raise ConflictError(f"review {queue_id} was decided by someone else meanwhile")
        return state


# ---- flags ---------------------------------------------------------------------------------------------

def flags(store: Store, actor: Actor, *, state: str | None = "OPEN") -> list[dict[str, Any]]:
    """Status-change flags the actor may see, with the provider's name and the DDS."""
    with store.read() as tx:
        res = Resource("flags", f"state={state}" if state is not None else "all")
        w = who(tx, actor, READ, res)
        require(tx, w, READ, res)
        stmt = (select(mpr_flags, mpr_orgs.c.code.label("dds"), mpr_providers.c.kind, mpr_providers.c.last_name,
                       mpr_providers.c.first_name, mpr_providers.c.middle_name, mpr_providers.c.business_name)
                .join(mpr_orgs, mpr_orgs.c.org_id == mpr_flags.c.dds_org_id)
                .join(mpr_providers, mpr_providers.c.provider_id == mpr_flags.c.provider_id))
        if state is not None:
            stmt = stmt.where(mpr_flags.c.state == state)
        stmt = visible_only(stmt, w)
        rows = [dict(r) for r in tx.conn.execute(stmt.order_by(mpr_flags.c.flag_id)).mappings()]
    for r in rows:
        r["provider"] = display_name(r)
    return rows


def resolve_flag(store: Store, actor: Actor, flag_id: int, *, note: str, deactivate: bool = False) -> None:
    """The MPRO (or the DDS Administrator) of the provider's DDS acts on a flag (D.4.c) and closes it.

    ``deactivate`` also sets the provider INACTIVE (no further CEs from this source).
    """
    if not note.strip():
        raise MprError("note: say what was done", field="note")
    with store.tx() as tx:
        w = who(tx, actor, FLAG, Resource("flag", str(flag_id)))
        f = tx.conn.execute(select(mpr_flags).where(mpr_flags.c.flag_id == flag_id)).mappings().first()
        if f is None:
            raise NotFound(f"no flag {flag_id}")
        require(tx, w, FLAG, Resource("flag", str(flag_id), org=org_by_id(tx, f["must_act_org_id"])["code"]))
        if f["state"] != "OPEN":
            raise ConflictError(f"flag {flag_id} is already DONE by {f['done_by']} at {f['done_at']}")
        tx.conn.execute(update(mpr_flags).where(mpr_flags.c.flag_id == flag_id)
                        .values(state="DONE", done_by=str(actor), done_at=now(), note=note))
        if deactivate:
            row = provider_row(tx, f["provider_id"])
            tx.conn.execute(update(mpr_providers).where(mpr_providers.c.provider_id == f["provider_id"])
                            .values(status="INACTIVE", version=row["version"] + 1, updated_by=str(actor),
                                    updated_at=now()))
