"""Identity and the one permission model, as the mailer's users rely on it (issue 13), on SQLite and PostgreSQL.

* a name the people table does not know acts as nobody: refused, and the refusal is in the access log;
* PC staff work their own processing center: an FLC at PC 3 neither associates a PC 5 case nor reads PC 5's
  queue;
* an auditor reads a case and decides nothing;
* every read of a case is in the access log (allowed), naming the case, never the beneficiary's SSN;
* a disabled person's token no longer signs in; the OS account that creates the DCF is its first ADMIN, once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from cdrflow.dcf.store import Actor, NotFound, Store
from cdrflow.kernel.errors import Forbidden, InvalidInput, Unauthenticated
from cdrflow.workflow import people, review
from cdrflow.workflow.cycle import run_cycle
from cdrflow.workflow.history import case_history, document_payloads, queue, reveal_ssn
from cdrflow.workflow.intake import ingest

from ..dbfixtures import (
    access_rows,
    assert_denied,
    case_id_for,
    case_row,
    make_beneficiary,
    person,
    returned_mailer,
    seed_beneficiaries,
    write_jsonl,
)

D = dt.date(2026, 1, 5)
RECEIVED = dt.date(2026, 3, 10)
WORKED = dt.date(2026, 4, 1)
SSN_3, SSN_5 = "423490003", "423490005"  # beneficiaries whose processing centers are 3 and 5


@pytest.fixture
def cases(store: Store, tmp_path: Path) -> dict[int, str]:
    """A PSC MAILER alert (work reported) at PC 3 and one at PC 5, both waiting for the FLC (E.4.b): {pc: case id}."""
    seed_beneficiaries(store, [make_beneficiary(SSN_3, servicing_pc=3), make_beneficiary(SSN_5, servicing_pc=5)])
    run_cycle(store, D)
    ids = {3: case_id_for(store, D, SSN_3), 5: case_id_for(store, D, SSN_5)}
    recs = [returned_mailer(ids[3], SSN_3, q1a_worked="YES"), returned_mailer(ids[5], SSN_5, q1a_worked="YES")]
    res = ingest(store, write_jsonl(tmp_path / "returns.jsonl", recs), RECEIVED)
    assert res.reconciles() and res.counts["end:PC_REVIEW"] == 2, res.as_dict()
    for pc, cid in ids.items():
        case = case_row(store, cid)
        assert (case["pc"], case["review_stage"]) == (pc, "ASSOCIATE")
    return ids


# ---- (1) a name is not an identity ----------------------------------------------------------------

def test_a_person_the_people_table_does_not_know_is_refused_and_logged(store: Store, cases: dict[int, str]) -> None:
    cid = cases[3]
    ghost = Actor("ghost", "FLC")  # typed, never added by an administrator
    with pytest.raises(Forbidden, match="not an active person"):
        review.associate(store, cid, ghost, WORKED)
    row = assert_denied(store, "ghost", "mailer.associate", f"case:{cid}")
    assert (row["role"], row["rule"]) == ("FLC", "unknown-person")
    with pytest.raises(Forbidden):
        case_history(store, Actor("ghost", "AUDITOR"), case_id=cid)
    assert_denied(store, "ghost", "mailer.case.read", f"case:{cid}")
    assert case_row(store, cid)["review_stage"] == "ASSOCIATE"  # nothing changed

    # a person named with a role they do not have is refused too
    person(store, "flo", "FLC", pc=3)
    with pytest.raises(Forbidden, match="FLC in the people table, not DE"):
        review.guide(store, cid, Actor("flo", "DE"))
    assert assert_denied(store, "flo", "mailer.guide", f"case:{cid}")["role"] == "DE"


# ---- (2) PC staff work their own processing center -------------------------------------------------

def test_an_flc_at_pc_3_neither_associates_nor_lists_pc_5(store: Store, cases: dict[int, str]) -> None:
    flc = person(store, "flo", "FLC", pc=3)
    with pytest.raises(Forbidden, match=r"PC 3.*PC 5"):
        review.associate(store, cases[5], flc, WORKED)
    assert_denied(store, "flo", "mailer.associate", f"case:{cases[5]}")
    assert case_row(store, cases[5])["review_stage"] == "ASSOCIATE"

    rows = queue(store, flc)
    assert [r["case_id"] for r in rows] == [cases[3]] and {r["pc"] for r in rows} == {3}
    with pytest.raises(Forbidden, match="PC 3"):
        queue(store, flc, pc=5)
    assert_denied(store, "flo", "mailer.queue.read", "queue:pc5")
    with pytest.raises(Forbidden):
        case_history(store, flc, case_id=cases[5])
    assert_denied(store, "flo", "mailer.case.read", f"case:{cases[5]}")

    # ... and works PC 3's alert
    assert review.associate(store, cases[3], flc, WORKED) == "BET_DT"


# ---- (3) an auditor reads and changes nothing --------------------------------------------------------

def test_an_auditor_reads_a_case_but_cannot_decide_it(store: Store, cases: dict[int, str]) -> None:
    cid = cases[5]
    ada = person(store, "ada", "AUDITOR")
    assert case_history(store, ada, case_id=cid)["cases"][0]["case_id"] == cid
    assert review.guide(store, cid, ada)["profile"] is not None
    assert {k for k, _ in document_payloads(store, cid, ada)} >= {"ALERT_SHEET", "FACSIMILE", "PROFILE_SHEET"}
    assert {r["case_id"] for r in queue(store, ada)} == set(cases.values())  # every PC
    before = case_row(store, cid)
    with pytest.raises(Forbidden, match="AUDITOR"):
        review.decide(store, cid, ada, WORKED, full_cdr=True)
    assert_denied(store, "ada", "mailer.decide", f"case:{cid}")
    with pytest.raises(Forbidden):
        review.associate(store, cid, ada, WORKED)
    assert_denied(store, "ada", "mailer.associate", f"case:{cid}")
    assert case_row(store, cid) == before


# ---- (4) every read of a case is logged ------------------------------------------------------------

def test_each_read_of_a_case_is_an_allowed_access_log_row(store: Store, cases: dict[int, str]) -> None:
    cid = cases[5]
    de = person(store, "dee", "DE", pc=5)
    reads: list[tuple[str, str, Callable[[], object]]] = [
            ("mailer.guide", "pc-staff-own-pc", lambda: review.guide(store, cid, de)),
            ("mailer.case.read", "pc-staff-own-pc", lambda: case_history(store, de, case_id=cid)),
            ("mailer.documents.export", "pc-staff-own-pc", lambda: document_payloads(store, cid, de))]
    for action, rule, read in reads:
        before = len(access_rows(store))
        read()
        new = access_rows(store)[before:]
        assert [(r["person"], r["role"], r["action"], r["resource"], r["outcome"], r["rule"]) for r in new] == [
            ("dee", "DE", action, f"case:{cid}", "ALLOWED", rule)], action
    # reading the same case again is logged again
    review.guide(store, cid, de)
    assert len(access_rows(store, person="dee", action="mailer.guide", resource=f"case:{cid}")) == 2


# ---- (5) the access log never holds an SSN -----------------------------------------------------------

def test_no_access_log_row_names_the_beneficiarys_ssn(store: Store, cases: dict[int, str]) -> None:
    cid = cases[5]
    de, flc, ada = person(store, "dee", "DE", pc=5), person(store, "flo", "FLC", pc=3), person(store, "ada", "AUDITOR")
    review.guide(store, cid, de)
    case_history(store, de, case_id=cid)
    document_payloads(store, cid, de)
    assert case_history(store, ada, ssn=SSN_5)["cases"][0]["case_id"] == cid  # a search by SSN
    with pytest.raises(NotFound):  # an SSN with no beneficiary (after the logged search)
        case_history(store, ada, ssn="423499999")
    reveal_ssn(store, ada, cid, reason="verifying the beneficiary on the telephone")
    with pytest.raises(Forbidden):
        case_history(store, flc, ssn=SSN_5)
    with pytest.raises(Forbidden):
        review.associate(store, cid, flc, WORKED)
    with pytest.raises(Forbidden):
        reveal_ssn(store, flc, cid, reason="curious")
    # a reason that holds the SSN is refused before anything is logged
    for typed in (SSN_5, f"{SSN_5[:3]}-{SSN_5[3:5]}-{SSN_5[5:]}"):
        with pytest.raises(InvalidInput) as err:
            reveal_ssn(store, ada, cid, reason=f"caller gave {typed}")
        assert err.value.field == "reason"

    rows = access_rows(store)
    assert {r["action"] for r in rows} >= {"mailer.guide", "mailer.case.read", "mailer.documents.export",
                                          "mailer.case.search", "ssn.reveal", "mailer.associate"}
    assert any(r["outcome"] == "DENIED" for r in rows)
    for r in rows:
        for ssn in (SSN_3, SSN_5, "423499999"):
            for col in ("resource", "reason", "person", "rule"):
                text = str(r[col] or "")
                assert ssn not in text and f"{ssn[:3]}-{ssn[3:5]}-{ssn[5:]}" not in text, (col, r)


# ---- (6) a disabled person's token is revoked ------------------------------------------------------

def test_a_disabled_persons_token_is_refused(store: Store) -> None:
    admin = person(store, "root-admin", "ADMIN")
    people.add(store, admin, name="flo", role="FLC", pc=3)
    token = people.issue_token(store, admin, "flo")
    me = people.authenticate(store, token=token)
    assert (me.name, me.role, me.pc, me.via) == ("flo", "FLC", 3, "token")
    assert people.disable(store, admin, "flo") == 1
    with pytest.raises(Unauthenticated, match="revoked"):
        people.authenticate(store, token=token)
    assert access_rows(store, action="authenticate", outcome="DENIED", rule="bad-token")
    with pytest.raises(Unauthenticated):  # the OS account does not stand in for a refused token
        people.authenticate(store, token=token, os_account="flo")
    with pytest.raises(Forbidden, match="not an active person"):  # nor does the bare name
        queue(store, Actor("flo", "FLC"))
    assert_denied(store, "flo", "mailer.queue.read")


# ---- (7) the first administrator ---------------------------------------------------------------------

def test_bootstrap_admin_makes_the_first_os_account_admin_only_once(store: Store) -> None:
    assert people.bootstrap_admin(store, "alice") == "alice"
    me = people.authenticate(store, os_account="alice")
    assert (me.name, me.role, me.via) == ("alice", "ADMIN", "os-account")
    assert people.bootstrap_admin(store, "bob") is None  # the DCF has an administrator now
    assert people.bootstrap_admin(store, "alice") is None
    with pytest.raises(Unauthenticated):
        people.authenticate(store, os_account="bob")
    admins = [p for p in people.listing(store, me) if p["role"] == "ADMIN"]
    assert [(p["name"], p["os_account"], p["active"]) for p in admins] == [("alice", "alice", True)]
    assert access_rows(store, person="alice", action="people.manage", resource="person:alice", outcome="ALLOWED")
    # the first administrator manages people but does not work cases
    people.add(store, me, name="bob", role="OPERATOR")
    with pytest.raises(Forbidden):
        queue(store, me)
    assert_denied(store, "alice", "mailer.queue.read")
