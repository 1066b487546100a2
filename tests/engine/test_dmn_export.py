"""The DMN 1.3 export of every mailer decision table, run by an independent engine.

Each table in ``src/cdrflow/policy/mailer/tables`` is exported with
:meth:`DecisionTable.to_dmn`, loaded into pyDMNrules (``DMN.useXML``) and evaluated there; every
output, the ``rule`` output column and the rule pyDMNrules reports as fired (the DMN rule's
``label``) must be identical to what our evaluator (:meth:`DecisionTable.decide`) gives.

pyDMNrules takes about 1-5 ms per record (``decidePandas`` only loops over ``decide`` with
pandas overhead, so it is not faster), so its answer for each distinct combination of input
values is computed once and cached (:class:`DmnOracle`). The exhaustive test runs every
combination of tables with at most :data:`EXHAUSTIVE_LIMIT` combinations; the random test draws
:data:`N_RANDOM` records per table, uniformly over each input's domain with a fixed seed, and
checks each of them against the DMN engine's answer for its combination.
"""

from __future__ import annotations

import math
import random
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyDMNrules
import pytest

from cdrflow.engine.errors import InputError
from cdrflow.engine.tables import DecisionTable, load_tables

TABLES_DIR = Path(__file__).resolve().parents[2] / "src" / "cdrflow" / "policy" / "mailer" / "tables"
TABLES = load_tables(TABLES_DIR)
NAMES = sorted(TABLES)
DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"
N_RANDOM = 10_000
EXHAUSTIVE_LIMIT = 5_000
SEED = 20081001

Answer = tuple[dict[str, tuple[str, Any]], str]


def _typed(value: Any) -> tuple[str, Any]:
    """A value with its type, so that ``True`` never equals ``1``.

    pyDMNrules returns FEEL numbers as floats, so a whole float is read as the int it stands for.
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return type(value).__name__, value


def _key(table: DecisionTable, record: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(_typed(record[v.name]) for v in table.inputs)


class DmnOracle:
    """pyDMNrules running one table's exported DMN, answering each combination of inputs once."""

    def __init__(self, table: DecisionTable) -> None:
        self.table = table
        self.dmn = pyDMNrules.DMN()
        self.load_status = self.dmn.useXML(table.to_dmn())
        self._cache: dict[tuple[Any, ...], Answer] = {}
        self.evaluated = 0

    def raw(self, record: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
        status, result = self.dmn.decide(dict(record))
        return status, result

    def answer(self, record: Mapping[str, Any]) -> Answer:
        key = _key(self.table, record)
        if key not in self._cache:
            status, result = self.raw(record)
            assert status == {}, f"pyDMNrules failed on {dict(record)}: {status}"
            assert isinstance(result, dict), f"expected one single-hit result, got {result!r}"
            names = [v.name for v in self.table.outputs] + ["rule"]
            outputs = {name: _typed(result["Result"][name]) for name in names}
            _decision, table_name, rule_label = result["Executed Rule"]
            assert table_name == self.table.name
            self._cache[key] = (outputs, rule_label)
            self.evaluated += 1
        return self._cache[key]


def _expected(table: DecisionTable, record: Mapping[str, Any]) -> Answer:
    hit = table.decide(record)
    outputs = {name: _typed(value) for name, value in hit.outputs.items()}
    outputs["rule"] = _typed(hit.rule)
    return outputs, hit.rule


def _check(table: DecisionTable, oracle: DmnOracle, record: Mapping[str, Any]) -> None:
    expected = _expected(table, record)
    got = oracle.answer(record)
    assert got == expected, f"table {table.name}, record {dict(record)}: DMN gave {got}, ours {expected}"


@pytest.fixture(scope="module")
def oracles() -> dict[str, DmnOracle]:
    return {name: DmnOracle(table) for name, table in TABLES.items()}


def _n_combinations(table: DecisionTable) -> int:
    return math.prod(len(v.domain) for v in table.inputs)


def test_tables_found() -> None:
    assert set(NAMES) >= {
        "actionable",
        "automated_recommendation",
        "pc_review_routing",
        "significant_responses",
        "work_activity",
    }


@pytest.mark.parametrize("name", NAMES)
def test_pydmnrules_loads_export(name: str, oracles: dict[str, DmnOracle]) -> None:
    assert oracles[name].load_status == {}
    assert oracles[name].dmn.isLoaded


@pytest.mark.parametrize("name", NAMES)
def test_every_combination_matches(name: str, oracles: dict[str, DmnOracle]) -> None:
    table = TABLES[name]
    n = _n_combinations(table)
    assert n <= EXHAUSTIVE_LIMIT, f"{name}: {n} combinations; raise EXHAUSTIVE_LIMIT or split the table"
    count = 0
    for record in table.combinations():
        _check(table, oracles[name], record)
        count += 1
    assert count == n


@pytest.mark.parametrize("name", NAMES)
def test_random_records_match(name: str, oracles: dict[str, DmnOracle]) -> None:
    """N_RANDOM uniform random records; each is checked against the DMN engine's answer for its
    combination of input values (computed once per distinct combination and cached)."""
    table = TABLES[name]
    rng = random.Random(SEED ^ zlib.crc32(name.encode()))
    fired: set[str] = set()
    for _ in range(N_RANDOM):
        record = {v.name: rng.choice(v.domain) for v in table.inputs}
        _check(table, oracles[name], record)
        fired.add(table.decide(record).rule)
    # A sanity check on the sampling: small tables are fully covered, so every row fires.
    if _n_combinations(table) <= 100:
        assert fired == {r.id for r in table.rules}


@pytest.mark.parametrize("name", NAMES)
def test_both_reject_values_outside_the_domain(name: str, oracles: dict[str, DmnOracle]) -> None:
    """The exported ``inputValues`` carry the domains. pyDMNrules checks an input only when it
    evaluates a rule's test on it, so every input is set outside its domain here (the first row
    of each table tests at least one input)."""
    table = TABLES[name]
    assert table.rules[0].conditions
    record = {v.name: "NOT-IN-THE-DOMAIN" for v in table.inputs}
    with pytest.raises(InputError):
        table.decide(record)
    status, _ = oracles[name].raw(record)
    assert "errors" in status
    assert any("validity" in e for e in status["errors"])


@pytest.mark.parametrize("name", NAMES)
def test_xml_structure(name: str) -> None:
    table = TABLES[name]
    ns = {"dmn": DMN_NS}
    root = ET.fromstring(table.to_dmn())
    assert root.tag == f"{{{DMN_NS}}}definitions"
    assert root.get("name") and root.get("namespace")
    decisions = root.findall("dmn:decision", ns)
    assert len(decisions) == 1
    decision = decisions[0]
    assert decision.get("name") == table.name
    assert decision.find("dmn:variable", ns) is None  # see the pyDMNrules notes in to_dmn
    dts = decision.findall("dmn:decisionTable", ns)
    assert len(dts) == 1
    dt = dts[0]
    assert dt.get("hitPolicy") == "FIRST"

    # Every input is declared as inputData and required by the decision.
    input_data = {e.get("name"): e.get("id") for e in root.findall("dmn:inputData", ns)}
    assert list(input_data) == [v.name for v in table.inputs]
    required = [e.get("href") for e in decision.findall("dmn:informationRequirement/dmn:requiredInput", ns)]
    assert required == [f"#{input_data[v.name]}" for v in table.inputs]

    inputs = dt.findall("dmn:input", ns)
    assert [i.findtext("dmn:inputExpression/dmn:text", namespaces=ns) for i in inputs] == [v.name for v in table.inputs]
    assert [i.get("label") for i in inputs] == [v.name for v in table.inputs]
    outputs = dt.findall("dmn:output", ns)
    assert [o.get("name") for o in outputs] == [v.name for v in table.outputs] + ["rule"]

    rules = dt.findall("dmn:rule", ns)
    assert len(rules) == len(table.rules)
    for element, rule in zip(rules, table.rules, strict=True):
        assert element.get("label") == rule.id
        descriptions = element.findall("dmn:description", ns)
        assert len(descriptions) == 1
        assert rule.cite in (descriptions[0].text or "")
        assert len(element.findall("dmn:inputEntry", ns)) == len(table.inputs)
        entries = element.findall("dmn:outputEntry", ns)
        assert len(entries) == len(table.outputs) + 1
        assert entries[-1].findtext("dmn:text", namespaces=ns) == f'"{rule.id}"'

    # Every id is unique (xsd:ID).
    all_ids = [e.get("id") for e in root.iter() if e.get("id") is not None]
    assert len(all_ids) == len(set(all_ids))


@pytest.mark.parametrize("name", NAMES)
def test_table_is_gap_free_and_every_row_reachable(name: str) -> None:
    table = TABLES[name]
    assert table.uncovered() == []
    assert table.unreachable_rows() == []
