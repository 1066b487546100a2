"""Role boundaries of M/PR (PM 00215.001A, D.2-D.4): each level sees and changes only what it may.

A DDS its own providers and work; an RO its region's DDSs (read) and RO items; CO everything
read-only plus national items. Run on SQLite and PostgreSQL (fixture ``store``).
"""

from __future__ import annotations

import datetime as dt

import pytest

from cdrflow.dcf.store import Store, StoreError
from cdrflow.workflow import mpr

from ..dbfixtures import store
from .test_mpr_registry import (
    AS_OF,
    EXAM_OH,
    FIXTURES,
    MPRO_IN,
    MPRO_OH,
    MPRO_PA,
    MPRT,
    PRC3,
    PRC5,
    build_registry,
    by_ext,
)

__all__ = ["store"]


@pytest.fixture
def world(store: Store) -> Store:
    build_registry(store)
    mpr.check(store, MPRO_OH, "DDS-OH", AS_OF)
    mpr.check(store, MPRO_PA, "DDS-PA", AS_OF)
    return store


def test_access_denied_is_a_store_error() -> None:
    assert issubclass(mpr.AccessDenied, StoreError)


def test_dds_sees_and_changes_only_its_own(world: Store) -> None:
    st = world
    assert {p["dds"] for p in mpr.providers(st, MPRO_PA)} == {"DDS-PA"}
    assert {p["dds"] for p in mpr.providers(st, EXAM_OH)} == {"DDS-OH"}
    assert mpr.providers(st, MPRO_IN) == []
    oh1 = by_ext(st)["OH-1"]["provider_id"]
    with pytest.raises(mpr.AccessDenied, match=r"mpro_pa:MPRO \(DDS-PA\): may not read provider .* of DDS-OH"):
        mpr.provider(st, MPRO_PA, oh1)
    with pytest.raises(mpr.AccessDenied, match="may not read the providers of DDS-OH"):
        mpr.providers(st, MPRO_PA, dds="DDS-OH")
    with pytest.raises(mpr.AccessDenied, match="a DDS acts on its own providers"):
        mpr.check(st, MPRO_PA, "DDS-OH", AS_OF)
    with pytest.raises(mpr.AccessDenied):
        mpr.import_providers(st, MPRO_PA, FIXTURES / "mpr_providers_oh.csv", dds="DDS-OH")
    with pytest.raises(mpr.AccessDenied):
        mpr.import_roster(st, MPRO_PA, FIXTURES / "mpr_roster_oh.csv", dds="DDS-OH")
    with pytest.raises(mpr.AccessDenied):
        mpr.set_provider_status(st, MPRO_PA, oh1, "INACTIVE")
    with pytest.raises(mpr.AccessDenied):  # an examiner takes part in the work, not in the registry
        mpr.set_provider_status(st, EXAM_OH, oh1, "INACTIVE")
    assert {f["dds"] for f in mpr.flags(st, MPRO_PA)} <= {"DDS-PA"}
    assert all(q["dds"] == "DDS-OH" for q in mpr.queue(st, MPRO_OH))
    assert mpr.queue(st, MPRO_PA) == []
    item = mpr.open_item(st, EXAM_OH, org="DDS-OH", kind="ONSITE_VISIT", title="visit", owner="exam_oh",
                         opened=AS_OF, provider_id=oh1)
    with pytest.raises(mpr.AccessDenied, match="may not read item"):
        mpr.item(st, MPRO_PA, item)
    with pytest.raises(mpr.AccessDenied):
        mpr.update_item(st, MPRO_PA, item, findings="x")
    with pytest.raises(mpr.AccessDenied, match="only a person of DDS-OH"):
        mpr.open_item(st, MPRO_PA, org="DDS-OH", kind="ONSITE_VISIT", title="x", owner="mpro_pa", opened=AS_OF)
    pa1 = by_ext(st, MPRO_PA)["PA-1"]["provider_id"]
    with pytest.raises(mpr.AccessDenied, match="not a provider of DDS-OH"):
        mpr.open_item(st, EXAM_OH, org="DDS-OH", kind="ONSITE_VISIT", title="x", owner="exam_oh", opened=AS_OF,
                      provider_id=pa1)
    assert [i["item_id"] for i in mpr.items(st, MPRO_PA)] == []
    with pytest.raises(mpr.AccessDenied):
        mpr.open_item(st, MPRO_OH, org="RO-05", kind="RO_RELAY", title="x", owner="prc5", opened=AS_OF)


def test_ro_reads_its_region_and_changes_only_ro_items(world: Store) -> None:
    st = world
    assert {p["dds"] for p in mpr.providers(st, PRC5)} == {"DDS-OH"}  # DDS-IN has no providers
    assert {p["dds"] for p in mpr.providers(st, PRC3)} == {"DDS-PA"}
    with pytest.raises(mpr.AccessDenied, match="an RO sees only the DDSs of its region"):
        mpr.providers(st, PRC3, dds="DDS-OH")
    assert {f["dds"] for f in mpr.flags(st, PRC5)} == {"DDS-OH"}
    assert {f["dds"] for f in mpr.flags(st, PRC3)} == {"DDS-PA"}  # PA-2, a practice without a license
    oh_flag = mpr.flags(st, PRC5)[0]["flag_id"]
    with pytest.raises(mpr.AccessDenied, match=r"technical direction and reviews \(PM 00215.001D.3.b\)"):
        mpr.resolve_flag(st, PRC5, oh_flag, note="x")
    with pytest.raises(mpr.AccessDenied, match="CE oversight is the DDS's"):
        mpr.check(st, PRC5, "DDS-OH", AS_OF)
    q = mpr.queue(st, PRC5)
    assert q and all(e["dds"] == "DDS-OH" for e in q)
    with pytest.raises(mpr.AccessDenied):
        mpr.decide_review(st, PRC5, q[0]["queue_id"], confirm=False, rationale="x")
    with pytest.raises(mpr.AccessDenied, match="DDS's own work"):
        mpr.open_item(st, PRC5, org="DDS-OH", kind="ONSITE_VISIT", title="x", owner="exam_oh", opened=AS_OF)
    relay = mpr.open_item(st, PRC5, org="RO-05", kind="RO_RELAY", title="relay CO's CE guide update to MPROs",
                          owner="prc5", opened=AS_OF)
    rec = mpr.open_item(st, PRC5, org="RO-05", kind="RECOGNITION", title="recognize DDS-OH's ERE outreach",
                        owner="prc5", opened=AS_OF, subject="DDS-OH")
    with pytest.raises(mpr.AccessDenied, match="not in RO-05's region"):
        mpr.open_item(st, PRC5, org="RO-05", kind="RO_REVIEW", title="x", owner="prc5", opened=AS_OF,
                      subject="DDS-PA")
    with pytest.raises(mpr.AccessDenied, match="may not read item"):
        mpr.update_item(st, PRC3, relay, findings="x")
    with pytest.raises(mpr.AccessDenied):
        mpr.item(st, PRC3, rec)
    with pytest.raises(mpr.MprError, match="is RO work"):
        mpr.open_item(st, PRC5, org="DDS-OH", kind="RO_RELAY", title="x", owner="prc5", opened=AS_OF)
    assert {i["item_id"] for i in mpr.items(st, PRC5)} == {relay, rec}
    assert mpr.items(st, MPRO_OH) == []  # RO items are the RO's


def test_co_reads_everything_and_changes_only_national_items(world: Store) -> None:
    st = world
    assert {p["dds"] for p in mpr.providers(st, MPRT)} == {"DDS-OH", "DDS-PA"}
    assert {f["dds"] for f in mpr.flags(st, MPRT)} == {"DDS-OH", "DDS-PA"}
    oh1 = by_ext(st)["OH-1"]["provider_id"]
    assert mpr.provider(st, MPRT, oh1)["ext_id"] == "OH-1"
    with pytest.raises(mpr.AccessDenied, match="CO reads everything and changes only national items"):
        mpr.check(st, MPRT, "DDS-OH", AS_OF)
    with pytest.raises(mpr.AccessDenied, match="CO reads everything"):
        mpr.set_provider_status(st, MPRT, oh1, "INACTIVE")
    with pytest.raises(mpr.AccessDenied, match="CO reads everything"):
        mpr.open_item(st, MPRT, org="DDS-OH", kind="MEETING", title="x", owner="mpro_oh", opened=AS_OF)
    with pytest.raises(mpr.AccessDenied):
        mpr.resolve_flag(st, MPRT, mpr.flags(st, MPRT)[0]["flag_id"], note="x")
    nat = mpr.open_item(st, MPRT, org="CO", kind="NATIONAL", title="update the CE Guide for Physicians (D.2.h)",
                        owner="mprt1", opened=AS_OF, due=dt.date(2025, 9, 30))
    assert mpr.item(st, MPRT, nat)["cite"] == "PM 00215.001D.2"
    with pytest.raises(mpr.AccessDenied, match="may not read item"):
        mpr.update_item(st, PRC5, nat, findings="x")
    with pytest.raises(mpr.AccessDenied):
        mpr.item(st, MPRO_OH, nat)
    assert mpr.panel_gap(st, MPRT, "DDS-PA", AS_OF) == []
