"""The demo run report: one self-contained, deterministic HTML page with inline SVG charts that says
what it measures (every share with its numerator and denominator; every table of parts adding up)."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import pytest

from cdrflow.reports import REQUIRED_KEYS, ReportDataError, render_demo_report, render_demo_report_html
from cdrflow.reports.demo_report import of_words

CHARTS = ["flow-sent", "flow-received", "intake", "final", "queue", "diaries", "cost"]
SCRIPT_NOTE = "<script>alert('x')</script>"
RAW_KEYS = ("DO_CDR", "PC_REVIEW", "INTEGRITY_FLIP", "NONRESPONDER_DO_CDR", "auto_defer", "pc_flip", "integrity_seed")


def _months(n: int) -> list[str]:
    return [f"{2024 + i // 12}-{i % 12 + 1:02d}" for i in range(n)]


def _p(label: str, count: int, parts: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"label": label, "count": count, **extra}
    if parts is not None:
        row["parts"] = parts
    return row


@pytest.fixture
def metrics() -> dict[str, Any]:
    queue = []
    open_pc = 0
    for i, month in enumerate(_months(18)):
        new = 120 + 15 * (i % 5)
        cleared = min(open_pc + new, 110 + 10 * (i % 3))
        open_pc = open_pc + new - cleared
        queue.append({"month": month, "open_pc_review": open_pc, "new_pc_review": new, "cleared": cleared,
                      "open_nonresponder": 300 + 7 * i})
    intake = {"T2": {"DEFER": 41_210, "DO_CDR": 3_105, "PC_REVIEW": 2_284},
              "T2/16": {"DEFER": 12_870, "DO_CDR": 2_950, "PC_REVIEW": 1_133},
              "T16": {"DEFER": 2_014, "DO_CDR": 1_870, "PC_REVIEW": 412}}
    final = {"T2": {"DEFER": 42_101, "DO_CDR": 4_010, "INTEGRITY_FLIP": 84, "REFERRED": 260, "OPEN": 144},
             "T16": {"DEFER": 2_101, "DO_CDR": 2_102, "INTEGRITY_FLIP": 9, "NONRESPONDER_DO_CDR": 61, "OPEN": 23}}
    return {
        "config": {"People in the synthetic population": 75_000, "Random seed": 20240501, "integrity_seed": 455,
                   "Months of selection runs": 18},
        "timing": {"seconds": 6.127},
        "figures": [
            {"name": "Mailers sent to PC review", "cite": "DI 40502.001F.1.b", "seed": "about 20% of all mailers "
             "received", "numerator": {"label": "sent to PC review", "count": 3_829},
             "denominator": {"label": "mailers received", "count": 67_848}, "status": "near the seed figure",
             "why": "within ±5 points"},
            {"name": "Integrity flips among the mailers received", "cite": "DI 40502.001B.4",
             "seed": "approximately 5% of the mailers received",
             "numerator": {"label": "flipped", "count": 93}, "denominator": {"label": "mailers received",
                                                                             "count": 67_848},
             "status": "not met", "why": SCRIPT_NOTE},
        ],
        "flow": [
            {"id": "sent", "title": "Where the mailers went", "chart": True, "lead": "Every mailer sent.",
             "total": _p("Mailers sent (first requests, G.6)", 75_000), "parts": [
                 _p("Returned and passed to the decision logic (mailers received)", 67_848, short="received"),
                 _p("Nonresponders", 4_917, short="nonresponders"),
                 _p("Not back yet", 2_235, short="not back")]},
            {"id": "received", "title": "Decisions on the mailers received", "chart": "leaves",
             "total": _p("Mailers received", 67_848), "parts": [
                 _p("Decided automatically", 64_019, [_p("deferred", 56_094, short="auto: deferred"),
                                                      _p("DO CDR", 7_925, short="auto: DO CDR")], cite="F.1.a"),
                 _p("Sent to PC review", 3_829, [_p("deferred", 3_500, short="PC: deferred"),
                                                 _p("DO CDR", 329, short="PC: DO CDR")], cite="F.1.b")]},
        ],
        "by_title": {
            "profiles": {"L": 75_000},
            "intake": [{"group": g, "outcome": o, "count": n} for g, row in intake.items() for o, n in row.items()],
            "final": [{"group": g, "outcome": o, "count": n} for g, row in final.items() for o, n in row.items()],
        },
        "queue": queue,
        "diaries_by_year": [{"year": 2031, "count": 9_412}, {"year": 2029, "count": 30_118},
                            {"year": 2030, "count": 17_885}],
        "cost": {"mailers_processed": 60_975, "deferrals": 57_406, "do_cdr": 3_569, "mailer_cost_each": 50,
                 "cdr_cost_low": 750, "cdr_cost_high": 800},
        "reconciliation": [
            {"label": "Mailers sent = INITIAL MAILER SENT events", "left": 75_000,
             "right": [["INITIAL MAILER SENT events", 75_000]]},
        ],
        "activity": {"Decisions (DE/DEC/DC)": 3_829},
    }


def _section(html: str, section: str) -> str:
    return html.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]


class _Text(HTMLParser):
    """The page's visible text outside SVG, and the percentages not inside a ``span.share``."""

    PROSE: ClassVar[frozenset[str]] = frozenset(  # prose and settings (a parameter's value is not a share)
        {"seed", "why", "lead", "hint", "cite", "subtitle", "setting"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, set[str]]] = []
        self.text: list[str] = []
        self.loose: list[str] = []
        self.shares: list[tuple[int, int, str]] = []
        self._share: list[Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        self.stack.append((tag, classes))
        if tag == "span" and "share" in classes:
            self._share = [int(a["data-num"] or 0), int(a["data-den"] or 0), ""]

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            t, classes = self.stack.pop()
            if t == "span" and "share" in classes and self._share is not None:
                self.shares.append((self._share[0], self._share[1], self._share[2]))
                self._share = None
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        if any(t in ("svg", "style", "title") for t, _ in self.stack):
            return
        self.text.append(data)
        if self._share is not None:
            self._share[2] += data
            return
        if any(c & self.PROSE or t == "blockquote" for t, c in self.stack):
            return
        self.loose.extend(re.findall(r"\d+(?:\.\d+)?%", data))


def _parse(html: str) -> _Text:
    p = _Text()
    p.feed(html)
    return p


def _check_shares(html: str) -> _Text:
    """Every share shows the percentage of its numerator over its denominator, and no other percentage
    stands outside the prose (seed texts, leads, whys, hints)."""
    p = _parse(html)
    assert p.shares, "no shares on the page"
    for num, den, text in p.shares:
        pct = f"{100 * num / den:.1f}%" if den else "—"
        assert text.strip().startswith(pct), (num, den, text)
    assert p.loose == [], f"percentages without their numerator and denominator: {p.loose}"
    return p


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
    assert re.findall(r'<svg class="chart" data-chart="([a-z-]+)"', html) == CHARTS
    for section, names in {"sent": ["flow-sent"], "received": ["flow-received", "intake"], "outcomes": ["final"],
                           "queue": ["queue"], "diaries": ["diaries"], "cost": ["cost"]}.items():
        assert re.findall(r'data-chart="([a-z-]+)"', _section(html, section)) == names
    assert "<?xml" not in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_every_share_names_its_numerator_and_denominator(metrics: dict[str, Any]) -> None:
    html = render_demo_report_html(metrics)
    _check_shares(html)
    figures = _section(html, "figures")
    # the figure row shows both counts, the base and the share computed from them
    assert "3,829</strong> sent to PC review" in figures and "67,848</strong> mailers received" in figures
    assert ">5.6%<" in figures  # 3,829 / 67,848
    # a flow row names its denominator in words, not a raw label
    sent = _section(html, "sent")
    assert "90.5% of 75,000 mailers sent" in sent  # 67,848 / 75,000
    assert "8.6% of 3,829 sent to PC review" in _section(html, "received")  # 329 / 3,829


def test_parts_that_do_not_add_up_are_shown(metrics: dict[str, Any]) -> None:
    html = render_demo_report_html(metrics)
    assert html.count('data-reconciles="yes"') == 2 and "does not reconcile" not in html
    assert "every table and check below adds up" in html
    bad = copy.deepcopy(metrics)
    bad["flow"][1]["parts"][1]["parts"][1]["count"] = 330  # PC review's parts now 3,830 for 3,829
    html = render_demo_report_html(bad)
    received = _section(html, "received")
    assert 'data-reconciles="no"' in received and "its parts do not add up" in received
    assert "some figures do not add up" in html
    bad = copy.deepcopy(metrics)
    bad["reconciliation"][0]["right"].append(["stray", 1])
    html = render_demo_report_html(bad)
    assert ">NO<" in _section(html, "reconciliation") and "some figures do not add up" in html


def test_words_not_raw_keys(metrics: dict[str, Any]) -> None:
    html = render_demo_report_html(metrics)
    text = " ".join(_parse(html).text)
    for raw in RAW_KEYS:
        assert raw not in text, raw
    assert "DO CDR by integrity flip" in text and "Sent to PC review" in text and "Integrity seed" in text
    # one profile mailed: said so, and the tables go by title group instead
    assert "Every mailer in this run went to a LOW-profile case" in text
    assert "T2/16" in _section(html, "received")
    assert of_words("Sent to PC review (F.1.b)") == "sent to PC review"
    assert of_words("PC-reviewed decisions (DE/DEC/DC inputs)") == "PC-reviewed decisions"
    assert of_words("DO CDR, every reason") == "DO CDR, every reason"


def test_figures_and_numbers_are_shown(metrics: dict[str, Any]) -> None:
    html = render_demo_report_html(metrics)
    for figure in metrics["figures"]:
        assert figure["name"] in html and figure["status"] in html
    assert "41,210" in html
    assert "75,000" in html
    assert "$3,048,750" in html  # 60,975 x $50
    assert "$43,054,500" in html  # 57,406 x $750
    assert "$45,924,800" in html  # 57,406 x $800
    assert "$40,005,750 to $42,876,050" in html  # saving range
    assert ">20240501<" in html  # seeds keep their digits together
    assert "20,240,501" not in html
    assert "6.13" in html  # timing


def test_script_in_a_note_is_escaped(metrics: dict[str, Any]) -> None:
    html = render_demo_report_html(metrics)
    assert SCRIPT_NOTE not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html


def test_script_in_chart_labels_is_escaped(metrics: dict[str, Any]) -> None:
    metrics["flow"][0]["parts"][0]["short"] = "<script>bad()</script>"
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
    bad["by_title"]["intake"][0]["count"] = "12"
    with pytest.raises(ReportDataError, match="count"):
        render_demo_report_html(bad)
    bad = copy.deepcopy(metrics)
    del bad["figures"][0]["denominator"]
    with pytest.raises(ReportDataError, match="denominator"):
        render_demo_report_html(bad)


def test_empty_queue_renders_no_data(metrics: dict[str, Any]) -> None:
    metrics["queue"] = []
    html = render_demo_report_html(metrics)
    body = _section(html, "queue")
    assert "no data" in body.lower()
    assert "<svg" not in body
    assert html.count("<svg") == len(CHARTS) - 1


def test_all_empty_renders_no_data_everywhere(metrics: dict[str, Any]) -> None:
    for key in ("figures", "flow", "queue", "diaries_by_year", "reconciliation"):
        metrics[key] = []
    metrics["by_title"] = {"profiles": {}, "intake": [], "final": []}
    metrics["cost"] = {"mailers_processed": 0, "deferrals": 0, "do_cdr": 0}
    html = render_demo_report_html(metrics)
    assert html.count("<svg") == 1  # only the cost chart remains
    for section in ("figures", "sent", "received", "outcomes", "queue", "diaries", "reconciliation"):
        assert "no data" in _section(html, section).lower(), section


def test_same_metrics_give_identical_bytes(metrics: dict[str, Any], tmp_path: Path) -> None:
    a = render_demo_report(metrics, tmp_path / "a.html").read_bytes()
    render_demo_report_html({**metrics, "queue": []})  # rendering something else in between changes nothing
    b = render_demo_report(copy.deepcopy(metrics), tmp_path / "b.html").read_bytes()
    assert a == b


# ---- a small real run: what the lifecycle produces reconciles ----------------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    from cdrflow.simulate.lifecycle import run_demo

    out = tmp_path_factory.mktemp("demo")
    m = run_demo(out, count=1500, months=12, seed=455)
    return m, render_demo_report(m, out / "report.html").read_text(encoding="utf-8")


def _sums(parts: list[dict[str, Any]]) -> int:
    for p in parts:
        if "parts" in p:
            assert _sums(p["parts"]) == p["count"], p["label"]
    return sum(p["count"] for p in parts)


def test_small_run_reconciles(run: tuple[dict[str, Any], str]) -> None:
    m, html = run
    flow = {b["id"]: b for b in m["flow"]}
    assert set(flow) == {"sent", "received", "nonresponders", "completed", "docdr", "integrity"}
    for b in m["flow"]:
        assert _sums(b["parts"]) == b["total"]["count"], b["id"]
    for c in m["reconciliation"]:
        assert c["left"] == sum(n for _, n in c["right"]), c["label"]
    parts = {b: {p["label"]: p for p in flow[b]["parts"]} for b in flow}
    sent, received = flow["sent"]["total"]["count"], flow["received"]["total"]["count"]
    assert sent > received > 0
    assert parts["sent"]["Returned and passed to the decision logic (mailers received)"]["count"] == received
    completed = flow["completed"]["total"]["count"]
    deferred = next(p["count"] for p in flow["completed"]["parts"] if p["label"].startswith("Deferred"))
    # the cost uses the same bases, and the diaries are the deferrals'
    assert (m["cost"]["mailers_processed"], m["cost"]["deferrals"]) == (completed, deferred)
    assert m["cost"]["deferrals"] + m["cost"]["do_cdr"] == completed
    diaries = next(c for c in m["reconciliation"] if c["label"].startswith("Deferrals = medical diaries set"))
    assert diaries["left"] == deferred and diaries["right"][0][1] == sum(d["count"] for d in m["diaries_by_year"])
    first_year = int(m["config"]["First and last month"][:4])
    assert min(d["year"] for d in m["diaries_by_year"]) >= first_year  # set by this run, none before it
    # the by-title tables count the same cases as the flow
    assert sum(r["count"] for r in m["by_title"]["final"]) == sent
    assert sum(r["count"] for r in m["by_title"]["intake"]) == received
    assert sum(m["by_title"]["profiles"].values()) == sent
    # the figures use those bases
    fig = {f["name"]: f for f in m["figures"]}
    for f in m["figures"]:
        assert 0 <= f["numerator"]["count"] <= f["denominator"]["count"], f["name"]
    assert fig["Mailers decided automatically"]["denominator"]["count"] == received
    assert (fig["Mailers decided automatically"]["numerator"]["count"]
            + fig["Mailers sent to PC review"]["numerator"]["count"]) == received
    assert fig["DO CDR on the answers"]["denominator"]["count"] == completed
    assert fig["Integrity flips among the mailers received"]["denominator"]["count"] == received
    g7 = fig["Integrity sample among PC-reviewed decisions"]
    assert g7["denominator"]["count"] == flow["integrity"]["total"]["count"] > 0
    assert "B.4" not in g7["cite"] and "G.7" in g7["cite"]
    assert "does not reconcile" not in html and "every table and check below adds up" in html
    _check_shares(html)
    text = " ".join(_parse(html).text)
    for raw in RAW_KEYS:
        assert raw not in text, raw


def test_b4_is_not_labelled_met_on_the_g7_base(run: tuple[dict[str, Any], str]) -> None:
    """B.4 is measured on mailers received; the sampler's 5% of PC reviews is not B.4's 5%."""
    m, html = run
    b4 = next(f for f in m["figures"] if f["cite"] == "DI 40502.001B.4")
    share = b4["numerator"]["count"] / b4["denominator"]["count"]
    assert b4["status"] == ("met" if abs(share - 0.05) <= 0.01 else "not met")
    if b4["status"] == "not met":
        assert "G.7 draws only from PC-reviewed decisions" in b4["why"] and "PC deferral inputs" in b4["why"]
    figures = _section(html, "figures")
    assert "5% (cdrflow reading)" in figures and "as set" in figures
