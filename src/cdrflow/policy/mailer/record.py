"""The returned-mailer record: the WBDOC electronic data file record for one mailer.

Input to the ``mailer-decision`` calc and to batch files. Question numbers are those of the
SSA-455-OCR-SM (DI 40502.001B.7); a hard-paper SSA-455 is keyed with the same numbering.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from cdrflow.engine.months import Month
from cdrflow.kernel.ssn import SsnDigits

Title = Literal["T2", "T2/16", "T16"]
Profile = Literal["H", "M", "L"]
Subject = Literal["WORK", "MEDICAL", "WORK_AND_MEDICAL", "MISC"]
Signer = Literal["BENEFICIARY", "REPRESENTATIVE_PAYEE", "PHYSICIAN", "NURSE", "FACILITY_STAFF", "OTHER"]
YesNo = Literal["YES", "NO"]

MEDICAL_SIGNERS: frozenset[str] = frozenset({"PHYSICIAN", "NURSE", "FACILITY_STAFF"})
"""Signers that make a mailer actionable (DI 40502.001E.4.b)."""

ATTACHMENT_KIND_SUBJECT: dict[str, Subject] = {
    "MEDICAL_EVIDENCE": "MEDICAL",
    "MEDICAL": "MEDICAL",
    "HOSPITAL_RECORD": "MEDICAL",
    "DOCTOR_NOTE": "MEDICAL",
    "WORK_EARNINGS": "WORK",
    "WORK": "WORK",
    "PAY_STUB": "WORK",
    "W2": "WORK",
    "WORK_AND_MEDICAL": "WORK_AND_MEDICAL",
}
"""Subject of an attachment by its kind when the record gives no subject (E.3.b examples)."""

class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EarningsEntry(Strict):
    """One of up to three lines of question 1.b."""

    work_began: Month | None = None
    work_ended: Month | None = None
    monthly_earnings: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _order(self) -> EarningsEntry:
        if self.work_began is not None and self.work_ended is not None and self.work_ended < self.work_began:
            raise ValueError(f"work_ended {self.work_ended} is before work_began {self.work_began}")
        return self

    @property
    def informative(self) -> bool:
        return self.work_began is not None or self.work_ended is not None or self.monthly_earnings is not None


class Remarks(Strict):
    text: str
    relevant: bool
    subject: Subject | None = None


class Attachment(Strict):
    kind: Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
    relevant: bool
    subject: Subject | None = None

    @property
    def effective_subject(self) -> Subject:
        if self.subject is not None:
            return self.subject
        return ATTACHMENT_KIND_SUBJECT.get(self.kind.upper(), "MISC")


class ReturnedMailer(Strict):
    """The WBDOC electronic data file record (DI 40502.001E.3.a) for one returned mailer."""

    mailer_id: Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
    ssn: SsnDigits  # the one rule (cdrflow.kernel.ssn): never-issued numbers are refused (interpretations §77)
    title: Title
    form: Literal["SSA-455-OCR-SM", "SSA-455"]
    request: Literal["FIRST", "SECOND"]
    profile: Profile
    report_period_start: Month
    signed: bool
    signer: Signer
    q1a_worked: Literal["YES", "NO", "BOTH"] | None = None
    q1b_earnings: Annotated[list[EarningsEntry], Field(max_length=3)] = Field(default_factory=list)
    q2_school: YesNo | None = None
    q3_doctor_work: Literal["HAVE_NOT_DISCUSSED", "CANNOT_WORK", "CAN_WORK"] | None = None
    q4_health: Literal["BETTER", "SAME", "WORSE"] | None = None
    q5_doctor_visits: YesNo | None = None
    q6_hospitalized: YesNo | None = None
    vr_interest: YesNo | None = None
    remarks: Remarks | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    translation_needed: bool = False
    other_program_issue: bool = False
    # Optional extras.
    any_codes: Annotated[str, StringConstraints(pattern=r"^[0123489ABCD][0123489][YN]$")] | None = Field(
        default=None, description="ANY CODES? (E.3.b) as adopted in docs/interpretations.md#any-codes"
    )
    impairment_codes: list[Annotated[str, StringConstraints(pattern=r"^\d{4}$")]] = Field(default_factory=list)
    q5_narrative: str | None = None
    q6_narrative: str | None = None
    decision_date: dt.date | None = Field(
        default=None, description="Date the policy in force is taken from; absent means the latest policy."
    )

    @field_validator("signed")
    @classmethod
    def _signed(cls, v: bool) -> bool:
        if not v:
            raise ValueError(
                "an unsigned mailer is controlled at WBDOC for a signature (DI 40502.001E.2) "
                "and does not reach the decision logic"
            )
        return v

    @model_validator(mode="after")
    def _check(self) -> ReturnedMailer:
        if self.any_codes is not None and "9" in self.any_codes[:2] and not self.translation_needed:
            raise ValueError(f"any_codes {self.any_codes} says translation is required but translation_needed is false")
        if self.any_codes is not None and (self.any_codes[2] == "Y") != self.other_program_issue:
            raise ValueError(
                f"any_codes position 3 is {self.any_codes[2]!r} but other_program_issue is {self.other_program_issue}"
            )
        return self
