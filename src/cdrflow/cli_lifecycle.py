"""CLI verbs for the DCF and the mailer lifecycle: db, population, cycle, ingest, review, case, documents.

Every verb takes ``--db URL`` (else env ``CDRFLOW_DATABASE_URL``, else ``sqlite:///cdrflow.db``).
Errors a user can fix exit with code 2 and one line that names the record or field.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

out = Console()
err = Console(stderr=True)

DbOpt = Annotated[str | None, typer.Option("--db", help="database URL (default: $CDRFLOW_DATABASE_URL or "
                                                        "sqlite:///cdrflow.db)")]
AsOpt = Annotated[str, typer.Option("--as", help="acting user and role, NAME:ROLE (e.g. jsmith:DE)")]
OnOpt = Annotated[str | None, typer.Option("--on", help="business date of the action (default today)")]
VersionOpt = Annotated[int | None, typer.Option("--version", help="case version you read (conflict check)")]
PcTableOpt = Annotated[Path | None, typer.Option("--pc-ssn-table", help="the site's GN 01070.245 PC 1-6 table (YAML); "
                                                 "takes precedence over the shipped public chart")]

db_app = typer.Typer(help="Create and migrate the DCF database.", no_args_is_help=True)
population_app = typer.Typer(help="Beneficiaries: import or generate selection and profile data.",
                             no_args_is_help=True)
review_app = typer.Typer(help="PC review (DI 40502.001G, H, I, J); every action takes --as NAME:ROLE.",
                         no_args_is_help=True)

T = TypeVar("T")


def _date(text: str | None, name: str) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        err.print(f"error: {name}: {text!r} is not a date YYYY-MM-DD")
        raise typer.Exit(2) from None


ALLOW_SUPERUSER = {"on": False}
"""``cdrflow --allow-superuser``: set by the root command for this invocation (throwaway databases only)."""


def _fail(message: str) -> typer.Exit:
    """Print one ``error:`` line (never wrapped) and return the exit to raise."""
    err.print(f"error: {message}", soft_wrap=True, markup=False, highlight=False)
    return typer.Exit(2)


def _store(db: str | None, *, migrate: bool = False) -> Any:
    from cdrflow.dcf.db import StoreNotReady, check_role, make_engine, require_current, upgrade
    from cdrflow.dcf.store import Store

    try:
        engine = make_engine(db)
    except ValueError as exc:
        err.print(f"error: --db: {exc}")
        raise typer.Exit(2) from None
    try:
        check_role(engine, allow_superuser=ALLOW_SUPERUSER["on"])
        if migrate:
            upgrade(engine)
        else:
            require_current(engine)
    except StoreNotReady as exc:
        raise _fail(str(exc)) from None
    return Store(engine)


def _pc_table(path: Path | None) -> None:
    from cdrflow.policy.mailer.jurisdiction import use_ssn_table

    p = path or (Path(os.environ["CDRFLOW_PC_SSN_TABLE"]) if os.environ.get("CDRFLOW_PC_SSN_TABLE") else None)
    if p is not None:
        use_ssn_table(p)


@contextmanager
def _user_errors() -> Iterator[None]:
    from cdrflow.dcf.store import StoreError
    from cdrflow.engine.errors import InputError, PolicyError

    try:
        yield
    except (StoreError, InputError, PolicyError, ValueError) as exc:
        err.print(f"error: {type(exc).__name__}: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def progress_bar() -> Progress:
    """The progress bar every long command shows (on stderr, so stdout stays the result)."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err)


def _actor(text: str) -> Any:
    from cdrflow.dcf.store import Actor

    try:
        return Actor.parse(text)
    except ValueError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(2) from None


# ---- db ------------------------------------------------------------------------------------------

@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None) -> None:
    """Create the tables or migrate them to the latest revision (Alembic).

    On PostgreSQL this runs as the schema owner (`cdrflow db roles`), and re-applies the application
    role's grants afterwards.
    """
    from cdrflow.dcf.db import StoreNotReady, check_role, make_engine, resolve_url, upgrade

    engine = make_engine(db)
    try:
        check_role(engine, allow_superuser=ALLOW_SUPERUSER["on"], owner_command=True)
        rev = upgrade(engine)
    except StoreNotReady as exc:
        raise _fail(str(exc)) from None
    out.print(f"{resolve_url(db)}: at revision {rev}")


@db_app.command("roles")
def db_roles(
    owner: Annotated[str, typer.Option("--owner", help="the role that owns the schema and runs `db upgrade`")],
    app_role: Annotated[str, typer.Option("--app", help="the role the application connects as")],
    schema: Annotated[str, typer.Option("--schema", help="the DCF's schema")] = "cdrflow",
    db: DbOpt = None,
) -> None:
    """PostgreSQL, run by an administrator: create the owner and application roles (idempotent).

    The owner owns SCHEMA (created, or taken over with everything in it); the application role gets
    USAGE on it and, on each table, only what cdrflow.dcf.roles.POLICY gives it. Both roles' search path
    in this database becomes SCHEMA. Prints what the application role may do. Passwords are not set here.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from cdrflow.dcf import roles
    from cdrflow.dcf.db import make_engine, resolve_url

    if make_url(resolve_url(db)).get_backend_name() != "postgresql":  # before make_engine creates a SQLite file
        raise _fail("`cdrflow db roles` is for PostgreSQL; on SQLite whoever can write the file owns the DCF")
    engine = make_engine(db)
    try:
        with engine.begin() as conn:
            report = roles.setup(conn, owner=owner, app=app_role, schema=schema)
    except roles.RoleError as exc:
        raise _fail(str(exc)) from None
    except DBAPIError as exc:
        raise _fail(str(exc.orig or exc).splitlines()[0]) from None
    finally:
        engine.dispose()
    for stmt in report.statements:
        if not stmt.startswith(("REVOKE ALL ON", "GRANT ", "COMMENT")) or " SCHEMA " in stmt or " DATABASE " in stmt:
            out.print(stmt + ";", soft_wrap=True, markup=False, highlight=False)
    out.print(f"{app_role} may, on the tables of schema {schema} ({len(report.tables)}):", markup=False,
              highlight=False)
    for line in roles.describe(report):
        out.print("  " + line, soft_wrap=True, markup=False, highlight=False)
    out.print(f"next: cdrflow db upgrade as {owner}; run cdrflow as {app_role}", markup=False, highlight=False)


@db_app.command("current")
def db_current(db: DbOpt = None) -> None:
    """Show the database's revision and the code's."""
    from cdrflow.dcf.db import current_revision, head_revision, make_engine

    e = make_engine(db)
    out.print(f"database {current_revision(e) or 'none'}; code head {head_revision(e)}")


# ---- population -----------------------------------------------------------------------------------

@population_app.command("import")
def population_import(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet; columns in docs/population.md")],
    rejects: Annotated[Path | None, typer.Option(help="reject file (default FILE.rejects.jsonl)")] = None,
    as_: Annotated[str, typer.Option("--as", help="who imports, NAME:SYSTEM (a system feed or an administrator); "
                                                  "recorded on every change")] = "population-import:SYSTEM",
    on: OnOpt = None,
    db: DbOpt = None,
) -> None:
    """Import beneficiaries; bad rows go to the reject file with the row, field and reason.

    Every changed beneficiary gets a BENEFICIARY DATA CHANGED event naming the importer and each field's old
    and new value; a change that moves a diary or touches an integrity-flipped case's beneficiary is flagged.
    """
    from cdrflow.population.io import read_population, write_rejects
    from cdrflow.safeio import file_sha256
    from cdrflow.workflow.population import load

    actor = _actor(as_)
    day = _date(on, "--on")
    rej = rejects or file.with_suffix(file.suffix + ".rejects.jsonl")
    _no_overwrite({"FILE": file}, {"--rejects": rej}, db)
    store = _store(db, migrate=True)
    try:
        rows, bad = read_population(file)
        source = f"{file.name} sha256:{file_sha256(file)}"
    except (ValueError, OSError) as exc:
        raise _fail(f"{file}: {exc}") from None
    with _user_errors(), progress_bar() as prog:
        task = prog.add_task("loading", total=len(rows))
        counts = load(store, rows, actor=actor, source=source, on=day, progress=lambda n: prog.advance(task, n))
    write_rejects(bad, rej)
    out.print(f"read {len(rows) + len(bad):,} = loaded {len(rows):,} ({dict(counts)}) + rejected {len(bad):,} -> {rej}")
    if counts.get("flagged"):
        out.print(f"[yellow]flagged {counts['flagged']:,} change(s) that move a diary or touch an integrity-flipped "
                  "case's beneficiary: `cdrflow case SSN` shows each[/]")


@population_app.command("generate")
def population_generate(
    count: Annotated[int, typer.Option(help="number of beneficiaries")] = 20000,
    seed: Annotated[int, typer.Option()] = 7,
    as_of: Annotated[str, typer.Option("--as-of", help="population date")] = "2026-01-01",
    out_file: Annotated[Path | None, typer.Option("--out", help="also write CSV/Parquet")] = None,
    db: DbOpt = None,
) -> None:
    """Generate a synthetic, realistic population and load it into the DCF."""
    from cdrflow.dcf.store import Actor
    from cdrflow.population.generate import generate, write_population
    from cdrflow.workflow.population import load

    rows = generate(count, seed=seed, as_of=_date(as_of, "--as-of"))
    if out_file is not None:
        write_population(rows, out_file)
    store = _store(db, migrate=True)
    with progress_bar() as prog:
        task = prog.add_task("loading", total=len(rows))
        counts = load(store, rows, actor=Actor("population-generate", "SYSTEM"), source=f"synthetic, seed {seed}",
                      progress=lambda n: prog.advance(task, n))
    out.print(f"generated {len(rows):,} beneficiaries (seed {seed}): {dict(counts)}")


# ---- cycle / ingest --------------------------------------------------------------------------------

def cycle(
    as_of: Annotated[str, typer.Option("--as-of", help="selection run date YYYY-MM-DD")],
    profiles: Annotated[str | None, typer.Option(help="profiles selected for mailers, e.g. L,M (default: "
                                                       "parameter mailer_profiles)")] = None,
    titles: Annotated[str | None, typer.Option(help="limit to titles, e.g. T16")] = None,
    print_file: Annotated[Path | None, typer.Option("--print-file", help="contractor print file (JSONL)")] = None,
    pc_ssn_table: PcTableOpt = None,
    db: DbOpt = None,
) -> None:
    """Run a mailer selection cycle (DI 40502.001C, G.6): first and second mailers, nonresponders, follow-ups."""
    from cdrflow.workflow.cycle import run_cycle

    _pc_table(pc_ssn_table)
    day = _date(as_of, "--as-of")
    pf = print_file or Path(f"print-{day}.jsonl")
    _no_overwrite({}, {"--print-file": pf}, db)
    store = _store(db)
    with _user_errors(), progress_bar() as prog:
        tasks: dict[str, Any] = {}

        def tick(what: str, n: int) -> None:
            if what not in tasks:
                tasks[what] = prog.add_task(what, total=None)
            prog.advance(tasks[what], n)

        res = run_cycle(store, day, profiles=profiles.split(",") if profiles else None,
                        titles=titles.split(",") if titles else None, print_file=pf, progress=tick)
    t = Table(title=f"Selection run {day}")
    t.add_column("what")
    t.add_column("count", justify="right")
    for k, v in sorted(res.counts.items()):
        t.add_row(k, f"{v:,}")
    out.print(t)
    for g, why in res.skipped_groups.items():
        out.print(f"[yellow]{g} not run[/]: {why}")
    if res.counts.get("held_no_jurisdiction"):
        out.print("[yellow]held: PC 1-6 cases whose SSN area number is in no loaded table (the shipped 1985 chart "
                  "is partial); load the site's GN 01070.245 table with --pc-ssn-table or CDRFLOW_PC_SSN_TABLE[/]")
    out.print(f"print file: {pf} ({res.print_records:,} mailers, three scanlines each)")


def ingest(
    file: Annotated[Path, typer.Argument(help="returned mailers, JSONL or Parquet")],
    as_of: Annotated[str, typer.Option("--as-of", help="date WBDOC received the file")],
    rejects: Annotated[Path | None, typer.Option(help="reject file (default FILE.rejects.jsonl)")] = None,
    reingest: Annotated[bool, typer.Option("--reingest", help="take a file already ingested under another "
                                           "--as-of date again (needs --reason; logged with the run)")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="why the same file is ingested again "
                                               "(with --reingest)")] = None,
    pc_ssn_table: PcTableOpt = None,
    db: DbOpt = None,
) -> None:
    """WBDOC intake and DCDRS decision logic (DI 40502.001E, F) for a file of returned mailers.

    Every record is processed, skipped (already ingested) or rejected with its line, field and reason.
    Exit 2: the file or an option cannot be used (nothing written); exit 3: another run is ingesting the
    same file now (nothing written; rerun later, it is safe).
    """
    from cdrflow.batch.files import UnreadableFile, count_records
    from cdrflow.dcf.limits import characters_problem
    from cdrflow.dcf.store import StoreError
    from cdrflow.workflow.intake import ingest as run
    from cdrflow.workflow.intake import write_rejects
    from cdrflow.workflow.runs import FileHeld

    _pc_table(pc_ssn_table)
    day = _date(as_of, "--as-of")
    if reason is not None and not reingest:
        raise _fail("--reason goes with --reingest")
    if reingest:
        why = characters_problem(reason, single_line=True) if reason else None
        if not reason or not reason.strip() or why is not None or len(reason) > 500:
            raise _fail("--reingest needs --reason TEXT: one line (at most 500 characters) saying why the same "
                        "file is ingested again; it is logged with the run")
    if not file.exists():
        raise _fail(f"{file}: no such file")
    rej = rejects or file.with_suffix(file.suffix + ".rejects.jsonl")
    _no_overwrite({"FILE": file}, {"--rejects": rej}, db)
    store = _store(db)
    try:
        with progress_bar() as prog:
            total = count_records(file)
            tasks: list[Any] = []

            def tick(n: int) -> None:  # the bar appears with the first chunk, after the file's checks
                if not tasks:
                    tasks.append(prog.add_task("ingesting", total=total))
                prog.advance(tasks[0], n)

            res = run(store, file, day, progress=tick, reingest_reason=reason if reingest else None,
                      operator=_operator())
    except FileHeld as exc:
        err.print(f"error: {exc}", soft_wrap=True, markup=False, highlight=False)
        raise typer.Exit(3) from None
    except (StoreError, UnreadableFile, ValueError) as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:  # the file went away or became unreadable during the run
        raise _fail(f"{file}: cannot be read ({exc.strerror or exc}); what was committed stays, a rerun is "
                    "safe") from None
    write_rejects(res.rejects, rej)
    t = Table(title=f"Intake of {file.name}")
    t.add_column("how it ended")
    t.add_column("count", justify="right")
    for k, v in sorted(res.counts.items()):
        if k.startswith("end:"):
            t.add_row(k[4:], f"{v:,}")
    out.print(t)
    if res.override is not None:
        out.print(f"re-ingest override logged with run {res.run_id} by {res.override['operator']}: "
                  f"{res.override['reason']} (earlier receipt dates {', '.join(res.override['earlier_as_of'])})",
                  markup=False, highlight=False, soft_wrap=True)
    if res.closed_runs:
        out.print(f"closed the unfinished run(s) {', '.join(map(str, res.closed_runs))} of this file: this run "
                  "completed them", markup=False, highlight=False)
    ok = "[green]reconciled[/]" if res.reconciles() else "[red]DOES NOT RECONCILE[/]"
    out.print(f"read {res.read:,} = processed {res.processed:,} + already ingested {res.skipped:,} + "
              f"rejected {res.rejected:,} ({rej})  {ok}", soft_wrap=True)
    if not res.reconciles():
        raise typer.Exit(1)


def _operator() -> str:
    """Who runs this command, as the operating system names them (logged with an override)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def _sqlite_file(db: str | None) -> Path | None:
    from sqlalchemy.engine import make_url

    from cdrflow.dcf.db import resolve_url

    try:
        u = make_url(resolve_url(db))
    except Exception:  # a bad URL is reported by _store
        return None
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _no_overwrite(inputs: dict[str, Path | None], outputs: dict[str, Path | None], db: str | None = None) -> None:
    """Exit 2 when an output path is an input (or the SQLite database, or another output): before anything
    is opened for writing (interpretations §73)."""
    from cdrflow.safeio import SamePathError, refuse_overwrite

    try:
        refuse_overwrite({**inputs, "the database": _sqlite_file(db)}, outputs)
    except SamePathError as exc:
        raise _fail(str(exc)) from None


def runs(
    all_: Annotated[bool, typer.Option("--all", help="every intake run, not only the unfinished ones")] = False,
    db: DbOpt = None,
) -> None:
    """Intake runs that did not finish (a killed or failed `cdrflow ingest`), newest first.

    Each is `running` (a live process holds its file now) or `unfinished` (stopped): rerun
    `cdrflow ingest FILE --as-of DATE` for it; the rerun skips what was committed, finishes the rest
    and closes the run.
    """
    from cdrflow.workflow import runs as r

    rows = _run(lambda: r.listing(_store(db), everything=all_))
    for row in rows:  # one line per run (a table would fold the file names)
        cnt, ov = row["counts"], row["override"]
        parts = [f"run {row['run_id']}: {row['status']}", f"received {row['as_of']}",
                 f"{row['file_name']} (sha256 {row['file_sha256'][:12]})",
                 f"started {row['started_at']:%Y-%m-%d %H:%M:%S}"]
        if row["finished_at"] is not None:
            parts.append(f"finished {row['finished_at']:%Y-%m-%d %H:%M:%S}")
        if "read" in cnt:
            parts.append(f"read {cnt['read']:,} = processed {cnt['processed']:,} + already ingested "
                         f"{cnt['skipped_already_ingested']:,} + rejected {cnt['rejected']:,}")
        if ov:
            parts.append(f"re-ingest override by {ov['operator']}: {ov['reason']}")
        out.print("; ".join(parts), markup=False, highlight=False, soft_wrap=True)
    stopped = [row for row in rows if row["status"] == "unfinished"]
    if not rows:
        out.print("no unfinished intake runs" if not all_ else "no intake runs")
    for row in stopped:
        out.print(f"run {row['run_id']} did not finish: rerun `cdrflow ingest {row['file_name']} --as-of "
                  f"{row['as_of']}` (it skips what was committed and closes the run)", markup=False,
                  highlight=False, soft_wrap=True)


# ---- review ----------------------------------------------------------------------------------------

def _run(fn: Callable[[], T]) -> T:
    with _user_errors():
        return fn()


@review_app.command("queue")
def review_queue(stage: Annotated[str | None, typer.Option()] = None, pc: Annotated[int | None, typer.Option()] = None,
                 limit: int = 50, db: DbOpt = None) -> None:
    """Open PC reviews and nonresponders, oldest first."""
    from cdrflow.workflow.history import queue

    rows = queue(_store(db), stage=stage, pc=pc, limit=limit)
    t = Table(title="PC review queue")
    for col in ("case", "ssn", "title", "profile", "pc", "state", "stage", "alert", "since", "version"):
        t.add_column(col)
    for r in rows:
        alert = f"{r['alert_type'] or ''} {r['alert_message'] or ''}".strip()
        t.add_row(r["case_id"], r["ssn"], r["title"], r["profile"], str(r["pc"]), r["state"], r["review_stage"] or "",
                  alert, r["last_event_date"], str(r["version"]))
    out.print(t)


@review_app.command("show")
def review_show(case_id: str, db: DbOpt = None) -> None:
    """The case, its alert, and the reviewer guide's recommendation (J.2.d)."""
    from cdrflow.workflow.review import guide

    store = _store(db)
    with _user_errors(), store.read() as tx:
        case = tx.require_case(case_id)
    g = guide(store, case_id)
    # G.7: the integrity sample is "essentially invisible to the PC reviewer": the reviewer's view leaves out
    # the sampler's flags (`cdrflow case` shows an auditor the whole history).
    shown = {k: v for k, v in case.items() if v is not None and not k.startswith("integrity_")}
    out.print(Panel.fit("\n".join(f"{k}: {v}" for k, v in shown.items()), title=case_id))
    p = g.get("profile")
    if p:
        where = {"MAILER_OR_FACSIMILE": "the mailer or facsimile (scanline 2, field 3)",
                 "PROFILE_SHEET": "the profile sheet", "DCF": "the DCF"}[p["source"]]
        out.print(f"profile (DI 40502.001J.2.d): [bold]{p['word']}[/] from {where}"
                  + (" — [bold]conflict[/]: the mailer or facsimile code has priority" if p["conflict"] else ""))
        for d in p["disagreements"]:
            out.print(f"  {d}")
    if g.get("bet_dt_annotation"):
        out.print(f"BET/DT annotation (DI 40502.001J.2.c): {g['bet_dt_annotation']}")
    out.print(f"reviewer guide (DI 40502.001J.2.d) recommends: [bold]{g.get('recommended_action')}[/]"
              + (" — return to BET/DT after DE review" if g.get("return_to_bet_dt") else ""))
    if g.get("error"):
        out.print(f"  ({g['error']})")
    for p in g.get("dircon_prompts") or []:
        out.print(f"  DIRCON: {p}")


@review_app.command("associate")
def review_associate(case_id: str, as_: AsOpt, on: OnOpt = None, version: VersionOpt = None,
                     db: DbOpt = None) -> None:
    """DSE/FLC: associate the actual mailer with the PSC MAILER alert output (E.4.b)."""
    from cdrflow.workflow import review

    nxt = _run(lambda: review.associate(_store(db), case_id, _actor(as_), _date(on, "--on"), expected_version=version))
    out.print(f"{case_id}: mailer associated; next stage {nxt}")


@review_app.command("translation")
def review_translation(case_id: str, as_: AsOpt, done: Annotated[bool, typer.Option("--done")] = False,
                       work_reported: Annotated[bool, typer.Option("--work-reported")] = False, on: OnOpt = None,
                       version: VersionOpt = None, db: DbOpt = None) -> None:
    """BET/DT: refer to a translator, or (--done) record the translation and route the case (G.4.a, G.5)."""
    from cdrflow.workflow import review

    nxt = _run(lambda: review.translation(_store(db), case_id, _actor(as_), _date(on, "--on"), done=done,
                                          work_reported=work_reported, expected_version=version))
    out.print(f"{case_id}: stage {nxt}")


@review_app.command("work")
def review_work(case_id: str, as_: AsOpt, year: Annotated[int, typer.Option()],
                amount: Annotated[float, typer.Option()],
                period: Annotated[str, typer.Option(help="WEEKLY, MONTHLY or ANNUAL")] = "MONTHLY",
                posted: Annotated[bool, typer.Option("--posted")] = False,
                earnings_known: Annotated[bool | None, typer.Option("--earnings-known/--earnings-unknown")] = None,
                folder: Annotated[bool, typer.Option("--folder", help="Title II: worked with the claim folder")]
                = False,
                resolved: Annotated[bool, typer.Option("--resolved", help="with --folder: the work and earnings are "
                                                                          "already resolved (WORK RESOLVED)")] = False,
                on: OnOpt = None, version: VersionOpt = None, db: DbOpt = None) -> None:
    """BET/DT: develop reported work with the earnings-tolerance calc (J.2.c), with or without the folder."""
    from cdrflow.workflow import review

    d = _run(lambda: review.work(_store(db), case_id, _actor(as_), _date(on, "--on"), year=year, amount=amount,
                                 period=period.upper(), posted=posted,  # type: ignore[arg-type]
                                 earnings_known=earnings_known, folder=folder, resolved=resolved,
                                 expected_version=version))
    out.print(f"{case_id}: {d['action']}; annotate \"{d['annotation']}\""
              + ("; SSA-559 to the DE/DEC/DC prepared" if d["ssa_559"] else ""))
    for s in d["next_steps"]:
        out.print(f"  - {s}")


@review_app.command("decide")
def review_decide(case_id: str, as_: AsOpt,
                  full_cdr: Annotated[bool, typer.Option("--full-cdr/--defer", help="DO CDR or defer")],
                  vr: Annotated[bool, typer.Option("--vr-requested")] = False,
                  remarks: Annotated[str | None, typer.Option()] = None,
                  medical_remark: Annotated[str | None, typer.Option(
                      "--medical-remark", help="deferral with blank DCF medical data: your words for the REMARK "
                                               "(J.3.a NOTE)")] = None,
                  on: OnOpt = None, version: VersionOpt = None, db: DbOpt = None) -> None:
    """DE/DEC/DC: enter the decision as IPCA event 2-5 (G.6); integrity sampling follows (G.7)."""
    from cdrflow.workflow import review

    r = _run(lambda: review.decide(_store(db), case_id, _actor(as_), _date(on, "--on"), full_cdr=full_cdr,
                                   vr_requested=vr, remarks=remarks, medical_remark=medical_remark,
                                   expected_version=version))
    # G.7: integrity sampling is "essentially invisible to the PC reviewer": the reviewer sees the input
    # they made; `cdrflow case` shows an auditor the whole history.
    out.print(f"{case_id}: IPCA {r['ipca_event']} {r['label']} recorded "
              f"(reviewer guide recommended {r['recommendation']})")


@review_app.command("return-to-bet")
def review_return(case_id: str, as_: AsOpt, reason: Annotated[str, typer.Option()] = "EARNINGS UNDER TOLERANCE LEVEL",
                  on: OnOpt = None, version: VersionOpt = None, db: DbOpt = None) -> None:
    """DE/DEC/DC: return the case to the BET/DT (J.3.a NOTE)."""
    from cdrflow.workflow import review

    _run(lambda: review.return_to_bet_dt(_store(db), case_id, _actor(as_), _date(on, "--on"), reason=reason,
                                         expected_version=version))
    out.print(f"{case_id}: returned to BET/DT")


@review_app.command("dircon")
def review_dircon(case_id: str, as_: AsOpt,
                  result: Annotated[str, typer.Option(help="BUSY, NO_ANSWER, REACHED, REFUSED, NOT_LOCATED")],
                  on: OnOpt = None, version: VersionOpt = None, db: DbOpt = None) -> None:
    """A DIRCON attempt: on a nonresponder (I; the dircon-outcome calc says what follows) or, during a PC
    review, for unanswered questions (J.1; recorded, the review goes on)."""
    from cdrflow.workflow import review

    r = _run(lambda: review.dircon(_store(db), case_id, _actor(as_), _date(on, "--on"),
                                   result=result.upper(), expected_version=version))  # type: ignore[arg-type]
    out.print(f"{case_id}: {r['outcome']} ({r['counted_attempts']} counted attempts)")


@review_app.command("referral-done")
def review_referral_done(case_id: str, as_: AsOpt, note: Annotated[str, typer.Option()], on: OnOpt = None,
                         version: VersionOpt = None, db: DbOpt = None) -> None:
    """E.2: record that the PC/FO took the necessary action on a WBDOC referral."""
    from cdrflow.workflow import review

    _run(lambda: review.referral_done(_store(db), case_id, _actor(as_), _date(on, "--on"), note=note,
                                      expected_version=version))
    out.print(f"{case_id}: referral action recorded")


@review_app.command("undeliverable")
def review_undeliverable(case_id: str, as_: AsOpt,
                         new_address: Annotated[str | None, typer.Option(help="JSON: address_line, city, state, "
                                                                                 "zip, country")] = None,
                         on: OnOpt = None, version: VersionOpt = None, db: DbOpt = None) -> None:
    """H.2: a hard-paper mailer returned undeliverable to the PC (IPCA 7, then 6 or a resend)."""
    from cdrflow.workflow import review

    try:
        addr = json.loads(new_address) if new_address else None
    except (ValueError, RecursionError) as exc:
        err.print(f"error: --new-address: not a JSON object ({str(exc)[:200]})", markup=False)
        raise typer.Exit(2) from None
    if addr is not None and not isinstance(addr, dict):
        err.print("error: --new-address: expected a JSON object with address_line, city, state, zip, country",
                  markup=False)
        raise typer.Exit(2)
    state = _run(lambda: review.undeliverable(_store(db), case_id, _actor(as_), _date(on, "--on"), new_address=addr,
                                              expected_version=version))
    out.print(f"{case_id}: {state}")


@review_app.command("notice-undeliverable")
def review_notice_undeliverable(case_id: str, as_: AsOpt, on: OnOpt = None, db: DbOpt = None) -> None:
    """J.3.c: a deferral notice the USPS returned as undeliverable: recorded and securely destroyed, never re-sent."""
    from cdrflow.workflow import review

    _run(lambda: review.notice_undeliverable(_store(db), case_id, _actor(as_), _date(on, "--on")))
    out.print(f"{case_id}: deferral notice returned undeliverable; securely destroyed, not re-sent (J.3.c)")


@review_app.command("dispose")
def review_dispose(case_id: str, as_: AsOpt, document: Annotated[str, typer.Option()],
                   disposition: Annotated[str, typer.Option(help="DESTROYED, CLAIMS_FOLDER, OTHER_COMPONENT")],
                   note: Annotated[str | None, typer.Option()] = None, on: OnOpt = None, db: DbOpt = None) -> None:
    """J.3.d: record the disposal of a mailer, facsimile, attachment, alert or profile sheet."""
    from cdrflow.workflow import review

    _run(lambda: review.dispose(_store(db), case_id, _actor(as_), _date(on, "--on"), document=document,
                                disposition=disposition.upper(), note=note))  # type: ignore[arg-type]
    out.print(f"{case_id}: {document} {disposition}")


# ---- case history / documents ---------------------------------------------------------------------

def case(ssn: str, as_json: Annotated[bool, typer.Option("--json")] = False, db: DbOpt = None) -> None:
    """QCDR-style event history for an SSN (dates, titles, actors) and the current state."""
    from cdrflow.workflow.history import case_history

    h = _run(lambda: case_history(_store(db), ssn))
    if as_json:
        out.print_json(json.dumps(h, default=str))
        return
    b = h["beneficiary"]
    out.print(Panel.fit(f"{b['name']}  SSN {ssn[:3]}-{ssn[3:5]}-{ssn[5:]} {b['bic_or_id']}  {b['title']}  "
                        f"profile {b['profile']}  diary {b['diary_month']}"
                        + (f"  SSI diary {b['ssi_diary_month']}" if b.get("ssi_diary_month") else ""),
                        title="beneficiary"))
    from rich.markup import escape

    from cdrflow.workflow.population import CHANGED, FLAG_TEXT

    t = Table(title="DCF events (QCDR)")
    for col in ("date", "event", "code", "by", "case", "policy", "flag"):
        t.add_column(col)
    changes = []
    for e in h["events"]:
        d = e["detail"] if isinstance(e["detail"], dict) else {}
        flags = "; ".join(FLAG_TEXT.get(f, f) for f in d.get("flags") or [])
        t.add_row(e["event_date"], e["event_type"], e["code"] or "", f"{e['actor']}:{e['actor_role']}",
                  e["case_id"] or "", "yes" if e["policy_version"] else "", f"[bold red]{flags}[/]" if flags else "")
        if e["event_type"].endswith(CHANGED):
            changes.append((e, d, flags))
    out.print(t)
    # Every change to the beneficiary's data: who, when, which field from what to what (population imports).
    for e, d, flags in changes:
        what = "; ".join(f"{k} {v[0]!s} -> {v[1]!s}" for k, v in (d.get("changes") or {}).items())
        out.print(f"{e['event_date']} {escape(e['actor'])}:{e['actor_role']} changed {escape(what)}"
                  + (f" [bold red]FLAGGED: {flags}[/]" if flags else ""), soft_wrap=True)
    for cs in h["cases"]:
        out.print(f"case {cs['case_id']}: {cs['state']}"
                  + (f" / {cs['review_stage']}" if cs["review_stage"] else "")
                  + (f"  outcome {cs['outcome']}" if cs["outcome"] else "")
                  + ("  [bold red]INTEGRITY FLIPPED[/]" if cs["integrity_flipped"] else "")
                  + f"  (version {cs['version']})")


def documents(case_id: str, out_file: Annotated[Path, typer.Option("--out")] = Path("case.html"),
              db: DbOpt = None) -> None:
    """Render a case's documents (alert, facsimile, profile sheet, notices, referrals) as one HTML page."""
    from cdrflow.documents import render_bundle
    from cdrflow.safeio import write_text
    from cdrflow.workflow.history import document_payloads

    _no_overwrite({}, {"--out": out_file}, db)
    docs = _run(lambda: document_payloads(_store(db), case_id))
    if not docs:
        raise _fail(f"case {case_id} has no documents (yet); nothing was written")
    write_text(out_file, render_bundle(f"Case {case_id}", docs))  # owner-only, renamed into place
    out.print(f"{len(docs)} documents -> {out_file}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(population_app, name="population")
    app.add_typer(review_app, name="review")
    app.command("cycle")(cycle)
    app.command("ingest")(ingest)
    app.command("runs")(runs)
    app.command("case")(case)
    app.command("documents")(documents)
