"""The ``cdrflow`` command line (Typer + Rich)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from cdrflow import cli_dcf as _dcf
from cdrflow import cli_exr as _exr
from cdrflow import cli_lifecycle as _lifecycle
from cdrflow import cli_mpr as _mpr
from cdrflow import cli_people as _people
from cdrflow import cli_review as _review
from cdrflow import cli_simulate as _simulate
from cdrflow.cli_lifecycle import progress_bar
from cdrflow.engine.errors import InputError, PolicyError

EXIT_CODES = ("Exit codes: 0 done; 1 a check found a problem (dcf verify, a file that does not reconcile); "
              "2 an input, option or state cannot be used, or the database cannot be reached or opened (one "
              "error: line naming it); 3 a conflict (another change came first, a file being ingested); 4 not "
              "allowed or not signed in.")


class _Cdrflow(TyperGroup):
    """The root command: every subcommand runs inside :meth:`invoke`, so an environment failure of the
    database (unreachable server, a SQLite file that cannot be opened or read) is one ``error:`` line
    naming the database, exit 2, wherever in a command it happens; never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if not _lifecycle.environment_failure(exc):
                raise
            url = ctx.meta.get(_lifecycle.DB_META) or _lifecycle.settings().database_url
            raise _lifecycle._fail(_lifecycle.database_problem(url, exc)) from None


app = typer.Typer(help="cdrflow: the CDR mailer (DI 40502.001) as cited, executable policy.\n\n" + EXIT_CODES,
                  no_args_is_help=True, cls=_Cdrflow)
tables_app = typer.Typer(help="Inspect, check and export the decision tables.", no_args_is_help=True)
app.add_typer(tables_app, name="tables")
_lifecycle.register(app)
_review.register(app)
_exr.register(app)
_mpr.register(app)
_dcf.register(app)
_people.register(app)
_simulate.register(app)
out = Console()
err = Console(stderr=True)


def _version(value: bool) -> None:
    if not value:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        text = version("cdrflow")
    except PackageNotFoundError:
        text = "unknown (not installed as a package)"
    sys.stdout.write(f"cdrflow {text}\n")
    raise typer.Exit(0)


@app.callback()
def _root(
    ctx: typer.Context,
    allow_superuser: Annotated[bool, typer.Option(
        "--allow-superuser", help="PostgreSQL: run even as a superuser or the schema owner. For throwaway "
                                  "databases only (also env CDRFLOW_ALLOW_SUPERUSER=1); README \"Deploy on "
                                  "PostgreSQL\"")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="print cdrflow's version and exit")] = False,
) -> None:
    """cdrflow: the CDR mailer (DI 40502.001) as cited, executable policy."""
    from pydantic import ValidationError

    from cdrflow.kernel.settings import Settings, problem

    try:  # once per invocation: the environment (CDRFLOW_*), then this command line's options over it
        settings = Settings()
    except ValidationError as exc:
        raise _lifecycle._fail(problem(exc)) from None
    if allow_superuser:
        settings = settings.model_copy(update={"allow_superuser": True})
    ctx.obj = settings


def _registry() -> Any:
    from cdrflow.policy.calcs import REGISTRY

    return REGISTRY


@app.command()
def calc(
    name: Annotated[str | None, typer.Argument(help="calc name, e.g. mailer-decision")] = None,
    payload: Annotated[str | None, typer.Argument(help="one JSON object; read from stdin when omitted")] = None,
    list_: Annotated[bool, typer.Option("--list", help="list the calcs with their citations")] = False,
    schema: Annotated[bool, typer.Option("--schema", help="print the input JSON Schema")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="JSON Lines in on stdin, one answer per line out")] = False,
    pc_ssn_table: Annotated[
        Path | None,
        typer.Option(help="the site's GN 01070.245 area-number table (YAML), before the shipped public chart; "
                          "env CDRFLOW_PC_SSN_TABLE"),
    ] = None,
) -> None:
    """Run a policy computation: one JSON object in, one JSON object out."""
    registry = _registry()
    site_table = _lifecycle.pc_table(pc_ssn_table)  # this run's; given to every answer, kept by nothing
    defaults = {"site_table": site_table} if site_table is not None else None
    if list_:
        t = Table("calc", "citation", "what it answers", box=None)
        for c in registry:
            t.add_row(c.name, c.citation, c.summary)
        out.print(t)
        return
    if name is None:
        err.print("error: calc: give a calc name, or --list")
        raise typer.Exit(2)
    try:
        c = registry[name]
    except InputError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from None
    if schema:
        sys.stdout.write(json.dumps(c.schema(), indent=2) + "\n")
        return
    if jsonl:  # every line is answered, a bad one with {"error": ...}; read as bytes, so bad UTF-8 is one line's
        lines = [payload] if payload is not None else getattr(sys.stdin, "buffer", sys.stdin)
        for answer in registry.run_lines(name, lines, defaults):
            try:
                text = json.dumps(answer)
            except (TypeError, ValueError) as exc:
                text = json.dumps({"error": f"the answer cannot be written as JSON ({exc})"})
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
        return
    from cdrflow.engine.jsonlines import read_line

    raw = payload if payload is not None else getattr(sys.stdin, "buffer", sys.stdin).read()
    data, problem = read_line(raw)  # bad UTF-8, bad JSON, too deep, too long a number: one line, exit 2
    if problem is not None:
        err.print(f"error: (input): {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    try:
        answer = c.run(data, defaults)
    except (InputError, PolicyError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except RecursionError:
        err.print("error: (input): nested too deeply to answer", markup=False)
        raise typer.Exit(2) from None
    sys.stdout.write(json.dumps(answer, indent=2) + "\n")


def _what_if_overrides(pairs: list[str], path: Path | None) -> dict[str, Any]:
    """``--params FILE`` then ``--param NAME=VALUE`` (VALUE is YAML: 800, {monthly: 1200}); exit 2 if malformed."""
    import yaml

    from cdrflow.engine.yamlio import PolicyLoader, load_yaml

    overrides: dict[str, Any] = {}
    if path is not None:
        data = load_yaml(path)
        if not isinstance(data, dict):
            err.print(f"error: --params: {path} must be a mapping NAME: VALUE")
            raise typer.Exit(2)
        overrides.update(data)
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            err.print(f"error: --param: {pair!r} is not NAME=VALUE")
            raise typer.Exit(2)
        overrides[name.strip()] = yaml.load(raw, Loader=PolicyLoader)  # noqa: S506 - PolicyLoader is a SafeLoader
    return overrides


def _show_outcomes(result: Any) -> None:
    from cdrflow.batch.files import outcome_table

    summary = outcome_table(result.decisions)
    t = Table(title="Mailer decisions (DI 40502.001F)", show_lines=False)
    for col in ("outcome", "alert", "message", "count", "percent", ""):
        t.add_column(col, justify="right" if col in ("count", "percent", "message") else "left")
    for row in summary.iter_rows(named=True):
        bar = "█" * max(1, round(row["percent"] / 2)) if row["count"] else ""
        t.add_row(
            row["outcome"],
            row["alert_type"] or ("none: hard-paper SSA-455 (F.2)" if row["outcome"] == "PC_REVIEW" else "-"),
            str(row["alert_message"] or "-"),
            f"{row['count']:,}", f"{row['percent']:.2f}%", f"[cyan]{bar}[/]",
        )
    out.print(t)
    by_outcome = result.decisions.group_by("outcome").agg(pl.len().alias("n")).sort("outcome")
    total = max(result.decided, 1)
    parts = [f"{r['outcome']}: {r['n']:,} ({r['n'] * 100 / total:.1f}%)" for r in by_outcome.iter_rows(named=True)]
    out.print("  ".join(parts))
    out.print(
        f"read {result.read:,} = decided {result.decided:,} + rejected {len(result.rejects):,}"
        + ("  [green]reconciled[/]" if result.reconciles() else "  [red]DOES NOT RECONCILE[/]")
    )


@app.command()
def decide(
    file: Annotated[Path, typer.Argument(help="returned mailers: .jsonl or .parquet")],
    output: Annotated[Path, typer.Option("-o", "--out", help="decisions: .parquet, .csv or .jsonl")] = Path(
        "decisions.parquet"),
    rejects: Annotated[Path | None, typer.Option(help="reject file (default: OUTPUT's name + .rejects.jsonl)")] = None,
    as_of: Annotated[str | None, typer.Option(help="decision date YYYY-MM-DD (default: latest policy)")] = None,
    chunk_size: Annotated[int, typer.Option(help="records per chunk (memory is bounded by the chunk)")] = 200_000,
    param: Annotated[list[str] | None, typer.Option("--param", help="what-if NAME=VALUE (repeatable), e.g. "
                                                    "earnings_threshold_q1b=800")] = None,
    params: Annotated[Path | None, typer.Option("--params", help="what-if YAML file: {NAME: VALUE}")] = None,
    dask: Annotated[str | None, typer.Option("--dask", help="run on a Dask cluster: 'local' or the scheduler's "
                                             "address, e.g. tcp://scheduler:8786 (Parquet input; "
                                             "pip install 'cdrflow[dask]'; see docs/dask.md)")] = None,
) -> None:
    """Decide a file of returned mailers with the DCDRS decision logic (vectorized, streamed in chunks).

    Every record ends up in OUTPUT or in the reject file with its line, field and reason; the run
    prints read N, decided D, rejected R and exits 1 if they do not reconcile, 2 if the input cannot be read.
    """
    import pyarrow as pa

    from cdrflow.batch.files import OUTPUT_FORMATS, decide_stream, model_path_text

    if output.suffix.lower() not in OUTPUT_FORMATS:
        err.print(f"error: --out: {output}: use one of {', '.join(OUTPUT_FORMATS)}")
        raise typer.Exit(2)
    try:
        on = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        err.print(f"error: --as-of: {as_of!r} is not a date YYYY-MM-DD", markup=False, highlight=False)
        raise typer.Exit(2) from None
    rej = rejects or output.with_name(output.stem + ".rejects.jsonl")
    from cdrflow.safeio import SamePathError, refuse_overwrite

    try:  # before anything is opened for writing (interpretations §73)
        refuse_overwrite({"FILE": file}, {"--out": output, "--rejects": rej})
    except SamePathError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    overrides = _what_if_overrides(param or [], params)
    from contextlib import ExitStack

    from cdrflow.policy.mailer.source import what_if

    scope = ExitStack()
    try:
        if overrides:
            scope.enter_context(what_if(overrides))
    except PolicyError as exc:
        err.print(f"error: --param: {exc}")
        raise typer.Exit(2) from None
    if overrides:
        out.print(f"[yellow]what-if[/]: {overrides} (recorded in every row's policy_version; not policy)")
    try:
        size = file.stat().st_size if file.is_file() else None
        if size is None:
            raise IsADirectoryError(f"{file} is not a file")
        total = _record_total(file)
        with scope, progress_bar() as prog:
            task = prog.add_task("deciding", total=total)
            if dask is None:
                summary = decide_stream(file, output, rej, on, chunk_size=chunk_size,
                                        progress=lambda n: prog.advance(task, n))
            else:
                from cdrflow.batch.distributed import decide_dask

                try:
                    summary = decide_dask(file, output, rej, on, address=dask, overrides=overrides or None,
                                          progress=lambda n: prog.advance(task, n))
                except (ImportError, ValueError, RuntimeError) as exc:  # not installed, not Parquet, cluster
                    err.print(f"error: --dask: {str(exc).splitlines()[0]}")
                    raise typer.Exit(2) from None
    except (OSError, UnicodeDecodeError, pl.exceptions.PolarsError, pa.ArrowException) as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        err.print(f"error: {file}: cannot read it ({type(exc).__name__}: {first}); nothing was written",
                  markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    t = Table(title="Mailer decisions (DI 40502.001F)")
    for col in ("outcome", "alert", "message", "count", "percent"):
        t.add_column(col, justify="right" if col in ("count", "percent", "message") else "left")
    total = max(summary.decided, 1)
    for row in summary.counts.sort(["outcome", "alert_type", "alert_message"], nulls_last=False).iter_rows(named=True):
        t.add_row(row["outcome"], row["alert_type"] or "-", str(row["alert_message"] or "-"), f"{row['count']:,}",
                  f"{row['count'] * 100 / total:.2f}%")
    out.print(t)
    ok = "[green]reconciled[/]" if summary.reconciles() else "[red]DOES NOT RECONCILE[/]"
    out.print(f"read {summary.read:,}, decided {summary.decided:,}, rejected {summary.rejected:,}  {ok}")
    out.print(model_path_text(summary.to_model, summary.why), markup=False, highlight=False, soft_wrap=True)
    out.print(f"decisions: {output}  rejects: {rej}")
    if not summary.reconciles():
        raise typer.Exit(1)


def _record_total(file: Path) -> int | None:
    """Records in a Parquet file from its footer (free), for the progress bar; None for JSON Lines,
    which is read once only (the bar then counts without a total)."""
    if file.suffix.lower() != ".parquet":
        return None
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(file).metadata.num_rows)


@app.command()
def compare(
    base: Annotated[Path, typer.Argument(help="decisions of the base run (cdrflow decide -o)")],
    variant: Annotated[Path, typer.Argument(help="decisions of the what-if run")],
    input_file: Annotated[Path | None, typer.Option("--input", help="the returned mailers, for a breakdown by "
                                                                     "profile and title")] = None,
) -> None:
    """How outcomes move between two decision files: counts and percentages, by profile and title."""
    from cdrflow.batch.compare import input_keys, moves, read_decisions

    try:
        a, b = read_decisions(base), read_decisions(variant)
        by = input_keys(input_file) if input_file is not None else None
    except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
        err.print(f"error: {str(exc).splitlines()[0]}")
        raise typer.Exit(2) from None
    table = moves(a, b, by)
    t = Table(title=f"Outcomes: {base.name} -> {variant.name}")
    for col in table.columns:
        t.add_column(col, justify="right" if col in ("count", "percent") else "left")
    for row in table.iter_rows(named=True):
        style = "bold yellow" if row["moved"] else ""
        t.add_row(*(f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v) for v in row.values()),
                  style=style)
    out.print(t)
    moved = int(table.filter(pl.col("moved"))["count"].sum())
    total = int(table["count"].sum())
    out.print(f"{moved:,} of {total:,} records ({moved * 100 / max(total, 1):.2f}%) change outcome")


@app.command()
def demo(
    count: Annotated[int, typer.Option(help="beneficiaries in the synthetic population")] = 20000,
    months: Annotated[int, typer.Option(help="months of selection cycles")] = 24,
    out_dir: Annotated[Path, typer.Option("--out", "-o")] = Path("demo-out"),
    seed: Annotated[int, typer.Option()] = 455,
) -> None:
    """The main job: a fresh SQLite DCF, a synthetic population and 24 months of the mailer lifecycle."""
    import time

    from cdrflow.reports.demo_report import render_demo_report
    from cdrflow.simulate.lifecycle import run_demo

    t0 = time.perf_counter()
    out.print(f"[bold]cdrflow demo[/]: {count:,} beneficiaries, {months} months of cycles, seed {seed} -> {out_dir}/")
    with progress_bar() as prog:
        tasks: dict[str, Any] = {}

        def tick(what: str, n: int, total: int | None) -> None:
            if what not in tasks:
                tasks[what] = prog.add_task(what, total=total)
            prog.advance(tasks[what], n)

        metrics = run_demo(out_dir, count=count, seed=seed, months=months, progress=tick)
    report = render_demo_report(metrics, out_dir / "report.html")
    t = Table(title="The seed's figures beside this run's (numerator / denominator)")
    for col in ("figure", "DI 40502.001 says", "this run", "of (denominator)", "status"):
        t.add_column(col)
    for f in metrics["figures"]:
        num, den = f["numerator"], f["denominator"]
        share = f"{100 * num['count'] / den['count']:.1f}%" if den["count"] else "n/a"
        t.add_row(f["name"], f["seed"], f"[bold]{share}[/] ({num['count']:,} / {den['count']:,})", den["label"],
                  f["status"])
    out.print(t)
    for block in metrics["flow"]:
        if block["id"] in ("sent", "received"):
            total = block["total"]
            out.print(f"{total['label']}: {total['count']:,} = " + " + ".join(
                f"{p.get('short', p['label'])} {p['count']:,}" for p in block["parts"]))
    cost = metrics["cost"]
    out.print(f"cost (B.5): {cost['mailers_processed']:,} completed mailers x $50 = "
              f"${cost['mailers_processed'] * 50:,} vs ${cost['deferrals'] * 750:,}-${cost['deferrals'] * 800:,} "
              f"for full CDRs on the {cost['deferrals']:,} deferred cases")
    bad = [c["label"] for c in metrics["reconciliation"] if c["left"] != sum(n for _, n in c["right"])]
    out.print("reconciliation: " + ("[green]reconciled[/] (every check adds up)" if not bad
                                     else "[red]DOES NOT RECONCILE[/]: " + "; ".join(bad)))
    out.print(f"database {out_dir / 'cdrflow.db'}; report [bold]{report}[/]; {time.perf_counter() - t0:.0f} s")
    people = metrics.get("people") or {}
    if people.get("tokens"):  # each simulated person's token file: act as them on the demo's DCF
        names = ", ".join(people.get("people", [])[:6])
        out.print(f"tokens of the demo's people in {people['tokens']}/ ({names}, ...)", markup=False,
                  highlight=False, soft_wrap=True)
        out.print(f"Try: CDRFLOW_TOKEN_FILE={people['tokens']}/auditor1 cdrflow review queue --db "
                  f"sqlite:///{out_dir / 'cdrflow.db'}   then   cdrflow case CASE_ID (a case id from the queue)",
                  markup=False, highlight=False, soft_wrap=True)


@app.command("sample")
def sample(
    count: Annotated[int, typer.Option(help="number of returned mailers to simulate")] = 20000,
    out_dir: Annotated[Path, typer.Option("--out", "-o")] = Path("demo-out"),
    seed: Annotated[int, typer.Option()] = 455,
) -> None:
    """Generate a sample file of returned mailers, decide it in batch, and show the outcomes (no database)."""
    from cdrflow.batch.files import decide_file, write_result
    from cdrflow.simulate.mailers import write_jsonl

    src = out_dir / "returned-mailers.jsonl"
    out.print(f"[bold]cdrflow sample[/]: simulating {count:,} returned mailers (seed {seed}, 0.5% malformed) -> {src}")
    write_jsonl(src, count, seed=seed, bad_share=0.005)
    with progress_bar() as prog:
        task = prog.add_task("deciding", total=count)
        result = decide_file(src, None, progress=lambda n: prog.advance(task, n))
    paths = write_result(result, out_dir)
    _show_outcomes(result)
    if result.rejects:
        r = result.rejects[0]
        out.print(f"first reject: line {r.line} {r.mailer_id} field [bold]{r.field}[/]: {r.reason}", markup=True)
    out.print(f"decisions: {paths['decisions']} and {paths['decisions_csv']}; rejects: {paths['rejects']}")
    out.print("Explain one: [bold]cdrflow calc mailer-decision[/] < one record  (trace cites every row that fired)")


@tables_app.command("list")
def tables_list() -> None:
    """List the decision tables with their citations and effective dates."""
    from cdrflow.policy.mailer.source import tables

    t = Table("table", "rows", "effective", "citation", box=None)
    for tb in tables().values():
        t.add_row(tb.name, str(len(tb.rules)), tb.effective.isoformat(), tb.citation)
    out.print(t)


@tables_app.command("check")
def tables_check() -> None:
    """Check every table for gaps (uncovered input combinations) and rows that can never fire."""
    from cdrflow.policy.mailer.source import tables

    bad = False
    for tb in tables().values():
        gaps, dead = tb.uncovered(), tb.unreachable_rows()
        status = "[green]ok[/]" if not gaps and not dead else "[red]FAIL[/]"
        out.print(f"{status} {tb.name}: {len(gaps)} gaps, unreachable rows {dead or 'none'}")
        bad = bad or bool(gaps or dead)
    if bad:
        raise typer.Exit(1)


@tables_app.command("dmn")
def tables_dmn(name: Annotated[str, typer.Argument(help="table name")]) -> None:
    """Export a table as DMN 1.3 XML on stdout."""
    from cdrflow.policy.mailer.source import tables

    ts = tables()
    if name not in ts:
        err.print(f"error: table: unknown table {name!r}; known: {', '.join(ts)}")
        raise typer.Exit(2)
    sys.stdout.write(ts[name].to_dmn())


def main() -> None:
    app()


if __name__ == "__main__":
    main()
