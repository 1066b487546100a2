"""WBDOC intake of returned mailers (DI 40502.001E) and DCDRS decision logic (F).

``ingest(store, path, as_of)`` reads a JSON Lines or Parquet file of returned mailers: the
returned-mailer record of the policy layer (:class:`cdrflow.policy.mailer.record.ReturnedMailer`)
plus intake markers (:class:`Markers`). For each record, in order:

1. undeliverable: remail once; a second undeliverable is held (E.1);
2. screening (E.2): unsigned -> signature control; report of death, damage, name change, foreign
   address, fraud -> referral to the PC or FO; Title II name corrections, address changes and deaths
   update the MBR, Title XVI reports are referred to the FO;
3. confirmation: MAILER RECEIVED clears the second-mailer / nonresponder control (E.6);
4. unanswered questions: WBDOC DIRCON (E.2), with any answers it secured;
5. sorting by title, PC jurisdiction and actionable (E.4), then the decision logic (F.1): DEFER,
   DO CDR or PC review, compiled from the same tables as the per-record calc.

Every record ends up processed, skipped as already ingested, or in the reject file with its line,
field and reason: ``read = processed + skipped + rejected``. A chunk is one transaction, and every
change carries an idempotency key derived from the record's content, so ingesting a file twice, or
rerunning after a crash, adds nothing.

No record is lost to a bad neighbour (docs/interpretations.md §71, §72): a record that cannot be
read (:func:`cdrflow.batch.files.iter_raw`) or holds a value the DCF cannot store
(:mod:`cdrflow.dcf.limits`, checked before any write) is rejected on its own; a second record of a
mailer in the file is rejected as a duplicate (the first valid one wins); a chunk the database still
refuses is redone one record per transaction. The file is held by this run
(:mod:`cdrflow.workflow.runs`), and a file already ingested under another receipt date is refused
unless the operator overrides it with a reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Column, select
from sqlalchemy.exc import DBAPIError

from cdrflow import authz
from cdrflow.authz import Resource
from cdrflow.batch.decide import alert_text_expr, decide_frame, policy_version
from cdrflow.batch.files import BadLine, Reject, UnreadableFile, chunks, iter_raw, open_parquet
from cdrflow.batch.schema import MAILER_SCHEMA
from cdrflow.dcf.limits import column_problems, json_problem
from cdrflow.dcf.schema import beneficiaries, cases, events
from cdrflow.dcf.store import DCDRS, WBDOC, Actor, ConflictError, Store, StoreError, Tx, dumps
from cdrflow.engine.calc import validation_to_input_error
from cdrflow.kernel.ssn import SsnDigits
from cdrflow.policy.mailer.record import ReturnedMailer
from cdrflow.safeio import atomic, file_sha256

from . import common as c
from . import runs
from .outcomes import Effects, defer, do_cdr, issued, pc_review

QUESTIONS = ("q1a_worked", "q2_school", "q3_doctor_work", "q4_health", "q5_doctor_visits", "q6_hospitalized")


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address_line: str = Field(min_length=1)
    city: str = Field(min_length=1)
    state: str | None = None
    zip: str | None = None
    country: str = Field("US", pattern=r"^[A-Z]{2}$")


class Markers(BaseModel):
    """Intake markers WBDOC adds to a returned mailer (E.1, E.2)."""

    model_config = ConfigDict(extra="ignore")
    mailer_id: str = Field(min_length=1)
    ssn: SsnDigits  # the one rule (cdrflow.kernel.ssn), as ReturnedMailer has it
    undeliverable: bool = False
    signed: bool | None = None
    report_of_death: bool = False
    date_of_death: dt.date | None = None
    damaged: bool = False
    name_correction: str | None = None
    name_change: str | None = None
    address_change: Address | None = None
    fraud_allegation: str | None = None
    wbdoc_dircon: dict[str, Any] | None = Field(
        None, description='answers WBDOC secured by DIRCON for unanswered questions (E.2), e.g. {"q4_health": "SAME"}'
    )


MARKER_FIELDS = frozenset(Markers.model_fields) - {"mailer_id", "ssn", "signed"}

STORED_AS: dict[str, Column[Any]] = {
    "mailer_id": cases.c.case_id,
    "ssn": cases.c.ssn,
    "name_correction": beneficiaries.c.name,
    "name_change": beneficiaries.c.name,  # a name: it must fit where names are kept
    **{f"address_change.{f}": beneficiaries.c[f] for f in ("address_line", "city", "state", "zip", "country")},
}
"""The DCF column each one-line marker is written to (or compared with): its size and characters are
checked before anything is written (:mod:`cdrflow.dcf.limits`, interpretations §71). Free text (the
fraud allegation, remarks) is kept inside JSON details, which take any length."""


def _column_problem(m: Markers) -> tuple[str, str] | None:
    a = m.address_change
    values: dict[str, Any] = {"mailer_id": m.mailer_id, "ssn": m.ssn, "name_correction": m.name_correction,
                              "name_change": m.name_change}
    if a is not None:
        values.update({f"address_change.{f}": getattr(a, f) for f in ("address_line", "city", "state", "zip",
                                                                         "country")})
    return column_problems(values, STORED_AS)


@dataclass
class IngestResult:
    read: int = 0
    skipped: int = 0
    rejects: list[Reject] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    run_id: int | None = None
    override: dict[str, Any] | None = None  # a logged --reingest override (interpretations §72)
    closed_runs: list[int] = field(default_factory=list)  # earlier unfinished runs this one completed

    def mark(self, seen: dict[str, int]) -> tuple[int, int, Counter[str], dict[str, int]]:
        """What :meth:`undo` puts back: the result and the ids seen before a chunk's transaction."""
        return self.skipped, len(self.rejects), Counter(self.counts), dict(seen)

    def undo(self, mark: tuple[int, int, Counter[str], dict[str, int]], seen: dict[str, int]) -> None:
        """Forget what a rolled-back transaction counted."""
        self.skipped, n, self.counts, before = mark[0], mark[1], Counter(mark[2]), mark[3]
        del self.rejects[n:]
        seen.clear()
        seen.update(before)

    @property
    def processed(self) -> int:
        return sum(v for k, v in self.counts.items() if k.startswith("end:"))

    @property
    def rejected(self) -> int:
        return len(self.rejects)

    def reconciles(self) -> bool:
        return self.read == self.processed + self.skipped + self.rejected

    def as_dict(self) -> dict[str, Any]:
        return {"read": self.read, "processed": self.processed, "skipped_already_ingested": self.skipped,
                "rejected": self.rejected, "counts": dict(sorted(self.counts.items()))}


def record_key(obj: dict[str, Any]) -> str:
    digest = hashlib.sha256(dumps(obj).encode()).hexdigest()[:24]
    return f"{obj.get('mailer_id')}:{digest}"


def ingest(
    store: Store,
    path: Path,
    as_of: dt.date,
    *,
    chunk_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
    stop_after_chunks: int | None = None,
    reingest_reason: str | None = None,
    operator: str | None = None,
    by: Actor = WBDOC,
) -> IngestResult:
    """Ingest a file of returned mailers received on ``as_of`` (see the module docstring).

    Before anything is written: a file that cannot be read at all raises
    :class:`~cdrflow.batch.files.UnreadableFile`; a file another process is ingesting raises
    :class:`~cdrflow.workflow.runs.FileHeld`; a file already ingested under another receipt date
    raises :class:`~cdrflow.workflow.runs.AlreadyIngested` unless ``reingest_reason`` is given (the
    override is logged with the run, with ``operator``).
    """
    path = Path(path)
    with store.tx() as tx:
        authz.require(tx, by, "mailer.ingest.run", Resource("file", path.name[:100]))
    probe(path)
    result = IngestResult()
    sha = file_sha256(path)
    with runs.hold(store, path, sha):
        run_id, override = runs.start(store, path, sha, as_of, reingest_reason=reingest_reason, operator=operator)
        result.run_id, result.override = run_id, override
        seen: dict[str, int] = {}
        for n, chunk in enumerate(chunks(iter_raw(path), chunk_size), start=1):
            result.read += len(chunk)
            _run_chunk(store, path, sha, chunk, as_of, result, seen)
            if progress:
                progress(len(chunk))
            if stop_after_chunks is not None and n >= stop_after_chunks:
                break
        result.rejects.sort(key=lambda r: r.line)
        counts = result.as_dict()
        if override is not None:
            counts["override"] = override
        result.closed_runs = runs.finish(store, run_id, sha, as_of, counts)
    return result


def probe(path: Path) -> None:
    """Raise :class:`UnreadableFile` (one line naming the file and the place) when ``path`` cannot be read
    as a whole: not a regular file, not readable, or a Parquet file without a readable footer."""
    if not path.is_file():
        raise UnreadableFile(f"{path}: not a file")
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if path.suffix.lower() == ".parquet":
        open_parquet(path)


def write_rejects(rejects: list[Reject], path: Path) -> None:
    """The reject file (JSON Lines), written to a temporary file and renamed, owner-only."""
    with atomic(path) as fh:
        for r in rejects:
            fh.write(json.dumps(r.as_dict()) + "\n")


def _idem_clash(exc: BaseException) -> bool:
    """A unique receipt key taken by another transaction between our check and our write: a concurrent run."""
    msg = str(exc).lower()  # a unique-constraint violation, or the append-only guard that reports the same
    return "idem_key" in msg and any(w in msg for w in ("unique", "duplicate", "exists"))


def _run_chunk(store: Store, path: Path, sha: str, chunk: list[tuple[int, Any]], as_of: dt.date,
               result: IngestResult, seen: dict[str, int]) -> None:
    """One chunk in one transaction. Should the DCF refuse the chunk's write (a value no check here
    foresaw), the chunk is redone one record per transaction, so only the record the DCF refuses is
    rejected (naming the DCF's reason) and its neighbours are processed. A case changed by someone
    else meanwhile (:class:`ConflictError`) stops the run: a rerun is safe."""

    def attempt(items: list[tuple[int, Any]]) -> StoreError | DBAPIError | None:
        """Write ``items`` in one transaction; the DCF's refusal (its counts undone), or None."""
        mark = result.mark(seen)
        try:
            with store.tx() as tx:
                _chunk(tx, items, as_of, result, seen)
        except ConflictError:
            raise
        except (StoreError, DBAPIError) as exc:
            if _idem_clash(exc):
                raise runs.FileHeld(runs.held_message(path, sha)) from None
            result.undo(mark, seen)
            return exc
        return None

    if attempt(chunk) is None:
        return
    for item in chunk:
        exc = attempt([item])
        if exc is not None:
            obj = item[1]
            mid = obj.get("mailer_id") if isinstance(obj, dict) else None
            why = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            result.rejects.append(Reject(item[0], mid if isinstance(mid, str) else None, "(record)",
                                         f"the DCF refused the record: {why}"))


@dataclass
class _Work:
    line: int
    key: str
    raw: dict[str, Any]
    marks: Markers
    case: dict[str, Any]
    ben: dict[str, Any]
    referrals: int = 0
    model: ReturnedMailer | None = None
    unanswered: tuple[str, ...] = ()
    secured: dict[str, Any] | None = None
    initial: str | None = None  # the INITIAL MAILER SENT detail: the PC basis the alert sheet shows (E.4.a)


def _chunk(tx: Tx, chunk: list[tuple[int, Any]], as_of: dt.date, result: IngestResult,
           seen: dict[str, int]) -> None:
    """One chunk of records in one transaction. ``seen`` maps each mailer id a valid record of this file
    took to that record's line (the first valid record wins; interpretations §39)."""
    parsed: list[tuple[int, dict[str, Any], Markers, str]] = []
    for line, obj in chunk:
        if isinstance(obj, BadLine):
            result.rejects.append(Reject(line, None, obj.field, obj.reason))
            continue
        if not isinstance(obj, dict):
            result.rejects.append(Reject(line, None, "(line)", "expected one JSON object"))
            continue
        raw_mid = obj.get("mailer_id")
        shown = raw_mid if isinstance(raw_mid, str) and len(raw_mid) <= 64 else None
        problem = json_problem(obj)  # what the DCF could not store at all (NUL, not Unicode, 2**64, too deep)
        if problem is not None:
            result.rejects.append(Reject(line, shown if problem[0] != "mailer_id" else None, *problem))
            continue
        try:
            marks = Markers.model_validate(obj)
        except ValidationError as exc:
            err = validation_to_input_error(exc)
            result.rejects.append(Reject(line, shown, err.field, err.message))
            continue
        problem = _column_problem(marks)  # sizes and characters of the columns the markers are written to
        if problem is not None:
            result.rejects.append(Reject(line, shown if problem[0] != "mailer_id" else None, *problem))
            continue
        # The key is the record's content and the receipt date: the same file received on the same day is
        # the same input (a rerun changes nothing); the same undeliverable coming back next month is not.
        parsed.append((line, obj, marks, f"in:{as_of}:" + record_key(obj)))
    done = tx.existing_keys([p[3] for p in parsed])
    ids = list({p[2].mailer_id for p in parsed})
    case_rows = {r["case_id"]: dict(r) for r in tx.conn.execute(select(cases).where(cases.c.case_id.in_(ids)))
                 .mappings()} if ids else {}
    ssns = list({r["ssn"] for r in case_rows.values()})
    ben_rows = {r["ssn"]: dict(r) for r in tx.conn.execute(select(beneficiaries).where(beneficiaries.c.ssn.in_(ssns)))
                .mappings()} if ssns else {}
    original_version = {k: v["version"] for k, v in case_rows.items()}
    ben_changed: dict[str, dict[str, Any]] = {}
    evs: list[dict[str, Any]] = []
    docs: list[dict[str, Any]] = []
    to_decide: list[_Work] = []
    for line, obj, marks, key in parsed:
        mid = marks.mailer_id
        first = seen.get(mid)
        if key in done:  # processed by an earlier run of this file: it holds its mailer id again
            if first is not None and first != line:
                result.rejects.append(Reject(line, mid, "mailer_id", f"duplicate of the record on line {first}"))
                continue
            seen[mid] = line
            result.skipped += 1
            continue
        case = case_rows.get(mid)
        if case is None:
            result.rejects.append(Reject(line, mid, "mailer_id", "no mailer case with this id in the DCF"))
            continue
        if case["ssn"] != marks.ssn:
            result.rejects.append(Reject(line, mid, "ssn",  # the SSN is not repeated (interpretations §79)
                                         "not the SSN the mailer is controlled under"))
            continue
        w = _Work(line, key, obj, marks, case, ben_rows[case["ssn"]])
        if _reaches_decision(marks):
            # Validate before any screening side effect, so a rejected record leaves no trace (and a rerun
            # after fixing it starts clean).
            problem_reject = _validate(w)
            if problem_reject is not None:
                result.rejects.append(problem_reject)
                continue
        if first is not None:  # an earlier valid record of this file took the mailer (§39): one action per mailer
            result.rejects.append(Reject(line, mid, "mailer_id", f"duplicate of the record on line {first}"))
            continue
        if case["state"] not in (c.SENT, c.UNDELIVERABLE, c.SIGNATURE_PENDING, c.NONRESPONDER, c.PC_RESENT):
            result.rejects.append(Reject(line, mid, "mailer_id",
                                         f"the case is {case['state']} and takes no returned mailer"))
            continue
        seen[mid] = line
        start = len(evs)
        end = _screen(w, as_of, evs, docs, ben_changed)
        if end is not None:
            evs[start]["idem_key"] = key  # the record's receipt: a rerun finds it and skips the record
            result.counts[f"end:{end}"] += 1
            continue
        to_decide.append(w)
    if to_decide:  # the PC basis recorded at selection, which an alert sheet issued now shows (E.4.a; §14)
        initial = dict(tx.conn.execute(select(events.c.case_id, events.c.detail).where(
            events.c.case_id.in_([w.case["case_id"] for w in to_decide]),
            events.c.event_type.like("% INITIAL MAILER SENT"))).all())
        for w in to_decide:
            w.initial = initial.get(w.case["case_id"])
    _decide(to_decide, as_of, evs, docs, ben_changed, result)
    tx.append(evs)
    tx.add_documents(docs)
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for cid, case in case_rows.items():
        changed = case.get("_changed")
        if not changed:
            continue
        row = {"case_id": cid, "version": original_version[cid], **{k: case[k] for k in sorted(changed)}}
        updates.setdefault(tuple(sorted(changed)), []).append(row)
    for rows in updates.values():
        tx.update_cases(rows)
    bupd: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for ssn, ch in ben_changed.items():
        bupd.setdefault(tuple(sorted(ch)), []).append({"ssn": ssn, **ch})
    for brows in bupd.values():
        tx.update_beneficiaries(brows)


def _set(case: dict[str, Any], **changes: Any) -> None:
    case.update(changes)
    case.setdefault("_changed", set()).update(changes)


def _ev(w: _Work, on: dt.date, what: str, actor: Any, suffix: str, detail: dict[str, Any] | None = None,
        title: bool = True) -> dict[str, Any]:
    return c.event(ssn=w.case["ssn"], case_id=w.case["case_id"], event_date=on,
                 event_type=c.label(w.case["title"], what) if title else what, actor=actor, detail=detail,
                 idem_key=f"{w.key}:{suffix}")


def _referral(w: _Work, on: dt.date, reason: str, to: Literal["PC", "FO"], details: str, evs: list[dict[str, Any]],
              docs: list[dict[str, Any]]) -> None:
    w.referrals += 1  # one record may carry several reports (e.g. a T16 name correction and address change)
    n = w.referrals
    evs.append(_ev(w, on, f"MAILER REFERRED TO {to}", WBDOC, f"ref{n}:{reason}",
                   {"reason": reason, "details": details}))
    payload = issued(w.case, w.ben, on, {"date": str(on), "reason": reason, "to": to, "details": details})
    docs.append({"case_id": w.case["case_id"], "ssn": w.case["ssn"], "kind": "WBDOC_REFERRAL", "created_on": on,
                 "payload": payload, "idem_key": f"doc:{w.key}:ref{n}:{reason}"})


def _screen(w: _Work, on: dt.date, evs: list[dict[str, Any]], docs: list[dict[str, Any]],
            ben_changed: dict[str, dict[str, Any]]) -> str | None:
    """E.1 and E.2. Returns how the record ended when it does not go on to the decision logic."""
    m, case, title = w.marks, w.case, w.case["title"]
    has_t2, has_t16 = title in ("T2", "T2/16"), title in ("T16", "T2/16")
    if m.undeliverable:
        if not case["remailed"]:
            evs.append(_ev(w, on, "UNDELIVERABLE REMAILED", WBDOC, "remail"))
            _set(case, remailed=True)
            return "undeliverable_remailed"
        evs.append(_ev(w, on, "UNDELIVERABLE", WBDOC, "undeliverable",
                       {"request": case["request"], "send_request_date": str(case["send_request_date"])}))
        if case["request"] == "SECOND" or case["state"] == c.PC_RESENT:
            # E.1 / H.2: held until 150 days from the send request, then NONRESPONDER (at a cycle).
            _set(case, state=c.UNDELIVERABLE, last_event=c.label(title, "UNDELIVERABLE"), last_event_date=on)
        return "undeliverable_held"
    if m.signed is False:
        evs.append(_ev(w, on, "SIGNATURE CONTROL", WBDOC, "signature"))
        _set(case, state=c.SIGNATURE_PENDING)
        return "signature_control"
    ben_update: dict[str, Any] = {}
    stop: str | None = None
    if m.report_of_death:
        if has_t2:
            ben_update["date_of_death"] = m.date_of_death or on
            evs.append(_ev(w, on, "MBR UPDATE: REPORT OF DEATH", WBDOC, "mbr:death"))
        if has_t16:
            _referral(w, on, "T16_REPORT", "FO", "report of death on a Title XVI record", evs, docs)
        _referral(w, on, "REPORT_OF_DEATH", "PC" if title == "T2" else "FO", "mailer returned with a report of death",
                  evs, docs)
        stop = "referred_death"
    if m.damaged and stop is None:
        _referral(w, on, "DAMAGED", "PC", "mailer too damaged to be optically scanned", evs, docs)
        stop = "referred_damaged"
    if m.name_change and stop is None:
        _referral(w, on, "NAME_CHANGE", "PC" if title == "T2" else "FO", f"name change reported: {m.name_change}",
                  evs, docs)
        stop = "referred_name_change"
    if m.fraud_allegation and stop is None:
        _referral(w, on, "FRAUD_ALLEGATION", "PC" if title == "T2" else "FO", m.fraud_allegation, evs, docs)
        stop = "referred_fraud"
    if m.name_correction:
        if has_t2:
            ben_update["name"] = m.name_correction
            evs.append(_ev(w, on, "MBR UPDATE: NAME CORRECTION", WBDOC, "mbr:name", {"name": m.name_correction}))
        if has_t16:
            _referral(w, on, "T16_REPORT", "FO", f"name correction reported: {m.name_correction}", evs, docs)
    if m.address_change is not None:
        a = m.address_change
        foreign = a.country != "US"
        if has_t2:
            ben_update.update(address_line=a.address_line, city=a.city, state=a.state, zip=a.zip, country=a.country,
                              foreign_address=foreign)
            evs.append(_ev(w, on, "MBR UPDATE: ADDRESS CHANGE", WBDOC, "mbr:address", a.model_dump()))
        if has_t16:
            _referral(w, on, "T16_REPORT", "FO", f"address change reported: {a.model_dump_json()}", evs, docs)
        if foreign and stop is None:
            _referral(w, on, "FOREIGN_ADDRESS", "PC" if title == "T2" else "FO",
                      f"change of address to {a.country}", evs, docs)
            stop = "referred_foreign_address"
    if ben_update:
        w.ben.update(ben_update)
        ben_changed.setdefault(w.ben["ssn"], {}).update(ben_update)
    if stop is not None:
        _set(case, state=c.REFERRED, closed_on=on, review_stage=None,
             last_event=c.label(title, "MAILER REFERRED TO " + ("PC" if title == "T2" else "FO")),
             last_event_date=on)
        return stop
    return None


def _reaches_decision(m: Markers) -> bool:
    """Whether screening lets the record through to the decision logic (E.1, E.2)."""
    if m.undeliverable or m.signed is False:
        return False
    foreign = m.address_change is not None and m.address_change.country != "US"
    return not (m.report_of_death or m.damaged or m.name_change or m.fraud_allegation or foreign)


def _validate(w: _Work) -> Reject | None:
    """The returned-mailer record (with answers WBDOC DIRCON secured), checked against the case."""
    rec = {k: v for k, v in w.raw.items() if k not in MARKER_FIELDS}
    rec.setdefault("signed", True)
    unanswered = [q for q in QUESTIONS if rec.get(q) is None]
    secured: dict[str, Any] = {}
    if unanswered:
        secured = {k: v for k, v in (w.marks.wbdoc_dircon or {}).items() if k in unanswered and v is not None}
        rec.update(secured)
    try:
        model = ReturnedMailer.model_validate(rec)
    except ValidationError as exc:
        err = validation_to_input_error(exc)
        return Reject(w.line, w.marks.mailer_id, err.field, err.message)
    if model.profile != w.case["profile"]:
        return Reject(w.line, w.marks.mailer_id, "profile",
                      f"{model.profile} but the mailer was selected as profile {w.case['profile']} "
                      "(scanline 2 field 3)")
    if model.title != w.case["title"]:
        return Reject(w.line, w.marks.mailer_id, "title", f"{model.title} but the mailer was sent as {w.case['title']}")
    w.model, w.unanswered, w.secured = model, tuple(unanswered), secured
    return None


def _decide(work: list[_Work], on: dt.date, evs: list[dict[str, Any]], docs: list[dict[str, Any]],
            ben_changed: dict[str, dict[str, Any]], result: IngestResult) -> None:
    """Confirmation, WBDOC DIRCON, sorting and the decision logic for the records that reach it."""
    valid: list[tuple[_Work, dict[str, Any]]] = []
    for w in work:
        model = w.model
        assert model is not None  # validated by _validate before screening
        unanswered, secured = w.unanswered, w.secured or {}
        received = _ev(w, on, "MAILER RECEIVED", WBDOC, "received",
                       {"record": model.model_dump(mode="json", exclude_none=True),
                        "clears": "second-mailer/nonresponder control (DI 40502.001E.6)"})
        received["idem_key"] = w.key  # the record's receipt: a rerun finds it and skips the record
        evs.append(received)
        if unanswered:
            evs.append(_ev(w, on, "WBDOC DIRCON", WBDOC, "dircon",
                           {"unanswered": unanswered, "secured": secured,
                            "still_unanswered": [q for q in unanswered if q not in secured]}))
        valid.append((w, model.model_dump(mode="json", include=set(MAILER_SCHEMA))))
    if not valid:
        return
    frame = pl.DataFrame([v for _, v in valid], schema=MAILER_SCHEMA)
    decided = decide_frame(frame, on).collect().with_columns(alert_text_expr())
    pv = json.dumps(policy_version(on), sort_keys=True)
    for (w, _), d in zip(valid, decided.iter_rows(named=True), strict=True):
        case, ben = w.case, w.ben
        pc = case["pc"]  # sorted by the jurisdiction found at selection (E.4.a: later changes may go unnoticed)
        _set(case, actionable=d["actionable"], pc=pc, automated_recommendation=d["automated_recommendation"],
             policy_version=pv)
        decision = {"outcome": d["outcome"], "actionable": d["actionable"],
                    "actionable_reason": d["actionable_reason"],
                    "automated_recommendation": d["automated_recommendation"],
                    "clear_decision": d["clear_decision"],
                    "rule_ids": d["rule_ids"].split(),
                    "alert": {"type": d["alert_type"], "message": d["alert_message"], "text": d["alert_text"],
                              "reviewer": d["alert_reviewer"], "recommended_action": d["alert_recommended_action"]}
                    if d["alert_type"] is not None else None,
                    "sort": {"title": case["title"], "pc": pc, "actionable": d["actionable"]}}
        fx: Effects
        if d["outcome"] == "DEFER":
            fx = defer(case, ben, on, DCDRS, key=w.key, detail={"decision": decision}, policy_version=pv)
        elif d["outcome"] == "DO_CDR":
            fx = do_cdr(case, ben, on, DCDRS, key=w.key, reason="DCDRS DECISION LOGIC", detail={"decision": decision},
                        policy_version=pv)
        else:
            assert w.model is not None
            fx = pc_review(case, ben, on, DCDRS, decision, key=w.key, policy_version=pv,
                           mailer=w.model.model_dump(mode="json"), initial_detail=w.initial)
        evs.extend(fx.events)
        docs.extend(fx.documents)
        _set(case, **fx.case)
        if fx.beneficiary:
            w.ben.update(fx.beneficiary)
            ben_changed.setdefault(ben["ssn"], {}).update(fx.beneficiary)
        result.counts[f"end:{d['outcome']}"] += 1
        result.counts[f"actionable:{d['actionable']}"] += 1
