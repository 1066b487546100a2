"""Reading the OIG LEIE CSV and a state license roster: layout, typing, rejects, reconciliation."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cdrflow.engine.csvrows import FIELD_LIMIT
from cdrflow.mpr.leie import (
    LEIE_COLUMNS,
    LEIE_SCHEMA,
    FormatError,
    iter_leie,
    luhn_ok,
    npi_check_digit_ok,
    read_leie,
)
from cdrflow.mpr.roster import ROSTER_COLUMNS, ROSTER_SCHEMA, iter_roster, licenses, read_roster

FIXTURES = Path(__file__).parent / "fixtures"
HEADER = ",".join(f'"{c}"' for c in LEIE_COLUMNS)
GOOD = ('"KELLWICK","ARAMINTA","","","IND- LIC HC SERV PRO","NURSE","","0000000000","19700101","1 A ST",'
        '"DAYTON","OH","45402","1128a1","20190101","00000000","00000000",""')


def write(tmp_path: Path, text: str, name: str = "leie.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def leie_row(**cells: str) -> str:
    values = dict(zip(LEIE_COLUMNS, next(csv.reader([GOOD])), strict=True))
    values.update(cells)
    return ",".join(f'"{values[c]}"' for c in LEIE_COLUMNS)


# ---- the published layout ------------------------------------------------------------------------


def test_the_published_header_in_order() -> None:
    assert LEIE_COLUMNS == (
        "LASTNAME", "FIRSTNAME", "MIDNAME", "BUSNAME", "GENERAL", "SPECIALTY", "UPIN", "NPI", "DOB", "ADDRESS",
        "CITY", "STATE", "ZIP", "EXCLTYPE", "EXCLDATE", "REINDATE", "WAIVERDATE", "WVRSTATE")
    assert list(LEIE_SCHEMA) == ["ROW", *LEIE_COLUMNS]


def test_small_fixture_reads_typed() -> None:
    result = read_leie(FIXTURES / "leie_small.csv")
    assert (result.read, result.accepted, result.rejects) == (10, 10, [])
    assert result.reconciles()
    assert result.frame.schema == pl.Schema(LEIE_SCHEMA)
    first = result.frame.row(0, named=True)
    assert first["ROW"] == 1
    assert first["NPI"] == "1740029750"
    assert first["DOB"] == dt.date(1970, 4, 12)
    assert first["EXCLDATE"] == dt.date(2019, 3, 14)
    assert first["REINDATE"] is None and first["WAIVERDATE"] is None and first["WVRSTATE"] is None
    assert first["UPIN"] is None  # empty is none
    second = result.frame.row(1, named=True)
    assert second["NPI"] is None  # 0000000000 is none
    entity = result.frame.filter(pl.col("BUSNAME").is_not_null()).row(0, named=True)
    assert (entity["BUSNAME"], entity["LASTNAME"], entity["DOB"]) == ("QUILLON DIAGNOSTICS, LLC", None, None)
    reinstated = result.frame.filter(pl.col("REINDATE").is_not_null())
    assert sorted(reinstated["ROW"].to_list()) == [4, 10]
    waiver = result.frame.filter(pl.col("WAIVERDATE").is_not_null()).row(0, named=True)
    assert (waiver["WAIVERDATE"], waiver["WVRSTATE"]) == (dt.date(2020, 6, 1), "NM")


def test_every_bad_row_is_rejected_with_row_field_and_reason() -> None:
    result = read_leie(FIXTURES / "leie_bad.csv")
    got = [(r.row, r.line, r.field) for r in result.rejects]
    assert got == [
        (1, 2, "NPI"), (2, 3, "NPI"), (3, 4, "EXCLDATE"), (4, 5, "LASTNAME"), (5, 6, "REINDATE"),
        (6, 7, "_row"), (7, 8, "WAIVERDATE"), (8, 9, "EXCLDATE"), (9, 10, "STATE"),
    ]
    reasons = {r.row: r.reason for r in result.rejects}
    assert reasons[1] == "an NPI is 10 digits (0000000000 for none), got '12345'"
    assert "check digit" in reasons[2]
    assert reasons[3] == "a date is YYYYMMDD and must exist, got '20230231'"
    assert "names no one" in reasons[4]
    assert reasons[5] == "the reinstatement 20180101 is before the exclusion 20190101"
    assert reasons[6] == "15 fields; the header has 18"
    assert reasons[8] == "a date is required"
    assert (result.read, result.accepted, len(result.rejects)) == (10, 1, 9)
    assert result.reconciles()
    assert result.frame["LASTNAME"].to_list() == ["IVERSTONE"]
    assert str(result.rejects[0]) == "row 1 (line 2): NPI: an NPI is 10 digits (0000000000 for none), got '12345'"
    raw = result.rejects[0].record
    assert raw["LASTNAME"] == "ABERNATHEL" and raw["NPI"] == "12345"  # the raw cells travel with the reject
    assert result.rejects[-1].record["STATE"] == "Ohio"  # as written, not as cleaned
    json.dumps([r.as_dict() for r in result.rejects])


@pytest.mark.parametrize(
    ("cells", "field", "reason"),
    [
        ({"WAIVERDATE": "20200101", "WVRSTATE": ""}, "WVRSTATE", "without its state"),
        ({"DOB": "19701"}, "DOB", "YYYYMMDD"),
        ({"ZIP": "4540"}, "ZIP", "5 or 9 digits"),
        ({"EXCLTYPE": " "}, "EXCLTYPE", "required"),
        ({"REINDATE": "20191332"}, "REINDATE", "must exist"),
        ({"WVRSTATE": "N1", "WAIVERDATE": "20200101"}, "WVRSTATE", "two letters"),
    ],
)
def test_single_field_rejects(tmp_path: Path, cells: dict[str, str], field: str, reason: str) -> None:
    result = read_leie(write(tmp_path, f"{HEADER}\n{leie_row(**cells)}\n"))
    assert [(r.row, r.field) for r in result.rejects] == [(1, field)]
    assert reason in result.rejects[0].reason


def test_accepted_variants(tmp_path: Path) -> None:
    rows = [
        leie_row(ZIP="45402-1234", STATE="oh", NPI=""),  # ZIP+4, lower-case state, empty NPI as none
        leie_row(REINDATE="20190101"),  # reinstated the day of the exclusion
        leie_row(LASTNAME="", BUSNAME="KELLWICK HOME CARE"),
    ]
    result = read_leie(write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"))
    assert result.rejects == []
    assert result.frame["STATE"].to_list() == ["OH", "OH", "OH"]
    assert result.frame["NPI"].to_list() == [None, None, None]


def test_unquoted_cells_read_the_same(tmp_path: Path) -> None:
    text = (FIXTURES / "leie_small.csv").read_text(encoding="utf-8")
    plain = "\n".join(line.replace('"', "") if "," not in line.replace('","', "") else line
                      for line in text.splitlines())
    assert_frame_equal(read_leie(write(tmp_path, plain + "\n")).frame, read_leie(FIXTURES / "leie_small.csv").frame)


# ---- the whole file is refused only for its header or an unparseable CSV -----------------------------


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (HEADER.replace('"MIDNAME",', ""), "missing columns: MIDNAME"),
        (HEADER + ',"EXTRA"', "unknown columns: EXTRA"),
        (HEADER.replace('"FIRSTNAME","MIDNAME"', '"MIDNAME","FIRSTNAME"'), "columns out of order"),
        (HEADER.replace('"FIRSTNAME"', '"LASTNAME"'), "repeated columns: LASTNAME"),
        (HEADER.lower(), "missing columns"),
    ],
)
def test_a_header_that_is_not_the_layout_refuses_the_file(tmp_path: Path, header: str, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        read_leie(write(tmp_path, f"{header}\n{GOOD}\n"))


def test_empty_file_and_header_only(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="empty"):
        read_leie(write(tmp_path, ""))
    result = read_leie(write(tmp_path, HEADER + "\n"))
    assert (result.read, result.accepted, result.rejects) == (0, 0, [])
    assert result.frame.schema == pl.Schema(LEIE_SCHEMA)


def test_a_huge_cell_costs_its_row_not_the_file(tmp_path: Path) -> None:
    """Issue 12: a 200,000-character cell is its row's reject (longer than the DCF keeps); a cell beyond the
    reader's limit (1 MiB) is a reject of the row it is on; the rows around them are read."""
    huge = leie_row(ADDRESS="X" * 200_000)
    beyond = leie_row(ADDRESS="X" * (FIELD_LIMIT + 10))
    result = read_leie(write(tmp_path, f"{HEADER}\n{GOOD}\n{huge}\n{GOOD}\n{beyond}\n{GOOD}\n"))
    assert (result.read, result.accepted) == (5, 3) and result.reconciles()
    first, second = result.rejects
    assert (first.row, first.line, first.field) == (2, 3, "ADDRESS")
    assert "200000 characters long; the DCF holds at most 200 (mpr_leie.address)" in first.reason
    assert (second.row, second.line, second.field) == (4, 5, "_row") and "cannot be read" in second.reason
    assert result.frame["ROW"].to_list() == [1, 3, 5]


def test_bom_crlf_and_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeff" + HEADER + "\r\n" + GOOD + "\r\n\r\n" + GOOD + "\r\n", encoding="utf-8")
    result = read_leie(path)
    assert (result.read, result.accepted) == (2, 2)
    assert result.frame["ROW"].to_list() == [1, 2]  # a blank line is not a row


def test_bad_bytes_cost_the_row_not_the_file(tmp_path: Path) -> None:
    path = tmp_path / "leie.csv"
    path.write_bytes((HEADER + "\n" + GOOD + "\n").encode() + leie_row(CITY="D\xe9YTON").encode("cp1252") + b"\n")
    result = read_leie(path)
    assert [(r.row, r.field) for r in result.rejects] == [(2, "CITY")]
    assert "encoding" in result.rejects[0].reason
    assert read_leie(path, encoding="cp1252").frame["CITY"].to_list() == ["DAYTON", "DéYTON"]


def test_an_unclosed_quote_is_a_reject_naming_the_field(tmp_path: Path) -> None:
    broken = GOOD.replace('"1 A ST"', '"1 A ST')
    result = read_leie(write(tmp_path, f"{HEADER}\n{broken}\n{GOOD}\n"))
    assert [str(r) for r in result.rejects] == ["row 1 (line 2): _row: 17 fields; the header has 18"]
    assert (result.read, result.accepted) == (2, 1)
    # An unclosed quote in the last cell runs into the next line: one long row, kept whole in the reject.
    swallowing = GOOD[: -len('""')] + '"'
    result = read_leie(write(tmp_path, f"{HEADER}\n{swallowing}\n{GOOD}\n{GOOD}\n", "b.csv"))
    first = result.rejects[0]
    assert (first.row, first.line, first.field, first.reason) == (1, 3, "_row", "35 fields; the header has 18")
    assert first.record["WVRSTATE"] == "\nKELLWICK\"" and "ARAMINTA" in str(first.record["_extra"])  # nothing lost
    assert result.reconciles() and result.frame["ROW"].to_list() == [2]


# ---- streaming and reproducibility ------------------------------------------------------------


@pytest.mark.parametrize("name", ["leie_small.csv", "leie_bad.csv"])
def test_same_result_in_any_chunk_size_and_on_rereading(name: str) -> None:
    whole = read_leie(FIXTURES / name)
    again = read_leie(FIXTURES / name)
    assert_frame_equal(whole.frame, again.frame)
    assert whole.rejects == again.rejects
    for size in (1, 2, 3, 7):
        chunked = read_leie(FIXTURES / name, chunk_rows=size)
        assert_frame_equal(whole.frame, chunked.frame)
        assert whole.rejects == chunked.rejects
        assert chunked.read == whole.read


def test_iter_leie_streams_chunks_that_each_reconcile() -> None:
    chunks = list(iter_leie(FIXTURES / "leie_bad.csv", chunk_rows=3))
    assert len(chunks) == 4
    assert all(c.read == c.frame.height + len(c.rejects) for c in chunks)
    assert sum(c.read for c in chunks) == 10
    with pytest.raises(ValueError, match="chunk_rows"):
        list(iter_leie(FIXTURES / "leie_bad.csv", chunk_rows=0))


def test_a_larger_generated_file_reconciles(tmp_path: Path) -> None:
    rng = random.Random(6)
    lines = [HEADER]
    bad = 0
    for i in range(5_000):
        if rng.random() < 0.05:
            lines.append(leie_row(EXCLDATE=rng.choice(["2019", "20191301", "00000000", ""])))
            bad += 1
        else:
            lines.append(leie_row(LASTNAME=f"SYNTH{i}"))
    result = read_leie(write(tmp_path, "\n".join(lines) + "\n"), chunk_rows=777)
    assert (result.read, len(result.rejects), result.accepted) == (5_000, bad, 5_000 - bad)
    assert all(r.field == "EXCLDATE" for r in result.rejects)
    assert result.frame["ROW"].is_sorted()


# ---- NPI check digit: one rule, two implementations held together -----------------------------------


def test_npi_check_digit_python_and_polars_agree() -> None:
    rng = random.Random(215)
    npis = ["1234567893", "1234567890", "0000000000", "1740029750", "12345", "abcdefghij"]
    npis += ["".join(rng.choice("0123456789") for _ in range(10)) for _ in range(3_000)]
    vectorized = pl.Series(npis).to_frame("n").select(luhn_ok(pl.col("n")).fill_null(False)).to_series().to_list()
    assert vectorized == [npi_check_digit_ok(n) for n in npis]
    assert npi_check_digit_ok("1234567893") and not npi_check_digit_ok("1234567890")
    assert 250 < sum(vectorized) < 350  # one in ten random numbers has the right check digit


# ---- the state license roster ---------------------------------------------------------------------


def test_roster_reads_typed() -> None:
    result = read_roster(FIXTURES / "roster_small.csv")
    assert (result.read, result.accepted, result.rejects) == (5, 5, [])
    assert result.frame.schema == pl.Schema(ROSTER_SCHEMA)
    lic = licenses(result.frame)
    assert [(x.state, x.number, x.status, x.expires) for x in lic][:2] == [
        ("OH", "MD.0451221", "ACTIVE", dt.date(2026, 1, 31)), ("TX", "PSY-30877", "ACTIVE", dt.date(2024, 6, 15))]
    assert lic[0].source_row == 1 and lic[1].issued == dt.date(1995, 3, 15)
    assert result.frame["NPI"].to_list()[:2] == ["1740029750", None]


def test_roster_rejects() -> None:
    result = read_roster(FIXTURES / "roster_bad.csv")
    assert [(r.row, r.field) for r in result.rejects] == [
        (2, "LICENSE_NUMBER"), (3, "STATUS"), (4, "EXPIRES"), (5, "ISSUED"), (6, "LAST_NAME"), (7, "NPI"),
        (8, "EXPIRES"), (9, "_row")]
    assert result.rejects[0].reason == "license OH MD.1 is already on row 1"
    assert result.rejects[1].reason == "a status is one of ACTIVE, EXPIRED, SUSPENDED, REVOKED, got 'PROBATION'"
    assert result.reconciles() and result.accepted == 1


def test_roster_duplicates_are_found_across_chunks() -> None:
    chunked = read_roster(FIXTURES / "roster_bad.csv", chunk_rows=1)
    whole = read_roster(FIXTURES / "roster_bad.csv")
    assert chunked.rejects == whole.rejects
    assert_frame_equal(chunked.frame, whole.frame)
    assert len(list(iter_roster(FIXTURES / "roster_bad.csv", chunk_rows=4))) == 3


def test_roster_columns_in_any_order_but_all_of_them(tmp_path: Path) -> None:
    lines = (FIXTURES / "roster_small.csv").read_text(encoding="utf-8").splitlines()
    order = list(reversed(ROSTER_COLUMNS))
    rows = [dict(zip(ROSTER_COLUMNS, line.split(","), strict=True)) for line in lines[1:]]
    text = ",".join(order) + "\n" + "\n".join(",".join(r[c] for c in order) for r in rows) + "\n"
    reordered = read_roster(write(tmp_path, text, "r.csv"))
    assert_frame_equal(reordered.frame, read_roster(FIXTURES / "roster_small.csv").frame)
    with pytest.raises(FormatError, match="missing columns: ZIP; unknown columns: POSTCODE"):
        read_roster(write(tmp_path, lines[0].replace("ZIP", "POSTCODE") + "\n", "r2.csv"))
