"""The vectorized batch and the per-record calc give the same decision for every record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdrflow.batch.decide import OUTPUT_COLUMNS, decide_frame
from cdrflow.batch.files import decide_file, write_result
from cdrflow.batch.schema import MAILER_SCHEMA
from cdrflow.policy.mailer.calcs import REGISTRY
from cdrflow.simulate.mailers import generate, write_jsonl

from ..strategies import mailer_records


def per_record(rec: dict[str, Any], d: dict[str, Any] | None = None) -> dict[str, Any]:
    d = d if d is not None else REGISTRY["mailer-decision"].run(rec)
    a = d["alert"] or {}
    return {
        "mailer_id": d["mailer_id"],
        "outcome": d["outcome"],
        "actionable": d["actionable"],
        "actionable_reason": d["actionable_reason"],
        "alert_type": a.get("type"),
        "alert_message": a.get("message"),
        "alert_reviewer": a.get("reviewer"),
        "alert_recommended_action": a.get("recommended_action"),
        "automated_recommendation": d["automated_recommendation"],
        "significant_responses": d["significant_responses"],
        "clear_decision": d["clear_decision"],
        "work_issue": d["work_issue"],
    }


def batch(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    frame = pl.DataFrame(recs, schema=MAILER_SCHEMA)
    return decide_frame(frame).collect().select(OUTPUT_COLUMNS).to_dicts()


@given(st.lists(mailer_records(), min_size=1, max_size=60))
@settings(max_examples=60, deadline=None)
def test_batch_equals_per_record_on_generated_records(recs: list[dict[str, Any]]) -> None:
    recs = [{**r, "mailer_id": f"M{i}"} for i, r in enumerate(recs)]
    assert batch(recs) == [per_record(r) for r in recs]


def test_batch_equals_per_record_on_simulated_population() -> None:
    recs = list(generate(5000, seed=7))
    assert batch(recs) == [per_record(r) for r in recs]


def test_file_counts_reconcile_and_rejects_name_the_field(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", 3000, seed=11, bad_share=0.05)
    decided_id = decide_file(src).decisions["mailer_id"][0]
    line = next(ln for ln in src.read_text().splitlines() if json.loads(ln)["mailer_id"] == decided_id)
    with src.open("a", encoding="utf-8") as fh:
        fh.write("{not json\n")
        fh.write(line + "\n")  # a duplicate of a decided record
    result = decide_file(src)
    assert result.read == 3002
    assert result.reconciles()
    assert result.decided + len(result.rejects) == result.read
    reasons = {(r.field, r.line) for r in result.rejects}
    assert ("(line)", 3001) in reasons
    assert ("mailer_id", 3002) in reasons
    assert {r.field for r in result.rejects} >= {"profile", "signed"}
    assert all(r.reason for r in result.rejects)


def test_rerunning_the_same_input_changes_nothing(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", 1000, seed=3, bad_share=0.02)
    first = write_result(decide_file(src), tmp_path / "a")
    second = write_result(decide_file(src), tmp_path / "b")
    assert first["decisions_csv"].read_bytes() == second["decisions_csv"].read_bytes()
    assert first["rejects"].read_bytes() == second["rejects"].read_bytes()


def test_a_records_own_decision_date_chooses_its_policy(tmp_path: Path) -> None:
    recs = list(generate(4, seed=5))
    recs[1]["decision_date"] = "2005-01-01"  # before TN 2 (10-08): no $701 threshold in force
    recs[2]["decision_date"] = "2012-06-01"
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in recs))
    result = decide_file(src)
    assert result.reconciles()
    assert [(r.line, r.field) for r in result.rejects] == [(2, "decision_date")]
    assert "earnings_threshold_q1b" in result.rejects[0].reason
    assert result.decisions["mailer_id"].to_list() == [recs[0]["mailer_id"], recs[2]["mailer_id"], recs[3]["mailer_id"]]
    version = json.loads(result.decisions["policy_version"][1])
    per = REGISTRY["mailer-decision"].run(recs[2])
    assert version == per["policy_version"]


def test_batch_equals_per_record_on_100k_edge_biased_records() -> None:
    """Every output column and the rows that fired agree on 100,000 records built around the edges."""
    from cdrflow.batch.decide import RULE_TABLES

    from .edge_records import edge_records

    recs = edge_records(100_000)
    frame = pl.DataFrame(recs, schema=MAILER_SCHEMA)
    got = decide_frame(frame).collect().select([*OUTPUT_COLUMNS, "rule_ids"]).to_dicts()
    mismatches = 0
    first: tuple[dict[str, Any], dict[str, Any]] | None = None
    for rec, g in zip(recs, got, strict=True):
        d = REGISTRY["mailer-decision"].run(rec)
        want = per_record(rec, d)
        want["rule_ids"] = " ".join(s["rule"] for s in d["trace"] if s["rule"].split(":")[0] in RULE_TABLES)
        if g != want:
            mismatches += 1
            first = first or (g, want)
    assert mismatches == 0, f"{mismatches} records differ; first: {first}"
    outcomes = {g["outcome"] for g in got}
    assert outcomes == {"DEFER", "DO_CDR", "PC_REVIEW"}  # the edges reach every outcome


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_streamed_output_equals_the_in_memory_output(tmp_path: Path, suffix: str) -> None:
    """Chunked decide (bounded memory) writes exactly what deciding the whole file at once writes,
    including a duplicate whose first occurrence is in an earlier chunk."""
    from cdrflow.batch.files import decide_stream, write_decisions

    src = write_jsonl(tmp_path / "in.jsonl", 2500, seed=9, bad_share=0.03)
    line = src.read_text().splitlines()[3]
    with src.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")  # duplicate of line 4, far across the chunk boundary
    whole, whole_rej = write_decisions(decide_file(src), tmp_path / f"whole{suffix}")
    summary = decide_stream(src, tmp_path / f"streamed{suffix}", chunk_size=400)
    assert summary.read == 2501 and summary.reconciles()
    assert (tmp_path / f"streamed{suffix}").read_bytes() == whole.read_bytes() or suffix == ".parquet"
    if suffix == ".parquet":  # row groups differ; the content must not
        assert pl.read_parquet(tmp_path / "streamed.parquet").equals(pl.read_parquet(whole))
    assert (tmp_path / "streamed.rejects.jsonl").read_text() == whole_rej.read_text()
    assert '"line": 2501' in whole_rej.read_text()


def test_streaming_reads_parquet_input_and_handles_an_empty_file(tmp_path: Path) -> None:
    from cdrflow.batch.files import decide_stream

    recs = list(generate(1000, seed=4))
    src = tmp_path / "in.parquet"
    pl.DataFrame(recs, schema=MAILER_SCHEMA).write_parquet(src)
    s = decide_stream(src, tmp_path / "out.csv", chunk_size=128)
    assert s.read == 1000 and s.decided == 1000 and s.rejected == 0
    assert pl.read_csv(tmp_path / "out.csv").height == 1000
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    s = decide_stream(empty, tmp_path / "e.parquet")
    assert (s.read, s.decided, s.rejected) == (0, 0, 0)
    assert pl.read_parquet(tmp_path / "e.parquet").height == 0


def test_word_count_splits_where_the_per_record_calc_splits() -> None:
    """Remarks of 30/31 words whose separators differ between Python's and Rust's idea of space
    (the C0 separators \\x1c-\\x1f, no-break and line separators) are counted alike."""
    recs = []
    for i, sep in enumerate([" ", "\x1c", "\x1f", "\u00a0", "\u2028", "\x85", "\t", "\u200b"]):
        for n in (30, 31):
            rec = dict(next(iter(generate(1, seed=i))))
            rec["mailer_id"] = f"W{i}-{n}"
            rec["remarks"] = {"text": sep.join(["pain"] * n), "relevant": True, "subject": "MEDICAL"}
            recs.append(rec)
    assert batch(recs) == [per_record(r) for r in recs]
