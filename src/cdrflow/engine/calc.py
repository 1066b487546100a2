"""The calc registry: every policy computation by name, with pydantic models and a citation.

A calc is a pure function ``fn(inputs, explain) -> outputs``. ``explain`` collects the
trace (each table row or rule that fired, with its citation) and the policy version (the
effective date of every table and parameter consulted). The registry validates the input,
runs the function, and returns one JSON-able answer that always carries ``trace`` and
``policy_version``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import InputError, PolicyError
from .jsonlines import read_line
from .parameters import ParameterValue
from .tables import Hit


class TraceStep(BaseModel):
    """One rule or table row that fired, with the passage it implements."""

    model_config = ConfigDict(frozen=True)

    rule: str = Field(description="table:row or rule id")
    cite: str
    note: str = ""


class CalcOutput(BaseModel):
    """Base of every calc's output: the answer plus why and under which policy."""

    trace: list[TraceStep] = Field(default_factory=list)
    policy_version: dict[str, str] = Field(default_factory=dict)


class Explain:
    """Collects the trace and the policy version while a calc runs."""

    def __init__(self, source: str) -> None:
        self.steps: list[TraceStep] = []
        self.versions: dict[str, str] = {"source": source}

    def hit(self, hit: Hit, effective: str) -> Hit:
        self.steps.append(TraceStep(rule=f"{hit.table}:{hit.rule}", cite=hit.cite, note=hit.note))
        self.versions[f"table:{hit.table}"] = effective
        return hit

    def rule(self, rule: str, cite: str, note: str = "") -> None:
        self.steps.append(TraceStep(rule=rule, cite=cite, note=note))

    def param(self, pv: ParameterValue) -> Any:
        self.versions[f"param:{pv.name}"] = pv.label
        return pv.value


In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=CalcOutput)


@dataclass(frozen=True)
class Calc(Generic[In, Out]):
    name: str
    citation: str
    summary: str
    source: str
    input_model: type[In]
    output_model: type[Out]
    fn: Callable[[In, Explain], Out]

    def __call__(self, inputs: In) -> Out:
        explain = Explain(self.source)
        out = self.fn(inputs, explain)
        return out.model_copy(update={"trace": explain.steps, "policy_version": explain.versions})

    def run(self, payload: Any, defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Validate a JSON-like payload, compute, and return a JSON-able dict.

        ``defaults`` are inputs the caller supplies for fields the payload leaves out (the CLI's
        ``--pc-ssn-table`` for pc-jurisdiction), by name; only fields the input model has are used.
        """
        if not isinstance(payload, dict):
            raise InputError("(input)", "expected one JSON object")
        if defaults:
            fields = self.input_model.model_fields
            payload = {**{k: v for k, v in defaults.items() if k in fields}, **payload}
        try:
            inputs = self.input_model.model_validate(payload)
        except ValidationError as exc:
            raise validation_to_input_error(exc) from None
        return self(inputs).model_dump(mode="json")

    def schema(self) -> dict[str, Any]:
        return self.input_model.model_json_schema()


NOT_REPEATED = frozenset({"ssn"})
"""Fields whose value an error message never repeats, however the value came (an SSN: only its field and
what is wrong with it are named; docs/interpretations.md §79)."""


def _redacted(value: Any, depth: int = 0) -> Any:
    """``value`` with the values of :data:`NOT_REPEATED` keys replaced, to the depth a record has (an input
    nested deeper is shown as it is: only its first 80 characters are, and a record's SSN is at its top)."""
    if depth > 8:
        return value
    if isinstance(value, dict):
        return {k: "(not repeated)" if k in NOT_REPEATED else _redacted(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v, depth + 1) for v in value]
    return value


def validation_to_input_error(exc: ValidationError) -> InputError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(input)"
    msg = err["msg"]
    if "input" in err and err["type"] not in ("missing",) and not (err["loc"] and err["loc"][-1] in NOT_REPEATED):
        msg = f"{msg} (got {json.dumps(_redacted(err['input']), default=str)[:80]})"
    more = f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return InputError(loc, msg + more)


@dataclass
class Registry:
    calcs: dict[str, Calc[Any, Any]] = field(default_factory=dict)

    def add(self, calc: Calc[Any, Any]) -> Calc[Any, Any]:
        if calc.name in self.calcs:
            raise PolicyError(f"calc {calc.name} registered twice")
        self.calcs[calc.name] = calc
        return calc

    def __getitem__(self, name: str) -> Calc[Any, Any]:
        try:
            return self.calcs[name]
        except KeyError:
            raise InputError("calc", f"unknown calc {name!r}; known: {', '.join(sorted(self.calcs))}") from None

    def __iter__(self) -> Iterator[Calc[Any, Any]]:
        return iter(sorted(self.calcs.values(), key=lambda c: c.name))

    def run_lines(self, name: str, lines: Iterable[str | bytes],
                  defaults: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """JSON Lines in (text or bytes), one answer per non-blank line out, in order.

        A line that cannot be answered answers ``{"error": "line N: ..."}`` and the next line is read:
        bytes that are not UTF-8, JSON that does not parse, a number too long or nesting too deep to read
        (:func:`~cdrflow.engine.jsonlines.read_line`), an input the calc refuses, and any other failure
        of the calc on that line (named, so it can be reported). No line stops the stream.
        """
        calc = self[name]
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            payload, problem = read_line(line)
            if problem is not None:
                yield {"error": f"line {lineno}: (input): {problem}"}
                continue
            try:
                yield calc.run(payload, defaults)
            except (InputError, PolicyError) as exc:
                yield {"error": f"line {lineno}: {exc}"}
            except RecursionError:
                yield {"error": f"line {lineno}: (input): nested too deeply to answer"}
            except Exception as exc:  # the stream answers every line: a failure is this line's answer
                text = str(exc).strip().splitlines()
                yield {"error": f"line {lineno}: could not be answered ({type(exc).__name__}"
                                + (f": {text[0][:200]}" if text else "") + ")"}


def calc(
    registry: Registry,
    name: str,
    *,
    citation: str,
    summary: str,
    source: str,
    input_model: type[In],
    output_model: type[Out],
) -> Callable[[Callable[[In, Explain], Out]], Calc[In, Out]]:
    """Decorator: register ``fn`` as calc ``name``."""

    def wrap(fn: Callable[[In, Explain], Out]) -> Calc[In, Out]:
        c: Calc[In, Out] = Calc(name, citation, summary, source, input_model, output_model, fn)
        registry.add(c)
        return c

    return wrap
