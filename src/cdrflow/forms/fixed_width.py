"""The fixed-width machinery of the scanlines (DI 40502.001B.8; the layout is **cdrflow's design**).

How one field is read, checked and written (:class:`FieldKind`: :class:`Text`, :class:`Number`,
:class:`Choice`, :class:`YearMonth`, :class:`SficKind`), where it sits (:class:`FieldSpec`) and a
whole line of fields with one separator column between neighbours (:class:`ScanlineLayout`). A bad
line or value is a :class:`ScanlineError` naming the scanline and the field. The three layouts
themselves are the tables of :mod:`cdrflow.forms.scanlines`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Final

from cdrflow.engine.months import Month

from .sfic import Sfic

B8: Final = "DI 40502.001B.8"
SEPARATOR: Final = " "
"""The one character between adjacent fields (cdrflow design)."""


class ScanlineError(ValueError):
    """A scanline that cannot be read or written, naming the scanline and the field.

    ``line`` is 1, 2 or 3; ``field`` is the field name (e.g. ``"profile"``) or ``None`` when the
    problem is the line as a whole (wrong type or length).
    """

    def __init__(self, line: int, field: str | None, message: str) -> None:
        where = f"scanline {line}" + (f", field {field!r}" if field is not None else "")
        super().__init__(f"{where}: {message}")
        self.line = line
        self.field = field
        self.message = message


# --------------------------------------------------------------------------- field kinds


class FieldKind(ABC):
    """How one fixed-width field is read (:meth:`parse`), checked (:meth:`check`) and written (:meth:`render`)."""

    fmt: str
    """The format, in words, for messages and the layout documentation."""

    @abstractmethod
    def parse(self, text: str) -> Any:
        """The value written in ``text`` (exactly the field's columns); :class:`ValueError` if malformed."""

    @abstractmethod
    def check(self, value: Any) -> Any:
        """``value`` if it is a valid value of this kind, else :class:`ValueError`."""

    @abstractmethod
    def render(self, value: Any, width: int) -> str:
        """A checked ``value`` written in ``width`` columns."""


class Text(FieldKind):
    """Text matching ``pattern``, left-justified and space-padded; all blank means ``None`` if ``blank``."""

    def __init__(self, pattern: str, fmt: str, *, blank: bool = False) -> None:
        self.pattern = re.compile(pattern)
        self.fmt = fmt
        self.blank = blank

    def parse(self, text: str) -> str | None:
        value = text.rstrip(SEPARATOR)
        if value == "" and self.blank:
            return None
        if value == "":
            raise ValueError(f"is blank; expected {self.fmt}")
        return value

    def check(self, value: Any) -> str | None:
        if value is None and self.blank:
            return None
        if not isinstance(value, str) or self.pattern.fullmatch(value) is None:
            raise ValueError(f"expected {self.fmt}; got {value!r}")
        return value

    def render(self, value: Any, width: int) -> str:
        return SEPARATOR * width if value is None else str(value).ljust(width, SEPARATOR)


class Number(FieldKind):
    """A zero-padded whole number in ``lo..hi``; all blank means ``None`` if ``blank``."""

    _DIGITS: ClassVar[re.Pattern[str]] = re.compile(r"[0-9]+")

    def __init__(self, lo: int, hi: int, fmt: str, *, blank: bool = False) -> None:
        self.lo = lo
        self.hi = hi
        self.fmt = fmt
        self.blank = blank

    def parse(self, text: str) -> int | None:
        if self.blank and text.strip(SEPARATOR) == "":
            return None
        if self._DIGITS.fullmatch(text) is None:
            raise ValueError(f"expected {self.fmt}; got {text!r}")
        return int(text)

    def check(self, value: Any) -> int | None:
        if value is None and self.blank:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not self.lo <= value <= self.hi:
            raise ValueError(f"expected {self.fmt}; got {value!r}")
        return value

    def render(self, value: Any, width: int) -> str:
        return SEPARATOR * width if value is None else f"{value:0{width}d}"


class Choice(FieldKind):
    """One character from a fixed code list; ``codes`` maps each character to its value."""

    def __init__(self, codes: Mapping[str, Any], fmt: str) -> None:
        self.codes = MappingProxyType(dict(codes))
        self.fmt = fmt
        # Reverse index keyed by (type, value), so that True is not taken for 1 (or "1" for 1).
        self._by_value: dict[tuple[type, Any], str] = {}
        for c, v in self.codes.items():
            self._by_value.setdefault((type(v), v), c)

    def parse(self, text: str) -> Any:
        if text not in self.codes:
            raise ValueError(f"expected {self.fmt}; got {text!r}")
        return self.codes[text]

    def _code(self, value: Any) -> str | None:
        try:
            return self._by_value.get((type(value), value))
        except TypeError:  # unhashable: never a code value
            return None

    def check(self, value: Any) -> Any:
        if self._code(value) is None:
            raise ValueError(f"expected {self.fmt}; got {value!r}")
        return value

    def render(self, value: Any, width: int) -> str:
        code = self._code(value)
        if code is None:  # pragma: no cover - values are checked before rendering
            raise ValueError(f"expected {self.fmt}; got {value!r}")
        return code.ljust(width, SEPARATOR)


class YearMonth(FieldKind):
    """A calendar month written ``YYYYMM``, read as a :class:`~cdrflow.engine.months.Month`."""

    fmt = "YYYYMM, a valid month (MM 01-12)"
    _PATTERN: ClassVar[re.Pattern[str]] = re.compile(r"([0-9]{4})([0-9]{2})")

    def parse(self, text: str) -> Month:
        match = self._PATTERN.fullmatch(text)
        if match is None:
            raise ValueError(f"expected {self.fmt}; got {text!r}")
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"month {match.group(2)} is not 01-12 in {text!r}")
        if year < 1:
            raise ValueError(f"year 0000 is not a valid year in {text!r}")
        return Month(year, month)

    def check(self, value: Any) -> Month:
        if not isinstance(value, Month):
            raise ValueError(f"expected a Month; got {value!r}")
        return value

    def render(self, value: Any, width: int) -> str:
        return f"{value.year:04d}{value.month:02d}"


class SficKind(FieldKind):
    """The 3-character :class:`Sfic`."""

    fmt = "SFIC: request F/S, title 2/C/6, language E/N"

    def parse(self, text: str) -> Sfic:
        return Sfic.parse(text)

    def check(self, value: Any) -> Sfic:
        if not isinstance(value, Sfic):
            raise ValueError(f"expected an Sfic; got {value!r}")
        return value

    def render(self, value: Any, width: int) -> str:
        return str(value.code)


# --------------------------------------------------------------------------- fields and lines


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a scanline: name, 1-based start column, width, kind, B.8 field number, content, citation."""

    name: str
    start: int
    width: int
    kind: FieldKind
    b8_field: int
    description: str
    citation: str = B8

    @property
    def end(self) -> int:
        """The last column of the field (1-based, inclusive)."""
        return self.start + self.width - 1

    @property
    def columns(self) -> str:
        """``"1-9"``, or ``"5"`` for a one-column field."""
        return str(self.start) if self.width == 1 else f"{self.start}-{self.end}"

    @property
    def location(self) -> str:
        """``"columns 1-9"``, or ``"column 5"``, for messages."""
        return f"column {self.columns}" if self.width == 1 else f"columns {self.columns}"

    def check(self, value: Any) -> Any:
        """``value`` if it is valid for this field (including that it fits its width), else :class:`ValueError`."""
        value = self.kind.check(value)
        if len(self.kind.render(value, self.width)) != self.width:
            raise ValueError(f"{value!r} does not fit in {self.width} columns")
        return value


@dataclass(frozen=True, slots=True)
class ScanlineLayout:
    """The fields of one scanline, left to right, with one separator column between neighbours."""

    line: int
    fields: tuple[FieldSpec, ...]

    def __post_init__(self) -> None:
        column = 1
        for spec in self.fields:
            if spec.start != column:
                raise RuntimeError(f"scanline {self.line}: field {spec.name!r} starts at {spec.start}, not {column}")
            column = spec.end + 1 + len(SEPARATOR)

    @property
    def length(self) -> int:
        """The exact number of characters in the line."""
        return self.fields[-1].end

    @property
    def separator_columns(self) -> tuple[int, ...]:
        """The 1-based columns holding the single-space separators."""
        return tuple(spec.end + 1 for spec in self.fields[:-1])

    def spec(self, name: str) -> FieldSpec:
        """The field called ``name``."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(f"scanline {self.line} has no field {name!r}")

    def decode(self, text: object) -> dict[str, Any]:
        """The field values of ``text``, checked; raises :class:`ScanlineError` at the first bad field."""
        if not isinstance(text, str):
            raise ScanlineError(self.line, None, f"expected a string, got {type(text).__name__}")
        if len(text) != self.length:
            raise ScanlineError(self.line, None, f"expected {self.length} characters, got {len(text)}")
        values: dict[str, Any] = {}
        for spec, after in zip(self.fields, [*self.fields[1:], None], strict=True):
            raw = text[spec.start - 1 : spec.end]
            try:
                values[spec.name] = spec.check(spec.kind.parse(raw))
            except ValueError as exc:
                raise ScanlineError(self.line, spec.name, f"{spec.location}: {exc}") from exc
            if after is not None and text[spec.end : after.start - 1] != SEPARATOR:
                raise ScanlineError(
                    self.line,
                    spec.name,
                    f"column {spec.end + 1} after {spec.name!r} ({spec.location}) must be a single space "
                    f"separating it from {after.name!r}; got {text[spec.end]!r}",
                )
        return values

    def encode(self, values: Mapping[str, Any]) -> str:
        """The line for ``values`` (one per field); raises :class:`ScanlineError` naming a bad field."""
        parts: list[str] = []
        for spec in self.fields:
            try:
                text = spec.kind.render(spec.kind.check(values[spec.name]), spec.width)
                if len(text) != spec.width:
                    raise ValueError(f"{values[spec.name]!r} does not fit in {spec.width} columns")
                parts.append(text)
            except (KeyError, ValueError) as exc:
                raise ScanlineError(self.line, spec.name, str(exc)) from exc
        return SEPARATOR.join(parts)
