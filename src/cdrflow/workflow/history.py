"""Reading the DCF: a beneficiary's QCDR-style history, a case's documents, the review queue."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from cdrflow.dcf.schema import cases, documents, events
from cdrflow.dcf.store import NotFound, Store

from . import common as c


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, dt.datetime | dt.date):
            out[k] = v.isoformat()
        elif isinstance(v, Decimal):
            out[k] = float(v)
        else:
            out[k] = v
    return out


def case_history(store: Store, ssn: str) -> dict[str, Any]:
    """Events (oldest first) and current state for one SSN: what `cdrflow case SSN` shows."""
    with store.read() as tx:
        ben = tx.beneficiary(ssn)
        if ben is None:
            raise NotFound(f"no beneficiary with SSN {ssn} in the DCF")
        evs = [_plain(dict(r)) for r in tx.conn.execute(
            select(events).where(events.c.ssn == ssn).order_by(events.c.event_date, events.c.event_id)).mappings()]
        cs = [_plain(dict(r)) for r in tx.conn.execute(
            select(cases).where(cases.c.ssn == ssn).order_by(cases.c.selected_on)).mappings()]
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


def document_payloads(store: Store, case_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(kind, full payload) for every document of a case, ready for :func:`cdrflow.documents.render`."""
    from cdrflow.workflow.cycle import scanlines

    with store.read() as tx:
        case = tx.require_case(case_id)
        ben = tx.beneficiary(case["ssn"])
        assert ben is not None
        docs = [dict(r) for r in tx.conn.execute(select(documents).where(documents.c.case_id == case_id)
                                                 .order_by(documents.c.doc_id)).mappings()]
        initial = tx.conn.execute(select(events.c.detail).where(events.c.case_id == case_id,
                                                                events.c.event_type.like("% INITIAL MAILER SENT"))
                                  .limit(1)).scalar()
    record = received_record(store, case_id)
    try:
        lines: list[str] | None = list(scanlines(ben, case))
    except ValueError:  # e.g. no servicing PC known: the facsimile is shown without scanlines
        lines = None
    # The PC and what it rests on (E.4.a; interp. §14): the alert sheet shows the basis beside the PC.
    jurisdiction = {"pc": case["pc"], "basis": c.recorded_basis(initial, ben)}
    base = {"beneficiary": _plain(ben), "case": _plain(case), "jurisdiction": jurisdiction}
    out: list[tuple[str, dict[str, Any]]] = []
    for d in docs:
        payload = {**base, **json.loads(d["payload"])}
        if d["kind"] == "FACSIMILE":
            payload["mailer"] = record
            payload["scanlines"] = lines
        if d["kind"] == "ALERT_SHEET" and "folder" not in payload and ben.get("folder_location"):
            # F.3: PCACS (Title II-only, concurrent) or SSICCS (Title XVI-only) folder location and date in
            # location, as the DCF holds them when the sheet is printed (docs/interpretations.md#folder-data).
            plain = base["beneficiary"]
            payload["folder"] = {"location": plain["folder_location"],
                                 "date_in_location": plain["folder_date_in_location"]}
        out.append((d["kind"], payload))
    return out


def queue(store: Store, *, stage: str | None = None, pc: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Open PC work: PC reviews and nonresponders, oldest first."""
    stmt = select(cases.c.case_id, cases.c.ssn, cases.c.title, cases.c.profile, cases.c.pc, cases.c.state,
                  cases.c.review_stage, cases.c.alert_type, cases.c.alert_message, cases.c.last_event_date,
                  cases.c.version).where(cases.c.state.in_([c.PC_REVIEW, c.NONRESPONDER]))
    if stage:
        stmt = stmt.where(cases.c.review_stage == stage)
    if pc is not None:
        stmt = stmt.where(cases.c.pc == pc)
    with store.read() as tx:
        return [_plain(dict(r)) for r in tx.conn.execute(
            stmt.order_by(cases.c.last_event_date, cases.c.case_id).limit(limit)).mappings()]
