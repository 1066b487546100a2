"""PC review (DI 40502.001G, H, I, J): the reviewer's commands, each one transaction.

Every command names the acting user and role (``Actor``), checks that the role may act at the case's
stage, reads the case, writes its events and the case change at the version it read. A second
reviewer acting on the same case at the same time gets :class:`ConflictError`.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from cdrflow import authz
from cdrflow.authz import Resource
from cdrflow.dcf.limits import column_problems
from cdrflow.dcf.schema import beneficiaries, cases, documents, events
from cdrflow.dcf.store import INTEGRITY, Actor, ConflictError, Store, StoreError, Tx, _guard, now
from cdrflow.engine.calc import validation_to_input_error
from cdrflow.engine.errors import InputError
from cdrflow.kernel.errors import InvalidState
from cdrflow.policy.mailer.dircon import DirconInput, dircon_outcome
from cdrflow.policy.mailer.earnings import EarningsToleranceInput, earnings_tolerance
from cdrflow.policy.mailer.profile import WORD_OF, ReviewerProfileInput, reviewer_profile
from cdrflow.policy.mailer.review import ReviewerGuideInput, reviewer_guide

from . import common as c
from .intake import Address
from .integrity import draw
from .outcomes import DO_CDR_REMARK, NONRESPONDER_REMARK, Effects, defer, do_cdr

UNRESOLVED_EARNINGS_REMARK = (
    "INVESTIGATE EARNINGS: THE BET/DT DID NOT RESOLVE UNKNOWN EARNINGS BECAUSE THE REPORTED EARNINGS DID NOT "
    "EXCEED 1/2 OF THE YEARLY SGA"
)
"""J.4.a step 5: "When appropriate, identify the need to investigate earnings if the BET/DT did not resolve
unknown earnings because the reported earnings did not exceed 1/2 of the yearly SGA"."""


def _under_tolerance(tx: Tx, case: dict[str, Any]) -> bool:
    rows = tx.conn.execute(select(events.c.detail).where(
        events.c.case_id == case["case_id"], events.c.event_type == c.label(case["title"], "BET/DT WORK REVIEW")))
    return any(r[0] and json.loads(r[0]).get("action") == "UNDER_TOLERANCE" for r in rows)


class ReviewError(StoreError, InvalidState):
    """The command does not apply to the case as it is (wrong state or stage). Who may act is
    :mod:`cdrflow.authz`'s answer, a :class:`~cdrflow.kernel.errors.Forbidden`."""


def _resource(case: dict[str, Any]) -> Resource:
    return Resource("case", case["case_id"], pc=case["pc"], stage=case["review_stage"])


def _load(tx: Tx, case_id: str, actor: Actor, stages: tuple[str, ...], states: tuple[str, ...] = (c.PC_REVIEW,),
          expected_version: int | None = None, *, action: str) -> dict[str, Any]:
    """The case, once ``actor`` may take ``action`` on it (authz, logged) and it is in a state and stage for it."""
    case = tx.require_case(case_id)
    authz.require(tx, actor, action, _resource(case))
    if expected_version is not None and case["version"] != expected_version:
        raise ConflictError(f"case {case_id} is at version {case['version']}, you read version {expected_version}; "
                            "someone acted on it since. Reload the case and try again.")
    if case["state"] not in states:
        raise ReviewError(f"case {case_id} is {case['state']}; this command needs {' or '.join(states)}")
    if stages and case["review_stage"] not in stages:
        raise ReviewError(f"case {case_id} is at review stage {case['review_stage']}; this command is for "
                          f"{' or '.join(stages)}")
    return case


def _apply(tx: Tx, case: dict[str, Any], fx: Effects) -> int:
    # The case update comes first: it is the version check, so a second reviewer who read the same
    # version gets ConflictError here (after the first one commits) before any event is written.
    version = tx.update_case(case["case_id"], case["version"], **fx.case)
    tx.append(fx.events)
    tx.add_documents(fx.documents)
    if fx.beneficiary:
        tx.update_beneficiary(case["ssn"], **fx.beneficiary)
    return version


def _key(case: dict[str, Any], what: str) -> str:
    return f"rv:{case['case_id']}:{case['version']}:{what}"


def _simple(tx: Tx, case: dict[str, Any], actor: Actor, on: dt.date, what: str, detail: dict[str, Any],
            changes: dict[str, Any], code: str | None = None) -> int:
    fx = Effects(events=[c.event(ssn=case["ssn"], case_id=case["case_id"], event_date=on,
                               event_type=c.label(case["title"], what), actor=actor, code=code, detail=detail,
                               idem_key=_key(case, what))],
                 case=changes)
    return _apply(tx, case, fx)


def associate(store: Store, case_id: str, actor: Actor, on: dt.date, *, expected_version: int | None = None) -> str:
    """E.4.b / G.4.a: the DSE (PC-7) or FLC (PCs 1-6) associates the actual mailer with the alert output."""
    with store.tx() as tx:
        case = _load(tx, case_id, actor, (c.ASSOCIATE,), expected_version=expected_version, action="mailer.associate")
        nxt = c.stage_after_association(case["alert_message"], case["alert_reviewer"])
        _simple(tx, case, actor, on, "ACTUAL MAILER ASSOCIATED", {"next_stage": nxt}, {"review_stage": nxt})
        return nxt


def translation(store: Store, case_id: str, actor: Actor, on: dt.date, *, done: bool,
                work_reported: bool = False, expected_version: int | None = None) -> str:
    """G.4.a / G.5: the BET/DT refers the holder to a translator; after translation, work goes to BET/DT first."""
    with store.tx() as tx:
        case = _load(tx, case_id, actor, (c.TRANSLATION,), expected_version=expected_version,
                     action="mailer.translation")
        if not done:
            _simple(tx, case, actor, on, "TRANSLATION REFERRAL", {"cite": "DI 40502.001G.4.a"}, {})
            return c.TRANSLATION
        nxt = c.BET_DT if work_reported else c.DE
        _simple(tx, case, actor, on, "TRANSLATION COMPLETED", {"work_reported": work_reported, "next_stage": nxt,
                                                               "cite": "DI 40502.001G.5"}, {"review_stage": nxt})
        return nxt


def work(store: Store, case_id: str, actor: Actor, on: dt.date, *, year: int, amount: float,
         period: Literal["WEEKLY", "MONTHLY", "ANNUAL"], posted: bool = False, earnings_known: bool | None = None,
         folder: bool = False, resolved: bool = False, expected_version: int | None = None) -> dict[str, Any]:
    """J.2.c: the BET/DT develops reported work with the earnings-tolerance calc; annotations, the SSA-559 to the
    DE/DEC/DC, and the IRMK message. ``folder``/``resolved``: Title II Actions with Folder ("WORK RESOLVED")."""
    with store.tx() as tx:
        case = _load(tx, case_id, actor, (c.BET_DT,), expected_version=expected_version, action="mailer.work")
        out = earnings_tolerance(EarningsToleranceInput(title=case["title"], year=year, amount=amount, period=period,
                                                        posted=posted, earnings_known=earnings_known, folder=folder,
                                                        resolved=resolved))
        detail = {"input": {"year": year, "amount": amount, "period": period, "posted": posted,
                            "earnings_known": earnings_known, "folder": folder, "resolved": resolved},
                  "action": out.action, "annotation": out.remark, "tolerance": out.tolerance,
                  "next_steps": out.next_steps, "ssa_559": out.ssa_559, "rules": [s.rule for s in out.trace]}
        if out.action == "DEVELOP_WORK":
            detail["irmk_special_message"] = out.remark
        fx = Effects(events=[c.event(ssn=case["ssn"], case_id=case["case_id"], event_date=on,
                                   event_type=c.label(case["title"], "BET/DT WORK REVIEW"), actor=actor,
                                   policy_version=c.pv_text(out.policy_version), detail=detail,
                                   idem_key=_key(case, "work"))],
                     case={"review_stage": c.DE})
        if out.ssa_559:
            # J.2.c: "prepare an SSA-559 referring the case to the DE/DEC/DC"; the under-tolerance remark is entered
            # on the SSA-559 itself, the other annotations on the mailer (holder/paperless ACR).
            under = out.action == "UNDER_TOLERANCE"
            ben = tx.beneficiary(case["ssn"])
            assert ben is not None
            fx.doc(case, ben, "SSA_559", on, {"date": str(on), "action": out.action, "folder": folder,
                                              "annotation": None if under else out.remark,
                                              "remark": out.remark if under else None, "referred_by": str(actor)},
                   _key(case, "work"), versions=(out.policy_version,))
        # REFER_UNKNOWN_EARNINGS_TO_FO: the referral is the photocopy the BET/DT sends the FO (J.2.c); the event
        # records it with the IRMK annotation.
        _apply(tx, case, fx)
        return detail


def profile_for_review(record: dict[str, Any], ben: dict[str, Any], sheet_profile: str | None) -> dict[str, Any]:
    """J.2.d: the profile code the DE/DEC/DC uses, by the ``reviewer-profile`` calc.

    The mailer or facsimile code is field 3 of scanline 2 of the received SSA-455-OCR-SM (a hard paper SSA-455
    has none); ``sheet_profile`` is the profile the case's profile sheet printed when it was issued (G.3; None
    without a sheet, or a sheet stored before documents were frozen at issue, which recorded none); a DCF
    query gives the beneficiary's profile now (docs/interpretations.md#profile-source).
    """
    hard_paper = record.get("form") == "SSA-455"
    out = reviewer_profile(ReviewerProfileInput(
        mailer_code=None if hard_paper else record.get("profile"),
        profile_sheet=WORD_OF[sheet_profile] if sheet_profile else None,
        dcf_code=ben["profile"], hard_paper=hard_paper))
    return {"profile": out.profile, "word": out.word, "source": out.source, "conflict": out.conflict,
            "disagreements": out.disagreements, "rules": [s.rule for s in out.trace]}


def guide(store: Store, case_id: str, actor: Actor) -> dict[str, Any]:
    """The reviewer guide's recommendation (J.2.d) for the mailer as received, with the BET/DT annotation and the
    profile code J.2.d says to use."""
    with store.read() as tx:
        case = tx.require_case(case_id)
        authz.require(tx, actor, "mailer.guide", _resource(case))
        ben = tx.beneficiary(case["ssn"])
        assert ben is not None
        rows = tx.conn.execute(select(events.c.event_type, events.c.detail).where(events.c.case_id == case_id)
                               .order_by(events.c.event_id)).all()
        sheet = tx.conn.execute(select(documents.c.payload).where(
            documents.c.case_id == case_id, documents.c.kind == "PROFILE_SHEET")
            .order_by(documents.c.doc_id.desc()).limit(1)).scalar()
    record: dict[str, Any] = {}
    annotation = None
    for r in rows:
        if r.event_type.endswith("MAILER RECEIVED") and r.detail:
            record = json.loads(r.detail)["record"]
        if r.event_type.endswith("BET/DT WORK REVIEW") and r.detail:
            annotation = json.loads(r.detail)["annotation"]
    # The profile sheet's word is the one it printed when issued (interpretations §80), not today's profile.
    sheet_profile = (json.loads(sheet).get("beneficiary") or {}).get("profile") if sheet else None
    try:
        profile = profile_for_review(record, ben, sheet_profile)
    except InputError as exc:
        return {"recommended_action": None, "profile": None, "error": str(exc)}
    fields = ("q1a_worked", "q2_school", "q3_doctor_work", "q4_health", "q5_doctor_visits", "q6_hospitalized",
              "impairment_codes")
    inp: dict[str, Any] = {"profile": profile["profile"], **{k: record[k] for k in fields if k in record}}
    if annotation:
        inp["bet_dt_annotation"] = annotation
    try:
        out = reviewer_guide(ReviewerGuideInput.model_validate(inp))
    except Exception as exc:  # the guide needs the answers; a case without a received mailer has none
        return {"recommended_action": None, "profile": profile, "error": str(exc)}
    return {"recommended_action": out.recommended_action, "return_to_bet_dt": out.return_to_bet_dt,
            "dircon_prompts": out.dircon_prompts, "steps": [s.model_dump() for s in out.steps],
            "trace": [s.model_dump() for s in out.trace], "bet_dt_annotation": annotation, "profile": profile}


def decide(store: Store, case_id: str, actor: Actor, on: dt.date, *, full_cdr: bool, vr_requested: bool | None = None,
           remarks: str | None = None, medical_remark: str | None = None,
           expected_version: int | None = None) -> dict[str, Any]:
    """G.5 / G.6: the DE/DEC/DC's decision as IPCA event 2-5, then integrity sampling (G.7).

    ``medical_remark``: the reviewer's words for the REMARK a deferral gets when the DCF medical data is blank
    (J.3.a NOTE); refused for a DO CDR and when the medical data is there.
    """
    g = guide(store, case_id, actor)
    recommendation = g.get("recommended_action")
    with store.tx() as tx:
        case = _load(tx, case_id, actor, (c.DE,), states=(c.PC_REVIEW, c.NONRESPONDER),
                     expected_version=expected_version, action="mailer.decide")
        ben = tx.beneficiary(case["ssn"])
        assert ben is not None
        if medical_remark is not None:
            if full_cdr:
                raise ReviewError(f"case {case_id}: medical_remark is the REMARK of a deferral whose DCF medical data "
                                  "is blank (DI 40502.001J.3.a NOTE); a DO CDR takes remarks")
            if not ben.get("qmid_medical_blank"):
                raise ReviewError(f"case {case_id}: medical_remark: the DCF medical data of its beneficiary is not "
                                  "blank, so the system calculates the new diary and no medical REMARK is entered "
                                  "(DI 40502.001J.3.a NOTE)")
        ipca = c.ipca(full_cdr, vr_requested)
        key = _key(case, "decide")
        sample = draw(tx, case)  # G.7: the system's keyed draw; nothing the reviewer sets enters it
        detail = {"reviewer_guide_recommendation": recommendation, "integrity": sample.as_dict(),
                  "reviewer_remarks": remarks, "reviewer_profile": g.get("profile")}
        if medical_remark is not None:
            detail["medical_remark"] = medical_remark
        if full_cdr:
            text = remarks or DO_CDR_REMARK
            if _under_tolerance(tx, case):
                text += "; " + UNRESOLVED_EARNINGS_REMARK  # J.4.a step 5
            fx = do_cdr(case, ben, on, actor, key=key, reason="PC REVIEW", remarks=text, ipca=ipca, detail=detail)
            fx.case["integrity_selected"] = sample.selected
            _apply(tx, case, fx)
            return {"ipca_event": ipca[0], "label": ipca[1], "outcome": "DO_CDR", "integrity": sample.as_dict(),
                    "recommendation": recommendation}
        if not sample.selected:
            fx = defer(case, ben, on, actor, key=key, ipca=ipca, detail=detail, medical_note=medical_remark)
            _apply(tx, case, fx)
            return {"ipca_event": ipca[0], "label": ipca[1], "outcome": "DEFER", "integrity": sample.as_dict(),
                    "recommendation": recommendation}
        # G.7: the reviewer's deferral input is recorded, then the system inputs a DO CDR and alerts the FO.
        events = [c.event(ssn=case["ssn"], case_id=case_id, event_date=on, event_type=c.label(case["title"], ipca[1]),
                        code=f"IPCA {ipca[0]}", actor=actor, policy_version=ipca[2], detail=detail,
                        idem_key=f"defer:{key}")]
        flip = do_cdr(case, ben, on, INTEGRITY, key=key, reason="INTEGRITY SAMPLE",
                      remarks="INTEGRITY SAMPLE: REFER FOR A FULL MEDICAL CDR (DI 40502.001G.7)",
                      ipca=c.ipca(True, vr_requested), detail={"integrity": sample.as_dict(),
                                                               "reviewer_input": ipca[1]})
        # Order matters: the version check, then the reviewer's input (allowed while the case is not
        # yet flipped), then the system's DO CDR and the flip, after which the database refuses any
        # DEFER for this case.
        version = tx.update_case(case_id, case["version"], review_stage=None)
        tx.append(events)
        tx.append(flip.events)
        tx.add_documents(flip.documents)
        _flip(tx, case_id, version, {**flip.case, "integrity_selected": True, "integrity_flipped": True})
        return {"ipca_event": ipca[0], "label": ipca[1], "outcome": "DO_CDR", "flipped": True,
                "integrity": sample.as_dict(), "recommendation": recommendation}


def _flip(tx: Tx, case_id: str, version: int, changes: dict[str, Any]) -> None:
    """Set the flip in the transaction that already moved the case to ``version``, without a second version.

    Every decision moves the case by one version, flipped or not, so a reviewer who loses the race (their
    conflict message names the version) or reloads the case cannot tell a flip from the version (G.7:
    "essentially invisible to the PC reviewer"; docs/interpretations.md#flip-visibility).
    """
    try:
        hit = tx.conn.execute(update(cases).where(cases.c.case_id == case_id, cases.c.version == version)
                              .values(**changes, updated_at=now())).rowcount
    except DBAPIError as exc:
        raise _guard(exc) from exc
    if hit != 1:  # pragma: no cover - the row is locked by this transaction's own version update
        raise ConflictError(f"case {case_id} changed since you read it. Reload the case and try again.")


def return_to_bet_dt(store: Store, case_id: str, actor: Actor, on: dt.date, *, reason: str,
                     expected_version: int | None = None) -> None:
    """J.3.a NOTE / J.2.c: the DE/DEC/DC refers the case back to the BET/DT (earnings under tolerance)."""
    with store.tx() as tx:
        current = tx.require_case(case_id)
        if current["state"] == c.DEFERRED:
            # J.2.c: after mailer processing, deferred cases (not integrity-sampled) with earnings under the
            # tolerance return to the BET/DT to develop the unposted earnings (DI 40510.000); the mailer stays
            # deferred.
            case = _load(tx, case_id, actor, (), states=(c.DEFERRED,), expected_version=expected_version,
                         action="mailer.return_to_bet")
            _simple(tx, case, actor, on, "RETURNED TO BET/DT FOR EARNINGS DEVELOPMENT",
                    {"reason": reason, "cite": "DI 40502.001J.2.c; DI 40510.000"}, {})
            return
        case = _load(tx, case_id, actor, (c.DE,), expected_version=expected_version, action="mailer.return_to_bet")
        _simple(tx, case, actor, on, "RETURNED TO BET/DT", {"reason": reason, "cite": "DI 40502.001J.3.a NOTE"},
                {"review_stage": c.BET_DT})


Result = Literal["BUSY", "NO_ANSWER", "REACHED", "REFUSED", "NOT_LOCATED"]


def dircon(store: Store, case_id: str, actor: Actor, on: dt.date, *, result: Result,
           expected_version: int | None = None) -> dict[str, Any]:
    """I / J.1: a DIRCON attempt on a nonresponder; the dircon-outcome calc says what follows."""
    with store.tx() as tx:
        current = tx.require_case(case_id)
        if current["state"] == c.PC_REVIEW:
            return _review_dircon(tx, current, actor, on, result, expected_version)
        case = _load(tx, case_id, actor, (c.DIRCON,), states=(c.NONRESPONDER,), expected_version=expected_version,
                     action="mailer.dircon")
        ben = tx.beneficiary(case["ssn"])
        assert ben is not None
        prior = tx.conn.execute(
            select(events.c.detail, events.c.event_date, events.c.actor, events.c.actor_role)
            .where(events.c.case_id == case_id, events.c.event_type == c.label(case["title"], "DIRCON ATTEMPT"))
            .order_by(events.c.event_id)).all()
        attempts = [json.loads(p.detail)["result"] for p in prior] + [result]
        # Each attempt as it was recorded: its own date and who made it (SSA-5002).
        made = [{"date": str(p.event_date), "result": json.loads(p.detail)["result"],
                 "by": f"{p.actor}:{p.actor_role}"} for p in prior]
        made.append({"date": str(on), "result": result, "by": str(actor)})
        out = dircon_outcome(DirconInput(attempts=attempts, decision_date=on))
        ev = c.event(ssn=case["ssn"], case_id=case_id, event_date=on,
                     event_type=c.label(case["title"], "DIRCON ATTEMPT"), actor=actor,
                     policy_version=c.pv_text(out.policy_version),
                     detail={"result": result, "attempt": len(attempts), "counted": out.counted_attempts,
                             "outcome": out.action, "documented_on": "SSA-5002"},
                   idem_key=_key(case, "dircon"))
        fx = Effects(events=[ev])
        fx.doc(case, ben, "DIRCON_RECORD", on, {"attempts": made, "outcome": out.action},
               _key(case, "dircon"), versions=(out.policy_version,), parameters=("dircon_attempts",))
        if out.action == "ATTEMPT_AGAIN":
            fx.case = {"review_stage": c.DIRCON}
        elif out.action == "PROCESS_MAILER":
            fx.case = {"review_stage": c.DE}  # completed by telephone: the DE/DEC/DC decides (J.3 / J.4)
        else:
            ref = do_cdr(case, ben, on, actor, key=_key(case, "dircon"), reason="NONRESPONDER",
                         remarks=NONRESPONDER_REMARK, ipca=c.ipca(True, None))
            fx.events.extend(ref.events)
            fx.documents.extend(ref.documents)
            fx.case = ref.case
        _apply(tx, case, fx)
        return {"outcome": out.action, "counted_attempts": out.counted_attempts}


def _review_dircon(tx: Tx, case: dict[str, Any], actor: Actor, on: dt.date, result: Result,
                   expected_version: int | None) -> dict[str, Any]:
    """J.1: DIRCON by the reviewer for unanswered questions or unresolved issues; the review goes on."""
    case = _load(tx, case["case_id"], actor, (c.BET_DT, c.DE), expected_version=expected_version,
                 action="mailer.dircon")
    out = dircon_outcome(DirconInput(attempts=[result], decision_date=on))
    _simple(tx, case, actor, on, "DIRCON ATTEMPT",
            {"result": result, "purpose": "unanswered questions / unresolved issues (DI 40502.001J.1)",
             "documented_on": "SSA-5002"}, {})
    return {"outcome": "RECORDED", "counted_attempts": out.counted_attempts}


def referral_done(store: Store, case_id: str, actor: Actor, on: dt.date, *, note: str,
                  expected_version: int | None = None) -> None:
    """E.2: the PC or FO has taken the "necessary action" on a mailer WBDOC referred; the SSN can be mailed again."""
    with store.tx() as tx:
        case = _load(tx, case_id, actor, (), states=(c.REFERRED,), expected_version=expected_version,
                     action="mailer.referral_done")
        _simple(tx, case, actor, on, "REFERRAL ACTION COMPLETED", {"note": note, "cite": "DI 40502.001E.2"},
                {"state": c.REFERRAL_CLOSED})


def undeliverable(store: Store, case_id: str, actor: Actor, on: dt.date, *, new_address: dict[str, Any] | None,
                  expected_version: int | None = None) -> str:
    """H.2: a hard-paper mailer returned undeliverable to the PC: IPCA event 7, then 6 or a resend."""
    address: dict[str, Any] = {}
    if new_address is not None:
        try:
            a = Address.model_validate(new_address)
        except ValidationError as exc:
            err = validation_to_input_error(exc)
            raise ReviewError(f"new_address.{err.field}: {err.message}") from None
        # The same size and character checks as an intake address change (interpretations §71).
        bad = column_problems(a.model_dump(), {f: beneficiaries.c[f] for f in
                                               ("address_line", "city", "state", "zip", "country")})
        if bad is not None:
            raise ReviewError(f"new_address.{bad[0]}: {bad[1]}")
        address = {**a.model_dump(), "foreign_address": a.country != "US"}
    with store.tx() as tx:
        current = tx.require_case(case_id)
        authz.require(tx, actor, "mailer.undeliverable", _resource(current))
        if current["state"] == c.DEFERRED:
            raise ReviewError(f"case {case_id} is DEFERRED: a deferral notice the USPS returns is not re-sent; record "
                              "it with `cdrflow review notice-undeliverable` (DI 40502.001J.3.c)")
        case = _load(tx, case_id, actor, (), states=(c.SENT, c.PC_RESENT), expected_version=expected_version,
                     action="mailer.undeliverable")
        evs = [c.event(ssn=case["ssn"], case_id=case_id, event_date=on,
                     event_type=c.label(case["title"], "UNDELIVERABLE"), code="IPCA 7",
                     actor=actor, detail={"cite": "DI 40502.001H.2"}, idem_key=_key(case, "undel7"))]
        if case["state"] == c.PC_RESENT:
            # H.2: returned again after the resend: destroy; 150 days from the send request -> NONRESPONDER.
            fx = Effects(events=evs, case={"state": c.UNDELIVERABLE, "last_event": evs[0]["event_type"],
                                           "last_event_date": on})
            _apply(tx, case, fx)
            return c.UNDELIVERABLE
        if new_address is None:
            what = c.label(case["title"], "REVIEW NONRESPONDER")
            evs.append(c.event(ssn=case["ssn"], case_id=case_id, event_date=on, event_type=what, code="IPCA 6",
                             actor=actor, detail={"cite": "DI 40502.001H.2", "reason": "no new address"},
                             idem_key=_key(case, "undel6")))
            _apply(tx, case, Effects(events=evs, case={"state": c.NONRESPONDER, "review_stage": c.DIRCON,
                                                       "last_event": what, "last_event_date": on}))
            return c.NONRESPONDER
        evs.append(c.event(ssn=case["ssn"], case_id=case_id, event_date=on,
                         event_type=c.label(case["title"], "MAILER RESENT"), actor=actor,
                         detail={"new_address": address, "cite": "DI 40502.001H.2; GN 02605.055"},
                         idem_key=_key(case, "resend")))
        _apply(tx, case, Effects(events=evs, case={"state": c.PC_RESENT, "last_event": evs[0]["event_type"],
                                                   "last_event_date": on}))
        tx.update_beneficiary(case["ssn"], **address)
        return c.PC_RESENT


def dispose(store: Store, case_id: str, actor: Actor, on: dt.date, *, document: str,
            disposition: Literal["DESTROYED", "CLAIMS_FOLDER", "OTHER_COMPONENT"], note: str | None = None) -> None:
    """J.3.d: record how a mailer, facsimile, attachment, alert or profile sheet was disposed of."""
    with store.tx() as tx:
        case = tx.require_case(case_id)
        authz.require(tx, actor, "mailer.dispose", _resource(case))
        if case["state"] not in c.CLOSED_STATES:
            raise ReviewError(f"case {case_id} is {case['state']}; documents are disposed of after the decision")
        tx.append([c.event(ssn=case["ssn"], case_id=case_id, event_date=on,
                         event_type=c.label(case["title"], "DOCUMENT DISPOSAL"), actor=actor,
                         detail={"document": document, "disposition": disposition, "note": note,
                                 "cite": "DI 40502.001J.3.d"},
                         idem_key=f"dispose:{case_id}:{document}")])
        tx.conn.execute(documents.update().where(documents.c.case_id == case_id, documents.c.kind == document,
                                                 documents.c.disposed_on.is_(None))
                        .values(disposed_on=on, disposition=disposition))


NOTICE_UNDELIVERABLE = "DEFERRAL NOTICE UNDELIVERABLE"


def notice_undeliverable(store: Store, case_id: str, actor: Actor, on: dt.date) -> dict[str, Any]:
    """J.3.c: a mailer deferral notice the USPS returned as undeliverable is securely destroyed, never re-sent.

    Records the return and the destruction (event "... DEFERRAL NOTICE UNDELIVERABLE"; the DEFERRAL_NOTICE document
    disposed of as DESTROYED). There is no resend: a second return of the same notice is refused, and so is the
    H.2 undeliverable command on the deferred case.
    """
    with store.tx() as tx:
        case = tx.require_case(case_id)
        authz.require(tx, actor, "mailer.notice_undeliverable", _resource(case))
        notices = [dict(r) for r in tx.conn.execute(
            select(documents.c.doc_id, documents.c.created_on, documents.c.disposed_on, documents.c.disposition)
            .where(documents.c.case_id == case_id, documents.c.kind == "DEFERRAL_NOTICE")).mappings()]
        if not notices:
            raise ReviewError(f"case {case_id} is {case['state']} and has no deferral notice: only a deferral sends "
                              "one (DI 40502.001J.3.c)")
        done = [n for n in notices if n["disposed_on"] is not None]
        if done:
            raise ReviewError(f"case {case_id}: the deferral notice was already {done[0]['disposition']} on "
                              f"{done[0]['disposed_on']}; mailer deferral notices returned as undeliverable get no "
                              "further delivery attempts (DI 40502.001J.3.c)")
        ev = c.event(ssn=case["ssn"], case_id=case_id, event_date=on,
                     event_type=c.label(case["title"], NOTICE_UNDELIVERABLE), actor=actor,
                     detail={"notice_date": str(notices[0]["created_on"]), "disposition": "DESTROYED",
                             "further_delivery_attempts": False, "cite": "DI 40502.001J.3.c"},
                     idem_key=f"notice-undeliverable:{case_id}")
        tx.append([ev])
        tx.conn.execute(documents.update().where(documents.c.case_id == case_id,
                                                 documents.c.kind == "DEFERRAL_NOTICE",
                                                 documents.c.disposed_on.is_(None))
                        .values(disposed_on=on, disposition="DESTROYED"))
        return {"event": ev["event_type"], "disposition": "DESTROYED", "resent": False}
