"""One row of the DCF ``beneficiaries`` table: the selection and profile-sheet data of a beneficiary.

The columns are those of :data:`cdrflow.dcf.schema.beneficiaries` except the bookkeeping columns
``version`` and ``updated_at``, in the same order. What each column means and which passage of
DI 40502.001 it serves (F.3, G.3, E.4.a, G.5, J.3.a, J.3.b) is in ``docs/population.md``.

Every check lives in one table, :data:`SPECS`, plus the cross-field rules in :class:`Beneficiary`.
The import (:mod:`cdrflow.population.io`) compiles the same table to vectorized Polars checks and
asks this model only for the message of a row that fails; a test holds the two to the same verdict.

Checks run field by field in column order, so the first error of a row names the first failing
column. A cross-field rule is checked on the later of its columns (e.g. ``foreign_address`` after
``country``) and names the column it is about.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from sqlalchemy import String

from cdrflow.dcf.limits import characters_problem, limit
from cdrflow.dcf.schema import beneficiaries as _table
from cdrflow.kernel.ssn import check_ssn as check_ssn  # the one SSN rule, re-exported for this table's readers

Title = Literal["T2", "T2/16", "T16"]
Profile = Literal["H", "M", "L"]
Kind = Literal["text", "code", "date", "month", "literal", "int", "float", "decimal", "bool"]

TITLES: tuple[str, ...] = ("T2", "T2/16", "T16")
TITLE_XVI: frozenset[str] = frozenset({"T2/16", "T16"})
"""Titles with a Title XVI (SSI) part: only these carry an SSI diary (J.3.b NOTE)."""
PROFILES: tuple[str, ...] = ("H", "M", "L")
BOOL_TRUE: frozenset[str] = frozenset({"true", "1", "y"})
BOOL_FALSE: frozenset[str] = frozenset({"false", "0", "n"})
"""Spellings of a boolean in a CSV cell, compared case-insensitively."""
DOMESTIC_COUNTRY = "US"
FIRST_EARNINGS_YEAR = 1937
"""Social Security earnings are recorded from 1937; an earlier year is a keying error."""

NONBLANK = r"[^ \t\n\r\f\v]"
"""A text value must contain a character matching this (same meaning in Python ``re`` and Polars)."""

# Pattern texts shared by Python (``re.fullmatch``) and Polars (``str.contains("^(?:...)$")``).
# Only ASCII classes are used, so both regex engines read them the same way.
PATTERNS: dict[str, tuple[str, str]] = {
    "ssn": (r"[0-9]{9}", "9 digits"),
    "bic_or_id": (r"[A-Z0-9]{1,12}", "a BIC (Title II) or ID (Title XVI): 1-12 uppercase letters or digits"),
    "date": (r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "a date YYYY-MM-DD"),
    "month": (r"[0-9]{4}-(?:0[1-9]|1[0-2])", "a month YYYY-MM with month 01-12"),
    "diagnosis": (r"[0-9]{4}", "a 4-digit impairment code"),
    "mdr": (r"[A-Z357]", "an MDR/MR code: one uppercase letter (MIE), 3 (MIP), or 5 or 7 (MINE)"),
    "float": (r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", "a decimal number"),
    "fraction": (r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?",
                 "a fraction from 0 to 1 (B.8 prints it times 10000 as the 4-digit SCORE, 9999 highest)"),
    "year": (r"[0-9]{4}", f"a 4-digit year, {FIRST_EARNINGS_YEAR} or later"),
    "money": (r"[0-9]{1,10}(?:\.[0-9]{1,2})?", "a non-negative amount with at most 10 digits and 2 decimals"),
    "pc": (r"[1-8]", "a processing center number 1-8"),
    "state2": (r"[A-Z]{2}", "2 uppercase letters"),
    "doors": (r"[A-Z0-9]{1,8}", "a DOORS code: 1-8 uppercase letters or digits"),
    "zip": (r"[0-9]{5}(?:-[0-9]{4})?", "a ZIP code 12345 or 12345-6789"),
    "language": (r"[A-Z]{1,20}", "one uppercase word such as ENGLISH or SPANISH"),
    "phone": (r"[0-9+()\-. ]{7,20}", "a telephone number: 7-20 of digits, spaces and + ( ) - ."),
}


@dataclass(frozen=True)
class Spec:
    """How one column is checked. ``pattern`` names an entry of :data:`PATTERNS`."""

    name: str
    kind: Kind
    required: bool
    pattern: str | None = None
    max_len: int | None = None
    choices: tuple[str, ...] = ()


class FieldError(ValueError):
    """A cross-field rule failed; ``field`` is the column the message is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _max_len(name: str) -> int | None:
    """The DCF's ``String(n)`` of the column (:mod:`cdrflow.dcf.limits`), None for other types."""
    column = _table.c[name]
    return limit(column).max_chars if isinstance(column.type, String) else None


def _spec(name: str, kind: Kind, pattern: str | None = None, choices: tuple[str, ...] = ()) -> Spec:
    column = _table.c[name]
    return Spec(name, kind, not column.nullable, pattern, _max_len(name), choices)


SPECS: tuple[Spec, ...] = (
    _spec("ssn", "code", "ssn"),
    _spec("bic_or_id", "code", "bic_or_id"),
    _spec("name", "text"),
    _spec("birth_date", "date"),
    _spec("title", "literal", choices=TITLES),
    _spec("application_date", "date"),
    _spec("entitlement_date", "date"),
    _spec("onset_date", "date"),
    _spec("diagnosis_primary", "code", "diagnosis"),
    _spec("diagnosis_secondary", "code", "diagnosis"),
    _spec("impairment", "text"),
    _spec("od_calc_mdr", "code", "mdr"),
    _spec("qmid_mdr", "code", "mdr"),
    _spec("ssr_mr", "code", "mdr"),
    _spec("diary_month", "month", "month"),
    _spec("ssi_diary_month", "month", "month"),
    _spec("profile", "literal", choices=PROFILES),
    _spec("profile_score", "float", "fraction"),
    _spec("recent_earnings_year", "int", "year"),
    _spec("recent_earnings", "decimal", "money"),
    _spec("initial_claim", "text"),
    _spec("prior_cdr", "text"),
    _spec("servicing_pc", "int", "pc"),
    _spec("dds", "code", "state2"),
    _spec("fo_doors", "code", "doors"),
    _spec("fo_city", "text"),
    _spec("fo_state", "code", "state2"),
    _spec("fo_zip", "code", "zip"),
    _spec("rep_payee", "text"),
    _spec("language", "code", "language"),
    _spec("address_line", "text"),
    _spec("city", "text"),
    _spec("state", "code", "state2"),
    _spec("zip", "text"),
    _spec("country", "code", "state2"),
    _spec("foreign_address", "bool"),
    _spec("phone", "code", "phone"),
    _spec("date_of_death", "date", "date"),
    _spec("folder_location", "text"),
    _spec("folder_date_in_location", "date", "date"),
    _spec("qmid_medical_blank", "bool"),
)
SPEC_BY_NAME: dict[str, Spec] = {s.name: s for s in SPECS}

_COMPILED: dict[str, re.Pattern[str]] = {k: re.compile(p) for k, (p, _d) in PATTERNS.items()}
_NONBLANK = re.compile(NONBLANK)


def _pattern_error(spec: Spec, v: object) -> ValueError:
    assert spec.pattern is not None
    return ValueError(f"{spec.name} must be {PATTERNS[spec.pattern][1]}, got {v!r}")


REPLACEMENT = "\ufffd"
"""U+FFFD: what a CSV reader puts for bytes that are not UTF-8; a text value holding it is rejected."""


def _check_text(spec: Spec, v: object) -> str:
    if not isinstance(v, str):
        raise ValueError(f"{spec.name} must be text, got {type(v).__name__} {v!r}")
    why = characters_problem(v, single_line=True)  # NUL, control characters: what the DCF's columns take
    if why is not None:
        raise ValueError(f"{spec.name} {why}")
    if REPLACEMENT in v:
        raise ValueError(f"{spec.name} holds U+FFFD, the mark of bytes that were not valid UTF-8 in the file")
    if spec.pattern is not None and not _COMPILED[spec.pattern].fullmatch(v):
        raise _pattern_error(spec, v)
    if spec.pattern is None and not _NONBLANK.search(v):
        raise ValueError(f"{spec.name} must not be blank, got {v!r}")
    if spec.max_len is not None and len(v) > spec.max_len:
        raise ValueError(f"{spec.name} is longer than {spec.max_len} characters ({len(v)})")
    return v


def _check_date(spec: Spec, v: object) -> dt.date:
    if isinstance(v, dt.datetime):
        raise ValueError(f"{spec.name} must be a date, not a date and time, got {v.isoformat()!r}")
    if isinstance(v, dt.date):
        return v
    if not isinstance(v, str) or not _COMPILED["date"].fullmatch(v):
        raise ValueError(f"{spec.name} must be a date YYYY-MM-DD, got {v!r}")
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise ValueError(f"{spec.name} is not a calendar date, got {v!r}") from None


def _check_month(spec: Spec, v: object) -> str:
    if not isinstance(v, str) or not _COMPILED["month"].fullmatch(v) or v.startswith("0000"):
        raise ValueError(f"{spec.name} must be a month YYYY-MM with month 01-12 (year 0001 or later), got {v!r}")
    return v


def _check_int(spec: Spec, v: object) -> int:
    if isinstance(v, str):
        if not _COMPILED[spec.pattern or ""].fullmatch(v):
            raise _pattern_error(spec, v)
        n = int(v)
    elif isinstance(v, int) and not isinstance(v, bool):
        n = v
    else:
        raise _pattern_error(spec, v)
    if spec.pattern == "year" and not FIRST_EARNINGS_YEAR <= n <= 9999:
        raise _pattern_error(spec, v)
    if spec.pattern == "pc" and not 1 <= n <= 8:
        raise _pattern_error(spec, v)
    return n


def _check_float(spec: Spec, v: object) -> float:
    if isinstance(v, str):
        if not _COMPILED[spec.pattern or "float"].fullmatch(v):
            raise _pattern_error(spec, v)
        x = float(v)
    elif isinstance(v, int | float) and not isinstance(v, bool):
        x = float(v)
    else:
        raise _pattern_error(spec, v)
    if not math.isfinite(x):
        raise ValueError(f"{spec.name} must be a finite number, got {v!r}")
    if spec.pattern == "fraction" and not 0 <= x <= 1:
        raise _pattern_error(spec, v)
    return x


def _check_decimal(spec: Spec, v: object) -> Decimal:
    if isinstance(v, str):
        if not _COMPILED["money"].fullmatch(v):
            raise _pattern_error(spec, v)
        return Decimal(v)
    if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
        raise _pattern_error(spec, v)
    try:
        d = Decimal(str(v)) if isinstance(v, float) else Decimal(v)
        ok = d.is_finite() and d >= 0 and d == d.quantize(Decimal("0.01")) and d < Decimal(10) ** 10
    except InvalidOperation:
        ok = False
    if not ok:
        raise _pattern_error(spec, v)
    return d


def _check_bool(spec: Spec, v: object) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        low = v.lower()
        if low in BOOL_TRUE:
            return True
        if low in BOOL_FALSE:
            return False
    raise ValueError(f"{spec.name} must be true/false, 1/0 or Y/N, got {v!r}")


def _check_literal(spec: Spec, v: object) -> str:
    if not isinstance(v, str) or v not in spec.choices:
        raise ValueError(f"{spec.name} must be one of {', '.join(spec.choices)}, got {v!r}")
    return v


_CHECKERS = {
    "text": _check_text,
    "code": _check_text,
    "date": _check_date,
    "month": _check_month,
    "literal": _check_literal,
    "int": _check_int,
    "float": _check_float,
    "decimal": _check_decimal,
    "bool": _check_bool,
}


def check_value(spec: Spec, v: object) -> Any:
    """The value of column ``spec`` for input ``v`` (``None`` = empty), or ``ValueError`` saying why not."""
    if v is None:
        if spec.required:
            raise ValueError(f"{spec.name} is required")
        return None
    if spec.name == "ssn":
        if not isinstance(v, str):
            raise ValueError(f"ssn must be text of 9 digits, got {type(v).__name__}")  # the value is not repeated
        return check_ssn(v)
    return _CHECKERS[spec.kind](spec, v)


class Beneficiary(BaseModel):
    """A row of ``beneficiaries`` without ``version``/``updated_at`` (DI 40502.001F.3, G.3)."""

    model_config = ConfigDict(extra="forbid")

    ssn: str
    bic_or_id: str
    name: str
    birth_date: dt.date
    title: Title
    application_date: dt.date
    entitlement_date: dt.date
    onset_date: dt.date
    diagnosis_primary: str
    diagnosis_secondary: str | None = None
    impairment: str | None = None
    od_calc_mdr: str | None = None
    qmid_mdr: str | None = None
    ssr_mr: str | None = None
    diary_month: str
    ssi_diary_month: str | None = None
    profile: Profile
    profile_score: float | None = None
    recent_earnings_year: int | None = None
    recent_earnings: Decimal | None = None
    initial_claim: str | None = None
    prior_cdr: str | None = None
    servicing_pc: int | None = None
    dds: str
    fo_doors: str
    fo_city: str
    fo_state: str
    fo_zip: str
    rep_payee: str | None = None
    language: str
    address_line: str
    city: str
    state: str | None = None
    zip: str | None = None
    country: str
    foreign_address: bool
    phone: str | None = None
    date_of_death: dt.date | None = None
    folder_location: str | None = None
    folder_date_in_location: dt.date | None = None
    qmid_medical_blank: bool | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _column(cls, v: Any, info: ValidationInfo) -> Any:
        assert info.field_name is not None
        return check_value(SPEC_BY_NAME[info.field_name], v)

    # Cross-field rules, each on the later of its columns (info.data holds the columns already valid).

    @field_validator("application_date")
    @classmethod
    def _after_birth(cls, v: dt.date, info: ValidationInfo) -> dt.date:
        birth = info.data.get("birth_date")
        if birth is not None and not birth < v:
            raise ValueError(f"birth_date ({birth}) must be before application_date ({v})")
        return v

    @field_validator("onset_date")
    @classmethod
    def _onset_after_birth(cls, v: dt.date, info: ValidationInfo) -> dt.date:
        birth = info.data.get("birth_date")
        if birth is not None and v < birth:
            raise ValueError(f"onset_date ({v}) must not be before birth_date ({birth})")
        return v

    @field_validator("ssi_diary_month")
    @classmethod
    def _ssi_diary(cls, v: str | None, info: ValidationInfo) -> str | None:
        title = info.data.get("title")
        if v is not None and title is not None and title not in TITLE_XVI:
            raise ValueError(
                f"ssi_diary_month is only allowed for titles with Title XVI (T2/16, T16); title is {title}"
            )
        return v

    @field_validator("recent_earnings")
    @classmethod
    def _earnings_pair(cls, v: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if "recent_earnings_year" in info.data and (v is None) != (info.data["recent_earnings_year"] is None):
            raise ValueError("recent_earnings and recent_earnings_year must be given together or both left empty")
        return v

    @field_validator("country")
    @classmethod
    def _domestic_address(cls, v: str, info: ValidationInfo) -> str:
        if v != DOMESTIC_COUNTRY:
            return v
        if "state" in info.data and info.data["state"] is None:
            raise FieldError("state", f"state is required when country is {DOMESTIC_COUNTRY}")
        if "zip" in info.data:
            z = info.data["zip"]
            if z is None:
                raise FieldError("zip", f"zip is required when country is {DOMESTIC_COUNTRY}")
            if not _COMPILED["zip"].fullmatch(z):
                raise FieldError("zip", f"zip must be a ZIP code 12345 or 12345-6789 when country is US, got {z!r}")
        return v

    @field_validator("foreign_address")
    @classmethod
    def _foreign(cls, v: bool, info: ValidationInfo) -> bool:
        country = info.data.get("country")
        if country is not None and v != (country != DOMESTIC_COUNTRY):
            raise ValueError(
                f"foreign_address must equal (country != 'US'): foreign_address is {str(v).lower()} "
                f"but country is {country}"
            )
        return v

    @field_validator("date_of_death")
    @classmethod
    def _death_after_birth(cls, v: dt.date | None, info: ValidationInfo) -> dt.date | None:
        birth = info.data.get("birth_date")
        if v is not None and birth is not None and v < birth:
            raise ValueError(f"date_of_death ({v}) must not be before birth_date ({birth})")
        return v

    @field_validator("folder_date_in_location")
    @classmethod
    def _folder_pair(cls, v: dt.date | None, info: ValidationInfo) -> dt.date | None:
        if "folder_location" in info.data and (v is None) != (info.data["folder_location"] is None):
            raise ValueError("folder_location and folder_date_in_location (PCACS/SSICCS folder data, "
                             "DI 40502.001F.3) must be given together or both left empty")
        return v


COLUMNS: tuple[str, ...] = tuple(Beneficiary.model_fields)
"""The import columns, in the order of ``beneficiaries`` in ``cdrflow.dcf.schema``."""
REQUIRED: frozenset[str] = frozenset(s.name for s in SPECS if s.required)
"""Columns that must be present in a file and non-empty in every row (NOT NULL in the schema)."""

assert tuple(s.name for s in SPECS) == COLUMNS, "SPECS and Beneficiary must list the same columns in order"
