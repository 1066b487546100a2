"""Switching the site's PC table in one process never answers with the table used before (issue 13, item 6).

Two site tables give different PCs for the same area number (450: PC 2 in A, PC 5 in B). Used one after
the other in one process, each answer is the table's it was given, and no table at all is the public
chart's answer (450 is in no shipped range: unknown, the case held). Before the site table was an
explicit input, a module-global "loaded" table outlived the run that loaded it: a later run without
``--pc-ssn-table`` (or ``CDRFLOW_PC_SSN_TABLE``) still answered from it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from cdrflow.dcf import db
from cdrflow.dcf.store import Store
from cdrflow.policy.calcs import REGISTRY
from cdrflow.policy.mailer.jurisdiction import SsnTable, load_ssn_table
from cdrflow.workflow import common as c

from ..cli.runner import cli
from ..dbfixtures import make_beneficiary, seed_beneficiaries

SSN = "450450001"
ON = dt.date(2026, 2, 2)


@pytest.fixture
def tables(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, pc in (("a", 2), ("b", 5)):
        p = tmp_path / f"site-{name}.yaml"
        p.write_text(f'reference: "site {name.upper()}"\nranges:\n  - {{from: "400", to: "499", pc: {pc}}}\n',
                     encoding="utf-8")
        out[name] = p
    return out


def test_the_calc_takes_the_table_as_an_input(tables: dict[str, Path]) -> None:
    a, b = load_ssn_table(tables["a"]), load_ssn_table(tables["b"])
    inp = {"title": "T16", "ssn": SSN, "beneficiary_type": "OTHER"}
    run = REGISTRY["pc-jurisdiction"].run
    assert [run({**inp, "site_table": t} if t else inp)["pc"] for t in (a, b, None, a)] == [2, 5, None, 2]
    as_json = {"reference": "site B", "ranges": [{"from": "400", "to": "499", "pc": 5}]}  # the file's layout
    assert run({**inp, "site_table": as_json})["basis"] == "site table: site B"
    assert run(inp, {"site_table": a})["pc"] == 2  # the CLI's --pc-ssn-table: a default the payload may override
    assert run({**inp, "site_table": as_json}, {"site_table": a})["pc"] == 5


def test_the_memo_is_keyed_on_the_tables_content(tables: dict[str, Path], tmp_path: Path) -> None:
    ben = make_beneficiary(SSN, title="T16", servicing_pc=None)
    a, b = load_ssn_table(tables["a"]), load_ssn_table(tables["b"])
    seen = [c.jurisdiction(ben, ON, t)[:2] for t in (a, b, None, a, b)]
    assert seen == [(2, "SITE_TABLE"), (5, "SITE_TABLE"), (None, "UNKNOWN"), (2, "SITE_TABLE"), (5, "SITE_TABLE")]
    # the same content from another file is the same table (one memo entry); changed content is another one
    copy = tmp_path / "copy-of-a.yaml"
    copy.write_text(tables["a"].read_text(encoding="utf-8"), encoding="utf-8")
    same = load_ssn_table(copy)
    assert same == a and hash(same) == hash(a) and same.digest == a.digest and a.digest != b.digest
    tables["a"].write_text(tables["a"].read_text(encoding="utf-8").replace("pc: 2", "pc: 6"), encoding="utf-8")
    edited = load_ssn_table(tables["a"])
    assert edited != a and c.jurisdiction(ben, ON, edited)[:2] == (6, "SITE_TABLE")
    assert c.jurisdiction(ben, ON, a)[:2] == (2, "SITE_TABLE")
    assert isinstance(a, SsnTable)


def _calc(*args: str) -> dict[str, Any]:
    payload = json.dumps({"title": "T16", "ssn": SSN, "beneficiary_type": "OTHER"})
    code, text = cli("calc", "pc-jurisdiction", payload, *args)
    assert code == 0, text
    answer: dict[str, Any] = json.loads(text)
    return answer


def test_the_calc_answers_from_the_table_of_each_run(tables: dict[str, Path],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CDRFLOW_PC_SSN_TABLE", raising=False)
    seen = []
    for args in (["--pc-ssn-table", str(tables["a"])], ["--pc-ssn-table", str(tables["b"])], [],
                 ["--pc-ssn-table", str(tables["a"])]):
        ans = _calc(*args)
        seen.append((ans["pc"], ans["source"], ans["basis"]))
    assert seen == [(2, "SITE_TABLE", "site table: site A"), (5, "SITE_TABLE", "site table: site B"),
                    (None, "UNKNOWN", "unknown: area number 450 is not in the loaded tables"),
                    (2, "SITE_TABLE", "site table: site A")]
    monkeypatch.setenv("CDRFLOW_PC_SSN_TABLE", str(tables["b"]))
    assert _calc()["pc"] == 5
    assert _calc("--pc-ssn-table", str(tables["a"]))["pc"] == 2  # the option wins over the environment
    monkeypatch.delenv("CDRFLOW_PC_SSN_TABLE")
    assert _calc()["pc"] is None


def _fresh_store(path: Path) -> tuple[str, Store]:
    url = f"sqlite:///{path}"
    code, text = cli("db", "upgrade", "--db", url)  # as a site creates its DCF (its creator administers it)
    assert code == 0, text
    store = Store(db.make_engine(url))
    seed_beneficiaries(store, [make_beneficiary(SSN, title="T16", servicing_pc=None)])
    return url, store


def test_a_cycle_uses_the_table_of_its_own_run(tables: dict[str, Path], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CDRFLOW_PC_SSN_TABLE", raising=False)
    printed = []
    for i, args in enumerate((["--pc-ssn-table", str(tables["a"])], ["--pc-ssn-table", str(tables["b"])], [])):
        url, store = _fresh_store(tmp_path / f"dcf-{i}.db")
        pf = tmp_path / f"print-{i}.jsonl"
        try:
            code, text = cli("cycle", "--as-of", ON.isoformat(), "--print-file", str(pf), *args, "--db", url)
        finally:
            store.engine.dispose()
        assert code == 0, text
        recs = [json.loads(line) for line in pf.read_text().splitlines()]
        printed.append([(r["pc"], r["pc_basis"]) for r in recs])
    assert printed == [[(2, "site table: site A")], [(5, "site table: site B")], []]  # the last one is held
