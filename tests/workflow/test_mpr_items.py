"""Tracked M/PR work (PM 00215.001D.2-D.4): owner, dates, findings, outcome; one model for every kind."""

from __future__ import annotations

import datetime as dt

import pytest

from cdrflow.dcf.store import ConflictError, Store
from cdrflow.workflow import mpr

from ..dbfixtures import store
from .test_mpr_registry import AS_OF, CMC_OH, EXAM_OH, MPRO_OH, build_registry, by_ext

__all__ = ["store"]


def test_every_kind_cites_its_passage() -> None:
    assert mpr.ITEM_KINDS["ONSITE_VISIT"] == ("DDS", "PM 00215.001D.4.c")
    assert mpr.ITEM_KINDS["RECRUITMENT"] == ("DDS", "PM 00215.001D.4.b")
    assert mpr.ITEM_KINDS["RECOGNITION"] == ("RO", "PM 00215.001D.3.f")
    assert mpr.ITEM_KINDS["NATIONAL"] == ("CO", "PM 00215.001D.2")
    assert all(cite.startswith("PM 00215.001D.") for _, cite in mpr.ITEM_KINDS.values())


def test_work_item_lifecycle(store: Store) -> None:
    build_registry(store)
    oh1 = by_ext(store)["OH-1"]["provider_id"]
    with pytest.raises(mpr.MprError, match="owner"):
        mpr.open_item(store, MPRO_OH, org="DDS-OH", kind="CONDUCT_COMPLAINT", title="x", owner="mpro_pa",
                      opened=AS_OF)
    with pytest.raises(mpr.MprError, match="due"):
        mpr.open_item(store, MPRO_OH, org="DDS-OH", kind="CONDUCT_COMPLAINT", title="x", owner="mpro_oh",
                      opened=AS_OF, due=dt.date(2025, 1, 1))
    with pytest.raises(mpr.MprError, match="kind"):
        mpr.open_item(store, MPRO_OH, org="DDS-OH", kind="PICNIC", title="x", owner="mpro_oh", opened=AS_OF)
    iid = mpr.open_item(store, MPRO_OH, org="DDS-OH", kind="conduct_complaint",
                        title="claimant complaint: examiner rude, exam 10 minutes", owner="exam_oh",
                        opened=AS_OF, due=dt.date(2025, 3, 31), provider_id=oh1)
    it = mpr.item(store, MPRO_OH, iid)
    assert (it["kind"], it["cite"], it["state"], it["version"], it["owner"]) == \
        ("CONDUCT_COMPLAINT", "PM 00215.001D.4.c", "OPEN", 1, "exam_oh")
    v = mpr.update_item(store, EXAM_OH, iid, findings="two similar complaints in 2024", expected_version=1)
    assert v == 2
    with pytest.raises(ConflictError, match="you read version 1"):
        mpr.update_item(store, CMC_OH, iid, owner="cmc_oh", expected_version=1)
    assert mpr.update_item(store, CMC_OH, iid, owner="cmc_oh", expected_version=2) == 3
    with pytest.raises(mpr.MprError, match="outcome"):
        mpr.close_item(store, CMC_OH, iid, closed=dt.date(2025, 3, 20), outcome=" ")
    with pytest.raises(mpr.MprError, match="before the item was opened"):
        mpr.close_item(store, CMC_OH, iid, closed=dt.date(2025, 2, 1), outcome="x")
    assert mpr.close_item(store, CMC_OH, iid, closed=dt.date(2025, 3, 20),
                          outcome="onsite visit scheduled; provider counseled",
                          findings="complaints substantiated in part") == 4
    done = mpr.item(store, MPRO_OH, iid)
    assert (done["state"], done["closed"], done["outcome"], done["findings"], done["updated_by"]) == \
        ("CLOSED", dt.date(2025, 3, 20), "onsite visit scheduled; provider counseled",
         "complaints substantiated in part", "cmc_oh:CMC")
    with pytest.raises(mpr.MprStateError, match="CLOSED"):  # the item's state, not the value
        mpr.update_item(store, MPRO_OH, iid, findings="late note")
    assert [i["item_id"] for i in mpr.items(store, MPRO_OH, state="CLOSED")] == [iid]
    assert mpr.items(store, MPRO_OH, kind="ONSITE_VISIT") == []


def test_liaison_and_outreach_are_items_too(store: Store) -> None:
    build_registry(store)
    for kind in ("LIAISON_CONTACT", "MEETING", "MATERIALS", "ERE_PROMOTION", "STUDY_SURVEY"):
        mpr.open_item(store, EXAM_OH, org="DDS-OH", kind=kind, title=f"{kind.lower()} 2025", owner="mpro_oh",
                      opened=AS_OF)
    got = {i["kind"]: i["cite"] for i in mpr.items(store, MPRO_OH)}
    assert got["ERE_PROMOTION"] == "PM 00215.001D.4.a, D.4.d" and got["MEETING"] == "PM 00215.001D.4.d"
