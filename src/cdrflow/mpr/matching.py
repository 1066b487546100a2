"""Match CE providers to LEIE entries: by NPI, then by name and location, every match explained.

PM 00215.001D.4.c asks the DDS to "Ensure sources are currently licensed and without federal
sanction". The text does not say how a source is found on a sanction list; the procedure here is
ours (``docs/interpretations.md#matching``), built so that no identity is guessed:

1. **NPI.** Every LEIE entry carrying the provider's NPI is a candidate. When the entry's name
   agrees with the provider's (last and first name for a person, business name for a practice)
   the identity is confirmed; when it does not, a person confirms it.
2. **Name and location.** Entries with the provider's normalized name (:func:`name_key`,
   :func:`business_key`) are candidates too, except those carrying a *different* NPI than the
   provider's known one (another provider). Location strengthens a name: the entry's state must
   be one of the provider's location states, and its city or ZIP code agreeing makes it stronger.
   A name match is confirmed only when it is the one candidate of all, agrees on the state at
   least, and no middle initials conflict.
3. **Everything else is for a person.** Several candidates, a name without location agreement, an
   NPI whose name disagrees, a conflicting middle initial: the result is ``AMBIGUOUS`` and is
   queued for review with what to decide.

Each candidate's sanction status on ``as_of`` is read from its dates: not yet in effect
(EXCLDATE after as_of), reinstated (REINDATE on or before as_of: shown, not a current
sanction), waived (WAIVERDATE on or before as_of: explained, and left to a person), else
current. ``federal_sanction`` is ``True`` when a confirmed candidate is currently excluded,
``False`` when no candidate (confirmed or not) is a current or waived exclusion, and ``None``
when a person must decide first; only a decided value feeds the ``ce-provider-eligibility``
calc (:func:`eligibility_payload`).

The LEIE side is prepared column-wise (:class:`LeieIndex` computes the keys with Polars
expressions and groups them into dictionaries); a provider is then matched by dictionary
look-ups. Provider keys go through the same expressions, so both sides are normalized by one
definition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .leie import LEIE_SCHEMA, ROW, npi_check_digit_ok
from .roster import License

Kind = Literal["PERSON", "PRACTICE"]
Strength = Literal["NPI", "NAME_LOCATION", "NAME_STATE", "NAME_ONLY"]
"""How a candidate was found: by NPI; by name with the state and the city or ZIP agreeing; by
name with the state agreeing; by name alone."""
SanctionState = Literal["CURRENT", "REINSTATED", "WAIVER", "NOT_YET_IN_EFFECT"]
Status = Literal["NO_MATCH", "MATCH", "AMBIGUOUS"]

_CITE = "PM 00215.001D.4.c"
_MATCHING = "docs/interpretations.md#matching"


# ---- normalization (one definition, as Polars expressions) ----------------------------------------

_LEGAL_FORMS = ("INC", "INCORPORATED", "LLC", "LLP", "LP", "LTD", "PC", "PA", "PLLC", "PLC", "CORP",
                "CORPORATION", "CO", "COMPANY")
_NAME_SUFFIXES = ("JR", "SR", "II", "III", "IV")


def _words(e: pl.Expr) -> pl.Expr:
    """Upper-case ASCII words: accents dropped, every run of other characters one space."""
    return (e.str.normalize("NFKD").str.replace_all(r"\p{M}", "").str.to_uppercase()
            .str.replace_all(r"'", "").str.replace_all(r"[^A-Z0-9]+", " ").str.strip_chars())


def _key(e: pl.Expr) -> pl.Expr:
    return pl.when(e != "").then(e.str.replace_all(" ", "", literal=True))


def name_key(e: pl.Expr) -> pl.Expr:
    """A person's last or first name as a key: ``O'Dell-Amore Jr.`` -> ``ODELLAMORE``."""
    return _key(_words(e).str.replace(rf"(\s+({'|'.join(_NAME_SUFFIXES)}))+$", ""))


def business_key(e: pl.Expr) -> pl.Expr:
    """A business name as a key: ``The Quillon Diagnostics, L.L.C.`` -> ``QUILLONDIAGNOSTICS``.

    A leading THE, the word AND (``&`` is punctuation) and trailing legal forms (INC, LLC, PC, ...)
    are dropped. Dotted forms (``L.L.C.``) are joined before that.
    """
    w = _words(e.str.replace_all(r"\b([A-Za-z])\.(?:([A-Za-z])\.)?(?:([A-Za-z])\.)?", "$1$2$3"))
    w = w.str.replace(r"^THE\s+", "").str.replace_all(r"\bAND\b", " ")
    return _key(w.str.replace(rf"(\s+({'|'.join(_LEGAL_FORMS)}))+$", ""))


def city_key(e: pl.Expr) -> pl.Expr:
    """A city as a key (letters and digits only)."""
    return _key(_words(e))


def _zip5(e: pl.Expr) -> pl.Expr:
    return e.str.slice(0, 5)


def apply_key(fn: Callable[[pl.Expr], pl.Expr], values: Sequence[str | None]) -> list[str | None]:
    """``fn`` applied to a few Python values (the provider side), through the very same expression."""
    s = pl.DataFrame({"v": list(values)}, schema={"v": pl.String()})
    return list(s.select(fn(pl.col("v"))).to_series().to_list())


# ---- providers ------------------------------------------------------------------------------------


class Location(BaseModel):
    """A place the provider practices (an office, a CE site)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    address: str | None = None
    city: str | None = None
    state: str = Field(pattern=r"^[A-Z]{2}$")
    zip: str | None = Field(default=None, pattern=r"^\d{5}(-?\d{4})?$")


class Provider(BaseModel):
    """A CE provider: a person or a practice, with what the registry knows of it (D.4.b, D.4.c)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    provider_id: str = Field(min_length=1)
    kind: Kind
    last_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    business_name: str | None = None
    npi: str | None = Field(default=None, description="10 digits with a valid check digit; null where not known")
    specialties: list[str] = Field(default_factory=list)
    locations: list[Location] = Field(default_factory=list)
    panels: list[str] = Field(default_factory=list, description="the DDS panels the provider serves")
    licenses: list[License] = Field(default_factory=list)

    @field_validator("npi")
    @classmethod
    def _npi(cls, v: str | None) -> str | None:
        if v is not None and not npi_check_digit_ok(v):
            raise ValueError(f"an NPI is 10 digits with a valid check digit, got {v!r}")
        return v

    @model_validator(mode="after")
    def _names(self) -> Provider:
        if self.kind == "PERSON" and not (self.last_name and self.first_name):
            raise ValueError("a PERSON needs last_name and first_name")
        if self.kind == "PRACTICE" and not self.business_name:
            raise ValueError("a PRACTICE needs business_name")
        return self

    @property
    def display_name(self) -> str:
        """The name as a person reads it."""
        if self.kind == "PRACTICE":
            return str(self.business_name)
        return " ".join(p for p in (self.first_name, self.middle_name, self.last_name) if p)


# ---- results --------------------------------------------------------------------------------------


class Candidate(BaseModel):
    """One LEIE entry that may be the provider, how it was found, and its sanction status on as_of."""

    leie_row: int = Field(description="the entry's data row in the LEIE file")
    listed_name: str
    npi: str | None
    location: str
    excl_type: str
    excl_date: dt.date
    rein_date: dt.date | None
    waiver_date: dt.date | None
    waiver_state: str | None
    strength: Strength
    confirmed: bool = Field(description="the identity is established without a person")
    sanction: SanctionState
    why: list[str]


class MatchResult(BaseModel):
    """The provider against the LEIE on ``as_of``: candidates, the sanction answer and what a person must decide."""

    provider_id: str
    provider_name: str
    as_of: dt.date
    status: Status
    federal_sanction: bool | None = Field(description="null: a person decides before the eligibility calc")
    candidates: list[Candidate]
    why: list[str]
    review: list[str] = Field(description="what a person must decide; empty when nothing")
    cite: str = f"{_CITE}; {_MATCHING}"

    @property
    def needs_review(self) -> bool:
        """Queued for a person."""
        return bool(self.review)


@dataclass(frozen=True)
class MatchRun:
    """Every provider's result, and the ones queued for a person, in the providers' order."""

    results: list[MatchResult]

    @property
    def review_queue(self) -> list[MatchResult]:
        """The results a person must look at (ambiguous identities, waivers)."""
        return [r for r in self.results if r.needs_review]


# ---- the LEIE index -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeieIndex:
    """LEIE entries keyed by NPI, by person name and by business name (positions in ``frame``)."""

    frame: pl.DataFrame
    by_npi: dict[str, list[int]]
    by_person: dict[tuple[str, str], list[int]]
    by_business: dict[str, list[int]]

    @classmethod
    def from_frame(cls, leie: pl.DataFrame) -> LeieIndex:
        """Index a typed LEIE frame (:func:`cdrflow.mpr.leie.read_leie`)."""
        missing = [c for c in LEIE_SCHEMA if c not in leie.columns]
        if missing:
            raise ValueError(f"not a typed LEIE frame: missing {', '.join(missing)}")
        frame = leie.with_columns(
            pl.int_range(0, pl.len(), dtype=pl.Int64).alias("_pos"),
            name_key(pl.col("LASTNAME")).alias("_last"),
            name_key(pl.col("FIRSTNAME")).alias("_first"),
            name_key(pl.col("MIDNAME")).alias("_mid"),
            business_key(pl.col("BUSNAME")).alias("_bus"),
            city_key(pl.col("CITY")).alias("_city"),
            _zip5(pl.col("ZIP")).alias("_zip5"),
        )

        def group(keys: list[str]) -> dict[Any, list[int]]:
            g = (frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
                 .group_by(keys, maintain_order=True).agg(pl.col("_pos")))
            out: dict[Any, list[int]] = {}
            for row in g.iter_rows():
                key = row[0] if len(keys) == 1 else tuple(row[:-1])
                out[key] = list(row[-1])
            return out

        return cls(frame, group(["NPI"]), group(["_last", "_first"]), group(["_bus"]))

    def entry(self, pos: int) -> dict[str, Any]:
        """One entry (typed LEIE columns plus keys) by position."""
        return self.frame.row(pos, named=True)


# ---- matching -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Keys:
    last: str | None
    first: str | None
    middle: str | None
    business: str | None
    cities: tuple[tuple[str, str | None, str | None], ...]  # (state, city key, zip5)


def _provider_keys(providers: Sequence[Provider]) -> list[_Keys]:
    """The keys of many providers in one pass of the same expressions the LEIE side uses."""
    text = pl.String()
    names = pl.DataFrame(
        {"last": [p.last_name for p in providers], "first": [p.first_name for p in providers],
         "middle": [p.middle_name for p in providers], "bus": [p.business_name for p in providers]},
        schema={"last": text, "first": text, "middle": text, "bus": text},
    ).select(name_key(pl.col("last")), name_key(pl.col("first")), name_key(pl.col("middle")),
             business_key(pl.col("bus")))
    owners = [i for i, p in enumerate(providers) for _ in p.locations]
    places = [loc for p in providers for loc in p.locations]
    cities = apply_key(city_key, [loc.city for loc in places])
    locs: list[list[tuple[str, str | None, str | None]]] = [[] for _ in providers]
    for i, loc, c in zip(owners, places, cities, strict=True):
        locs[i].append((loc.state, c, loc.zip[:5] if loc.zip else None))
    return [_Keys(last, first, middle, bus, tuple(locs[i]))
            for i, (last, first, middle, bus) in enumerate(names.iter_rows())]


def _listed_name(e: dict[str, Any]) -> str:
    person = " ".join(x for x in (e["FIRSTNAME"], e["MIDNAME"], e["LASTNAME"]) if x)
    if person and e["BUSNAME"]:
        return f"{person} ({e['BUSNAME']})"
    return person or str(e["BUSNAME"])


def _location(e: dict[str, Any]) -> str:
    place = ", ".join(x for x in (e["CITY"], e["STATE"]) if x)
    return " ".join(x for x in (place, e["ZIP"]) if x) or "(no location given)"


def _name_agrees(p: Provider, k: _Keys, e: dict[str, Any]) -> bool:
    if p.kind == "PRACTICE":
        return k.business is not None and k.business == e["_bus"]
    return k.last is not None and (k.last, k.first) == (e["_last"], e["_first"])


def _location_agreement(k: _Keys, e: dict[str, Any]) -> tuple[Strength, str]:
    state = e["STATE"]
    if state is None:
        return "NAME_ONLY", "the entry gives no state, so no location can agree"
    here = [loc for loc in k.cities if loc[0] == state]
    if not here:
        states = ", ".join(sorted({loc[0] for loc in k.cities})) or "none on record"
        return "NAME_ONLY", f"the entry's state {state} is not one of the provider's location states ({states})"
    city = e["_city"] is not None and any(loc[1] == e["_city"] for loc in here)
    zip5 = e["_zip5"] is not None and any(loc[2] == e["_zip5"] for loc in here)
    agree = [f"state {state}"]
    if city:
        agree.append(f"city {e['CITY']}")
    if zip5:
        agree.append(f"ZIP {e['_zip5']}")
    if city or zip5:
        return "NAME_LOCATION", "the location agrees: " + ", ".join(agree)
    return "NAME_STATE", f"only the state agrees ({state}); neither city nor ZIP code does"


def _sanction(e: dict[str, Any], as_of: dt.date, p: Provider) -> tuple[SanctionState, str]:
    excl, rein, waiver = e["EXCLDATE"], e["REINDATE"], e["WAIVERDATE"]
    if excl > as_of:
        return "NOT_YET_IN_EFFECT", (f"excluded ({e['EXCLTYPE']}) from {excl}, after {as_of}: "
                                     f"not a sanction on {as_of}")
    if rein is not None and rein <= as_of:
        return "REINSTATED", (f"excluded ({e['EXCLTYPE']}) from {excl} and reinstated on {rein}: "
                              f"not a current sanction on {as_of}, shown for the record")
    later = f"; the reinstatement on {rein} is after {as_of}" if rein is not None else ""
    if waiver is not None and waiver <= as_of:
        states = {loc.state for loc in p.locations}
        where = ("the provider has a location in " + str(e["WVRSTATE"]) if e["WVRSTATE"] in states
                 else "the provider has no location in " + str(e["WVRSTATE"]))
        return "WAIVER", (f"excluded ({e['EXCLTYPE']}) from {excl}{later}, with an OIG waiver from {waiver} for "
                          f"{e['WVRSTATE']} ({where}): whether the waiver covers this provider's CE work is "
                          f"for a person to decide")
    pending = f"; a waiver from {waiver} is not yet in effect" if waiver is not None else ""
    return "CURRENT", f"excluded ({e['EXCLTYPE']}) from {excl}{later}{pending}: a current federal sanction on {as_of}"


def _candidate(e: dict[str, Any], strength: Strength, confirmed: bool, why: list[str],
               as_of: dt.date, p: Provider) -> Candidate:
    state, text = _sanction(e, as_of, p)
    return Candidate(
        leie_row=e[ROW], listed_name=_listed_name(e), npi=e["NPI"], location=_location(e), excl_type=e["EXCLTYPE"],
        excl_date=e["EXCLDATE"], rein_date=e["REINDATE"], waiver_date=e["WAIVERDATE"], waiver_state=e["WVRSTATE"],
        strength=strength, confirmed=confirmed, sanction=state, why=[*why, text],
    )


def match_provider(provider: Provider, index: LeieIndex, as_of: dt.date) -> MatchResult:
    """Match one provider against the LEIE on ``as_of``; see the module docstring for the rules."""
    return _match(provider, _provider_keys([provider])[0], index, as_of)


def _match(p: Provider, k: _Keys, index: LeieIndex, as_of: dt.date) -> MatchResult:
    why: list[str] = []
    review: list[str] = []
    cands: list[Candidate] = []

    # 1. NPI (exact).
    npi_hits = index.by_npi.get(p.npi, []) if p.npi else []
    if p.npi is None:
        why.append("the provider's NPI is not known: matched by name and location only")
    elif not npi_hits:
        why.append(f"no LEIE entry carries NPI {p.npi}")
    else:
        why.append(f"{len(npi_hits)} LEIE entr{'y carries' if len(npi_hits) == 1 else 'ies carry'} NPI {p.npi}"
                   + ("" if len(npi_hits) == 1 else ": the same provider listed more than once"))
    for pos in npi_hits:
        e = index.entry(pos)
        if _name_agrees(p, k, e):
            cands.append(_candidate(e, "NPI", True, [f"NPI {p.npi} is the entry's NPI, and the name agrees"], as_of, p))
        else:
            cands.append(_candidate(e, "NPI", False, [f"NPI {p.npi} is the entry's NPI, but the entry names "
                                                      f"{_listed_name(e)}, not {p.display_name}"], as_of, p))
            review.append(f"LEIE row {e[ROW]}: the NPI agrees but the name does not; confirm whether "
                          f"{_listed_name(e)} is {p.display_name}")

    # 2. Name and location.
    if p.kind == "PERSON":
        name_hits = index.by_person.get((str(k.last), str(k.first)), []) if k.last and k.first else []
        named = f"{p.last_name}, {p.first_name}"
    else:
        name_hits = index.by_business.get(str(k.business), []) if k.business else []
        named = str(p.business_name)
    seen = set(npi_hits)
    others = 0
    by_name: list[tuple[dict[str, Any], Strength, list[str], str | None]] = []
    for pos in name_hits:
        if pos in seen:
            continue
        e = index.entry(pos)
        if p.npi is not None and e["NPI"] is not None and e["NPI"] != p.npi:
            others += 1
            continue
        strength, loc_why = _location_agreement(k, e)
        reasons = [f"the name agrees with {named}", loc_why]
        doubt = None
        if e["NPI"] is not None:
            reasons.append(f"the entry carries NPI {e['NPI']}; the provider's NPI is not known: compare them")
        if p.kind == "PERSON" and k.middle and e["_mid"]:
            if k.middle[0] != str(e["_mid"])[0]:
                doubt = f"the middle names differ ({p.middle_name} / {e['MIDNAME']})"
                reasons.append(doubt)
        by_name.append((e, strength, reasons, doubt))
    if others:
        why.append(f"{others} LEIE entr{'y has' if others == 1 else 'ies have'} the name {named} but another NPI: "
                   "another provider, not a candidate")
    if not name_hits:
        why.append(f"no LEIE entry has the name {named}")

    single = not npi_hits and len(by_name) == 1
    for e, strength, reasons, doubt in by_name:
        confirmed = single and strength != "NAME_ONLY" and doubt is None
        cands.append(_candidate(e, strength, confirmed, reasons, as_of, p))
        if confirmed:
            continue
        if npi_hits:
            problem = "the entry has the name but no NPI, while other entries carry the provider's NPI"
        elif not single:
            problem = f"{len(by_name)} entries have the name"
        elif doubt is not None:
            problem = doubt
        else:
            problem = "the name agrees but the location does not"
        review.append(f"LEIE row {e[ROW]} ({_listed_name(e)}, {_location(e)}): {problem}; "
                      f"confirm whether it is {p.display_name}")

    # The answer.
    unconfirmed = [c for c in cands if not c.confirmed]
    status: Status = "NO_MATCH" if not cands else "AMBIGUOUS" if unconfirmed else "MATCH"
    if any(c.confirmed and c.sanction == "CURRENT" for c in cands):
        sanction: bool | None = True
        why.append(f"a confirmed LEIE entry is a current exclusion on {as_of}: under federal sanction")
    elif any(c.sanction in ("CURRENT", "WAIVER") for c in cands):
        sanction = None
        why.append("a candidate is a current or waived exclusion: a person decides before eligibility is checked")
    else:
        sanction = False
        why.append(f"no candidate is a current exclusion on {as_of}: without federal sanction on the LEIE"
                   if cands else f"not on the LEIE: without federal sanction on {as_of}")
    for c in cands:
        if c.sanction == "WAIVER":
            review.append(f"LEIE row {c.leie_row}: {c.why[-1]}")
    return MatchResult(provider_id=p.provider_id, provider_name=p.display_name, as_of=as_of, status=status,
                       federal_sanction=sanction, candidates=cands, why=why, review=review)


def match_providers(providers: Iterable[Provider], index: LeieIndex, as_of: dt.date) -> MatchRun:
    """Match every provider; the run's :attr:`MatchRun.review_queue` is what a person must look at."""
    ps = list(providers)
    return MatchRun([_match(p, k, index, as_of) for p, k in zip(ps, _provider_keys(ps), strict=True)])


def eligibility_payload(license: License, result: MatchResult) -> dict[str, Any]:
    """The ``ce-provider-eligibility`` input for one license and a decided match result.

    Raises ``ValueError`` while a person still has to decide the sanction question.
    """
    if result.federal_sanction is None:
        raise ValueError(f"provider {result.provider_id}: federal_sanction is undecided; "
                         f"a person must review: {'; '.join(result.review)}")
    return {"license_status": license.status, "license_expires": license.expires.isoformat(),
            "federal_sanction": result.federal_sanction, "as_of": result.as_of.isoformat()}
