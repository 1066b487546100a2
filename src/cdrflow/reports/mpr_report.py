"""The M/PR reports as HTML: the RO's annual oversight report per DDS (PM 00215.001D.3.i) and the
DDS's M/PR activity summary (D.4), drawn from :func:`cdrflow.workflow.mpr.reports.report_data`.

Three charts where they help (work by kind, open items by age, providers' eligibility on the last
day of the year); every table also stands without them. Print it from a browser for a PDF.
"""

from __future__ import annotations

from typing import Any, Final

from jinja2 import Environment, PackageLoader, StrictUndefined

from .charts import horizontal_bars, vertical_bars
from .demo_report import fmt_num

_ENV: Final = Environment(loader=PackageLoader("cdrflow.reports", "templates"), autoescape=True,
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
_ENV.filters.update({"num": fmt_num})


def render_mpr_report(data: dict[str, Any]) -> str:
    """One DDS's M/PR year as a standalone HTML page."""
    kinds = data["items_by_kind"]
    charts = {
        "work": horizontal_bars(
            "mpr-items", "Work items opened in the fiscal year, by kind",
            [k["kind"].replace("_", " ").lower() for k in kinds], [k["opened"] for k in kinds],
            [f"{k['opened']} opened, {k['closed']} closed, {k['open_at_end']} open at year end" for k in kinds],
        ) if kinds else None,
        "ages": vertical_bars("mpr-ages", "Items open on the last day of the year, by age",
                              list(data["open_by_age"]), list(data["open_by_age"].values()), "items")
        if any(data["open_by_age"].values()) else None,
        "eligibility": horizontal_bars(
            "mpr-eligibility", "CE providers on the last day of the year",
            list(data["providers"]["eligibility_at_end"]), list(data["providers"]["eligibility_at_end"].values()),
            [f"{v:,}" for v in data["providers"]["eligibility_at_end"].values()],
        ) if data["providers"]["eligibility_at_end"] else None,
    }
    return _ENV.get_template("mpr_report.html").render(d=data, charts=charts)
