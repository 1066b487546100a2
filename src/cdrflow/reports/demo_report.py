"""The demo run report: one self-contained HTML file with inline SVG charts.

:func:`render_demo_report` validates a metrics dict, draws the charts (matplotlib, Agg backend,
deterministic SVG, see :mod:`cdrflow.reports.charts`) and renders
``templates/demo_report.html`` (Jinja2, autoescape on, strict undefined). The page has no
external assets and no JavaScript; the same metrics always give byte-identical output.

The report says what it measures: every percentage is computed here from a numerator and a
denominator that the page names (a :class:`Share`), and every table of parts is checked against
its total (a part that does not add up is shown as "does not reconcile", never hidden).

Metrics schema (every top-level key is required; a missing one raises :class:`ReportDataError`,
a ``ValueError``, naming the key)::

    config:          {str: any}              run configuration, in words (header and footer)
    timing:          {str: number | str}     stage timings (footer)
    figures:         [{name, cite, seed, numerator: {label, count: int},
                       denominator: {label, count: int}, status, why?}]
                                             the seed's figures beside this run's, on named bases
    flow:            [{id, title, lead?, chart?: bool | "leaves", total: {label, count: int},
                       parts: [{label, count: int, short?, cite?, parts?: [...]}]}]
                                             tables whose parts add up to their total; ``chart``
                                             draws the top-level parts (or the leaves), by ``short``
    by_title:        {profiles: {profile: int}, intake: [{group, outcome, count: int}],
                      final: [{group, outcome, count: int}]}
                                             cases by title group and outcome code
    queue:           [{month: "YYYY-MM", open_pc_review: int, new_pc_review: int,
                       cleared: int, open_nonresponder: int}]
    diaries_by_year: [{year: int, count: int}]   diaries set by this run's deferrals
    cost:            {mailers_processed: int, deferrals: int, do_cdr: int,
                      mailer_cost_each?: int = 50, cdr_cost_low?: int = 750, cdr_cost_high?: int = 800}
    reconciliation:  [{label, left: int, right: [[label, int], ...]}]   checks: left = sum(right)
    activity:        {label: int}            what the simulated PC staff did

Lists may be empty: the section then shows a "no data" note instead of a chart. Outcome codes
(``DEFER``, ``DO_CDR``, ``PC_REVIEW`` ...) are shown in words (:data:`OUTCOME_WORDS`); groups are
ordered T2, T2/16, T16, then any others alphabetically. Rows repeating a (group, outcome) pair are
summed; queue months and diary years are sorted.
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
    "flow",
    "by_title",
    "queue",
    "diaries_by_year",
    "cost",
    "reconciliation",
    "activity",
)
"""The top-level keys a metrics dict must have."""

GROUP_ORDER: Final[tuple[str, ...]] = ("T2", "T2/16", "T16")
PROFILE_WORDS: Final[Mapping[str, str]] = {"L": "LOW", "M": "MEDIUM", "H": "HIGH"}
INTAKE_OUTCOMES: Final[tuple[str, ...]] = ("DEFER", "DO_CDR", "PC_REVIEW")
FINAL_OUTCOMES: Final[tuple[str, ...]] = (
    "DEFER", "DO_CDR", "INTEGRITY_FLIP", "NONRESPONDER_DO_CDR", "REFERRED", "OPEN")
OUTCOME_WORDS: Final[Mapping[str, str]] = {
    "DEFER": "Deferred",
    "DO_CDR": "DO CDR on the answers",
    "PC_REVIEW": "Sent to PC review",
    "INTEGRITY_FLIP": "DO CDR by integrity flip",
    "NONRESPONDER_DO_CDR": "DO CDR, nonresponder",
    "REFERRED": "Referred at WBDOC screening",
    "OPEN": "Still open",
}
INTAKE_WORDS: Final[Mapping[str, str]] = {
    "DEFER": "Deferred automatically",
    "DO_CDR": "DO CDR automatically",
    "PC_REVIEW": "Sent to PC review",
}
QUEUE_SERIES: Final[tuple[tuple[str, str, str, str], ...]] = (
    # (key, label, colour, line style): stocks solid, monthly flows dashed
    ("open_pc_review", "open in PC review (month end)", "#E69F00", "-"),
    ("new_pc_review", "new PC review alerts", "#0072B2", "--"),
    ("cleared", "cases worked by PC staff", "#009E73", "--"),
    ("open_nonresponder", "open nonresponders (month end)", "#CC79A7", "-"),
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


def of_words(label: str) -> str:
    """A row label as the denominator of a share: ``Sent to PC review (F.1.b)`` -> ``sent to PC review``."""
    text = re.sub(r"\s*\([^)]*\)", "", label).strip()
    if text[:1].isupper() and text[1:2].islower():  # "Sent" -> "sent"; "DO CDR", "PC-reviewed" stay
        text = text[:1].lower() + text[1:]
    return text


def words(key: Any) -> str:
    """A metrics key as a reader sees it: ``integrity_seed`` -> ``Integrity seed``."""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Share:
    """A percentage that carries its numerator and denominator (and what the denominator counts)."""

    num: int
    den: int
    of: str = ""

    @property
    def pct(self) -> str:
        return fmt_pct(self.num, self.den)


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


def _rows(raw: Any, text: Sequence[str], ints: Sequence[str], *path: str | int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, item in enumerate(_list(raw, *path)):
        row = _mapping(item, *path, i)
        d: dict[str, Any] = {f: str(_field(row, f, *path, i)) for f in text}
        d.update({f: _int(_field(row, f, *path, i), *path, i, f) for f in ints})
        out.append(d)
    return out


def _markup(svg: str) -> Markup:
    # matplotlib's SVG writer escapes all label text; the SVG is generated here, not user markup.
    return Markup(svg)  # noqa: S704


def _ordered(values: set[str], preferred: Sequence[str]) -> list[str]:
    return [v for v in preferred if v in values] + sorted(values - set(preferred))


# --------------------------------------------------------------------------- view model


@dataclass(frozen=True)
class FlowRow:
    label: str
    count: int
    share: Share
    level: int
    cite: str
    reconciles: bool  # its own parts (if any) add up to it


@dataclass(frozen=True)
class FlowBlock:
    id: str
    title: str
    lead: str
    total_label: str
    total: int
    rows: list[FlowRow]
    reconciles: bool
    chart: Markup | None


def _flow_parts(raw: Any, parent: int, parent_label: str, level: int, out: list[FlowRow],
                leaves: list[tuple[str, int]], *path: str | int) -> tuple[int, list[tuple[str, int]]]:
    """Append the rows of ``raw`` (and their parts) to ``out``; return their sum and (short label, count)."""
    total = 0
    shorts: list[tuple[str, int]] = []
    for i, item in enumerate(_list(raw, *path)):
        row = _mapping(item, *path, i)
        label = str(_field(row, "label", *path, i))
        count = _int(_field(row, "count", *path, i), *path, i, "count")
        short = str(row.get("short", label))
        at = len(out)
        out.append(FlowRow(label, count, Share(count, parent, parent_label), level, str(row.get("cite", "")), True))
        if "parts" in row:
            inner, _ = _flow_parts(row["parts"], count, str(row.get("of") or of_words(label)), level + 1, out,
                                   leaves, *path, i, "parts")
            if inner != count:
                out[at] = FlowRow(label, count, Share(count, parent, parent_label), level, out[at].cite, False)
        else:
            leaves.append((short, count))
        total += count
        shorts.append((short, count))
    return total, shorts


def _flow(metrics: Mapping[str, Any]) -> list[FlowBlock]:
    blocks = []
    for b, raw in enumerate(_list(metrics["flow"], "flow")):
        block = _mapping(raw, "flow", b)
        total_row = _mapping(_field(block, "total", "flow", b), "flow", b, "total")
        total_label = str(_field(total_row, "label", "flow", b, "total"))
        total = _int(_field(total_row, "count", "flow", b, "total"), "flow", b, "total", "count")
        rows: list[FlowRow] = []
        leaves: list[tuple[str, int]] = []
        of = str(total_row.get("of") or of_words(total_label))
        parts_sum, shorts = _flow_parts(_field(block, "parts", "flow", b), total, of, 0, rows, leaves,
                                        "flow", b, "parts")
        ok = parts_sum == total and all(r.reconciles for r in rows)
        block_id = str(_field(block, "id", "flow", b))
        if not re.fullmatch(r"[a-z][a-z0-9-]*", block_id):
            raise ReportDataError(f"{_where('flow', b, 'id')} must be a lower-case id, not {block_id!r}")
        title = str(_field(block, "title", "flow", b))
        chart = None
        bars = leaves if block.get("chart") == "leaves" else shorts
        if block.get("chart") and bars:
            notes = [f"{c:,}  ({fmt_pct(c, total)} of {total:,})" for _, c in bars]
            chart = _markup(charts.horizontal_bars(
                f"flow-{block_id}", f"{title}: {total:,} {of}",
                [s for s, _ in bars], [c for _, c in bars], notes))
        blocks.append(FlowBlock(block_id, title, str(block.get("lead", "")), total_label, total, rows, ok, chart))
    return blocks


@dataclass(frozen=True)
class Figure:
    name: str
    cite: str
    seed: str
    num_label: str
    den_label: str
    share: Share
    status: str
    why: str


def _figures(metrics: Mapping[str, Any]) -> list[Figure]:
    out = []
    for i, raw in enumerate(_list(metrics["figures"], "figures")):
        row = _mapping(raw, "figures", i)
        parts = {}
        for side in ("numerator", "denominator"):
            r = _mapping(_field(row, side, "figures", i), "figures", i, side)
            parts[side] = (str(_field(r, "label", "figures", i, side)),
                           _int(_field(r, "count", "figures", i, side), "figures", i, side, "count"))
        (nl, n), (dl, d) = parts["numerator"], parts["denominator"]
        out.append(Figure(str(_field(row, "name", "figures", i)), str(row.get("cite", "")),
                          str(_field(row, "seed", "figures", i)), nl, dl, Share(n, d, dl),
                          str(_field(row, "status", "figures", i)), str(row.get("why", ""))))
    return out


@dataclass(frozen=True)
class CrossTab:
    """Counts by group (rows) and outcome (columns), with row shares and totals."""

    outcomes: list[tuple[str, str]]  # (code, words)
    rows: list[tuple[str, list[tuple[int, Share]], int]]
    totals: list[tuple[int, Share]]
    grand_total: int
    chart: Markup | None


def _crosstab(raw: Any, known: Sequence[str], names: Mapping[str, str], chart_id: str, title: str,
              *path: str | int) -> CrossTab:
    counts: dict[tuple[str, str], int] = {}
    for row in _rows(raw, ("group", "outcome"), ("count",), *path):
        pair = (row["group"], row["outcome"])
        counts[pair] = counts.get(pair, 0) + row["count"]
    groups = _ordered({g for g, _ in counts}, GROUP_ORDER)
    outcomes = _ordered({o for _, o in counts}, known)
    grand = sum(counts.values())
    rows = []
    for g in groups:
        total = sum(counts.get((g, o), 0) for o in outcomes)
        cells = [(counts.get((g, o), 0), Share(counts.get((g, o), 0), total, f"{g} cases")) for o in outcomes]
        rows.append((g, cells, total))
    col_totals = [sum(counts.get((g, o), 0) for g in groups) for o in outcomes]
    chart = None
    if counts:
        series = [(o, [counts.get((g, o), 0) for g in groups]) for o in outcomes]
        chart = _markup(charts.stacked_bars(chart_id, title, groups, series, xlabel="title",
                                            legend={o: names.get(o, words(o)) for o in outcomes}))
    return CrossTab([(o, names.get(o, words(o))) for o in outcomes], rows,
                    [(t, Share(t, grand, "cases")) for t in col_totals], grand, chart)


def _by_title(metrics: Mapping[str, Any]) -> dict[str, Any]:
    raw = _mapping(metrics["by_title"], "by_title")
    profiles = {str(k): _int(v, "by_title", "profiles", str(k))
                for k, v in _mapping(_field(raw, "profiles", "by_title"), "by_title", "profiles").items()}
    total = sum(profiles.values())
    return {
        "profiles": [(p, PROFILE_WORDS.get(p, p), profiles[p], Share(profiles[p], total, "mailers sent"))
                     for p in _ordered(set(profiles), tuple(PROFILE_WORDS))],
        "only_profile": next(iter(profiles)) if len(profiles) == 1 else None,
        "intake": _crosstab(_field(raw, "intake", "by_title"), INTAKE_OUTCOMES, INTAKE_WORDS, "intake",
                            "Mailers received: decision at intake, by title", "by_title", "intake"),
        "final": _crosstab(_field(raw, "final", "by_title"), FINAL_OUTCOMES, OUTCOME_WORDS, "final",
                           "Mailers sent: where the case stands, by title", "by_title", "final"),
    }


def _queue(metrics: Mapping[str, Any]) -> dict[str, Any]:
    ints = [k for k, _, _, _ in QUEUE_SERIES]
    rows = _rows(metrics["queue"], ("month",), ints, "queue")
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


def _diaries(metrics: Mapping[str, Any]) -> dict[str, Any]:
    rows = sorted(_rows(metrics["diaries_by_year"], (), ("year", "count"), "diaries_by_year"),
                  key=lambda r: r["year"])
    total = sum(r["count"] for r in rows)
    chart = None
    if rows:
        chart = _markup(
            charts.vertical_bars(
                "diaries",
                "Medical diaries set by this run's deferrals, by the year they mature",
                [str(r["year"]) for r in rows],
                [r["count"] for r in rows],
                "diaries",
            )
        )
    rows = [{**r, "share": Share(r["count"], total, "diaries set")} for r in rows]
    return {"rows": rows, "total": total, "chart": chart}


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
        "deferral_share": Share(c["deferrals"], c["mailers_processed"], "completed mailers"),
        "do_cdr_share": Share(c["do_cdr"], c["mailers_processed"], "completed mailers"),
        "rest": c["mailers_processed"] - c["deferrals"] - c["do_cdr"],
        "chart": chart,
        "cite": COST_CITE,
    }


@dataclass(frozen=True)
class Check:
    label: str
    left: int
    right: list[tuple[str, int]]
    ok: bool


def _reconciliation(metrics: Mapping[str, Any]) -> list[Check]:
    out = []
    for i, raw in enumerate(_list(metrics["reconciliation"], "reconciliation")):
        row = _mapping(raw, "reconciliation", i)
        left = _int(_field(row, "left", "reconciliation", i), "reconciliation", i, "left")
        right = []
        for j, pair in enumerate(_list(_field(row, "right", "reconciliation", i), "reconciliation", i, "right")):
            items = _list(pair, "reconciliation", i, "right", j)
            if len(items) != 2:
                raise ReportDataError(f"{_where('reconciliation', i, 'right', j)} must be [label, count]")
            right.append((str(items[0]), _int(items[1], "reconciliation", i, "right", j)))
        out.append(Check(str(_field(row, "label", "reconciliation", i)), left, right,
                         left == sum(v for _, v in right)))
    return out


def _context(metrics: Mapping[str, Any]) -> dict[str, Any]:
    metrics = _mapping(metrics)
    for key in REQUIRED_KEYS:
        if key not in metrics:
            raise ReportDataError(f"metrics is missing required key {key!r}")
    activity = _mapping(metrics["activity"], "activity")
    for k, v in activity.items():
        _int(v, "activity", str(k))
    flow = _flow(metrics)
    checks = _reconciliation(metrics)
    return {
        "config": {words(k): v for k, v in _mapping(metrics["config"], "config").items()},
        "timing": {words(k): v for k, v in _mapping(metrics["timing"], "timing").items()},
        "figures": _figures(metrics),
        "flow": {b.id: b for b in flow},
        "flow_blocks": flow,
        "by_title": _by_title(metrics),
        "queue": _queue(metrics),
        "diaries": _diaries(metrics),
        "cost": _cost(metrics),
        "checks": checks,
        "all_reconcile": all(c.ok for c in checks) and all(b.reconciles for b in flow),
        "activity": activity,
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
