"""Which profile code the DE/DEC/DC reviews a mailer with (DI 40502.001J.2.d, G.3).

J.2.d: "Check field 3 of scanline 2 of the mailer or facsimile for an H (High), M (Medium), or L
(Low), or check the profile sheet for the word High, Medium, or Low. When there is conflict between
the codes, give the highest priority to the code on the mailer or facsimile. If the case is being
worked from a hard paper SSA-455, or for some other reason a profile code is not provided, query
the DCF for the profile code."

The calc ``reviewer-profile`` takes the three codes as the reviewer finds them, picks one with the
table ``review_tables/reviewer_profile_source.yaml`` and reports every disagreement between them,
so the reviewer sees which source was used and what it overrode.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cdrflow.engine.calc import CalcOutput, Explain, calc
from cdrflow.engine.errors import InputError, PolicyError

from .record import Profile
from .registry import REGISTRY
from .review import review_tables
from .source import SOURCE

Word = Literal["High", "Medium", "Low"]
Source = Literal["MAILER_OR_FACSIMILE", "PROFILE_SHEET", "DCF"]

WORD_OF: dict[str, Word] = {"H": "High", "M": "Medium", "L": "Low"}
CODE_OF: dict[str, str] = {w: c for c, w in WORD_OF.items()}
SOURCE_LABEL: dict[str, str] = {
    "MAILER_OR_FACSIMILE": "the mailer or facsimile (scanline 2, field 3)",
    "PROFILE_SHEET": "the profile sheet",
    "DCF": "the DCF",
}


class ReviewerProfileInput(BaseModel):
    """The profile codes as the reviewer finds them; absent means the source shows none."""

    model_config = ConfigDict(extra="forbid")

    mailer_code: Profile | None = Field(
        default=None, description="H, M or L in field 3 of scanline 2 of the mailer or facsimile")
    profile_sheet: Word | None = Field(
        default=None, description="the word High, Medium or Low printed on the profile sheet (any letter case)")
    dcf_code: Profile | None = Field(default=None, description="the profile code a DCF query gives")
    hard_paper: bool = Field(default=False, description="the case is worked from a hard paper SSA-455")

    @field_validator("profile_sheet", mode="before")
    @classmethod
    def _word(cls, v: Any) -> Any:
        return v.strip().title() if isinstance(v, str) else v


class ReviewerProfile(CalcOutput):
    profile: Profile
    word: Word
    source: Source
    conflict: bool = Field(description="the mailer or facsimile code and the profile sheet disagree (J.2.d)")
    disagreements: list[str] = Field(description="every code given that differs from the one used, and why it "
                                                 "was not used")


@calc(
    REGISTRY,
    "reviewer-profile",
    citation="DI 40502.001J.2.d; DI 40502.001G.3",
    summary="The profile code for the DE/DEC/DC review: mailer or facsimile (scanline 2 field 3) over the profile "
            "sheet; the DCF for a hard paper SSA-455 or when no code is provided",
    source=SOURCE,
    input_model=ReviewerProfileInput,
    output_model=ReviewerProfile,
)
def reviewer_profile(inp: ReviewerProfileInput, explain: Explain) -> ReviewerProfile:
    if inp.hard_paper and inp.mailer_code is not None:
        raise InputError("mailer_code", "a hard paper SSA-455 has no scanline; leave mailer_code empty and query "
                                        "the DCF (DI 40502.001J.2.d)")
    sheet = CODE_OF[inp.profile_sheet] if inp.profile_sheet is not None else None
    table = review_tables()["reviewer_profile_source"]
    hit = explain.hit(table.decide({"hard_paper": inp.hard_paper, "mailer": inp.mailer_code or "NONE",
                                    "profile_sheet": sheet or "NONE", "dcf": inp.dcf_code or "NONE"}),
                      table.effective.isoformat())
    source = hit.outputs["source"]
    given: dict[str, str | None] = {"MAILER_OR_FACSIMILE": inp.mailer_code, "PROFILE_SHEET": sheet,
                                    "DCF": inp.dcf_code}
    if source == "NONE":
        raise InputError("dcf_code", "no profile code on the mailer, facsimile or profile sheet"
                         + (" (a hard paper SSA-455)" if inp.hard_paper else "")
                         + ": query the DCF for the profile code (DI 40502.001J.2.d)")
    code = given[source]
    if code is None:  # pragma: no cover - the table picks only a source that has a code
        raise PolicyError(f"reviewer_profile_source row {hit.rule} chose {source}, which gave no code")
    conflict = inp.mailer_code is not None and sheet is not None and inp.mailer_code != sheet
    disagreements: list[str] = []
    for other, value in given.items():
        if other == source or value is None or value == code:
            continue
        if other == "DCF":
            why = "the DCF is queried only when no profile code is provided"
        elif other == "PROFILE_SHEET" and source == "DCF":
            why = "a hard paper SSA-455 is worked with the DCF's profile code"
        else:
            why = "the code on the mailer or facsimile has the highest priority"
        disagreements.append(f"{SOURCE_LABEL[other]} says {WORD_OF[value]}, {SOURCE_LABEL[source]} says "
                             f"{WORD_OF[code]}: {why} (DI 40502.001J.2.d)")
    if conflict:
        explain.rule("reviewer-profile:conflict",
                     "DI 40502.001J.2.d (When there is conflict between the codes, give the highest priority to the "
                     "code on the mailer or facsimile)",
                     f"mailer/facsimile {inp.mailer_code}, profile sheet {sheet}: {inp.mailer_code} is used")
    return ReviewerProfile(profile=cast(Profile, code), word=WORD_OF[code], source=cast(Source, source),
                           conflict=conflict, disagreements=disagreements)
