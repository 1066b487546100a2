"""DCDRS decision logic for a returned mailer: DEFER, DO CDR, or PC review with an alert.

DI 40502.001F: the logic uses the mark-sense responses, the ANY CODES? codes and the data
used to select the case; mailers it cannot clearly decide go to PC review with a PSC MAILER
alert (actionable, F.3.b-c) or a MISCELLANEOUS alert (nonactionable, F.3.d-e). Hard-paper
SSA-455s never go through the logic (F.2).

The decision is a chain of decision tables (``tables/*.yaml``):
work_activity -> actionable -> automated_recommendation -> significant_responses ->
pc_review_routing. The VR answer is never an input (B.9, J.2.d NOTE).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from cdrflow.engine.calc import CalcOutput, Explain, calc

from .features import features
from .record import ReturnedMailer
from .registry import REGISTRY
from .source import SOURCE, alert_messages, alert_text, decide


class Alert(BaseModel):
    type: Literal["PSC_MAILER", "MISCELLANEOUS"]
    message: int
    reviewer: Literal["BET/DT", "DE/DEC/DC"]
    recommended_action: Literal["REDIARY", "REFER_CDR"]
    text: str
    cite: str


class MailerDecision(CalcOutput):
    mailer_id: str
    outcome: Literal["DEFER", "DO_CDR", "PC_REVIEW"]
    actionable: bool
    actionable_reason: str
    alert: Alert | None
    automated_recommendation: Literal["DEFER", "DO_CDR"]
    significant_responses: bool
    clear_decision: bool
    """False when the J.2.d rows the answers reach conflict, call for weighing or say nothing (F.1.b)."""
    work_issue: bool


@calc(
    REGISTRY,
    "mailer-decision",
    citation="DI 40502.001E.4.b; DI 40502.001F.1-3; DI 40502.001J.2.d",
    summary="Decide a returned mailer: DEFER, DO_CDR or PC_REVIEW with its alert and the automated recommendation",
    source=SOURCE,
    input_model=ReturnedMailer,
    output_model=MailerDecision,
)
def mailer_decision(record: ReturnedMailer, explain: Explain) -> MailerDecision:
    f = features(record, record.decision_date, explain)
    work = decide("work_activity", {"q1a": f.q1a, "q1b": f.q1b}, explain)
    work_issue = bool(work.outputs["work_issue"])
    act = decide(
        "actionable",
        {
            "form": f.form,
            "lengthy_relevant_remarks": f.lengthy_relevant_remarks,
            "relevant_attachments": f.relevant_attachments,
            "medical_signer": f.medical_signer,
            "translation_needed": f.translation_needed,
            "other_program_issue": f.other_program_issue,
            "work_issue": work_issue,
        },
        explain,
    )
    rec = decide(
        "automated_recommendation",
        {"profile": f.profile, "q2": f.q2, "q3": f.q3, "q4": f.q4, "q5": f.q5, "q6": f.q6},
        explain,
    )
    recommendation = rec.outputs["recommendation"]
    sig = decide("significant_responses", {"profile": f.profile, "recommendation": recommendation}, explain)
    route = decide(
        "pc_review_routing",
        {
            "form": f.form,
            "actionable": act.outputs["actionable"],
            "translation_needed": f.translation_needed,
            "work_reported": work_issue or f.work_mentioned,
            "remarks_or_attachments": f.relevant_remarks or f.relevant_attachments,
            "relevant_remarks": f.relevant_remarks,
            "significant": sig.outputs["significant"],
            "recommendation": recommendation,
            "clear": rec.outputs["clear"],
        },
        explain,
    )
    o = route.outputs
    alert = None
    if o["alert_type"] != "NONE":
        alert = Alert(
            type=o["alert_type"],
            message=o["message"],
            reviewer=o["reviewer"],
            recommended_action=o["recommended_action"],
            text=alert_text(o["alert_type"], o["message"]),
            cite=str(alert_messages()[o["alert_type"]]["cite"]) + f" (message {o['message']})",
        )
    return MailerDecision(
        mailer_id=record.mailer_id,
        outcome=o["outcome"],
        actionable=bool(act.outputs["actionable"]),
        actionable_reason=str(act.outputs["reason"]),
        alert=alert,
        automated_recommendation=recommendation,
        significant_responses=bool(sig.outputs["significant"]),
        clear_decision=bool(rec.outputs["clear"]),
        work_issue=work_issue,
    )
