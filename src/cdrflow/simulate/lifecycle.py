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
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from cdrflow.authz import principal_of
from cdrflow.dcf.db import make_engine, upgrade
from cdrflow.dcf.schema import cases, events
from cdrflow.dcf.store import Actor, Store
from cdrflow.engine.months import Month
from cdrflow.kernel.errors import Conflict
from cdrflow.policy.mailer.jurisdiction import load_ssn_table
from cdrflow.policy.mailer.source import param
from cdrflow.workflow import common as c
from cdrflow.workflow import integrity, review
from cdrflow.workflow.cycle import run_cycle
from cdrflow.workflow.history import received_record
from cdrflow.workflow.intake import ingest, write_rejects
from cdrflow.workflow.people import bootstrap_admin, os_account
from cdrflow.workflow.population import load

from .metrics import PROFILE_WORDS, collect
from .returns import simulate_returns, write_returns

DEMO_PC_TABLE = Path(__file__).parent / "data" / "demo_pc_ssn_table.yaml"
Progress = Callable[[str, int, int | None], None]


def _add_months(d: dt.date, n: int) -> dt.date:
    m = Month(d.year, d.month) + n
    return dt.date(m.year, m.month, d.day)


class Reviewers:
    """Simulated PC staff: they follow the alert, the earnings-tolerance calc and the reviewer guide."""

    def __init__(self, store: Store, seed: int, capacity: float = 0.9, disagree: float = 0.01,
                 admin: Actor | None = None) -> None:
        self.store = store
        self.rng = random.Random(seed)
        self.capacity = capacity
        self.disagree = disagree
        self.counts: Counter[str] = Counter()
        self.admin = admin
        self._staff: dict[str, Actor] = {}

    def staff(self, role: str, pc: int, n: int = 1) -> Actor:
        """The demo's person of ``role`` at PC ``pc`` (``dse1-pc7``, ``flc1-pc3``, ...), added by the demo's
        administrator the first time they are needed; they act as authenticated people of the DCF."""
        from cdrflow.workflow import people

        name = f"{role.lower()}{n}-pc{pc}"
        if name not in self._staff:
            if self.admin is None:
                raise RuntimeError("the demo's reviewers need an administrator to add them to the people table")
            try:
                people.add(self.store, self.admin, name=name, role=role, pc=pc)
            except Conflict:
                pass  # added by an earlier month
            self._staff[name] = Actor(name, role)
        return self._staff[name]

    def work(self, on: dt.date) -> int:
        with self.store.read() as tx:
            open_cases = [dict(r) for r in tx.conn.execute(
                select(cases.c.case_id, cases.c.pc, cases.c.title, cases.c.review_stage, cases.c.state)
                .where(cases.c.state.in_([c.PC_REVIEW, c.NONRESPONDER]))
                # oldest first; then as ids made from the date and SSN sorted, so a seed gives the same run
                .order_by(cases.c.last_event_date, cases.c.selected_on, cases.c.ssn)).mappings()]
        todo = open_cases[: int(len(open_cases) * self.capacity + 0.5)]
        for case in todo:
            self._one(case, on)
        return len(todo)

    def _one(self, case: dict[str, Any], on: dt.date) -> None:
        cid = case["case_id"]
        pc = case["pc"]
        clerk = self.staff("DSE", pc) if pc == 7 else self.staff("FLC", pc)
        tech = self.staff("BET", pc) if pc == 7 else self.staff("DT", pc)
        role, n = self.rng.choice([("DE", 1), ("DE", 2), ("DEC", 1)])
        examiner = self.staff(role, pc, n)
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
                # A nonresponder completed by telephone has no returned mailer: the answers are on the SSA-5002,
                # not in a data file, so the guide (which reads the data file) has nothing to go on.
                rec = review.guide(self.store, cid, examiner).get("recommended_action") if record is not None else None
                if rec is None:
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
    pc_table = load_ssn_table(DEMO_PC_TABLE)  # this demo's site table, given to every cycle it runs
    from cdrflow.population.generate import generate

    rows = generate(count, seed=seed, as_of=start)
    load(store, rows, progress=(lambda n: progress("population", n, count)) if progress else None)
    # initdb's rule: whoever runs the demo is the administrator of its DCF, and adds the simulated staff.
    admin_name = bootstrap_admin(store, os_account()) or os_account()
    with store.read() as tx:
        admin = principal_of(tx, Actor(admin_name, "ADMIN"))
    reviewers = Reviewers(store, seed, admin=admin)
    queue: list[dict[str, Any]] = []
    ingest_totals: Counter[str] = Counter()
    all_rejects: list[Any] = []
    for i in range(months):
        as_of = _add_months(start, i)
        month = f"{as_of:%Y-%m}"
        run_cycle(store, as_of, print_file=out_dir / "print" / f"print-{as_of}.jsonl", pc_ssn_table=pc_table)
        with store.read() as tx:
            out = [dict(r) for r in tx.conn.execute(
                select(cases.c.case_id, cases.c.ssn, cases.c.selected_on, cases.c.title, cases.c.profile,
                       cases.c.request, cases.c.report_period_start, cases.c.remailed, cases.c.state)
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
    metrics = collect(store, queue, ingest_totals, reviewers.counts, on=_add_months(start, months - 1))
    metrics["people"] = write_demo_tokens(store, admin, out_dir / "tokens", reviewers)
    last = _add_months(start, months - 1)
    metrics["config"] = {
        "People in the synthetic population": count,
        "Months of selection runs": months,
        "First and last month": f"{start:%Y-%m} to {last:%Y-%m}",
        "Profiles mailed": ", ".join(f"{PROFILE_WORDS.get(p, p)} ({p})" for p in param("mailer_profiles", last)),
        "Integrity sample rate": f"{c.integrity_rate(last):.0%} of {integrity.BASE}",
        "Random seed (people, returns, staff)": seed,
        "Integrity sample key": "a secret key per fiscal year, generated by the DCF (not reproducible from the "
                                "seed; docs/interpretations.md#integrity-key)",
        "PC jurisdiction table": "demo (illustrative, not GN 01070.245)",
        "Database": str(db),
    }
    metrics["timing"] = {"seconds": round(time.perf_counter() - t0, 1)}
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str), encoding="utf-8")
    return metrics


def write_demo_tokens(store: Store, admin: Actor, folder: Path, reviewers: Reviewers) -> dict[str, Any]:
    """A personal token per demo person, each in its own 0600 file (``CDRFLOW_TOKEN_FILE=...``), plus an
    auditor and an operator, so a newcomer can act as any of them after ``make demo``."""
    from cdrflow.safeio import atomic
    from cdrflow.workflow import people

    for name, role in (("auditor1", "AUDITOR"), ("operator1", "OPERATOR")):
        try:
            people.add(store, admin, name=name, role=role)
        except Conflict:
            pass
        reviewers._staff.setdefault(name, Actor(name, role))
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    for name in sorted(reviewers._staff):
        path = folder / name
        path.unlink(missing_ok=True)
        with atomic(path) as fh:
            fh.write(people.issue_token(store, admin, name) + "\n")
        os.chmod(path, 0o600)
    return {"tokens": str(folder), "people": sorted(reviewers._staff)}
