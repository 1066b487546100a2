"""No record is lost to a bad neighbour, and no input file gives a traceback (issue 12, items 5 and 8).

Reader by reader — ``cdrflow ingest`` (JSON Lines and Parquet), ``population import``, ``mpr import
leie | roster | providers``, ``decide`` and ``calc --jsonl`` — each test writes a file of good records
with hostile ones between them and runs the command through the CLI. It checks that:

* every hostile record is rejected on its own, naming its line (or row) and field, with the reason;
  a file that cannot be read at all gives one ``error:`` line naming the file and the place;
* the exit code is the documented one and nothing raised (no traceback in what was printed);
* the counts reconcile: read = accepted (processed) + rejected;
* the good neighbours were processed, in the DCF as well as in the counts;

on SQLite and on PostgreSQL wherever a store is involved. :data:`HOSTILE_CASES` counts the hostile
inputs tried per reader (the figures the README states).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from cdrflow.dcf.schema import (
    beneficiaries,
    ingest_runs,
    mpr_leie,
    mpr_licenses,
    mpr_orgs,
    mpr_people,
    mpr_providers,
    people,
)
from cdrflow.dcf.store import Store
from cdrflow.engine.csvrows import FIELD_LIMIT
from cdrflow.mpr.leie import LEIE_COLUMNS
from cdrflow.mpr.roster import ROSTER_COLUMNS
from cdrflow.population.model import COLUMNS as POPULATION_COLUMNS
from cdrflow.workflow import common as c
from cdrflow.workflow import mpr
from cdrflow.workflow.cycle import run_cycle
from cdrflow.workflow.mpr import PROVIDER_COLUMNS

from ..conftest import BASE_MAILER
from ..dbfixtures import (
    access_rows,
    beneficiary_row,
    case_id_for,
    case_row,
    make_beneficiary,
    person,
    returned_mailer,
    seed_beneficiaries,
    store,
    store_url,
    token_for,
)
from ..population.helpers import raw_rows
from .hostile import NOT_UTF8, Bad, check_rejects, csv_bytes, interleave, one_error_line, read_rejects, run

__all__ = ["store"]

SENT_ON = dt.date(2026, 1, 5)
RECEIVED = dt.date(2026, 3, 10)
DEEP = 2_000


def _deep(n: int) -> str:
    return "[" * n + "]" * n


# ---- ingest: JSON Lines ----------------------------------------------------------------------------
# Each hostile line is a returned mailer for a case of its own, changed as named; (field, words) is
# what its reject must say. A text value is written as JSON; bytes are written as they are.

INGEST_LINES: list[tuple[str, Any, str, str]] = [
    ("NUL in a name correction", {"name_correction": "JANE\x00DOE"}, "name_correction", "NUL"),
    ("name correction longer than beneficiaries.name (120)", {"name_correction": "N" * 121}, "name_correction",
     "at most 120 (beneficiaries.name)"),
    ("name change of 200,000 characters", {"name_change": "N" * 200_000}, "name_change", "200,000 characters"),
    ("mailer id longer than cases.case_id (32)", {"mailer_id": "M" * 33}, "mailer_id", "at most 32"),
    ("NUL in the mailer id", {"mailer_id": "M\x001"}, "mailer_id", "NUL"),
    ("lone surrogate in the mailer id", {"mailer_id": "M\udc80"}, "mailer_id", "lone surrogate"),
    ("BEL control character in an address city",
     {"address_change": {"address_line": "1 MAIN ST", "city": "MA\x07CON", "state": "GA", "zip": "31201"}},
     "address_change.city", "control character U+0007"),
    ("tab in an address line",
     {"address_change": {"address_line": "1\tMAIN ST", "city": "MACON", "state": "GA", "zip": "31201"}},
     "address_change.address_line", "control character U+0009"),
    ("ZIP longer than beneficiaries.zip (10)",
     {"address_change": {"address_line": "1 MAIN ST", "city": "MACON", "state": "GA", "zip": "31201-12345"}},
     "address_change.zip", "at most 10"),
    ("escape sequence in a name correction", {"name_correction": "\x1b[31mRED"}, "name_correction",
     "control character U+001B"),
    ("C1 control character (NEL) in a name change", {"name_change": "A\x85B"}, "name_change",
     "control character U+0085"),
    ("lone surrogate in the remarks", {"remarks": {"text": "bad \ud800 text", "relevant": True}}, "remarks.text",
     "lone surrogate"),
    ("NUL in a fraud allegation (free text)", {"fraud_allegation": "x\x00y"}, "fraud_allegation", "NUL"),
    ("NUL in a key", {"extra\x00key": 1}, "extra\x00key", "NUL"),
    ("name correction that is not text", {"name_correction": 12345}, "name_correction", "valid string"),
    ("mailer id that is not text", {"mailer_id": ["M1"]}, "mailer_id", "valid string"),
    ("an empty object", "{}", "mailer_id", "Field required"),
    ("JSON nested 2,000 deep", f'"extra": {_deep(DEEP)}', "(line)", "nested deeper"),
    ("JSON nested 40 deep in an unknown key", f'"extra": {_deep(40)}', "extra[0]", "nested deeper than 32"),
    ("a 5,000-digit number", '"extra": ' + "9" * 5_000, "(line)", "number too long"),
    ("a whole number beyond 64 bits", {"extra": 10**30}, "extra", "beyond 64 bits"),
    ("bytes that are not UTF-8", b'"name_correction": "J\xff\xfeNE"', "(line)", "not UTF-8"),
    ("truncated JSON", '"q4_health": "SA', "(line)", "not valid JSON"),
    ("a JSON array, not an object", "[1, 2, 3]", "(line)", "expected one JSON object"),
    ("the same mailer a second time", "DUPLICATE", "mailer_id", "duplicate of the record on line"),
]


def _line(case: Any, rec: dict[str, Any]) -> bytes:
    """One JSON line: the record changed by ``case`` (a dict of changes, a raw ``"key": value`` text put
    first, raw bytes, or a whole line of text)."""
    if isinstance(case, dict):
        return json.dumps({**rec, **case}).encode()
    body = json.dumps(rec)[1:]
    if isinstance(case, bytes):
        return b"{" + case + b", " + body.encode()
    if case.startswith(("{", "[")) or case == "DUPLICATE":
        return case.encode()
    return ("{" + case + ", " + body).encode()


def _operator(store: Store) -> str:
    """A token of an operator, who runs ingests and imports."""
    return token_for(store, "ops1", "OPERATOR")


def _sent(store: Store, n: int, base: int) -> list[tuple[str, str]]:
    bens = [make_beneficiary(f"{base + i:09d}") for i in range(n)]
    seed_beneficiaries(store, bens)
    run_cycle(store, SENT_ON)
    return [(case_id_for(store, SENT_ON, b["ssn"]), b["ssn"]) for b in bens]


def test_ingest_jsonl_rejects_each_hostile_line_and_processes_its_neighbours(store: Store, tmp_path: Path) -> None:
    n_bad = len(INGEST_LINES)
    cases = _sent(store, 2 * n_bad + 1, 323_460_001)
    lines: list[bytes] = []
    expect: dict[int, tuple[str, str, str]] = {}
    good: list[str] = []
    first_of: dict[str, int] = {}
    for i, (name, change, field, words) in enumerate(INGEST_LINES):
        cid, ssn = cases[2 * i]
        lines.append(_line({}, returned_mailer(cid, ssn)))
        good.append(cid)
        first_of[cid] = len(lines)
        cid2, ssn2 = cases[2 * i + 1]
        if change == "DUPLICATE":  # a second, valid record for the good mailer just before it
            lines.append(_line({"q1a_worked": "YES"}, returned_mailer(cid, ssn)))
            words = f"{words} {first_of[cid]}"
        else:
            lines.append(_line(change, returned_mailer(cid2, ssn2)))
        expect[len(lines)] = (name, field, words)
    cid, ssn = cases[-1]
    lines.append(_line({}, returned_mailer(cid, ssn)))
    good.append(cid)
    src = tmp_path / "returns.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    rej = tmp_path / "rejects.jsonl"

    r = run("ingest", str(src), "--as-of", RECEIVED.isoformat(), "--rejects", str(rej), "--db", store_url(store),
            token=_operator(store))
    assert r.exit_code == 0, r.output
    out = " ".join(r.stdout.split())
    assert f"read {len(lines)} = processed {len(good)} + already ingested 0 + rejected {n_bad}" in out, out
    assert "reconciled" in out
    got = {x["line"]: x for x in read_rejects(rej)}
    assert sorted(got) == sorted(expect)
    for line, (name, field, words) in expect.items():
        assert got[line]["field"] == field or got[line]["field"].startswith(field + "["), (name, got[line])
        assert words in got[line]["reason"], (name, got[line]["reason"])
    for cid in good:
        assert case_row(store, cid)["state"] in (c.DEFERRED, c.PC_REVIEW, c.DO_CDR), cid
    for i in range(n_bad):  # the hostile lines' own mailers were left as they were
        cid2, ssn2 = cases[2 * i + 1]
        assert case_row(store, cid2)["state"] == c.SENT
        assert beneficiary_row(store, ssn2)["name"] == f"TEST PERSON {ssn2[-4:]}"


# ---- ingest: Parquet --------------------------------------------------------------------------------

PARQUET_FILE_CASES = ["random bytes named .parquet", "a Parquet file cut in half", "an empty file named .parquet"]
PARQUET_ROW_CASES = ["a row group whose page header is corrupt", "a date Python cannot hold (year 10,000+)",
                     "NUL in a name correction column", "a name correction longer than 120 in a column",
                     "a control character in a name correction column"]

SIMPLE = {k: v for k, v in BASE_MAILER.items() if not isinstance(v, list) and v is not None}


def _parquet(path: Path, records: list[dict[str, Any]], schema: pa.Schema, group: int) -> Path:
    pq.write_table(pa.Table.from_pylist(records, schema=schema), path, row_group_size=group, compression="none")
    return path


def _schema(**extra: pa.DataType) -> pa.Schema:
    fields = [pa.field(k, pa.bool_() if isinstance(v, bool) else pa.string()) for k, v in SIMPLE.items()]
    return pa.schema([*fields, *(pa.field(k, t) for k, t in extra.items())])


def _count_runs(store: Store) -> int:
    with store.read() as tx:
        return int(tx.conn.execute(select(func.count()).select_from(ingest_runs)).scalar_one())


@pytest.mark.parametrize("kind", PARQUET_FILE_CASES)
def test_ingest_an_unreadable_parquet_file_is_one_line(store: Store, tmp_path: Path, kind: str) -> None:
    src = tmp_path / "returns.parquet"
    if kind.startswith("random"):
        src.write_bytes(bytes(range(256)) * 40)
    elif kind.startswith("an empty"):
        src.write_bytes(b"")
    else:
        whole = _parquet(tmp_path / "whole.parquet", [{**SIMPLE, "mailer_id": f"M{i}"} for i in range(50)],
                         _schema(), 10).read_bytes()
        src.write_bytes(whole[: len(whole) // 2])
    rej = tmp_path / "rejects.jsonl"
    r = run("ingest", str(src), "--as-of", RECEIVED.isoformat(), "--rejects", str(rej), "--db", store_url(store),
            token=_operator(store))
    assert r.exit_code == 2, r.output
    one_error_line(r, str(src), "not a readable Parquet file", "footer")
    assert _count_runs(store) == 0 and not rej.exists()  # nothing written


def test_ingest_parquet_rejects_rows_it_cannot_read_and_processes_the_rest(store: Store, tmp_path: Path) -> None:
    cases = _sent(store, 24, 323_470_001)
    schema = _schema(name_correction=pa.string(), date_of_death=pa.date32())
    recs = [{**SIMPLE, "mailer_id": cid, "ssn": ssn, "profile": "L", "name_correction": None, "date_of_death": None}
            for cid, ssn in cases]
    recs[13]["date_of_death"] = dt.date(9999, 12, 31)  # replaced below by a date32 beyond Python's dates
    recs[15]["name_correction"] = "JANE\x00DOE"
    recs[17]["name_correction"] = "N" * 121
    recs[19]["name_correction"] = "JANE\x07DOE"
    src = _parquet(tmp_path / "returns.parquet", recs, schema, 8)  # row groups: rows 1-8, 9-16, 17-24
    table = pq.read_table(src)
    days = table.column("date_of_death").cast(pa.int32()).to_pylist()
    days[13] = 3_000_000  # year 10183
    table = table.set_column(table.schema.get_field_index("date_of_death"), "date_of_death",
                             pa.array(days, pa.int32()).cast(pa.date32()))
    pq.write_table(table, src, row_group_size=8, compression="none")
    meta = pq.ParquetFile(src).metadata.row_group(0).column(0)
    data = bytearray(src.read_bytes())
    start = meta.dictionary_page_offset or meta.data_page_offset
    data[start:start + 12] = b"\xff" * 12  # the first row group's first page header: not Thrift
    src.write_bytes(bytes(data))
    rej = tmp_path / "rejects.jsonl"

    r = run("ingest", str(src), "--as-of", RECEIVED.isoformat(), "--rejects", str(rej), "--db", store_url(store),
            token=_operator(store))
    assert r.exit_code == 0, r.output
    out = " ".join(r.stdout.split())
    assert "read 24 = processed 12 + already ingested 0 + rejected 12" in out and "reconciled" in out, out
    got = {x["line"]: x for x in read_rejects(rej)}
    assert sorted(got) == [*range(1, 9), 14, 16, 18, 20]
    assert all(got[i]["field"] == "(row group)" and "row group 1 (rows 1-8)" in got[i]["reason"] for i in range(1, 9))
    assert got[14]["field"] == "(row)" and "cannot be read" in got[14]["reason"]
    assert got[16]["field"] == "name_correction" and "NUL" in got[16]["reason"]
    assert got[18]["field"] == "name_correction" and "at most 120" in got[18]["reason"]
    assert got[20]["field"] == "name_correction" and "U+0007" in got[20]["reason"]
    for i, (cid, _ssn) in enumerate(cases):
        assert (case_row(store, cid)["state"] == c.SENT) == (i + 1 in got), (i + 1, cid)


# ---- population import ----------------------------------------------------------------------------

MIB = "X" * (FIELD_LIMIT + 10)
POPULATION_BAD = [
    Bad("NUL in a name", {"name": "JANE\x00DOE"}, "name", "NUL"),
    Bad("name longer than beneficiaries.name (120)", {"name": "N" * 121}, "name", "longer than 120"),
    Bad("BEL control character in a city", {"city": "ATL\x07ANTA"}, "city", "U+0007"),
    Bad("tab in an address line", {"address_line": "1\tPEACHTREE"}, "address_line", "U+0009"),
    Bad("C1 control character (NEL) in an FO city", {"fo_city": "AT\x85L"}, "fo_city", "U+0085"),
    Bad("escape sequence in a representative payee", {"rep_payee": "\x1b[2J"}, "rep_payee", "U+001B"),
    Bad("bytes that are not UTF-8 in a name", {"name": f"J{NOT_UTF8}NE"}, "name", "not valid UTF-8"),
    Bad("a row with too many fields", {}, "_row", "fields; the header has", extra=2),
    Bad("a row with too few fields", {}, "_row", "fields; the header has", extra=-3),
    Bad("a 200,000-character impairment", {"impairment": "I" * 200_000}, "impairment", "longer than 200"),
    Bad("a cell beyond the reader's 1 MiB limit", {"prior_cdr": MIB}, "_row", "cannot be read"),
    Bad("a SSN of Arabic-Indic digits", {"ssn": "١٢٣٤٥٦٧٨٩"}, "ssn", "9 digits"),
]


def test_population_import_rejects_each_hostile_row(store: Store, tmp_path: Path) -> None:
    base = raw_rows(tmp_path, count=2 * len(POPULATION_BAD) + 3)
    good, carriers = base[: len(POPULATION_BAD) + 3], base[len(POPULATION_BAD) + 3:]
    rows, where, _ = interleave(good, carriers, POPULATION_BAD)
    src = tmp_path / "pop.csv"
    src.write_bytes(csv_bytes(POPULATION_COLUMNS, rows))
    rej = tmp_path / "pop.rejects.jsonl"
    r = run("population", "import", str(src), "--rejects", str(rej), "--db", store_url(store), token=_operator(store))
    assert r.exit_code == 0, r.output
    out = " ".join(r.stdout.split())
    assert f"read {len(rows)} = loaded {len(good)} " in out and f"+ rejected {len(POPULATION_BAD)}" in out, out
    check_rejects(read_rejects(rej), where)
    with store.read() as tx:
        stored = set(tx.conn.execute(select(beneficiaries.c.ssn)).scalars())
    assert stored == {g["ssn"] for g in good}


# ---- M/PR imports ---------------------------------------------------------------------------------

def _leie_cells(i: int) -> dict[str, str]:
    return {"LASTNAME": f"KELLWICK{i:03d}", "FIRSTNAME": "ARAMINTA", "MIDNAME": "", "BUSNAME": "",
            "GENERAL": "IND- LIC HC SERV PRO", "SPECIALTY": "NURSE", "UPIN": "", "NPI": "0000000000",
            "DOB": "19700101", "ADDRESS": "1 A ST", "CITY": "DAYTON", "STATE": "OH", "ZIP": "45402",
            "EXCLTYPE": "1128a1", "EXCLDATE": "20190101", "REINDATE": "00000000", "WAIVERDATE": "00000000",
            "WVRSTATE": ""}


LEIE_BAD = [
    Bad("NUL in a last name", {"LASTNAME": "KELL\x00WICK"}, "LASTNAME", "control character"),
    Bad("last name longer than mpr_leie.lastname (80)", {"LASTNAME": "L" * 81}, "LASTNAME", "at most 80"),
    Bad("exclusion type longer than mpr_leie.excltype (20)", {"EXCLTYPE": "E" * 21}, "EXCLTYPE", "at most 20"),
    Bad("BEL control character in a city", {"CITY": "DAY\x07TON"}, "CITY", "control character"),
    Bad("bytes that are not UTF-8 in a first name", {"FIRSTNAME": f"A{NOT_UTF8}A"}, "FIRSTNAME", "not valid text"),
    Bad("a row with too many fields", {}, "_row", "fields; the header has", extra=1),
    Bad("a row with too few fields", {}, "_row", "fields; the header has", extra=-2),
    Bad("a 200,000-character address", {"ADDRESS": "A" * 200_000}, "ADDRESS", "at most 200"),
    Bad("a cell beyond the reader's 1 MiB limit", {"ADDRESS": MIB}, "_row", "cannot be read"),
    Bad("Rich markup in a rejected cell", {"STATE": "[/]"}, "STATE", "two letters"),
]


def _roster_cells(i: int) -> dict[str, str]:
    return {"STATE": "OH", "LICENSE_NUMBER": f"MD.{i:05d}", "LAST_NAME": f"Zarrow{i}", "FIRST_NAME": "Quentin",
            "MIDDLE_NAME": "", "NPI": "", "PROFESSION": "PHYSICIAN", "STATUS": "ACTIVE", "ISSUED": "2001-07-01",
            "EXPIRES": "2030-01-31", "CITY": "Columbus", "ZIP": "43004"}


ROSTER_BAD = [
    Bad("NUL in a last name", {"LAST_NAME": "Zar\x00row"}, "LAST_NAME", "control character"),
    Bad("license number longer than mpr_licenses.number (40)", {"LICENSE_NUMBER": "L" * 41}, "LICENSE_NUMBER",
        "at most 40"),
    Bad("profession longer than mpr_licenses.profession (80)", {"PROFESSION": "P" * 81}, "PROFESSION",
        "at most 80"),
    Bad("tab in a city", {"CITY": "Colum\tbus"}, "CITY", "control character"),
    Bad("bytes that are not UTF-8 in a first name", {"FIRST_NAME": f"Q{NOT_UTF8}"}, "FIRST_NAME",
        "not valid text"),
    Bad("a row with too many fields", {}, "_row", "fields; the header has", extra=3),
    Bad("a row with too few fields", {}, "_row", "fields; the header has", extra=-1),
    Bad("a 200,000-character middle name", {"MIDDLE_NAME": "M" * 200_000}, "MIDDLE_NAME", "at most 80"),
    Bad("a cell beyond the reader's 1 MiB limit", {"CITY": MIB}, "_row", "cannot be read"),
    Bad("Rich markup in a rejected cell", {"STATE": "[/]"}, "STATE", "two letters"),
]


def _provider_cells(i: int) -> dict[str, str]:
    return {"PROVIDER_ID": f"OH-{i}", "KIND": "PERSON", "LAST_NAME": f"Ambrose{i}", "FIRST_NAME": "Telly",
            "MIDDLE_NAME": "", "BUSINESS_NAME": "", "NPI": "", "SPECIALTIES": "PSYCHOLOGY", "PANELS": "CENTRAL",
            "ADDRESS": "5 High St", "CITY": "Columbus", "STATE": "OH", "ZIP": "43215", "STATUS": "ACTIVE"}


PROVIDER_BAD = [
    Bad("NUL in a last name", {"LAST_NAME": "Amb\x00rose"}, "LAST_NAME", "NUL"),
    Bad("last name longer than mpr_providers.last_name (80)", {"LAST_NAME": "L" * 81}, "LAST_NAME", "at most 80"),
    Bad("provider id longer than mpr_providers.ext_id (40)", {"PROVIDER_ID": "P" * 41}, "PROVIDER_ID",
        "at most 40"),
    Bad("BEL control character in a city (kept in a JSON column)", {"CITY": "Colum\x07bus"}, "CITY", "U+0007"),
    Bad("tab in the specialties", {"SPECIALTIES": "PSY\tCHOLOGY"}, "SPECIALTIES", "U+0009"),
    Bad("bytes that are not UTF-8 in a first name", {"FIRST_NAME": f"T{NOT_UTF8}"}, "FIRST_NAME", "not valid UTF-8"),
    Bad("a row with too many fields", {}, "_row", "fields; the header has", extra=2),
    Bad("a row with too few fields", {}, "_row", "fields; the header has", extra=-4),
    Bad("a 200,000-character business name", {"BUSINESS_NAME": "B" * 200_000}, "BUSINESS_NAME", "at most 200"),
    Bad("a cell beyond the reader's 1 MiB limit", {"ADDRESS": MIB}, "_row", "cannot be read"),
    Bad("Rich markup in a rejected cell", {"STATUS": "[/]"}, "STATUS", "ACTIVE or INACTIVE"),
]


def _mpr_setup(store: Store) -> None:
    admin = person(store, "admin", "ADMIN")  # organisations and people are an administrator's
    mpr.add_org(store, admin, level="CO", code="CO", name="ODD MPRT")
    mpr.add_org(store, admin, level="RO", code="RO-05", name="Chicago", parent="CO")
    mpr.add_org(store, admin, level="DDS", code="DDS-OH", name="Ohio", parent="RO-05")
    mpr.add_person(store, admin, org="DDS-OH", name="mpro_oh", role="MPRO")
    mpr.add_person(store, admin, org="CO", name="mprt1", role="MPRT")


def _count(store: Store, table: Any) -> int:
    with store.read() as tx:
        return int(tx.conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.mark.parametrize(("kind", "columns", "cells", "bads", "table", "actor"), [
    ("leie", LEIE_COLUMNS, _leie_cells, LEIE_BAD, mpr_leie, "mprt1:MPRT"),  # the national list: CO
    ("roster", ROSTER_COLUMNS, _roster_cells, ROSTER_BAD, mpr_licenses, "mpro_oh:MPRO"),
    ("providers", PROVIDER_COLUMNS, _provider_cells, PROVIDER_BAD, mpr_providers, "mpro_oh:MPRO"),
])
def test_mpr_import_rejects_each_hostile_row(store: Store, tmp_path: Path, kind: str, columns: Any, cells: Any,
                                            bads: list[Bad], table: Any, actor: str) -> None:
    _mpr_setup(store)
    n = len(bads)
    rows, where, good_rows = interleave([cells(i) for i in range(n + 2)], [cells(100 + i) for i in range(n)], bads)
    src = tmp_path / f"{kind}.csv"
    src.write_bytes(csv_bytes(columns, rows))
    rej = tmp_path / f"{kind}.rejects.jsonl"
    dds = [] if kind == "leie" else ["--dds", "DDS-OH"]
    name, role = actor.split(":")
    r = run("mpr", "import", kind, str(src), *dds, "--rejects", str(rej), "--db", store_url(store),
            token=token_for(store, name, role))
    assert r.exit_code == 0, r.output
    out = " ".join(r.stdout.split())
    assert f"read {len(rows)} = accepted {len(good_rows)} + rejected {n} (reconciled)" in out, out
    check_rejects(read_rejects(rej), where)
    assert _count(store, table) == len(good_rows)


# ---- decide (no store) ----------------------------------------------------------------------------

DECIDE_LINES: list[tuple[str, bytes, str, str]] = [
    ("JSON nested 2,000 deep", b'{"mailer_id": "X", "remarks": ' + _deep(DEEP).encode() + b"}", "(line)",
     "nested deeper"),
    ("JSON nested 2,000 deep in an unknown key", b'{"extra": ' + _deep(DEEP).encode() + b"}", "(line)",
     "nested deeper"),
    ("a 5,000-digit number", b'{"mailer_id": "X", "q1a_worked": ' + b"9" * 5_000 + b"}", "(line)",
     "number too long"),
    ("bytes that are not UTF-8", b'{"mailer_id": "M\xff\xfe"}', "(line)", "not UTF-8"),
    ("truncated JSON", b'{"mailer_id": "M1", "ssn": ', "(line)", "not valid JSON"),
    ("a JSON array, not an object", b"[1, 2]", "(line)", "expected one JSON object"),
    ("a 200,000-character mailer id with a bad answer", json.dumps({**BASE_MAILER, "mailer_id": "M" * 200_000,
                                                                     "q4_health": "MAYBE"}).encode(),
     "q4_health", "Input should be"),
    ("the same mailer a second time", b"DUPLICATE", "mailer_id", "duplicate of the record on line 1"),
]


def test_decide_rejects_each_hostile_line_and_decides_the_rest(tmp_path: Path) -> None:
    lines: list[bytes] = []
    expect: dict[int, tuple[str, str, str]] = {}
    for i, (name, text, field, words) in enumerate(DECIDE_LINES):
        lines.append(json.dumps({**BASE_MAILER, "mailer_id": f"G{i}"}).encode())
        lines.append(json.dumps({**BASE_MAILER, "mailer_id": "G0"}).encode() if text == b"DUPLICATE" else text)
        expect[len(lines)] = (name, field, words)
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    r = run("decide", str(src), "-o", str(out), "--rejects", str(rej))
    assert r.exit_code == 0, r.output
    text = " ".join(r.stdout.split())
    assert f"read {len(lines)}, decided {len(DECIDE_LINES)}, rejected {len(DECIDE_LINES)}" in text, text
    got = {x["line"]: x for x in read_rejects(rej)}
    assert sorted(got) == sorted(expect)
    for line, (name, field, words) in expect.items():
        assert got[line]["field"] == field and words in got[line]["reason"], (name, got[line])
    assert sorted(json.loads(x)["mailer_id"] for x in out.read_text().splitlines()) == \
        sorted(f"G{i}" for i in range(len(DECIDE_LINES)))


DECIDE_FILE_CASES = ["random bytes named .parquet", "a Parquet file cut in half"]


@pytest.mark.parametrize("kind", DECIDE_FILE_CASES)
def test_decide_an_unreadable_parquet_file_is_one_line_and_leaves_the_output(tmp_path: Path, kind: str) -> None:
    src = tmp_path / "in.parquet"
    if kind.startswith("random"):
        src.write_bytes(bytes(range(256)) * 40)
    else:
        whole = _parquet(tmp_path / "whole.parquet", [{**SIMPLE, "mailer_id": f"M{i}"} for i in range(50)],
                         _schema(), 10).read_bytes()
        src.write_bytes(whole[: len(whole) // 2])
    out, rej = tmp_path / "out.csv", tmp_path / "rej.jsonl"
    out.write_text("an earlier run's decisions\n")
    r = run("decide", str(src), "-o", str(out), "--rejects", str(rej))
    assert r.exit_code == 2, r.output
    one_error_line(r, str(src), "cannot read it")
    assert out.read_text() == "an earlier run's decisions\n" and not rej.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["in.parquet", "out.csv", *(
        ["whole.parquet"] if "half" in kind else [])])  # no temporary file left behind


# ---- calc --jsonl ---------------------------------------------------------------------------------

CALC_LINES: list[tuple[str, bytes, str | None]] = [
    # (what, the line, words of its error; None: a valid record, answered with a decision)
    ("JSON nested 2,000 deep", _deep(DEEP).encode(), "nested deeper"),
    ("JSON nested 500 deep where an object goes",
     json.dumps(BASE_MAILER)[:-1].encode() + b', "remarks": ' + _deep(500).encode() + b"}", "remarks"),
    ("a 5,000-digit number", b'{"q1a_worked": ' + b"9" * 5_000 + b"}", "number too long"),
    ("bytes that are not UTF-8", b'{"mailer_id": "M\xff"}', "not UTF-8"),
    ("truncated JSON", b'{"mailer_id": ', "not valid JSON"),
    ("a JSON array, not an object", b"[1, 2]", "expected one JSON object"),
    ("a 200,000-character field with a bad answer",
     json.dumps({**BASE_MAILER, "q5_narrative": "N" * 200_000, "q4_health": "MAYBE"}).encode(), "q4_health"),
    ("NaN earnings", json.dumps({**BASE_MAILER, "q1a_worked": "YES",
                                 "q1b_earnings": [{"monthly_earnings": float("nan")}]}).encode(), "monthly_earnings"),
    ("a lone surrogate in the remarks (no store: answered)",
     json.dumps({**BASE_MAILER, "remarks": {"text": "\ud800", "relevant": False}}).encode(), None),
    ("NUL in the remarks (no store: answered)",
     json.dumps({**BASE_MAILER, "remarks": {"text": "a\x00b", "relevant": False}}).encode(), None),
]


def _calc_stdin() -> tuple[bytes, list[int], dict[int, str]]:
    lines: list[bytes] = []
    bad: dict[int, str] = {}
    good: list[int] = []
    for _name, text, words in CALC_LINES:
        lines.append(json.dumps(BASE_MAILER).encode())
        good.append(len(lines))
        lines.append(text)
        if words is None:
            good.append(len(lines))
        else:
            bad[len(lines)] = words
        lines.append(b"")  # a blank line is not a record and gets no answer
    lines.append(json.dumps(BASE_MAILER).encode())
    good.append(len(lines))
    return b"\n".join(lines) + b"\n", good, bad


def _check_answers(stdout: str, good: list[int], bad: dict[int, str]) -> None:
    answers = [json.loads(x) for x in stdout.splitlines()]
    assert len(answers) == len(good) + len(bad)  # every non-blank line answered, in order
    for answer, line in zip(answers, sorted([*good, *bad]), strict=True):
        if line in bad:
            assert answer["error"].startswith(f"line {line}:") and bad[line] in answer["error"], (line, answer)
        else:
            assert answer["outcome"] == "DEFER" and "error" not in answer, (line, answer)


def test_calc_jsonl_answers_every_line() -> None:
    stdin, good, bad = _calc_stdin()
    r = run("calc", "mailer-decision", "--jsonl", stdin=stdin)
    assert r.exit_code == 0, r.output
    _check_answers(r.stdout, good, bad)


def test_calc_jsonl_answers_every_line_of_real_stdin() -> None:
    """The same lines through a real process: bytes on its stdin, nothing on its stderr."""
    stdin, good, bad = _calc_stdin()
    proc = subprocess.run([sys.executable, "-m", "cdrflow.cli", "calc", "mailer-decision", "--jsonl"], input=stdin,
                          capture_output=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr.decode(errors="replace")[-2000:]
    _check_answers(proc.stdout.decode(), good, bad)


CALC_ONE: list[tuple[str, bytes, str]] = [
    ("JSON nested 2,000 deep", _deep(DEEP).encode(), "nested deeper"),
    ("a 5,000-digit number", b'{"q1a_worked": ' + b"9" * 5_000 + b"}", "number too long"),
    ("bytes that are not UTF-8", b'{"mailer_id": "M\xff"}', "not UTF-8"),
]


@pytest.mark.parametrize(("name", "stdin", "words"), CALC_ONE, ids=[n for n, _, _ in CALC_ONE])
def test_calc_one_object_that_cannot_be_read_is_one_line(name: str, stdin: bytes, words: str) -> None:
    r = run("calc", "mailer-decision", stdin=stdin)
    assert r.exit_code == 2, r.output
    one_error_line(r, "(input)", words)


MPR_NAME_CASES: list[list[str]] = [
    ["org", "add", "--level", "CO", "--code", "C" * 17, "--name", "x"],
    ["org", "add", "--level", "CO", "--code", "CO", "--name", "N" * 121],
    ["org", "add", "--level", "CO", "--code", "CO", "--name", "ODD\tMPRT"],
    ["person", "add", "--org", "CO", "--name", "p" * 65, "--role", "MPRT"],
]


def test_mpr_names_on_the_command_line_are_checked_before_any_statement(store: Store) -> None:
    admin = token_for(store, "admin", "ADMIN")  # organisations and people are an administrator's
    for args in MPR_NAME_CASES:
        r = run("mpr", *args, "--db", store_url(store), token=admin)
        assert r.exit_code == 2, (args, r.output)
        one_error_line(r, "the DCF")
    assert _count(store, mpr_orgs) == 0 and _count(store, mpr_people) == 0  # nothing written
    with store.read() as tx:
        assert list(tx.conn.execute(select(people.c.name).where(people.c.kind == "PERSON")).scalars()) == ["admin"]


TOKEN_BAD: list[tuple[str, bytes, int, str]] = [  # (case, the token file's bytes, exit code, words)
    ("a 5,000-character token", b"cdrf_" + b"x" * 5000, 4, "the token is unknown"),
    ("NUL in the token", b"cdrf_ab\x00cd", 4, "the token is unknown"),
    ("a token of two lines", b"cdrf_ab\ncdrf_cd", 4, "the token is unknown"),
    ("an escape sequence", b"\x1b[31mcdrf_ab", 4, "the token is unknown"),
    ("bytes that are not UTF-8", b"cdrf_\xff\xfe", 2, "cannot be read"),
    ("a token nobody was given", b"cdrf_" + b"A" * 43, 4, "the token is unknown"),
    ("the stored hash of a real token instead of the token", b"", 4, "the token is unknown"),
]
ADDRESS_BAD: list[tuple[str, str]] = [
    ("{", "not a JSON object"),
    ("[1, 2]", "expected a JSON object"),
    ("[" * 3000 + "]" * 3000, "not a JSON object"),
    ('{"address_line": "' + "x" * 5000 + '", "city": "Scranton", "state": "PA", "zip": "18503"}', "address_line"),
    ('{"address_line": "1 Main St\\u0000", "city": "Scranton", "state": "PA", "zip": "18503"}', "address_line"),
    ('{"address_line": "1 Main St", "city": "Scranton", "state": "PA", "zip": "18503", "extra": 1}', "extra"),
]


@pytest.mark.parametrize(("name", "content", "code", "words"), TOKEN_BAD, ids=[t[0] for t in TOKEN_BAD])
def test_a_hostile_token_is_one_error_line_and_no_identity(store: Store, tmp_path: Path, name: str, content: bytes,
                                                          code: int, words: str) -> None:
    """Nothing typed is an identity; a token file that holds no valid token is refused in one line (exit 4, or 2
    when the file cannot be read), logged when it reached the people table, and never falls back to anyone."""
    from cdrflow.workflow.people import token_hash

    path = tmp_path / "token"
    path.write_bytes(content or token_hash(token_for(store, "ann", "DE", pc=7)).encode())
    path.chmod(0o600)
    r = run("review", "associate", "NO-SUCH-CASE", "--db", store_url(store), env={"CDRFLOW_TOKEN_FILE": str(path)})
    assert r.exit_code == code, r.output
    one_error_line(r, words)
    if code == 4:
        assert access_rows(store, action="authenticate", outcome="DENIED", rule="bad-token")


@pytest.mark.parametrize(("address", "word"), ADDRESS_BAD)
def test_a_new_address_the_dcf_cannot_store_is_one_error_line(store: Store, address: str, word: str) -> None:
    r = run("review", "undeliverable", "NO-SUCH-CASE", "--new-address", address, "--db", store_url(store),
            token=token_for(store, "mo", "MAILROOM", pc=7))
    assert r.exit_code == 2
    one_error_line(r, word)


HOSTILE_CASES: dict[str, int] = {
    "ingest JSON Lines": len(INGEST_LINES),
    "ingest Parquet": len(PARQUET_FILE_CASES) + len(PARQUET_ROW_CASES),
    "population import CSV": len(POPULATION_BAD),
    "mpr import leie (LEIE CSV)": len(LEIE_BAD),
    "mpr import roster (license roster CSV)": len(ROSTER_BAD),
    "mpr import providers (provider CSV)": len(PROVIDER_BAD),
    "mpr org add / person add (names)": len(MPR_NAME_CASES),
    "decide": len(DECIDE_LINES) + len(DECIDE_FILE_CASES),
    "calc --jsonl": len(CALC_LINES),
    "calc (one object)": len(CALC_ONE),
    "token file": len(TOKEN_BAD),
    "review undeliverable --new-address": len(ADDRESS_BAD),
}
"""Hostile inputs tried per reader (each on SQLite and PostgreSQL where a store is involved)."""

