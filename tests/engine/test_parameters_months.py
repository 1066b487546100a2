from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cdrflow.engine.errors import NoValueInForce, PolicyError
from cdrflow.engine.months import Month, fiscal_year
from cdrflow.engine.parameters import LATEST, Parameter, ParameterSet
from cdrflow.policy.mailer.source import parameters


def test_lookup_by_date_and_error_before_first() -> None:
    p = Parameter.from_mapping(
        "x", {"values": {"2008-10-01": {"value": 1, "reference": "A"}, "2010-01-01": {"value": 2, "reference": "B"}}}
    )
    assert p(dt.date(2008, 10, 1)) == 1
    assert p(dt.date(2009, 12, 31)) == 1
    assert p(dt.date(2010, 1, 1)) == 2
    assert p.at(LATEST).reference == "B"
    with pytest.raises(NoValueInForce) as err:
        p(dt.date(2008, 9, 30))
    assert "2008-10-01" in str(err.value)


def test_every_value_needs_a_reference() -> None:
    with pytest.raises(PolicyError):
        Parameter.from_mapping("x", {"values": {"2008-10-01": {"value": 1}}})


def test_shipped_parameters_cite_every_value() -> None:
    ps = parameters()
    assert {"sga_monthly_nonblind", "sga_monthly_blind", "earnings_threshold_q1b", "earnings_tolerance_t2",
            "second_request_days", "nonresponder_days", "selection_cadence_months", "diary_durations",
            "cdt_codes"} <= set(ps)
    for p in ps.values():
        for v in p.values:
            assert v.reference.strip()


def test_seed_figures_are_the_parameters() -> None:
    ps = parameters()
    on = dt.date(2009, 1, 1)
    assert ps["earnings_threshold_q1b"](on) == 701
    assert ps["second_request_days"](on) == 90
    assert ps["nonresponder_days"](on) == 150
    assert ps["selection_cadence_months"](on) == {"T2": 4, "T2/16": 4, "T16": 6}
    assert ps["diary_durations"](on) == {"MIE": 18, "MIP": 36, "MINE": 84, "MINE_5": 60}
    assert ps["earnings_tolerance_t2"](dt.date(2008, 1, 1)) == {"weekly": 217, "monthly": 940, "annual": 11280}
    assert ps["sga_monthly_nonblind"](dt.date(2008, 6, 1)) == 940


def test_tolerance_follows_the_seed_relation_every_year() -> None:
    ps = parameters()
    for v in ps["earnings_tolerance_t2"].values:
        sga = ps["sga_monthly_nonblind"](v.effective)
        assert v.value["monthly"] == sga
        assert v.value["annual"] == 12 * sga
        assert abs(v.value["weekly"] - 12 * sga / 52) <= 0.5


def test_months() -> None:
    assert Month.parse("2008-10") + 18 == Month(2010, 4)
    assert Month.parse("2010-04") - Month.parse("2008-10") == 18
    assert str(Month(2015, 10)) == "2015-10"
    for bad in ("2008-13", "2008-1", "08-10", "2008-00"):
        with pytest.raises(ValueError):
            Month.parse(bad)
    assert fiscal_year(dt.date(1999, 10, 1)) == 2000
    assert fiscal_year(dt.date(2000, 9, 30)) == 2000


def test_parameter_set_loads_a_directory(tmp_path: Path) -> None:
    (tmp_path / "y.yaml").write_text('values:\n  2020-01-01: {value: "YES", reference: "R"}\n')
    ps = ParameterSet.load(tmp_path)
    assert ps["y"](dt.date(2021, 1, 1)) == "YES", "YES stays a string (YAML 1.2 booleans)"
