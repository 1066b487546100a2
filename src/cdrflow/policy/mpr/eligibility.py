"""PM 00215.001D.4.c: a consultative examination (CE) source is usable only when currently
licensed and without federal sanction.

One calc, ``ce-provider-eligibility``. The DDS's CE oversight includes "Ensure sources are
currently licensed and without federal sanction" (D.4.c, last bullet). The calc takes the facts
of one license (its status on the roster and its expiry date), whether the provider is under a
federal sanction, and the date of the check, and answers ``eligible`` with every reason, each
citing its passage.

What the text leaves open is read in ``docs/interpretations.md`` and cited by anchor:

* a license is current through the end of its expiry date (``#license-expiry-day``);
* "currently licensed" needs both the status ``ACTIVE`` and an expiry date not yet passed
  (``#currently-licensed``);
* ``federal_sanction`` is decided before the calc runs: an identity a person has not confirmed
  is not an input (``#federal-sanction``);
* dates before TN 2 (07/22/2015) have no version in force (``#mpr-version``).

The calc checks both conditions and reports every failure, not only the first, so the
oversight record shows all that has to be fixed.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cdrflow.engine.calc import CalcOutput, Explain, calc
from cdrflow.engine.parameters import ParameterSet
from cdrflow.policy.registry import REGISTRY

SOURCE = "PM 00215.001 TN 2 (07-15)"
HERE = Path(__file__).parent
CITE = "PM 00215.001D.4.c"
"""The passage: CE oversight activities, "Ensure sources are currently licensed and without federal sanction"."""
INTERPRETATIONS = "docs/interpretations.md"

LicenseStatus = Literal["ACTIVE", "EXPIRED", "SUSPENDED", "REVOKED"]


@cache
def parameters() -> ParameterSet:
    """The M/PR parameters (``parameters/*.yaml``), loaded once."""
    return ParameterSet.load(HERE / "parameters")


class EligibilityInput(BaseModel):
    """The facts of one CE source's license and sanction status on the date of the check."""

    model_config = ConfigDict(extra="forbid")
    license_status: LicenseStatus = Field(description="the license's status on the state roster")
    license_expires: dt.date = Field(description="the license's expiry date (current through that day)")
    federal_sanction: bool = Field(
        description="the provider is under a federal sanction on as_of (e.g. a current OIG exclusion); "
        "decided before the calc, by a person when the identity match is ambiguous")
    as_of: dt.date = Field(description="date of the check; picks the version of PM 00215.001 in force")


class Reason(BaseModel):
    """One finding of the check and the passage (and reading) it rests on."""

    text: str
    cite: str


class EligibilityOutput(CalcOutput):
    """Whether the source may be used for CEs on ``as_of``, and why."""

    eligible: bool
    currently_licensed: bool
    without_federal_sanction: bool
    version: str
    reasons: list[Reason]


def _why(explain: Explain, reasons: list[Reason], rule: str, cite: str, text: str) -> None:
    reasons.append(Reason(text=text, cite=cite))
    explain.rule(rule, cite, text)


@calc(
    REGISTRY,
    "ce-provider-eligibility",
    citation=f'{CITE}: "Ensure sources are currently licensed and without federal sanction"',
    summary="CE provider: usable only when currently licensed and without federal sanction",
    source=SOURCE,
    input_model=EligibilityInput,
    output_model=EligibilityOutput,
)
def ce_provider_eligibility(inp: EligibilityInput, explain: Explain) -> EligibilityOutput:
    """Check both conditions of D.4.c on ``as_of``; the source is eligible only when both hold."""
    version = str(explain.param(parameters()["mpr_version"].at(inp.as_of)))
    reasons: list[Reason] = []
    on, expires = inp.as_of.isoformat(), inp.license_expires.isoformat()

    # Currently licensed: status ACTIVE and not past the expiry date (current through that day).
    status_cite = f"{CITE}; {INTERPRETATIONS}#currently-licensed"
    expiry_cite = f"{CITE}; {INTERPRETATIONS}#license-expiry-day"
    if inp.license_status != "ACTIVE":
        _why(explain, reasons, "license:status", status_cite,
             f"the license is {inp.license_status} on the roster: the source is not currently licensed")
    if inp.license_expires < inp.as_of:
        _why(explain, reasons, "license:expired", expiry_cite,
             f"the license expired on {expires}, before {on}: the source is not currently licensed")
    licensed = inp.license_status == "ACTIVE" and inp.license_expires >= inp.as_of
    if licensed:
        day = "expires that day and is current through it" if inp.license_expires == inp.as_of \
            else f"runs until {expires}"
        _why(explain, reasons, "license:current", expiry_cite,
             f"the license is ACTIVE on {on} and {day}: the source is currently licensed")

    # Without federal sanction.
    sanction_cite = f"{CITE}; {INTERPRETATIONS}#federal-sanction"
    if inp.federal_sanction:
        _why(explain, reasons, "sanction:present", sanction_cite,
             f"the source is under a federal sanction on {on}")
    else:
        _why(explain, reasons, "sanction:none", sanction_cite,
             f"no federal sanction on {on}")

    eligible = licensed and not inp.federal_sanction
    _why(explain, reasons, "eligible" if eligible else "not-eligible", CITE,
         "currently licensed and without federal sanction: the source may be used for CEs" if eligible
         else "a CE source must be currently licensed and without federal sanction: do not use it")
    return EligibilityOutput(eligible=eligible, currently_licensed=licensed,
                             without_federal_sanction=not inp.federal_sanction, version=version, reasons=reasons)
