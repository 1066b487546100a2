"""Read a state license roster CSV: who holds which license, with its status and expiry.

States publish their rosters in many shapes; this is the one layout cdrflow reads, and a state's
export is mapped to it first (``docs/mpr-formats.md`` has the layout and an example row). The
header must name exactly the columns of :data:`ROSTER_COLUMNS` (in any order):

=============== ======== ================================================================
column          required content
=============== ======== ================================================================
STATE           yes      two-letter code of the licensing state
LICENSE_NUMBER  yes      the state's license number (text, kept as written)
LAST_NAME       yes      licensee's last name
FIRST_NAME      yes      licensee's first name
MIDDLE_NAME     no       middle name or initial
NPI             no       10 digits with a valid check digit; empty or 0000000000 for none
PROFESSION      yes      profession or license type as the state names it (e.g. PHYSICIAN)
STATUS          yes      ACTIVE, EXPIRED, SUSPENDED or REVOKED (the calc's domain)
ISSUED          no       date first issued, YYYY-MM-DD
EXPIRES         yes      expiry date, YYYY-MM-DD (current through that day)
CITY            no       city of the licensee's address of record
ZIP             no       5 or 9 digits
=============== ======== ================================================================

The reject discipline is the LEIE's (:mod:`cdrflow.mpr.leie`): every data row is accepted or
rejected with its row, line, first failing field and reason, and the counts reconcile. A second
row for the same STATE and LICENSE_NUMBER is rejected, naming the first (the only state kept
across chunks: a dictionary of the license keys seen).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Final, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from cdrflow.dcf.limits import sizes
from cdrflow.dcf.schema import mpr_licenses

from .leie import (
    DEFAULT_CHUNK_ROWS,
    LINE,
    NO_NPI,
    ROW,
    Check,
    Chunk,
    RawChunk,
    ReadResult,
    Reject,
    cleaned,
    collect,
    find_problems,
    header_check,
    npi_checks,
    pattern,
    raw_chunks,
    required,
    size_checks,
    text_checks,
)

ROSTER_COLUMNS: Final = (
    "STATE", "LICENSE_NUMBER", "LAST_NAME", "FIRST_NAME", "MIDDLE_NAME", "NPI", "PROFESSION", "STATUS",
    "ISSUED", "EXPIRES", "CITY", "ZIP",
)
"""The roster layout's columns, in the documented order (a file may order them differently)."""
STATUSES: Final = ("ACTIVE", "EXPIRED", "SUSPENDED", "REVOKED")
"""License statuses, the domain of the ``ce-provider-eligibility`` input ``license_status``."""

_DATES: Final = ("ISSUED", "EXPIRES")
ROSTER_SCHEMA: Final[dict[str, pl.DataType]] = {
    ROW: pl.Int64(), **{c: pl.Date() if c in _DATES else pl.String() for c in ROSTER_COLUMNS},
}
"""The typed roster frame, columns in the documented order."""
_ISO = r"^\d{4}-\d{2}-\d{2}$"
STORED_AS: Final = {"STATE": "state", "LICENSE_NUMBER": "number", "LAST_NAME": "last_name",
                    "FIRST_NAME": "first_name", "MIDDLE_NAME": "middle_name", "NPI": "npi",
                    "PROFESSION": "profession", "STATUS": "status", "CITY": "city", "ZIP": "zip"}
"""The ``mpr_licenses`` column each text column of the roster is stored in."""
ROSTER_SIZES: Final[dict[str, tuple[int, str]]] = {c: (sizes(mpr_licenses)[col], f"mpr_licenses.{col}")
                                                   for c, col in STORED_AS.items()}
"""Characters the DCF keeps per text column (``mpr_licenses``' ``String(n)``): a longer cell is a reject."""


class License(BaseModel):
    """One license: the facts the eligibility calc needs, and where it came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    state: str = Field(pattern=r"^[A-Z]{2}$")
    number: str = Field(min_length=1)
    status: Literal["ACTIVE", "EXPIRED", "SUSPENDED", "REVOKED"]
    expires: dt.date
    issued: dt.date | None = None
    profession: str | None = None
    source_row: int | None = Field(default=None, description="the roster's data row, when read from one")


def _iso(c: str) -> pl.Expr:
    col = pl.col(c)
    return pl.when(col.str.contains(_ISO)).then(col.str.to_date("%Y-%m-%d", strict=False))


def _iso_check(c: str) -> Check:
    return (c, pl.col(c).is_not_null() & _iso(c).is_null(),
            pl.concat_str(pl.lit("a date is YYYY-MM-DD and must exist, got '"), pl.col(c).str.slice(0, 40),
                          pl.lit("'")))


def _checks() -> list[Check]:
    return [
        *text_checks(ROSTER_COLUMNS),
        required("STATE"),
        pattern("STATE", r"^[A-Z]{2}$", "a state is two letters"),
        required("LICENSE_NUMBER"),
        required("LAST_NAME"),
        required("FIRST_NAME"),
        *npi_checks("NPI"),
        required("PROFESSION"),
        required("STATUS"),
        ("STATUS", ~pl.col("STATUS").is_in(STATUSES),
         pl.concat_str(pl.lit(f"a status is one of {', '.join(STATUSES)}, got '"), pl.col("STATUS"), pl.lit("'"))),
        _iso_check("ISSUED"),
        required("EXPIRES"),
        _iso_check("EXPIRES"),
        ("ISSUED", _iso("ISSUED") > _iso("EXPIRES"),
         pl.concat_str(pl.lit("issued "), pl.col("ISSUED"), pl.lit(" after it expires "), pl.col("EXPIRES"))),
        pattern("ZIP", r"^\d{5}(-?\d{4})?$", "a ZIP code is 5 or 9 digits"),
        *size_checks(ROSTER_SIZES),
    ]


def _typed() -> list[pl.Expr]:
    out: list[pl.Expr] = [pl.col(ROW)]
    for c in ROSTER_COLUMNS:
        if c in _DATES:
            out.append(_iso(c).alias(c))
        elif c == "NPI":
            out.append(pl.when(pl.col(c) != NO_NPI).then(pl.col(c)).alias(c))
        else:
            out.append(pl.col(c))
    return out


class _Reader:
    """Validates raw chunks in order, remembering the license keys seen so far."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], int] = {}

    def validate(self, raw: RawChunk) -> Chunk:
        columns = [c for c in raw.frame.columns if c in ROSTER_COLUMNS]
        frame = raw.frame.with_columns(cleaned(ROSTER_COLUMNS, upper=("STATE", "STATUS")))
        good, rejects = find_problems(raw.frame, frame, _checks(), columns)
        keep: list[bool] = []
        for row, line, state, number in good.select(ROW, LINE, "STATE", "LICENSE_NUMBER").iter_rows():
            first = self.seen.setdefault((state, number), row)
            keep.append(first == row)
            if first != row:
                rec = raw.frame.filter(pl.col(ROW) == row).row(0, named=True)
                rejects.append(Reject(row, line, "LICENSE_NUMBER",
                                      f"license {state} {number} is already on row {first}",
                                      {c: rec[c] for c in columns}))
        good = good.filter(pl.Series(keep, dtype=pl.Boolean))
        return Chunk(good.select(_typed()), sorted([*raw.rejects, *rejects], key=lambda r: r.row), raw.read)


def iter_roster(path: Path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS, encoding: str = "utf-8-sig") -> Iterator[Chunk]:
    """Stream a roster CSV as validated, typed chunks (columns in the order of :data:`ROSTER_COLUMNS`)."""
    reader = _Reader()
    check = header_check(ROSTER_COLUMNS, f"{Path(path).name}: not the license roster layout", ordered=False)
    for raw in raw_chunks(path, check, chunk_rows=chunk_rows, encoding=encoding):
        yield reader.validate(raw)


def read_roster(path: Path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS, encoding: str = "utf-8-sig") -> ReadResult:
    """Read a whole roster CSV: typed rows (schema :data:`ROSTER_SCHEMA`) and rejects."""
    return collect(iter_roster(path, chunk_rows=chunk_rows, encoding=encoding), ROSTER_SCHEMA)


def licenses(frame: pl.DataFrame) -> list[License]:
    """The accepted roster rows as :class:`License` records, in row order."""
    return [
        License(state=r["STATE"], number=r["LICENSE_NUMBER"], status=r["STATUS"], expires=r["EXPIRES"],
                issued=r["ISSUED"], profession=r["PROFESSION"], source_row=r[ROW])
        for r in frame.iter_rows(named=True)
    ]
