"""PC review over the DCF (G, I, J): roles and stages, BET/DT work, DE decision, integrity flips, DIRCON."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from cdrflow.dcf.store import Actor, ConflictError, GuardError, Store
from cdrflow.kernel.errors import Forbidden
from cdrflow.policy.mailer.earnings import REMARK_UNDER_TOLERANCE
from cdrflow.workflow import common as c
from cdrflow.workflow import review
from cdrflow.workflow.cycle import run_cycle
from cdrflow.workflow.intake import ingest
from cdrflow.workflow.integrity import expected_hmac
from cdrflow.workflow.outcomes import NONRESPONDER_REMARK

from ..dbfixtures import (
    assert_denied,
    beneficiary_row,
    case_documents,
    case_events,
    case_id_for,
    case_row,
    event_types,
    insert_case,
    make_beneficiary,
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
RATE = 0.05  # integrity_sample_rate_pc_reviewed in force (G.7; interpretations §27)

FLC = Actor("pat", "FLC")
DSE = Actor("dana", "DSE")
BET = Actor("bob", "BET")
DE = Actor("jsmith", "DE")
DE2 = Actor("akim", "DE")


def staff(store: Store) -> None:
    """The reviewers above as the people table has them: at PC 7 (the test beneficiaries' servicing PC),
    the FLC at PC 3 (an FLC works at PCs 1-6). A bare Actor is resolved by name (cdrflow.authz.principal_of)."""
    person(store, "pat", "FLC", pc=3)
    for a in (DSE, BET, DE, DE2):
        person(store, a.name, a.role, pc=7)


@pytest.fixture(autouse=True)
def _staff(store: Store) -> None:
    staff(store)


def _pc_review_case(store: Store, tmp_path: Path, ssn: str, **answers: Any) -> str:
    staff(store)  # for the modules that borrow these helpers
    seed_beneficiaries(store, [make_beneficiary(ssn)])
    run_cycle(store, D)
    cid = case_id_for(store, D, ssn)
    res = ingest(store, write_jsonl(tmp_path / f"{ssn}.jsonl",
                                    [returned_mailer(cid, ssn, q1a_worked="YES", **answers)]), RECEIVED)
    assert res.reconciles() and res.counts["end:PC_REVIEW"] == 1
    case = case_row(store, cid)
    assert case["alert_type"] == "PSC_MAILER" and case["review_stage"] == c.ASSOCIATE
    return cid


def _at_de(store: Store, tmp_path: Path, ssn: str) -> str:
    cid = _pc_review_case(store, tmp_path, ssn)
    review.associate(store, cid, DSE if case_row(store, cid)["pc"] == 7 else FLC, WORKED)
    review.work(store, cid, BET, WORKED, year=2025, amount=500, period="MONTHLY")
    assert case_row(store, cid)["review_stage"] == c.DE
    return cid


def _all_text(store: Store, cid: str) -> str:
    parts: list[str] = []
    for e in case_events(store, cid):
        parts += [e["event_type"], e["code"] or "", e["detail"] or "", e["policy_version"] or ""]
    for d in case_documents(store, cid):
        parts += [d["kind"], d["payload"], d["disposition"] or ""]
    return "\n".join(parts).upper()


# ---- the PC review path --------------------------------------------------------------------------

def test_review_path_roles_work_and_deferral(store: Store, tmp_path: Path) -> None:
    ssn = "423450001"
    cid = _pc_review_case(store, tmp_path, ssn)
    sample_integrity(store, {cid: False})

    with pytest.raises(Forbidden, match="DE"):  # E.4.b: the DSE (PC-7) or FLC associates
        review.associate(store, cid, DE, WORKED)
    assert_denied(store, DE.name, "mailer.associate", f"case:{cid}")
    with pytest.raises(review.ReviewError):  # and nobody may decide before that
        review.decide(store, cid, DE, WORKED, full_cdr=False)
    assert case_row(store, cid)["review_stage"] == c.ASSOCIATE

    pc7 = case_row(store, cid)["pc"] == 7
    right, wrong = (DSE, FLC) if pc7 else (FLC, DSE)
    with pytest.raises(Forbidden, match=right.role):  # E.4.b: DSE at PC-7, FLC at PCs 1-6
        review.associate(store, cid, wrong, WORKED)
    assert_denied(store, wrong.name, "mailer.associate", f"case:{cid}")
    assert review.associate(store, cid, right, WORKED) == c.BET_DT  # message 4: work activity -> BET/DT
    with pytest.raises(Forbidden):
        review.work(store, cid, DE, WORKED, year=2025, amount=500, period="MONTHLY")
    assert_denied(store, DE.name, "mailer.work", f"case:{cid}")
    detail = review.work(store, cid, BET, WORKED, year=2025, amount=500, period="MONTHLY")
    assert detail["action"] == "UNDER_TOLERANCE"
    assert detail["annotation"] == REMARK_UNDER_TOLERANCE
    assert detail["annotation"].startswith("EARNINGS UNDER TOLERANCE LEVEL")
    case = case_row(store, cid)
    assert case["review_stage"] == c.DE
    work_ev = case_events(store, cid)[-1]
    assert work_ev["event_type"] == "T2 BET/DT WORK REVIEW" and work_ev["actor"] == "bob"
    assert json.loads(work_ev["detail"])["annotation"] == REMARK_UNDER_TOLERANCE

    with pytest.raises(Forbidden):
        review.decide(store, cid, BET, DECIDED, full_cdr=False)
    assert_denied(store, BET.name, "mailer.decide", f"case:{cid}")
    out = review.decide(store, cid, DE, DECIDED, full_cdr=False)
    assert out["outcome"] == "DEFER" and out["ipca_event"] == 4 and not out["integrity"]["selected"]
    evs = case_events(store, cid)
    deferral = [e for e in evs if e["event_type"] == "T2 DEFER CDR"]
    assert len(deferral) == 1
    assert deferral[0]["code"] == "IPCA 4" and deferral[0]["actor"] == "jsmith" and deferral[0]["actor_role"] == "DE"
    assert evs[-1]["event_type"] == "T2 MEDICAL DIARY RESET"
    assert not any(e["event_type"].endswith("INITIATE CDR") for e in evs)
    case = case_row(store, cid)
    assert case["state"] == c.DEFERRED and case["outcome"] == "DEFER" and case["ipca_event"] == 4
    assert case["integrity_flipped"] is False and case["integrity_selected"] is False
    assert beneficiary_row(store, ssn)["diary_month"] == "2033-04"
    assert "DEFERRAL_NOTICE" in [d["kind"] for d in case_documents(store, cid)]


def test_dse_associates_too(store: Store, tmp_path: Path) -> None:
    cid = _pc_review_case(store, tmp_path, "423450002")
    assert review.associate(store, cid, DSE, WORKED) == c.BET_DT
    assert event_types(store, cid)[-1] == "T2 ACTUAL MAILER ASSOCIATED"


def test_de_full_cdr_is_initiate_cdr(store: Store, tmp_path: Path) -> None:
    cid = _at_de(store, tmp_path, "423450003")
    sample_integrity(store, {cid: False})
    out = review.decide(store, cid, DE, DECIDED, full_cdr=True, vr_requested=True)
    assert out["outcome"] == "DO_CDR" and out["ipca_event"] == 3
    ev = case_events(store, cid)[-1]
    assert ev["event_type"] == "T2 INITIATE CDR-VR REQUESTED" and ev["code"] == "IPCA 3"
    case = case_row(store, cid)
    assert case["state"] == c.DO_CDR and case["outcome"] == "DO_CDR" and case["integrity_flipped"] is False
    assert {"FO_REFERRAL", "SSA_5526"} <= {d["kind"] for d in case_documents(store, cid)}


# ---- integrity sampling (G.7) --------------------------------------------------------------------

def test_integrity_sampled_deferral_is_flipped_and_stays_flipped(store: Store, tmp_path: Path) -> None:
    ssn = "423450011"
    cid = _at_de(store, tmp_path, ssn)
    key = sample_integrity(store, {cid: True})[2026]  # FY 2026: the case was selected on 2026-01-05
    diary_before = beneficiary_row(store, ssn)["diary_month"]

    out = review.decide(store, cid, DE, DECIDED, full_cdr=False)
    assert out["flipped"] is True and out["outcome"] == "DO_CDR" and out["ipca_event"] == 4
    evs = case_events(store, cid)
    types = [e["event_type"] for e in evs]
    i_defer = types.index("T2 DEFER CDR")
    i_flip = types.index("T2 INITIATE CDR")
    assert i_defer < i_flip
    defer_ev, flip_ev = evs[i_defer], evs[i_flip]
    assert (defer_ev["actor"], defer_ev["actor_role"], defer_ev["code"]) == ("jsmith", "DE", "IPCA 4")
    assert (flip_ev["actor"], flip_ev["code"]) == ("integrity-sampler", "IPCA 2")
    sample = json.loads(defer_ev["detail"])["integrity"]
    assert sample["selected"] is True and sample["key_year"] == 2026 and sample["rate"] == RATE
    assert sample["hmac"] == expected_hmac(key, cid).hex() and "key" not in sample
    assert json.loads(flip_ev["detail"])["reason"] == "INTEGRITY SAMPLE"

    case = case_row(store, cid)
    assert case["state"] == c.DO_CDR and case["outcome"] == "DO_CDR"
    assert case["integrity_flipped"] is True and case["integrity_selected"] is True
    kinds = [d["kind"] for d in case_documents(store, cid)]
    assert "FO_REFERRAL" in kinds and "DEFERRAL_NOTICE" not in kinds
    assert beneficiary_row(store, ssn)["diary_month"] == diary_before  # the deferral did not stand
    assert "T2 MEDICAL DIARY RESET" not in types

    # nothing turns it back into a deferral
    with pytest.raises(review.ReviewError):
        review.decide(store, cid, DE, DECIDED + dt.timedelta(days=1), full_cdr=False)
    with pytest.raises(review.ReviewError):
        review.decide(store, cid, DE2, DECIDED + dt.timedelta(days=1), full_cdr=False,
                      expected_version=case["version"])
    with pytest.raises(GuardError), store.tx() as tx:
        tx.update_case(cid, case["version"], outcome="DEFER", state="DEFERRED")
    for sql in ("UPDATE cases SET outcome = 'DEFER', state = 'DEFERRED' WHERE case_id = :c",
                "DELETE FROM cases WHERE case_id = :c"):
        with pytest.raises(DBAPIError), store.engine.begin() as conn:
            conn.execute(text(sql), {"c": cid})
    with pytest.raises(DBAPIError), store.engine.begin() as conn:
        conn.execute(text("UPDATE cases SET integrity_flipped = :f WHERE case_id = :c"), {"f": False, "c": cid})
    assert case_row(store, cid) == case


def test_sampled_do_cdr_stays_do_cdr(store: Store, tmp_path: Path) -> None:
    cid = _at_de(store, tmp_path, "423450012")
    sample_integrity(store, {cid: True})
    out = review.decide(store, cid, DE, DECIDED, full_cdr=True)
    assert out["outcome"] == "DO_CDR" and "flipped" not in out
    case = case_row(store, cid)
    assert case["integrity_selected"] is True and case["integrity_flipped"] is False
    assert [e["actor"] for e in case_events(store, cid) if "INITIATE" in e["event_type"]] == ["jsmith"]


# ---- nonresponders (I) ---------------------------------------------------------------------------

def _nonresponder(store: Store, ssn: str) -> str:
    seed_beneficiaries(store, [make_beneficiary(ssn)])
    cid = insert_case(store, ssn, request="SECOND", sent_on=D)
    run_cycle(store, D + dt.timedelta(days=151))
    case = case_row(store, cid)
    assert case["state"] == c.NONRESPONDER and case["review_stage"] == c.DIRCON
    return cid


def test_nonresponder_dircon_unanswered_goes_to_do_cdr(store: Store) -> None:
    cid = _nonresponder(store, "423450021")
    on = D + dt.timedelta(days=160)
    assert review.dircon(store, cid, BET, on, result="BUSY")["outcome"] == "ATTEMPT_AGAIN"
    out = review.dircon(store, cid, BET, on, result="NO_ANSWER")
    assert out == {"outcome": "ATTEMPT_AGAIN", "counted_attempts": 1}
    out = review.dircon(store, cid, BET, on + dt.timedelta(days=1), result="NO_ANSWER")
    assert out == {"outcome": "DO_CDR", "counted_attempts": 2}
    case = case_row(store, cid)
    assert case["state"] == c.DO_CDR and case["outcome"] == "DO_CDR" and case["review_stage"] is None
    initiate = [e for e in case_events(store, cid) if e["event_type"] == "T2 INITIATE CDR"]
    assert len(initiate) == 1 and initiate[0]["code"] == "IPCA 2"
    d = json.loads(initiate[0]["detail"])
    assert d["remarks"] == NONRESPONDER_REMARK and d["remarks_flag"] == "Y" and d["transfer_case_office"] == "A12"
    fo = [json.loads(x["payload"]) for x in case_documents(store, cid) if x["kind"] == "FO_REFERRAL"]
    assert len(fo) == 1 and fo[0]["remarks"] == NONRESPONDER_REMARK and fo[0]["doors"] == "A12"
    assert "NON-RESPONDER" in fo[0]["remarks"] and "DI 13005.000" in fo[0]["remarks"]
    everything = _all_text(store, cid)
    assert "WHEREABOUTS" not in everything
    assert "FAILURE TO COOPERATE" not in everything
    assert event_types(store, cid).count("T2 DIRCON ATTEMPT") == 3


def test_nonresponder_reached_goes_to_the_de(store: Store) -> None:
    cid = _nonresponder(store, "423450022")
    on = D + dt.timedelta(days=160)
    with pytest.raises(Forbidden):
        review.dircon(store, cid, FLC, on, result="REACHED")  # FLC is not a DIRCON role
    assert_denied(store, FLC.name, "mailer.dircon", f"case:{cid}")
    out = review.dircon(store, cid, BET, on, result="REACHED")
    assert out["outcome"] == "PROCESS_MAILER"
    case = case_row(store, cid)
    assert case["state"] == c.NONRESPONDER and case["review_stage"] == c.DE
    sample_integrity(store, {cid: False})
    assert review.decide(store, cid, DE, on, full_cdr=False)["outcome"] == "DEFER"
    assert case_row(store, cid)["state"] == c.DEFERRED


# ---- two reviewers -------------------------------------------------------------------------------

def test_two_reviewers_same_version_one_wins(store: Store, tmp_path: Path) -> None:
    cid = _at_de(store, tmp_path, "423450031")
    sample_integrity(store, {cid: False})
    v = case_row(store, cid)["version"]
    first = review.decide(store, cid, DE, DECIDED, full_cdr=False, expected_version=v)
    assert first["outcome"] == "DEFER"
    with pytest.raises(ConflictError, match=cid):
        review.decide(store, cid, DE2, DECIDED, full_cdr=True, expected_version=v)
    case = case_row(store, cid)
    assert case["outcome"] == "DEFER" and case["version"] == v + 1
    assert [e["actor"] for e in case_events(store, cid) if e["event_type"] == "T2 DEFER CDR"] == ["jsmith"]
    assert not any("INITIATE" in t for t in event_types(store, cid))


@pytest.mark.parametrize("second_full_cdr", [True, False], ids=["defer-vs-cdr", "both-defer"])
def test_two_reviewers_racing_one_wins_the_other_conflicts(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, second_full_cdr: bool) -> None:
    """Both read the case at the same version before either writes: one decision stands, the other
    reviewer gets ConflictError (store.py: "two reviewers acting on one case — one wins, the other
    gets ConflictError")."""
    cid = _at_de(store, tmp_path, "423450032")
    sample_integrity(store, {cid: False})
    v = case_row(store, cid)["version"]
    barrier = threading.Barrier(2, timeout=20)
    real_draw = review.draw

    def draw_after_both_read(tx: Any, case: Any) -> Any:
        barrier.wait()  # both transactions have loaded the case at version v
        return real_draw(tx, case)

    monkeypatch.setattr(review, "draw", draw_after_both_read)
    outcomes: dict[str, Any] = {}

    def reviewer(actor: Actor, full_cdr: bool) -> None:
        try:
            outcomes[actor.name] = review.decide(store, cid, actor, DECIDED, full_cdr=full_cdr, expected_version=v)
        except Exception as exc:
            outcomes[actor.name] = exc

    threads = [threading.Thread(target=reviewer, args=(DE, False)),
               threading.Thread(target=reviewer, args=(DE2, second_full_cdr))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    errors = {k: v for k, v in outcomes.items() if isinstance(v, Exception)}
    wins = {k: v for k, v in outcomes.items() if not isinstance(v, Exception)}
    assert len(wins) == 1 and len(errors) == 1, outcomes
    (err,) = errors.values()
    assert isinstance(err, ConflictError), f"{type(err).__module__}.{type(err).__name__}: {err}"
    case = case_row(store, cid)
    assert case["version"] == v + 1
    assert case["outcome"] == next(iter(wins.values()))["outcome"]
