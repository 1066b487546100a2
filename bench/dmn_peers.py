"""Per-record DMN engines running the same exported DMN tables as our decision chain.

Usage: .venv/bin/python -m bench.dmn_peers [N] [--budget SECONDS]   (default 2,000 records, 60 s)

The mailer decision is a chain of five decision tables (:data:`cdrflow.batch.decide.RULE_TABLES`).
Each is exported with :meth:`DecisionTable.to_dmn` (DMN 1.3, hit policy FIRST) and run here,
record by record, by

* :class:`PyDmnRulesChain`: pyDMNrules (``DMN.useXML`` + ``DMN.decide``), one DMN object per table;
* :class:`SpiffChain`: SpiffWorkflow's DMN engine (``BpmnDmnParser`` + ``DMNEngine``), outside any
  BPMN process, with the adaptations listed below;
* :class:`OwnPerRecordChain`: our own per-record :meth:`DecisionTable.decide` (no trace);

and, for reference, our full per-record calc :class:`FullCalc`
(``mailer_decision(ReturnedMailer.model_validate(rec))``: validation, features, tables and trace).

What is timed. The peers (and :class:`OwnPerRecordChain`) are timed on table evaluation only: the
features the tables take are computed beforehand, for all records at once, by our vectorized
:func:`cdrflow.batch.decide.features` (:func:`chain_inputs`). This favours the peers (they
would otherwise need the feature logic too, per record), which is intended: it measures the
engines, not the feature code. Table loading (parsing the DMN) is done once, before timing.
The chain feeds outputs forward exactly as :func:`cdrflow.batch.decide.decide_frame` does:
``work_issue`` (work_activity), ``actionable`` (actionable), ``recommendation``
(automated_recommendation) and ``significant`` (significant_responses) become inputs of the later
tables, and pc_review_routing also takes ``work_reported = work_issue or work_mentioned`` and
``remarks_or_attachments = relevant_remarks or relevant_attachments``.

Every run is checked against the vectorized batch (:func:`agreement`): outcome, alert type, message,
reviewer, recommended action, automated recommendation and the fired row of each table.

SpiffWorkflow adaptations (SpiffWorkflow 3.x; nothing under ``src/`` is changed: the export is
adapted in memory, once per table at load time, by :func:`spiff_dmn_tree`):

1. Ids on entries. Spiff's ``DMNParser`` reads ``element.attrib['id']`` of every ``inputEntry`` and
   ``outputEntry`` and fails with ``KeyError: 'id'`` without one. ``id`` is optional on these
   elements in DMN 1.3 and our export leaves it out, so each entry gets the id
   ``<rule id>_in<i>`` / ``<rule id>_out<j>``.
2. Entry text, FEEL to Python. Spiff evaluates entries with its Python script engine (``eval``),
   not FEEL:

   * ``true`` / ``false`` raise ``NameError`` (they are not Python names), so they are written
     ``True`` / ``False`` (input and output entries);
   * a FEEL list of unary tests ``"BOTH", "NONE"`` is read as a Python tuple and compared with
     ``==`` (``(q1a) == ("BOTH", "NONE")``), which is silently False: with booleans fixed but lists
     left alone, 682 of the 1,702 input combinations of the five tables fire the wrong row. Such an
     entry is written ``? in ("BOTH", "NONE")`` (``?`` is Spiff's placeholder for the input value);
   * ``not(a, b)`` (our export's form for a condition no value meets; none of the mailer tables
     has one today) is written ``? not in (a, b)``;
   * single string and number literals and ``-`` (any) are left unchanged: Spiff compares a literal
     with ``==`` and treats ``-`` as "any". FEEL string escapes (``\\"``, ``\\\\``, ``\\n``) are
     Python's too.

   Any other entry text raises ``ValueError`` at load time rather than being guessed at.

Not adapted: Spiff does not know hit policy FIRST (its ``HitPolicy`` has only UNIQUE and COLLECT).
For any policy but UNIQUE its ``DMNEngine.decide`` evaluates every row and ``result`` returns the
first match, so FIRST semantics hold, but every row of the table is evaluated for every record.
The fired row is taken from the first matching rule (its DMN ``label`` is our row id) and checked
against the table's ``rule`` output column.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import polars as pl
import pyDMNrules
from lxml import etree
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.dmn.parser.BpmnDmnParser import BpmnDmnParser

from cdrflow.batch.decide import RULE_TABLES, decide_frame, features
from cdrflow.batch.schema import MAILER_SCHEMA
from cdrflow.engine.tables import DecisionTable
from cdrflow.policy.mailer.decision_logic import mailer_decision
from cdrflow.policy.mailer.record import ReturnedMailer
from cdrflow.policy.mailer.source import tables
from cdrflow.simulate.mailers import generate

Result = dict[str, Any]
"""One decided record: mailer_id, outcome, alert_type, message, reviewer, recommended_action,
automated_recommendation and rule_ids (``table:row`` per table of :data:`RULE_TABLES`)."""

COMPARED = ("outcome", "alert_type", "alert_message", "alert_reviewer", "alert_recommended_action",
            "automated_recommendation", "rule_ids")
"""The batch columns :func:`agreement` compares."""


class Engine(Protocol):
    """A per-record engine: a display ``name`` and a call deciding one input (features or raw record)."""

    name: str

    def __call__(self, item: Any, /) -> Result: ...


# --------------------------------------------------------------------------- inputs
def chain_inputs(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """The chain's feature values for each record of ``frame`` (plus ``mailer_id``), in order.

    Computed with our vectorized :func:`features` (latest parameters, as
    :func:`decide_frame` with ``on=None``), so the engines that take these inputs are timed on
    table evaluation only. This favours the peer engines, which would otherwise need to compute
    the features per record as well.
    """
    return features(frame, None).collect().to_dicts()


# --------------------------------------------------------------------------- the chain
class TableChain:
    """The five-table chain, evaluated per record; a subclass supplies :meth:`evaluate`.

    Calling the chain on one feature dict (from :func:`chain_inputs`) returns a :data:`Result`.
    Outputs feed forward exactly as in :func:`decide_frame`.
    """

    name = "chain"

    def __init__(self, table_map: Mapping[str, DecisionTable] | None = None) -> None:
        self.tables = dict(table_map or tables())
        self.input_names = {name: [v.name for v in self.tables[name].inputs] for name in RULE_TABLES}

    def evaluate(self, table: str, inputs: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The outputs of ``table`` for ``inputs`` and the id of the row that fired."""
        raise NotImplementedError

    def _run(self, table: str, ctx: dict[str, Any]) -> tuple[dict[str, Any], str]:
        return self.evaluate(table, {name: ctx[name] for name in self.input_names[table]})

    def __call__(self, features: Mapping[str, Any]) -> Result:
        ctx = dict(features)
        work, work_rule = self._run("work_activity", ctx)
        ctx["work_issue"] = work["work_issue"]
        act, act_rule = self._run("actionable", ctx)
        ctx["actionable"] = act["actionable"]
        rec, rec_rule = self._run("automated_recommendation", ctx)
        ctx.update({k: v for k, v in rec.items() if k != "rule"})  # recommendation, clear (F.1: read by the routing)
        sig, sig_rule = self._run("significant_responses", ctx)
        ctx["significant"] = sig["significant"]
        ctx["work_reported"] = bool(ctx["work_issue"] or ctx["work_mentioned"])
        ctx["remarks_or_attachments"] = bool(ctx["relevant_remarks"] or ctx["relevant_attachments"])
        route, route_rule = self._run("pc_review_routing", ctx)
        fired = (work_rule, act_rule, rec_rule, sig_rule, route_rule)
        return {
            "mailer_id": features.get("mailer_id"),
            "outcome": route["outcome"],
            "alert_type": route["alert_type"],
            "message": route["message"],
            "reviewer": route["reviewer"],
            "recommended_action": route["recommended_action"],
            "automated_recommendation": rec["recommendation"],
            "rule_ids": [f"{t}:{r}" for t, r in zip(RULE_TABLES, fired, strict=True)],
        }


class OwnPerRecordChain(TableChain):
    """Our own per-record evaluator, :meth:`DecisionTable.decide` (domain checks, no trace)."""

    name = "cdrflow DecisionTable.decide (per record)"

    def evaluate(self, table: str, inputs: dict[str, Any]) -> tuple[dict[str, Any], str]:
        hit = self.tables[table].decide(inputs)
        return dict(hit.outputs), hit.rule


def _whole(value: Any) -> Any:
    """pyDMNrules returns FEEL numbers as floats: a whole float is read as the int it stands for."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class PyDmnRulesChain(TableChain):
    """pyDMNrules, one ``DMN`` object per table loaded once from :meth:`DecisionTable.to_dmn`.

    The fired row is pyDMNrules' "Executed Rule" (the DMN rule's ``label``), checked against the
    ``rule`` output column.
    """

    name = "pyDMNrules"

    def __init__(self, table_map: Mapping[str, DecisionTable] | None = None) -> None:
        super().__init__(table_map)
        self.dmns: dict[str, Any] = {}
        for name in RULE_TABLES:
            dmn = pyDMNrules.DMN()
            status = dmn.useXML(self.tables[name].to_dmn())
            if status != {} or not dmn.isLoaded:
                raise RuntimeError(f"pyDMNrules could not load table {name}: {status}")
            self.dmns[name] = dmn

    def evaluate(self, table: str, inputs: dict[str, Any]) -> tuple[dict[str, Any], str]:
        status, result = self.dmns[table].decide(inputs)
        if status != {} or not isinstance(result, dict):
            raise RuntimeError(f"pyDMNrules, table {table}, inputs {inputs}: status {status}, result {result!r}")
        outputs = {k: _whole(v) for k, v in result["Result"].items()}
        rule = result["Executed Rule"][2]
        if outputs.get("rule") != rule:
            raise RuntimeError(f"pyDMNrules, table {table}: fired {rule} but rule column is {outputs.get('rule')}")
        return outputs, rule


# --------------------------------------------------------------------------- SpiffWorkflow
_FEEL_LITERAL = re.compile(r'\s*("(?:[^"\\]|\\.)*"|true|false|-?\d+(?:\.\d+)?)\s*')
_FEEL_NOT = re.compile(r"\s*not\s*\((.*)\)\s*", re.DOTALL)


def _feel_literals(text: str) -> list[str]:
    """The comma-separated FEEL literals of ``text`` as Python literals; ``ValueError`` otherwise."""
    out: list[str] = []
    pos = 0
    while True:
        m = _FEEL_LITERAL.match(text, pos)
        if m is None:
            raise ValueError(f"not a list of FEEL literals: {text!r}")
        lit = m.group(1)
        out.append({"true": "True", "false": "False"}.get(lit, lit))
        pos = m.end()
        if pos == len(text):
            return out
        if text[pos] != ",":
            raise ValueError(f"not a list of FEEL literals: {text!r}")
        pos += 1


def feel_to_spiff(text: str, *, input_entry: bool) -> str:
    """One DMN entry of our export rewritten for Spiff's Python evaluation (see the module docstring).

    Input entries: ``-`` stays; one literal stays a literal (Spiff compares it with ``==``); a list
    becomes ``? in (...)`` and ``not(...)`` becomes ``? not in (...)``. Output entries: one literal.
    ``true``/``false`` become ``True``/``False``. Anything else raises ``ValueError``.
    """
    if not input_entry:
        lits = _feel_literals(text)
        if len(lits) != 1:
            raise ValueError(f"output entry is not one literal: {text!r}")
        return lits[0]
    if text.strip() == "-":
        return "-"
    negated = _FEEL_NOT.fullmatch(text)
    if negated:
        return f"? not in ({', '.join(_feel_literals(negated.group(1)))},)"
    lits = _feel_literals(text)
    return lits[0] if len(lits) == 1 else f"? in ({', '.join(lits)})"


def spiff_dmn_tree(table: DecisionTable) -> Any:
    """The lxml tree of ``table.to_dmn()`` with the two Spiff adaptations of the module docstring."""
    xml = table.to_dmn().encode("utf-8")
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    for rule in root.iter("{*}rule"):
        rid = rule.get("id")
        for kind, tag in (("in", "inputEntry"), ("out", "outputEntry")):
            for i, entry in enumerate(rule.findall(f"{{*}}{tag}")):
                if entry.get("id") is None:
                    entry.set("id", f"{rid}_{kind}{i}")
                text = entry.find("{*}text")
                text.text = feel_to_spiff(text.text or "", input_entry=kind == "in")
    return root


class _SpiffSpec:
    """The few attributes Spiff's exceptions read from a task spec and a workflow spec."""

    name = bpmn_name = file = "cdrflow-dmn-peers"


class _SpiffWorkflow:
    """A stand-in for a BPMN workflow: Spiff's DMN engine needs only its script engine."""

    def __init__(self, script_engine: PythonScriptEngine) -> None:
        self.script_engine = script_engine
        self.spec = _SpiffSpec()
        self.top_workflow = self
        self.parent_workflow = None


class _SpiffTask:
    """A stand-in for a task: the inputs as ``data`` (cf. Spiff's own DMN test DecisionRunner)."""

    __slots__ = ("data", "task_spec", "workflow")

    def __init__(self, data: dict[str, Any], workflow: _SpiffWorkflow) -> None:
        self.data = data
        self.workflow = workflow
        self.task_spec = _SpiffSpec()


class SpiffChain(TableChain):
    """SpiffWorkflow's ``DMNEngine`` on each table's export, adapted by :func:`spiff_dmn_tree`.

    Each decision is parsed once with ``BpmnDmnParser.add_dmn_xml`` and its ``DMNEngine`` taken
    with ``get_engine``; a record is evaluated as the data of a stand-in task. The fired row is the
    first matching rule (FIRST), whose DMN ``label`` is our row id.
    """

    name = "SpiffWorkflow DMN"

    def __init__(self, table_map: Mapping[str, DecisionTable] | None = None) -> None:
        super().__init__(table_map)
        parser = BpmnDmnParser()
        self.workflow = _SpiffWorkflow(PythonScriptEngine())
        self.engines: dict[str, Any] = {}
        self.labels: dict[str, dict[str, str]] = {}
        for name in RULE_TABLES:
            root = spiff_dmn_tree(self.tables[name])
            parser.add_dmn_xml(root, filename=f"{name}.dmn")
            decision_id = parser.dmn_parsers_by_name[name].bpmn_id
            self.engines[name] = parser.get_engine(decision_id, None)
            self.labels[name] = {r.get("id"): r.get("label") for r in root.iter("{*}rule")}

    def evaluate(self, table: str, inputs: dict[str, Any]) -> tuple[dict[str, Any], str]:
        task = _SpiffTask(inputs, self.workflow)
        matched = self.engines[table].decide(task)
        if not matched:
            raise RuntimeError(f"SpiffWorkflow, table {table}: no rule matches {inputs}")
        outputs = dict(matched[0].output_as_dict(task))
        rule = self.labels[table][matched[0].id]
        if outputs.get("rule") != rule:
            raise RuntimeError(f"SpiffWorkflow, table {table}: fired {rule} but rule column is {outputs.get('rule')}")
        return outputs, rule


# --------------------------------------------------------------------------- reference
class FullCalc:
    """Our full per-record calc, ``mailer_decision(ReturnedMailer.model_validate(rec))``, on raw records.

    Includes what the chains above do not: pydantic validation, the per-record features, the trace
    and the policy version. Takes the raw records (dicts of :data:`MAILER_SCHEMA`), not features.
    """

    name = "cdrflow mailer_decision (validate + features + tables + trace)"

    def __call__(self, rec: Mapping[str, Any]) -> Result:
        d = mailer_decision(ReturnedMailer.model_validate(rec))
        a = d.alert
        steps = {s.rule.split(":", 1)[0]: s.rule for s in d.trace if ":" in s.rule}
        return {
            "mailer_id": d.mailer_id,
            "outcome": d.outcome,
            "alert_type": a.type if a else None,
            "message": a.message if a else None,
            "reviewer": a.reviewer if a else None,
            "recommended_action": a.recommended_action if a else None,
            "automated_recommendation": d.automated_recommendation,
            "rule_ids": [steps.get(t) for t in RULE_TABLES],
        }


# --------------------------------------------------------------------------- measuring
def measure(
    engine: Engine,
    inputs: Sequence[Any],
    budget_s: float = 60.0,
    min_records: int = 300,
    warmup: int = 20,
) -> tuple[int, float, float, list[Result]]:
    """Run ``engine`` over ``inputs`` in order until done or ``budget_s`` seconds have passed.

    At least ``min_records`` records are run whatever the budget (a slow engine still gets a
    meaningful sample); the first ``warmup`` inputs are run once before timing starts, untimed.
    Returns ``(records_done, seconds, records_per_second, results)``.
    """
    for x in inputs[:warmup]:
        engine(x)
    results: list[Result] = []
    clock = time.perf_counter
    start = clock()
    deadline = start + budget_s
    for i, x in enumerate(inputs):
        results.append(engine(x))
        if i + 1 >= min_records and clock() > deadline:
            break
    seconds = clock() - start
    return len(results), seconds, len(results) / seconds, results


def _normalized(result: Result) -> dict[str, Any]:
    """A result in the batch's terms: "NONE" alert fields and message 0 become null."""

    def none(v: Any) -> Any:
        return None if v == "NONE" else v

    message = result["message"]
    return {
        "outcome": result["outcome"],
        "alert_type": none(result["alert_type"]),
        "alert_message": int(message) if message else None,
        "alert_reviewer": none(result["reviewer"]),
        "alert_recommended_action": none(result["recommended_action"]),
        "automated_recommendation": result["automated_recommendation"],
        "rule_ids": " ".join(result["rule_ids"]),
    }


def agreement(results: Sequence[Result], batch_frame: pl.DataFrame, examples: int = 5) -> dict[str, Any]:
    """Compare per-record ``results`` with the batch output (``decide_frame(frame).collect()``).

    Records are matched on ``mailer_id``; every column of :data:`COMPARED` must be equal.
    Returns ``{"agree": n, "disagree": n, "missing": n, "examples": [...]}`` where each example
    holds the mailer id and, per differing column, ``(engine value, batch value)``.
    """
    batch = {row["mailer_id"]: row for row in batch_frame.select("mailer_id", *COMPARED).to_dicts()}
    agree = disagree = missing = 0
    shown: list[dict[str, Any]] = []
    for result in results:
        row = batch.get(result["mailer_id"])
        if row is None:
            missing += 1
            continue
        got = _normalized(result)
        diff = {c: (got[c], row[c]) for c in COMPARED if got[c] != row[c]}
        if diff:
            disagree += 1
            if len(shown) < examples:
                shown.append({"mailer_id": result["mailer_id"], **diff})
        else:
            agree += 1
    return {"agree": agree, "disagree": disagree, "missing": missing, "examples": shown}


# --------------------------------------------------------------------------- main
def main(n: int = 2_000, budget_s: float = 60.0, seed: int = 2026) -> list[dict[str, Any]]:
    """Decide ``n`` simulated mailers with every engine; print and return one row per engine."""
    recs = list(generate(n, seed=seed))
    frame = pl.DataFrame(recs, schema=MAILER_SCHEMA)
    decide_frame(frame.head(100)).collect()  # warm-up
    t0 = time.perf_counter()
    batch = decide_frame(frame).collect()
    batch_s = time.perf_counter() - t0
    features = chain_inputs(frame)

    runs: list[tuple[Engine, Sequence[Any]]] = [
        (OwnPerRecordChain(), features),
        (PyDmnRulesChain(), features),
        (SpiffChain(), features),
        (FullCalc(), recs),
    ]
    rows = [{"engine": "cdrflow decide_frame (vectorized batch, incl. features)", "records": n,
             "seconds": batch_s, "records_per_s": n / batch_s, "agree": n, "disagree": 0, "examples": []}]
    for engine, inputs in runs:
        done, seconds, rate, results = measure(engine, inputs, budget_s=budget_s)
        agr = agreement(results, batch)
        rows.append({"engine": engine.name, "records": done, "seconds": seconds, "records_per_s": rate,
                     "agree": agr["agree"], "disagree": agr["disagree"] + agr["missing"], "examples": agr["examples"]})

    print(f"{'engine':<66} {'records':>8} {'seconds':>8} {'records/s':>10}  agreement with batch")
    for r in rows:
        share = 100.0 * r["agree"] / r["records"] if r["records"] else 0.0
        print(f"{r['engine']:<66} {r['records']:>8,} {r['seconds']:>8.2f} {r['records_per_s']:>10,.0f}  "
              f"{r['agree']:,}/{r['records']:,} ({share:.1f}%)")
        for ex in r["examples"]:
            print(f"    disagreement: {ex}")
    return rows


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("n", nargs="?", type=int, default=2_000, help="simulated records (default 2,000)")
    cli.add_argument("--budget", type=float, default=60.0, help="time budget per engine in seconds (default 60)")
    cli.add_argument("--seed", type=int, default=2026)
    args = cli.parse_args()
    main(args.n, args.budget, args.seed)
