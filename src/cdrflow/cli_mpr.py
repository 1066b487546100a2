"""``cdrflow mpr ...``: medical and professional relations (PM 00215.001), level by level.

Every verb takes ``--db URL`` (else env ``CDRFLOW_DATABASE_URL``, else ``sqlite:///cdrflow.db``) and acts
as the signed-in person (``CDRFLOW_TOKEN`` or the token file; never a name on the command line): a person
of the people table with an M/PR role (MPRT, PRC, MPRO, DDS_ADMIN, CMC, EXAMINER) and their organisation
(``cdrflow people add NAME --role MPRO --org DDS-PA``). Administrators add organisations; operators run
the scheduled checks (``mpr check-due``), which act as the ``scheduler`` system component. What each
level may see and change is the permission model's (actions ``mpr.*``, :mod:`cdrflow.authz.rules`),
asked by :mod:`cdrflow.workflow.mpr`, and every decision is in the access log. Errors are one
``error:`` line: exit 2 (input, state), 3 (conflict), 4 (not allowed).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cdrflow.cli_lifecycle import DbOpt, VersionOpt, _session, domain_errors, err, out

mpr_app = typer.Typer(help="Medical and professional relations (PM 00215.001): organisation, CE provider "
                           "registry, checks, flags, work items, panels. Acts as the signed-in person.",
                      no_args_is_help=True)
org_app = typer.Typer(help="CO, ROs and DDSs (PM 00215.001A).", no_args_is_help=True)
person_app = typer.Typer(help="People and their M/PR roles (PM 00215.001A, D.2-D.4): `cdrflow people add NAME "
                              "--role ROLE --org CODE` (administrators).", no_args_is_help=True)
import_app = typer.Typer(help="Import providers, a license roster, or (CO MPRT / SYSTEM) the national OIG LEIE "
                              "(D.2, D.4.b, D.4.c).", no_args_is_help=True)
queue_app = typer.Typer(help="Questions for a person: ambiguous identities and license links.", no_args_is_help=True)
flag_app = typer.Typer(help="Providers whose eligibility changed, and who must act (D.4.c).", no_args_is_help=True)
item_app = typer.Typer(help="Tracked M/PR work: oversight, recruitment, liaison, RO and national items.",
                       no_args_is_help=True)
panel_app = typer.Typer(help="Panel staffing (D.4.b): needs and the gap per specialty and area.",
                        no_args_is_help=True)
leie_app = typer.Typer(help="The national LEIE's versions: history and restore (D.2, D.4.c).", no_args_is_help=True)
for _sub, _name in ((org_app, "org"), (person_app, "person"), (import_app, "import"), (queue_app, "queue"),
                    (flag_app, "flag"), (item_app, "item"), (panel_app, "panel"), (leie_app, "leie")):
    mpr_app.add_typer(_sub, name=_name)

AsOfOpt = Annotated[str, typer.Option("--as-of", help="date of the check, YYYY-MM-DD")]
DdsOpt = Annotated[str | None, typer.Option("--dds", help="DDS code, e.g. DDS-OH (default: your own DDS)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


def _day(text: str | None, name: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        err.print(f"error: {name}: {text!r} is not a date YYYY-MM-DD")
        raise typer.Exit(2) from None


def _req_day(text: str, name: str) -> dt.date:
    d = _day(text, name)
    assert d is not None
    return d


def _file(path: Path) -> Path:
    if not path.exists():
        err.print(f"error: {path}: no such file")
        raise typer.Exit(2)
    return path


def _table(title: str, cols: list[str], rows: list[list[Any]]) -> None:
    t = Table(title=title)
    for c in cols:
        t.add_column(c)
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    out.print(t)


def _yn(v: bool | None) -> str:
    return {True: "yes", False: "NO", None: "undecided"}[v]


def _json(data: Any) -> None:
    """``data`` as JSON on stdout (dates and times as ISO text)."""
    out.print_json(json.dumps(data, default=str))


# ---- organisation --------------------------------------------------------------------------------

@org_app.command("add")
def org_add(level: Annotated[str, typer.Option(help="CO, RO or DDS")],
            code: Annotated[str, typer.Option(help="e.g. CO, RO-05, DDS-OH")],
            name: Annotated[str, typer.Option()],
            parent: Annotated[str | None, typer.Option(help="a DDS's RO, an RO's CO")] = None,
            db: DbOpt = None) -> None:
    """Add an organisation (administrators)."""
    from cdrflow.workflow import mpr

    store, me = _session(db)
    with domain_errors():
        mpr.add_org(store, me, level=level, code=code, name=name, parent=parent)
    out.print(f"{level.upper()} {code} added")


@org_app.command("list")
def org_list(as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """The organisation: codes, levels and parents (not confidential)."""
    from cdrflow.workflow import mpr

    store, _me = _session(db)
    with domain_errors():
        rows = mpr.orgs(store)
    if as_json:
        _json([{k: o[k] for k in ("code", "level", "name", "parent")} for o in rows])
        return
    _table("M/PR organisation", ["code", "level", "name", "parent"],
           [[o["code"], o["level"], o["name"], o["parent"]] for o in rows])


@person_app.command("add")
def person_add(org: Annotated[str, typer.Option(help="organisation code")],
               name: Annotated[str, typer.Option(help="the person's sign-in name")],
               role: Annotated[str, typer.Option(help="MPRT, PRC, MPRO, DDS_ADMIN, CMC or EXAMINER")],
               db: DbOpt = None) -> None:
    """Add a person with an M/PR role (administrators): `cdrflow people add NAME --role ROLE --org CODE`."""
    from cdrflow.workflow import mpr

    store, me = _session(db)
    with domain_errors():
        mpr.add_person(store, me, org=org, name=name, role=role)
    out.print(f"{name} added to {org} as {role.upper()} (the people table: `cdrflow people add {name} --role "
              f"{role.upper()} --org {org}` does the same); give them a token: cdrflow people token {name}",
              markup=False, highlight=False, soft_wrap=True)


# ---- imports -------------------------------------------------------------------------------------

RejectsOpt = Annotated[Path | None, typer.Option("--rejects", help="also write every reject to this file, JSON "
                                                 "Lines: row, line, field, reason, cells (the first 20 are "
                                                 "printed in any case)")]


def _import_files(file: Path, rejects: Path | None, db: str | None) -> Path | None:
    """Check the input exists and refuse a reject file that is the input or the database (nothing written yet)."""
    from cdrflow.cli_lifecycle import _no_overwrite

    _no_overwrite({"FILE": _file(file)}, {"--rejects": rejects}, db)
    return rejects


def _import_report(what: str, res: Any, rejects: Path | None) -> None:
    if rejects is not None:
        from cdrflow.safeio import atomic, jsonl_line

        with atomic(rejects) as fh:  # owner-only, renamed into place
            for r in res.rejects:
                fh.write(jsonl_line(r.as_dict()) + "\n")
    counts = ", ".join(f"{k} {v}" for k, v in res.counts.items())
    ok = "reconciled" if res.reconciles() else "DOES NOT RECONCILE"
    out.print(f"{what}: read {res.read} = accepted {res.accepted} + rejected {len(res.rejects)} ({ok}); {counts}"
              + (f"; rejects: {rejects}" if rejects is not None else ""), markup=False, highlight=False,
              soft_wrap=True)
    for r in res.rejects[:20]:
        out.print(f"  reject {r}", markup=False, highlight=False, soft_wrap=True)
    if len(res.rejects) > 20:
        out.print(f"  ... and {len(res.rejects) - 20} more")
    if not res.reconciles():
        raise typer.Exit(1)


@import_app.command("providers")
def import_providers(file: Path, dds: DdsOpt = None, rejects: RejectsOpt = None, db: DbOpt = None) -> None:
    """Import the DDS's CE providers (layout: cdrflow.workflow.mpr.import_providers)."""
    from cdrflow.workflow import mpr

    rej = _import_files(file, rejects, db)
    store, me = _session(db)
    with domain_errors():
        res = mpr.import_providers(store, me, file, dds=dds)
    _import_report(f"providers {file.name}", res, rej)


@import_app.command("roster")
def import_roster(file: Path, dds: DdsOpt = None, rejects: RejectsOpt = None, db: DbOpt = None) -> None:
    """Import a state license roster (docs/mpr-formats.md) and link licenses to the DDS's providers."""
    from cdrflow.workflow import mpr

    rej = _import_files(file, rejects, db)
    store, me = _session(db)
    with domain_errors():
        res = mpr.import_roster(store, me, file, dds=dds)
    _import_report(f"roster {file.name}", res, rej)


@import_app.command("leie")
def import_leie(file: Path,
                file_date: Annotated[str | None, typer.Option("--file-date", help="date of the list")] = None,
                confirm_smaller: Annotated[bool, typer.Option(
                    "--confirm-smaller", help="store an empty, all-rejected or much smaller list than the one in "
                                              "force (needs --reason)")] = False,
                reason: Annotated[str | None, typer.Option("--reason", help="why (recorded with the version)")]
                = None,
                rejects: RejectsOpt = None, db: DbOpt = None) -> None:
    """Replace the national OIG LEIE (docs/mpr-formats.md): CO MPRT or SYSTEM; every earlier list is kept."""
    from cdrflow.workflow import mpr

    rej = _import_files(file, rejects, db)
    on = _day(file_date, "--file-date")
    store, me = _session(db)
    with domain_errors():
        res = mpr.import_leie(store, me, file, file_date=on, confirm_smaller=confirm_smaller, reason=reason)
    _import_report(f"LEIE {file.name}", res, rej)


@leie_app.command("history")
def leie_history(as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """Every version of the national LEIE, newest first: which list, who put it in force, and why (public)."""
    from cdrflow.workflow import mpr

    store, _me = _session(db)
    with domain_errors():
        rows = mpr.leie_history(store)
    if as_json:
        _json(rows)
        return
    _table("national LEIE versions (newest first)",
           ["version", "in force", "action", "file", "list date", "entries", "before", "by", "at", "reason"],
           [[v["version_id"], "yes" if v["in_force"] else "", v["action"]
             + (" (smaller, confirmed)" if v["confirmed_smaller"] else ""), v["file_name"], v["file_date"],
             v["entries"], v["previous_entries"], f"{v['actor']}:{v['actor_role']}", f"{v['at']:%Y-%m-%d %H:%M}",
             v["reason"]] for v in rows])


@leie_app.command("restore")
def leie_restore(version: Annotated[int, typer.Argument(help="the version whose list goes back in force "
                                                              "(`mpr leie history`)")],
                 reason: Annotated[str, typer.Option("--reason", help="why (recorded)")],
                 db: DbOpt = None) -> None:
    """Put an earlier national LEIE back in force (CO MPRT or SYSTEM, with a reason)."""
    from cdrflow.workflow import mpr

    store, me = _session(db)
    with domain_errors():
        vid = mpr.restore_leie(store, me, version, reason=reason)
    out.print(f"LEIE version {version}'s list is in force again (version {vid})")


# ---- checks --------------------------------------------------------------------------------------

def _run_report(run: Any) -> None:
    out.print(f"{run.dds} on {run.as_of}: {run.providers} providers checked; eligible {run.eligible}, "
              f"NOT eligible {run.not_eligible}, undecided {run.undecided}; new checks {run.new_checks}, "
              f"queued for a person {run.queued}, flags {len(run.flags)}")


@mpr_app.command("check")
def check(as_of: AsOfOpt, dds: Annotated[str, typer.Option("--dds", help="DDS code")], db: DbOpt = None) -> None:
    """Check every ACTIVE provider of a DDS: licensed and without federal sanction (D.4.c)."""
    from cdrflow.workflow import mpr

    on = _req_day(as_of, "--as-of")
    store, me = _session(db)
    with domain_errors():
        _run_report(mpr.check(store, me, dds, on))


PeriodOpt = Annotated[int, typer.Option("--period-days", help="re-check after this many days (an operating "
                                                              "choice, not policy)")]


@mpr_app.command("due")
def due(as_of: AsOfOpt, period_days: PeriodOpt = 30,
        run: Annotated[bool, typer.Option("--run", help="check the due DDSs now, as the scheduler (operators: "
                                                        "the same as `mpr check-due`)")] = False,
        as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """DDSs whose last check is older than --period-days (or never), of those you may see; --run checks them."""
    from cdrflow.workflow import mpr

    on = _req_day(as_of, "--as-of")
    store, me = _session(db)
    with domain_errors():
        rows = mpr.due_checks(store, on, period_days=period_days, actor=me)
    if as_json and not run:
        _json(rows)
        return
    _table(f"checks due on {on} (period {period_days} days)", ["dds", "providers", "last check", "days"],
           [[d["dds"], d["providers"], d["last_check"] or "never", d["days"]] for d in rows])
    if run:
        with domain_errors():
            for r in mpr.check_due(store, on, period_days=period_days, by=me):
                _run_report(r)


@mpr_app.command("check-due")
def check_due(as_of: AsOfOpt, period_days: PeriodOpt = 30, db: DbOpt = None) -> None:
    """The scheduled checks (operators): the DDSs due, checked as the `scheduler` on your behalf (D.4.c)."""
    from cdrflow.workflow import mpr

    on = _req_day(as_of, "--as-of")
    store, me = _session(db)
    with domain_errors():
        runs = mpr.check_due(store, on, period_days=period_days, by=me)
    for r in runs:
        _run_report(r)
    out.print(f"{len(runs)} DDS(s) checked on {on} as the scheduler, run by {me}", markup=False, highlight=False)


@mpr_app.command("providers")
def providers(dds: DdsOpt = None, as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """The providers you may see, with the latest eligibility answer."""
    from cdrflow.workflow import mpr

    store, me = _session(db)
    with domain_errors():
        rows = mpr.providers(store, me, dds=dds)
    if as_json:
        _json(rows)
        return
    _table("CE providers", ["id", "dds", "ext id", "name", "npi", "specialties", "panels", "status", "eligible",
                            "checked"],
           [[p["provider_id"], p["dds"], p["ext_id"], p["name"], p["npi"], "; ".join(p["specialties"]),
             "; ".join(p["panels"]), p["status"], _yn(p["eligible"]) if p["checked_as_of"] else "",
             p["checked_as_of"]] for p in rows])


@mpr_app.command("provider")
def provider(provider_id: Annotated[int, typer.Argument(help="the provider id (`mpr providers`)")],
             as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """One provider: licenses, checks (with their answers) and flags, if you may see it."""
    from cdrflow.workflow import mpr

    store, me = _session(db)
    with domain_errors():
        p = mpr.provider(store, me, provider_id)
    if as_json:
        _json(p)
        return
    out.print(f"provider {p['provider_id']} ({p['ext_id']}): {p['name']}, {p['kind']}, {p['status']}; NPI "
              f"{p['npi'] or 'none'}; specialties {'; '.join(p['specialties']) or 'none'}; panels "
              f"{'; '.join(p['panels']) or 'none'}", markup=False, highlight=False, soft_wrap=True)
    _table("licenses", ["state", "number", "status", "expires", "link"],
           [[x["state"], x["number"], x["status"], x["expires"], x["link"]] for x in p["licenses"]])
    _table("checks", ["id", "as of", "kind", "eligible", "federal sanction", "why"],
           [[c["check_id"], c["as_of"], c["kind"], "" if c["kind"] != "ELIGIBILITY" else _yn(c["eligible"]),
             c["federal_sanction"], c["result"].get("why", c["result"].get("status", ""))] for c in p["checks"]])
    _table("flags", ["id", "to", "state", "reason"],
           [[f["flag_id"], _yn(f["to_eligible"]), f["state"], f["reason"]] for f in p["flags"]])


# ---- queue and flags -----------------------------------------------------------------------------

@queue_app.command("list")
def queue_list(all_: Annotated[bool, typer.Option("--all", help="decided ones too")] = False,
               as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """Questions for a person (OPEN ones unless --all)."""
    from cdrflow.workflow import mpr

    store, me = _session(db)
    with domain_errors():
        rows = mpr.queue(store, me, state=None if all_ else "OPEN")
    if as_json:
        _json(rows)
        return
    _table("review queue", ["id", "dds", "kind", "state", "question", "decided by"],
           [[q["queue_id"], q["dds"], q["kind"], q["state"], q["question"], q["decided_by"]] for q in rows])


@queue_app.command("decide")
def queue_decide(queue_id: int,
                 confirm: Annotated[bool, typer.Option("--confirm/--dismiss", help="the candidate is the provider "
                                                       "(or holds the license) / it is not")],
                 rationale: Annotated[str, typer.Option()],
                 provider: Annotated[int | None, typer.Option(help="LICENSE_LINK: the provider id")] = None,
                 db: DbOpt = None) -> None:
    """Answer a queued question; the next check uses the answer."""
    from cdrflow.workflow import mpr

    store, me = _session(db)
    with domain_errors():
        state = mpr.decide_review(store, me, queue_id, confirm=confirm, rationale=rationale, provider_id=provider)
    out.print(f"review {queue_id}: {state}")


@flag_app.command("list")
def flag_list(all_: Annotated[bool, typer.Option("--all", help="done ones too")] = False,
              as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """Providers whose eligibility changed (OPEN unless --all), and who must act."""
    from cdrflow.workflow import mpr

    store, me = _session(db)
    with domain_errors():
        rows = mpr.flags(store, me, state=None if all_ else "OPEN")
    if as_json:
        _json(rows)
        return
    _table("status-change flags", ["id", "dds", "provider", "from", "to", "must act", "state", "reason"],
           [[f["flag_id"], f["dds"], f["provider"], _yn(f["from_eligible"]) if f["from_eligible"] is not None
             else "unchecked", _yn(f["to_eligible"]), f"{f['must_act_role']} {f['must_act_person'] or ''}".strip(),
             f["state"], f["reason"]] for f in rows])


@flag_app.command("done")
def flag_done(flag_id: int, note: Annotated[str, typer.Option(help="what was done")],
              deactivate: Annotated[bool, typer.Option("--deactivate", help="also set the provider "
                                                       "INACTIVE")] = False,
              db: DbOpt = None) -> None:
    """The MPRO (or DDS Administrator) acted on a flag."""
    from cdrflow.workflow import mpr

    store, me = _session(db)
    with domain_errors():
        mpr.resolve_flag(store, me, flag_id, note=note, deactivate=deactivate)
    out.print(f"flag {flag_id}: DONE")


# ---- items ---------------------------------------------------------------------------------------

@item_app.command("open")
def item_open(org: Annotated[str, typer.Option(help="owning organisation code")],
              kind: Annotated[str, typer.Option(help="e.g. ONSITE_VISIT, RECRUITMENT, RO_RELAY, NATIONAL")],
              title: Annotated[str, typer.Option()], owner: Annotated[str, typer.Option(help="person name")],
              opened: Annotated[str, typer.Option(help="YYYY-MM-DD")],
              due: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
              provider: Annotated[int | None, typer.Option(help="provider id")] = None,
              subject: Annotated[str | None, typer.Option(help="RO items: the DDS concerned")] = None,
              specialty: Annotated[str | None, typer.Option()] = None,
              area: Annotated[str | None, typer.Option()] = None, db: DbOpt = None) -> None:
    """Open a tracked work item (each kind cites its passage of PM 00215.001D)."""
    from cdrflow.workflow import mpr

    day, due_day = _req_day(opened, "--opened"), _day(due, "--due")
    store, me = _session(db)
    with domain_errors():
        iid = mpr.open_item(store, me, org=org, kind=kind, title=title, owner=owner, opened=day, due=due_day,
                            provider_id=provider, subject=subject, specialty=specialty, area=area)
    out.print(f"item {iid} opened ({kind.upper()}, {mpr.ITEM_KINDS.get(kind.upper(), ('', ''))[1]})")


@item_app.command("update")
def item_update(item_id: int, findings: Annotated[str | None, typer.Option()] = None,
                owner: Annotated[str | None, typer.Option()] = None,
                due: Annotated[str | None, typer.Option()] = None, version: VersionOpt = None,
                db: DbOpt = None) -> None:
    """Record findings, reassign or move the due date."""
    from cdrflow.workflow import mpr

    due_day = _day(due, "--due")
    store, me = _session(db)
    with domain_errors():
        v = mpr.update_item(store, me, item_id, findings=findings, owner=owner, due=due_day, expected_version=version)
    out.print(f"item {item_id} updated (version {v})")


@item_app.command("close")
def item_close(item_id: int, closed: Annotated[str, typer.Option(help="YYYY-MM-DD")],
               outcome: Annotated[str, typer.Option()], findings: Annotated[str | None, typer.Option()] = None,
               version: VersionOpt = None, db: DbOpt = None) -> None:
    """Close an item with its outcome."""
    from cdrflow.workflow import mpr

    day = _req_day(closed, "--closed")
    store, me = _session(db)
    with domain_errors():
        v = mpr.close_item(store, me, item_id, closed=day, outcome=outcome, findings=findings,
                           expected_version=version)
    out.print(f"item {item_id} CLOSED (version {v})")


@item_app.command("list")
def item_list(org: Annotated[str | None, typer.Option()] = None,
              kind: Annotated[str | None, typer.Option()] = None,
              state: Annotated[str | None, typer.Option()] = None, as_json: JsonOpt = False,
              db: DbOpt = None) -> None:
    """Items you may see."""
    from cdrflow.workflow import mpr

    store, me = _session(db)
    with domain_errors():
        rows = mpr.items(store, me, org=org, kind=kind, state=state)
    if as_json:
        _json(rows)
        return
    _table("M/PR items", ["id", "org", "kind", "cite", "title", "owner", "opened", "due", "state", "closed",
                          "outcome", "v"],
           [[i["item_id"], i["org"], i["kind"], i["cite"], i["title"], i["owner"], i["opened"], i["due"],
             i["state"], i["closed"], i["outcome"], i["version"]] for i in rows])


@item_app.command("show")
def item_show(item_id: int, as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """One item, if you may see it."""
    from cdrflow.workflow import mpr

    store, me = _session(db)
    with domain_errors():
        it = mpr.item(store, me, item_id)
    if as_json:
        _json(it)
        return
    out.print("\n".join(f"{k}: {v}" for k, v in it.items() if v is not None), markup=False, highlight=False,
              soft_wrap=True)


# ---- panels --------------------------------------------------------------------------------------

@panel_app.command("need")
def panel_need(dds: Annotated[str, typer.Option("--dds")], specialty: Annotated[str, typer.Option()],
               area: Annotated[str, typer.Option()], needed: Annotated[int, typer.Option()],
               db: DbOpt = None) -> None:
    """Set how many eligible providers a panel needs (D.4.b)."""
    from cdrflow.workflow import mpr

    store, me = _session(db)
    with domain_errors():
        mpr.set_panel_need(store, me, dds=dds, specialty=specialty, area=area, needed=needed)
    out.print(f"{dds} {specialty.upper()} / {area.upper()}: {needed} needed")


@panel_app.command("gap")
def panel_gap(dds: Annotated[str, typer.Option("--dds")], as_of: AsOfOpt, as_json: JsonOpt = False,
              db: DbOpt = None) -> None:
    """Needed − eligible providers per specialty and area, and open recruitment (D.4.b)."""
    from cdrflow.workflow import mpr

    on = _req_day(as_of, "--as-of")
    store, me = _session(db)
    with domain_errors():
        rows = mpr.panel_gap(store, me, dds, on)
    if as_json:
        _json(rows)
        return
    _table(f"{dds} panel gap on {as_of}", ["specialty", "area", "needed", "serving", "eligible", "gap", "recruiting"],
           [[g["specialty"], g["area"], g["needed"], g["serving"], g["eligible"], g["gap"], g["recruiting"]]
            for g in rows])


@mpr_app.command("report")
def report(
    dds: Annotated[str, typer.Option("--dds", help="the DDS, e.g. DDS-PA")],
    fy: Annotated[int, typer.Option("--fy", help="federal fiscal year (October to September), e.g. 2025")],
    output: Annotated[Path, typer.Option("-o", "--out", help="the report: .html, .pdf (through Chromium) or "
                                                                 ".json (the figures)")],
    kind: Annotated[str, typer.Option("--kind", help="oversight: the RO's annual oversight report (D.3.i); "
                                                     "summary: the DDS's M/PR activity summary (D.4)")] = "oversight",
    db: DbOpt = None,
) -> None:
    """A DDS's M/PR year from the records, as HTML with charts (print it from a browser for PDF)."""
    from cdrflow.reports.mpr_report import render_mpr_report
    from cdrflow.workflow.mpr_reports import report_data, to_json

    kinds = {"oversight": "RO_OVERSIGHT", "summary": "DDS_SUMMARY"}
    if kind.lower() not in kinds:
        err.print(f"error: --kind: oversight or summary, got {kind!r}")
        raise typer.Exit(2)
    if output.suffix.lower() not in (".html", ".pdf", ".json"):
        err.print(f"error: --out: {output}: use .html, .pdf or .json")
        raise typer.Exit(2)
    from cdrflow.cli_lifecycle import _no_overwrite

    _no_overwrite({}, {"--out": output}, db)  # never over the database (interpretations §73)
    store, me = _session(db)
    with domain_errors():
        data = report_data(store, me, dds, fy, kinds[kind.lower()])
    output.parent.mkdir(parents=True, exist_ok=True)
    from cdrflow.safeio import write_bytes, write_text

    if output.suffix.lower() == ".json":
        write_bytes(output, to_json(data))
    elif output.suffix.lower() == ".pdf":
        from cdrflow.cli_lifecycle import settings
        from cdrflow.reports.pdf import PdfUnavailable, html_to_pdf

        try:
            html_to_pdf(render_mpr_report(data), output, chromium=settings().chromium)
        except PdfUnavailable as exc:
            err.print(f"error: --out: {exc}")
            raise typer.Exit(2) from None
    else:
        write_text(output, render_mpr_report(data))
    p = data["providers"]
    out.print(f"{data['title']}: {dds}, FY {fy} ({data['start']} to {data['end']})")
    out.print(f"providers {p['total']:,}; eligibility changes {len(data['changes']):,}; "
              f"items open at year end {sum(data['open_by_age'].values()):,} -> {output}")


def register(app: typer.Typer) -> None:
    app.add_typer(mpr_app, name="mpr")
