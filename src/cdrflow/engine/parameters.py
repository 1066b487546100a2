"""Effective-dated parameters loaded from YAML, each value carrying its own citation.

A parameter file looks like::

    description: Substantial gainful activity (SGA), monthly amount, non-blind
    unit: USD per month
    values:
      2008-01-01: {value: 940, reference: "DI 40502.001J.2.c (2008 example)"}
      2009-01-01: {value: 980, reference: "DI 10501.015B"}

Looking a parameter up on a date returns the latest value whose start is on or before
that date. A date before the first value raises :class:`NoValueInForce`: there is
never a silent default.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import NoValueInForce, PolicyError
from .yamlio import load_yaml

LATEST = dt.date.max
"""Pass as the date to ask for the value currently last in force."""


@dataclass(frozen=True, slots=True)
class ParameterValue:
    """One value of a parameter, the date it takes effect and its citation."""

    name: str
    value: Any
    effective: dt.date
    reference: str
    override: bool = False

    @property
    def version(self) -> str:
        return f"{self.name}@{self.label}"

    @property
    def label(self) -> str:
        """What a policy version records: the effective date, or ``what-if:<value>`` for an override."""
        if self.override:
            return "what-if:" + json.dumps(self.value, sort_keys=True, default=str)
        return self.effective.isoformat()


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    description: str
    unit: str | None
    values: tuple[ParameterValue, ...]
    _starts: tuple[dt.date, ...] = field(repr=False, default=())

    @classmethod
    def from_mapping(cls, name: str, data: Mapping[str, Any]) -> Parameter:
        raw = data.get("values")
        if not isinstance(raw, Mapping) or not raw:
            raise PolicyError(f"parameter {name!r}: 'values' must be a non-empty mapping of date -> value")
        values: list[ParameterValue] = []
        for start, entry in raw.items():
            if isinstance(start, str):
                start = dt.date.fromisoformat(start)
            if not isinstance(start, dt.date):
                raise PolicyError(f"parameter {name!r}: key {start!r} is not a date")
            if not isinstance(entry, Mapping) or "value" not in entry or not entry.get("reference"):
                raise PolicyError(
                    f"parameter {name!r} value of {start}: needs 'value' and a non-empty 'reference'"
                )
            values.append(ParameterValue(name, entry["value"], start, str(entry["reference"])))
        values.sort(key=lambda v: v.effective)
        return cls(
            name=name,
            description=str(data.get("description", "")),
            unit=data.get("unit"),
            values=tuple(values),
            _starts=tuple(v.effective for v in values),
        )

    def at(self, on: dt.date) -> ParameterValue:
        """The value in force on ``on``; raises :class:`NoValueInForce` before the first."""
        i = bisect.bisect_right(self._starts, on)
        if i == 0:
            raise NoValueInForce(self.name, on, self._starts[0])
        return self.values[i - 1]

    def __call__(self, on: dt.date) -> Any:
        return self.at(on).value

    @property
    def first_effective(self) -> dt.date:
        return self._starts[0]

    def overridden(self, value: Any) -> Parameter:
        """A "what if" copy answering ``value`` on every date; the policy version says so."""
        current = self.values[-1].value
        if isinstance(current, bool) != isinstance(value, bool) or (
            isinstance(current, int | float) and not isinstance(value, int | float)
        ) or (isinstance(current, Mapping) and not isinstance(value, Mapping)) or (
            isinstance(current, list) and not isinstance(value, list)
        ):
            raise PolicyError(f"what-if {self.name}={value!r}: the parameter holds {type(current).__name__} values")
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            unknown = set(value) - set(current)
            if unknown:
                raise PolicyError(f"what-if {self.name}: unknown keys {sorted(unknown)}; known {sorted(current)}")
            value = {**current, **value}
        pv = ParameterValue(self.name, value, dt.date.min, "what-if override (not policy)", override=True)
        return Parameter(self.name, self.description, self.unit, (pv,), (dt.date.min,))


class ParameterSet(Mapping[str, Parameter]):
    """All parameters of a policy area, loaded from a directory of YAML files (one per parameter)."""

    def __init__(self, params: Mapping[str, Parameter]) -> None:
        self._params = dict(params)

    @classmethod
    def load(cls, directory: Path) -> ParameterSet:
        params: dict[str, Parameter] = {}
        for path in sorted(directory.glob("*.yaml")):
            data = load_yaml(path)
            if not isinstance(data, Mapping):
                raise PolicyError(f"{path}: a parameter file must be a mapping")
            params[path.stem] = Parameter.from_mapping(path.stem, data)
        return cls(params)

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._params[name]
        except KeyError:
            raise PolicyError(f"unknown parameter {name!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def with_overrides(self, overrides: Mapping[str, Any]) -> ParameterSet:
        """This set with "what if" values for some parameters (names must exist)."""
        params = dict(self._params)
        for name, value in overrides.items():
            params[name] = self[name].overridden(value)
        return ParameterSet(params)
