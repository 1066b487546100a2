"""Seeded returned-mailer records biased towards the edges the decision logic turns on.

$700 / $700.99 / $701 earnings, remarks of exactly 30/31 words and 200/201 characters, work that
ended the month before, in, or after the report period's first month, undated work, nulls
everywhere, BOTH on question 1.a, every signer, translation and ANY CODES combinations.
Plain ``random`` so 100,000 records take about a second to build.
"""

from __future__ import annotations

import random
from typing import Any

from cdrflow.simulate.mailers import issued_ssn

ANSWERS: dict[str, list[Any]] = {
    "q1a_worked": ["YES", "NO", "BOTH", None],
    "q2_school": ["YES", "NO", None],
    "q3_doctor_work": ["HAVE_NOT_DISCUSSED", "CANNOT_WORK", "CAN_WORK", None],
    "q4_health": ["BETTER", "SAME", "WORSE", None],
    "q5_doctor_visits": ["YES", "NO", None],
    "q6_hospitalized": ["YES", "NO", None],
    "vr_interest": ["YES", "NO", None],
}
AMOUNTS = [None, 0.0, 1.0, 699.99, 700.0, 700.99, 701.0, 701.01, 2500.0]
SIGNERS = ["BENEFICIARY", "REPRESENTATIVE_PAYEE", "PHYSICIAN", "NURSE", "FACILITY_STAFF", "OTHER"]
SUBJECTS = ["WORK", "MEDICAL", "WORK_AND_MEDICAL", "MISC", None]


def _month(y: int, m: int) -> str:
    y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
    return f"{y:04d}-{m:02d}"


def _remark(rng: random.Random) -> str:
    kind = rng.choice(["w30", "w31", "c200", "c201", "short", "long"])
    if kind == "w30":
        return " ".join(["pain"] * 30)
    if kind == "w31":
        return " ".join(["pain"] * 31)
    if kind == "c200":
        return "x" * 200
    if kind == "c201":
        return "x" * 201
    if kind == "short":
        return "MY DOCTOR SAYS I CANNOT WORK"
    return " ".join(["worked part time"] * 20)


def edge_record(rng: random.Random, n: int) -> dict[str, Any]:
    y, m = rng.randint(2009, 2026), rng.randint(1, 12)
    rp = _month(y, m)
    earnings = []
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        ended = rng.choice([None, _month(y, m - 1), rp, _month(y, m + 1)])
        began = rng.choice([None, _month(y - 1, m), _month(y, m - 2), rp])
        if began is not None and ended is not None and ended < began:
            began, ended = ended, began
        earnings.append({"work_began": began, "work_ended": ended, "monthly_earnings": rng.choice(AMOUNTS)})
    relevant = rng.random() < 0.5
    remarks = None if rng.random() < 0.5 else {"text": _remark(rng), "relevant": relevant,
                                                "subject": rng.choice(SUBJECTS) if relevant else None}
    attachments = [{"kind": rng.choice(["MEDICAL_EVIDENCE", "PAY_STUB", "OTHER"]), "relevant": rng.random() < 0.5,
                    "subject": rng.choice(SUBJECTS)} for _ in range(rng.choice([0, 0, 0, 1, 2]))]
    translation = rng.random() < 0.1
    other = rng.random() < 0.1
    codes = None
    if rng.random() < 0.3:
        c1, c2 = rng.choice("0123489ABCD"), rng.choice("0123489")
        if "9" in c1 + c2 and not translation:
            c1, c2 = c1.replace("9", "0"), c2.replace("9", "0")
        codes = c1 + c2 + ("Y" if other else "N")
    return {
        "mailer_id": f"E{n:07d}",
        "ssn": issued_ssn(rng),
        "title": rng.choice(["T2", "T2/16", "T16"]),
        "form": rng.choice(["SSA-455-OCR-SM"] * 9 + ["SSA-455"]),
        "request": rng.choice(["FIRST", "SECOND"]),
        "profile": rng.choice(["H", "M", "L", "L"]),
        "report_period_start": rp,
        "signed": True,
        "signer": rng.choice(SIGNERS),
        **{k: rng.choice(v) for k, v in ANSWERS.items()},
        "q1b_earnings": earnings,
        "remarks": remarks,
        "attachments": attachments,
        "translation_needed": translation,
        "other_program_issue": other,
        "any_codes": codes,
    }


def edge_records(count: int, seed: int = 100_000) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [edge_record(rng, n) for n in range(count)]
