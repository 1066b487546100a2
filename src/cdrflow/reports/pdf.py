"""HTML pages to PDF through a headless Chromium (Debian's ``chromium``, driven by Playwright).

The pages are self-contained (inline CSS and SVG), so printing them needs no network. Chromium is
the one the caller names (the CLI: ``Settings.chromium``, i.e. ``$CDRFLOW_CHROMIUM``), else
``/usr/bin/chromium``; Playwright's own browser download is never used.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


class PdfUnavailable(RuntimeError):
    """No Chromium or no Playwright here: write .html and print it from a browser instead."""


DEFAULT_CHROMIUM = Path("/usr/bin/chromium")


def html_to_pdf(html: str, output: Path, *, paper: str = "Letter", chromium: Path | None = None) -> Path:
    """Print ``html`` to ``output`` as PDF (backgrounds kept, the page's own print CSS applied) with the
    Chromium at ``chromium`` (default ``/usr/bin/chromium``)."""
    exe = chromium or DEFAULT_CHROMIUM
    if not exe.exists():
        raise PdfUnavailable(f"PDF needs Chromium at {exe} (Debian package 'chromium', or set CDRFLOW_CHROMIUM); "
                             "or write .html and print it from a browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise PdfUnavailable("PDF needs the Python package 'playwright' (pip install playwright; its browser "
                             "download is not needed)") from exc
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        page_file = Path(tmp) / "page.html"
        page_file.write_text(html, encoding="utf-8")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(exe), args=ARGS)
            try:
                page = browser.new_page()
                page.goto(page_file.as_uri())
                data = page.pdf(format=paper, print_background=True,
                                margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"})
            finally:
                browser.close()
    from cdrflow.safeio import write_bytes

    return write_bytes(output, data)  # owner-only, renamed into place
