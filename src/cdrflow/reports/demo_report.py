"""The demo run report: one self-contained HTML file with inline SVG charts.

:func:`render_demo_report` validates a metrics dict, draws the charts (matplotlib, Agg backend,
deterministic SVG, see :mod:`cdrflow.reports.charts`) and renders
``templates/demo_report.html`` (Jinja2, autoescape on, strict undefined). The page has no
external assets and no JavaScript; the same metrics always give byte-identical output.

Metrics schema (every top-level key is required; a missing one raises :class:`ReportDataError`,
a ``ValueError``, naming the key)::

    config:              {str: any}             run configuration (header and footer)
    timing:              {str: number | str}    stage timings (footer)
    figures:             [{name, seed, measured, cite?, note?}]      values shown as given
    outcomes_by_profile: [{profile, outcome, count: int}]  intake decisions (DEFER, DO_CDR, PC_REVIEW)
    final_by_profile:    [{profile, outcome, count: int}]  final outcomes (DEFER, DO_CDR,
                                                           INTEGRITY_FLIP, REFERRED, OPEN)
    queue:               [{month: "YYYY-MM", open_pc_review: int, new_pc_review: int,
                           cleared: int, open_nonresponder: int}]
    funnel:              {label: int}           drawn in the given order
    diaries_by_year:     [{year: int, count: int}]
    cost:                {mailers_processed: int, deferrals: int, do_cdr: int,
                          mailer_cost_each?: int = 50, cdr_cost_low?: int = 750, cdr_cost_high?: int = 800}
    reconciliation:      {str: int | float | str}

Lists may be empty (and ``funnel`` may be an empty dict): the section then shows a "no data"
note instead of a chart. Profiles are ordered L, M, H, then any others alphabetically;
outcomes in the order listed above, then any others alphabetically. Rows repeating a
(profile, outcome) pair are summed; queue months and diary years are sorted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from . import charts

REQUIRED_KEYS: Final[tuple[str, ...]] = (
    "config",
    "timing",
    "figures",
    "outcomes_by_profile",
    "final_by_profile",
    "queue",
    "funnel",
    "diaries_by_year",
    "cost",
    "reconciliation",
)
"""The top-level keys a metrics dict must have."""

PROFILE_ORDER: Final[tuple[str, ...]] = ("L", "M", "H")
INTAKE_OUTCOMES: Final[tuple[str, ...]] = ("DEFER", "DO_CDR", "PC_REVIEW")
FINAL_OUTCOMES: Final[tuple[str, ...]] = ("DEFER", "DO_CDR", "INTEGRITY_FLIP", "REFERRED", "OPEN")
QUEUE_SERIES: Final[tuple[tuple[str, str, str, str], ...]] = (
    # (key, label, colour, line style): stocks solid, monthly flows dashed
    ("open_pc_review", "open PC review", "#E69F00", "-"),
    ("new_pc_review", "new PC review", "#0072B2", "--"),
    ("cleared", "cleared", "#009E73", "--"),
    ("open_nonresponder", "open nonresponder", "#CC79A7", "-"),
)
COST_DEFAULTS: Final[Mapping[str, int]] = {"mailer_cost_each": 50, "cdr_cost_low": 750, "cdr_cost_high": 800}
COST_CITE: Final = "DI 40502.001B.5: approximately $50 a mailer deferral vs $750-$800 a full medical CDR"
POLICY_SOURCE: Final = "DI 40502.001 TN 2 (10-08)"

_MONTH: Final = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class ReportDataError(ValueError):
    """Metrics the report cannot show: a missing key or a value of the wrong type."""


# --------------------------------------------------------------------------- formatting


def fmt_num(value: Any) -> str:
    """Numbers with thousands separators; other values as text (``None`` as a dash)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:,.1f}"
        if abs(value) >= 1 or value == 0:
            return f"{value:,.2f}"
        return f"{value:.3g}"
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def fmt_setting(value: Any, key: Any) -> str:
    """A configuration value: like :func:`fmt_num`, but seeds and ids without thousands separators."""
    name = str(key).lower()
    if isinstance(value, int) and not isinstance(value, bool) and ("seed" in name or name.endswith("id")):
        return str(value)
    return fmt_num(value)


def fmt_money(value: float) -> str:
    return f"-${-value:,.0f}" if value < 0 else f"${value:,.0f}"


def fmt_pct(part: float, whole: float) -> str:
    """``part`` as a percentage of ``whole`` (one decimal), or a dash when ``whole`` is zero."""
    if not whole:
        return "—"
    return f"{100.0 * part / whole:.1f}%"


# --------------------------------------------------------------------------- validation


def _where(*path: str | int) -> str:
    return "metrics" + "".join(f"[{p!r}]" for p in path)


def _mapping(value: Any, *path: str | int) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ReportDataError(f"{_where(*path)} must be a dict, not {type(value).__name__}")
    return value


def _list(value: Any, *path: str | int) -> Sequence[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ReportDataError(f"{_where(*path)} must be a list, not {type(value).__name__}")
    return value


def _int(value: Any, *path: str | int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReportDataError(f"{_where(*path)} must be an int, not {type(value).__name__}: {value!r}")
    return value


def _field(row: Mapping[str, Any], key: str, *path: str | int) -> Any:
    if key not in row:
        raise ReportDataError(f"{_where(*path)} is missing key {key!r}")
    return row[key]


def _rows(metrics: Mapping[str, Any], key: str, text: Sequence[str], ints: Sequence[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, raw in enumerate(_list(metrics[key], key)):
        row = _mapping(raw, key, i)
        item: dict[str, Any] = {f: str(_field(row, f, key, i)) for f in text}
        item.update({f: _int(_field(row, f, key, i), key, i, f) for f in ints})
        out.append(item)
    return out


# --------------------------------------------------------------------------- view model


@dataclass(frozen=True)
class Cell:
    count: int
    pct: str


@dataclass(frozen=True)
class CrossTab:
    """Counts by profile (rows) and outcome (columns), with row percentages and totals."""

    outcomes: list[str]
    rows: list[tuple[str, list[Cell], int]]
    totals: list[Cell]
    grand_total: int
    chart: Markup | None


def _ordered(values: set[str], preferred: Sequence[str]) -> list[str]:
    return [v for v in preferred if v in values] + sorted(values - set(preferred))


def _crosstab(
    metrics: Mapping[str, Any], key: str, known_outcomes: Sequence[str], chart_id: str, title: str
) -> CrossTab:
    counts: dict[tuple[str, str], int] = {}
    for row in _rows(metrics, key, ("profile", "outcome"), ("count",)):
        pair = (row["profile"], row["outcome"])
        counts[pair] = counts.get(pair, 0) + row["count"]
    profiles = _ordered({p for p, _ in counts}, PROFILE_ORDER)
    outcomes = _ordered({o for _, o in counts}, known_outcomes)
    grand = sum(counts.values())
    rows = []
    for p in profiles:
        total = sum(counts.get((p, o), 0) for o in outcomes)
        rows.append((p, [Cell(counts.get((p, o), 0), fmt_pct(counts.get((p, o), 0), total)) for o in outcomes], total))
    col_totals = [sum(counts.get((p, o), 0) for p in profiles) for o in outcomes]
    chart = None
    if counts:
        series = [(o, [counts.get((p, o), 0) for p in profiles]) for o in outcomes]
        chart = _markup(charts.stacked_bars(chart_id, title, profiles, series))
    return CrossTab(outcomes, rows, [Cell(t, fmt_pct(t, grand)) for t in col_totals], grand, chart)


def _markup(svg: str) -> Markup:
    # matplotlib's SVG writer escapes all label text; the SVG is generated here, not user markup.
    return Markup(svg)  # noqa: S704


def _queue(metrics: Mapping[str, Any]) -> dict[str, Any]:
    ints = [k for k, _, _, _ in QUEUE_SERIES]
    rows = _rows(metrics, "queue", ("month",), ints)
    for i, row in enumerate(rows):
        if not _MONTH.match(row["month"]):
            raise ReportDataError(f"{_where('queue', i, 'month')} must be 'YYYY-MM', not {row['month']!r}")
    rows.sort(key=lambda r: r["month"])
    chart = None
    if rows:
        series = [(label, [r[k] for r in rows], color, style) for k, label, color, style in QUEUE_SERIES]
        chart = _markup(
            charts.queue_lines(
                "queue", "PC review and nonresponder queues by month", [r["month"] for r in rows], series
            )
        )
    peak = max(rows, key=lambda r: r["open_pc_review"]) if rows else None
    return {
        "rows": rows,
        "columns": [(k, label) for k, label, _, _ in QUEUE_SERIES],
        "chart": chart,
        "peak": peak,
        "total_new": sum(r["new_pc_review"] for r in rows),
        "total_cleared": sum(r["cleared"] for r in rows),
        "last": rows[-1] if rows else None,
    }


def _funnel(metrics: Mapping[str, Any]) -> dict[str, Any]:
    raw = _mapping(metrics["funnel"], "funnel")
    stages = [(str(label), _int(count, "funnel", str(label))) for label, count in raw.items()]
    first = stages[0][1] if stages else 0
    # stages are not strictly nested (undeliverable mail is held, not a subset of DO CDR),
    # so each is shown as a share of the first stage only
    rows = [{"label": label, "count": count, "of_first": fmt_pct(count, first)} for label, count in stages]
    chart = None
    if stages:
        notes = [f"{c:,}" + (f"  ({fmt_pct(c, first)})" if first else "") for _, c in stages]
        chart = _markup(
            charts.horizontal_bars(
                "funnel", "Nonresponder funnel", [s for s, _ in stages], [c for _, c in stages], notes
            )
        )
    return {"rows": rows, "chart": chart}


def _diaries(metrics: Mapping[str, Any]) -> dict[str, Any]:
    rows = sorted(_rows(metrics, "diaries_by_year", (), ("year", "count")), key=lambda r: r["year"])
    total = sum(r["count"] for r in rows)
    chart = None
    if rows:
        chart = _markup(
            charts.vertical_bars(
                "diaries",
                "Diaries maturing by year",
                [str(r["year"]) for r in rows],
                [r["count"] for r in rows],
                "diaries",
            )
        )
    rows = [{**r, "pct": fmt_pct(r["count"], total)} for r in rows]
    return {"rows": rows, "total": total, "total_pct": fmt_pct(total, total), "chart": chart}


def _cost(metrics: Mapping[str, Any]) -> dict[str, Any]:
    raw = _mapping(metrics["cost"], "cost")
    c = {k: _int(_field(raw, k, "cost"), "cost", k) for k in ("mailers_processed", "deferrals", "do_cdr")}
    c.update({k: _int(raw.get(k, default), "cost", k) for k, default in COST_DEFAULTS.items()})
    mailer_total = c["mailers_processed"] * c["mailer_cost_each"]
    cdr_low = c["deferrals"] * c["cdr_cost_low"]
    cdr_high = c["deferrals"] * c["cdr_cost_high"]
    saving_low, saving_high = cdr_low - mailer_total, cdr_high - mailer_total
    labels = [
        f"Mailer process ({c['mailers_processed']:,} × ${c['mailer_cost_each']:,})",
        f"Full CDRs for deferrals, low ({c['deferrals']:,} × ${c['cdr_cost_low']:,})",
        f"Full CDRs for deferrals, high ({c['deferrals']:,} × ${c['cdr_cost_high']:,})",
    ]
    values = [mailer_total, cdr_low, cdr_high]
    chart = _markup(
        charts.horizontal_bars(
            "cost",
            "Mailer process cost vs full medical CDRs avoided",
            labels,
            values,
            [fmt_money(v) for v in values],
            colors=["#009E73", "#D55E00", "#D55E00"],
            money=True,
        )
    )
    return {
        **c,
        "mailer_total": mailer_total,
        "cdr_low": cdr_low,
        "cdr_high": cdr_high,
        "saving_low": saving_low,
        "saving_high": saving_high,
        "saving_pct_low": fmt_pct(saving_low, cdr_low),
        "saving_pct_high": fmt_pct(saving_high, cdr_high),
        "deferral_rate": fmt_pct(c["deferrals"], c["mailers_processed"]),
        "do_cdr_rate": fmt_pct(c["do_cdr"], c["mailers_processed"]),
        "chart": chart,
        "cite": COST_CITE,
    }


def _figures(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for i, raw in enumerate(_list(metrics["figures"], "figures")):
        row = _mapping(raw, "figures", i)
        item = {k: _field(row, k, "figures", i) for k in ("name", "seed", "measured")}
        item.update({k: row.get(k, "") for k in ("cite", "note")})
        out.append(item)
    return out


def _context(metrics: Mapping[str, Any]) -> dict[str, Any]:
    metrics = _mapping(metrics)
    for key in REQUIRED_KEYS:
        if key not in metrics:
            raise ReportDataError(f"metrics is missing required key {key!r}")
    reconciliation = _mapping(metrics["reconciliation"], "reconciliation")
    for k, v in reconciliation.items():
        if isinstance(v, bool) or not isinstance(v, int | float | str):
            raise ReportDataError(f"{_where('reconciliation', str(k))} must be an int or a string, not {v!r}")
    return {
        "config": _mapping(metrics["config"], "config"),
        "timing": _mapping(metrics["timing"], "timing"),
        "figures": _figures(metrics),
        "intake": _crosstab(metrics, "outcomes_by_profile", INTAKE_OUTCOMES, "intake", "Intake decision by profile"),
        "final": _crosstab(metrics, "final_by_profile", FINAL_OUTCOMES, "final", "Final case outcome by profile"),
        "queue": _queue(metrics),
        "funnel": _funnel(metrics),
        "diaries": _diaries(metrics),
        "cost": _cost(metrics),
        "reconciliation": reconciliation,
        "policy_source": POLICY_SOURCE,
    }


# --------------------------------------------------------------------------- rendering

_ENV: Final = Environment(
    loader=PackageLoader("cdrflow.reports", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENV.filters.update({"num": fmt_num, "money": fmt_money, "setting": fmt_setting})


def render_demo_report_html(metrics: Mapping[str, Any]) -> str:
    """The demo report page as a string (see the module docstring for the metrics schema)."""
    return _ENV.get_template("demo_report.html").render(**_context(metrics))


def render_demo_report(metrics: Mapping[str, Any], path: Path) -> Path:
    """Write the demo report for ``metrics`` to ``path`` (UTF-8, parents created) and return ``path``."""
    html = render_demo_report_html(metrics)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8", newline="\n")
    return path
