"""Panel staffing (PM 00215.001D.4.b): how many eligible providers a DDS needs per specialty and
area, and the gap against those it has."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import func, insert, select, update

from cdrflow.authz import Resource
from cdrflow.dcf.schema import mpr_checks, mpr_items, mpr_panel_needs, mpr_providers
from cdrflow.dcf.store import Actor, Store, now

from .access import READ, REGISTRY, dds_org, require, who
from .common import MprError


def set_panel_need(store: Store, actor: Actor, *, dds: str, specialty: str, area: str, needed: int) -> None:
    """How many eligible providers of ``specialty`` the DDS needs on its ``area`` panel (D.4.b)."""
    if needed < 0:
        raise MprError("needed: 0 or more", field="needed")
    specialty, area = specialty.strip().upper(), area.strip().upper()
    with store.tx() as tx:
        res = Resource("panel", f"{dds}:{specialty}/{area}", org=dds)
        w = who(tx, actor, REGISTRY, res)
        org = dds_org(tx, dds)
        require(tx, w, REGISTRY, res)
        key = (mpr_panel_needs.c.dds_org_id == org["org_id"], mpr_panel_needs.c.specialty == specialty,
               mpr_panel_needs.c.area == area)
        values = {"needed": needed, "updated_by": str(actor), "updated_at": now()}
        if tx.conn.execute(update(mpr_panel_needs).where(*key).values(**values)).rowcount == 0:
            tx.conn.execute(insert(mpr_panel_needs).values(dds_org_id=org["org_id"], specialty=specialty, area=area,
                                                           **values))


def panel_gap(store: Store, actor: Actor, dds: str, as_of: dt.date) -> list[dict[str, Any]]:
    """Per specialty and area: needed − eligible ACTIVE providers serving that panel (D.4.b).

    A provider counts when ACTIVE, the specialty is one of theirs and the area one of their panels
    (both compared upper-case), and their latest ELIGIBILITY check on or before ``as_of`` says
    eligible. ``recruiting`` is the number of OPEN RECRUITMENT items for that specialty and area.
    """
    with store.read() as tx:
        res = Resource("panel_gap", f"{dds}@{as_of}", org=dds)
        w = who(tx, actor, READ, res)
        org = dds_org(tx, dds)
        require(tx, w, READ, res)
        needs = [dict(r) for r in tx.conn.execute(select(mpr_panel_needs).where(
            mpr_panel_needs.c.dds_org_id == org["org_id"]).order_by(mpr_panel_needs.c.specialty,
                                                                    mpr_panel_needs.c.area)).mappings()]
        provs = [dict(r) for r in tx.conn.execute(select(mpr_providers).where(
            mpr_providers.c.dds_org_id == org["org_id"], mpr_providers.c.status == "ACTIVE")).mappings()]
        last = (select(mpr_checks.c.provider_id, func.max(mpr_checks.c.check_id).label("cid"))
                .where(mpr_checks.c.kind == "ELIGIBILITY", mpr_checks.c.dds_org_id == org["org_id"],
                       mpr_checks.c.as_of <= as_of).group_by(mpr_checks.c.provider_id).subquery())
        ok = {r[0] for r in tx.conn.execute(select(mpr_checks.c.provider_id).join(
            last, mpr_checks.c.check_id == last.c.cid).where(mpr_checks.c.eligible.is_(True)))}
        recruiting: dict[tuple[str, str], int] = {}
        for r in tx.conn.execute(select(mpr_items.c.specialty, mpr_items.c.area).where(
                mpr_items.c.org_id == org["org_id"], mpr_items.c.kind == "RECRUITMENT",
                mpr_items.c.state == "OPEN")):
            k = ((r[0] or "").upper(), (r[1] or "").upper())
            recruiting[k] = recruiting.get(k, 0) + 1
    out = []
    for n in needs:
        serving = [p for p in provs if n["specialty"] in {s.upper() for s in json.loads(p["specialties"])}
                   and n["area"] in {a.upper() for a in json.loads(p["panels"])}]
        eligible = sum(1 for p in serving if p["provider_id"] in ok)
        out.append({"specialty": n["specialty"], "area": n["area"], "needed": n["needed"], "serving": len(serving),
                    "eligible": eligible, "gap": max(n["needed"] - eligible, 0),
                    "recruiting": recruiting.get((n["specialty"], n["area"]), 0), "cite": "PM 00215.001D.4.b"})
    return out
