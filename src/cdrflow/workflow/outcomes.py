"""What a DEFER, a DO CDR or a PC review does to the DCF (DI 40502.001F.1, G.5, G.6, I, J.3, J.4).

Each function returns :class:`Effects` (events, the case change, the beneficiary change, documents);
the caller writes them in its transaction. The same functions serve DCDRS's automated decisions at
intake and the PC reviewer's IPCA input.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cdrflow.dcf.store import Actor

from . import common as c

NONRESPONDER_REMARK = (
    "BENEFICIARY WAS A NON-RESPONDER TO THE CDR MAILER; CASE REFERRED TO THE FO TO INITIATE A FULL CDR "
    "PER DI 13005.000"
)
"""I: the IRMK / CIP M annotation for a nonresponder DO CDR.

Never a whereabouts-unknown or failure-to-cooperate code: the mailer is not a CDR (I, REMEMBER)."""
DO_CDR_REMARK = "CDR MAILER BEING SENT TO THE FO FOR A FULL MEDICAL CDR"
"""J.4.a step 4 / J.4.b step 4: the message entered with REMARKS = Y."""


@dataclass
class Effects:
    events: list[dict[str, Any]] = field(default_factory=list)
    case: dict[str, Any] = field(default_factory=dict)
    beneficiary: dict[str, Any] | None = None
    documents: list[dict[str, Any]] = field(default_factory=list)

    def doc(self, case: dict[str, Any], kind: str, on: dt.date, payload: dict[str, Any], key: str) -> None:
        self.documents.append({"case_id": case["case_id"], "ssn": case["ssn"], "kind": kind, "created_on": on,
                               "payload": payload, "idem_key": f"doc:{kind}:{key}"})


def defer(case: dict[str, Any], ben: dict[str, Any], on: dt.date, actor: Actor, *, key: str,
          ipca: tuple[int, str, str] | None = None, detail: dict[str, Any] | None = None) -> Effects:
    """DEFER: the deferral input, the diary reset (G.5, J.3.b) and the deferral notice (J.3.c)."""
    fx = Effects()
    # G.5: the MDR/MR at the time of selection: the profile sheet's OD-CALC MDR, the scanline, then QMID/SSR.
    d = c.diary(case["title"], str(c.month_of(on)), ben.get("od_calc_mdr"), case.get("scanline_mdr"),
                ben.get("qmid_mdr"), ben.get("ssr_mr"), on)
    code, what = (f"IPCA {ipca[0]}", ipca[1]) if ipca else (None, "DEFER CDR")
    fx.events.append(c.event(ssn=case["ssn"], case_id=case["case_id"], event_date=on, event_type=c.label(case["title"],
                           what), code=code, actor=actor, policy_version=ipca[2] if ipca else None,
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
    fx.doc(case, "DEFERRAL_NOTICE", on, {"date": str(on), "diary": {k: d[k] for k in (
        "diary_month", "diary_type", "months", "ssi_diary_month")}}, key)
    return fx


def do_cdr(case: dict[str, Any], ben: dict[str, Any], on: dt.date, actor: Actor, *, key: str, reason: str,
           remarks: str = DO_CDR_REMARK, ipca: tuple[int, str, str] | None = None,
           detail: dict[str, Any] | None = None) -> Effects:
    """DO CDR: INITIATE CDR with the IPCB transfer to the servicing FO (J.4) and the SSA-5526-U2-OP2 (J.4.c)."""
    fx = Effects()
    code, what = (f"IPCA {ipca[0]}", ipca[1]) if ipca else (None, "INITIATE CDR")
    cdt = c.cdt(case["selected_on"])
    fx.events.append(c.event(
        ssn=case["ssn"], case_id=case["case_id"], event_date=on, event_type=c.label(case["title"], what), code=code,
        actor=actor, policy_version=ipca[2] if ipca else None,
        detail={**(detail or {}), "reason": reason, "transfer_case_office": ben["fo_doors"], "remarks_flag": "Y",
                "remarks": remarks, "cdt": cdt["cdt"]},
        idem_key=f"docdr:{key}"))
    fx.case = {"state": c.DO_CDR, "outcome": "DO_CDR", "closed_on": on, "review_stage": None,
               "last_event": c.label(case["title"], what), "last_event_date": on,
               "ipca_event": ipca[0] if ipca else None}
    fx.doc(case, "FO_REFERRAL", on, {"date": str(on), "ipca_event": ipca[0] if ipca else 2, "doors": ben["fo_doors"],
                                     "remarks": remarks, "reason": reason}, key)
    fx.doc(case, "SSA_5526", on, {"date": str(on), "cdt": cdt, "remarks": remarks}, key)
    return fx


def pc_review(case: dict[str, Any], on: dt.date, actor: Actor, decision: dict[str, Any], *, key: str,
              policy_version: str | None) -> Effects:
    """PC review: the PC MAILER REVIEW event and the alert sheet, facsimile and profile sheet (F.3, G.3, G.6)."""
    fx = Effects()
    what = c.label(case["title"], "PC MAILER REVIEW")
    alert = decision["alert"]
    fx.events.append(c.event(ssn=case["ssn"], case_id=case["case_id"], event_date=on, event_type=what, actor=actor,
                           policy_version=policy_version,
                           detail={"alert": alert, "actionable": decision["actionable"],
                                   "automated_recommendation": decision["automated_recommendation"]},
                           idem_key=f"pcr:{key}"))
    stage = c.stage_for_alert(alert["type"], alert["message"], alert["reviewer"]) if alert else c.DE
    fx.case = {"state": c.PC_REVIEW, "review_stage": stage, "actionable": decision["actionable"],
               "alert_type": alert["type"] if alert else None, "alert_message": alert["message"] if alert else None,
               "alert_reviewer": alert["reviewer"] if alert else None,
               "automated_recommendation": decision["automated_recommendation"],
               "last_event": what, "last_event_date": on}
    if alert is not None:  # F.2: a hard-paper SSA-455 gets no alert; it is reviewed manually
        fx.doc(case, "ALERT_SHEET", on, {"date": str(on), "decision": decision}, key)
    fx.doc(case, "FACSIMILE", on, {"date": str(on)}, key)
    fx.doc(case, "PROFILE_SHEET", on, {"date": str(on)}, key)
    return fx
