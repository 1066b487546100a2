"""Deterministic inline-SVG charts for the run reports (matplotlib, Agg backend).

Every chart function takes already validated, plain data and returns the chart as an SVG
fragment (``<svg ...>...</svg>``, no XML declaration or DOCTYPE) ready to inline in an HTML
page. Output is byte-for-byte deterministic for the same input:

* ``svg.hashsalt`` is a fixed string per chart, so the hashed ids of clip paths and markers
  are stable and distinct between the charts of one page;
* ``svg.fonttype`` is ``"none"`` (text stays text, no embedded glyph paths);
* the SVG metadata (date, creator) is dropped;
* the counter ids matplotlib puts on ``<g>`` groups (``figure_1``, ``patch_3``, ...) are
  removed, so several charts on one page do not repeat ids.

Mathtext is off (``text.parse_math``), so labels such as ``$750`` are drawn literally. The
text of labels is XML-escaped by matplotlib's SVG writer. Figures are always closed.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

INK: Final = "#1f2933"
MUTED: Final = "#616e7c"
GRID: Final = "#d9dee4"

OUTCOME_COLORS: Final[Mapping[str, str]] = {
    # Okabe-Ito, colour-blind safe; the same outcome has the same colour in every chart.
    "DEFER": "#009E73",
    "DO_CDR": "#D55E00",
    "PC_REVIEW": "#E69F00",
    "INTEGRITY_FLIP": "#CC79A7",
    "NONRESPONDER_DO_CDR": "#56B4E9",
    "REFERRED": "#0072B2",
    "OPEN": "#9AA5B1",
}
_EXTRA_COLORS: Final = ("#F0E442", "#7B3294", "#4D4D4D", "#A6761D", "#000000")

_RC: Final[dict[str, Any]] = {
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial"],
    "font.size": 9.5,
    "axes.edgecolor": GRID,
    "axes.labelcolor": INK,
    "axes.titlesize": 10.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "text.color": INK,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
}

_SVG_START: Final = re.compile(r"<svg\b")
_G_ID: Final = re.compile(r'<g id="[^"]*"')


def outcome_color(outcome: str, extras_used: list[str]) -> str:
    """The colour of an outcome; outcomes without a fixed colour take the next spare one."""
    if outcome in OUTCOME_COLORS:
        return OUTCOME_COLORS[outcome]
    if outcome not in extras_used:
        extras_used.append(outcome)
    return _EXTRA_COLORS[extras_used.index(outcome) % len(_EXTRA_COLORS)]


def _thousands(value: float, _pos: object = None) -> str:
    return f"{value:,.0f}"


def _dollars(value: float, _pos: object = None) -> str:
    """Compact dollar tick labels: $0, $500k, $1.5M, $40M."""
    sign, amount = ("-" if value < 0 else ""), abs(value)
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if amount >= scale:
            scaled = amount / scale
            text = f"{scaled:,.0f}" if scaled.is_integer() or scaled >= 100 else f"{scaled:,.1f}"
            return f"{sign}${text}{suffix}"
    return f"{sign}${amount:,.0f}"


def _title(fig: Figure, title: str) -> None:
    fig.suptitle(title, x=0.01, ha="left", fontsize=10.5, color=INK)


@contextmanager
def _figure(chart_id: str, width: float, height: float) -> Iterator[tuple[Figure, Axes]]:
    # a fixed salt per chart: stable hashed ids, distinct between the charts of one page
    rc: Any = {**_RC, "svg.hashsalt": f"cdrflow-report-{chart_id}"}
    with matplotlib.rc_context(rc):
        fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
        try:
            yield fig, ax
        finally:
            plt.close(fig)


def _to_svg(fig: Figure, chart_id: str, label: str) -> str:
    buf = io.StringIO()
    fig.savefig(
        buf,
        format="svg",
        metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
    )
    text = buf.getvalue()
    match = _SVG_START.search(text)
    if match is None:  # pragma: no cover - matplotlib always writes an <svg> element
        raise RuntimeError("matplotlib produced no <svg> element")
    svg = _G_ID.sub("<g", text[match.start() :]).strip()
    aria = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    return svg.replace("<svg ", f'<svg class="chart" data-chart="{chart_id}" role="img" aria-label="{aria}" ', 1)


def _grid(ax: Axes, axis: str) -> None:
    ax.grid(axis=axis, color=GRID, linewidth=0.7)  # type: ignore[arg-type]
    ax.set_axisbelow(True)


def stacked_bars(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    xlabel: str = "profile",
    legend: Mapping[str, str] | None = None,
) -> str:
    """Vertical stacked bars: one bar per category, one stack segment per series; totals on top.

    A series' colour follows its name (an outcome code); ``legend`` gives the words shown for it.
    """
    with _figure(chart_id, 6.4, 3.4) as (fig, ax):
        bottoms = [0] * len(categories)
        extras: list[str] = []
        for name, values in series:
            ax.bar(
                categories,
                values,
                bottom=bottoms,
                label=(legend or {}).get(name, name),
                color=outcome_color(name, extras),
                width=0.6,
                edgecolor="white",
                linewidth=0.6,
            )
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        top = max(bottoms, default=0)
        for x, total in enumerate(bottoms):
            ax.annotate(f"{total:,}", (x, total), xytext=(0, 3), textcoords="offset points", ha="center", color=INK)
        ax.set_ylim(0, top * 1.12 if top > 0 else 1)
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(xlabel)
        ax.set_ylabel("cases")
        _title(fig, title)
        _grid(ax, "y")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), reverse=True)  # same order as the stack
        return _to_svg(fig, chart_id, title)


def queue_lines(
    chart_id: str,
    title: str,
    months: Sequence[str],
    series: Sequence[tuple[str, Sequence[int], str, str]],
) -> str:
    """Monthly lines; ``series`` is (label, values, colour, line style)."""
    n = len(months)
    with _figure(chart_id, 7.2, 3.4) as (fig, ax):
        xs = list(range(n))
        marker = "o" if n <= 24 else None
        for name, values, color, style in series:
            ax.plot(xs, values, label=name, color=color, linestyle=style, linewidth=1.8, marker=marker, markersize=3)
        step = max(1, math.ceil(n / 12))
        ticks = xs[::step]
        ax.set_xticks(ticks, [months[i] for i in ticks], rotation=45, ha="right")
        ax.set_xlim(-0.5, n - 0.5)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("cases")
        _title(fig, title)
        _grid(ax, "y")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
        return _to_svg(fig, chart_id, title)


def horizontal_bars(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[int],
    annotations: Sequence[str],
    colors: Sequence[str] | str = "#0072B2",
    money: bool = False,
) -> str:
    """Horizontal bars drawn top to bottom in the given order, each annotated at its end."""
    n = len(labels)
    with _figure(chart_id, 7.2, max(1.6, 0.42 * n + 0.9)) as (fig, ax):
        ys = list(range(n))
        ax.barh(ys, values, color=colors, height=0.62)
        ax.set_yticks(ys, list(labels))
        ax.invert_yaxis()
        top = max((abs(v) for v in values), default=0)
        for y, value, note in zip(ys, values, annotations, strict=True):
            ax.annotate(note, (max(value, 0), y), xytext=(4, 0), textcoords="offset points", va="center", color=INK)
        ax.set_xlim(min(0, *values) if values else 0, top * 1.28 if top > 0 else 1)
        ax.xaxis.set_major_formatter(FuncFormatter(_dollars if money else _thousands))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        ax.tick_params(axis="y", colors=INK, length=0)
        _title(fig, title)
        _grid(ax, "x")
        return _to_svg(fig, chart_id, title)


def vertical_bars(chart_id: str, title: str, labels: Sequence[str], values: Sequence[int], ylabel: str) -> str:
    """Plain vertical bars with the value on top of each."""
    with _figure(chart_id, 6.4, 3.0) as (fig, ax):
        xs = list(range(len(labels)))
        ax.bar(xs, values, color="#0072B2", width=0.62)
        ax.set_xticks(xs, list(labels))
        for x, value in zip(xs, values, strict=True):
            ax.annotate(f"{value:,}", (x, value), xytext=(0, 3), textcoords="offset points", ha="center", color=INK)
        top = max(values, default=0)
        ax.set_ylim(0, top * 1.15 if top > 0 else 1)
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(ylabel)
        _title(fig, title)
        _grid(ax, "y")
        return _to_svg(fig, chart_id, title)
