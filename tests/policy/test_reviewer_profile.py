"""The profile code a DE/DEC/DC reviews with (DI 40502.001J.2.d): mailer/facsimile, profile sheet, DCF."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from cdrflow.engine.errors import InputError
from cdrflow.policy.mailer.registry import REGISTRY

CODES = ["H", "M", "L", None]
WORD = {"H": "High", "M": "Medium", "L": "Low"}


def run(payload: dict[str, Any]) -> dict[str, Any]:
    return REGISTRY["reviewer-profile"].run(payload)


@pytest.mark.parametrize(("mailer", "sheet", "dcf"), list(itertools.product(CODES, CODES, CODES)))
def test_priority_mailer_then_sheet_then_dcf(mailer: str | None, sheet: str | None, dcf: str | None) -> None:
    payload = {"mailer_code": mailer, "profile_sheet": WORD[sheet] if sheet else None, "dcf_code": dcf}
    if mailer is None and sheet is None and dcf is None:
        with pytest.raises(InputError) as err:
            run(payload)
        assert err.value.field == "dcf_code"
        return
    out = run(payload)
    expected, source = next((c, s) for c, s in ((mailer, "MAILER_OR_FACSIMILE"), (sheet, "PROFILE_SHEET"),
                                                (dcf, "DCF")) if c is not None)
    assert (out["profile"], out["source"], out["word"]) == (expected, source, WORD[expected])
    # "conflict between the codes": the mailer/facsimile code and the profile sheet's word
    assert out["conflict"] == (mailer is not None and sheet is not None and mailer != sheet)
    others = [c for c in (mailer, sheet, dcf) if c is not None and c != expected]
    assert len(out["disagreements"]) == len(others)
    assert all("DI 40502.001J.2.d" in d for d in out["disagreements"])
    rows = [s["rule"] for s in out["trace"]]
    assert rows[0].startswith("reviewer_profile_source:PS-")
    assert ("reviewer-profile:conflict" in rows) == out["conflict"]


@pytest.mark.parametrize(("sheet", "dcf"), list(itertools.product(CODES, CODES[:3])))
def test_hard_paper_always_uses_the_dcf(sheet: str | None, dcf: str) -> None:
    out = run({"hard_paper": True, "profile_sheet": WORD[sheet] if sheet else None, "dcf_code": dcf})
    assert (out["profile"], out["source"], out["conflict"]) == (dcf, "DCF", False)
    assert out["trace"][0]["rule"] == "reviewer_profile_source:PS-HARD-PAPER"


def test_conflict_names_both_codes_and_the_winner() -> None:
    out = run({"mailer_code": "L", "profile_sheet": "high", "dcf_code": "M"})
    assert out["profile"] == "L" and out["conflict"] is True
    assert out["disagreements"] == [
        "the profile sheet says High, the mailer or facsimile (scanline 2, field 3) says Low: the code on the mailer "
        "or facsimile has the highest priority (DI 40502.001J.2.d)",
        "the DCF says Medium, the mailer or facsimile (scanline 2, field 3) says Low: the DCF is queried only when no "
        "profile code is provided (DI 40502.001J.2.d)",
    ]
    assert out["policy_version"]["table:reviewer_profile_source"] == "2008-10-01"


@pytest.mark.parametrize(("payload", "field"), [
    ({"hard_paper": True, "mailer_code": "L", "dcf_code": "L"}, "mailer_code"),
    ({"hard_paper": True, "profile_sheet": "Low"}, "dcf_code"),
    ({"mailer_code": "X"}, "mailer_code"),
    ({"profile_sheet": "Moderate"}, "profile_sheet"),
    ({"dcf_code": "L", "colour": "red"}, "colour"),
])
def test_bad_input_names_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as err:
        run(payload)
    assert err.value.field == field
