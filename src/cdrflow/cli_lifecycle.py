"""CLI verbs for the DCF and the mailer lifecycle: db, population, cycle, ingest, runs (review: cli_review.py).

Every verb takes ``--db URL`` (else env ``CDRFLOW_DATABASE_URL``, else ``sqlite:///cdrflow.db``).
Errors a user can fix exit with code 2 and one line that names the record or field.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from cdrflow.kernel.settings import Settings
    from cdrflow.policy.mailer.jurisdiction import SsnTable

out = Console()
err = Console(stderr=True)

DbOpt = Annotated[str | None, typer.Option("--db", help="database URL (default: $CDRFLOW_DATABASE_URL or "
                                                        "sqlite:///cdrflow.db)")]
OnOpt = Annotated[str | None, typer.Option("--on", help="business date of the action (default today)")]
VersionOpt = Annotated[int | None, typer.Option("--version", help="case version you read (conflict check)")]
PcTableOpt = Annotated[Path | None, typer.Option("--pc-ssn-table", help="the site's GN 01070.245 PC 1-6 table (YAML); "
                                                 "takes precedence over the shipped public chart (default: "
                                                 "$CDRFLOW_PC_SSN_TABLE)")]

db_app = typer.Typer(help="Create and migrate the DCF database.", no_args_is_help=True)
population_app = typer.Typer(help="Beneficiaries: import or generate selection and profile data.",
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


DB_META = "cdrflow.database_url"
"""Where :func:`_db_url` notes, in the click context of this invocation, the database it resolved (so an
environment failure anywhere in the command names it)."""


def _context() -> Any:
    """The click context of the running command, or None (Typer 0.2x carries its own copy of click)."""
    import importlib

    try:
        module: Any = importlib.import_module("typer._click.globals")
    except ImportError:  # a Typer that uses click itself
        module = importlib.import_module("click")
    return module.get_current_context(silent=True)


def settings() -> Settings:
    """This invocation's settings: built once by the root command (``cdrflow.cli``) from the environment and
    its own options, and read from the click context here; outside a command, from the environment."""
    from cdrflow.kernel.settings import Settings

    ctx = _context()
    root = ctx.find_root() if ctx is not None else None
    if root is not None and isinstance(root.obj, Settings):
        return root.obj
    s = Settings()
    if root is not None and root.obj is None:
        root.obj = s
    return s


def database_problem(url: Any, exc: BaseException) -> str:
    """One line for a database that cannot be reached or used: the URL (password hidden) and what failed."""
    from sqlalchemy.engine import make_url

    try:
        u = make_url(url)
    except Exception:  # not a URL at all: say so without repeating it (it may hold a password)
        shown, sqlite = "(the --db URL)", False
    else:
        shown, sqlite = u.render_as_string(hide_password=True), u.get_backend_name() == "sqlite"
    orig = getattr(exc, "orig", None) or exc
    text = (str(orig).strip().splitlines() or [""])[0].strip()
    if isinstance(orig, OSError) and orig.strerror:
        text = f"{orig.strerror}" + (f": {orig.filename}" if orig.filename else "")
    if sqlite and "unable to open" in text:
        text += " (the file's directory must exist and this user must be able to write there)"
    return f"database {shown} cannot be used: {text or type(orig).__name__}"


def environment_failure(exc: BaseException) -> bool:
    """A failure of the database under the command, not of the command: it cannot be reached, opened or
    read (SQLAlchemy's OperationalError, InterfaceError, pool TimeoutError, a file that is not a database)."""
    from sqlalchemy import exc as sa

    return isinstance(exc, sa.OperationalError | sa.InterfaceError | sa.TimeoutError) or type(exc) is sa.DatabaseError


def _db_url(db: str | None) -> str:
    """The database this command works on: ``--db``, else the settings' (``CDRFLOW_DATABASE_URL``, else
    ``sqlite:///cdrflow.db``), with the psycopg 3 driver for PostgreSQL. Exit 2 if it is not a URL."""
    from sqlalchemy.exc import ArgumentError

    from cdrflow.dcf.db import resolve_url

    try:
        url = resolve_url(settings().database(db))
    except (ValueError, ArgumentError) as exc:
        raise _fail(f"--db: {exc}") from None
    ctx = _context()
    if ctx is not None:
        ctx.meta[DB_META] = url
    return url


def _engine(db: str | None) -> Any:
    """An engine for this command's database, or one ``error:`` line and exit 2."""
    from cdrflow.dcf.db import make_engine

    url = _db_url(db)
    try:
        return make_engine(url)
    except ValueError as exc:
        raise _fail(f"--db: {exc}") from None
    except OSError as exc:
        raise _fail(database_problem(url, exc)) from None


def _fail(message: str, code: int = 2) -> typer.Exit:
    """Print one ``error:`` line (never wrapped) and return the exit to raise."""
    err.print(f"error: {message}", soft_wrap=True, markup=False, highlight=False)
    return typer.Exit(code)


def _store(db: str | None, *, migrate: bool = False) -> Any:
    from cdrflow.dcf.db import StoreNotReady, check_role, require_current, upgrade
    from cdrflow.dcf.store import Store

    engine = _engine(db)
    try:
        check_role(engine, allow_superuser=settings().allow_superuser)
        if migrate:
            upgrade(engine)
        else:
            require_current(engine)
    except StoreNotReady as exc:
        raise _fail(str(exc)) from None
    except Exception as exc:  # the first statements: an unreachable server, a file that cannot be opened
        if not environment_failure(exc):
            raise
        engine.dispose()
        raise _fail(database_problem(engine.url, exc)) from None
    return Store(engine)


def pc_table(path: Path | None) -> SsnTable | None:
    """The site's PC 1-6 table of this invocation: ``--pc-ssn-table``, else ``CDRFLOW_PC_SSN_TABLE`` (settings),
    else None (the shipped public chart only). Read fresh each time and passed down, never kept; a file that
    is not such a table is one ``error:`` line, exit 2."""
    from cdrflow.engine.errors import PolicyError
    from cdrflow.policy.mailer.jurisdiction import load_ssn_table

    p = path or settings().pc_ssn_table
    if p is None:
        return None
    try:
        return load_ssn_table(p)
    except PolicyError as exc:
        raise _fail(f"--pc-ssn-table: {exc}") from None
    except OSError as exc:
        raise _fail(f"--pc-ssn-table: {p}: cannot be read ({exc.strerror or exc})") from None


@contextmanager
def domain_errors() -> Iterator[None]:
    """One ``error:`` line for what a service refuses: exit 2 (bad input, wrong state), 3 (conflict),
    4 (not allowed, not signed in); the error's code (``forbidden``, ``conflict``, ...) leads the line."""
    from cdrflow.engine.errors import InputError, PolicyError
    from cdrflow.kernel.errors import DomainError

    try:
        yield
    except DomainError as exc:
        where = f" ({exc.field})" if exc.field else ""
        err.print(f"error: {exc.code}{where}: {exc.message}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except InputError as exc:  # a policy calc's input error names its field like a DomainError
        err.print(f"error: invalid_input ({exc.field}): {exc.message}", markup=False, highlight=False,
                  soft_wrap=True)
        raise typer.Exit(2) from None
    except (PolicyError, ValueError) as exc:
        err.print(f"error: invalid_input: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


_user_errors = domain_errors


def _session(db: str | None) -> tuple[Any, Any]:
    """The DCF and the authenticated principal acting on it (never a name typed on the command line)."""
    from cdrflow.cli_people import principal

    store = _store(db)
    return store, principal(store)


def progress_bar() -> Progress:
    """The progress bar every long command shows (on stderr, so stdout stays the result)."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err)


# ---- db ------------------------------------------------------------------------------------------

@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None) -> None:
    """Create the tables or migrate them to the latest revision (Alembic).

    On PostgreSQL this runs as the schema owner (`cdrflow db roles`), and re-applies the application
    role's grants afterwards.
    """
    from cdrflow.dcf.db import StoreNotReady, check_role, upgrade

    engine = _engine(db)
    try:
        check_role(engine, allow_superuser=settings().allow_superuser, owner_command=True)
        rev = upgrade(engine)
    except StoreNotReady as exc:
        raise _fail(str(exc)) from None
    out.print(f"{engine.url.render_as_string(hide_password=True)}: at revision {rev}", markup=False,
              highlight=False, soft_wrap=True)
    _bootstrap_admin(engine)


def _bootstrap_admin(engine: Any) -> None:
    """initdb's rule: the OS account that creates the database is its first administrator."""
    from cdrflow.dcf.store import Store
    from cdrflow.workflow.people import bootstrap_admin, os_account

    with _user_errors():
        admin = bootstrap_admin(Store(engine), os_account())
    if admin:
        out.print(f"first administrator: {admin} (this OS account); add people with `cdrflow people add`",
                  markup=False, highlight=False)


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

    if make_url(_db_url(db)).get_backend_name() != "postgresql":  # before make_engine creates a SQLite file
        raise _fail("`cdrflow db roles` is for PostgreSQL; on SQLite whoever can write the file owns the DCF")
    engine = _engine(db)
    try:
        with engine.begin() as conn:
            report = roles.setup(conn, owner=owner, app=app_role, schema=schema)
    except roles.RoleError as exc:
        raise _fail(str(exc)) from None
    except DBAPIError as exc:
        if environment_failure(exc):
            raise _fail(database_problem(engine.url, exc)) from None
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
    from cdrflow.dcf.db import current_revision, head_revision

    e = _engine(db)
    out.print(f"database {current_revision(e) or 'none'}; code head {head_revision(e)}")


# ---- population -----------------------------------------------------------------------------------

@population_app.command("import")
def population_import(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet; columns in docs/population.md")],
    rejects: Annotated[Path | None, typer.Option(help="reject file (default FILE.rejects.jsonl)")] = None,
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

    day = _date(on, "--on")
    rej = rejects or file.with_suffix(file.suffix + ".rejects.jsonl")
    _no_overwrite({"FILE": file}, {"--rejects": rej}, db)
    store, actor = _session(db)
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
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="also write CSV/Parquet")] = None,
    db: DbOpt = None,
) -> None:
    """Generate a synthetic, realistic population and load it into the DCF."""
    from cdrflow.population.generate import generate, write_population
    from cdrflow.workflow.population import load

    rows = generate(count, seed=seed, as_of=_date(as_of, "--as-of"))
    if out_file is not None:
        write_population(rows, out_file)
    store, me = _session(db)
    with _user_errors(), progress_bar() as prog:
        task = prog.add_task("loading", total=len(rows))
        counts = load(store, rows, actor=me, source=f"synthetic, seed {seed}",
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

    site_table = pc_table(pc_ssn_table)
    day = _date(as_of, "--as-of")
    pf = print_file or Path(f"print-{day}.jsonl")
    _no_overwrite({}, {"--print-file": pf}, db)
    store, me = _session(db)
    with _user_errors(), progress_bar() as prog:
        tasks: dict[str, Any] = {}

        def tick(what: str, n: int) -> None:
            if what not in tasks:
                tasks[what] = prog.add_task(what, total=None)
            prog.advance(tasks[what], n)

        res = run_cycle(store, day, profiles=profiles.split(",") if profiles else None,
                        titles=titles.split(",") if titles else None, print_file=pf, progress=tick, by=me,
                        pc_ssn_table=site_table)
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
    from cdrflow.kernel.errors import Forbidden
    from cdrflow.workflow.intake import ingest as run
    from cdrflow.workflow.intake import write_rejects
    from cdrflow.workflow.runs import AlreadyIngested, FileHeld

    pc_table(pc_ssn_table)  # checked, as before; intake sorts by the PC found at selection and needs no table
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
    store, me = _session(db)
    try:
        with progress_bar() as prog:
            total = count_records(file)
            tasks: list[Any] = []

            def tick(n: int) -> None:  # the bar appears with the first chunk, after the file's checks
                if not tasks:
                    tasks.append(prog.add_task("ingesting", total=total))
                prog.advance(tasks[0], n)

            res = run(store, file, day, progress=tick, reingest_reason=reason if reingest else None,
                      operator=str(me), by=me)
    except FileHeld as exc:
        err.print(f"error: {exc}", soft_wrap=True, markup=False, highlight=False)
        raise typer.Exit(3) from None
    except AlreadyIngested as exc:
        raise _fail(f"{exc} (cdrflow ingest FILE --as-of DATE --reingest --reason TEXT)") from None
    except Forbidden as exc:
        raise _fail(f"{exc.code}: {exc.message}", 4) from None
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


def _sqlite_file(db: str | None) -> Path | None:
    from sqlalchemy.engine import make_url

    from cdrflow.dcf.db import resolve_url

    try:
        u = make_url(resolve_url(settings().database(db)))
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
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    db: DbOpt = None,
) -> None:
    """Intake runs that did not finish (a killed or failed `cdrflow ingest`), newest first.

    Each is `running` (a live process holds its file now) or `unfinished` (stopped): rerun
    `cdrflow ingest FILE --as-of DATE` for it; the rerun skips what was committed, finishes the rest
    and closes the run.
    """
    from cdrflow.workflow import runs as r

    store, me = _session(db)
    rows = _run(lambda: r.listing(store, me, everything=all_))
    if as_json:
        out.print_json(json.dumps(rows, default=str))
        return
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


# ---- shared by the command modules ------------------------------------------------------------

def _run(fn: Callable[[], T]) -> T:
    with _user_errors():
        return fn()



def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(population_app, name="population")
    app.command("cycle")(cycle)
    app.command("ingest")(ingest)
    app.command("runs")(runs)
