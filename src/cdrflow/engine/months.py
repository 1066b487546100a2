"""Months as a first-class type (``YYYY-MM``) and the one helper for month arithmetic.

Every piece of month arithmetic in cdrflow goes through :class:`Month`; there is no
ad-hoc date maths and therefore one rounding rule: a month is a calendar month, adding
``n`` months moves the calendar ``n`` months, and day-of-month never enters.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """A calendar month. ``Month.parse("2008-10") + 18 == Month(2010, 4)``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1..12, got {self.month}")
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year must be 1..9999, got {self.year}")

    @classmethod
    def parse(cls, text: str) -> Month:
        m = _MONTH_RE.match(text.strip()) if isinstance(text, str) else None
        if m is None:
            raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> Month:
        return cls(day.year, day.month)

    @property
    def index(self) -> int:
        """Months since year 0; differences of indexes are month counts."""
        return self.year * 12 + (self.month - 1)

    @classmethod
    def from_index(cls, index: int) -> Month:
        return cls(index // 12, index % 12 + 1)

    def __add__(self, months: int) -> Month:
        return Month.from_index(self.index + int(months))

    def __sub__(self, other: Month) -> int:
        return self.index - other.index

    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def __repr__(self) -> str:
        return f"Month({str(self)!r})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> Month:
            if isinstance(value, Month):
                return value
            if isinstance(value, str):
                return Month.parse(value)
            raise ValueError(f"expected a month as YYYY-MM, got {value!r}")

        return core_schema.json_or_python_schema(
            json_schema=core_schema.no_info_plain_validator_function(validate),
            python_schema=core_schema.no_info_plain_validator_function(validate),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
            metadata={"pydantic_js_functions": [lambda _s, _h: {"type": "string", "pattern": r"^\d{4}-\d{2}$"}]},
        )


def fiscal_year(day: dt.date) -> int:
    """The federal fiscal year containing ``day`` (FY N runs 1 Oct N-1 to 30 Sep N)."""
    return day.year + 1 if day.month >= 10 else day.year


def days_between(start: dt.date, end: dt.date) -> int:
    """Whole days elapsed from ``start`` to ``end`` (the age of an event on ``end``)."""
    return (end - start).days
