"""BET/DT work development of question 1 and the Title II earnings tolerance (DI 40502.001J.2.c).

Title II without the folder: work posted to the DCF ("WORK ON THE DCF"), else the tolerance. Title II with the
folder: work and earnings already resolved ("WORK RESOLVED"), else the same tolerance branches. Title XVI: known
or unknown earnings. Which branches prepare an SSA-559 for the DE/DEC/DC now is ``ssa_559``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from cdrflow.engine.calc import CalcOutput, Explain, calc
from cdrflow.engine.errors import InputError, NoValueInForce

from .record import Title
from .registry import REGISTRY
from .source import SOURCE, parameters

REMARK_WORK_ON_DCF = "WORK ON THE DCF"
REMARK_WORK_RESOLVED = "WORK RESOLVED"
REMARK_UNDER_TOLERANCE = "EARNINGS UNDER TOLERANCE LEVEL. RETURN TO BET/DT AFTER DE/DEC/DC REVIEW."
REMARK_DEVELOP = (
    "WHEN WORK DEVELOPMENT IS COMPLETE, REVIEW MAILER TO DETERMINE IF FULL MEDICAL CDR IS NECESSARY, "
    "AND REPLACE WORK AND EARNINGS INVESTIGATION WITH APPROPRIATE IPCA EVENT CODE"
)
REMARK_EARNINGS_KNOWN = "EARNINGS KNOWN"
REMARK_UNKNOWN_TO_FO = "UNKNOWN EARNINGS REFERRED TO FO"


class EarningsToleranceInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    year: Annotated[int, Field(ge=1900, le=9999, description="calendar year of the reported earnings")]
    amount: Annotated[float, Field(ge=0)]
    period: Literal["WEEKLY", "MONTHLY", "ANNUAL"]
    posted: bool = Field(False, description="the alleged work is already on the DCF T2 WORK/EARNINGS segments")
    earnings_known: bool | None = Field(None, description="Title XVI: earnings known/already reported (DEQY, SSI2)")
    folder: bool = Field(False, description="Title II: the BET/DT works the case with the claim folder (J.2.c "
                                            "Title II Actions with Folder)")
    resolved: bool = Field(False, description="with the folder: the alleged work and earnings have already been "
                                              "resolved (J.2.c Title II Actions with Folder)")


class EarningsTolerance(CalcOutput):
    action: Literal["WORK_ON_DCF", "WORK_RESOLVED", "UNDER_TOLERANCE", "DEVELOP_WORK", "EARNINGS_KNOWN",
                    "REFER_UNKNOWN_EARNINGS_TO_FO"]
    remark: str
    tolerance: float | None
    next_steps: list[str]
    ssa_559: bool = Field(description="prepare an SSA-559 referring the case to the DE/DEC/DC now (J.2.c)")


@calc(
    REGISTRY,
    "earnings-tolerance",
    citation="DI 40502.001J.2.c; DI 40502.001J.3.a NOTE",
    summary="BET/DT action on work reported in question 1: posted, resolved (with folder), under or over the Title II "
            "tolerance, or Title XVI",
    source=SOURCE,
    input_model=EarningsToleranceInput,
    output_model=EarningsTolerance,
)
def earnings_tolerance(inp: EarningsToleranceInput, explain: Explain) -> EarningsTolerance:
    if inp.resolved and not inp.folder:
        raise InputError("resolved", "WORK RESOLVED is determined with the claim folder (DI 40502.001J.2.c Title II "
                                     "Actions with Folder): give folder as well (cdrflow review work --folder "
                                     "--resolved)")
    if inp.title == "T16":
        if inp.resolved:
            raise InputError("resolved", "WORK RESOLVED is a Title II annotation (DI 40502.001J.2.c Title II Actions "
                                         "with Folder); for Title XVI obtain a DEQY and SSI2 and give earnings_known")
        if inp.earnings_known is None:
            raise InputError("earnings_known", "required for Title XVI (obtain a DEQY and SSI2)")
        if inp.earnings_known:
            explain.rule("t16-earnings-known", "DI 40502.001J.2.c (Title XVI Cases)")
            return EarningsTolerance(
                action="EARNINGS_KNOWN", remark=REMARK_EARNINGS_KNOWN, tolerance=None, ssa_559=True,
                next_steps=["Annotate the mailer \"EARNINGS KNOWN\"",
                            "Prepare an SSA-559 referring the holder/paperless ACR to a DE/DEC/DC"],
            )
        explain.rule("t16-unknown-earnings", "DI 40502.001J.2.c (Title XVI Cases: do not apply the Title II tolerance)")
        return EarningsTolerance(
            action="REFER_UNKNOWN_EARNINGS_TO_FO", remark=REMARK_UNKNOWN_TO_FO, tolerance=None, ssa_559=False,
            next_steps=["Photocopy the mailer/facsimile and relevant attachments; refer to the servicing FO",
                        "Annotate the mailer, the photocopy and the IRMK screen \"UNKNOWN EARNINGS REFERRED TO FO\"",
                        "Advise the FO that no referral to PC-7 is necessary",
                        "Complete the clerical and DE/DEC/DC review"],
        )
    # Title II (and the Title II part of a concurrent case): without the folder, or with it (J.2.c).
    path = "Title II Actions with Folder" if inp.folder else "Title II Actions Without Folder"
    if inp.resolved:
        explain.rule("t2-work-resolved", "DI 40502.001J.2.c (Title II Actions with Folder: work and earnings already "
                                         "resolved)")
        return EarningsTolerance(
            action="WORK_RESOLVED", remark=REMARK_WORK_RESOLVED, tolerance=None, ssa_559=True,
            next_steps=["Annotate the mailer holder/paperless ACR \"WORK RESOLVED\"",
                        "Prepare an SSA-559 referring the case to the DE/DEC/DC to complete the PC mailer review"],
        )
    if inp.posted:
        explain.rule("t2-work-on-dcf", "DI 40502.001J.2.c (Title II Actions Without Folder: work posted to the T2 "
                                       "WORK/EARNINGS segments)",
                     "with the folder too: the work is already posted (docs/interpretations.md#work-resolved)"
                     if inp.folder else "")
        return EarningsTolerance(
            action="WORK_ON_DCF", remark=REMARK_WORK_ON_DCF, tolerance=None, ssa_559=True,
            next_steps=["Annotate the mailer \"WORK ON THE DCF\"",
                        "Prepare an SSA-559 routing the holder/paperless ACR to the DE/DEC/DC"],
        )
    try:
        pv = parameters()["earnings_tolerance_t2"].at(dt.date(inp.year, 1, 1))
    except NoValueInForce as exc:
        raise InputError("year", f"no Title II earnings tolerance for {inp.year} (first year {exc.first})") from None
    table = explain.param(pv)
    key = {"WEEKLY": "weekly", "MONTHLY": "monthly", "ANNUAL": "annual"}[inp.period]
    tolerance = float(table[key])
    if inp.amount <= tolerance:
        explain.rule(
            "t2-under-tolerance",
            f"DI 40502.001J.2.c ({path}: EQUAL TO OR LESS THAN the tolerance: do not develop now)",
            f"{inp.amount:g} <= {tolerance:g} {key} for {inp.year}",
        )
        return EarningsTolerance(
            action="UNDER_TOLERANCE", remark=REMARK_UNDER_TOLERANCE, tolerance=tolerance, ssa_559=True,
            next_steps=["Prepare an SSA-559 referring the case to the DE/DEC/DC with the remark",
                        "After mailer processing, cases not referred for a CDR and not integrity-sampled return "
                        "to the BET/DT to develop the unposted earnings (DI 40510.000)"],
        )
    explain.rule(
        "t2-develop-work",
        f"DI 40502.001J.2.c ({path}: EXCEED the tolerance: develop the work issues)",
        f"{inp.amount:g} > {tolerance:g} {key} for {inp.year}",
    )
    return EarningsTolerance(
        action="DEVELOP_WORK", remark=REMARK_DEVELOP, tolerance=tolerance, ssa_559=False,
        next_steps=["Develop the work issues per DI 40510.000",
                    "Update the DCF to show an earnings investigation is being initiated",
                    "Enter the Special Message on the IRMK screen",
                    "After the work issue is resolved, refer to the DE/DEC/DC"],
    )
