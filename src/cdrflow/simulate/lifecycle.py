"""The demo: 24 months of the mailer lifecycle on a fresh SQLite DCF, with simulated people.

A synthetic population is loaded; each month the selection cycle runs (its cadence decides which
titles are selected), returns arrive at WBDOC and are ingested, and simulated PC staff work the
queue by the reviewer guide (DSE/FLC association, translation, BET/DT work review, DE/DEC/DC
decisions, DIRCON for nonresponders). Integrity sampling happens in the service, as in production.
The metrics collected feed :func:`cdrflow.reports.demo_report.render_demo_report`.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, func, select

from cdrflow.dcf.db import make_engine, upgrade
from cdrflow.dcf.schema import beneficiaries, cases, events
from cdrflow.dcf.store import Actor, Store
from cdrflow.engine.months import Month
from cdrflow.policy.mailer.jurisdiction import use_ssn_table
from cdrflow.workflow import common as c
from cdrflow.workflow import review
from cdrflow.workflow.cycle import run_cycle
from cdrflow.workflow.history import received_record
from cdrflow.workflow.intake import ingest, write_rejects
from cdrflow.workflow.population import load

from .returns import simulate_returns, write_returns

DEMO_PC_TABLE = Path(__file__).parent / "data" / "demo_pc_ssn_table.yaml"
Progress = Callable[[str, int, int | None], None]


def _add_months(d: dt.date, n: int) -> dt.date:
    m = Month(d.year, d.month) + n
    return dt.date(m.year, m.month, d.day)


class Reviewers:
    """Simulated PC staff: they follow the alert, the earnings-tolerance calc and the reviewer guide."""

    def __init__(self, store: Store, seed: int, capacity: float = 0.9, disagree: float = 0.01) -> None:
        self.store = store
        self.rng = random.Random(seed)
        self.capacity = capacity
        self.disagree = disagree
        self.counts: Counter[str] = Counter()

    def work(self, on: dt.date) -> int:
        with self.store.read() as tx:
            open_cases = [dict(r) for r in tx.conn.execute(
                select(cases.c.case_id, cases.c.pc, cases.c.title, cases.c.review_stage, cases.c.state)
                .where(cases.c.state.in_([c.PC_REVIEW, c.NONRESPONDER]))
                .order_by(cases.c.last_event_date, cases.c.case_id)).mappings()]
        todo = open_cases[: int(len(open_cases) * self.capacity + 0.5)]
        for case in todo:
            self._one(case, on)
        return len(todo)

    def _one(self, case: dict[str, Any], on: dt.date) -> None:
        cid = case["case_id"]
        clerk = Actor("dse1", "DSE") if case["pc"] == 7 else Actor("flc1", "FLC")
        tech = Actor("bet1", "BET") if case["pc"] == 7 else Actor("dt1", "DT")
        examiner = Actor(self.rng.choice(["de1", "de2", "dec1"]), self.rng.choice(["DE", "DE", "DEC"]))
        stage = case["review_stage"]
        record = received_record(self.store, cid) if case["state"] == c.PC_REVIEW else None
        for _ in range(6):
            if stage == c.ASSOCIATE:
                stage = review.associate(self.store, cid, clerk, on)
                self.counts["associated"] += 1
            elif stage == c.TRANSLATION:
                review.translation(self.store, cid, tech, on, done=False)
                worked = bool(record and record.get("q1a_worked") in ("YES", "BOTH"))
                stage = review.translation(self.store, cid, tech, on, done=True, work_reported=worked)
                self.counts["translated"] += 1
            elif stage == c.BET_DT:
                amount = 0.0
                for e in (record or {}).get("q1b_earnings") or []:
                    if e.get("monthly_earnings"):
                        amount = float(e["monthly_earnings"])
                        break
                review.work(self.store, cid, tech, on, year=on.year - 1, amount=amount, period="MONTHLY",
                            posted=self.rng.random() < 0.2,
                            earnings_known=(self.rng.random() < 0.7) if case["title"] == "T16" else None)
                stage = c.DE
                self.counts["work_reviewed"] += 1
            elif stage == c.DIRCON:
                result = self.rng.choices(["REACHED", "NO_ANSWER", "BUSY", "NOT_LOCATED", "REFUSED"],
                                          [0.35, 0.40, 0.10, 0.10, 0.05])[0]
                out = review.dircon(self.store, cid, tech, on, result=result)  # type: ignore[arg-type]
                self.counts[f"dircon_{result.lower()}"] += 1
                if out["outcome"] == "ATTEMPT_AGAIN":
                    return  # next attempt another day
                if out["outcome"] == "DO_CDR":
                    self.counts["dircon_do_cdr"] += 1
                    return
                stage = c.DE
            elif stage == c.DE:
                rec = review.guide(self.store, cid).get("recommended_action")
                if rec is None:  # completed by telephone: the answers are on the SSA-5002, not in a data file
                    rec = "DEFER" if self.rng.random() < 0.9 else "DO_CDR"
                full = rec == "DO_CDR"
                if self.rng.random() < self.disagree:
                    full = not full
                out = review.decide(self.store, cid, examiner, on, full_cdr=full,
                                    vr_requested=self.rng.random() < 0.05)
                self.counts["decided"] += 1
                self.counts["flipped"] += int(bool(out.get("flipped")))
                return
            else:
                return


def run_demo(out_dir: Path, *, count: int = 20000, seed: int = 455, months: int = 24,
             start: dt.date = dt.date(2026, 1, 5), progress: Progress | None = None) -> dict[str, Any]:
    t0 = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / "cdrflow.db"
    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        p.unlink(missing_ok=True)
    store = Store(make_engine(f"sqlite:///{db}"))
    upgrade(store.engine)
    use_ssn_table(DEMO_PC_TABLE)
    from cdrflow.population.generate import generate

    rows = generate(count, seed=seed, as_of=start)
    load(store, rows, progress=(lambda n: progress("population", n, count)) if progress else None)
    reviewers = Reviewers(store, seed)
    queue: list[dict[str, Any]] = []
    ingest_totals: Counter[str] = Counter()
    all_rejects: list[Any] = []
    for i in range(months):
        as_of = _add_months(start, i)
        month = f"{as_of:%Y-%m}"
        run_cycle(store, as_of, print_file=out_dir / "print" / f"print-{as_of}.jsonl")
        with store.read() as tx:
            out = [dict(r) for r in tx.conn.execute(
                select(cases.c.case_id, cases.c.ssn, cases.c.title, cases.c.profile, cases.c.request,
                       cases.c.report_period_start, cases.c.remailed, cases.c.state)
                .where(cases.c.state.in_([c.SENT, c.PC_RESENT, c.SIGNATURE_PENDING]))).mappings()]
        path = out_dir / "returns" / f"returns-{month}.jsonl"
        write_returns(path, simulate_returns(out, seed, window=i))
        res = ingest(store, path, as_of + dt.timedelta(days=20))
        write_rejects(res.rejects, path.with_suffix(".rejects.jsonl"))
        all_rejects.extend(res.rejects)
        ingest_totals.update({"read": res.read, "processed": res.processed, "skipped": res.skipped,
                              "rejected": res.rejected})
        ingest_totals.update({k[4:]: v for k, v in res.counts.items() if k.startswith("end:")})
        with store.read() as tx:
            new_pc = tx.conn.execute(select(func.count()).select_from(events).where(
                events.c.event_type.like("% PC MAILER REVIEW"), events.c.event_date >= as_of,
                events.c.event_date < _add_months(as_of, 1))).scalar_one()
        worked = reviewers.work(as_of + dt.timedelta(days=25))
        with store.read() as tx:
            states: dict[str, int] = dict(
                tx.conn.execute(select(cases.c.state, func.count()).group_by(cases.c.state)).all())
        queue.append({"month": month, "open_pc_review": int(states.get(c.PC_REVIEW, 0)),
                      "new_pc_review": int(new_pc), "cleared": worked,
                      "open_nonresponder": int(states.get(c.NONRESPONDER, 0))})
        if progress:
            progress("months", 1, months)
    metrics = collect(store, queue, ingest_totals, reviewers.counts)
    metrics["config"] = {"population": count, "seed": seed, "months": months, "start": str(start),
                         "database": str(db), "pc_table": "demo (illustrative, not GN 01070.245)",
                         "integrity_seed": "CDRFLOW_INTEGRITY_SEED or 455"}
    metrics["timing"] = {"seconds": round(time.perf_counter() - t0, 1)}
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str), encoding="utf-8")
    return metrics


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}%" if b else "n/a"


def collect(store: Store, queue: list[dict[str, Any]], ingest_totals: Counter[str],
            reviewer_counts: Counter[str]) -> dict[str, Any]:
    with store.read() as tx:
        conn = tx.conn
        auto = conn.execute(
            select(cases.c.profile, events.c.event_type, func.count())
            .join(cases, cases.c.case_id == events.c.case_id)
            .where(events.c.actor == "dcdrs",
                   events.c.event_type.like("% DEFER CDR") | events.c.event_type.like("% INITIATE CDR")
                   | events.c.event_type.like("% PC MAILER REVIEW"))
            .group_by(cases.c.profile, events.c.event_type)).all()
        final = conn.execute(select(cases.c.profile, cases.c.state, cases.c.integrity_flipped, func.count())
                             .group_by(cases.c.profile, cases.c.state, cases.c.integrity_flipped)).all()
        ev: dict[str, int] = dict(
            conn.execute(select(events.c.event_type, func.count()).group_by(events.c.event_type)).all())
        diaries = conn.execute(select(func.substr(beneficiaries.c.diary_month, 1, 4), func.count())
                               .group_by(func.substr(beneficiaries.c.diary_month, 1, 4))).all()
        integrity = conn.execute(select(func.count(), func.sum(cases.c.integrity_selected.cast(Integer())),
                                        func.sum(cases.c.integrity_flipped.cast(Integer())))
                                 .where(cases.c.ipca_event.is_not(None))).one()
        referrals = conn.execute(select(events.c.detail).where(events.c.event_type.like("% INITIATE CDR"))).all()
        nonresp_docdr = sum(1 for (d,) in referrals if d and json.loads(d).get("reason") == "NONRESPONDER")
    by_kind: Counter[str] = Counter()
    outcomes_by_profile = []
    for profile, etype, n in auto:
        outcome = "DEFER" if etype.endswith("DEFER CDR") else ("DO_CDR" if etype.endswith("INITIATE CDR")
                                                                 else "PC_REVIEW")
        by_kind[outcome] += n
        outcomes_by_profile.append({"profile": profile, "outcome": outcome, "count": n})
    final_by_profile: Counter[tuple[str, str]] = Counter()
    for profile, state, flipped, n in final:
        label = {"DEFERRED": "DEFER", "DO_CDR": "INTEGRITY_FLIP" if flipped else "DO_CDR",
                 "REFERRED": "REFERRED"}.get(state, "OPEN")
        final_by_profile[(profile, label)] += n
    total_auto = sum(by_kind.values())
    deferred = sum(n for (p, k), n in final_by_profile.items() if k == "DEFER")
    docdr = sum(n for (p, k), n in final_by_profile.items() if k == "DO_CDR")
    flips = sum(n for (p, k), n in final_by_profile.items() if k == "INTEGRITY_FLIP")
    reviewed, sampled, flipped_n = (int(integrity[0] or 0), int(integrity[1] or 0), int(integrity[2] or 0))

    def count(suffix: str) -> int:
        return sum(n for k, n in ev.items() if k.endswith(suffix))

    completed = deferred + docdr + flips
    docdr_returned = docdr - nonresp_docdr
    figures = [
        {"name": "Returned mailers decided by the decision logic (DEFER or DO CDR)", "seed": "about 80%",
         "measured": _pct(by_kind["DEFER"] + by_kind["DO_CDR"], total_auto), "cite": "DI 40502.001F.1.a",
         "note": f"{by_kind['DEFER'] + by_kind['DO_CDR']:,} of {total_auto:,} data files"},
        {"name": "Returned mailers sent to PC review", "seed": "about 20%", "measured": _pct(by_kind["PC_REVIEW"],
         total_auto), "cite": "DI 40502.001F.1.b", "note": f"{by_kind['PC_REVIEW']:,} alerts"},
        {"name": "DO CDR among completed mailers (excluding integrity flips and nonresponders)", "seed": "about 2.5%",
         "measured": _pct(docdr_returned, completed - nonresp_docdr), "cite": "DI 40502.001B.3",
         "note": f"{docdr_returned:,} of {completed - nonresp_docdr:,}"},
        {"name": "Integrity sample among PC-reviewed decisions", "seed": "approximately 5%",
         "measured": _pct(sampled, reviewed), "cite": "DI 40502.001B.4; DI 40502.001G.7",
         "note": f"{sampled:,} of {reviewed:,} PC decisions sampled, {flipped_n:,} deferrals flipped; "
                 f"{_pct(sampled, completed)} of all completed mailers (see docs/interpretations.md)"},
    ]
    funnel = {
        "first mailers sent": count("INITIAL MAILER SENT"),
        "returned (received at WBDOC)": count("MAILER RECEIVED"),
        "second requests": count("SECOND MAILER SENT"),
        "nonresponder alerts": count("NONRESPONDER REVIEW"),
        "DIRCON reached": reviewer_counts.get("dircon_reached", 0),
        "DO CDR (nonresponder)": nonresp_docdr,
        "undeliverable held": count(" UNDELIVERABLE"),
    }
    return {
        "figures": figures,
        "outcomes_by_profile": sorted(outcomes_by_profile, key=lambda r: (r["profile"], r["outcome"])),
        "final_by_profile": [{"profile": p, "outcome": k, "count": n}
                             for (p, k), n in sorted(final_by_profile.items())],
        "queue": queue,
        "funnel": funnel,
        "diaries_by_year": [{"year": int(y), "count": n} for y, n in sorted(diaries)],
        "cost": {"mailers_processed": completed, "deferrals": deferred, "do_cdr": docdr + flips,
                 "mailer_cost_each": 50, "cdr_cost_low": 750, "cdr_cost_high": 800},
        "reconciliation": {**{f"ingest {k}": v for k, v in sorted(ingest_totals.items())},
                           "ingest reconciles": "yes" if ingest_totals["read"] == ingest_totals["processed"]
                           + ingest_totals["skipped"] + ingest_totals["rejected"] else "NO",
                           **{f"reviewers {k}": v for k, v in sorted(reviewer_counts.items())}},
    }
