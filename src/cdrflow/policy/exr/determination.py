"""DI 28057.015: the expedited reinstatement (EXR) medical determination, both versions by date.

Two calcs:

* ``exr-mirs``: one month's medical improvement review standard (MIRS) findings (D) to "under a
  disability" or not, with the rule that a Group I exception needs an SGA-capacity finding
  before an unfavorable result.
* ``exr-determination``: the whole determination in the policy's order (A, C, D, then E/F and
  G): return to work, the "same as or related" finding, MIRS in the request month, and the month
  of entitlement (Title II, E) or eligibility (Title XVI, F).

The version is the one in force on the determination date (``as_of``): TN 1 (02-06) before
02/06/2018, TN 2 (02-18) from it. What differs between them (the latest possible month of
entitlement and the return-to-work rule) is effective-dated data in ``parameters/``, not code;
the code reads the value in force and cites it.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cdrflow.engine.calc import CalcOutput, Explain, calc
from cdrflow.engine.errors import InputError
from cdrflow.engine.months import Month
from cdrflow.engine.parameters import ParameterSet
from cdrflow.policy.registry import REGISTRY

SOURCE = "DI 28057.015"
HERE = Path(__file__).parent
Outcome = Literal["ENTITLED", "DENIED", "TECHNICAL_DENIAL"]

RETRO_REMARK = "possible retroactivity exists prior to the month of filing"
"""The FO's SSA-823 remark when there is a non-SGA month in the retroactive period (E.2, TN 2)."""
RETRO_REMARK_TN1 = "possible retroactivity exists prior to the month of filing-see SSA-823."
"""The FO's SSA-454 remark in TN 1 (E, second bullet)."""


@cache
def parameters() -> ParameterSet:
    return ParameterSet.load(HERE / "parameters")


def param(name: str, on: dt.date, explain: Explain | None = None) -> Any:
    pv = parameters()[name].at(on)
    return explain.param(pv) if explain is not None else pv.value


def version_on(on: dt.date) -> str:
    """The DI 28057.015 version in force on a determination date, e.g. ``"TN 2 (02-18)"``."""
    return str(param("exr_version", on))


def _mm_yy(m: Month) -> str:
    return f"{m.month:02d}/{m.year % 100:02d}"


# ------------------------------------------------------------------ MIRS (D)
class MirsInput(BaseModel):
    """One month's MIRS findings (DI 28057.015D; the CDR standard of DI 28005.005)."""

    model_config = ConfigDict(extra="forbid")
    mi_related_to_ability_to_work: bool = Field(description="medical improvement related to the ability to work")
    group_i_exception: bool = False
    group_ii_exception: bool = False
    capable_of_sga: bool | None = Field(
        default=None, description="capacity for SGA; decided after MI related to work or a Group I exception")


class MirsOutput(CalcOutput):
    disabled: bool
    reason: str


@calc(
    REGISTRY,
    "exr-mirs",
    citation="DI 28057.015D (both versions): disabled / ineligible under MIRS; Group I exceptions need an SGA finding",
    summary="EXR: one month's MIRS findings -> under a disability or not",
    source=SOURCE,
    input_model=MirsInput,
    output_model=MirsOutput,
)
def exr_mirs(inp: MirsInput, explain: Explain) -> MirsOutput:
    return _mirs(inp, explain)


def _mirs(inp: MirsInput, explain: Explain) -> MirsOutput:
    if inp.group_ii_exception:
        explain.rule("mirs:group-ii", "DI 28057.015D.2", "an exception to MI applies: ineligible for EXR")
        return MirsOutput(disabled=False, reason="a Group II exception to medical improvement applies")
    if inp.group_i_exception:
        if inp.capable_of_sga is None:
            raise InputError("capable_of_sga", "a Group I exception needs a finding that the claimant is capable "
                             "of SGA before an unfavorable determination (DI 28057.015D.2)")
        if inp.capable_of_sga:
            explain.rule("mirs:group-i-sga", "DI 28057.015D.2", "Group I exception and capable of SGA: ineligible")
            return MirsOutput(disabled=False, reason="a Group I exception applies and the claimant can do SGA")
        explain.rule("mirs:group-i-no-sga", "DI 28057.015D.2; DI 28005.005",
                     "Group I exception but not capable of SGA: the unfavorable finding is not made")
        return MirsOutput(disabled=True, reason="a Group I exception applies but the claimant cannot do SGA")
    if inp.mi_related_to_ability_to_work:
        if inp.capable_of_sga is None:
            raise InputError("capable_of_sga", "medical improvement related to the ability to work: record "
                             "whether the claimant is capable of SGA (DI 28057.015D.1, D.2)")
        if inp.capable_of_sga:
            explain.rule("mirs:mi-sga", "DI 28057.015D.2", "MI related to the ability to work and capable of SGA")
            return MirsOutput(disabled=False, reason="medical improvement related to the ability to work, "
                              "and the claimant can do SGA")
        explain.rule("mirs:mi-no-sga", "DI 28057.015D.1", "MI related to work but not capable of SGA: disabled")
        return MirsOutput(disabled=True, reason="medical improvement related to the ability to work, "
                          "but the claimant cannot do SGA")
    if inp.capable_of_sga:
        raise InputError("capable_of_sga", "with no medical improvement related to the ability to work and no "
                         "exception, MIRS does not reach the SGA-capacity step (docs/interpretations.md#exr-mirs)")
    explain.rule("mirs:no-mi", "DI 28057.015D.1", "no MI related to the ability to work and no exception applies")
    return MirsOutput(disabled=True, reason="no medical improvement related to the ability to work, no exception")


# ------------------------------------------------------------------ the determination
class ExrInput(BaseModel):
    """The facts an EXR determination turns on (DI 28057.015A-G)."""

    model_config = ConfigDict(extra="forbid")
    title: Literal["T2", "T16"]
    request_month: Month = Field(description="month of the EXR request (the filing month)")
    btm: Month = Field(description="benefit termination month of the previous entitlement")
    sga_months: list[Month] = Field(default_factory=list, description="SGA months on the SSA-823; others are "
                                    "non-SGA")
    mirs_met_from: Month | None = Field(default=None, description="first month the claimant is under a disability "
                                        "under MIRS (and every month after); null: not disabled under MIRS")
    same_or_related: bool | None = Field(default=None, description="the 'same as or related' finding; null: not "
                                         "yet made")
    prior_folder_missing: bool = False
    as_of: dt.date = Field(description="determination date: picks the version of DI 28057.015 in force")
    # Facts the policy says do not matter; given, they are acknowledged with their passage and change nothing.
    cpd_basis: Literal["LISTING", "MEDICAL_VOCATIONAL"] | None = Field(
        default=None, description="basis of the CPD; irrelevant to the same-or-related finding (C.1)")
    cpd_listing_obsolete: bool = Field(default=False, description="the CPD listing is now obsolete; irrelevant (C.3)")
    cdr_screen_out_would_apply: bool = Field(
        default=False, description="a CDR would be screened out (e.g. HIV, DI 28003.005C); not for EXR (D NOTE)")


class Reason(BaseModel):
    text: str
    cite: str


class MonthRow(BaseModel):
    """One month of the Title II window, as the worksheet shows it."""

    month: Month
    sga: bool
    mirs_met: bool
    qualifies: bool
    why: str
    cite: str


class ExrDetermination(CalcOutput):
    outcome: Outcome
    moe: Month | None = Field(description="month of entitlement (Title II) or of eligibility (Title XVI)")
    version: str
    remarks: list[str]
    reasons: list[Reason]
    months: list[MonthRow]


class _Answer:
    """Collects reasons (each also a trace step) while the determination runs."""

    def __init__(self, explain: Explain, version: str) -> None:
        self.explain = explain
        self.version = version
        self.reasons: list[Reason] = []
        self.remarks: list[str] = []
        self.months: list[MonthRow] = []

    def why(self, rule: str, cite: str, text: str) -> None:
        self.reasons.append(Reason(text=text, cite=cite))
        self.explain.rule(rule, cite, text)

    def done(self, outcome: Outcome, moe: Month | None = None) -> ExrDetermination:
        return ExrDetermination(outcome=outcome, moe=moe, version=self.version, remarks=self.remarks,
                                reasons=self.reasons, months=self.months)


@calc(
    REGISTRY,
    "exr-determination",
    citation="DI 28057.015A-G, TN 1 (02-06) before 02/06/2018 and TN 2 (02-18) from it",
    summary="EXR: same as or related, MIRS, month of entitlement (T2) or eligibility (T16), return to work",
    source=SOURCE,
    input_model=ExrInput,
    output_model=ExrDetermination,
)
def exr_determination(inp: ExrInput, explain: Explain) -> ExrDetermination:
    on = inp.as_of
    version = param("exr_version", on, explain)
    explain.versions["source"] = f"{SOURCE} {version}"
    tn = "TN 1" if version.startswith("TN 1") else "TN 2"
    ans = _Answer(explain, str(version))
    first_filing_pv = parameters()["exr_earliest_t2_month"].at(on)  # recorded where Title II uses it
    first_filing = Month.parse(str(first_filing_pv.value))
    if inp.request_month < first_filing:
        raise InputError("request_month", f"EXR could first be requested in {first_filing} (DI 28057.015E NOTE, F)")
    if inp.request_month < inp.btm:
        raise InputError("request_month", f"{inp.request_month} is before the benefit termination month {inp.btm}")
    if on < inp.request_month.first_day():
        raise InputError("as_of", f"{on} is before the request month {inp.request_month}")
    sga = set(inp.sga_months)

    # G. Return to work: SGA in the filing month (TN 1), or in it and the next month (TN 2).
    offsets = [int(o) for o in param("exr_technical_denial_sga_months", on, explain)]
    watched = [inp.request_month + o for o in offsets]
    if all(m in sga for m in watched):
        months = " and ".join(str(m) for m in watched)
        ans.why("return-to-work", f"DI 28057.015G ({tn})",
                f"SGA in {months}: the case file goes back to the FO for a technical denial "
                "(DI 13050.005A.2); no EXR medical determination is made")
        return ans.done("TECHNICAL_DENIAL")

    # C. "Same as or related", first; a missing prior folder means the allegation is accepted.
    related = inp.same_or_related
    if inp.prior_folder_missing:
        if related is False:
            raise InputError("same_or_related", "the prior medical file is missing, so the allegation that the "
                             "impairment is the same as or related is accepted (DI 28057.015C.4)")
        ans.why("same-or-related:folder-missing", "DI 28057.015C.4",
                "the prior medical file is missing: the allegation of a same or related impairment is accepted")
        related = True
    if related is None:
        raise InputError("same_or_related", "the 'same as or related' finding comes first and is made once "
                         "development is complete (DI 28057.015A, C); record it before a determination")
    if not related:
        ans.why("not-same-or-related", "DI 28057.015A; DI 28057.015C; DI 28057.020B",
                "the evidence clearly establishes that the current impairment is not the same as or related to "
                "the CPD impairment: EXR is denied and no medical improvement determination is made")
        return ans.done("DENIED")
    if inp.same_or_related:
        ans.why("same-or-related", "DI 28057.015C; C.2",
                "the current impairment is the same as or related to the CPD impairment (in anatomy or type of "
                "disease, not severity)")
    if inp.cpd_basis is not None:
        ans.why("cpd-basis-irrelevant", "DI 28057.015C.1",
                f"the CPD rested on a {inp.cpd_basis.lower().replace('_', '-')} basis; whether a listing or a "
                "medical-vocational allowance is irrelevant to the finding")
    if inp.cpd_listing_obsolete:
        ans.why("obsolete-listing-irrelevant", "DI 28057.015C.3",
                "the CPD listing is now obsolete; that is irrelevant to the same-or-related finding")
    if inp.cdr_screen_out_would_apply:
        ans.why("no-screen-out", f"DI 28057.015D NOTE ({tn})",
                "CDR screen-out policies do not apply to EXR cases: the DDS makes a medical determination")

    # B, D. Under a disability under MIRS in the month of the request.
    if inp.mirs_met_from is None:
        ans.why("mirs-not-met", "DI 28057.015D",
                "not under a disability under MIRS (medical improvement related to the ability to work and "
                "capable of SGA, or an exception applies): ineligible for EXR")
        return ans.done("DENIED")
    if inp.mirs_met_from > inp.request_month:
        ans.why("mirs-not-in-request-month", "DI 28057.015B",
                f"under a disability under MIRS only from {inp.mirs_met_from}, not in the month of the EXR request "
                f"({inp.request_month}): the DDS must find disability under MIRS in the request month")
        return ans.done("DENIED")
    ans.why("mirs-met", "DI 28057.015B; DI 28057.015D.1",
            f"under a disability under MIRS from {inp.mirs_met_from}, including the request month")

    if inp.title == "T16":
        return _title_xvi(inp, on, ans, tn)
    return _title_ii(inp, on, ans, tn, sga, Month.parse(str(ans.explain.param(first_filing_pv))))


def _title_xvi(inp: ExrInput, on: dt.date, ans: _Answer, tn: str) -> ExrDetermination:
    """F: the month after the request, never before February 2001; no retroactivity."""
    earliest = Month.parse(str(param("exr_earliest_t16_month", on, ans.explain)))
    moe = max(inp.request_month + 1, earliest)
    ans.why("t16-moe", f"DI 28057.015F ({tn})",
            f"Title XVI eligibility begins with the month after the request ({inp.request_month + 1}), never "
            f"before {earliest}; there is no retroactive eligibility")
    ans.months.append(MonthRow(month=moe, sga=moe in set(inp.sga_months), mirs_met=True, qualifies=True,
                               why="month after the request", cite="DI 28057.015F"))
    return ans.done("ENTITLED", moe)


def _title_ii(inp: ExrInput, on: dt.date, ans: _Answer, tn: str, sga: set[Month], earliest: Month
              ) -> ExrDetermination:
    """E: the earliest month of the retroactive window that meets every factor, else the latest allowed."""
    ex = ans.explain
    retro = int(param("exr_retro_months", on, ex))
    after = int(param("exr_latest_moe_after_request", on, ex))
    req = inp.request_month
    latest = req + (after if req in sga else 0)
    window_start = req + (-retro)
    cite_e = f"DI 28057.015E ({tn})"
    moe: Month | None = None
    m = window_start
    while m <= latest:
        mirs = inp.mirs_met_from is not None and m >= inp.mirs_met_from
        is_sga = m in sga
        if m < earliest:
            why, ok = "before January 2001: no EXR benefits for earlier months", False
        elif m < inp.btm:
            why, ok = f"before the benefit termination month {inp.btm}", False
        elif is_sga:
            why, ok = "SGA in this month", False
        elif not mirs:
            why, ok = "not under a disability under MIRS in this month", False
        else:
            why, ok = ("the request month" if m == req else
                       "the month after the request (SGA in the month of filing)" if m > req else
                       "non-SGA, MIRS met, within the 12-month retroactive period"), True
        if ok and moe is None:
            moe = m
            why += ": the month of entitlement (the earliest qualifying month)"
        ans.months.append(MonthRow(month=m, sga=is_sga, mirs_met=mirs, qualifies=ok, why=why, cite=cite_e))
        m = m + 1

    retro_from = max(window_start, inp.btm, earliest)
    retro_months = [retro_from + i for i in range(max(req - retro_from, 0))]
    if any(x not in sga for x in retro_months):
        ans.remarks.append(RETRO_REMARK if tn == "TN 2" else RETRO_REMARK_TN1)
    elif req in sga and after:
        ans.remarks.append(f"SGA in month of filing. First possible MOE is {_mm_yy(req + 1)}.")
    if moe is None:  # cannot happen once G and B have passed; kept so a gap is never silent
        ans.why("no-qualifying-month", cite_e, "no month of the window meets every factor of entitlement")
        return ans.done("DENIED")
    ans.why("t2-moe", cite_e,
            f"month of entitlement {moe}: the earliest month from {max(window_start, inp.btm, earliest)} to "
            f"{latest} with no SGA, under a disability under MIRS, not before the BTM ({inp.btm}) or January 2001; "
            f"never after {'the request month' if latest == req else 'the month after the request'}")
    return ans.done("ENTITLED", moe)
