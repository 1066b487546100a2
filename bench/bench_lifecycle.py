"""One full mailer cycle for N beneficiaries on SQLite and PostgreSQL, against a raw batched insert.

Usage::

    .venv/bin/python -m bench.bench_lifecycle --count 1000000 [--backends sqlite,postgresql]
        [--pg-url postgresql://postgres@127.0.0.1:5432/test] [--profile DIR]

Per backend, in a child process of its own (so peak RSS is that backend's):

* setup (timed, reported, not "the cycle"): a fresh DCF (SQLite file in a temp dir, or a fresh
  PostgreSQL schema ``bench_<hex>`` dropped at the end), ``upgrade``, the synthetic population of
  :func:`cdrflow.population.generate.generate_frame` with every diary month due at the cycle date,
  loaded with :func:`cdrflow.workflow.population.load`. An illustrative area-number table
  (NOT GN 01070.245) is loaded so the pc-jurisdiction calc answers PC 1-6 and every domestic
  beneficiary is selectable;
* the measured cycle: ``run_cycle`` (first mailers for all due beneficiaries, profiles L, M and H),
  then ``ingest`` of the simulated returns for the sent cases (decisions, events, documents). The
  returns file is built between the two and its generation is not counted;
* the baseline, same run, same database: the events the cycle wrote are re-inserted as they are
  into ``events_raw`` (same columns and indexes as ``events``, no triggers) with the plain best
  method of the backend: ``executemany`` in transactions of 20,000 rows (SQLite), ``COPY`` in
  chunks of 20,000 rows (PostgreSQL). Only the insert and commit are timed.

The figure that matters is the ratio events/s of the cycle to rows/s of the raw insert (goal >= 0.5).
Writes bench/results_lifecycle.md.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import resource
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, select, text

from cdrflow.dcf.db import make_engine, upgrade
from cdrflow.dcf.schema import cases
from cdrflow.dcf.store import EVENT_COLUMNS, Store
from cdrflow.policy.mailer.jurisdiction import load_ssn_table
from cdrflow.population.generate import generate_frame
from cdrflow.simulate.returns import simulate_returns, write_returns
from cdrflow.workflow.cycle import run_cycle
from cdrflow.workflow.intake import ingest
from cdrflow.workflow.population import load

AS_OF = dt.date(2026, 1, 1)
RAW_CHUNK = 20_000
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
RESULTS = Path(__file__).with_name("results_lifecycle.md")
NOTES_MARKER = "<!-- notes: kept on rerun -->"
console = Console(stderr=True, highlight=False, soft_wrap=True)

# Illustrative only, so that every domestic beneficiary gets a PC: these are NOT the GN 01070.245 ranges.
BENCH_SSN_TABLE = """reference: "bench: illustrative area-number ranges (not GN 01070.245)"
ranges:
  - {from: "001", to: "149", pc: 1}
  - {from: "150", to: "299", pc: 2}
  - {from: "300", to: "449", pc: 3}
  - {from: "450", to: "599", pc: 4}
  - {from: "600", to: "749", pc: 5}
  - {from: "750", to: "999", pc: 6}
"""

RAW_DDL = {
    "sqlite": [
        """CREATE TABLE events_raw (
            event_id INTEGER NOT NULL PRIMARY KEY, case_id VARCHAR(32), ssn VARCHAR(9) NOT NULL,
            event_date DATE NOT NULL, event_type VARCHAR(48) NOT NULL, code VARCHAR(8), actor VARCHAR(64) NOT NULL,
            actor_role VARCHAR(16) NOT NULL, policy_version TEXT, detail TEXT, idem_key VARCHAR(120),
            recorded_at DATETIME NOT NULL, CONSTRAINT uq_events_raw_idem_key UNIQUE (idem_key))""",
    ],
    "postgresql": [
        """CREATE TABLE events_raw (
            event_id BIGSERIAL NOT NULL PRIMARY KEY, case_id VARCHAR(32), ssn VARCHAR(9) NOT NULL,
            event_date DATE NOT NULL, event_type VARCHAR(48) NOT NULL, code VARCHAR(8), actor VARCHAR(64) NOT NULL,
            actor_role VARCHAR(16) NOT NULL, policy_version TEXT, detail TEXT, idem_key VARCHAR(120),
            recorded_at TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT uq_events_raw_idem_key UNIQUE (idem_key))""",
    ],
}
PG_WORKAROUND = "ALTER TABLE cases ALTER COLUMN alert_reviewer TYPE VARCHAR(16)"
RAW_INDEXES = [
    "CREATE INDEX ix_events_raw_case_id ON events_raw (case_id)",
    "CREATE INDEX ix_events_raw_ssn ON events_raw (ssn)",
    "CREATE INDEX ix_events_raw_type_date ON events_raw (event_type, event_date)",
]


# ---- machine --------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    ram_gib = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram_gib = int(line.split()[1]) / 1024 / 1024
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gib": ram_gib, "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "os": f"{platform.system()} {platform.release()}"}


def source_revision() -> str:
    """The commit the benchmarked code is at, and whether src/ has local changes (read-only git)."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (src/ has uncommitted changes)" if dirty else "")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ---- progress -----------------------------------------------------------------------------------------

@contextmanager
def bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    with Progress(TextColumn("  {task.description:<28}"), BarColumn(bar_width=30), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as p:
        task = p.add_task(label, total=total)
        yield lambda n: p.advance(task, n)


def step(msg: str) -> None:
    console.print(f"  {msg}")


# ---- one backend --------------------------------------------------------------------------------------

@contextmanager
def fresh_engine(backend: str, pg_url: str, workdir: Path) -> Iterator[Engine]:
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{workdir / 'dcf.db'}")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    schema = f"bench_{secrets.token_hex(4)}"
    admin = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(pg_url, schema=schema)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def population_rows(count: int, seed: int) -> list[dict[str, Any]]:
    """``generate_frame`` rows with every diary month due at AS_OF (the backlog stays as it is)."""
    due = f"{AS_OF:%Y-%m}"
    frame = generate_frame(count, seed=seed, as_of=AS_OF).with_columns(
        pl.when(pl.col("diary_month") > due).then(pl.lit(due)).otherwise(pl.col("diary_month")).alias("diary_month"))
    rows: list[dict[str, Any]] = frame.to_dicts()
    return rows


def row_writes(engine: Engine) -> dict[str, int]:
    """Rows in the tables the cycle writes, and updates so far (each update adds 1 to a row's version)."""
    with engine.connect() as conn:
        one = conn.execute(text(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM documents), (SELECT count(*) FROM cases), "
            "(SELECT coalesce(sum(version - 1), 0) FROM cases), "
            "(SELECT coalesce(sum(version - 1), 0) FROM beneficiaries)")).one()
    return dict(zip(("events", "documents", "case_inserts", "case_updates", "beneficiary_updates"),
                    (int(v) for v in one), strict=True))


def count_events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM events")).scalar_one())


@contextmanager
def profiled(profile_dir: Path | None, name: str) -> Iterator[None]:
    if profile_dir is None:
        yield
        return
    prof = cProfile.Profile()
    prof.enable()
    try:
        yield
    finally:
        prof.disable()
        profile_dir.mkdir(parents=True, exist_ok=True)
        prof.dump_stats(profile_dir / f"{name}.prof")
        for sort in ("tottime", "cumulative"):
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(sort).print_stats(40)
            (profile_dir / f"{name}.{sort}.txt").write_text(buf.getvalue(), encoding="utf-8")


def raw_insert(engine: Engine, backend: str, n_events: int) -> dict[str, Any]:
    """Re-insert the cycle's events as they are into events_raw; only the inserts and commits are timed."""
    cols = list(EVENT_COLUMNS)
    col_list = ", ".join(cols)
    raw = engine.raw_connection()  # the engine's connect hook has set the SQLite pragmas
    try:
        cur = raw.cursor()
        for ddl in [*RAW_DDL[backend], *RAW_INDEXES]:
            cur.execute(ddl)
        raw.commit()
        select_sql = (f"SELECT event_id, {col_list} FROM events "  # noqa: S608
                      f"WHERE event_id > {{}} ORDER BY event_id LIMIT {RAW_CHUNK}")
        insert_sql = f"INSERT INTO events_raw ({col_list}) VALUES ({', '.join('?' * len(cols))})"  # noqa: S608
        copy_sql = f"COPY events_raw ({col_list}) FROM STDIN"
        last, written, timed = 0, 0, 0.0
        detail_chars = 0
        with bar("raw insert (baseline)", n_events) as adv:
            while True:
                cur.execute(select_sql.format(last))
                rows = cur.fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                data = [tuple(r[1:]) for r in rows]
                detail_chars += sum(len(r[8] or "") for r in data)  # detail
                t0 = time.perf_counter()
                if backend == "sqlite":
                    cur.executemany(insert_sql, data)
                else:
                    with cur.copy(copy_sql) as cp:
                        for r in data:
                            cp.write_row(r)
                raw.commit()
                timed += time.perf_counter() - t0
                written += len(data)
                adv(len(data))
        cur.execute("SELECT count(*) FROM events_raw")
        (total,) = cur.fetchone() or (None,)
        assert total == written == n_events, "raw insert count differs from the cycle's events"
        cur.close()
    finally:
        raw.close()
    return {"raw_rows": written, "raw_s": timed, "raw_rows_per_s": written / timed if timed else 0.0,
            "avg_detail_chars": detail_chars / written if written else 0.0}


def run_backend(backend: str, count: int, pg_url: str, seed: int, profile_dir: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {"backend": backend, "count": count}
    with tempfile.TemporaryDirectory(prefix="cdrflow-bench-") as tmp:
        workdir = Path(tmp)
        table = workdir / "pc_ssn_bench.yaml"
        table.write_text(BENCH_SSN_TABLE, encoding="utf-8")
        pc_table = load_ssn_table(table)
        with fresh_engine(backend, pg_url, workdir) as engine:
            if backend == "postgresql":
                with engine.connect() as conn:
                    out["server_version"] = conn.execute(text("SHOW server_version")).scalar_one()
            upgrade(engine)
            if backend == "postgresql":
                # Workaround, bench only: cases.alert_reviewer is VARCHAR(8) but the decision logic writes
                # "DE/DEC/DC" (9 characters); SQLite ignores the length, PostgreSQL refuses the update.
                with engine.begin() as conn:
                    width = conn.execute(text(
                        "SELECT character_maximum_length FROM information_schema.columns WHERE table_schema = "
                        "current_schema() AND table_name = 'cases' AND column_name = 'alert_reviewer'")).scalar()
                    if width is not None and width < 9:
                        conn.execute(text(PG_WORKAROUND))
                        out["workaround"] = PG_WORKAROUND
            store = Store(engine)

            t0 = time.perf_counter()
            rows = population_rows(count, seed)
            out["generate_s"] = time.perf_counter() - t0
            step(f"population generated: {len(rows):,} rows in {out['generate_s']:.1f}s")
            t0 = time.perf_counter()
            with bar("population load (setup)", len(rows)) as adv:
                loaded = load(store, rows, progress=adv)
            out["load_s"] = time.perf_counter() - t0
            assert loaded["inserted"] == count, loaded
            del rows
            step(f"population loaded in {out['load_s']:.1f}s ({count / out['load_s']:,.0f} rows/s)")

            events_before = count_events(engine)
            writes_before = row_writes(engine)
            out["loadavg_before"] = os.getloadavg()[0]

            # -- measured: selection ----------------------------------------------------------------
            with bar("run_cycle (measured)", count) as adv, profiled(profile_dir, f"{backend}_run_cycle"):
                t0 = time.perf_counter()
                cyc = run_cycle(store, AS_OF, profiles=["L", "M", "H"], progress=lambda _s, n: adv(n),
                                pc_ssn_table=pc_table)
                out["cycle_s"] = time.perf_counter() - t0
            out["cycle_counts"] = dict(cyc.counts)
            out["cases"] = int(cyc.counts["first_mailer"])
            events_mid = count_events(engine)
            step(f"run_cycle: {out['cases']:,} first mailers, {events_mid - events_before:,} events "
                 f"in {out['cycle_s']:.1f}s")

            # -- setup (not counted): the returns file ---------------------------------------------
            t0 = time.perf_counter()
            with engine.connect() as conn:
                sent = [dict(r) for r in conn.execute(
                    select(cases.c.case_id, cases.c.ssn, cases.c.selected_on, cases.c.title, cases.c.profile,
                           cases.c.request, cases.c.remailed, cases.c.state, cases.c.report_period_start)
                    .where(cases.c.state == "SENT").order_by(cases.c.case_id)).mappings()]
            path = workdir / "returns.jsonl"
            out["returns"] = write_returns(path, simulate_returns(sent, seed=2026))
            del sent
            out["returns_gen_s"] = time.perf_counter() - t0
            step(f"returns file: {out['returns']:,} records in {out['returns_gen_s']:.1f}s (not counted)")

            # -- measured: intake and decisions ----------------------------------------------------
            with bar("ingest (measured)", out["returns"]) as adv, profiled(profile_dir, f"{backend}_ingest"):
                t0 = time.perf_counter()
                res = ingest(store, path, AS_OF + dt.timedelta(days=45), progress=adv)  # 45 days after selection
                out["ingest_s"] = time.perf_counter() - t0
            assert res.reconciles(), res.as_dict()
            out["ingest"] = res.as_dict()
            events_after = count_events(engine)
            out["cycle_events"] = events_mid - events_before
            out["ingest_events"] = events_after - events_mid
            out["events"] = events_after - events_before
            writes_after = row_writes(engine)
            out["writes"] = {k: writes_after[k] - writes_before[k] for k in writes_after}
            out["rows_written"] = sum(out["writes"].values())
            out["loadavg_after"] = os.getloadavg()[0]
            out["measured_s"] = out["cycle_s"] + out["ingest_s"]
            out["events_per_s"] = out["events"] / out["measured_s"]
            out["cases_per_s"] = out["cases"] / out["measured_s"]
            out["records_per_s"] = (out["cases"] + out["returns"]) / out["measured_s"]
            step(f"ingest: {out['returns']:,} records, {out['ingest_events']:,} events in {out['ingest_s']:.1f}s; "
                 f"cycle total {out['events']:,} events, {out['events_per_s']:,.0f} events/s")

            # -- baseline ------------------------------------------------------------------------------
            out.update(raw_insert(engine, backend, out["events"]))
            out["ratio"] = out["events_per_s"] / out["raw_rows_per_s"]
            out["rows_per_s"] = out["rows_written"] / out["measured_s"]
            out["rows_ratio"] = out["rows_per_s"] / out["raw_rows_per_s"]
            step(f"raw insert: {out['raw_rows']:,} rows in {out['raw_s']:.1f}s = {out['raw_rows_per_s']:,.0f} rows/s; "
                 f"ratio {out['ratio']:.2f}")
    out["peak_rss_mib"] = peak_rss_mib()
    return out


# ---- report -------------------------------------------------------------------------------------------

def report(results: list[dict[str, Any]], command: str, mach: dict[str, Any]) -> str:
    pg = next((r.get("server_version") for r in results if r.get("server_version")), None)
    lines = [
        "# Benchmark: one full mailer cycle against a raw batched insert",
        "",
        f"Command: `{command}`  ",
        f"Machine: {mach['cpu']}, {mach['cores']} cores, {mach['ram_gib']:.1f} GiB RAM, {mach['os']}, "
        f"Python {mach['python']}, SQLite {mach['sqlite']}" + (f", PostgreSQL {pg}" if pg else "") + "  ",
        f"Date: {dt.date.today()}, code at commit {mach.get('revision', 'unknown')}",
        "",
        "The cycle is `run_cycle` (selection: first mailers for every due beneficiary) plus `ingest` of the "
        "simulated returns (WBDOC screening, DCDRS decisions, events, documents, case and beneficiary updates), "
        "wall time of the two. The baseline re-inserts the same events, as they are, into `events_raw` "
        "(same columns and indexes as `events`, no triggers): SQLite `executemany` in transactions of 20,000 "
        "rows, PostgreSQL `COPY` in chunks of 20,000 rows, same database, same run; only the inserts and "
        "commits are timed. Goal: ratio >= 0.5.",
        "",
        "| backend | beneficiaries | population load s | cycle s | events | events/s | cases/s | raw rows/s "
        "| ratio | goal met | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['count']:,} | {r['load_s']:.1f} | {r['measured_s']:.1f} | {r['events']:,} "
            f"| {r['events_per_s']:,.0f} | {r['cases_per_s']:,.0f} | {r['raw_rows_per_s']:,.0f} | {r['ratio']:.2f} "
            f"| {'yes' if r['ratio'] >= 0.5 else 'no'} | {r['peak_rss_mib']:,.0f} |")
    lines += [
        "",
        "Breakdown (seconds; setup is not in the cycle):",
        "",
        "| backend | generate (setup) | load (setup) | run_cycle | returns file (setup) | ingest | raw insert "
        "| first mailers | events by run_cycle | returns ingested | events by ingest | avg detail chars |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['generate_s']:.1f} | {r['load_s']:.1f} | {r['cycle_s']:.1f} "
            f"| {r['returns_gen_s']:.1f} | {r['ingest_s']:.1f} | {r['raw_s']:.1f} | {r['cases']:,} "
            f"| {r['cycle_events']:,} | {r['returns']:,} | {r['ingest_events']:,} | {r['avg_detail_chars']:,.0f} |")
    lines += [
        "",
        "All rows the cycle wrote (inserts and updates, every table), against the same raw rate:",
        "",
        "| backend | events | documents | cases inserted | case updates | beneficiary updates | rows written "
        "| events share | rows/s | rows/s ÷ raw rows/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        w = r["writes"]
        lines.append(
            f"| {r['backend']} | {w['events']:,} | {w['documents']:,} | {w['case_inserts']:,} | {w['case_updates']:,} "
            f"| {w['beneficiary_updates']:,} | {r['rows_written']:,} | {w['events'] / r['rows_written']:.0%} "
            f"| {r['rows_per_s']:,.0f} | {r['rows_ratio']:.2f} |")
    lines += [
        "",
        "cases/s = first-mailer cases selected / cycle seconds. The population is `generate_frame(count, seed=7)` "
        "with every diary month set due at 2026-01 and profiles L, M and H selected; the ~1 % foreign (PC-8) "
        "and ~0.1 % deceased beneficiaries are excluded by selection as the policy says. Peak RSS is the "
        "child process that ran the backend (population dicts, selected rows and the cycle).",
        "",
    ]
    for r in results:
        lines.append(f"- {r['backend']}: 1-minute load average {r['loadavg_before']:.1f} before the cycle, "
                     f"{r['loadavg_after']:.1f} after the ingest (2 cores; above ~1.2 something else was running)")
    for r in results:
        if r.get("workaround"):
            lines.append(f"- {r['backend']}: **bench-only schema workaround** `{r['workaround']}`: the schema "
                         "declares `cases.alert_reviewer` as VARCHAR(8) but intake writes `DE/DEC/DC` (9 characters), "
                         "which PostgreSQL refuses (`value too long for type character varying(8)`); SQLite does "
                         "not enforce the length. Without it the PostgreSQL ingest fails.")
    for r in results:
        lines.append(f"- {r['backend']}: cycle counts {json.dumps(r['cycle_counts'], sort_keys=True)}; "
                     f"ingest counts {json.dumps(r['ingest']['counts'], sort_keys=True)}")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=20_000)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--pg-url", default=DEFAULT_PG)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--profile", type=Path, default=None, help="write cProfile stats of run_cycle and ingest here")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--child-json", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for b in backends:
        if b not in ("sqlite", "postgresql"):
            ap.error(f"unknown backend {b!r}")

    if args.child_json is not None:  # one backend, in this process
        (b,) = backends
        result = run_backend(b, args.count, args.pg_url, args.seed, args.profile)
        args.child_json.write_text(json.dumps(result, default=str), encoding="utf-8")
        return 0

    command = ".venv/bin/python -m bench.bench_lifecycle " + " ".join(argv if argv is not None else sys.argv[1:])
    results = []
    revision = source_revision()
    with tempfile.TemporaryDirectory(prefix="cdrflow-bench-res-") as tmp:
        for b in backends:
            console.print(f"[bold]{b}[/bold]: {args.count:,} beneficiaries")
            js = Path(tmp) / f"{b}.json"
            child = [sys.executable, "-m", "bench.bench_lifecycle", "--count", str(args.count), "--backends", b,
                     "--pg-url", args.pg_url, "--seed", str(args.seed), "--child-json", str(js)]
            if args.profile is not None:
                child += ["--profile", str(args.profile)]
            rc = subprocess.run(child, check=False).returncode
            if rc != 0:
                console.print(f"[red]{b} failed (exit {rc})[/red]")
                return rc
            results.append(json.loads(js.read_text(encoding="utf-8")))
    mach = machine()
    mach["revision"] = revision
    text_md = report(results, command, mach)
    if args.out.exists():  # hand-written analysis below the marker survives a rerun
        old = args.out.read_text(encoding="utf-8")
        if NOTES_MARKER in old:
            text_md += "\n" + old[old.index(NOTES_MARKER):]
    args.out.write_text(text_md, encoding="utf-8")
    print(text_md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
