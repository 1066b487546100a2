"""Vectorized validation of returned-mailer records, sound against the ``ReturnedMailer`` model.

The model (:class:`cdrflow.policy.mailer.record.ReturnedMailer`) is the one definition of a valid
record. Running it on every record of a national file costs more than deciding the file, so a file
is checked column-wise first:

* :func:`conform` brings a decoded chunk (Arrow from Parquet, or from JSON Lines read with a strict
  explicit schema) to :data:`FULL_SCHEMA`. A column of another type is converted where the
  conversion loses nothing, i.e. gives the value the model makes of the original (integers and
  decimals as dollars, categoricals and enums as text, a date as ``decision_date``, struct fields by
  name); a value that does not convert so (an integer a float cannot hold, an integer SSN, a date
  for a month, an unknown field) gets a false ``_lossless:`` flag, and its row goes to the model.
  tests/batch/test_type_variants.py writes such files with pyarrow and Polars.
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
from polars.datatypes import DataTypeClass

from cdrflow.kernel.ssn import polars_ok as ssn_ok
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
        & (earn.is_null() | (earn.is_finite() & (earn >= 0)))  # the model allows no inf or nan
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
        "ssn": ssn_ok(pl.col("ssn")).fill_null(False),  # the one rule (cdrflow.kernel.ssn)
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

LOSSLESS = "_lossless:"
"""Prefix of the per-row flags :func:`conform` adds: column ``_lossless:<why>`` is true where the row's
value converted to the canonical type without loss (or is null), false where only the model can judge it."""

DType = pl.DataType | DataTypeClass  # a Polars data type, as an instance or as its class
Flags = list[tuple[str, pl.Expr]]
"""(why, a Boolean per row or list element: true where the value converted without loss)."""


def _nulls(src: pl.Expr, want: DType) -> pl.Expr:
    """Nulls of type ``want``, one per value of ``src`` (also inside ``list.eval``, where a bare literal is one
    value per list)."""
    return pl.when(src.is_null()).then(pl.lit(None, dtype=want))


def _leaf(src: pl.Expr, have: DType, want: DType, field: str
          ) -> tuple[pl.Expr, tuple[str, pl.Expr] | None] | None:
    """A scalar column of another type as the canonical type: (converted, None when every value converts
    without loss, else what a lossy value is and a per-value "lossless"), or None when no value does.

    "Without loss" means the converted value is the one the model makes of the original value (what
    ``to_dicts`` hands it): the same text, the same whole number, the nearest float (as Python's
    ``float()``), the same date. docs/interpretations.md#lossless-types.
    """
    if want == pl.String:
        if isinstance(have, (pl.Categorical, pl.Enum)):
            return src.cast(pl.String), None  # the same text
        if field == "decision_date" and have == pl.Date:
            return src.dt.strftime("%Y-%m-%d"), None  # the model takes a date; its text is checked as any other
        if field == "decision_date" and isinstance(have, pl.Datetime) and have.time_zone is None:
            day = src.dt.date()  # the model takes a datetime at midnight as its date, and refuses any other
            return day.dt.strftime("%Y-%m-%d"), ("not at midnight",
                                                 src.is_null() | (day.cast(have) == src).fill_null(False))
        return None
    if want == pl.Float64:
        if have == pl.Float32 or isinstance(have, pl.Decimal):
            return src.cast(pl.Float64), None  # exact (Float32), the nearest float (Decimal): as float() does
        if have.is_integer():  # exact only where the float gives the integer back
            as_float = src.cast(pl.Float64)
            return as_float, ("not exact as a float",
                              src.is_null() | (as_float.cast(have, strict=False) == src).fill_null(False))
        return None
    if want == pl.Boolean and have.is_integer():  # the model reads 0 and 1 as false and true, nothing else
        return src.cast(pl.Boolean), ("not 0 or 1", src.is_null() | src.is_in([0, 1]).fill_null(False))
    return None


def _convert(src: pl.Expr, have: DType, want: DType, path: str, field: str
             ) -> tuple[pl.Expr, Flags]:
    """``src`` (of type ``have``) as ``want``, and the flags of the rows (or list elements) whose value did not
    convert without loss. ``path`` names the value in the flags (``q1b_earnings.monthly_earnings``)."""
    if have == want:
        return src, []
    if have == pl.Null:
        return src.cast(want), []  # nothing but nulls
    if isinstance(want, pl.Struct):
        return _struct(src, have, want, path, _NESTED_MODEL[field])
    if isinstance(want, pl.List) and isinstance(have, (pl.List, pl.Array)):
        lst = src if isinstance(have, pl.List) else src.cast(pl.List(have.inner))  # a fixed-size list is a list
        elem = pl.element()
        inner, flags = _convert(elem, have.inner, want.inner, path, field)
        converted = lst if inner.meta.eq(elem) else lst.list.eval(inner)
        return converted, [(why, lst.list.eval(ok).list.all().fill_null(True)) for why, ok in flags]
    leaf = _leaf(src, have, want, field) if not isinstance(want, pl.List) else None
    if leaf is None:  # no value of this type is the model's value; a null is a null in any type
        return _nulls(src, want), [(f"{path}: {have}", src.is_null())]
    converted, lossy = leaf
    return converted, ([] if lossy is None else [(f"{path}: {have} {lossy[0]}", lossy[1])])


def _struct(src: pl.Expr, have: DType, want: pl.Struct, path: str, model: type[Any]) -> tuple[pl.Expr, Flags]:
    """A struct with fields of other types, in another order, or without optional fields (null: absent
    means None in the model). A struct that lacks a required field, or has one the model does not know,
    can be vouched for only where it is null."""
    if not isinstance(have, pl.Struct):
        return _nulls(src, want), [(f"{path}: {have}", src.is_null())]
    present = {f.name: f.dtype for f in have.fields}
    flags: Flags = [(f"{path}.{name}: not a field of the model", src.is_null())
                    for name in present if name not in {f.name for f in want.fields}]
    parts = []
    for f in want.fields:
        if f.name in present:
            part, sub = _convert(src.struct.field(f.name), present[f.name], f.dtype, f"{path}.{f.name}", f.name)
            flags += sub
        else:
            part = _nulls(src, f.dtype)
            if model.model_fields[f.name].is_required():
                flags.append((f"{path}.{f.name}: absent", src.is_null()))
        parts.append(part.alias(f.name))
    return pl.when(src.is_not_null()).then(pl.struct(parts)).otherwise(None), flags


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """The chunk in :data:`FULL_SCHEMA` order and types, then one ``_lossless:<why>`` flag per conversion that
    may lose something.

    A column the file does not have at all takes the model's default (absent means default, as in the
    model). A column of another type is converted where the conversion loses nothing (:func:`_leaf`;
    struct fields by name, in any order, an absent optional field null); a value that does not convert,
    and every row of a file with a column the model does not know, gets a false flag and so goes to the
    model, which judges the record as the file holds it and names the field of a reject.
    """
    names = frame.columns
    exprs: list[pl.Expr] = []
    flags: Flags = [(f"{name}: not a field of the model", pl.lit(False)) for name in names if name not in FULL_SCHEMA]
    for name, want in FULL_SCHEMA.items():
        if name not in names:
            exprs.append(pl.lit(DEFAULTS.get(name), dtype=want).alias(name))
            continue
        expr, sub = _convert(pl.col(name), frame.schema[name], want, name, name)
        exprs.append(expr.alias(name))
        flags += sub
    merged: dict[str, pl.Expr] = {}
    for why, ok in flags:
        merged[why] = merged[why] & ok if why in merged else ok
    exprs += [ok.alias(LOSSLESS + why) for why, ok in merged.items()]
    # with_columns, not select: literals take the frame's height even when no column of the file is used
    return frame.with_columns(exprs).select([*FULL_SCHEMA, *(LOSSLESS + why for why in merged)])


def lossless_flags(frame: pl.DataFrame) -> list[str]:
    """The ``_lossless:`` flag columns of a conformed chunk."""
    return [c for c in frame.columns if c.startswith(LOSSLESS)]


def arrow_schema() -> pa.Schema:
    """:data:`FULL_SCHEMA` as Arrow types, for reading JSON Lines strictly (no coercion, no unknown keys)."""
    def conv(t: Any) -> pa.DataType:
        if isinstance(t, pl.List):
            return pa.list_(conv(t.inner))
        if isinstance(t, pl.Struct):
            return pa.struct([pa.field(f.name, conv(f.dtype)) for f in t.fields])
        return {pl.String: pa.string(), pl.Boolean: pa.bool_(), pl.Float64: pa.float64()}[t.base_type()]
    return pa.schema([pa.field(n, conv(t)) for n, t in FULL_SCHEMA.items()])
