"""Role boundaries of M/PR (PM 00215.001A, D.2-D.4): each level sees and changes only what it may.

A DDS its own providers and work; an RO its region's DDSs (read) and RO items; CO everything
read-only plus national items. Run on SQLite and PostgreSQL (fixture ``store``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cdrflow.dcf.store import Actor, Store, StoreError
from cdrflow.kernel.errors import Forbidden
from cdrflow.workflow import mpr
from cdrflow.workflow.mpr.reports import report_data

from ..dbfixtures import access_rows, assert_denied, person, store
from .test_mpr_registry import (
    ADMIN,
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

READ_SUMMARY = r"may not read M/PR records \(providers, checks, queue, flags, items, panels\)"


@pytest.fixture
def world(store: Store) -> Store:
    build_registry(store)
    mpr.check(store, MPRO_OH, "DDS-OH", AS_OF)
    mpr.check(store, MPRO_PA, "DDS-PA", AS_OF)
    return store


def test_access_denied_is_the_one_forbidden() -> None:
    assert issubclass(mpr.AccessDenied, Forbidden) and issubclass(mpr.AccessDenied, StoreError)
    assert mpr.AccessDenied.exit_code == 4 and mpr.AccessDenied.code == "forbidden"
    assert mpr.MprError.code == "invalid_input" and mpr.MprStateError.code == "invalid_state"


def test_dds_sees_and_changes_only_its_own(world: Store) -> None:
    st = world
    assert {p["dds"] for p in mpr.providers(st, MPRO_PA)} == {"DDS-PA"}
    assert {p["dds"] for p in mpr.providers(st, EXAM_OH)} == {"DDS-OH"}
    assert mpr.providers(st, MPRO_IN) == []
    oh1 = by_ext(st)["OH-1"]["provider_id"]
    with pytest.raises(Forbidden, match=rf"mpro_pa:MPRO {READ_SUMMARY} on provider:{oh1}: mpro_pa \(DDS-PA\) may not "
                                        r"see DDS-OH's records"):
        mpr.provider(st, MPRO_PA, oh1)
    assert assert_denied(st, "mpro_pa", "mpr.read", f"provider:{oh1}")["rule"] == "mpr-level"
    with pytest.raises(Forbidden, match=r"on providers:dds=DDS-OH: .* a DDS sees only its own providers"):
        mpr.providers(st, MPRO_PA, dds="DDS-OH")
    assert_denied(st, "mpro_pa", "mpr.read", "providers:dds=DDS-OH")
    with pytest.raises(Forbidden, match="a DDS acts on its own providers"):
        mpr.check(st, MPRO_PA, "DDS-OH", AS_OF)
    assert_denied(st, "mpro_pa", "mpr.registry.change", "mpr_check:DDS-OH@2025-03-01")
    with pytest.raises(Forbidden):
        mpr.import_providers(st, MPRO_PA, FIXTURES / "mpr_providers_oh.csv", dds="DDS-OH")
    assert_denied(st, "mpro_pa", "mpr.registry.change", "providers:DDS-OH")
    with pytest.raises(Forbidden):
        mpr.import_roster(st, MPRO_PA, FIXTURES / "mpr_roster_oh.csv", dds="DDS-OH")
    assert_denied(st, "mpro_pa", "mpr.registry.change", "roster:DDS-OH")
    with pytest.raises(Forbidden):
        mpr.set_provider_status(st, MPRO_PA, oh1, "INACTIVE")
    assert_denied(st, "mpro_pa", "mpr.registry.change", f"provider:{oh1}")
    with pytest.raises(Forbidden, match="the role EXAMINER may not"):  # an examiner works, not the registry
        mpr.set_provider_status(st, EXAM_OH, oh1, "INACTIVE")
    assert assert_denied(st, "exam_oh", "mpr.registry.change", f"provider:{oh1}")["rule"] == "deny-by-default"
    assert {f["dds"] for f in mpr.flags(st, MPRO_PA)} <= {"DDS-PA"}
    assert all(q["dds"] == "DDS-OH" for q in mpr.queue(st, MPRO_OH))
    assert mpr.queue(st, MPRO_PA) == []
    item = mpr.open_item(st, EXAM_OH, org="DDS-OH", kind="ONSITE_VISIT", title="visit", owner="exam_oh",
                         opened=AS_OF, provider_id=oh1)
    with pytest.raises(Forbidden, match=f"on item:{item}: mpro_pa \\(DDS-PA\\) may not see DDS-OH's records"):
        mpr.item(st, MPRO_PA, item)
    assert_denied(st, "mpro_pa", "mpr.read", f"item:{item}")
    with pytest.raises(Forbidden, match="only a person of DDS-OH"):
        mpr.update_item(st, MPRO_PA, item, findings="x")
    assert_denied(st, "mpro_pa", "mpr.item.change", f"item:{item}")
    with pytest.raises(Forbidden, match="only a person of DDS-OH"):
        mpr.open_item(st, MPRO_PA, org="DDS-OH", kind="ONSITE_VISIT", title="x", owner="mpro_pa", opened=AS_OF)
    assert_denied(st, "mpro_pa", "mpr.item.change", "item:new ONSITE_VISIT")
    pa1 = by_ext(st, MPRO_PA)["PA-1"]["provider_id"]
    with pytest.raises(mpr.MprError, match="not a provider of DDS-OH"):  # a wrong value, not a refusal
        mpr.open_item(st, EXAM_OH, org="DDS-OH", kind="ONSITE_VISIT", title="x", owner="exam_oh", opened=AS_OF,
                      provider_id=pa1)
    assert [i["item_id"] for i in mpr.items(st, MPRO_PA)] == []
    with pytest.raises(Forbidden):
        mpr.open_item(st, MPRO_OH, org="RO-05", kind="RO_RELAY", title="x", owner="prc5", opened=AS_OF)
    assert_denied(st, "mpro_oh", "mpr.item.change", "item:new RO_RELAY")


def test_ro_reads_its_region_and_changes_only_ro_items(world: Store) -> None:
    st = world
    assert {p["dds"] for p in mpr.providers(st, PRC5)} == {"DDS-OH"}  # DDS-IN has no providers
    assert {p["dds"] for p in mpr.providers(st, PRC3)} == {"DDS-PA"}
    with pytest.raises(Forbidden, match="an RO sees only the DDSs of its region"):
        mpr.providers(st, PRC3, dds="DDS-OH")
    assert_denied(st, "prc3", "mpr.read", "providers:dds=DDS-OH")
    assert {f["dds"] for f in mpr.flags(st, PRC5)} == {"DDS-OH"}
    assert {f["dds"] for f in mpr.flags(st, PRC3)} == {"DDS-PA"}  # PA-2, a practice without a license
    oh_flag = mpr.flags(st, PRC5)[0]["flag_id"]
    with pytest.raises(Forbidden, match=r"technical direction and reviews \(PM 00215.001D.3.b\)"):
        mpr.resolve_flag(st, PRC5, oh_flag, note="x")
    assert_denied(st, "prc5", "mpr.flag.resolve", f"flag:{oh_flag}")
    with pytest.raises(Forbidden, match="CE oversight is the DDS's"):
        mpr.check(st, PRC5, "DDS-OH", AS_OF)
    assert_denied(st, "prc5", "mpr.registry.change", "mpr_check:DDS-OH@2025-03-01")
    q = mpr.queue(st, PRC5)
    assert q and all(e["dds"] == "DDS-OH" for e in q)
    with pytest.raises(Forbidden):
        mpr.decide_review(st, PRC5, q[0]["queue_id"], confirm=False, rationale="x")
    assert_denied(st, "prc5", "mpr.review.decide", f"review:{q[0]['queue_id']}")
    with pytest.raises(Forbidden, match="DDS's own work"):
        mpr.open_item(st, PRC5, org="DDS-OH", kind="ONSITE_VISIT", title="x", owner="exam_oh", opened=AS_OF)
    assert_denied(st, "prc5", "mpr.item.change", "item:new ONSITE_VISIT")
    relay = mpr.open_item(st, PRC5, org="RO-05", kind="RO_RELAY", title="relay CO's CE guide update to MPROs",
                          owner="prc5", opened=AS_OF)
    rec = mpr.open_item(st, PRC5, org="RO-05", kind="RECOGNITION", title="recognize DDS-OH's ERE outreach",
                        owner="prc5", opened=AS_OF, subject="DDS-OH")
    with pytest.raises(mpr.MprError, match="not in RO-05's region"):  # a wrong value, not a refusal
        mpr.open_item(st, PRC5, org="RO-05", kind="RO_REVIEW", title="x", owner="prc5", opened=AS_OF,
                      subject="DDS-PA")
    with pytest.raises(Forbidden, match="only a PRC of RO-05"):
        mpr.update_item(st, PRC3, relay, findings="x")
    assert_denied(st, "prc3", "mpr.item.change", f"item:{relay}")
    with pytest.raises(Forbidden):
        mpr.item(st, PRC3, rec)
    assert_denied(st, "prc3", "mpr.read", f"item:{rec}")
    with pytest.raises(mpr.MprError, match="is RO work"):  # the level of the kind: an input error
        mpr.open_item(st, PRC5, org="DDS-OH", kind="RO_RELAY", title="x", owner="prc5", opened=AS_OF)
    assert not access_rows(st, person="prc5", action="mpr.item.change", resource="item:new RO_RELAY",
                           outcome="DENIED")
    assert {i["item_id"] for i in mpr.items(st, PRC5)} == {relay, rec}
    assert mpr.items(st, MPRO_OH) == []  # RO items are the RO's


def test_co_reads_everything_and_changes_only_national_items(world: Store) -> None:
    st = world
    assert {p["dds"] for p in mpr.providers(st, MPRT)} == {"DDS-OH", "DDS-PA"}
    assert {f["dds"] for f in mpr.flags(st, MPRT)} == {"DDS-OH", "DDS-PA"}
    oh1 = by_ext(st)["OH-1"]["provider_id"]
    assert mpr.provider(st, MPRT, oh1)["ext_id"] == "OH-1"
    with pytest.raises(Forbidden, match="CO reads everything and changes only national items"):
        mpr.check(st, MPRT, "DDS-OH", AS_OF)
    assert_denied(st, "mprt1", "mpr.registry.change", "mpr_check:DDS-OH@2025-03-01")
    with pytest.raises(Forbidden, match="CO reads everything"):
        mpr.set_provider_status(st, MPRT, oh1, "INACTIVE")
    with pytest.raises(Forbidden, match="CO reads everything"):
        mpr.open_item(st, MPRT, org="DDS-OH", kind="MEETING", title="x", owner="mpro_oh", opened=AS_OF)
    assert_denied(st, "mprt1", "mpr.item.change", "item:new MEETING")
    flag = mpr.flags(st, MPRT)[0]["flag_id"]
    with pytest.raises(Forbidden):
        mpr.resolve_flag(st, MPRT, flag, note="x")
    assert_denied(st, "mprt1", "mpr.flag.resolve", f"flag:{flag}")
    nat = mpr.open_item(st, MPRT, org="CO", kind="NATIONAL", title="update the CE Guide for Physicians (D.2.h)",
                        owner="mprt1", opened=AS_OF, due=dt.date(2025, 9, 30))
    assert mpr.item(st, MPRT, nat)["cite"] == "PM 00215.001D.2"
    with pytest.raises(Forbidden, match="only the CO MPRT changes it"):
        mpr.update_item(st, PRC5, nat, findings="x")
    assert_denied(st, "prc5", "mpr.item.change", f"item:{nat}")
    with pytest.raises(Forbidden):
        mpr.item(st, MPRO_OH, nat)
    assert_denied(st, "mpro_oh", "mpr.read", f"item:{nat}")
    assert mpr.panel_gap(st, MPRT, "DDS-PA", AS_OF) == []


NJ_PROVIDERS = ("PROVIDER_ID,KIND,LAST_NAME,FIRST_NAME,MIDDLE_NAME,BUSINESS_NAME,NPI,SPECIALTIES,PANELS,ADDRESS,CITY,"
                "STATE,ZIP,STATUS\n"
                "NJ-1,PERSON,Okafor,Nneka,,,,PSYCHOLOGY,NORTH,1 Main St,Newark,NJ,07102,ACTIVE\n"
                "NJ-2,PRACTICE,,,,Shore Imaging,,RADIOLOGY,SOUTH,9 Ocean Ave,Trenton,NJ,08608,ACTIVE\n")


def test_a_dds_cannot_read_another_dds_providers_and_a_prc_sees_only_its_region(world: Store, tmp_path: Path) -> None:
    """DDS-PA's MPRO is refused DDS-NJ's providers, as a list and one by one (Forbidden, each refusal logged);
    a PRC sees the providers of its region's DDSs and no other."""
    st = world
    mpr.add_org(st, ADMIN, level="RO", code="RO-02", name="New York region", parent="CO")
    mpr.add_org(st, ADMIN, level="DDS", code="DDS-NJ", name="New Jersey", parent="RO-02")
    mpro_nj = person(st, "mpro_nj", "MPRO", org="DDS-NJ")
    prc2 = person(st, "prc2", "PRC", org="RO-02")
    csv = tmp_path / "nj.csv"
    csv.write_text(NJ_PROVIDERS, encoding="utf-8")
    assert mpr.import_providers(st, mpro_nj, csv).counts["inserted"] == 2
    nj = sorted(p["provider_id"] for p in mpr.providers(st, mpro_nj))
    assert len(nj) == 2 and {p["dds"] for p in mpr.providers(st, mpro_nj)} == {"DDS-NJ"}

    with pytest.raises(Forbidden, match="mpro_pa \\(DDS-PA\\) may not see DDS-NJ's records"):
        mpr.providers(st, MPRO_PA, dds="DDS-NJ")
    row = assert_denied(st, "mpro_pa", "mpr.read", "providers:dds=DDS-NJ")
    assert (row["role"], row["rule"], row["kind"]) == ("MPRO", "mpr-level", "READ") and "DDS-NJ" in row["reason"]
    for pid in nj:
        with pytest.raises(Forbidden):
            mpr.provider(st, MPRO_PA, pid)
        assert_denied(st, "mpro_pa", "mpr.read", f"provider:{pid}")
    with pytest.raises(Forbidden):
        mpr.panel_gap(st, MPRO_PA, "DDS-NJ", AS_OF)
    with pytest.raises(Forbidden):
        report_data(st, MPRO_PA, "DDS-NJ", 2025)
    assert_denied(st, "mpro_pa", "mpr.read", "mpr_report:DDS-NJ:FY2025:RO_OVERSIGHT")
    before = len(access_rows(st, person="mpro_pa", action="mpr.read", resource="providers:all", outcome="ALLOWED"))
    mine = mpr.providers(st, MPRO_PA)  # the unfiltered list: DDS-PA's only, one ALLOWED row for the list
    assert mine and {p["dds"] for p in mine} == {"DDS-PA"} and not set(nj) & {p["provider_id"] for p in mine}
    assert len(access_rows(st, person="mpro_pa", action="mpr.read", resource="providers:all",
                           outcome="ALLOWED")) == before + 1

    # a PRC: the DDSs of its region only
    assert {p["dds"] for p in mpr.providers(st, prc2)} == {"DDS-NJ"}
    assert {p["dds"] for p in mpr.providers(st, PRC3)} == {"DDS-PA"}
    assert {p["dds"] for p in mpr.providers(st, PRC5)} == {"DDS-OH"}
    assert mpr.provider(st, prc2, nj[0])["dds_org_id"] is not None
    for prc, name in ((PRC3, "prc3"), (PRC5, "prc5")):
        with pytest.raises(Forbidden, match="an RO sees only the DDSs of its region"):
            mpr.providers(st, prc, dds="DDS-NJ")
        assert_denied(st, name, "mpr.read", "providers:dds=DDS-NJ")
        with pytest.raises(Forbidden):
            mpr.provider(st, prc, nj[0])
        assert_denied(st, name, "mpr.read", f"provider:{nj[0]}")
    with pytest.raises(Forbidden):
        mpr.providers(st, prc2, dds="DDS-OH")
    assert_denied(st, "prc2", "mpr.read", "providers:dds=DDS-OH")
    # CO and an auditor read every DDS; someone outside M/PR reads none
    assert {p["dds"] for p in mpr.providers(st, MPRT)} == {"DDS-OH", "DDS-PA", "DDS-NJ"}
    auditor = person(st, "audrey", "AUDITOR")
    assert {p["dds"] for p in mpr.providers(st, auditor)} == {"DDS-OH", "DDS-PA", "DDS-NJ"}
    clerk = person(st, "mo", "MAILROOM", pc=7)
    with pytest.raises(Forbidden):
        mpr.providers(st, clerk)
    assert assert_denied(st, "mo", "mpr.read", "providers:all")["rule"] == "deny-by-default"


def test_every_read_leaves_one_access_log_row(world: Store) -> None:
    """Each read of the M/PR record (a provider, the providers, the queue, flags, items, an item, a panel gap,
    a report, the schedule) adds exactly one ALLOWED row naming it; a list's row names its filter."""
    st = world
    oh1 = by_ext(st)["OH-1"]["provider_id"]
    item = mpr.open_item(st, MPRO_OH, org="DDS-OH", kind="MEETING", title="m", owner="mpro_oh", opened=AS_OF)
    reads = [
        (lambda: mpr.provider(st, PRC5, oh1), f"provider:{oh1}"),
        (lambda: mpr.providers(st, PRC5), "providers:all"),
        (lambda: mpr.providers(st, PRC5, dds="DDS-OH"), "providers:dds=DDS-OH"),
        (lambda: mpr.queue(st, PRC5), "review_queue:state=OPEN"),
        (lambda: mpr.queue(st, PRC5, state=None), "review_queue:all"),
        (lambda: mpr.flags(st, PRC5, state=None), "flags:all"),
        (lambda: mpr.items(st, PRC5, org="DDS-OH", state="open"), "items:org=DDS-OH,state=OPEN"),
        (lambda: mpr.item(st, PRC5, item), f"item:{item}"),
        (lambda: mpr.panel_gap(st, PRC5, "DDS-OH", AS_OF), "panel_gap:DDS-OH@2025-03-01"),
        (lambda: mpr.due_checks(st, AS_OF, actor=PRC5), "due_checks:as_of=2025-03-01,period=30"),
    ]
    for read, resource in reads:
        before = len(access_rows(st, person="prc5", action="mpr.read", resource=resource, outcome="ALLOWED"))
        read()
        after = access_rows(st, person="prc5", action="mpr.read", resource=resource, outcome="ALLOWED")
        assert len(after) == before + 1, resource
        assert (after[-1]["role"], after[-1]["kind"], after[-1]["rule"]) == ("PRC", "READ", "mpr-level")
    report_data(st, Actor("prc5", "PRC"), "DDS-OH", 2025)
    assert access_rows(st, person="prc5", action="mpr.read", resource="mpr_report:DDS-OH:FY2025:RO_OVERSIGHT",
                       outcome="ALLOWED")
