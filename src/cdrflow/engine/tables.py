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
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
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
        """Each output (plus ``<name>__rule``) as a Polars expression, FIRST hit order.

        Every output is the value of the first matching row, gathered by :meth:`polars_first_hit`
        (the same expression in every output, so Polars evaluates it once). ``columns`` maps input
        names to expressions; by default ``pl.col(name)``. Records that match no row get null,
        which a caller treats as a gap.
        """
        first = self.polars_first_hit(columns)
        result = {o.name: self.polars_value(first, o.name).alias(o.name) for o in self.outputs}
        result[f"{self.name}__rule"] = self.polars_value(first, None).alias(f"{self.name}__rule")
        return result

    def polars_first_hit(self, columns: Mapping[str, pl.Expr] | None = None) -> pl.Expr:
        """The position (UInt32) of the first row whose conditions hold, null when none does."""
        cols = {v.name: (columns or {}).get(v.name, pl.col(v.name)) for v in self.inputs}
        chain: Any = None
        for i, rule in enumerate(self.rules):
            pred = self._polars_predicate(rule, cols)
            hit = pl.lit(i, pl.UInt32)
            chain = pl.when(pred).then(hit) if chain is None else chain.when(pred).then(hit)
        first: pl.Expr = chain.otherwise(pl.lit(None, pl.UInt32))
        return first

    def polars_value(self, position: pl.Expr, output: str | None,
                     convert: Callable[[Any], Any] | None = None, dtype: Any = None) -> pl.Expr:
        """Output ``output`` (None: the row id) of the row at ``position``, each value passed
        through ``convert`` once per row of the table (not per record)."""
        values = [r.id if output is None else r.outputs[output] for r in self.rules]
        if convert is not None:
            values = [convert(v) for v in values]
        return pl.lit(pl.Series(values, dtype=dtype)).gather(position)

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
        """This table as a DMN 1.3 XML document with one decision (hit policy FIRST).

        The document (namespace :data:`DMN13_NS`) declares one ``inputData`` per input, so every
        name an input expression uses is defined in the model, and one ``decision`` named after
        the table (a FEEL name; the title is its ``label``) that requires them. Its
        ``decisionTable`` has one input clause per input (its domain as ``inputValues``), one
        output clause per output (its domain as ``outputValues``) plus a ``rule`` output column
        carrying the row id, and one ``rule`` per row, in order, whose ``description`` is the row's
        citation and whose ``label`` is the row id. A ``{not: ...}`` condition is written as the
        list of the other domain values, so every input entry is ``-`` or a list of FEEL literals.

        Raises :class:`PolicyError` if the table cannot be written as a valid model: a table,
        input or output name that is not a plain FEEL name, an input named like the table (DRG
        element names must be unique) or an input or output named ``rule``.

        pyDMNrules 1.4 (the independent engine the tests run these documents on) reads DMN
        differently from the standard in ways this export accommodates while staying valid:

        * it names an input column by the input clause's ``label`` (not the
          ``inputExpression`` text) and an output column by the output clause's ``label`` (not
          its ``name``), so each label repeats the name;
        * if the decision has a ``variable`` it renames *every* labelled output column to that
          variable's name, collapsing a multi-output table into one column; ``variable`` is
          optional in the DMN 1.3 schema (its name is the decision's name anyway), so it is
          left out;
        * it reports a rule's ``label`` as the id of the rule that fired (else ``Rule.N``);
        * it returns ``number`` outputs as floats (``1.0`` for ``1``);
        * it checks an input against ``inputValues`` only when it evaluates a rule's test on
          that input (so an out-of-domain value of an input no tried rule tests goes
          unnoticed), and each output against ``outputValues``;
        * it ignores an ``informationRequirement`` on an ``inputData`` and a rule's
          ``description``;
        * it cannot read a string holding ``"`` or ``\\`` (FEEL writes them ``\\"`` and
          ``\\\\``): it reports a syntax error or raises, so such values, though exported
          correctly, cannot be checked with it.
        """
        input_names = [v.name for v in self.inputs]
        output_names = [v.name for v in self.outputs]
        named = [("table", self.name)] + [("input", n) for n in input_names] + [("output", n) for n in output_names]
        for kind, name in named:
            if not _is_feel_name(name):
                raise PolicyError(
                    f"table {self.name}: {kind} name {name!r} is not a plain FEEL name; cannot export DMN"
                )
        if _RULE_COLUMN in input_names + output_names:
            raise PolicyError(
                f"table {self.name}: {_RULE_COLUMN!r} is reserved for the row-id column of the DMN export"
            )
        if self.name in input_names:
            raise PolicyError(f"table {self.name}: an input may not have the table's name in the DMN export")

        t = self.name
        ids: set[str] = set()

        def xid(*parts: str) -> str:
            ident = _xml_id("_".join(parts))
            if ident in ids:
                raise PolicyError(f"table {t}: DMN element id {ident!r} would be used twice")
            ids.add(ident)
            return ident

        rule_ids = ", ".join(_feel(r.id) for r in self.rules)
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f'<definitions xmlns="{DMN13_NS}" id="{xid("definitions", t)}" name={_attr(self.title)} '
            f"namespace={_attr(f'https://cdrflow.example/dmn/{t}')}>",
            f'  <decision id="{xid("decision", t)}" name={_attr(t)} label={_attr(self.title)}>',
            f"    <description>{escape(self.citation)}; effective {self.effective.isoformat()}</description>",
        ]
        for var in self.inputs:
            lines += [
                f'    <informationRequirement id="{xid("informationRequirement", t, var.name)}">',
                f'      <requiredInput href="#{_xml_id(f"inputData_{t}_{var.name}")}"/>',
                "    </informationRequirement>",
            ]
        lines.append(f'    <decisionTable id="{xid("decisionTable", t)}" hitPolicy="FIRST">')
        for var in self.inputs:
            lines += [
                f'      <input id="{xid("input", t, var.name)}" label={_attr(var.name)}>',
                f'        <inputExpression id="{xid("inputExpression", t, var.name)}" '
                f'typeRef="{_feel_type(var.domain)}">',
                f"          <text>{escape(var.name)}</text>",
                "        </inputExpression>",
                f"        <inputValues><text>{escape(_feel_list(var.domain))}</text></inputValues>",
                "      </input>",
            ]
        columns = [(var.name, _feel_type(var.domain), _feel_list(var.domain)) for var in self.outputs]
        columns.append((_RULE_COLUMN, "string", rule_ids))
        for name, type_ref, values in columns:
            lines += [
                f'      <output id="{xid("output", t, name)}" label={_attr(name)} name={_attr(name)} '
                f'typeRef="{type_ref}">',
                f"        <outputValues><text>{escape(values)}</text></outputValues>",
                "      </output>",
            ]
        for rule in self.rules:
            lines.append(f'      <rule id="{xid("rule", t, rule.id)}" label={_attr(rule.id)}>')
            lines.append(f"        <description>{escape(rule.cite)}</description>")
            for var in self.inputs:
                cond = rule.conditions.get(var.name)
                lines.append(f"        <inputEntry><text>{escape(_feel_test(cond, var))}</text></inputEntry>")
            for var in self.outputs:
                lines.append(f"        <outputEntry><text>{escape(_feel(rule.outputs[var.name]))}</text></outputEntry>")
            lines.append(f"        <outputEntry><text>{escape(_feel(rule.id))}</text></outputEntry>")
            lines.append("      </rule>")
        lines += ["    </decisionTable>", "  </decision>"]
        for var in self.inputs:
            lines += [
                f'  <inputData id="{xid("inputData", t, var.name)}" name={_attr(var.name)}>',
                f'    <variable id="{xid("variable", t, var.name)}" name={_attr(var.name)} '
                f'typeRef="{_feel_type(var.domain)}"/>',
                "  </inputData>",
            ]
        lines += ["</definitions>", ""]
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


DMN13_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"
_RULE_COLUMN = "rule"
_FEEL_KEYWORDS = frozenset(
    "and between else every false for function if in instance of null or return satisfies some then true".split()
)


def _is_feel_name(name: str) -> bool:
    """A one-word FEEL name (letters, digits, ``_``; not a keyword) that every engine reads alike."""
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None and name not in _FEEL_KEYWORDS


def _xml_id(text: str) -> str:
    """``text`` as an XML ``ID`` (an NCName): characters outside ``[A-Za-z0-9_.-]`` become ``_``."""
    ident = re.sub(r"[^A-Za-z0-9_.-]", "_", text)
    return ident if re.match(r"[A-Za-z_]", ident) else "_" + ident


def _attr(text: str) -> str:
    """``text`` as a quoted XML attribute value."""
    return '"' + escape(text, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}) + '"'


def _feel(value: Any) -> str:
    """``value`` as a FEEL literal (strings with FEEL's backslash escapes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    for raw, escaped in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        text = text.replace(raw, escaped)
    return f'"{text}"'


def _feel_list(values: Iterable[Any]) -> str:
    return ", ".join(_feel(v) for v in values)


def _feel_type(domain: Sequence[Any]) -> str:
    if all(isinstance(v, bool) for v in domain):
        return "boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in domain):
        return "number"
    if all(isinstance(v, str) for v in domain):
        return "string"
    return "Any"


def _feel_test(cond: Condition | None, var: Variable) -> str:
    """The FEEL unary tests for ``cond``: ``-`` for any value, else the allowed values in domain order.

    A condition no value meets is written ``not(<every domain value>)``, since an empty entry
    would mean "any" (and an empty list is not valid FEEL).
    """
    if cond is None or cond.allowed is None or cond.allowed == frozenset(var.domain):
        return "-"
    if not cond.allowed:
        return f"not({_feel_list(var.domain)})"
    return _feel_list(v for v in var.domain if v in cond.allowed)


def load_tables(directory: Path) -> dict[str, DecisionTable]:
    tables = {}
    for path in sorted(directory.glob("*.yaml")):
        table = DecisionTable.load(path)
        if table.name != path.stem:
            raise PolicyError(f"{path}: table name {table.name!r} must match the file name")
        tables[table.name] = table
    return tables
