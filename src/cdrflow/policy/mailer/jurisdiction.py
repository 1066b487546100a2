"""Processing center jurisdiction of a mailer (DI 40502.001E.4.a)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cdrflow.engine.calc import CalcOutput, Explain, calc
from cdrflow.engine.errors import InputError, PolicyError
from cdrflow.engine.yamlio import load_yaml

from .record import Title
from .registry import REGISTRY
from .source import HERE, SOURCE, param


@dataclass(frozen=True)
class SsnTable:
    reference: str
    ranges: tuple[tuple[int, int, int], ...]

    @classmethod
    def load(cls, path: Path) -> SsnTable:
        data: Any = load_yaml(path)
        ranges: list[tuple[int, int, int]] = []
        for i, r in enumerate(data.get("ranges") or []):
            lo, hi, pc = int(str(r["from"])), int(str(r["to"])), int(r["pc"])
            if not (1 <= lo <= hi <= 999) or pc not in range(1, 7):
                raise PolicyError(f"{path}: range {i} must have 001 <= from <= to <= 999 and pc 1-6, got {r}")
            ranges.append((lo, hi, pc))
        ranges.sort()
        for (_a, b, _p), (c, _d, _q) in itertools.pairwise(ranges):
            if c <= b:
                raise PolicyError(f"{path}: area number ranges overlap at {c:03d}")
        return cls(str(data.get("reference", path.name)), tuple(ranges))

    def pc_for(self, area: int) -> int | None:
        for lo, hi, pc in self.ranges:
            if lo <= area <= hi:
                return pc
        return None


_active: list[SsnTable] = []


def ssn_table() -> SsnTable:
    if not _active:
        _active.append(SsnTable.load(HERE / "data" / "pc_ssn_jurisdiction.yaml"))
    return _active[0]


def use_ssn_table(path: Path) -> SsnTable:
    """Make the GN 01070.245 table at ``path`` the one pc-jurisdiction uses."""
    table = SsnTable.load(path)
    _active[:] = [table]
    return table


class JurisdictionInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    ssn: str
    foreign: bool = False
    beneficiary_type: Literal["DISABLED_WORKER", "AUXILIARY", "OTHER"]
    wage_earner_age: Annotated[int, Field(ge=0, le=130)] | None = None
    wage_earner_deceased: bool = False
    as_of: dt.date | None = None

    @field_validator("ssn")
    @classmethod
    def _ssn(cls, v: str) -> str:
        if len(v) != 9 or not v.isdigit():
            raise ValueError("must be 9 digits")
        return v


class Jurisdiction(CalcOutput):
    pc: int
    reason: str


@calc(
    REGISTRY,
    "pc-jurisdiction",
    citation="DI 40502.001E.4.a; GN 01070.245",
    summary="Servicing processing center (PC 1-8) for a mailer",
    source=SOURCE,
    input_model=JurisdictionInput,
    output_model=Jurisdiction,
)
def pc_jurisdiction(inp: JurisdictionInput, explain: Explain) -> Jurisdiction:
    if inp.foreign:
        explain.rule("pc8-foreign", "DI 40502.001E.4.a")
        return Jurisdiction(pc=8, reason="PC-8 has jurisdiction for foreign claims")
    if inp.title in ("T2", "T2/16") and inp.beneficiary_type in ("DISABLED_WORKER", "AUXILIARY"):
        age_limit = int(param("pc7_transfer_age", inp.as_of, explain))
        if inp.wage_earner_deceased:
            explain.rule("pc7-to-pc1-6:deceased", "DI 40502.001E.4.a")
            why = "the disabled wage earner has died, so jurisdiction moves from OCO/PC-7 to PC 1-6"
        elif inp.wage_earner_age is None:
            raise InputError("wage_earner_age", "required for a living disabled wage earner's Title II claim")
        elif inp.wage_earner_age >= age_limit:
            explain.rule("pc7-to-pc1-6:age", "DI 40502.001E.4.a NOTE", f"age {inp.wage_earner_age} >= {age_limit}")
            why = f"the disabled wage earner has attained age {age_limit}, so jurisdiction moves to PC 1-6"
        else:
            explain.rule("pc7", "DI 40502.001E.4.a", f"age {inp.wage_earner_age} < {age_limit}")
            return Jurisdiction(
                pc=7,
                reason="OCO/PC-7 has domestic Title II-only and concurrent disabled worker claims "
                "and their auxiliaries",
            )
    elif inp.title == "T16":
        why = "PCs 1 through 6 have jurisdiction for all Title XVI-only cases"
    else:
        why = "Title II claims not under PC 7 or PC 8 go to PCs 1 through 6"
    table = ssn_table()
    area = int(inp.ssn[:3])
    pc = table.pc_for(area)
    if pc is None:
        raise InputError(
            "ssn",
            f"area number {inp.ssn[:3]} is not in the loaded GN 01070.245 table ({table.reference}); "
            "load the site table (see docs/interpretations.md#pc-ssn-table)",
        )
    explain.rule(f"pc{pc}-by-ssn", f"DI 40502.001E.4.a; {table.reference}", f"area number {inp.ssn[:3]}")
    return Jurisdiction(pc=pc, reason=f"{why}; area number {inp.ssn[:3]} is PC {pc}")
