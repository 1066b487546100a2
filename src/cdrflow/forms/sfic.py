"""The Scanning Form Identification Code (SFIC), scanline 2 field 6 (DI 40502.001B.8).

B.8 names what the SFIC tells (first or second request; Title II, concurrent or Title XVI only;
a non-English notice preferred); the three-character encoding here is **cdrflow's design**
(``docs/forms.md`` §2).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, model_validator


class SficError(ValueError):
    """A malformed Scanning Form Identification Code; ``position`` is 1-3, or ``None`` for a bad length."""

    def __init__(self, position: int | None, message: str) -> None:
        super().__init__(message)
        self.position = position


SficRequest = Literal["FIRST", "SECOND"]
SficTitle = Literal["T2", "T2/16", "T16"]

SFIC_REQUEST_CODES: Final[Mapping[str, tuple[SficRequest, str]]] = MappingProxyType(
    {"F": ("FIRST", "first-request mailer"), "S": ("SECOND", "second-request mailer")}
)
"""SFIC position 1: which mailer (DI 40502.001B.8, C). Code -> (``Sfic.request``, meaning)."""

SFIC_TITLE_CODES: Final[Mapping[str, tuple[SficTitle, str]]] = MappingProxyType(
    {
        "2": ("T2", "Title II only"),
        "C": ("T2/16", "concurrent Title II/Title XVI"),
        "6": ("T16", "Title XVI only"),
    }
)
"""SFIC position 2: the title (DI 40502.001B.8, E.4). Code -> (``Sfic.title``, meaning).
The values are the title prefixes of the DCF mailer events (DI 40502.001G.6)."""

SFIC_LANGUAGE_CODES: Final[Mapping[str, tuple[bool, str]]] = MappingProxyType(
    {"E": (False, "English notice"), "N": (True, "non-English language notice preferred")}
)
"""SFIC position 3: notice language (DI 40502.001B.8). Code -> (``Sfic.non_english``, meaning)."""

SFIC_POSITIONS: Final = (
    (1, "request", SFIC_REQUEST_CODES),
    (2, "title", SFIC_TITLE_CODES),
    (3, "non_english", SFIC_LANGUAGE_CODES),
)
"""Each SFIC position, the :class:`Sfic` attribute it holds and its code table (the SFIC table of ``docs/forms.md``)."""


def _sfic_fields(code: object) -> dict[str, Any]:
    if not isinstance(code, str) or len(code) != 3:
        raise SficError(None, f"SFIC must be 3 characters, got {code!r}")
    fields: dict[str, Any] = {}
    for position, attribute, table in SFIC_POSITIONS:
        char = code[position - 1]
        if char not in table:
            allowed = ", ".join(table)
            raise SficError(position, f"SFIC position {position} ({attribute}) must be one of {allowed}; got {char!r}")
        fields[attribute] = table[char][0]
    return fields


def _code_for(table: Mapping[str, tuple[Any, str]], value: Any) -> str:
    return next(code for code, (v, _) in table.items() if v == value)


class Sfic(BaseModel):
    """Scanning Form Identification Code, scanline 2 field 6 (DI 40502.001B.8).

    B.8 says the SFIC "describes if it is a first or second request mailer, whether it is
    Title II, concurrent, or Title XVI-only, and whether the beneficiary prefers a non-English
    language notice". cdrflow encodes it as 3 characters, one per attribute:

    * position 1, request: ``F`` first, ``S`` second;
    * position 2, title: ``2`` Title II only, ``C`` concurrent Title II/XVI, ``6`` Title XVI only;
    * position 3, language: ``E`` English notice, ``N`` non-English notice preferred.

    ``Sfic.parse("SCN")`` is a second-request, concurrent mailer for a beneficiary preferring a
    non-English notice. A model field typed ``Sfic`` also accepts the 3-character code.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    request: SficRequest
    title: SficTitle
    non_english: bool

    @model_validator(mode="before")
    @classmethod
    def _from_code(cls, data: Any) -> Any:
        return _sfic_fields(data) if isinstance(data, str) else data

    @classmethod
    def parse(cls, code: str) -> Sfic:
        """Decode a 3-character SFIC; raises :class:`SficError` naming the bad position."""
        return cls.model_validate(_sfic_fields(code))

    @property
    def code(self) -> str:
        """The 3-character code, e.g. ``"F2E"``."""
        return (
            _code_for(SFIC_REQUEST_CODES, self.request)
            + _code_for(SFIC_TITLE_CODES, self.title)
            + _code_for(SFIC_LANGUAGE_CODES, self.non_english)
        )

    @property
    def concurrent(self) -> bool:
        """True for a concurrent Title II/Title XVI mailer."""
        return self.title == "T2/16"

    def __str__(self) -> str:
        return self.code
