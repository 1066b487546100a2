"""Decision tables as declarative data.

A table has named inputs with finite domains, named outputs, and ordered rows. Each row
has conditions on some inputs, the outputs it gives, and the citation of the passage it
implements. The hit policy is FIRST: the first row whose conditions all hold fires, so an
"unless" clause is written as a row *above* the general rule (Catala's exceptions).

The same table is

* evaluated per record, returning the outputs and the row that fired (:meth:`DecisionTable.decide`);
* compiled to one vectorized Polars expression per output (:meth:`DecisionTable.polars_outputs`);
* exported as DMN 1.3 XML (:meth:`DecisionTable.to_dmn`), so other engines can run it;
* checked for gaps: every combination of the inputs' domains must hit a row
  (:meth:`DecisionTable.uncovered`) and rows that can never fire are reported
  (:meth:`DecisionTable.unreachable_rows`).

Row condition syntax in YAML: ``input: VALUE`` (equals), ``input: [A, B]`` (one of),
``input: {not: VALUE-or-list}`` (none of); an input not mentioned matches anything.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import polars as pl

from .errors import InputError, PolicyError
from .yamlio import load_yaml

Scalar = str | bool | int


@dataclass(frozen=True, slots=True)
class Condition:
    """The set of values an input may take for a row to match (``None`` means any)."""

    allowed: frozenset[Scalar] | None

    def matches(self, value: Any) -> bool:
        return self.allowed is None or value in self.allowed


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    conditions: Mapping[str, Condition]
    outputs: Mapping[str, Any]
    cite: str
    note: str = ""

    def matches(self, record: Mapping[str, Any]) -> bool:
        return all(cond.matches(record[name]) for name, cond in self.conditions.items())


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    domain: tuple[Scalar, ...]
    description: str = ""


@dataclass(frozen=True, slots=True)
class Hit:
    """What a table decided for one record: the outputs and the row that fired."""

    table: str
    rule: str
    outputs: Mapping[str, Any]
    cite: str
    note: str = ""

    def trace(self) -> dict[str, str]:
        return {"table": self.table, "rule": self.rule, "cite": self.cite, "note": self.note}


@dataclass(frozen=True)
class DecisionTable:
    name: str
    title: str
    citation: str
    effective: dt.date
    inputs: tuple[Variable, ...]
    outputs: tuple[Variable, ...]
    rules: tuple[Rule, ...]
    hit_policy: str = "FIRST"
    _domains: Mapping[str, frozenset[Scalar]] = field(default_factory=dict, repr=False)

    # ----------------------------------------------------------------- loading
    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> DecisionTable:
        name = str(data["name"])
        hit_policy = str(data.get("hit_policy", "FIRST")).upper()
        if hit_policy != "FIRST":
            raise PolicyError(f"table {name}: only the FIRST hit policy is supported, got {hit_policy}")
        inputs = tuple(_variable(v, name) for v in data["inputs"])
        outputs = tuple(_variable(v, name) for v in data["outputs"])
        domains = {v.name: frozenset(v.domain) for v in inputs}
        out_domains = {v.name: frozenset(v.domain) for v in outputs}
        rules: list[Rule] = []
        seen: set[str] = set()
        for raw in data["rules"]:
            rid = str(raw["id"])
            if rid in seen:
                raise PolicyError(f"table {name}: duplicate rule id {rid}")
            seen.add(rid)
            if not raw.get("cite"):
                raise PolicyError(f"table {name} rule {rid}: every row needs a citation ('cite')")
            conds: dict[str, Condition] = {}
            for var, spec in (raw.get("when") or {}).items():
                if var not in domains:
                    raise PolicyError(f"table {name} rule {rid}: unknown input {var!r}")
                conds[var] = _condition(spec, domains[var], f"table {name} rule {rid} input {var}")
            outs = dict(raw["then"])
            if set(outs) != set(out_domains):
                raise PolicyError(
                    f"table {name} rule {rid}: outputs must be exactly {sorted(out_domains)}, got {sorted(outs)}"
                )
            for o, v in outs.items():
                if v not in out_domains[o]:
                    raise PolicyError(f"table {name} rule {rid}: output {o}={v!r} is outside its domain")
            rules.append(Rule(rid, conds, outs, str(raw["cite"]), str(raw.get("note", "")).strip()))
        eff = data["effective"]
        if isinstance(eff, str):
            eff = dt.date.fromisoformat(eff)
        return cls(
            name=name,
            title=str(data.get("title", name)),
            citation=str(data["citation"]),
            effective=eff,
            inputs=inputs,
            outputs=outputs,
            rules=tuple(rules),
            hit_policy=hit_policy,
            _domains=domains,
        )

    @classmethod
    def load(cls, path: Path) -> DecisionTable:
        return cls.from_mapping(load_yaml(path))

    @property
    def version(self) -> str:
        return f"{self.name}@{self.effective.isoformat()}"

    # ------------------------------------------------------------ per record
    def decide(self, record: Mapping[str, Any]) -> Hit:
        for var in self.inputs:
            if var.name not in record:
                raise InputError(var.name, f"missing input to table {self.name}")
            if record[var.name] not in self._domains[var.name]:
                raise InputError(
                    var.name,
                    f"{record[var.name]!r} is outside the domain {list(var.domain)} of table {self.name}",
                )
        for rule in self.rules:
            if rule.matches(record):
                return Hit(self.name, rule.id, rule.outputs, rule.cite, rule.note)
        raise PolicyError(f"table {self.name}: no row matches {dict(record)}")

    # ------------------------------------------------------------ vectorized
    def polars_outputs(self, columns: Mapping[str, pl.Expr] | None = None) -> dict[str, pl.Expr]:
        """One ``when/then`` chain per output (plus ``<name>__rule``), FIRST hit order.

        ``columns`` maps input names to expressions; by default ``pl.col(name)``.
        Records that match no row get null, which a caller treats as a gap.
        """
        cols = {v.name: (columns or {}).get(v.name, pl.col(v.name)) for v in self.inputs}
        preds = [self._polars_predicate(rule, cols) for rule in self.rules]
        result: dict[str, pl.Expr] = {}
        targets: list[tuple[str, list[Any]]] = [
            (o.name, [r.outputs[o.name] for r in self.rules]) for o in self.outputs
        ]
        targets.append((f"{self.name}__rule", [r.id for r in self.rules]))
        for out_name, values in targets:
            chain: Any = None
            for pred, value in zip(preds, values, strict=True):
                chain = pl.when(pred).then(pl.lit(value)) if chain is None else chain.when(pred).then(pl.lit(value))
            result[out_name] = chain.otherwise(pl.lit(None)).alias(out_name)
        return result

    @staticmethod
    def _polars_predicate(rule: Rule, cols: Mapping[str, pl.Expr]) -> pl.Expr:
        pred = pl.lit(True)
        for name, cond in rule.conditions.items():
            if cond.allowed is None:
                continue
            vals = sorted(cond.allowed, key=repr)
            term = cols[name] == pl.lit(vals[0]) if len(vals) == 1 else cols[name].is_in(vals)
            pred = pred & term
        return pred

    # ------------------------------------------------------------ analysis
    def combinations(self) -> Iterable[dict[str, Scalar]]:
        names = [v.name for v in self.inputs]
        for combo in itertools.product(*(v.domain for v in self.inputs)):
            yield dict(zip(names, combo, strict=True))

    def uncovered(self) -> list[dict[str, Scalar]]:
        """Every combination of input values that no row matches (a gap in the table)."""
        return [c for c in self.combinations() if not any(r.matches(c) for r in self.rules)]

    def unreachable_rows(self) -> list[str]:
        """Rows that never fire because rows above them catch every case they match."""
        fired: set[str] = set()
        for c in self.combinations():
            for r in self.rules:
                if r.matches(c):
                    fired.add(r.id)
                    break
        return [r.id for r in self.rules if r.id not in fired]

    # ------------------------------------------------------------ DMN 1.3
    def to_dmn(self) -> str:
        """This table as a DMN 1.3 XML document with one decision (hit policy FIRST)."""
        ns = "https://www.omg.org/spec/DMN/20191111/MODEL/"
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<definitions xmlns="{ns}" id="cdrflow_{self.name}" name="{escape(self.title)}" '
            f'namespace="https://cdrflow.example/dmn/{self.name}">',
            f'  <decision id="{self.name}" name="{escape(self.title)}">',
            f"    <description>{escape(self.citation)}; effective {self.effective.isoformat()}</description>",
            f'    <decisionTable id="{self.name}_table" hitPolicy="FIRST">',
        ]
        for var in self.inputs:
            lines += [
                f'      <input id="in_{var.name}" label="{var.name}">',
                f'        <inputExpression id="expr_{var.name}" typeRef="{_feel_type(var.domain)}">',
                f"          <text>{var.name}</text>",
                "        </inputExpression>",
                "        <inputValues>",
                f"          <text>{escape(', '.join(_feel(v) for v in var.domain))}</text>",
                "        </inputValues>",
                "      </input>",
            ]
        for var in self.outputs:
            lines.append(
                f'      <output id="out_{var.name}" label="{var.name}" name="{var.name}" '
                f'typeRef="{_feel_type(var.domain)}"/>'
            )
        lines.append('      <output id="out_rule" label="rule" name="rule" typeRef="string"/>')
        for rule in self.rules:
            lines.append(f'      <rule id="{self.name}_{rule.id}">')
            lines.append(f"        <description>{escape(rule.cite)}</description>")
            for var in self.inputs:
                cond = rule.conditions.get(var.name)
                lines.append(f"        <inputEntry><text>{escape(_feel_test(cond, var))}</text></inputEntry>")
            for var in self.outputs:
                lines.append(f"        <outputEntry><text>{escape(_feel(rule.outputs[var.name]))}</text></outputEntry>")
            lines.append(f"        <outputEntry><text>{escape(_feel(rule.id))}</text></outputEntry>")
            lines.append("      </rule>")
        lines += ["    </decisionTable>", "  </decision>", "</definitions>", ""]
        return "\n".join(lines)


def _variable(raw: Mapping[str, Any], table: str) -> Variable:
    domain = tuple(raw.get("domain") or ())
    if not domain:
        raise PolicyError(f"table {table}: variable {raw['name']} needs a non-empty domain")
    return Variable(str(raw["name"]), domain, str(raw.get("description", "")))


def _condition(spec: Any, domain: frozenset[Scalar], where: str) -> Condition:
    if spec == "-":
        return Condition(None)
    negate = False
    if isinstance(spec, Mapping):
        if set(spec) != {"not"}:
            raise PolicyError(f"{where}: only {{not: ...}} is allowed as a mapping condition")
        spec, negate = spec["not"], True
    values = frozenset(spec if isinstance(spec, list) else [spec])
    bad = values - domain
    if bad:
        raise PolicyError(f"{where}: values {sorted(map(repr, bad))} are outside the domain")
    return Condition(domain - values if negate else values)


def _feel(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace('"', '\\"') + '"'


def _feel_type(domain: Sequence[Any]) -> str:
    if all(isinstance(v, bool) for v in domain):
        return "boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in domain):
        return "number"
    return "string"


def _feel_test(cond: Condition | None, var: Variable) -> str:
    if cond is None or cond.allowed is None or cond.allowed == frozenset(var.domain):
        return "-"
    allowed = [v for v in var.domain if v in cond.allowed]
    return ", ".join(_feel(v) for v in allowed)


def load_tables(directory: Path) -> dict[str, DecisionTable]:
    tables = {}
    for path in sorted(directory.glob("*.yaml")):
        table = DecisionTable.load(path)
        if table.name != path.stem:
            raise PolicyError(f"{path}: table name {table.name!r} must match the file name")
        tables[table.name] = table
    return tables
