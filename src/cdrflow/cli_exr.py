"""``cdrflow exr ...``: expedited reinstatement (EXR) cases, DI 28057.015, finding by finding.

Every verb takes ``--db URL`` (else env ``CDRFLOW_DATABASE_URL``, else ``sqlite:///cdrflow.db``) and
acts as the caller's authenticated principal (``CDRFLOW_TOKEN`` or the token file, else the OS
account; never a name typed on the command line). The permission model (:mod:`cdrflow.authz`) decides:
the FO of an office opens cases and records work (its office's cases); the DDS examiner or consultant,
DE/DEC/DC, records development, "same as or related", MIRS and the determination (cases routed to
their DDS, or to none). Reads are logged; SSNs show masked unless ``--reveal REASON`` (logged).
Errors are one ``error: <code>: ...`` line: exit 2 (bad input, wrong state or order), 3 (conflict),
4 (not allowed).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.table import Table

from cdrflow.cli_lifecycle import DbOpt, VersionOpt, _session, domain_errors, err, out

exr_app = typer.Typer(help="Expedited reinstatement (DI 28057.015): open a case, record findings, determine, "
                           "worksheet. Acts as the signed-in person (CDRFLOW_TOKEN / token file).",
                      no_args_is_help=True)

CaseArg = Annotated[int, typer.Argument(help="EXR case id (from `cdrflow exr open` or `exr list`)")]
MonthsOpt = Annotated[list[str] | None, typer.Option(help="YYYY-MM; repeat the option or give a comma list")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]
RevealOpt = Annotated[str | None, typer.Option("--reveal", help="show the full SSN; give the reason (logged)")]


def _month(text: str, name: str) -> Any:
    from cdrflow.engine.months import Month

    try:
        return Month.parse(text)
    except ValueError as exc:
        err.print(f"error: {name}: {exc}")
        raise typer.Exit(2) from None


def _month_list(values: list[str] | None, name: str) -> list[str]:
    """``--sga 2004-01 --sga 2004-02,2004-03`` -> the months, checked."""
    return [str(_month(p, name)) for v in values or [] for p in v.split(",") if p.strip()]


def _day(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        err.print(f"error: {name}: {text!r} is not a date YYYY-MM-DD")
        raise typer.Exit(2) from None


@exr_app.command("open")
def exr_open(
    ssn: Annotated[str, typer.Option(help="claimant SSN, 9 digits")],
    request_month: Annotated[str, typer.Option("--request-month", help="month of the EXR request (filing month)")],
    btm: Annotated[str, typer.Option(help="benefit termination month of the previous entitlement")],
    alleged: Annotated[list[str], typer.Option(help="alleged current impairment (repeat)")],
    title: Annotated[str, typer.Option(help="T2 or T16")] = "T2",
    filing_date: Annotated[str | None, typer.Option("--filing-date", help="filing date YYYY-MM-DD")] = None,
    fo: Annotated[str | None, typer.Option(help="field office on the filing (e.g. DOORS code)")] = None,
    dds: Annotated[str | None, typer.Option("--dds", help="route the case to this DDS (its examiners act on "
                                                          "it); else any examiner may")] = None,
    cpd_date: Annotated[str | None, typer.Option("--cpd-date", help="date of the comparison point decision")] = None,
    cpd_impairment: Annotated[list[str] | None, typer.Option("--cpd-impairment",
                                                             help="CPD impairment (repeat)")] = None,
    cpd_basis: Annotated[str | None, typer.Option("--cpd-basis", help="LISTING or MEDICAL_VOCATIONAL (required "
                                                   "with --cpd-impairment)")] = None,
    cpd_listing: Annotated[str | None, typer.Option("--cpd-listing", help="listing code, e.g. 9.09")] = None,
    cpd_listing_obsolete: Annotated[bool, typer.Option("--cpd-listing-obsolete")] = False,
    folder_missing: Annotated[bool, typer.Option("--folder-missing", help="prior medical file missing (C.4)")] = False,
    sga: MonthsOpt = None,
    non_sga: Annotated[list[str] | None, typer.Option("--non-sga", help="non-SGA month on the SSA-823 (YYYY-MM; "
                                                                         "repeat or comma list)")] = None,
    db: DbOpt = None,
) -> None:
    """FO: open an EXR case with the facts of the request (DI 28057.015E; TN 2 D.3: the SSA-823 months).

    The case records your office; only your office's FO staff and the examiners of its DDS see it."""
    from cdrflow.kernel.ssn import mask
    from cdrflow.workflow import exr

    facts: dict[str, Any] = {
        "ssn": ssn, "title": title.upper(), "request_month": request_month, "btm": btm,
        "filing": {"date": str(_day(filing_date, "--filing-date")) if filing_date else None, "fo": fo},
        "alleged_impairments": alleged, "prior_folder_missing": folder_missing,
        "sga_months": _month_list(sga, "--sga"), "non_sga_months": _month_list(non_sga, "--non-sga"),
    }
    if cpd_impairment:
        if cpd_basis is None:
            err.print("error: --cpd-basis: state the CPD's basis, LISTING or MEDICAL_VOCATIONAL")
            raise typer.Exit(2)
        facts["cpd"] = {"date": str(_day(cpd_date, "--cpd-date")) if cpd_date else None,
                        "impairments": cpd_impairment, "basis": cpd_basis.upper(), "listing": cpd_listing,
                        "listing_obsolete": cpd_listing_obsolete}
    store, me = _session(db)
    with domain_errors():
        case_id = exr.open_case(store, me, dds=dds, **facts)
    routed = f", routed to {dds.strip()}" if dds else ""
    out.print(f"EXR case {case_id} opened for {mask(ssn)} ({title.upper()}, request {request_month}{routed})",
              markup=False, highlight=False)


@exr_app.command("develop")
def exr_develop(case_id: CaseArg, note: Annotated[str | None, typer.Option()] = None,
                version: VersionOpt = None, db: DbOpt = None) -> None:
    """DDS: all necessary medical development is complete (DI 28057.015C NOTE)."""
    from cdrflow.workflow import exr

    store, me = _session(db)
    with domain_errors():
        v = exr.record_development_complete(store, case_id, me, note=note, expected_version=version)
    out.print(f"EXR case {case_id}: development complete (version {v})")


@exr_app.command("same-or-related")
def exr_same_or_related(
    case_id: CaseArg,
    finding: Annotated[bool, typer.Option("--yes/--no", help="same as or related to the CPD impairment(s)?")],
    rationale: Annotated[str, typer.Option(help="the evidence for the finding")],
    version: VersionOpt = None, db: DbOpt = None,
) -> None:
    """DDS: the "same as or related" finding (DI 28057.015A, C); refused before development is complete."""
    from cdrflow.workflow import exr

    store, me = _session(db)
    with domain_errors():
        v = exr.record_same_or_related(store, case_id, me, finding=finding, rationale=rationale,
                                       expected_version=version)
    what = "same as or related" if finding else "NOT same as or related: no MIRS determination (A, C)"
    out.print(f"EXR case {case_id}: {what} (version {v})")


@exr_app.command("mirs")
def exr_mirs(
    case_id: CaseArg,
    month: Annotated[str | None, typer.Option(help="the month (YYYY-MM); or --from/--to")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="first month of a range")] = None,
    to: Annotated[str | None, typer.Option("--to", help="last month of a range")] = None,
    mi_related: Annotated[bool, typer.Option("--mi-related", help="medical improvement related to the ability "
                                                                  "to work")] = False,
    group_i: Annotated[bool, typer.Option("--group-i", help="a Group I exception applies")] = False,
    group_ii: Annotated[bool, typer.Option("--group-ii", help="a Group II exception applies")] = False,
    capable_of_sga: Annotated[bool | None, typer.Option("--capable-of-sga/--not-capable-of-sga",
                                                        help="capacity for SGA (needed after MI related to work "
                                                             "or a Group I exception)")] = None,
    version: VersionOpt = None, db: DbOpt = None,
) -> None:
    """DDS: MIRS findings for a month or a range (DI 28057.015D); refused before "same as or related"."""
    from cdrflow.workflow import exr

    if (month is None) == (from_ is None):
        err.print("error: --month: give --month, or --from (and optionally --to)")
        raise typer.Exit(2)
    if to is not None and from_ is None:
        err.print("error: --to: needs --from")
        raise typer.Exit(2)
    first = month if month is not None else from_
    assert first is not None
    store, me = _session(db)
    with domain_errors():
        rows = exr.record_mirs(store, case_id, me, month=first, through=to,
                               mi_related_to_ability_to_work=mi_related, group_i_exception=group_i,
                               group_ii_exception=group_ii, capable_of_sga=capable_of_sga,
                               expected_version=version)
    for r in rows:
        state = "under a disability" if r["disabled"] else "NOT under a disability"
        out.print(f"EXR case {case_id}: {r['month']} {state} ({r['reason']})")


@exr_app.command("return-to-work")
def exr_return_to_work(case_id: CaseArg, sga: MonthsOpt = None,
                       note: Annotated[str | None, typer.Option()] = None, version: VersionOpt = None,
                       db: DbOpt = None) -> None:
    """FO: SGA months reported while the request is processed (DI 28057.015G)."""
    from cdrflow.workflow import exr

    months = _month_list(sga, "--sga")
    if not months:
        err.print("error: --sga: name at least one SGA month")
        raise typer.Exit(2)
    store, me = _session(db)
    with domain_errors():
        all_sga = exr.record_return_to_work(store, case_id, me, sga_months=months, note=note,
                                            expected_version=version)
    out.print(f"EXR case {case_id}: SGA months now {', '.join(all_sga)}")


@exr_app.command("determine")
def exr_determine(case_id: CaseArg,
                  as_of: Annotated[str, typer.Option("--as-of", help="determination date YYYY-MM-DD (picks "
                                                                     "TN 1 or TN 2)")],
                  version: VersionOpt = None, db: DbOpt = None) -> None:
    """DDS: the EXR determination (DI 28057.015A-G) from the case and its findings."""
    from cdrflow.workflow import exr

    day = _day(as_of, "--as-of")
    store, me = _session(db)
    with domain_errors():
        a = exr.determine(store, case_id, me, as_of=day, expected_version=version)
    moe = f", MOE {a['moe']}" if a["moe"] else ""
    out.print(f"EXR case {case_id}: [bold]{a['outcome']}[/]{moe} (DI 28057.015 {a['version']})")
    for r in a["reasons"]:
        out.print(f"  - {r['text']} ({r['cite']})")
    for r in a["remarks"]:
        out.print(f"  remark: {r}")


@exr_app.command("show")
def exr_show(case_id: CaseArg, reveal: RevealOpt = None, as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """The case, its findings in order (who, when) and the determination (the read is logged).

    The SSN shows masked (***-**-1234) unless --reveal REASON: the reveal needs a role allowed to see it
    (the FO of the case's office, the examiners of its DDS, auditors) and is logged with the reason."""
    v = _read(case_id, reveal, db)
    if as_json:
        out.print_json(json.dumps(v, default=str))
        return
    c, s = v["case"], v["status"]
    cpd = c["cpd"] or {}
    out.print(Panel.fit(
        f"SSN {c['ssn']}  {c['title']}  request {c['request_month']}  BTM {c['btm']}  state {c['state']}  "
        f"version {c['version']}\n"
        f"SGA months: {', '.join(c['sga_months']) or 'none'}\n"
        f"non-SGA months: {', '.join(c['non_sga_months']) or 'none'}\n"
        f"alleged: {'; '.join(c['alleged_impairments'])}\n"
        f"CPD: {'; '.join(cpd.get('impairments') or []) or 'unknown'}"
        + ("  [bold]prior folder missing (C.4)[/]" if c["prior_folder_missing"] else "")
        + f"\nopened by {c['opened_by']} at {_at(c['opened_at'])}", title=f"EXR case {c['case_id']}"))
    t = Table(title="findings")
    for col in ("#", "at (UTC)", "by", "step"):
        t.add_column(col, no_wrap=True)
    t.add_column("finding")
    for n, f in enumerate(v["findings"], start=1):
        t.add_row(str(n), _at(f["at"]), f["by"], f["step"], _finding_text(f))
    out.print(t)
    d = v["determination"]
    if d:
        out.print(f"determination: [bold]{d['outcome']}[/]" + (f", MOE {d['moe']}" if d["moe"] else "")
                  + f" (DI 28057.015 {d['version']}, as of {d['as_of']}, by {d['by']})")
    else:
        out.print(f"MIRS met from: {s['mirs_met_from'] or '-'}; next step: {s['next_step']}")


def _read(case_id: int, reveal: str | None, db: str | None) -> dict[str, Any]:
    """The case view as the signed-in person may read it, its SSN masked unless revealed (logged)."""
    from cdrflow.kernel.ssn import dashed, mask
    from cdrflow.workflow import exr

    store, me = _session(db)
    with domain_errors():
        v = exr.case_view(store, case_id, me)
        if reveal is not None:
            exr.reveal_ssn(store, case_id, me, reason=reveal)
    ssn = v["case"]["ssn"]
    v["case"]["ssn"] = dashed(ssn) if reveal is not None else mask(ssn)
    return v


def _at(iso: str) -> str:
    """``2004-10-15T14:03:07.123+00:00`` -> ``2004-10-15 14:03`` (the view's timestamps are UTC)."""
    return iso[:16].replace("T", " ")


def _finding_text(f: dict[str, Any]) -> str:
    p = f["payload"]
    if f["step"] == "SAME_OR_RELATED":
        return ("same as or related" if p["finding"] else "NOT same as or related") + f": {p['rationale']}"
    if f["step"] == "MIRS":
        return f"{f['month']}: {'disabled' if p['disabled'] else 'not disabled'} ({p['reason']})"
    if f["step"] == "RETURN_TO_WORK":
        return "SGA " + ", ".join(p["sga_months_added"])
    if f["step"] == "DETERMINATION":
        a = p["answer"]
        return f"{a['outcome']}" + (f", MOE {a['moe']}" if a["moe"] else "") + f" ({a['version']})"
    return str(p.get("note") or "development complete")


@exr_app.command("worksheet")
def exr_worksheet(case_id: CaseArg,
                  out_file: Annotated[Path, typer.Option("-o", "--out", help="file to write: .html, or .pdf "
                                                                    "(through Chromium)")] = Path("exr-worksheet.html"),
                  reveal: RevealOpt = None, db: DbOpt = None) -> None:
    """The readable worksheet: facts, findings, determination, and the months of the window.

    The SSN shows masked unless --reveal REASON (logged, as for `exr show`)."""
    from cdrflow.documents.exr import render_exr_worksheet
    from cdrflow.workflow import exr

    if out_file.suffix.lower() not in (".html", ".pdf"):
        err.print(f"error: --out: {out_file}: use .html or .pdf")
        raise typer.Exit(2)
    from cdrflow.cli_lifecycle import _no_overwrite

    _no_overwrite({}, {"--out": out_file}, db)  # never over the database (interpretations §73)
    store, me = _session(db)
    with domain_errors():
        v = exr.case_view(store, case_id, me)
        if reveal is not None:
            exr.reveal_ssn(store, case_id, me, reason=reveal)
    page = render_exr_worksheet(v, full_ssn=reveal is not None)  # masked unless revealed (logged)
    if out_file.suffix.lower() == ".pdf":
        from cdrflow.cli_lifecycle import settings
        from cdrflow.reports.pdf import PdfUnavailable, html_to_pdf

        try:
            html_to_pdf(page, out_file, chromium=settings().chromium)
        except PdfUnavailable as exc:
            err.print(f"error: --out: {exc}")
            raise typer.Exit(2) from None
    else:
        from cdrflow.safeio import write_text

        write_text(out_file, page)  # owner-only, renamed into place
    out.print(f"EXR case {case_id}: worksheet -> {out_file}")


@exr_app.command("list")
def exr_list(state: Annotated[str | None, typer.Option(help="OPEN, DEVELOPED, RELATED, NOT_RELATED, "
                                                            "DETERMINED")] = None,
             ssn: Annotated[str | None, typer.Option()] = None, limit: int = 100, as_json: JsonOpt = False,
             db: DbOpt = None) -> None:
    """EXR cases you may see (your office's; your DDS's and unrouted ones), newest first; SSNs masked."""
    from cdrflow.kernel.ssn import mask
    from cdrflow.workflow import exr

    store, me = _session(db)
    with domain_errors():
        rows = exr.list_cases(store, me, state=state, ssn=ssn, limit=limit)
    for r in rows:
        r["ssn"] = mask(r["ssn"])
    if as_json:
        out.print_json(json.dumps(rows, default=str))
        return
    t = Table(title="EXR cases")
    for col in ("case", "ssn", "title", "request", "BTM", "state", "outcome", "MOE", "version", "opened by",
                "office", "DDS"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["case_id"]), r["ssn"], r["title"], r["request_month"], r["btm"], r["state"],
                  r["outcome"] or "", r["moe"] or "", str(r["version"]), r["opened_by"], r["fo_office"] or "",
                  r["dds"] or "")
    out.print(t)


def register(app: typer.Typer) -> None:
    app.add_typer(exr_app, name="exr")
