"""What a DEFER, a DO CDR or a PC review does to the DCF (DI 40502.001F.1, G.5, G.6, I, J.3, J.4).

Each function returns :class:`Effects` (events, the case change, the beneficiary change, documents);
the caller writes them in its transaction. The same functions serve DCDRS's automated decisions at
intake and the PC reviewer's IPCA input.

Every document is frozen when it is issued (:func:`issued`; docs/interpretations.md#documents-as-issued):
its payload carries the beneficiary and the case as they were, the values and parameters it shows and
the policy version of the decision, so a reprint is the document that was issued.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cdrflow.dcf.store import Actor
from cdrflow.engine.calc import Explain
from cdrflow.policy.mailer.source import SOURCE, param

from . import common as c

NONRESPONDER_REMARK = (
    "BENEFICIARY WAS A NON-RESPONDER TO THE CDR MAILER; CASE REFERRED TO THE FO TO INITIATE A FULL CDR "
    "PER DI 13005.000"
)
"""I: the IRMK / CIP M annotation for a nonresponder DO CDR.

Never a whereabouts-unknown or failure-to-cooperate code: the mailer is not a CDR (I, REMEMBER)."""
DO_CDR_REMARK = "CDR MAILER BEING SENT TO THE FO FOR A FULL MEDICAL CDR"
"""J.4.a step 4 / J.4.b step 4: the message entered with REMARKS = Y."""


_CASE_NOT_ON_DOCUMENTS = frozenset({"version", "updated_at", "policy_version", "integrity_selected",
                                    "integrity_flipped"})
"""Case columns a document does not carry: bookkeeping, the decision's policy version (kept under ``issued``),
and the G.7 integrity flags (the sample stays invisible on what a reviewer reads; interpretations §34)."""
_BENEFICIARY_NOT_ON_DOCUMENTS = frozenset({"version", "updated_at"})

PolicyVersion = str | Mapping[str, str] | None
"""A policy version as events keep it (JSON text) or as a calc returns it (a dict); None: none to add."""


def issued(case: Mapping[str, Any], ben: Mapping[str, Any], on: dt.date, payload: Mapping[str, Any], *,
           versions: Iterable[PolicyVersion] = (), parameters: Iterable[str] = ()) -> dict[str, Any]:
    """A document's payload as issued on ``on`` (docs/interpretations.md#documents-as-issued).

    ``payload`` (the kind's own values, docs in :mod:`cdrflow.documents`) plus ``beneficiary`` and ``case``
    as they are in this transaction (name, address, diary, PC, ...), and ``issued``: the issue date, the
    policy version (the union of ``versions``, the decision's and the document's own calcs', and of the
    parameters read here) and ``parameters``, each parameter the document shows with the value in force on
    ``on`` and its effective date (``what-if:...`` under a what-if). Rendering reads only this.
    """
    ex = Explain(SOURCE)
    recorded: dict[str, Any] = {}
    for name in parameters:
        value = param(name, on, ex)
        recorded[name] = {"value": value, "effective": ex.versions[f"param:{name}"]}
    pv: dict[str, str] = {}
    for v in versions:
        if v:
            pv.update(json.loads(v) if isinstance(v, str) else v)
    pv.update(ex.versions)
    return {**payload,
            "beneficiary": c.plain({k: v for k, v in ben.items() if k not in _BENEFICIARY_NOT_ON_DOCUMENTS}),
            "case": c.plain({k: v for k, v in case.items()
                             if k not in _CASE_NOT_ON_DOCUMENTS and not k.startswith("_")}),
            "issued": {"on": on.isoformat(), "policy_version": dict(sorted(pv.items())), "parameters": recorded}}


@dataclass
class Effects:
    events: list[dict[str, Any]] = field(default_factory=list)
    case: dict[str, Any] = field(default_factory=dict)
    beneficiary: dict[str, Any] | None = None
    documents: list[dict[str, Any]] = field(default_factory=list)

    def doc(self, case: dict[str, Any], ben: Mapping[str, Any], kind: str, on: dt.date, payload: dict[str, Any],
            key: str, *, versions: Iterable[PolicyVersion] = (), parameters: Iterable[str] = ()) -> None:
        """Issue a document of ``kind``: frozen (:func:`issued`) with the case as this decision leaves it."""
        frozen = issued({**case, **self.case}, ben, on, payload, versions=versions, parameters=parameters)
        self.documents.append({"case_id": case["case_id"], "ssn": case["ssn"], "kind": kind, "created_on": on,
                               "payload": frozen, "idem_key": f"doc:{kind}:{key}"})


MEDICAL_DATA_BLANK = (
    "DCF MEDICAL DATA (QMID) BLANK OR ZEROS: THE SYSTEM COULD NOT CALCULATE THE NEW DIARY; THE MEDICAL DIARY WAS "
    "NOT RESET (DI 40502.001J.3.a NOTE)"
)
"""J.3.a NOTE: what the REMARK says before the pertinent medical information."""


def pertinent_medical_information(case: dict[str, Any], ben: dict[str, Any],
                                  note: str | None = None) -> tuple[str, dict[str, Any]]:
    """J.3.a NOTE: "Enter the pertinent medical information in the REMARK screen" (text, and the same as data).

    The medical data the DCF holds outside the blank QMID: diagnosis codes, impairment, onset, the MDR/MR
    sources of G.5 with their diary type (J.3.b: never changed), initial claim and prior CDR, and the
    reviewer's own words.
    """
    codes = [x for x in (ben.get("diagnosis_primary"), ben.get("diagnosis_secondary")) if x]
    mdrs = [(label, v) for label, v in (("OD-CALC MDR", ben.get("od_calc_mdr")),
                                        ("SCANLINE MDR", case.get("scanline_mdr")),
                                        ("SSR MR", ben.get("ssr_mr") if case["title"] != "T2" else None)) if v]
    info: dict[str, Any] = {
        "diagnosis_codes": codes,
        "impairment": ben.get("impairment"),
        "onset_date": str(ben["onset_date"]) if ben.get("onset_date") else None,
        "mdr": [{"source": label, "code": v, "diary_type": c.diary_type_of(v)} for label, v in mdrs],
        "initial_claim": ben.get("initial_claim"),
        "prior_cdr": ben.get("prior_cdr"),
        "reviewer_note": note,
    }
    parts = [f"IMPAIRMENT CODES {' '.join(codes)}" if codes else None,
             f"IMPAIRMENT {info['impairment']}" if info["impairment"] else None,
             f"ONSET {info['onset_date']}" if info["onset_date"] else None,
             *(f"{m['source']} {m['code']}" + (f" ({m['diary_type']})" if m["diary_type"] else "")
               for m in info["mdr"]),
             f"INITIAL CLAIM {info['initial_claim']}" if info["initial_claim"] else None,
             f"PRIOR CDR {info['prior_cdr']}" if info["prior_cdr"] else None,
             f"REVIEWER: {note}" if note else None]
    listed = "; ".join(p for p in parts if p) or "NONE ON THE DCF"
    return f"{MEDICAL_DATA_BLANK}. PERTINENT MEDICAL INFORMATION: {listed.upper()}", info


def defer(case: dict[str, Any], ben: dict[str, Any], on: dt.date, actor: Actor, *, key: str,
          ipca: tuple[int, str, str] | None = None, detail: dict[str, Any] | None = None,
          medical_note: str | None = None, policy_version: str | None = None) -> Effects:
    """DEFER: the deferral input, the diary reset (G.5, J.3.b) and the deferral notice (J.3.c).

    When the DCF medical data is blank or zeros (``qmid_medical_blank``) the system has nothing to calculate
    the new diary with (J.3.a NOTE): no diary reset, and a REMARK with the pertinent medical information
    instead; never a new CDR path (docs/interpretations.md#qmid-blank). ``policy_version``: the decision's
    (DCDRS's decision logic at intake), else the IPCA event's.
    """
    if ben.get("qmid_medical_blank"):
        return _defer_without_diary(case, ben, on, actor, key=key, ipca=ipca, detail=detail, note=medical_note,
                                    policy_version=policy_version)
    fx = Effects()
    # G.5: the MDR/MR at the time of selection: the profile sheet's OD-CALC MDR, the scanline, then QMID/SSR.
    d = c.diary(case["title"], str(c.month_of(on)), ben.get("od_calc_mdr"), case.get("scanline_mdr"),
                ben.get("qmid_mdr"), ben.get("ssr_mr"), on)
    code, what = (f"IPCA {ipca[0]}", ipca[1]) if ipca else (None, "DEFER CDR")
    pv = policy_version or (ipca[2] if ipca else None)
    fx.events.append(c.event(ssn=case["ssn"], case_id=case["case_id"], event_date=on, event_type=c.label(case["title"],
                           what), code=code, actor=actor, policy_version=pv,
                           detail=detail, idem_key=f"defer:{key}"))
    fx.events.append(c.event(ssn=case["ssn"], case_id=case["case_id"], event_date=on,
                           event_type=c.label(case["title"], "MEDICAL DIARY RESET"), actor=actor,
                           policy_version=d["policy_version"],
                           detail={k: d[k] for k in ("mdr", "mdr_source", "diary_type", "months", "diary_month",
                                                     "ssi_diary_month", "rules")},
                           idem_key=f"diary:{key}"))
    fx.case = {"state": c.DEFERRED, "outcome": "DEFER", "closed_on": on, "review_stage": None,
               "last_event": c.label(case["title"], what), "last_event_date": on,
               "ipca_event": ipca[0] if ipca else None}
    ssi = d["ssi_diary_month"] if case["title"] == "T2/16" else (d["diary_month"] if case["title"] == "T16" else None)
    fx.beneficiary = {"diary_month": d["diary_month"], "ssi_diary_month": ssi}
    fx.doc(case, ben, "DEFERRAL_NOTICE", on, {"date": str(on), "diary": {k: d[k] for k in (
        "diary_month", "diary_type", "months", "ssi_diary_month")}}, key, versions=(pv, d["policy_version"]))
    return fx


def _defer_without_diary(case: dict[str, Any], ben: dict[str, Any], on: dt.date, actor: Actor, *, key: str,
                         ipca: tuple[int, str, str] | None, detail: dict[str, Any] | None,
                         note: str | None, policy_version: str | None = None) -> Effects:
    """J.3.a NOTE: the deferral input and a REMARK; the diary stays as it is and no CDR path is opened."""
    fx = Effects()
    code, what = (f"IPCA {ipca[0]}", ipca[1]) if ipca else (None, "DEFER CDR")
    text, info = pertinent_medical_information(case, ben, note)
    pv = policy_version or (ipca[2] if ipca else None)
    fx.events.append(c.event(ssn=case["ssn"], case_id=case["case_id"], event_date=on,
                             event_type=c.label(case["title"], what), code=code, actor=actor,
                             policy_version=pv,
                             detail={**(detail or {}), "diary": "NOT_CALCULATED", "cite": "DI 40502.001J.3.a NOTE"},
                             idem_key=f"defer:{key}"))
    fx.events.append(c.event(ssn=case["ssn"], case_id=case["case_id"], event_date=on,
                             event_type=c.label(case["title"], "REMARK"), code="IRMK", actor=actor,
                             detail={"remark": text, "medical": info, "diary_calculated": False,
                                     "cite": "DI 40502.001J.3.a NOTE"},
                             idem_key=f"remark:{key}"))
    fx.case = {"state": c.DEFERRED, "outcome": "DEFER", "closed_on": on, "review_stage": None,
               "last_event": c.label(case["title"], what), "last_event_date": on,
               "ipca_event": ipca[0] if ipca else None}
    fx.doc(case, ben, "DEFERRAL_NOTICE", on, {"date": str(on), "diary": None}, key, versions=(pv,))
    return fx


def do_cdr(case: dict[str, Any], ben: dict[str, Any], on: dt.date, actor: Actor, *, key: str, reason: str,
           remarks: str = DO_CDR_REMARK, ipca: tuple[int, str, str] | None = None,
           detail: dict[str, Any] | None = None, policy_version: str | None = None) -> Effects:
    """DO CDR: INITIATE CDR with the IPCB transfer to the servicing FO (J.4) and the SSA-5526-U2-OP2 (J.4.c).

    ``policy_version``: the decision's (DCDRS's decision logic at intake), else the IPCA event's."""
    fx = Effects()
    code, what = (f"IPCA {ipca[0]}", ipca[1]) if ipca else (None, "INITIATE CDR")
    cdt = dict(c.cdt(case["selected_on"]))
    cdt_pv = cdt.pop("policy_version")
    pv = policy_version or (ipca[2] if ipca else None)
    fx.events.append(c.event(
        ssn=case["ssn"], case_id=case["case_id"], event_date=on, event_type=c.label(case["title"], what), code=code,
        actor=actor, policy_version=pv,
        detail={**(detail or {}), "reason": reason, "transfer_case_office": ben["fo_doors"], "remarks_flag": "Y",
                "remarks": remarks, "cdt": cdt["cdt"]},
        idem_key=f"docdr:{key}"))
    fx.case = {"state": c.DO_CDR, "outcome": "DO_CDR", "closed_on": on, "review_stage": None,
               "last_event": c.label(case["title"], what), "last_event_date": on,
               "ipca_event": ipca[0] if ipca else None}
    fx.doc(case, ben, "FO_REFERRAL", on, {"date": str(on), "ipca_event": ipca[0] if ipca else 2,
                                          "doors": ben["fo_doors"], "remarks": remarks, "reason": reason}, key,
           versions=(pv,))
    fx.doc(case, ben, "SSA_5526", on, {"date": str(on), "cdt": cdt, "remarks": remarks}, key, versions=(pv, cdt_pv))
    return fx


def pc_review(case: dict[str, Any], ben: dict[str, Any], on: dt.date, actor: Actor, decision: dict[str, Any], *,
              key: str, policy_version: str | None, mailer: dict[str, Any],
              initial_detail: str | dict[str, Any] | None) -> Effects:
    """PC review: the PC MAILER REVIEW event and the alert sheet, facsimile and profile sheet (F.3, G.3, G.6).

    ``mailer`` is the returned mailer as received (every field); ``initial_detail`` the INITIAL MAILER SENT
    event's detail, where the PC's basis was recorded at selection (E.4.a). The documents are issued as of
    this decision: the alert with its text, the folder data and the PC basis, the facsimile with its
    scanlines and the short-remark limit in force, the profile sheet with the beneficiary's data now.
    """
    from .cycle import scanlines

    fx = Effects()
    what = c.label(case["title"], "PC MAILER REVIEW")
    alert = decision["alert"]
    fx.events.append(c.event(ssn=case["ssn"], case_id=case["case_id"], event_date=on, event_type=what, actor=actor,
                           policy_version=policy_version,
                           detail={"alert": alert, "actionable": decision["actionable"],
                                   "automated_recommendation": decision["automated_recommendation"],
                                   "clear_decision": decision.get("clear_decision"),
                                   "rule_ids": decision.get("rule_ids")},
                           idem_key=f"pcr:{key}"))
    stage = c.stage_for_alert(alert["type"], alert["message"], alert["reviewer"]) if alert else c.DE
    fx.case = {"state": c.PC_REVIEW, "review_stage": stage, "actionable": decision["actionable"],
               "alert_type": alert["type"] if alert else None, "alert_message": alert["message"] if alert else None,
               "alert_reviewer": alert["reviewer"] if alert else None,
               "automated_recommendation": decision["automated_recommendation"],
               "last_event": what, "last_event_date": on}
    versions = (policy_version,)
    if alert is not None:  # F.2: a hard-paper SSA-455 gets no alert; it is reviewed manually
        sheet: dict[str, Any] = {"date": str(on), "decision": decision,
                                 # E.4.a; interp. §14: the PC and what it rests on, shown beside it
                                 "jurisdiction": {"pc": case["pc"], "basis": c.recorded_basis(initial_detail, ben)}}
        if ben.get("folder_location"):
            # F.3: PCACS (Title II-only, concurrent) or SSICCS (Title XVI-only) folder location and date in
            # location, as the DCF holds them when the alert is issued (docs/interpretations.md#folder-data).
            sheet["folder"] = {"location": ben["folder_location"],
                               "date_in_location": c.plain({"d": ben.get("folder_date_in_location")})["d"]}
        fx.doc(case, ben, "ALERT_SHEET", on, sheet, key, versions=versions)
    try:
        lines: list[str] | None = list(scanlines(ben, {**case, **fx.case}))
    except ValueError:  # e.g. no servicing PC known: the facsimile is issued without scanlines
        lines = None
    fx.doc(case, ben, "FACSIMILE", on, {"date": str(on), "mailer": mailer, "scanlines": lines}, key,
           versions=versions, parameters=("remark_short_limit",))
    fx.doc(case, ben, "PROFILE_SHEET", on, {"date": str(on)}, key, versions=versions)
    return fx
