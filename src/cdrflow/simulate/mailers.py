"""Synthetic returned mailers with realistic mixes.

The mix follows what DI 40502.001 says of the population: mailers go mostly to LOW profile
cases (B.2); most responses agree with the profile; a minority report work, remarks,
attachments or need translation. The generator is seeded: the same seed gives the same file.
A small share of deliberately bad records (``bad_share``) exercises the reject path.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _pick(rng: random.Random, weights: dict[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def issued_ssn(rng: random.Random) -> str:
    """An SSN the one rule accepts (cdrflow.kernel.ssn): area 001-665 or 667-899, group 01-99, serial 0001-9999."""
    area = rng.randint(1, 898)
    return f"{area + (area >= 666):03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"


def mailer(rng: random.Random, n: int) -> dict[str, Any]:
    title = _pick(rng, {"T2": 0.55, "T2/16": 0.15, "T16": 0.30})
    profile = _pick(rng, {"L": 0.96, "M": 0.03, "H": 0.01})
    year = rng.randint(2009, 2025)
    month = rng.randint(1, 12)
    rp = f"{year:04d}-{month:02d}"
    q1a = _pick(rng, {"NO": 0.91, "YES": 0.05, None: 0.03, "BOTH": 0.01})
    earnings: list[dict[str, Any]] = []
    if q1a in ("YES", "BOTH") or rng.random() < 0.02:
        for _ in range(rng.randint(1, 3)):
            ey = year + rng.randint(-2, 1)
            began = f"{ey:04d}-{rng.randint(1, 12):02d}"
            ended = _pick(rng, {None: 0.5, f"{ey:04d}-12": 0.5})
            earnings.append(
                {
                    "work_began": _pick(rng, {began: 0.85, None: 0.15}),
                    "work_ended": ended,
                    "monthly_earnings": _pick(
                        rng, {round(rng.uniform(50, 690), 2): 0.6, round(rng.uniform(701, 3000), 2): 0.3, None: 0.1}
                    ),
                }
            )
    remarks = None
    r = rng.random()
    if r < 0.04:
        subject = _pick(rng, {"MEDICAL": 0.6, "WORK": 0.15, "WORK_AND_MEDICAL": 0.05, "MISC": 0.2})
        words = rng.randint(3, 60)
        remarks = {"text": " ".join(rng.choice(_WORDS) for _ in range(words)), "relevant": True, "subject": subject}
    elif r < 0.09:
        remarks = {"text": "THANK YOU", "relevant": False, "subject": None}
    attachments = []
    if rng.random() < 0.05:
        kind = _pick(rng, {"MEDICAL_EVIDENCE": 0.7, "PAY_STUB": 0.2, "OTHER": 0.1})
        attachments.append({"kind": kind, "relevant": rng.random() < 0.8})
    return {
        "mailer_id": f"M{n:09d}",
        "ssn": issued_ssn(rng),
        "title": title,
        "form": _pick(rng, {"SSA-455-OCR-SM": 0.97, "SSA-455": 0.03}),
        "request": _pick(rng, {"FIRST": 0.8, "SECOND": 0.2}),
        "profile": profile,
        "report_period_start": rp,
        "signed": True,
        "signer": _pick(
            rng,
            {"BENEFICIARY": 0.7, "REPRESENTATIVE_PAYEE": 0.26, "PHYSICIAN": 0.005, "NURSE": 0.005,
             "FACILITY_STAFF": 0.01, "OTHER": 0.0},
        ),
        "q1a_worked": q1a,
        "q1b_earnings": earnings,
        "q2_school": _pick(rng, {"NO": 0.95, "YES": 0.03, None: 0.02}),
        "q3_doctor_work": _pick(
            rng, {"CANNOT_WORK": 0.7, "HAVE_NOT_DISCUSSED": 0.25, "CAN_WORK": 0.02, None: 0.03}
        ),
        "q4_health": _pick(rng, {"SAME": 0.55, "WORSE": 0.41, "BETTER": 0.015, None: 0.025}),
        "q5_doctor_visits": _pick(rng, {"YES": 0.93, "NO": 0.05, None: 0.02}),
        "q6_hospitalized": _pick(rng, {"NO": 0.7, "YES": 0.28, None: 0.02}),
        "vr_interest": _pick(rng, {"NO": 0.8, "YES": 0.05, None: 0.15}),
        "remarks": remarks,
        "attachments": attachments,
        "translation_needed": rng.random() < 0.01,
        "other_program_issue": rng.random() < 0.02,
    }


_WORDS = "MY DOCTOR SAYS PAIN BACK HEART SURGERY WORKED PART TIME CLINIC MEDICINE THERAPY HOSPITAL".split()

_BREAKERS = (
    ("ssn", "12345"),
    ("profile", "X"),
    ("report_period_start", "2024-13"),
    ("signed", False),
    ("q4_health", "GREAT"),
)


def generate(count: int, seed: int = 455, bad_share: float = 0.0) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for n in range(1, count + 1):
        rec = mailer(rng, n)
        if bad_share and rng.random() < bad_share:
            field, value = rng.choice(_BREAKERS)
            rec[field] = value
        yield rec


def write_jsonl(path: Path, count: int, seed: int = 455, bad_share: float = 0.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for rec in generate(count, seed, bad_share):
            fh.write(json.dumps(rec) + "\n")
    return path
