"""A small DCF with one of everything the guards and the hash chains protect (tests/dcf).

* an integrity-flipped case (G.7), made the way ``review.decide`` makes one: the reviewer's DEFER CDR
  input while the case is not flipped yet, then the sampler's INITIATE CDR and the flip;
* a deferred case that was not sampled;
* an EXR case with two findings and an M/PR provider with two checks (the other chained tables).

Also: snapshots of every guarded table, and engines an attacker would use (a plain SQLite connection
with none of the store's pragmas; on PostgreSQL the schema owner, who has every privilege but may
not drop or disable a trigger without it showing).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, insert, select, text

from cdrflow.dcf.schema import (
    beneficiaries,
    cases,
    dcf_chain,
    dcf_chain_links,
    event_vocabulary,
    events,
    exr_cases,
    exr_findings,
    mpr_checks,
    mpr_orgs,
    mpr_providers,
)
from cdrflow.dcf.store import DCDRS, INTEGRITY, Actor, Store, dumps, event, now

from ..dbfixtures import insert_case, make_beneficiary, owner_engine, seed_beneficiaries

SSN_F = "123450001"  # the flipped case's beneficiary
SSN_D = "123450002"  # the deferred case's beneficiary
DAY = dt.date(2026, 1, 5)
DECIDED = dt.date(2026, 3, 2)
REVIEWER = Actor("jsmith", "DE")
MARKER = "TAMPER-MARKER-0001"  # a unique value in one event's detail (the byte edit finds it in the file)

GUARDED = (beneficiaries, cases, events, exr_findings, mpr_checks, event_vocabulary, dcf_chain, dcf_chain_links)


@dataclass
class World:
    flipped: str
    deferred: str
    initiate_event_id: int  # the integrity sampler's INITIATE CDR on the flipped case
    initiate_idem_key: str
    finding_id: int
    check_id: int
    check_idem_key: str

    def params(self) -> dict[str, Any]:
        return {"f": self.flipped, "d": self.deferred, "sf": SSN_F, "sd": SSN_D, "day": DECIDED,
                "t": dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC), "eid": self.initiate_event_id,
                "ikey": self.initiate_idem_key, "fid": self.finding_id, "cid": self.check_id,
                "ckey": self.check_idem_key, "g": "0" * 64}


def build(store: Store) -> World:
    seed_beneficiaries(store, [make_beneficiary(SSN_F), make_beneficiary(SSN_D)])
    f = insert_case(store, SSN_F, sent_on=DAY)
    d = insert_case(store, SSN_D, sent_on=DAY)
    with store.tx() as tx:
        case = tx.require_case(f)
        v = tx.update_case(f, case["version"], state="PC_REVIEW", review_stage="DE")
        tx.append([event(ssn=SSN_F, case_id=f, event_date=DECIDED, event_type="T2 DEFER CDR", code="IPCA 4",
                         actor=REVIEWER, detail={"integrity": {"selected": True}}, idem_key=f"defer:{f}")])
        tx.append([event(ssn=SSN_F, case_id=f, event_date=DECIDED, event_type="T2 INITIATE CDR", code="IPCA 2",
                         actor=INTEGRITY, detail={"reason": "INTEGRITY SAMPLE", "marker": MARKER},
                         idem_key=f"docdr:{f}")])
        tx.update_case(f, v, state="DO_CDR", outcome="DO_CDR", closed_on=DECIDED, review_stage=None,
                       last_event="T2 INITIATE CDR", last_event_date=DECIDED, ipca_event=2, integrity_selected=True,
                       integrity_flipped=True)
    with store.tx() as tx:
        case = tx.require_case(d)
        tx.append([event(ssn=SSN_D, case_id=d, event_date=DECIDED, event_type="T2 DEFER CDR", actor=DCDRS,
                         idem_key=f"defer:{d}")])
        tx.update_case(d, case["version"], state="DEFERRED", outcome="DEFER", closed_on=DECIDED,
                       last_event="T2 DEFER CDR", last_event_date=DECIDED)
        initiate = tx.conn.execute(select(events.c.event_id).where(events.c.idem_key == f"docdr:{f}")).scalar_one()
    stamp = now()
    with store.tx() as tx:
        exr_id = tx.conn.execute(insert(exr_cases).values(
            ssn=SSN_D, title="T2", request_month="2026-01", filing=dumps({"date": "2026-01-10", "fo": "A12"}),
            btm="2024-06", cpd=None, alleged_impairments=dumps(["back"]), prior_folder_missing=False,
            sga_months=dumps([]), non_sga_months=dumps([]), state="OPEN", outcome=None, moe=None, version=1,
            opened_by="fo1:FO", opened_at=stamp, updated_at=stamp).returning(exr_cases.c.case_id)).scalar_one()
        fids = tx.insert_chained(exr_findings, [
            {"case_id": exr_id, "step": step, "month": None, "payload": dumps({"step": step}),
                "development_complete": True, "case_version": 1, "actor": "de1", "actor_role": "DE",
                "policy_version": None, "at": stamp}
            for step in ("DEVELOPMENT_COMPLETE", "SAME_OR_RELATED")])
        org = tx.conn.execute(insert(mpr_orgs).values(level="DDS", code="DDS-GA", name="Georgia DDS", parent_id=None)
                              .returning(mpr_orgs.c.org_id)).scalar_one()
        prov = tx.conn.execute(insert(mpr_providers).values(
            dds_org_id=org, ext_id="P1", kind="PERSON", last_name="DOE", first_name="JANE", npi="1234567893",
            specialties=dumps(["ORTHOPEDICS"]), locations=dumps([]), panels=dumps([]), status="ACTIVE", version=1,
            updated_by="mpro:MPRO", updated_at=stamp).returning(mpr_providers.c.provider_id)).scalar_one()
        cids = tx.insert_chained(mpr_checks, [
            {"provider_id": prov, "dds_org_id": org, "as_of": DECIDED, "kind": kind, "result": dumps({"ok": True}),
             "federal_sanction": False, "eligible": True if kind == "ELIGIBILITY" else None,
             "idem_key": f"{prov}:{kind}:{DECIDED}", "actor": "mpro", "actor_role": "MPRO", "at": stamp}
            for kind in ("LEIE", "ELIGIBILITY")])
    return World(flipped=f, deferred=d, initiate_event_id=int(initiate), initiate_idem_key=f"docdr:{f}",
                 finding_id=fids[0], check_id=cids[1], check_idem_key=f"{prov}:ELIGIBILITY:{DECIDED}")


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every guarded table, in key order (read as the owner: sees everything)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with owner_engine(store).connect() as conn:
        for t in GUARDED:
            out[t.name] = [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns)).all()]
    return out


def attacker_engines(store: Store) -> dict[str, Engine]:
    """What a person with DCF access but no DDL would use.

    SQLite: a plain connection to the file (none of the store's pragmas: foreign keys off). PostgreSQL: the
    schema owner (every table privilege) and the application role.
    """
    if store.engine.dialect.name == "sqlite":
        return {"sqlite3": create_engine(store.test_url)}  # type: ignore[attr-defined]
    return {"owner": owner_engine(store), "application": store.engine}


def refused(engine: Engine, sql: str, params: dict[str, Any]) -> str | None:
    """Run ``sql`` in its own transaction; the error's first line if it was refused, else None."""
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    except Exception as exc:
        orig = getattr(exc, "orig", None) or exc
        return str(orig).splitlines()[0] or type(exc).__name__
    return None
