"""The command line as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from ..conftest import mailer

CLI = [sys.executable, "-m", "cdrflow.cli"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_list_shows_every_calc_with_citations() -> None:
    p = run("calc", "--list")
    assert p.returncode == 0
    for name in ("mailer-decision", "diary-reset", "earnings-tolerance", "cdt-code", "ipca-event",
                 "followup-selection", "pc-jurisdiction", "dircon-outcome", "reviewer-guide"):
        assert name in p.stdout
    assert "DI 40502.001" in p.stdout


def test_one_object_from_argument_and_stdin() -> None:
    p = run("calc", "cdt-code", '{"released": "2003-10-01"}')
    assert p.returncode == 0, p.stderr
    ans = json.loads(p.stdout)
    assert ans["cdt"] == 44
    assert ans["trace"] and ans["policy_version"]
    p = run("calc", "mailer-decision", stdin=json.dumps(mailer(q1a_worked="YES")))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["alert"]["message"] == 4


def test_bad_input_exit_2_and_one_line_naming_the_field() -> None:
    p = run("calc", "mailer-decision", json.dumps(mailer(profile="X")))
    assert p.returncode == 2
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1
    assert "profile" in lines[0]
    assert p.stdout == ""
    p = run("calc", "cdt-code", "{not json")
    assert p.returncode == 2


def test_jsonl_answers_every_line_in_order() -> None:
    lines = [
        json.dumps({"released": "1999-10-01"}),
        json.dumps({"released": "nope"}),
        "{broken",
        json.dumps({"released": "2001-01-01"}),
    ]
    p = run("calc", "cdt-code", "--jsonl", stdin="\n".join(lines) + "\n")
    assert p.returncode == 0
    answers = [json.loads(ln) for ln in p.stdout.splitlines()]
    assert len(answers) == 4
    assert answers[0]["cdt"] == 40
    assert "released" in answers[1]["error"]
    assert "error" in answers[2]
    assert answers[3]["cdt"] == 41


def test_schema_is_the_input_json_schema() -> None:
    p = run("calc", "mailer-decision", "--schema")
    assert p.returncode == 0
    schema = json.loads(p.stdout)
    for field in ("mailer_id", "ssn", "title", "form", "request", "profile", "report_period_start", "signed",
                  "signer", "q1a_worked", "q1b_earnings", "q2_school", "q3_doctor_work", "q4_health",
                  "q5_doctor_visits", "q6_hospitalized", "vr_interest", "remarks", "attachments",
                  "translation_needed", "other_program_issue"):
        assert field in schema["properties"]


def test_unknown_calc_is_exit_2() -> None:
    p = run("calc", "no-such-calc", "{}")
    assert p.returncode == 2
    assert "unknown calc" in p.stderr


def test_decide_file_and_sample(tmp_path: Path) -> None:
    p = run("sample", "--count", "400", "--out", str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert "reconciled" in p.stdout
    assert (tmp_path / "decisions.parquet").exists()
    p = run("decide", str(tmp_path / "returned-mailers.jsonl"), "-o", str(tmp_path / "again" / "d.csv"))
    assert p.returncode == 0, p.stderr
    # the same records decided by `sample` and by `decide`: the same outcomes, row for row
    a = pl.read_csv(tmp_path / "again" / "d.csv").select("mailer_id", "outcome", "alert_message")
    b = pl.read_csv(tmp_path / "decisions.csv").select("mailer_id", "outcome", "alert_message")
    assert a.equals(b)


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_decide_writes_flat_columns_by_suffix_and_reconciles(tmp_path: Path, suffix: str) -> None:
    from cdrflow.batch.files import FLAT_COLUMNS
    from cdrflow.simulate.mailers import write_jsonl

    src = write_jsonl(tmp_path / "in.jsonl", 500, seed=5, bad_share=0.05)
    out = tmp_path / f"out{suffix}"
    p = run("decide", str(src), "-o", str(out))
    assert p.returncode == 0, p.stderr
    frame = {".parquet": pl.read_parquet, ".csv": pl.read_csv, ".jsonl": pl.read_ndjson}[suffix](out)
    assert frame.columns == FLAT_COLUMNS
    rejects = (tmp_path / "out.rejects.jsonl").read_text().splitlines()
    assert f"read 500, decided {frame.height}, rejected {len(rejects)}" in p.stdout
    assert frame.height + len(rejects) == 500 and rejects
    first = frame.row(0, named=True)
    assert first["rule_ids"].split()[0].startswith("work_activity:")
    assert json.loads(first["policy_version"])["source"].startswith("DI 40502.001")


def test_decide_on_a_local_dask_cluster_writes_what_the_single_process_run_writes(tmp_path: Path) -> None:
    from cdrflow.batch.schema import MAILER_SCHEMA
    from cdrflow.simulate.mailers import generate

    src = tmp_path / "in.parquet"
    pl.DataFrame(list(generate(1200, seed=12, bad_share=0.05)), schema=MAILER_SCHEMA).write_parquet(
        src, row_group_size=300)
    one = run("decide", str(src), "-o", str(tmp_path / "one.csv"))
    many = run("decide", str(src), "-o", str(tmp_path / "many.csv"), "--dask", "local")
    assert one.returncode == 0 and many.returncode == 0, many.stderr
    assert (tmp_path / "many.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    assert (tmp_path / "many.rejects.jsonl").read_text() == (tmp_path / "one.rejects.jsonl").read_text()
    assert "read 1,200, decided" in many.stdout
    p = run("decide", str(tmp_path / "one.csv"), "-o", str(tmp_path / "x.csv"), "--dask", "local")
    assert p.returncode == 2 and "Parquet" in p.stderr


def test_decide_unreadable_input_is_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"not a parquet file")
    for path in (bad, tmp_path / "missing.jsonl", tmp_path):
        p = run("decide", str(path), "-o", str(tmp_path / "x.csv"))
        assert p.returncode == 2, (path, p.stdout, p.stderr)
        assert "error" in p.stderr
    p = run("decide", str(bad), "-o", str(tmp_path / "x.xlsx"))
    assert p.returncode == 2 and "--out" in p.stderr


def test_tables_check_passes() -> None:
    p = run("tables", "check")
    assert p.returncode == 0, p.stdout
    assert "FAIL" not in p.stdout
