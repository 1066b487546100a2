"""Loading beneficiaries (selection and profile-sheet data, DI 40502.001F.3, G.3) into the DCF.

Rows come from :mod:`cdrflow.population` (CSV/Parquet import or the synthetic generator), already
validated. A row whose SSN is new is inserted; a row that differs from the stored one updates it;
an identical row changes nothing, so importing the same file twice changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select

from cdrflow.dcf.schema import beneficiaries
from cdrflow.dcf.store import Store, now

_SKIP = {"version", "updated_at"}


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    try:
        return bool(float(a) == float(b)) if isinstance(a, int | float) or isinstance(b, int | float) else a == b
    except (TypeError, ValueError):
        return bool(a == b)


def load(store: Store, rows: Sequence[dict[str, Any]], *, chunk_size: int = 20_000,
         progress: Callable[[int], None] | None = None) -> Counter[str]:
    counts: Counter[str] = Counter()
    columns = [c.name for c in beneficiaries.columns if c.name not in _SKIP]
    for i in range(0, len(rows), chunk_size):
        chunk = rows[i : i + chunk_size]
        with store.tx() as tx:
            existing = {r["ssn"]: dict(r) for r in tx.conn.execute(
                select(beneficiaries).where(beneficiaries.c.ssn.in_([r["ssn"] for r in chunk]))).mappings()}
            stamp = now()
            new = [{**{c: r.get(c) for c in columns}, "version": 1, "updated_at": stamp}
                   for r in chunk if r["ssn"] not in existing]
            if new:
                tx.insert_rows(beneficiaries, [*columns, "version", "updated_at"], new)
            changed: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for r in chunk:
                old = existing.get(r["ssn"])
                if old is None:
                    continue
                diff = {c: r.get(c) for c in columns if c != "ssn" and not _same(old[c], r.get(c))}
                if diff:
                    changed.setdefault(tuple(sorted(diff)), []).append({"ssn": r["ssn"], **diff})
                else:
                    counts["unchanged"] += 1
            for group in changed.values():
                tx.update_beneficiaries(group)
                counts["updated"] += len(group)
            counts["inserted"] += len(new)
        if progress:
            progress(len(chunk))
    return counts
