"""Shared pieces of the lifecycle: DCF event wording, case states, memoized policy calls."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

from cdrflow.dcf.store import Actor
from cdrflow.dcf.store import event as _event
from cdrflow.engine.calc import Explain
from cdrflow.engine.errors import InputError, NoValueInForce
from cdrflow.engine.months import Month
from cdrflow.policy.mailer.codes import CdtInput, IpcaInput, cdt_code, ipca_event
from cdrflow.policy.mailer.diary import DiaryResetInput, classify_mdr, diary_reset
from cdrflow.policy.mailer.jurisdiction import JurisdictionInput, SsnTable, pc_jurisdiction
from cdrflow.policy.mailer.schedule import FollowupInput, followup_selection
from cdrflow.policy.mailer.source import SOURCE, param

Title = Literal["T2", "T2/16", "T16"]

# Case states (cases.state). Open states are worked by cycles, intake or reviewers.
SENT = "SENT"  # a mailer is out (first or second request)
UNDELIVERABLE = "UNDELIVERABLE"  # returned undeliverable after the remail; held until 150 days (E.1)
SIGNATURE_PENDING = "SIGNATURE_PENDING"  # unsigned: WBDOC signature control (E.2)
PC_REVIEW = "PC_REVIEW"  # CDR MAILER PSC REVIEW alert (F.3, G)
NONRESPONDER = "NONRESPONDER"  # nonresponder alert: PC DIRCON (I)
PC_RESENT = "PC_RESENT"  # PC resent an undeliverable hard-paper mailer to a new address (H.2)
DEFERRED = "DEFERRED"
DO_CDR = "DO_CDR"
REFERRED = "REFERRED"  # referred to the PC or FO at WBDOC screening (E.2): death, damage, fraud...
REFERRAL_CLOSED = "REFERRAL_CLOSED"  # the PC/FO recorded its action on the referral
OPEN_STATES = (SENT, UNDELIVERABLE, SIGNATURE_PENDING, PC_REVIEW, NONRESPONDER, PC_RESENT)
CLOSED_STATES = (DEFERRED, DO_CDR, REFERRED, REFERRAL_CLOSED)

# Review stages inside PC_REVIEW / NONRESPONDER.
ASSOCIATE = "ASSOCIATE"  # DSE (PC-7) / FLC (PCs 1-6) associates the actual mailer (E.4.b, G.4.a)
TRANSLATION = "TRANSLATION"  # BET/DT refers to a translator (G.4.a)
BET_DT = "BET_DT"  # work activity (J.2.c)
DE = "DE"  # DE/DEC/DC decision (G.5, J.2)
DIRCON = "DIRCON"  # nonresponder telephone contact (I)

STAGE_ROLES: dict[str, frozenset[str]] = {
    ASSOCIATE: frozenset({"DSE", "FLC"}),
    TRANSLATION: frozenset({"BET", "DT"}),
    BET_DT: frozenset({"BET", "DT"}),
    DE: frozenset({"DE", "DEC", "DC"}),
    DIRCON: frozenset({"BET", "DT", "DE", "DEC", "DC"}),
}


def label(title: str, what: str) -> str:
    """DCF event wording with the title label (G.6): ``label("T2/16", "INITIAL MAILER SENT")``.

    G.6 words the Title XVI follow-up differently: "T16 PC REVIEW FOLLOW-UP".
    """
    if what == "PC MAILER FOLLOW-UP" and title == "T16":
        what = "PC REVIEW FOLLOW-UP"
    return f"{title} {what}"


def stage_for_alert(alert_type: str | None, message: int | None, reviewer: str | None) -> str:
    """First review stage of a PC review case (E.4.b, G.4.a)."""
    if alert_type in ("PSC MAILER", "PSC_MAILER"):
        return ASSOCIATE
    return DE


def stage_after_association(message: int | None, reviewer: str | None) -> str:
    """G.4.a: translation, then BET/DT for work activity, else DE/DEC/DC. Messages 1-2 are translation."""
    if message in (1, 2):
        return TRANSLATION
    if reviewer == "BET/DT":
        return BET_DT
    return DE


BASE_POLICY_VERSION = json.dumps({"source": SOURCE}, sort_keys=True)


def policy_version_of(on: dt.date, *params: str) -> str:
    """The policy version of a step that reads ``params`` (effective dates) under the source text."""
    ex = Explain(SOURCE)
    for name in params:
        param(name, on, ex)
    return json.dumps(ex.versions, sort_keys=True)


def event(*, ssn: str, case_id: str | None, event_date: dt.date, event_type: str, actor: Actor,
          code: str | None = None, policy_version: str | None = None, detail: dict[str, Any] | None = None,
          idem_key: str | None = None) -> dict[str, Any]:
    """A DCF event row; every lifecycle event carries a policy version (at least the source text's)."""
    return _event(ssn=ssn, case_id=case_id, event_date=event_date, event_type=event_type, actor=actor, code=code,
                  policy_version=policy_version or BASE_POLICY_VERSION, detail=detail, idem_key=idem_key)


def month_of(d: dt.date) -> Month:
    return Month(d.year, d.month)


def pv_text(pv: dict[str, str]) -> str:
    return json.dumps(pv, sort_keys=True)


def plain(row: dict[str, Any]) -> dict[str, Any]:
    """A DCF row as JSON values: dates and timestamps as ISO text, amounts (``Decimal``) as numbers."""
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, dt.datetime | dt.date):
            out[k] = v.isoformat()
        elif isinstance(v, Decimal):
            out[k] = float(v)
        else:
            out[k] = v
    return out


# ---- memoized policy calls: many cases share the same inputs --------------------------------

@lru_cache(maxsize=65536)
def followup(title: str, last_event: str, last_event_date: dt.date, as_of: dt.date,
             send_request_date: dt.date | None) -> tuple[str, str | None, int, str]:
    out = followup_selection(FollowupInput(title=title, last_event=last_event,
                                           last_event_date=last_event_date, as_of=as_of,
                                           send_request_date=send_request_date))
    return out.action, out.event, out.days, pv_text(out.policy_version)


@lru_cache(maxsize=65536)
def diary(title: str, deferral_month: str, od_calc_mdr: str | None, scanline_mdr: str | None,
          qmid_mdr: str | None, ssr_mr: str | None, on: dt.date) -> dict[str, Any]:
    out = diary_reset(DiaryResetInput(title=title, deferral_month=Month.parse(deferral_month),
                                      profile_sheet_mdr=od_calc_mdr, scanline_mdr=scanline_mdr, qmid_mdr=qmid_mdr,
                                      ssr_mr=ssr_mr, decision_date=on))
    return {"mdr": out.mdr, "mdr_source": out.mdr_source, "diary_type": out.diary_type, "months": out.months,
            "diary_month": str(out.diary_month),
            "ssi_diary_month": str(out.ssi_diary_month) if out.ssi_diary_month else None,
            "policy_version": pv_text(out.policy_version),
            "rules": [s.rule for s in out.trace]}


def diary_type_of(mdr: str) -> str | None:
    """MIE, MIP or MINE for an MDR/MR code (G.5), or None for a code that is not one."""
    try:
        return classify_mdr(mdr, "mdr", param("mdr_codes", None))[0]
    except InputError:
        return None


@lru_cache(maxsize=4096)
def cdt(released: dt.date) -> dict[str, Any]:
    out = cdt_code(CdtInput(released=released))
    return {"cdt": out.cdt, "fiscal_year": out.fiscal_year, "policy_version": pv_text(out.policy_version)}


def ipca(full_cdr_needed: bool, vr_requested: bool | None) -> tuple[int, str, str]:
    out = ipca_event(IpcaInput(full_cdr_needed=full_cdr_needed, vr_requested=vr_requested))
    return out.event, out.label, pv_text(out.policy_version)


IMPORTED_BASIS = "beneficiary data: servicing_pc as imported"
"""The basis of a PC the site supplied with the population (docs/population.md)."""
UNRECORDED_BASIS = "not recorded at selection"
"""The basis shown for a case selected before cdrflow kept the jurisdiction basis (interpretations §14)."""


@lru_cache(maxsize=262144)
def _pc(site_table: SsnTable | None, title: str, ssn: str, foreign: bool, age: int | None, deceased: bool,
        on: dt.date) -> tuple[int | None, str, str]:
    # The site table is part of the key, by its content hash (SsnTable hashes and compares by its digest):
    # an answer from one table is never given for another.
    out = pc_jurisdiction(JurisdictionInput(title=title, ssn=ssn, foreign=foreign,
                                            beneficiary_type="DISABLED_WORKER", wage_earner_age=age,
                                            wage_earner_deceased=deceased, as_of=on, site_table=site_table))
    return out.pc, out.source, out.basis


def jurisdiction(ben: dict[str, Any], on: dt.date,
                 site_table: SsnTable | None = None) -> tuple[int | None, str, str]:
    """(PC, source, basis) of a beneficiary: the imported PC, else the pc-jurisdiction calc (E.4.a).

    ``site_table`` is the site's GN 01070.245 table (looked in before the shipped public chart); None:
    the public chart only. ``source`` is ``IMPORTED`` or the calc's (``RULE``, ``SITE_TABLE``,
    ``PUBLIC_CHART``, ``UNKNOWN``); ``basis`` is the label that travels with the PC (event detail, print
    file, alert sheet). The PC is ``None`` when the claim is PC 1-6 and neither table knows the SSN's area
    number.
    """
    if ben.get("servicing_pc"):
        return int(ben["servicing_pc"]), "IMPORTED", IMPORTED_BASIS
    birth: dt.date = ben["birth_date"]
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    # Memo key only: the calc compares the age with pc7_transfer_age and nothing else, so every age at or
    # above it answers alike, and so does every age below it.
    try:
        limit = int(param("pc7_transfer_age", on))
    except NoValueInForce:
        limit = None  # the calc itself reports the missing value
    if limit is not None:
        age = limit if age >= limit else limit - 1
    # Only the area number matters for PC 1-6, so the cache is keyed on it.
    ssn_key = ben["ssn"][:3] + "010001"  # a group and serial ever issued (kernel.ssn): only the area counts
    return _pc(site_table, ben["title"], ssn_key, bool(ben["foreign_address"]), age,
               ben.get("date_of_death") is not None, on)


def recorded_basis(initial_detail: str | dict[str, Any] | None, ben: dict[str, Any]) -> str:
    """The jurisdiction basis of a case's PC, as its INITIAL MAILER SENT event recorded it at selection.

    Cases selected before the basis was kept: the imported PC's basis if the beneficiary data has one,
    else :data:`UNRECORDED_BASIS`. The print file and the alert sheet show this next to the PC.
    """
    detail = json.loads(initial_detail) if isinstance(initial_detail, str) else initial_detail
    if detail and detail.get("pc_basis"):
        return str(detail["pc_basis"])
    if ben.get("servicing_pc"):
        return IMPORTED_BASIS
    return UNRECORDED_BASIS


def report_period_start(as_of: dt.date, title: str) -> str:
    """Start of the mailer's report period: B.1 "recent" usually means the last two years."""
    return str(Month(as_of.year - 2, as_of.month))


def integrity_rate(on: dt.date) -> float:
    """The integrity sampling rate in force, a share of PC-reviewed decisions (G.7; interpretations §27)."""
    return float(param("integrity_sample_rate_pc_reviewed", on))
