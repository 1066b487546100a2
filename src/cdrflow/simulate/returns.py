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
        # The persona is the beneficiary's and the selection's, not the case id's: ids are random (§78), and
        # the same seed must give the same returns.
        who = f"{seed}:{case['ssn']}:{case.get('selected_on')}"
        if random.Random(who).random() < mix.never:
            continue
        rng = random.Random(f"{who}:{window}:{case['request']}:{case.get('remailed')}")
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


class PrintFileError(ValueError):
    """A print file line that is not a mailer of ``cdrflow cycle --print-file`` (names the line)."""


PRINT_FILE_MIX = ReturnMix(returned=0.9, bad_record=0.0)
"""One cycle's print file answered at once (``cdrflow simulate returns``): most mailers come back, none
malformed unless asked for."""


def print_file_cases(path: Path) -> Iterator[dict[str, Any]]:
    """The mailers of a contractor print file (``cdrflow cycle --print-file``) as the cases
    :func:`simulate_returns` answers.

    A print record names its mailer, title, request and send date; the SSN, profile and report period are
    read from its scanlines (DI 40502.001B.8), as WBDOC reads them off the returned form. Raises
    :class:`PrintFileError` naming the line of a record that is not such a mailer.
    """
    from cdrflow.forms.scanlines import Scanlines

    with Path(path).open(encoding="utf-8") as fh:
        for n, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                rec = json.loads(text)
            except (ValueError, RecursionError) as exc:
                raise PrintFileError(f"line {n}: not JSON ({str(exc)[:120]})") from None
            if not isinstance(rec, dict):
                raise PrintFileError(f"line {n}: expected one JSON object (a print file record)")
            missing = [k for k in ("mailer_id", "title", "request", "send_request_date", "scanline1", "scanline2",
                                   "scanline3") if not isinstance(rec.get(k), str)]
            if missing:
                raise PrintFileError(f"line {n}: not a print file record: no {', '.join(missing)}")
            try:
                lines = Scanlines.decode(rec["scanline1"], rec["scanline2"], rec["scanline3"])
            except ValueError as exc:  # ScanlineError names the scanline and the field
                raise PrintFileError(f"line {n}: {str(exc).splitlines()[0]}") from None
            yield {"case_id": rec["mailer_id"], "ssn": lines.line1.ssn, "title": rec["title"],
                   "profile": lines.line2.profile, "request": rec["request"],
                   "report_period_start": str(lines.line2.report_period),
                   "selected_on": rec["send_request_date"], "remailed": None}
