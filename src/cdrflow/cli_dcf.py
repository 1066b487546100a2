"""``cdrflow dcf verify``: recompute the DCF's hash chains and check its guards (issue 12, item 3).

Exit codes: 0 every chain verifies (and the ``--expect`` digest matches); 1 something was changed,
removed, inserted around the store, a guard is missing or disabled, or the database cannot be read
(a damaged file); 2 a usage error (no such database, a malformed digest, a database not migrated) or a
database that cannot be reached or opened (one ``error:`` line naming it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

out = Console()
err = Console(stderr=True)

dcf_app = typer.Typer(help="Check the DCF itself: hash chains, gaps, truncation, guards.", no_args_is_help=True)

DbOpt = Annotated[str | None, typer.Option("--db", help="database URL (default: $CDRFLOW_DATABASE_URL or "
                                                        "sqlite:///cdrflow.db)")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"error: {message}", soft_wrap=True, markup=False, highlight=False)
    return typer.Exit(code)


def _engine(db: str | None) -> Any:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import InterfaceError, OperationalError

    from cdrflow.cli_lifecycle import _db_url, database_problem
    from cdrflow.dcf.db import StoreNotReady, make_engine, require_current

    resolved = _db_url(db)
    url = make_url(resolved)
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        if path in ("", ":memory:") or not Path(path).is_file():
            raise _fail(f"--db: no SQLite database at {path or '(none)'}")
    try:
        engine = make_engine(resolved)
    except ValueError as exc:
        raise _fail(f"--db: {exc}") from None
    try:
        require_current(engine)
    except StoreNotReady as exc:
        raise _fail(str(exc)) from None
    except (OperationalError, InterfaceError) as exc:  # cannot connect or open it: the environment, exit 2
        engine.dispose()                               # (a file that reads wrong is UNREADABLE, exit 1)
        raise _fail(database_problem(url, exc)) from None
    return engine


@dcf_app.command("verify")
def verify(
    db: DbOpt = None,
    expect: Annotated[str | None, typer.Option(
        "--expect", help="a digest an earlier `dcf verify` printed (kept outside the database): check that the "
                         "history it covers is unchanged")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the report as JSON")] = False,
) -> None:
    """Recompute every hash chain (events, EXR findings, M/PR checks): the first record that does not match,
    gaps, rows written around the store, truncation, missing or disabled guards; print the digest to keep."""
    from sqlalchemy.exc import DBAPIError

    from cdrflow.dcf.chain import parse_digest, verify_engine

    if expect is not None:
        try:
            parse_digest(expect)
        except ValueError as exc:
            raise _fail(str(exc)) from None
    engine = None
    try:
        engine = _engine(db)  # a damaged file can fail already here, at the connection's first statement
        report = verify_engine(engine, expect)
    except DBAPIError as exc:
        orig = getattr(exc, "orig", None) or exc
        msg = str(orig).splitlines()[0]
        if as_json:
            out.print_json(json.dumps({"ok": False, "unreadable": msg}))
        else:
            out.print(f"UNREADABLE: the database could not be read to the end: {msg}", markup=False,
                      highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        if engine is not None:
            engine.dispose()
    if as_json:
        out.print_json(json.dumps(report.as_dict()))
        raise typer.Exit(0 if report.ok else 1)
    t = Table(title=f"DCF hash chains: {engine.url.render_as_string(hide_password=True)}")
    for col in ("chain", "rows", "links", "head", "verified", "problems"):
        t.add_column(col, justify="left" if col == "chain" else "right")
    for c in report.chains:
        t.add_row(c.chain, f"{c.rows:,}", f"{c.links:,}", f"{c.head_seq:,}", f"{c.verified_seq:,}", str(c.problems))
    out.print(t)
    missing = [p for p in report.problems if p.kind == "GUARD"]
    out.print(f"guards: {report.guards} checked, {len(missing)} missing or disabled", soft_wrap=True)
    if report.ok:
        out.print("OK: every link recomputes; no gap, no row outside the chains, no truncation"
                  + ("; the --expect digest matches" if report.expect_ok else ""), soft_wrap=True)
    else:
        first = report.problems[0]
        out.print(f"FIRST PROBLEM: {first.line()}", markup=False, highlight=False, soft_wrap=True)
        for p in report.problems[1:]:
            out.print(f"  {p.line()}", markup=False, highlight=False, soft_wrap=True)
        if report.problem_count > len(report.problems):
            out.print(f"  ... {report.problem_count - len(report.problems)} more")
        out.print(f"{report.problem_count} problem(s)")
    label = "digest" if report.ok else "last verified digest (the chains before their first problem)"
    out.print(f"{label}: {report.digest}", markup=False, highlight=False, soft_wrap=True)
    out.print("keep it outside the database; `cdrflow dcf verify --expect DIGEST` checks it later", soft_wrap=True,
              markup=False)
    raise typer.Exit(0 if report.ok else 1)


def register(app: typer.Typer) -> None:
    app.add_typer(dcf_app, name="dcf")
