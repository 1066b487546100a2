"""Diary reset on a mailer deferral (DI 40502.001G.5, J.3.b)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cdrflow.engine.calc import CalcOutput, Explain, calc
from cdrflow.engine.errors import InputError
from cdrflow.engine.months import Month

from .record import Title
from .registry import REGISTRY
from .source import SOURCE, param

DiaryType = Literal["MIE", "MIP", "MINE"]


class DiaryResetInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    deferral_month: Month
    profile_sheet_mdr: str | None = Field(default=None, description="OD-CALC MDR: field of the profile sheet")
    scanline_mdr: str | None = Field(default=None, description="field 1 of scanline 2")
    qmid_mdr: str | None = Field(default=None, description="MEDICAL RE-EXAM REASON of the most current QMID screen")
    ssr_mr: str | None = Field(default=None, description="MR of the SSR MG segment (Title XVI)")
    decision_date: dt.date | None = None


class DiaryReset(CalcOutput):
    mdr: str
    mdr_source: Literal["PROFILE_SHEET", "SCANLINE", "QMID", "SSR", "DEFAULT"]
    diary_type: DiaryType
    months: int
    diary_month: Month
    ssi_diary_month: Month | None


def classify_mdr(code: str, field: str, codes: dict[str, object]) -> tuple[DiaryType, str]:
    """Diary type of an MDR/MR code: an alpha is MIE, 3 is MIP, 5 or 7 is MINE (G.5)."""
    if len(code) == 1 and code.isalpha() and code.isupper():
        return "MIE", "MIE"
    mip = codes["MIP"]
    mine = codes["MINE"]
    mine5 = codes["MINE_5"]
    assert isinstance(mip, list) and isinstance(mine, list) and isinstance(mine5, list)
    if code in mip:
        return "MIP", "MIP"
    if code in mine:
        return "MINE", ("MINE_5" if code in mine5 else "MINE")
    raise InputError(field, f"{code!r} is not a medical diary reason: an alpha (MIE), 3 (MIP), or 5 or 7 (MINE)")


@calc(
    REGISTRY,
    "diary-reset",
    citation="DI 40502.001G.5; DI 40502.001J.3.b",
    summary="Reset the medical reexamination diary on a mailer deferral",
    source=SOURCE,
    input_model=DiaryResetInput,
    output_model=DiaryReset,
)
def diary_reset(inp: DiaryResetInput, explain: Explain) -> DiaryReset:
    codes = param("mdr_codes", inp.decision_date, explain)
    durations = param("diary_durations", inp.decision_date, explain)
    candidates: list[tuple[str, Literal["PROFILE_SHEET", "SCANLINE", "QMID", "SSR"], str | None, str]] = [
        ("profile_sheet_mdr", "PROFILE_SHEET", inp.profile_sheet_mdr,
         "DI 40502.001J.3.b (diary types do not agree: use the profile sheet OD-CALC MDR: field)"),
        ("scanline_mdr", "SCANLINE", inp.scanline_mdr,
         "DI 40502.001G.5; DI 40502.001J.3.b (no value on the profile sheet: use the mailer)"),
        ("qmid_mdr", "QMID", inp.qmid_mdr, "DI 40502.001G.5 (no code on scanline or profile sheet: use the QMID)"),
    ]
    if inp.title in ("T16", "T2/16"):
        candidates.append(("ssr_mr", "SSR", inp.ssr_mr, "DI 40502.001G.5 (Title XVI: the MG segment of the SSR)"))
    mdr: str | None = None
    source: Literal["PROFILE_SHEET", "SCANLINE", "QMID", "SSR", "DEFAULT"] = "DEFAULT"
    kind: str = ""
    dtype: DiaryType = "MIP"
    for field, src, value, cite in candidates:
        if value is None or not value.strip():
            continue
        dtype, kind = classify_mdr(value.strip(), field, codes)
        mdr, source = value.strip(), src
        explain.rule(f"mdr-source:{src}", cite)
        break
    if mdr is None:
        mdr = str(codes["default"])
        dtype, kind = classify_mdr(mdr, "default", codes)
        explain.rule("mdr-source:DEFAULT", "DI 40502.001G.5 NOTE; DI 40502.001J.3.b (no MDR/MR anywhere: default 3)")
    months = int(durations[kind])
    explain.rule(f"diary-duration:{kind}", "DI 40502.001J.3.b", f"{dtype} resets for {months} months")
    diary_month = inp.deferral_month + months
    ssi = None
    if inp.title == "T2/16":
        ssi = diary_month
        explain.rule("concurrent-ssi-diary", "DI 40502.001J.3.b NOTE (update the SSI diary to match)")
    return DiaryReset(
        mdr=mdr, mdr_source=source, diary_type=dtype, months=months, diary_month=diary_month, ssi_diary_month=ssi
    )
