"""``cdrflow mpr ...`` end to end through the CLI (Typer CliRunner), on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cdrflow.dcf import store as dcf_store
from cdrflow.dcf.store import Store
from cdrflow.workflow import mpr

from ..dbfixtures import store
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
    sysadm = ["--as", "admin:SYSTEM"]
    for args in (["--level", "CO", "--code", "CO", "--name", "ODD MPRT"],
                 ["--level", "RO", "--code", "RO-05", "--name", "Chicago", "--parent", "CO"],
                 ["--level", "DDS", "--code", "DDS-OH", "--name", "Ohio", "--parent", "RO-05"],
                 ["--level", "DDS", "--code", "DDS-PA", "--name", "Pennsylvania", "--parent", "RO-05"]):
        code, text = cli("mpr", "org", "add", *args, *sysadm, *db)
        assert code == 0, text
    code, text = cli("mpr", "org", "add", "--level", "DDS", "--code", "DDS-X", "--name", "x", "--parent", "CO",
                     *sysadm, *db)
    assert code == 2 and "a DDS's parent is a RO" in text, text
    for org, name, role in (("DDS-OH", "mpro_oh", "MPRO"), ("DDS-PA", "mpro_pa", "MPRO"), ("RO-05", "prc5", "PRC"),
                            ("CO", "mprt1", "MPRT"), ("DDS-OH", "exam_oh", "EXAMINER")):
        code, text = cli("mpr", "person", "add", "--org", org, "--name", name, "--role", role, *sysadm, *db)
        assert code == 0, text
    oh, pa = ["--as", "mpro_oh:MPRO"], ["--as", "mpro_pa:MPRO"]

    code, text = cli("mpr", "import", "providers", str(FIXTURES / "mpr_providers_oh.csv"), *oh, *db)
    assert code == 0 and "read 10 = accepted 7 + rejected 3 (reconciled)" in text and "inserted 6" in text, text
    assert "row 8 (line 9): NPI" in text
    code, text = cli("mpr", "import", "roster", str(FIXTURES / "mpr_roster_oh.csv"), *oh, *db)
    assert code == 0 and "linked_npi 2" in text and "queued 1" in text, text
    code, text = cli("mpr", "check", "--dds", "DDS-OH", "--as-of", "2025-03-01", *oh, *db)
    assert code == 2 and "no LEIE imported" in text, text
    code, text = cli("mpr", "import", "leie", str(FIXTURES / "mpr_leie_v1.csv"), "--file-date", "2025-02-10",
                     "--as", "mprt1:MPRT", *db)
    assert code == 0 and "stored 5" in text, text

    code, text = cli("mpr", "check", "--dds", "DDS-OH", "--as-of", "2025-03-01", *pa, *db)
    assert code == 2 and "AccessDenied" in text and "a DDS acts on its own providers" in text, text
    code, text = cli("mpr", "check", "--dds", "DDS-OH", "--as-of", "2025-03-01", *oh, *db)
    assert code == 0 and "6 providers checked" in text and "queued for a person 1, flags 4" in text, text
    code, text = cli("mpr", "check", "--dds", "DDS-OH", "--as-of", "2025-03-01", *oh, *db)
    assert code == 0 and "new checks 0" in text and "flags 0" in text, text

    code, text = cli("mpr", "providers", *oh, *db)
    assert code == 0 and "Zarrow" in text and "NO" in text and "undecided" in text, text
    code, text = cli("mpr", "providers", *pa, *db)
    assert code == 0 and "Zarrow" not in text, text
    code, text = cli("mpr", "flag", "list", "--as", "prc5:PRC", *db)
    assert code == 0 and "Zarrow" in text and "MPRO mpro_oh" in text, text

    code, text = cli("mpr", "queue", "list", *oh, *db)
    assert code == 0 and "LEIE_MATCH" in text, text
    qid = re.search(r"│\s*(\d+)\s*│\s*DDS-OH\s*│\s*LEIE_MATCH", text)
    assert qid is not None, text
    code, text = cli("mpr", "queue", "decide", qid.group(1), "--dismiss", "--rationale", "different DOB", *oh, *db)
    assert code == 0 and "DISMISSED" in text, text
    code, text = cli("mpr", "check", "--dds", "DDS-OH", "--as-of", "2025-03-01", *oh, *db)
    assert code == 0 and "undecided 0" in text, text

    code, text = cli("mpr", "flag", "list", *oh, *db)
    fid = re.search(r"│\s*(\d+)\s*│\s*DDS-OH\s*│\s*Quentin L Zarrow", text)
    assert fid is not None, text
    code, text = cli("mpr", "flag", "done", fid.group(1), "--note", "x", "--as", "prc5:PRC", *db)
    assert code == 2 and "AccessDenied" in text, text
    code, text = cli("mpr", "flag", "done", fid.group(1), "--note", "removed from panel", "--deactivate", *oh, *db)
    assert code == 0 and "DONE" in text, text

    code, text = cli("mpr", "item", "open", "--org", "DDS-OH", "--kind", "ONSITE_VISIT", "--title", "annual visit",
                     "--owner", "exam_oh", "--opened", "2025-03-02", "--due", "2025-04-30", "--as", "exam_oh:EXAMINER",
                     *db)
    assert code == 0 and "PM 00215.001D.4.c" in text, text
    iid = re.search(r"item (\d+) opened", text)
    assert iid is not None
    code, text = cli("mpr", "item", "update", iid.group(1), "--findings", "exam room fine", "--version", "1", *oh, *db)
    assert code == 0 and "version 2" in text, text
    code, text = cli("mpr", "item", "close", iid.group(1), "--closed", "2025-03-20", "--outcome", "no action",
                     "--version", "1", *oh, *db)
    assert code == 2 and "ConflictError" in text, text
    code, text = cli("mpr", "item", "close", iid.group(1), "--closed", "2025-03-20", "--outcome", "no action", *oh,
                     *db)
    assert code == 0 and "CLOSED" in text, text
    code, text = cli("mpr", "item", "open", "--org", "RO-05", "--kind", "RO_RELAY", "--title", "relay", "--owner",
                     "prc5", "--opened", "2025-03-02", "--as", "mprt1:MPRT", *db)
    assert code == 2 and "only a PRC of RO-05" in text, text
    code, text = cli("mpr", "item", "list", "--as", "mprt1:MPRT", *db)
    assert code == 0 and "annual visit" in text and "no action" in text, text

    code, text = cli("mpr", "panel", "need", "--dds", "DDS-OH", "--specialty", "PSYCHOLOGY", "--area", "CENTRAL",
                     "--needed", "3", *oh, *db)
    assert code == 0, text
    code, text = cli("mpr", "panel", "gap", "--dds", "DDS-OH", "--as-of", "2025-03-01", "--as", "prc5:PRC", *db)
    assert code == 0 and re.search(r"PSYCHOLOGY\s*│\s*CENTRAL\s*│\s*3\s*│\s*2\s*│\s*1\s*│\s*2", text), text

    code, text = cli("mpr", "due", "--as-of", "2025-04-15", *db)
    assert code == 0 and "DDS-OH" in text, text
    code, text = cli("mpr", "due", "--as-of", "2025-04-15", "--run", *db)
    assert code == 0 and "DDS-OH on 2025-04-15" in text, text
    code, text = cli("mpr", "check", "--dds", "DDS-OH", "--as-of", "2025-03-01", "--as", "mpro_oh:CMC", *db)
    assert code == 2 and "is MPRO in the M/PR record, not CMC" in text, text

    # the RO's annual oversight report for DDS-OH, FY 2025, from the records above
    target = tmp_path / "oh-fy2025.html"
    code, text = cli("mpr", "report", "--dds", "DDS-OH", "--fy", "2025", "-o", str(target), "--as", "prc5:PRC", *db)
    assert code == 0 and "Annual oversight report" in text, text
    page = target.read_text(encoding="utf-8")
    assert "annual visit" in page and "exam room fine" in page and "<svg" in page
    code, text = cli("mpr", "report", "--dds", "DDS-OH", "--fy", "2025", "-o", str(target), "--as", "mpro_pa:MPRO",
                     *db)
    assert code == 2 and "may not read" in text, text
