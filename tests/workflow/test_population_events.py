"""Every change has an actor and an event (issue 12 item 6; interpretations §75).

A population import that changes a beneficiary posts "<title> BENEFICIARY DATA CHANGED" with who
imported, which fields changed from what to what, and the file; a change that moves a diary or touches
the beneficiary of an integrity-flipped case (G.7) is flagged and shown by ``cdrflow case SSN``. Run on
SQLite and PostgreSQL (fixture ``store``).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cdrflow.dcf.schema import events
from cdrflow.dcf.store import Actor, Store
from cdrflow.kernel.errors import Forbidden
from cdrflow.population.generate import write_population
from cdrflow.workflow import population

from ..cli.runner import cli
from ..dbfixtures import (
    assert_denied,
    beneficiary_row,
    insert_case,
    make_beneficiary,
    person,
    seed_beneficiaries,
    store_url,
    token_for,
)

SSN = "423480001"
DAY = dt.date(2026, 6, 1)
FEED = Actor("ops1", "OPERATOR")  # an operator runs the import (a bare Actor: resolved in the people table)


@pytest.fixture(autouse=True)
def _operator(store: Store) -> None:
    person(store, FEED.name, FEED.role)


def _ssn_events(store: Store, ssn: str = SSN) -> list[dict[str, Any]]:
    with store.read() as tx:
        rows = [dict(r) for r in tx.conn.execute(
            select(events).where(events.c.ssn == ssn).order_by(events.c.event_id)).mappings()]
    for r in rows:
        r["detail"] = json.loads(r["detail"]) if r["detail"] else None
    return rows


def _flip(store: Store, ssn: str) -> str:
    """A case of ``ssn`` flipped by the integrity sample (G.7), as the review's flip leaves it."""
    cid = insert_case(store, ssn, sent_on=dt.date(2026, 1, 5))
    with store.tx() as tx:
        v = tx.require_case(cid)["version"]
        tx.update_case(cid, v, state="DO_CDR", outcome="DO_CDR", integrity_selected=True, integrity_flipped=True,
                       closed_on=dt.date(2026, 4, 15))
    return cid


def test_an_import_records_who_changed_which_field_from_what_to_what(store: Store) -> None:
    before = make_beneficiary(SSN)
    counts = seed_beneficiaries(store, [before])
    assert +counts == {"inserted": 1} and _ssn_events(store) == []  # a new beneficiary is not a change
    after = {**before, "diary_month": "2045-12", "name": "TEST PERSON RENAMED"}
    counts = population.load(store, [after], actor=FEED, source="people.csv sha256:abc", on=DAY)
    assert +counts == {"updated": 1, "flagged": 1}
    (ev,) = _ssn_events(store)
    assert (ev["event_type"], ev["case_id"], ev["actor"], ev["actor_role"], ev["event_date"]) == \
        ("T2 BENEFICIARY DATA CHANGED", None, "ops1", "OPERATOR", DAY)
    assert ev["detail"]["changes"] == {"diary_month": ["2026-01", "2045-12"],
                                       "name": ["TEST PERSON 0001", "TEST PERSON RENAMED"]}
    assert ev["detail"]["flags"] == [population.DIARY_MOVED] and ev["detail"]["source"] == "people.csv sha256:abc"
    assert ev["policy_version"]
    assert SSN not in (ev["idem_key"] or "")  # no key holds an SSN (interpretations §78)
    assert beneficiary_row(store, SSN)["diary_month"] == "2045-12"
    # the same rows again change nothing and post nothing
    assert +population.load(store, [after], actor=FEED, on=DAY) == {"unchanged": 1}
    assert len(_ssn_events(store)) == 1
    # a change of another kind is an event without a flag; values of every type are shown as text
    again = {**after, "phone": "404-555-0199", "birth_date": dt.date(1970, 5, 2)}
    assert +population.load(store, [again], actor=FEED, on=DAY) == {"updated": 1}
    last = _ssn_events(store)[-1]["detail"]
    assert last["changes"] == {"birth_date": ["1970-05-01", "1970-05-02"], "phone": ["404-555-0100", "404-555-0199"]}
    assert last["flags"] == []


def test_a_change_to_a_flipped_cases_beneficiary_is_flagged_and_shown(store: Store,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from cdrflow import cli_lifecycle

    monkeypatch.setattr(cli_lifecycle.out, "width", 250)  # the history table's cells are not folded
    seed_beneficiaries(store, [make_beneficiary(SSN)])
    cid = _flip(store, SSN)
    counts = population.load(store, [make_beneficiary(SSN, address_line="9 ELM ST")], actor=FEED, on=DAY)
    assert +counts == {"updated": 1, "flagged": 1}
    ev = _ssn_events(store)[-1]
    assert ev["detail"]["flags"] == [population.FLIPPED_CASE] and ev["detail"]["flipped_cases"] == [cid]
    assert ev["detail"]["changes"] == {"address_line": ["100 PEACHTREE ST", "9 ELM ST"]}

    code, shown = cli("case", "--ssn-stdin", "--db", store_url(store), stdin=SSN + "\n",
                      token=token_for(store, "ada", "AUDITOR"))
    assert code == 0, shown
    flat = " ".join(shown.split())
    assert "BENEFICIARY DATA CHANGED" in flat
    assert "ops1:OPERATOR changed address_line 100 PEACHTREE ST -> 9 ELM ST" in flat
    assert "FLAGGED: beneficiary of an integrity-flipped case (G.7)" in flat


@pytest.mark.parametrize("role", ["DE", "ANALYST", "WBDOC"])
def test_only_operations_or_a_system_feed_load_beneficiary_data(store: Store, role: str) -> None:
    seed_beneficiaries(store, [make_beneficiary(SSN)])
    # WBDOC is a system component (seeded by the migration), the others people
    who = Actor("wbdoc", "WBDOC") if role == "WBDOC" else person(store, "jdoe", role, pc=7 if role == "DE" else None)
    with pytest.raises(Forbidden, match="may not import or generate beneficiary data"):
        population.load(store, [make_beneficiary(SSN, name="X Y")], actor=who)
    assert beneficiary_row(store, SSN)["name"] == "TEST PERSON 0001" and _ssn_events(store) == []
    assert assert_denied(store, who.name, "population.import")["role"] == role


def test_population_import_names_the_importer(store: Store, tmp_path: Path) -> None:
    db = ["--db", store_url(store)]
    seed_beneficiaries(store, [make_beneficiary(SSN)])
    path = tmp_path / "people.csv"
    write_population([make_beneficiary(SSN, diary_month="2045-12")], path)
    code, out = cli("population", "import", str(path), *db, token=token_for(store, "jdoe", "DE", pc=7))
    assert code == 4 and "may not import or generate beneficiary data" in " ".join(out.split()), out
    assert_denied(store, "jdoe", "population.import")
    code, out = cli("population", "import", str(path), "--on", "2026-06-01", *db,
                    token=token_for(store, FEED.name, FEED.role))
    assert code == 0 and "'updated': 1" in out and "flagged 1" in out, out
    (ev,) = _ssn_events(store)
    assert (ev["actor"], ev["actor_role"], ev["event_date"]) == ("ops1", "OPERATOR", DAY)
    assert ev["detail"]["source"].startswith("people.csv sha256:") and len(ev["detail"]["source"]) == 18 + 64
    write_population([make_beneficiary(SSN, diary_month="2046-01")], path)
    code, out = cli("population", "import", str(path), *db)  # no token: not a person of this DCF
    assert code == 4 and "not a person of this DCF" in " ".join(out.split()), out
    assert len(_ssn_events(store)) == 1
    # the service's default importer is the system feed
    population.load(store, [make_beneficiary(SSN, diary_month="2046-01")], on=DAY)
    assert _ssn_events(store)[-1]["actor"] == population.POPULATION.name
