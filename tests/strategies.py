"""Hypothesis strategies for valid returned-mailer records."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

months = st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(2008, 2030), st.integers(1, 12))
ISSUED_SSNS = st.builds(lambda a, g, s: f"{a:03d}{g:02d}{s:04d}", st.integers(1, 899).filter(lambda a: a != 666),
                        st.integers(1, 99), st.integers(1, 9999))
"""SSNs the one rule accepts (cdrflow.kernel.ssn: area 000, 666 and 900-999, group 00, serial 0000 never issued)."""


@st.composite
def earnings_entry(draw: st.DrawFn) -> dict[str, Any]:
    began = draw(st.none() | months)
    ended = draw(st.none() | months)
    if began is not None and ended is not None and ended < began:
        began, ended = ended, began
    amount = draw(st.none() | st.sampled_from([0.0, 1.0, 700.0, 700.99, 701.0, 701.01, 2500.0]) | st.floats(0, 5000))
    return {"work_began": began, "work_ended": ended, "monthly_earnings": amount}


words = st.lists(st.sampled_from(["a", "bb", "pain", "WORK", "x" * 40]), min_size=1, max_size=45).map(" ".join)
subjects = st.sampled_from(["WORK", "MEDICAL", "WORK_AND_MEDICAL", "MISC"])


@st.composite
def mailer_records(draw: st.DrawFn, n: int | None = None) -> dict[str, Any]:
    remarks = draw(
        st.none()
        | st.builds(lambda t, r, s: {"text": t, "relevant": r, "subject": s if r else None}, words, st.booleans(),
                    subjects | st.none())
    )
    other = draw(st.booleans())
    codes = draw(st.none() | st.tuples(st.sampled_from("0123489ABCD"), st.sampled_from("0123489")))
    translation = draw(st.booleans())
    if codes is not None and "9" in codes and not translation:
        codes = None
    return {
        "mailer_id": f"M{draw(st.integers(0, 10**9)) if n is None else n}",
        "ssn": draw(ISSUED_SSNS),
        "title": draw(st.sampled_from(["T2", "T2/16", "T16"])),
        "form": draw(st.sampled_from(["SSA-455-OCR-SM", "SSA-455-OCR-SM", "SSA-455"])),
        "request": draw(st.sampled_from(["FIRST", "SECOND"])),
        "profile": draw(st.sampled_from(["H", "M", "L"])),
        "report_period_start": draw(months),
        "signed": True,
        "signer": draw(st.sampled_from(
            ["BENEFICIARY", "REPRESENTATIVE_PAYEE", "PHYSICIAN", "NURSE", "FACILITY_STAFF", "OTHER"])),
        "q1a_worked": draw(st.sampled_from(["YES", "NO", "BOTH", None])),
        "q1b_earnings": draw(st.lists(earnings_entry(), max_size=3)),
        "q2_school": draw(st.sampled_from(["YES", "NO", None])),
        "q3_doctor_work": draw(st.sampled_from(["HAVE_NOT_DISCUSSED", "CANNOT_WORK", "CAN_WORK", None])),
        "q4_health": draw(st.sampled_from(["BETTER", "SAME", "WORSE", None])),
        "q5_doctor_visits": draw(st.sampled_from(["YES", "NO", None])),
        "q6_hospitalized": draw(st.sampled_from(["YES", "NO", None])),
        "vr_interest": draw(st.sampled_from(["YES", "NO", None])),
        "remarks": remarks,
        "attachments": draw(st.lists(
            st.builds(lambda k, r, s: {"kind": k, "relevant": r, "subject": s},
                      st.sampled_from(["MEDICAL_EVIDENCE", "PAY_STUB", "OTHER", "w2"]), st.booleans(),
                      st.none() | subjects),
            max_size=3)),
        "translation_needed": translation,
        "other_program_issue": other,
        "any_codes": None if codes is None else f"{codes[0]}{codes[1]}{'Y' if other else 'N'}",
    }
