"""What the DCF accepts in a value, derived from the column types of :mod:`cdrflow.dcf.schema` (one place).

Every reader (intake, the population import, the M/PR imports) checks the values it will write
against these rules *before* anything is written, so a value one backend would refuse (PostgreSQL:
a NUL, text longer than ``VARCHAR(n)``) and the other would silently store (SQLite stores any
length) is refused on both alike, as a reject of its own record (docs/interpretations.md §71):

* ``String(n)`` (a single-line value: a code, an id, a name, an address line) holds at most ``n``
  characters (PostgreSQL counts characters, not bytes) and no control character at all (C0, DEL,
  C1: U+0000-U+001F, U+007F-U+009F);
* ``Text`` (free text, JSON) has no length limit; it may hold tab, line feed and carriage return
  but no other control character;
* no text anywhere holds NUL (PostgreSQL's text cannot) or a lone surrogate (not Unicode: it
  cannot be encoded as UTF-8, which both drivers send);
* a value stored inside a JSON column (an event's ``detail``, a document's ``payload``) is a JSON
  value the store can write: whole numbers within 64 bits and at most :data:`MAX_DEPTH` levels of
  nesting.

The patterns are written so Python's ``re`` and Polars (Rust ``regex``) read them alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, String, Table, Text

LINE_CONTROL = r"[\x00-\x1f\x7f-\x9f]"
"""A control character: none may stand in a ``String(n)`` value."""
TEXT_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
"""A control character other than tab, line feed and carriage return: none may stand in ``Text``."""
SURROGATE = "[\ud800-\udfff]"
"""A lone surrogate (Python text only: Polars and the drivers hold valid UTF-8)."""
MAX_DEPTH = 32
"""Levels of nesting a JSON value may have (a returned-mailer record has four)."""
INT_MIN, INT_MAX = -(2**63), 2**64 - 1
"""Whole numbers JSON details can carry (what the canonical JSON writer, orjson, accepts)."""

_LINE = re.compile(LINE_CONTROL)
_TEXT = re.compile(TEXT_CONTROL)
_SURR = re.compile(SURROGATE)


@dataclass(frozen=True)
class Limit:
    """What one column accepts: ``max_chars`` (None: no limit) and whether it is one line."""

    where: str  # "table.column", for reasons
    max_chars: int | None
    single_line: bool


def limit(column: Column[Any]) -> Limit:
    """The limit of a text column of :mod:`cdrflow.dcf.schema` (``String(n)`` or ``Text``)."""
    kind = column.type
    where = f"{column.table.name}.{column.name}"
    if isinstance(kind, Text):
        return Limit(where, None, False)
    if isinstance(kind, String):
        return Limit(where, kind.length, True)
    raise TypeError(f"{where} is not a text column ({kind})")


def sizes(table: Table, names: Iterable[str] | None = None) -> dict[str, int]:
    """``{column: n}`` for the ``String(n)`` columns of ``table`` (all of them, or ``names``)."""
    cols = table.columns if names is None else [table.c[n] for n in names]
    return {c.name: int(c.type.length) for c in cols
            if isinstance(c.type, String) and not isinstance(c.type, Text) and c.type.length is not None}


def char_name(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def characters_problem(value: str, *, single_line: bool) -> str | None:
    """Why ``value`` cannot be stored as text (NUL, a lone surrogate, a control character), or None."""
    if value.isascii() and value.isprintable():
        return None  # the usual value: nothing to look for
    if "\x00" in value:
        return "holds a NUL character (U+0000), which the DCF does not store"
    bad = _SURR.search(value)
    if bad is not None:
        return (f"holds {char_name(bad.group())}, a lone surrogate: not Unicode text (bytes that were not UTF-8?), "
                "which the DCF does not store")
    bad = (_LINE if single_line else _TEXT).search(value)
    if bad is not None:
        where = "a one-line field" if single_line else "text"
        return f"holds the control character {char_name(bad.group())}, which {where} of the DCF does not take"
    return None


def text_problem(value: object, lim: Limit) -> str | None:
    """Why ``value`` cannot be stored in a column with limit ``lim``, or None."""
    if not isinstance(value, str):
        return f"must be text, got {type(value).__name__}"
    problem = characters_problem(value, single_line=lim.single_line)
    if problem is not None:
        return problem
    if lim.max_chars is not None and len(value) > lim.max_chars:
        return f"is {len(value):,} characters long; the DCF holds at most {lim.max_chars} ({lim.where})"
    return None


def column_problems(values: Mapping[str, object], columns: Mapping[str, Column[Any]]) -> tuple[str, str] | None:
    """The first ``(field, reason)`` among ``values`` (None values pass) that its column would not take."""
    for name, column in columns.items():
        v = values.get(name)
        if v is None:
            continue
        why = text_problem(v, limit(column))
        if why is not None:
            return name, why
    return None


def json_problem(obj: Any, path: str = "") -> tuple[str, str] | None:
    """The first ``(field path, reason)`` of a parsed JSON value (or a Parquet row) the DCF could not store
    in a JSON column: NUL or a lone surrogate in any text (keys included), a whole number beyond 64 bits,
    nesting deeper than :data:`MAX_DEPTH`. Walks without recursion, so any depth is safe."""
    stack: list[tuple[Any, str, int]] = [(obj, path, 0)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value or (not value.isascii() and _SURR.search(value)):
                why = characters_problem(value, single_line=False)
                assert why is not None
                return where or "(record)", why
        elif isinstance(value, bool) or value is None or isinstance(value, float):
            continue
        elif isinstance(value, int):
            if not INT_MIN <= value <= INT_MAX:
                return where or "(record)", f"is a whole number of {len(str(abs(value))):,} digits, beyond 64 bits"
        elif isinstance(value, dict | list | tuple):
            if depth >= MAX_DEPTH:
                return where or "(record)", f"is nested deeper than {MAX_DEPTH} levels"
            items = value.items() if isinstance(value, dict) else enumerate(value)
            pending: list[tuple[Any, str, int]] = []
            for k, v in items:
                if isinstance(k, str):
                    sub = f"{where}.{k}" if where else k
                    if "\x00" in k or (not k.isascii() and _SURR.search(k)):
                        return sub, "a key " + (characters_problem(k, single_line=True) or "")
                else:
                    sub = f"{where}[{k}]"
                pending.append((v, sub, depth + 1))
            stack.extend(reversed(pending))  # file order: the first problem is the first one met
    return None
