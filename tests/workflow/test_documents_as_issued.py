"""Documents are what was issued (issue 13 item 7; docs/interpretations.md#documents-as-issued).

A notice, alert sheet, facsimile, profile sheet or referral is frozen in the transaction of the decision
that issues it: rendered later, after the beneficiary's address or name changed through a population import
and the parameters it shows changed, it is byte for byte the document rendered when it was issued. A
document stored before documents were frozen is shown as what was stored, never completed from today's DCF.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cdrflow.dcf.store import Store
from cdrflow.documents import NOT_FROZEN, render_bundle
from cdrflow.policy.mailer import source
from cdrflow.workflow import population, review
from cdrflow.workflow.cycle import run_cycle
from cdrflow.workflow.history import stored_document
from cdrflow.workflow.intake import ingest

from ..dbfixtures import (
    beneficiary_row,
    case_documents,
    case_id_for,
    insert_case,
    make_beneficiary,
    returned_mailer,
    seed_beneficiaries,
    staff_for,
    write_jsonl,
)

D = dt.date(2026, 1, 5)
RECEIVED = dt.date(2026, 3, 10)
DEFERRED, REVIEWED, REFERRED = "423470001", "423470002", "423470003"
LENGTHY = " ".join(["pain"] * 31)  # over the 30 words in force when issued; short under the what-if below


def _packet(store: Store, cid: str) -> str:
    """What `cdrflow documents CASE` writes: every stored document of the case, rendered from its payload."""
    return render_bundle(f"Case {cid}", [stored_document(d) for d in case_documents(store, cid)])


def _payloads(store: Store, cid: str) -> dict[str, dict[str, Any]]:
    return {d["kind"]: json.loads(d["payload"]) for d in case_documents(store, cid)}


@pytest.fixture
def issued(store: Store, tmp_path: Path) -> dict[str, str]:
    """Documents intake issued on RECEIVED: a DCDRS deferral notice; an alert sheet, facsimile and profile
    sheet (PC review); a WBDOC referral (name change). Returns each SSN's case id."""
    bens = [make_beneficiary(DEFERRED),
            make_beneficiary(REVIEWED, folder_location="MEGASITE", folder_date_in_location=dt.date(2021, 3, 2)),
            make_beneficiary(REFERRED)]
    seed_beneficiaries(store, bens)
    run_cycle(store, D)
    cids = {b["ssn"]: case_id_for(store, D, b["ssn"]) for b in bens}
    recs = [returned_mailer(cids[DEFERRED], DEFERRED),
            returned_mailer(cids[REVIEWED], REVIEWED, q4_health="BETTER", q3_doctor_work="CAN_WORK",
                            remarks={"text": LENGTHY, "relevant": True, "subject": "MEDICAL"}),
            returned_mailer(cids[REFERRED], REFERRED, name_change="TEST PERSON RENAMED")]
    res = ingest(store, write_jsonl(tmp_path / "returns.jsonl", recs), RECEIVED)
    assert res.reconciles() and res.rejected == 0, res.as_dict()
    assert (res.counts["end:DEFER"], res.counts["end:PC_REVIEW"], res.counts["end:referred_name_change"]) == (1, 1, 1)
    return cids


@pytest.fixture
def other_alert_texts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Alert message texts that are not the ones the alert was issued with."""
    texts = {kind: {**spec, "messages": {n: f"REWORDED {n}" for n in spec["messages"]}}
             for kind, spec in source.alert_messages().items()}
    monkeypatch.setattr(source, "alert_messages", lambda: texts)
    yield


def test_a_document_rendered_later_is_the_document_issued(store: Store, issued: dict[str, str],
                                                          other_alert_texts: None) -> None:
    before = {ssn: _packet(store, cid) for ssn, cid in issued.items()}
    stored = {ssn: _payloads(store, cid) for ssn, cid in issued.items()}

    # Since then the beneficiaries moved, one was renamed and the site moved the folder (the normal population
    # import, each change a BENEFICIARY DATA CHANGED event), and the parameters the documents show changed.
    rows = [make_beneficiary(ssn, address_line="77 NEW ADDRESS RD", city="MACON", zip="31201", profile="H",
                             name="TEST PERSON MOVED" if ssn == REFERRED else f"TEST PERSON {ssn[-4:]}",
                             folder_location="FRC KANSAS CITY" if ssn == REVIEWED else None,
                             folder_date_in_location=dt.date(2026, 3, 1) if ssn == REVIEWED else None)
            for ssn in issued]
    assert population.load(store, rows, on=dt.date(2026, 6, 1))["updated"] == 3
    assert beneficiary_row(store, DEFERRED)["address_line"] == "77 NEW ADDRESS RD"
    with source.what_if({"remark_short_limit": {"words": 100, "characters": 1000}, "dircon_attempts": 5}):
        after = {ssn: _packet(store, cid) for ssn, cid in issued.items()}

    assert after == before  # byte for byte
    assert {ssn: _payloads(store, cid) for ssn, cid in issued.items()} == stored

    # ... and they show what was issued: the address, name, folder and limit of RECEIVED, not today's.
    notice = after[DEFERRED]
    assert "100 PEACHTREE ST" in notice and "77 NEW ADDRESS RD" not in notice and "MACON" not in notice
    assert "Issued March 10, 2026 under policy version:" in notice
    review = after[REVIEWED]
    assert "folder location MEGASITE, in location since March 2, 2021" in review and "KANSAS" not in review
    assert "lengthy remarks — see actual mailer" in review and "over 30 words or 200 characters" in review
    assert "remark_short_limit = {&#34;characters&#34;: 200, &#34;words&#34;: 30} (in force from 2008-10-01)" in review
    assert "REWORDED" not in review
    assert 'data-profile="L">Low</span>' in review  # the profile sheet printed Low; the DCF says High now
    referral = after[REFERRED]
    assert "TEST PERSON 0003" in referral and "TEST PERSON MOVED" not in referral
    assert "100 PEACHTREE ST, ATLANTA, GA 30303 US" in referral


def test_each_document_carries_what_it_was_issued_with(store: Store, issued: dict[str, str]) -> None:
    """The payload holds the beneficiary and case as they were, the decision's policy version and the
    parameters the document shows with their effective dates, all written with the decision."""
    review = _payloads(store, issued[REVIEWED])
    assert sorted(review) == ["ALERT_SHEET", "FACSIMILE", "PROFILE_SHEET"]
    for kind, p in review.items():
        assert p["issued"]["on"] == "2026-03-10", kind
        assert p["issued"]["policy_version"]["source"] == source.SOURCE
        assert any(k.startswith("table:") for k in p["issued"]["policy_version"]), kind  # the decision's tables
        assert p["beneficiary"]["address_line"] == "100 PEACHTREE ST" and p["case"]["state"] == "PC_REVIEW"
        assert "version" not in p["beneficiary"] and "integrity_flipped" not in p["case"]
    alert = review["ALERT_SHEET"]
    assert alert["decision"]["alert"]["text"].startswith("DE/DEC/DC REVIEW NEEDED")
    assert alert["folder"] == {"location": "MEGASITE", "date_in_location": "2021-03-02"}
    assert alert["jurisdiction"]["pc"] == 7
    fax = review["FACSIMILE"]
    assert fax["mailer"]["remarks"]["text"] == LENGTHY and len(fax["scanlines"]) == 3
    assert fax["issued"]["parameters"] == {"remark_short_limit": {"value": {"words": 30, "characters": 200},
                                                                  "effective": "2008-10-01"}}
    (notice,) = _payloads(store, issued[DEFERRED]).values()
    assert notice["diary"]["diary_month"] > "2026-03"
    assert any(k.startswith("param:diary") or k.startswith("table:") for k in notice["issued"]["policy_version"])
    (referral,) = _payloads(store, issued[REFERRED]).values()
    assert referral["reason"] == "NAME_CHANGE" and referral["beneficiary"]["name"] == "TEST PERSON 0003"


def test_a_document_stored_before_documents_were_frozen_is_never_completed_from_today(
        store: Store, issued: dict[str, str]) -> None:
    cid = issued[DEFERRED]
    with store.tx() as tx:  # a deferral notice as cdrflow stored it before this change: date and diary only
        tx.add_documents([{"case_id": cid, "ssn": DEFERRED, "kind": "DEFERRAL_NOTICE", "created_on": RECEIVED,
                           "payload": {"date": "2026-03-10", "diary": {"diary_month": "2033-03", "diary_type": "MINE",
                                                                        "months": 84, "ssi_diary_month": None}},
                           "idem_key": f"test:legacy:{cid}"}])
    kind, payload = stored_document(case_documents(store, cid)[-1])
    assert kind == "DEFERRAL_NOTICE" and set(payload) == {NOT_FROZEN}
    page = render_bundle("legacy", [(kind, payload)])
    assert "Stored on March 10, 2026" in page and "not recorded when issued" in page
    assert "2033-03" in page
    assert "PEACHTREE" not in page and "TEST PERSON" not in page and "Dear" not in page


def test_a_dircon_record_and_fo_referral_reprint_as_issued(store: Store) -> None:
    """Review commands issue documents the same way: a nonresponder's DIRCON records (with the number of
    attempts in force) and, after the second unanswered call, the FO referral and SSA-5526 (I, J.4)."""
    ssn = "423470011"
    seed_beneficiaries(store, [make_beneficiary(ssn)])
    cid = insert_case(store, ssn, request="SECOND", sent_on=dt.date(2025, 9, 1), state="NONRESPONDER",
                      review_stage="DIRCON")
    bet = staff_for(store, "BET", cid)
    assert review.dircon(store, cid, bet, dt.date(2026, 2, 2), result="NO_ANSWER")["outcome"] == "ATTEMPT_AGAIN"
    assert review.dircon(store, cid, bet, dt.date(2026, 2, 3), result="NO_ANSWER")["outcome"] == "DO_CDR"
    kinds = [d["kind"] for d in case_documents(store, cid)]
    assert kinds == ["DIRCON_RECORD", "DIRCON_RECORD", "FO_REFERRAL", "SSA_5526"]
    # The second record lists each attempt as it was made: its own date and who called (SSA-5002).
    second = json.loads(case_documents(store, cid)[1]["payload"])["attempts"]
    assert [(a["date"], a["by"]) for a in second] == [("2026-02-02", str(bet)), ("2026-02-03", str(bet))]
    before = _packet(store, cid)

    population.load(store, [make_beneficiary(ssn, address_line="77 NEW ADDRESS RD", fo_doors="B99",
                                             fo_city="MACON", phone="478-555-0199")], on=dt.date(2026, 6, 1))
    with source.what_if({"dircon_attempts": 5}):
        after = _packet(store, cid)
    assert after == before
    assert "attempt 2 of 2" in after and "Make 2 DIRCON attempts" in after and "of 5" not in after
    assert "404-555-0100" in after and "478-555-0199" not in after
    assert "A12" in after and "B99" not in after and "MACON" not in after
