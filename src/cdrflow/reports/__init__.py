"""Run reports for cdrflow: self-contained HTML pages with inline SVG charts.

* :func:`render_demo_report` -- the demo run report (seed figures vs measured, outcomes,
  PC review queue, nonresponder funnel, diaries, cost, reconciliation) written to one file.
* :func:`render_demo_report_html` -- the same page as a string.

See :mod:`cdrflow.reports.demo_report` for the metrics schema.
"""

from .demo_report import REQUIRED_KEYS, ReportDataError, render_demo_report, render_demo_report_html

__all__ = ["REQUIRED_KEYS", "ReportDataError", "render_demo_report", "render_demo_report_html"]
