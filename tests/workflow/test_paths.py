"""Lifecycle paths a user relies on, on both backends: WBDOC screening (E.2), hard paper (F.2), DCDRS
DO CDR (F.1, J.4), PC review detours (G.4, J.1, J.2.c, J.4.a), undeliverables (H.2), follow-ups (G.6),
referrals, disposal (J.3.d), the diary reset source (G.5) and the invisible integrity flip (G.7)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cdrflow.cli import app
from cdrflow.dcf.schema import cases
from cdrflow.dcf.store import Actor, Store, StoreError
from cdrflow.documents import render_bundle
from cdrflow.engine.errors import InputError
from cdrflow.kernel.errors import Forbidden
from cdrflow.workflow import common as c
from cdrflow.workflow import review
from cdrflow.workflow.cycle import run_cycle
from cdrflow.workflow.history import document_payloads
from cdrflow.workflow.intake import ingest
from cdrflow.workflow.outcomes import DO_CDR_REMARK

from ..dbfixtures import (
    assert_denied,
    beneficiary_row,
    case_documents,
    case_events,
    case_id_for,
    case_row,
    event_types,
    forget_cycles,
    insert_case,
    make_beneficiary,
    person,
    returned_mailer,
    sample_integrity,
    seed_beneficiaries,
    store_url,
    token_for,
    write_jsonl,
)

D = dt.date(2026, 1, 5)
RECEIVED = dt.date(2026, 3, 10)
WORKED = dt.date(2026, 4, 1)
DECIDED = dt.date(2026, 4, 15)
DAY = dt.timedelta(days=1)

DSE = Actor("dana", "DSE")
FLC = Actor("pat", "FLC")
BET = Actor("bob", "BET")
DT = Actor("dora", "DT")
DE = Actor("jsmith", "DE")


@pytest.fixture(autouse=True)
def _staff(store: Store) -> None:
    """The staff above as the people table has them, at PC 7: every case here is the test beneficiaries'
    servicing PC 7 (authorization is by role and the case's PC; a bare Actor is resolved by name)."""
    for a in (DSE, FLC, BET, DT, DE):
        person(store, a.name, a.role, pc=7)

FOREIGN = {"address_line": "CALLE 5 123", "city": "GUADALAJARA", "state": None, "zip": None, "country": "MX"}
DOMESTIC = {"address_line": "1 NEW RD", "city": "MACON", "state": "GA", "zip": "31201", "country": "US"}


# ---- helpers ---------------------------------------------------------------------------------------

def _sent(store: Store, ben: dict[str, Any], *, on: dt.date = D, profiles: list[str] | None = None) -> str:
    """Seed one beneficiary and run a selection on ``on``: the case id of its first mailer."""
    seed_beneficiaries(store, [ben])
    run_cycle(store, on, profiles=profiles)
    cid = case_id_for(store, on, ben["ssn"])
    case = case_row(store, cid)
    assert case["state"] == c.SENT and case["profile"] == ben["profile"]
    return cid


def _ingest(store: Store, tmp_path: Path, recs: list[dict[str, Any]], on: dt.date = RECEIVED,
            name: str = "r.jsonl") -> Any:
    res = ingest(store, write_jsonl(tmp_path / name, recs), on)
    assert res.reconciles(), res.as_dict()
    return res


def _one(store: Store, cid: str, event_type: str) -> dict[str, Any]:
    found = [e for e in case_events(store, cid) if e["event_type"] == event_type]
    assert len(found) == 1, (event_type, event_types(store, cid))
    return found[0]


def _detail(ev: dict[str, Any]) -> Any:
    return json.loads(ev["detail"]) if ev["detail"] else None


def _docs(store: Store, cid: str, kind: str) -> list[dict[str, Any]]:
    return [json.loads(d["payload"]) for d in case_documents(store, cid) if d["kind"] == kind]


def _kinds(store: Store, cid: str) -> list[str]:
    return sorted(d["kind"] for d in case_documents(store, cid))


def _pc_review(store: Store, tmp_path: Path, ssn: str, **answers: Any) -> str:
    cid = _sent(store, make_beneficiary(ssn))
    res = _ingest(store, tmp_path, [returned_mailer(cid, ssn, **answers)])
    assert res.counts["end:PC_REVIEW"] == 1, res.as_dict()
    assert case_row(store, cid)["state"] == c.PC_REVIEW
    return cid


def _at_de_after_work(store: Store, tmp_path: Path, ssn: str, amount: float = 500) -> str:
    """A PSC MAILER message 4 case (work reported) associated and worked by the BET: at the DE."""
    cid = _pc_review(store, tmp_path, ssn, q1a_worked="YES")
    assert review.associate(store, cid, DSE, WORKED) == c.BET_DT
    review.work(store, cid, BET, WORKED, year=2025, amount=amount, period="MONTHLY")
    assert case_row(store, cid)["review_stage"] == c.DE
    return cid


def _misc_at_de(store: Store, tmp_path: Path, ssn: str) -> str:
    """A MISCELLANEOUS alert (health BETTER, can work): folderless, straight to the DE/DEC/DC."""
    cid = _pc_review(store, tmp_path, ssn, q4_health="BETTER", q3_doctor_work="CAN_WORK")
    case = case_row(store, cid)
    assert case["alert_type"] == "MISCELLANEOUS" and case["review_stage"] == c.DE
    return cid


# ---- 1. WBDOC screening (E.2) ----------------------------------------------------------------------

def _assert_referred(store: Store, cid: str, title: str, reason: str, to: str) -> dict[str, Any]:
    case = case_row(store, cid)
    assert case["state"] == c.REFERRED and case["closed_on"] == RECEIVED and case["outcome"] is None
    assert case["review_stage"] is None and case["last_event"] == f"{title} MAILER REFERRED TO {to}"
    ev = _one(store, cid, f"{title} MAILER REFERRED TO {to}")
    assert (ev["actor"], ev["actor_role"], ev["code"]) == ("wbdoc", "WBDOC", None)
    assert _detail(ev)["reason"] == reason
    types = event_types(store, cid)
    assert not any(t.endswith(("MAILER RECEIVED", "DEFER CDR", "INITIATE CDR", "PC MAILER REVIEW")) for t in types)
    refs = _docs(store, cid, "WBDOC_REFERRAL")
    assert [(r["reason"], r["to"]) for r in refs] == [(reason, to)]
    assert _kinds(store, cid) == ["WBDOC_REFERRAL"]
    return refs[0]


def test_damaged_mailer_is_referred_to_the_pc(store: Store, tmp_path: Path) -> None:
    b = make_beneficiary("523450001")
    cid = _sent(store, b)
    res = _ingest(store, tmp_path, [returned_mailer(cid, b["ssn"], damaged=True)])
    assert res.counts["end:referred_damaged"] == 1 and res.rejected == 0
    ref = _assert_referred(store, cid, "T2", "DAMAGED", "PC")
    assert ref["date"] == str(RECEIVED)
    assert beneficiary_row(store, b["ssn"])["diary_month"] == b["diary_month"]  # nothing decided


def test_title_xvi_name_change_is_referred_to_the_fo(store: Store, tmp_path: Path) -> None:
    b = make_beneficiary("523450002", title="T16", servicing_pc=3, ssr_mr="7", ssi_diary_month="2026-01")
    cid = _sent(store, b)
    res = _ingest(store, tmp_path, [returned_mailer(cid, b["ssn"], title="T16", name_change="JANE Q MARRIED")])
    assert res.counts["end:referred_name_change"] == 1
    ref = _assert_referred(store, cid, "T16", "NAME_CHANGE", "FO")
    assert "JANE Q MARRIED" in ref["details"]
    assert beneficiary_row(store, b["ssn"])["name"] == b["name"]  # a name change is not an MBR correction


def test_title_ii_foreign_address_updates_the_mbr_and_is_referred(store: Store, tmp_path: Path) -> None:
    b = make_beneficiary("523450003")
    cid = _sent(store, b)
    res = _ingest(store, tmp_path, [returned_mailer(cid, b["ssn"], address_change=FOREIGN)])
    assert res.counts["end:referred_foreign_address"] == 1
    ben = beneficiary_row(store, b["ssn"])
    assert (ben["address_line"], ben["city"], ben["state"], ben["zip"]) == ("CALLE 5 123", "GUADALAJARA", None, None)
    assert ben["country"] == "MX" and ben["foreign_address"] is True
    mbr = _one(store, cid, "T2 MBR UPDATE: ADDRESS CHANGE")
    assert mbr["actor"] == "wbdoc" and _detail(mbr)["country"] == "MX"
    ref = _assert_referred(store, cid, "T2", "FOREIGN_ADDRESS", "PC")
    assert "MX" in ref["details"]


def test_fraud_allegation_is_referred(store: Store, tmp_path: Path) -> None:
    b = make_beneficiary("523450004")
    cid = _sent(store, b)
    allegation = "CALLER ALLEGES THE BENEFICIARY WORKS CASH JOBS"
    res = _ingest(store, tmp_path, [returned_mailer(cid, b["ssn"], fraud_allegation=allegation)])
    assert res.counts["end:referred_fraud"] == 1
    ref = _assert_referred(store, cid, "T2", "FRAUD_ALLEGATION", "PC")
    assert ref["details"] == allegation


def test_title_ii_name_correction_updates_the_mbr_and_the_mailer_is_decided(store: Store, tmp_path: Path) -> None:
    b = make_beneficiary("523450005")
    cid = _sent(store, b)
    res = _ingest(store, tmp_path, [returned_mailer(cid, b["ssn"], name_correction="JOHN Q PUBLIC")])
    assert res.counts["end:DEFER"] == 1 and res.rejected == 0
    assert beneficiary_row(store, b["ssn"])["name"] == "JOHN Q PUBLIC"
    ev = _one(store, cid, "T2 MBR UPDATE: NAME CORRECTION")
    assert ev["actor"] == "wbdoc" and _detail(ev) == {"name": "JOHN Q PUBLIC"}
    assert event_types(store, cid) == ["T2 INITIAL MAILER SENT", "T2 MBR UPDATE: NAME CORRECTION",
                                       "T2 MAILER RECEIVED", "T2 DEFER CDR", "T2 MEDICAL DIARY RESET"]
    case = case_row(store, cid)
    assert case["state"] == c.DEFERRED and case["outcome"] == "DEFER"
    assert _kinds(store, cid) == ["DEFERRAL_NOTICE"]  # no WBDOC referral for a Title II correction


def _unanswered_q4(cid: str, ssn: str, **markers: Any) -> dict[str, Any]:
    rec = returned_mailer(cid, ssn, profile="H", **markers)
    del rec["q4_health"]
    return rec


def test_wbdoc_dircon_answers_reach_the_decision(store: Store, tmp_path: Path) -> None:
    """E.2: WBDOC secures a missing answer by DIRCON; the decision logic uses it (H + SAME: rule R4)."""
    b = make_beneficiary("523450006", profile="H")
    cid = _sent(store, b, profiles=["H"])
    res = _ingest(store, tmp_path, [_unanswered_q4(cid, b["ssn"], wbdoc_dircon={"q4_health": "SAME"})])
    assert res.counts["end:DO_CDR"] == 1 and res.rejected == 0
    dircon = _one(store, cid, "T2 WBDOC DIRCON")
    assert (dircon["actor"], dircon["actor_role"]) == ("wbdoc", "WBDOC")
    assert _detail(dircon) == {"unanswered": ["q4_health"], "secured": {"q4_health": "SAME"}, "still_unanswered": []}
    assert _detail(_one(store, cid, "T2 MAILER RECEIVED"))["record"]["q4_health"] == "SAME"
    decision = _detail(_one(store, cid, "T2 INITIATE CDR"))["decision"]
    assert "automated_recommendation:R4" in decision["rule_ids"]  # J.2.d question 4 SAME, High or Medium
    types = event_types(store, cid)
    assert types.index("T2 MAILER RECEIVED") < types.index("T2 WBDOC DIRCON") < types.index("T2 INITIATE CDR")


def test_wbdoc_dircon_without_answers_leaves_the_question_unanswered(store: Store, tmp_path: Path) -> None:
    b = make_beneficiary("523450007", profile="H")
    cid = _sent(store, b, profiles=["H"])
    res = _ingest(store, tmp_path, [_unanswered_q4(cid, b["ssn"])])
    # A HIGH with question 4 unanswered reaches questions 5 YES and 6 NO, whose rows conflict: no clear
    # decision, so PC review (F.1.b; interpretations §58) rather than the DO CDR question 4 SAME would give.
    assert res.counts["end:PC_REVIEW"] == 1 and res.rejected == 0
    dircon = _one(store, cid, "T2 WBDOC DIRCON")
    assert _detail(dircon) == {"unanswered": ["q4_health"], "secured": {}, "still_unanswered": ["q4_health"]}
    assert "q4_health" not in _detail(_one(store, cid, "T2 MAILER RECEIVED"))["record"]
    review = _detail(_one(store, cid, "T2 PC MAILER REVIEW"))
    assert review["clear_decision"] is False and review["automated_recommendation"] == "DO_CDR"
    assert "automated_recommendation:R5a" in review["rule_ids"]  # question 4 NO RESPONSE: on to 5 and 6
    assert "automated_recommendation:R4" not in review["rule_ids"]


def test_no_wbdoc_dircon_event_when_every_question_is_answered(store: Store, tmp_path: Path) -> None:
    b = make_beneficiary("523450008")
    cid = _sent(store, b)
    _ingest(store, tmp_path, [returned_mailer(cid, b["ssn"], wbdoc_dircon={"q4_health": "BETTER"})])
    assert "T2 WBDOC DIRCON" not in event_types(store, cid)
    assert _detail(_one(store, cid, "T2 MAILER RECEIVED"))["record"]["q4_health"] == "SAME"  # not overwritten
    assert case_row(store, cid)["state"] == c.DEFERRED


# ---- 2. hard paper (F.2) ---------------------------------------------------------------------------

def test_hard_paper_ssa_455_is_reviewed_manually_without_an_alert(store: Store, tmp_path: Path) -> None:
    b = make_beneficiary("523450011")
    cid = _sent(store, b)
    res = _ingest(store, tmp_path, [returned_mailer(cid, b["ssn"], form="SSA-455")])
    assert res.counts["end:PC_REVIEW"] == 1
    case = case_row(store, cid)
    assert case["state"] == c.PC_REVIEW and case["review_stage"] == c.DE
    assert case["alert_type"] is None and case["alert_message"] is None and case["alert_reviewer"] is None
    assert case["outcome"] is None
    ev = _one(store, cid, "T2 PC MAILER REVIEW")
    assert ev["actor"] == "dcdrs" and _detail(ev)["alert"] is None
    assert _kinds(store, cid) == ["FACSIMILE", "PROFILE_SHEET"]  # F.2: "No CDR MAILER PSC review alerts"

    payloads = document_payloads(store, cid, DE)
    assert sorted(k for k, _ in payloads) == ["FACSIMILE", "PROFILE_SHEET"]
    html = render_bundle(f"Case {cid}", payloads)
    assert isinstance(html, str) and html.strip()


# ---- 3. DCDRS DO CDR (F.1, J.4, J.4.c) -------------------------------------------------------------

def test_dcdrs_do_cdr_refers_to_the_fo_with_the_release_year_cdt(store: Store, tmp_path: Path) -> None:
    """High profile, health SAME: DCDRS processes it to DO CDR (mailer-decision: DO_CDR, rule P13).

    Released 2025-09-15 (FY 2025), decided 2025-10-20 (FY 2026): the SSA-5526 carries the release year."""
    released, received = dt.date(2025, 9, 15), dt.date(2025, 10, 20)
    b = make_beneficiary("523450021", profile="H", diary_month="2025-08", fo_doors="B77")
    cid = _sent(store, b, on=released, profiles=["H"])
    res = _ingest(store, tmp_path, [returned_mailer(cid, b["ssn"], profile="H")], on=received)
    assert res.counts["end:DO_CDR"] == 1 and res.rejected == 0

    ev = _one(store, cid, "T2 INITIATE CDR")
    assert (ev["actor"], ev["actor_role"], ev["code"]) == ("dcdrs", "DCDRS", None)
    assert ev["event_date"] == received
    d = _detail(ev)
    assert d["transfer_case_office"] == "B77" and d["remarks_flag"] == "Y" and d["remarks"] == DO_CDR_REMARK
    assert d["reason"] == "DCDRS DECISION LOGIC" and d["cdt"] == 44
    assert d["decision"]["outcome"] == "DO_CDR" and d["decision"]["alert"] is None

    case = case_row(store, cid)
    assert case["state"] == c.DO_CDR and case["outcome"] == "DO_CDR" and case["closed_on"] == received
    assert case["last_event"] == "T2 INITIATE CDR" and case["ipca_event"] is None
    assert case["automated_recommendation"] == "DO_CDR"

    assert _kinds(store, cid) == ["FO_REFERRAL", "SSA_5526"]
    (fo,) = _docs(store, cid, "FO_REFERRAL")
    assert fo["doors"] == beneficiary_row(store, b["ssn"])["fo_doors"] == "B77"
    assert fo["remarks"] == DO_CDR_REMARK and fo["ipca_event"] == 2
    (form,) = _docs(store, cid, "SSA_5526")
    assert form["cdt"] == {"cdt": 44, "fiscal_year": 2025}  # `cdrflow calc cdt-code {"released": "2025-09-15"}`
    assert beneficiary_row(store, b["ssn"])["diary_month"] == "2025-08"  # no diary reset on a DO CDR
    assert "T2 MEDICAL DIARY RESET" not in event_types(store, cid)


# ---- 4. profile cross-check ------------------------------------------------------------------------

def test_returned_profile_must_match_the_case(store: Store, tmp_path: Path) -> None:
    b = make_beneficiary("523450031")
    cid = _sent(store, b)
    res = _ingest(store, tmp_path, [returned_mailer(cid, b["ssn"], profile="M")])
    assert res.processed == 0 and res.rejected == 1
    (rej,) = res.rejects
    assert rej.field == "profile" and rej.mailer_id == cid and rej.line == 1
    assert "M" in rej.reason and "L" in rej.reason
    assert case_row(store, cid)["state"] == c.SENT
    assert event_types(store, cid) == ["T2 INITIAL MAILER SENT"]


# ---- 5. translation (G.4.a, G.5) -------------------------------------------------------------------

@pytest.mark.parametrize(("answers", "message", "work_reported", "next_stage"), [
    ({}, 2, True, c.BET_DT),
    ({"q4_health": "BETTER"}, 1, False, c.DE),
], ids=["message2-work", "message1-no-work"])
def test_translation_path(store: Store, tmp_path: Path, answers: dict[str, Any], message: int,
                          work_reported: bool, next_stage: str) -> None:
    cid = _pc_review(store, tmp_path, "523450041", translation_needed=True, **answers)
    case = case_row(store, cid)
    assert (case["alert_type"], case["alert_message"], case["alert_reviewer"]) == ("PSC_MAILER", message, "BET/DT")
    assert case["actionable"] is True and case["review_stage"] == c.ASSOCIATE

    assert review.associate(store, cid, DSE, WORKED) == c.TRANSLATION
    assert case_row(store, cid)["review_stage"] == c.TRANSLATION
    with pytest.raises(Forbidden):  # the BET/DT refers to the translator, not the DE
        review.translation(store, cid, DE, WORKED, done=False)
    assert_denied(store, DE.name, "mailer.translation", f"case:{cid}")
    with pytest.raises(review.ReviewError):  # nobody decides before the translation
        review.decide(store, cid, DE, WORKED, full_cdr=False)

    assert review.translation(store, cid, BET, WORKED, done=False) == c.TRANSLATION
    ref = _one(store, cid, "T2 TRANSLATION REFERRAL")
    assert (ref["actor"], ref["actor_role"]) == ("bob", "BET")
    case = case_row(store, cid)
    assert case["state"] == c.PC_REVIEW and case["review_stage"] == c.TRANSLATION

    assert review.translation(store, cid, DT, WORKED + DAY, done=True, work_reported=work_reported) == next_stage
    done = _one(store, cid, "T2 TRANSLATION COMPLETED")
    assert done["actor"] == "dora" and _detail(done)["next_stage"] == next_stage
    case = case_row(store, cid)
    assert case["state"] == c.PC_REVIEW and case["review_stage"] == next_stage


# ---- 6. return to BET/DT and the J.4.a step 5 remark -----------------------------------------------

def test_return_to_bet_dt_then_do_cdr_remarks_investigate_earnings(
        store: Store, tmp_path: Path) -> None:
    cid = _at_de_after_work(store, tmp_path, "523450051")
    sample_integrity(store, {cid: False})
    with pytest.raises(Forbidden):
        review.return_to_bet_dt(store, cid, BET, WORKED, reason="EARNINGS UNDER TOLERANCE LEVEL")
    assert_denied(store, BET.name, "mailer.return_to_bet", f"case:{cid}")
    review.return_to_bet_dt(store, cid, DE, WORKED, reason="EARNINGS UNDER TOLERANCE LEVEL")
    ev = _one(store, cid, "T2 RETURNED TO BET/DT")
    assert (ev["actor"], ev["actor_role"]) == ("jsmith", "DE")
    assert _detail(ev)["reason"] == "EARNINGS UNDER TOLERANCE LEVEL"
    case = case_row(store, cid)
    assert case["state"] == c.PC_REVIEW and case["review_stage"] == c.BET_DT
    with pytest.raises(review.ReviewError):  # back with the BET/DT: the DE cannot decide now
        review.decide(store, cid, DE, DECIDED, full_cdr=True)

    assert review.work(store, cid, BET, WORKED + DAY, year=2025, amount=500,
                       period="MONTHLY")["action"] == "UNDER_TOLERANCE"
    assert case_row(store, cid)["review_stage"] == c.DE
    out = review.decide(store, cid, DE, DECIDED, full_cdr=True)
    assert out["outcome"] == "DO_CDR" and out["ipca_event"] == 2
    (fo,) = _docs(store, cid, "FO_REFERRAL")
    assert fo["remarks"].startswith(DO_CDR_REMARK)
    assert "INVESTIGATE EARNINGS" in fo["remarks"]
    assert "INVESTIGATE EARNINGS" in _docs(store, cid, "SSA_5526")[0]["remarks"]
    ev = _one(store, cid, "T2 INITIATE CDR")
    assert (ev["actor"], ev["code"]) == ("jsmith", "IPCA 2")
    assert _detail(ev)["remarks_flag"] == "Y"


@pytest.mark.parametrize("reviewer_remarks", [None, "SEE ATTACHED HOSPITAL RECORD"], ids=["no-remarks", "remarks"])
def test_pc_initiate_cdr_event_records_the_ipcb_message(
        store: Store, tmp_path: Path, reviewer_remarks: str | None) -> None:
    """J.4.a steps 4-5: the INITIATE CDR input carries REMARKS = Y *and the message* on the DCF, the same
    text the FO referral (IPCB) shows, including the J.4.a step 5 earnings remark.

    BUG: review.decide puts the reviewer's raw ``remarks`` argument in ``detail`` (review.py:183) and
    outcomes.do_cdr merges ``**detail`` after its own "remarks" key (outcomes.py:78-79), so the event's
    remarks are None (or the reviewer's text without the DO CDR message / INVESTIGATE EARNINGS remark)."""
    cid = _at_de_after_work(store, tmp_path, "523450054")
    sample_integrity(store, {cid: False})
    review.decide(store, cid, DE, DECIDED, full_cdr=True, remarks=reviewer_remarks)
    (fo,) = _docs(store, cid, "FO_REFERRAL")
    assert "INVESTIGATE EARNINGS" in fo["remarks"]
    if reviewer_remarks:
        assert fo["remarks"].startswith(reviewer_remarks)
    d = _detail(_one(store, cid, "T2 INITIATE CDR"))
    assert d["remarks_flag"] == "Y"
    assert d["remarks"] == fo["remarks"]


def test_do_cdr_remarks_without_a_work_review(store: Store, tmp_path: Path) -> None:
    cid = _misc_at_de(store, tmp_path, "523450052")
    sample_integrity(store, {cid: False})
    assert review.decide(store, cid, DE, DECIDED, full_cdr=True)["outcome"] == "DO_CDR"
    (fo,) = _docs(store, cid, "FO_REFERRAL")
    assert fo["remarks"] == DO_CDR_REMARK and "INVESTIGATE EARNINGS" not in fo["remarks"]


def test_do_cdr_remarks_when_work_was_developed(store: Store, tmp_path: Path) -> None:
    """Earnings above 1/2 SGA are developed by the BET/DT (DEVELOP_WORK): nothing left to investigate."""
    cid = _at_de_after_work(store, tmp_path, "523450053", amount=5000)
    sample_integrity(store, {cid: False})
    review.decide(store, cid, DE, DECIDED, full_cdr=True)
    (fo,) = _docs(store, cid, "FO_REFERRAL")
    assert "INVESTIGATE EARNINGS" not in fo["remarks"]


# ---- 7. J.1 DIRCON during a PC review --------------------------------------------------------------

def test_dircon_during_pc_review_is_recorded_and_the_review_goes_on(store: Store, tmp_path: Path) -> None:
    cid = _misc_at_de(store, tmp_path, "523450061")
    before = case_row(store, cid)
    with pytest.raises(Forbidden):
        review.dircon(store, cid, FLC, WORKED, result="NO_ANSWER")  # the FLC makes no DIRCON (I, J.1)
    assert_denied(store, FLC.name, "mailer.dircon", f"case:{cid}")
    out = review.dircon(store, cid, DE, WORKED, result="NO_ANSWER")
    assert out["outcome"] == "RECORDED"
    ev = _one(store, cid, "T2 DIRCON ATTEMPT")
    assert (ev["actor"], ev["actor_role"], ev["event_date"]) == ("jsmith", "DE", WORKED)
    d = _detail(ev)
    assert d["result"] == "NO_ANSWER" and "J.1" in d["purpose"]
    after = case_row(store, cid)
    assert after["state"] == c.PC_REVIEW == before["state"]
    assert after["review_stage"] == c.DE == before["review_stage"]
    assert after["outcome"] is None and after["last_event"] == before["last_event"]
    assert not any("INITIATE" in t for t in event_types(store, cid))
    # two unanswered attempts in a PC review are no nonresponder DO CDR (that is I, not J.1)
    review.dircon(store, cid, DE, WORKED + DAY, result="NO_ANSWER")
    assert case_row(store, cid)["state"] == c.PC_REVIEW
    assert event_types(store, cid).count("T2 DIRCON ATTEMPT") == 2


def test_dircon_during_pc_review_needs_a_review_stage(store: Store, tmp_path: Path) -> None:
    cid = _pc_review(store, tmp_path, "523450062", q1a_worked="YES")  # at ASSOCIATE
    with pytest.raises(review.ReviewError):
        review.dircon(store, cid, DE, WORKED, result="REACHED")
    assert "T2 DIRCON ATTEMPT" not in event_types(store, cid)


# ---- 8. H.2 undeliverables at the PC ---------------------------------------------------------------

def test_pc_undeliverable_without_new_address_is_a_nonresponder(store: Store) -> None:
    ssn = "523450071"
    seed_beneficiaries(store, [make_beneficiary(ssn)])
    cid = insert_case(store, ssn, sent_on=D)
    on = D + 20 * DAY
    assert review.undeliverable(store, cid, DT, on, new_address=None) == c.NONRESPONDER
    evs = case_events(store, cid)[-2:]
    assert [(e["code"], e["event_type"], e["actor"]) for e in evs] == [
        ("IPCA 7", "T2 UNDELIVERABLE", "dora"), ("IPCA 6", "T2 REVIEW NONRESPONDER", "dora")]
    case = case_row(store, cid)
    assert case["state"] == c.NONRESPONDER and case["review_stage"] == c.DIRCON
    assert case["last_event"] == "T2 REVIEW NONRESPONDER" and case["last_event_date"] == on
    # and it is worked as a nonresponder (I): DIRCON by the BET/DT
    assert review.dircon(store, cid, BET, on + DAY, result="REACHED")["outcome"] == "PROCESS_MAILER"


def test_pc_undeliverable_resent_then_returned_again_is_held_until_150_days(store: Store) -> None:
    ssn = "523450072"
    seed_beneficiaries(store, [make_beneficiary(ssn)])
    cid = insert_case(store, ssn, sent_on=D)
    assert review.undeliverable(store, cid, DT, D + 20 * DAY, new_address=DOMESTIC) == c.PC_RESENT
    evs = case_events(store, cid)[-2:]
    assert [(e["code"], e["event_type"]) for e in evs] == [("IPCA 7", "T2 UNDELIVERABLE"), (None, "T2 MAILER RESENT")]
    assert _detail(evs[1])["new_address"] == {**DOMESTIC, "foreign_address": False}
    assert case_row(store, cid)["state"] == c.PC_RESENT
    ben = beneficiary_row(store, ssn)
    assert (ben["address_line"], ben["city"], ben["state"], ben["zip"], ben["country"]) == (
        "1 NEW RD", "MACON", "GA", "31201", "US")

    assert review.undeliverable(store, cid, DT, D + 60 * DAY, new_address=None) == c.UNDELIVERABLE
    assert event_types(store, cid).count("T2 UNDELIVERABLE") == 2
    assert "T2 REVIEW NONRESPONDER" not in event_types(store, cid)
    case = case_row(store, cid)
    assert case["state"] == c.UNDELIVERABLE and case["send_request_date"] == D
    with pytest.raises(review.ReviewError):  # a held mailer takes no further PC undeliverable input
        review.undeliverable(store, cid, DT, D + 70 * DAY, new_address=None)

    run_cycle(store, D + 149 * DAY)
    assert case_row(store, cid)["state"] == c.UNDELIVERABLE
    forget_cycles(store)
    r = run_cycle(store, D + 150 * DAY)
    assert r.counts["nonresponder"] == 1
    case = case_row(store, cid)
    assert case["state"] == c.NONRESPONDER and case["review_stage"] == c.DIRCON
    nr = _one(store, cid, "T2 NONRESPONDER REVIEW")
    assert nr["actor"] == "selection" and nr["event_date"] == D + 150 * DAY
    assert _detail(nr)["from"] == c.UNDELIVERABLE


def test_pc_resend_to_a_foreign_address_marks_the_address_foreign(store: Store) -> None:
    """H.2 resend to a new address: the beneficiary row must stay consistent, as WBDOC's address change
    (intake E.2) keeps it: ``country`` != "US" means ``foreign_address`` True (PC-8 jurisdiction, E.4.a).

    BUG: review.undeliverable writes ``new_address`` as is (review.py:324, ``tx.update_beneficiary(case["ssn"],
    **new_address)``), so country "MX" is stored with foreign_address still False."""
    ssn = "523450073"
    seed_beneficiaries(store, [make_beneficiary(ssn)])
    cid = insert_case(store, ssn, sent_on=D)
    assert review.undeliverable(store, cid, DT, D + 20 * DAY, new_address=FOREIGN) == c.PC_RESENT
    ben = beneficiary_row(store, ssn)
    assert ben["country"] == "MX"
    assert ben["foreign_address"] is True


def test_pc_resend_new_address_cannot_change_other_beneficiary_fields(store: Store) -> None:
    """``new_address`` is an address (address_line, city, state, zip, country; the CLI help says so).

    BUG: review.undeliverable passes any keys to update_beneficiary (review.py:324): `cdrflow review
    undeliverable --new-address '{"diary_month": "2099-01"}'` moves the medical diary (and any other
    beneficiary column), and an unknown key fails with SQLAlchemy's CompileError, not a user error."""
    ssn = "523450074"
    seed_beneficiaries(store, [make_beneficiary(ssn)])
    cid = insert_case(store, ssn, sent_on=D)
    with pytest.raises((StoreError, InputError, ValueError)):
        review.undeliverable(store, cid, DT, D + 20 * DAY,
                             new_address={**DOMESTIC, "diary_month": "2099-01", "profile": "H"})
    ben = beneficiary_row(store, ssn)
    assert ben["diary_month"] == "2026-01" and ben["profile"] == "L"


# ---- 9. signature control keeps the follow-up control ----------------------------------------------

def test_unsigned_return_still_gets_the_second_mailer(store: Store, tmp_path: Path) -> None:
    b = make_beneficiary("523450081")
    cid = _sent(store, b)
    res = _ingest(store, tmp_path, [returned_mailer(cid, b["ssn"], signed=False)])
    assert res.counts["end:signature_control"] == 1
    case = case_row(store, cid)
    assert case["state"] == c.SIGNATURE_PENDING and case["last_event"] == "T2 INITIAL MAILER SENT"
    sig = _one(store, cid, "T2 SIGNATURE CONTROL")
    assert sig["actor"] == "wbdoc"

    second = dt.date(2026, 5, 5)  # 120 days after INITIAL MAILER SENT, four months after the last run
    r = run_cycle(store, second)
    assert r.counts["second_request"] == 1
    case = case_row(store, cid)
    assert case["state"] == c.SENT and case["request"] == "SECOND"
    assert case["send_request_date"] == second and case["last_event"] == "T2 SECOND MAILER SENT"
    ev = _one(store, cid, "T2 SECOND MAILER SENT")
    assert ev["actor"] == "selection" and ev["event_date"] == second


# ---- 10. referral done -----------------------------------------------------------------------------

def test_referral_done_lets_the_ssn_be_mailed_again(store: Store, tmp_path: Path) -> None:
    b = make_beneficiary("523450091", diary_month="2025-12")
    cid = _sent(store, b)
    _ingest(store, tmp_path, [returned_mailer(cid, b["ssn"], damaged=True)])
    assert case_row(store, cid)["state"] == c.REFERRED

    later = dt.date(2026, 5, 5)
    r = run_cycle(store, later)
    assert "T2" in r.groups and r.counts["first_mailer"] == 0  # the open referral blocks a new mailer
    assert _case_ids(store) == [cid]

    review.referral_done(store, cid, FLC, WORKED, note="new SSA-455 requested by the PC")
    ev = _one(store, cid, "T2 REFERRAL ACTION COMPLETED")
    assert (ev["actor"], ev["actor_role"]) == ("pat", "FLC")
    assert _detail(ev)["note"] == "new SSA-455 requested by the PC"
    assert case_row(store, cid)["state"] == c.REFERRAL_CLOSED
    with pytest.raises(review.ReviewError):  # once only
        review.referral_done(store, cid, FLC, WORKED, note="again")

    forget_cycles(store)
    again = dt.date(2026, 6, 8)
    r = run_cycle(store, again)
    assert r.counts["first_mailer"] == 1
    new = case_row(store, case_id_for(store, again, b["ssn"]))
    assert new["state"] == c.SENT and new["request"] == "FIRST"
    assert case_row(store, cid)["state"] == c.REFERRAL_CLOSED
    with pytest.raises(review.ReviewError):  # only a REFERRED case takes it
        review.referral_done(store, new["case_id"], FLC, again, note="not referred")


def _case_ids(store: Store) -> list[str]:
    with store.read() as tx:
        return [r[0] for r in tx.conn.execute(select(cases.c.case_id))]


# ---- 11. disposal (J.3.d) --------------------------------------------------------------------------

def test_dispose_only_after_the_decision(store: Store, tmp_path: Path) -> None:
    cid = _misc_at_de(store, tmp_path, "523450101")
    with pytest.raises(review.ReviewError):
        review.dispose(store, cid, DT, DECIDED, document="FACSIMILE", disposition="DESTROYED")
    assert "T2 DOCUMENT DISPOSAL" not in event_types(store, cid)
    assert all(d["disposed_on"] is None for d in case_documents(store, cid))

    sample_integrity(store, {cid: False})
    assert review.decide(store, cid, DE, DECIDED, full_cdr=False)["outcome"] == "DEFER"
    assert case_row(store, cid)["state"] == c.DEFERRED
    on = DECIDED + 5 * DAY
    review.dispose(store, cid, DT, on, document="FACSIMILE", disposition="DESTROYED", note="shredded")
    ev = _one(store, cid, "T2 DOCUMENT DISPOSAL")
    assert (ev["actor"], ev["actor_role"], ev["event_date"]) == ("dora", "DT", on)
    assert _detail(ev) == {"document": "FACSIMILE", "disposition": "DESTROYED", "note": "shredded",
                           "cite": "DI 40502.001J.3.d"}
    by_kind = {d["kind"]: d for d in case_documents(store, cid)}
    assert by_kind["FACSIMILE"]["disposed_on"] == on and by_kind["FACSIMILE"]["disposition"] == "DESTROYED"
    for kind in ("ALERT_SHEET", "PROFILE_SHEET", "DEFERRAL_NOTICE"):
        assert by_kind[kind]["disposed_on"] is None and by_kind[kind]["disposition"] is None, kind


# ---- 12. diary reset from the MDR at selection (G.5) -----------------------------------------------

def test_diary_reset_uses_the_mdr_printed_at_selection(store: Store, tmp_path: Path) -> None:
    b = make_beneficiary("523450111", od_calc_mdr=None, qmid_mdr="5")
    cid = _sent(store, b)
    assert case_row(store, cid)["scanline_mdr"] == "5"
    with store.tx() as tx:
        tx.update_beneficiary(b["ssn"], qmid_mdr="3")  # a later QMID entry (MIP, 3 years)
    res = _ingest(store, tmp_path, [returned_mailer(cid, b["ssn"])])
    assert res.counts["end:DEFER"] == 1
    reset = _detail(_one(store, cid, "T2 MEDICAL DIARY RESET"))
    assert reset["mdr"] == "5" and reset["diary_type"] == "MINE" and reset["months"] == 60
    assert reset["diary_month"] == "2031-03"  # 60 months from the deferral month 2026-03, not 36 (2029-03)
    assert beneficiary_row(store, b["ssn"])["diary_month"] == "2031-03"
    (notice,) = _docs(store, cid, "DEFERRAL_NOTICE")
    assert notice["diary"]["months"] == 60


# ---- 13. the integrity flip is invisible to the reviewer (G.7) -------------------------------------

def test_integrity_flip_is_invisible_in_the_cli(store: Store, tmp_path: Path) -> None:
    from cdrflow import cli_lifecycle

    cid = _at_de_after_work(store, tmp_path, "523450121")
    sample_integrity(store, {cid: True})
    cli_lifecycle.out.width = 220
    r = CliRunner().invoke(app, ["review", "decide", cid, "--defer", "--on", str(DECIDED), "--db", store_url(store)],
                           env={"CDRFLOW_TOKEN": token_for(store, DE.name, DE.role, pc=7)})
    assert r.exit_code == 0, r.output
    assert f"{cid}: IPCA 4 DEFER CDR recorded" in r.output
    assert "DO_CDR" not in r.output and "DO CDR" not in r.output
    assert "INTEGRITY" not in r.output.upper() and "FLIP" not in r.output.upper()
    assert "INITIATE" not in r.output.upper()
    # ... while the DCF has the flip for an auditor
    case = case_row(store, cid)
    assert case["state"] == c.DO_CDR and case["integrity_flipped"] is True
    assert _one(store, cid, "T2 INITIATE CDR")["actor"] == "integrity-sampler"
    assert _one(store, cid, "T2 DEFER CDR")["actor"] == "jsmith"


def test_integrity_flip_through_the_api_reports_do_cdr(
        store: Store, tmp_path: Path) -> None:
    cid = _at_de_after_work(store, tmp_path, "523450122")
    sample_integrity(store, {cid: True})
    out = review.decide(store, cid, DE, DECIDED, full_cdr=False)
    assert out["outcome"] == "DO_CDR" and out["flipped"] is True
    assert out["ipca_event"] == 4 and out["label"] == "DEFER CDR"


def test_concurrent_deferral_returned_to_bet_dt_fits_the_event_type(store: Store, tmp_path: Path) -> None:
    """J.2.c: "T2/16 RETURNED TO BET/DT FOR EARNINGS DEVELOPMENT" (49 characters) is stored on both
    backends; PostgreSQL enforces the declared size, so a 48-character column refused it."""
    ssn = "523450091"
    cid = _sent(store, make_beneficiary(ssn, title="T2/16"))
    res = _ingest(store, tmp_path, [returned_mailer(cid, ssn, title="T2/16", q1a_worked="YES")])
    assert res.counts["end:PC_REVIEW"] == 1, res.as_dict()
    assert review.associate(store, cid, DSE, WORKED) == c.BET_DT
    review.work(store, cid, BET, WORKED, year=2025, amount=500, period="MONTHLY")
    sample_integrity(store, {cid: False})
    review.decide(store, cid, DE, DECIDED, full_cdr=False)
    assert case_row(store, cid)["state"] == c.DEFERRED
    review.return_to_bet_dt(store, cid, DE, DECIDED, reason="EARNINGS UNDER TOLERANCE LEVEL")
    ev = _one(store, cid, "T2/16 RETURNED TO BET/DT FOR EARNINGS DEVELOPMENT")
    assert _detail(ev)["cite"] == "DI 40502.001J.2.c; DI 40510.000"
    assert case_row(store, cid)["state"] == c.DEFERRED
