"""Integrity sampling (DI 40502.001G.7).

Applied after the PC reviewer's deferral or DO CDR input: a seeded draw per case decides whether the
case is in the sample, at the parameter ``integrity_sample_rate_pc_reviewed``. Its base is the
PC-reviewed decisions G.7 draws from; G.7 gives no rate and the 5% is cdrflow's reading. B.4's
"approximately 5% of the mailers received" is on another base (all mailers received) and is not
what this rate is; the demo report measures both (docs/interpretations.md#integrity-rate).

A sampled deferral is "flipped": a subsequent DO CDR input by the system refers it to the FO for a
full medical CDR. The reviewer's input stays in the history; the database refuses any change that
turns a flipped case back into a deferral (migration 0002).

The draw is a pure function of (seed, case id), so the sample is reproducible, does not depend on
the order cases are worked, and is logged with the seed, the draw and the rate on the case's
events. The seed is per installation: env ``CDRFLOW_INTEGRITY_SEED`` (default 455).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass

from . import common as c

DEFAULT_SEED = 455
PARAMETER = "integrity_sample_rate_pc_reviewed"
BASE = "PC-reviewed decisions"
"""What the rate is a share of (the parameter's ``base``): every DE/DEC/DC deferral or DO CDR input."""
CITE = "DI 40502.001G.7; rate: cdrflow reading, docs/interpretations.md#integrity-rate"
"""G.7 is the passage for the sample and its base; the rate is a reading, not a seed figure."""


def seed() -> int:
    return int(os.environ.get("CDRFLOW_INTEGRITY_SEED", DEFAULT_SEED))


@dataclass(frozen=True)
class Draw:
    seed: int
    draw: float
    rate: float
    selected: bool

    def as_dict(self) -> dict[str, object]:
        return {"seed": self.seed, "draw": round(self.draw, 8), "rate": self.rate, "selected": self.selected,
                "base": BASE, "cite": CITE}


def draw(case_id: str, on: dt.date, *, rate: float | None = None, seed_value: int | None = None) -> Draw:
    s = seed() if seed_value is None else seed_value
    r = c.integrity_rate(on) if rate is None else rate
    h = hashlib.sha256(f"{s}:{case_id}".encode()).digest()
    u = int.from_bytes(h[:8], "big") / 2**64
    return Draw(s, u, r, u < r)
