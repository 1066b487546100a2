"""What-if parameters: an analyst reruns decisions with a parameter replaced; the answer says so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from cdrflow.batch.decide import decide_frame
from cdrflow.batch.schema import MAILER_SCHEMA
from cdrflow.engine.errors import PolicyError
from cdrflow.policy.mailer.calcs import REGISTRY
from cdrflow.policy.mailer.source import parameters, what_if

from ..conftest import mailer

# $750 a month since the report period began: actionable at the shipped $701 (E.4.b), not at $800.
WORKED_750 = mailer(q1a_worked="NO", q1b_earnings=[{"work_began": "2024-03", "work_ended": None,
                                                    "monthly_earnings": 750.0}])


def _batch(rec: dict[str, object]) -> dict[str, object]:
    row = decide_frame(pl.DataFrame([{k: rec.get(k) for k in MAILER_SCHEMA}], schema=MAILER_SCHEMA)).collect()
    return row.row(0, named=True)


def test_override_changes_batch_and_per_record_alike_and_is_recorded() -> None:
    base = REGISTRY["mailer-decision"].run(WORKED_750)
    assert base["actionable"] is True and _batch(WORKED_750)["actionable"] is True
    with what_if({"earnings_threshold_q1b": 800}):
        d = REGISTRY["mailer-decision"].run(WORKED_750)
        assert d["actionable"] is False and _batch(WORKED_750)["actionable"] is False
        assert d["policy_version"]["param:earnings_threshold_q1b"] == "what-if:800"
    # outside the block the shipped policy answers again
    assert REGISTRY["mailer-decision"].run(WORKED_750)["policy_version"]["param:earnings_threshold_q1b"] == \
        "2008-10-01"
    assert parameters()["earnings_threshold_q1b"].at(parameters()["earnings_threshold_q1b"].first_effective).value \
        == 701


def test_mapping_parameters_take_partial_overrides_and_bad_values_are_refused() -> None:
    with what_if({"remark_short_limit": {"words": 40}}) as ps:
        assert ps["remark_short_limit"].values[0].value == {"words": 40, "characters": 200}
    with pytest.raises(PolicyError, match="unknown parameter"):
        with what_if({"no_such_parameter": 1}):
            pass
    with pytest.raises(PolicyError, match="holds int"):
        with what_if({"earnings_threshold_q1b": "high"}):
            pass
    with pytest.raises(PolicyError, match="unknown keys"):
        with what_if({"remark_short_limit": {"sentences": 3}}):
            pass


def test_cli_param_and_params_file(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(WORKED_750) + "\n")
    cfg = tmp_path / "what-if.yaml"
    cfg.write_text("earnings_threshold_q1b: 800\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cdrflow.cli", "decide", str(src), *args],
                              capture_output=True, text=True, check=False)

    assert run("-o", str(tmp_path / "base.csv")).returncode == 0
    assert run("-o", str(tmp_path / "p.csv"), "--param", "earnings_threshold_q1b=800").returncode == 0
    assert run("-o", str(tmp_path / "f.csv"), "--params", str(cfg)).returncode == 0
    base, p, f = (pl.read_csv(tmp_path / n) for n in ("base.csv", "p.csv", "f.csv"))
    assert base["actionable"][0] is True and p["actionable"][0] is False and f["actionable"][0] is False
    assert "what-if:800" in p["policy_version"][0] and "what-if" not in base["policy_version"][0]
    bad = run("-o", str(tmp_path / "x.csv"), "--param", "earnings_threshold_q1b")
    assert bad.returncode == 2 and "NAME=VALUE" in bad.stderr


def test_compare_counts_moves_by_profile_and_title_and_keeps_rejected_records(tmp_path: Path) -> None:
    from cdrflow.batch.compare import input_keys, moves, read_decisions

    other = mailer(mailer_id="M-0002", profile="H", title="T16")
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(WORKED_750) + "\n" + json.dumps(other) + "\n")
    base = pl.DataFrame({"mailer_id": ["M-0001", "M-0002"], "outcome": ["PC_REVIEW", "DO_CDR"]})
    variant = pl.DataFrame({"mailer_id": ["M-0001"], "outcome": ["DEFER"]})  # M-0002 rejected in the variant
    base.write_csv(tmp_path / "a.csv")
    variant.write_parquet(tmp_path / "b.parquet")
    table = moves(read_decisions(tmp_path / "a.csv"), read_decisions(tmp_path / "b.parquet"), input_keys(src))
    rows = {(r["profile"], r["title"], r["base"], r["variant"]): (r["count"], r["moved"])
            for r in table.iter_rows(named=True)}
    assert rows == {("L", "T2", "PC_REVIEW", "DEFER"): (1, True), ("H", "T16", "DO_CDR", "REJECTED"): (1, True)}
    assert table["percent"].sum() == 100.0
    with pytest.raises(ValueError, match="unknown format"):
        read_decisions(tmp_path / "a.xlsx")


def test_cli_compare_prints_the_share_that_moves(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(WORKED_750) + "\n" + json.dumps(mailer(mailer_id="M-0002")) + "\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cdrflow.cli", *args], capture_output=True, text=True,
                              check=False)

    assert run("decide", str(src), "-o", str(tmp_path / "a.csv")).returncode == 0
    assert run("decide", str(src), "-o", str(tmp_path / "b.csv"), "--param", "earnings_threshold_q1b=800").returncode \
        == 0
    p = run("compare", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--input", str(src))
    assert p.returncode == 0, p.stderr
    assert "1 of 2 records (50.00%) change outcome" in p.stdout
    assert run("compare", str(tmp_path / "a.csv"), str(tmp_path / "missing.csv")).returncode == 2
