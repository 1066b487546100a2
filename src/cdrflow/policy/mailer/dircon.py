"""Direct telephone contact (DIRCON) attempts (DI 40502.001I; DI 40502.001J.1)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

from cdrflow.engine.calc import CalcOutput, Explain, calc

from .registry import REGISTRY
from .source import SOURCE, param

Attempt = Literal["BUSY", "NO_ANSWER", "REACHED", "REFUSED", "NOT_LOCATED"]


class DirconInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    attempts: list[Attempt]
    decision_date: dt.date | None = None


class DirconOutcome(CalcOutput):
    action: Literal["ATTEMPT_AGAIN", "PROCESS_MAILER", "DO_CDR"]
    counted_attempts: int


@calc(
    REGISTRY,
    "dircon-outcome",
    citation="DI 40502.001I (nonresponders); DI 40502.001J.1 (two attempts, busy not counted)",
    summary="Nonresponder DIRCON: next step after the attempts; busy signals do not count",
    source=SOURCE,
    input_model=DirconInput,
    output_model=DirconOutcome,
)
def dircon_outcome(inp: DirconInput, explain: Explain) -> DirconOutcome:
    required = int(param("dircon_attempts", inp.decision_date, explain))
    counted = 0
    for i, attempt in enumerate(inp.attempts, start=1):
        if attempt == "BUSY":
            explain.rule(f"attempt-{i}:BUSY", "DI 40502.001I", "busy signals are not counted as attempts")
            continue
        counted += 1
        if attempt == "REACHED":
            explain.rule(f"attempt-{i}:REACHED", "DI 40502.001I",
                         "DIRCON successful: process the mailer to a deferral or DO CDR (J.3, J.4)")
            return DirconOutcome(action="PROCESS_MAILER", counted_attempts=counted)
        if attempt in ("REFUSED", "NOT_LOCATED"):
            explain.rule(f"attempt-{i}:{attempt}", "DI 40502.001I",
                         "cannot be located or refuses to cooperate: DO CDR to the servicing FO (J.4)")
            return DirconOutcome(action="DO_CDR", counted_attempts=counted)
        explain.rule(f"attempt-{i}:NO_ANSWER", "DI 40502.001I", f"counted attempt {counted} of {required}")
        if counted >= required:
            explain.rule("dircon-unsuccessful", "DI 40502.001I",
                         f"{required} counted attempts without reaching the individual: not located, DO CDR")
            return DirconOutcome(action="DO_CDR", counted_attempts=counted)
    explain.rule("attempt-again", "DI 40502.001I; DI 40502.001J.1",
                 f"{counted} of {required} counted attempts made without a result")
    return DirconOutcome(action="ATTEMPT_AGAIN", counted_attempts=counted)
