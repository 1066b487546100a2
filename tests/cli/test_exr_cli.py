"""``cdrflow exr ...`` end to end through the CLI (Typer CliRunner), on SQLite and on PostgreSQL.

Each command acts as the person whose personal token is in ``CDRFLOW_TOKEN`` (never ``--as``): FO staff
with their office, DDS examiners and consultants with their DDS (:func:`tests.dbfixtures.token_for`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cdrflow.cli import app
from cdrflow.dcf import store as dcf_store
from cdrflow.dcf.schema import access_log
from cdrflow.dcf.store import Store

from ..dbfixtures import store, token_for
from .runner import cli, runner
from .runner import store_url as _url

__all__ = ["store"]


@pytest.fixture(autouse=True)
def _setup() -> None:
    """A wide console, so that table cells are not folded."""
    from cdrflow import cli_lifecycle

    cli_lifecycle.out.width = 220
    assert "FO" in dcf_store.ROLES  # the field office opens EXR requests


def tokens(st: Store) -> dict[str, str]:
    """Personal tokens of the people of these tests, by name."""
    return {"fran": token_for(st, "fran", "FO", org="FO-123"),  # FO claims representative, office FO-123
            "olga": token_for(st, "olga", "FO", org="FO-456"),  # another field office
            "jsmith": token_for(st, "jsmith", "DE", org="DDS-PA"),  # DDS disability examiner
            "drlee": token_for(st, "drlee", "DC", org="DDS-PA")}  # DDS consultant


def as_(token: str, *args: str) -> tuple[int, str]:
    """Run ``cdrflow ARGS`` as the person of ``token``; the exit code and everything it printed."""
    r = runner.invoke(app, list(args), env={"CDRFLOW_TOKEN": token})
    return r.exit_code, r.output


def _access(st: Store, name: str, action: str) -> list[dict[str, Any]]:
    with st.read() as tx:
        return [dict(r) for r in tx.conn.execute(select(access_log).where(
            access_log.c.person == name, access_log.c.action == action).order_by(access_log.c.log_id)).mappings()]


SMITH = ["--ssn", "123450001", "--title", "T2", "--request-month", "2004-09", "--btm", "2003-11",
         "--filing-date", "2004-09-20", "--fo", "A12", "--cpd-impairment", "back problem",
         "--cpd-basis", "MEDICAL_VOCATIONAL", "--alleged", "back reinjured in an accident",
         "--sga", "2003-09,2003-10,2003-11", "--sga", "2003-12", "--sga", "2004-01,2004-02,2004-03,2004-05",
         "--non-sga", "2004-04,2004-06,2004-07,2004-08"]


def test_mr_smith_through_the_cli(store: Store, tmp_path: Path) -> None:
    db = _url(store)
    t = tokens(store)
    code, text = as_(t["fran"], "exr", "open", *SMITH, "--db", db)
    assert code == 0, text
    m = re.search(r"EXR case (\d+) opened", text)
    assert m is not None, text
    case = m.group(1)
    assert "***-**-0001" in text and "123450001" not in text  # the SSN typed is not echoed in full

    code, text = as_(t["jsmith"], "exr", "same-or-related", case, "--yes", "--rationale", "same back", "--db", db)
    assert code == 2 and "C NOTE" in text and "invalid_state" in text, text  # before development is complete
    code, text = as_(t["drlee"], "exr", "mirs", case, "--month", "2004-09", "--db", db)
    assert code == 2 and "'same as or related' finding first" in text, text
    code, text = as_(t["jsmith"], "exr", "determine", case, "--as-of", "2004-10-15", "--db", db)
    assert code == 2 and "cannot be determined yet" in text, text

    code, text = as_(t["jsmith"], "exr", "develop", case, "--note", "CE received", "--db", db)
    assert code == 0 and "development complete" in text, text
    code, text = as_(t["jsmith"], "exr", "same-or-related", case, "--yes", "--rationale", "same back", "--db", db)
    assert code == 0 and "same as or related" in text, text
    code, text = as_(t["drlee"], "exr", "mirs", case, "--month", "2004-04", "--mi-related", "--capable-of-sga",
                     "--db", db)
    assert code == 0 and "2004-04 NOT under a disability" in text, text
    code, text = as_(t["drlee"], "exr", "mirs", case, "--month", "2004-05", "--group-i", "--db", db)
    assert code == 2 and "capable_of_sga" in text, text
    code, text = as_(t["drlee"], "exr", "mirs", case, "--from", "2004-06", "--to", "2004-09", "--db", db)
    assert code == 0, text
    assert [ln.split()[3] for ln in text.splitlines() if "under a disability" in ln] == [
        "2004-06", "2004-07", "2004-08", "2004-09"]

    code, text = as_(t["jsmith"], "exr", "determine", case, "--as-of", "2004-10-15", "--db", db)
    assert code == 0, text
    assert "ENTITLED, MOE 2004-06 (DI 28057.015 TN 1 (02-06))" in text
    assert "possible retroactivity" in text

    code, text = as_(t["fran"], "exr", "show", case, "--db", db)
    assert code == 0, text
    for needle in ("DEVELOPMENT_COMPLETE", "SAME_OR_RELATED", "jsmith:DE", "drlee:DC", "fran:FO", "ENTITLED",
                   "***-**-0001"):
        assert needle in text, needle
    assert "123450001" not in text and "123-45-0001" not in text
    code, text = as_(t["jsmith"], "exr", "show", case, "--json", "--db", db)
    assert code == 0, text
    view = json.loads(text)
    assert view["determination"]["moe"] == "2004-06"
    assert [f["step"] for f in view["findings"]][:3] == ["DEVELOPMENT_COMPLETE", "SAME_OR_RELATED", "MIRS"]
    assert view["case"]["ssn"] == "***-**-0001" and view["case"]["fo_office"] == "FO-123"
    code, text = as_(t["fran"], "exr", "show", case, "--json", "--reveal", "SSA-454 development", "--db", db)
    assert code == 0, text
    assert json.loads(text)["case"]["ssn"] == "123-45-0001"
    [reveal] = _access(store, "fran", "ssn.reveal")
    assert (reveal["outcome"], reveal["resource"], reveal["reason"]) == (
        "ALLOWED", f"exr_case:{case}", "SSA-454 development")

    sheet = tmp_path / "smith.html"
    code, text = as_(t["fran"], "exr", "worksheet", case, "-o", str(sheet), "--db", db)
    assert code == 0, text
    page = sheet.read_text(encoding="utf-8")
    assert page.count("<tr data-month=") == 13 and 'data-month="2004-06" class="moe"' in page
    assert "***-**-0001" in page and "123-45-0001" not in page

    code, text = as_(t["fran"], "exr", "list", "--db", db)
    assert code == 0 and "DETERMINED" in text and "2004-06" in text, text
    assert "***-**-0001" in text and "123450001" not in text and "FO-123" in text, text
    code, text = as_(t["fran"], "exr", "list", "--state", "OPEN", "--db", db)
    assert code == 0 and "123450001" not in text and "***-**-0001" not in text, text
    code, text = as_(t["jsmith"], "exr", "list", "--json", "--db", db)
    assert code == 0, text
    assert [(r["case_id"], r["ssn"], r["state"]) for r in json.loads(text)] == [
        (int(case), "***-**-0001", "DETERMINED")]


def test_another_office_is_refused_exit_4(store: Store, tmp_path: Path) -> None:
    """An FO of another office may not read, reveal or act on the case, nor see it listed; a DE may not open."""
    db = _url(store)
    t = tokens(store)
    code, text = as_(t["fran"], "exr", "open", *SMITH, "--dds", "DDS-PA", "--db", db)
    assert code == 0 and "routed to DDS-PA" in text, text
    case = re.search(r"EXR case (\d+) opened", text).group(1)  # type: ignore[union-attr]
    for args in (("exr", "show", case), ("exr", "show", case, "--reveal", "curious"),
                 ("exr", "return-to-work", case, "--sga", "2004-09"),
                 ("exr", "worksheet", case, "-o", str(tmp_path / "x.html"))):
        code, text = as_(t["olga"], *args, "--db", db)
        assert code == 4 and text.startswith("error: forbidden") and "belongs to FO-123" in text, (args, text)
    assert not (tmp_path / "x.html").exists()
    denied = _access(store, "olga", "exr.read") + _access(store, "olga", "exr.return_to_work")
    assert {(r["outcome"], r["resource"]) for r in denied} == {("DENIED", f"exr_case:{case}")}
    code, text = as_(t["olga"], "exr", "list", "--json", "--db", db)
    assert code == 0 and json.loads(text) == [], text
    code, text = as_(t["jsmith"], "exr", "open", *SMITH, "--db", db)
    assert code == 4 and "error: forbidden" in text and "may not open an EXR case" in text, text
    assert [r["outcome"] for r in _access(store, "jsmith", "exr.open")] == ["DENIED"]
    code, text = as_(t["jsmith"], "exr", "develop", case, "--db", db)  # routed to the examiner's DDS
    assert code == 0, text


def test_ms_green_and_bad_input_exit_2(store: Store) -> None:
    db = _url(store)
    t = tokens(store)
    code, text = as_(t["fran"], "exr", "open", "--ssn", "123450003", "--request-month", "2016-03", "--btm", "2014-09",
                     "--cpd-impairment", "thyroid cancer", "--cpd-listing", "13.09", "--alleged", "TBI", "--db", db)
    assert code == 2 and "--cpd-basis" in text  # a CPD's basis is stated, never assumed
    code, text = as_(t["fran"], "exr", "open", "--ssn", "123450003", "--request-month", "2016-03", "--btm", "2014-09",
                     "--cpd-impairment", "thyroid cancer", "--cpd-basis", "LISTING", "--cpd-listing", "13.09",
                     "--alleged", "TBI", "--db", db)
    assert code == 0, text
    case = re.search(r"EXR case (\d+) opened", text).group(1)  # type: ignore[union-attr]
    assert as_(t["jsmith"], "exr", "develop", case, "--db", db)[0] == 0
    code, text = as_(t["jsmith"], "exr", "same-or-related", case, "--no", "--rationale", "TBI is not associated with "
                     "thyroid cancer", "--db", db)
    assert code == 0 and "NOT same as or related" in text, text
    code, text = as_(t["drlee"], "exr", "mirs", case, "--month", "2016-03", "--db", db)
    assert code == 2 and "no medical improvement determination" in text, text
    code, text = as_(t["jsmith"], "exr", "determine", case, "--as-of", "2016-05-02", "--db", db)
    assert code == 0 and "DENIED" in text, text

    bad = [
        ("fran", ("exr", "open", *SMITH[:-2], "--non-sga", "2004-13"), "--non-sga"),
        ("fran", ("exr", "open", *SMITH, "--ssn", "12"), "ssn"),
        ("fran", ("exr", "open", *SMITH, "--dds", ""), "dds"),
        ("fran", ("exr", "open", *SMITH, "--as", "fran:FO"), "--as"),  # no identity on the command line
        ("drlee", ("exr", "mirs", case), "--month"),
        ("drlee", ("exr", "mirs", "999", "--month", "2016-03"), "no EXR case 999"),
        ("jsmith", ("exr", "determine", case, "--as-of", "2016-13-01"), "--as-of"),
        ("fran", ("exr", "show", "999"), "no EXR case 999"),
        ("fran", ("exr", "show", case, "--reveal", ""), "reason"),
        ("fran", ("exr", "list", "--state", "NOPE"), "state"),
    ]
    for who, args, needle in bad:
        code, text = as_(t[who], *args, "--db", db)
        assert code == 2 and needle in text, (args, text)
    code, text = as_("cdrf_not-a-token", "exr", "list", "--db", db)
    assert code == 4, text  # nobody the DCF knows


def test_unmigrated_database(tmp_path: Path) -> None:
    code, text = cli("exr", "list", "--db", f"sqlite:///{tmp_path}/empty.db")
    assert code == 2 and "cdrflow db upgrade" in text
