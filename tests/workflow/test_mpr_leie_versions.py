"""National data is national (PM 00215.001D.2, D.4.c; issue 12 item 7; interpretations §76).

Only the CO MPRT or the scheduled job (SYSTEM) replaces the national LEIE; an empty, all-rejected or
much smaller list than the one in force is refused unless confirmed with a reason; every list is kept,
so an earlier one can be restored. Run on SQLite and PostgreSQL (fixture ``store``).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from cdrflow.dcf import db
from cdrflow.dcf.schema import mpr_imports, mpr_leie, mpr_orgs, mpr_people, people
from cdrflow.dcf.store import Actor, Store
from cdrflow.kernel.errors import Forbidden
from cdrflow.workflow import mpr

from ..cli.runner import cli
from ..dbfixtures import assert_denied, owner_engine, store_url, token_for
from .test_mpr_registry import (
    ADMIN_OH,
    AS_OF,
    CMC_OH,
    EXAM_OH,
    FIXTURES,
    MPRO_OH,
    MPRO_PA,
    MPRT,
    PRC5,
    build_orgs,
    build_registry,
    by_ext,
    count,
)

SCHEDULER = Actor("scheduler", "SYSTEM")  # the scheduled job: a system principal of the people table
HEADER = ('"LASTNAME","FIRSTNAME","MIDNAME","BUSNAME","GENERAL","SPECIALTY","UPIN","NPI","DOB","ADDRESS","CITY",'
          '"STATE","ZIP","EXCLTYPE","EXCLDATE","REINDATE","WAIVERDATE","WVRSTATE"')


def _leie(path: Path, n: int, *, npi: str = "0000000000") -> Path:
    """An LEIE file of ``n`` entries (``npi="12345"``: every row rejected)."""
    rows = [f'"PERSON{i:05d}","ANN","","","IND- LIC HC SERV PRO","NURSE","","{npi}","19700101","1 A ST","DAYTON",'
            f'"OH","45402","1128a1","20190101","00000000","00000000",""' for i in range(n)]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _in_force(store: Store) -> int:
    return int(mpr.leie_history(store)[0]["import_id"])


def test_only_the_co_or_the_scheduled_job_replaces_the_national_list(store: Store) -> None:
    build_orgs(store)
    first = mpr.import_leie(store, MPRT, FIXTURES / "mpr_leie_v1.csv")
    for actor in (MPRO_OH, ADMIN_OH, CMC_OH, EXAM_OH, MPRO_PA, PRC5):
        with pytest.raises(Forbidden, match=r"national data.*PM 00215.001D.2"):
            mpr.import_leie(store, actor, FIXTURES / "mpr_leie_v2.csv")
        assert assert_denied(store, actor.name, "mpr.leie.replace", "leie:national")["role"] == actor.role
        with pytest.raises(Forbidden, match="national data"):
            mpr.restore_leie(store, actor, 1, reason="x")
        assert_denied(store, actor.name, "mpr.leie.replace", "leie_version:1")
    assert _in_force(store) == first.import_id and len(mpr.leie_history(store)) == 1
    second = mpr.import_leie(store, SCHEDULER, FIXTURES / "mpr_leie_v2.csv")
    assert _in_force(store) == second.import_id
    v = mpr.leie_history(store)[0]
    assert (v["action"], v["actor"], v["actor_role"], v["entries"], v["previous_entries"]) == \
        ("IMPORT", "scheduler", "SYSTEM", 5, 5)


def test_empty_all_rejected_or_much_smaller_lists_need_a_reason(store: Store, tmp_path: Path) -> None:
    build_orgs(store)
    assert mpr.leie_min_share(dt.date.today()) == 0.95
    base = mpr.import_leie(store, MPRT, _leie(tmp_path / "base.csv", 100))
    imports = count(store, mpr_imports)
    cases = {"empty": (_leie(tmp_path / "empty.csv", 0), "the file has no entries"),
             "rejected": (_leie(tmp_path / "bad.csv", 40, npi="12345"), "every one of its 40 rows was rejected"),
             "smaller": (_leie(tmp_path / "94.csv", 94), "94 accepted entries, 94.0% of the 100 in force")}
    for path, why in cases.values():
        with pytest.raises(mpr.LeieRefused, match=why) as refused:
            mpr.import_leie(store, MPRT, path)
        assert "--confirm-smaller --reason" in str(refused.value)
        assert _in_force(store) == base.import_id and count(store, mpr_imports) == imports  # nothing written
    with pytest.raises(mpr.MprError, match="needs --reason"):
        mpr.import_leie(store, MPRT, cases["smaller"][0], confirm_smaller=True, reason="  ")
    # the threshold itself passes without a confirmation
    at_share = mpr.import_leie(store, MPRT, _leie(tmp_path / "95.csv", 95))
    assert at_share.counts == {"stored": 95, "version": 2} and mpr.leie_history(store)[0]["confirmed_smaller"] is False
    # confirmed with a reason: stored, and the version says who, why and how much smaller
    ok = mpr.import_leie(store, MPRT, cases["empty"][0], confirm_smaller=True, reason="OIG withdrew the list")
    assert ok.counts == {"stored": 0, "version": 3, "confirmed_smaller": 1}
    v = mpr.leie_history(store)[0]
    assert (v["confirmed_smaller"], v["reason"], v["entries"], v["previous_entries"], v["actor"]) == \
        (True, "OIG withdrew the list", 0, 95, "mprt1")


def test_an_excluded_provider_stays_excluded_and_an_earlier_list_can_be_restored(store: Store, tmp_path: Path) -> None:
    """The issue's case: another state's officer replaced the list with an empty file and an OIG-excluded
    provider became eligible in the next check. Now that import is refused; and a mistake the CO confirmed
    is undone by restoring the earlier list."""
    build_registry(store)
    oh1 = by_ext(store)["OH-1"]["provider_id"]  # Quentin Zarrow: excluded, matched by NPI
    empty = _leie(tmp_path / "empty.csv", 0)
    with pytest.raises(Forbidden):
        mpr.import_leie(store, MPRO_PA, empty, confirm_smaller=True, reason="cleanup")
    assert_denied(store, "mpro_pa", "mpr.leie.replace", "leie:national")
    with pytest.raises(mpr.LeieRefused):
        mpr.import_leie(store, SCHEDULER, empty)
    mpr.check(store, MPRO_OH, "DDS-OH", AS_OF)
    assert by_ext(store)["OH-1"]["eligible"] is False

    mpr.import_leie(store, MPRT, empty, confirm_smaller=True, reason="mistaken download")
    later = AS_OF + dt.timedelta(days=1)
    mpr.check(store, MPRO_OH, "DDS-OH", later)
    assert by_ext(store)["OH-1"]["eligible"] is True  # what a confirmed empty list does
    history = mpr.leie_history(store)
    assert [v["version_id"] for v in history] == [2, 1] and history[1]["entries"] == 5
    with pytest.raises(mpr.MprError, match="--reason"):
        mpr.restore_leie(store, MPRT, 1, reason="")
    with pytest.raises(mpr.MprStateError, match="already in force"):
        mpr.restore_leie(store, MPRT, 2, reason="x")
    vid = mpr.restore_leie(store, MPRT, 1, reason="the empty list was a mistaken download")
    v = mpr.leie_history(store)[0]
    assert (v["version_id"], v["action"], v["import_id"], v["entries"], v["previous_entries"]) == \
        (vid, "RESTORE", history[1]["import_id"], 5, 0)
    mpr.check(store, MPRO_OH, "DDS-OH", later + dt.timedelta(days=1))
    assert by_ext(store)["OH-1"]["eligible"] is False
    flags = [f for f in mpr.flags(store, MPRO_OH, state=None) if f["provider_id"] == oh1]
    assert [f["to_eligible"] for f in flags] == [False, True, False]  # each change flagged for the MPRO


def test_the_lists_and_their_versions_are_append_only(store: Store) -> None:
    build_orgs(store)
    mpr.import_leie(store, MPRT, FIXTURES / "mpr_leie_v1.csv")
    owner = owner_engine(store)
    statements = ["UPDATE mpr_leie SET npi = NULL", "DELETE FROM mpr_leie",
                  "UPDATE mpr_leie_versions SET import_id = 99", "DELETE FROM mpr_leie_versions"]
    if owner.dialect.name == "sqlite":
        statements += ["INSERT OR REPLACE INTO mpr_leie_versions SELECT * FROM mpr_leie_versions",
                       "INSERT OR REPLACE INTO mpr_leie SELECT * FROM mpr_leie"]
    else:
        statements += ["TRUNCATE mpr_leie_versions", "TRUNCATE mpr_leie CASCADE"]
    for sql in statements:
        with pytest.raises(DBAPIError, match="append-only"), owner.begin() as conn:
            conn.execute(text(sql))
    assert count(store, mpr_leie) == 5 and len(mpr.leie_history(store)) == 1


def test_the_list_in_force_before_the_migration_becomes_version_1(store: Store) -> None:
    """A DCF whose LEIE was imported under 0005 (one list, replaced in place) keeps it in force after 0009; its
    M/PR people of 0005 (``mpr_people``) become people of the people table with their organisation (0010)."""
    owner = owner_engine(store)
    cfg = db.alembic_config(owner)
    parent = ScriptDirectory.from_config(cfg).get_revision("0009").down_revision
    assert isinstance(parent, str)
    with owner.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, parent)
    stamp = dt.datetime(2025, 2, 11, tzinfo=dt.UTC)
    with owner.begin() as conn:
        conn.execute(mpr_orgs.insert().values(org_id=1, level="CO", code="CO", name="ODD MPRT"))
        conn.execute(mpr_orgs.insert().values(org_id=2, level="RO", code="RO-05", name="Chicago", parent_id=1))
        conn.execute(mpr_orgs.insert().values(org_id=3, level="DDS", code="DDS-OH", name="Ohio", parent_id=2))
        conn.execute(mpr_people.insert().values(person_id=1, org_id=3, name="mpro_oh", role="MPRO", active=True))
        for iid in (1, 2):  # two imports; the second replaced the first's rows (0005)
            conn.execute(mpr_imports.insert().values(
                import_id=iid, kind="LEIE", file_name=f"UPDATED-{iid}.csv", file_sha256=f"{iid}" * 64,
                file_date=dt.date(2025, 2, iid), counts="{}", actor="mpro_oh", actor_role="MPRO", at=stamp))
        for n in range(3):
            conn.execute(mpr_leie.insert().values(import_id=2, row_no=n + 1, lastname=f"X{n}", excltype="1128a1",
                                                  excldate=dt.date(2019, 1, 1)))
    assert db.upgrade(owner) == db.head_revision(owner)
    (v,) = mpr.leie_history(store)
    assert (v["version_id"], v["import_id"], v["entries"], v["actor"], v["file_name"]) == \
        (1, 2, 3, "migration-0009", "UPDATED-2.csv")
    with store.read() as tx:
        assert tx.conn.execute(select(func.count()).select_from(mpr_leie)).scalar_one() == 3
        copied = tx.conn.execute(select(people.c.role, people.c.org, people.c.kind, people.c.active)
                                 .where(people.c.name == "mpro_oh")).one()
    assert tuple(copied) == ("MPRO", "DDS-OH", "PERSON", True)
    assert mpr.providers(store, MPRO_OH, dds="DDS-OH") == []  # the copied person acts in the one model


def test_leie_commands_through_the_cli(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cdrflow import cli_lifecycle

    monkeypatch.setattr(cli_lifecycle.out, "width", 250)  # table cells and error lines are not folded
    monkeypatch.setattr(cli_lifecycle.err, "width", 250)
    build_orgs(store)
    dbo = ["--db", store_url(store), "--rejects", str(tmp_path / "rejects.jsonl")]  # not beside the fixture
    hist = ["--db", store_url(store)]
    v1 = str(FIXTURES / "mpr_leie_v1.csv")
    mpro, mprt = token_for(store, "mpro_oh", "MPRO"), token_for(store, "mprt1", "MPRT")  # as the people signed in
    code, out = cli("mpr", "import", "leie", v1, *dbo, token=mpro)
    assert code == 4 and "error: forbidden" in out and "national data" in out, out
    assert_denied(store, "mpro_oh", "mpr.leie.replace", "leie:national")
    code, out = cli("mpr", "import", "leie", v1, "--file-date", "2025-02-10", *dbo, token=mprt)
    assert code == 0 and "stored 5" in out and "version 1" in out, out
    empty = str(_leie(tmp_path / "empty.csv", 0))
    code, out = cli("mpr", "import", "leie", empty, *dbo, token=mprt)
    assert code == 2 and "error: invalid_input" in out and "--confirm-smaller --reason" in out, out
    code, out = cli("mpr", "import", "leie", empty, "--confirm-smaller", "--reason", "OIG withdrew the list", *dbo,
                    token=mprt)
    assert code == 0 and "version 2" in out, out
    code, out = cli("mpr", "leie", "restore", "1", "--reason", "mistaken download", *hist, token=mprt)
    assert code == 0 and "version 1's list is in force again (version 3)" in out, out
    code, out = cli("mpr", "leie", "history", *hist, token=mpro)  # public data: any signed-in person
    assert code == 0, out
    for expected in ("RESTORE", "IMPORT (smaller, confirmed)", "OIG withdrew the list", "mistaken download",
                     "mprt1:MPRT", "mpr_leie_v1.csv"):
        assert expected in out, out
    code, out = cli("mpr", "leie", "history", "--json", *hist, token=mpro)
    assert code == 0 and [v["action"] for v in json.loads(out)] == ["RESTORE", "IMPORT", "IMPORT"], out
