"""Each table: the compiled Polars expression gives the per-record answer for every combination."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from cdrflow.engine.errors import InputError, PolicyError
from cdrflow.engine.tables import DecisionTable
from cdrflow.policy.mailer.source import tables


@pytest.mark.parametrize("name", sorted(tables()))
def test_polars_compile_equals_decide_on_every_combination(name: str) -> None:
    t = tables()[name]
    combos = list(t.combinations())
    frame = pl.DataFrame(combos)
    outs = t.polars_outputs()
    got = frame.select(*outs.values()).to_dicts()
    for combo, row in zip(combos, got, strict=True):
        hit = t.decide(combo)
        assert row[f"{name}__rule"] == hit.rule
        for k, v in hit.outputs.items():
            assert row[k] == v


@pytest.mark.parametrize("name", sorted(tables()))
def test_every_row_cites_a_passage(name: str) -> None:
    for rule in tables()[name].rules:
        assert rule.cite.startswith("DI 40502.001")


def _table(rules: list[dict[str, object]]) -> DecisionTable:
    return DecisionTable.from_mapping({
        "name": "t", "citation": "X", "effective": dt.date(2020, 1, 1),
        "inputs": [{"name": "a", "domain": ["YES", "NO"]}, {"name": "b", "domain": [True, False]}],
        "outputs": [{"name": "o", "domain": [1, 2]}],
        "rules": rules,
    })


def test_gap_and_dead_row_detection() -> None:
    t = _table([
        {"id": "1", "when": {"a": "YES"}, "then": {"o": 1}, "cite": "c"},
        {"id": "2", "when": {"a": "YES", "b": True}, "then": {"o": 2}, "cite": "c"},
    ])
    assert t.uncovered() == [{"a": "NO", "b": True}, {"a": "NO", "b": False}]
    assert t.unreachable_rows() == ["2"]


def test_first_hit_and_not_condition() -> None:
    t = _table([
        {"id": "1", "when": {"b": {"not": False}}, "then": {"o": 2}, "cite": "c"},
        {"id": "2", "then": {"o": 1}, "cite": "c"},
    ])
    assert t.decide({"a": "NO", "b": True}).rule == "1"
    assert t.decide({"a": "NO", "b": False}).outputs == {"o": 1}


def test_table_errors_name_the_problem() -> None:
    with pytest.raises(PolicyError, match="citation"):
        _table([{"id": "1", "then": {"o": 1}}])
    with pytest.raises(PolicyError, match="outside the domain"):
        _table([{"id": "1", "when": {"a": "MAYBE"}, "then": {"o": 1}, "cite": "c"}])
    t = _table([{"id": "1", "then": {"o": 1}, "cite": "c"}])
    with pytest.raises(InputError) as err:
        t.decide({"a": "MAYBE", "b": True})
    assert err.value.field == "a"
