"""The CE provider check of a DDS (PM 00215.001D.4.c) and its schedule: the LEIE match, the
``ce-provider-eligibility`` calc on the licenses that count, and a flag when the answer changes."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select

from cdrflow import authz
from cdrflow.authz import Resource
from cdrflow.dcf.schema import mpr_checks, mpr_flags, mpr_licenses, mpr_orgs, mpr_providers, mpr_review_queue, people
from cdrflow.dcf.store import Actor, Store, Tx, dumps, now
from cdrflow.mpr.matching import MatchResult, Provider, match_providers
from cdrflow.policy.calcs import REGISTRY

from .access import CHECKS_RUN, FLAG_MUST_ACT, MPRO, READ, Who, authorize, can_read, dds_org, require, who
from .access import REGISTRY as REGISTRY_CHANGE
from .common import CALC, MprError
from .leie import leie_index
from .provider_registry import display_name, provider_model

DEFAULT_PERIOD_DAYS = 30
"""Re-check every DDS whose last check is older than this. An operating choice, not policy: PM
00215.001 says "ensure" (D.4.c) and gives no period; the CLI takes ``--period-days``."""


@dataclass
class CheckRun:
    """What one check of a DDS did."""

    dds: str
    as_of: dt.date
    providers: int = 0
    new_checks: int = 0
    eligible: int = 0
    not_eligible: int = 0
    undecided: int = 0
    queued: int = 0
    flags: list[int] = field(default_factory=list)


def _hash(obj: Any) -> str:
    return hashlib.sha256(dumps(obj).encode()).hexdigest()[:24]


def _candidate_key(result: MatchResult) -> str:
    ident = sorted((c.listed_name, c.npi or "", c.excl_type, str(c.excl_date), str(c.rein_date),
                    str(c.waiver_date), c.waiver_state or "", c.sanction) for c in result.candidates)
    return _hash(ident)


def _previous_decided(tx: Tx, provider_id: int) -> bool | None:
    row = tx.conn.execute(select(mpr_checks.c.eligible).where(
        mpr_checks.c.provider_id == provider_id, mpr_checks.c.kind == "ELIGIBILITY",
        mpr_checks.c.eligible.is_not(None)).order_by(mpr_checks.c.check_id.desc()).limit(1)).first()
    return None if row is None else bool(row[0])


def _insert_check(tx: Tx, w: Who, row: dict[str, Any], kind: str, as_of: dt.date, inputs: Any, result: Any,
                  *, federal_sanction: bool | None, eligible: bool | None = None) -> int | None:
    """Append a check unless the same one (provider, kind, as_of, inputs) is on file: then None."""
    key = f"{row['provider_id']}:{kind}:{as_of.isoformat()}:{_hash(inputs)}"
    if tx.conn.execute(select(mpr_checks.c.check_id).where(mpr_checks.c.idem_key == key)).first() is not None:
        return None
    return tx.insert_chained(mpr_checks, [dict(  # linked to the checks' hash chain at commit (cdrflow.dcf.chain)
        provider_id=row["provider_id"], dds_org_id=row["dds_org_id"], as_of=as_of, kind=kind,
        result=dumps(result), federal_sanction=federal_sanction, eligible=eligible, idem_key=key,
        actor=w.actor.name, actor_role=w.actor.role, at=now())])[0]


def check(store: Store, actor: Actor, dds: str, as_of: dt.date) -> CheckRun:
    """Check every ACTIVE provider of a DDS on ``as_of``: "Ensure sources are currently licensed and
    without federal sanction" (PM 00215.001D.4.c).

    Per provider, in one transaction for the DDS:

    1. **LEIE** (:func:`cdrflow.mpr.matching.match_providers` on the stored list). When the matcher
       leaves ``federal_sanction`` undecided (an unconfirmed identity or a waiver), the question
       goes to the review queue (``LEIE_MATCH``), keyed by the provider and the candidates; a
       person's answer decides it on later checks: CONFIRMED (the entry is this provider and the
       sanction stands) gives ``True``, DISMISSED (not this provider, or the waiver covers the
       work) gives ``False``. A changed candidate set asks again.
    2. **ELIGIBILITY**: the licenses that count are those linked to the provider in a state where
       the provider has a location (a CE is performed at a location, so that state's license is the
       one in question). The calc ``ce-provider-eligibility`` runs on each; the provider is
       eligible when at least one is. No such license: not eligible ("not currently licensed" cannot
       be ensured). While the sanction question is open the answer is undecided (``eligible``
       null), never guessed.
    3. **Flag**: when the decided answer differs from the provider's previous decided answer (or a
       first check finds the provider not eligible), a flag is opened for the DDS's MPRO, who must
       act.

    Each check row's ``idem_key`` holds a hash of its inputs, so re-running a check on the same
    ``as_of`` with the same data adds nothing. INACTIVE providers are not checked (not in use).
    """
    with store.tx() as tx:
        target = Resource("mpr_check", f"{dds}@{as_of}", org=dds)
        w = who(tx, actor, REGISTRY_CHANGE, target)
        org = dds_org(tx, dds)
        require(tx, w, REGISTRY_CHANGE, target)
        index, imp = leie_index(tx)
        rows = [dict(r) for r in tx.conn.execute(select(mpr_providers).where(
            mpr_providers.c.dds_org_id == org["org_id"], mpr_providers.c.status == "ACTIVE")
            .order_by(mpr_providers.c.provider_id)).mappings()]
        run = CheckRun(dds=dds, as_of=as_of, providers=len(rows))
        models = [provider_model(r) for r in rows]
        results = match_providers(models, index, as_of).results
        mpro = tx.conn.execute(select(people.c.name).where(
            people.c.org == org["code"], people.c.role == MPRO, people.c.kind == "PERSON",
            people.c.active.is_(True)).order_by(people.c.person_id).limit(1)).scalar()
        for row, model, res in zip(rows, models, results, strict=True):
            _check_one(tx, w, row, model, res, as_of, imp, mpro, run)
    return run


def _check_one(tx: Tx, w: Who, row: dict[str, Any], model: Provider, res: MatchResult, as_of: dt.date,
               imp: dict[str, Any], mpro: str | None, run: CheckRun) -> None:
    sanction = res.federal_sanction
    review: dict[str, Any] | None = None
    qkey = None
    if sanction is None:
        qkey = f"LEIE:{row['provider_id']}:{_candidate_key(res)}"
        q = tx.conn.execute(select(mpr_review_queue).where(mpr_review_queue.c.qkey == qkey)).mappings().first()
        if q is not None and q["state"] != "OPEN":
            sanction = q["state"] == "CONFIRMED"
            review = {"queue_id": q["queue_id"], "state": q["state"], "decided_by": q["decided_by"],
                      "rationale": q["rationale"]}
    facts = model.model_dump(mode="json", exclude={"provider_id"})
    leie_inputs = {"leie": imp["file_sha256"], "provider": facts, "review": review}
    leie_result = {**res.model_dump(mode="json"), "leie_import": imp["import_id"], "leie_file": imp["file_name"],
                   "leie_date": str(imp["file_date"]) if imp["file_date"] else None, "review_decision": review}
    leie_check = _insert_check(tx, w, row, "LEIE", as_of, leie_inputs, leie_result, federal_sanction=sanction)
    if sanction is None and qkey is not None:
        exists = tx.conn.execute(select(mpr_review_queue.c.queue_id).where(mpr_review_queue.c.qkey == qkey)).first()
        if exists is None:
            tx.conn.execute(insert(mpr_review_queue).values(
                kind="LEIE_MATCH", dds_org_id=row["dds_org_id"], provider_id=row["provider_id"], check_id=leie_check,
                question=f"{res.provider_name}: " + "; ".join(res.review),
                candidates=dumps([c.model_dump(mode="json") for c in res.candidates]), qkey=qkey, state="OPEN",
                opened_at=now()))
            run.queued += 1

    states = {loc.state for loc in model.locations}
    lics = [dict(r) for r in tx.conn.execute(select(mpr_licenses).where(
        mpr_licenses.c.provider_id == row["provider_id"]).order_by(mpr_licenses.c.state, mpr_licenses.c.number))
        .mappings()]
    counted = [lic for lic in lics if lic["state"] in states]
    cite = "PM 00215.001D.4.c"
    answers: list[dict[str, Any]] = []
    eligible: bool | None
    if sanction is None:
        eligible = None
        why = ("the federal sanction question is for a person (review queue): eligibility is not decided until "
               "then")
    else:
        for lic in counted:
            payload = {"license_status": lic["status"], "license_expires": lic["expires"].isoformat(),
                       "federal_sanction": sanction, "as_of": as_of.isoformat()}
            out = REGISTRY[CALC].run(payload)
            answers.append({"license": f"{lic['state']} {lic['number']}", "input": payload,
                            "output": out})
        eligible = any(a["output"]["eligible"] for a in answers)
        why = ("currently licensed and without federal sanction under at least one license" if eligible
               else _why_not_eligible(sanction, res, review, counted, states, answers))
    inputs = {"sanction": sanction, "states": sorted(states),
              "licenses": [{k: str(lic[k]) for k in ("state", "number", "status", "expires")} for lic in counted]}
    result = {"eligible": eligible, "why": why, "cite": cite, "federal_sanction": sanction,
              "leie_check": leie_check, "licenses_counted": inputs["licenses"],
              "licenses_not_counted": [f"{lic['state']} {lic['number']}" for lic in lics if lic not in counted],
              "calc": answers}
    previous = _previous_decided(tx, row["provider_id"])
    cid = _insert_check(tx, w, row, "ELIGIBILITY", as_of, inputs, result, federal_sanction=sanction,
                        eligible=eligible)
    run.eligible += eligible is True
    run.not_eligible += eligible is False
    run.undecided += eligible is None
    if cid is None:
        return
    run.new_checks += 1
    if eligible is None or eligible == previous or (previous is None and eligible):
        return
    before = {None: "never checked", True: "eligible", False: "not eligible"}[previous]
    reason = (f"{display_name(row)} was {before} and is {'eligible' if eligible else 'NOT eligible'} on {as_of}: "
              f"{why} ({cite})")
    fid = int(tx.conn.execute(insert(mpr_flags).values(
        provider_id=row["provider_id"], dds_org_id=row["dds_org_id"], check_id=cid, from_eligible=previous,
        to_eligible=eligible, reason=reason, must_act_role=FLAG_MUST_ACT, must_act_org_id=row["dds_org_id"],
        must_act_person=mpro, state="OPEN", opened_at=now()).returning(mpr_flags.c.flag_id)).scalar_one())
    run.flags.append(fid)


_STRENGTH_WORDS = {"NPI": "matched by NPI", "NAME_LOCATION": "matched by name and location",
                   "NAME_STATE": "matched by name and state", "NAME_ONLY": "matched by name"}


def _why_not_eligible(sanction: bool, res: MatchResult, review: dict[str, Any] | None,
                      counted: list[dict[str, Any]], states: set[str], answers: list[dict[str, Any]]) -> str:
    """Every condition of D.4.c the provider fails, named: the exclusion (which LEIE entry) and the licenses.

    A provider on the LEIE with an active license is not eligible because of the exclusion, and the
    flag says so; "no license" is said only when no license is on file (docs/interpretations.md#federal-sanction).
    """
    parts: list[str] = []
    if sanction:
        entries = [c for c in res.candidates if c.sanction == "CURRENT"] or list(res.candidates)
        listed = "; ".join(
            f"{c.listed_name}, {c.location}, exclusion {c.excl_type} since {c.excl_date}"
            + (f" ({c.sanction.lower().replace('_', ' ')})" if c.sanction != "CURRENT" else "")
            + (f", {_STRENGTH_WORDS[c.strength]}" if c.confirmed else "") for c in entries)
        who = f"; identity confirmed by {review['decided_by']}" if review and review.get("decided_by") else ""
        parts.append(f"on the OIG exclusion list (LEIE): {listed or 'an entry'}{who}: a federal sanction")
    if not counted:
        parts.append(f"no license on file in a state where the provider has a location ({', '.join(sorted(states))}):"
                      " the source is not shown to be currently licensed")
    else:
        current = [a for a in answers if a["output"]["currently_licensed"]]
        if current:
            licensed = "currently licensed (" + ", ".join(
                f"{a['license']} {a['input']['license_status']} until {a['input']['license_expires']}"
                for a in current) + ")"
            return f"{parts[0]}, although {licensed}" if parts else licensed
        else:
            texts = [f"{a['license']}: " + "; ".join(
                r["text"] for r in a["output"]["reasons"] if r["text"].endswith("not currently licensed"))
                for a in answers]
            parts.append("not currently licensed (" + "; ".join(texts) + ")")
    return "; ".join(parts)


def _due(tx: Tx, as_of: dt.date, period_days: int) -> list[dict[str, Any]]:
    """Every DDS with ACTIVE providers whose last check is older than ``period_days`` before ``as_of``."""
    if period_days < 1:
        raise MprError("period_days: at least 1", field="period_days")
    cutoff = as_of - dt.timedelta(days=period_days)
    active = (select(mpr_providers.c.dds_org_id, func.count().label("n"))
              .where(mpr_providers.c.status == "ACTIVE").group_by(mpr_providers.c.dds_org_id).subquery())
    last = (select(mpr_checks.c.dds_org_id, func.max(mpr_checks.c.as_of).label("last"))
            .group_by(mpr_checks.c.dds_org_id).subquery())
    stmt = (select(mpr_orgs.c.org_id, mpr_orgs.c.code, active.c.n, last.c.last)
            .join(active, active.c.dds_org_id == mpr_orgs.c.org_id)
            .outerjoin(last, last.c.dds_org_id == mpr_orgs.c.org_id).order_by(mpr_orgs.c.code))
    return [{"dds": r["code"], "providers": r["n"], "last_check": r["last"],
             "days": None if r["last"] is None else (as_of - r["last"]).days}
            for r in tx.conn.execute(stmt).mappings() if r["last"] is None or r["last"] < cutoff]


def due_checks(store: Store, as_of: dt.date, *, actor: Actor,
               period_days: int = DEFAULT_PERIOD_DAYS) -> list[dict[str, Any]]:
    """DDSs with ACTIVE providers whose last check is older than ``period_days`` before ``as_of`` (or never).

    The period is an operating choice (:data:`DEFAULT_PERIOD_DAYS`), not policy. An M/PR reader
    (``mpr.read``) sees the DDSs of their level; whoever runs the schedule (``mpr.checks.run``:
    operations, the scheduler) sees every DDS. One access-log row for the list.
    """
    if period_days < 1:
        raise MprError("period_days: at least 1", field="period_days")
    res = Resource("due_checks", f"as_of={as_of},period={period_days}")
    with store.read() as tx:
        w = who(tx, actor, READ, res)
        runs = not authz.decide(w.actor, READ, res).allowed and authz.decide(w.actor, CHECKS_RUN, res).allowed
        require(tx, w, CHECKS_RUN if runs else READ, res)
        rows = _due(tx, as_of, period_days)
    return [r for r in rows if runs or can_read(w, r["dds"])]


def check_due(store: Store, as_of: dt.date, *, period_days: int = DEFAULT_PERIOD_DAYS,
              by: Actor | None = None) -> list[CheckRun]:
    """The schedule: check every DDS that is due (:func:`due_checks`), as the ``scheduler`` system component.

    ``by`` is who runs it: an operator or administrator (``mpr.checks.run``, authorized and logged
    first, like :func:`cdrflow.workflow.cycle.run_cycle`), whose run then acts as the scheduler on their
    behalf; None is the scheduler itself.
    """
    from cdrflow.workflow.people import system_principal

    if period_days < 1:
        raise MprError("period_days: at least 1", field="period_days")
    scheduler = system_principal(store, "scheduler")
    with store.tx() as tx:
        runner = authorize(tx, by or scheduler, CHECKS_RUN, Resource("mpr_schedule", f"as_of={as_of}")).actor
    acting = runner if runner.kind == "SYSTEM" else runner.acting_as(scheduler)
    with store.read() as tx:
        due = _due(tx, as_of, period_days)
    return [check(store, acting, d["dds"], as_of) for d in due]
