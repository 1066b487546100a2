"""Selection cycles on both backends: G.6 day counts and cadence, title labels, exclusions, print file."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cdrflow.dcf.schema import cycles, events
from cdrflow.dcf.store import Store, now
from cdrflow.documents import render
from cdrflow.engine.months import Month
from cdrflow.forms.scanlines import LAYOUTS
from cdrflow.policy.mailer import jurisdiction
from cdrflow.population.generate import generate
from cdrflow.simulate.lifecycle import DEMO_PC_TABLE
from cdrflow.workflow import common as c
from cdrflow.workflow import cycle
from cdrflow.workflow.cycle import run_cycle
from cdrflow.workflow.history import _plain, document_payloads
from cdrflow.workflow.intake import ingest

from ..dbfixtures import (
    all_cases,
    beneficiary_row,
    case_events,
    case_id_for,
    case_row,
    event_types,
    forget_cycles,
    insert_case,
    make_beneficiary,
    returned_mailer,
    seed_beneficiaries,
    staff_for,
    write_jsonl,
)

D = dt.date(2026, 1, 5)
DAY = dt.timedelta(days=1)


# ---- G.6 day counts ------------------------------------------------------------------------------

def test_second_request_after_more_than_90_days_then_nonresponder_after_more_than_150(store: Store) -> None:
    ssn = "223450001"
    seed_beneficiaries(store, [make_beneficiary(ssn, diary_month="2025-12")])
    cid = insert_case(store, ssn, sent_on=D)

    r = run_cycle(store, D + 90 * DAY)
    assert "T2" in r.groups
    assert r.counts["second_request"] == 0
    case = case_row(store, cid)
    assert case["request"] == "FIRST" and case["state"] == c.SENT
    assert "T2 SECOND MAILER SENT" not in event_types(store, cid)
    assert r.counts["first_mailer"] == 0  # the open case blocks another first mailer

    forget_cycles(store)
    s = D + 91 * DAY
    r = run_cycle(store, s)
    assert r.counts["second_request"] == 1
    case = case_row(store, cid)
    assert case["request"] == "SECOND"
    assert case["send_request_date"] == s
    assert case["last_event"] == "T2 SECOND MAILER SENT" and case["last_event_date"] == s
    assert case["state"] == c.SENT
    second = [e for e in case_events(store, cid) if e["event_type"] == "T2 SECOND MAILER SENT"]
    assert len(second) == 1 and second[0]["event_date"] == s
    assert json.loads(second[0]["detail"])["days"] == 91

    forget_cycles(store)
    r = run_cycle(store, s + 150 * DAY)
    assert r.counts["nonresponder"] == 0
    assert case_row(store, cid)["state"] == c.SENT
    assert "T2 NONRESPONDER REVIEW" not in event_types(store, cid)

    forget_cycles(store)
    r = run_cycle(store, s + 151 * DAY)
    assert r.counts["nonresponder"] == 1
    case = case_row(store, cid)
    assert case["state"] == c.NONRESPONDER
    assert case["review_stage"] == c.DIRCON
    assert case["last_event"] == "T2 NONRESPONDER REVIEW"
    nr = [e for e in case_events(store, cid) if e["event_type"] == "T2 NONRESPONDER REVIEW"]
    assert len(nr) == 1 and nr[0]["event_date"] == s + 151 * DAY
    assert event_types(store, cid).count("T2 SECOND MAILER SENT") == 1


def test_rerunning_a_cycle_adds_nothing(store: Store) -> None:
    ssn = "223450002"
    seed_beneficiaries(store, [make_beneficiary(ssn)])
    r1 = run_cycle(store, D)
    assert r1.counts["first_mailer"] == 1
    r2 = run_cycle(store, D)
    assert r2.groups == []
    assert "already ran" in r2.skipped_groups["T2"]
    assert event_types(store, case_id_for(store, D, ssn)) == ["T2 INITIAL MAILER SENT"]


# ---- opaque case ids (issue 13 item 8; interpretations §78) ----------------------------------------

OPAQUE_ID = re.compile(r"M20260105-[0-9ABCDEFGHJKMNPQRSTVWXYZ]{10}")


def test_case_ids_and_keys_name_no_ssn_and_the_print_file_has_it_on_scanline_1_only(
        store: Store, tmp_path: Path) -> None:
    ssns = [f"22345{i:04d}" for i in range(200, 206)]
    seed_beneficiaries(store, [make_beneficiary(s) for s in ssns])
    pf = tmp_path / "print.jsonl"
    run_cycle(store, D, print_file=pf)
    ssn_of = _ssn_of(store)
    assert sorted(ssn_of.values()) == ssns and all(OPAQUE_ID.fullmatch(cid) for cid in ssn_of)
    with store.read() as tx:
        keys = [k for (k,) in tx.conn.execute(select(events.c.idem_key))]
    assert keys and not [k for k in keys if any(s in (k or "") for s in ssns)]
    recs = _print_lines(pf)
    assert sorted(ssn_of[r["mailer_id"]] for r in recs) == ssns
    for rec in recs:  # B.8: scanline 1 field 1 is the SSN; nothing else in the record is
        ssn = ssn_of[rec["mailer_id"]]
        assert LAYOUTS[1].decode(rec["scanline1"])["ssn"] == ssn
        assert ssn not in json.dumps({k: v for k, v in rec.items() if k != "scanline1"})


def test_a_rerun_of_the_date_selects_no_one_twice_even_a_case_that_moved_on(store: Store) -> None:
    """A rerun after a crash skips whoever the DCF has a case for selected on that date, whatever its state."""
    ssn = "223450003"
    seed_beneficiaries(store, [make_beneficiary(ssn)])
    assert run_cycle(store, D).counts["first_mailer"] == 1
    cid = case_id_for(store, D, ssn)
    with store.tx() as tx:  # a state that no longer blocks a first mailer (the diary is still due)
        tx.update_case(cid, case_row(store, cid)["version"], state=c.DEFERRED)
    forget_cycles(store)  # as if the run of D had not finished
    r = run_cycle(store, D)
    assert r.groups and r.counts["first_mailer"] == 0
    assert list(all_cases(store)) == [cid]


def test_two_runs_of_one_date_at_once_select_each_beneficiary_once(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two operators rerun an unfinished date at the same moment: the date's lock makes the second wait for the
    first's chunk and then skip what it selected (the primary key did this when the id held the SSN)."""
    ssns = [f"22345{i:04d}" for i in range(300, 306)]
    seed_beneficiaries(store, [make_beneficiary(s) for s in ssns])
    with store.tx() as tx:  # a run of D that stopped before it selected anyone
        for g in ("T2", "T16"):
            tx.conn.execute(cycles.insert().values(cycle_id=f"{D}:{g}", as_of=D, started_at=now()))
    barrier = threading.Barrier(2, timeout=30)
    real = cycle._selected

    def both_at_once(tx: Any, on: dt.date, of: Any) -> set[str]:
        barrier.wait()  # both runs have read the same beneficiaries and are about to write
        return real(tx, on, of)

    monkeypatch.setattr(cycle, "_selected", both_at_once)
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(_attempt(store))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert all(isinstance(r, cycle.CycleResult) for r in results), results
    assert sorted(r.counts["first_mailer"] for r in results) == [0, 6]
    assert sorted(_ssn_of(store).values()) == ssns


def _attempt(store: Store) -> Any:
    try:
        return run_cycle(store, D)
    except Exception as exc:  # pragma: no cover - reported by the assertion
        return exc


def test_a_drawn_case_id_already_in_the_dcf_is_drawn_again(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_beneficiaries(store, [make_beneficiary("223450004"), make_beneficiary("223450005")])
    taken = insert_case(store, "223450004", sent_on=D)  # its open case keeps 223450004 from being selected
    draws = iter([taken, taken, "M20260105-0000000000"])
    monkeypatch.setattr(cycle, "new_case_id", lambda on: next(draws))
    assert run_cycle(store, D).counts["first_mailer"] == 1
    assert case_id_for(store, D, "223450005") == "M20260105-0000000000"


def test_new_case_ids_are_random() -> None:
    ids = {cycle.new_case_id(D) for _ in range(1000)}
    assert len(ids) == 1000 and all(OPAQUE_ID.fullmatch(i) for i in ids)


# ---- G.6 cadence ---------------------------------------------------------------------------------

def test_cadence_four_months_for_title_ii_six_for_title_xvi(store: Store) -> None:
    t2, t16 = "223450011", "223450012"
    seed_beneficiaries(store, [make_beneficiary(t2, diary_month="2025-12"),
                               make_beneficiary(t16, title="T16", servicing_pc=3, diary_month="2025-12",
                                                ssr_mr="7", ssi_diary_month="2025-12")])
    r = run_cycle(store, D)
    assert sorted(r.groups) == ["T16", "T2"]
    assert r.counts["first_mailer"] == 2
    t16_case = case_id_for(store, D, t16)
    assert event_types(store, t16_case) == ["T16 INITIAL MAILER SENT"]
    assert case_events(store, t16_case)[0]["code"] == "001"

    r = run_cycle(store, dt.date(2026, 4, 5))  # 3 months: neither group
    assert r.groups == []
    assert "G.6" in r.skipped_groups["T2"] and "G.6" in r.skipped_groups["T16"]

    r = run_cycle(store, dt.date(2026, 5, 5))  # 4 months: Title II only
    assert r.groups == ["T2"]
    assert "T16" in r.skipped_groups
    assert r.counts["second_request"] == 1
    assert "T2 SECOND MAILER SENT" in event_types(store, case_id_for(store, D, t2))
    assert case_row(store, t16_case)["request"] == "FIRST"

    r = run_cycle(store, dt.date(2026, 7, 5))  # T16: 6 months after its last run; T2: 2 months after
    assert r.groups == ["T16"]
    assert "T2" in r.skipped_groups
    assert r.counts["second_request"] == 1
    assert event_types(store, t16_case) == ["T16 INITIAL MAILER SENT", "T16 SECOND MAILER SENT"]

    r = run_cycle(store, dt.date(2026, 9, 1))  # T2: 4 months after 2026-05; T16 2 months after 2026-07
    assert r.groups == ["T2"]


def test_title_xvi_group_is_skipped_at_four_months(store: Store) -> None:
    seed_beneficiaries(store, [make_beneficiary("223450021", title="T16", servicing_pc=3)])
    assert run_cycle(store, D, titles=["T16"]).groups == ["T16"]
    r = run_cycle(store, dt.date(2026, 5, 5), titles=["T16"])
    assert r.groups == [] and "T16" in r.skipped_groups
    r = run_cycle(store, dt.date(2026, 6, 30), titles=["T16"])
    assert r.groups == []
    assert run_cycle(store, dt.date(2026, 7, 1), titles=["T16"]).groups == ["T16"]


# ---- labels --------------------------------------------------------------------------------------

def test_initial_mailer_labels_by_title(store: Store) -> None:
    rows = {"T2": "223450031", "T2/16": "223450032", "T16": "223450033"}
    seed_beneficiaries(store, [make_beneficiary(ssn, title=t, servicing_pc=7 if t != "T16" else 3)
                               for t, ssn in rows.items()])
    run_cycle(store, D)
    for title, ssn in rows.items():
        cid = case_id_for(store, D, ssn)
        assert event_types(store, cid) == [f"{title} INITIAL MAILER SENT"]
        assert case_row(store, cid)["title"] == title


def test_pc_followup_wording(store: Store, tmp_path: Path) -> None:
    """G.6: "T2 PC MAILER FOLLOW-UP", "T2/16 PC MAILER FOLLOW-UP", but "T16 PC REVIEW FOLLOW-UP"."""
    rows = {"T2": "223450041", "T2/16": "223450042", "T16": "223450043"}
    seed_beneficiaries(store, [make_beneficiary(ssn, title=t, servicing_pc=7 if t != "T16" else 3)
                               for t, ssn in rows.items()])
    run_cycle(store, D)
    f = write_jsonl(tmp_path / "returns.jsonl", [
        returned_mailer(case_id_for(store, D, ssn), ssn, title=t, q1a_worked="YES") for t, ssn in rows.items()])
    res = ingest(store, f, dt.date(2026, 2, 10))
    assert res.reconciles() and res.rejected == 0
    for t, ssn in rows.items():
        assert case_row(store, case_id_for(store, D, ssn))["state"] == c.PC_REVIEW, t
    run_cycle(store, dt.date(2026, 7, 6))
    expected = {"T2": "T2 PC MAILER FOLLOW-UP", "T2/16": "T2/16 PC MAILER FOLLOW-UP", "T16": "T16 PC REVIEW FOLLOW-UP"}
    for t, ssn in rows.items():
        cid = case_id_for(store, D, ssn)
        types = event_types(store, cid)
        assert types[-1] == expected[t], types
        assert f"{t} PC MAILER REVIEW" in types
        case = case_row(store, cid)
        assert case["state"] == c.PC_REVIEW and case["last_event"] == expected[t]


# ---- who gets a first mailer ---------------------------------------------------------------------

def test_first_mailer_exclusions(store: Store) -> None:
    people = {
        "due": make_beneficiary("223450051"),
        "pc8": make_beneficiary("223450052", servicing_pc=8),
        "foreign": make_beneficiary("223450053", servicing_pc=None, foreign_address=True, country="MX",
                                    state=None, zip=None, city="GUADALAJARA"),
        "high": make_beneficiary("223450054", profile="H"),
        "medium": make_beneficiary("223450055", profile="M"),
        "not_due": make_beneficiary("223450056", diary_month="2026-02"),
        "dead": make_beneficiary("223450057", date_of_death=dt.date(2025, 11, 1)),
        "past_due": make_beneficiary("223450058", diary_month="2024-07"),
    }
    seed_beneficiaries(store, list(people.values()))
    r = run_cycle(store, D)
    got = {cs["ssn"] for cs in all_cases(store).values()}
    assert got == {people["due"]["ssn"], people["past_due"]["ssn"]}
    assert r.counts["first_mailer"] == 2
    assert r.counts["excluded_pc8"] == 1  # the foreign address: PC-8 by the pc-jurisdiction calc (E.4.a)
    for cs in all_cases(store).values():
        assert cs["pc"] == 7 and cs["request"] == "FIRST" and cs["profile"] == "L"


def test_other_profiles_when_named(store: Store) -> None:
    seed_beneficiaries(store, [make_beneficiary("223450061", profile="M"), make_beneficiary("223450062", profile="H")])
    r = run_cycle(store, D, profiles=["L", "M"])
    assert r.counts["first_mailer"] == 1
    assert {cs["ssn"] for cs in all_cases(store).values()} == {"223450061"}


# ---- print file ----------------------------------------------------------------------------------

def _print_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _ssn_of(store: Store) -> dict[str, str]:
    """Case id -> SSN, from the DCF: a case id says nothing of its SSN (interpretations §78)."""
    return {cid: row["ssn"] for cid, row in all_cases(store).items()}


def test_print_file_scanlines(store: Store, tmp_path: Path) -> None:
    bens = {
        "223450071": make_beneficiary("223450071", title="T2", prior_cdr="CDR 2019 CONTINUED",
                                      diagnosis_secondary="2960"),
        "223450072": make_beneficiary("223450072", title="T2/16", language="SPANISH", servicing_pc=7,
                                      fo_city="San Juan", fo_state="PR", fo_zip="00901-1234", fo_doors="B34",
                                      dds="PR"),
        "223450073": make_beneficiary("223450073", title="T16", servicing_pc=3, od_calc_mdr="A"),
    }
    seed_beneficiaries(store, list(bens.values()))
    first = tmp_path / "print-1.jsonl"
    r = run_cycle(store, D, print_file=first)
    recs = _print_lines(first)
    assert len(recs) == r.print_records == r.counts["first_mailer"] == 3
    title_code = {"T2": "T2", "T2/16": "T2/16", "T16": "T16"}
    ssn_of = _ssn_of(store)
    for rec in recs:
        ssn = ssn_of[rec["mailer_id"]]
        ben = bens[ssn]
        l1 = LAYOUTS[1].decode(rec["scanline1"])
        l2 = LAYOUTS[2].decode(rec["scanline2"])
        l3 = LAYOUTS[3].decode(rec["scanline3"])
        assert l1["ssn"] == ssn
        assert l1["birth_year"] == 1970
        assert l2["sfic"].request == "FIRST"
        assert l2["sfic"].title == title_code[ben["title"]]
        assert l2["sfic"].non_english is (ben["language"] != "ENGLISH")
        assert l2["concurrent"] is (ben["title"] == "T2/16")
        assert l2["pc"] == ben["servicing_pc"]
        assert l2["profile"] == "L"
        assert l2["report_period"] == Month(2024, 1)
        assert l3["fo_state"] == ben["fo_state"]
        assert l3["fo_zip"] == ben["fo_zip"][:5]
        assert rec["request"] == "FIRST" and rec["title"] == ben["title"]
    by_ssn = {ssn_of[r["mailer_id"]]: r for r in recs}
    assert LAYOUTS[1].decode(by_ssn["223450071"]["scanline1"])["prior_cdr_year"] == 2019
    assert LAYOUTS[2].decode(by_ssn["223450073"]["scanline2"])["mdr"] == "A"
    assert LAYOUTS[3].decode(by_ssn["223450072"]["scanline3"])["fo_city"] == "SAN JUAN"

    second = tmp_path / "print-2.jsonl"
    r = run_cycle(store, dt.date(2026, 5, 5), print_file=second)  # T2 group only (cadence)
    recs = _print_lines(second)
    assert len(recs) == r.print_records == r.counts["second_request"] == 2
    for rec in recs:
        ssn = ssn_of[rec["mailer_id"]]
        l2 = LAYOUTS[2].decode(rec["scanline2"])
        assert LAYOUTS[1].decode(rec["scanline1"])["ssn"] == ssn
        assert l2["sfic"].request == "SECOND"
        assert l2["sfic"].title == bens[ssn]["title"]
        assert l2["pc"] == 7
        assert rec["request"] == "SECOND" and rec["send_request_date"] == "2026-05-05"
    assert {ssn_of[r["mailer_id"]] for r in recs} == {"223450071", "223450072"}


def test_one_print_record_per_mailer_in_chunks(store: Store, tmp_path: Path) -> None:
    seed_beneficiaries(store, [make_beneficiary(f"22345{i:04d}") for i in range(100, 100 + 7)])
    out = tmp_path / "print.jsonl"
    r = run_cycle(store, D, print_file=out, chunk_size=3)
    recs = _print_lines(out)
    assert len(recs) == 7 == r.counts["first_mailer"]
    assert len({rec["mailer_id"] for rec in recs}) == 7


# ---- jurisdiction basis: the label travels with the PC (E.4.a; interp. §14, §22) -----------------

CHART_LABEL = "GN 01704.910 (1985) public chart — partial, historical; not GN 01070.245"


def test_print_file_carries_each_pc_with_its_basis(store: Store, tmp_path: Path) -> None:
    bens = {
        "imported": make_beneficiary("223450081", title="T16", servicing_pc=3),
        "chart": make_beneficiary("270450082", title="T16", servicing_pc=None),  # 268-302: PC 4 in the 1985 chart
        "unknown": make_beneficiary("450450083", title="T16", servicing_pc=None),  # in no shipped range
        "pc7": make_beneficiary("460450084", title="T2", servicing_pc=None, birth_date=dt.date(1990, 5, 1)),
    }
    seed_beneficiaries(store, list(bens.values()))
    pf = tmp_path / "print.jsonl"
    r = run_cycle(store, D, print_file=pf)
    assert r.counts["first_mailer"] == 3 and r.counts["held_no_jurisdiction"] == 1
    assert r.counts["pc_by_public_chart"] == 1 and "pc_by_site_table" not in r.counts
    ssn_of = _ssn_of(store)
    recs = {ssn_of[rec["mailer_id"]]: rec for rec in _print_lines(pf)}
    assert bens["unknown"]["ssn"] not in recs  # held, not mailed with a guessed PC
    expected = {"imported": (3, c.IMPORTED_BASIS), "chart": (4, CHART_LABEL),
                "pc7": (7, "DI 40502.001E.4.a rule: disabled wage earner under 54")}
    for who, (pc, basis) in expected.items():
        rec = recs[bens[who]["ssn"]]
        assert (rec["pc"], rec["pc_basis"]) == (pc, basis), who
        assert LAYOUTS[2].decode(rec["scanline2"])["pc"] == pc  # scanline 2 field 7 agrees with the column
    detail = json.loads(case_events(store, case_id_for(store, D, bens["chart"]["ssn"]))[0]["detail"])
    assert (detail["pc"], detail["pc_source"], detail["pc_basis"]) == (4, "PUBLIC_CHART", CHART_LABEL)

    second = tmp_path / "print-2.jsonl"
    run_cycle(store, dt.date(2026, 5, 5), print_file=second)  # T2 only: the PC-7 case's second mailer
    (rec,) = _print_lines(second)
    assert rec["request"] == "SECOND" and (rec["pc"], rec["pc_basis"]) == expected["pc7"]


def test_a_site_table_releases_held_cases_with_its_own_label(store: Store, tmp_path: Path) -> None:
    ssn = "450450091"
    seed_beneficiaries(store, [make_beneficiary(ssn, title="T16", servicing_pc=None)])
    assert run_cycle(store, D).counts["held_no_jurisdiction"] == 1
    forget_cycles(store)
    site = jurisdiction.load_ssn_table(Path(__file__).parents[1] / "policy" / "fixtures" / "pc_ssn_test_table.yaml")
    pf = tmp_path / "print.jsonl"
    r = run_cycle(store, D, print_file=pf, pc_ssn_table=site)
    assert r.counts["first_mailer"] == 1 and r.counts["pc_by_site_table"] == 1 and not r.counts["held_no_jurisdiction"]
    (rec,) = _print_lines(pf)
    assert (rec["pc"], rec["pc_basis"]) == (4, "site table: test fixture (not GN 01070.245)")


def test_alert_sheet_shows_the_jurisdiction_basis(store: Store, tmp_path: Path) -> None:
    ssn = "270450101"
    seed_beneficiaries(store, [make_beneficiary(ssn, title="T16", servicing_pc=None)])
    run_cycle(store, D)
    cid = case_id_for(store, D, ssn)
    res = ingest(store, write_jsonl(tmp_path / "r.jsonl", [returned_mailer(cid, ssn, title="T16", q1a_worked="YES")]),
                 dt.date(2026, 2, 10))
    assert res.reconciles() and case_row(store, cid)["state"] == c.PC_REVIEW
    docs = dict(document_payloads(store, cid, staff_for(store, "DE", cid)))  # a reviewer at the case's PC
    assert docs["ALERT_SHEET"]["jurisdiction"] == {"pc": 4, "basis": CHART_LABEL}
    html = render("ALERT_SHEET", docs["ALERT_SHEET"])
    assert "Jurisdiction basis" in html and "GN 01704.910 (1985) public chart" in html and "partial, historical" in html


# ---- scanline 2 field 4: the profiling SCORE (B.8 "9999 is highest") -----------------------------

def test_printed_score_matches_the_profile_sheet_on_generated_rows(store: Store, tmp_path: Path) -> None:
    rows = generate(400, seed=11, as_of=dt.date(2026, 1, 1))
    seed_beneficiaries(store, rows)
    by_ssn = {r["ssn"]: r for r in rows}
    demo = jurisdiction.load_ssn_table(DEMO_PC_TABLE)  # the generated SSNs span 001-899: sort them all
    pf = tmp_path / "print.jsonl"
    run_cycle(store, dt.date(2027, 1, 5), print_file=pf, pc_ssn_table=demo)  # about half the diaries are due
    recs = _print_lines(pf)
    assert len(recs) > 100
    scores = []
    ssn_of = _ssn_of(store)
    for rec in recs:
        ben = by_ssn[ssn_of[rec["mailer_id"]]]
        printed = LAYOUTS[2].decode(rec["scanline2"])["score"]
        # The generator keeps 4 decimals, so the 4-digit SCORE is exactly the fraction x 10000.
        assert printed == round(ben["profile_score"] * 10000), (ben["profile_score"], rec["scanline2"])
        scores.append(printed)
    assert len(set(scores)) > 50 and min(scores) > 0
    for rec in recs[:5]:  # the profile sheet shows the same four digits as the scanline
        cid = rec["mailer_id"]
        ben = beneficiary_row(store, ssn_of[cid])
        html = render("PROFILE_SHEET", {"beneficiary": _plain(ben), "case": _plain(case_row(store, cid))})
        assert f'data-score="{rec["scanline2"][6:10]}"' in html
        assert f"score {rec['scanline2'][6:10]} of 9999" in html
