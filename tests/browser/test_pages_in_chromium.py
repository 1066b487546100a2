"""The pages people open, rendered in real Chromium: the EXR worksheet and the RO's annual M/PR report.

Each page is made the way a user makes it (the ``cdrflow`` commands of the README, on a fresh
SQLite database), opened in Debian's Chromium through Playwright, checked as the browser lays it
out (rows, the MOE row, charts with a size, no console errors) and printed to PDF. ``make test``
installs Chromium when the machine lacks it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CLI = [sys.executable, "-m", "cdrflow.cli"]
FIXTURES = Path(__file__).parents[1] / "mpr" / "fixtures"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Chromium is missing: `make test` installs Debian's chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def cdrflow(db: str, *args: str, token: str | None = None) -> str:
    """Run ``cdrflow ARGS --db DB``, as the person of ``token`` (``CDRFLOW_TOKEN``) when given."""
    env = {**os.environ, "CDRFLOW_TOKEN": token} if token is not None else None
    p = subprocess.run([*CLI, *args, "--db", db], capture_output=True, text=True, timeout=120, check=False, env=env)
    assert p.returncode == 0, f"{args}: {p.stdout}\n{p.stderr}"
    return p.stdout


def people(db: str, *who: tuple[str, str, str | None]) -> dict[str, str]:
    """Personal tokens, by name, for people (name, role, office or DDS) added to the database at ``db``."""
    from cdrflow.dcf.db import make_engine
    from cdrflow.dcf.store import Store

    from ..dbfixtures import token_for

    engine = make_engine(db)
    try:
        st = Store(engine)
        return {name: token_for(st, name, role, org=org) for name, role, org in who}
    finally:
        engine.dispose()


def open_page(browser: Any, path: Path) -> tuple[Any, list[str]]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.resolve().as_uri())
    return page, errors


def test_exr_worksheet_in_chromium(browser: Any, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/exr.db"
    cdrflow(db, "db", "upgrade")
    t = people(db, ("fran", "FO", "FO-123"), ("jo", "DE", "DDS-PA"), ("dr", "DC", "DDS-PA"))
    cdrflow(db, "exr", "open", "--ssn", "123456789", "--request-month", "2004-09",
            "--btm", "2003-11", "--cpd-impairment", "back disorder", "--cpd-basis", "LISTING",
            "--alleged", "back reinjured", "--sga", "2003-09,2003-10,2003-11,2003-12,2004-01,2004-02,2004-03,2004-05",
            token=t["fran"])
    cdrflow(db, "exr", "develop", "1", token=t["jo"])
    cdrflow(db, "exr", "same-or-related", "1", "--yes", "--rationale", "same back", token=t["jo"])
    cdrflow(db, "exr", "mirs", "1", "--month", "2004-04", "--mi-related", "--capable-of-sga", token=t["dr"])
    cdrflow(db, "exr", "mirs", "1", "--from", "2004-06", "--to", "2004-09", token=t["dr"])
    cdrflow(db, "exr", "determine", "1", "--as-of", "2004-10-15", token=t["jo"])
    out = tmp_path / "worksheet.html"
    cdrflow(db, "exr", "worksheet", "1", "-o", str(out), token=t["fran"])

    page, errors = open_page(browser, out)
    rows = page.locator("tr[data-month]")
    assert rows.count() == 13  # 2003-09 .. 2004-09: the 12-month window and the request month
    moe = page.locator("tr.moe")
    assert moe.count() == 1 and "June 2004" in moe.inner_text()
    assert moe.is_visible() and moe.bounding_box()["height"] > 0
    assert "ENTITLED" in page.inner_text("body")
    pdf = page.pdf(format="Letter")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    assert errors == []
    page.close()
    cdrflow(db, "exr", "worksheet", "1", "-o", str(tmp_path / "worksheet.pdf"), token=t["fran"])  # what a user files
    assert (tmp_path / "worksheet.pdf").read_bytes().startswith(b"%PDF")


MM = 96 / 25.4  # CSS pixels per millimetre
PRINTABLE = {  # page width less the worksheet's @page margins (base.html: 14 mm left and right), in CSS px
    "Letter": round((215.9 - 28) * MM),
    "A4": round((210 - 28) * MM),
}
LONG = "Same_anatomical_region_per_consultative_examination_report_dated_2012-08-30_and_treating_source_records"


def _overflows(page: Any) -> list[str]:
    """Tables wider than the printable area, and cells whose content runs past their right edge."""
    result: list[str] = page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const out = [];
        if (document.documentElement.scrollWidth > width + 1)
            out.push(`page scrolls: ${document.documentElement.scrollWidth} > ${width}`);
        document.querySelectorAll('table').forEach((t, i) => {
            const box = t.getBoundingClientRect();
            if (box.right > width + 0.5 || box.left < -0.5)
                out.push(`table ${i} spans ${box.left.toFixed(1)}..${box.right.toFixed(1)} of ${width}`);
            t.querySelectorAll('th, td').forEach(c => {
                if (c.scrollWidth > c.clientWidth + 1)
                    out.push(`table ${i} cell "${c.innerText.slice(0, 40)}" ${c.scrollWidth} > ${c.clientWidth}`);
            });
        });
        return out;
    }""")
    return result


def test_exr_worksheet_tables_fit_the_printed_page(browser: Any, tmp_path: Path) -> None:
    """Long names, ids, URLs and rationales wrap: no table runs past the right margin in print."""
    db = f"sqlite:///{tmp_path}/exr.db"
    cdrflow(db, "db", "upgrade")
    t = people(db, ("jonathan.q.publicexaminer", "DE", "DDS-PA"), ("jonathan.q.publicfieldoffice", "FO", "FO-123"),
               ("drmedicalconsultantwithalongname", "DC", "DDS-PA"), ("dr", "DC", "DDS-PA"))
    de = t["jonathan.q.publicexaminer"]
    cdrflow(db, "exr", "open", "--ssn", "123456789", "--request-month",
            "2012-09", "--btm", "2011-11", "--fo", "DOORS-A12 Springfield-Central-District-Office",
            "--filing-date", "2012-09-14", "--cpd-date", "2005-03-01", "--cpd-impairment",
            "lumbar degenerative disc disease with radiculopathy (L4-L5/L5-S1)", "--cpd-basis", "LISTING",
            "--cpd-listing", "1.04", "--cpd-listing-obsolete", "--alleged",
            "back; see https://example.invalid/very/long/path/to/a/medical/record/identifier/0123456789abcdef",
            "--sga", "2011-09,2011-10,2011-11,2011-12,2012-01,2012-02", token=t["jonathan.q.publicfieldoffice"])
    cdrflow(db, "exr", "develop", "1", token=de)
    cdrflow(db, "exr", "same-or-related", "1", "--yes", "--rationale", LONG, token=de)
    cdrflow(db, "exr", "mirs", "1", "--month", "2012-04", "--mi-related", "--capable-of-sga",
            token=t["drmedicalconsultantwithalongname"])
    cdrflow(db, "exr", "mirs", "1", "--month", "2012-05", token=t["dr"])
    cdrflow(db, "exr", "mirs", "1", "--month", "2012-09", token=t["dr"])
    cdrflow(db, "exr", "determine", "1", "--as-of", "2012-10-15", token=de)
    out = tmp_path / "worksheet.html"
    cdrflow(db, "exr", "worksheet", "1", "-o", str(out), token=de)

    for paper, width in PRINTABLE.items():
        page = browser.new_page(viewport={"width": width, "height": 1000})
        page.emulate_media(media="print")
        page.goto(out.resolve().as_uri())
        assert page.locator("table").count() >= 5
        assert page.locator("tr[data-month]").count() == 13
        assert LONG[:20] in page.inner_text("body")
        assert _overflows(page) == [], paper
        page.close()
    # the printed file: Chromium lays the page out at the same printable width
    pdf = tmp_path / "worksheet.pdf"
    cdrflow(db, "exr", "worksheet", "1", "-o", str(pdf), token=de)
    assert pdf.read_bytes().startswith(b"%PDF")


def test_annual_mpr_report_in_chromium(browser: Any, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/mpr.db"
    cdrflow(db, "db", "upgrade")  # this OS account becomes the DCF's administrator (README)
    cdrflow(db, "mpr", "org", "add", "--level", "CO", "--code", "CO", "--name", "ODD MPRT")
    cdrflow(db, "mpr", "org", "add", "--level", "RO", "--code", "RO-03", "--name", "Philadelphia", "--parent", "CO")
    cdrflow(db, "mpr", "org", "add", "--level", "DDS", "--code", "DDS-PA", "--name", "Pennsylvania",
            "--parent", "RO-03")
    cdrflow(db, "people", "add", "pat", "--role", "MPRO", "--org", "DDS-PA")
    cdrflow(db, "people", "add", "rita", "--role", "PRC", "--org", "RO-03")
    cdrflow(db, "people", "add", "mo", "--role", "MPRT", "--org", "CO")
    t = people(db, ("pat", "MPRO", "DDS-PA"), ("rita", "PRC", "RO-03"), ("mo", "MPRT", "CO"))
    cdrflow(db, "mpr", "import", "providers", str(FIXTURES / "mpr_providers_pa.csv"), token=t["pat"])
    cdrflow(db, "mpr", "import", "roster", str(FIXTURES / "mpr_roster_pa.csv"), token=t["pat"])
    cdrflow(db, "mpr", "import", "leie", str(FIXTURES / "mpr_leie_v1.csv"), "--file-date", "2025-02-10",
            token=t["mo"])  # the national list: CO (PM 00215.001D.2)
    cdrflow(db, "mpr", "check", "--dds", "DDS-PA", "--as-of", "2025-03-01", token=t["pat"])
    cdrflow(db, "mpr", "item", "open", "--org", "DDS-PA", "--kind", "ONSITE_VISIT", "--title", "Visit",
            "--owner", "pat", "--opened", "2025-03-05", token=t["pat"])
    out = tmp_path / "report.html"
    cdrflow(db, "mpr", "report", "--dds", "DDS-PA", "--fy", "2025", "-o", str(out), token=t["rita"])

    page, errors = open_page(browser, out)
    assert page.locator("h2").count() == 6
    charts = page.locator("figure.chart svg")
    assert charts.count() == 3
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 50
    assert "Annual oversight report" in page.title() or "Annual oversight report" in page.inner_text("h1")
    pdf = page.pdf(format="Letter")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    assert errors == []
    page.close()
    pdf_file = tmp_path / "report.pdf"
    cdrflow(db, "mpr", "report", "--dds", "DDS-PA", "--fy", "2025", "-o", str(pdf_file), token=t["rita"])
    assert pdf_file.read_bytes().startswith(b"%PDF") and pdf_file.stat().st_size > 10_000


def test_pdf_without_chromium_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cdrflow.kernel.settings import Settings
    from cdrflow.reports.pdf import PdfUnavailable, html_to_pdf

    monkeypatch.setenv("CDRFLOW_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(PdfUnavailable, match="Debian package 'chromium'"):
        html_to_pdf("<html></html>", tmp_path / "x.pdf", chromium=Settings().chromium)  # as the CLI passes it
    assert not (tmp_path / "x.pdf").exists()
