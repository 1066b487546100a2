"""Passages of DI 40502.001 the PC review now carries out, on SQLite and PostgreSQL (issue 11, item 4):

* J.2.c Title II Actions with Folder: WORK RESOLVED and the SSA-559 to the DE/DEC/DC;
* J.2.d the profile code: mailer or facsimile over the profile sheet, the DCF for hard paper;
* J.3.a NOTE: DCF medical data blank -> no diary, a REMARK with the pertinent medical information;
* J.3.c: a returned deferral notice is destroyed, never re-sent;
* F.3: PCACS/SSICCS folder data on the alert sheet.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect, select, text

from cdrflow.dcf import db
from cdrflow.dcf.schema import beneficiaries
from cdrflow.dcf.store import Actor, Store
from cdrflow.documents import render, render_bundle
from cdrflow.engine.errors import InputError
from cdrflow.kernel.errors import Forbidden
from cdrflow.policy.mailer.earnings import REMARK_UNDER_TOLERANCE, REMARK_WORK_RESOLVED
from cdrflow.workflow import common as c
from cdrflow.workflow import population, review
from cdrflow.workflow.cycle import run_cycle
from cdrflow.workflow.history import document_payloads
from cdrflow.workflow.intake import ingest
from cdrflow.workflow.outcomes import MEDICAL_DATA_BLANK

from ..dbfixtures import (
    assert_denied,
    beneficiary_row,
    case_documents,
    case_events,
    case_id_for,
    case_row,
    event_types,
    make_beneficiary,
    owner_engine,
    person,
    returned_mailer,
    sample_integrity,
    seed_beneficiaries,
    write_jsonl,
)

D = dt.date(2026, 1, 5)
RECEIVED = dt.date(2026, 3, 10)
WORKED = dt.date(2026, 4, 1)
DECIDED = dt.date(2026, 4, 15)
RETURNED = dt.date(2026, 5, 20)

DSE = Actor("dana", "DSE")
BET = Actor("bob", "BET")
DE = Actor("jsmith", "DE")
MAILROOM = Actor("mo", "MAILROOM")


@pytest.fixture(autouse=True)
def _staff(store: Store) -> None:
    """The PC 7 staff above (the test beneficiaries' servicing PC) as the people table has them."""
    for a in (DSE, BET, DE, MAILROOM):
        person(store, a.name, a.role, pc=7)


def _pc_review(store: Store, tmp_path: Path, ben: dict[str, Any], **answers: Any) -> str:
    seed_beneficiaries(store, [ben])
    run_cycle(store, D)
    cid = case_id_for(store, D, ben["ssn"])
    rec = returned_mailer(cid, ben["ssn"], title=ben["title"], profile=case_row(store, cid)["profile"], **answers)
    res = ingest(store, write_jsonl(tmp_path / f"{ben['ssn']}.jsonl", [rec]), RECEIVED)
    assert res.reconciles() and res.counts["end:PC_REVIEW"] == 1, res.as_dict()
    return cid


def _at_bet(store: Store, tmp_path: Path, ssn: str, **ben: Any) -> str:
    """A PSC MAILER message 4 case (work reported), associated: at the BET/DT."""
    cid = _pc_review(store, tmp_path, make_beneficiary(ssn, **ben), q1a_worked="YES")
    assert review.associate(store, cid, DSE, WORKED) == c.BET_DT
    return cid


def _at_de(store: Store, tmp_path: Path, ssn: str, **ben: Any) -> str:
    """A MISCELLANEOUS alert (health BETTER, can work): straight to the DE/DEC/DC."""
    cid = _pc_review(store, tmp_path, make_beneficiary(ssn, **ben), q4_health="BETTER", q3_doctor_work="CAN_WORK")
    assert case_row(store, cid)["review_stage"] == c.DE
    return cid


def _not_sampled(store: Store, cid: str) -> None:
    sample_integrity(store, {cid: False})


def _docs(store: Store, cid: str, kind: str) -> list[dict[str, Any]]:
    return [json.loads(d["payload"]) for d in case_documents(store, cid) if d["kind"] == kind]


def _events_of(store: Store, cid: str, suffix: str) -> list[dict[str, Any]]:
    return [e for e in case_events(store, cid) if e["event_type"].endswith(suffix)]


# ---- 1. J.2.c Title II Actions with Folder: WORK RESOLVED -----------------------------------------

def test_work_resolved_with_the_folder_annotates_refers_by_ssa_559_and_the_guide_reads_it(
        store: Store, tmp_path: Path) -> None:
    cid = _at_bet(store, tmp_path, "423460001")
    d = review.work(store, cid, BET, WORKED, year=2025, amount=5000, period="MONTHLY", folder=True, resolved=True)
    assert (d["action"], d["annotation"], d["ssa_559"]) == ("WORK_RESOLVED", "WORK RESOLVED", True)
    assert d["input"]["folder"] is True and d["input"]["resolved"] is True
    assert "t2-work-resolved" in d["rules"]
    assert case_row(store, cid)["review_stage"] == c.DE
    ev = _events_of(store, cid, "BET/DT WORK REVIEW")
    assert len(ev) == 1 and json.loads(ev[0]["detail"])["annotation"] == REMARK_WORK_RESOLVED
    assert "irmk_special_message" not in json.loads(ev[0]["detail"])
    (slip,) = _docs(store, cid, "SSA_559")
    assert slip["action"] == "WORK_RESOLVED" and slip["annotation"] == "WORK RESOLVED" and slip["remark"] is None
    assert slip["folder"] is True and slip["referred_by"] == "bob:BET"

    g = review.guide(store, cid, DE)
    assert g["bet_dt_annotation"] == "WORK RESOLVED"
    assert g["steps"][0]["question"] == 1 and g["steps"][0]["next_question"] == "Q2"
    assert "WORK RESOLVED" in g["steps"][0]["guidance"]
    assert any(t["rule"] == "reviewer-guide:bet-dt-report" and '"WORK RESOLVED"' in t["note"] for t in g["trace"])
    assert g["return_to_bet_dt"] is False  # only EARNINGS UNDER TOLERANCE returns to the BET/DT

    _not_sampled(store, cid)
    assert review.decide(store, cid, DE, DECIDED, full_cdr=True)["outcome"] == "DO_CDR"
    initiate = _events_of(store, cid, "INITIATE CDR")
    # resolved work leaves no earnings to investigate (J.4.a step 5 is for EARNINGS UNDER TOLERANCE)
    assert "INVESTIGATE EARNINGS" not in json.loads(initiate[0]["detail"])["remarks"]

    page = render_bundle("case", document_payloads(store, cid, DE))
    assert 'data-kind="SSA_559"' in page and "mailer holder/paperless ACR" in page


@pytest.mark.parametrize(("amount", "action", "slip"), [(940, "UNDER_TOLERANCE", True), (5000, "DEVELOP_WORK", False)])
def test_with_the_folder_not_resolved_follows_the_tolerance(store: Store, tmp_path: Path, amount: float,
                                                            action: str, slip: bool) -> None:
    """J.2.c: with the folder, unresolved work takes the same tolerance branches as without it."""
    cid = _at_bet(store, tmp_path, "423460002")
    d = review.work(store, cid, BET, WORKED, year=2008, amount=amount, period="MONTHLY", folder=True)
    assert d["action"] == action and d["ssa_559"] is slip
    slips = _docs(store, cid, "SSA_559")
    if slip:
        assert len(slips) == 1 and slips[0]["remark"] == REMARK_UNDER_TOLERANCE and slips[0]["annotation"] is None
        assert review.guide(store, cid, DE)["bet_dt_annotation"] == REMARK_UNDER_TOLERANCE
    else:
        assert slips == [] and "irmk_special_message" in d


def test_resolved_needs_the_folder(store: Store, tmp_path: Path) -> None:
    cid = _at_bet(store, tmp_path, "423460003")
    before = case_events(store, cid)
    with pytest.raises(InputError) as err:
        review.work(store, cid, BET, WORKED, year=2025, amount=5000, period="MONTHLY", resolved=True)
    assert err.value.field == "resolved"
    assert case_events(store, cid) == before and case_row(store, cid)["review_stage"] == c.BET_DT
    assert _docs(store, cid, "SSA_559") == []


def test_work_resolved_is_not_a_title_xvi_annotation(store: Store, tmp_path: Path) -> None:
    t16 = _at_bet(store, tmp_path, "423460004", title="T16", bic_or_id="DI", ssi_diary_month="2026-01")
    with pytest.raises(InputError) as err:
        review.work(store, t16, BET, WORKED, year=2025, amount=500, period="MONTHLY", folder=True, resolved=True,
                    earnings_known=True)
    assert err.value.field == "resolved"
    assert _docs(store, t16, "SSA_559") == []


# ---- 2. J.2.d the profile code ---------------------------------------------------------------------

def test_mailer_code_has_priority_over_a_profile_sheet_that_disagrees(
        store: Store, tmp_path: Path) -> None:
    ssn = "423460011"
    ben = make_beneficiary(ssn)  # selected LOW: scanline 2 field 3 is L
    seed_beneficiaries(store, [ben])
    run_cycle(store, D)
    cid = case_id_for(store, D, ssn)
    population.load(store, [{**ben, "profile": "M"}])  # the DCF (and so the profile sheet) now says Medium
    rec = returned_mailer(cid, ssn, q4_health="BETTER", q3_doctor_work="CAN_WORK")
    assert ingest(store, write_jsonl(tmp_path / "r.jsonl", [rec]), RECEIVED).counts["end:PC_REVIEW"] == 1

    g = review.guide(store, cid, DE)
    p = g["profile"]
    assert (p["profile"], p["word"], p["source"], p["conflict"]) == ("L", "Low", "MAILER_OR_FACSIMILE", True)
    assert any("the profile sheet says Medium" in x and "highest priority" in x for x in p["disagreements"])
    assert "reviewer-profile:conflict" in p["rules"]
    # The guide walked the Low rows: Q4 BETTER is DO CDR for all profiles, Q3 CAN WORK for a Low goes on.
    q3 = next(s for s in g["steps"] if s["question"] == 3)
    assert q3["action"] == "CONTINUE"

    _not_sampled(store, cid)
    review.decide(store, cid, DE, DECIDED, full_cdr=True)
    detail = json.loads(_events_of(store, cid, "INITIATE CDR")[0]["detail"])
    assert detail["reviewer_profile"]["source"] == "MAILER_OR_FACSIMILE" and detail["reviewer_profile"]["conflict"]


def test_hard_paper_ssa_455_uses_the_dcf_profile_code(store: Store, tmp_path: Path) -> None:
    ssn = "423460012"
    ben = make_beneficiary(ssn)
    seed_beneficiaries(store, [ben])
    run_cycle(store, D)
    cid = case_id_for(store, D, ssn)
    population.load(store, [{**ben, "profile": "H"}])
    rec = returned_mailer(cid, ssn, form="SSA-455")
    assert ingest(store, write_jsonl(tmp_path / "r.jsonl", [rec]), RECEIVED).counts["end:PC_REVIEW"] == 1
    p = review.guide(store, cid, DE)["profile"]
    assert (p["profile"], p["source"], p["conflict"]) == ("H", "DCF", False)
    assert p["rules"][0] == "reviewer_profile_source:PS-HARD-PAPER"


def test_profile_agrees_everywhere(store: Store, tmp_path: Path) -> None:
    cid = _at_de(store, tmp_path, "423460013")
    p = review.guide(store, cid, DE)["profile"]
    assert (p["profile"], p["source"], p["conflict"], p["disagreements"]) == ("L", "MAILER_OR_FACSIMILE", False, [])


# ---- 3. J.3.a NOTE: blank DCF medical data ------------------------------------------------------------

def test_deferral_with_blank_medical_data_enters_a_remark_and_resets_no_diary(
        store: Store, tmp_path: Path) -> None:
    ssn = "423460021"
    cid = _at_de(store, tmp_path, ssn, qmid_medical_blank=True, diagnosis_secondary="3000")
    before = beneficiary_row(store, ssn)
    _not_sampled(store, cid)
    with pytest.raises(review.ReviewError, match="medical_remark"):  # a DO CDR takes --remarks
        review.decide(store, cid, DE, DECIDED, full_cdr=True, medical_remark="x")
    out = review.decide(store, cid, DE, DECIDED, full_cdr=False, medical_remark="treated monthly at the VA clinic")
    assert out["outcome"] == "DEFER" and out["ipca_event"] == 4

    types = event_types(store, cid)
    assert types[-2:] == ["T2 DEFER CDR", "T2 REMARK"]
    assert "T2 MEDICAL DIARY RESET" not in types
    # Never a new CDR path: no DRES, no history of a full medical review, no CDR initiated.
    assert not any(w in t for t in types for w in ("DRES", "CDR PATH", "MEDICAL REVIEW", "INITIATE", "MODIFY"))
    defer_ev, remark_ev = case_events(store, cid)[-2:]
    assert json.loads(defer_ev["detail"])["diary"] == "NOT_CALCULATED"
    assert (remark_ev["code"], remark_ev["actor"], remark_ev["actor_role"]) == ("IRMK", "jsmith", "DE")
    remark = json.loads(remark_ev["detail"])
    assert remark["diary_calculated"] is False and remark["cite"] == "DI 40502.001J.3.a NOTE"
    assert remark["remark"].startswith(MEDICAL_DATA_BLANK)
    for part in ("IMPAIRMENT CODES 2950 3000", "SCHIZOPHRENIC", "ONSET 2019-01-15", "OD-CALC MDR 7 (MINE)",
                 "SCANLINE MDR 7 (MINE)", "REVIEWER: TREATED MONTHLY AT THE VA CLINIC"):
        assert part in remark["remark"], part
    assert remark["medical"]["diagnosis_codes"] == ["2950", "3000"]

    after = beneficiary_row(store, ssn)
    assert after["diary_month"] == before["diary_month"] == "2026-01"  # the system had nothing to calculate with
    assert {k: after[k] for k in ("diagnosis_primary", "diagnosis_secondary", "impairment", "od_calc_mdr",
                                  "qmid_mdr", "qmid_medical_blank")} == \
        {k: before[k] for k in ("diagnosis_primary", "diagnosis_secondary", "impairment", "od_calc_mdr",
                                "qmid_mdr", "qmid_medical_blank")}
    case = case_row(store, cid)
    assert case["state"] == c.DEFERRED and case["outcome"] == "DEFER"
    (notice,) = _docs(store, cid, "DEFERRAL_NOTICE")
    assert notice["diary"] is None
    docs = dict(document_payloads(store, cid, DE))
    assert "medical diary not reset" in render("DEFERRAL_NOTICE", docs["DEFERRAL_NOTICE"])
    # The consequence docs/interpretations.md#qmid-blank states: the diary is still due, so the next
    # selection run of the group mails the beneficiary again.
    nxt = dt.date(2026, 5, 5)
    run_cycle(store, nxt)
    assert case_row(store, case_id_for(store, nxt, ssn))["state"] == c.SENT


def test_medical_remark_is_refused_when_the_medical_data_is_there(
        store: Store, tmp_path: Path) -> None:
    cid = _at_de(store, tmp_path, "423460022")
    _not_sampled(store, cid)
    before = case_events(store, cid)
    with pytest.raises(review.ReviewError, match="not blank"):
        review.decide(store, cid, DE, DECIDED, full_cdr=False, medical_remark="x")
    assert case_events(store, cid) == before
    review.decide(store, cid, DE, DECIDED, full_cdr=False)
    assert event_types(store, cid)[-1] == "T2 MEDICAL DIARY RESET"
    assert not _events_of(store, cid, "REMARK")


def test_dcdrs_deferral_with_blank_medical_data_keeps_both_diaries(store: Store, tmp_path: Path) -> None:
    """The automated deferral meets the same DCF limit: the REMARK is DCDRS's, the concurrent SSI diary stays too."""
    ssn = "423460023"
    ben = make_beneficiary(ssn, title="T2/16", ssi_diary_month="2026-01", ssr_mr="5", qmid_medical_blank=True)
    seed_beneficiaries(store, [ben])
    run_cycle(store, D)
    cid = case_id_for(store, D, ssn)
    res = ingest(store, write_jsonl(tmp_path / "r.jsonl", [returned_mailer(cid, ssn, title="T2/16")]), RECEIVED)
    assert res.counts["end:DEFER"] == 1, res.as_dict()
    assert event_types(store, cid)[-2:] == ["T2/16 DEFER CDR", "T2/16 REMARK"]
    remark = _events_of(store, cid, "REMARK")[0]
    assert remark["actor"] == "dcdrs" and "SSR MR 5 (MINE)" in json.loads(remark["detail"])["remark"]
    b = beneficiary_row(store, ssn)
    assert (b["diary_month"], b["ssi_diary_month"]) == ("2026-01", "2026-01")


# ---- 4. J.3.c: a returned deferral notice is destroyed, not re-sent ----------------------------------

def test_returned_deferral_notice_is_destroyed_and_never_resent(
        store: Store, tmp_path: Path) -> None:
    ssn = "423460031"
    cid = _at_de(store, tmp_path, ssn)
    with pytest.raises(review.ReviewError, match="no deferral notice"):  # nothing to return before a deferral
        review.notice_undeliverable(store, cid, MAILROOM, RETURNED)
    _not_sampled(store, cid)
    review.decide(store, cid, DE, DECIDED, full_cdr=False)
    address = {k: beneficiary_row(store, ssn)[k] for k in ("address_line", "city", "state", "zip", "country")}

    with pytest.raises(Forbidden, match="MAILROOM"):
        review.notice_undeliverable(store, cid, DE, RETURNED)
    assert_denied(store, DE.name, "mailer.notice_undeliverable", f"case:{cid}")
    out = review.notice_undeliverable(store, cid, MAILROOM, RETURNED)
    assert out == {"event": "T2 DEFERRAL NOTICE UNDELIVERABLE", "disposition": "DESTROYED", "resent": False}
    ev = _events_of(store, cid, "DEFERRAL NOTICE UNDELIVERABLE")
    assert len(ev) == 1 and (ev[0]["actor"], ev[0]["event_date"]) == ("mo", RETURNED)
    detail = json.loads(ev[0]["detail"])
    assert detail["cite"] == "DI 40502.001J.3.c" and detail["further_delivery_attempts"] is False
    (doc,) = [d for d in case_documents(store, cid) if d["kind"] == "DEFERRAL_NOTICE"]
    assert (doc["disposed_on"], doc["disposition"]) == (RETURNED, "DESTROYED")

    # No further delivery attempt: a second return, and the H.2 resend to a new address, are refused.
    with pytest.raises(review.ReviewError, match="no further delivery attempts"):
        review.notice_undeliverable(store, cid, MAILROOM, RETURNED + dt.timedelta(days=3))
    new = {"address_line": "1 NEW RD", "city": "MACON", "state": "GA", "zip": "31201", "country": "US"}
    with pytest.raises(review.ReviewError, match="not re-sent"):
        review.undeliverable(store, cid, MAILROOM, RETURNED, new_address=new)
    types = event_types(store, cid)
    assert types.count("T2 DEFERRAL NOTICE UNDELIVERABLE") == 1
    assert not any("RESENT" in t or "REMAILED" in t for t in types)
    assert len(_docs(store, cid, "DEFERRAL_NOTICE")) == 1
    assert {k: beneficiary_row(store, ssn)[k] for k in address} == address
    assert case_row(store, cid)["state"] == c.DEFERRED


def test_a_flipped_deferral_has_no_notice_to_return(
        store: Store, tmp_path: Path) -> None:
    cid = _at_de(store, tmp_path, "423460032")
    sample_integrity(store, {cid: True})
    assert review.decide(store, cid, DE, DECIDED, full_cdr=False)["flipped"] is True
    with pytest.raises(review.ReviewError, match="DO_CDR and has no deferral notice"):
        review.notice_undeliverable(store, cid, MAILROOM, RETURNED)


# ---- 5. F.3: PCACS / SSICCS folder data on the alert sheet ---------------------------------------

@pytest.mark.parametrize(("title", "system"), [("T2", "PCACS"), ("T16", "SSICCS")])
def test_alert_sheet_prints_the_sites_folder_data_labelled_by_title(store: Store, tmp_path: Path, title: str,
                                                                    system: str) -> None:
    extra = {"bic_or_id": "DI", "ssi_diary_month": "2026-01"} if title == "T16" else {}
    ssn = "423460041" if title == "T2" else "423460042"
    cid = _at_de(store, tmp_path, ssn, title=title, folder_location="MEGASITE",
                 folder_date_in_location=dt.date(2021, 3, 2), **extra)
    docs = dict(document_payloads(store, cid, DE))
    assert docs["ALERT_SHEET"]["folder"] == {"location": "MEGASITE", "date_in_location": "2021-03-02"}
    page = render("ALERT_SHEET", docs["ALERT_SHEET"])
    assert f"Folder data ({system})" in page and "folder location MEGASITE, in location since March 2, 2021" in page


def test_alert_sheet_says_plainly_when_no_folder_data_was_supplied(store: Store, tmp_path: Path) -> None:
    cid = _at_de(store, tmp_path, "423460043")
    docs = dict(document_payloads(store, cid, DE))
    assert "folder" not in docs["ALERT_SHEET"]
    page = render("ALERT_SHEET", docs["ALERT_SHEET"])
    assert "not supplied: the site gave no PCACS folder location or date in location for this case" in page


def test_folder_data_and_the_qmid_flag_are_stored_and_updated(store: Store) -> None:
    ssn = "423460044"
    ben = make_beneficiary(ssn)
    seed_beneficiaries(store, [ben])
    row = beneficiary_row(store, ssn)
    assert (row["folder_location"], row["folder_date_in_location"], row["qmid_medical_blank"]) == (None, None, None)
    counts = population.load(store, [{**ben, "folder_location": "FO 123",
                                      "folder_date_in_location": dt.date(2025, 1, 2), "qmid_medical_blank": True}])
    assert counts["updated"] == 1
    row = beneficiary_row(store, ssn)
    assert (row["folder_location"], row["folder_date_in_location"], row["qmid_medical_blank"]) == \
        ("FO 123", dt.date(2025, 1, 2), True)


def test_migration_0006_adds_nullable_columns_to_existing_rows(store: Store) -> None:
    """A DCF at 0005 with beneficiaries upgrades to 0006 and reads the new columns as not supplied."""
    owner = owner_engine(store)  # migrations run as the schema owner, not the application role
    cfg = db.alembic_config(owner)
    with owner.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    names = {col["name"] for col in inspect(owner).get_columns("beneficiaries")}
    assert not names & {"folder_location", "folder_date_in_location", "qmid_medical_blank"}
    ben = make_beneficiary("423460045")
    old = {k: v for k, v in ben.items() if k in names}
    with owner.begin() as conn:
        conn.execute(text(f"INSERT INTO beneficiaries ({', '.join(old)}, version, updated_at) "
                          f"VALUES ({', '.join(':' + k for k in old)}, 1, :now)"),
                     {**old, "now": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)})
    assert db.upgrade(owner) == db.head_revision(owner)
    with store.engine.connect() as conn:
        row = conn.execute(select(beneficiaries).where(beneficiaries.c.ssn == "423460045")).mappings().one()
    assert (row["folder_location"], row["folder_date_in_location"], row["qmid_medical_blank"]) == (None, None, None)
    assert row["name"] == ben["name"]
