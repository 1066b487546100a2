"""The DI 40502.001 policy data: parameters, decision tables and alert texts, loaded once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from cdrflow.engine.calc import Explain
from cdrflow.engine.parameters import LATEST, ParameterSet
from cdrflow.engine.tables import DecisionTable, Hit, load_tables
from cdrflow.engine.yamlio import load_yaml

SOURCE = "DI 40502.001 TN 2 (10-08)"
HERE = Path(__file__).parent


@cache
def _shipped_parameters() -> ParameterSet:
    return ParameterSet.load(HERE / "parameters")


_what_if: ContextVar[ParameterSet | None] = ContextVar("cdrflow_mailer_what_if", default=None)


def parameters() -> ParameterSet:
    """The shipped parameters, or inside :func:`what_if` the set with its overrides."""
    return _what_if.get() or _shipped_parameters()


@contextmanager
def what_if(overrides: Mapping[str, Any]) -> Iterator[ParameterSet]:
    """Answer with some parameters replaced ("what if the $701 threshold were $800?").

    Every answer's policy version records ``param:NAME = what-if:VALUE``, so a what-if result can
    never be mistaken for policy.
    """
    overridden = _shipped_parameters().with_overrides(overrides)
    token = _what_if.set(overridden)
    try:
        yield overridden
    finally:
        _what_if.reset(token)


@cache
def tables() -> dict[str, DecisionTable]:
    return load_tables(HERE / "tables")


@cache
def alert_messages() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = load_yaml(HERE / "data" / "alert_messages.yaml")
    return data


def alert_text(alert_type: str, message: int) -> str:
    return str(alert_messages()[alert_type]["messages"][message])


def param(name: str, on: dt.date | None, explain: Explain | None = None) -> Any:
    """The value of parameter ``name`` in force on ``on`` (``None``: the latest), recorded in ``explain``."""
    pv = parameters()[name].at(on or LATEST)
    if explain is not None:
        return explain.param(pv)
    return pv.value


def decide(table: str, record: dict[str, Any], explain: Explain | None = None) -> Hit:
    t = tables()[table]
    hit = t.decide(record)
    if explain is not None:
        explain.hit(hit, t.effective.isoformat())
    return hit
