"""Simulated returns for mailers the DCF has sent: what comes back to WBDOC, and when.

For each mailer out (a case in state SENT), a seeded draw decides whether it comes back before the
next cycle, comes back undeliverable, unsigned, with a report of death and so on, or not at all.
Answers use the same mixes as :mod:`cdrflow.simulate.mailers`, matched to the case's title,
profile, request and report period. Deterministic for a seed and the case ids.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .mailers import mailer


@dataclass(frozen=True)
class ReturnMix:
    """Shares of mailers out, per cycle window (calibrated so the demo shows the seed's figures; README)."""

    never: float = 0.05  # never answer: they become nonresponders (per case, fixed)
    returned: float = 0.62  # answered and returned in the window
    undeliverable: float = 0.03
    unsigned: float = 0.01  # of returned
    death: float = 0.002  # of returned
    damaged: float = 0.002
    name_change: float = 0.002
    foreign_address: float = 0.001
    fraud: float = 0.0005
    address_change: float = 0.01
    name_correction: float = 0.003
    bad_record: float = 0.002  # malformed records that must land in the reject file


def simulate_returns(
    cases: Iterable[dict[str, Any]], seed: int, mix: ReturnMix | None = None, window: int = 0
) -> Iterator[dict[str, Any]]:
    """Returned mailers for ``cases`` in one window (e.g. a month). ``seed`` fixes each case's persona."""
    mix = mix or ReturnMix()
    for case in cases:
        if random.Random(f"{seed}:{case['case_id']}").random() < mix.never:
            continue
        rng = random.Random(f"{seed}:{case['case_id']}:{window}:{case['request']}:{case.get('remailed')}")
        r = rng.random()
        base = {"mailer_id": case["case_id"], "ssn": case["ssn"]}
        if r < mix.undeliverable:
            yield {**base, "undeliverable": True}
            continue
        if r > mix.undeliverable + mix.returned:
            continue  # not returned in this window
        rec = mailer(rng, 0)
        rec.update(base, title=case["title"], profile=case["profile"], request=case["request"],
                   report_period_start=case["report_period_start"], form="SSA-455-OCR-SM")
        for entry in rec.get("q1b_earnings", []):
            # keep reported work inside or near the report period
            y = int(case["report_period_start"][:4]) + rng.randint(0, 2)
            if entry.get("work_began"):
                entry["work_began"] = f"{y:04d}-{entry['work_began'][5:]}"
            if entry.get("work_ended"):
                entry["work_ended"] = f"{y:04d}-12"
        m = rng.random()
        edges = [("unsigned", mix.unsigned), ("death", mix.death), ("damaged", mix.damaged),
                 ("name_change", mix.name_change), ("foreign", mix.foreign_address), ("fraud", mix.fraud),
                 ("address", mix.address_change), ("name_correction", mix.name_correction), ("bad", mix.bad_record)]
        acc = 0.0
        kind = None
        for k, share in edges:
            acc += share
            if m < acc:
                kind = k
                break
        if kind == "unsigned":
            rec["signed"] = False
        elif kind == "death":
            rec["report_of_death"] = True
        elif kind == "damaged":
            rec["damaged"] = True
        elif kind == "name_change":
            rec["name_change"] = "NEW SURNAME"
        elif kind == "foreign":
            rec["address_change"] = {"address_line": "CALLE 5 #12", "city": "GUADALAJARA", "country": "MX"}
        elif kind == "fraud":
            rec["fraud_allegation"] = "ALLEGES SOMEONE ELSE CASHES THE CHECKS"
        elif kind == "address":
            rec["address_change"] = {"address_line": "22 NEW ST", "city": "ATLANTA", "state": "GA", "zip": "30301",
                                     "country": "US"}
        elif kind == "name_correction":
            rec["name_correction"] = "JANE Q DOE"
        elif kind == "bad":
            rec["q4_health"] = "GREAT"
        yield rec


def write_returns(path: Path, records: Iterable[dict[str, Any]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, default=str) + "\n")
            n += 1
    return n
