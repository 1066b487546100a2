"""Loading beneficiaries (selection and profile-sheet data, DI 40502.001F.3, G.3) into the DCF.

Rows come from :mod:`cdrflow.population` (CSV/Parquet import or the synthetic generator), already
validated. A row whose SSN is new is inserted; a row that differs from the stored one updates it;
an identical row changes nothing, so importing the same file twice changes nothing.

Every change has an actor and an event (docs/interpretations.md#population-changes): each updated
beneficiary gets a "<title> BENEFICIARY DATA CHANGED" event in the same transaction, by the importing
principal (the operator who ran ``cdrflow population import``, authorized for ``population.import``; the
system feed :data:`POPULATION` when called without one), with ``{field: [old, new]}`` for every
field that changed and the file it came from. A change that moves a diary (``diary_month``,
``ssi_diary_month``) or touches the beneficiary of an integrity-flipped case (G.7) is flagged on the
event, and ``cdrflow case`` shows the flag.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import false, select, update

from cdrflow import authz
from cdrflow.authz import Resource
from cdrflow.dcf.schema import beneficiaries, cases
from cdrflow.dcf.store import Actor, Store, StoreError, now

from . import common as c

_SKIP = {"version", "updated_at"}

POPULATION = Actor("population-import", "SYSTEM")
"""The system feed that loads beneficiary data from SSA's records when no operator is named; reviewer roles
change a beneficiary only through their own commands, each with its event."""
CHANGED = "BENEFICIARY DATA CHANGED"
DIARY_FIELDS = ("diary_month", "ssi_diary_month")
DIARY_MOVED = "DIARY_MOVED"
FLIPPED_CASE = "INTEGRITY_FLIPPED_CASE"
FLAG_TEXT = {DIARY_MOVED: "moves a medical diary (G.5)",
             FLIPPED_CASE: "beneficiary of an integrity-flipped case (G.7)"}


class PopulationError(StoreError):
    """The load may not run as asked (the actor's role)."""


def _plain(v: Any) -> Any:
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    return v


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    try:
        return bool(float(a) == float(b)) if isinstance(a, int | float) or isinstance(b, int | float) else a == b
    except (TypeError, ValueError):
        return bool(a == b)


def load(store: Store, rows: Sequence[dict[str, Any]], *, actor: Actor = POPULATION, source: str | None = None,
         on: dt.date | None = None, chunk_size: int = 20_000,
         progress: Callable[[int], None] | None = None) -> Counter[str]:
    """Insert new beneficiaries and update changed ones; each update is an event by ``actor`` dated ``on``.

    ``source`` names where the rows came from (a file name and hash) on the events. Counts: inserted,
    updated, unchanged, and ``flagged`` (updates that move a diary or touch a flipped case's beneficiary).
    """
    with store.tx() as tx:
        authz.require(tx, actor, "population.import", Resource("population", (source or "rows")[:100]))
    day = on or dt.date.today()
    counts: Counter[str] = Counter()
    columns = [col.name for col in beneficiaries.columns if col.name not in _SKIP]
    for i in range(0, len(rows), chunk_size):
        chunk = rows[i : i + chunk_size]
        with store.tx() as tx:
            # What is stored is read under a lock, so a second load of the same rows running at the same time
            # waits and then finds them changed (nothing twice): PostgreSQL locks the rows, SQLite takes its
            # write lock with a statement that writes nothing. (The events' keys name no SSN, so they cannot
            # be what stops a change being posted twice; interpretations §78.)
            stmt = select(beneficiaries).where(beneficiaries.c.ssn.in_([r["ssn"] for r in chunk]))
            if tx.pg:
                stmt = stmt.order_by(beneficiaries.c.ssn).with_for_update()
            else:
                tx.conn.execute(update(beneficiaries).where(false()).values(version=beneficiaries.c.version))
            existing = {r["ssn"]: dict(r) for r in tx.conn.execute(stmt).mappings()}
            stamp = now()
            new = [{**{col: r.get(col) for col in columns}, "version": 1, "updated_at": stamp}
                   for r in chunk if r["ssn"] not in existing]
            if new:
                tx.insert_rows(beneficiaries, [*columns, "version", "updated_at"], new)
            changed: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            diffs: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = []
            for r in chunk:
                old = existing.get(r["ssn"])
                if old is None:
                    continue
                diff = {col: r.get(col) for col in columns if col != "ssn" and not _same(old[col], r.get(col))}
                if diff:
                    changed.setdefault(tuple(sorted(diff)), []).append({"ssn": r["ssn"], **diff})
                    diffs.append((old, r, diff))
                else:
                    counts["unchanged"] += 1
            flipped = _flipped_cases(tx, [old["ssn"] for old, _r, _d in diffs])
            evs = []
            for old, r, diff in diffs:
                ev, flags = _change_event(old, r, diff, flipped.get(old["ssn"], []), actor, day, source)
                evs.append(ev)
                if flags:
                    counts["flagged"] += 1
            for group in changed.values():
                tx.update_beneficiaries(group)
                counts["updated"] += len(group)
            tx.append(evs)
            counts["inserted"] += len(new)
        if progress:
            progress(len(chunk))
    return counts


def _flipped_cases(tx: Any, ssns: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for i in range(0, len(ssns), 5000):
        for ssn, cid in tx.conn.execute(select(cases.c.ssn, cases.c.case_id).where(
                cases.c.ssn.in_(list(ssns[i : i + 5000])), cases.c.integrity_flipped.is_(True))
                .order_by(cases.c.case_id)):
            out.setdefault(ssn, []).append(cid)
    return out


def _change_event(old: dict[str, Any], new: dict[str, Any], diff: dict[str, Any], flipped: list[str], actor: Actor,
                  on: dt.date, source: str | None) -> tuple[dict[str, Any], list[str]]:
    """One "BENEFICIARY DATA CHANGED" event: every changed field from what to what, and the flags."""
    changes = {col: [_plain(old[col]), _plain(v)] for col, v in sorted(diff.items())}
    flags = ([DIARY_MOVED] if any(f in diff for f in DIARY_FIELDS) else []) + ([FLIPPED_CASE] if flipped else [])
    detail: dict[str, Any] = {"changes": changes, "flags": flags, "source": source,
                              "cite": "DI 40502.001F.3, G.3 (the DCF's selection and profile data)"}
    if flipped:
        detail["flipped_cases"] = flipped
    ev = c.event(ssn=old["ssn"], case_id=None, event_date=on,
                 event_type=c.label(new.get("title") or old["title"], CHANGED), actor=actor, detail=detail,
                 idem_key=f"ben:{secrets.token_hex(12)}")  # unique, and no SSN in it (interpretations §78)
    return ev, flags
