"""Moved to :mod:`cdrflow.workflow.mpr.reports`; this name stays for the callers that import it."""

from __future__ import annotations

from .mpr.reports import AGE_BUCKETS, KINDS, fiscal_year_bounds, report_data, to_json

__all__ = ["AGE_BUCKETS", "KINDS", "fiscal_year_bounds", "report_data", "to_json"]
