"""The column-wise check never lets through a record the model refuses, and changes no verdict.

Each record below is an edge record (tests/batch/edge_records.py) with zero to three mutations
drawn from :data:`MUTATIONS`: wrong types, nulls, missing keys, values the model would strip or
canonicalise, impossible months and dates, a 10-digit SSN, NaN and negative earnings, a fourth
earnings line, unknown keys at the top and inside nested objects, the ANY CODES cross-checks, bad
JSON. The oracle is the model itself, record by record (``RawChunk(frame=None)`` sends every
record to it): the column path must give exactly the same decisions and the same rejects, with
the same field and reason, in the same order.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pydantic import ValidationError

from cdrflow.batch.files import (
    RawChunk,
    SeenIds,
    decide_chunk,
    decide_file,
    jsonl_chunks,
    parquet_chunks,
    parquet_duplicates,
)
from cdrflow.batch.validate import FULL_SCHEMA, conform, lossless_flags, surely_valid
from cdrflow.policy.mailer.record import ReturnedMailer

from .edge_records import edge_records

MISSING = object()


def _entry_mut(rng: random.Random, rec: dict[str, Any]) -> None:
    entries = rec.get("q1b_earnings")
    if not isinstance(entries, list) or not entries or not isinstance(entries[0], dict):
        rec["q1b_earnings"] = [{"work_began": "2020-01", "work_ended": None, "monthly_earnings": 10.0}]
        entries = rec["q1b_earnings"]
    e = dict(entries[0])
    field = rng.choice(["work_began", "work_ended", "monthly_earnings"])
    e[field] = rng.choice({
        "work_began": ["2020-13", "2020-00", "0000-05", "2020-1", " 2020-05", "2020-05 ", "２０２０-05", 202005, None],
        "work_ended": ["1999-12", "2020-13", "abcd-ef", None, "2020-05\n"],
        "monthly_earnings": [-0.01, -0.0, math.nan, math.inf, "700", 700, True, None, 1e308],
    }[field])
    rec["q1b_earnings"] = [e, *entries[1:]]


MUTATIONS: list[tuple[str, Any]] = [
    ("mailer_id", ["", " ", " M1", "M1 ", "\tM9", "M\u00a0", "\x1cM", None, 123]),
    ("ssn", ["12345678", "1234567890", "12345678a", "١٢٣٤٥٦٧٨٩", "123456789\n", " 123456789", 123456789, None,
             # never issued: the one rule of cdrflow.kernel.ssn (interpretations §77)
             "000123456", "666123456", "900123456", "123001234", "123450000", "123-45-6789"]),
    ("title", ["t2", "T2 ", "T3", "", None, 2]),
    ("form", ["SSA-455-OCR", "ssa-455", None]),
    ("request", ["THIRD", "first", None]),
    ("profile", ["X", "h", "", None]),
    ("report_period_start", ["2020-13", "2020-00", "2020-1", "20-01", " 2020-01", "2020-01 ", "0000-01",
                             "2020-01-01", None, 202001]),
    ("signed", [False, None, "yes", 1, "true"]),
    ("signer", ["DOCTOR", "physician", None]),
    ("q1a_worked", ["MAYBE", "yes", "", 1]),
    ("q1b_earnings", [None, [None], [{}] * 4, [{"work_began": "2020-01"}] * 4, [{"monthly_earnings": 1, "x": 1}],
                      "none", [{"work_began": "2020-05", "work_ended": "2020-04"}]]),
    ("q2_school", ["Y", ""]),
    ("q3_doctor_work", ["CAN'T", "can_work"]),
    ("q4_health", ["BEST"]),
    ("vr_interest", ["MAYBE", 0]),
    ("remarks", [{"text": "hi"}, {"text": None, "relevant": True}, {"text": "x", "relevant": None},
                 {"text": "x", "relevant": True, "subject": "OTHER"}, {"text": "x", "relevant": True, "y": 1},
                 {"text": 5, "relevant": True}, "text", {"text": "work", "relevant": "yes"}]),
    ("attachments", [None, [None], [{"kind": " ", "relevant": True}], [{"kind": " PAY_STUB", "relevant": True}],
                     [{"kind": "W2", "relevant": None}], [{"kind": "W2"}], [{"kind": "W2", "relevant": True,
                                                                          "subject": "BAD"}],
                     [{"kind": "W2", "relevant": True, "extra": 1}], [{"kind": "", "relevant": False}]]),
    ("translation_needed", [None, "no", 0]),
    ("other_program_issue", [None, "false"]),
    ("any_codes", ["99Y", "19N", "12Y", "55N", "12", "12y", "12N\n", "", None]),
    ("impairment_codes", [None, ["123"], ["12345"], ["１２３４"], [None], ["0001", "9999"], "1234"]),
    ("q5_narrative", [None, 5, "seen twice"]),
    ("decision_date", ["2014-02-30", "2014-13-01", "2014-1-1", "1990-01-01", "0000-01-01", "2020-02-01T00:00:00",
                       "2020-02-01", "20200201", None, 20200201]),
    ("unknown_key", ["x", None]),
]


def mutated(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i, rec in enumerate(edge_records(count, seed=seed)):
        rec = dict(rec)
        rec["mailer_id"] = f"E{i:07d}"
        for _ in range(rng.choice([0, 0, 1, 1, 1, 2, 3])):
            kind = rng.randrange(len(MUTATIONS) + 3)
            if kind >= len(MUTATIONS):
                if kind == len(MUTATIONS):
                    _entry_mut(rng, rec)
                else:  # a missing key: the model's default, or "Field required"
                    rec.pop(rng.choice(sorted(FULL_SCHEMA)), None)
                continue
            field, values = MUTATIONS[kind]
            rec[field] = rng.choice(values)
        if rng.random() < 0.02:  # a duplicate of an earlier id
            rec["mailer_id"] = f"E{rng.randrange(max(i, 1)):07d}"
        out.append(rec)
    return out


def _lines(recs: list[dict[str, Any]], rng: random.Random) -> list[str]:
    lines = []
    for rec in recs:
        text = json.dumps(rec)
        r = rng.random()
        if r < 0.004:
            text = text[:-3]  # truncated: not JSON
        elif r < 0.006:
            text = "[1, 2]"
        elif r < 0.008:
            text = text.replace('"mailer_id"', '"mailer\\u005fid"')  # the same key, spelled with an escape
        lines.append(text)
    return lines


def _by_model(chunk: RawChunk) -> RawChunk:
    return RawChunk(chunk.lines, None, chunk.records)


def _assert_same(column: Any, model: Any) -> None:
    assert column.read == model.read
    assert [r.as_dict() for r in column.rejects] == [r.as_dict() for r in model.rejects]
    assert column.decisions.equals(model.decisions)


@pytest.mark.parametrize("chunk_size", [997, 20_000])
def test_jsonl_column_path_equals_the_model_record_by_record(tmp_path: Path, chunk_size: int) -> None:
    recs = mutated(20_000, seed=41)
    src = tmp_path / "m.jsonl"
    src.write_text("\n".join(_lines(recs, random.Random(5))) + "\n\n", encoding="utf-8")
    col_dups, model_dups = SeenIds(), SeenIds()
    fast = 0
    for chunk in jsonl_chunks(src, chunk_size):
        if chunk.frame is not None:
            fast += int(chunk.frame.select(surely_valid()).to_series().sum())
        _assert_same(decide_chunk(chunk, None, col_dups), decide_chunk(_by_model(chunk), None, model_dups))
    # not vacuous: bad lines are cut out of their chunk, so the unmutated records (about 2 in 7) mostly pass
    if chunk_size < 1000:
        assert fast > 2_500


def test_parquet_column_path_equals_the_model_record_by_record(tmp_path: Path) -> None:
    """Parquet holds one type per column, so the mutations are the type-preserving ones."""
    rng = random.Random(8)
    recs = edge_records(20_000, seed=77)
    for i, rec in enumerate(recs):
        rec["impairment_codes"] = rng.choice([[]] * 8 + [["1234"], ["12a4"]])
        rec["mailer_id"] = rng.choice([f"P{i}", f"P{i}", f"P{i}", f" P{i}", f"P{rng.randrange(i + 1)}", ""])
        rec["ssn"] = rng.choice([rec["ssn"]] * 6 + ["12345678", "1234567890", "١٢٣٤٥٦٧٨٩", None])
        rec["title"] = rng.choice([rec["title"]] * 6 + ["T3", "t2", None])
        rec["report_period_start"] = rng.choice([rec["report_period_start"]] * 6 + ["2020-13", " 2020-01", None])
        rec["signed"] = rng.choice([True] * 8 + [False, None])
        rec["translation_needed"] = rng.choice([rec["translation_needed"]] * 8 + [None])
        if rec["q1b_earnings"] and rng.random() < 0.2:
            rec["q1b_earnings"][0]["monthly_earnings"] = rng.choice([-1.0, math.nan, None])
        rec["decision_date"] = rng.choice([None] * 8 + ["2020-02-01", "1990-01-01", "2020-02-30"])
    src = tmp_path / "m.parquet"
    pl.DataFrame(recs, schema={**FULL_SCHEMA, "q1b_earnings": FULL_SCHEMA["q1b_earnings"]}).write_parquet(
        src, row_group_size=3_000)
    dups = parquet_duplicates(src)
    model_dups = SeenIds()
    total_rejects = 0
    for chunk in parquet_chunks(src, 4_096):
        assert chunk.frame is not None
        col, model = decide_chunk(chunk, None, dups), decide_chunk(_by_model(chunk), None, model_dups)
        _assert_same(col, model)
        total_rejects += len(col.rejects)
    assert total_rejects > 1_000  # the mutations reached the reject path
    reasons = {r.field for r in decide_file(src).rejects}
    assert {"mailer_id", "ssn", "title", "report_period_start", "signed", "decision_date"} <= reasons


def test_a_row_the_columns_pass_is_the_models_row_unchanged() -> None:
    """Soundness, directly: every surely-valid row validates and the model changes none of its values."""
    recs = [r for r in mutated(20_000, seed=3) if "unknown_key" not in r]
    typed: list[dict[str, Any]] = []
    for rec in recs:  # only records a typed column can hold
        try:
            pl.DataFrame([rec], schema=FULL_SCHEMA, strict=True)
        except (TypeError, pl.exceptions.PolarsError, OverflowError):
            continue
        typed.append(rec)
    frame = conform(pl.DataFrame(typed, schema=FULL_SCHEMA, strict=True))
    assert frame is not None
    passed = frame.filter(surely_valid())
    assert 0 < passed.height < frame.height
    for row in passed.iter_rows(named=True):
        try:
            model = ReturnedMailer.model_validate(row)
        except ValidationError as exc:  # pragma: no cover - the failure message is the point
            raise AssertionError(f"column check passed a record the model refuses: {row}\n{exc}") from None
        dumped = model.model_dump(mode="json")
        assert {k: dumped[k] for k in row} == row


def test_conform_flags_what_it_cannot_convert_and_fills_what_is_absent() -> None:
    """An integer SSN is not the text (a null is a null in any type); an unknown column spoils every row;
    both go to the model, which names the field (tests/batch/test_type_variants.py: whole files)."""
    out = conform(pl.DataFrame({"ssn": [123456789, None]}))
    assert lossless_flags(out) == ["_lossless:ssn: Int64"]
    assert out["_lossless:ssn: Int64"].to_list() == [False, True] and out["ssn"].to_list() == [None, None]
    out = conform(pl.DataFrame({"mailer_id": ["a", "b"], "surprise": [1, None]}))
    assert out.height == 2 and lossless_flags(out) == ["_lossless:surprise: not a field of the model"]
    assert out["_lossless:surprise: not a field of the model"].to_list() == [False, False]
    filled = conform(pl.DataFrame({"mailer_id": ["a"]}))
    assert not lossless_flags(filled)
    row = filled.row(0, named=True)
    assert row["attachments"] == [] and row["translation_needed"] is False and row["remarks"] is None
