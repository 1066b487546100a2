"""``cdrflow mpr ...`` end to end through the CLI (Typer CliRunner), on SQLite and on PostgreSQL.

Each command acts as the person whose personal token is in ``CDRFLOW_TOKEN`` (never ``--as``): an
administrator sets up the organisation and its people, M/PR people act within their level, and an
operator runs the scheduled checks as the ``scheduler``. A refusal is ``error: forbidden`` (exit 4) and a
DENIED row of the access log.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cdrflow.dcf import store as dcf_store
from cdrflow.dcf.store import Store
from cdrflow.workflow import mpr

from ..dbfixtures import access_rows, assert_denied, store, token_for
from .runner import cli
from .runner import store_url as _url

__all__ = ["store"]

FIXTURES = Path(__file__).parents[1] / "mpr" / "fixtures"


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide console, so that table cells are not folded."""
    from cdrflow import cli_lifecycle

    cli_lifecycle.out.width = 250
    monkeypatch.setattr(cli_lifecycle.err, "width", 250)
    assert set(mpr.ROLE_TEXT) <= set(dcf_store.ROLES)


def test_mpr_flow_through_the_cli(store: Store, tmp_path: Path) -> None:
    db = ["--db", _url(store)]
    admin = token_for(store, "admin", "ADMIN")
    for args in (["--level", "CO", "--code", "CO", "--name", "ODD MPRT"],
                 ["--level", "RO", "--code", "RO-05", "--name", "Chicago", "--parent", "CO"],
                 ["--level", "DDS", "--code", "DDS-OH", "--name", "Ohio", "--parent", "RO-05"],
                 ["--level", "DDS", "--code", "DDS-PA", "--name", "Pennsylvania", "--parent", "RO-05"]):
        code, text = cli("mpr", "org", "add", *args, *db, token=admin)
        assert code == 0, text
    code, text = cli("mpr", "org", "add", "--level", "DDS", "--code", "DDS-X", "--name", "x", "--parent", "CO",
                     *db, token=admin)
    assert code == 2 and "a DDS's parent is a RO" in text, text
    for org, name, role in (("DDS-OH", "mpro_oh", "MPRO"), ("DDS-PA", "mpro_pa", "MPRO"), ("RO-05", "prc5", "PRC"),
                            ("CO", "mprt1", "MPRT"), ("DDS-OH", "exam_oh", "EXAMINER")):
        code, text = cli("mpr", "person", "add", "--org", org, "--name", name, "--role", role, *db, token=admin)
        assert code == 0 and f"cdrflow people add {name} --role {role} --org {org}" in text, text
    code, text = cli("people", "add", "spy", "--role", "PRC", "--org", "DDS-OH", *db, token=admin)
    assert code == 2 and "PRC is a RO role" in text, text  # a role belongs to its level (A)
    t = {name: token_for(store, name, role) for name, role in (
        ("mpro_oh", "MPRO"), ("mpro_pa", "MPRO"), ("prc5", "PRC"), ("mprt1", "MPRT"), ("exam_oh", "EXAMINER"))}
    oh, pa = t["mpro_oh"], t["mpro_pa"]
    code, text = cli("mpr", "person", "add", "--org", "DDS-OH", "--name", "exam2", "--role", "EXAMINER", *db,
                     token=t["mpro_oh"])
    assert code == 4 and "error: forbidden" in text, text  # people are added by an administrator
    assert_denied(store, "mpro_oh", "people.manage", "person:exam2")
    code, text = cli("mpr", "org", "list", "--json", *db, token=oh)
    assert code == 0 and {o["code"]: o["parent"] for o in json.loads(text)}["DDS-PA"] == "RO-05", text

    code, text = cli("mpr", "import", "providers", str(FIXTURES / "mpr_providers_oh.csv"), *db, token=oh)
    assert code == 0 and "read 10 = accepted 7 + rejected 3 (reconciled)" in text and "inserted 6" in text, text
    assert "row 8 (line 9): NPI" in text
    code, text = cli("mpr", "import", "roster", str(FIXTURES / "mpr_roster_oh.csv"), *db, token=oh)
    assert code == 0 and "linked_npi 2" in text and "queued 1" in text, text
    code, text = cli("mpr", "check", "--dds", "DDS-OH", "--as-of", "2025-03-01", *db, token=oh)
    assert code == 2 and "error: invalid_state" in text and "no LEIE imported" in text, text
    code, text = cli("mpr", "import", "leie", str(FIXTURES / "mpr_leie_v1.csv"), "--file-date", "2025-02-10",
                     *db, token=t["mprt1"])
    assert code == 0 and "stored 5" in text, text

    code, text = cli("mpr", "check", "--dds", "DDS-OH", "--as-of", "2025-03-01", *db, token=pa)
    assert code == 4 and "error: forbidden" in text and "a DDS acts on its own providers" in text, text
    assert_denied(store, "mpro_pa", "mpr.registry.change", "mpr_check:DDS-OH@2025-03-01")
    code, text = cli("mpr", "check", "--dds", "DDS-OH", "--as-of", "2025-03-01", *db, token=oh)
    assert code == 0 and "6 providers checked" in text and "queued for a person 1, flags 4" in text, text
    code, text = cli("mpr", "check", "--dds", "DDS-OH", "--as-of", "2025-03-01", *db, token=oh)
    assert code == 0 and "new checks 0" in text and "flags 0" in text, text
    code, text = cli("mpr", "check", "--dds", "DDS-OH", "--as-of", "2025-03-01", "--as", "mpro_oh:CMC", *db,
                     token=oh)
    assert code == 2 and "--as" in text, text  # no identity is typed on the command line

    code, text = cli("mpr", "providers", *db, token=oh)
    assert code == 0 and "Zarrow" in text and "NO" in text and "undecided" in text, text
    code, text = cli("mpr", "providers", "--json", *db, token=oh)
    provs = {p["ext_id"]: p for p in json.loads(text)}
    assert code == 0 and provs["OH-1"]["eligible"] is False and provs["OH-2"]["eligible"] is True, text
    code, text = cli("mpr", "provider", str(provs["OH-1"]["provider_id"]), *db, token=t["prc5"])
    assert code == 0 and "Quentin L Zarrow" in text and "MD.0451221" in text and "ELIGIBILITY" in text, text
    code, text = cli("mpr", "provider", str(provs["OH-1"]["provider_id"]), "--json", *db, token=t["prc5"])
    assert code == 0 and json.loads(text)["ext_id"] == "OH-1", text
    code, text = cli("mpr", "provider", str(provs["OH-1"]["provider_id"]), *db, token=pa)
    assert code == 4 and "error: forbidden" in text and "may not see DDS-OH's records" in text, text
    assert_denied(store, "mpro_pa", "mpr.read", f"provider:{provs['OH-1']['provider_id']}")
    code, text = cli("mpr", "providers", *db, token=pa)
    assert code == 0 and "Zarrow" not in text, text
    code, text = cli("mpr", "providers", "--dds", "DDS-OH", *db, token=pa)
    assert code == 4 and "error: forbidden" in text, text
    assert_denied(store, "mpro_pa", "mpr.read", "providers:dds=DDS-OH")
    code, text = cli("mpr", "flag", "list", *db, token=t["prc5"])
    assert code == 0 and "Zarrow" in text and "MPRO mpro_oh" in text, text

    code, text = cli("mpr", "queue", "list", *db, token=oh)
    assert code == 0 and "LEIE_MATCH" in text, text
    code, text = cli("mpr", "queue", "list", "--json", *db, token=oh)
    qid = next(q["queue_id"] for q in json.loads(text) if q["kind"] == "LEIE_MATCH")
    code, text = cli("mpr", "queue", "decide", str(qid), "--dismiss", "--rationale", "different DOB", *db,
                     token=t["exam_oh"])
    assert code == 4 and "error: forbidden" in text, text  # an examiner does not decide the queue
    assert_denied(store, "exam_oh", "mpr.review.decide", f"review:{qid}")
    code, text = cli("mpr", "queue", "decide", str(qid), "--dismiss", "--rationale", "different DOB", *db, token=oh)
    assert code == 0 and "DISMISSED" in text, text
    code, text = cli("mpr", "check", "--dds", "DDS-OH", "--as-of", "2025-03-01", *db, token=oh)
    assert code == 0 and "undecided 0" in text, text

    code, text = cli("mpr", "flag", "list", *db, token=oh)
    fid = re.search(r"│\s*(\d+)\s*│\s*DDS-OH\s*│\s*Quentin L Zarrow", text)
    assert fid is not None, text
    code, text = cli("mpr", "flag", "list", "--json", *db, token=oh)
    assert code == 0 and int(fid.group(1)) in {f["flag_id"] for f in json.loads(text)}, text
    code, text = cli("mpr", "flag", "done", fid.group(1), "--note", "x", *db, token=t["prc5"])
    assert code == 4 and "error: forbidden" in text and "technical direction" in text, text
    assert_denied(store, "prc5", "mpr.flag.resolve", f"flag:{fid.group(1)}")
    code, text = cli("mpr", "flag", "done", fid.group(1), "--note", "removed from panel", "--deactivate", *db,
                     token=oh)
    assert code == 0 and "DONE" in text, text

    code, text = cli("mpr", "item", "open", "--org", "DDS-OH", "--kind", "ONSITE_VISIT", "--title", "annual visit",
                     "--owner", "exam_oh", "--opened", "2025-03-02", "--due", "2025-04-30", *db, token=t["exam_oh"])
    assert code == 0 and "PM 00215.001D.4.c" in text, text
    iid = re.search(r"item (\d+) opened", text)
    assert iid is not None
    code, text = cli("mpr", "item", "update", iid.group(1), "--findings", "exam room fine", "--version", "1", *db,
                     token=oh)
    assert code == 0 and "version 2" in text, text
    code, text = cli("mpr", "item", "close", iid.group(1), "--closed", "2025-03-20", "--outcome", "no action",
                     "--version", "1", *db, token=oh)
    assert code == 3 and "error: conflict" in text, text
    code, text = cli("mpr", "item", "close", iid.group(1), "--closed", "2025-03-20", "--outcome", "no action", *db,
                     token=oh)
    assert code == 0 and "CLOSED" in text, text
    code, text = cli("mpr", "item", "open", "--org", "RO-05", "--kind", "RO_RELAY", "--title", "relay", "--owner",
                     "prc5", "--opened", "2025-03-02", *db, token=t["mprt1"])
    assert code == 4 and "only a PRC of RO-05" in text, text
    assert_denied(store, "mprt1", "mpr.item.change", "item:new RO_RELAY")
    code, text = cli("mpr", "item", "open", "--org", "DDS-OH", "--kind", "RO_RELAY", "--title", "relay", "--owner",
                     "mpro_oh", "--opened", "2025-03-02", *db, token=oh)
    assert code == 2 and "error: invalid_input (kind)" in text and "is RO work" in text, text  # not a refusal
    code, text = cli("mpr", "item", "list", *db, token=t["mprt1"])
    assert code == 0 and "annual visit" in text and "no action" in text, text
    code, text = cli("mpr", "item", "list", "--json", *db, token=t["mprt1"])
    assert code == 0 and [i["outcome"] for i in json.loads(text)] == ["no action"], text
    code, text = cli("mpr", "item", "show", iid.group(1), "--json", *db, token=t["prc5"])
    assert code == 0 and json.loads(text)["findings"] == "exam room fine", text
    code, text = cli("mpr", "item", "show", iid.group(1), *db, token=pa)
    assert code == 4 and "error: forbidden" in text, text
    assert_denied(store, "mpro_pa", "mpr.read", f"item:{iid.group(1)}")

    code, text = cli("mpr", "panel", "need", "--dds", "DDS-OH", "--specialty", "PSYCHOLOGY", "--area", "CENTRAL",
                     "--needed", "3", *db, token=oh)
    assert code == 0, text
    code, text = cli("mpr", "panel", "gap", "--dds", "DDS-OH", "--as-of", "2025-03-01", *db, token=t["prc5"])
    assert code == 0 and re.search(r"PSYCHOLOGY\s*│\s*CENTRAL\s*│\s*3\s*│\s*2\s*│\s*1\s*│\s*2", text), text
    code, text = cli("mpr", "panel", "gap", "--dds", "DDS-OH", "--as-of", "2025-03-01", "--json", *db,
                     token=t["prc5"])
    assert code == 0 and json.loads(text)[0]["gap"] == 2, text

    # the schedule: an M/PR reader sees what is due in their scope; operations run it, as the scheduler
    ops = token_for(store, "ops", "OPERATOR")
    code, text = cli("mpr", "due", "--as-of", "2025-04-15", *db, token=oh)
    assert code == 0 and "DDS-OH" in text, text
    code, text = cli("mpr", "due", "--as-of", "2025-04-15", "--json", *db, token=pa)
    assert code == 0 and json.loads(text) == [], text  # DDS-PA has no providers; DDS-OH is not theirs
    code, text = cli("mpr", "check-due", "--as-of", "2025-04-15", *db, token=oh)
    assert code == 4 and "error: forbidden" in text, text
    assert_denied(store, "mpro_oh", "mpr.checks.run", "mpr_schedule:as_of=2025-04-15")
    code, text = cli("mpr", "due", "--as-of", "2025-04-15", "--run", *db, token=ops)
    assert code == 0 and "DDS-OH on 2025-04-15" in text, text
    code, text = cli("mpr", "check-due", "--as-of", "2025-06-01", *db, token=ops)
    assert code == 0 and "DDS-OH on 2025-06-01" in text and "as the scheduler, run by ops:OPERATOR" in text, text
    assert [r["resource"] for r in access_rows(store, person="scheduler", action="mpr.registry.change")] == \
        ["mpr_check:DDS-OH@2025-04-15", "mpr_check:DDS-OH@2025-06-01"]

    # the RO's annual oversight report for DDS-OH, FY 2025, from the records above
    target = tmp_path / "oh-fy2025.html"
    code, text = cli("mpr", "report", "--dds", "DDS-OH", "--fy", "2025", "-o", str(target), *db, token=t["prc5"])
    assert code == 0 and "Annual oversight report" in text, text
    page = target.read_text(encoding="utf-8")
    assert "annual visit" in page and "exam room fine" in page and "<svg" in page
    code, text = cli("mpr", "report", "--dds", "DDS-OH", "--fy", "2025", "-o", str(target), *db, token=pa)
    assert code == 4 and "error: forbidden" in text and "may not see DDS-OH's records" in text, text
    assert_denied(store, "mpro_pa", "mpr.read", "mpr_report:DDS-OH:FY2025:RO_OVERSIGHT")


def test_no_one_acts_without_signing_in(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a token (and an OS account that is no person of this DCF) every ``mpr`` command is refused."""
    from cdrflow.workflow import people

    monkeypatch.setattr(people, "os_account", lambda: "nobody-here")
    for args in (["providers"], ["org", "list"], ["flag", "list"], ["due", "--as-of", "2025-04-15"],
                 ["org", "add", "--level", "CO", "--code", "CO", "--name", "x"]):
        code, text = cli("mpr", *args, "--db", _url(store))
        assert code == 4 and "not a person of this DCF" in " ".join(text.split()), (args, text)
    assert mpr.orgs(store) == []
