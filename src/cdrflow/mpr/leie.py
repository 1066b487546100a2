"""Read the OIG List of Excluded Individuals/Entities (LEIE) in its published CSV layout.

The layout (``docs/mpr-formats.md``) is the OIG's downloadable database (``UPDATED.csv``) and its
monthly supplements: a header row with exactly the 18 columns of :data:`LEIE_COLUMNS`, in that
order, and every cell text. Dates are ``YYYYMMDD``, with ``00000000`` meaning none; an NPI is 10
digits, with ``0000000000`` meaning none. An empty cell is also read as none.

Discipline (shared with :mod:`cdrflow.mpr.roster`):

* A file whose header is missing or differs from the layout is refused as a whole
  (:class:`FormatError`, naming the missing, unknown or misplaced columns); so is a file the CSV
  parser cannot get past (naming the row).
* Every data row ends up either accepted (a typed row of :attr:`ReadResult.frame`) or rejected
  (:class:`Reject`: the data row number, its file line, the first failing field and the reason,
  and the raw cells), so ``read == accepted + rejected`` always (:meth:`ReadResult.reconciles`).
  Blank lines are not rows.
* The file is read in chunks of ``chunk_rows`` rows: Python's C ``csv`` parser splits the rows
  (it counts the fields of each row, so a short or long row is a reject with its row number, where
  a Polars CSV scan would pad or refuse the whole file), and each chunk is validated and typed
  column-wise with Polars expressions. Only rejected rows are visited one by one.
* Reading is a pure function of the bytes: re-reading a file, in any chunk size, gives the same
  frame and the same rejects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import polars as pl

from cdrflow.dcf.limits import LINE_CONTROL, sizes
from cdrflow.dcf.schema import mpr_leie
from cdrflow.engine.csvrows import csv_rows, raw_record

LEIE_COLUMNS: Final = (
    "LASTNAME", "FIRSTNAME", "MIDNAME", "BUSNAME", "GENERAL", "SPECIALTY", "UPIN", "NPI", "DOB",
    "ADDRESS", "CITY", "STATE", "ZIP", "EXCLTYPE", "EXCLDATE", "REINDATE", "WAIVERDATE", "WVRSTATE",
)
"""The published header of the LEIE CSV, in order."""

NO_DATE: Final = "00000000"
"""How the LEIE writes "no date" in DOB, EXCLDATE, REINDATE and WAIVERDATE."""
NO_NPI: Final = "0000000000"
"""How the LEIE writes "no NPI"."""
ROW: Final = "ROW"
"""The data row number (1-based; the header is not counted) in every frame read here."""
LINE: Final = "LINE"
"""The file line on which a row ends (raw frames only; rows and lines differ when a cell holds a line break)."""
DEFAULT_CHUNK_ROWS: Final = 50_000

_LEIE_DATES: Final = ("DOB", "EXCLDATE", "REINDATE", "WAIVERDATE")
LEIE_SCHEMA: Final[dict[str, pl.DataType]] = {
    ROW: pl.Int64(), **{c: pl.Date() if c in _LEIE_DATES else pl.String() for c in LEIE_COLUMNS},
}
"""The typed LEIE frame: text stripped (empty is null), NPI null for none, the four dates as dates."""
LEIE_SIZES: Final[dict[str, tuple[int, str]]] = {
    c: (n, f"mpr_leie.{c.lower()}") for c in LEIE_COLUMNS if c not in _LEIE_DATES
    for n in [sizes(mpr_leie).get(c.lower())] if n is not None}
"""Characters the DCF keeps per text column (``mpr_leie``'s ``String(n)``): a longer cell is a reject."""

_DIGITS8 = r"^\d{8}$"
_DIGITS10 = r"^\d{10}$"
_STATE = r"^[A-Z]{2}$"
_ZIP = r"^\d{5}(-?\d{4})?$"


class FormatError(ValueError):
    """The whole file is refused: no header, a header that differs from the layout, or unparseable CSV."""


@dataclass(frozen=True)
class Reject:
    """One data row that was not accepted: where it is, the first field that fails, and why."""

    row: int
    line: int
    field: str
    reason: str
    record: Mapping[str, str | None]

    def as_dict(self) -> dict[str, Any]:
        """JSON-able: row, line, field, reason and the raw cells."""
        return {"row": self.row, "line": self.line, "field": self.field, "reason": self.reason,
                "record": dict(self.record)}

    def __str__(self) -> str:
        return f"row {self.row} (line {self.line}): {self.field}: {self.reason}"


@dataclass(frozen=True)
class RawChunk:
    """Raw text rows of one chunk (columns ROW, LINE and the file's columns) and the rows that did not parse."""

    frame: pl.DataFrame
    rejects: list[Reject]
    read: int


@dataclass(frozen=True)
class Chunk:
    """One chunk's accepted, typed rows and its rejects; ``read == frame.height + len(rejects)``."""

    frame: pl.DataFrame
    rejects: list[Reject]
    read: int


@dataclass
class ReadResult:
    """A whole file: every data row read is accepted (``frame``) or rejected."""

    read: int
    frame: pl.DataFrame
    rejects: list[Reject]

    @property
    def accepted(self) -> int:
        """How many rows were accepted."""
        return self.frame.height

    def reconciles(self) -> bool:
        """``read == accepted + rejected``: no row was lost."""
        return self.read == self.accepted + len(self.rejects)


# ---- the CSV reader shared by the LEIE and the license roster ---------------------------------


def raw_chunks(
    path: Path,
    columns_of: Callable[[list[str]], list[str]],
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    encoding: str = "utf-8-sig",
) -> Iterator[RawChunk]:
    """Stream ``path`` as chunks of raw text rows.

    ``columns_of`` receives the header cells and returns the column names (or raises
    :class:`FormatError`). A row with another number of fields than the header is a reject on
    field ``_row``, and so is a row the parser cannot split (a cell longer than
    :data:`~cdrflow.engine.csvrows.FIELD_LIMIT` characters): :func:`cdrflow.engine.csvrows.csv_rows`.
    Bytes that are not valid in ``encoding`` become U+FFFD, which the column checks reject
    (:func:`text_checks`), so a bad byte costs its row, not the file.
    """
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    path = Path(path)
    with csv_rows(path, FormatError, encoding=encoding) as (header, reader):
        columns = columns_of([h.strip() for h in header])
        rows: list[int] = []
        lines: list[int] = []
        cells: list[list[str]] = [[] for _ in columns]
        rejects: list[Reject] = []
        for r in reader:
            if r.problem is not None:
                rejects.append(Reject(r.row, r.line, "_row", r.problem, raw_record(columns, r.cells)))
            else:
                rows.append(r.row)
                lines.append(r.line)
                for values, cell in zip(cells, r.cells, strict=True):
                    values.append(cell)
            if len(rows) + len(rejects) >= chunk_rows:
                yield _raw_chunk(columns, rows, lines, cells, rejects)
                rows, lines, cells, rejects = [], [], [[] for _ in columns], []
        if rows or rejects:
            yield _raw_chunk(columns, rows, lines, cells, rejects)


def _raw_chunk(columns: list[str], rows: list[int], lines: list[int], cells: list[list[str]],
               rejects: list[Reject]) -> RawChunk:
    data: dict[str, Any] = {ROW: rows, LINE: lines, **dict(zip(columns, cells, strict=True))}
    schema: dict[str, pl.DataType] = {ROW: pl.Int64(), LINE: pl.Int64(), **{c: pl.String() for c in columns}}
    return RawChunk(pl.DataFrame(data, schema=schema), rejects, len(rows) + len(rejects))


def header_check(expected: Sequence[str], what: str, *, ordered: bool) -> Callable[[list[str]], list[str]]:
    """A header check: exactly the ``expected`` columns, each once, and in that order when ``ordered``;
    the error names what differs."""

    def check(header: list[str]) -> list[str]:
        missing = [c for c in expected if c not in header]
        unknown = [c for c in header if c not in expected]
        dupes = sorted({c for c in header if header.count(c) > 1})
        if not (missing or unknown or dupes or (ordered and header != list(expected))):
            return header
        parts = []
        if missing:
            parts.append(f"missing columns: {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown columns: {', '.join(c or '(blank)' for c in unknown)}")
        if dupes:
            parts.append(f"repeated columns: {', '.join(dupes)}")
        if not parts:
            parts.append(f"columns out of order: expected {','.join(expected)}; got {','.join(header)}")
        raise FormatError(f"{what}: {'; '.join(parts)} (the layout is in docs/mpr-formats.md)")

    return check


# ---- column checks as Polars expressions --------------------------------------------------------

Check = tuple[str, pl.Expr, pl.Expr]
"""(field, condition true where the row fails, reason as a text expression)."""


def cleaned(columns: Sequence[str], upper: Sequence[str] = ()) -> list[pl.Expr]:
    """Each text column stripped of surrounding blanks, empty as null; ``upper`` ones upper-cased."""
    out = []
    for c in columns:
        e = pl.col(c).str.strip_chars()
        if c in upper:
            e = e.str.to_uppercase()
        out.append(pl.when(e != "").then(e).alias(c))
    return out


def _quoted(c: str) -> pl.Expr:
    return pl.concat_str(pl.lit("'"), pl.col(c).str.slice(0, 40), pl.lit("'"))


def text_checks(columns: Sequence[str]) -> list[Check]:
    """No cell may hold a line break (an unclosed quote swallows lines), another control character (NUL,
    tab, ...: the DCF's one-line columns take none, :mod:`cdrflow.dcf.limits`) or a byte the encoding
    lacks."""
    checks: list[Check] = []
    for c in columns:
        checks.append((c, pl.col(c).str.contains(r"[\r\n]"),
                       pl.lit("holds a line break (an unclosed quote?)")))
        checks.append((c, pl.col(c).str.contains(LINE_CONTROL),
                       pl.lit("holds a control character (NUL, tab or another), which the DCF does not store")))
        checks.append((c, pl.col(c).str.contains("\ufffd", literal=True),
                       pl.lit("holds bytes that are not valid text in the file's encoding")))
    return checks


def size_checks(max_chars: Mapping[str, tuple[int, str]]) -> list[Check]:
    """No cell may hold more characters than the DCF's column keeps (``max_chars``: column -> (n,
    "table.column"), from the schema's ``String(n)``). Listed after a column's own checks, so a code
    that is simply wrong (a state of three letters) is rejected for its pattern."""
    return [(c, pl.col(c).str.len_chars() > n,
             pl.concat_str(pl.lit("is "), pl.col(c).str.len_chars().cast(pl.String),
                           pl.lit(f" characters long; the DCF holds at most {n} ({where})")))
            for c, (n, where) in max_chars.items()]


def required(c: str, what: str = "is required") -> Check:
    """The cell must not be empty."""
    return (c, pl.col(c).is_null(), pl.lit(what))


def pattern(c: str, regex: str, what: str) -> Check:
    """A non-empty cell must match ``regex``."""
    return (c, ~pl.col(c).str.contains(regex), pl.concat_str(pl.lit(what + ", got "), _quoted(c)))


def luhn_ok(c: pl.Expr) -> pl.Expr:
    """True where a 10-digit NPI's last digit is its check digit (Luhn over the prefix 80840 + 9 digits)."""
    total: pl.Expr = pl.lit(24, dtype=pl.Int32)  # the digits of the prefix 80840, as Luhn weighs them
    for i in range(9):
        d = c.str.slice(i, 1).cast(pl.Int32, strict=False)
        if i % 2 == 0:
            d = d * 2
            d = pl.when(d > 9).then(d - 9).otherwise(d)
        total = total + d
    return ((10 - total % 10) % 10) == c.str.slice(9, 1).cast(pl.Int32, strict=False)


def npi_check_digit_ok(npi: str) -> bool:
    """The same check as :func:`luhn_ok`, for one NPI in Python (the tests hold the two to each other)."""
    if not re.fullmatch(r"\d{10}", npi):
        return False
    total = 24
    for i, ch in enumerate(npi[:9]):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return (10 - total % 10) % 10 == int(npi[9])


def npi_checks(c: str, none: str | None = NO_NPI) -> list[Check]:
    """An NPI is 10 digits with a valid check digit; ``none`` (and empty) means no NPI."""
    present = pl.col(c).is_not_null() if none is None else pl.col(c).is_not_null() & (pl.col(c) != none)
    none_txt = f" ({none} for none)" if none else ""
    return [
        (c, present & ~pl.col(c).str.contains(_DIGITS10),
         pl.concat_str(pl.lit(f"an NPI is 10 digits{none_txt}, got "), _quoted(c))),
        (c, present & ~luhn_ok(pl.col(c)),
         pl.concat_str(pl.lit("the NPI's check digit is wrong, got "), _quoted(c))),
    ]


def date8(c: str) -> pl.Expr:
    """A ``YYYYMMDD`` cell as a date; null for empty or ``00000000``."""
    col = pl.col(c)
    return pl.when(col.str.contains(_DIGITS8) & (col != NO_DATE)).then(col.str.to_date("%Y%m%d", strict=False))


def date8_checks(c: str, *, none_allowed: bool) -> list[Check]:
    """A ``YYYYMMDD`` date that exists; ``00000000`` (or empty) only when ``none_allowed``."""
    col = pl.col(c)
    checks: list[Check] = [
        (c, col.is_not_null() & ((col != NO_DATE) | pl.lit(not none_allowed)) & date8(c).is_null(),
         pl.concat_str(pl.lit("a date is YYYYMMDD" + (f" ({NO_DATE} for none)" if none_allowed else "")
                              + " and must exist, got "), _quoted(c))),
    ]
    if not none_allowed:
        checks.insert(0, (c, col.is_null() | (col == NO_DATE), pl.lit("a date is required")))
    return checks


def find_problems(raw: pl.DataFrame, frame: pl.DataFrame, checks: Sequence[Check],
                  raw_columns: Sequence[str]) -> tuple[pl.DataFrame, list[Reject]]:
    """Split ``frame`` into the rows that pass every check and rejects naming each other row's first failure.

    ``frame`` holds the cleaned cells the checks read; ``raw`` the same rows as read, whose
    ``raw_columns`` a reject carries. A failing check always rejects, even if its reason is null.
    """
    sep = "\x1f"
    problem = pl.coalesce(
        [pl.when(bad.fill_null(False)).then(pl.concat_str(pl.lit(f + sep), why.fill_null(pl.lit("is not valid"))))
         for f, bad, why in checks]
    ).alias("__problem")
    marked = frame.with_columns(problem)
    good = marked.filter(pl.col("__problem").is_null()).drop("__problem")
    bad_rows = marked.filter(pl.col("__problem").is_not_null()).select(ROW, LINE, "__problem")
    cells = {r[ROW]: r for r in raw.join(bad_rows.select(ROW), on=ROW, how="semi").iter_rows(named=True)}
    rejects = []
    for row, line, found in bad_rows.iter_rows():
        f, why = str(found).split(sep, 1)
        rejects.append(Reject(row, line, f, why, {c: cells[row][c] for c in raw_columns}))
    return good, rejects


# ---- the LEIE -----------------------------------------------------------------------------------

def _leie_checks() -> list[Check]:
    last, bus = pl.col("LASTNAME"), pl.col("BUSNAME")
    excl, rein = date8("EXCLDATE"), date8("REINDATE")
    waiver, wstate = date8("WAIVERDATE"), pl.col("WVRSTATE")
    return [
        *text_checks(LEIE_COLUMNS),
        ("LASTNAME", last.is_null() & bus.is_null(),
         pl.lit("neither LASTNAME nor BUSNAME is given: the entry names no one")),
        *npi_checks("NPI"),
        *date8_checks("DOB", none_allowed=True),
        pattern("STATE", _STATE, "a state is two letters"),
        pattern("ZIP", _ZIP, "a ZIP code is 5 or 9 digits"),
        required("EXCLTYPE", "the exclusion type is required"),
        *date8_checks("EXCLDATE", none_allowed=False),
        *date8_checks("REINDATE", none_allowed=True),
        ("REINDATE", rein < excl,
         pl.concat_str(pl.lit("the reinstatement "), pl.col("REINDATE"), pl.lit(" is before the exclusion "),
                       pl.col("EXCLDATE"))),
        *date8_checks("WAIVERDATE", none_allowed=True),
        pattern("WVRSTATE", _STATE, "a waiver state is two letters"),
        ("WAIVERDATE", waiver.is_null() & wstate.is_not_null(),
         pl.concat_str(pl.lit("a waiver state ("), wstate, pl.lit(") is given without a waiver date"))),
        ("WVRSTATE", waiver.is_not_null() & wstate.is_null(),
         pl.concat_str(pl.lit("a waiver date ("), pl.col("WAIVERDATE"), pl.lit(") is given without its state"))),
        *size_checks(LEIE_SIZES),
    ]


def _leie_typed() -> list[pl.Expr]:
    npi = pl.col("NPI")
    out: list[pl.Expr] = [pl.col(ROW)]
    for c in LEIE_COLUMNS:
        if c == "NPI":
            out.append(pl.when(npi != NO_NPI).then(npi).alias(c))
        elif c in _LEIE_DATES:
            out.append(date8(c).alias(c))
        else:
            out.append(pl.col(c))
    return out


def validate_leie(raw: RawChunk) -> Chunk:
    """Validate and type one raw chunk of LEIE rows (vectorized); failures become rejects."""
    frame = raw.frame.with_columns(cleaned(LEIE_COLUMNS, upper=("STATE", "WVRSTATE")))
    good, rejects = find_problems(raw.frame, frame, _leie_checks(), LEIE_COLUMNS)
    typed = good.select(_leie_typed())
    rejects = sorted([*raw.rejects, *rejects], key=lambda r: r.row)
    return Chunk(typed, rejects, raw.read)


def iter_leie(path: Path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS, encoding: str = "utf-8-sig") -> Iterator[Chunk]:
    """Stream an LEIE CSV as validated, typed chunks (bounded memory: one chunk at a time)."""
    check = header_check(LEIE_COLUMNS, f"{Path(path).name}: not the LEIE layout", ordered=True)
    for raw in raw_chunks(path, check, chunk_rows=chunk_rows, encoding=encoding):
        yield validate_leie(raw)


def collect(chunks: Iterator[Chunk], schema: Mapping[str, pl.DataType]) -> ReadResult:
    """Gather streamed chunks into one :class:`ReadResult`."""
    frames, rejects, read = [], [], 0
    for chunk in chunks:
        frames.append(chunk.frame)
        rejects.extend(chunk.rejects)
        read += chunk.read
    frame = pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=dict(schema))
    return ReadResult(read, frame, rejects)


def read_leie(path: Path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS, encoding: str = "utf-8-sig") -> ReadResult:
    """Read a whole LEIE CSV: the typed entries (schema :data:`LEIE_SCHEMA`) and the rejects.

    Raises :class:`FormatError` when the header is not the published one.
    """
    return collect(iter_leie(path, chunk_rows=chunk_rows, encoding=encoding), LEIE_SCHEMA)
