"""Processing center jurisdiction of a mailer (DI 40502.001E.4.a).

The rules, in the agency's order, are data: ``data/pc_jurisdiction_rules.yaml`` (E.4.a with
GN 01050.055 and DI 11010.285A: foreign -> PC-8; a living disabled wage earner under
``pc7_transfer_age`` -> OCO/PC-7; otherwise PC 1-6 by the SSN's area number).

PC 1-6 by area number looks in two tables, in this order:

1. the site's table (GN 01070.245), loaded with ``--pc-ssn-table FILE`` or
   ``CDRFLOW_PC_SSN_TABLE`` (:func:`use_ssn_table`); its answers are labelled ``site table: ...``;
2. the shipped public chart ``data/pc_ssn_jurisdiction.yaml`` (GN 01704.910, 1985), PARTIAL and
   HISTORICAL; its answers carry that label.

Every answer names its ``source`` and ``basis``, so a derived PC is never presented as fact. An area
number neither table knows is answered with ``pc: null`` and ``source: UNKNOWN`` (never guessed);
the reason says how a site loads its table. See docs/interpretations.md#pc-ssn-table.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cdrflow.engine.calc import CalcOutput, Explain, calc
from cdrflow.engine.errors import InputError, PolicyError
from cdrflow.engine.tables import DecisionTable
from cdrflow.engine.yamlio import load_yaml

from .record import Title
from .registry import REGISTRY
from .source import HERE, SOURCE, param

Source = Literal["RULE", "SITE_TABLE", "PUBLIC_CHART", "UNKNOWN"]
"""Where a PC came from: a rule of E.4.a (PC-7, PC-8), the site's table, the public chart, or nowhere."""

SITE_TABLE_HOW = ("load the site's GN 01070.245 table with --pc-ssn-table FILE or CDRFLOW_PC_SSN_TABLE=FILE "
                  "(docs/interpretations.md#pc-ssn-table)")
RANDOMIZATION_NOTE = ("SSNs issued since 2011-06-25 are randomized (SSN randomization): their area number carries no "
                      "geography, so an area number alone cannot place them")
BY_SSN_CITE = "DI 40502.001E.4.a (the first three numbers of the SSN determine PC 1 through 6)"


@dataclass(frozen=True)
class SsnTable:
    """Area-number ranges -> PC 1-6, with the label every answer from it carries."""

    reference: str
    label: str
    kind: Literal["SITE_TABLE", "PUBLIC_CHART"]
    ranges: tuple[tuple[int, int, int], ...]

    @classmethod
    def load(cls, path: Path, *, kind: Literal["SITE_TABLE", "PUBLIC_CHART"] = "SITE_TABLE") -> SsnTable:
        data: Any = load_yaml(path)
        if not isinstance(data, dict):
            raise PolicyError(f"{path}: expected a mapping with 'reference' and 'ranges'")
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
        reference = str(data.get("reference") or path.name)
        if kind == "PUBLIC_CHART":
            label = str(data["label"])
        else:
            label = f"site table: {reference}"
        return cls(reference, label, kind, tuple(ranges))

    def pc_for(self, area: int) -> int | None:
        for lo, hi, pc in self.ranges:
            if lo <= area <= hi:
                return pc
        return None


_active: list[SsnTable] = []
"""The site's table, when one is loaded (at most one)."""


@cache
def public_chart() -> SsnTable:
    """The shipped GN 01704.910 (1985) chart: partial and historical."""
    return SsnTable.load(HERE / "data" / "pc_ssn_jurisdiction.yaml", kind="PUBLIC_CHART")


def use_ssn_table(path: Path) -> SsnTable:
    """Load the site's GN 01070.245 table at ``path``; it takes precedence over the public chart."""
    table = SsnTable.load(path, kind="SITE_TABLE")
    _active[:] = [table]
    return table


def ssn_tables() -> tuple[SsnTable, ...]:
    """The tables PC 1-6 is looked up in, in precedence order: the site's (if loaded), then the public chart."""
    return (*_active, public_chart())


@cache
def rules() -> DecisionTable:
    return DecisionTable.load(HERE / "data" / "pc_jurisdiction_rules.yaml")


@cache
def _centers() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(HERE / "data" / "processing_centers.yaml")
    return data


def center_name(pc: int) -> str:
    """The processing center's name (GN 01050.051), e.g. ``Northeastern Program Service Center``."""
    return str(_centers()["centers"][pc]["name"])


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
    pc: int | None = Field(description="PC 1-8; null when the claim is PC 1-6 but no loaded table knows the "
                                       "SSN's area number")
    center: str | None = Field(description="the processing center's name (GN 01050.051); null with pc")
    source: Source = Field(description="RULE (PC-7/PC-8 by E.4.a), SITE_TABLE, PUBLIC_CHART, or UNKNOWN")
    basis: str = Field(description="what the PC rests on; travels with it onto the alert sheet and print file")
    reason: str
    note: str | None = Field(default=None, description="a caveat, e.g. SSN randomization for answers by SSN")


_TITLE_II = ("T2", "T2/16")
_DISABILITY = ("DISABLED_WORKER", "AUXILIARY")


def _wage_earner(inp: JurisdictionInput, explain: Explain) -> tuple[str, int | None]:
    """The ``wage_earner`` input of the rules, consulting pc7_transfer_age only when the claim needs it."""
    if inp.title not in _TITLE_II or inp.beneficiary_type not in _DISABILITY:
        return "NOT_APPLICABLE", None
    if inp.wage_earner_deceased:
        return "DECEASED", None
    if inp.wage_earner_age is None:
        return "AGE_NOT_GIVEN", None
    limit = int(param("pc7_transfer_age", inp.as_of, explain))
    return ("AT_OR_ABOVE_TRANSFER_AGE" if inp.wage_earner_age >= limit else "BELOW_TRANSFER_AGE"), limit


@calc(
    REGISTRY,
    "pc-jurisdiction",
    citation="DI 40502.001E.4.a; GN 01050.055; GN 01704.910 (public chart); GN 01070.245 (site table)",
    summary="Servicing processing center (PC 1-8) for a mailer, with the basis of the answer",
    source=SOURCE,
    input_model=JurisdictionInput,
    output_model=Jurisdiction,
)
def pc_jurisdiction(inp: JurisdictionInput, explain: Explain) -> Jurisdiction:
    wage_earner, limit = _wage_earner(inp, explain)
    table = rules()
    hit = explain.hit(table.decide({"foreign": inp.foreign, "title": inp.title,
                                    "beneficiary_type": inp.beneficiary_type, "wage_earner": wage_earner}),
                      table.effective.isoformat())
    route = hit.outputs["route"]
    if route == "AGE_REQUIRED":
        raise InputError("wage_earner_age", "required for a living disabled wage earner's Title II claim")
    if route in ("PC8", "PC7"):
        rule_pc = 8 if route == "PC8" else 7
        explain.versions["data:processing_centers"] = str(_centers()["reference"])
        if rule_pc == 7:
            basis = f"DI 40502.001E.4.a rule: disabled wage earner under {limit}"
            reason = f"{hit.note} The disabled wage earner is {inp.wage_earner_age}, under {limit}."
        else:
            basis, reason = "DI 40502.001E.4.a rule: foreign claim", hit.note
        return Jurisdiction(pc=rule_pc, center=center_name(rule_pc), source="RULE", basis=basis, reason=reason)
    why = hit.note.rstrip(".")
    area_text = inp.ssn[:3]
    pc: int | None = None
    found: SsnTable | None = None
    for t in ssn_tables():  # the site's table first, then the public chart
        explain.versions[f"data:pc_ssn_{t.kind.lower()}"] = t.reference
        pc = t.pc_for(int(area_text))
        if pc is not None:
            found = t
            break
    if pc is None or found is None:
        names = [f"the site table ({t.reference})" if t.kind == "SITE_TABLE"
                 else f"the public chart ({t.reference}, partial and historical)" for t in ssn_tables()]
        where = f"is in neither {names[0]} nor {names[1]}" if len(names) == 2 else f"is not in {names[0]}"
        explain.rule("pc-unknown-by-ssn", BY_SSN_CITE, f"area number {area_text} is in no loaded table")
        return Jurisdiction(
            pc=None, center=None, source="UNKNOWN",
            basis=f"unknown: area number {area_text} is not in the loaded tables",
            reason=(f"{why}; area number {area_text} {where}, so its PC 1-6 range is unknown. "
                    f"To answer it, {SITE_TABLE_HOW}"),
            note=RANDOMIZATION_NOTE)
    explain.rule(f"pc{pc}-by-ssn", f"{BY_SSN_CITE}; {found.reference}", found.label)
    explain.versions["data:processing_centers"] = str(_centers()["reference"])
    source: Source = "SITE_TABLE" if found.kind == "SITE_TABLE" else "PUBLIC_CHART"
    return Jurisdiction(
        pc=pc, center=center_name(pc), source=source, basis=found.label,
        reason=f"{why}; area number {area_text} is PC {pc} in the {found.label}",
        note=RANDOMIZATION_NOTE)
