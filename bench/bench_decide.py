"""Throughput of the DCDRS decision logic: per-record calc vs. vectorized batch, same run.

Usage: .venv/bin/python -m bench.bench_decide [N]   (default 200,000)

Both paths decide the same simulated records (already validated, in memory) and must agree;
the figure that matters is the ratio, measured in one run on one machine. Writes
bench/results.md.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import polars as pl

from cdrflow.batch.decide import OUTPUT_COLUMNS, decide_frame
from cdrflow.batch.schema import MAILER_SCHEMA
from cdrflow.policy.mailer.calcs import REGISTRY
from cdrflow.policy.mailer.decision_logic import mailer_decision
from cdrflow.policy.mailer.record import ReturnedMailer
from cdrflow.simulate.mailers import generate

PER_RECORD_SAMPLE = 20_000


def main(n: int) -> str:
    recs = list(generate(n, seed=2026))
    frame = pl.DataFrame(recs, schema=MAILER_SCHEMA)
    models = [ReturnedMailer.model_validate(r) for r in recs[:PER_RECORD_SAMPLE]]

    t0 = time.perf_counter()
    per = [mailer_decision(m) for m in models]
    per_s = time.perf_counter() - t0
    per_rate = len(models) / per_s

    decide_frame(frame.head(1000)).collect()  # warm-up
    t0 = time.perf_counter()
    out = decide_frame(frame).collect()
    batch_s = time.perf_counter() - t0
    batch_rate = n / batch_s

    sample = out.head(len(per)).select(OUTPUT_COLUMNS).to_dicts()
    agree = all(a["outcome"] == b.outcome and a["automated_recommendation"] == b.automated_recommendation
                for a, b in zip(sample, per, strict=True))
    assert agree, "batch and per-record disagree"
    assert REGISTRY["mailer-decision"] is mailer_decision

    rows = [
        "# Benchmarks",
        "",
        "## DCDRS decision logic: per-record calc vs. vectorized batch",
        "",
        f"Command: `.venv/bin/python -m bench.bench_decide {n}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"Polars {pl.__version__}, {platform.system()}  ",
        f"Records: {n:,} simulated returned mailers (seed 2026), validated, in memory; the per-record path "
        f"decides the first {len(models):,} of them.",
        "",
        "| path | records | seconds | records/second |",
        "|---|---:|---:|---:|",
        f"| per-record `mailer-decision` (tables + trace) | {len(models):,} | {per_s:.2f} | {per_rate:,.0f} |",
        f"| vectorized `decide_frame` (same tables compiled to Polars) | {n:,} | {batch_s:.2f} | {batch_rate:,.0f} |",
        "",
        f"**Ratio: the batch decides {batch_rate / per_rate:,.0f}x as many records per second as the per-record calc** "
        "(baseline: the per-record calc, same run). Both paths agreed on every compared record.",
        "",
        "Not measured here: file parsing and validation (pydantic, per record), which dominates a file run "
        "today; the national-volume benchmark against the I/O floor is the batch issue's.",
        "",
    ]
    return "\n".join(rows)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    text = main(n)
    Path(__file__).with_name("results.md").write_text(text, encoding="utf-8")
    print(text)
