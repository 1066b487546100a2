"""The CE provider registry in the DCF (PM 00215.001D.4.b, D.4.c): imports, checks, the review queue, flags.

Run on SQLite and PostgreSQL alike (fixture ``store``). The organisation built by :func:`build_orgs`
is shared with ``test_mpr_access.py`` and ``test_mpr_items.py``. Its people are rows of the ``people``
table (added by an administrator, with their organisation's code); a service is handed a bare
:class:`~cdrflow.dcf.store.Actor`, which the permission model resolves there. Every refusal is a
:class:`~cdrflow.kernel.errors.Forbidden` and a DENIED row of the access log.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from cdrflow.dcf.schema import mpr_checks, mpr_flags, mpr_leie, mpr_licenses, mpr_people, mpr_review_queue, people
from cdrflow.dcf.store import Actor, ConflictError, Store
from cdrflow.kernel.errors import Conflict, Forbidden, InvalidInput
from cdrflow.workflow import mpr

from ..dbfixtures import access_rows, assert_denied, owner_engine, person, store

__all__ = ["store"]

FIXTURES = Path(__file__).parents[1] / "mpr" / "fixtures"
ADMIN = Actor("admin", "ADMIN")  # an administrator of the DCF: organisations and people
SCHEDULER = Actor("scheduler", "SYSTEM")  # the scheduled job, a system principal seeded by migration 0010
MPRT = Actor("mprt1", "MPRT")
PRC5 = Actor("prc5", "PRC")
PRC3 = Actor("prc3", "PRC")
MPRO_OH = Actor("mpro_oh", "MPRO")
ADMIN_OH = Actor("admin_oh", "DDS_ADMIN")
CMC_OH = Actor("cmc_oh", "CMC")
EXAM_OH = Actor("exam_oh", "EXAMINER")
MPRO_IN = Actor("mpro_in", "MPRO")
MPRO_PA = Actor("mpro_pa", "MPRO")
AS_OF = dt.date(2025, 3, 1)


def build_orgs(st: Store) -> None:
    """CO; RO-05 (DDS-OH, DDS-IN); RO-03 (DDS-PA); and their people (the people table)."""
    person(st, "admin", "ADMIN")
    mpr.add_org(st, ADMIN, level="CO", code="CO", name="ODD Medical Professional Relations Team")
    mpr.add_org(st, ADMIN, level="RO", code="RO-05", name="Chicago region", parent="CO")
    mpr.add_org(st, ADMIN, level="RO", code="RO-03", name="Philadelphia region", parent="CO")
    for code, ro in (("DDS-OH", "RO-05"), ("DDS-IN", "RO-05"), ("DDS-PA", "RO-03")):
        mpr.add_org(st, ADMIN, level="DDS", code=code, name=code, parent=ro)
    for org, name, role in (("CO", "mprt1", "MPRT"), ("RO-05", "prc5", "PRC"), ("RO-03", "prc3", "PRC"),
                            ("DDS-OH", "mpro_oh", "MPRO"), ("DDS-OH", "admin_oh", "DDS_ADMIN"),
                            ("DDS-OH", "cmc_oh", "CMC"), ("DDS-OH", "exam_oh", "EXAMINER"),
                            ("DDS-IN", "mpro_in", "MPRO"), ("DDS-PA", "mpro_pa", "MPRO")):
        mpr.add_person(st, ADMIN, org=org, name=name, role=role)


def build_registry(st: Store, leie: str = "mpr_leie_v1.csv") -> None:
    """The organisation, both DDSs' providers and rosters, and the LEIE."""
    build_orgs(st)
    mpr.import_providers(st, MPRO_OH, FIXTURES / "mpr_providers_oh.csv")
    mpr.import_providers(st, MPRO_PA, FIXTURES / "mpr_providers_pa.csv")
    mpr.import_roster(st, MPRO_OH, FIXTURES / "mpr_roster_oh.csv")
    mpr.import_roster(st, MPRO_PA, FIXTURES / "mpr_roster_pa.csv")
    mpr.import_leie(st, MPRT, FIXTURES / leie, file_date=dt.date(2025, 2, 10))


def by_ext(st: Store, actor: Actor = MPRO_OH) -> dict[str, dict[str, Any]]:
    return {p["ext_id"]: p for p in mpr.providers(st, actor)}


def count(st: Store, table: Any) -> int:
    with st.read() as tx:
        return int(tx.conn.execute(select(func.count()).select_from(table)).scalar_one())


# ---- organisation -------------------------------------------------------------------------------

def test_org_structure_and_people_checks(store: Store) -> None:
    build_orgs(store)
    got = {o["code"]: (o["level"], o["parent"]) for o in mpr.orgs(store)}
    assert got["DDS-OH"] == ("DDS", "RO-05") and got["RO-03"] == ("RO", "CO") and got["CO"] == ("CO", None)
    with pytest.raises(mpr.MprError, match="a DDS's parent is a RO"):
        mpr.add_org(store, ADMIN, level="DDS", code="DDS-XX", name="x", parent="CO")
    with pytest.raises(InvalidInput, match="PRC is a RO role"):
        mpr.add_person(store, ADMIN, org="DDS-OH", name="someone", role="PRC")
    with pytest.raises(Forbidden, match="administrator"):
        mpr.add_org(store, MPRT, level="RO", code="RO-09", name="x", parent="CO")
    assert_denied(store, "mprt1", "mpr.org.manage", "org:RO-09")
    with pytest.raises(Conflict):
        mpr.add_person(store, ADMIN, org="DDS-OH", name="mpro_oh", role="MPRO")
    # People are the people table's, added by an administrator (people.manage); the DDS Administrator
    # no longer adds them (interpretations §53).
    with pytest.raises(Forbidden):
        mpr.add_person(store, ADMIN_OH, org="DDS-OH", name="exam2_oh", role="EXAMINER")
    assert_denied(store, "admin_oh", "people.manage", "person:exam2_oh")
    with store.read() as tx:
        rows = {r.name: (r.role, r.org) for r in tx.conn.execute(select(people.c.name, people.c.role, people.c.org)
                                                                  .where(people.c.kind == "PERSON"))}
    assert rows["mpro_oh"] == ("MPRO", "DDS-OH") and rows["prc5"] == ("PRC", "RO-05") and "exam2_oh" not in rows
    assert count(store, mpr_people) == 0  # the legacy record of 0005 is no longer written


def test_actor_must_be_the_person_in_their_role(store: Store) -> None:
    build_orgs(store)
    with pytest.raises(Forbidden, match="mpro_oh is MPRO in the people table, not DDS_ADMIN"):
        mpr.providers(store, Actor("mpro_oh", "DDS_ADMIN"))
    assert assert_denied(store, "mpro_oh", "mpr.read")["rule"] == "unknown-person"
    with pytest.raises(Forbidden, match="not an active person in the people table"):
        mpr.providers(store, Actor("stranger", "MPRO"))
    assert assert_denied(store, "stranger", "mpr.read")["rule"] == "unknown-person"


# ---- imports ------------------------------------------------------------------------------------

def test_provider_import_rejects_and_is_idempotent(store: Store) -> None:
    build_orgs(store)
    res = mpr.import_providers(store, MPRO_OH, FIXTURES / "mpr_providers_oh.csv")
    assert res.read == 10 and res.accepted == 7 and res.reconciles()
    assert res.counts == {"inserted": 6, "updated": 0, "unchanged": 0}
    why = {r.row: (r.field, r.reason) for r in res.rejects}
    assert why[8][0] == "NPI" and "check digit" in why[8][1]
    assert why[9][0] == "SPECIALTIES" and "row 2" in why[9][1]
    assert 10 in why
    ps = by_ext(store)
    assert [loc["city"] for loc in ps["OH-2"]["locations"]] == ["Columbus", "Dayton"]
    assert ps["OH-1"]["specialties"] == ["PHYSICIAN", "INTERNAL MEDICINE"] and ps["OH-1"]["status"] == "ACTIVE"
    again = mpr.import_providers(store, MPRO_OH, FIXTURES / "mpr_providers_oh.csv")
    assert again.counts == {"inserted": 0, "updated": 0, "unchanged": 6}
    assert {p["version"] for p in by_ext(store).values()} == {1}


def test_roster_import_links_by_npi_then_name_and_state(store: Store) -> None:
    build_orgs(store)
    mpr.import_providers(store, MPRO_OH, FIXTURES / "mpr_providers_oh.csv")
    res = mpr.import_roster(store, MPRO_OH, FIXTURES / "mpr_roster_oh.csv")
    assert res.read == 8 and res.accepted == 7 and res.reconciles()
    assert res.rejects[0].field == "STATUS"
    c = res.counts
    assert (c["inserted"], c["linked_npi"], c["linked_name"], c["queued"], c["unlinked"]) == (7, 2, 2, 1, 2)
    ps = by_ext(store)
    with store.read() as tx:
        links = {(r["state"], r["number"]): (r["provider_id"], r["link"])
                 for r in tx.conn.execute(select(mpr_licenses)).mappings()}
    assert links[("OH", "MD.0451221")] == (ps["OH-1"]["provider_id"], "NPI")
    assert links[("OH", "PSY-1001")] == (ps["OH-2"]["provider_id"], "NAME_STATE")
    assert links[("TX", "PSY-30877")] == (None, None)  # no location in TX
    q = mpr.queue(store, MPRO_OH)
    assert [e["kind"] for e in q] == ["LICENSE_LINK"]
    assert {c["provider_id"] for c in q[0]["candidates"]} == {ps["OH-6"]["provider_id"], ps["OH-7"]["provider_id"]}
    # Re-import: nothing changes and the question is not asked twice.
    again = mpr.import_roster(store, MPRO_OH, FIXTURES / "mpr_roster_oh.csv")
    assert again.counts["unchanged"] == 7 and again.counts["queued"] == 0
    assert len(mpr.queue(store, MPRO_OH, state=None)) == 1
    # A person decides which Anya Kestrel holds the license (LICENSE_LINK).
    with pytest.raises(mpr.MprError, match="provider_id"):
        mpr.decide_review(store, CMC_OH, q[0]["queue_id"], confirm=True, rationale="x", provider_id=999)
    assert mpr.decide_review(store, CMC_OH, q[0]["queue_id"], confirm=True, rationale="address of record",
                             provider_id=ps["OH-6"]["provider_id"]) == "CONFIRMED"
    lic = list(mpr.provider(store, MPRO_OH, ps["OH-6"]["provider_id"])["licenses"])
    assert [(x["number"], x["link"]) for x in lic] == [("PSY-4004", "PERSON")]
    with pytest.raises(ConflictError, match="already CONFIRMED"):
        mpr.decide_review(store, MPRO_OH, q[0]["queue_id"], confirm=False, rationale="x")


def test_leie_import_replaces_the_list_and_skips_the_same_file(store: Store) -> None:
    build_orgs(store)
    first = mpr.import_leie(store, MPRT, FIXTURES / "mpr_leie_v1.csv", file_date=dt.date(2025, 2, 10))
    assert first.counts == {"stored": 5, "version": 1} and count(store, mpr_leie) == 5
    same = mpr.import_leie(store, MPRT, FIXTURES / "mpr_leie_v1.csv")
    assert same.counts == {"unchanged": 5} and same.import_id == first.import_id
    second = mpr.import_leie(store, SCHEDULER, FIXTURES / "mpr_leie_v2.csv")
    assert second.import_id != first.import_id and second.counts == {"stored": 5, "version": 2}
    assert count(store, mpr_leie) == 10  # the earlier list is kept, so it can be restored
    assert [v["import_id"] for v in mpr.leie_history(store)] == [second.import_id, first.import_id]
    for actor in (PRC5, MPRO_OH, ADMIN_OH):  # the list is national: no DDS or RO replaces it
        with pytest.raises(Forbidden, match="LEIE is national data"):
            mpr.import_leie(store, actor, FIXTURES / "mpr_leie_v1.csv")
        assert_denied(store, actor.name, "mpr.leie.replace", "leie:national")


# ---- checks -------------------------------------------------------------------------------------

def test_check_end_to_end_sanction_flag_reinstatement_and_idempotence(store: Store) -> None:
    build_registry(store)
    ps = by_ext(store)
    pid = {k: v["provider_id"] for k, v in ps.items()}
    run = mpr.check(store, MPRO_OH, "DDS-OH", AS_OF)
    assert run.providers == 6 and run.queued == 1 and run.new_checks == 6
    ps = by_ext(store)
    assert ps["OH-1"]["eligible"] is False  # exact NPI match, current exclusion
    assert ps["OH-2"]["eligible"] is True  # not on the LEIE, ACTIVE OH license
    assert ps["OH-3"]["eligible"] is None  # two LEIE entries with the name, elsewhere: a person decides
    assert ps["OH-5"]["eligible"] is False  # excluded 2023-05-05
    assert ps["OH-6"]["eligible"] is False and ps["OH-7"]["eligible"] is False  # no license linked yet
    fl = {f["provider_id"]: f for f in mpr.flags(store, MPRO_OH)}
    assert set(fl) == {pid["OH-1"], pid["OH-5"], pid["OH-6"], pid["OH-7"]}
    f1 = fl[pid["OH-1"]]
    assert (f1["from_eligible"], f1["to_eligible"], f1["must_act_role"], f1["must_act_person"]) == \
        (None, False, "MPRO", "mpro_oh")
    assert "PM 00215.001D.4.c" in f1["reason"] and "Quentin L Zarrow" in f1["reason"]
    # On the LEIE with an ACTIVE license: the flag names the exclusion, not a missing license.
    assert "on the OIG exclusion list (LEIE): QUENTIN L ZARROW, COLUMBUS, OH 43004" in f1["reason"]
    assert ("exclusion 1128a1 since 2019-03-14, matched by NPI: a federal sanction, although currently licensed "
            "(OH MD.0451221 ACTIVE until 2026-01-31)") in f1["reason"]
    assert "no license" not in f1["reason"]
    f5 = fl[pid["OH-5"]]
    assert "exclusion 1128b4 since 2023-05-05" in f5["reason"] and "no license" not in f5["reason"]
    for unlicensed in ("OH-6", "OH-7"):  # not on the LEIE, no license linked yet: that is the reason given
        reason = fl[pid[unlicensed]]["reason"]
        assert "no license on file in a state where the provider has a location (OH)" in reason
        assert "LEIE" not in reason
    detail = mpr.provider(store, MPRO_OH, pid["OH-1"])
    leie_check = next(c for c in detail["checks"] if c["kind"] == "LEIE")
    assert leie_check["result"]["status"] == "MATCH" and leie_check["federal_sanction"] is True
    assert leie_check["result"]["candidates"][0]["strength"] == "NPI"
    elig = next(c for c in detail["checks"] if c["kind"] == "ELIGIBILITY")
    reasons = [r["text"] for r in elig["result"]["calc"][0]["output"]["reasons"]]
    assert any("federal sanction" in t for t in reasons)

    # Idempotent: the same as_of and the same data add nothing.
    before = count(store, mpr_checks)
    again = mpr.check(store, MPRO_OH, "DDS-OH", AS_OF)
    assert again.new_checks == 0 and again.flags == [] and again.queued == 0
    assert count(store, mpr_checks) == before and count(store, mpr_flags) == 4

    # The monthly supplement reinstates Perrington (REINDATE 2024-06-01): eligible again, flagged.
    mpr.import_leie(store, MPRT, FIXTURES / "mpr_leie_v2.csv")
    run3 = mpr.check(store, MPRO_OH, "DDS-OH", AS_OF)
    assert run3.new_checks == 1 and len(run3.flags) == 1
    f5 = next(f for f in mpr.flags(store, MPRO_OH) if f["flag_id"] == run3.flags[0])
    assert (f5["provider_id"], f5["from_eligible"], f5["to_eligible"]) == (pid["OH-5"], False, True)
    leie5 = [c for c in mpr.provider(store, MPRO_OH, pid["OH-5"])["checks"] if c["kind"] == "LEIE"][-1]
    assert leie5["result"]["candidates"][0]["sanction"] == "REINSTATED"

    # The checks are append-only in the database: even for the schema owner (the application role
    # has no UPDATE or DELETE on them at all, tests/dcf/test_roles.py).
    with owner_engine(store).begin() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text("UPDATE mpr_checks SET eligible = NULL"))
    with owner_engine(store).begin() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text("DELETE FROM mpr_checks"))


@pytest.mark.parametrize("confirm", [True, False])
def test_ambiguous_match_is_queued_then_a_person_decides(store: Store, confirm: bool) -> None:
    build_registry(store)
    pid = by_ext(store)["OH-3"]["provider_id"]
    mpr.check(store, MPRO_OH, "DDS-OH", AS_OF)
    q = [e for e in mpr.queue(store, MPRO_OH) if e["kind"] == "LEIE_MATCH"]
    assert len(q) == 1 and q[0]["provider_id"] == pid and len(q[0]["candidates"]) == 2
    assert "confirm whether it is Margola T Vestrane" in q[0]["question"]
    assert not [f for f in mpr.flags(store, MPRO_OH) if f["provider_id"] == pid]  # undecided: no flag
    for outsider in (EXAM_OH, MPRO_PA):  # an examiner does not decide; another DDS does not either
        with pytest.raises(Forbidden):
            mpr.decide_review(store, outsider, q[0]["queue_id"], confirm=confirm, rationale="x")
        assert_denied(store, outsider.name, "mpr.review.decide", f"review:{q[0]['queue_id']}")
    mpr.decide_review(store, MPRO_OH, q[0]["queue_id"], confirm=confirm,
                      rationale="DOB and former address match" if confirm else "different person (DOB)")
    run = mpr.check(store, MPRO_OH, "DDS-OH", AS_OF)
    assert run.queued == 0
    assert by_ext(store)["OH-3"]["eligible"] is (not confirm)
    new = [f for f in mpr.flags(store, MPRO_OH) if f["provider_id"] == pid]
    if confirm:
        assert len(new) == 1 and new[0]["to_eligible"] is False
        # a person confirmed the entry: the flag names the exclusion and who confirmed it, and the license
        assert "on the OIG exclusion list (LEIE): MARGOLA T VESTRANE" in new[0]["reason"]
        assert "identity confirmed by mpro_oh" in new[0]["reason"]
        assert "although currently licensed (OH PSY-2002 ACTIVE until 2027-12-31)" in new[0]["reason"]
    else:
        assert new == []  # a first decided answer of "eligible" is no change
    last = [c for c in mpr.provider(store, MPRO_OH, pid)["checks"] if c["kind"] == "LEIE"][-1]
    assert last["result"]["review_decision"]["state"] == ("CONFIRMED" if confirm else "DISMISSED")
    with store.read() as tx:
        assert tx.conn.execute(select(func.count()).select_from(mpr_review_queue)
                               .where(mpr_review_queue.c.kind == "LEIE_MATCH")).scalar_one() == 1


def test_flag_lifecycle(store: Store) -> None:
    build_registry(store)
    mpr.check(store, MPRO_OH, "DDS-OH", AS_OF)
    pid = by_ext(store)["OH-1"]["provider_id"]
    flag = next(f for f in mpr.flags(store, MPRO_OH) if f["provider_id"] == pid)
    for who in (EXAM_OH, CMC_OH, PRC5, MPRT, MPRO_PA):
        with pytest.raises(Forbidden):
            mpr.resolve_flag(store, who, flag["flag_id"], note="x")
        assert_denied(store, who.name, "mpr.flag.resolve", f"flag:{flag['flag_id']}")
    with pytest.raises(mpr.MprError, match="note"):
        mpr.resolve_flag(store, MPRO_OH, flag["flag_id"], note=" ")
    mpr.resolve_flag(store, MPRO_OH, flag["flag_id"], note="removed from the panel; no more CEs scheduled",
                     deactivate=True)
    done = next(f for f in mpr.flags(store, MPRO_OH, state=None) if f["flag_id"] == flag["flag_id"])
    assert (done["state"], done["done_by"]) == ("DONE", "mpro_oh:MPRO")
    assert by_ext(store)["OH-1"]["status"] == "INACTIVE"
    with pytest.raises(ConflictError, match="already DONE"):
        mpr.resolve_flag(store, ADMIN_OH, flag["flag_id"], note="again")
    # An INACTIVE provider is not checked any more.
    run = mpr.check(store, MPRO_OH, "DDS-OH", dt.date(2025, 4, 1))
    assert run.providers == 5


def test_license_expiry_changes_eligibility_on_a_later_check(store: Store) -> None:
    build_registry(store)
    mpr.check(store, MPRO_OH, "DDS-OH", AS_OF)
    pid = by_ext(store)["OH-2"]["provider_id"]
    run = mpr.check(store, MPRO_OH, "DDS-OH", dt.date(2027, 7, 1))  # PSY-1001 expired 2027-06-30
    assert by_ext(store)["OH-2"]["eligible"] is False
    f = [f for f in mpr.flags(store, MPRO_OH) if f["provider_id"] == pid]
    assert len(f) == 1 and f[0]["flag_id"] in run.flags
    assert (f[0]["from_eligible"], f[0]["to_eligible"]) == (True, False)
    assert "expired on 2027-06-30" in str(mpr.provider(store, MPRO_OH, pid)["checks"][-1]["result"])
    assert "not currently licensed (OH PSY-1001: the license expired on 2027-06-30" in f[0]["reason"]
    assert "LEIE" not in f[0]["reason"] and "no license on file" not in f[0]["reason"]


def test_check_needs_the_leie(store: Store) -> None:
    build_orgs(store)
    mpr.import_providers(store, MPRO_OH, FIXTURES / "mpr_providers_oh.csv")
    with pytest.raises(mpr.MprStateError, match="no LEIE imported"):
        mpr.check(store, MPRO_OH, "DDS-OH", AS_OF)


def test_due_checks_schedule(store: Store) -> None:
    build_registry(store)
    ops = person(store, "ops", "OPERATOR")  # operations staff run the schedule (mpr.checks.run)
    assert [d["dds"] for d in mpr.due_checks(store, AS_OF, actor=ops)] == ["DDS-OH", "DDS-PA"]  # never checked
    mpr.check(store, MPRO_OH, "DDS-OH", AS_OF)
    assert [d["dds"] for d in mpr.due_checks(store, dt.date(2025, 3, 20), actor=ops)] == ["DDS-PA"]
    late = mpr.due_checks(store, dt.date(2025, 4, 15), actor=ops)
    assert [(d["dds"], d["days"]) for d in late] == [("DDS-OH", 45), ("DDS-PA", None)]
    assert [d["dds"] for d in mpr.due_checks(store, dt.date(2025, 4, 15), period_days=60, actor=ops)] == ["DDS-PA"]
    assert [d["dds"] for d in mpr.due_checks(store, dt.date(2025, 4, 15), actor=PRC3)] == ["DDS-PA"]  # its region
    # an M/PR officer checks their own DDS (mpr check); the schedule is run by operations, as the scheduler
    with pytest.raises(Forbidden):
        mpr.check_due(store, dt.date(2025, 4, 15), by=MPRO_OH)
    assert_denied(store, "mpro_oh", "mpr.checks.run", "mpr_schedule:as_of=2025-04-15")
    runs = mpr.check_due(store, dt.date(2025, 4, 15), by=ops)
    assert [r.dds for r in runs] == ["DDS-OH", "DDS-PA"]
    assert mpr.due_checks(store, dt.date(2025, 4, 15), actor=ops) == []
    assert access_rows(store, person="ops", action="mpr.checks.run", outcome="ALLOWED")
    ran = access_rows(store, person="scheduler", action="mpr.registry.change", outcome="ALLOWED")
    assert [r["resource"] for r in ran] == ["mpr_check:DDS-OH@2025-04-15", "mpr_check:DDS-PA@2025-04-15"]
    with store.read() as tx:
        by = set(tx.conn.execute(select(mpr_checks.c.actor, mpr_checks.c.actor_role)
                                 .where(mpr_checks.c.as_of == dt.date(2025, 4, 15))).all())
    assert by == {("scheduler", "SYSTEM")}
    # the scheduled job itself (no runner) is the scheduler
    assert mpr.check_due(store, dt.date(2025, 6, 1), period_days=90) == []
    pa = {p["ext_id"]: p["eligible"] for p in mpr.providers(store, MPRO_PA)}
    assert pa == {"PA-1": True, "PA-2": False}  # a practice has no license on the (personal) roster


def test_panel_gap(store: Store) -> None:
    build_registry(store)
    mpr.set_panel_need(store, MPRO_OH, dds="DDS-OH", specialty="psychology", area="central", needed=3)
    mpr.set_panel_need(store, ADMIN_OH, dds="DDS-OH", specialty="PHYSICIAN", area="CENTRAL", needed=1)
    mpr.set_panel_need(store, MPRO_OH, dds="DDS-OH", specialty="PSYCHOLOGY", area="CENTRAL", needed=2)  # revised
    with pytest.raises(Forbidden, match="technical direction"):
        mpr.set_panel_need(store, PRC5, dds="DDS-OH", specialty="X", area="Y", needed=1)
    assert_denied(store, "prc5", "mpr.registry.change", "panel:DDS-OH:X/Y")
    mpr.check(store, MPRO_OH, "DDS-OH", AS_OF)
    mpr.open_item(store, MPRO_OH, org="DDS-OH", kind="RECRUITMENT", title="recruit a psychologist in Columbus",
                  owner="mpro_oh", opened=AS_OF, specialty="PSYCHOLOGY", area="CENTRAL")
    gap = {(g["specialty"], g["area"]): g for g in mpr.panel_gap(store, PRC5, "DDS-OH", AS_OF)}
    psy = gap[("PSYCHOLOGY", "CENTRAL")]
    # OH-2 (eligible) and OH-6 (no license) serve it.
    assert (psy["needed"], psy["serving"], psy["eligible"], psy["gap"], psy["recruiting"]) == (2, 2, 1, 1, 1)
    phys = gap[("PHYSICIAN", "CENTRAL")]
    assert (phys["eligible"], phys["gap"]) == (0, 1)  # OH-1 is sanctioned
    assert mpr.panel_gap(store, MPRO_OH, "DDS-OH", dt.date(2025, 1, 1))[0]["eligible"] == 0  # before any check
    with pytest.raises(Forbidden, match="a DDS sees only its own"):
        mpr.panel_gap(store, MPRO_PA, "DDS-OH", AS_OF)
    assert_denied(store, "mpro_pa", "mpr.read", "panel_gap:DDS-OH@2025-03-01")
