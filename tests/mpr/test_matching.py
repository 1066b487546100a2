"""Matching providers to LEIE entries: NPI, name and location, reinstatements, waivers, the review queue."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from cdrflow.mpr.leie import LEIE_COLUMNS, read_leie
from cdrflow.mpr.matching import (
    LeieIndex,
    Location,
    MatchResult,
    Provider,
    apply_key,
    business_key,
    city_key,
    eligibility_payload,
    match_provider,
    match_providers,
    name_key,
)
from cdrflow.mpr.roster import License, licenses, read_roster
from cdrflow.policy.mpr.eligibility import ce_provider_eligibility

FIXTURES = Path(__file__).parent / "fixtures"
AS_OF = dt.date(2024, 6, 15)


@pytest.fixture(scope="module")
def index() -> LeieIndex:
    return LeieIndex.from_frame(read_leie(FIXTURES / "leie_small.csv").frame)


def person(pid: str, last: str, first: str, *, npi: str | None = None, middle: str | None = None,
           where: list[tuple[str, str | None, str | None]] | None = None) -> Provider:
    locs = [Location(state=s, city=c, zip=z) for s, c, z in (where or [])]
    return Provider(provider_id=pid, kind="PERSON", last_name=last, first_name=first, middle_name=middle, npi=npi,
                    locations=locs)


def leie_index(tmp_path: Path, *rows: dict[str, str]) -> LeieIndex:
    """An index over a small LEIE file written in the published layout."""
    base = {c: "" for c in LEIE_COLUMNS} | {
        "GENERAL": "IND- LIC HC SERV PRO", "NPI": "0000000000", "DOB": "19700101", "CITY": "DAYTON", "STATE": "OH",
        "ZIP": "45402", "EXCLTYPE": "1128a1", "EXCLDATE": "20190101", "REINDATE": "00000000",
        "WAIVERDATE": "00000000"}
    path = tmp_path / "leie.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_ALL)
        w.writerow(LEIE_COLUMNS)
        for r in rows:
            w.writerow([(base | r)[c] for c in LEIE_COLUMNS])
    result = read_leie(path)
    assert not result.rejects, result.rejects
    return LeieIndex.from_frame(result.frame)


def only(result: MatchResult) -> Any:
    assert len(result.candidates) == 1, result.candidates
    return result.candidates[0]


# ---- 1. NPI ---------------------------------------------------------------------------------------


def test_exact_npi_match_is_confirmed_and_shows_every_entry(index: LeieIndex) -> None:
    r = match_provider(person("P1", "Zarrow", "Quentin", npi="1740029750"), index, AS_OF)
    assert (r.status, r.federal_sanction, r.needs_review) == ("MATCH", True, False)
    assert [(c.leie_row, c.strength, c.confirmed, c.sanction) for c in r.candidates] == [
        (1, "NPI", True, "CURRENT"), (10, "NPI", True, "REINSTATED")]
    assert "the same provider listed more than once" in r.why[0]
    assert any("NPI 1740029750 is the entry's NPI, and the name agrees" in w for w in r.candidates[0].why)


def test_npi_match_with_another_name_goes_to_a_person(index: LeieIndex) -> None:
    r = match_provider(person("P7", "Whitlock", "Amos", npi="1573898057"), index, AS_OF)
    assert (r.status, r.federal_sanction) == ("AMBIGUOUS", None)
    c = only(r)
    assert (c.strength, c.confirmed, c.sanction) == ("NPI", False, "CURRENT")
    assert r.review == ["LEIE row 9: the NPI agrees but the name does not; confirm whether TOBIAS KESTREVAN is "
                        "Amos Whitlock"]


def test_same_name_with_another_npi_is_another_provider(index: LeieIndex) -> None:
    r = match_provider(person("P9", "Zarrow", "Quentin", npi="1194436733", where=[("OH", "Columbus", "43004")]),
                       index, AS_OF)
    assert (r.status, r.federal_sanction, r.candidates) == ("NO_MATCH", False, [])
    assert "no LEIE entry carries NPI 1194436733" in r.why
    assert any("2 LEIE entries have the name Zarrow, Quentin but another NPI" in w for w in r.why)


# ---- 2. name and location -------------------------------------------------------------------------


def test_name_only_without_location_agreement_is_ambiguous(index: LeieIndex) -> None:
    r = match_provider(person("P5", "Odellamore", "Sevrine", where=[("OR", "Portland", "97201")]), index, AS_OF)
    assert (r.status, r.federal_sanction, r.needs_review) == ("AMBIGUOUS", None, True)
    c = only(r)
    assert (c.leie_row, c.strength, c.confirmed) == (8, "NAME_ONLY", False)
    assert "the entry's state ID is not one of the provider's location states (OR)" in c.why
    assert "the name agrees but the location does not" in r.review[0]


def test_name_with_no_locations_on_record_is_name_only(index: LeieIndex) -> None:
    r = match_provider(person("P5", "O'Dellamore", "Sevrine"), index, AS_OF)
    assert only(r).strength == "NAME_ONLY" and r.status == "AMBIGUOUS"
    assert "(none on record)" in only(r).why[1]


def test_single_name_match_with_location_is_confirmed(tmp_path: Path) -> None:
    idx = leie_index(tmp_path, {"LASTNAME": "LANTERNE", "FIRSTNAME": "ORSOLYA", "CITY": "DAYTON", "ZIP": "45402"})
    strong = match_provider(person("A", "Lanterne", "Orsolya", where=[("OH", "Dayton", None)]), idx, AS_OF)
    assert (strong.status, strong.federal_sanction) == ("MATCH", True)
    assert (only(strong).strength, only(strong).confirmed) == ("NAME_LOCATION", True)
    assert "the location agrees: state OH, city DAYTON" in only(strong).why
    by_zip = match_provider(person("A", "Lanterne", "Orsolya", where=[("OH", None, "45402-0001")]), idx, AS_OF)
    assert only(by_zip).why[1] == "the location agrees: state OH, ZIP 45402"
    state = match_provider(person("A", "Lanterne", "Orsolya", where=[("OH", "Akron", "44301")]), idx, AS_OF)
    assert (state.status, only(state).strength, only(state).confirmed) == ("MATCH", "NAME_STATE", True)


def test_several_name_candidates_are_ambiguous(index: LeieIndex) -> None:
    r = match_provider(person("P2", "Vestrane", "Margola", where=[("TX", "Austin", "78701")]), index, AS_OF)
    assert (r.status, r.federal_sanction) == ("AMBIGUOUS", None)
    assert [(c.leie_row, c.strength, c.confirmed) for c in r.candidates] == [
        (2, "NAME_LOCATION", False), (3, "NAME_ONLY", False)]
    assert len(r.review) == 2 and all("2 entries have the name" in x for x in r.review)


def test_conflicting_middle_initial_is_ambiguous(tmp_path: Path) -> None:
    idx = leie_index(tmp_path, {"LASTNAME": "LANTERNE", "FIRSTNAME": "ORSOLYA", "MIDNAME": "B"})
    r = match_provider(person("A", "Lanterne", "Orsolya", middle="K", where=[("OH", "Dayton", None)]), idx, AS_OF)
    assert (r.status, only(r).confirmed) == ("AMBIGUOUS", False)
    assert "middle names differ (K / B)" in r.review[0]
    same = match_provider(person("A", "Lanterne", "Orsolya", middle="Beth", where=[("OH", "Dayton", None)]), idx,
                          AS_OF)
    assert same.status == "MATCH"


def test_an_entry_without_npi_besides_the_npi_match_is_for_a_person(tmp_path: Path) -> None:
    idx = leie_index(tmp_path,
                     {"LASTNAME": "LANTERNE", "FIRSTNAME": "ORSOLYA", "NPI": "1740029750"},
                     {"LASTNAME": "LANTERNE", "FIRSTNAME": "ORSOLYA", "EXCLDATE": "20050101", "REINDATE": "20070101"})
    r = match_provider(person("A", "Lanterne", "Orsolya", npi="1740029750", where=[("OH", "Dayton", None)]), idx,
                       AS_OF)
    assert r.status == "AMBIGUOUS"
    assert r.federal_sanction is True  # the confirmed NPI entry is a current exclusion, whatever the other is
    assert [(c.strength, c.confirmed) for c in r.candidates] == [("NPI", True), ("NAME_LOCATION", False)]


def test_practice_matches_by_business_name(index: LeieIndex) -> None:
    practice = Provider(provider_id="C1", kind="PRACTICE", business_name="The Quillon Diagnostics, L.L.C.",
                        locations=[Location(city="Phoenix", state="AZ", zip="85004")])
    r = match_provider(practice, index, AS_OF)
    assert (r.status, r.federal_sanction) == ("MATCH", True)
    c = only(r)
    assert (c.leie_row, c.strength, c.listed_name) == (6, "NAME_LOCATION", "QUILLON DIAGNOSTICS, LLC")
    assert any("the entry carries NPI 2647134107; the provider's NPI is not known" in w for w in c.why)


def test_no_match_is_explained(index: LeieIndex) -> None:
    r = match_provider(person("N", "Brightwater", "Ilse", npi="1938032053", where=[("OH", None, None)]), index, AS_OF)
    assert (r.status, r.federal_sanction, r.review) == ("NO_MATCH", False, [])
    assert r.why == ["no LEIE entry carries NPI 1938032053", "no LEIE entry has the name Brightwater, Ilse",
                     "not on the LEIE: without federal sanction on 2024-06-15"]


# ---- the sanction on as_of: reinstatement, waiver, exclusion date -----------------------------------------


@pytest.mark.parametrize(
    ("reindate", "sanction", "state"),
    [("20240614", False, "REINSTATED"), ("20240615", False, "REINSTATED"), ("20240616", True, "CURRENT")],
    ids=["reinstated the day before as_of", "reinstated on as_of", "reinstated the day after as_of"],
)
def test_reinstatement_on_or_before_as_of_is_not_a_current_sanction(
        tmp_path: Path, reindate: str, sanction: bool, state: str) -> None:
    idx = leie_index(tmp_path, {"LASTNAME": "LANTERNE", "FIRSTNAME": "ORSOLYA", "NPI": "1740029750",
                                "REINDATE": reindate})
    r = match_provider(person("A", "Lanterne", "Orsolya", npi="1740029750"), idx, AS_OF)
    assert (r.status, r.federal_sanction, only(r).sanction) == ("MATCH", sanction, state)
    if state == "REINSTATED":
        assert "shown for the record" in only(r).why[-1]  # shown, not hidden
    else:
        assert "the reinstatement on 2024-06-16 is after 2024-06-15" in only(r).why[-1]


def test_reinstated_reinstatement_fixture_entry(index: LeieIndex) -> None:
    r = match_provider(person("P3", "Perrington", "Odalys", npi="2047368818"), index, AS_OF)
    assert (r.status, r.federal_sanction, only(r).sanction, only(r).rein_date) == (
        "MATCH", False, "REINSTATED", dt.date(2022, 1, 1))
    before = match_provider(person("P3", "Perrington", "Odalys", npi="2047368818"), index, dt.date(2021, 12, 31))
    assert before.federal_sanction is True


def test_ambiguous_candidates_that_are_all_reinstated_decide_no_sanction(tmp_path: Path) -> None:
    idx = leie_index(tmp_path,
                     {"LASTNAME": "LANTERNE", "FIRSTNAME": "ORSOLYA", "REINDATE": "20200101"},
                     {"LASTNAME": "LANTERNE", "FIRSTNAME": "ORSOLYA", "STATE": "FL", "REINDATE": "20210101"})
    r = match_provider(person("A", "Lanterne", "Orsolya", where=[("OH", "Dayton", None)]), idx, AS_OF)
    assert (r.status, r.federal_sanction, r.needs_review) == ("AMBIGUOUS", False, True)


def test_waiver_is_explained_and_left_to_a_person(index: LeieIndex) -> None:
    r = match_provider(person("P6", "Northamp", "Briselda", npi="1984916514", where=[("NM", None, None)]),
                       index, AS_OF)
    assert (r.status, r.federal_sanction, only(r).sanction) == ("MATCH", None, "WAIVER")
    assert only(r).waiver_state == "NM" and only(r).waiver_date == dt.date(2020, 6, 1)
    assert "the provider has a location in NM" in r.review[0] and "for a person to decide" in r.review[0]
    elsewhere = match_provider(person("P6", "Northamp", "Briselda", npi="1984916514", where=[("TX", None, None)]),
                               index, AS_OF)
    assert "the provider has no location in NM" in elsewhere.review[0]
    before = match_provider(person("P6", "Northamp", "Briselda", npi="1984916514"), index, dt.date(2020, 5, 31))
    assert (before.federal_sanction, only(before).sanction) == (True, "CURRENT")
    assert "a waiver from 2020-06-01 is not yet in effect" in only(before).why[-1]


@pytest.mark.parametrize(("as_of", "state"), [(dt.date(2025, 2, 28), "NOT_YET_IN_EFFECT"),
                                              (dt.date(2025, 3, 1), "CURRENT")])
def test_exclusion_date_after_as_of_is_not_yet_a_sanction(index: LeieIndex, as_of: dt.date, state: str) -> None:
    r = match_provider(person("P8", "Fenworthy", "Alaric", where=[("NC", "Raleigh", None)]), index, as_of)
    assert (r.status, only(r).sanction, r.federal_sanction) == ("MATCH", state, state == "CURRENT")


# ---- the run, the queue, the calc --------------------------------------------------------------------


def test_match_providers_queues_what_a_person_must_decide(index: LeieIndex) -> None:
    providers = [
        person("P1", "Zarrow", "Quentin", npi="1740029750"),
        person("P2", "Vestrane", "Margola", where=[("TX", "Austin", "78701")]),
        person("P6", "Northamp", "Briselda", npi="1984916514"),
        person("N", "Brightwater", "Ilse"),
    ]
    run = match_providers(providers, index, AS_OF)
    assert [r.provider_id for r in run.results] == ["P1", "P2", "P6", "N"]
    assert [r.provider_id for r in run.review_queue] == ["P2", "P6"]
    assert run.results == [match_provider(p, index, AS_OF) for p in providers]  # bulk keys = one-by-one keys
    again = match_providers(providers, index, AS_OF)
    assert [r.model_dump() for r in again.results] == [r.model_dump() for r in run.results]
    json.dumps([r.model_dump(mode="json") for r in run.results])
    assert all(r.why and all(c.why for c in r.candidates) for r in run.results)


def test_roster_license_and_match_feed_the_calc(index: LeieIndex) -> None:
    lic = {x.state: x for x in licenses(read_roster(FIXTURES / "roster_small.csv").frame)}
    sanctioned = match_provider(person("P1", "Zarrow", "Quentin", npi="1740029750"), index, AS_OF)
    answer = ce_provider_eligibility.run(eligibility_payload(lic["OH"], sanctioned))
    assert (answer["eligible"], answer["currently_licensed"], answer["without_federal_sanction"]) == (
        False, True, False)
    clear = match_provider(person("N", "Brightwater", "Ilse"), index, AS_OF)
    assert ce_provider_eligibility.run(eligibility_payload(lic["TX"], clear))["eligible"] is True  # expires on as_of
    assert ce_provider_eligibility.run(eligibility_payload(lic["CO"], clear))["eligible"] is False  # EXPIRED
    undecided = match_provider(person("P5", "Odellamore", "Sevrine", where=[("OR", None, None)]), index, AS_OF)
    with pytest.raises(ValueError, match="federal_sanction is undecided; a person must review"):
        eligibility_payload(lic["OR"], undecided)


# ---- providers and keys ----------------------------------------------------------------------------


def test_provider_validation() -> None:
    with pytest.raises(ValidationError, match="check digit"):
        person("X", "Lanterne", "Orsolya", npi="1234567890")
    with pytest.raises(ValidationError, match="PERSON needs last_name and first_name"):
        Provider(provider_id="X", kind="PERSON", last_name="Lanterne")
    with pytest.raises(ValidationError, match="PRACTICE needs business_name"):
        Provider(provider_id="X", kind="PRACTICE")
    with pytest.raises(ValidationError):
        Location(state="Ohio")
    p = Provider(provider_id="X", kind="PERSON", last_name="Lanterne", first_name="Orsolya", panels=["OH-DDS-1"],
                 specialties=["PSYCHOLOGY"],
                 licenses=[License(state="OH", number="PSY.1", status="ACTIVE", expires=dt.date(2026, 1, 1))])
    assert p.display_name == "Orsolya Lanterne" and p.panels == ["OH-DDS-1"]


def test_normalized_keys() -> None:
    assert apply_key(name_key, ["O'Dell-Amore Jr.", "José", " de la Cruz III ", "", None]) == [
        "ODELLAMORE", "JOSE", "DELACRUZ", None, None]
    assert apply_key(business_key, ["The Quillon Diagnostics, L.L.C.", "QUILLON DIAGNOSTICS, LLC",
                                    "Smith & Jones, P.C.", "Smith and Jones PC", "PA Imaging Co Inc"]) == [
        "QUILLONDIAGNOSTICS", "QUILLONDIAGNOSTICS", "SMITHJONES", "SMITHJONES", "PAIMAGING"]
    assert apply_key(city_key, ["St. Louis", "COLUMBUS"]) == ["STLOUIS", "COLUMBUS"]


def test_index_refuses_an_untyped_frame(index: LeieIndex) -> None:
    with pytest.raises(ValueError, match="not a typed LEIE frame"):
        LeieIndex.from_frame(index.frame.drop("NPI"))
