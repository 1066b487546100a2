"""The ce-provider-eligibility calc (PM 00215.001D.4.c): edge dates, statuses, sanction, versions."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdrflow.engine.errors import InputError, NoValueInForce, PolicyError
from cdrflow.engine.yamlio import load_yaml
from cdrflow.policy.mpr import eligibility
from cdrflow.policy.mpr.eligibility import ce_provider_eligibility as calc
from cdrflow.policy.registry import REGISTRY

CASES = Path(eligibility.__file__).parent / "cases" / "ce_provider_eligibility.yaml"
AS_OF = dt.date(2024, 6, 15)


def run(status: str = "ACTIVE", expires: dt.date = AS_OF, sanction: bool = False,
        as_of: dt.date = AS_OF) -> dict[str, Any]:
    return calc.run({"license_status": status, "license_expires": expires.isoformat(),
                     "federal_sanction": sanction, "as_of": as_of.isoformat()})


def test_registered_in_the_shared_registry() -> None:
    assert REGISTRY["ce-provider-eligibility"] is calc
    assert calc.source == "PM 00215.001 TN 2 (07-15)"
    assert "currently licensed and without federal sanction" in calc.citation


@pytest.mark.parametrize(
    ("offset", "eligible"),
    [(-1, False), (0, True), (1, True)],
    ids=["expiry the day before as_of", "expiry on as_of", "expiry the day after as_of"],
)
def test_edge_dates(offset: int, eligible: bool) -> None:
    answer = run(expires=AS_OF + dt.timedelta(days=offset))
    assert answer["eligible"] is eligible
    assert answer["currently_licensed"] is eligible
    rules = [s["rule"] for s in answer["trace"]]
    assert ("license:expired" in rules) is (not eligible)
    expiry_reasons = [r for r in answer["reasons"] if "expire" in r["text"] or "runs until" in r["text"]]
    assert expiry_reasons and all("#license-expiry-day" in r["cite"] for r in expiry_reasons)


def test_expiry_day_reason_says_current_through_that_day() -> None:
    answer = run(expires=AS_OF)
    assert any("expires that day and is current through it" in r["text"] for r in answer["reasons"])


@pytest.mark.parametrize("status", ["EXPIRED", "SUSPENDED", "REVOKED"])
def test_a_status_other_than_active_is_not_current_whatever_the_date(status: str) -> None:
    answer = run(status=status, expires=AS_OF + dt.timedelta(days=365))
    assert answer["eligible"] is False
    assert answer["currently_licensed"] is False
    assert any(status in r["text"] and "#currently-licensed" in r["cite"] for r in answer["reasons"])


def test_sanction_bars_a_licensed_source() -> None:
    answer = run(expires=AS_OF + dt.timedelta(days=30), sanction=True)
    assert (answer["eligible"], answer["currently_licensed"]) == (False, True)
    assert answer["without_federal_sanction"] is False
    assert [s["rule"] for s in answer["trace"]] == ["license:current", "sanction:present", "not-eligible"]


def test_every_failing_condition_is_reported() -> None:
    answer = run(status="REVOKED", expires=AS_OF - dt.timedelta(days=1), sanction=True)
    rules = [s["rule"] for s in answer["trace"]]
    assert rules == ["license:status", "license:expired", "sanction:present", "not-eligible"]
    assert len(answer["reasons"]) == len(answer["trace"])


def test_every_reason_cites_d4c_and_the_policy_version_is_recorded() -> None:
    answer = run()
    assert answer["reasons"] and all(r["cite"].startswith("PM 00215.001D.4.c") for r in answer["reasons"])
    assert all(s["cite"].startswith("PM 00215.001D.4.c") for s in answer["trace"])
    assert answer["policy_version"] == {"source": "PM 00215.001 TN 2 (07-15)", "param:mpr_version": "2015-07-22"}
    assert answer["version"] == "TN 2 (07-15)"


def test_a_date_before_tn2_has_no_version_in_force() -> None:
    with pytest.raises(NoValueInForce) as err:
        run(as_of=dt.date(2015, 7, 21), expires=dt.date(2016, 1, 1))
    assert err.value.parameter == "mpr_version"
    assert run(as_of=dt.date(2015, 7, 22), expires=dt.date(2015, 7, 22))["eligible"] is True


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"license_status": "PROBATION"}, "license_status"),
        ({"license_expires": "2024-02-30"}, "license_expires"),
        ({"federal_sanction": "maybe"}, "federal_sanction"),
        ({"as_of": None}, "as_of"),
        ({"npi": "1234567893"}, "npi"),
    ],
)
def test_bad_input_names_the_field(payload: dict[str, Any], field: str) -> None:
    base = {"license_status": "ACTIVE", "license_expires": "2025-01-01", "federal_sanction": False,
            "as_of": "2024-06-15"}
    with pytest.raises(InputError) as err:
        calc.run({**base, **payload})
    assert err.value.field == field


@given(
    status=st.sampled_from(["ACTIVE", "EXPIRED", "SUSPENDED", "REVOKED"]),
    expires=st.dates(dt.date(2010, 1, 1), dt.date(2040, 12, 31)),
    as_of=st.dates(dt.date(2015, 7, 22), dt.date(2040, 12, 31)),
    sanction=st.booleans(),
)
def test_eligible_exactly_when_active_unexpired_and_unsanctioned(
        status: str, expires: dt.date, as_of: dt.date, sanction: bool) -> None:
    answer = run(status, expires, sanction, as_of)
    assert answer["eligible"] is (status == "ACTIVE" and expires >= as_of and not sanction)
    assert answer["currently_licensed"] is (status == "ACTIVE" and expires >= as_of)
    assert answer["trace"][-1]["rule"] == ("eligible" if answer["eligible"] else "not-eligible")


def _cases() -> list[Any]:
    doc = load_yaml(CASES)
    assert doc["calc"] == "ce-provider-eligibility"
    return [pytest.param(case, id=case["name"]) for case in doc["cases"]]


def _subset(expected: Any, actual: Any) -> None:
    if isinstance(expected, dict):
        for key, value in expected.items():
            assert key in actual, key
            _subset(value, actual[key])
    else:
        assert actual == expected


@pytest.mark.parametrize("case", _cases())
def test_seed_style_case(case: dict[str, Any]) -> None:
    """The case file, run here too (tests/policy/test_cases.py runs it once calcs.py imports the module)."""
    assert case["cite"].strip()
    if "error_field" in case:
        if case["error_field"] == "(policy)":
            with pytest.raises(PolicyError) as perr:
                calc.run(dict(case["input"]))
            assert not isinstance(perr.value, InputError)
        else:
            with pytest.raises(InputError) as err:
                calc.run(dict(case["input"]))
            assert err.value.field == case["error_field"]
        return
    answer = calc.run(dict(case["input"]))
    _subset(case["expect"], answer)
    assert answer["trace"] and all(s["cite"] for s in answer["trace"])


def test_the_case_file_holds_the_three_edge_dates() -> None:
    doc = load_yaml(CASES)
    by_expiry = {c["input"]["license_expires"]: c["expect"]["eligible"] for c in doc["cases"]
                 if c["input"].get("as_of") == "2024-06-15" and c["input"].get("license_status") == "ACTIVE"
                 and c["input"].get("federal_sanction") is False}
    assert by_expiry == {"2024-06-14": False, "2024-06-15": True, "2024-06-16": True}


def test_every_cited_interpretation_exists() -> None:
    """Each ``docs/interpretations.md#anchor`` the code and cases cite is an anchor of that page."""
    root = Path(eligibility.__file__).parents[4]
    anchors = set(re.findall(r'<a id="([a-z0-9-]+)"></a>', (root / "docs" / "interpretations.md").read_text()))
    src = root / "src" / "cdrflow"
    sources = [*(src / "policy" / "mpr").rglob("*.*"), *(src / "mpr").glob("*.py")]
    cited = {m for p in sources if p.suffix in (".py", ".yaml")
             for m in re.findall(r"interpretations\.md#([a-z0-9-]+)", p.read_text())}
    assert cited and cited <= anchors, cited - anchors
