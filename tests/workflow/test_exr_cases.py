"""EXR cases in the DCF (DI 28057.015): findings in order, who made them, the determination, the worksheet.

Run on SQLite and PostgreSQL alike (fixture ``store``). The seed's examples: Mr. Smith (E, TN 1 and
TN 2), Ms. Green (C.5.b / TN 2 C.5: not same or related), the missing prior folder (C.4).

Everyone acting is a person of the DCF's people table (fixture ``_people``): the FO staff with their
office, the DDS examiners and consultants with their DDS. The services resolve the actors below by name
(:func:`cdrflow.authz.principal_of`) and authorize each action and read (:mod:`cdrflow.authz.rules`).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import threading
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from cdrflow.dcf.schema import access_log, exr_cases, exr_findings
from cdrflow.dcf.store import Actor, ConflictError, Store
from cdrflow.documents.exr import render_exr_worksheet
from cdrflow.engine.errors import InputError
from cdrflow.engine.months import Month
from cdrflow.kernel.errors import Forbidden, InvalidInput, InvalidState
from cdrflow.workflow import exr

from ..dbfixtures import owner_engine, person

OFFICE, OTHER_OFFICE = "FO-123", "FO-456"
DDS, OTHER_DDS = "DDS-PA", "DDS-NJ"
FO = Actor("fran", "FO")  # FO claims representative of FO-123: opens the case, records work (E; G)
DE = Actor("jsmith", "DE")  # DDS disability examiner
DC = Actor("drlee", "DC")  # DDS consultant
DE2 = Actor("akim", "DE")
FO_OTHER = Actor("olga", "FO")  # a claims representative of another field office
DE_OTHER = Actor("nick", "DE")  # an examiner of another DDS
AUDITOR = Actor("audrey", "AUDITOR")
PEOPLE = ((FO, OFFICE), (DE, DDS), (DC, DDS), (DE2, DDS), (FO_OTHER, OTHER_OFFICE), (DE_OTHER, OTHER_DDS),
          (AUDITOR, None))


@pytest.fixture(autouse=True)
def _people(request: pytest.FixtureRequest) -> None:
    """The people of these tests, active in the store's people table (as an administrator adds them)."""
    if "store" not in request.fixturenames:
        return
    st = request.getfixturevalue("store")
    for actor, org in PEOPLE:
        person(st, actor.name, actor.role, org=org)

SMITH_TN1: dict[str, Any] = {
    "ssn": "123450001", "title": "T2", "request_month": "2004-09", "btm": "2003-11",
    "filing": {"date": "2004-09-20", "fo": "A12"},
    "cpd": {"date": "2000-03-01", "impairments": ["back problem"], "basis": "MEDICAL_VOCATIONAL"},
    "alleged_impairments": ["back reinjured in an accident (06/04)"],
    # DI 28057.015E example (TN 1): SGA 9/03, 10/03, 11/03, 12/03, 1/04, 2/04, 3/04, 5/04.
    "sga_months": ["2003-09", "2003-10", "2003-11", "2003-12", "2004-01", "2004-02", "2004-03", "2004-05"],
    "non_sga_months": ["2004-04", "2004-06", "2004-07", "2004-08"],
}

SMITH_TN2: dict[str, Any] = {
    "ssn": "123450002", "title": "T2", "request_month": "2014-09", "btm": "2013-11",
    "filing": {"date": "2014-09-10", "fo": "B07"},
    "cpd": {"date": "2010-06-01", "impairments": ["back problems"], "basis": "MEDICAL_VOCATIONAL"},
    "alleged_impairments": ["back reinjured in an accident (06/14)"],
    # DI 28057.015E.7 example (TN 2): SGA 12/13, 1/14, 2/14, 3/14, 5/14; non-SGA 4/14, 6/14-9/14.
    "sga_months": ["2013-12", "2014-01", "2014-02", "2014-03", "2014-05"],
    "non_sga_months": ["2014-04", "2014-06", "2014-07", "2014-08", "2014-09"],
}

GREEN: dict[str, Any] = {
    "ssn": "123450003", "title": "T2", "request_month": "2016-03", "btm": "2014-09",
    "cpd": {"impairments": ["thyroid cancer"], "basis": "LISTING", "listing": "13.09"},
    "alleged_impairments": ["traumatic brain injury from a recent car accident"],
    "non_sga_months": ["2015-03", "2015-04"],
}

NOT_DISABLED = {"mi_related_to_ability_to_work": True, "capable_of_sga": True}
DISABLED = {"mi_related_to_ability_to_work": False}


def _findings(store: Store, case_id: int) -> list[dict[str, Any]]:
    with store.read() as tx:
        return [dict(r) for r in tx.conn.execute(select(exr_findings).where(exr_findings.c.case_id == case_id)
                                                 .order_by(exr_findings.c.finding_id)).mappings()]


def _count(store: Store) -> int:
    with store.read() as tx:
        return int(tx.conn.execute(select(func.count()).select_from(exr_findings)).scalar_one())


def _access(store: Store, actor: Actor, action: str) -> list[dict[str, Any]]:
    """The access-log rows of ``actor`` for ``action``, oldest first."""
    with store.read() as tx:
        return [dict(r) for r in tx.conn.execute(
            select(access_log).where(access_log.c.person == actor.name, access_log.c.action == action)
            .order_by(access_log.c.log_id)).mappings()]


def _related(store: Store, facts: dict[str, Any]) -> int:
    """Open, develop, and find same or related."""
    cid = exr.open_case(store, FO, **facts)
    exr.record_development_complete(store, cid, DE, note="CE report and treating source records received")
    exr.record_same_or_related(store, cid, DE, finding=True,
                               rationale="the back impairment is the same as the CPD back impairment (anatomy)")
    return cid


def _smith(store: Store, facts: dict[str, Any]) -> int:
    """Mr. Smith: MIRS not met in the first non-SGA month, met from the next one through the request month."""
    cid = _related(store, facts)
    req = Month.parse(facts["request_month"])
    exr.record_mirs(store, cid, DC, month=str(req + (-5)), **NOT_DISABLED)  # 4/04 (4/14): not met
    exr.record_mirs(store, cid, DC, month=str(req + (-3)), through=str(req), **DISABLED)  # 6/04-9/04: met
    return cid


# ---- Mr. Smith --------------------------------------------------------------------------------

def test_mr_smith_tn1_end_to_end(store: Store) -> None:
    """DI 28057.015E (TN 1): MIRS not met 4/04, met 6/04; the MOE is 6/04."""
    cid = _smith(store, SMITH_TN1)
    answer = exr.determine(store, cid, DE, as_of=dt.date(2004, 10, 15))
    assert answer["outcome"] == "ENTITLED"
    assert answer["moe"] == "2004-06"
    assert answer["version"] == "TN 1 (02-06)"
    assert answer["policy_version"]["source"] == "DI 28057.015 TN 1 (02-06)"

    view = exr.case_view(store, cid, FO)
    assert view["case"]["state"] == exr.DETERMINED
    assert view["case"]["outcome"] == "ENTITLED" and view["case"]["moe"] == "2004-06"
    assert view["status"]["mirs_met_from"] == "2004-06"
    steps = [(f["step"], f["by"], f["month"]) for f in view["findings"]]
    assert steps == [
        ("DEVELOPMENT_COMPLETE", "jsmith:DE", None),
        ("SAME_OR_RELATED", "jsmith:DE", None),
        ("MIRS", "drlee:DC", "2004-04"),
        ("MIRS", "drlee:DC", "2004-06"), ("MIRS", "drlee:DC", "2004-07"), ("MIRS", "drlee:DC", "2004-08"),
        ("MIRS", "drlee:DC", "2004-09"),
        ("DETERMINATION", "jsmith:DE", None),
    ]
    det = view["determination"]
    assert det["moe"] == "2004-06" and det["by"] == "jsmith:DE" and det["as_of"] == "2004-10-15"
    assert det["input"]["mirs_met_from"] == "2004-06" and det["input"]["same_or_related"] is True

    rows = _findings(store, cid)
    assert [r["case_version"] for r in rows] == [1, 2, 3, 4, 4, 4, 4, 5]  # a range is one action
    assert all(r["at"] is not None for r in rows)
    assert [r["development_complete"] for r in rows] == [True] * 8
    stored = rows[-1]
    assert stored["policy_version"] is not None and "TN 1 (02-06)" in stored["policy_version"]
    assert rows[2]["policy_version"] is not None  # the exr-mirs answer's policy version

    months = {m["month"]: m for m in det["months"]}
    assert not months["2004-04"]["qualifies"] and not months["2004-04"]["mirs_met"]
    assert months["2004-05"]["sga"] and not months["2004-05"]["qualifies"]
    assert months["2004-06"]["qualifies"]

    # Determined: the findings are final.
    with pytest.raises(exr.ExrError, match="determined"):
        exr.record_mirs(store, cid, DC, month="2004-09", **NOT_DISABLED)
    with pytest.raises(exr.ExrError, match="determined"):
        exr.determine(store, cid, DE, as_of=dt.date(2004, 10, 16))


def test_mr_smith_gaps_between_disabled_findings(store: Store) -> None:
    """Only 4/04 (not met), 6/04 and 9/04 (met) recorded: 7/04 and 8/04 lie inside the run, MOE still 6/04."""
    cid = _related(store, SMITH_TN1)
    exr.record_mirs(store, cid, DC, month="2004-04", **NOT_DISABLED)
    exr.record_mirs(store, cid, DC, month="2004-06", **DISABLED)
    exr.record_mirs(store, cid, DC, month="2004-09", **DISABLED)
    answer = exr.determine(store, cid, DE, as_of=dt.date(2004, 10, 15))
    assert (answer["outcome"], answer["moe"]) == ("ENTITLED", "2004-06")


@pytest.mark.parametrize(("as_of", "version", "remark"), [
    # TN 2 (02-18) took effect 02/06/2018: a determination dated in 2014 follows TN 1 (02-06) ...
    (dt.date(2014, 10, 15), "TN 1 (02-06)", "possible retroactivity exists prior to the month of filing-see SSA-823."),
    # ... and TN 2 applies to a determination made on or after 02/06/2018 (as_of is the determination date).
    (dt.date(2018, 2, 6), "TN 2 (02-18)", "possible retroactivity exists prior to the month of filing"),
])
def test_mr_smith_tn2_example(store: Store, as_of: dt.date, version: str, remark: str) -> None:
    """DI 28057.015E.7 (TN 2): MIRS not met 4/14, met from 6/14; the MOE is June 2014 under either version."""
    cid = _smith(store, SMITH_TN2)
    answer = exr.determine(store, cid, DE, as_of=as_of)
    assert (answer["outcome"], answer["moe"], answer["version"]) == ("ENTITLED", "2014-06", version)
    assert answer["remarks"] == [remark]
    assert answer["policy_version"]["source"] == f"DI 28057.015 {version}"
    assert exr.case_view(store, cid, DE)["determination"]["version"] == version


# ---- Ms. Green ---------------------------------------------------------------------------------

def test_ms_green_not_same_or_related_is_denied_without_mirs(store: Store) -> None:
    """C.5.b: TBI from a car accident is not associated with the CPD's thyroid cancer: deny, no MIRS."""
    cid = exr.open_case(store, FO, **GREEN)
    exr.record_development_complete(store, cid, DE)
    exr.record_same_or_related(store, cid, DE, finding=False,
                               rationale="TBI sustained in a car accident is not associated with thyroid cancer")
    assert exr.case_view(store, cid, DE)["case"]["state"] == exr.NOT_RELATED
    before = _count(store)
    with pytest.raises(exr.ExrError, match=r"no medical improvement determination is made \(DI 28057.015A, C\)"):
        exr.record_mirs(store, cid, DC, month="2016-03", **DISABLED)
    assert _count(store) == before
    answer = exr.determine(store, cid, DE, as_of=dt.date(2016, 5, 2))
    assert answer["outcome"] == "DENIED" and answer["moe"] is None
    assert any("DI 28057.020B" in r["cite"] for r in answer["reasons"])
    assert answer["months"] == []
    page = render_exr_worksheet(exr.case_view(store, cid, DE))
    assert "DENIED" in page and "Not the same as or related" in page


def test_ms_wolf_obsolete_cpd_listing_does_not_matter(store: Store) -> None:
    """C.5.a / C.3: obesity (listing 9.09, obsolete since 1999) at the CPD; hip arthritis now: same or related."""
    wolf = {"ssn": "123450004", "title": "T2", "request_month": "2001-05", "btm": "1999-06",
            "cpd": {"date": "1992-01-15", "impairments": ["obesity", "arthritis of the spine"], "basis": "LISTING",
                    "listing": "9.09", "listing_obsolete": True},
            "alleged_impairments": ["severe pain and deformity of the left hip due to arthritis"]}
    cid = exr.open_case(store, FO, **wolf)
    exr.record_development_complete(store, cid, DE)
    exr.record_same_or_related(store, cid, DE, finding=True, rationale="hip arthritis is a plausible long-term "
                               "result of longstanding obesity, even after weight loss")
    exr.record_mirs(store, cid, DC, month="2001-05", **DISABLED)
    answer = exr.determine(store, cid, DE, as_of=dt.date(2001, 7, 2))
    assert (answer["outcome"], answer["moe"], answer["version"]) == ("ENTITLED", "2001-05", "TN 1 (02-06)")
    assert any("C.3" in r["cite"] for r in answer["reasons"])
    assert any("C.1" in r["cite"] for r in answer["reasons"])
    page = html.unescape(render_exr_worksheet(exr.case_view(store, cid, DE)))
    assert "9.09 (obsolete)" in page and "is now obsolete (C.3)" in page


# ---- order ----------------------------------------------------------------------------------------

def test_findings_are_taken_in_the_policy_order(store: Store) -> None:
    cid = exr.open_case(store, FO, **SMITH_TN1)
    with pytest.raises(exr.ExrError, match=r"cannot be determined yet: the necessary medical development"):
        exr.determine(store, cid, DE, as_of=dt.date(2004, 10, 15))
    with pytest.raises(exr.ExrError, match=r"C NOTE"):
        exr.record_same_or_related(store, cid, DE, finding=True, rationale="same back")
    with pytest.raises(exr.ExrError, match="'same as or related' finding first"):
        exr.record_mirs(store, cid, DC, month="2004-09", **DISABLED)
    assert _count(store) == 0

    exr.record_development_complete(store, cid, DE)
    with pytest.raises(exr.ExrError, match="already complete"):
        exr.record_development_complete(store, cid, DE)
    with pytest.raises(exr.ExrError, match="'same as or related' finding first"):
        exr.record_mirs(store, cid, DC, month="2004-09", **DISABLED)
    with pytest.raises(exr.ExrError, match="no 'same as or related' finding"):
        exr.determine(store, cid, DE, as_of=dt.date(2004, 10, 15))
    with pytest.raises(InputError) as info:
        exr.record_same_or_related(store, cid, DE, finding=True, rationale="  ")
    assert info.value.field == "rationale"

    exr.record_same_or_related(store, cid, DE, finding=True, rationale="same back")
    with pytest.raises(exr.ExrError, match="already made"):
        exr.record_same_or_related(store, cid, DE2, finding=False, rationale="second opinion")
    exr.record_mirs(store, cid, DC, month="2004-06", **DISABLED)
    with pytest.raises(exr.ExrError, match="no MIRS finding is recorded for the request month 2004-09"):
        exr.determine(store, cid, DE, as_of=dt.date(2004, 10, 15))
    assert [f["step"] for f in _findings(store, cid)] == ["DEVELOPMENT_COMPLETE", "SAME_OR_RELATED", "MIRS"]


def test_roles(store: Store) -> None:
    """Who may act is the permission model's answer (Forbidden, logged); the policy's order is ExrError."""
    person(store, "ann", "ANALYST")
    with pytest.raises(Forbidden, match=r"jsmith:DE may not open an EXR case .*FO"):
        exr.open_case(store, DE, **SMITH_TN1)
    assert [(r["outcome"], r["resource"]) for r in _access(store, DE, "exr.open")] == [("DENIED", "exr_case:new")]
    with store.read() as tx:
        assert tx.conn.execute(select(func.count()).select_from(exr_cases)).scalar_one() == 0
    cid = exr.open_case(store, FO, **SMITH_TN1)
    with pytest.raises(Forbidden, match="may not record development, 'same as or related', MIRS, the determination"):
        exr.record_development_complete(store, cid, FO)
    with pytest.raises(Forbidden, match="may not"):
        exr.record_development_complete(store, cid, Actor("ann", "ANALYST"))
    with pytest.raises(Forbidden, match="may not record SGA months and a return to work"):
        exr.record_return_to_work(store, cid, DE, sga_months=["2004-09"])
    with pytest.raises(Forbidden, match="not an active person"):  # a name the people table does not know
        exr.record_development_complete(store, cid, Actor("mallory", "DE"))
    with pytest.raises(Forbidden, match="is DE in the people table, not DC"):  # a role the person does not have
        exr.record_development_complete(store, cid, Actor("jsmith", "DC"))
    assert _count(store) == 0
    # A refusal is not a wrong state, and a wrong state is not a refusal.
    assert issubclass(exr.ExrError, InvalidState) and not issubclass(exr.ExrError, Forbidden)
    with pytest.raises(exr.ExrError) as info:
        exr.record_same_or_related(store, cid, DE, finding=True, rationale="same back")
    assert info.value.code == "invalid_state" and info.value.exit_code == 2


def test_an_fo_without_an_office_cannot_open(store: Store) -> None:
    nobody = person(store, "nomad", "FO")  # no office: own-office scope cannot hold
    with pytest.raises(Forbidden, match="not assigned to a field office"):
        exr.open_case(store, nobody, **SMITH_TN1)
    assert [r["outcome"] for r in _access(store, nobody, "exr.open")] == ["DENIED"]
    with store.read() as tx:
        assert tx.conn.execute(select(func.count()).select_from(exr_cases)).scalar_one() == 0


def test_open_records_the_office_and_the_dds(store: Store) -> None:
    cid = exr.open_case(store, FO, **SMITH_TN1)
    case = exr.case_view(store, cid, FO)["case"]
    assert (case["fo_office"], case["dds"]) == (OFFICE, None)
    routed = exr.open_case(store, FO, dds=f" {DDS} ", **SMITH_TN2)
    case = exr.case_view(store, routed, DE)["case"]
    assert (case["fo_office"], case["dds"]) == (OFFICE, DDS)
    for bad in ("", "   ", "D" * 17, "DDS\nPA"):
        with pytest.raises(InputError) as info:
            exr.open_case(store, FO, dds=bad, **GREEN)
        assert info.value.field == "dds"
    with pytest.raises(Forbidden, match="may not open an EXR case"):  # refused before the facts are read
        exr.open_case(store, DE, **{**GREEN, "ssn": "12"})


def test_an_fo_of_another_office_cannot_read_or_act(store: Store) -> None:
    cid = exr.open_case(store, FO, **SMITH_TN1)
    before = _count(store)
    with pytest.raises(Forbidden, match=f"olga works at field office {OTHER_OFFICE}; exr_case:{cid} belongs to "
                                        f"{OFFICE}"):
        exr.case_view(store, cid, FO_OTHER)
    with pytest.raises(Forbidden, match="belongs to"):
        exr.record_return_to_work(store, cid, FO_OTHER, sga_months=["2004-09"])
    with pytest.raises(Forbidden, match="belongs to"):
        exr.reveal_ssn(store, cid, FO_OTHER, reason="checking the claimant")
    assert _count(store) == before
    assert exr.case_view(store, cid, FO)["case"]["sga_months"] == SMITH_TN1["sga_months"]  # nothing changed
    for action in ("exr.read", "exr.return_to_work", "ssn.reveal"):
        rows = _access(store, FO_OTHER, action)
        assert [(r["outcome"], r["role"], r["resource"], r["rule"]) for r in rows] == [
            ("DENIED", "FO", f"exr_case:{cid}", "fo-own-office")], action
        assert "belongs to" in rows[0]["reason"]
    assert exr.list_cases(store, FO_OTHER) == []  # the case is left out, not refused


def test_each_read_is_logged(store: Store) -> None:
    cid = exr.open_case(store, FO, **SMITH_TN1)
    exr.case_view(store, cid, FO)
    exr.case_view(store, cid, AUDITOR)
    assert [(r["outcome"], r["kind"], r["resource"]) for r in _access(store, FO, "exr.read")] == [
        ("ALLOWED", "READ", f"exr_case:{cid}")]
    assert [r["rule"] for r in _access(store, AUDITOR, "exr.read")] == ["auditor-reads"]
    exr.list_cases(store, FO, state="open", ssn="123-45-0001")
    rows = _access(store, FO, "exr.list")
    assert [(r["outcome"], r["kind"], r["resource"]) for r in rows] == [
        ("ALLOWED", "SEARCH", "exr_cases:state=OPEN,ssn")]
    with pytest.raises(InvalidInput) as info:
        exr.reveal_ssn(store, cid, FO, reason="  ")
    assert info.value.field == "reason"
    exr.reveal_ssn(store, cid, FO, reason="SSA-454 development")
    [row] = _access(store, FO, "ssn.reveal")
    assert (row["outcome"], row["kind"], row["reason"]) == ("ALLOWED", "REVEAL", "SSA-454 development")
    with store.read() as tx:
        logged = " ".join(str(v) for r in tx.conn.execute(select(access_log)).mappings() for v in r.values())
    assert "123450001" not in logged and "123-45-0001" not in logged  # never the SSN itself


def test_list_returns_only_the_cases_in_the_readers_scope(store: Store) -> None:
    mine = exr.open_case(store, FO, **SMITH_TN1)
    theirs = exr.open_case(store, FO_OTHER, **SMITH_TN2)
    routed = exr.open_case(store, FO, dds=OTHER_DDS, **GREEN)  # routed to DDS-NJ

    def ids(actor: Actor, **kw: Any) -> list[int]:
        return [r["case_id"] for r in exr.list_cases(store, actor, **kw)]

    assert ids(FO) == [routed, mine]
    assert ids(FO_OTHER) == [theirs]
    assert ids(DE) == [theirs, mine]  # DDS-PA: the unrouted cases, not DDS-NJ's
    assert ids(DE_OTHER) == [routed, theirs, mine]
    assert ids(AUDITOR) == [routed, theirs, mine]
    assert ids(FO, limit=1) == [routed] and ids(DE, limit=1) == [theirs]
    assert ids(FO, ssn="123450002") == []  # another office's case, even by SSN
    with pytest.raises(Forbidden):
        exr.record_development_complete(store, routed, DE)  # routed elsewhere
    with pytest.raises(Forbidden, match=f"routed to {OTHER_DDS}"):
        exr.case_view(store, routed, DE)
    exr.record_development_complete(store, routed, DE_OTHER)
    with pytest.raises(Forbidden):
        exr.list_cases(store, person(store, "ann", "ANALYST"))
    with pytest.raises(InputError) as info:
        exr.list_cases(store, FO, ssn="12")
    assert info.value.field == "ssn"


def test_not_found(store: Store) -> None:
    with pytest.raises(exr.NotFound, match="no EXR case 99"):
        exr.case_view(store, 99, DE)
    with pytest.raises(exr.NotFound):
        exr.record_development_complete(store, 99, DE)


# ---- the missing folder (C.4) -----------------------------------------------------------------------

def test_prior_folder_missing_accepts_the_allegation(store: Store) -> None:
    facts = {**SMITH_TN1, "cpd": None, "prior_folder_missing": True}
    with pytest.raises(InputError) as info:
        exr.open_case(store, FO, **{**facts, "prior_folder_missing": False})
    assert info.value.field == "cpd"
    cid = exr.open_case(store, FO, **facts)
    exr.record_development_complete(store, cid, DE)
    with pytest.raises(InputError) as info:
        exr.record_same_or_related(store, cid, DE, finding=False, rationale="looks unrelated")
    assert info.value.field == "same_or_related" and "C.4" in str(info.value)
    exr.record_same_or_related(store, cid, DE, finding=True, rationale="folder lost; allegation accepted")
    sor = _findings(store, cid)[-1]
    assert sor["step"] == "SAME_OR_RELATED" and '"cite":"DI 28057.015C.4"' in sor["payload"]
    exr.record_mirs(store, cid, DC, month="2004-06", through="2004-09", **DISABLED)
    answer = exr.determine(store, cid, DE, as_of=dt.date(2004, 10, 15))
    assert (answer["outcome"], answer["moe"]) == ("ENTITLED", "2004-06")
    assert any(r["cite"] == "DI 28057.015C.4" for r in answer["reasons"])
    page = render_exr_worksheet(exr.case_view(store, cid, DE))
    assert "prior medical file is missing" in page and "No CPD on file" in page


# ---- MIRS ---------------------------------------------------------------------------------------------

def test_mirs_group_i_needs_the_sga_finding(store: Store) -> None:
    cid = _related(store, SMITH_TN1)
    before = _count(store)
    with pytest.raises(InputError) as info:
        exr.record_mirs(store, cid, DC, month="2004-09", mi_related_to_ability_to_work=False, group_i_exception=True)
    assert info.value.field == "capable_of_sga"
    assert _count(store) == before
    rows = exr.record_mirs(store, cid, DC, month="2004-09", mi_related_to_ability_to_work=False,
                           group_i_exception=True, capable_of_sga=False)
    assert rows == [{"month": "2004-09", "disabled": True, "reason": rows[0]["reason"]}]
    rows = exr.record_mirs(store, cid, DC, month="2004-08", mi_related_to_ability_to_work=False,
                           group_ii_exception=True)
    assert rows[0]["disabled"] is False


def test_mirs_months_are_in_the_window_and_the_latest_finding_wins(store: Store) -> None:
    cid = _related(store, SMITH_TN1)
    for month, field in (("2003-08", "month"), ("2004-11", "month"), ("2004-9", "month")):
        with pytest.raises(InputError) as info:
            exr.record_mirs(store, cid, DC, month=month, **DISABLED)
        assert info.value.field == field
    with pytest.raises(InputError) as info:
        exr.record_mirs(store, cid, DC, month="2004-09", through="2004-06", **DISABLED)
    assert info.value.field == "through"
    exr.record_mirs(store, cid, DC, month="2004-09", **NOT_DISABLED)
    assert exr.case_view(store, cid, DE)["status"]["mirs_met_from"] is None
    exr.record_mirs(store, cid, DE2, month="2004-09", **DISABLED)  # a later finding for the month supersedes
    view = exr.case_view(store, cid, DE)
    assert view["status"]["mirs"]["2004-09"]["disabled"] is True
    assert view["status"]["mirs"]["2004-09"]["by"] == "akim:DE"
    assert view["status"]["mirs_met_from"] == "2004-09"
    assert len([f for f in view["findings"] if f["step"] == "MIRS"]) == 2  # both stay on file


def test_mirs_met_from_definition() -> None:
    m = Month.parse
    req = m("2004-09")
    smith = {m("2004-04"): False, m("2004-06"): True, m("2004-09"): True}
    assert exr.mirs_met_from(smith, req) == m("2004-06")
    assert exr.mirs_met_from({req: True}, req) == req
    assert exr.mirs_met_from({}, req) is None  # never assumed
    assert exr.mirs_met_from({m("2004-06"): True}, req) is None  # the request month decides (B)
    assert exr.mirs_met_from({m("2004-06"): True, req: False}, req) is None
    assert exr.mirs_met_from({m("2004-08"): False, m("2004-06"): True, req: True}, req) == req
    assert exr.mirs_met_from({m("2003-10"): True, m("2004-01"): True, req: True, req + 1: False}, req) == m("2003-10")


# ---- return to work (G) --------------------------------------------------------------------------------

def test_return_to_work_in_the_filing_month_is_a_technical_denial_under_tn1(store: Store) -> None:
    """G (TN 1): SGA in the month the request was filed: back to the FO for a technical denial, no findings."""
    cid = exr.open_case(store, FO, **SMITH_TN1)
    months = exr.record_return_to_work(store, cid, FO, sga_months=["2004-09"], note="returned to work 09/04")
    assert "2004-09" in months
    case = exr.case_view(store, cid, DE)["case"]
    assert "2004-09" in case["sga_months"]
    answer = exr.determine(store, cid, DE, as_of=dt.date(2004, 10, 15))
    assert answer["outcome"] == "TECHNICAL_DENIAL" and answer["moe"] is None
    assert [f["step"] for f in _findings(store, cid)] == ["RETURN_TO_WORK", "DETERMINATION"]


def test_return_to_work_in_the_filing_month_alone_is_not_enough_under_tn2(store: Store) -> None:
    """G (TN 2): SGA in the request month *and* the month after; one month still needs the medical findings."""
    cid = exr.open_case(store, FO, **SMITH_TN2)
    exr.record_return_to_work(store, cid, FO, sga_months=["2014-09"])
    with pytest.raises(exr.ExrError, match="cannot be determined yet"):
        exr.determine(store, cid, DE, as_of=dt.date(2018, 3, 1))
    exr.record_return_to_work(store, cid, FO, sga_months=["2014-10"])
    answer = exr.determine(store, cid, DE, as_of=dt.date(2018, 3, 1))
    assert (answer["outcome"], answer["version"]) == ("TECHNICAL_DENIAL", "TN 2 (02-18)")


# ---- opening ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "field"), [
    ({"ssn": "12345"}, "ssn"),
    ({"title": "T2/16"}, "title"),
    ({"request_month": "2004-13"}, "request_month"),
    ({"btm": "2004-10"}, "request_month"),
    ({"non_sga_months": ["2004-05"]}, "non_sga_months"),
    ({"filing": {"date": "2004-10-01"}}, "filing.date"),
    ({"alleged_impairments": []}, "alleged_impairments"),
    ({"cpd": {"impairments": ["back"], "basis": "MEDICAL_VOCATIONAL", "listing": "1.04"}}, "cpd.listing"),
    ({"cpd": {"impairments": ["back"], "basis": "OTHER"}}, "cpd.basis"),
    ({"surprise": 1}, "surprise"),
])
def test_open_refuses_bad_facts_naming_the_field(store: Store, change: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as info:
        exr.open_case(store, FO, **{**SMITH_TN1, **change})
    assert info.value.field == field
    with store.read() as tx:
        assert tx.conn.execute(select(func.count()).select_from(exr_cases)).scalar_one() == 0


def test_open_stores_the_facts_and_refuses_a_duplicate(store: Store) -> None:
    obsolete = {**SMITH_TN1, "cpd": {"date": "1992-04-01", "impairments": ["obesity"], "basis": "LISTING",
                                     "listing": "9.09", "listing_obsolete": True}}
    cid = exr.open_case(store, FO, **obsolete)
    case = exr.case_view(store, cid, DE)["case"]
    assert case["state"] == exr.OPEN and case["version"] == 1 and case["opened_by"] == "fran:FO"
    assert case["sga_months"] == SMITH_TN1["sga_months"] and case["non_sga_months"] == SMITH_TN1["non_sga_months"]
    assert case["cpd"]["listing_obsolete"] is True and case["filing"] == {"date": "2004-09-20", "fo": "A12"}
    with pytest.raises(exr.ExrError, match=f"already open: case {cid}"):
        exr.open_case(store, FO, **SMITH_TN1)
    assert [r["case_id"] for r in exr.list_cases(store, FO)] == [cid]
    assert exr.list_cases(store, FO, state="determined") == []
    with pytest.raises(InputError):
        exr.list_cases(store, FO, state="NOPE")


# ---- the store: append-only, optimistic lock ----------------------------------------------------------------

def _raw(store: Store, sql: str) -> None:
    """As the schema owner: the triggers hold even for a role with the privileges (the application has none)."""
    with owner_engine(store).begin() as conn:
        conn.execute(text(sql))


def test_findings_are_append_only_in_the_database(store: Store) -> None:
    cid = _smith(store, SMITH_TN1)
    before = _findings(store, cid)
    for sql in ("UPDATE exr_findings SET payload = '{}'",
                f"UPDATE exr_findings SET actor = 'someone' WHERE case_id = {cid}",
                "DELETE FROM exr_findings WHERE step = 'MIRS'",
                "DELETE FROM exr_findings"):
        with pytest.raises(DBAPIError, match="append-only"):
            _raw(store, sql)
    if store.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            _raw(store, "TRUNCATE exr_findings")
    with pytest.raises(DBAPIError):  # the case cannot go while its findings exist
        _raw(store, f"DELETE FROM exr_cases WHERE case_id = {cid}")
    assert _findings(store, cid) == before


def test_a_stale_version_is_a_conflict_and_writes_nothing(store: Store) -> None:
    cid = _related(store, SMITH_TN1)
    v = exr.case_view(store, cid, DE)["case"]["version"]
    exr.record_mirs(store, cid, DC, month="2004-09", expected_version=v, **DISABLED)
    before = _count(store)
    with pytest.raises(ConflictError, match=f"you read version {v}"):
        exr.record_mirs(store, cid, DE2, month="2004-08", expected_version=v, **NOT_DISABLED)
    with pytest.raises(ConflictError):
        exr.determine(store, cid, DE2, as_of=dt.date(2004, 10, 15), expected_version=v)
    assert _count(store) == before


def test_two_examiners_race_one_wins(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both read the case at the same version; the first write wins, the second gets ConflictError and writes
    nothing (the version check comes before the finding)."""
    cid = _related(store, SMITH_TN1)
    barrier = threading.Barrier(2, timeout=20)
    read = exr._findings

    def read_then_wait(tx: Any, case_id: int) -> list[dict[str, Any]]:
        rows = read(tx, case_id)
        barrier.wait()
        return rows

    monkeypatch.setattr(exr, "_findings", read_then_wait)
    outcomes: dict[str, Any] = {}

    def examiner(actor: Actor, month: str) -> None:
        try:
            exr.record_mirs(store, cid, actor, month=month, **DISABLED)
            outcomes[actor.name] = "ok"
        except Exception as exc:
            outcomes[actor.name] = exc

    threads = [threading.Thread(target=examiner, args=a) for a in ((DC, "2004-09"), (DE2, "2004-08"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    monkeypatch.setattr(exr, "_findings", read)
    wins = [n for n, o in outcomes.items() if o == "ok"]
    losses = [o for o in outcomes.values() if o != "ok"]
    assert len(wins) == 1 and len(losses) == 1, outcomes
    assert isinstance(losses[0], ConflictError), outcomes
    assert "changed since you read it" in str(losses[0]) and "last finding: MIRS" in str(losses[0])
    mirs = [f for f in _findings(store, cid) if f["step"] == "MIRS"]
    assert [f["actor"] for f in mirs] == wins
    assert exr.case_view(store, cid, DE)["case"]["version"] == 4


# ---- the worksheet --------------------------------------------------------------------------------------------

def test_worksheet_walks_each_month_of_the_window_with_its_reason(store: Store) -> None:
    cid = _smith(store, SMITH_TN1)
    exr.determine(store, cid, DE, as_of=dt.date(2004, 10, 15))
    view = exr.case_view(store, cid, DE)
    page = render_exr_worksheet(view)
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    months = view["determination"]["months"]
    assert [r["month"] for r in months] == [str(Month.parse("2003-09") + i) for i in range(13)]
    for r in months:
        row = re.search(rf'<tr data-month="{r["month"]}"[^>]*>(.*?)</tr>', page, re.S)
        assert row is not None, r["month"]
        assert html.escape(r["why"]) in row.group(1)
        assert html.escape(r["cite"]) in row.group(1)
    moe_row = re.search(r'<tr data-month="2004-06" class="moe">(.*?)</tr>', page, re.S)
    assert moe_row is not None and "MOE" in moe_row.group(1)
    july = re.search(r'<tr data-month="2004-07"[^>]*>(.*?)</tr>', page, re.S)
    assert july is not None and "drlee:DC" in july.group(1)
    for needle in ("EXPEDITED REINSTATEMENT", "***-**-0001", "September 2004", "November 2003", "ENTITLED",
                   "June 2004", "TN 1 (02-06)", "jsmith:DE", "drlee:DC", "fran:FO",
                   "possible retroactivity exists prior to the month of filing-see SSA-823.",
                   "DI 28057.015C NOTE", "param:exr_retro_months"):
        assert needle in html.unescape(page), needle
    for reason in view["determination"]["reasons"]:
        assert html.escape(reason["text"]) in page
    # The SSN is masked unless the caller revealed it (a logged ssn.reveal; the CLI's --reveal REASON).
    assert "123-45-0001" not in page and "123450001" not in page
    assert "123-45-0001" in render_exr_worksheet(view, full_ssn=True)


def test_worksheet_of_an_open_case_shows_the_next_step(store: Store) -> None:
    cid = _related(store, SMITH_TN1)
    exr.record_mirs(store, cid, DC, month="2004-06", **DISABLED)
    page = html.unescape(render_exr_worksheet(exr.case_view(store, cid, DE)))
    assert "Not determined yet" in page and "record MIRS findings" in page and "June 2004 disabled" in page
    with pytest.raises(ValueError, match="missing key 'status'"):
        render_exr_worksheet({"case": {}, "findings": [], "determination": None})
