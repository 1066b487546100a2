"""Reading the DCF: a beneficiary's QCDR-style history, a case's documents, the review queue."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from cdrflow import authz
from cdrflow.authz import Resource
from cdrflow.dcf.schema import cases, documents, events
from cdrflow.dcf.store import Actor, NotFound, Store, Tx

from . import common as c

_plain = c.plain


def case_resource(case: dict[str, Any]) -> Resource:
    return Resource("case", case["case_id"], pc=case["pc"], stage=case.get("review_stage"))


def ssn_of_case(tx: Tx, case_id: str, actor: Actor) -> str:
    """The SSN of a case the actor may read (logged as a read of the case)."""
    case = tx.require_case(case_id)
    authz.require(tx, actor, "mailer.case.read", case_resource(case))
    return str(case["ssn"])


def case_history(store: Store, actor: Actor, *, case_id: str | None = None, ssn: str | None = None) -> dict[str, Any]:
    """Events (oldest first) and current state of the beneficiary of a case (or found by SSN, a logged search):
    what `cdrflow case` shows. Every case of the beneficiary is checked against the reader's scope."""
    with store.read() as tx:
        if case_id is not None:
            ssn = ssn_of_case(tx, case_id, actor)
        elif ssn is not None:
            first = tx.conn.execute(select(cases).where(cases.c.ssn == ssn).order_by(cases.c.selected_on.desc())
                                    .limit(1)).mappings().first()
            # The log names the case found (or "beneficiary" when none), never the SSN searched for.
            res = case_resource(dict(first)) if first else Resource("beneficiary", "(no case)")
            authz.require(tx, actor, "mailer.case.search", res)
        else:
            raise ValueError("case_history needs a case id or an SSN")
        ben = tx.beneficiary(ssn)
        if ben is None:
            raise NotFound("no beneficiary with that SSN in the DCF", field="ssn")
        evs = [_plain(dict(r)) for r in tx.conn.execute(
            select(events).where(events.c.ssn == ssn).order_by(events.c.event_date, events.c.event_id)).mappings()]
        cs = [_plain(dict(r)) for r in tx.conn.execute(
            select(cases).where(cases.c.ssn == ssn).order_by(cases.c.selected_on)).mappings()]
        for cs_row in cs:  # every case shown is in the reader's scope (a refusal is logged)
            authz.require(tx, actor, "mailer.case.read", case_resource(cs_row), quiet=True)
    for e in evs:
        e["detail"] = json.loads(e["detail"]) if e["detail"] else None
    return {"beneficiary": _plain(ben), "cases": cs, "events": evs}


def received_record(store: Store, case_id: str) -> dict[str, Any] | None:
    with store.read() as tx:
        row = tx.conn.execute(select(events.c.detail).where(events.c.case_id == case_id,
                                                            events.c.event_type.like("% MAILER RECEIVED"))
                              .order_by(events.c.event_id.desc()).limit(1)).first()
    if not row or not row[0]:
        return None
    from cdrflow.policy.mailer.record import ReturnedMailer

    # The event keeps the record without empty fields; documents want every field present.
    return ReturnedMailer.model_validate(json.loads(row[0])["record"]).model_dump(mode="json")


def document_payloads(store: Store, case_id: str, actor: Actor) -> list[tuple[str, dict[str, Any]]]:
    """(kind, payload) for every document of a case, ready for :func:`cdrflow.documents.render`.

    A document is what was issued (docs/interpretations.md#documents-as-issued): its payload, written in the
    transaction of the decision that issued it, holds the beneficiary and the case as they were, the values and
    parameters it shows and the policy version, so this reads nothing but the payload. A payload stored before
    documents were frozen at issue (it has no ``issued``) is handed over as ``not_frozen``: the page shows what
    was stored and says that the rest was not recorded when issued; nothing is filled in from today's DCF.
    """
    with store.read() as tx:
        case = tx.require_case(case_id)  # an unknown case is NotFound, not an empty packet
        authz.require(tx, actor, "mailer.documents.export", case_resource(case))
        docs = [dict(r) for r in tx.conn.execute(
            select(documents.c.kind, documents.c.created_on, documents.c.payload)
            .where(documents.c.case_id == case_id).order_by(documents.c.doc_id)).mappings()]
    return [stored_document(d) for d in docs]


def stored_document(row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(kind, payload) of one ``documents`` row, as issued: the stored payload and nothing else.

    A payload without ``issued`` was stored before documents were frozen at issue: it comes back as
    ``{NOT_FROZEN: {"stored": payload, "created_on": ...}}``, rendered as what was stored."""
    from cdrflow.documents.render import NOT_FROZEN

    payload = json.loads(row["payload"])
    if "issued" not in payload:
        created = row["created_on"]
        payload = {NOT_FROZEN: {"stored": payload, "created_on": created.isoformat()
                                if isinstance(created, dt.date) else str(created)}}
    return row["kind"], payload


def queue(store: Store, actor: Actor, *, stage: str | None = None, pc: int | None = None,
          limit: int = 50) -> list[dict[str, Any]]:
    """Open PC work: PC reviews and nonresponders, oldest first; PC staff see their own PC's queue only."""
    stmt = select(cases.c.case_id, cases.c.ssn, cases.c.title, cases.c.profile, cases.c.pc, cases.c.state,
                  cases.c.review_stage, cases.c.alert_type, cases.c.alert_message, cases.c.last_event_date,
                  cases.c.version).where(cases.c.state.in_([c.PC_REVIEW, c.NONRESPONDER]))
    if stage:
        stmt = stmt.where(cases.c.review_stage == stage)
    with store.read() as tx:
        # Who asks, for the PC asked: an unknown person, or another PC's queue, is refused and logged.
        me = authz.require(tx, actor, "mailer.queue.read", Resource("queue", f"pc{pc}" if pc else "all", pc=pc),
                           quiet=True)
        if me.pc is not None:
            pc = me.pc
        authz.require(tx, me, "mailer.queue.read", Resource("queue", f"pc{pc}" if pc else "all", pc=pc))
        if pc is not None:
            stmt = stmt.where(cases.c.pc == pc)
        return [_plain(dict(r)) for r in tx.conn.execute(
            stmt.order_by(cases.c.last_event_date, cases.c.case_id).limit(limit)).mappings()]


def reveal_ssn(store: Store, actor: Actor, case_id: str | None, *, reason: str) -> None:
    """Log a reveal of the SSN of a case's beneficiary: a role allowed to see it and a reason (one line)."""
    reason = authz.reveal_reason(reason)
    with store.tx() as tx:
        if case_id is None:
            authz.require(tx, actor, "ssn.reveal", Resource("beneficiary", "(no case)"), reason=reason)
            return
        case = tx.require_case(case_id)
        authz.require(tx, actor, "ssn.reveal", case_resource(case), reason=reason)
