"""DI 28057.015: expedited reinstatement (EXR) cases in the DCF, finding by finding.

An EXR case is what the FO develops (the request month, the BTM, the SSA-823's SGA and non-SGA
months, the CPD, the alleged impairments) and the DDS's findings on it, each one recorded with
who made it and when, append-only (``exr_findings``; the database refuses UPDATE and DELETE,
migration 0004). The order of the findings is the policy's order:

1. ``open_case``: the FO opens the case with the facts (E; TN 2 D.3: the SSA-823 months).
2. ``record_development_complete``: the DDS says all necessary medical development is done.
   The "same as or related" determination "is made when all necessary medical development has
   been completed" (C NOTE).
3. ``record_same_or_related``: the first criterion (A, C). With the prior medical file missing
   the allegation is accepted (C.4): a finding of "not same or related" is refused then.
4. ``record_mirs``: the medical improvement review standard, month by month (D). Only after a
   "same as or related" finding: when the impairment is not same or related "a determination
   regarding medical improvement is not needed" (A; C).
5. ``determine``: the ``exr-determination`` calc on the case and its findings (A-G); the whole
   answer, with the policy version, is stored as the DETERMINATION finding.

``record_return_to_work`` (G) lets the FO add SGA months reported during processing.

Every action and every read is taken by an authenticated principal and authorized by
:func:`cdrflow.authz.require` (logged in the access log, allowed or denied): ``exr.open`` (an FO
with an office; the case records that office, ``fo_office``, and the DDS it is routed to, ``dds``,
if named), ``exr.read`` / ``exr.list`` (the FO's office, the examiners of the routed DDS, or any
examiner while the case names no DDS; auditors), ``exr.examine`` (DE/DEC/DC: development, "same as
or related", MIRS, the determination) and ``exr.return_to_work`` (the FO's office). A refusal is
:class:`~cdrflow.kernel.errors.Forbidden`; a finding out of the policy's order or on a determined
case is :class:`ExrError` (an :class:`~cdrflow.kernel.errors.InvalidState`). An action reads the
case, bumps its ``version`` where it is still at the version read (the optimistic lock: a second
examiner acting on the same case at the same time gets :class:`ConflictError` and writes nothing),
and then appends its finding in the same transaction. Policy answers come from the calcs
``exr-mirs`` and ``exr-determination`` through :data:`cdrflow.policy.calcs.REGISTRY`; nothing here
decides policy.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from cdrflow import authz
from cdrflow.authz import Resource
from cdrflow.dcf.schema import exr_cases, exr_findings
from cdrflow.dcf.store import Actor, ConflictError, NotFound, Store, StoreError, Tx, dumps, now
from cdrflow.engine.calc import validation_to_input_error
from cdrflow.engine.errors import InputError
from cdrflow.engine.months import Month
from cdrflow.kernel.errors import InvalidState
from cdrflow.kernel.ssn import Ssn, mask
from cdrflow.policy.calcs import REGISTRY

SOURCE = "DI 28057.015"

# Case states (exr_cases.state), in the order a case moves through them.
OPEN = "OPEN"  # opened by the FO; the DDS is developing the medical evidence
DEVELOPED = "DEVELOPED"  # all necessary medical development complete (C NOTE)
RELATED = "RELATED"  # "same as or related" (C), or the allegation accepted (C.4): MIRS findings next (D)
NOT_RELATED = "NOT_RELATED"  # clearly not same or related: no MIRS determination (A, C); deny (DI 28057.020B)
DETERMINED = "DETERMINED"  # the exr-determination answer is recorded
STATES = (OPEN, DEVELOPED, RELATED, NOT_RELATED, DETERMINED)

# Finding steps (exr_findings.step).
DEVELOPMENT_COMPLETE = "DEVELOPMENT_COMPLETE"
SAME_OR_RELATED = "SAME_OR_RELATED"
MIRS = "MIRS"
RETURN_TO_WORK = "RETURN_TO_WORK"
DETERMINATION = "DETERMINATION"
STEPS = (DEVELOPMENT_COMPLETE, SAME_OR_RELATED, MIRS, RETURN_TO_WORK, DETERMINATION)

# Authorization actions (cdrflow.authz.rules: who may take each, on which cases, and the passage).
OPEN_ACTION = "exr.open"  # the FO of an office (E; TN 2 D.3)
READ_ACTION = "exr.read"  # a case and its worksheet
LIST_ACTION = "exr.list"
EXAMINE_ACTION = "exr.examine"  # DE/DEC/DC: development, same or related, MIRS, determination (B, C, D)
RETURN_TO_WORK_ACTION = "exr.return_to_work"  # the FO of the case's office (G)

RETRO_MONTHS = 12
"""MIRS findings are taken for the months of the Title II window: up to 12 months before the
request (E, both versions) through the month after it (TN 2 E.3, E.4); earlier or later months
cannot be a month of entitlement."""

NEXT_STEP = {
    OPEN: "DDS: complete the necessary medical development (DI 28057.015C NOTE)",
    DEVELOPED: "DDS: make the 'same as or related' finding (DI 28057.015C)",
    RELATED: "DDS: record MIRS findings for the request month and the non-SGA months of the window "
             "(DI 28057.015D, E), then determine",
    NOT_RELATED: "DDS: determine; the request is denied per DI 28057.020B and no medical improvement "
                 "determination is made (DI 28057.015A)",
    DETERMINED: "determined; the FO and OCO/PC issue the notice (DI 28057.015D.4 / E)",
}


class ExrError(StoreError, InvalidState):
    """The action does not apply to the case as it is (wrong state or order, a duplicate request).

    Who may act is not this error's business: a refusal is :class:`~cdrflow.kernel.errors.Forbidden`."""


# ---- the facts the FO records ----------------------------------------------------------------

class Filing(BaseModel):
    """The filing as the FO develops it: the date and the office (SSA-454 remarks; SSA-823)."""

    model_config = ConfigDict(extra="forbid")
    date: dt.date | None = Field(default=None, description="filing date of the EXR request")
    fo: str | None = Field(default=None, description="the field office (e.g. DOORS code)")


class Cpd(BaseModel):
    """The comparison point decision: the most recent favorable medical decision (B)."""

    model_config = ConfigDict(extra="forbid")
    date: dt.date | None = None
    impairments: list[str] = Field(min_length=1, description="impairments that formed the basis of entitlement")
    basis: Literal["LISTING", "MEDICAL_VOCATIONAL"] = Field(
        description="irrelevant to the 'same as or related' finding (C.1), recorded for the file")
    listing: str | None = Field(default=None, description="listing code, when the basis was a listing")
    listing_obsolete: bool = Field(default=False, description="an obsolete CPD listing still applies (C.3)")


class NewCase(BaseModel):
    """The facts of an EXR request as the FO sends it to the DDS (E; TN 2 D.3)."""

    model_config = ConfigDict(extra="forbid")
    ssn: Ssn  # the one rule (cdrflow.kernel.ssn); the FO may key it as 123-45-6789
    title: Literal["T2", "T16"]
    request_month: Month
    btm: Month
    filing: Filing = Field(default_factory=Filing)
    cpd: Cpd | None = None
    alleged_impairments: list[str] = Field(min_length=1)
    prior_folder_missing: bool = False
    sga_months: list[Month] = Field(default_factory=list)
    non_sga_months: list[Month] = Field(default_factory=list)


def _check_facts(f: NewCase) -> None:
    """Cross-field checks, each naming its field."""
    if f.request_month < f.btm:
        raise InputError("request_month", f"{f.request_month} is before the benefit termination month {f.btm}")
    if f.filing.date is not None and Month.of(f.filing.date) != f.request_month:
        raise InputError("filing.date", f"{f.filing.date} is not in the request month {f.request_month}: the "
                         "request month is the filing month (DI 28057.015E)")
    both = sorted(set(f.sga_months) & set(f.non_sga_months))
    if both:
        raise InputError("non_sga_months", f"{', '.join(map(str, both))} recorded both SGA and non-SGA")
    if f.cpd is None and not f.prior_folder_missing:
        raise InputError("cpd", "the CPD impairments are needed for the 'same as or related' finding "
                         "(DI 28057.015B, C); only a missing prior folder leaves them unknown (C.4)")
    if f.cpd is not None:
        if f.cpd.basis != "LISTING" and (f.cpd.listing or f.cpd.listing_obsolete):
            raise InputError("cpd.listing", "a listing is recorded only when the CPD basis is LISTING")
        if f.cpd.listing_obsolete and not f.cpd.listing:
            raise InputError("cpd.listing", "name the obsolete listing (DI 28057.015C.3)")
    for i, text in enumerate(f.alleged_impairments):
        if not text.strip():
            raise InputError(f"alleged_impairments.{i}", "empty impairment")


def _months(values: Iterable[Month]) -> list[str]:
    return [str(m) for m in sorted(set(values))]


# ---- reading ---------------------------------------------------------------------------------

def _case(tx: Tx, case_id: int) -> dict[str, Any]:
    row = tx.conn.execute(select(exr_cases).where(exr_cases.c.case_id == case_id)).mappings().first()
    if row is None:
        raise NotFound(f"no EXR case {case_id} in the DCF")
    case = dict(row)
    for col in ("filing", "cpd", "alleged_impairments", "sga_months", "non_sga_months"):
        case[col] = json.loads(case[col]) if case[col] is not None else None
    return case


def _findings(tx: Tx, case_id: int) -> list[dict[str, Any]]:
    rows = tx.conn.execute(select(exr_findings).where(exr_findings.c.case_id == case_id)
                           .order_by(exr_findings.c.finding_id)).mappings()
    out = []
    for r in rows:
        f = dict(r)
        f["payload"] = json.loads(f["payload"])
        f["policy_version"] = json.loads(f["policy_version"]) if f["policy_version"] else None
        out.append(f)
    return out


def _latest(findings: Sequence[dict[str, Any]], step: str) -> dict[str, Any] | None:
    hits = [f for f in findings if f["step"] == step]
    return hits[-1] if hits else None


def mirs_by_month(findings: Sequence[dict[str, Any]]) -> dict[Month, dict[str, Any]]:
    """The MIRS finding in force for each month: the latest one recorded for it (earlier ones stay on file)."""
    return {Month.parse(f["month"]): f for f in findings if f["step"] == MIRS}


def mirs_met_from(disabled: Mapping[Month, bool], request_month: Month) -> Month | None:
    """The first month from which the claimant is under a disability under MIRS, for ``exr-determination``.

    ``disabled`` is the MIRS finding in force per month (True: under a disability). Defined as:

    * ``None`` unless the **request month** has a finding and it is "disabled": the DDS must find
      disability under MIRS in the month of the request (DI 28057.015B); a month with no finding
      is never assumed.
    * Otherwise the earliest *recorded* month ``m`` such that every recorded month from ``m``
      through the request month is "disabled". Walking back from the request month over the
      recorded months, it stops at the first "not disabled" finding; it never reaches before the
      earliest recorded month. Unrecorded months *between* two "disabled" findings are taken as
      disabled: the calc's ``mirs_met_from`` means "from this month on" (DI 28057.015E: the same
      evidence that shows disability under MIRS establishes the month of entitlement).
    * Months after the request month are ignored here (the request month decides, B).

    Mr. Smith (E example): not disabled 04/04, disabled 06/04 and 09/04 -> 06/04 (so 07/04 and
    08/04 are disabled too); with only 09/04 recorded -> 09/04.
    """
    if disabled.get(request_month) is not True:
        return None
    start = request_month
    for m in sorted((m for m in disabled if m < request_month), reverse=True):
        if not disabled[m]:
            break
        start = m
    return start


def _status(case: dict[str, Any], findings: Sequence[dict[str, Any]]) -> dict[str, Any]:
    sor = _latest(findings, SAME_OR_RELATED)
    mirs = mirs_by_month(findings)
    req = Month.parse(case["request_month"])
    start = mirs_met_from({m: bool(f["payload"]["disabled"]) for m, f in mirs.items()}, req)
    return {
        "development_complete": _latest(findings, DEVELOPMENT_COMPLETE) is not None,
        "same_or_related": None if sor is None else bool(sor["payload"]["finding"]),
        "mirs": {str(m): {"disabled": f["payload"]["disabled"], "reason": f["payload"]["reason"],
                          "finding_id": f["finding_id"], "by": f["by"]}
                 for m, f in sorted(mirs.items())},
        "mirs_met_from": None if start is None else str(start),
        "next_step": NEXT_STEP[case["state"]],
    }


def _jsonable(value: Any) -> Any:
    """Dates as ISO text; timestamps in UTC (SQLite gives them back naive, PostgreSQL in the session zone)."""
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _view(case: dict[str, Any], findings: list[dict[str, Any]]) -> dict[str, Any]:
    for f in findings:
        f["by"] = f"{f['actor']}:{f['actor_role']}"
    det = _latest(findings, DETERMINATION)
    return {
        "case": {k: _jsonable(v) for k, v in case.items()},
        "findings": [{k: _jsonable(v) for k, v in f.items()} for f in findings],
        "status": _status(case, findings),
        "determination": None if det is None else {
            **det["payload"]["answer"], "as_of": det["payload"]["as_of"], "input": det["payload"]["input"],
            "by": det["by"], "at": _jsonable(det["at"]), "finding_id": det["finding_id"]},
    }


def case_resource(case: Mapping[str, Any]) -> Resource:
    """What the rules decide over: the case, its FO's office and the DDS it is routed to (never the SSN)."""
    # A case opened before migration 0010 recorded no office: it belongs to no FO office (deny by default;
    # DDS examiners and auditors still reach it).
    return Resource("exr_case", str(case["case_id"]), office=case.get("fo_office") or "(none)", dds=case.get("dds"))


def case_view(store: Store, case_id: int, actor: Actor) -> dict[str, Any]:
    """The case (facts, state, version, office, DDS), its findings in order with who and when, the status
    derived from them (development, "same as or related", MIRS per month, ``mirs_met_from``, the next
    step) and the latest determination: JSON-able, what ``cdrflow exr show`` and the worksheet show.

    ``actor`` must be allowed ``exr.read`` on the case (the read is logged); the view holds the full SSN,
    which an interface masks (:func:`cdrflow.kernel.ssn.mask`) unless the reader reveals it
    (:func:`reveal_ssn`)."""
    with store.read() as tx:
        case = _case(tx, case_id)
        authz.require(tx, actor, READ_ACTION, case_resource(case))
        return _view(case, _findings(tx, case_id))


def reveal_ssn(store: Store, case_id: int, actor: Actor, *, reason: str) -> None:
    """Log a reveal of the case's full SSN: ``ssn.reveal`` on the case (the FO of its office, the examiners
    of its DDS, auditors) with a reason of one line. Raises :class:`~cdrflow.kernel.errors.Forbidden`
    (logged) when the reader may not see it."""
    why = authz.reveal_reason(reason)
    with store.tx() as tx:
        case = _case(tx, case_id)
        authz.require(tx, actor, "ssn.reveal", case_resource(case), reason=why)


def list_cases(store: Store, actor: Actor, *, state: str | None = None, ssn: str | None = None,
               limit: int = 100) -> list[dict[str, Any]]:
    """EXR cases in the reader's scope (``exr.list``: an FO sees its office's cases, an examiner those of
    its DDS and those routed to none, an auditor all), newest first, optionally of one state or SSN.

    The listing is logged once (its filters, never the SSN searched for); each row is decided by the
    same rule, so a case outside the reader's scope is left out, not refused."""
    stmt = select(exr_cases.c.case_id, exr_cases.c.ssn, exr_cases.c.title, exr_cases.c.request_month,
                  exr_cases.c.btm, exr_cases.c.state, exr_cases.c.outcome, exr_cases.c.moe, exr_cases.c.version,
                  exr_cases.c.opened_by, exr_cases.c.fo_office, exr_cases.c.dds, exr_cases.c.updated_at)
    filters = []
    if state is not None:
        if state.upper() not in STATES:
            raise InputError("state", f"unknown state {state!r}; one of {', '.join(STATES)}")
        stmt = stmt.where(exr_cases.c.state == state.upper())
        filters.append(f"state={state.upper()}")
    if ssn is not None:
        from cdrflow.kernel.ssn import check_ssn

        digits = ssn.replace("-", "") if len(ssn) == 11 else ssn
        try:
            check_ssn(digits)
        except ValueError as exc:
            raise InputError("ssn", str(exc)) from None
        stmt = stmt.where(exr_cases.c.ssn == digits)
        filters.append("ssn")
    stmt = stmt.order_by(exr_cases.c.case_id.desc())
    out: list[dict[str, Any]] = []
    with store.read() as tx:
        me = authz.require(tx, actor, LIST_ACTION, Resource("exr_cases", ",".join(filters) or "all"))
        if limit < 1:
            return out
        for r in tx.conn.execute(stmt).mappings():
            row = dict(r)
            if authz.decide(me, LIST_ACTION, case_resource(row)).allowed:
                out.append({k: _jsonable(v) for k, v in row.items()})
                if len(out) >= limit:
                    break
    return out


# ---- writing ---------------------------------------------------------------------------------

def _load(tx: Tx, case_id: int, actor: Actor, action: str,
          expected_version: int | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The case and its findings, once ``actor`` may take ``action`` on it (logged, allowed or refused)."""
    case = _case(tx, case_id)
    authz.require(tx, actor, action, case_resource(case))
    if expected_version is not None and case["version"] != expected_version:
        raise ConflictError(f"EXR case {case_id} is at version {case['version']}, you read version "
                            f"{expected_version}; someone acted on it since. Reload the case and try again.")
    findings = _findings(tx, case_id)
    for f in findings:
        f["by"] = f"{f['actor']}:{f['actor_role']}"
    if case["state"] == DETERMINED:
        det = _latest(findings, DETERMINATION)
        assert det is not None
        raise ExrError(f"EXR case {case_id} was determined ({case['outcome']}) by {det['by']} at {det['at']}; "
                       "its findings are final")
    return case, findings


def _record(tx: Tx, case: dict[str, Any], actor: Actor, rows: Sequence[dict[str, Any]],
            development_complete: bool, **changes: Any) -> int:
    """The version check first (so a losing concurrent examiner writes nothing), then the findings."""
    stamp = now()

    def conflict() -> str:
        last = tx.conn.execute(select(exr_findings.c.step, exr_findings.c.actor, exr_findings.c.actor_role,
                                      exr_findings.c.at).where(exr_findings.c.case_id == case["case_id"])
                               .order_by(exr_findings.c.finding_id.desc()).limit(1)).first()
        now_at = tx.conn.execute(select(exr_cases.c.version)
                                 .where(exr_cases.c.case_id == case["case_id"])).scalar()
        who = f"; last finding: {last.step} by {last.actor}:{last.actor_role} at {last.at}" if last else ""
        return (f"EXR case {case['case_id']} changed since you read it (you read version {case['version']}, it is "
                f"now {now_at}){who}. Reload the case and try again.")

    tx.update_versioned(exr_cases, case["case_id"], int(case["version"]), {"updated_at": stamp, **changes},
                        conflict)
    tx.insert_chained(exr_findings, [  # linked to the findings' hash chain at commit (cdrflow.dcf.chain)
        {"case_id": case["case_id"], "step": r["step"], "month": r.get("month"), "payload": dumps(r["payload"]),
         "development_complete": development_complete, "case_version": case["version"], "actor": actor.name,
         "actor_role": actor.role,
         "policy_version": dumps(r["policy_version"]) if r.get("policy_version") is not None else None,
         "at": stamp}
        for r in rows])
    return int(case["version"]) + 1


def _dds_code(dds: str | None) -> str | None:
    """The DDS routing code as stored (``exr_cases.dds``), or None; InputError("dds") if it cannot be one."""
    if dds is None:
        return None
    from cdrflow.dcf.limits import limit, text_problem

    code = dds.strip() if isinstance(dds, str) else dds
    why = "is empty" if code == "" else text_problem(code, limit(exr_cases.c.dds))
    if why is not None:
        raise InputError("dds", f"the DDS routing code {why}")
    return str(code)


def open_case(store: Store, actor: Actor, *, dds: str | None = None, **facts: Any) -> int:
    """The FO opens an EXR case with the facts of the request (keys of :class:`NewCase`); returns its id.

    The request month is the filing month; the SGA and non-SGA months are those the FO records on
    the SSA-823 for the retroactive period (DI 28057.015E; TN 2 D.3). A second case for the same
    SSN, title and request month is refused.

    ``exr.open``: only an FO assigned to an office (anyone else, or an FO without an office, is
    :class:`~cdrflow.kernel.errors.Forbidden`); the case records that office (``fo_office``), and ``dds``,
    when given, routes it to that DDS: only its examiners may then read it and record findings.
    """
    code = _dds_code(dds)
    try:
        with store.tx() as tx:
            me = authz.require(tx, actor, OPEN_ACTION, Resource("exr_case", "new", dds=code))
            try:
                f = NewCase.model_validate(facts)
            except ValidationError as exc:
                raise validation_to_input_error(exc) from None
            _check_facts(f)
            stamp = now()
            row = {
                "ssn": f.ssn, "title": f.title, "request_month": str(f.request_month), "btm": str(f.btm),
                "filing": dumps(f.filing.model_dump(mode="json")),
                "cpd": dumps(f.cpd.model_dump(mode="json")) if f.cpd is not None else None,
                "alleged_impairments": dumps([s.strip() for s in f.alleged_impairments]),
                "prior_folder_missing": f.prior_folder_missing,
                "sga_months": dumps(_months(f.sga_months)), "non_sga_months": dumps(_months(f.non_sga_months)),
                "state": OPEN, "version": 1, "opened_by": str(me), "fo_office": me.org, "dds": code,
                "opened_at": stamp, "updated_at": stamp,
            }
            res = tx.conn.execute(insert(exr_cases).values(**row).returning(exr_cases.c.case_id))
            return int(res.scalar_one())
    except IntegrityError:
        with store.read() as tx:
            other = tx.conn.execute(select(exr_cases.c.case_id).where(
                exr_cases.c.ssn == f.ssn, exr_cases.c.title == f.title,
                exr_cases.c.request_month == str(f.request_month))).scalar()
        if other is None:
            raise
        raise ExrError(f"an EXR case for SSN {mask(f.ssn)}, {f.title}, request month {f.request_month} is "
                       f"already open: case {other}") from None


def record_development_complete(store: Store, case_id: int, actor: Actor, *, note: str | None = None,
                                expected_version: int | None = None) -> int:
    """The DDS records that all necessary medical development is complete (DI 28057.015C NOTE: the
    "same as or related" determination is made only then). Returns the new case version."""
    with store.tx() as tx:
        case, _ = _load(tx, case_id, actor, EXAMINE_ACTION, expected_version)
        if case["state"] != OPEN:
            raise ExrError(f"EXR case {case_id}: development is already complete (state {case['state']})")
        return _record(tx, case, actor, [{"step": DEVELOPMENT_COMPLETE,
                                          "payload": {"note": note, "cite": "DI 28057.015C NOTE"}}],
                       True, state=DEVELOPED)


def record_same_or_related(store: Store, case_id: int, actor: Actor, *, finding: bool, rationale: str,
                           expected_version: int | None = None) -> int:
    """The first criterion (DI 28057.015A, C): is the current impairment the same as or related to the
    CPD impairment(s)? Returns the new case version.

    * Refused before development is complete (C NOTE) and made once.
    * "Unless the evidence clearly indicates otherwise", the finding is "same as or related" (C); a
      finding of not same or related needs the evidence that clearly establishes it, so the
      rationale is required either way. Anatomy or type of disease, not severity (C.2); the CPD's
      basis (C.1) and an obsolete CPD listing (C.3) do not matter.
    * Prior medical file missing: the allegation is accepted (C.4); a "not same or related"
      finding is refused, a "same or related" one is recorded on that basis.
    """
    with store.tx() as tx:
        case, _ = _load(tx, case_id, actor, EXAMINE_ACTION, expected_version)
        if case["state"] == OPEN:
            raise ExrError(f"EXR case {case_id}: the 'same as or related' determination is made when all "
                           "necessary medical development has been completed (DI 28057.015C NOTE); record "
                           "development complete first")
        if case["state"] != DEVELOPED:
            raise ExrError(f"EXR case {case_id}: the 'same as or related' finding is already made "
                           f"(state {case['state']})")
        if not rationale or not rationale.strip():
            raise InputError("rationale", "state the evidence for the finding (DI 28057.015C)")
        if case["prior_folder_missing"] and not finding:
            raise InputError("same_or_related", "the prior medical file is missing, so the allegation that the "
                             "impairment is the same as or related to the CPD impairment(s) is accepted "
                             "(DI 28057.015C.4)")
        cite = "DI 28057.015C.4" if case["prior_folder_missing"] else "DI 28057.015C"
        cpd = case["cpd"] or {}
        payload = {"finding": finding, "rationale": rationale.strip(), "cite": cite,
                   "prior_folder_missing": case["prior_folder_missing"],
                   "cpd_basis": cpd.get("basis"), "cpd_listing_obsolete": cpd.get("listing_obsolete", False)}
        return _record(tx, case, actor, [{"step": SAME_OR_RELATED, "payload": payload}], True,
                       state=RELATED if finding else NOT_RELATED)


def record_mirs(store: Store, case_id: int, actor: Actor, *, month: Month | str, through: Month | str | None = None,
                mi_related_to_ability_to_work: bool, group_i_exception: bool = False,
                group_ii_exception: bool = False, capable_of_sga: bool | None = None,
                expected_version: int | None = None) -> list[dict[str, Any]]:
    """MIRS findings for ``month`` (through ``through``, one finding per month) (DI 28057.015D).

    Only after a "same as or related" finding: when the impairment is not same or related no
    medical improvement determination is made (A; C). ``exr-mirs`` turns the findings into
    "under a disability" or not (D.1, D.2); a Group I exception or medical improvement related to
    the ability to work needs ``capable_of_sga`` (its :class:`InputError` names the field). A later
    finding for a month supersedes an earlier one; both stay on file. Months must lie in the Title
    II window (:data:`RETRO_MONTHS`). Returns ``[{month, disabled, reason}]``.
    """
    try:
        first = month if isinstance(month, Month) else Month.parse(month)
    except ValueError as exc:
        raise InputError("month", str(exc)) from None
    try:
        last = first if through is None else through if isinstance(through, Month) else Month.parse(through)
    except ValueError as exc:
        raise InputError("through", str(exc)) from None
    if last < first:
        raise InputError("through", f"{last} is before {first}")
    with store.tx() as tx:
        case, _ = _load(tx, case_id, actor, EXAMINE_ACTION, expected_version)
        if case["state"] == NOT_RELATED:
            raise ExrError(f"EXR case {case_id}: the current impairment is not the same as or related to the CPD "
                           "impairment, so no medical improvement determination is made (DI 28057.015A, C)")
        if case["state"] != RELATED:
            raise ExrError(f"EXR case {case_id}: make the 'same as or related' finding first; MIRS is applied "
                           "after it (DI 28057.015C.2, D)")
        req = Month.parse(case["request_month"])
        lo, hi = req + (-RETRO_MONTHS), req + 1
        if first < lo:
            raise InputError("month", f"{first} is before the 12-month retroactive period ({lo} to {req}, "
                             "DI 28057.015E)")
        if last > hi:
            raise InputError("through" if through is not None else "month",
                             f"{last} is after {hi}: the month of entitlement is never later than the month after "
                             "the request (DI 28057.015E)")
        payload_in = {"mi_related_to_ability_to_work": mi_related_to_ability_to_work,
                      "group_i_exception": group_i_exception, "group_ii_exception": group_ii_exception,
                      "capable_of_sga": capable_of_sga}
        answer = REGISTRY["exr-mirs"].run(payload_in)
        rows = []
        m = first
        while m <= last:
            rows.append({"step": MIRS, "month": str(m), "policy_version": answer["policy_version"],
                         "payload": {"input": payload_in, "disabled": answer["disabled"], "reason": answer["reason"],
                                     "trace": answer["trace"]}})
            m = m + 1
        _record(tx, case, actor, rows, True)
        return [{"month": r["month"], "disabled": answer["disabled"], "reason": answer["reason"]} for r in rows]


def record_return_to_work(store: Store, case_id: int, actor: Actor, *, sga_months: Sequence[Month | str],
                          note: str | None = None, expected_version: int | None = None) -> list[str]:
    """The FO records SGA months reported during processing (DI 28057.015G): they join the case's
    SGA months (and leave its non-SGA months). SGA in the month of the request (TN 1), or in it and
    the month after (TN 2), makes the determination a technical denial. Returns the SGA months."""
    if not sga_months:
        raise InputError("sga_months", "name at least one SGA month")
    try:
        added = sorted({m if isinstance(m, Month) else Month.parse(m) for m in sga_months})
    except ValueError as exc:
        raise InputError("sga_months", str(exc)) from None
    with store.tx() as tx:
        case, findings = _load(tx, case_id, actor, RETURN_TO_WORK_ACTION, expected_version)
        sga = sorted({*map(Month.parse, case["sga_months"]), *added})
        non = [m for m in map(Month.parse, case["non_sga_months"]) if m not in set(added)]
        dev = _latest(findings, DEVELOPMENT_COMPLETE) is not None
        _record(tx, case, actor, [{"step": RETURN_TO_WORK,
                                   "payload": {"sga_months_added": _months(added), "note": note,
                                               "cite": "DI 28057.015G"}}],
                dev, sga_months=dumps(_months(sga)), non_sga_months=dumps(_months(non)))
        return _months(sga)


def exr_input(view: Mapping[str, Any], as_of: dt.date) -> dict[str, Any]:
    """The ``exr-determination`` input (``ExrInput`` as JSON) built from a :func:`case_view`.

    ``same_or_related`` is the recorded finding (``None`` when none is recorded) and
    ``mirs_met_from`` is :func:`mirs_met_from` over the MIRS findings in force. The CPD's basis
    and an obsolete CPD listing go along when the case has a CPD: the calc acknowledges them with
    their passages (C.1, C.3) and they change nothing.
    """
    case, status = view["case"], view["status"]
    inp: dict[str, Any] = {
        "title": case["title"], "request_month": case["request_month"], "btm": case["btm"],
        "sga_months": list(case["sga_months"]), "mirs_met_from": status["mirs_met_from"],
        "same_or_related": status["same_or_related"], "prior_folder_missing": case["prior_folder_missing"],
        "as_of": as_of.isoformat()}
    cpd = case["cpd"]
    if cpd is not None:
        inp["cpd_basis"] = cpd["basis"]
        inp["cpd_listing_obsolete"] = bool(cpd.get("listing_obsolete"))
    return inp


def _not_ready(case: dict[str, Any], status: Mapping[str, Any]) -> str | None:
    """Why the medical findings are not yet enough to determine, or ``None``."""
    if not status["development_complete"]:
        return "the necessary medical development is not complete (DI 28057.015C NOTE)"
    if status["same_or_related"] is None:
        return "no 'same as or related' finding is recorded (DI 28057.015A, C)"
    if status["same_or_related"] and case["request_month"] not in status["mirs"]:
        return (f"no MIRS finding is recorded for the request month {case['request_month']}: the DDS must find "
                "the claimant disabled under MIRS in the month of the request (DI 28057.015B, D)")
    return None


def determine(store: Store, case_id: int, actor: Actor, *, as_of: dt.date,
              expected_version: int | None = None) -> dict[str, Any]:
    """Run ``exr-determination`` on the case and its findings and record the whole answer (DI 28057.015A-G).

    The version of DI 28057.015 is the one in force on ``as_of`` (TN 1 (02-06) before 02/06/2018,
    TN 2 (02-18) from it). Refused while the findings are incomplete: development complete, a
    "same as or related" finding and, when it is "same or related", a MIRS finding for the request
    month (B). The one exception is the return-to-work rule (G): SGA in the filing month (TN 1), or
    in it and the month after (TN 2), sends the case back to the FO for a technical denial and no
    medical determination is needed, so that answer is recorded whatever the findings. The answer
    (outcome, MOE, version, remarks, reasons, the months of the window, trace, policy version) is
    the DETERMINATION finding; the case records the outcome and MOE.
    """
    with store.tx() as tx:
        case, findings = _load(tx, case_id, actor, EXAMINE_ACTION, expected_version)
        view = _view(dict(case), findings)
        missing = _not_ready(case, view["status"])
        inp = exr_input(view, as_of)
        try:
            answer = REGISTRY["exr-determination"].run(inp)
        except InputError:
            if missing is None:
                raise
            answer = None
        if missing is not None and (answer is None or answer["outcome"] != "TECHNICAL_DENIAL"):
            raise ExrError(f"EXR case {case_id} cannot be determined yet: {missing}")
        assert answer is not None
        dev = bool(view["status"]["development_complete"])
        _record(tx, case, actor, [{"step": DETERMINATION, "policy_version": answer["policy_version"],
                                   "payload": {"as_of": as_of.isoformat(), "input": inp, "answer": answer}}],
                dev, state=DETERMINED, outcome=answer["outcome"], moe=answer["moe"])
        return answer
