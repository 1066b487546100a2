"""``cdrflow people``, ``cdrflow whoami``, ``cdrflow audit``: identity, and who looked at what.

Every command that touches the DCF acts as the caller's authenticated principal (:func:`principal`):
the person whose personal token is in ``CDRFLOW_TOKEN`` or in the token file (``CDRFLOW_TOKEN_FILE``,
default ``~/.config/cdrflow/token``, which must be the caller's own and mode 0600), else the person
whose OS account is the caller's (the administrator who created the database). Nothing typed on the
command line is an identity.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

out = Console()
err = Console(stderr=True)

people_app = typer.Typer(help="People: add, disable, issue personal tokens (administrators).", no_args_is_help=True)
audit_app = typer.Typer(help="The access log: who read, revealed, exported or changed what (auditors).",
                        no_args_is_help=True)

DbOpt = Annotated[str | None, typer.Option("--db", help="database URL (default: $CDRFLOW_DATABASE_URL or "
                                                        "sqlite:///cdrflow.db)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    from cdrflow.cli_lifecycle import _fail as fail

    return fail(message, code)


def _settings() -> Any:
    from cdrflow.cli_lifecycle import settings

    return settings()


def read_token_file(path: Path) -> str:
    """The token in ``path``: the caller's own regular file, readable by nobody else (0600)."""
    try:
        st = path.stat()
    except OSError as exc:
        raise _fail(f"token file {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise _fail(f"token file {path}: not a regular file")
    if st.st_uid != os.getuid():
        raise _fail(f"token file {path}: belongs to another account")
    if st.st_mode & 0o077:
        raise _fail(f"token file {path}: readable by others (mode {stat.S_IMODE(st.st_mode):04o}); chmod 600 it")
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"token file {path}: cannot be read ({exc})") from None
    if not token:
        raise _fail(f"token file {path}: empty; put the token `cdrflow people token NAME` printed in it", 4)
    return token


def token_from_environment() -> str | None:
    """``CDRFLOW_TOKEN``, else the token file (``CDRFLOW_TOKEN_FILE``, or the default place if a file is there)."""
    s = _settings()
    if s.token is not None and s.token.get_secret_value().strip():
        return str(s.token.get_secret_value()).strip()
    path = s.token_path()
    return read_token_file(Path(path)) if path is not None else None


def principal(store: Any) -> Any:
    """The authenticated principal of this invocation, or one ``error:`` line and exit 4."""
    from cdrflow.kernel.errors import Unauthenticated
    from cdrflow.workflow.people import authenticate, os_account

    try:
        return authenticate(store, token=token_from_environment(), os_account=os_account())
    except Unauthenticated as exc:
        raise _fail(exc.message, 4) from None


def _store(db: str | None) -> Any:
    from cdrflow.cli_lifecycle import _store as store_of

    return store_of(db)


def _run(fn: Any) -> Any:
    from cdrflow.cli_lifecycle import domain_errors

    with domain_errors():
        return fn()


@people_app.command("add")
def people_add(
    name: Annotated[str, typer.Argument(help="the person's sign-in name")],
    role: Annotated[str, typer.Option("--role", help="DSE FLC BET DT DE DEC DC MAILROOM FO MPRT PRC MPRO "
                                                     "DDS_ADMIN CMC EXAMINER ANALYST AUDITOR OPERATOR ADMIN")],
    pc: Annotated[int | None, typer.Option("--pc", help="PC staff: the processing center 1-8")] = None,
    module: Annotated[str | None, typer.Option("--module", help="PC staff: the module")] = None,
    org: Annotated[str | None, typer.Option("--org", help="FO office code, or the M/PR CO/RO/DDS code")] = None,
    db: DbOpt = None,
) -> None:
    """Add a person (administrators)."""
    from cdrflow.workflow import people

    store = _store(db)
    me = principal(store)
    _run(lambda: people.add(store, me, name=name, role=role, pc=pc, module=module, org=org))
    out.print(f"added {name} ({role.upper()}{f', PC {pc}' if pc else ''}{f', {org}' if org else ''}); "
              f"give them a token: cdrflow people token {name}", markup=False, highlight=False)


@people_app.command("disable")
def people_disable(name: Annotated[str, typer.Argument()], db: DbOpt = None) -> None:
    """Disable a person and revoke their tokens (administrators). People are never deleted."""
    from cdrflow.workflow import people

    store = _store(db)
    me = principal(store)
    n = _run(lambda: people.disable(store, me, name))
    out.print(f"disabled {name}; {n} token(s) revoked", markup=False, highlight=False)


@people_app.command("token")
def people_token(
    name: Annotated[str, typer.Argument()],
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="write the token to this file (0600) "
                                                  "instead of printing it")] = None,
    db: DbOpt = None,
) -> None:
    """Issue a personal token (administrators). It is shown once; only its hash is stored."""
    from cdrflow.safeio import atomic
    from cdrflow.workflow import people

    store = _store(db)
    me = principal(store)
    if out_path is not None and out_path.exists():
        raise _fail(f"--out {out_path}: exists; a token file is never written over")
    token = _run(lambda: people.issue_token(store, me, name))
    if out_path is None:
        print(token)
        err.print(f"the token of {name}, shown once: keep it in a 0600 file and point CDRFLOW_TOKEN_FILE at it",
                  markup=False, highlight=False)
        return
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic(out_path) as fh:
        fh.write(token + "\n")
    os.chmod(out_path, 0o600)
    out.print(f"wrote the token of {name} to {out_path} (0600): CDRFLOW_TOKEN_FILE={out_path}", markup=False,
              highlight=False)


@people_app.command("list")
def people_list(as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """Everyone in the people table (administrators, auditors)."""
    from cdrflow.workflow import people

    store = _store(db)
    me = principal(store)
    rows = _run(lambda: people.listing(store, me))
    if as_json:
        out.print_json(json.dumps(rows))
        return
    t = Table("name", "role", "kind", "PC", "org", "OS account", "active", "tokens", box=None)
    for r in rows:
        t.add_row(r["name"], r["role"], r["kind"], str(r["pc"] or ""), r["org"] or "", r["os_account"] or "",
                  "yes" if r["active"] else "no", str(r["tokens"]))
    out.print(t)


def whoami(as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """Who you are to this DCF, how that was established, and what you may do."""
    from cdrflow.authz import actions_for
    from cdrflow.kernel.roles import ROLES

    store = _store(db)
    me = principal(store)
    may = [{"action": a.name, "what": a.summary, "rule": g.rule, "cite": g.cite} for a, g in actions_for(me.role)]
    info = {"name": me.name, "role": me.role, "role_is": ROLES.get(me.role, ""), "pc": me.pc, "module": me.module,
            "org": me.org, "via": me.via, "may": may}
    if as_json:
        out.print_json(json.dumps(info))
        return
    where = ", ".join(x for x in (f"PC {me.pc}" if me.pc else "", me.module or "", me.org or "") if x)
    out.print(f"{me.name}: {me.role} ({ROLES.get(me.role, '')}){f', {where}' if where else ''}; "
              f"signed in by {me.via}", markup=False, highlight=False)
    t = Table("may", "what", "passage", box=None)
    for m in may:
        t.add_row(m["action"], m["what"], m["cite"])
    out.print(t)


@audit_app.command("list")
def audit_list(
    person: Annotated[str | None, typer.Option("--person", help="only this person")] = None,
    resource: Annotated[str | None, typer.Option("--resource", help="only this resource, e.g. case:M2026...")] = None,
    denied: Annotated[bool, typer.Option("--denied", help="only refusals")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100000, help="newest first, at most")] = 200,
    as_json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """The access log, newest first (auditors). Reading it is itself logged."""
    from cdrflow.workflow import audit

    store = _store(db)
    me = principal(store)
    rows = _run(lambda: audit.entries(store, me, person=person, resource=resource, denied=denied, limit=limit))
    if as_json:
        out.print_json(json.dumps(rows, default=str))
        return
    t = Table("at", "person", "role", "action", "resource", "outcome", "reason", box=None)
    for r in rows:
        t.add_row(str(r["at"])[:19], r["person"], r["role"], r["action"], r["resource"], r["outcome"],
                  r["reason"] or "")
    out.print(t)


def register(app: typer.Typer) -> None:
    app.add_typer(people_app, name="people")
    app.add_typer(audit_app, name="audit")
    app.command("whoami")(whoami)
