"""``cdrflow simulate returns``: a cycle's print file turned into returned mailers that intake takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cdrflow.dcf.store import Store
from cdrflow.simulate.returns import PrintFileError, print_file_cases

from ..dbfixtures import store, token_for
from .runner import cli
from .runner import store_url as _url

__all__ = ["store"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_cycle_print_file_simulated_returns_ingest(store: Store, tmp_path: Path) -> None:
    db = _url(store)
    ops = token_for(store, "ops1", "OPERATOR")
    code, text = cli("population", "import", str(EXAMPLES / "people.csv"), "--rejects", str(tmp_path / "rej.jsonl"),
                     "--db", db, token=ops)
    assert code == 0 and "rejected 0" in text, text
    pf = tmp_path / "print.jsonl"
    code, text = cli("cycle", "--as-of", "2026-02-02", "--pc-ssn-table", str(EXAMPLES / "pc.yaml"),
                     "--print-file", str(pf), "--db", db, token=ops)
    assert code == 0, text
    printed = [json.loads(line) for line in pf.read_text().splitlines()]
    assert len(printed) >= 10

    returns = tmp_path / "returns.jsonl"
    code, text = cli("simulate", "returns", str(pf), "-o", str(returns), "--seed", "3")
    assert code == 0, text
    got = [json.loads(line) for line in returns.read_text().splitlines()]
    assert f"{len(printed)} mailers in print.jsonl = returned " in text, text
    assert returns.stat().st_mode & 0o777 == 0o600  # the records carry SSNs
    by_id = {p["mailer_id"]: p for p in printed}
    assert got and {r["mailer_id"] for r in got} <= set(by_id)
    answered = [r for r in got if not r.get("undeliverable")]
    assert answered
    for r in answered:  # the print record's mailer, as its scanlines name it
        p = by_id[r["mailer_id"]]
        assert r["ssn"] == p["scanline1"][:9] and r["title"] == p["title"] and r["request"] == p["request"]
        assert r["profile"] == p["scanline2"][4]
    again = tmp_path / "again.jsonl"
    assert cli("simulate", "returns", str(pf), "-o", str(again), "--seed", "3")[0] == 0
    assert again.read_text() == returns.read_text()  # the same seed gives the same returns

    code, text = cli("ingest", str(returns), "--as-of", "2026-03-10", "--db", db, token=ops)
    assert code == 0, text
    assert f"read {len(got)} = processed {len(got)} + already ingested 0 + rejected 0" in text.replace(",", ""), text
    assert "reconciled" in text

    # --malformed: a share of the answers is made bad, so a newcomer can see the reject file.
    bad = tmp_path / "bad.jsonl"
    assert cli("simulate", "returns", str(pf), "-o", str(bad), "--malformed", "1")[0] == 0
    assert any(json.loads(line).get("q4_health") == "GREAT" for line in bad.read_text().splitlines())


def test_simulate_returns_refuses_what_is_not_a_print_file(tmp_path: Path) -> None:
    returns = tmp_path / "returns.jsonl"
    code, text = cli("simulate", "returns", str(tmp_path / "missing.jsonl"), "-o", str(returns))
    assert code == 2 and "no such file" in text, text
    pf = tmp_path / "print.jsonl"
    pf.write_text('{"mailer_id": "M1", "title": "T2"}\n')
    code, text = cli("simulate", "returns", str(pf), "-o", str(returns))
    assert code == 2 and "line 1: not a print file record: no request" in text and not returns.exists(), text
    code, text = cli("simulate", "returns", str(pf), "-o", str(pf))
    assert code == 2 and "would destroy the input" in text, text
    rec = {"mailer_id": "M1", "title": "T2", "request": "FIRST", "send_request_date": "2026-02-02",
           "scanline1": "x", "scanline2": "y", "scanline3": "z"}
    pf.write_text(json.dumps(rec) + "\n")
    with pytest.raises(PrintFileError, match="line 1: scanline 1"):
        list(print_file_cases(pf))
