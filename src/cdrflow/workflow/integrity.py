"""Integrity sampling (DI 40502.001G.7).

Applied after the PC reviewer's deferral or DO CDR input: a keyed draw per case decides whether the
case is in the sample, at the parameter ``integrity_sample_rate_pc_reviewed``. Its base is the
PC-reviewed decisions G.7 draws from; G.7 gives no rate and the 5% is cdrflow's reading. B.4's
"approximately 5% of the mailers received" is on another base (all mailers received) and is not
what this rate is; the demo report measures both (docs/interpretations.md#integrity-rate).

A sampled deferral is "flipped": a subsequent DO CDR input by the system refers it to the FO for a
full medical CDR. The reviewer's input stays in the history; the database refuses any change that
turns a flipped case back into a deferral (migration 0002).

The draw nobody can steer or predict (docs/interpretations.md#integrity-key):

* It is HMAC-SHA256(key, case id) under a **secret key held by the system**, one per federal fiscal
  year: the year the case was selected (``cases.selected_on``, set by the selection run). Nothing the
  reviewer sets (no environment variable, no ``--on`` date, no flag) enters it. The rate is the one
  in force on the same date.
* The key is created by the system the first time a year needs one and is never changed
  (``integrity_keys``, migration 0009). :func:`draw` is the one place that asks for a draw. On
  PostgreSQL it calls the SECURITY DEFINER function ``integrity_draw_hmac(year, case_id)``, which
  creates the key in the database if needed and returns the HMAC, never the key, so an application
  role without privileges on ``integrity_keys`` still draws. On SQLite the key is read from the file.
* Each draw is logged on the decision event with what an audit needs (key year, the HMAC, the draw,
  the rate and its base, the method) and never the key; :func:`verify` recomputes it, and an auditor
  holding the key recomputes it with :func:`expected_hmac`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac as _hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, LargeBinary, bindparam, select, text

from cdrflow.dcf.schema import integrity_keys
from cdrflow.dcf.store import Tx, now
from cdrflow.engine.months import fiscal_year

from . import common as c

PARAMETER = "integrity_sample_rate_pc_reviewed"
BASE = "PC-reviewed decisions"
"""What the rate is a share of (the parameter's ``base``): every DE/DEC/DC deferral or DO CDR input."""
CITE = "DI 40502.001G.7; rate: cdrflow reading, docs/interpretations.md#integrity-rate"
"""G.7 is the passage for the sample and its base; the rate is a reading, not a seed figure."""
METHOD = ("HMAC-SHA256(secret key of the fiscal year the case was selected in, case id); draw = first 8 bytes "
          "of the HMAC / 2^64; selected when draw < rate in force on the selection date "
          "(docs/interpretations.md#integrity-key)")
KEY_BYTES = 32
PG_FUNCTION = "integrity_draw_hmac"


def key_year(selected_on: dt.date) -> int:
    """The fiscal year whose key draws a case: the year the selection run selected it (never the reviewer's date)."""
    return fiscal_year(selected_on)


@dataclass(frozen=True)
class Draw:
    key_year: int
    hmac: str
    draw: float
    rate: float
    selected: bool

    def as_dict(self) -> dict[str, object]:
        """What the decision event records: enough to audit the draw later, never the key."""
        return {"key_year": self.key_year, "hmac": self.hmac, "draw": round(self.draw, 8), "rate": self.rate,
                "selected": self.selected, "base": BASE, "cite": CITE, "method": METHOD}


def value_of(mac: bytes) -> float:
    """The draw in [0, 1): the HMAC's first 64 bits as a fraction."""
    return int.from_bytes(mac[:8], "big") / 2**64


def expected_hmac(key: bytes, case_id: str) -> bytes:
    """HMAC-SHA256(key, case id): what the store computes; for an auditor holding the key (and for tests)."""
    return _hmac.new(key, case_id.encode(), hashlib.sha256).digest()


def draw(tx: Tx, case: Mapping[str, Any]) -> Draw:
    """The integrity draw for ``case`` (its ``case_id`` and ``selected_on``), inside the caller's transaction.

    The one path to the keys: the year's HMAC of the case id from the store (the key is created by the
    system on first need); the rate in force on the selection date.
    """
    selected_on = case["selected_on"]
    year = key_year(selected_on)
    mac = _store_hmac(tx, year, str(case["case_id"]))
    rate = c.integrity_rate(selected_on)
    u = value_of(mac)
    return Draw(year, mac.hex(), u, rate, u < rate)


def verify(tx: Tx, case: Mapping[str, Any], logged: Mapping[str, Any]) -> bool:
    """Recompute a logged draw (``as_dict`` of the decision event) through the same path: does it hold?"""
    again = draw(tx, case)
    return (int(logged["key_year"]) == again.key_year and logged["hmac"] == again.hmac
            and bool(logged["selected"]) == (value_of(bytes.fromhex(str(logged["hmac"]))) < float(logged["rate"])))


def _store_hmac(tx: Tx, year: int, message: str) -> bytes:
    if tx.pg:
        mac = tx.conn.execute(text(f"SELECT {PG_FUNCTION}(:y, :m)"), {"y": year, "m": message}).scalar_one()
        return bytes.fromhex(mac)
    return expected_hmac(_sqlite_key(tx, year), message)


_SQLITE_NEW_KEY = text(
    "INSERT INTO integrity_keys (year, key, created) SELECT :y, :k, :c "
    "WHERE NOT EXISTS (SELECT 1 FROM integrity_keys WHERE year = :y)"
).bindparams(bindparam("k", type_=LargeBinary()), bindparam("c", type_=DateTime(timezone=True)))


def _sqlite_key(tx: Tx, year: int) -> bytes:
    key = tx.conn.execute(select(integrity_keys.c.key).where(integrity_keys.c.year == year)).scalar()
    if key is None:
        # Another draw may make the year's key at the same moment: the first insert wins, this one adds
        # nothing (a second insert for the year would be refused by the database), and both read that key.
        tx.conn.execute(_SQLITE_NEW_KEY, {"y": year, "k": secrets.token_bytes(KEY_BYTES), "c": now()})
        key = tx.conn.execute(select(integrity_keys.c.key).where(integrity_keys.c.year == year)).scalar_one()
    return bytes(key)
