"""The demo run report: one self-contained, deterministic HTML page with inline SVG charts."""

from __future__ import annotations

import copy
import re
import time
from pathlib import Path
from typing import Any

import pytest

from cdrflow.reports import REQUIRED_KEYS, ReportDataError, render_demo_report, render_demo_report_html

CHART_COUNT = 6  # outcomes (intake + final), queue, funnel, diaries, cost
SCRIPT_NOTE = "<script>alert('x')</script>"


def _months(n: int) -> list[str]:
    return [f"{2024 + i // 12}-{i % 12 + 1:02d}" for i in range(n)]


@pytest.fixture
def metrics() -> dict[str, Any]:
    queue = []
    open_pc = 0
    for i, month in enumerate(_months(18)):
        new = 120 + 15 * (i % 5)
        cleared = min(open_pc + new, 110 + 10 * (i % 3))
        open_pc = open_pc + new - cleared
        queue.append(
            {
                "month": month,
                "open_pc_review": open_pc,
                "new_pc_review": new,
                "cleared": cleared,
                "open_nonresponder": 300 + 7 * i,
            }
        )
    intake = {
        "L": {"DEFER": 41_210, "DO_CDR": 3_105, "PC_REVIEW": 2_284},
        "M": {"DEFER": 12_870, "DO_CDR": 2_950, "PC_REVIEW": 1_133},
        "H": {"DEFER": 2_014, "DO_CDR": 1_870, "PC_REVIEW": 412},
    }
    final = {
        "L": {"DEFER": 42_101, "DO_CDR": 4_010, "INTEGRITY_FLIP": 84, "REFERRED": 260, "OPEN": 144},
        "M": {"DEFER": 13_204, "DO_CDR": 3_512, "INTEGRITY_FLIP": 31, "REFERRED": 151, "OPEN": 55},
        "H": {"DEFER": 2_101, "DO_CDR": 2_102, "INTEGRITY_FLIP": 9, "REFERRED": 61, "OPEN": 23},
    }
    return {
        "config": {"seed": 20240501, "population": 75_000, "start": "2024-01", "months": 18, "dialect": "sqlite"},
        "timing": {"generate_s": 1.84, "simulate_s": 6.127, "report_s": 0.412},
        "figures": [
            {
                "name": "Mailer response rate",
                "seed": "about 80%",
                "measured": "81.3%",
                "cite": "DI 40502.001B.2",
                "note": "returned mailers / first mailers sent",
            },
            {
                "name": "Deferral rate among returned mailers",
                "seed": "about 90%",
                "measured": "87.6%",
                "cite": "DI 40502.001B.5",
                "note": SCRIPT_NOTE,
            },
            {
                "name": "Nonresponder alerts",
                "seed": "5,000",
                "measured": "4,917",
                "cite": "DI 40502.001I",
                "note": "",
            },
        ],
        "outcomes_by_profile": [
            {"profile": p, "outcome": o, "count": n} for p, row in intake.items() for o, n in row.items()
        ],
        "final_by_profile": [
            {"profile": p, "outcome": o, "count": n} for p, row in final.items() for o, n in row.items()
        ],
        "queue": queue,
        "funnel": {
            "first mailers sent": 75_000,
            "returned": 60_975,
            "second requests": 14_025,
            "nonresponder alerts": 4_917,
            "DIRCON reached": 2_301,
            "DO CDR (nonresponder)": 1_702,
            "undeliverable held": 894,
        },
        "diaries_by_year": [
            {"year": 2031, "count": 9_412},
            {"year": 2029, "count": 30_118},
            {"year": 2030, "count": 17_885},
        ],
        "cost": {
            "mailers_processed": 60_975,
            "deferrals": 57_406,
            "do_cdr": 9_624,
            "mailer_cost_each": 50,
            "cdr_cost_low": 750,
            "cdr_cost_high": 800,
        },
        "reconciliation": {
            "beneficiaries read": 75_000,
            "mailers read": 60_975,
            "mailers processed": 60_975,
            "mailers rejected": 0,
            "status": "balanced",
        },
    }


def test_writes_a_self_contained_html_file(metrics: dict[str, Any], tmp_path: Path) -> None:
    out = render_demo_report(metrics, tmp_path / "sub" / "report.html")
    assert out == tmp_path / "sub" / "report.html"
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.rstrip().endswith("</html>")
    assert "<script" not in html.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html), "no external assets"
    assert "<link" not in html
    assert "DI 40502.001 TN 2 (10-08)" in html
    assert "DI 40502.001B.5: approximately $50 a mailer deferral vs $750-$800 a full medical CDR" in html


def test_one_svg_per_chart(metrics: dict[str, Any]) -> None:
    html = render_demo_report_html(metrics)
    assert html.count("<svg") == CHART_COUNT
    charts = re.findall(r'<svg class="chart" data-chart="([a-z]+)"', html)
    assert charts == ["intake", "final", "queue", "funnel", "diaries", "cost"]
    # the svgs sit in the right sections
    for section, names in {
        "outcomes": ["intake", "final"],
        "queue": ["queue"],
        "funnel": ["funnel"],
        "diaries": ["diaries"],
        "cost": ["cost"],
    }.items():
        body = html.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
        assert re.findall(r'data-chart="([a-z]+)"', body) == names
    # no XML prolog inside the page, and no duplicate element ids across the charts
    assert "<?xml" not in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_figures_and_numbers_are_shown(metrics: dict[str, Any]) -> None:
    html = render_demo_report_html(metrics)
    for figure in metrics["figures"]:
        assert f">{figure['measured']}<" in html
        assert figure["name"] in html
    # thousands separators, percentages and the cost arithmetic
    assert "41,210" in html
    assert "75,000" in html
    assert "81.3%" in html  # returned / first mailers sent in the funnel table
    assert "$3,048,750" in html  # 60,975 x $50
    assert "$43,054,500" in html  # 57,406 x $750
    assert "$45,924,800" in html  # 57,406 x $800
    assert "$40,005,750 to $42,876,050" in html  # saving range
    assert "balanced" in html
    assert ">20240501<" in html  # seeds keep their digits together
    assert "20,240,501" not in html
    assert "6.13" in html  # timing


def test_script_in_a_note_is_escaped(metrics: dict[str, Any]) -> None:
    html = render_demo_report_html(metrics)
    assert SCRIPT_NOTE not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_script_in_chart_labels_is_escaped(metrics: dict[str, Any]) -> None:
    metrics["funnel"] = {"<script>bad()</script>": 10, "returned": 5}
    html = render_demo_report_html(metrics)
    assert "<script" not in html
    assert "&lt;script&gt;bad()&lt;/script&gt;" in html


@pytest.mark.parametrize("key", REQUIRED_KEYS)
def test_missing_key_raises_naming_it(metrics: dict[str, Any], key: str, tmp_path: Path) -> None:
    del metrics[key]
    with pytest.raises(ValueError, match=repr(key)):
        render_demo_report(metrics, tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_bad_nested_values_raise(metrics: dict[str, Any]) -> None:
    bad = copy.deepcopy(metrics)
    del bad["cost"]["deferrals"]
    with pytest.raises(ReportDataError, match="deferrals"):
        render_demo_report_html(bad)
    bad = copy.deepcopy(metrics)
    bad["queue"][3]["month"] = "2024-13"
    with pytest.raises(ReportDataError, match="month"):
        render_demo_report_html(bad)
    bad = copy.deepcopy(metrics)
    bad["outcomes_by_profile"][0]["count"] = "12"
    with pytest.raises(ReportDataError, match="count"):
        render_demo_report_html(bad)


def test_empty_queue_renders_no_data(metrics: dict[str, Any]) -> None:
    metrics["queue"] = []
    html = render_demo_report_html(metrics)
    body = html.split('<section id="queue">', 1)[1].split("</section>", 1)[0]
    assert "no data" in body.lower()
    assert "<svg" not in body
    assert html.count("<svg") == CHART_COUNT - 1


def test_all_empty_renders_no_data_everywhere(metrics: dict[str, Any]) -> None:
    for key in ("figures", "outcomes_by_profile", "final_by_profile", "queue", "diaries_by_year"):
        metrics[key] = []
    metrics["funnel"] = {}
    metrics["reconciliation"] = {}
    metrics["cost"] = {"mailers_processed": 0, "deferrals": 0, "do_cdr": 0}
    html = render_demo_report_html(metrics)
    assert html.count("<svg") == 1  # only the cost chart remains
    for section in ("figures", "outcomes", "queue", "funnel", "diaries", "reconciliation"):
        body = html.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
        assert "no data" in body.lower(), section


def test_same_metrics_give_identical_bytes(metrics: dict[str, Any], tmp_path: Path) -> None:
    a = render_demo_report(metrics, tmp_path / "a.html").read_bytes()
    render_demo_report_html({**metrics, "queue": []})  # rendering something else in between changes nothing
    b = render_demo_report(copy.deepcopy(metrics), tmp_path / "b.html").read_bytes()
    assert a == b


def test_rendering_is_fast(metrics: dict[str, Any]) -> None:
    render_demo_report_html(metrics)  # warm up imports and font cache
    start = time.perf_counter()
    render_demo_report_html(metrics)
    assert time.perf_counter() - start < 3.0
