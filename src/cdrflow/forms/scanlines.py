"""The three scanlines of Form SSA-455-OCR-SM (DI 40502.001B.8) as a fixed-width layout.

DI 40502.001B.8 says the scannable mailer carries "three lines of scannable data on the front
of the mailer" and names their fields, but not how each field is written. The column layout,
the widths, the single-space separators and the Scanning Form Identification Code (SFIC)
encoding here are **cdrflow's design**; only the fields, their order and their meaning come from
the seed.

The layout is one declarative table per scanline (:data:`SCANLINE1_FIELDS`,
:data:`SCANLINE2_FIELDS`, :data:`SCANLINE3_FIELDS`): each :class:`FieldSpec` gives the field
name, its 1-based start column, width, :class:`FieldKind` (how it is read, checked and
written), content and citation. Encoding, decoding, model validation and the documentation
(:func:`render_layout_markdown`) are all produced from those tables. Adjacent fields are
separated by exactly one space, so every line has a fixed length.

Decoding a malformed line raises :class:`ScanlineError`, which names the scanline (1-3) and the
field (``None`` when the line as a whole is wrong, e.g. its length).

The pieces: :mod:`cdrflow.forms.sfic` (the SFIC), :mod:`cdrflow.forms.fixed_width` (the kinds of
field, :class:`FieldSpec`, :class:`ScanlineLayout`, :class:`ScanlineError`) and this module (the
three tables, the models, the example and the documentation), which re-exports the others' names.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any, ClassVar, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator, model_validator

from cdrflow.engine.months import Month
from cdrflow.kernel.ssn import check_ssn

from .fixed_width import (
    B8,
    SEPARATOR,
    Choice,
    FieldKind,
    FieldSpec,
    Number,
    ScanlineError,
    ScanlineLayout,
    SficKind,
    Text,
    YearMonth,
)
from .sfic import (
    SFIC_LANGUAGE_CODES,
    SFIC_POSITIONS,
    SFIC_REQUEST_CODES,
    SFIC_TITLE_CODES,
    Sfic,
    SficError,
    SficRequest,
    SficTitle,
)

__all__ = [
    "B8",
    "EXAMPLE",
    "LAYOUTS",
    "SCANLINE1_FIELDS",
    "SCANLINE2_FIELDS",
    "SCANLINE3_FIELDS",
    "SCORE_HIGHEST",
    "SEPARATOR",
    "SFIC_LANGUAGE_CODES",
    "SFIC_POSITIONS",
    "SFIC_REQUEST_CODES",
    "SFIC_TITLE_CODES",
    "Choice",
    "FieldKind",
    "FieldSpec",
    "Number",
    "Scanline1",
    "Scanline2",
    "Scanline3",
    "ScanlineError",
    "ScanlineLayout",
    "Scanlines",
    "Sfic",
    "SficError",
    "SficKind",
    "SficRequest",
    "SficTitle",
    "Text",
    "YearMonth",
    "b8_score",
    "render_layout_markdown",
]


# --------------------------------------------------------------------------- the layout tables


_UPPER_DIGITS = "A-Z, 0-9"

SCORE_HIGHEST: Final = 9999
"""B.8: the profiling SCORE on scanline 2 is 4 digits, "9999 is highest"."""


def b8_score(fraction: float) -> int:
    """The 4-digit profiling SCORE (scanline 2 field 4, DI 40502.001B.8) of a profiling score held as a
    fraction 0-1 (the beneficiary data's ``profile_score``, docs/population.md).

    The SCORE is the fraction's first four decimals: ``round(fraction * 10000)`` (half up), and 1
    (the top of the scale) is written 9999, the highest B.8 allows. ``b8_score(0.1106) == 1106``,
    ``b8_score(0.0597) == 597`` (printed ``0597``). The profile sheet shows the same number
    (``cdrflow.documents`` filter ``b8_score``). A value outside 0-1 raises :class:`ValueError`:
    it is on another scale, and printing it would misstate the score.
    """
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not math.isfinite(fraction):
        raise ValueError(f"profile score must be a number 0-1, got {fraction!r}")
    if not 0 <= fraction <= 1:
        raise ValueError(f"profile score must be a fraction 0-1 (B.8 prints it x 10000, 9999 highest), "
                         f"got {fraction!r}")
    scaled = (Decimal(repr(float(fraction))) * 10_000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return min(int(scaled), SCORE_HIGHEST)

_MDR_CODES: Final[dict[str, str | None]] = {
    " ": None,
    **{letter: letter for letter in string.ascii_uppercase},
    "3": "3",
    "5": "5",
    "7": "7",
}

class _SsnText(Text):
    """Scanline 1 field 1: 9 digits, and the one SSN rule (:mod:`cdrflow.kernel.ssn`: a never-issued number is
    refused; interpretations §77). A message names what is wrong, never the number."""

    def check(self, value: Any) -> str | None:
        if not isinstance(value, str) or self.pattern.fullmatch(value) is None:
            raise ValueError(f"expected {self.fmt}")
        return check_ssn(value)


SCANLINE1_FIELDS: Final[tuple[FieldSpec, ...]] = (
    FieldSpec(
        name="ssn",
        start=1,
        width=9,
        kind=_SsnText(r"[0-9]{9}", "9 digits"),
        b8_field=1,
        description="Social Security Number under which the mailer is being controlled",
    ),
    FieldSpec(
        name="bic_or_id",
        start=11,
        width=2,
        kind=Text(r"[A-Z0-9]{1,2}", f"1-2 characters ({_UPPER_DIGITS}), left-justified, space-padded"),
        b8_field=2,
        description="Beneficiary Identification Code (BIC) (Title II), or Individual Recipient Identification "
        "code (ID) (Title XVI)",
        citation=f"{B8}; DI 40502.001E.6",
    ),
    FieldSpec(
        name="birth_year",
        start=14,
        width=4,
        kind=Number(1, 9999, "a 4-digit year YYYY"),
        b8_field=3,
        description="Year of beneficiary's birth",
    ),
    FieldSpec(
        name="prior_cdr_year",
        start=19,
        width=4,
        kind=Number(1, 9999, "a 4-digit year YYYY, or blank (no prior CDR)", blank=True),
        b8_field=4,
        description="Year of most recent prior CDR (not before the birth year)",
    ),
    FieldSpec(
        name="primary_dx",
        start=24,
        width=4,
        kind=Text(r"[0-9]{4}", "4 digits, or blank (none)", blank=True),
        b8_field=5,
        description="Primary Diagnosis Code (e.g. 4140 angina, 2500 diabetes)",
        citation=f"{B8}; DI 40502.001J.2.d",
    ),
    FieldSpec(
        name="secondary_dx",
        start=29,
        width=4,
        kind=Text(r"[0-9]{4}", "4 digits, or blank (none)", blank=True),
        b8_field=5,
        description="Secondary Diagnosis Code",
    ),
)
"""Scanline 1 (32 columns): who the mailer is about (DI 40502.001B.8)."""

SCANLINE2_FIELDS: Final[tuple[FieldSpec, ...]] = (
    FieldSpec(
        name="mdr",
        start=1,
        width=1,
        kind=Choice(_MDR_CODES, "a letter A-Z (MIE), 3 (MIP), 5 or 7 (MINE), or blank (none)"),
        b8_field=1,
        description="Medical Diary Reason/Type (MDR/MR): an alpha for MIE, 3 for MIP, 5 or 7 for MINE; blank "
        "when not provided (the default MDR/MR is then 3)",
        citation=f"{B8}; DI 40502.001G.5; DI 40502.001J.3.b",
    ),
    FieldSpec(
        name="concurrent",
        start=3,
        width=1,
        kind=Choice({"Y": True, "N": False}, "Y or N"),
        b8_field=2,
        description="Concurrent Entitlement information: Y iff the mailer is concurrent Title II/Title XVI "
        "(must agree with the SFIC title)",
    ),
    FieldSpec(
        name="profile",
        start=5,
        width=1,
        kind=Choice({"H": "H", "M": "M", "L": "L"}, "H, M or L"),
        b8_field=3,
        description="Profile Type (High, Medium, or Low)",
        citation=f"{B8}; DI 40502.001G.3; DI 40502.001J.2.d",
    ),
    FieldSpec(
        name="score",
        start=7,
        width=4,
        kind=Number(0, 9999, "4 digits 0000-9999, or blank (no score)", blank=True),
        b8_field=4,
        description="Profiling SCORE (9999 is highest): the beneficiary data's profile score (a fraction 0-1) "
        "times 10000, rounded half up, 1 written 9999 (`b8_score`); blank when the data has no score",
    ),
    FieldSpec(
        name="report_period",
        start=12,
        width=6,
        kind=YearMonth(),
        b8_field=5,
        description="Report Period covered by the mailer",
        citation=f"{B8}; DI 40502.001E.4.b",
    ),
    FieldSpec(
        name="sfic",
        start=19,
        width=3,
        kind=SficKind(),
        b8_field=6,
        description="Scanning Form Identification Code (SFIC): first or second request; Title II, concurrent, "
        "or Title XVI-only; non-English notice preferred (see the SFIC table)",
        citation=f"{B8}; DI 40502.001C",
    ),
    FieldSpec(
        name="pc",
        start=23,
        width=1,
        kind=Number(1, 8, "1 digit 1-8"),
        b8_field=7,
        description="Servicing Processing Center (PC 1-8)",
        citation=f"{B8}; DI 40502.001E.4.a",
    ),
    FieldSpec(
        name="dds",
        start=25,
        width=3,
        kind=Text(r"[A-Z0-9]{3}", f"3 characters ({_UPPER_DIGITS})"),
        b8_field=8,
        description="Servicing State Agency/DDS code",
    ),
    FieldSpec(
        name="fo",
        start=29,
        width=3,
        kind=Text(r"[A-Z0-9]{3}", f"3 characters ({_UPPER_DIGITS})"),
        b8_field=9,
        description="Servicing Field Office (FO) Code",
    ),
)
"""Scanline 2 (31 columns): how the case was selected and who services it (DI 40502.001B.8)."""

SCANLINE3_FIELDS: Final[tuple[FieldSpec, ...]] = (
    FieldSpec(
        name="fo_city",
        start=1,
        width=20,
        kind=Text(
            r"[A-Z](?:[A-Z .'-]*[A-Z.'-])?",
            "1-20 characters (A-Z, space, period, hyphen, apostrophe) starting with a letter, left-justified, "
            "space-padded",
        ),
        b8_field=1,
        description="Servicing FO City Name",
        citation=f"{B8}; DI 40502.001F.3",
    ),
    FieldSpec(
        name="fo_state",
        start=22,
        width=2,
        kind=Text(r"[A-Z]{2}", "2 letters A-Z"),
        b8_field=2,
        description="Servicing FO State",
    ),
    FieldSpec(
        name="fo_zip",
        start=25,
        width=9,
        kind=Text(r"[0-9]{5}(?:[0-9]{4})?", "5 digits space-padded to 9, or 9 digits (ZIP+4)"),
        b8_field=3,
        description="Servicing FO ZIP CODE",
    ),
)
"""Scanline 3 (33 columns): the servicing field office's address (DI 40502.001B.8)."""

LAYOUTS: Final[Mapping[int, ScanlineLayout]] = MappingProxyType(
    {
        1: ScanlineLayout(1, SCANLINE1_FIELDS),
        2: ScanlineLayout(2, SCANLINE2_FIELDS),
        3: ScanlineLayout(3, SCANLINE3_FIELDS),
    }
)
"""Scanline number -> its layout."""


# --------------------------------------------------------------------------- models


class _Scanline(BaseModel):
    """A scanline's values; every field is checked against the layout table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    LAYOUT: ClassVar[ScanlineLayout]

    @field_validator("*")
    @classmethod
    def _check_against_layout(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is None:  # pragma: no cover - always set for field validators
            return value
        return cls.LAYOUT.spec(info.field_name).check(value)

    @model_validator(mode="after")
    def _check_consistency(self) -> Self:
        self._cross_check(self._values())
        return self

    @classmethod
    def _cross_check(cls, values: Mapping[str, Any]) -> None:
        """Rules between fields; raise :class:`ScanlineError` naming the offending field."""

    def _values(self) -> dict[str, Any]:
        return {spec.name: getattr(self, spec.name) for spec in self.LAYOUT.fields}

    def encode(self) -> str:
        """The fixed-width line (exactly ``LAYOUT.length`` characters)."""
        return self.LAYOUT.encode(self._values())

    @classmethod
    def decode(cls, text: str) -> Self:
        """Read a line; raises :class:`ScanlineError` naming the scanline and the field."""
        values = cls.LAYOUT.decode(text)
        cls._cross_check(values)
        try:
            return cls.model_validate(values)
        except ValidationError as exc:  # pragma: no cover - decode has already checked every field
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else None
            raise ScanlineError(cls.LAYOUT.line, field, first["msg"]) from exc


class Scanline1(_Scanline):
    """Scanline 1 (DI 40502.001B.8): SSN, BIC/ID, year of birth, year of prior CDR, diagnosis codes."""

    LAYOUT: ClassVar[ScanlineLayout] = LAYOUTS[1]

    ssn: str
    bic_or_id: str
    birth_year: int
    prior_cdr_year: int | None = None
    primary_dx: str | None = None
    secondary_dx: str | None = None

    @classmethod
    def _cross_check(cls, values: Mapping[str, Any]) -> None:
        prior, born = values["prior_cdr_year"], values["birth_year"]
        if prior is not None and prior < born:
            raise ScanlineError(1, "prior_cdr_year", f"prior CDR year {prior} is before the birth year {born}")


class Scanline2(_Scanline):
    """Scanline 2 (DI 40502.001B.8): MDR, concurrent flag, profile, score, report period, SFIC, PC, DDS, FO."""

    LAYOUT: ClassVar[ScanlineLayout] = LAYOUTS[2]

    mdr: str | None = None
    concurrent: bool
    profile: Literal["H", "M", "L"]
    score: int | None = None
    report_period: Month
    sfic: Sfic
    pc: int
    dds: str
    fo: str

    @classmethod
    def _cross_check(cls, values: Mapping[str, Any]) -> None:
        concurrent, sfic = values["concurrent"], values["sfic"]
        if concurrent != sfic.concurrent:
            flag = "Y" if concurrent else "N"
            raise ScanlineError(
                2,
                "concurrent",
                f"concurrent flag {flag} contradicts SFIC {sfic.code!r} (title {sfic.title}); "
                "the flag is Y exactly when the SFIC title is T2/16",
            )


class Scanline3(_Scanline):
    """Scanline 3 (DI 40502.001B.8): servicing FO city, state and ZIP code."""

    LAYOUT: ClassVar[ScanlineLayout] = LAYOUTS[3]

    fo_city: str
    fo_state: str
    fo_zip: str

    @field_validator("fo_zip", mode="before")
    @classmethod
    def _accept_zip_plus_4_hyphen(cls, value: Any) -> Any:
        """Accept ``"12345-6789"`` for ``"123456789"``."""
        if isinstance(value, str) and re.fullmatch(r"[0-9]{5}-[0-9]{4}", value):
            return value.replace("-", "")
        return value


class Scanlines(BaseModel):
    """All three scanlines of one Form SSA-455-OCR-SM (DI 40502.001B.8)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    line1: Scanline1
    line2: Scanline2
    line3: Scanline3

    def encode(self) -> tuple[str, str, str]:
        """The three fixed-width lines."""
        return self.line1.encode(), self.line2.encode(), self.line3.encode()

    @classmethod
    def decode(cls, line1: str, line2: str, line3: str) -> Scanlines:
        """Read three lines; raises :class:`ScanlineError` naming the scanline and the field."""
        return cls(line1=Scanline1.decode(line1), line2=Scanline2.decode(line2), line3=Scanline3.decode(line3))


EXAMPLE: Final = Scanlines(
    line1=Scanline1(
        ssn="123456789", bic_or_id="A", birth_year=1958, prior_cdr_year=2001, primary_dx="4140", secondary_dx="2500"
    ),
    line2=Scanline2(
        mdr="7",
        concurrent=False,
        profile="L",
        score=1234,
        report_period=Month(2006, 1),
        sfic=Sfic(request="FIRST", title="T2", non_english=False),
        pc=3,
        dds="S01",
        fo="A12",
    ),
    line3=Scanline3(fo_city="WILKES-BARRE", fo_state="PA", fo_zip="187020000"),
)
"""A synthetic example (not a real person or office code) used in the documentation."""


# --------------------------------------------------------------------------- documentation


def _ruler(length: int) -> list[str]:
    tens = "".join(str(c // 10 % 10) if c % 10 == 0 else " " for c in range(1, length + 1)).rstrip()
    ones = "".join(str(c % 10) for c in range(1, length + 1))
    return [tens, ones]


def _sfic_table() -> list[str]:
    rows = ["| Position | Attribute | Code | Meaning | `Sfic` value |", "|---|---|---|---|---|"]
    for position, attribute, table in SFIC_POSITIONS:
        for code, (value, meaning) in table.items():
            rows.append(f"| {position} | `{attribute}` | `{code}` | {meaning} | `{value!r}` |")
    return rows


def render_layout_markdown() -> str:
    """The scanline layout, the SFIC code and an example as Markdown (pasted into ``docs/forms.md``)."""
    out: list[str] = []
    for number, layout in LAYOUTS.items():
        out += [
            f"### Scanline {number} ({layout.length} columns)",
            "",
            "| Columns | Width | Field | B.8 field | Format | Content | Citation |",
            "|---|---|---|---|---|---|---|",
        ]
        for spec, separator in zip(layout.fields, [*layout.separator_columns, None], strict=True):
            out.append(
                f"| {spec.columns} | {spec.width} | `{spec.name}` | {spec.b8_field} | {spec.kind.fmt} "
                f"| {spec.description} | {spec.citation} |"
            )
            if separator is not None:
                out.append(f"| {separator} | 1 | (separator) | | a single space | | cdrflow design |")
        out.append("")
    out += [
        "### Scanning Form Identification Code (SFIC)",
        "",
        f"Scanline 2 field 6, 3 characters, one per attribute named in {B8} (cdrflow design). "
        "The `concurrent` flag of scanline 2 must be `Y` exactly when position 2 is `C`.",
        "",
        *_sfic_table(),
        "",
        "### Example (synthetic data)",
        "",
        "```text",
        *_ruler(max(layout.length for layout in LAYOUTS.values())),
        *EXAMPLE.encode(),
        "```",
    ]
    return "\n".join(out) + "\n"
