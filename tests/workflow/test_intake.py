"""WBDOC intake (E) and the DCDRS decision logic (F) over the DCF, on both backends."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from cdrflow.dcf.schema import documents, events
from cdrflow.dcf.store import Store
from cdrflow.workflow import common as c
from cdrflow.workflow.cycle import run_cycle
from cdrflow.workflow.intake import ingest
from cdrflow.workflow.runs import AlreadyIngested

from ..dbfixtures import (
    beneficiary_row,
    case_documents,
    case_events,
    case_id_for,
    case_row,
    count_rows,
    event_types,
    forget_cycles,
    insert_case,
    make_beneficiary,
    returned_mailer,
    seed_beneficiaries,
    write_jsonl,
)

D = dt.date(2026, 1, 5)
RECEIVED = dt.date(2026, 3, 10)
DAY = dt.timedelta(days=1)


def _sent(store: Store, *bens: dict[str, Any]) -> dict[str, str]:
    """Seed beneficiaries and run a selection on D: ssn -> case id of the first mailer."""
    seed_beneficiaries(store, list(bens))
    run_cycle(store, D)
    ids = {b["ssn"]: case_id_for(store, D, b["ssn"]) for b in bens}
    for cid in ids.values():
        assert case_row(store, cid)["state"] == c.SENT
    return ids


def _kinds(store: Store, cid: str) -> list[str]:
    return [d["kind"] for d in case_documents(store, cid)]


# ---- DCDRS outcomes ------------------------------------------------------------------------------

def test_defer_resets_the_diary(store: Store, tmp_path: Path) -> None:
    t2 = make_beneficiary("323450001", diary_month="2025-11")
    t216 = make_beneficiary("323450002", title="T2/16", ssi_diary_month="2025-11", ssr_mr="7")
    ids = _sent(store, t2, t216)
    f = write_jsonl(tmp_path / "r.jsonl", [returned_mailer(ids[t2["ssn"]], t2["ssn"]),
                                           returned_mailer(ids[t216["ssn"]], t216["ssn"], title="T2/16")])
    res = ingest(store, f, RECEIVED)
    assert res.reconciles() and res.rejected == 0 and res.processed == 2
    assert res.counts["end:DEFER"] == 2

    # MDR 7 (MINE): 84 months from the deferral month 2026-03 (diary-reset calc, J.3.b)
    assert beneficiary_row(store, t2["ssn"])["diary_month"] == "2033-03"
    b = beneficiary_row(store, t216["ssn"])
    assert b["diary_month"] == "2033-03"
    assert b["ssi_diary_month"] == b["diary_month"]  # J.3.b NOTE: concurrent SSI diary matches

    for ssn, label in ((t2["ssn"], "T2"), (t216["ssn"], "T2/16")):
        cid = ids[ssn]
        types = event_types(store, cid)
        assert types == [f"{label} INITIAL MAILER SENT", f"{label} MAILER RECEIVED", f"{label} DEFER CDR",
                         f"{label} MEDICAL DIARY RESET"]
        diary = json.loads(case_events(store, cid)[-1]["detail"])
        assert diary["months"] == 84 and diary["diary_type"] == "MINE" and diary["diary_month"] == "2033-03"
        case = case_row(store, cid)
        assert case["state"] == c.DEFERRED and case["outcome"] == "DEFER" and case["closed_on"] == RECEIVED
        assert case["integrity_flipped"] is False
        docs = case_documents(store, cid)
        assert [d["kind"] for d in docs] == ["DEFERRAL_NOTICE"]
        assert json.loads(docs[0]["payload"])["diary"]["diary_month"] == "2033-03"


def test_pc_review_path(store: Store, tmp_path: Path) -> None:
    b = make_beneficiary("323450011")
    ids = _sent(store, b)
    cid = ids[b["ssn"]]
    res = ingest(store, write_jsonl(tmp_path / "r.jsonl", [returned_mailer(cid, b["ssn"], q1a_worked="YES")]),
                 RECEIVED)
    assert res.reconciles() and res.counts["end:PC_REVIEW"] == 1
    assert event_types(store, cid)[-2:] == ["T2 MAILER RECEIVED", "T2 PC MAILER REVIEW"]
    case = case_row(store, cid)
    assert case["state"] == c.PC_REVIEW
    assert case["alert_type"] == "PSC_MAILER" and case["alert_message"] == 4 and case["alert_reviewer"] == "BET/DT"
    assert case["review_stage"] == c.ASSOCIATE
    assert case["actionable"] is True
    assert case["outcome"] is None
    assert sorted(_kinds(store, cid)) == ["ALERT_SHEET", "FACSIMILE", "PROFILE_SHEET"]
    assert beneficiary_row(store, b["ssn"])["diary_month"] == "2026-01"  # nothing decided yet


def test_de_dec_dc_alert_path(store: Store, tmp_path: Path) -> None:
    """F.3.e MISCELLANEOUS alert, message 2: "DE/DEC/DC REVIEW NEEDED" (health BETTER, can work)."""
    b = make_beneficiary("323450012")
    cid = _sent(store, b)[b["ssn"]]
    rec = returned_mailer(cid, b["ssn"], q4_health="BETTER", q3_doctor_work="CAN_WORK")
    res = ingest(store, write_jsonl(tmp_path / "r.jsonl", [rec]), RECEIVED)
    assert res.reconciles() and res.counts["end:PC_REVIEW"] == 1
    case = case_row(store, cid)
    assert case["state"] == c.PC_REVIEW
    assert (case["alert_type"], case["alert_message"], case["alert_reviewer"]) == ("MISCELLANEOUS", 2, "DE/DEC/DC")
    assert case["automated_recommendation"] == "DO_CDR"
    assert case["review_stage"] == c.DE  # nonactionable: folderless, straight to the DE/DEC/DC
    assert sorted(_kinds(store, cid)) == ["ALERT_SHEET", "FACSIMILE", "PROFILE_SHEET"]


def test_unsigned_mailer_goes_to_signature_control(store: Store, tmp_path: Path) -> None:
    b = make_beneficiary("323450021")
    cid = _sent(store, b)[b["ssn"]]
    res = ingest(store, write_jsonl(tmp_path / "r.jsonl", [returned_mailer(cid, b["ssn"], signed=False)]), RECEIVED)
    assert res.reconciles() and res.rejected == 0 and res.counts["end:signature_control"] == 1
    case = case_row(store, cid)
    assert case["state"] == c.SIGNATURE_PENDING
    assert case["outcome"] is None and case["automated_recommendation"] is None
    assert event_types(store, cid) == ["T2 INITIAL MAILER SENT", "T2 SIGNATURE CONTROL"]
    assert _kinds(store, cid) == []
    # the signed mailer comes back later and is decided
    res = ingest(store, write_jsonl(tmp_path / "r2.jsonl", [returned_mailer(cid, b["ssn"])]), RECEIVED + 20 * DAY)
    assert res.reconciles() and res.counts["end:DEFER"] == 1
    assert case_row(store, cid)["state"] == c.DEFERRED


def test_report_of_death_on_title_ii(store: Store, tmp_path: Path) -> None:
    b = make_beneficiary("323450031")
    cid = _sent(store, b)[b["ssn"]]
    rec = returned_mailer(cid, b["ssn"], report_of_death=True, date_of_death="2026-02-01")
    res = ingest(store, write_jsonl(tmp_path / "r.jsonl", [rec]), RECEIVED)
    assert res.reconciles() and res.counts["end:referred_death"] == 1
    assert beneficiary_row(store, b["ssn"])["date_of_death"] == dt.date(2026, 2, 1)
    case = case_row(store, cid)
    assert case["state"] == c.REFERRED and case["closed_on"] == RECEIVED and case["outcome"] is None
    types = event_types(store, cid)
    assert "T2 MBR UPDATE: REPORT OF DEATH" in types and "T2 MAILER REFERRED TO PC" in types
    assert not any("DEFER" in t or "INITIATE" in t for t in types)
    refs = [json.loads(d["payload"]) for d in case_documents(store, cid) if d["kind"] == "WBDOC_REFERRAL"]
    assert [(r["reason"], r["to"]) for r in refs] == [("REPORT_OF_DEATH", "PC")]


def test_title_xvi_address_change_is_referred_to_the_fo_and_still_decided(store: Store, tmp_path: Path) -> None:
    b = make_beneficiary("323450041", title="T16", servicing_pc=3, ssr_mr="7", ssi_diary_month="2026-01")
    cid = _sent(store, b)[b["ssn"]]
    new = {"address_line": "1 NEW RD", "city": "MACON", "state": "GA", "zip": "31201", "country": "US"}
    rec = returned_mailer(cid, b["ssn"], title="T16", address_change=new)
    res = ingest(store, write_jsonl(tmp_path / "r.jsonl", [rec]), RECEIVED)
    assert res.reconciles() and res.rejected == 0
    refs = [json.loads(d["payload"]) for d in case_documents(store, cid) if d["kind"] == "WBDOC_REFERRAL"]
    assert len(refs) == 1 and refs[0]["to"] == "FO" and refs[0]["reason"] == "T16_REPORT"
    assert "MACON" in refs[0]["details"]
    # E.2: Title XVI reports are referred, the MBR (Title II) is not updated
    ben = beneficiary_row(store, b["ssn"])
    assert ben["address_line"] == b["address_line"] and ben["city"] == b["city"]
    case = case_row(store, cid)
    assert case["state"] == c.DEFERRED and case["outcome"] == "DEFER"
    types = event_types(store, cid)
    assert "T16 MAILER REFERRED TO FO" in types and "T16 DEFER CDR" in types
    assert ben["ssi_diary_month"] == ben["diary_month"] == "2033-03"


def test_title_xvi_name_correction_and_address_change_both_referred(store: Store, tmp_path: Path) -> None:
    """E.2: WBDOC refers each Title XVI report (name correction, address change) to the FO."""
    b = make_beneficiary("323450042", title="T16", servicing_pc=3, ssr_mr="7")
    other = make_beneficiary("323450044")
    ids = _sent(store, b, other)
    cid = ids[b["ssn"]]
    new = {"address_line": "1 NEW RD", "city": "MACON", "state": "GA", "zip": "31201", "country": "US"}
    rec = returned_mailer(cid, b["ssn"], title="T16", address_change=new, name_correction="JANE Q PUBLIC")
    res = ingest(store, write_jsonl(tmp_path / "r.jsonl", [returned_mailer(ids[other["ssn"]], other["ssn"]), rec]),
                 RECEIVED)
    assert res.reconciles() and res.rejected == 0 and res.processed == 2
    refs = [json.loads(d["payload"]) for d in case_documents(store, cid) if d["kind"] == "WBDOC_REFERRAL"]
    assert len(refs) == 2 and {r["to"] for r in refs} == {"FO"}
    assert case_row(store, cid)["state"] == c.DEFERRED
    assert case_row(store, ids[other["ssn"]])["state"] == c.DEFERRED


def test_concurrent_report_of_death_and_name_correction(store: Store, tmp_path: Path) -> None:
    """E.2: a concurrent case gets both: the MBR updates and the Title XVI referrals to the FO."""
    b = make_beneficiary("323450045", title="T2/16", ssr_mr="7")
    cid = _sent(store, b)[b["ssn"]]
    rec = returned_mailer(cid, b["ssn"], title="T2/16", report_of_death=True, date_of_death="2026-02-01",
                          name_correction="JANE Q PUBLIC")
    res = ingest(store, write_jsonl(tmp_path / "r.jsonl", [rec]), RECEIVED)
    assert res.reconciles() and res.counts["end:referred_death"] == 1
    ben = beneficiary_row(store, b["ssn"])
    assert ben["date_of_death"] == dt.date(2026, 2, 1) and ben["name"] == "JANE Q PUBLIC"
    refs = [json.loads(d["payload"]) for d in case_documents(store, cid) if d["kind"] == "WBDOC_REFERRAL"]
    assert sorted(r["details"].split(":")[0] for r in refs if r["reason"] == "T16_REPORT") == [
        "name correction reported", "report of death on a Title XVI record"]
    assert case_row(store, cid)["state"] == c.REFERRED


def test_title_ii_address_change_updates_the_mbr(store: Store, tmp_path: Path) -> None:
    b = make_beneficiary("323450043")
    cid = _sent(store, b)[b["ssn"]]
    new = {"address_line": "1 NEW RD", "city": "MACON", "state": "GA", "zip": "31201", "country": "US"}
    res = ingest(store, write_jsonl(tmp_path / "r.jsonl", [returned_mailer(cid, b["ssn"], address_change=new)]),
                 RECEIVED)
    assert res.reconciles()
    ben = beneficiary_row(store, b["ssn"])
    assert (ben["address_line"], ben["city"], ben["zip"]) == ("1 NEW RD", "MACON", "31201")
    assert "T2 MBR UPDATE: ADDRESS CHANGE" in event_types(store, cid)
    assert case_row(store, cid)["state"] == c.DEFERRED


# ---- rejects and idempotency ---------------------------------------------------------------------

def test_bad_records_are_rejected_with_line_and_field(store: Store, tmp_path: Path) -> None:
    good = make_beneficiary("323450051")
    other = make_beneficiary("323450052")
    ids = _sent(store, good, other)
    lines: list[Any] = [
        returned_mailer(ids[good["ssn"]], good["ssn"]),                       # 1 ok
        returned_mailer("M20260105-ZZZZZZZZZZ", "323459998"),                 # 2 unknown mailer
        returned_mailer(ids[other["ssn"]], "323459999"),                      # 3 wrong ssn
        returned_mailer(ids[other["ssn"]], other["ssn"], q4_health="MAYBE"),  # 4 invalid answer
        '{"mailer_id": "M1", "ssn": ',                                        # 5 malformed JSON
        "[1, 2]",                                                             # 6 not an object
        returned_mailer(ids[other["ssn"]], "12345"),                          # 7 ssn not 9 digits
        returned_mailer(ids[other["ssn"]], "900450052"),                      # 8 ssn never issued (§77)
    ]
    res = ingest(store, write_jsonl(tmp_path / "r.jsonl", lines), RECEIVED)
    assert res.read == 8
    assert res.processed == 1 and res.skipped == 0 and res.rejected == 7
    assert res.reconciles()
    by_line = {r.line: r for r in res.rejects}
    assert sorted(by_line) == [2, 3, 4, 5, 6, 7, 8]
    assert by_line[2].field == "mailer_id" and by_line[2].mailer_id == "M20260105-ZZZZZZZZZZ"
    # the reason never repeats an SSN (interpretations §79)
    assert by_line[3].field == "ssn" and "not the SSN the mailer is controlled under" in by_line[3].reason
    assert "323459999" not in by_line[3].reason
    assert by_line[8].field == "ssn" and "never issued" in by_line[8].reason and "900450052" not in by_line[8].reason
    assert not [r for r in res.rejects if "12345" in r.reason or "9004" in r.reason]
    assert by_line[4].field == "q4_health"
    assert by_line[5].field == "(line)" and "JSON" in by_line[5].reason
    assert by_line[6].field == "(line)"
    assert by_line[7].field == "ssn"
    assert case_row(store, ids[other["ssn"]])["state"] == c.SENT  # nothing written for a rejected record
    assert event_types(store, ids[other["ssn"]]) == ["T2 INITIAL MAILER SENT"]


def test_same_file_twice_changes_nothing(store: Store, tmp_path: Path) -> None:
    bens = [make_beneficiary(f"3234501{i:02d}") for i in range(6)]
    ids = _sent(store, *bens)
    recs = [returned_mailer(ids[b["ssn"]], b["ssn"], q1a_worked="YES" if i % 2 else "NO")
            for i, b in enumerate(bens)]
    recs[5] = returned_mailer(ids[bens[5]["ssn"]], bens[5]["ssn"], signed=False)
    f = write_jsonl(tmp_path / "r.jsonl", recs)
    first = ingest(store, f, RECEIVED, chunk_size=4)
    assert first.reconciles() and first.processed == 6 and first.skipped == 0
    n_events, n_docs = count_rows(store, events), count_rows(store, documents)
    versions = {cid: case_row(store, cid)["version"] for cid in ids.values()}
    again = ingest(store, f, RECEIVED, chunk_size=4)
    assert again.reconciles()
    assert again.read == 6 and again.skipped == 6 and again.processed == 0 and again.rejected == 0
    assert count_rows(store, events) == n_events
    assert count_rows(store, documents) == n_docs
    assert {cid: case_row(store, cid)["version"] for cid in ids.values()} == versions


# ---- undeliverables (E.1, H.2) -------------------------------------------------------------------

def _second_request_case(store: Store, ssn: str, sent_on: dt.date) -> str:
    seed_beneficiaries(store, [make_beneficiary(ssn)])
    return insert_case(store, ssn, request="SECOND", sent_on=sent_on)


def _undeliverable_then_held(store: Store, tmp_path: Path, ssn: str, s: dt.date, *, distinct: bool) -> str:
    cid = _second_request_case(store, ssn, s)
    rec1 = {"mailer_id": cid, "ssn": ssn, "undeliverable": True}
    res = ingest(store, write_jsonl(tmp_path / "u1.jsonl", [rec1]), s + 10 * DAY)
    assert res.reconciles() and res.counts["end:undeliverable_remailed"] == 1
    case = case_row(store, cid)
    assert case["remailed"] is True and case["state"] == c.SENT
    assert "T2 UNDELIVERABLE REMAILED" in event_types(store, cid)

    rec2 = {**rec1, "returned_on": str(s + 40 * DAY)} if distinct else dict(rec1)
    second = write_jsonl(tmp_path / "u2.jsonl", [rec2])
    if distinct:
        res = ingest(store, second, s + 40 * DAY)
    else:  # the same bytes as u1.jsonl: another date needs the operator's logged override (§72)
        with pytest.raises(AlreadyIngested, match="as a re-ingest with the reason"):
            ingest(store, second, s + 40 * DAY)
        res = ingest(store, second, s + 40 * DAY, reingest_reason="WBDOC keyed the returned envelope again",
                     operator="tester")
        assert res.override is not None and res.override["reason"] == "WBDOC keyed the returned envelope again"
    assert res.reconciles()
    assert res.counts["end:undeliverable_held"] == 1, res.as_dict()
    case = case_row(store, cid)
    assert case["state"] == c.UNDELIVERABLE
    assert case["last_event"] == "T2 UNDELIVERABLE"
    return cid


def test_second_request_returned_undeliverable_twice_is_held_then_nonresponder(store: Store, tmp_path: Path) -> None:
    s = dt.date(2026, 1, 5)
    cid = _undeliverable_then_held(store, tmp_path, "323450201", s, distinct=True)
    run_cycle(store, s + 149 * DAY)
    assert case_row(store, cid)["state"] == c.UNDELIVERABLE
    assert "T2 NONRESPONDER REVIEW" not in event_types(store, cid)
    forget_cycles(store)
    r = run_cycle(store, s + 150 * DAY)
    assert r.counts["nonresponder"] == 1
    case = case_row(store, cid)
    assert case["state"] == c.NONRESPONDER and case["review_stage"] == c.DIRCON
    assert event_types(store, cid)[-1] == "T2 NONRESPONDER REVIEW"
    assert json.loads(case_events(store, cid)[-1]["detail"])["from"] == c.UNDELIVERABLE


def test_identical_undeliverable_record_returned_again_is_not_skipped(store: Store, tmp_path: Path) -> None:
    """The remailed mailer comes back undeliverable again: WBDOC's record is the same as the first one.

    E.1: a second-request mailer "returned as undeliverable after a re-mailing attempt" is held.
    The second return is a new event (another file, another day), not a re-ingest of the first.
    """
    _undeliverable_then_held(store, tmp_path, "323450202", dt.date(2026, 1, 5), distinct=False)
