"""Parquet files written by other tools, with ordinary column types, take the column path (issue 11, item 6).

Each :data:`VARIANTS` entry is a way another tool may write a valid returned-mailer file: whole
dollars as integers, dollars and cents as decimals, float32, large strings, dictionary-encoded
strings, Polars categoricals and enums, dates and midnight datetimes for ``decision_date``, 0/1
integers for yes/no fields, fixed-size lists, missing optional columns, struct fields in another
order or left out. Each is written by pyarrow and by Polars from records the generators build
(tests/batch/edge_records.py, :func:`cdrflow.simulate.mailers.generate`, and the hypothesis
strategy), and decided by ``decide_stream``. The tests assert on what the run reports (how many
records went to the model: none), that every decision equals the per-record ``mailer-decision``
calc on the record as the file holds it, and that the column path gives what the model path gives
record by record. Values that do *not* convert without loss (integers beyond 2^53, integer SSNs,
dates for months, a datetime off midnight, 2 for a yes/no, unknown fields) go to the model, and only
those; the run names the column and type. docs/interpretations.md#lossless-types.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cdrflow.batch.decide import RULE_TABLES
from cdrflow.batch.distributed import decide_partition, partitions
from cdrflow.batch.files import (
    FLAT_COLUMNS,
    StreamSummary,
    decide_chunk,
    decide_stream,
    model_path_text,
    parquet_chunks,
    parquet_duplicates,
)
from cdrflow.batch.validate import FULL_SCHEMA, conform, lossless_flags
from cdrflow.policy.mailer.calcs import REGISTRY
from cdrflow.policy.mailer.record import ReturnedMailer
from cdrflow.simulate.mailers import generate, write_jsonl

from ..strategies import mailer_records
from .edge_records import edge_records
from .test_batch_differential import per_record
from .test_validate import _assert_same, _by_model

Rec = dict[str, Any]
WRITERS = ("pyarrow", "polars")
EARNINGS = "q1b_earnings.monthly_earnings"

_PA: dict[Any, pa.DataType] = {pl.String: pa.string(), pl.Boolean: pa.bool_(), pl.Float64: pa.float64()}


# ------------------------------------------------------------------ how another tool writes a file
@dataclass(frozen=True)
class Variant:
    """Column types of a file written by another tool.

    ``change`` turns a record into what that tool holds (whole dollars, dates, ...); ``types`` gives
    the (pyarrow, Polars) type of a value by its path (a list's elements share the list's path);
    ``fields`` the fields of a struct in the file's order (a field left out is not in the file);
    ``drop`` the columns the file does not have; ``extra`` columns the model does not know.
    """

    change: Callable[[Rec, random.Random], None] = lambda rec, rng: None
    types: dict[str, tuple[pa.DataType, pl.DataType]] = field(default_factory=dict)
    fields: dict[str, list[str]] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    extra: dict[str, tuple[pa.DataType, pl.DataType]] = field(default_factory=dict)


def _each_entry(rec: Rec, fn: Callable[[Rec], None]) -> None:
    for entry in rec.get("q1b_earnings") or []:
        fn(entry)


def _earnings(convert: Callable[[float], Any]) -> Callable[[Rec, random.Random], None]:
    def change(rec: Rec, rng: random.Random) -> None:
        def one(e: Rec) -> None:
            if e.get("monthly_earnings") is not None:
                e["monthly_earnings"] = convert(e["monthly_earnings"])
        _each_entry(rec, one)
    return change


def _cents(x: float) -> Decimal:
    return Decimal(repr(x)).quantize(Decimal("0.01"))


def _mills(x: float) -> Decimal:
    return Decimal(repr(x)).quantize(Decimal("0.001")) + Decimal("0.005")  # a third decimal place, not .000


DATES = [dt.date(2009, 3, 1), dt.date(2016, 7, 15), dt.date(2024, 12, 31), None]


def _dates(as_datetime: bool) -> Callable[[Rec, random.Random], None]:
    def change(rec: Rec, rng: random.Random) -> None:
        day = rng.choice(DATES)
        rec["decision_date"] = dt.datetime.combine(day, dt.time()) if as_datetime and day else day
    return change


def _zero_one(rec: Rec, rng: random.Random) -> None:
    for name in ("signed", "translation_needed", "other_program_issue"):
        rec[name] = int(rec[name])
    if rec.get("remarks"):
        rec["remarks"]["relevant"] = int(rec["remarks"]["relevant"])
    for att in rec.get("attachments") or []:
        att["relevant"] = int(att["relevant"])


def _two_codes(rec: Rec, rng: random.Random) -> None:
    rec["impairment_codes"] = [f"{rng.randrange(10_000):04d}" for _ in range(2)]


OPTIONAL = ("any_codes", "impairment_codes", "q5_narrative", "q6_narrative", "decision_date", "vr_interest",
            "translation_needed", "other_program_issue", "attachments")


def _drop_optional(rec: Rec, rng: random.Random) -> None:
    for name in OPTIONAL:
        rec.pop(name, None)


def _fewer_fields(rec: Rec, rng: random.Random) -> None:
    _each_entry(rec, lambda e: e.pop("work_ended", None))
    for att in rec.get("attachments") or []:
        att.pop("subject", None)


ENUM_COLUMNS = ("title", "form", "request", "profile", "signer", "q1a_worked", "q2_school", "q3_doctor_work",
                "q4_health", "q5_doctor_visits", "q6_hospitalized", "vr_interest")


def _enum_values(name: str) -> list[str]:
    from cdrflow.batch.validate import _literals
    from cdrflow.policy.mailer.record import ReturnedMailer

    return _literals(ReturnedMailer, name)[0]


DICT = pa.dictionary(pa.int32(), pa.string())
LARGE = pa.large_string()
STRING_PATHS = ("mailer_id", "ssn", "report_period_start", "any_codes", "q5_narrative", "q6_narrative",
                "impairment_codes", "remarks.text", "attachments.kind", "q1b_earnings.work_began",
                "q1b_earnings.work_ended", *ENUM_COLUMNS)


def _all_at_once(rec: Rec, rng: random.Random) -> None:
    _earnings(round)(rec, rng)
    _dates(False)(rec, rng)


VARIANTS: dict[str, Variant] = {
    "int64 dollars": Variant(_earnings(round), {EARNINGS: (pa.int64(), pl.Int64)}),
    "int32 dollars": Variant(_earnings(round), {EARNINGS: (pa.int32(), pl.Int32)}),
    "uint16 dollars": Variant(_earnings(round), {EARNINGS: (pa.uint16(), pl.UInt16)}),
    "decimal cents": Variant(_earnings(_cents), {EARNINGS: (pa.decimal128(10, 2), pl.Decimal(10, 2))}),
    "decimal mills": Variant(_earnings(_mills), {EARNINGS: (pa.decimal128(12, 3), pl.Decimal(12, 3))}),
    "float32 dollars": Variant(types={EARNINGS: (pa.float32(), pl.Float32)}),
    "large strings": Variant(types={p: (LARGE, pl.String) for p in STRING_PATHS}),
    "dictionary strings": Variant(types={p: (DICT, pl.Categorical) for p in
                                         (*ENUM_COLUMNS, "mailer_id", "report_period_start", "any_codes",
                                          "remarks.subject", "attachments.subject", "attachments.kind")}),
    "enums": Variant(types={p: (pa.dictionary(pa.int8(), pa.string(), ordered=True), pl.Enum(_enum_values(p)))
                            for p in ENUM_COLUMNS}),
    "dates": Variant(_dates(False), {"decision_date": (pa.date32(), pl.Date)}),
    "midnight datetimes": Variant(_dates(True), {"decision_date": (pa.date64(), pl.Datetime("ms"))}),
    "0/1 integers": Variant(_zero_one, {p: (pa.int8(), pl.Int8) for p in
                                        ("signed", "translation_needed", "other_program_issue", "remarks.relevant",
                                         "attachments.relevant")}),
    "fixed-size lists": Variant(_two_codes, {"impairment_codes": (pa.list_(pa.string(), 2), pl.Array(pl.String, 2))}),
    "missing optional columns": Variant(_drop_optional, drop=OPTIONAL),
    "struct fields reordered or left out": Variant(_fewer_fields, fields={
        "q1b_earnings": ["monthly_earnings", "work_began"], "remarks": ["subject", "relevant", "text"],
        "attachments": ["relevant", "kind"]}),
    "all at once": Variant(_all_at_once, {
        EARNINGS: (pa.int64(), pl.Int64), "decision_date": (pa.date32(), pl.Date),
        **{p: (DICT, pl.Categorical) for p in ENUM_COLUMNS}, "mailer_id": (LARGE, pl.String),
    }, fields={"remarks": ["relevant", "text", "subject"]}, drop=("impairment_codes", "q5_narrative")),
}


def _types(v: Variant, path: str, t: Any) -> tuple[pa.DataType, pl.DataType]:
    if path in v.types and not (isinstance(t, pl.List) and not isinstance(v.types[path][1], (pl.List, pl.Array))):
        return v.types[path]
    if isinstance(t, pl.List):
        a, p = _types(v, path, t.inner)
        return pa.list_(a), pl.List(p)
    if isinstance(t, pl.Struct):
        own = {f.name: f.dtype for f in t.fields}
        parts = [(n, *_types(v, f"{path}.{n}", own.get(n))) for n in v.fields.get(path, list(own))]
        return pa.struct([pa.field(n, a) for n, a, _ in parts]), pl.Struct({n: p for n, _, p in parts})
    return _PA[t.base_type()], t


def write(recs: list[Rec], v: Variant, writer: str, path: Path, row_group: int = 500) -> Path:
    """``recs`` (already changed by the variant) as the tool would write them."""
    columns = {**{n: _types(v, n, t) for n, t in FULL_SCHEMA.items() if n not in v.drop}, **v.extra}
    if writer == "pyarrow":
        schema = pa.schema([pa.field(n, a) for n, (a, _) in columns.items()])
        pq.write_table(pa.Table.from_pylist(recs, schema=schema), path, row_group_size=row_group)
    else:
        pl.DataFrame(recs, schema={n: p for n, (_, p) in columns.items()}, strict=True).write_parquet(
            path, row_group_size=row_group)
    return path


def changed(recs: list[Rec], v: Variant, seed: int = 0) -> list[Rec]:
    rng = random.Random(seed)
    out = []
    for rec in recs:
        rec = copy.deepcopy(rec)
        v.change(rec, rng)
        for name in v.drop:
            rec.pop(name, None)
        out.append(rec)
    return out


def full(rec: Rec) -> Rec:
    """A valid record with every field given (a generator leaves out what has a default; a file's column
    holds a null there, which the model refuses: docs/interpretations.md#absent-or-null)."""
    return ReturnedMailer.model_validate(rec).model_dump(mode="json")


def generated(n_edge: int, n_sim: int, seed: int) -> list[Rec]:
    """Records the generators build: edge-biased ones and simulated ones, with distinct ids."""
    recs = [*edge_records(n_edge, seed=seed), *generate(n_sim, seed=seed)]
    return [full({**r, "mailer_id": f"T{i:06d}"}) for i, r in enumerate(recs)]


# ------------------------------------------------------------------ the oracles
def per_record_flat(rec: Rec) -> Rec:
    """The per-record calc's answer in the flat output's columns."""
    d = REGISTRY["mailer-decision"].run(rec)
    row = per_record(rec, d)
    row["rule_ids"] = " ".join(s["rule"] for s in d["trace"] if s["rule"].split(":")[0] in RULE_TABLES)
    row["policy_version"] = d["policy_version"]
    return {k: row[k] for k in FLAT_COLUMNS}


def decide(src: Path, tmp: Path, chunk_size: int = 256) -> tuple[StreamSummary, list[Rec]]:
    out = tmp / f"{src.stem}.decided.parquet"
    summary = decide_stream(src, out, chunk_size=chunk_size)
    assert summary.reconciles()
    rows = pl.read_parquet(out).to_dicts()
    for row in rows:
        row["policy_version"] = json.loads(row["policy_version"])
    return summary, rows


def assert_column_path_is_the_model_path(src: Path, chunk_size: int = 256) -> None:
    """Chunk by chunk, the column path's decisions and rejects (field, reason, order) are the model's."""
    dups = parquet_duplicates(src)
    from cdrflow.batch.files import SeenIds

    model_dups = SeenIds()
    for chunk in parquet_chunks(src, chunk_size):
        _assert_same(decide_chunk(chunk, None, dups), decide_chunk(_by_model(chunk), None, model_dups))


# ------------------------------------------------------------------ valid files: no record goes to the model
@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_valid_file_of_ordinary_types_takes_the_column_path(tmp_path: Path, name: str, writer: str) -> None:
    v = VARIANTS[name]
    recs = changed(generated(500, 200, seed=len(name)), v, seed=len(name))
    src = write(recs, v, writer, tmp_path / "in.parquet")
    summary, rows = decide(src, tmp_path)
    assert (summary.read, summary.decided, summary.rejected) == (len(recs), len(recs), 0)
    assert summary.to_model == 0, summary.why
    held = pl.read_parquet(src).to_dicts()  # the records as the file holds them: what the model is given
    assert rows == [per_record_flat(rec) for rec in held]
    assert_column_path_is_the_model_path(src)


@given(recs=st.lists(mailer_records(), min_size=1, max_size=40), name=st.sampled_from(sorted(VARIANTS)),
       writer=st.sampled_from(WRITERS))
@settings(max_examples=40, deadline=None)
def test_hypothesis_records_of_every_variant_take_the_column_path(recs: list[Rec], name: str, writer: str) -> None:
    v = VARIANTS[name]
    recs = changed([full({**r, "mailer_id": f"H{i}"}) for i, r in enumerate(recs)], v)
    with tempfile.TemporaryDirectory() as tmp:
        src = write(recs, v, writer, Path(tmp) / "in.parquet", row_group=16)
        summary, rows = decide(src, Path(tmp), chunk_size=16)
        assert summary.to_model == 0 and summary.rejected == 0, summary.why
        assert rows == [per_record_flat(rec) for rec in pl.read_parquet(src).to_dicts()]


# ------------------------------------------------------------------ what does not convert goes to the model, alone
def _with_big_earnings(recs: list[Rec]) -> int:
    """Beyond 2^53 on some lines (to the model), exactly 2^53 + 2 on others (a float holds it: column path)."""
    big = 0
    for i, rec in enumerate(recs):
        if rec["q1b_earnings"] and i % 37 == 0:
            rec["q1b_earnings"][0]["monthly_earnings"] = 2**53 + 1
            big += 1
        elif rec["q1b_earnings"] and i % 41 == 0:
            rec["q1b_earnings"][-1]["monthly_earnings"] = 2**53 + 2
    return big


@pytest.mark.parametrize("writer", WRITERS)
def test_only_the_integers_a_float_cannot_hold_go_to_the_model(tmp_path: Path, writer: str) -> None:
    v = VARIANTS["int64 dollars"]
    recs = changed(generated(600, 0, seed=3), v)
    big = _with_big_earnings(recs)
    assert big > 5
    src = write(recs, v, writer, tmp_path / "in.parquet")
    summary, rows = decide(src, tmp_path)
    assert summary.to_model == big
    assert summary.why == {f"{EARNINGS}: Int64 not exact as a float": big}
    assert summary.decided == len(recs)  # the model accepts them (as the nearest float) and they are decided
    assert rows == [per_record_flat(rec) for rec in pl.read_parquet(src).to_dicts()]
    assert_column_path_is_the_model_path(src)


def _ssn_as_int(rec: Rec, rng: random.Random) -> None:
    rec["ssn"] = int(rec["ssn"])


def _month_as_date(rec: Rec, rng: random.Random) -> None:
    y, m = map(int, rec["report_period_start"].split("-"))
    rec["report_period_start"] = dt.date(y, m, 1)


def _began_as_date(rec: Rec, rng: random.Random) -> None:
    def one(e: Rec) -> None:
        if e.get("work_began"):
            y, m = map(int, e["work_began"].split("-"))
            e["work_began"] = dt.date(y, m, 1)
    _each_entry(rec, one)


def _off_midnight(rec: Rec, rng: random.Random) -> None:
    day = rng.choice(DATES[:3])
    rec["decision_date"] = dt.datetime.combine(day, dt.time(0, 0, 1) if rng.random() < 0.1 else dt.time())


def _two_for_yes(rec: Rec, rng: random.Random) -> None:
    rec["signed"] = 2 if rng.random() < 0.05 else 1


def _unknown_remarks_field(rec: Rec, rng: random.Random) -> None:
    if rec.get("remarks"):
        rec["remarks"]["note"] = rng.choice(["keyed twice", None])


def _unknown_column(rec: Rec, rng: random.Random) -> None:
    rec["keyed_by"] = rng.choice(["clerk 7", None])


def _has_began(rec: Rec) -> bool:
    return any(e.get("work_began") for e in rec.get("q1b_earnings") or [])


def _off(rec: Rec) -> bool:
    return rec["decision_date"].time() != dt.time()


REFUSED: dict[str, tuple[Variant, Callable[[Rec], bool], str, str]] = {
    # name: (variant, which records go to the model, the reason the run gives, the field the model names: a regex)
    "integer SSNs": (Variant(_ssn_as_int, {"ssn": (pa.int64(), pl.Int64)}), lambda r: True, "ssn: Int64", "ssn"),
    "months as dates": (Variant(_month_as_date, {"report_period_start": (pa.date32(), pl.Date)}),
                        lambda r: True, "report_period_start: Date", "report_period_start"),
    "work_began as dates": (Variant(_began_as_date, {"q1b_earnings.work_began": (pa.date32(), pl.Date)}),
                            _has_began, "q1b_earnings.work_began: Date", r"q1b_earnings\.[012]\.work_began"),
    "a datetime off midnight": (Variant(_off_midnight, {"decision_date": (pa.timestamp("ms"), pl.Datetime("ms"))}),
                                _off, "decision_date: Datetime(time_unit='ms', time_zone=None) not at midnight",
                                "decision_date"),
    "2 for yes": (Variant(_two_for_yes, {"signed": (pa.int8(), pl.Int8)}), lambda r: r["signed"] == 2,
                  "signed: Int8 not 0 or 1", "signed"),
    "an unknown struct field": (
        Variant(_unknown_remarks_field, {"remarks.note": (pa.string(), pl.String)},
                fields={"remarks": ["text", "relevant", "subject", "note"]}),
        lambda r: r.get("remarks") is not None, "remarks.note: not a field of the model", "remarks.note"),
    "an unknown column": (Variant(_unknown_column, extra={"keyed_by": (pa.string(), pl.String)}), lambda r: True,
                          "keyed_by: not a field of the model", "keyed_by"),
}


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_values_that_do_not_convert_without_loss_go_to_the_model(tmp_path: Path, name: str, writer: str) -> None:
    v, to_model, why, field_name = REFUSED[name]
    recs = changed(generated(400, 0, seed=9), v, seed=9)
    src = write(recs, v, writer, tmp_path / "in.parquet")
    expected = sum(map(to_model, recs))
    assert 0 < expected
    summary, _ = decide(src, tmp_path)
    assert summary.to_model == expected
    assert summary.why == {why: expected}, summary.why
    assert summary.rejected == expected  # the model refuses every one of them
    rejects = [json.loads(line) for line in (tmp_path / "in.decided.rejects.jsonl").read_text().splitlines()]
    assert all(re.fullmatch(field_name, r["field"]) for r in rejects), {r["field"] for r in rejects}
    assert_column_path_is_the_model_path(src)


def test_the_run_prints_how_many_records_went_to_the_model_and_why(tmp_path: Path) -> None:
    from cdrflow.cli import app

    v = VARIANTS["int64 dollars"]
    recs = changed(generated(300, 0, seed=5), v)
    clean = write(recs, v, "pyarrow", tmp_path / "clean.parquet")
    big = _with_big_earnings(recs)
    mixed = write(recs, v, "pyarrow", tmp_path / "mixed.parquet")
    runner = CliRunner()
    r = runner.invoke(app, ["decide", str(clean), "-o", str(tmp_path / "clean.csv")])
    assert r.exit_code == 0, r.output
    assert "model path: 0 records\n" in r.output
    r = runner.invoke(app, ["decide", str(mixed), "-o", str(tmp_path / "mixed.csv")])
    assert r.exit_code == 0, r.output
    assert f"model path: {big} records ({EARNINGS}: Int64 not exact as a float × {big})" in r.output
    assert model_path_text(3, {"a: value": 1, "b: Int64": 2}) == "model path: 3 records (b: Int64 × 2; a: value × 1)"


def test_a_dask_partition_reports_its_model_path_too(tmp_path: Path) -> None:
    """The task a Dask worker runs carries the count and the reasons back (decide_dask adds them up)."""
    v = VARIANTS["int64 dollars"]
    recs = changed(generated(300, 0, seed=6), v)
    big = _with_big_earnings(recs)
    src = write(recs, v, "pyarrow", tmp_path / "in.parquet", row_group=100)
    parts = [decide_partition(str(src), p, None, parquet_duplicates(src)) for p in partitions(src)]
    assert sum(p.to_model for p in parts) == big
    assert sum(p.why.get(f"{EARNINGS}: Int64 not exact as a float", 0) for p in parts) == big


def test_json_lines_keep_their_strict_reading(tmp_path: Path) -> None:
    """JSON Lines are read with the model's exact types, so nothing is converted: a line Arrow refuses, and
    a record the column check does not pass, go to the model as before, and the run says which."""
    src = write_jsonl(tmp_path / "in.jsonl", 800, seed=12, bad_share=0.05)
    with src.open("a", encoding="utf-8") as fh:
        fh.write("{not json\n")
    summary, _ = decide(src, tmp_path)
    assert 0 < summary.to_model < 800 * 0.2
    assert any(k.startswith("(line): ") for k in summary.why)
    assert any(k.endswith(": value") for k in summary.why)


# ------------------------------------------------------------------ the conversions themselves
@given(st.lists(st.decimals(min_value=0, max_value=10**12, places=4, allow_nan=False), min_size=1, max_size=50))
@settings(max_examples=60, deadline=None)
def test_a_decimal_becomes_the_float_python_makes_of_it(values: list[Decimal]) -> None:
    """The model makes ``float(Decimal)`` of a decimal (the nearest float); the column path must too."""
    got = pl.Series(values, dtype=pl.Decimal(20, 4)).cast(pl.Float64).to_list()
    assert got == [float(x) for x in values]


def test_conform_converts_by_name_and_flags_only_what_it_cannot_vouch_for() -> None:
    frame = pl.DataFrame({
        "q1b_earnings": [[{"monthly_earnings": 5, "work_began": "2020-01"}, {"monthly_earnings": 2**53 + 1}],
                         None, [], [{"monthly_earnings": 2**53 + 2}]],
        "ssn": [123456789, None, None, None],
        "decision_date": pl.Series([dt.datetime(2020, 1, 1), None, dt.datetime(2020, 1, 1, 0, 0, 1),
                                    dt.datetime(1999, 12, 31)]),
        "title": pl.Series(["T2", "T16", None, "T2"], dtype=pl.Categorical),
        "impairment_codes": pl.Series([["0001"], ["0002"], ["0003"], ["0004"]], dtype=pl.Array(pl.String, 1)),
    })
    out = conform(frame)
    assert out.select(list(FULL_SCHEMA)).schema == pl.Schema(FULL_SCHEMA)
    flags = {c.split(":", 1)[1]: out[c].to_list() for c in lossless_flags(out)}
    assert flags == {
        "q1b_earnings.monthly_earnings: Int64 not exact as a float": [False, True, True, True],
        "ssn: Int64": [False, True, True, True],
        "decision_date: Datetime(time_unit='us', time_zone=None) not at midnight": [True, True, False, True],
    }
    assert out["q1b_earnings"][3].to_list() == [{"work_began": None, "work_ended": None,
                                                 "monthly_earnings": float(2**53 + 2)}]
    assert out["decision_date"].to_list() == ["2020-01-01", None, "2020-01-01", "1999-12-31"]
    assert out["title"].to_list() == ["T2", "T16", None, "T2"]
    assert out["impairment_codes"].to_list() == [["0001"], ["0002"], ["0003"], ["0004"]]
