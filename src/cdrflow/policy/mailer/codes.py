"""CDT codes on the SSA-5526-U2-OP2 (DI 40502.001J.4.c) and IPCA event types (DI 40502.001G.6)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

from cdrflow.engine.calc import CalcOutput, Explain, calc
from cdrflow.engine.errors import NoValueInForce
from cdrflow.engine.months import fiscal_year

from .registry import REGISTRY
from .source import SOURCE, parameters


class CdtInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    released: dt.date


class CdtCode(CalcOutput):
    cdt: int | None
    fiscal_year: int


@calc(
    REGISTRY,
    "cdt-code",
    citation="DI 40502.001J.4.c",
    summary="CDT code for a DO CDR on a mailer, by the fiscal year the mailer was released",
    source=SOURCE,
    input_model=CdtInput,
    output_model=CdtCode,
)
def cdt_code(inp: CdtInput, explain: Explain) -> CdtCode:
    fy = fiscal_year(inp.released)
    try:
        pv = parameters()["cdt_codes"].at(inp.released)
    except NoValueInForce:
        explain.rule("cdt:none", "DI 40502.001J.4.c", "no mailer CDT code for mailers released before FY 2000")
        return CdtCode(cdt=None, fiscal_year=fy)
    code = int(explain.param(pv))
    explain.rule(f"cdt:{code}", pv.reference)
    return CdtCode(cdt=code, fiscal_year=fy)


IPCA_LABELS = {2: "INITIATE CDR", 3: "INITIATE CDR-VR REQUESTED", 4: "DEFER CDR", 5: "DEFER CDR-VR REQUESTED"}


class IpcaInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    full_cdr_needed: bool
    vr_requested: bool | None = None


class IpcaEvent(CalcOutput):
    event: Literal[2, 3, 4, 5]
    label: str


@calc(
    REGISTRY,
    "ipca-event",
    citation="DI 40502.001G.6 (IPCA screen event types)",
    summary="IPCA event type entered when the PC review is completed",
    source=SOURCE,
    input_model=IpcaInput,
    output_model=IpcaEvent,
)
def ipca_event(inp: IpcaInput, explain: Explain) -> IpcaEvent:
    vr = bool(inp.vr_requested)
    event: Literal[2, 3, 4, 5]
    if inp.full_cdr_needed:
        event = 3 if vr else 2
    else:
        event = 5 if vr else 4
    explain.rule(
        f"ipca:{event}",
        "DI 40502.001G.6",
        f"FULL CDR NEEDED {'Yes' if inp.full_cdr_needed else 'No'}; RESPONSE TO VR INQUIRY "
        f"{'Yes' if vr else 'No/No Response'}",
    )
    return IpcaEvent(event=event, label=IPCA_LABELS[event])
