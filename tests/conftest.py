from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cdrflow.policy.mailer import jurisdiction
from cdrflow.policy.mailer.calcs import REGISTRY

from .dbfixtures import pg_roles

__all__ = ["pg_roles"]  # the PostgreSQL owner and application roles, once per session (tests/dbfixtures.py)

FIXTURES = Path(__file__).parent / "policy" / "fixtures"

BASE_MAILER: dict[str, Any] = {
    "mailer_id": "M-0001",
    "ssn": "123456789",
    "title": "T2",
    "form": "SSA-455-OCR-SM",
    "request": "FIRST",
    "profile": "L",
    "report_period_start": "2024-01",
    "signed": True,
    "signer": "BENEFICIARY",
    "q1a_worked": "NO",
    "q1b_earnings": [],
    "q2_school": "NO",
    "q3_doctor_work": "CANNOT_WORK",
    "q4_health": "SAME",
    "q5_doctor_visits": "YES",
    "q6_hospitalized": "NO",
    "vr_interest": None,
    "remarks": None,
    "attachments": [],
    "translation_needed": False,
    "other_program_issue": False,
}
"""A LOW-profile, signed, nonactionable SSA-455-OCR-SM whose answers agree with the profile."""


@pytest.fixture
def registry() -> Any:
    return REGISTRY


@pytest.fixture
def test_ssn_table() -> jurisdiction.SsnTable:
    """The illustrative PC 1-6 fixture table, as a site table a test gives to what it calls."""
    return jurisdiction.load_ssn_table(FIXTURES / "pc_ssn_test_table.yaml")


def mailer(**changes: Any) -> dict[str, Any]:
    return {**BASE_MAILER, **changes}
