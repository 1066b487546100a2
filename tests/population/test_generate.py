from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

from cdrflow.population.generate import generate, generate_frame
from cdrflow.population.io import POLARS_SCHEMA
from cdrflow.population.model import COLUMNS, Beneficiary

N = 20_000


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return generate(N, seed=7)


def share(rows: list[dict[str, Any]], key: str, value: Any) -> float:
    return sum(1 for r in rows if r[key] == value) / len(rows)


def test_same_seed_same_rows() -> None:
    assert generate(500, seed=3) == generate(500, seed=3)


def test_different_seed_differs() -> None:
    a, b = generate(500, seed=3), generate(500, seed=4)
    assert a != b
    assert {r["ssn"] for r in a} != {r["ssn"] for r in b}


def test_frame_and_rows_agree() -> None:
    frame = generate_frame(300, seed=1)
    assert dict(frame.schema) == POLARS_SCHEMA
    assert frame.to_dicts() == generate(300, seed=1)


def test_zero_rows() -> None:
    assert generate(0) == []
    assert generate_frame(0).columns == list(COLUMNS)


def test_all_rows_validate(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        assert Beneficiary.model_validate(r).model_dump() == r


def test_ssns_unique(rows: list[dict[str, Any]]) -> None:
    assert len({r["ssn"] for r in rows}) == len(rows)


@pytest.mark.parametrize(("value", "expected"), [("T2", 0.55), ("T2/16", 0.15), ("T16", 0.30)])
def test_title_mix(rows: list[dict[str, Any]], value: str, expected: float) -> None:
    assert share(rows, "title", value) == pytest.approx(expected, abs=0.03)


def test_profile_mix(rows: list[dict[str, Any]]) -> None:
    assert share(rows, "profile", "L") == pytest.approx(0.85, abs=0.03)
    assert share(rows, "profile", "M") == pytest.approx(0.10, abs=0.02)
    assert share(rows, "profile", "H") == pytest.approx(0.05, abs=0.02)


def test_foreign(rows: list[dict[str, Any]]) -> None:
    foreign = [r for r in rows if r["foreign_address"]]
    assert 0.005 <= len(foreign) / len(rows) <= 0.015
    assert all(r["country"] != "US" and r["state"] is None and r["zip"] is None for r in foreign)


def test_dates_are_plausible(rows: list[dict[str, Any]]) -> None:
    as_of = dt.date(2026, 1, 1)
    for r in rows:
        age = (as_of - r["birth_date"]).days / 365.25
        assert 25 <= age <= 71
        years = (as_of - r["entitlement_date"]).days / 365.25
        assert 0.99 <= years <= 25.1
        assert r["entitlement_date"].day == 1
        assert r["birth_date"] < r["onset_date"] <= r["application_date"]
        assert (r["application_date"] - r["onset_date"]).days <= 731
        assert 0 <= (r["entitlement_date"] - r["application_date"]).days <= 366
        assert r["servicing_pc"] is None


def test_diary_months_spread(rows: list[dict[str, Any]]) -> None:
    due = share_if(rows, lambda r: r["diary_month"] <= "2026-01")
    assert due == pytest.approx(0.05, abs=0.01)
    months = Counter(r["diary_month"] for r in rows if r["diary_month"] > "2026-01")
    assert len(months) == 24
    assert min(months) == "2026-02" and max(months) == "2028-01"
    for count in months.values():
        assert count / len(rows) == pytest.approx(0.95 / 24, abs=0.008)


def share_if(rows: list[dict[str, Any]], pred: Any) -> float:
    return sum(1 for r in rows if pred(r)) / len(rows)


def test_diary_codes(rows: list[dict[str, Any]]) -> None:
    od = Counter(r["od_calc_mdr"] for r in rows)
    assert (od["7"] + od["5"]) / len(rows) > 0.6
    assert od["3"] > 0 and od["A"] + od["B"] > 0
    assert od[None] / len(rows) == pytest.approx(0.08, abs=0.01)
    assert share_if(rows, lambda r: r["od_calc_mdr"] is None and r["qmid_mdr"] is not None) > 0.04
    nothing = [r for r in rows if r["od_calc_mdr"] is None and r["qmid_mdr"] is None]
    assert 0.01 <= len(nothing) / len(rows) <= 0.03
    assert any(r["ssr_mr"] is None for r in nothing) and any(r["ssr_mr"] is not None for r in nothing)
    assert all(r["ssr_mr"] is None for r in rows if r["title"] == "T2")


def test_ssi_diary(rows: list[dict[str, Any]]) -> None:
    for r in rows:
        if r["title"] == "T2":
            assert r["ssi_diary_month"] is None
        else:
            assert r["ssi_diary_month"] == r["diary_month"]


def test_other_mixes(rows: list[dict[str, Any]]) -> None:
    assert share_if(rows, lambda r: r["rep_payee"] is not None) == pytest.approx(0.20, abs=0.02)
    assert share(rows, "language", "ENGLISH") == pytest.approx(0.88, abs=0.02)
    assert share(rows, "language", "SPANISH") == pytest.approx(0.09, abs=0.02)
    assert share_if(rows, lambda r: r["phone"] is not None) > 0.85
    earn = [r for r in rows if r["recent_earnings"] is not None]
    assert len(earn) / len(rows) == pytest.approx(0.10, abs=0.02)
    assert all(r["recent_earnings_year"] is not None for r in earn)
    assert all(r["dds"] == r["fo_state"] for r in rows)
    assert all(r["dds"] == r["state"] for r in rows if not r["foreign_address"])


def test_as_of_moves_the_population() -> None:
    rows = generate(2_000, seed=7, as_of=dt.date(2030, 6, 1))
    assert all(r["entitlement_date"] <= dt.date(2029, 6, 1) for r in rows)
    assert share_if(rows, lambda r: r["diary_month"] <= "2030-06") == pytest.approx(0.05, abs=0.02)
    for r in rows:
        Beneficiary.model_validate(r)
