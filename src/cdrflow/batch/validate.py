"""Vectorized validation of returned-mailer records, sound against the ``ReturnedMailer`` model.

The model (:class:`cdrflow.policy.mailer.record.ReturnedMailer`) is the one definition of a valid
record. Running it on every record of a national file costs more than deciding the file, so a file
is checked column-wise first:

* :func:`conform` brings a decoded chunk (Arrow from Parquet, or from JSON Lines read with a strict
  explicit schema) to :data:`FULL_SCHEMA`; a chunk whose columns or types differ from the model's
  cannot be checked column-wise and goes to the model record by record.
* :func:`surely_valid` is one Boolean per row that is true only when the model would accept the row
  *unchanged*: every enum value spelled exactly, months and dates in their canonical ASCII form, no
  whitespace the model would strip, no null where the model wants a value or a default. It errs on
  one side only: a row it does not pass goes to the model, which gives the verdict and, for a bad
  record, the field and the reason. So the model stays the authority and the column check only
  decides who may skip it. tests/batch/test_validate.py proves both directions on edge records
  (valid, invalid, and odd-but-valid) and on every field of the model.

Values (the enums, the earnings-line limit, the ANY CODES pattern) are read from the model itself,
so there is no second copy of the record's rules here.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal

import polars as pl
import pyarrow as pa

from cdrflow.policy.mailer.record import Attachment, EarningsEntry, Remarks, ReturnedMailer

from .schema import MAILER_SCHEMA

EXTRA_SCHEMA: dict[str, pl.DataType] = {
    "impairment_codes": pl.List(pl.String()),
    "q5_narrative": pl.String(),
    "q6_narrative": pl.String(),
    "decision_date": pl.String(),
}
FULL_SCHEMA: dict[str, pl.DataType] = {**MAILER_SCHEMA, **EXTRA_SCHEMA}
"""Every field of ``ReturnedMailer`` as a Polars type (dates as ``YYYY-MM-DD`` text)."""

DEFAULTS: dict[str, Any] = {
    name: field.get_default(call_default_factory=True)
    for name, field in ReturnedMailer.model_fields.items()
    if not field.is_required() and field.get_default(call_default_factory=True) is not None
}
"""Fields whose absence means a value (``[]`` or ``False``): a null there is not the same as absent."""

_EDGE_WS = r"^[\s\x1c-\x1f]|[\s\x1c-\x1f]$"  # Unicode White_Space and the C0 separators Python strips
_MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

assert set(FULL_SCHEMA) == set(ReturnedMailer.model_fields), "FULL_SCHEMA must list every model field"
assert set(DEFAULTS) == {"q1b_earnings", "attachments", "impairment_codes", "translation_needed",
                         "other_program_issue"}, f"defaulted fields changed: {sorted(DEFAULTS)}"


def _literals(model: type[Any], name: str) -> tuple[list[str], bool]:
    """The allowed strings of a Literal field and whether None is allowed."""
    ann = model.model_fields[name].annotation
    args = typing.get_args(ann) if isinstance(ann, types.UnionType) or typing.get_origin(ann) is typing.Union \
        else (ann,)
    values: list[str] = []
    optional = False
    for a in args:
        if a is type(None):
            optional = True
        elif typing.get_origin(a) is Literal:
            values.extend(typing.get_args(a))
        else:
            raise TypeError(f"{model.__name__}.{name}: not a Literal field ({ann})")
    return values, optional


def _enum_ok(expr: pl.Expr, model: type[Any], name: str) -> pl.Expr:
    values, optional = _literals(model, name)
    ok = expr.is_in(values)
    return (expr.is_null() | ok) if optional else (expr.is_not_null() & ok)


def _month_ok(expr: pl.Expr) -> pl.Expr:
    return expr.str.contains(_MONTH) & ~expr.str.starts_with("0000")


def _max_len(model: type[Any], name: str) -> int:
    for meta in model.model_fields[name].metadata:
        if hasattr(meta, "max_length") and meta.max_length is not None:
            return int(meta.max_length)
    raise TypeError(f"{model.__name__}.{name} has no max_length")


def _pattern(model: type[Any], name: str) -> str:
    ann = model.model_fields[name].annotation
    for arg in typing.get_args(ann):
        for meta in getattr(arg, "__metadata__", ()):
            if getattr(meta, "pattern", None):
                return str(meta.pattern)
    raise TypeError(f"{model.__name__}.{name} has no pattern")


def _strict_text(expr: pl.Expr) -> pl.Expr:
    """A required text the model strips: non-empty and with nothing at either end to strip."""
    return expr.is_not_null() & (expr.str.len_chars() > 0) & ~expr.str.contains(_EDGE_WS)


def checks() -> dict[str, pl.Expr]:
    """One expression per model field: true when the field's value is surely valid as it stands."""
    e = pl.element()
    began, ended, earn = (e.struct.field(f) for f in ("work_began", "work_ended", "monthly_earnings"))
    entry = (
        e.is_not_null()
        & (began.is_null() | _month_ok(began))
        & (ended.is_null() | _month_ok(ended))
        & (earn.is_null() | (~earn.is_nan() & (earn >= 0)))
        & (began.is_null() | ended.is_null() | (ended >= began))
    )
    assert set(EarningsEntry.model_fields) == {"work_began", "work_ended", "monthly_earnings"}
    rem = pl.col("remarks")
    assert set(Remarks.model_fields) == {"text", "relevant", "subject"}
    remarks = rem.is_null() | (
        rem.struct.field("text").is_not_null()
        & rem.struct.field("relevant").is_not_null()
        & _enum_ok(rem.struct.field("subject"), Remarks, "subject")
    )
    assert set(Attachment.model_fields) == {"kind", "relevant", "subject"}
    attachment = (
        e.is_not_null()
        & _strict_text(e.struct.field("kind"))
        & e.struct.field("relevant").is_not_null()
        & _enum_ok(e.struct.field("subject"), Attachment, "subject")
    )
    codes = pl.col("any_codes")
    date = pl.col("decision_date")
    c: dict[str, pl.Expr] = {
        "mailer_id": _strict_text(pl.col("mailer_id")),
        "ssn": pl.col("ssn").str.contains(r"^[0-9]{9}$").fill_null(False),
        "report_period_start": _month_ok(pl.col("report_period_start")).fill_null(False),
        "signed": pl.col("signed").fill_null(False),  # the model refuses an unsigned mailer (E.2)
        "q1b_earnings": pl.col("q1b_earnings").is_not_null()
        & (pl.col("q1b_earnings").list.len() <= _max_len(ReturnedMailer, "q1b_earnings"))
        & pl.col("q1b_earnings").list.eval(entry).list.all(),
        "remarks": remarks,
        "attachments": pl.col("attachments").is_not_null() & pl.col("attachments").list.eval(attachment).list.all(),
        "translation_needed": pl.col("translation_needed").is_not_null(),
        "other_program_issue": pl.col("other_program_issue").is_not_null(),
        "any_codes": codes.is_null()
        | (
            codes.str.contains(_pattern(ReturnedMailer, "any_codes"))
            # the model's cross-checks (DI 40502.001E.3.b; interpretations "ANY CODES")
            & (~codes.str.slice(0, 2).str.contains("9") | pl.col("translation_needed"))
            & ((codes.str.slice(2, 1) == "Y") == pl.col("other_program_issue"))
        ),
        "impairment_codes": pl.col("impairment_codes").is_not_null()
        & pl.col("impairment_codes").list.eval(e.is_not_null() & e.str.contains(r"^[0-9]{4}$")).list.all(),
        "q5_narrative": pl.lit(True),
        "q6_narrative": pl.lit(True),
        "decision_date": date.is_null()
        | (date.str.contains(_DATE) & ~date.str.starts_with("0000")
           & date.str.to_date("%Y-%m-%d", strict=False).is_not_null()),
    }
    for name in ("title", "form", "request", "profile", "signer", "q1a_worked", "q2_school", "q3_doctor_work",
                 "q4_health", "q5_doctor_visits", "q6_hospitalized", "vr_interest"):
        c[name] = _enum_ok(pl.col(name), ReturnedMailer, name)
    assert set(c) == set(ReturnedMailer.model_fields), "a model field has no column check"
    return c


def surely_valid() -> pl.Expr:
    """True only for rows the model accepts unchanged; false or null rows go to the model."""
    return pl.all_horizontal(list(checks().values())).fill_null(False).alias("_surely_valid")


# ------------------------------------------------------------------ conforming a decoded chunk
_NESTED_MODEL: dict[str, type[Any]] = {"q1b_earnings": EarningsEntry, "remarks": Remarks, "attachments": Attachment}


def _fill_struct(src: pl.Expr, have: Any, want: pl.Struct, model: type[Any]) -> pl.Expr | None:
    """A struct missing optional fields: those fields null (absent means None in the model)."""
    if have == want:
        return src
    if not isinstance(have, pl.Struct):
        return None
    present = {f.name: f.dtype for f in have.fields}
    if set(present) - {f.name for f in want.fields}:
        return None  # an unknown field: the model forbids it
    parts = []
    for f in want.fields:
        if f.name in present:
            if present[f.name] != f.dtype:
                return None
            parts.append(src.struct.field(f.name))
        elif model.model_fields[f.name].is_required():
            return None
        else:
            parts.append(pl.lit(None, dtype=f.dtype).alias(f.name))
    return pl.when(src.is_not_null()).then(pl.struct(parts)).otherwise(None)


def _column(name: str, have: pl.DataType, want: pl.DataType) -> pl.Expr | None:
    col = pl.col(name)
    if have == want:
        return col
    if have == pl.Null or (isinstance(want, pl.List) and have == pl.List(pl.Null)):
        return col.cast(want)  # all null, or only empty lists: nothing to change
    if isinstance(want, pl.Struct):
        return _fill_struct(col, have, want, _NESTED_MODEL[name])
    if isinstance(want, pl.List) and isinstance(want.inner, pl.Struct) and isinstance(have, pl.List):
        inner = _fill_struct(pl.element(), have.inner, want.inner, _NESTED_MODEL[name])
        return None if inner is None else col.list.eval(inner)
    if name == "decision_date" and have == pl.Date:
        return col.dt.strftime("%Y-%m-%d")
    return None


def conform(frame: pl.DataFrame) -> pl.DataFrame | None:
    """The chunk in :data:`FULL_SCHEMA` order and types, or None when a column cannot be checked here.

    A column the file does not have at all takes the model's default (absent means default, as in
    the model). A column of another type, or an unknown column, sends the whole chunk to the model,
    which names the field in each record's reason.
    """
    if set(frame.columns) - set(FULL_SCHEMA):
        return None
    exprs: list[pl.Expr] = []
    for name, want in FULL_SCHEMA.items():
        if name not in frame.columns:
            exprs.append(pl.lit(DEFAULTS.get(name), dtype=want).alias(name))
            continue
        expr = _column(name, frame.schema[name], want)
        if expr is None:
            return None
        exprs.append(expr.alias(name))
    return frame.select(exprs)


def arrow_schema() -> pa.Schema:
    """:data:`FULL_SCHEMA` as Arrow types, for reading JSON Lines strictly (no coercion, no unknown keys)."""
    def conv(t: Any) -> pa.DataType:
        if isinstance(t, pl.List):
            return pa.list_(conv(t.inner))
        if isinstance(t, pl.Struct):
            return pa.struct([pa.field(f.name, conv(f.dtype)) for f in t.fields])
        return {pl.String: pa.string(), pl.Boolean: pa.bool_(), pl.Float64: pa.float64()}[t.base_type()]
    return pa.schema([pa.field(n, conv(t)) for n, t in FULL_SCHEMA.items()])
