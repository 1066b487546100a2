"""Processing center jurisdiction of a mailer (DI 40502.001E.4.a).

The rules, in the agency's order, are data: ``data/pc_jurisdiction_rules.yaml`` (E.4.a with
GN 01050.055 and DI 11010.285A: foreign -> PC-8; a living disabled wage earner under
``pc7_transfer_age`` -> OCO/PC-7; otherwise PC 1-6 by the SSN's area number).

PC 1-6 by area number looks in two tables, in this order:

1. the site's table (GN 01070.245), an input of the calc (``site_table``; the CLI reads it from
   ``--pc-ssn-table FILE`` or ``CDRFLOW_PC_SSN_TABLE`` with :func:`load_ssn_table` and passes it down,
   nothing is kept between runs); its answers are labelled ``site table: ...``;
2. the shipped public chart ``data/pc_ssn_jurisdiction.yaml`` (GN 01704.910, 1985), PARTIAL and
   HISTORICAL; its answers carry that label.

Every answer names its ``source`` and ``basis``, so a derived PC is never presented as fact. An area
number neither table knows is answered with ``pc: null`` and ``source: UNKNOWN`` (never guessed);
the reason says how a site loads its table. See docs/interpretations.md#pc-ssn-table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from functools import cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from cdrflow.engine.calc import CalcOutput, Explain, calc
from cdrflow.engine.errors import InputError, PolicyError
from cdrflow.engine.tables import DecisionTable
from cdrflow.engine.yamlio import load_yaml
from cdrflow.kernel.ssn import SsnDigits

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


class SsnRange(BaseModel):
    """One row of an area-number table: ``{from: "001", to: "134", pc: 1}`` (inclusive; other keys ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    start: Annotated[int, Field(alias="from", ge=1, le=999, description="first area number, 001-999")]
    end: Annotated[int, Field(alias="to", ge=1, le=999, description="last area number, 001-999")]
    pc: Annotated[int, Field(ge=1, le=6, description="PC 1-6")]


class SsnTable(BaseModel):
    """A site's GN 01070.245 table: area-number ranges -> PC 1-6, with the label every answer from it carries.

    A value, not a setting: whoever answers by it is given it (``JurisdictionInput.site_table``, a cycle's
    ``pc_ssn_table``). Two tables with the same content are equal and hash alike (:attr:`digest`, the
    SHA-256 of the content), so a memo keyed on a table never answers from another one.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: ClassVar[Literal["SITE_TABLE", "PUBLIC_CHART"]] = "SITE_TABLE"
    reference: Annotated[str, Field(min_length=1, max_length=200, description="the table's citation or name")]
    ranges: Annotated[tuple[SsnRange, ...], Field(max_length=1000, description="area-number ranges, no overlap")]
    _digest: str = PrivateAttr(default="")

    @field_validator("ranges", mode="after")
    @classmethod
    def _no_overlap(cls, v: tuple[SsnRange, ...]) -> tuple[SsnRange, ...]:
        for i, r in enumerate(v):
            if r.start > r.end:
                raise ValueError(f"range {i}: from {r.start:03d} is after to {r.end:03d}")
        ranges = tuple(sorted(v, key=lambda r: (r.start, r.end)))
        for a, b in itertools.pairwise(ranges):
            if b.start <= a.end:
                raise ValueError(f"area number ranges overlap at {b.start:03d}")
        return ranges

    def model_post_init(self, context: Any, /) -> None:
        content = json.dumps([self.kind, self.reference, self.label, [[r.start, r.end, r.pc] for r in self.ranges]],
                             ensure_ascii=False, separators=(",", ":"))
        self._digest = hashlib.sha256(content.encode("utf-8")).hexdigest()

    @property
    def label(self) -> str:
        return f"site table: {self.reference}"

    @property
    def digest(self) -> str:
        """SHA-256 of the table's content (kind, reference, label, ranges): its identity."""
        return self._digest

    def __hash__(self) -> int:
        return hash(self._digest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SsnTable) and other.kind == self.kind and other._digest == self._digest

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a table from YAML (``reference`` and ``ranges``; the reference defaults to the file's name)."""
        data: Any = load_yaml(path)
        if not isinstance(data, dict):
            raise PolicyError(f"{path}: expected a mapping with 'reference' and 'ranges'")
        try:
            return cls.model_validate({**data, "reference": str(data.get("reference") or path.name),
                                       "ranges": data.get("ranges") or []})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            msg = str(first["msg"]).removeprefix("Value error, ")
            raise PolicyError(f"{path}: {where + ': ' if where else ''}{msg}") from None

    def pc_for(self, area: int) -> int | None:
        for r in self.ranges:
            if r.start <= area <= r.end:
                return r.pc
        return None


class PublicChart(SsnTable):
    """The shipped public chart, whose own ``label`` travels with its answers."""

    kind: ClassVar[Literal["SITE_TABLE", "PUBLIC_CHART"]] = "PUBLIC_CHART"
    chart_label: Annotated[str, Field(alias="label", min_length=1)]

    @property
    def label(self) -> str:
        return self.chart_label


@cache
def public_chart() -> PublicChart:
    """The shipped GN 01704.910 (1985) chart: partial and historical."""
    return PublicChart.load(HERE / "data" / "pc_ssn_jurisdiction.yaml")


def load_ssn_table(path: Path) -> SsnTable:
    """Read the site's GN 01070.245 table at ``path`` (``--pc-ssn-table FILE``); :class:`PolicyError` if it is
    not one. Nothing is kept: the table is given to whoever answers by it."""
    return SsnTable.load(path)


def ssn_tables(site_table: SsnTable | None = None) -> tuple[SsnTable, ...]:
    """The tables PC 1-6 is looked up in, in precedence order: ``site_table`` (if any), then the public chart."""
    return (public_chart(),) if site_table is None else (site_table, public_chart())


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
    ssn: SsnDigits  # the one rule (cdrflow.kernel.ssn)
    foreign: bool = False
    beneficiary_type: Literal["DISABLED_WORKER", "AUXILIARY", "OTHER"]
    wage_earner_age: Annotated[int, Field(ge=0, le=130)] | None = None
    wage_earner_deceased: bool = False
    as_of: dt.date | None = None
    site_table: SsnTable | None = Field(
        default=None, description="the site's GN 01070.245 table ({reference, ranges: [{from, to, pc}]}), "
                                  "looked in before the shipped public chart; absent: the public chart only "
                                  "(the CLI fills it from --pc-ssn-table FILE or CDRFLOW_PC_SSN_TABLE)")


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
    tables = ssn_tables(inp.site_table)
    for t in tables:  # the site's table first, then the public chart
        explain.versions[f"data:pc_ssn_{t.kind.lower()}"] = t.reference
        pc = t.pc_for(int(area_text))
        if pc is not None:
            found = t
            break
    if pc is None or found is None:
        names = [f"the site table ({t.reference})" if t.kind == "SITE_TABLE"
                 else f"the public chart ({t.reference}, partial and historical)" for t in tables]
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
