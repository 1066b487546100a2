"""The lifecycle verbs end to end through the CLI, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from cdrflow.dcf.schema import cases, events
from cdrflow.dcf.store import Store
from cdrflow.simulate.lifecycle import DEMO_PC_TABLE
from cdrflow.simulate.returns import simulate_returns, write_returns

from ..dbfixtures import assert_denied, store, token_for
from .runner import cli
from .runner import store_url as _url

__all__ = ["store"]



@pytest.fixture(autouse=True)
def _wide_console() -> None:
    """A console wide enough that Rich does not wrap event names in the history table."""
    from cdrflow import cli_lifecycle

    cli_lifecycle.out.width = 220




def test_verbs_end_to_end(store: Store, tmp_path: Path) -> None:
    db = _url(store)
    ops = token_for(store, "ops1", "OPERATOR")  # operations run the jobs
    code, text = cli("population", "generate", "--count", "400", "--as-of", "2026-01-01", "--db", db, token=ops)
    assert code == 0, text
    assert "400" in text
    code, text = cli("population", "generate", "--count", "400", "--as-of", "2026-01-01", "--db", db, token=ops)
    assert code == 0 and "'unchanged': 400" in text, text  # importing the same rows again changes nothing

    pf = tmp_path / "print.jsonl"
    code, text = cli("cycle", "--as-of", "2026-02-02", "--pc-ssn-table", str(DEMO_PC_TABLE), "--print-file", str(pf),
                     "--db", db, token=ops)
    assert code == 0, text
    printed = [json.loads(line) for line in pf.read_text().splitlines()]
    assert printed and all(len(p["scanline2"]) == 31 for p in printed)

    with store.read() as tx:
        sent = [dict(r) for r in tx.conn.execute(select(cases)).mappings()]
    assert len(sent) == len(printed)
    returns = tmp_path / "returns.jsonl"
    write_returns(returns, simulate_returns(sent, seed=3))
    with returns.open("a") as fh:
        fh.write('{"mailer_id": "NOPE", "ssn": "123456789"}\n')
    code, text = cli("ingest", str(returns), "--as-of", "2026-03-10", "--db", db, token=ops)
    assert code == 0, text
    assert "reconciled" in text and "rejected 1" in text.replace(",", ""), text
    rejects = [json.loads(line) for line in (tmp_path / "returns.jsonl.rejects.jsonl").read_text().splitlines()]
    assert rejects[-1]["field"] == "mailer_id" and rejects[-1]["mailer_id"] == "NOPE"
    with store.read() as tx:
        n_events = len(tx.conn.execute(select(events.c.event_id)).all())
    code, text = cli("ingest", str(returns), "--as-of", "2026-03-10", "--db", db, token=ops)
    assert code == 0 and "processed 0" in text, text
    with store.read() as tx:
        assert len(tx.conn.execute(select(events.c.event_id)).all()) == n_events

    with store.read() as tx:
        pc = tx.conn.execute(select(cases.c.case_id, cases.c.ssn, cases.c.pc)
                             .where(cases.c.review_stage == "ASSOCIATE")).first()
    assert pc is not None, "the simulated returns should give at least one PSC MAILER alert"
    code, text = cli("review", "queue", "--db", db, token=token_for(store, "ada", "AUDITOR"))
    assert code == 0 and pc.case_id in text and pc.ssn not in text, text  # SSNs masked
    de = token_for(store, "bob", "DE", pc=pc.pc)
    code, text = cli("review", "associate", pc.case_id, "--db", db, token=de)
    assert code == 4 and "error: forbidden" in text and "DSE, FLC" in text, text
    assert_denied(store, "bob", "mailer.associate", f"case:{pc.case_id}")
    clerk = "ann:DSE" if pc.pc == 7 else "ann:FLC"  # E.4.b: DSE at PC-7, FLC at PCs 1-6
    code, text = cli("review", "associate", pc.case_id, "--on", "2026-03-12", "--db", db,
                     token=token_for(store, "ann", clerk.split(":")[1], pc=pc.pc))
    assert code == 0, text
    code, text = cli("review", "show", pc.case_id, "--db", db, token=de)
    assert code == 0 and "reviewer guide" in text, text

    code, text = cli("case", pc.case_id, "--db", db, token=de)
    assert code == 0, text
    for expected in ("INITIAL MAILER SENT", "MAILER RECEIVED", "PC MAILER REVIEW", "ACTUAL MAILER ASSOCIATED",
                     clerk, f"***-**-{pc.ssn[-4:]}"):
        assert expected in text
    assert pc.ssn not in text
    out = tmp_path / "case.html"
    code, text = cli("documents", pc.case_id, "--out", str(out), "--db", db, token=de)
    assert code == 0, text
    html = out.read_text()
    assert "PROFILE_SHEET" in html or "Profile" in html
    assert html.count('class="doc"') == 3  # alert sheet, facsimile, profile sheet (F.3, G.3)


def _pc_review_case(store: Store, tmp_path: Path, ssn: str, **answers: object) -> str:
    """One LOW beneficiary selected on 2026-01-05 and returned with ``answers``: a PC review case."""
    import datetime as dt

    from cdrflow.workflow.cycle import run_cycle
    from cdrflow.workflow.intake import ingest

    from ..dbfixtures import case_id_for, make_beneficiary, returned_mailer, seed_beneficiaries, write_jsonl

    on = dt.date(2026, 1, 5)
    seed_beneficiaries(store, [make_beneficiary(ssn, qmid_medical_blank=True, folder_location="MEGASITE",
                                                folder_date_in_location=dt.date(2021, 3, 2))])
    run_cycle(store, on)
    cid = case_id_for(store, on, ssn)
    res = ingest(store, write_jsonl(tmp_path / "r.jsonl", [returned_mailer(cid, ssn, **answers)]), dt.date(2026, 3, 10))
    assert res.counts["end:PC_REVIEW"] == 1, res.as_dict()
    return cid


def test_review_issue_11_passages_through_the_cli(store: Store, tmp_path: Path) -> None:
    """J.2.c WORK RESOLVED (with folder), J.2.d profile source, J.3.a REMARK, J.3.c notice returned, F.3 folder."""
    from ..dbfixtures import sample_integrity

    db = _url(store)
    cid = _pc_review_case(store, tmp_path, "423470001", q1a_worked="YES")
    dse, bet, de, mailroom = (token_for(store, name, role, pc=7) for name, role in  # the case is at PC 7
                              (("dana", "DSE"), ("bob", "BET"), ("jsmith", "DE"), ("mo", "MAILROOM")))
    assert cli("review", "associate", cid, "--on", "2026-04-01", "--db", db, token=dse)[0] == 0
    code, text = cli("review", "work", cid, "--year", "2025", "--amount", "500", "--resolved",
                     "--on", "2026-04-01", "--db", db, token=bet)
    assert code == 2 and "error: invalid_input (resolved): WORK RESOLVED" in text and "Traceback" not in text, text
    code, text = cli("review", "work", cid, "--year", "2025", "--amount", "500", "--folder",
                     "--resolved", "--on", "2026-04-01", "--db", db, token=bet)
    assert code == 0 and 'WORK_RESOLVED; annotate "WORK RESOLVED"; SSA-559 to the DE/DEC/DC prepared' in text, text

    code, text = cli("review", "show", cid, "--db", db, token=de)
    assert code == 0, text
    assert "profile (DI 40502.001J.2.d): Low from the mailer or facsimile (scanline 2, field 3)" in text
    assert "BET/DT annotation (DI 40502.001J.2.c): WORK RESOLVED" in text

    code, text = cli("review", "decide", cid, "--full-cdr", "--medical-remark", "x",
                     "--on", "2026-04-15", "--db", db, token=de)
    assert code == 2 and "medical_remark" in text, text
    sample_integrity(store, {cid: False})
    code, text = cli("review", "decide", cid, "--defer", "--medical-remark",
                     "seen monthly at the VA clinic", "--on", "2026-04-15", "--db", db, token=de)
    assert code == 0 and "IPCA 4 DEFER CDR recorded" in text, text

    code, text = cli("case", "--ssn-stdin", "--db", db, token=de, stdin="423470001\n")
    assert code == 0 and "T2 REMARK" in text and "MEDICAL DIARY RESET" not in text, text

    code, text = cli("review", "notice-undeliverable", cid, "--on", "2026-05-20", "--db", db, token=mailroom)
    assert code == 0 and "securely destroyed, not re-sent (J.3.c)" in text, text
    code, text = cli("review", "notice-undeliverable", cid, "--on", "2026-05-21", "--db", db, token=mailroom)
    assert code == 2 and "no further delivery attempts" in text, text
    code, text = cli("review", "undeliverable", cid, "--new-address",
                     '{"address_line": "1 NEW RD", "city": "MACON", "state": "GA", "zip": "31201", "country": "US"}',
                     "--db", db, token=mailroom)
    assert code == 2 and "not re-sent" in text, text

    out = tmp_path / "case.html"
    assert cli("documents", cid, "--out", str(out), "--db", db, token=de)[0] == 0
    html = out.read_text()
    assert "Folder data (PCACS)" in html and "folder location MEGASITE, in location since March 2, 2021" in html
    assert 'data-kind="SSA_559"' in html and "medical diary not reset" in html


def test_bad_database_url_and_unmigrated_database(tmp_path: Path) -> None:
    code, text = cli("review", "queue", "--db", "mysql://x@localhost/db")
    assert code == 2 and "--db" in text
    code, text = cli("review", "queue", "--db", f"sqlite:///{tmp_path}/empty.db")
    assert code == 2 and "cdrflow db upgrade" in text
    code, text = cli("db", "upgrade", "--db", f"sqlite:///{tmp_path}/empty.db")
    from cdrflow.dcf.db import head_revision, make_engine

    assert code == 0 and head_revision(make_engine(f"sqlite:///{tmp_path}/empty.db")) in text


@pytest.mark.parametrize("as_", ["nobody", "x:WIZARD", "jsmith:DE"])
def test_a_typed_identity_is_no_identity(as_: str, tmp_path: Path) -> None:
    """Nothing typed on the command line is an identity: ``--as`` is no option; the caller is who their token,
    else their OS account, proves them to be."""
    db = f"sqlite:///{tmp_path}/d.db"
    assert cli("db", "upgrade", "--db", db)[0] == 0  # the OS account that created the DCF is its first ADMIN
    code, text = cli("review", "decide", "M1", "--as", as_, "--defer", "--db", db)
    assert code == 2 and "No such option: --as" in text, text
    code, text = cli("whoami", "--db", db)
    assert code == 0 and ": ADMIN (" in text and "signed in by os-account" in text, text
    code, text = cli("whoami", "--db", db, token="cdrf_" + "x" * 43)
    assert code == 4 and "the token is unknown" in text, text


def test_demo_runs_the_lifecycle_and_writes_the_report(tmp_path: Path) -> None:
    code, text = cli("demo", "--count", "1500", "--months", "6", "--out", str(tmp_path))
    assert code == 0, text
    assert (tmp_path / "report.html").read_text().count("<svg") >= 5
    assert "reconciled" in text
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    names = [f["name"] for f in metrics["figures"]]
    assert any("PC review" in n for n in names) and any("Integrity" in n for n in names)
    sent = next(b for b in metrics["flow"] if b["id"] == "sent")
    assert sent["total"]["count"] > 0 and sum(p["count"] for p in sent["parts"]) == sent["total"]["count"]


def test_demo_figures_count_nonresponder_referrals(tmp_path: Path) -> None:
    """The DO CDR figure of B.3 leaves out nonresponder referrals (I), so the demo must find them."""
    code, text = cli("demo", "--count", "3000", "--months", "18", "--out", str(tmp_path))
    assert code == 0, text
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    flow = {b["id"]: b for b in metrics["flow"]}
    assert flow["nonresponders"]["total"]["count"] > 0
    nonresponder_docdr = next(p for p in flow["docdr"]["parts"] if p["label"].startswith("nonresponders"))
    assert nonresponder_docdr["count"] > 0
    b3 = next(f for f in metrics["figures"] if f["cite"] == "DI 40502.001B.3")
    assert b3["denominator"]["count"] == flow["completed"]["total"]["count"]  # nonresponder referrals not in it


def test_what_a_reviewer_reads_has_the_ssn_masked_unless_revealed_with_a_logged_reason(store: Store,
                                                                                        tmp_path: Path) -> None:
    """`review show`, `case` and `documents` show ***-**-NNNN (scanlines too); `--reveal REASON` shows the SSN and
    the access log holds the reveal with its reason, never the number (issue 13 item 4)."""
    from cdrflow.dcf.schema import access_log

    ssn, dashed = "423470001", "423-47-0001"
    db = _url(store)
    cid = _pc_review_case(store, tmp_path, ssn, q1a_worked="YES")
    de = token_for(store, "dee", "DE", pc=7)
    for args in (("review", "show", cid), ("review", "show", cid, "--json"), ("case", cid), ("case", cid, "--json")):
        code, text = cli(*args, "--db", db, token=de)
        assert code == 0, text
        assert ssn not in text and dashed not in text and "***-**-0001" in text, (args, text)
    masked, shown = tmp_path / "m.html", tmp_path / "r.html"
    assert cli("documents", cid, "-o", str(masked), "--db", db, token=de)[0] == 0
    page = masked.read_text()
    assert ssn not in page and dashed not in page and "***-**-0001" in page and "*****0001" in page
    code, text = cli("documents", cid, "-o", str(shown), "--reveal", "checking the claim number", "--db", db, token=de)
    assert code == 0 and dashed in shown.read_text(), text
    code, text = cli("case", cid, "--reveal", "caller verified by phone", "--db", db, token=de)
    assert code == 0 and dashed in text, text
    with store.read() as tx:
        rows = tx.conn.execute(select(access_log.c.action, access_log.c.resource, access_log.c.reason)
                               .where(access_log.c.action == "ssn.reveal")).all()
        every = tx.conn.execute(select(access_log.c.resource, access_log.c.reason)).all()
    assert {(a, r, why) for a, r, why in rows} == {("ssn.reveal", f"case:{cid}", "checking the claim number"),
                                                  ("ssn.reveal", f"case:{cid}", "caller verified by phone")}
    assert not any(ssn in f"{r} {why}" for r, why in every)
    # a clerk of another PC may not reveal it, and the refusal is logged
    flc = token_for(store, "flc3", "FLC", pc=3)
    code, text = cli("case", cid, "--reveal", "curious", "--db", db, token=flc)
    assert code == 4 and ssn not in text, text
    assert_denied(store, "flc3", "mailer.case.read", f"case:{cid}")
