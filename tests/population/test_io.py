from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from cdrflow.kernel.ssn import mask
from cdrflow.population.generate import generate, generate_frame, write_population
from cdrflow.population.io import POLARS_SCHEMA, read_population, write_rejects
from cdrflow.population.model import COLUMNS, REQUIRED, Beneficiary

from .helpers import raw_rows, write_csv


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return generate(300, seed=5)


@pytest.fixture
def raw(tmp_path: Path) -> list[dict[str, str]]:
    return raw_rows(tmp_path)


def _domestic_t2(raw: list[dict[str, str]]) -> int:
    return next(i for i, r in enumerate(raw) if r["title"] == "T2" and r["country"] == "US")


# ---- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip_rows(tmp_path: Path, rows: list[dict[str, Any]], suffix: str) -> None:
    path = tmp_path / f"pop{suffix}"
    assert write_population(rows, path) == len(rows)
    valid, rejects = read_population(path)
    assert rejects == []
    assert valid == rows


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_round_trip_frame(tmp_path: Path, suffix: str) -> None:
    frame = generate_frame(2_000, seed=9)
    path = tmp_path / f"pop{suffix}"
    write_population(frame, path)
    valid, rejects = read_population(path)
    assert rejects == []
    assert valid == generate(2_000, seed=9)


def test_valid_rows_are_python_values(tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    path = write_population(rows, tmp_path / "pop.csv") and tmp_path / "pop.csv"
    valid, _ = read_population(path)
    with_earnings = next(r for r in valid if r["recent_earnings"] is not None)
    assert isinstance(with_earnings["recent_earnings"], Decimal)
    assert isinstance(with_earnings["recent_earnings_year"], int)
    first = valid[0]
    assert list(first) == list(COLUMNS)
    assert isinstance(first["birth_date"], dt.date) and not isinstance(first["birth_date"], dt.datetime)
    assert isinstance(first["foreign_address"], bool)
    for r in valid:
        Beneficiary.model_validate(r)


def test_parquet_with_text_columns_reads_like_csv(tmp_path: Path, raw: list[dict[str, str]]) -> None:
    csv_path = write_csv(tmp_path / "pop.csv", raw)
    pq = tmp_path / "pop.parquet"
    pl.DataFrame(raw, schema=dict.fromkeys(raw[0], pl.String)).write_parquet(pq)
    assert read_population(pq) == read_population(csv_path)


# ---- CSV conventions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"), [("true", True), ("1", True), ("Y", True), ("False", False), ("0", False), ("n", False)]
)
def test_csv_booleans(tmp_path: Path, raw: list[dict[str, str]], text: str, value: bool) -> None:
    row = dict(raw[_domestic_t2(raw)])
    if value:
        row.update(country="MX", state="", zip="")
    row["foreign_address"] = text
    valid, rejects = read_population(write_csv(tmp_path / "b.csv", [row]))
    assert rejects == []
    assert valid[0]["foreign_address"] is value


def test_missing_optional_columns_are_null(tmp_path: Path, raw: list[dict[str, str]]) -> None:
    required_only = [c for c in COLUMNS if c in REQUIRED]
    row = raw[_domestic_t2(raw)]
    row = {c: row[c] for c in required_only}
    row.update(state="PA", zip="18701")
    valid, rejects = read_population(write_csv(tmp_path / "r.csv", [row], [*required_only, "state", "zip"]))
    assert rejects == []
    assert valid[0]["phone"] is None and valid[0]["servicing_pc"] is None
    assert list(valid[0]) == list(COLUMNS)


def test_header_only_file(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(",".join(COLUMNS) + "\n", encoding="utf-8")
    assert read_population(path) == ([], [])


# ---- file-level errors -------------------------------------------------------------------------


def test_unknown_and_missing_columns_refuse_the_file(tmp_path: Path, raw: list[dict[str, str]]) -> None:
    rows = [{**{k: v for k, v in r.items() if k not in ("name", "dds")}, "version": "1", "colour": "x"} for r in raw]
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(ValueError) as info:
        read_population(path)
    message = str(info.value)
    assert "unknown columns: version, colour" in message
    assert "missing required columns: name, dds" in message
    assert message.count("colour") == 1


def test_missing_required_column_only(tmp_path: Path, raw: list[dict[str, str]]) -> None:
    path = write_csv(tmp_path / "m.csv", raw, [c for c in raw[0] if c != "diary_month"])
    with pytest.raises(ValueError, match="missing required columns: diary_month") as info:
        read_population(path)
    assert "unknown" not in str(info.value)


@pytest.mark.parametrize("name", ["pop.json", "pop.txt", "pop"])
def test_unsupported_suffix(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("ssn\n", encoding="utf-8")
    with pytest.raises(ValueError, match="suffix"):
        read_population(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        read_population(path)


# ---- rejects -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"ssn": "666123456"}, "ssn", "area number"),
        ({"ssn": "12345"}, "ssn", "9 digits"),
        ({"ssn": ""}, "ssn", "ssn is required"),
        ({"diary_month": "2026-13"}, "diary_month", "month 01-12"),
        ({"foreign_address": "true"}, "foreign_address", "country"),
        ({"country": "DE", "state": "", "zip": ""}, "foreign_address", "foreign_address"),
        ({"title": "T3"}, "title", "T2, T2/16, T16"),
        ({"title": "T2", "ssi_diary_month": "2026-03"}, "ssi_diary_month", "Title XVI"),
        ({"birth_date": "2030-01-01"}, "application_date", "birth_date"),
        ({"od_calc_mdr": "4"}, "od_calc_mdr", "MDR"),
        ({"diagnosis_primary": "29600"}, "diagnosis_primary", "4-digit"),
        ({"state": ""}, "state", "state is required"),
        ({"servicing_pc": "9"}, "servicing_pc", "1-8"),
        ({"recent_earnings": "12.5", "recent_earnings_year": ""}, "recent_earnings", "together"),
        ({"language": "Spanish"}, "language", "uppercase"),
        ({"entitlement_date": "2020-02-30"}, "entitlement_date", "calendar date"),
    ],
)
def test_bad_field_is_rejected_with_the_field(
    tmp_path: Path, raw: list[dict[str, str]], changes: dict[str, str], field: str, words: str
) -> None:
    i = _domestic_t2(raw)
    rows = [dict(r) for r in raw]
    rows[i].update(changes)
    valid, rejects = read_population(write_csv(tmp_path / "p.csv", rows))
    assert len(valid) == len(raw) - 1
    assert len(rejects) == 1
    rej = rejects[0]
    assert set(rej) == {"row", "line", "ssn", "field", "reason", "record"}
    assert rej["row"] == i + 1
    assert rej["line"] == i + 2  # the header is line 1
    assert rej["field"] == field
    assert words in rej["reason"]
    ssn = rows[i]["ssn"]  # a reject shows the SSN masked, never in full (interpretations §79)
    assert rej["ssn"] == (mask(ssn) if ssn else None)
    assert rej["record"] == {**rows[i], "ssn": mask(ssn) if ssn else ""}
    assert not ssn or ssn not in json.dumps(rej)


def test_duplicate_ssn(tmp_path: Path, raw: list[dict[str, str]]) -> None:
    rows = [dict(r) for r in raw]
    rows[5]["ssn"] = rows[1]["ssn"]
    rows[9]["ssn"] = rows[1]["ssn"]
    valid, rejects = read_population(write_csv(tmp_path / "d.csv", rows))
    assert [(r["row"], r["field"], r["reason"]) for r in rejects] == [
        (6, "ssn", "duplicate ssn in file (first at row 2)"),
        (10, "ssn", "duplicate ssn in file (first at row 2)"),
    ]
    assert len(valid) + len(rejects) == len(rows)
    assert [v["ssn"] for v in valid].count(rows[1]["ssn"]) == 1


def test_duplicate_of_a_rejected_row_is_still_a_duplicate(tmp_path: Path, raw: list[dict[str, str]]) -> None:
    rows = [dict(r) for r in raw]
    rows[0]["title"] = "T9"
    rows[3]["ssn"] = rows[0]["ssn"]
    _, rejects = read_population(write_csv(tmp_path / "d.csv", rows))
    assert [(r["row"], r["field"]) for r in rejects] == [(1, "title"), (4, "ssn")]
    assert rejects[1]["reason"] == "duplicate ssn in file (first at row 1)"


def test_reads_plus_rejects_reconcile(tmp_path: Path, raw: list[dict[str, str]]) -> None:
    rows = [dict(r) for r in raw]
    rows[2]["diary_month"] = "2026-13"
    rows[4]["ssn"] = "000112222"
    rows[7]["ssn"] = rows[8]["ssn"]
    rows[11]["name"] = ""
    valid, rejects = read_population(write_csv(tmp_path / "x.csv", rows))
    assert len(valid) + len(rejects) == len(rows)
    assert sorted(r["row"] for r in rejects) == [3, 5, 9, 12]
    rejected_rows = {r["row"] for r in rejects}
    assert [v["ssn"] for v in valid] == [r["ssn"] for n, r in enumerate(rows, 1) if n not in rejected_rows]


def test_a_ragged_rows_reject_shows_no_ssn_in_full(tmp_path: Path, raw: list[dict[str, str]]) -> None:
    rows = [dict(r) for r in raw[:3]]
    path = write_csv(tmp_path / "r.csv", rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = "EXTRA," + lines[2]  # the second data row: one field too many, every cell one to the right
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, rejects = read_population(path)
    (rej,) = [r for r in rejects if r["field"] == "_row"]
    text, ssn = json.dumps(rej), rows[1]["ssn"]
    assert rej["row"] == 2 and ssn not in text and mask(ssn) in text  # interpretations §79


def test_record_keeps_the_files_columns(tmp_path: Path, raw: list[dict[str, str]]) -> None:
    columns = [c for c in raw[0] if c not in ("phone", "prior_cdr")]
    rows = [dict(r) for r in raw]
    rows[0]["title"] = "X"
    _, rejects = read_population(write_csv(tmp_path / "c.csv", rows, columns))
    assert list(rejects[0]["record"]) == columns


def test_write_rejects_json_lines(tmp_path: Path, raw: list[dict[str, str]]) -> None:
    rows = [dict(r) for r in raw]
    rows[0]["name"] = 'MARÍA "LA" PÉREZ, JR'
    rows[0]["title"] = "bad"
    rows[1]["ssn"] = ""
    _, rejects = read_population(write_csv(tmp_path / "w.csv", rows))
    out = tmp_path / "rejects.jsonl"
    assert write_rejects(rejects, out) == 2
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == rejects
    assert rejects[1]["ssn"] is None and rejects[1]["record"]["ssn"] == ""
    assert rejects[0]["record"]["name"] == 'MARÍA "LA" PÉREZ, JR'
    text = out.read_text(encoding="utf-8")  # the SSN masked, never in full (interpretations §79)
    assert rows[0]["ssn"] not in text and rejects[0]["ssn"] == rejects[0]["record"]["ssn"] == mask(rows[0]["ssn"])


# ---- the vectorized checks agree with the model ------------------------------------------------

_PROBES = [
    "",
    " ",
    "\t",
    "x",
    "X",
    "a\nb",
    "0",
    "1",
    "3",
    "4",
    "5",
    "7",
    "8",
    "9",
    "A",
    "Z",
    "AB",
    "ab",
    "US",
    "MX",
    "T2",
    "T2/16",
    "T16",
    "t2",
    "H",
    "M",
    "L",
    "true",
    "FALSE",
    "Y",
    "n",
    "yes",
    "2",
    "T",
    "2026-01",
    "2026-1",
    "2026-13",
    "2026-00",
    "0000-01",
    "12026-01",
    "2026-01-01",
    "2026-02-29",
    "2024-02-29",
    "0000-01-01",
    "2026-1-1",
    "20260101",
    "2026-01-01T00:00:00",
    "1880-05-05",
    "2099-12-31",
    "1936",
    "1937",
    "2025",
    "99999",
    "١٢٣٤",
    "2960",
    "296",
    "29600",
    "0.5",
    ".5",
    "+.5",
    "5.",
    "-1",
    "1e3",
    "1E+3",
    "1e999",
    "nan",
    "inf",
    "0x10",
    " 1",
    "12.34",
    "12.345",
    "1234567890.12",
    "12345678901",
    "-12.00",
    "000123456",
    "666123456",
    "900123456",
    "123001234",
    "123450000",
    "123456789",
    "12345678",
    "1234567890",
    "18701",
    "18701-1234",
    "1870",
    "K1A 0B1",
    "ENGLISH",
    "english",
    "HAITIAN CREOLE",
    "A12",
    "ABCDEFGHI",
    "(570) 555-0100",
    "+52 555 0123",
    "555",
    "555-0100 ext 2",
    "Ü" * 3,
    "N" * 121,
    "W" * 201,
]


def _mutants(raw: list[dict[str, str]]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    n = 0
    for col in COLUMNS:
        for value in _PROBES:
            row = dict(raw[n % len(raw)])
            row[col] = value
            row["ssn"] = (
                row["ssn"] if col == "ssn" else f"{100 + n // 9000:03d}{n // 100 % 90 + 10:02d}{n % 100 + 1:04d}"
            )
            out.append(row)
            n += 1
    base = raw[_domestic_t2(raw)]
    combos: list[dict[str, str]] = [
        {"country": "MX", "foreign_address": "true", "state": "", "zip": ""},
        {"country": "MX", "foreign_address": "false", "state": "", "zip": ""},
        {"country": "US", "foreign_address": "true"},
        {"country": "US", "zip": ""},
        {"country": "US", "state": "", "zip": "ABCDE"},
        {"country": "CA", "foreign_address": "Y", "state": "ON", "zip": "K1A 0B1"},
        {"title": "T2", "ssi_diary_month": "2026-04"},
        {"title": "T16", "ssi_diary_month": "2026-04"},
        {"title": "T2/16", "ssi_diary_month": "2026-13"},
        {"birth_date": "2000-01-01", "application_date": "2000-01-01"},
        {"birth_date": "2000-01-01", "application_date": "1999-12-31"},
        {"birth_date": "2000-01-01", "application_date": "2000-01-02", "onset_date": "1999-12-31"},
        {"birth_date": "1960-01-01", "date_of_death": "1959-12-31"},
        {"birth_date": "1960-01-01", "date_of_death": "1960-01-01"},
        {"birth_date": "bad", "date_of_death": "1900-01-01"},
        {"recent_earnings": "10.00", "recent_earnings_year": ""},
        {"recent_earnings": "", "recent_earnings_year": "2024"},
        {"recent_earnings": "10.00", "recent_earnings_year": "1900"},
        {"foreign_address": "maybe", "country": "MX"},
        {"folder_location": "MEGASITE", "folder_date_in_location": ""},
        {"folder_location": "", "folder_date_in_location": "2024-01-02"},
        {"folder_location": "FO 123 ATLANTA", "folder_date_in_location": "2024-01-02", "qmid_medical_blank": "Y"},
        {"folder_location": " ", "folder_date_in_location": "2024-01-02"},
    ]
    for k, change in enumerate(combos):
        out.append({**base, **change, "ssn": f"899{k + 10:02d}0001"})
    out += [dict(out[3]), dict(out[200]), {**out[0], "title": "T9"}]  # duplicates, valid and not
    return out


def test_fast_and_full_validation_agree(tmp_path: Path, raw: list[dict[str, str]]) -> None:
    rows = _mutants(raw)
    path = write_csv(tmp_path / "mutants.csv", rows)
    fast = read_population(path)
    full = read_population(path, full_validation=True)
    assert len(fast[0]) + len(fast[1]) == len(rows)
    assert 0 < len(fast[1]) < len(rows)
    assert fast[1] == full[1]
    assert fast[0] == full[0]


def test_fast_and_full_validation_agree_on_parquet_types(tmp_path: Path) -> None:
    frame = generate_frame(500, seed=2).with_columns(
        pl.when(pl.int_range(pl.len()) % 7 == 0)
        .then(pl.lit(9))
        .otherwise(pl.col("servicing_pc"))
        .alias("servicing_pc"),
        pl.when(pl.int_range(pl.len()) % 11 == 0)
        .then(pl.lit(float("nan")))
        .otherwise(pl.col("profile_score"))
        .alias("profile_score"),
        pl.when(pl.int_range(pl.len()) % 13 == 0)
        .then(~pl.col("foreign_address"))
        .otherwise(pl.col("foreign_address"))
        .alias("foreign_address"),
    )
    path = tmp_path / "typed.parquet"
    frame.cast(POLARS_SCHEMA).write_parquet(path)
    fast = read_population(path)
    assert fast == read_population(path, full_validation=True)
    assert {r["field"] for r in fast[1]} == {"servicing_pc", "profile_score", "foreign_address"}
