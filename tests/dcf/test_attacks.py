"""Data statements against the guards (issue 12, item 1), on SQLite and PostgreSQL.

Each statement runs as raw SQL on a connection of its own, the way a person with access to the DCF
but no DDL would run it (SQLite: a plain connection with the store's pragmas off; PostgreSQL: the
schema owner, who has every table privilege, and the application role). Every one must be refused
*by a guard* (the error names the guard; a syntax error would not count) and leave every guarded
table exactly as it was. Afterwards the hash chains still verify.
"""

from __future__ import annotations

import re

import pytest

from cdrflow.dcf import chain
from cdrflow.dcf.store import Store

from .dcfworld import attacker_engines, build, refused, snapshot

CASE_COLS = ("case_id, ssn, title, profile, selected_on, request, send_request_date, report_period_start, state, "
             "last_event, last_event_date, remailed, outcome, integrity_selected, integrity_flipped, closed_on, "
             "version, updated_at")
CASE_VALUES = ("(:f, :sf, 'T2', 'L', :day, 'FIRST', :day, '2024-01', 'DEFERRED', 'T2 DEFER CDR', :day, false, "
               "'DEFER', false, false, :day, 9, :t)")
EV_COLS = "(case_id, ssn, event_date, event_type, code, actor, actor_role, recorded_at)"


def _defer_event(event_type: str, case: str = ":f", ssn: str = ":sf") -> str:
    return f"INSERT INTO events {EV_COLS} VALUES ({case}, {ssn}, :day, '{event_type}', 'IPCA 4', 'x', 'DE', :t)"


# (label, SQL). Parameters: World.params().
COMMON: list[tuple[str, str]] = [
    # the flipped case (G.7): every column the workflow reads
    ("state back to DEFERRED", "UPDATE cases SET state = 'DEFERRED' WHERE case_id = :f"),
    ("outcome to DEFER", "UPDATE cases SET outcome = 'DEFER' WHERE case_id = :f"),
    ("state and outcome, every case", "UPDATE cases SET state = 'DEFERRED', outcome = 'DEFER'"),
    ("flag cleared", "UPDATE cases SET integrity_flipped = false WHERE case_id = :f"),
    ("selection flag cleared", "UPDATE cases SET integrity_selected = false WHERE case_id = :f"),
    ("state SENT (mail again)", "UPDATE cases SET state = 'SENT' WHERE case_id = :f"),
    ("state REFERRAL_CLOSED (unblock selection)", "UPDATE cases SET state = 'REFERRAL_CLOSED' WHERE case_id = :f"),
    ("state lower case", "UPDATE cases SET state = 'do_cdr' WHERE case_id = :f"),
    ("outcome padded", "UPDATE cases SET outcome = 'DO_CDR ' WHERE case_id = :f"),
    ("outcome NULL", "UPDATE cases SET outcome = NULL WHERE case_id = :f"),
    ("review stage reopened", "UPDATE cases SET review_stage = 'DE' WHERE case_id = :f"),
    ("moved to another beneficiary", "UPDATE cases SET ssn = :sd WHERE case_id = :f"),
    ("title changed", "UPDATE cases SET title = 'T16' WHERE case_id = :f"),
    ("case id changed", "UPDATE cases SET case_id = 'M-OTHER' WHERE case_id = :f"),
    ("request changed", "UPDATE cases SET request = 'SECOND' WHERE case_id = :f"),
    ("send request date changed", "UPDATE cases SET send_request_date = :day WHERE case_id = :f"),
    ("remailed set", "UPDATE cases SET remailed = true WHERE case_id = :f"),
    ("selected_on changed", "UPDATE cases SET selected_on = :day WHERE case_id = :f"),
    ("report period changed", "UPDATE cases SET report_period_start = '2030-01' WHERE case_id = :f"),
    ("closed_on cleared", "UPDATE cases SET closed_on = NULL WHERE case_id = :f"),
    ("IPCA event 4 (DEFER CDR)", "UPDATE cases SET ipca_event = 4 WHERE case_id = :f"),
    ("last event DEFER CDR", "UPDATE cases SET last_event = 'T2 DEFER CDR' WHERE case_id = :f"),
    ("last event INITIAL MAILER SENT",
     "UPDATE cases SET last_event = 'T2 INITIAL MAILER SENT', last_event_date = :day WHERE case_id = :f"),
    ("delete the flipped case", "DELETE FROM cases WHERE case_id = :f"),
    ("delete every case", "DELETE FROM cases"),
    ("upsert the flipped case back to a deferral",
     f"INSERT INTO cases ({CASE_COLS}) VALUES {CASE_VALUES} ON CONFLICT (case_id) DO UPDATE SET "
     "state = excluded.state, outcome = excluded.outcome, integrity_flipped = excluded.integrity_flipped"),
    ("delete the flipped beneficiary", "DELETE FROM beneficiaries WHERE ssn = :sf"),
    ("change the flipped beneficiary's SSN", "UPDATE beneficiaries SET ssn = '999999999' WHERE ssn = :sf"),
    # events: DEFER for the flipped case, in every spelling, and with no case
    ("DEFER CDR event", _defer_event("T2 DEFER CDR")),
    ("DEFER CDR-VR REQUESTED event", _defer_event("T2 DEFER CDR-VR REQUESTED")),
    ("defer, lower case", _defer_event("t2 defer cdr")),
    ("defer, mixed case", _defer_event("T2 Defer CDR")),
    ("defer, leading space", _defer_event(" T2 DEFER CDR")),
    ("defer, trailing space", _defer_event("T2 DEFER CDR ")),
    ("defer, double space", _defer_event("T2  DEFER CDR")),
    ("defer, tab", _defer_event("T2\tDEFER CDR")),
    ("defer, Greek capital epsilon", _defer_event("T2 D\u0395FER CDR")),
    ("defer, other title label", _defer_event("T16 DEFER CDR")),
    ("defer, NULL case id", _defer_event("T2 DEFER CDR", case="NULL")),
    ("defer, NULL case id, lower case", _defer_event("t2 defer cdr", case="NULL")),
    ("defer, unknown case id", _defer_event("T2 DEFER CDR", case="'M-NOSUCHCASE'")),
    ("defer of another case under the flipped SSN", _defer_event("T2 DEFER CDR", case=":d")),
    ("medical diary reset (a deferral's effect)", _defer_event("T2 MEDICAL DIARY RESET")),
    ("initial mailer sent (the print file reads it)", _defer_event("T2 INITIAL MAILER SENT")),
    ("second mailer sent", _defer_event("T2 SECOND MAILER SENT")),
    ("PC review reopened", _defer_event("T2 PC MAILER REVIEW")),
    ("rewrite the integrity DO CDR event", "UPDATE events SET event_type = 'T2 DEFER CDR' WHERE event_id = :eid"),
    ("rewrite its detail", "UPDATE events SET detail = '{}' WHERE event_id = :eid"),
    ("delete the flipped case's events", "DELETE FROM events WHERE case_id = :f"),
    ("upsert over the integrity event (idem key)",
     f"INSERT INTO events {EV_COLS[:-1]}, idem_key) VALUES (:f, :sf, :day, 'T2 INITIATE CDR', 'IPCA 2', 'x', 'DE', "
     ":t, :ikey) ON CONFLICT (idem_key) DO UPDATE SET detail = '{}'"),
    ("upsert over the integrity event (event id)",
     f"INSERT INTO events (event_id, {EV_COLS[1:-1]}) VALUES (:eid, :f, :sf, :day, 'T2 INITIATE CDR', 'IPCA 2', "
     "'x', 'DE', :t) ON CONFLICT (event_id) DO UPDATE SET actor = 'someone else'"),
    # the other append-only records
    ("edit an EXR finding", "UPDATE exr_findings SET payload = '{}' WHERE finding_id = :fid"),
    ("delete the EXR findings", "DELETE FROM exr_findings"),
    ("upsert over an EXR finding",
     "INSERT INTO exr_findings (finding_id, case_id, step, payload, development_complete, case_version, actor, "
     "actor_role, at) SELECT finding_id, case_id, step, '{}', development_complete, case_version, actor, actor_role, "
     "at FROM exr_findings WHERE finding_id = :fid ON CONFLICT (finding_id) DO UPDATE SET payload = '{}'"),
    ("edit an M/PR check", "UPDATE mpr_checks SET eligible = false WHERE check_id = :cid"),
    ("delete the M/PR checks", "DELETE FROM mpr_checks"),
    ("upsert over an M/PR check",
     "INSERT INTO mpr_checks (provider_id, dds_org_id, as_of, kind, result, federal_sanction, eligible, idem_key, "
     "actor, actor_role, at) SELECT provider_id, dds_org_id, as_of, kind, result, true, false, idem_key, actor, "
     "actor_role, at FROM mpr_checks WHERE check_id = :cid ON CONFLICT (idem_key) DO UPDATE SET eligible = false"),
    # the vocabulary the guards read
    ("add a lower-case DEFER to the vocabulary",
     "INSERT INTO event_vocabulary (event_type, title, what, needs_case, after_flip) "
     "VALUES ('t2 defer cdr', 'T2', 'defer cdr', false, true)"),
    ("let DEFER follow a flip", "UPDATE event_vocabulary SET after_flip = true WHERE event_type = 'T2 DEFER CDR'"),
    ("empty the vocabulary", "DELETE FROM event_vocabulary"),
    # the hash chains
    ("rewind a chain head", "UPDATE dcf_chain SET seq = 0, head_hash = :g WHERE chain = 'events'"),
    ("forge a chain head", "UPDATE dcf_chain SET head_hash = 'ff' WHERE chain = 'events'"),
    ("remove a chain head", "DELETE FROM dcf_chain WHERE chain = 'events'"),
    ("add a chain head", "INSERT INTO dcf_chain (chain, seq, head_hash, updated_at) VALUES ('x', 0, :g, :t)"),
    ("rewrite a link", "UPDATE dcf_chain_links SET row_hash = :g"),
    ("remove the links", "DELETE FROM dcf_chain_links"),
]

SQLITE_ONLY: list[tuple[str, str]] = [
    ("INSERT OR REPLACE the flipped case", f"INSERT OR REPLACE INTO cases ({CASE_COLS}) VALUES {CASE_VALUES}"),
    ("REPLACE the flipped case", f"REPLACE INTO cases ({CASE_COLS}) VALUES {CASE_VALUES}"),
    ("UPDATE OR REPLACE a deferred case onto the flipped case's id",
     "UPDATE OR REPLACE cases SET case_id = :f WHERE case_id = :d"),
    ("REPLACE the integrity DO CDR event (same id)",
     f"REPLACE INTO events (event_id, {EV_COLS[1:-1]}) VALUES (:eid, :f, :sf, :day, 'T2 INITIATE CDR', 'IPCA 2', "
     "'someone', 'DE', :t)"),
    ("REPLACE the integrity DO CDR event (same idem key)",
     f"REPLACE INTO events {EV_COLS[:-1]}, idem_key) VALUES (:f, :sf, :day, 'T2 INITIATE CDR', 'IPCA 2', "
     "'someone', 'DE', :t, :ikey)"),
    ("INSERT OR REPLACE a DEFER over the integrity event",
     f"INSERT OR REPLACE INTO events (event_id, {EV_COLS[1:-1]}) VALUES (:eid, :f, :sf, :day, 'T2 DEFER CDR', "
     "'IPCA 4', 'someone', 'DE', :t)"),
    ("an event at id -1 (blocks later inserts)",
     f"INSERT INTO events (event_id, {EV_COLS[1:-1]}) VALUES (-1, :d, :sd, :day, 'T2 REMARK', NULL, 'x', 'DE', :t)"),
    ("REPLACE an EXR finding",
     "REPLACE INTO exr_findings (finding_id, case_id, step, payload, development_complete, case_version, actor, "
     "actor_role, at) SELECT finding_id, case_id, step, '{}', development_complete, case_version, actor, actor_role, "
     "at FROM exr_findings WHERE finding_id = :fid"),
    ("REPLACE an M/PR check (same id)",
     "REPLACE INTO mpr_checks (check_id, provider_id, dds_org_id, as_of, kind, result, federal_sanction, eligible, "
     "idem_key, actor, actor_role, at) SELECT check_id, provider_id, dds_org_id, as_of, kind, result, true, false, "
     "idem_key || 'x', actor, actor_role, at FROM mpr_checks WHERE check_id = :cid"),
    ("REPLACE an M/PR check (same idem key)",
     "REPLACE INTO mpr_checks (provider_id, dds_org_id, as_of, kind, result, federal_sanction, eligible, idem_key, "
     "actor, actor_role, at) SELECT provider_id, dds_org_id, as_of, kind, result, true, false, idem_key, actor, "
     "actor_role, at FROM mpr_checks WHERE check_id = :cid"),
    ("REPLACE the flipped beneficiary",
     "REPLACE INTO beneficiaries SELECT * FROM beneficiaries WHERE ssn = :sf"),
    ("UPDATE OR REPLACE another beneficiary onto the flipped SSN",
     "UPDATE OR REPLACE beneficiaries SET ssn = :sf WHERE ssn = :sd"),
    ("REPLACE a vocabulary row", "REPLACE INTO event_vocabulary (event_type, title, what, needs_case, after_flip) "
                                 "VALUES ('T2 DEFER CDR', 'T2', 'DEFER CDR', 0, 1)"),
    ("REPLACE a chain head", "REPLACE INTO dcf_chain (chain, seq, head_hash, updated_at) VALUES ('events', 0, :g, :t)"),
    ("REPLACE a link", "REPLACE INTO dcf_chain_links (chain, seq, row_id, prev_hash, row_hash) "
                       "VALUES ('events', 1, 1, :g, :g)"),
    ("UPDATE OR REPLACE a link", "UPDATE OR REPLACE dcf_chain_links SET seq = 1 WHERE chain = 'events' AND seq = 2"),
]

PG_ONLY: list[tuple[str, str]] = [
    *((f"TRUNCATE {t}", f"TRUNCATE {t}") for t in ("cases", "events", "exr_findings", "event_vocabulary",
                                                     "dcf_chain", "dcf_chain_links")),
    ("TRUNCATE mpr_checks CASCADE", "TRUNCATE mpr_checks CASCADE"),  # mpr_flags and the queue reference it
    ("TRUNCATE beneficiaries CASCADE", "TRUNCATE beneficiaries CASCADE"),
    ("TRUNCATE cases, events", "TRUNCATE cases, events"),
    ("MERGE the flipped case back to a deferral",
     "MERGE INTO cases c USING (SELECT CAST(:f AS text) AS id) s ON c.case_id = s.id "
     "WHEN MATCHED THEN UPDATE SET state = 'DEFERRED', outcome = 'DEFER'"),
    ("MERGE a rewrite of the integrity event",
     "MERGE INTO events e USING (SELECT CAST(:eid AS bigint) AS id) s ON e.event_id = s.id "
     "WHEN MATCHED THEN UPDATE SET event_type = 'T2 DEFER CDR'"),
    ("DEFER event, ILIKE-only spelling", _defer_event("T2 deFER cdr")),
]

GUARD_ERROR = re.compile(r"DCF guard|append-only|40502\.001G\.7")
PRIVILEGE_ERROR = re.compile(r"permission denied|must be owner")


def attacks(backend: str) -> list[tuple[str, str]]:
    return COMMON + (SQLITE_ONLY if backend == "sqlite" else PG_ONLY)


def test_attack_lists_have_their_counts() -> None:
    """The counts the report states (docs/architecture.md, "Guards"): per backend."""
    assert len(attacks("sqlite")) == len(COMMON) + len(SQLITE_ONLY) == 82
    assert len(attacks("postgresql")) == len(COMMON) + len(PG_ONLY) == 78
    assert len({label for label, _ in attacks("sqlite")}) == 82
    assert len({label for label, _ in attacks("postgresql")}) == 78


def test_every_data_statement_is_refused_and_changes_nothing(store: Store) -> None:
    world = build(store)
    params = world.params()
    before = snapshot(store)
    backend = store.engine.dialect.name
    accepted: list[str] = []
    wrong_reason: list[str] = []
    for who, engine in attacker_engines(store).items():
        for label, sql in attacks(backend):
            why = refused(engine, sql, params)
            if why is None:
                accepted.append(f"{who}: {label}")
            elif not GUARD_ERROR.search(why) and not (who == "application" and PRIVILEGE_ERROR.search(why)):
                wrong_reason.append(f"{who}: {label}: {why}")
            after = snapshot(store)
            assert after == before, f"{who}: {label}: the data changed"
    assert not accepted, "accepted:\n" + "\n".join(accepted)
    assert not wrong_reason, "refused, but not by a guard:\n" + "\n".join(wrong_reason)
    with store.read() as tx:
        report = chain.verify(tx.conn)
    assert report.ok, [p.line() for p in report.problems]


def test_the_guards_still_let_the_workflow_work(store: Store) -> None:
    """What a flipped case may still take (the FO referral, a disposal), and what any other case may do."""
    world = build(store)
    p = world.params()
    engine = next(iter(attacker_engines(store).values()))
    ok: list[tuple[str, str]] = [
        ("a document disposal on the flipped case", _defer_event("T2 DOCUMENT DISPOSAL")),
        ("closed_on moved", "UPDATE cases SET closed_on = :day WHERE case_id = :f"),
        ("the reviewer fields", "UPDATE cases SET alert_reviewer = 'DE/DEC/DC', policy_version = '{}', pc = 3 "
                                "WHERE case_id = :f"),
        ("the deferred case reopened", "UPDATE cases SET state = 'PC_REVIEW', outcome = NULL WHERE case_id = :d"),
        ("a DEFER CDR for the deferred case", _defer_event("T2 DEFER CDR", case=":d", ssn=":sd")),
        ("a beneficiary's diary pushed (population import)",
         "UPDATE beneficiaries SET diary_month = '2045-01' WHERE ssn = :sf"),
    ]
    for label, sql in ok:
        why = refused(engine, sql, p)
        assert why is None, f"{label}: {why}"


@pytest.mark.parametrize("spelling", ["t2 defer cdr", "T2 DEFER CDR ", " T2 DEFER CDR", "T2 defer CDR"])
def test_the_store_refuses_a_misspelt_deferral_too(store: Store, spelling: str) -> None:
    from cdrflow.dcf.store import DCDRS, GuardError, event

    world = build(store)
    before = snapshot(store)
    with pytest.raises(GuardError, match="vocabulary"), store.tx() as tx:
        tx.append([event(ssn="123450002", case_id=world.deferred, event_date=world.params()["day"],
                         event_type=spelling, actor=DCDRS, idem_key="misspelt")])
    assert snapshot(store) == before
