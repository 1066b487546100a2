"""The M/PR reports' data for one DDS and one fiscal year (PM 00215.001D.3.i, D.4).

* The RO's **annual oversight report** per DDS (D.3.i, "consistent with procedures in
  PM 00233.005"): how the DDS carried out its CE oversight (D.4.c), recruitment (D.4.b) and liaison
  (D.4.a, D.4.d), with the RO's own reviews and recognition of that DDS (D.3.b, D.3.f).
* The DDS's **M/PR activity summary**: the same records seen from the DDS.

Everything comes from the records: providers and their latest eligibility check on the last day of
the year, eligibility changes (flags) during the year, matches queued for a person, work items by
kind with the passage each rests on, open items by age on the last day, and the panel gap. Reading
follows the service's access rules: a DDS reads its own, an RO its region, CO everything
(docs/interpretations.md#mpr-access). The data is a plain dict for :mod:`cdrflow.reports.mpr_report`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import orjson
from sqlalchemy import and_, select

from cdrflow.authz import Resource
from cdrflow.dcf.schema import mpr_checks, mpr_flags, mpr_items, mpr_orgs, mpr_providers, mpr_review_queue
from cdrflow.dcf.store import Actor, Store, now

from .access import ITEM_KINDS, READ, dds_org, org_by_id, require, who
from .common import MprError
from .panels import panel_gap

KINDS = ("RO_OVERSIGHT", "DDS_SUMMARY")
AGE_BUCKETS = ((0, 30, "0-30 days"), (31, 90, "31-90 days"), (91, 180, "91-180 days"), (181, 365, "181-365 days"),
               (366, None, "over a year"))
"""Open items by age on the last day of the fiscal year."""


def fiscal_year_bounds(fy: int) -> tuple[dt.date, dt.date]:
    """Federal fiscal year ``fy``: 1 October of ``fy - 1`` to 30 September of ``fy``."""
    return dt.date(fy - 1, 10, 1), dt.date(fy, 9, 30)


def _in(day: dt.date | dt.datetime | None, start: dt.date, end: dt.date) -> bool:
    if day is None:
        return False
    d = day.date() if isinstance(day, dt.datetime) else day
    return start <= d <= end


def report_data(store: Store, actor: Actor, dds: str, fy: int, kind: str = "RO_OVERSIGHT") -> dict[str, Any]:
    """The figures of one DDS's M/PR year, for the RO's oversight report or the DDS's own summary."""
    kind = kind.upper()
    if kind not in KINDS:
        raise MprError(f"kind: one of {', '.join(KINDS)}, got {kind!r}", field="kind")
    start, end = fiscal_year_bounds(fy)
    with store.read() as tx:
        res = Resource("mpr_report", f"{dds}:FY{fy}:{kind}", org=dds)
        w = who(tx, actor, READ, res)
        org = dds_org(tx, dds)
        require(tx, w, READ, res)
        region = org_by_id(tx, org["parent_id"]) if org["parent_id"] is not None else None
        dds_id = org["org_id"]
        c = tx.conn
        providers = [dict(r) for r in c.execute(select(mpr_providers).where(mpr_providers.c.dds_org_id == dds_id))
                     .mappings()]
        names = {p["provider_id"]: _name(p) for p in providers}
        checks = [dict(r) for r in c.execute(
            select(mpr_checks.c.provider_id, mpr_checks.c.as_of, mpr_checks.c.eligible, mpr_checks.c.check_id)
            .where(and_(mpr_checks.c.dds_org_id == dds_id, mpr_checks.c.kind == "ELIGIBILITY",
                        mpr_checks.c.as_of <= end))
            .order_by(mpr_checks.c.as_of, mpr_checks.c.check_id)).mappings()]
        # a flag and a queued match belong to the date of the check that raised them, not to the clock
        flags = [dict(r) for r in c.execute(
            select(mpr_flags, mpr_checks.c.as_of.label("flagged_on"))
            .join(mpr_checks, mpr_checks.c.check_id == mpr_flags.c.check_id)
            .where(mpr_flags.c.dds_org_id == dds_id)
            .order_by(mpr_checks.c.as_of, mpr_flags.c.flag_id)).mappings()]
        queue = [dict(r) for r in c.execute(
            select(mpr_review_queue, mpr_checks.c.as_of.label("raised_on"))
            .outerjoin(mpr_checks, mpr_checks.c.check_id == mpr_review_queue.c.check_id)
            .where(mpr_review_queue.c.dds_org_id == dds_id)).mappings()]
        for q in queue:
            q["raised_on"] = q["raised_on"] or q["opened_at"].date()
        items = [dict(r) for r in c.execute(
            select(mpr_items, mpr_orgs.c.code.label("org_code"))
            .join(mpr_orgs, mpr_orgs.c.org_id == mpr_items.c.org_id)
            .where((mpr_items.c.org_id == dds_id) | (mpr_items.c.subject_org_id == dds_id))
            .order_by(mpr_items.c.opened, mpr_items.c.item_id)).mappings()]
    gap = panel_gap(store, actor, dds, end)

    latest: dict[int, dict[str, Any]] = {}
    for ch in checks:  # ordered by date: the last one on or before the year's end wins
        latest[ch["provider_id"]] = ch
    status: Counter[str] = Counter()
    for p in providers:
        last = latest.get(p["provider_id"])
        status["never checked" if last is None else "eligible" if last["eligible"] is True
               else "not eligible" if last["eligible"] is False else "undecided (a person must decide)"] += 1
    year_checks = sorted({ch["as_of"] for ch in checks if start <= ch["as_of"] <= end})

    changes = [{
        "provider": names.get(f["provider_id"], f["provider_id"]), "opened": f["flagged_on"],
        "from": _yn(f["from_eligible"]), "to": _yn(f["to_eligible"]), "reason": f["reason"],
        "must_act": f"{f['must_act_person'] or f['must_act_role']}", "state": f["state"],
        "done": f["done_at"].date() if f["done_at"] else None, "note": f["note"] or "",
    } for f in flags if _in(f["flagged_on"], start, end)]
    open_flags_at_end = sum(1 for f in flags if f["flagged_on"] <= end
                            and (f["done_at"] is None or f["done_at"].date() > end))

    by_kind: dict[str, dict[str, Any]] = {}
    ages: Counter[str] = Counter()
    open_rows: list[dict[str, Any]] = []
    for it in items:
        row = by_kind.setdefault(it["kind"], {"kind": it["kind"], "cite": ITEM_KINDS[it["kind"]][1],
                                               "level": ITEM_KINDS[it["kind"]][0], "opened": 0, "closed": 0,
                                               "open_at_end": 0})
        row["opened"] += _in(it["opened"], start, end)
        row["closed"] += _in(it["closed"], start, end)
        if it["opened"] <= end and (it["closed"] is None or it["closed"] > end):
            row["open_at_end"] += 1
            age = (end - it["opened"]).days
            label = next(lbl for lo, hi, lbl in AGE_BUCKETS if age >= lo and (hi is None or age <= hi))
            ages[label] += 1
            open_rows.append({"item_id": it["item_id"], "kind": it["kind"], "title": it["title"],
                              "owner": it["owner"], "opened": it["opened"], "due": it["due"], "age_days": age,
                              "overdue": it["due"] is not None and it["due"] < end})
    closed_rows = [{"item_id": it["item_id"], "kind": it["kind"], "title": it["title"], "owner": it["owner"],
                    "opened": it["opened"], "closed": it["closed"], "findings": it["findings"] or "",
                    "outcome": it["outcome"] or "", "by": it["org_code"]}
                   for it in items if _in(it["closed"], start, end)]
    kinds = [by_kind[k] for k in ITEM_KINDS if k in by_kind]
    return {
        "kind": kind,
        "title": ("Annual oversight report: DDS management of medical and professional relations"
                  if kind == "RO_OVERSIGHT" else "DDS medical and professional relations activity summary"),
        "cite": "PM 00215.001D.3.i (PM 00233.005)" if kind == "RO_OVERSIGHT" else "PM 00215.001D.4",
        "dds": {"code": org["code"], "name": org["name"]},
        "region": {"code": region["code"], "name": region["name"]} if region else None,
        "fiscal_year": fy, "start": start, "end": end,
        "generated_at": now(), "generated_by": str(actor),
        "providers": {"total": len(providers), "active": sum(p["status"] == "ACTIVE" for p in providers),
                      "persons": sum(p["kind"] == "PERSON" for p in providers),
                      "practices": sum(p["kind"] == "PRACTICE" for p in providers),
                      "eligibility_at_end": dict(sorted(status.items()))},
        "checks": {"dates": year_checks, "runs": len(year_checks)},
        "changes": changes, "open_flags_at_end": open_flags_at_end,
        "queue": {"opened": sum(_in(q["raised_on"], start, end) for q in queue),
                  "decided": sum(_in(q["decided_at"], start, end) for q in queue),
                  "open_at_end": sum(1 for q in queue if q["raised_on"] <= end
                                     and (q["decided_at"] is None or q["decided_at"].date() > end))},
        "items_by_kind": kinds, "open_by_age": {lbl: ages.get(lbl, 0) for _lo, _hi, lbl in AGE_BUCKETS},
        "open_items": sorted(open_rows, key=lambda r: -r["age_days"]), "closed_items": closed_rows,
        "panel_gap": gap,
    }


def _yn(value: bool | None) -> str:
    return "never checked" if value is None else "eligible" if value else "not eligible"


def _name(p: dict[str, Any]) -> str:
    if p["kind"] == "PRACTICE":
        return str(p["business_name"])
    return ", ".join(x for x in (p["last_name"], " ".join(y for y in (p["first_name"], p["middle_name"]) if y)) if x)


def to_json(data: dict[str, Any]) -> bytes:
    """The report's data as JSON (dates as ISO text), for anyone who wants the figures, not the page."""
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
