"""What a demo run produced: every figure with its numerator and denominator (``collect``), each case's path
(``classify``), and the figures set beside the seed's. Split from :mod:`cdrflow.simulate.lifecycle`."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from cdrflow.dcf.schema import cases, events
from cdrflow.dcf.store import DCDRS, Store
from cdrflow.workflow import common as c
from cdrflow.workflow import integrity

# ---- what the run produced: every figure with its numerator and denominator ---------------------------

SEED_FIGURES = "DI 40502.001"
"""Figures the report sets beside the seed's; each names the passage, its base and this run's base."""

# The case paths: every mailer sent ends in exactly one of them (see ``classify``).
RECEIVED_PATHS = ("auto_defer", "auto_docdr", "pc_defer", "pc_docdr", "pc_flip", "pc_open", "pc_other")
NONRESPONDER_PATHS = ("nr_docdr", "nr_phone_defer", "nr_phone_docdr", "nr_phone_flip", "nr_open", "nr_other")
OTHER_PATHS = ("screen_referred", "unsigned", "not_back")
PATHS = RECEIVED_PATHS + NONRESPONDER_PATHS + OTHER_PATHS

# Final outcome of a case (the "by title" table): the path it took, in a manager's words.
FINAL_OF_PATH = {
    "auto_defer": "DEFER", "pc_defer": "DEFER", "nr_phone_defer": "DEFER",
    "auto_docdr": "DO_CDR", "pc_docdr": "DO_CDR", "nr_phone_docdr": "DO_CDR",
    "pc_flip": "INTEGRITY_FLIP", "nr_phone_flip": "INTEGRITY_FLIP",
    "nr_docdr": "NONRESPONDER_DO_CDR",
    "screen_referred": "REFERRED",
    "pc_open": "OPEN", "nr_open": "OPEN", "unsigned": "OPEN", "not_back": "OPEN", "pc_other": "OPEN",
    "nr_other": "OPEN",
}
INTAKE_OF_PATH = {"auto_defer": "DEFER", "auto_docdr": "DO_CDR", "pc_defer": "PC_REVIEW", "pc_docdr": "PC_REVIEW",
                  "pc_flip": "PC_REVIEW", "pc_open": "PC_REVIEW", "pc_other": "PC_REVIEW"}

PROFILE_WORDS = {"L": "LOW", "M": "MEDIUM", "H": "HIGH"}

# "about" / "approximately": a reporting convention, not policy (docs/interpretations.md#figures).
NEAR_POINTS = {"F.1.a": 5.0, "F.1.b": 5.0, "B.3": 0.5, "B.4": 1.0, "G.7": 1.0}


def classify(conn: Any) -> tuple[Counter[tuple[str, str]], dict[str, int]]:
    """Each case's path from selection to where it stands at the end of the run, counted by title.

    A returned mailer passed to the decision logic (MAILER RECEIVED) was decided automatically
    (DCDRS DEFER / INITIATE CDR) or sent to PC review, where the DE/DEC/DC deferred, decided DO CDR
    or deferred and was flipped by the integrity sample (G.7). A nonresponder (I) without a
    returned mailer was referred for a CDR when DIRCON failed, completed by telephone and decided by
    the PC, or is still open. Otherwise the mailer was referred at WBDOC screening (E.2), is held
    for a signature, or has not come back.
    """
    marks: dict[str, set[str]] = {}
    extra = Counter[str]()
    rows = conn.execute(select(events.c.case_id, events.c.event_type, events.c.actor_role).where(
        events.c.event_type.like("% MAILER RECEIVED") | events.c.event_type.like("% PC MAILER REVIEW")
        | events.c.event_type.like("% NONRESPONDER REVIEW") | events.c.event_type.like("% SECOND MAILER SENT")
        | ((events.c.actor_role == DCDRS.role)
           & (events.c.event_type.like("% DEFER CDR") | events.c.event_type.like("% INITIATE CDR"))))).all()
    for cid, etype, role in rows:
        m = marks.setdefault(cid, set())
        if role == DCDRS.role and etype.endswith("DEFER CDR"):
            m.add("auto_defer")
        elif role == DCDRS.role and etype.endswith("INITIATE CDR"):
            m.add("auto_docdr")
        elif etype.endswith("MAILER RECEIVED"):
            m.add("received")
        elif etype.endswith("PC MAILER REVIEW"):
            m.add("pc_review")
        elif etype.endswith("NONRESPONDER REVIEW"):
            m.add("nonresponder")
        else:
            m.add("second")
    # F.1.b: PC reviews of nonactionable mailers whose answers the J.2.d rows could not clearly decide
    # (interpretations §58); before issue 11 the logic closed these automatically.
    for (detail,) in conn.execute(select(events.c.detail).where(events.c.event_type.like("% PC MAILER REVIEW"),
                                                                events.c.actor_role == DCDRS.role)).all():
        d = json.loads(detail) if detail else {}
        if {"pc_review_routing:P11a", "pc_review_routing:P11b"} & set(d.get("rule_ids") or ()):
            extra["pc_not_clear"] += 1
    for cid, detail in conn.execute(select(events.c.case_id, events.c.detail)
                                    .where(events.c.event_type.like("% INITIATE CDR%"))).all():
        if detail and json.loads(detail).get("reason") == "NONRESPONDER":
            marks.setdefault(cid, set()).add("nr_docdr")
    paths: Counter[tuple[str, str]] = Counter()
    for cid, title, state, flipped, selected in conn.execute(
            select(cases.c.case_id, cases.c.title, cases.c.state, cases.c.integrity_flipped,
                   cases.c.integrity_selected)).all():
        m = marks.get(cid, set())
        extra["second_requests"] += "second" in m
        extra["nonresponder_alerts"] += "nonresponder" in m
        decided = {c.DEFERRED: "defer", c.DO_CDR: "flip" if flipped else "docdr"}.get(state)
        if "received" in m:
            if "auto_defer" in m:
                path = "auto_defer"
            elif "auto_docdr" in m:
                path = "auto_docdr"
            elif state == c.PC_REVIEW:
                path = "pc_open"
            else:
                path = f"pc_{decided}" if decided else "pc_other"
        elif state in (c.REFERRED, c.REFERRAL_CLOSED):
            path = "screen_referred"
        elif state == c.SIGNATURE_PENDING:
            path = "unsigned"
        elif "nonresponder" in m:
            if "nr_docdr" in m:
                path = "nr_docdr"
            elif decided:
                path = f"nr_phone_{decided}"
            elif state in c.OPEN_STATES:
                path = "nr_open"
            else:
                path = "nr_other"
        else:
            path = "not_back"
        paths[(title, path)] += 1
        extra["sampled_docdr"] += bool(selected and not flipped and path in ("pc_docdr", "nr_phone_docdr"))
    return paths, dict(extra)


def _part(label: str, count: int, parts: list[dict[str, Any]] | None = None, cite: str = "",
          short: str = "") -> dict[str, Any]:
    row: dict[str, Any] = {"label": label, "count": count}
    if short:
        row["short"] = short
    if parts is not None:
        row["parts"] = parts
    if cite:
        row["cite"] = cite
    return row


def _pct_text(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}%" if d else "n/a"


def _near(key: str, n: int, d: int, target: float) -> bool | None:
    return None if not d else abs(100 * n / d - target) <= NEAR_POINTS[key]


def collect(store: Store, queue: list[dict[str, Any]], ingest_totals: Counter[str],
            reviewer_counts: Counter[str], *, on: dt.date) -> dict[str, Any]:
    """The report's metrics: the case paths as reconciling tables, the seed figures on named bases."""
    with store.read() as tx:
        conn = tx.conn
        by_title, extra = classify(conn)
        ev: dict[str, int] = dict(
            conn.execute(select(events.c.event_type, func.count()).group_by(events.c.event_type)).all())
        diary_rows = conn.execute(select(events.c.detail).where(
            events.c.event_type.like("% MEDICAL DIARY RESET"))).all()
        # J.3.a NOTE: a deferral on blank DCF medical data sets no diary; a REMARK says so instead.
        no_diary = sum(1 for (d,) in conn.execute(select(events.c.detail).where(
            events.c.event_type.like("% REMARK"), events.c.code == "IRMK")).all()
            if d and json.loads(d).get("diary_calculated") is False)
        profiles: dict[str, int] = dict(
            conn.execute(select(cases.c.profile, func.count()).group_by(cases.c.profile)).all())
        pc_inputs = conn.execute(select(func.count()).select_from(events).where(
            events.c.code.like("IPCA %"), events.c.actor_role.in_(sorted(c.STAGE_ROLES[c.DE])))).scalar_one()
    n: Counter[str] = Counter()
    for (_title, path), k in by_title.items():
        n[path] += k

    def count(suffix: str) -> int:
        return sum(k for t, k in ev.items() if t.endswith(suffix))

    sent = sum(n.values())
    received = sum(n[p] for p in RECEIVED_PATHS)
    auto = n["auto_defer"] + n["auto_docdr"]
    pc = received - auto
    nonresp = sum(n[p] for p in NONRESPONDER_PATHS)
    phone = n["nr_phone_defer"] + n["nr_phone_docdr"] + n["nr_phone_flip"]
    deferred = n["auto_defer"] + n["pc_defer"] + n["nr_phone_defer"]
    docdr_answers = n["auto_docdr"] + n["pc_docdr"] + n["nr_phone_docdr"]
    flips = n["pc_flip"] + n["nr_phone_flip"]
    completed = deferred + docdr_answers + flips
    pc_decisions = n["pc_defer"] + n["pc_docdr"] + n["pc_flip"] + phone
    pc_defer_inputs = n["pc_defer"] + n["pc_flip"] + n["nr_phone_defer"] + n["nr_phone_flip"]
    sampled = flips + extra.get("sampled_docdr", 0)
    rate = c.integrity_rate(on)  # the rate in force at the last month of the run
    not_clear = extra.get("pc_not_clear", 0)
    b4_flips = n["pc_flip"]  # B.4: of the mailers received, referred although the answers pointed to deferral

    flow = [
        {"id": "sent", "title": "Where the mailers went", "chart": True,
         "lead": "Every mailer sent, counted once, by where its case stood at the end of the run.",
         "total": _part("Mailers sent (first requests, G.6)", sent), "parts": [
             _part("Returned and passed to the decision logic (mailers received)", received, cite="E.3, F.1",
                   short="mailers received"),
             _part("Returned but referred to the PC or FO at WBDOC screening (death, damage, name change, "
                   "fraud, foreign address)", n["screen_referred"], cite="E.2", short="referred at screening"),
             _part("Returned unsigned, held for a signature", n["unsigned"], cite="E.2", short="unsigned, held"),
             _part("Nonresponders: no returned mailer 150 days after the second request", nonresp, cite="G.6, I",
                   short="nonresponders"),
             _part("Not back yet (mailer still out, or returned undeliverable and held)", n["not_back"],
                   cite="E.1, G.6", short="not back yet"),
         ]},
        {"id": "received", "title": "Decisions on the mailers received", "chart": "leaves",
         "lead": "The decision logic decides what it can; the rest goes to PC review (F.1). In PC review "
                 "the DE/DEC/DC decides, and the integrity sample may flip a deferral (G.7). "
                 f"{not_clear:,} of the mailers sent to PC review were nonactionable mailers whose answers the "
                 "reviewer-guide rows could not clearly decide (they conflict, call for weighing or say nothing: "
                 "F.1.b, interpretations \u00a758); the logic closed these automatically before that reading, "
                 f"which would have made the split {_pct_text(auto + not_clear, received)} automatic / "
                 f"{_pct_text(pc - not_clear, received)} PC review instead of {_pct_text(auto, received)} / "
                 f"{_pct_text(pc, received)}.",
         "total": _part("Mailers received (data files passed to the decision logic)", received), "parts": [
             _part("Decided automatically by the decision logic", auto, [
                 _part("deferred", n["auto_defer"], short="automatic: deferred"),
                 _part("DO CDR", n["auto_docdr"], short="automatic: DO CDR")], cite="F.1.a"),
             _part("Sent to PC review", pc, [
                 _part("PC reviewer deferred (the deferral stood)", n["pc_defer"], short="PC review: deferred"),
                 _part("PC reviewer decided DO CDR", n["pc_docdr"], short="PC review: DO CDR"),
                 _part("PC reviewer deferred; the integrity sample flipped it to DO CDR", n["pc_flip"],
                       short="PC review: integrity flip"),
                 _part("still in PC review at the end of the run", n["pc_open"], short="PC review: still open"),
                 *([_part("other (see the case history)", n["pc_other"], short="PC review: other")]
                   if n["pc_other"] else []),
             ], cite="F.1.b, G.5, G.7"),
         ]},
        {"id": "nonresponders", "title": "Nonresponders", "chart": False,
         "lead": f"{extra.get('second_requests', 0):,} second requests were sent (G.6); "
                 f"{extra.get('nonresponder_alerts', 0):,} cases were alerted as nonresponders, of which "
                 f"{extra.get('nonresponder_alerts', 0) - nonresp:,} later returned a mailer (counted above with the "
                 "returns). The rest:",
         "total": _part("Nonresponders without a returned mailer", nonresp), "parts": [
             _part("DIRCON failed: DO CDR as a nonresponder", n["nr_docdr"], cite="I"),
             _part("Completed by telephone (DIRCON) and decided by the PC reviewer", phone, [
                 _part("deferred", n["nr_phone_defer"]), _part("DO CDR", n["nr_phone_docdr"]),
                 _part("deferred; the integrity sample flipped it to DO CDR", n["nr_phone_flip"])], cite="I, J.1"),
             _part("Still open (DIRCON under way)", n["nr_open"] + n["nr_other"], cite="I"),
         ]},
        {"id": "completed", "title": "Completed mailers and their outcome", "chart": False,
         "lead": "A completed mailer is one decided on its answers: received and decided (automatically or "
                 "in PC review), or completed by telephone. Nonresponder referrals are not completed mailers.",
         "total": _part("Completed mailers", completed), "parts": [
             _part("Deferred (a new medical diary is set)", deferred, [
                 _part("automatically", n["auto_defer"]), _part("in PC review", n["pc_defer"]),
                 _part("completed by telephone", n["nr_phone_defer"])], cite="B.3, G.5"),
             _part("DO CDR on the answers", docdr_answers, [
                 _part("automatically", n["auto_docdr"]), _part("in PC review", n["pc_docdr"]),
                 _part("completed by telephone", n["nr_phone_docdr"])], cite="B.3"),
             _part("DO CDR by integrity flip (the answers pointed to deferral)", flips, cite="B.4, G.7"),
         ]},
        {"id": "docdr", "title": "All referrals for a full medical CDR", "chart": False,
         "lead": "Every case referred to the FO for a full medical CDR in this run, by why.",
         "total": _part("DO CDR, every reason", docdr_answers + flips + n["nr_docdr"]), "parts": [
             _part("on the answers, automatically", n["auto_docdr"], cite="F.1.a"),
             _part("on the answers, by the PC reviewer", n["pc_docdr"] + n["nr_phone_docdr"], cite="G.5"),
             _part("integrity flips", flips, cite="G.7"),
             _part("nonresponders (DIRCON failed)", n["nr_docdr"], cite="I"),
         ]},
        {"id": "integrity", "title": "The integrity sample", "chart": False,
         "lead": "G.7 draws the sample from cases the PC reviewed, after the reviewer's input. cdrflow samples "
                 f"each PC-reviewed decision at the parameter {integrity.PARAMETER} ({rate:.0%}, a cdrflow "
                 "reading: G.7 gives no rate).",
         "total": _part("PC-reviewed decisions (DE/DEC/DC deferral or DO CDR inputs)", pc_decisions), "parts": [
             _part("not sampled", pc_decisions - sampled),
             _part("sampled", sampled, [
                 _part("deferral input, flipped to DO CDR", flips),
                 _part("DO CDR input, stays DO CDR", extra.get("sampled_docdr", 0))], cite="G.7"),
         ]},
    ]

    need = 0.05 * received
    b4_met = _near("B.4", b4_flips, received, 5.0)
    if b4_met:
        b4_why = f"{b4_flips:,} of the {received:,} mailers received were flipped."
    else:
        share = f"{100 * need / pc_defer_inputs:.0f}%" if pc_defer_inputs else "n/a"
        b4_why = (f"G.7 draws only from PC-reviewed decisions ({pc_decisions:,}, "
                  f"{_pct_text(pc_decisions, received)} of the mailers received), and only a sampled deferral is "
                  "referred despite its answers. Meeting 5% of the mailers received "
                  f"({need:,.0f} flips) would need {share} of the {pc_defer_inputs:,} PC deferral inputs to be "
                  "sampled, which is not G.7's \u201csmall\u201d sample. The parameter's rate is therefore read as a "
                  "share of PC-reviewed decisions (row below), not as B.4's figure.")

    def status(flag: bool | None, yes: str = "near the seed figure", no: str = "off the seed figure") -> str:
        return "no data" if flag is None else (yes if flag else no)

    f1a = _near("F.1.a", auto, received, 80.0)
    f1b = _near("F.1.b", pc, received, 20.0)
    b3 = _near("B.3", docdr_answers, completed, 2.5)
    # The sampler against its own rate: a random draw, so "as set" allows three standard errors.
    se_points = 300 * math.sqrt(rate * (1 - rate) / pc_decisions) if pc_decisions else 0.0
    g7_points = max(NEAR_POINTS["G.7"], se_points)
    g7 = None if not pc_decisions else abs(100 * sampled / pc_decisions - 100 * rate) <= g7_points
    figures = [
        {"key": "F.1.a", "name": "Mailers decided automatically", "cite": "DI 40502.001F.1.a",
         "seed": "about 80% of the data files received", "target": 80.0,
         "numerator": {"label": "decided automatically", "count": auto},
         "denominator": {"label": "mailers received", "count": received},
         "status": status(f1a), "why": f"within \u00b1{NEAR_POINTS['F.1.a']:.0f} points counts as near"},
        {"key": "F.1.b", "name": "Mailers sent to PC review", "cite": "DI 40502.001F.1.b",
         "seed": "about 20% of all mailers received", "target": 20.0,
         "numerator": {"label": "sent to PC review", "count": pc},
         "denominator": {"label": "mailers received", "count": received},
         "status": status(f1b), "why": f"within \u00b1{NEAR_POINTS['F.1.b']:.0f} points counts as near"},
        {"key": "B.3", "name": "DO CDR on the answers", "cite": "DI 40502.001B.3",
         "seed": "about 2.5% of the completed mailers", "target": 2.5,
         "numerator": {"label": "DO CDR on the answers (automatic or PC reviewer; not integrity flips, "
                                "not nonresponders)", "count": docdr_answers},
         "denominator": {"label": "completed mailers (integrity flips included)", "count": completed},
         "status": status(b3), "why": f"within \u00b1{NEAR_POINTS['B.3']:.1f} point counts as near; the "
                                      f"{flips:,} flips are B.4's, counted below"},
        {"key": "B.4", "name": "Integrity flips among the mailers received", "cite": "DI 40502.001B.4",
         "seed": "approximately 5% of the mailers received", "target": 5.0,
         "numerator": {"label": "mailers received whose deferral was flipped to DO CDR", "count": b4_flips},
         "denominator": {"label": "mailers received", "count": received},
         "status": status(b4_met, "met", "not met"), "why": b4_why},
        {"key": "G.7", "name": "Integrity sample among PC-reviewed decisions", "cite": integrity.CITE,
         "seed": f"no rate in the seed; parameter {integrity.PARAMETER} = {rate:.0%} (cdrflow reading)",
         "target": 100 * rate,
         "numerator": {"label": "PC-reviewed decisions sampled", "count": sampled},
         "denominator": {"label": integrity.BASE, "count": pc_decisions},
         "status": status(g7, "as set", "off the parameter"),
         "why": f"a check on the sampler against its parameter (within \u00b1{g7_points:.1f} points, three "
                f"standard errors of a {rate:.0%} draw over {pc_decisions:,} decisions), not against a seed figure"},
    ]
    titles = sorted({t for t, _ in by_title})
    diaries: Counter[int] = Counter()
    for (d,) in diary_rows:
        month = json.loads(d).get("diary_month") if d else None
        if month:
            diaries[int(str(month)[:4])] += 1
    reconciliation = [
        {"label": "Mailers sent = cases selected = INITIAL MAILER SENT events",
         "left": sent, "right": [("INITIAL MAILER SENT events", count("INITIAL MAILER SENT"))]},
        {"label": "Mailers received = MAILER RECEIVED events = intake decisions",
         "left": received, "right": [("MAILER RECEIVED events", count("MAILER RECEIVED"))]},
        {"label": "Mailers received = decided automatically + sent to PC review (intake counts)",
         "left": received, "right": [("deferred automatically", ingest_totals["DEFER"]),
                                     ("DO CDR automatically", ingest_totals["DO_CDR"]),
                                     ("sent to PC review", ingest_totals["PC_REVIEW"])]},
        {"label": "Returned-mailer records read = decided + ended at WBDOC screening + already ingested + rejected",
         "left": ingest_totals["read"],
         "right": [("passed to the decision logic", ingest_totals["DEFER"] + ingest_totals["DO_CDR"]
                    + ingest_totals["PC_REVIEW"]),
                   ("undeliverable, remailed", ingest_totals["undeliverable_remailed"]),
                   ("undeliverable, held", ingest_totals["undeliverable_held"]),
                   ("unsigned, signature control", ingest_totals["signature_control"]),
                   ("referred at screening", sum(v for k, v in ingest_totals.items() if k.startswith("referred_"))),
                   ("already ingested (same file, same day)", ingest_totals["skipped"]),
                   ("rejected as invalid", ingest_totals["rejected"])]},
        {"label": "PC-reviewed decisions = DE/DEC/DC IPCA inputs on the DCF",
         "left": pc_decisions, "right": [("IPCA inputs by a DE/DEC/DC", int(pc_inputs))]},
        {"label": "Deferrals = medical diaries set + deferrals on blank medical data (no diary, J.3.a NOTE)",
         "left": deferred, "right": [("MEDICAL DIARY RESET events", sum(diaries.values())),
                                     ("REMARKs: no diary calculated", no_diary)]},
    ]
    activity = {
        "Actual mailers associated (DSE/FLC)": reviewer_counts.get("associated", 0),
        "Translations (BET/DT)": reviewer_counts.get("translated", 0),
        "Work reviews (BET/DT)": reviewer_counts.get("work_reviewed", 0),
        "Decisions (DE/DEC/DC)": reviewer_counts.get("decided", 0),
        "Deferrals flipped by the integrity sample": reviewer_counts.get("flipped", 0),
        **{f"Nonresponder DIRCON attempts: {k[7:].replace('_', ' ')}": v for k, v in sorted(reviewer_counts.items())
           if k.startswith("dircon_") and k != "dircon_do_cdr"},
    }
    return {
        "figures": figures,
        "flow": flow,
        "by_title": {
            "profiles": {str(k): int(v) for k, v in sorted(profiles.items())},
            "intake": [{"group": t, "outcome": INTAKE_OF_PATH[p], "count": k}
                       for (t, p), k in sorted(by_title.items()) if p in INTAKE_OF_PATH],
            "final": [{"group": t, "outcome": FINAL_OF_PATH[p], "count": k} for (t, p), k in sorted(by_title.items())],
            "titles": titles,
        },
        "queue": queue,
        "diaries_by_year": [{"year": y, "count": k} for y, k in sorted(diaries.items())],
        "cost": {"mailers_processed": completed, "deferrals": deferred, "do_cdr": docdr_answers + flips,
                 "mailer_cost_each": 50, "cdr_cost_low": 750, "cdr_cost_high": 800},
        "reconciliation": reconciliation,
        "activity": activity,
        "ingest": {k: int(v) for k, v in sorted(ingest_totals.items())},
    }
