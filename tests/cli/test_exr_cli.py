"""``cdrflow exr ...`` end to end through the CLI (Typer CliRunner), on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cdrflow.dcf import store as dcf_store
from cdrflow.dcf.store import Store

from ..dbfixtures import store
from .runner import cli
from .runner import store_url as _url

__all__ = ["store"]



@pytest.fixture(autouse=True)
def _setup() -> None:
    """A wide console, so that table cells are not folded."""
    from cdrflow import cli_lifecycle

    cli_lifecycle.out.width = 220
    assert "FO" in dcf_store.ROLES  # the field office opens EXR requests




SMITH = ["--ssn", "123450001", "--title", "T2", "--request-month", "2004-09", "--btm", "2003-11",
         "--filing-date", "2004-09-20", "--fo", "A12", "--cpd-impairment", "back problem",
         "--cpd-basis", "MEDICAL_VOCATIONAL", "--alleged", "back reinjured in an accident",
         "--sga", "2003-09,2003-10,2003-11", "--sga", "2003-12", "--sga", "2004-01,2004-02,2004-03,2004-05",
         "--non-sga", "2004-04,2004-06,2004-07,2004-08"]


def test_mr_smith_through_the_cli(store: Store, tmp_path: Path) -> None:
    db = _url(store)
    code, text = cli("exr", "open", *SMITH, "--as", "fran:FO", "--db", db)
    assert code == 0, text
    m = re.search(r"EXR case (\d+) opened", text)
    assert m is not None, text
    case = m.group(1)

    code, text = cli("exr", "same-or-related", case, "--yes", "--rationale", "same back", "--as", "jsmith:DE",
                     "--db", db)
    assert code == 2 and "C NOTE" in text, text  # before development is complete
    code, text = cli("exr", "mirs", case, "--month", "2004-09", "--as", "drlee:DC", "--db", db)
    assert code == 2 and "'same as or related' finding first" in text, text
    code, text = cli("exr", "determine", case, "--as-of", "2004-10-15", "--as", "jsmith:DE", "--db", db)
    assert code == 2 and "cannot be determined yet" in text, text

    code, text = cli("exr", "develop", case, "--note", "CE received", "--as", "jsmith:DE", "--db", db)
    assert code == 0 and "development complete" in text, text
    code, text = cli("exr", "same-or-related", case, "--yes", "--rationale", "same back", "--as", "jsmith:DE",
                     "--db", db)
    assert code == 0 and "same as or related" in text, text
    code, text = cli("exr", "mirs", case, "--month", "2004-04", "--mi-related", "--capable-of-sga",
                     "--as", "drlee:DC", "--db", db)
    assert code == 0 and "2004-04 NOT under a disability" in text, text
    code, text = cli("exr", "mirs", case, "--month", "2004-05", "--group-i", "--as", "drlee:DC", "--db", db)
    assert code == 2 and "capable_of_sga" in text, text
    code, text = cli("exr", "mirs", case, "--from", "2004-06", "--to", "2004-09", "--as", "drlee:DC", "--db", db)
    assert code == 0, text
    assert [ln.split()[3] for ln in text.splitlines() if "under a disability" in ln] == [
        "2004-06", "2004-07", "2004-08", "2004-09"]

    code, text = cli("exr", "determine", case, "--as-of", "2004-10-15", "--as", "jsmith:DE", "--db", db)
    assert code == 0, text
    assert "ENTITLED, MOE 2004-06 (DI 28057.015 TN 1 (02-06))" in text
    assert "possible retroactivity" in text

    code, text = cli("exr", "show", case, "--db", db)
    assert code == 0, text
    for needle in ("DEVELOPMENT_COMPLETE", "SAME_OR_RELATED", "jsmith:DE", "drlee:DC", "fran:FO", "ENTITLED"):
        assert needle in text, needle
    code, text = cli("exr", "show", case, "--json", "--db", db)
    assert code == 0, text
    view = json.loads(text)
    assert view["determination"]["moe"] == "2004-06"
    assert [f["step"] for f in view["findings"]][:3] == ["DEVELOPMENT_COMPLETE", "SAME_OR_RELATED", "MIRS"]

    sheet = tmp_path / "smith.html"
    code, text = cli("exr", "worksheet", case, "-o", str(sheet), "--db", db)
    assert code == 0, text
    page = sheet.read_text(encoding="utf-8")
    assert page.count("<tr data-month=") == 13 and 'data-month="2004-06" class="moe"' in page

    code, text = cli("exr", "list", "--db", db)
    assert code == 0 and "DETERMINED" in text and "2004-06" in text, text
    code, text = cli("exr", "list", "--state", "OPEN", "--db", db)
    assert code == 0 and "123450001" not in text, text


def test_ms_green_and_bad_input_exit_2(store: Store) -> None:
    db = _url(store)
    code, text = cli("exr", "open", "--ssn", "123450003", "--request-month", "2016-03", "--btm", "2014-09",
                     "--cpd-impairment", "thyroid cancer", "--cpd-listing", "13.09", "--alleged", "TBI",
                     "--as", "fran:FO", "--db", db)
    assert code == 2 and "--cpd-basis" in text  # a CPD's basis is stated, never assumed
    code, text = cli("exr", "open", "--ssn", "123450003", "--request-month", "2016-03", "--btm", "2014-09",
                     "--cpd-impairment", "thyroid cancer", "--cpd-basis", "LISTING", "--cpd-listing", "13.09",
                     "--alleged", "TBI", "--as", "fran:FO", "--db", db)
    assert code == 0, text
    case = re.search(r"EXR case (\d+) opened", text).group(1)  # type: ignore[union-attr]
    assert cli("exr", "develop", case, "--as", "jsmith:DE", "--db", db)[0] == 0
    code, text = cli("exr", "same-or-related", case, "--no", "--rationale", "TBI is not associated with thyroid "
                     "cancer", "--as", "jsmith:DE", "--db", db)
    assert code == 0 and "NOT same as or related" in text, text
    code, text = cli("exr", "mirs", case, "--month", "2016-03", "--as", "drlee:DC", "--db", db)
    assert code == 2 and "no medical improvement determination" in text, text
    code, text = cli("exr", "determine", case, "--as-of", "2016-05-02", "--as", "jsmith:DE", "--db", db)
    assert code == 0 and "DENIED" in text, text

    bad = [
        (("exr", "open", *SMITH[:-2], "--non-sga", "2004-13", "--as", "fran:FO"), "--non-sga"),
        (("exr", "open", *SMITH, "--ssn", "12", "--as", "fran:FO"), "ssn"),
        (("exr", "open", *SMITH, "--as", "jsmith:DE"), "may not open"),
        (("exr", "open", *SMITH, "--as", "nobody"), "NAME:ROLE"),
        (("exr", "mirs", case, "--as", "drlee:DC"), "--month"),
        (("exr", "mirs", "999", "--month", "2016-03", "--as", "drlee:DC"), "no EXR case 999"),
        (("exr", "determine", case, "--as-of", "2016-13-01", "--as", "jsmith:DE"), "--as-of"),
        (("exr", "show", "999"), "no EXR case 999"),
        (("exr", "list", "--state", "NOPE"), "state"),
    ]
    for args, needle in bad:
        code, text = cli(*args, "--db", db)
        assert code == 2 and needle in text, (args, text)


def test_unmigrated_database(tmp_path: Path) -> None:
    code, text = cli("exr", "list", "--db", f"sqlite:///{tmp_path}/empty.db")
    assert code == 2 and "cdrflow db upgrade" in text
