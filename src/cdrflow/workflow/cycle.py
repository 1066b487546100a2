"""Mailer selection cycles (DI 40502.001C, G.6, E.1, H.2, E.4.a).

``run_cycle(store, as_of)`` does what one selection run does, for each title group whose cadence
(G.6: every 4 months for Title II-only and concurrent, every 6 months for Title XVI-only) has come
round since its last run:

1. second-request mailers for cases whose INITIAL MAILER SENT is more than 90 days old;
2. nonresponder alerts for cases whose SECOND MAILER SENT is more than 150 days old, and for held
   UNDELIVERABLE mailers 150 days after the send request;
3. PC MAILER FOLLOW-UP for PC reviews not cleared;
4. first mailers for beneficiaries whose medical diary is due and whose profile is selected for
   mailers, excluding PC-8 (foreign) cases.

The day counts come from the ``followup-selection`` calc; nothing here repeats them. Each chunk of
cases is one transaction; every event has an idempotency key, and a first mailer is not made for a
beneficiary the DCF already has a case selected on that date for, so a rerun (or a rerun after a
crash) adds nothing twice. Case ids are opaque (:func:`new_case_id`; interpretations §78). The print
file for the mail contractor has one record per mailer with the three scanlines of B.8 encoded; the
SSN is on scanline 1 and nowhere else in it.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, not_, or_, select

from cdrflow import authz
from cdrflow.authz import Resource
from cdrflow.dcf.schema import beneficiaries, cases, cycles, events
from cdrflow.dcf.store import SELECTION, Actor, Store, Tx, dumps, now
from cdrflow.engine.months import Month
from cdrflow.forms.scanlines import LAYOUTS, Sfic, b8_score
from cdrflow.policy.mailer.jurisdiction import SsnTable
from cdrflow.policy.mailer.source import param
from cdrflow.safeio import atomic

from . import common as c

GROUPS: dict[str, tuple[str, ...]] = {"T2": ("T2", "T2/16"), "T16": ("T16",)}
"""Selection groups of G.6: Title II-only with concurrent, and Title XVI-only."""

Progress = Callable[[str, int], None]


@dataclass
class CycleResult:
    as_of: dt.date
    groups: list[str]
    skipped_groups: dict[str, str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    print_records: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": str(self.as_of), "groups": self.groups, "skipped_groups": self.skipped_groups,
                "counts": dict(self.counts), "print_records": self.print_records}


def selected_profiles(on: dt.date) -> list[str]:
    return list(param("mailer_profiles", on))


def due_groups(tx: Tx, as_of: dt.date, titles: Sequence[str] | None = None) -> tuple[list[str], dict[str, str]]:
    """Groups whose cadence has come round: never run, or last run at least N months before ``as_of``."""
    cadence = param("selection_cadence_months", as_of)
    due: list[str] = []
    skipped: dict[str, str] = {}
    for group, titles_in in GROUPS.items():
        if titles and not set(titles_in) & set(titles):
            continue
        months = int(cadence[titles_in[0]])
        last = tx.conn.execute(
            select(cycles.c.as_of, cycles.c.finished_at).where(cycles.c.cycle_id.like(f"%:{group}"),
                                                                cycles.c.as_of <= as_of)
            .order_by(cycles.c.as_of.desc()).limit(1)
        ).first()
        if last is None:
            due.append(group)
            continue
        if last.as_of == as_of:
            if last.finished_at is None:
                due.append(group)  # an interrupted run: finish it (idempotent)
            else:
                skipped[group] = f"already ran on {as_of}"
            continue
        elapsed = (Month(as_of.year, as_of.month) - Month(last.as_of.year, last.as_of.month))
        if elapsed >= months:
            due.append(group)
        else:
            skipped[group] = (f"last {group} selection on {last.as_of}; the next is due {months} months later "
                              "(DI 40502.001G.6)")
    return due, skipped


def _scanline_mdr(ben: dict[str, Any]) -> str | None:
    """The MDR/MR printed on the mailer at selection (B.8 scanline 2 field 1; G.5 "at the time of selection")."""
    return ben.get("od_calc_mdr") or ben.get("qmid_mdr") or ben.get("ssr_mr") or None


@lru_cache(maxsize=64)
def _sfic(code: str) -> Sfic:
    return Sfic.parse(code)


_SFIC_TITLE = {"T2": "2", "T2/16": "C", "T16": "6"}


def scanlines(ben: dict[str, Any], case: dict[str, Any]) -> tuple[str, str, str]:
    """The three B.8 scanlines of one mailer."""
    prior = ben.get("prior_cdr") or ""
    prior_year = int(prior[4:8]) if prior.startswith("CDR ") and prior[4:8].isdigit() else None
    line1 = LAYOUTS[1].encode({
        "ssn": ben["ssn"], "bic_or_id": ben["bic_or_id"][:2], "birth_year": ben["birth_date"].year,
        "prior_cdr_year": prior_year, "primary_dx": ben["diagnosis_primary"],
        "secondary_dx": ben.get("diagnosis_secondary"),
    })
    lang = "E" if ben["language"] == "ENGLISH" else "N"
    score = ben.get("profile_score")
    line2 = LAYOUTS[2].encode({
        "mdr": case.get("scanline_mdr"), "concurrent": case["title"] == "T2/16",
        # B.8 "9999 is highest": the stored fraction 0-1 as 4 digits, as the profile sheet shows it.
        "profile": case["profile"], "score": b8_score(float(score)) if score is not None else None,
        "report_period": Month.parse(case["report_period_start"]),
        "sfic": _sfic(("F" if case["request"] == "FIRST" else "S") + _SFIC_TITLE[case["title"]] + lang),
        "pc": case["pc"], "dds": (ben["dds"] + "0")[:3], "fo": ben["fo_doors"][:3],
    })
    city = "".join(ch for ch in ben["fo_city"].upper() if ch.isalpha() or ch in " .'-")[:20].rstrip()
    line3 = LAYOUTS[3].encode({"fo_city": city, "fo_state": ben["fo_state"], "fo_zip": ben["fo_zip"][:5]})
    return line1, line2, line3


def _print_record(ben: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    l1, l2, l3 = scanlines(ben, case)
    to = ben.get("rep_payee") or ben["name"]
    return {
        "mailer_id": case["case_id"], "request": case["request"], "title": case["title"],
        "form": "SSA-455-OCR-SM", "send_request_date": str(case["send_request_date"]),
        "addressee": to, "in_care_of": ben["name"] if ben.get("rep_payee") else None,
        "address_line": ben["address_line"], "city": ben["city"], "state": ben.get("state"), "zip": ben.get("zip"),
        "country": ben["country"], "language": ben["language"],
        "scanline1": l1, "scanline2": l2, "scanline3": l3,
        # Scanline 2 field 7 is the servicing PC; what it rests on travels beside it (E.4.a; interp. §14).
        "pc": case["pc"], "pc_basis": case["pc_basis"],
    }


def _chunks(rows: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def run_cycle(
    store: Store,
    as_of: dt.date,
    *,
    titles: Sequence[str] | None = None,
    profiles: Sequence[str] | None = None,
    print_file: Path | None = None,
    chunk_size: int = 20_000,
    progress: Progress | None = None,
    by: Actor = SELECTION,
    pc_ssn_table: SsnTable | None = None,
) -> CycleResult:
    """One selection run on ``as_of`` (see the module docstring), run by ``by`` (an operator, or the
    selection component on its schedule); the events name the selection component.

    ``pc_ssn_table`` is the site's GN 01070.245 table the first mailers' PC 1-6 is found in before the
    shipped public chart (None: the public chart only); it is this run's, nothing keeps it after."""
    with store.tx() as tx:
        authz.require(tx, by, "mailer.cycle.run", Resource("cycle", str(as_of)))
    with store.tx() as tx:
        groups, skipped = due_groups(tx, as_of, titles)
        for g in groups:
            cid = f"{as_of}:{g}"
            if tx.conn.execute(select(cycles.c.cycle_id).where(cycles.c.cycle_id == cid)).first() is None:
                tx.conn.execute(cycles.insert().values(cycle_id=cid, as_of=as_of, started_at=now()))
    result = CycleResult(as_of=as_of, groups=groups, skipped_groups=skipped)
    if groups:
        profiles = list(profiles) if profiles else selected_profiles(as_of)
        in_titles = [t for g in groups for t in GROUPS[g]]
        _followups(store, as_of, in_titles, result, chunk_size, progress)
        _pc_followups(store, as_of, in_titles, result, chunk_size, progress)
        _first_mailers(store, as_of, in_titles, profiles, result, chunk_size, progress, pc_ssn_table)
        with store.tx() as tx:
            for g in groups:
                tx.conn.execute(cycles.update().where(cycles.c.cycle_id == f"{as_of}:{g}")
                                .values(finished_at=now(), counts=json.dumps(dict(result.counts), sort_keys=True)))
    if print_file is not None:
        result.print_records = write_print_file(store, as_of, print_file)
    return result


def write_print_file(store: Store, as_of: dt.date, path: Path) -> int:
    """The contractor's print file for the mailers sent on ``as_of``, read back from the DCF.

    Built from the INITIAL / SECOND MAILER SENT events, so it is complete after an interrupted run
    is finished, identical when a run is repeated, and can be regenerated at any time.
    """
    sent = (events.c.event_type.like("% INITIAL MAILER SENT") | events.c.event_type.like("% SECOND MAILER SENT"))
    initial = events.alias("initial")  # the selection event records the PC's basis (pc_basis)
    n = 0
    with store.read() as tx, atomic(path) as out:  # owner-only, renamed into place when complete
        rows = tx.conn.execute(
            select(cases, beneficiaries, events.c.event_type.label("_sent"), initial.c.detail.label("_initial"))
            .join(cases, cases.c.case_id == events.c.case_id)
            .join(beneficiaries, beneficiaries.c.ssn == cases.c.ssn)
            .outerjoin(initial, and_(initial.c.case_id == cases.c.case_id,
                                     initial.c.event_type.like("% INITIAL MAILER SENT")))
            .where(events.c.event_date == as_of, sent).order_by(cases.c.case_id)
        ).mappings()
        for r in rows:
            row = dict(r)
            row["request"] = "SECOND" if row["_sent"].endswith("SECOND MAILER SENT") else "FIRST"
            row["send_request_date"] = as_of
            row["pc_basis"] = c.recorded_basis(row["_initial"], row)
            out.write(dumps(_print_record(row, row)) + "\n")
            n += 1
    return n


def _followups(store: Store, as_of: dt.date, titles: list[str], result: CycleResult, chunk_size: int,
               progress: Progress | None) -> None:
    with store.read() as tx:
        rows = [dict(r) for r in tx.conn.execute(
            select(cases, beneficiaries).join(beneficiaries, beneficiaries.c.ssn == cases.c.ssn)
            # A signature control or a PC resend does not clear the second-mailer / nonresponder
            # control: only the confirmation of a processable mailer does (E.6; interp. §25).
            .where(cases.c.state.in_([c.SENT, c.UNDELIVERABLE, c.SIGNATURE_PENDING, c.PC_RESENT]),
                   cases.c.title.in_(titles))
            .order_by(cases.c.case_id)
        ).mappings()]
    for chunk in _chunks(rows, chunk_size):
        evs: list[dict[str, Any]] = []
        updates_second: list[dict[str, Any]] = []
        updates_nr: list[dict[str, Any]] = []
        for r in chunk:
            action, posted, days, pv = c.followup(
                r["title"], r["last_event"], r["last_event_date"], as_of,
                r["send_request_date"] if r["last_event"].endswith("UNDELIVERABLE") else None)
            if action == "SEND_SECOND_MAILER":
                evs.append(c.event(ssn=r["ssn"], case_id=r["case_id"], event_date=as_of, event_type=posted or "",
                                 actor=SELECTION, policy_version=pv, detail={"days": days},
                                 idem_key=f"2nd:{r['case_id']}"))
                upd = {"case_id": r["case_id"], "version": r["version"], "request": "SECOND", "state": c.SENT,
                       "send_request_date": as_of, "last_event": posted, "last_event_date": as_of,
                       "remailed": False}
                updates_second.append(upd)
                result.counts["second_request"] += 1
            elif action == "NONRESPONDER_REVIEW":
                evs.append(c.event(ssn=r["ssn"], case_id=r["case_id"], event_date=as_of, event_type=posted or "",
                                 actor=SELECTION, policy_version=pv, detail={"days": days, "from": r["state"]},
                                 idem_key=f"nr:{r['case_id']}"))
                updates_nr.append({"case_id": r["case_id"], "version": r["version"], "state": c.NONRESPONDER,
                                   "review_stage": c.DIRCON, "last_event": posted, "last_event_date": as_of})
                result.counts["nonresponder"] += 1
        with store.tx() as tx:
            done = tx.existing_keys([e["idem_key"] for e in evs])
            tx.append([e for e in evs if e["idem_key"] not in done])
            tx.update_cases(updates_second)
            tx.update_cases(updates_nr)
        if progress:
            progress("follow-ups", len(chunk))


def _pc_followups(store: Store, as_of: dt.date, titles: list[str], result: CycleResult, chunk_size: int,
                  progress: Progress | None) -> None:
    """G.6: "Periodically, if the PC MAILER REVIEW is not cleared", a follow-up event; here, at each run."""
    with store.read() as tx:
        rows = [dict(r) for r in tx.conn.execute(
            select(cases.c.case_id, cases.c.ssn, cases.c.title, cases.c.version, cases.c.last_event_date)
            .where(cases.c.state == c.PC_REVIEW, cases.c.title.in_(titles), cases.c.last_event_date < as_of)
            .order_by(cases.c.case_id)
        ).mappings()]
    pv = c.policy_version_of(as_of, "selection_cadence_months")
    for chunk in _chunks(rows, chunk_size):
        evs = []
        upd = []
        for r in chunk:
            posted = c.label(r["title"], "PC MAILER FOLLOW-UP")
            evs.append(c.event(ssn=r["ssn"], case_id=r["case_id"], event_date=as_of, event_type=posted,
                               actor=SELECTION, policy_version=pv, detail={"pending_since": str(r["last_event_date"])},
                             idem_key=f"fu:{r['case_id']}:{as_of}"))
            upd.append({"case_id": r["case_id"], "version": r["version"], "last_event": posted,
                        "last_event_date": as_of})
        with store.tx() as tx:
            done = tx.existing_keys([e["idem_key"] for e in evs])
            tx.append([e for e in evs if e["idem_key"] not in done])
            tx.update_cases([u for u, e in zip(upd, evs, strict=True) if e["idem_key"] not in done])
        result.counts["pc_followup"] += sum(1 for e in evs if e["idem_key"] not in done)
        if progress:
            progress("PC follow-ups", len(chunk))


def _first_mailers(store: Store, as_of: dt.date, titles: list[str], profiles: list[str], result: CycleResult,
                   chunk_size: int, progress: Progress | None, pc_ssn_table: SsnTable | None = None) -> None:
    due_month = str(Month(as_of.year, as_of.month))
    blocking = [*c.OPEN_STATES, c.DO_CDR, c.REFERRED]
    has_case = exists().where(and_(cases.c.ssn == beneficiaries.c.ssn, cases.c.state.in_(blocking)))
    with store.read() as tx:
        rows = [dict(r) for r in tx.conn.execute(
            select(beneficiaries).where(
                beneficiaries.c.title.in_(titles),
                beneficiaries.c.diary_month <= due_month,
                beneficiaries.c.profile.in_(profiles),
                beneficiaries.c.date_of_death.is_(None),
                not_(has_case),
                or_(beneficiaries.c.servicing_pc.is_(None), beneficiaries.c.servicing_pc != 8),
            ).order_by(beneficiaries.c.ssn)
        ).mappings()]
    rps = c.report_period_start(as_of, "")
    pv = c.policy_version_of(as_of, "mailer_profiles", "selection_cadence_months", "pc7_transfer_age")
    for chunk in _chunks(rows, chunk_size):
        mailable: list[tuple[dict[str, Any], int, str, str]] = []
        for b in chunk:
            pc, source, basis = c.jurisdiction(b, as_of, pc_ssn_table)
            if pc == 8:
                result.counts["excluded_pc8"] += 1  # E.4.a: PC-8 cases are excluded from first mailers
                continue
            if pc is None:
                # PC 1-6, but no loaded table knows the SSN's area number: held, not mailed (interp. §22).
                result.counts["held_no_jurisdiction"] += 1
                continue
            mailable.append((b, pc, source, basis))
        with store.tx() as tx:
            # A rerun of this date (after a crash) skips whoever a committed chunk selected: the DCF's cases
            # selected on this date, not an id made from the SSN (case ids are opaque; interpretations §78).
            already = _selected(tx, as_of, [b["ssn"] for b, *_ in mailable])
            keep = [m for m in mailable if m[0]["ssn"] not in already]
            ids = _new_case_ids(tx, as_of, len(keep))
            new_cases: list[dict[str, Any]] = []
            evs: list[dict[str, Any]] = []
            for case_id, (b, pc, source, basis) in zip(ids, keep, strict=True):
                label = c.label(b["title"], "INITIAL MAILER SENT")
                new_cases.append({
                    "case_id": case_id, "ssn": b["ssn"], "title": b["title"], "profile": b["profile"],
                    "selected_on": as_of, "request": "FIRST", "send_request_date": as_of,
                    "report_period_start": rps, "scanline_mdr": _scanline_mdr(b), "state": c.SENT,
                    "last_event": label, "last_event_date": as_of, "pc": pc})
                evs.append(c.event(ssn=b["ssn"], case_id=case_id, event_date=as_of, event_type=label, code="001",
                                   actor=SELECTION, policy_version=pv,
                                   detail={"diary_month": b["diary_month"], "profile": b["profile"], "pc": pc,
                                           "pc_source": source, "pc_basis": basis},
                                   idem_key=f"1st:{case_id}"))
            tx.insert_cases(new_cases)
            tx.append(evs)
        result.counts["first_mailer"] += len(keep)
        for _b, _pc, source, _basis in keep:  # first mailers whose PC 1-6 came from an SSN table (interp. §22)
            if source in ("SITE_TABLE", "PUBLIC_CHART"):
                result.counts[f"pc_by_{source.lower()}"] += 1
        if progress:
            progress("first mailers", len(chunk))


CASE_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base32: no I, L, O or U, so an id read aloud or keyed from paper is not mistaken."""
CASE_ID_RANDOM = 10
"""Random characters in a case id: 50 bits from :mod:`secrets`."""


def new_case_id(on: dt.date) -> str:
    """An opaque mailer id ``M<yyyymmdd>-<10 random Crockford base32 characters>``: the selection date and
    nothing of the SSN, not even a hash of it (interpretations §78). It is the mailer id of the print file
    and of the returned data file, and the case's key in the DCF."""
    return f"M{on:%Y%m%d}-" + "".join(secrets.choice(CASE_ID_ALPHABET) for _ in range(CASE_ID_RANDOM))


def _new_case_ids(tx: Tx, on: dt.date, n: int) -> list[str]:
    """``n`` new case ids, none of them already in the DCF or twice in the list (a draw of 50 bits rarely
    repeats, but a run of millions should not fail on the rare one)."""
    ids: list[str] = []
    taken: set[str] = set()
    while len(ids) < n:
        fresh = sorted({new_case_id(on) for _ in range(n - len(ids))} - taken)
        taken.update(fresh)
        clash: set[str] = set()
        for i in range(0, len(fresh), 5000):
            clash.update(tx.conn.execute(select(cases.c.case_id).where(cases.c.case_id.in_(fresh[i : i + 5000])))
                         .scalars())
        ids.extend(f for f in fresh if f not in clash)
    return ids


def _selected(tx: Tx, on: dt.date, ssns: Sequence[str]) -> set[str]:
    """Of ``ssns``, those with a case selected on ``on``, read under the run's lock.

    The lock is this date's ``cycles`` rows, written first in the chunk's transaction: on PostgreSQL a row
    lock, on SQLite the database's write lock. A second run of the same date (two operators, or a rerun
    started while the first still runs) waits for the chunk, then sees its cases and skips them, as the
    primary key did when the id was made from the SSN.
    """
    tx.conn.execute(cycles.update().where(cycles.c.as_of == on).values(finished_at=cycles.c.finished_at))
    found: set[str] = set()
    for i in range(0, len(ssns), 5000):
        found.update(tx.conn.execute(select(cases.c.ssn).where(
            cases.c.ssn.in_(list(ssns[i : i + 5000])), cases.c.selected_on == on)).scalars())
    return found
