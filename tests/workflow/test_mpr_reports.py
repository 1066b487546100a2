"""The RO's annual oversight report and the DDS's M/PR summary, from a seeded data set (PM 00215.001D.3.i, D.4).

The data set is the registry fixture of ``test_mpr_registry.py`` (DDS-OH: OH-1 and OH-5 excluded,
OH-2 eligible, OH-3 an ambiguous LEIE match, OH-6/OH-7 without a linked license),
checked on 2025-03-01, plus work items whose dates place them inside or outside fiscal year 2025
(2024-10-01 to 2025-09-30).
"""

from __future__ import annotations

import datetime as dt

import pytest

from cdrflow.dcf.store import Actor, Store
from cdrflow.kernel.errors import Forbidden
from cdrflow.reports.mpr_report import render_mpr_report
from cdrflow.workflow import mpr
from cdrflow.workflow.mpr.reports import fiscal_year_bounds, report_data

from ..dbfixtures import assert_denied, store
from .test_mpr_registry import AS_OF, MPRO_IN, MPRO_OH, MPRO_PA, MPRT, PRC3, PRC5, build_registry

__all__ = ["store"]
D = dt.date


def seed(st: Store) -> dict[str, int]:
    build_registry(st)
    mpr.check(st, MPRO_OH, "DDS-OH", AS_OF)
    ids = {
        "visit": mpr.open_item(st, MPRO_OH, org="DDS-OH", kind="ONSITE_VISIT", title="Visit, Dayton clinic",
                               owner="mpro_oh", opened=D(2024, 11, 1)),
        "complaint": mpr.open_item(st, MPRO_OH, org="DDS-OH", kind="CONDUCT_COMPLAINT", title="Rude examiner",
                                   owner="exam_oh", opened=D(2025, 6, 1), due=D(2025, 7, 1)),
        "recruit": mpr.open_item(st, MPRO_OH, org="DDS-OH", kind="RECRUITMENT", title="Two psychologists",
                                 owner="mpro_oh", opened=D(2024, 10, 5), specialty="PSYCHOLOGY", area="CENTRAL"),
        "liaison": mpr.open_item(st, MPRO_OH, org="DDS-OH", kind="LIAISON_CONTACT", title="State medical society",
                                 owner="mpro_oh", opened=D(2023, 5, 1)),
        "review": mpr.open_item(st, PRC5, org="RO-05", kind="RO_REVIEW", title="CE process review of DDS-OH",
                                owner="prc5", opened=D(2025, 8, 1), subject="DDS-OH"),
        "later": mpr.open_item(st, MPRO_OH, org="DDS-OH", kind="MEETING", title="Convention (next year)",
                               owner="mpro_oh", opened=D(2025, 10, 2)),
    }
    mpr.close_item(st, MPRO_OH, ids["visit"], closed=D(2025, 1, 15), outcome="satisfactory",
                   findings="records kept; equipment adequate")
    mpr.close_item(st, MPRO_OH, ids["liaison"], closed=D(2024, 12, 1), outcome="CE guide sent")
    mpr.set_panel_need(st, MPRO_OH, dds="DDS-OH", specialty="PSYCHOLOGY", area="CENTRAL", needed=3)
    return ids


def test_fiscal_year_runs_october_to_september() -> None:
    assert fiscal_year_bounds(2025) == (D(2024, 10, 1), D(2025, 9, 30))


def test_report_counts_come_from_the_records(store: Store) -> None:
    seed(store)
    data = report_data(store, PRC5, "DDS-OH", 2025)
    assert data["kind"] == "RO_OVERSIGHT" and data["region"]["code"] == "RO-05"
    providers = mpr.providers(store, MPRO_OH)
    assert data["providers"]["total"] == len(providers) == 6
    assert data["providers"]["eligibility_at_end"] == {
        "eligible": 1, "not eligible": 4, "undecided (a person must decide)": 1}
    assert data["checks"] == {"dates": [AS_OF], "runs": 1}
    assert len(data["changes"]) == 4 and data["open_flags_at_end"] == 4
    assert {c["to"] for c in data["changes"]} == {"not eligible"}
    assert all(c["must_act"] == "mpro_oh" and c["opened"] == AS_OF for c in data["changes"])
    assert data["queue"] == {"opened": 1, "decided": 0, "open_at_end": 1}
    kinds = {k["kind"]: (k["opened"], k["closed"], k["open_at_end"]) for k in data["items_by_kind"]}
    assert kinds == {"ONSITE_VISIT": (1, 1, 0), "CONDUCT_COMPLAINT": (1, 0, 1), "RECRUITMENT": (1, 0, 1),
                     "LIAISON_CONTACT": (0, 1, 0), "RO_REVIEW": (1, 0, 1), "MEETING": (0, 0, 0)}
    # open on 2025-09-30: complaint 121 days, recruitment 360 days, RO review 60 days
    assert data["open_by_age"] == {"0-30 days": 0, "31-90 days": 1, "91-180 days": 1, "181-365 days": 1,
                                   "over a year": 0}
    complaint = next(i for i in data["open_items"] if i["kind"] == "CONDUCT_COMPLAINT")
    assert complaint["age_days"] == 121 and complaint["overdue"] is True
    assert {i["kind"] for i in data["closed_items"]} == {"ONSITE_VISIT", "LIAISON_CONTACT"}
    gap = data["panel_gap"][0]
    assert (gap["specialty"], gap["area"], gap["needed"], gap["recruiting"]) == ("PSYCHOLOGY", "CENTRAL", 3, 1)
    assert gap["gap"] == 3 - gap["eligible"]


def test_the_page_shows_every_section_and_its_figures(store: Store) -> None:
    seed(store)
    page = render_mpr_report(report_data(store, MPRO_OH, "DDS-OH", 2025, "DDS_SUMMARY"))
    for text in ("DDS medical and professional relations activity summary", "Fiscal year 2025",
                 "2024-10-01 to 2025-09-30", "PM 00215.001D.4", "Rude examiner", "(overdue)",
                 "records kept; equipment adequate", "CE guide sent", "PSYCHOLOGY", "<svg",
                 "Items open on the last day of the year, by age", "undecided (a person must decide)"):
        assert text in page, text
    assert "Convention (next year)" not in page  # opened after the fiscal year
    for chart in ("mpr-eligibility", "mpr-items", "mpr-ages"):  # every chart drawn, none lost to a template slip
        assert f'data-chart="{chart}"' in page, chart


@pytest.mark.parametrize(("actor", "allowed"), [(MPRO_OH, True), (PRC5, True), (MPRT, True),
                                                 (MPRO_IN, False), (MPRO_PA, False), (PRC3, False)])
def test_who_may_produce_the_report(store: Store, actor: Actor, allowed: bool) -> None:
    seed(store)
    if allowed:
        assert report_data(store, actor, "DDS-OH", 2025)["dds"]["code"] == "DDS-OH"
    else:
        with pytest.raises(Forbidden):
            report_data(store, actor, "DDS-OH", 2025)
        assert_denied(store, actor.name, "mpr.read", "mpr_report:DDS-OH:FY2025:RO_OVERSIGHT")
