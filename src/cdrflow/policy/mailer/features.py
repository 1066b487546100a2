"""Features of a returned mailer that the decision tables read.

Each feature is a small, cited computation over the record; the tables then decide. The
batch engine (:mod:`cdrflow.batch.decide`) computes the same features as Polars
expressions, and a differential test proves the two agree.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from cdrflow.engine.calc import Explain
from cdrflow.forms.any_codes import (
    LENGTHY_REMARK_CODES,
    RELEVANT_ATTACHMENT_CODES,
    RELEVANT_REMARK_CODES,
    WORK_CODES,
)

from .record import MEDICAL_SIGNERS, ReturnedMailer
from .source import param

Q1bStatus = Literal["AT_OR_ABOVE_THRESHOLD", "BELOW_THRESHOLD", "NO_EARNINGS", "ONLY_BEFORE_REPORT_PERIOD"]
WORK_SUBJECTS = frozenset({"WORK", "WORK_AND_MEDICAL"})
_WORD = re.compile(r"\S+")
FEATURE_PARAMETERS = ("earnings_threshold_q1b", "remark_short_limit")
"""The parameters the features read; the batch reports their versions from this list."""


def q1b_status(record: ReturnedMailer, threshold: float) -> Q1bStatus:
    """Summarise question 1.b against the report period (DI 40502.001E.4.b, J.2.c).

    An entry counts toward the report period unless its WORK ENDED month is before the
    report period began; an entry with no WORK ENDED (ongoing, or dates insufficient to
    place it) counts. Only entries that say something (a date or an amount) are considered.
    """
    rp = record.report_period_start
    entries = [e for e in record.q1b_earnings if e.informative]
    counting = [e for e in entries if e.work_ended is None or e.work_ended >= rp]
    if any(e.monthly_earnings is not None and e.monthly_earnings >= threshold for e in counting):
        return "AT_OR_ABOVE_THRESHOLD"
    if entries and not counting:
        return "ONLY_BEFORE_REPORT_PERIOD"
    if any(e.monthly_earnings is not None and e.monthly_earnings > 0 for e in counting):
        return "BELOW_THRESHOLD"
    return "NO_EARNINGS"


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


@dataclass(frozen=True, slots=True)
class MailerFeatures:
    form: str
    profile: str
    q1a: str
    q1b: Q1bStatus
    q2: str
    q3: str
    q4: str
    q5: str
    q6: str
    relevant_remarks: bool
    lengthy_relevant_remarks: bool
    relevant_attachments: bool
    medical_signer: bool
    translation_needed: bool
    other_program_issue: bool
    work_mentioned: bool


def features(record: ReturnedMailer, on: dt.date | None, explain: Explain | None = None) -> MailerFeatures:
    threshold_name, limit_name = FEATURE_PARAMETERS
    threshold = float(param(threshold_name, on, explain))
    limit = param(limit_name, on, explain)
    rem = record.remarks
    codes = record.any_codes or "00N"
    # J.2.c: a code "1" (or any relevant-subject code) in the Remarks box alerts the mailer for
    # PC review even when the keyed remark text is not in the record.
    relevant_remarks = (rem is not None and rem.relevant) or codes[0] in RELEVANT_REMARK_CODES
    # E.3.a: only short remarks are keyed, so a lengthy relevant remark may be in the file only as
    # its code (A-D); E.4.b makes it actionable (docs/interpretations.md#lengthy-code).
    lengthy = (
        rem is not None
        and rem.relevant
        and (word_count(rem.text) > int(limit["words"]) or len(rem.text) > int(limit["characters"]))
    ) or codes[0] in LENGTHY_REMARK_CODES
    # E.4.b, J.2.c: a relevant code in position 2 (the Attachments box) is a relevant attachment
    # (docs/interpretations.md#position-2).
    relevant_attachments = any(a.relevant for a in record.attachments) or codes[1] in RELEVANT_ATTACHMENT_CODES
    work_mentioned = (
        (rem is not None and rem.relevant and rem.subject in WORK_SUBJECTS)
        or any(a.relevant and a.effective_subject in WORK_SUBJECTS for a in record.attachments)
        or codes[0] in WORK_CODES
        or codes[1] in WORK_CODES
    )
    return MailerFeatures(
        form=record.form,
        profile=record.profile,
        q1a=record.q1a_worked or "NONE",
        q1b=q1b_status(record, threshold),
        q2=record.q2_school or "NONE",
        q3=record.q3_doctor_work or "NONE",
        q4=record.q4_health or "NONE",
        q5=record.q5_doctor_visits or "NONE",
        q6=record.q6_hospitalized or "NONE",
        relevant_remarks=relevant_remarks,
        lengthy_relevant_remarks=lengthy,
        relevant_attachments=relevant_attachments,
        medical_signer=record.signer in MEDICAL_SIGNERS,
        translation_needed=record.translation_needed,
        other_program_issue=record.other_program_issue,
        work_mentioned=work_mentioned,
    )
