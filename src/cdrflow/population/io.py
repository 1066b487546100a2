"""Read a beneficiary population file into insertable ``beneficiaries`` rows plus rejects.

A file is CSV (header row; every cell read as text; an empty cell is null) or Parquet. Its
columns must be a subset of :data:`~cdrflow.population.model.COLUMNS` that includes every
:data:`~cdrflow.population.model.REQUIRED` column; otherwise the whole file is refused with one
``ValueError`` naming the unknown and the missing columns. Absent optional columns are null.

Every data row then ends up either valid (a dict of Python values ready for a SQLAlchemy insert)
or rejected with the first failing column and the reason, so ``len(valid) + len(rejects)`` is
always the number of data rows. The second and later rows with the same SSN are rejected.

Validation is vectorized: the column checks of :data:`~cdrflow.population.model.SPECS` and the
cross-field rules of :class:`~cdrflow.population.model.Beneficiary` are compiled to Polars
expressions, and only rows that fail are handed to the pydantic model for their message.
``full_validation=True`` validates every row with the model instead (slow; the tests use it to
hold both paths to the same result).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import ValidationError

from cdrflow.dcf.limits import LINE_CONTROL
from cdrflow.engine.csvrows import csv_rows, raw_record
from cdrflow.kernel.ssn import mask, polars_ok
from cdrflow.safeio import atomic, jsonl_line

from .model import (
    BOOL_TRUE,
    COLUMNS,
    DOMESTIC_COUNTRY,
    FIRST_EARNINGS_YEAR,
    NONBLANK,
    PATTERNS,
    REPLACEMENT,
    REQUIRED,
    SPEC_BY_NAME,
    SPECS,
    TITLE_XVI,
    Beneficiary,
    FieldError,
    Spec,
    check_ssn,
)

_DTYPE_BY_KIND: dict[str, pl.DataType] = {
    "text": pl.String(),
    "code": pl.String(),
    "month": pl.String(),
    "literal": pl.String(),
    "date": pl.Date(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "decimal": pl.Decimal(12, 2),
    "bool": pl.Boolean(),
}

POLARS_SCHEMA: dict[str, pl.DataType] = {s.name: _DTYPE_BY_KIND[s.kind] for s in SPECS}
"""Polars types of the columns when typed (Parquet files written by ``write_population`` use them)."""

SUFFIXES = (".csv", ".parquet")
_ROW = "__row"


# ---- reading ---------------------------------------------------------------------------------


def _as_text(df: pl.DataFrame, path: Path) -> pl.DataFrame:
    """Every column as text (the CSV view of a Parquet file); empty text is null."""
    exprs = []
    for name, dtype in df.schema.items():
        c = pl.col(name)
        if dtype == pl.String:
            e = c
        elif dtype == pl.Date:
            e = c.dt.strftime("%Y-%m-%d")
        elif dtype.is_numeric() or dtype in (pl.Boolean, pl.Null, pl.Datetime, pl.Categorical, pl.Enum):
            e = c.cast(pl.String)
        else:
            raise ValueError(f"{path.name}: column {name!r} has type {dtype}, which a population file cannot hold")
        exprs.append(e.alias(name))
    return df.select(exprs)


_LINE = "__line"


def _read_csv(path: Path) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """A CSV file as text columns plus ``__row`` and ``__line`` (the file line the row ends on), and the
    rows that could not be split into the header's cells: another number of fields, or a cell longer
    than :data:`~cdrflow.engine.csvrows.FIELD_LIMIT` (:func:`cdrflow.engine.csvrows.csv_rows`)."""
    early: list[dict[str, Any]] = []
    with csv_rows(path, ValueError) as (header, reader):
        repeated = sorted({h for h in header if header.count(h) > 1})
        if repeated:
            raise ValueError(f"{path.name}: repeated columns: {', '.join(repeated)}")
        cells: list[list[str]] = [[] for _ in header]
        rows: list[int] = []
        lines: list[int] = []
        for r in reader:
            if r.problem is not None:
                raw = raw_record(header, r.cells)
                ssn = raw.get("ssn") or None
                early.append({"row": r.row, "line": r.line, "ssn": ssn and mask(ssn), "field": "_row",
                              "reason": r.problem, "record": _record(raw)})
                continue
            rows.append(r.row)
            lines.append(r.line)
            for values, cell in zip(cells, r.cells, strict=True):
                values.append(cell)
    schema: dict[str, pl.DataType] = {_ROW: pl.Int64(), _LINE: pl.Int64(), **{h: pl.String() for h in header}}
    df = pl.DataFrame({_ROW: rows, _LINE: lines, **dict(zip(header, cells, strict=True))}, schema=schema)
    return df, early


def _read_raw(path: Path) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """The file as text columns (empty is null) with ``__row`` (and ``__line`` for CSV), and the rows
    rejected while reading (CSV rows that do not split into the header's cells)."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"{path.name}: unsupported file suffix {path.suffix!r}; use .csv or .parquet")
    early: list[dict[str, Any]] = []
    try:
        if suffix == ".csv":
            df, early = _read_csv(path)
        else:
            df = pl.read_parquet(path)
    except pl.exceptions.NoDataError:
        raise ValueError(f"{path.name}: the file is empty (no header row)") from None
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise ValueError(f"{path.name}: cannot read the file: {str(exc).strip().splitlines()[0]}") from exc
    if suffix != ".csv":
        df = _as_text(df, path).select(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(_ROW), pl.all())
    data = [c for c in df.columns if c not in (_ROW, _LINE)]
    return df.with_columns(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in data), early


def _check_columns(columns: list[str], path: Path) -> None:
    unknown = [c for c in columns if c not in COLUMNS]
    missing = [c for c in COLUMNS if c in REQUIRED and c not in columns]
    if unknown or missing:
        parts = []
        if unknown:
            parts.append(f"unknown columns: {', '.join(unknown)}")
        if missing:
            parts.append(f"missing required columns: {', '.join(missing)}")
        raise ValueError(f"{path.name}: {'; '.join(parts)} (the columns are listed in docs/population.md)")


# ---- the checks as Polars expressions --------------------------------------------------------


def _matches(c: pl.Expr, key: str) -> pl.Expr:
    return c.str.contains(f"^(?:{PATTERNS[key][0]})$")


def _date_ok(c: pl.Expr) -> pl.Expr:
    return _matches(c, "date") & ~c.str.starts_with("0000")


def _to_date(c: pl.Expr) -> pl.Expr:
    return pl.when(_date_ok(c)).then(c.str.to_date("%Y-%m-%d", strict=False))


def _value_ok(s: Spec) -> pl.Expr:
    """True where the non-null text of column ``s`` is valid (null where the cell is null)."""
    c = pl.col(s.name)
    length_ok = c.str.len_chars() <= s.max_len if s.max_len is not None else pl.lit(True)
    if s.name == "ssn":
        return polars_ok(c)  # the one rule (cdrflow.kernel.ssn), as check_value asks it
    if s.kind in ("text", "code"):
        chars_ok = ~c.str.contains(LINE_CONTROL) & ~c.str.contains(REPLACEMENT, literal=True)
        if s.pattern is None:
            ok = c.str.contains(NONBLANK) & length_ok & chars_ok
        else:
            ok = _matches(c, s.pattern) & length_ok & chars_ok
        return ok
    if s.kind == "date":
        return _date_ok(c) & _to_date(c).is_not_null()
    if s.kind == "month":
        return _matches(c, "month") & ~c.str.starts_with("0000")
    if s.kind == "literal":
        return c.is_in(list(s.choices))
    if s.kind == "int":
        assert s.pattern is not None
        ok = _matches(c, s.pattern)
        if s.pattern == "year":
            ok = ok & (c.cast(pl.Int64, strict=False) >= FIRST_EARNINGS_YEAR)
        return ok
    if s.kind == "float":
        x = c.cast(pl.Float64, strict=False)
        ok = _matches(c, s.pattern or "float") & x.is_finite()
        if s.pattern == "fraction":
            ok = ok & (x >= 0) & (x <= 1)
        return ok
    if s.kind == "decimal":
        return _matches(c, "money")
    if s.kind == "bool":
        return c.str.to_lowercase().is_in(["true", "false", "1", "0", "y", "n"])
    raise AssertionError(s.kind)


def _typed(s: Spec) -> pl.Expr:
    c = pl.col(s.name)
    if s.kind == "date":
        e = _to_date(c)
    elif s.kind == "int":
        e = c.cast(pl.Int64, strict=False)
    elif s.kind == "float":
        e = c.cast(pl.Float64, strict=False)
    elif s.kind == "decimal":
        e = pl.when(_matches(c, "money")).then(c).cast(pl.Decimal(12, 2), strict=False)
    elif s.kind == "bool":
        e = c.str.to_lowercase().is_in(list(BOOL_TRUE))
    else:
        e = c
    return e.alias(s.name)


def _cross_ok() -> list[pl.Expr]:
    """The cross-field rules of ``Beneficiary``; each passes when an operand is null (checked elsewhere)."""
    birth, app = _to_date(pl.col("birth_date")), _to_date(pl.col("application_date"))
    onset, death = _to_date(pl.col("onset_date")), _to_date(pl.col("date_of_death"))
    country = pl.col("country")
    foreign = pl.col("foreign_address").str.to_lowercase().is_in(list(BOOL_TRUE))
    domestic_address = pl.col("state").is_not_null() & pl.col("zip").is_not_null() & _matches(pl.col("zip"), "zip")
    return [
        (birth < app).fill_null(True),
        (onset >= birth).fill_null(True),
        (pl.col("ssi_diary_month").is_null() | pl.col("title").is_in(list(TITLE_XVI))).fill_null(True),
        pl.col("recent_earnings_year").is_null() == pl.col("recent_earnings").is_null(),
        pl.col("folder_location").is_null() == pl.col("folder_date_in_location").is_null(),
        ((country != DOMESTIC_COUNTRY) | domestic_address).fill_null(True),
        (foreign == (country != DOMESTIC_COUNTRY)).fill_null(True),
        (death >= birth).fill_null(True),
    ]


def _row_ok() -> pl.Expr:
    checks = []
    for s in SPECS:
        ok = _value_ok(s).fill_null(False)
        checks.append(pl.col(s.name).is_not_null() & ok if s.required else pl.col(s.name).is_null() | ok)
    return pl.all_horizontal(checks + _cross_ok())


# ---- rejects ---------------------------------------------------------------------------------


def _first_error(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    cause = (err.get("ctx") or {}).get("error")
    field = cause.field if isinstance(cause, FieldError) else (str(err["loc"][0]) if err["loc"] else "_row")
    if isinstance(cause, ValueError):
        msg = str(cause)
    elif field == "ssn" or isinstance(err.get("input"), dict):  # an SSN is never repeated (interpretations §79)
        msg = err["msg"]
    else:
        msg = f"{err['msg']} (got {err.get('input')!r})"
    return field, msg


_SSN_LIKE = re.compile(r"(?<![0-9-])(?:[0-9]{9}|[0-9]{3}-[0-9]{2}-[0-9]{4})(?![0-9-])")  # not a ZIP+4


def _record(raw: Mapping[str, str | None]) -> dict[str, str]:
    """A rejected row's cells as the reject shows them: the ``ssn`` cell masked, and anything shaped like an
    SSN in another cell too (a ragged row's cells are not where its header says)."""
    return {k: mask(v) if k == "ssn" and v else _SSN_LIKE.sub(lambda m: mask(m[0]), v or "")
            for k, v in raw.items()}


def _reject(row: int, raw: Mapping[str, str | None], field: str, reason: str) -> dict[str, Any]:
    """A reject shows the SSN masked, never in full (interpretations §79); its row and line find it in the file."""
    ssn = raw.get("ssn")
    return {"row": row, "ssn": None if ssn is None else mask(ssn), "field": field, "reason": reason,
            "record": _record(raw)}


def _duplicate_reason(first_row: int) -> str:
    return f"duplicate ssn in file (first at row {first_row})"


def _validate_one(row: int, raw: Mapping[str, str | None]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    full = {c: raw.get(c) for c in COLUMNS}
    try:
        model = Beneficiary.model_validate(full)
    except ValidationError as exc:
        field, reason = _first_error(exc)
        return None, _reject(row, raw, field, reason)
    return model.model_dump(), None


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of acyclic dicts (about 2x faster)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def rows_as_dicts(df: pl.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``df`` as dicts of Python values (faster than ``DataFrame.to_dicts``)."""
    columns = df.columns
    with _gc_paused():
        values = [df.get_column(c).to_list() for c in columns]
        return [dict(zip(columns, vals, strict=True)) for vals in zip(*values, strict=True)]


def _read_fast(df: pl.DataFrame) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    raw_columns = [c for c in df.columns if c != _ROW]
    ssn_ok = pl.col("ssn").is_not_null() & _value_ok(SPEC_BY_NAME["ssn"]).fill_null(False)
    checked = df.with_columns(
        _row_ok().alias("__ok"),
        (ssn_ok & ~pl.col("ssn").is_first_distinct()).alias("__dup"),
        (pl.col(_ROW).min().over("ssn")).alias("__first"),
    )
    good = checked.filter(pl.col("__ok") & ~pl.col("__dup"))
    valid_rows = good.get_column(_ROW).to_list()
    valid = rows_as_dicts(good.select(_typed(s) for s in SPECS))
    bad = checked.filter(~pl.col("__ok") | pl.col("__dup"))
    rejects: list[dict[str, Any]] = []
    late: list[tuple[int, dict[str, Any]]] = []
    for r in bad.iter_rows(named=True):
        raw = {c: r[c] for c in raw_columns}
        if r["__dup"]:
            rejects.append(_reject(r[_ROW], raw, "ssn", _duplicate_reason(r["__first"])))
            continue
        ok, rej = _validate_one(r[_ROW], raw)
        if rej is not None:
            rejects.append(rej)
        elif ok is not None:  # the model is the authority; the vectorized checks are only a fast path
            late.append((r[_ROW], ok))
    if late:
        merged = sorted([*zip(valid_rows, valid, strict=True), *late], key=lambda t: t[0])
        valid = [v for _r, v in merged]
    return valid, rejects


def _read_full(df: pl.DataFrame) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    raw_columns = [c for c in df.columns if c != _ROW]
    valid: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    first_at: dict[str, int] = {}
    for r in df.iter_rows(named=True):
        raw = {c: r[c] for c in raw_columns}
        row, ssn = r[_ROW], raw.get("ssn")
        if ssn is not None:
            first = first_at.setdefault(ssn, row)
            if first != row:
                try:
                    check_ssn(ssn)
                except ValueError:
                    pass
                else:
                    rejects.append(_reject(row, raw, "ssn", _duplicate_reason(first)))
                    continue
        ok, rej = _validate_one(row, raw)
        if ok is not None:
            valid.append(ok)
        if rej is not None:
            rejects.append(rej)
    return valid, rejects


def read_population(path: Path, *, full_validation: bool = False) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Read ``path`` (``.csv`` or ``.parquet``): (valid rows, rejects), in file order.

    A valid row has every column of :data:`COLUMNS` with Python values (``datetime.date``,
    ``bool``, ``int``, ``float``, ``decimal.Decimal``, ``str`` or ``None``). A reject is
    ``{"row": n, "line": l, "ssn": the masked ssn (``***-**-1234``) or None, "field": column or "_row",
    "reason": text, "record": {column: text, the SSN masked}}`` with ``n`` the 1-based data row (the header
    is not counted) and ``l`` the CSV file line the row ends on (None for Parquet). A CSV row with another
    number of fields than the header (or a cell longer than :data:`~cdrflow.engine.csvrows.FIELD_LIMIT`) is
    a reject on ``_row``. Raises ``ValueError`` for an unsupported suffix, an unreadable file, or
    unknown/missing required columns.
    """
    path = Path(path)
    df, early = _read_raw(path)
    raw_columns = [c for c in df.columns if c not in (_ROW, _LINE)]
    _check_columns(raw_columns, path)
    lines: dict[int, int] = dict(zip(df[_ROW].to_list(), df[_LINE].to_list(), strict=True)) if _LINE in df.columns \
        else {}
    df = df.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in COLUMNS if c not in raw_columns)
    df = df.select(_ROW, *raw_columns, *(c for c in COLUMNS if c not in raw_columns))
    if full_validation:
        valid, rejects = _read_full(df)
    else:
        valid, rejects = _read_fast(df)
    if len(raw_columns) != len(COLUMNS):  # records show the file's own columns only
        for rej in rejects:
            rej["record"] = {c: rej["record"][c] for c in raw_columns}
    placed = [{"row": r["row"], "line": lines.get(r["row"]), **{k: v for k, v in r.items() if k != "row"}}
              for r in rejects]
    if early:
        placed = sorted([*placed, *early], key=lambda r: r["row"])
    return valid, placed


def write_rejects(rejects: Iterable[Mapping[str, Any]], path: Path) -> int:
    """Write rejects as JSON Lines (one object per line, UTF-8); returns how many were written."""
    n = 0
    with atomic(Path(path)) as fh:  # owner-only, renamed into place when complete
        for rej in rejects:
            fh.write(jsonl_line(dict(rej)) + "\n")
            n += 1
    return n
