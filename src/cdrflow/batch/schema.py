"""The Polars schema of a returned-mailer file (JSON Lines or Parquet)."""

from __future__ import annotations

import polars as pl

EARNINGS = pl.Struct({"work_began": pl.String, "work_ended": pl.String, "monthly_earnings": pl.Float64})
REMARKS = pl.Struct({"text": pl.String, "relevant": pl.Boolean, "subject": pl.String})
ATTACHMENT = pl.Struct({"kind": pl.String, "relevant": pl.Boolean, "subject": pl.String})

MAILER_SCHEMA: dict[str, pl.DataType] = {
    "mailer_id": pl.String(),
    "ssn": pl.String(),
    "title": pl.String(),
    "form": pl.String(),
    "request": pl.String(),
    "profile": pl.String(),
    "report_period_start": pl.String(),
    "signed": pl.Boolean(),
    "signer": pl.String(),
    "q1a_worked": pl.String(),
    "q1b_earnings": pl.List(EARNINGS),
    "q2_school": pl.String(),
    "q3_doctor_work": pl.String(),
    "q4_health": pl.String(),
    "q5_doctor_visits": pl.String(),
    "q6_hospitalized": pl.String(),
    "vr_interest": pl.String(),
    "remarks": REMARKS,
    "attachments": pl.List(ATTACHMENT),
    "translation_needed": pl.Boolean(),
    "other_program_issue": pl.Boolean(),
    "any_codes": pl.String(),
}
