from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from cdrflow.dcf.schema import beneficiaries
from cdrflow.population.generate import generate
from cdrflow.population.model import COLUMNS, REQUIRED, SPECS, Beneficiary, check_ssn


@pytest.fixture(scope="module")
def base() -> dict[str, Any]:
    row = next(r for r in generate(200, seed=3) if r["title"] == "T2" and not r["foreign_address"])
    return dict(row)


def errors(**row: Any) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as info:
        Beneficiary.model_validate(row)
    return info.value.errors()


def test_columns_are_the_schema_columns_in_order() -> None:
    expected = tuple(c.name for c in beneficiaries.columns if c.name not in ("version", "updated_at"))
    assert expected == COLUMNS
    assert tuple(s.name for s in SPECS) == COLUMNS


def test_required_is_not_null_in_the_schema() -> None:
    expected = {c.name for c in beneficiaries.columns if not c.nullable and c.name not in ("version", "updated_at")}
    assert expected == REQUIRED
    for name, field in Beneficiary.model_fields.items():
        assert field.is_required() == (name in REQUIRED), name


def test_text_lengths_fit_the_schema() -> None:
    for s in SPECS:
        length = getattr(beneficiaries.c[s.name].type, "length", None)
        assert s.max_len == length, s.name


def test_a_generated_row_validates(base: dict[str, Any]) -> None:
    b = Beneficiary.model_validate(base)
    assert b.model_dump() == base


@pytest.mark.parametrize(
    ("ssn", "words"),
    [
        ("12345678", "9 digits"),
        ("12345678a", "9 digits"),
        ("000123456", "area number"),
        ("666123456", "area number"),
        ("912345678", "area number"),
        ("123001234", "group number"),
        ("123450000", "serial number"),
    ],
)
def test_bad_ssn(ssn: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        check_ssn(ssn)


@pytest.mark.parametrize("ssn", ["001010001", "665999999", "667010001", "899999999"])
def test_good_ssn(ssn: str) -> None:
    assert check_ssn(ssn) == ssn


def test_strings_are_parsed(base: dict[str, Any]) -> None:
    text = {k: (None if v is None else str(v)) for k, v in base.items()}
    text["foreign_address"] = "N"
    text["recent_earnings_year"], text["recent_earnings"] = "2024", "1234.5"
    b = Beneficiary.model_validate(text)
    assert b.birth_date == base["birth_date"]
    assert b.foreign_address is False
    assert b.recent_earnings == Decimal("1234.50")
    assert b.recent_earnings_year == 2024


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "Y", "y"])
def test_boolean_spellings_true(base: dict[str, Any], value: str) -> None:
    row = {**base, "country": "MX", "state": None, "zip": None, "foreign_address": value}
    assert Beneficiary.model_validate(row).foreign_address is True


@pytest.mark.parametrize("value", ["yes", "T", "2", ""])
def test_boolean_other_spellings_rejected(base: dict[str, Any], value: str) -> None:
    errs = errors(**{**base, "foreign_address": value})
    assert errs[0]["loc"] == ("foreign_address",)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("diary_month", "2026-13"),
        ("diary_month", "2026-00"),
        ("diary_month", "2026-1"),
        ("title", "T18"),
        ("profile", "X"),
        ("od_calc_mdr", "4"),
        ("od_calc_mdr", "a"),
        ("qmid_mdr", "77"),
        ("diagnosis_primary", "296"),
        ("dds", "Pa"),
        ("country", "USA"),
        ("language", "english"),
        ("language", ""),
        ("servicing_pc", 9),
        ("servicing_pc", "0"),
        ("birth_date", "1970-02-30"),
        ("birth_date", "19700101"),
        ("birth_date", dt.datetime(1970, 1, 1)),
        ("profile_score", "nan"),
        ("profile_score", "120"),  # a 0-9999 SCORE, not the fraction 0-1 the column holds (B.8)
        ("profile_score", 1.0001),
        ("profile_score", "-0.1"),
        ("recent_earnings_year", "1936"),
        ("fo_zip", "1234"),
        ("name", "   "),
        ("name", "X" * 121),
    ],
)
def test_bad_value_names_the_field(base: dict[str, Any], field: str, value: Any) -> None:
    errs = errors(**{**base, field: value})
    assert errs[0]["loc"] == (field,)
    assert field in str(errs[0]["ctx"]["error"])


def test_required_field_empty(base: dict[str, Any]) -> None:
    errs = errors(**{**base, "name": None})
    assert errs[0]["loc"] == ("name",)
    assert "name is required" in errs[0]["msg"]


def test_extra_field_forbidden(base: dict[str, Any]) -> None:
    errs = errors(**{**base, "version": 1})
    assert errs[0]["type"] == "extra_forbidden"


def test_foreign_address_must_match_country(base: dict[str, Any]) -> None:
    errs = errors(**{**base, "foreign_address": True})
    assert errs[0]["loc"] == ("foreign_address",)
    assert "foreign_address" in errs[0]["msg"] and "country" in errs[0]["msg"]
    errs = errors(**{**base, "country": "MX", "state": None, "zip": None, "foreign_address": False})
    assert errs[0]["loc"] == ("foreign_address",)


def test_domestic_address_needs_state_and_zip(base: dict[str, Any]) -> None:
    errs = errors(**{**base, "state": None})
    assert errs[0]["ctx"]["error"].field == "state"
    errs = errors(**{**base, "zip": "K1A 0B1"})
    assert errs[0]["ctx"]["error"].field == "zip"
    foreign = {**base, "country": "CA", "state": "ON", "zip": "K1A 0B1", "foreign_address": True}
    assert Beneficiary.model_validate(foreign).zip == "K1A 0B1"


def test_ssi_diary_only_with_title_xvi(base: dict[str, Any]) -> None:
    errs = errors(**{**base, "title": "T2", "ssi_diary_month": base["diary_month"]})
    assert errs[0]["loc"] == ("ssi_diary_month",)
    for title in ("T2/16", "T16"):
        Beneficiary.model_validate({**base, "title": title, "ssi_diary_month": base["diary_month"]})


def test_birth_before_application_but_onset_may_precede_entitlement(base: dict[str, Any]) -> None:
    errs = errors(**{**base, "birth_date": base["application_date"]})
    assert errs[0]["loc"] == ("application_date",)
    assert "birth_date" in errs[0]["msg"]
    early_onset = base["entitlement_date"] - dt.timedelta(days=400)
    Beneficiary.model_validate({**base, "onset_date": early_onset})
    errs = errors(**{**base, "onset_date": base["birth_date"] - dt.timedelta(days=1)})
    assert errs[0]["loc"] == ("onset_date",)


def test_earnings_come_with_a_year(base: dict[str, Any]) -> None:
    errs = errors(**{**base, "recent_earnings": Decimal("100.00"), "recent_earnings_year": None})
    assert errs[0]["loc"] == ("recent_earnings",)
    errs = errors(**{**base, "recent_earnings": Decimal("100.001"), "recent_earnings_year": 2024})
    assert errs[0]["loc"] == ("recent_earnings",)


def test_folder_data_come_together_and_qmid_flag_is_optional(base: dict[str, Any]) -> None:
    """F.3 folder location and date in location are one piece of PCACS/SSICCS data; J.3.a's flag is a boolean."""
    ok = Beneficiary.model_validate({**base, "folder_location": "MEGASITE", "folder_date_in_location": "2021-03-02",
                                     "qmid_medical_blank": "Y"})
    assert ok.folder_date_in_location == dt.date(2021, 3, 2) and ok.qmid_medical_blank is True
    assert Beneficiary.model_validate(base).qmid_medical_blank is None
    for loc, when in (("MEGASITE", None), (None, "2021-03-02")):
        errs = errors(**{**base, "folder_location": loc, "folder_date_in_location": when})
        assert errs[0]["loc"] == ("folder_date_in_location",)
        assert "folder_location and folder_date_in_location" in str(errs[0]["ctx"]["error"])
    assert errors(**{**base, "qmid_medical_blank": "maybe"})[0]["loc"] == ("qmid_medical_blank",)


def test_first_failing_field_is_in_column_order(base: dict[str, Any]) -> None:
    errs = errors(**{**base, "phone": "x", "title": "T9", "ssn": "000000000"})
    assert [e["loc"][0] for e in errs] == ["ssn", "title", "phone"]
