"""CLI verbs of PC review and of reading a case: review (DI 40502.001G, H, I, J), case, documents.

Every verb acts as the signed-in person (``cdrflow whoami``) and prints the business date it acted on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.table import Table

from cdrflow.cli_lifecycle import (
    DbOpt,
    OnOpt,
    VersionOpt,
    _date,
    _fail,
    _no_overwrite,
    _run,
    _session,
    _user_errors,
    err,
    out,
)


def _business_date(day: object, given: str | None) -> None:
    """Every action names the business date it was recorded on; today's only when --on was not given."""
    out.print(f"business date {day}" + ("" if given else " (today; --on DATE records another)"), markup=False,
              highlight=False)


review_app = typer.Typer(help="PC review (DI 40502.001G, H, I, J), as the signed-in person (cdrflow whoami).",
                         no_args_is_help=True)


# ---- review ----------------------------------------------------------------------------------------

@review_app.command("queue")
def review_queue(stage: Annotated[str | None, typer.Option(help="only this review stage: ASSOCIATE, TRANSLATION, "
                                                                 "BET_DT, DE or DIRCON")] = None,
                 pc: Annotated[int | None, typer.Option()] = None,
                 limit: int = 50,
                 as_json: Annotated[bool, typer.Option("--json", help="print JSON (a list of cases) instead of a "
                                                                     "table")] = False,
                 ids: Annotated[bool, typer.Option("--ids", help="print only the case ids, one a line (for "
                                                                "scripts: CASE=$(cdrflow review queue --ids "
                                                                "--limit 1))")] = False,
                 db: DbOpt = None) -> None:
    """Open PC reviews and nonresponders, oldest first (SSNs masked: `cdrflow case CASE --reveal REASON`)."""
    from cdrflow.kernel.ssn import mask
    from cdrflow.workflow.history import queue

    if as_json and ids:
        raise _fail("--json or --ids, not both")
    store, me = _session(db)
    rows = _run(lambda: queue(store, me, stage=stage, pc=pc, limit=limit))
    for r in rows:
        r["ssn"] = mask(r["ssn"])
    if ids:
        for r in rows:
            print(r["case_id"])
        return
    if as_json:
        out.print_json(json.dumps(rows, default=str))
        return
    t = Table(title="PC review queue", box=None)
    t.add_column("case", no_wrap=True, min_width=19)  # a case id is never cut: it is what the next command takes
    for col in ("ssn", "title", "profile", "pc", "state", "stage", "alert", "since", "version"):
        t.add_column(col, overflow="fold")
    for r in rows:
        alert = f"{r['alert_type'] or ''} {r['alert_message'] or ''}".strip()
        t.add_row(r["case_id"], r["ssn"], r["title"], r["profile"], str(r["pc"]), r["state"], r["review_stage"] or "",
                  alert, r["last_event_date"], str(r["version"]))
    out.print(t)


@review_app.command("show")
def review_show(case_id: str, as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
                db: DbOpt = None) -> None:
    """The case, its alert, and the reviewer guide's recommendation (J.2.d). The SSN shows masked
    (`cdrflow case CASE --reveal REASON` shows it, logged)."""
    from cdrflow import authz
    from cdrflow.kernel.ssn import mask, mask_all
    from cdrflow.workflow.history import case_resource
    from cdrflow.workflow.review import guide

    store, me = _session(db)
    with _user_errors(), store.read() as tx:
        case = tx.require_case(case_id)
        authz.require(tx, me, "mailer.case.read", case_resource(case))
    g = _run(lambda: guide(store, case_id, me))
    # G.7: the integrity sample is "essentially invisible to the PC reviewer": the reviewer's view leaves out
    # the sampler's flags (`cdrflow case` shows an auditor the whole history).
    shown = {k: v for k, v in case.items() if v is not None and not k.startswith("integrity_")}
    shown["ssn"] = mask(case["ssn"])
    if as_json:  # the guide carries the mailer as received: the SSN in it is masked too
        out.print_json(mask_all(json.dumps({"case": shown, "guide": g}, default=str), case["ssn"]))
        return
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
def review_associate(case_id: str, on: OnOpt = None, version: VersionOpt = None,
                     db: DbOpt = None) -> None:
    """DSE/FLC: associate the actual mailer with the PSC MAILER alert output (E.4.b)."""
    from cdrflow.workflow import review

    store, me = _session(db)
    day = _date(on, "--on")
    nxt = _run(lambda: review.associate(store, case_id, me, day, expected_version=version))
    out.print(f"{case_id}: mailer associated; next stage {nxt}")
    _business_date(day, on)


@review_app.command("translation")
def review_translation(case_id: str, done: Annotated[bool, typer.Option("--done")] = False,
                       work_reported: Annotated[bool, typer.Option("--work-reported")] = False, on: OnOpt = None,
                       version: VersionOpt = None, db: DbOpt = None) -> None:
    """BET/DT: refer to a translator, or (--done) record the translation and route the case (G.4.a, G.5)."""
    from cdrflow.workflow import review

    store, me = _session(db)
    day = _date(on, "--on")
    nxt = _run(lambda: review.translation(store, case_id, me, day, done=done,
                                          work_reported=work_reported, expected_version=version))
    out.print(f"{case_id}: stage {nxt}")
    _business_date(day, on)


@review_app.command("work")
def review_work(case_id: str, year: Annotated[int, typer.Option()],
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

    store, me = _session(db)
    day = _date(on, "--on")
    d = _run(lambda: review.work(store, case_id, me, day, year=year, amount=amount,
                                 period=period.upper(), posted=posted,  # type: ignore[arg-type]
                                 earnings_known=earnings_known, folder=folder, resolved=resolved,
                                 expected_version=version))
    out.print(f"{case_id}: {d['action']}; annotate \"{d['annotation']}\""
              + ("; SSA-559 to the DE/DEC/DC prepared" if d["ssa_559"] else ""))
    for s in d["next_steps"]:
        out.print(f"  - {s}")
    _business_date(day, on)


@review_app.command("decide")
def review_decide(case_id: str,
                  full_cdr: Annotated[bool, typer.Option("--full-cdr/--defer", help="DO CDR or defer")],
                  vr: Annotated[bool, typer.Option("--vr-requested")] = False,
                  remarks: Annotated[str | None, typer.Option()] = None,
                  medical_remark: Annotated[str | None, typer.Option(
                      "--medical-remark", help="deferral with blank DCF medical data: your words for the REMARK "
                                               "(J.3.a NOTE)")] = None,
                  on: OnOpt = None, version: VersionOpt = None, db: DbOpt = None) -> None:
    """DE/DEC/DC: enter the decision as IPCA event 2-5 (G.6); integrity sampling follows (G.7)."""
    from cdrflow.workflow import review

    store, me = _session(db)
    day = _date(on, "--on")
    r = _run(lambda: review.decide(store, case_id, me, day, full_cdr=full_cdr,
                                   vr_requested=vr, remarks=remarks, medical_remark=medical_remark,
                                   expected_version=version))
    # G.7: integrity sampling is "essentially invisible to the PC reviewer": the reviewer sees the input
    # they made; `cdrflow case` shows an auditor the whole history.
    out.print(f"{case_id}: IPCA {r['ipca_event']} {r['label']} recorded "
              f"(reviewer guide recommended {r['recommendation']})")
    _business_date(day, on)


@review_app.command("return-to-bet")
def review_return(case_id: str, reason: Annotated[str, typer.Option()] = "EARNINGS UNDER TOLERANCE LEVEL",
                  on: OnOpt = None, version: VersionOpt = None, db: DbOpt = None) -> None:
    """DE/DEC/DC: return the case to the BET/DT (J.3.a NOTE)."""
    from cdrflow.workflow import review

    store, me = _session(db)
    day = _date(on, "--on")
    _run(lambda: review.return_to_bet_dt(store, case_id, me, day, reason=reason,
                                         expected_version=version))
    out.print(f"{case_id}: returned to BET/DT")
    _business_date(day, on)


@review_app.command("dircon")
def review_dircon(case_id: str,
                  result: Annotated[str, typer.Option(help="BUSY, NO_ANSWER, REACHED, REFUSED, NOT_LOCATED")],
                  on: OnOpt = None, version: VersionOpt = None, db: DbOpt = None) -> None:
    """A DIRCON attempt: on a nonresponder (I; the dircon-outcome calc says what follows) or, during a PC
    review, for unanswered questions (J.1; recorded, the review goes on)."""
    from cdrflow.workflow import review

    store, me = _session(db)
    day = _date(on, "--on")
    r = _run(lambda: review.dircon(store, case_id, me, day,
                                   result=result.upper(), expected_version=version))  # type: ignore[arg-type]
    out.print(f"{case_id}: {r['outcome']} ({r['counted_attempts']} counted attempts)")
    _business_date(day, on)


@review_app.command("referral-done")
def review_referral_done(case_id: str, note: Annotated[str, typer.Option()], on: OnOpt = None,
                         version: VersionOpt = None, db: DbOpt = None) -> None:
    """E.2: record that the PC/FO took the necessary action on a WBDOC referral."""
    from cdrflow.workflow import review

    store, me = _session(db)
    day = _date(on, "--on")
    _run(lambda: review.referral_done(store, case_id, me, day, note=note,
                                      expected_version=version))
    out.print(f"{case_id}: referral action recorded")
    _business_date(day, on)


@review_app.command("undeliverable")
def review_undeliverable(case_id: str,
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
    store, me = _session(db)
    day = _date(on, "--on")
    state = _run(lambda: review.undeliverable(store, case_id, me, day, new_address=addr,
                                              expected_version=version))
    out.print(f"{case_id}: {state}")
    _business_date(day, on)


@review_app.command("notice-undeliverable")
def review_notice_undeliverable(case_id: str, on: OnOpt = None, db: DbOpt = None) -> None:
    """J.3.c: a deferral notice the USPS returned as undeliverable: recorded and securely destroyed, never re-sent."""
    from cdrflow.workflow import review

    store, me = _session(db)
    day = _date(on, "--on")
    _run(lambda: review.notice_undeliverable(store, case_id, me, day))
    out.print(f"{case_id}: deferral notice returned undeliverable; securely destroyed, not re-sent (J.3.c)")
    _business_date(day, on)


@review_app.command("dispose")
def review_dispose(case_id: str, document: Annotated[str, typer.Option()],
                   disposition: Annotated[str, typer.Option(help="DESTROYED, CLAIMS_FOLDER, OTHER_COMPONENT")],
                   note: Annotated[str | None, typer.Option()] = None, on: OnOpt = None, db: DbOpt = None) -> None:
    """J.3.d: record the disposal of a mailer, facsimile, attachment, alert or profile sheet."""
    from cdrflow.workflow import review

    store, me = _session(db)
    day = _date(on, "--on")
    _run(lambda: review.dispose(store, case_id, me, day, document=document,
                                disposition=disposition.upper(), note=note))  # type: ignore[arg-type]
    out.print(f"{case_id}: {document} {disposition}")
    _business_date(day, on)


# ---- case history / documents ---------------------------------------------------------------------

def case(case_id: Annotated[str | None, typer.Argument(help="case id (from the queue, a notice, the print file)")]
         = None,
         ssn_stdin: Annotated[bool, typer.Option("--ssn-stdin", help="find the beneficiary by an SSN read from "
                                                 "stdin (never on the command line); the search is logged")] = False,
         reveal: Annotated[str | None, typer.Option("--reveal", help="show the full SSN; give the reason (logged)")]
         = None,
         as_json: Annotated[bool, typer.Option("--json")] = False, db: DbOpt = None) -> None:
    """A beneficiary's QCDR-style event history (dates, titles, actors) and the current state of their cases.

    The SSN shows masked (***-**-1234) unless --reveal REASON: the reveal needs a role allowed to see it and is
    logged with the reason.
    """
    import sys

    from cdrflow.kernel.ssn import check_ssn, dashed, mask, mask_all
    from cdrflow.workflow.history import case_history, reveal_ssn

    if (case_id is None) == (not ssn_stdin):
        raise _fail("give a case id, or --ssn-stdin and the SSN on stdin")
    store, me = _session(db)
    ssn_in: str | None = None
    if ssn_stdin:
        ssn_in = sys.stdin.readline().strip().replace("-", "")
        try:
            check_ssn(ssn_in)
        except ValueError as exc:
            raise _fail(f"invalid_input (ssn): {exc}") from None
    h = _run(lambda: case_history(store, me, case_id=case_id, ssn=ssn_in))
    ssn = h["beneficiary"]["ssn"]
    if reveal is not None:
        first = case_id or (h["cases"][-1]["case_id"] if h["cases"] else None)
        _run(lambda: reveal_ssn(store, me, first, reason=reveal))
        shown = dashed(ssn)
    else:
        shown = mask(ssn)
    h["beneficiary"]["ssn"] = shown
    for e in h["events"]:
        e["ssn"] = shown
    for cs in h["cases"]:
        cs["ssn"] = shown
    if as_json:  # event details carry the mailers as received: their SSN is masked too unless revealed
        text = json.dumps(h, default=str)
        out.print_json(text if reveal is not None else mask_all(text, ssn))
        return
    b = h["beneficiary"]
    out.print(Panel.fit(f"{b['name']}  SSN {shown} {b['bic_or_id']}  {b['title']}  "
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


def documents(case_id: str, out_file: Annotated[Path, typer.Option("--out", "-o")] = Path("case.html"),
              reveal: Annotated[str | None, typer.Option("--reveal", help="keep the full SSN on the pages (as "
                                                         "issued); give the reason (logged)")] = None,
              db: DbOpt = None) -> None:
    """Render a case's documents (alert, facsimile, profile sheet, notices, referrals) as one HTML page.

    The documents are what was issued; on screen the SSN is masked everywhere it appears (scanlines too)
    unless --reveal REASON, which needs a role allowed to see it and is logged.
    """
    from cdrflow.documents import render_bundle
    from cdrflow.kernel.ssn import mask_all
    from cdrflow.safeio import write_text
    from cdrflow.workflow.history import document_payloads, reveal_ssn, ssn_of_case

    _no_overwrite({}, {"--out": out_file}, db)
    store, me = _session(db)
    docs = _run(lambda: document_payloads(store, case_id, me))
    if not docs:
        raise _fail(f"case {case_id} has no documents (yet); nothing was written")
    page = render_bundle(f"Case {case_id}", docs)
    if reveal is not None:
        _run(lambda: reveal_ssn(store, me, case_id, reason=reveal))
    else:
        with _user_errors(), store.read() as tx:
            ssn = ssn_of_case(tx, case_id, me)
        page = mask_all(page, ssn)
    write_text(out_file, page)  # owner-only, renamed into place
    out.print(f"{len(docs)} documents -> {out_file}" + ("" if reveal is not None else " (SSN masked)"))


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")
    app.command("case")(case)
    app.command("documents")(documents)
